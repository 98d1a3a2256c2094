//! The loopback callback listener (spec §5.5, after codex `login/server.rs`).
//!
//! - Binds only the redirect URI's loopback address: `localhost` is both 127.0.0.1 and
//!   `[::1]` (browsers try either), so another program can't sit on the one sq left free; a
//!   [`RedirectUri`] can't name any other address, so a non-loopback bind can't be expressed.
//! - Serves only the callback path (404 elsewhere, 405 for methods other than GET/HEAD).
//! - A wrong or missing `state` gets a 400 page and the wait goes on, for a code and for an
//!   error alike: without the state sq sent, an answer could come from any web page (an image
//!   tag pointing at `…/callback?error=access_denied` would otherwise end the sign-in).
//! - A decline or another Meta error ends the wait with a page that says what happened. A code
//!   ends the wait too, but its page is held: the browser learns whether sq is connected only
//!   once the command has exchanged the code ([`Listener::defer_answer`], [`BrowserAnswer`]),
//!   and at most [`HOLD_LIMIT`] later.
//! - Every response carries `Connection: close`, `Cache-Control: no-store`,
//!   `Referrer-Policy: no-referrer` and a CSP that forbids every external resource.
//! - Gives up after the timeout ([`Outcome::Timeout`]) and stops at once on
//!   [`CancelHandle::cancel`] (Ctrl-C).
//!
//! HTTP and HTTPS (sq's self-signed certificate, [`TlsIdentity`]) are served by the small
//! server in [`super::server`] on the redirect port itself; its limits (connections, header
//! size, one deadline per request, an accept loop that survives running out of file
//! descriptors) are described there.
//!
//! Citations: spec §n of docs/reference/spec.md.

