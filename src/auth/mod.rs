//! OAuth building blocks for `sq reauth` / `sq connect` (spec §5): redirect URI checks, state and
//! PKCE, authorization URLs, callback parsing, the loopback listener (HTTP and self-signed
//! HTTPS, on a small server of its own), paste-back, the race between the two, and the browser
//! opener.
//!
//! Nothing here talks to Meta's token endpoints: the exchanges are the client's (`meta::oauth`),
//! called by the command. The authorization URL, the state and PKCE are the `oauth2` crate's
//! (`AuthorizationRequest`, `CsrfToken`, `PkceCodeVerifier`/`PkceCodeChallenge`), wrapped here.
//!
//! Secrets: the authorization `code` is an [`AuthCode`](crate::secret::AuthCode) from the moment
//! it is parsed; `state` and the PKCE verifier never show in `Debug`; any callback URL that is
//! printed goes through [`redact_url`] first. The authorization URL itself carries no secret
//! (state is a one-time CSRF value bound to this run) and is printed as is.
//!
//! Citations: spec §n of docs/reference/spec.md.

pub mod authorize;
pub mod browser;
pub mod callback;
pub mod listener;
pub mod paste;
pub mod pkce;
pub mod redirect;
mod server;
pub mod tls;

pub use authorize::{AuthorizeParams, KindLogin, Login, authorize_url, scopes_for};
pub use browser::{
    BrowserDecision, BrowserOpener, SystemBrowser, browser_decision, open_url_text, ssh_tunnel_recipe,
};
pub use callback::{Callback, parse_pasted, parse_request_target, redact_url};
pub use listener::{AnswerSlot, BrowserAnswer, CancelHandle, DEFAULT_TIMEOUT, HOLD_LIMIT, Listener, Outcome};
pub use paste::{Line, LineSource, PasteNote, ReaderSource, StdinSource, race, read_pasted};
pub use pkce::{PkceChallenge, PkceVerifier, State};
pub use redirect::{RedirectUri, check_port_free, live_mode_note};
pub use tls::TlsIdentity;

use std::path::PathBuf;
use std::time::Duration;

/// The redirect URI everyone registers unless they choose another (`--redirect-uri`).
pub use redirect::DEFAULT_REDIRECT_URI;

/// Errors of the OAuth building blocks. Every message says what happened; `From<AuthError> for
/// Error` adds what to do. No variant holds a code, a state or a token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The redirect URI can't be used for a loopback callback.
    #[error("the redirect URI {uri} can't be used: {problem}")]
    BadRedirectUri { uri: String, problem: String },
    /// Something else listens on the redirect URI's port (on `addr`, one of the addresses the
    /// browser may use for it).
    #[error("port {port} of the redirect URI {uri} is already in use by another program (on {addr}{})", localhost_note(.uri, .addr))]
    PortBusy { port: u16, uri: String, addr: std::net::SocketAddr },
    /// The port can't be bound for another reason (privileged port, no loopback interface...).
    #[error("can't listen on {addr} for the redirect URI {uri}: {source}")]
    Bind { addr: String, uri: String, source: std::io::Error },
    /// The user pressed "Cancel" / "Not now" on Meta's consent screen.
    #[error("you declined the authorization on Meta's page{}", detail(.description))]
    Declined { reason: Option<String>, description: Option<String> },
    /// Meta redirected back with an error other than a decline.
    #[error("Meta refused the authorization: {error}{}", detail(.description))]
    AuthorizationFailed { error: String, description: Option<String> },
    /// No callback and no paste within the time allowed.
    #[error("no answer from the browser within {}", humantime::format_duration(*.after))]
    Timeout { after: Duration },
    /// Ctrl-C, or the caller cancelled the wait.
    #[error("the authorization was cancelled; nothing was changed")]
    Cancelled,
    /// The self-signed certificate for the https:// redirect could not be made, read or saved.
    #[error("the certificate for the https:// redirect ({path}): {problem}")]
    Certificate { path: PathBuf, problem: String },
    /// The operating system's random generator failed (state/PKCE).
    #[error("the system random generator failed: {0}")]
    Random(String),
    /// Launching the browser failed; the URL still works when opened by hand.
    #[error("couldn't open a browser ({command}): {problem}")]
    Browser { command: String, problem: String },
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

/// For a `localhost` redirect, why an address the user never typed matters.
fn localhost_note(uri: &str, addr: &std::net::SocketAddr) -> &'static str {
    let localhost = uri.to_ascii_lowercase().contains("://localhost");
    match (localhost, addr.is_ipv6()) {
        (true, true) => ", the IPv6 address browsers may use for localhost",
        (true, false) => ", the IPv4 address browsers may use for localhost",
        _ => "",
    }
}

fn detail(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.trim().is_empty() => format!(" ({})", crate::model::text::sanitize(d.trim())),
        _ => String::new(),
    }
}

impl AuthError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> AuthError {
        AuthError::Io { what: what.into(), source }
    }
}
