//! The small HTTP/1.1 server under the loopback listener: std sockets, one thread per
//! connection, HTTPS terminated here with rustls.
//!
//! sq first used tiny_http, which can be knocked over by any local process: its accept thread
//! ends for good on the first accept error, so a program that makes sq run out of file
//! descriptors (EMFILE) stops the callback from ever being answered; it reads a request line of
//! any length into memory (a 1 GB header line took 2.1 GB); it has no bound on connections;
//! and HTTPS had to be proxied to it through a second, plain-HTTP port. sq needs one GET per
//! sign-in, so the whole server is this file:
//!
//! - The listening sockets stay open for the whole wait. An accept error (out of descriptors,
//!   out of memory, anything else) is retried with a backoff of up to [`MAX_BACKOFF`] and said
//!   once per episode; nothing closes the port while sq waits.
//! - At most [`Limits::max_connections`] connections at once. Beyond that sq stops accepting,
//!   and new connections wait in the kernel's queue (in order) until one ends.
//! - Every connection has ONE deadline for the TLS handshake and the request head together
//!   ([`Limits::request_deadline`]), however slowly the bytes come: each read is given only
//!   the time left.
//! - The request head is at most [`Limits::max_head`] bytes (431 beyond it); a body is never
//!   read; one request per connection, answered with `Connection: close`.
//! - HTTPS is served on the redirect port itself: there is no internal plain-HTTP port that
//!   another local program could send a forged callback to.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The longest pause between two accept attempts after an error.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_millis(250);
/// How often the accept thread looks at its stop flag while nothing happens.
const ACCEPT_SLICE: Duration = Duration::from_millis(50);
/// A connection thread needs little stack: a TLS handshake and a 2 KiB read buffer.
const CONNECTION_STACK: usize = 256 * 1024;

/// What one connection may cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    /// Request line and headers together, in bytes.
    pub max_head: usize,
    /// From accept to the end of the request head, TLS handshake included.
    pub request_deadline: Duration,
    /// For writing one response.
    pub write_timeout: Duration,
}

impl Limits {
    /// A browser opens a handful of connections (the page, a favicon, a speculative one) and
    /// sends its request within milliseconds; a localhost request head with cookies stays well
    /// under 32 KiB (browsers cap a cookie at 4 KiB). The deadline is generous for a browser at
    /// the end of an SSH tunnel and short for a connection that only occupies a slot.
    pub const DEFAULT: Limits = Limits {
        max_connections: 32,
        max_head: 32 * 1024,
        request_deadline: Duration::from_secs(10),
        write_timeout: Duration::from_secs(5),
    };
}

/// What the server hands to the [`Handler`]: the request line's method and target. Headers are
/// read (to find the end of the head) but not kept: the callback needs none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub method: String,
    pub target: String,
}

/// Answers requests; called on the connection's own thread, so it may block (a held answer).
pub(crate) trait Handler: Send + Sync + 'static {
    fn request(&self, head: Head, conn: Conn);
    /// A line for `--verbose` about the server itself (accept trouble).
    fn note(&self, text: String);
}

/// A TCP stream whose every read and write gets only the time left before one deadline.
struct DeadlineIo {
    tcp: TcpStream,
    deadline: Instant,
}

impl DeadlineIo {
    fn left(&self) -> io::Result<Duration> {
        match self.deadline.checked_duration_since(Instant::now()) {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(io::Error::new(io::ErrorKind::TimedOut, "the connection's deadline passed")),
        }
    }
}

impl Read for DeadlineIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf)
    }
}

impl Write for DeadlineIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

enum Inner {
    Plain(DeadlineIo),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, DeadlineIo>>),
}

/// One accepted connection (plain or TLS) after its request head was read.
pub(crate) struct Conn {
    inner: Inner,
    write_timeout: Duration,
}

impl Conn {
    fn io(&mut self) -> &mut DeadlineIo {
        match &mut self.inner {
            Inner::Plain(io) => io,
            Inner::Tls(s) => &mut s.sock,
        }
    }