use super::AuthError;
use super::callback::{Callback, parse_request_target, redact_url};
use super::pkce::State;
use super::redirect::RedirectUri;
use super::server::{Conn, Handler, Head, Limits, Server};
use super::tls::TlsIdentity;
use crate::secret::AuthCode;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The default `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// How often the wait loop looks at the clock and the cancel flag when nothing arrives.
const POLL: Duration = Duration::from_millis(100);
/// How long the browser's page waits for the command to say how the exchange ended. The
/// exchange is a few calls to Meta (each bounded by the HTTP client's timeout); past this the
/// page says sq is still checking rather than leave the tab spinning.
pub const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// How a wait for the authorization ended (listener, paste-back, or the race of both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Code(AuthCode),
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
    pub fn into_result(self) -> Result<AuthCode, AuthError> {
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

/// What the connection threads tell the waiting thread.
enum Event {
    /// A callback that ends the wait; a code comes with its held browser page.
    Final(Outcome, Option<BrowserAnswer>),
    /// A line for `--verbose` (a rejected request, accept trouble).
    Note(String),
    /// Look at the cancel flag now.
    Wake,
}

/// Stops a [`Listener::wait`] from another thread (the Ctrl-C handler, the paste reader).
#[derive(Clone)]
pub struct CancelHandle {
    flag: Arc<AtomicBool>,
    wake: Sender<Event>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        // The waiting thread may be gone already; then there is nothing to wake.
        let _ = self.wake.send(Event::Wake);
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

/// A page for the browser tab that brought the code.
#[derive(Debug, Clone)]
struct Page {
    status: u16,
    html: String,
}

/// The browser tab that brought the code, still waiting for its page. Say how the exchange
/// ended with [`connected`](Self::connected) or [`failed`](Self::failed); dropped without
/// either, the tab is told that sq received the answer and that the terminal says the rest.
/// Either way the page is written before this returns (or is dropped), so the process may exit
/// right after.
pub struct BrowserAnswer {
    page: Option<Sender<Page>>,
    written: Receiver<()>,
    /// Set once the waiting thread took the code: an answer that never got that far (the wait
    /// had already ended) tells the tab so.
    taken: bool,
}

impl BrowserAnswer {
    /// The exchange succeeded: the page says sq is connected.
    pub fn connected(mut self) {
        self.send(Page { status: 200, html: success_page() });
    }

    /// The exchange failed: the page says what went wrong, in the command's own words.
    pub fn failed(mut self, message: &str, hints: &[String]) {
        self.send(Page { status: 200, html: exchange_failed_page(message, hints) });
    }

    fn send(&mut self, page: Page) {
        if let Some(tx) = self.page.take() {
            // The connection's thread may have given up (HOLD_LIMIT): nothing more to say.
            let _ = tx.send(page);
        }
    }
}

impl Drop for BrowserAnswer {
    fn drop(&mut self) {
        let page = if self.taken { received_page() } else { ended_page() };
        self.send(Page { status: 200, html: page });
        // Returns when the connection's thread ends (it drops its sender); its write has the
        // server's write timeout, so this is bounded.
        let _ = self.written.recv_timeout(Limits::DEFAULT.write_timeout + Duration::from_secs(1));
    }
}

impl std::fmt::Debug for BrowserAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserAnswer").field("answered", &self.page.is_none()).finish()
    }
}

/// Where [`Listener::wait`] leaves the held browser page of a code, for the command to answer
/// after the exchange ([`Listener::defer_answer`]).
#[derive(Clone, Default)]
pub struct AnswerSlot(Arc<Mutex<Option<BrowserAnswer>>>);

impl AnswerSlot {
    /// The held page, once the wait ended with a code from the listener (not from a paste).
    pub fn take(&self) -> Option<BrowserAnswer> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn put(&self, answer: BrowserAnswer) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
    }
}

impl std::fmt::Debug for AnswerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnswerSlot")
    }
}

/// A bound listener. Bind it before opening the browser, so a busy port is reported first.
pub struct Listener {
    _server: Server,
    events: Receiver<Event>,
    redirect: RedirectUri,
    cancel: CancelHandle,
    addr: SocketAddr,
    slot: Option<AnswerSlot>,
    notes: Option<Notes>,
}

/// Where the notes of [`Listener::wait`] go.
type Notes = Box<dyn FnMut(&str) + Send>;

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("redirect", &self.redirect.as_str())
            .field("addr", &self.addr)
            .finish()
    }
}

/// Answers requests on the connections' threads.
struct Callbacks {
    redirect: RedirectUri,
    expected: Option<State>,
    events: Sender<Event>,
}

impl Handler for Callbacks {
    fn request(&self, head: Head, conn: Conn) {
        let head_only = head.method == "HEAD";
        if head.method != "GET" && !head_only {
            self.note(format!("ignored a {} request", sanitize_token(&head.method)));
            conn.respond(
                405,
                "Allow: GET, HEAD\r\n",
                &page("Not supported", "This address only receives sq's sign-in answer."),
                false,
            );
            return;
        }
        let parsed = parse_request_target(&head.target, &self.redirect, self.expected.as_ref());
        let (status, html) = match &parsed {
            Callback::Code { .. } => {
                if let Callback::Code { code } = parsed {
                    self.hold(code, conn, head_only);
                }
                return;
            }
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
                    "Its state does not match the one sq sent (an old tab, another run of sq, or \
                     another web page). sq is still waiting: use the newest sign-in tab, or run the \
                     command again.",
                ),
            ),
            Callback::MissingState => (
                400,
                page(
                    "This answer has no state",
                    "sq only accepts the answer that carries the state it sent, so it can't tell \
                     this one came from the sign-in it started. sq is still waiting: finish the \
                     sign-in from the link sq printed, or press Ctrl-C in the terminal to stop.",
                ),
            ),
            Callback::Malformed { why } => {
                (400, page("Not a sign-in answer", &format!("{why}. sq is still waiting.")))
            }
        };
        if !parsed.is_final() {
            self.note(format!("rejected {} with {status}", redact_url(&head.target)));
        }
        // The page goes out before the wait is told: the command ends right after a decline,
        // and the process must not exit before the browser has its page.
        conn.respond(status, "", &html, head_only);
        if let Some(outcome) = Outcome::from_callback(parsed) {
            let _ = self.events.send(Event::Final(outcome, None));
        }
    }

    fn note(&self, text: String) {
        let _ = self.events.send(Event::Note(text));
    }
}

impl Callbacks {
    /// Hands the code to the waiting thread and keeps the connection until the command says
    /// how the exchange ended, [`HOLD_LIMIT`] at most.
    fn hold(&self, code: AuthCode, conn: Conn, head_only: bool) {
        let (page_tx, page_rx) = mpsc::channel();
        let (written_tx, written_rx) = mpsc::channel::<()>();
        let answer = BrowserAnswer { page: Some(page_tx), written: written_rx, taken: false };
        if let Err(mpsc::SendError(event)) = self.events.send(Event::Final(Outcome::Code(code), Some(answer)))
        {
            // The wait is over. The answer's drop waits for this thread's `written_tx`: let
            // go of it first.
            drop(written_tx);
            drop(event);
            conn.respond(400, "", &ended_page(), head_only);
            return;
        }
        let page = match page_rx.recv_timeout(HOLD_LIMIT) {
            Ok(page) => page,
            Err(RecvTimeoutError::Timeout) => Page { status: 200, html: still_checking_page() },
            Err(RecvTimeoutError::Disconnected) => Page { status: 200, html: received_page() },
        };
        conn.respond(page.status, "", &page.html, head_only);
        drop(written_tx);
    }
}

/// A request method is shown in `--verbose`; keep it short and printable.
fn sanitize_token(s: &str) -> String {
    s.chars().take(16).filter(|c| c.is_ascii_graphic()).collect()
}

impl Listener {
    /// Binds the redirect URI's loopback address (both of them for `localhost`). `expected`
    /// is the state sent in the authorization URL (`None` only if none was sent). An
    /// `https://` redirect needs `tls`.
    pub fn bind(
        redirect: &RedirectUri,
        expected: Option<State>,
        tls: Option<&TlsIdentity>,
    ) -> Result<Listener, AuthError> {
        Self::bind_with(redirect, expected, tls, Limits::DEFAULT)
    }

    pub(crate) fn bind_with(
        redirect: &RedirectUri,
        expected: Option<State>,
        tls: Option<&TlsIdentity>,
        limits: Limits,
    ) -> Result<Listener, AuthError> {
        let config = match (redirect.is_https(), tls) {
            (false, _) => None,
            (true, Some(tls)) => Some(tls.server_config()?),
            (true, None) => {
                return Err(AuthError::Certificate {
                    path: "(none)".into(),
                    problem: format!("{} is https:// but no certificate was given", redirect.as_str()),
                });
            }
        };
        let sockets = redirect.bind()?;
        let addr = sockets
            .first()
            .ok_or_else(|| {
                AuthError::io("binding the redirect address", std::io::ErrorKind::AddrNotAvailable.into())
            })?
            .local_addr()
            .map_err(|e| AuthError::io("reading the listener's address", e))?;
        let (events_tx, events) = mpsc::channel();
        let handler = Arc::new(Callbacks { redirect: redirect.clone(), expected, events: events_tx.clone() });
        let server = Server::start(sockets, config, limits, handler)
            .map_err(|e| AuthError::io("starting the listener", e))?;
        let cancel = CancelHandle { flag: Arc::new(AtomicBool::new(false)), wake: events_tx };
        Ok(Listener {
            _server: server,
            events,
            redirect: redirect.clone(),
            cancel,
            addr,
            slot: None,
            notes: None,
        })
    }

    /// The address the browser connects to (the redirect URI's host and port; for
    /// `localhost`, the 127.0.0.1 one).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Keeps the browser page of a code waiting until the command has exchanged it: after a
    /// wait that ended with a code, [`AnswerSlot::take`] gives the [`BrowserAnswer`] to tell
    /// the browser how it went. Without this the page says only that sq received the answer.
    pub fn defer_answer(&mut self) -> AnswerSlot {
        self.slot.get_or_insert_with(AnswerSlot::default).clone()
    }

    /// Where [`wait`](Self::wait) sends its notes (see [`wait_with`](Self::wait_with)), also
    /// when the wait runs inside [`race`](super::race).
    pub fn with_notes(mut self, notes: impl FnMut(&str) + Send + 'static) -> Listener {
        self.notes = Some(Box::new(notes));
        self
    }

    /// Waits for the callback, up to `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Outcome {
        match self.notes.take() {
            Some(mut notes) => self.wait_with(timeout, &mut *notes),
            None => self.wait_with(timeout, &mut |_| {}),
        }
    }

    /// Like [`wait`](Self::wait), calling `note` with a short line (secrets redacted) for every
    /// request that did not end the wait and for trouble accepting connections, for `--verbose`.
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
            match self.events.recv_timeout((deadline - now).min(POLL)) {
                Ok(Event::Final(outcome, answer)) => {
                    if let Some(mut answer) = answer {
                        answer.taken = true;
                        match &self.slot {
                            Some(slot) => slot.put(answer),
                            None => drop(answer),
                        }
                    }
                    return outcome;
                }
                Ok(Event::Note(text)) => note(&text),
                Ok(Event::Wake) | Err(RecvTimeoutError::Timeout) => {}
                // The listener keeps a sender itself (in its cancel handle), so this can't
                // happen; don't spin if it ever does.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(POLL),
            }
        }
    }
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
pub(crate) fn page(title: &str, body: &str) -> String {
    page_with(title, body, &[])
}

