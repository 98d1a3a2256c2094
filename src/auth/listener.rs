//! The loopback callback listener (spec §5.5, STYLE habit 12, after codex `login/server.rs`).
//!
//! - Binds only the redirect URI's loopback address (`localhost` → 127.0.0.1); a
//!   [`RedirectUri`] can't name any other address, so a non-loopback bind can't be expressed.
//! - Serves only the callback path (404 elsewhere, 405 for methods other than GET/HEAD).
//! - A wrong or missing `state` gets a 400 page and the wait goes on; a decline or another
//!   Meta error ends it with a page that says what happened; a code ends it with a success page.
//! - Every response carries `Connection: close` (written by sq itself: tiny_http 0.12 drops a
//!   `Connection` header set through its `Response` API), `Cache-Control: no-store`,
//!   `Referrer-Policy: no-referrer` and a CSP that forbids every external resource.
//! - Gives up after the timeout ([`Outcome::Timeout`]) and stops within ~100 ms of
//!   [`CancelHandle::cancel`] (Ctrl-C).
//!
//! HTTPS: for an `https://` redirect, sq accepts TLS itself on the redirect port (rustls 0.23,
//! ring, the certificate from [`TlsIdentity`]) and hands each decrypted request to the same
//! tiny_http server on an internal 127.0.0.1 port, so both schemes share one request handler.
//! tiny_http's own `ssl-rustls` feature would pull rustls 0.20 and ring 0.16 (unmaintained,
//! RUSTSEC-2024-0336) next to the rustls reqwest already uses.