    /// Writes one whole response and closes the connection. `extra` is added to the fixed
    /// headers (each line ending in `\r\n`). Failures are ignored: the browser may be gone, and
    /// nothing useful can be done about it.
    pub fn respond(mut self, status: u16, extra: &str, html: &str, head_only: bool) {
        let _ = self.write_response(status, extra, html, head_only);
        self.close();
    }

    /// Like [`respond`](Self::respond) for a request that was not read to its end (too large,
    /// malformed): the rest the client still sends is read and dropped for a moment, so that
    /// closing does not reset the connection before the client has read the answer.
    fn reject(mut self, status: u16, html: &str) {
        if self.write_response(status, "", html, false).is_ok() {
            self.finish_tls();
            let io = self.io();
            let _ = io.tcp.shutdown(Shutdown::Write);
            io.deadline = Instant::now() + Duration::from_millis(500);
            let mut scratch = [0u8; 4096];
            let mut drained = 0usize;
            while drained < 256 * 1024 {
                match io.read(&mut scratch) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        }
        self.close();
    }

    fn write_response(&mut self, status: u16, extra: &str, html: &str, head_only: bool) -> io::Result<()> {
        let timeout = self.write_timeout;
        self.io().deadline = Instant::now() + timeout;
        let head = format!(
            "HTTP/1.1 {status} {}\r\n\
             Content-Type: text/html; charset=utf-8\r\n\
             Content-Length: {}\r\n\
             Connection: close\r\n\
             Cache-Control: no-store\r\n\
             Referrer-Policy: no-referrer\r\n\
             X-Content-Type-Options: nosniff\r\n\
             Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
             {extra}\r\n",
            reason_phrase(status),
            html.len()
        );
        let mut out = head.into_bytes();
        if !head_only {
            out.extend_from_slice(html.as_bytes());
        }
        match &mut self.inner {
            Inner::Plain(io) => io.write_all(&out)?,
            Inner::Tls(s) => s.write_all(&out)?,
        }
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(io) => io.flush(),
            Inner::Tls(s) => s.flush(),
        }
    }

    fn finish_tls(&mut self) {
        if let Inner::Tls(s) = &mut self.inner {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    }

    fn close(mut self) {
        self.finish_tls();
        let _ = self.io().tcp.shutdown(Shutdown::Both);
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

/// Why a request head could not be had.
#[derive(Debug)]
enum HeadError {
    /// More than `max_head` bytes without the end of the head.
    TooLarge,
    /// Not an HTTP/1.x request line.
    Malformed,
    /// Closed, timed out, reset: there is no one to answer.
    Gone,
}

/// Reads up to the blank line that ends the head, never holding more than `max` bytes plus one
/// read's worth.
fn read_head(r: &mut impl Read, max: usize) -> Result<Head, HeadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let end = loop {
        let n = match r.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(HeadError::Gone),
            Ok(n) => n,
        };
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&buf[from..]) {
            break from + end;
        }
        if buf.len() > max {
            return Err(HeadError::TooLarge);
        }
    };
    if end > max {
        return Err(HeadError::TooLarge);
    }
    parse_head(&buf[..end])
}

/// The offset just past the blank line (`\r\n\r\n`, or a bare `\n\n`), if there is one.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn parse_head(head: &[u8]) -> Result<Head, HeadError> {
    let text = std::str::from_utf8(head).map_err(|_| HeadError::Malformed)?;
    // A client may send empty lines before the request line (RFC 9112 §2.2).
    let line = text.lines().map(|l| l.trim_end_matches('\r')).find(|l| !l.is_empty()).unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed);
    };
    let token = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    // Origin form only (`/callback?…`): a browser sends nothing else to a loopback address.
    if !token(method) || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(HeadError::Malformed);
    }
    if target.bytes().any(|b| b.is_ascii_control()) {
        return Err(HeadError::Malformed);
    }
    Ok(Head { method: method.to_string(), target: target.to_string() })
}