/// A page with a list under the paragraph (the hints of a failure); all text is escaped here.
fn page_with(title: &str, body: &str, items: &[String]) -> String {
    let list = if items.is_empty() {
        String::new()
    } else {
        let li: String = items.iter().map(|i| format!("<li>{}</li>", html_escape(i))).collect();
        format!("<ul>{li}</ul>")
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>sq: {t}</title><style>body{{font-family:system-ui,sans-serif;max-width:36em;\
         margin:4em auto;padding:0 1em;line-height:1.5;color:#222}}h1{{font-size:1.4em}}</style>\
         </head><body><h1>{t}</h1><p>{b}</p>{list}</body></html>\n",
        t = html_escape(title),
        b = html_escape(body)
    )
}

/// Shown only after the command exchanged the code for a token and checked it.
pub(crate) fn success_page() -> String {
    page(
        "sq is connected",
        "sq exchanged Meta's answer for a token and checked it. You can close this tab and go back \
         to the terminal, where sq finishes (choosing the profiles, storing the token).",
    )
}

/// The exchange failed: what the terminal says, in the same words.
fn exchange_failed_page(message: &str, hints: &[String]) -> String {
    page_with(
        "sq could not connect",
        &format!(
            "Meta's answer reached sq, but turning it into a token failed: {message}. Nothing was \
             changed; the tokens sq had keep working. The terminal says the same, and what to do:"
        ),
        hints,
    )
}

/// The command took the code but never said how the exchange ended (a caller without
/// [`Listener::defer_answer`], or an error before the exchange).
fn received_page() -> String {
    page(
        "sq received the answer",
        "sq received Meta's answer and goes on in the terminal, which says how it ends. You can \
         close this tab.",
    )
}

/// The exchange takes longer than [`HOLD_LIMIT`].
fn still_checking_page() -> String {
    page(
        "sq is still checking",
        "sq received Meta's answer and is still exchanging it for a token; this is taking longer \
         than usual. The terminal says how it ends. You can close this tab.",
    )
}

/// The wait had already ended (timeout, Ctrl-C, another answer) when this request came.
fn ended_page() -> String {
    page(
        "sq is no longer waiting",
        "This sign-in already ended in the terminal (it timed out, was cancelled, or another \
         answer arrived first). Run the command again to sign in.",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        let p = error_page("<script>", Some("a&b"));
        assert!(p.contains("&lt;script&gt;") && p.contains("a&amp;b") && !p.contains("<script>"));
        let p = exchange_failed_page("bad <b>", &["run <this>".to_string()]);
        assert!(p.contains("bad &lt;b&gt;") && p.contains("<li>run &lt;this&gt;</li>"), "{p}");
    }

    #[test]
    fn pages_have_no_external_resources() {
        for p in [
            success_page(),
            declined_page(),
            error_page("e", None),
            exchange_failed_page("m", &["h".to_string()]),
            received_page(),
            still_checking_page(),
            ended_page(),
        ] {
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
        assert_eq!(Outcome::Code(AuthCode::new("c")).into_result().unwrap().expose(), "c");
    }
}