use super::AuthError;
use super::callback::{Callback, parse_request_target, redact_url};
use super::pkce::State;
use super::redirect::RedirectUri;
use super::tls::TlsIdentity;
use crate::secret::Secret;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The default `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// How often the wait loop looks at the cancel flag even without `unblock()`.
const POLL: Duration = Duration::from_millis(100);

/// How a wait for the authorization ended (listener, paste-back, or the race of both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Code(Secret),
    Denied {
        reason: Option<String>,
        description: Option<String>,
    },
    /// Meta sent an error other than a decline.
    Failed {
        error: String,
        description: Option<String>,
    },
    Timeout(Duration),
    Cancelled,
}

impl Outcome {
    /// The code, or the [`AuthError`] that says why there is none.
    pub fn into_result(self) -> Result<Secret, AuthError> {
        match self {
            Outcome::Code(code) => Ok(code),
            Outcome::Denied { reason, description } => Err(AuthError::Declined { reason, description }),
            Outcome::Failed { error, description } => {
                Err(AuthError::AuthorizationFailed { error, description })
            }
            Outcome::Timeout(after) => Err(AuthError::Timeout { after }),
            Outcome::Cancelled => Err(AuthError::Cancelled),
        }
    }

    pub(crate) fn from_callback(c: Callback) -> Option<Outcome> {
        match c {
            Callback::Code { code } => Some(Outcome::Code(code)),
            Callback::Denied { reason, description } => Some(Outcome::Denied { reason, description }),
            Callback::OtherError { error, description, .. } => Some(Outcome::Failed { error, description }),
            _ => None,
        }
    }
}

/// Stops a [`Listener::wait`] from another thread (the Ctrl-C handler, the paste reader).
#[derive(Clone)]
pub struct CancelHandle {
    flag: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.server.unblock();
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHandle").field("cancelled", &self.is_cancelled()).finish()
    }
}

/// A bound listener. Bind it before opening the browser, so a busy port is reported first.
pub struct Listener {
    server: Arc<tiny_http::Server>,
    redirect: RedirectUri,
    expected: Option<State>,
    cancel: CancelHandle,
    addr: SocketAddr,
    _front: Option<TlsFront>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("redirect", &self.redirect.as_str())
            .field("addr", &self.addr)
            .finish()
    }
}

impl Listener {
    /// Binds the redirect URI's loopback address. `expected` is the state sent in the
    /// authorization URL (`None` only if none was sent). An `https://` redirect needs `tls`.
    pub fn bind(
        redirect: &RedirectUri,
        expected: Option<State>,
        tls: Option<&TlsIdentity>,
    ) -> Result<Listener, AuthError> {
        let public = redirect.bind()?;
        let addr = public.local_addr().map_err(|e| AuthError::io("reading the listener's address", e))?;
        let (server, front) = if redirect.is_https() {
            let tls = tls.ok_or_else(|| AuthError::Certificate {
                path: "(none)".into(),
                problem: format!("{} is https:// but no certificate was given", redirect.as_str()),
            })?;
            let config = tls.server_config()?;
            let inner = TcpListener::bind("127.0.0.1:0")
                .map_err(|e| AuthError::io("binding the internal listener", e))?;
            let backend =
                inner.local_addr().map_err(|e| AuthError::io("reading the listener's address", e))?;
            let server = tiny_http::Server::from_listener(inner, None)
                .map_err(|e| AuthError::io("starting the listener", std::io::Error::other(e.to_string())))?;
            (server, Some(TlsFront::start(public, config, backend)?))
        } else {
            let server = tiny_http::Server::from_listener(public, None)
                .map_err(|e| AuthError::io("starting the listener", std::io::Error::other(e.to_string())))?;
            (server, None)
        };
        let server = Arc::new(server);
        let cancel = CancelHandle { flag: Arc::new(AtomicBool::new(false)), server: server.clone() };
        Ok(Listener { server, redirect: redirect.clone(), expected, cancel, addr, _front: front })
    }

    /// The address the browser connects to (the redirect URI's host and port).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Waits for the callback, up to `timeout`.
    pub fn wait(self, timeout: Duration) -> Outcome {
        self.wait_with(timeout, &mut |_| {})
    }

    /// Like [`wait`](Self::wait), calling `note` with a short line (secrets redacted) for every
    /// request that did not end the wait, for `--verbose`.
    pub fn wait_with(self, timeout: Duration, note: &mut dyn FnMut(&str)) -> Outcome {
        let deadline = Instant::now() + timeout;
        loop {
            if self.cancel.is_cancelled() {
                return Outcome::Cancelled;
            }
            let now = Instant::now();
            if now >= deadline {
                return Outcome::Timeout(timeout);
            }
            match self.server.recv_timeout((deadline - now).min(POLL)) {
                Ok(Some(request)) => {
                    if let Some(outcome) = self.handle(request, note) {
                        return outcome;
                    }
                }
                Ok(None) => {}
                // Accept errors (too many open files...) must not spin the loop.
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    fn handle(&self, request: tiny_http::Request, note: &mut dyn FnMut(&str)) -> Option<Outcome> {
        let head = matches!(request.method(), tiny_http::Method::Head);
        if !matches!(request.method(), tiny_http::Method::Get | tiny_http::Method::Head) {
            note(&format!("ignored a {} request", request.method()));
            respond(
                request,
                405,
                &page("Not supported", "This address only receives sq's sign-in answer."),
                head,
            );
            return None;
        }
        let target = request.url().to_string();
        let parsed = parse_request_target(&target, &self.redirect, self.expected.as_ref());
        let (status, html) = match &parsed {
            Callback::Code { .. } => (200, success_page()),
            Callback::Denied { .. } => (200, declined_page()),
            Callback::OtherError { error, description, .. } => {
                (400, error_page(error, description.as_deref()))
            }
            Callback::WrongPath { .. } => {
                (404, page("Not found", "This address only receives sq's sign-in answer."))
            }
            Callback::WrongState => (
                400,
                page(
                    "This answer is not for the waiting sq",
                    "Its state does not match the one sq sent (an old tab, or another run of sq). \
                     sq is still waiting: use the newest sign-in tab, or run the command again.",
                ),
            ),
            Callback::MissingState => (
                400,
                page(
                    "This answer has no state",
                    "sq only accepts the answer that carries the state it sent. sq is still waiting: \
                     use the sign-in link sq printed.",
                ),
            ),
            Callback::Malformed { why } => {
                (400, page("Not a sign-in answer", &format!("{why}. sq is still waiting.")))
            }
        };
        if !parsed.is_final() {
            note(&format!("rejected {} with {status}", redact_url(&target)));
        }
        respond(request, status, &html, head);
        Outcome::from_callback(parsed)
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    }
}

/// Writes the whole response itself so `Connection: close` really goes out.
fn respond(request: tiny_http::Request, status: u16, html: &str, head_only: bool) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\
         Cache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n",
        reason_phrase(status),
        html.len()
    );
    if status == 405 {
        head.push_str("Allow: GET, HEAD\r\n");
    }
    head.push_str("\r\n");
    let mut writer = request.into_writer();
    // The browser may already be gone; nothing useful can be done about a failed write.
    let _ = writer.write_all(head.as_bytes());
    if !head_only {
        let _ = writer.write_all(html.as_bytes());
    }
    let _ = writer.flush();
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small self-contained page; `title` and `body` are escaped here.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>sq: {t}</title><style>body{{font-family:system-ui,sans-serif;max-width:36em;\
         margin:4em auto;padding:0 1em;line-height:1.5;color:#222}}h1{{font-size:1.4em}}</style>\
         </head><body><h1>{t}</h1><p>{b}</p></body></html>\n",
        t = html_escape(title),
        b = html_escape(body)
    )
}

pub(crate) fn success_page() -> String {
    page(
        "sq is connected",
        "sq received the authorization. You can close this tab and go back to the terminal.",
    )
}

pub(crate) fn declined_page() -> String {
    page(
        "You declined",
        "You declined the authorization, so nothing was changed. To connect sq, run the command again \
         and keep all permissions and Pages switched on.",
    )
}

fn error_page(error: &str, description: Option<&str>) -> String {
    let detail = description.map(|d| format!(" ({d})")).unwrap_or_default();
    page(
        "Meta refused the authorization",
        &format!("Meta answered {error}{detail}. Go back to the terminal: sq explains what to do next."),
    )
}

/// Accepts TLS on the redirect port and forwards each request, with `Connection: close`, to
/// the tiny_http server on `backend`. One request per connection: the response's
/// `Connection: close` makes the browser open a new connection for the next one.
struct TlsFront {
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    thread: Option<thread::JoinHandle<()>>,
}

const TLS_IO_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 64 * 1024;

impl TlsFront {
    fn start(
        listener: TcpListener,
        config: Arc<rustls::ServerConfig>,
        backend: SocketAddr,
    ) -> Result<TlsFront, AuthError> {
        let addr = listener.local_addr().map_err(|e| AuthError::io("reading the listener's address", e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_in = stop.clone();
        let thread = thread::Builder::new()
            .name("sq-tls-front".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop_in.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let config = config.clone();
                    let _ = thread::Builder::new().name("sq-tls-conn".into()).spawn(move || {
                        let _ = proxy_one(stream, config, backend);
                    });
                }
            })
            .map_err(|e| AuthError::io("starting the TLS listener", e))?;
        Ok(TlsFront { stop, addr, thread: Some(thread) })
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag and closes the port.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn proxy_one(tcp: TcpStream, config: Arc<rustls::ServerConfig>, backend: SocketAddr) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(TLS_IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(TLS_IO_TIMEOUT))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // Read the request head; rustls buffers, so byte reads cost no syscalls.
    let mut head = Vec::with_capacity(1024);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD || tls.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut forwarded = format!("{request_line}\r\n");
    let mut body_len = 0usize;
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        match name.as_str() {
            "connection" | "keep-alive" | "proxy-connection" | "upgrade" => continue,
            // Browsers send no body to a redirect; refuse anything that would need framing.
            "transfer-encoding" => return Ok(()),
            "content-length" => {
                body_len = line.split(':').nth(1).unwrap_or_default().trim().parse().unwrap_or(usize::MAX);
                if body_len > MAX_BODY {
                    return Ok(());
                }
            }
            _ => {}
        }
        forwarded.push_str(line);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    let mut body = vec![0u8; body_len];
    tls.read_exact(&mut body)?;
    let mut upstream = TcpStream::connect_timeout(&backend, TLS_IO_TIMEOUT)?;
    upstream.set_read_timeout(Some(TLS_IO_TIMEOUT))?;
    upstream.write_all(forwarded.as_bytes())?;
    upstream.write_all(&body)?;
    std::io::copy(&mut upstream, &mut tls)?;
    tls.conn.send_close_notify();
    tls.flush()?;
    let _ = tls.sock.shutdown(Shutdown::Both);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        let p = error_page("<script>", Some("a&b"));
        assert!(p.contains("&lt;script&gt;") && p.contains("a&amp;b") && !p.contains("<script>"));
    }

    #[test]
    fn pages_have_no_external_resources() {
        for p in [success_page(), declined_page(), error_page("e", None)] {
            assert!(!p.contains("http://") && !p.contains("https://") && !p.contains("src="), "{p}");
        }
        assert!(declined_page().contains("keep all permissions"));
        assert!(success_page().contains("close this tab"));
    }

    #[test]
    fn outcome_to_error() {
        assert!(matches!(Outcome::Cancelled.into_result(), Err(AuthError::Cancelled)));
        assert!(matches!(
            Outcome::Denied { reason: None, description: None }.into_result(),
            Err(AuthError::Declined { .. })
        ));
        assert_eq!(Outcome::Code(Secret::new("c")).into_result().unwrap().expose(), "c");
    }
}
