//! Paste-back: the user copies the address the browser ended on (it shows "can't reach this
//! page" when the browser runs on another machine) and pastes it into the terminal; and the
//! race between that and the loopback listener (spec §5.4).
//!
//! Standard input and the race: a thread blocked in `read()` on the terminal can't be
//! interrupted portably, and if it stayed blocked after the listener won, it would steal the
//! next line or keystroke meant for a later prompt (the Page multi-select). So [`StdinSource`]
//! on Unix waits with `poll(2)` in 100 ms slices and only reads when input is ready, reading
//! byte by byte up to the newline; when the race ends it stops reading, leaves unread input in
//! the terminal for the next prompt, and its thread ends. On other platforms it falls back to a
//! blocking read: the reader thread is detached (it never keeps the process alive, since Rust
//! exits when `main` returns), and after the race one more line typed at the terminal may be
//! consumed by it and discarded; callers there should avoid a line prompt right after a race the
//! listener won (a key-based multi-select is not affected by a pending line read in practice,
//! but this is not verified on Windows).
//!
//! Citations: spec §n of docs/reference/spec.md.

use super::callback::{Callback, parse_pasted};
use super::listener::{Listener, Outcome};
use super::pkce::State;
use super::redirect::RedirectUri;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One read from a [`LineSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Line(String),
    Eof,
    /// `stop` was set before a whole line arrived.
    Stopped,
}

/// Where pasted lines come from. Implementations should notice `stop` promptly when they can.
pub trait LineSource: Send {
    fn next_line(&mut self, stop: &AtomicBool) -> std::io::Result<Line>;
}

/// Any `BufRead` (tests, a pipe). Blocks in `read_line`; checks `stop` between lines only.
pub struct ReaderSource<R>(pub R);

impl<R: BufRead + Send> LineSource for ReaderSource<R> {
    fn next_line(&mut self, stop: &AtomicBool) -> std::io::Result<Line> {
        if stop.load(Ordering::SeqCst) {
            return Ok(Line::Stopped);
        }
        let mut line = String::new();
        Ok(match self.0.read_line(&mut line)? {
            0 => Line::Eof,
            _ => Line::Line(line),
        })
    }
}

/// The process's standard input, read so that stopping leaves no `read()` behind (see the
/// module documentation).
#[derive(Debug, Default)]
pub struct StdinSource {
    _private: (),
}

impl StdinSource {
    pub fn new() -> StdinSource {
        StdinSource { _private: () }
    }
}

#[cfg(unix)]
impl LineSource for StdinSource {
    fn next_line(&mut self, stop: &AtomicBool) -> std::io::Result<Line> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        use std::os::fd::AsFd;
        let stdin = std::io::stdin();
        let fd = stdin.as_fd();
        let mut line = Vec::new();
        let slice = Timespec { tv_sec: 0, tv_nsec: 100_000_000 };
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(Line::Stopped);
            }
            let mut fds = [PollFd::new(&fd, PollFlags::IN)];
            match poll(&mut fds, Some(&slice)) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let mut byte = [0u8; 1];
            match rustix::io::read(fd, &mut byte) {
                Ok(0) => {
                    return Ok(if line.is_empty() {
                        Line::Eof
                    } else {
                        Line::Line(String::from_utf8_lossy(&line).into_owned())
                    });
                }
                Ok(_) => {
                    if byte[0] == b'\n' {
                        return Ok(Line::Line(String::from_utf8_lossy(&line).into_owned()));
                    }
                    line.push(byte[0]);
                    if line.len() > 64 * 1024 {
                        return Err(std::io::Error::other("the pasted line is too long"));
                    }
                }
                Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(not(unix))]
impl LineSource for StdinSource {
    fn next_line(&mut self, stop: &AtomicBool) -> std::io::Result<Line> {
        ReaderSource(std::io::stdin().lock()).next_line(stop)
    }
}

/// Why a pasted line was not taken, for a one-line note on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasteNote {
    WrongState,
    MissingState,
    WrongPath { path: String },
    Malformed { why: String },
}

impl std::fmt::Display for PasteNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasteNote::WrongState => f.write_str(
                "that address is from another sign-in (its state doesn't match); paste the one from the newest tab",
            ),
            PasteNote::MissingState => f.write_str("that address has no state=; paste the whole address"),
            PasteNote::WrongPath { path } => {
                write!(f, "that address goes to {path}, not to the redirect URI; paste the address the browser ended on")
            }
            PasteNote::Malformed { why } => write!(f, "{why}; paste the whole address the browser ended on"),
        }
    }
}

/// Reads lines until one is a redirect with the right state (a code, a decline or a Meta
/// error) and returns its outcome; `None` at end of input or when `stop` is set. Blank lines
/// are skipped; anything else calls `note` and reading goes on.
pub fn read_pasted(
    source: &mut dyn LineSource,
    redirect: &RedirectUri,
    expected: Option<&State>,
    stop: &AtomicBool,
    note: &mut dyn FnMut(&PasteNote),
) -> std::io::Result<Option<Outcome>> {
    loop {
        let line = match source.next_line(stop)? {
            Line::Line(l) => l,
            Line::Eof | Line::Stopped => return Ok(None),
        };
        if line.trim().is_empty() {
            continue;
        }
        let parsed = parse_pasted(&line, redirect, expected);
        let why = match parsed {
            Callback::WrongState => PasteNote::WrongState,
            Callback::MissingState => PasteNote::MissingState,
            Callback::WrongPath { path } => PasteNote::WrongPath { path },
            Callback::Malformed { why } => PasteNote::Malformed { why },
            final_ => return Ok(Outcome::from_callback(final_)),
        };
        note(&why);
    }
}

/// Waits for the loopback callback and a pasted redirect at once and returns whichever gives
/// an answer first, then stops the other: a paste cancels the listener; when the listener ends
/// (code, decline, timeout, cancel) the reader is told to stop (see the module documentation
/// for what that means for standard input). End of input on the paste side doesn't end the
/// race: the listener keeps waiting until its timeout.
///
/// To cancel the whole race (Ctrl-C), take `listener.cancel_handle()` before calling.
pub fn race(
    listener: Listener,
    timeout: Duration,
    source: Box<dyn LineSource>,
    redirect: &RedirectUri,
    expected: Option<State>,
    note: Box<dyn FnMut(&PasteNote) + Send>,
) -> Outcome {
    let cancel = listener.cancel_handle();
    let stop = Arc::new(AtomicBool::new(false));
    let pasted: Arc<Mutex<Option<Outcome>>> = Arc::new(Mutex::new(None));
    let reader = {
        let stop = stop.clone();
        let pasted = pasted.clone();
        let redirect = redirect.clone();
        let mut source = source;
        let mut note = note;
        thread::Builder::new().name("sq-paste".into()).spawn(move || {
            let result = read_pasted(source.as_mut(), &redirect, expected.as_ref(), &stop, &mut *note);
            if let Ok(Some(outcome)) = result {
                if let Ok(mut slot) = pasted.lock() {
                    *slot = Some(outcome);
                }
                cancel.cancel();
            }
        })
    };
    let from_listener = listener.wait(timeout);
    stop.store(true, Ordering::SeqCst);
    let from_paste = pasted.lock().ok().and_then(|mut slot| slot.take());
    // Join only readers that can notice `stop`: a blocking one may never return.
    drop(reader);
    match (from_listener, from_paste) {
        (Outcome::Cancelled, Some(paste)) => paste,
        (outcome, _) => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AuthCode;

    fn redirect() -> RedirectUri {
        RedirectUri::parse("http://localhost:8765/callback").unwrap()
    }

    #[test]
    fn first_good_line_wins() {
        let input = "\n  \nhello\nhttp://localhost:8765/callback?code=OLD&state=BAD#_=_\n\
                     http://localhost:8765/cb?code=X&state=S\n\
                     http://localhost:8765/callback?code=AQgood&state=S#_=_\n\
                     http://localhost:8765/callback?code=LATER&state=S\n";
        let mut source = ReaderSource(std::io::Cursor::new(input));
        let mut notes = Vec::new();
        let stop = AtomicBool::new(false);
        let state = State::from_string("S");
        let got = read_pasted(&mut source, &redirect(), Some(&state), &stop, &mut |n| notes.push(n.clone()))
            .unwrap();
        assert_eq!(got, Some(Outcome::Code(AuthCode::new("AQgood"))));
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert_eq!(notes[1], PasteNote::WrongState);
        assert!(matches!(notes[2], PasteNote::WrongPath { .. }));
        assert!(notes.iter().all(|n| !n.to_string().contains("OLD")));
    }

    #[test]
    fn decline_and_eof() {
        let state = State::from_string("S");
        let stop = AtomicBool::new(false);
        let mut src = ReaderSource(std::io::Cursor::new(
            "http://localhost:8765/callback?error=access_denied&error_reason=user_denied&state=S#_=_",
        ));
        let got = read_pasted(&mut src, &redirect(), Some(&state), &stop, &mut |_| {}).unwrap();
        assert_eq!(got, Some(Outcome::Denied { reason: Some("user_denied".into()), description: None }));
        let mut empty = ReaderSource(std::io::Cursor::new("\n\n"));
        assert_eq!(read_pasted(&mut empty, &redirect(), Some(&state), &stop, &mut |_| {}).unwrap(), None);
        stop.store(true, Ordering::SeqCst);
        let mut src = ReaderSource(std::io::Cursor::new("http://localhost:8765/callback?code=A&state=S"));
        assert_eq!(read_pasted(&mut src, &redirect(), Some(&state), &stop, &mut |_| {}).unwrap(), None);
    }
}