/// The running accept loop; dropping it stops accepting and closes the listening sockets (a
/// connection already accepted finishes on its own thread, within its deadlines).
pub(crate) struct Server {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(
        listeners: Vec<TcpListener>,
        tls: Option<Arc<rustls::ServerConfig>>,
        limits: Limits,
        handler: Arc<dyn Handler>,
    ) -> io::Result<Server> {
        for l in &listeners {
            // Non-blocking, so the loop can watch its stop flag and never sits inside accept().
            l.set_nonblocking(true)?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stop_in = stop.clone();
        let thread = thread::Builder::new()
            .name("sq-accept".into())
            .spawn(move || accept_loop(&listeners, tls, limits, handler, &stop_in))?;
        Ok(Server { stop, thread: Some(thread) })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Frees a connection slot when the connection's thread ends (or was never started).
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(
    listeners: &[TcpListener],
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    handler: Arc<dyn Handler>,
    stop: &AtomicBool,
) {
    let active = Arc::new(AtomicUsize::new(0));
    let mut backoff = Duration::ZERO;
    let mut troubled = false;
    while !stop.load(Ordering::SeqCst) {
        if active.load(Ordering::SeqCst) >= limits.max_connections {
            thread::sleep(Duration::from_millis(10));
            continue;
        }
        if !backoff.is_zero() {
            thread::sleep(backoff);
        }
        wait_readable(listeners, ACCEPT_SLICE);
        for listener in listeners {
            match listener.accept() {
                Ok((stream, _)) => {
                    backoff = Duration::ZERO;
                    if troubled {
                        troubled = false;
                        handler.note("accepting connections again".to_string());
                    }
                    active.fetch_add(1, Ordering::SeqCst);
                    let slot = Slot(active.clone());
                    let (tls, conn_handler) = (tls.clone(), handler.clone());
                    // If the thread can't be started, the closure (the stream and the slot) is
                    // dropped: the connection is closed and the slot freed.
                    let started = thread::Builder::new()
                        .name("sq-conn".into())
                        .stack_size(CONNECTION_STACK)
                        .spawn(move || {
                            let _slot = slot;
                            serve_one(stream, tls, limits, conn_handler.as_ref());
                        });
                    if let Err(e) = started {
                        handler.note(format!("dropped a connection: can't start a thread for it ({e})"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The client gave up between the handshake and accept(): nothing to do.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) => {}
                // Out of file descriptors (EMFILE/ENFILE), buffers or memory, or anything else:
                // keep the socket (closing it would free the port for any other program), wait
                // a little longer each time, and try again. The pending connection stays queued
                // in the kernel until then.
                Err(e) => {
                    if !troubled {
                        troubled = true;
                        let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
                        handler.note(format!(
                            "can't accept a connection on {addr}: {e}; sq keeps the port and retries"
                        ));
                    }
                    backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_BACKOFF);
                }
            }
        }
    }
}

/// Waits until a listener has a connection to accept, or `slice` passed.
#[cfg(unix)]
fn wait_readable(listeners: &[TcpListener], slice: Duration) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let timeout = Timespec { tv_sec: 0, tv_nsec: i64::from(slice.subsec_nanos()) };
    let mut fds: Vec<PollFd<'_>> = listeners.iter().map(|l| PollFd::new(l, PollFlags::IN)).collect();
    if poll(&mut fds, Some(&timeout)).is_err() {
        // EINTR or no memory for the poll set: the caller tries accept() anyway, so just don't
        // spin.
        thread::sleep(Duration::from_millis(10));
    }
}

/// Without poll(2): a short sleep between non-blocking accept attempts.
#[cfg(not(unix))]
fn wait_readable(_listeners: &[TcpListener], slice: Duration) {
    thread::sleep(slice.min(Duration::from_millis(20)));
}

fn serve_one(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    handler: &dyn Handler,
) {
    // Some platforms pass the listener's non-blocking mode on to accepted sockets.
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    let _ = stream.set_nodelay(true);
    let io = DeadlineIo { tcp: stream, deadline: Instant::now() + limits.request_deadline };
    let inner = match tls {
        None => Inner::Plain(io),
        Some(config) => match handshake(io, config) {
            Ok(s) => Inner::Tls(s),
            // Not TLS, a refused certificate (the browser's first visit), too slow: nothing
            // to answer.
            Err(_) => return,
        },
    };
    let mut conn = Conn { inner, write_timeout: limits.write_timeout };
    let head = match &mut conn.inner {
        Inner::Plain(io) => read_head(io, limits.max_head),
        Inner::Tls(s) => read_head(s.as_mut(), limits.max_head),
    };
    match head {
        Ok(head) => handler.request(head, conn),
        Err(HeadError::TooLarge) => conn.reject(
            431,
            &super::listener::page(
                "Request too large",
                "This address only receives sq's sign-in answer, and that is much smaller.",
            ),
        ),
        Err(HeadError::Malformed) => conn.reject(
            400,
            &super::listener::page(
                "Not a request sq understands",
                "This address only receives sq's sign-in answer.",
            ),
        ),
        Err(HeadError::Gone) => {}
    }
}

/// The whole handshake within the connection's deadline (every read gets only the time left).
fn handshake(
    io: DeadlineIo,
    config: Arc<rustls::ServerConfig>,
) -> io::Result<Box<rustls::StreamOwned<rustls::ServerConnection, DeadlineIo>>> {
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = Box::new(rustls::StreamOwned::new(conn, io));
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(input: &[u8], max: usize) -> Result<Head, HeadError> {
        read_head(&mut io::Cursor::new(input.to_vec()), max)
    }

    #[test]
    fn request_heads_table() {
        let ok = |m: &str, t: &str| Some(Head { method: m.into(), target: t.into() });
        let cases: Vec<(&[u8], Option<Head>)> = vec![
            (
                b"GET /callback?code=A&state=S HTTP/1.1\r\nHost: x\r\n\r\n",
                ok("GET", "/callback?code=A&state=S"),
            ),
            (b"HEAD / HTTP/1.0\r\n\r\n", ok("HEAD", "/")),
            (b"\r\nGET /a HTTP/1.1\r\n\r\n", ok("GET", "/a")),
            (b"GET /a HTTP/1.1\n\n", ok("GET", "/a")),
            (b"GET /a HTTP/1.1\r\nX: y\r\n\r\nbody after the head", ok("GET", "/a")),
            (b"GET http://localhost/a HTTP/1.1\r\n\r\n", None),
            (b"GET /a\r\n\r\n", None),
            (b"GET /a HTTP/2\r\n\r\n", None),
            (b"GET  /a HTTP/1.1\r\n\r\n", None),
            (b"G(T /a HTTP/1.1\r\n\r\n", None),
            (b"GET /a\x01 HTTP/1.1\r\n\r\n", None),
            (b"GET /\xff HTTP/1.1\r\n\r\n", None),
        ];
        for (input, want) in cases {
            let got = head(input, 1024).ok();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn a_head_over_the_limit_is_refused_without_reading_on() {
        let mut big = b"GET /callback?".to_vec();
        big.extend(std::iter::repeat_n(b'a', 10_000));
        big.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        assert!(matches!(head(&big, 4096), Err(HeadError::TooLarge)));
        assert!(head(&big, 16 * 1024).is_ok());
        // An endless line: the reader stops once past the limit.
        struct Endless(usize);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0 += buf.len();
                buf.fill(b'a');
                Ok(buf.len())
            }
        }
        let mut endless = Endless(0);
        assert!(matches!(read_head(&mut endless, 4096), Err(HeadError::TooLarge)));
        assert!(endless.0 <= 4096 + 2048, "read {} bytes", endless.0);
        assert!(matches!(head(b"GET / HTTP/1.1\r\n", 1024), Err(HeadError::Gone)));
    }
}
