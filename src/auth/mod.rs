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

use crate::error::{Error, Kind};
use std::path::PathBuf;
use std::time::Duration;

/// The redirect URI everyone registers unless they choose another (`--redirect-uri`).
pub use crate::settings::DEFAULT_REDIRECT_URI;

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
        Some(d) if !d.trim().is_empty() => format!(" ({})", crate::output::sanitize(d.trim())),
        _ => String::new(),
    }
}

impl AuthError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> AuthError {
        AuthError::Io { what: what.into(), source }
    }
}

impl From<AuthError> for Error {
    /// Exit codes, and why:
    /// - a bad redirect URI or a busy port is something to fix in the invocation or the app
    ///   settings before anything can happen: usage (2);
    /// - declining is not a fault but leaves the profile unauthorized, waiting for a person to
    ///   run the flow again and keep everything on: action required (4), like any other
    ///   "needs re-authorization" state;
    /// - a timeout, a Meta-side refusal and local failures: failure (1);
    /// - Ctrl-C: interrupted (130).
    fn from(e: AuthError) -> Error {
        let message = crate::output::sanitize(&e.to_string());
        match &e {
            AuthError::BadRedirectUri { .. } => Error::new(Kind::Usage, "redirect_uri_invalid", message)
                .hint(format!(
                    "register {DEFAULT_REDIRECT_URI} under Valid OAuth Redirect URIs in the app's \
                     Facebook Login settings, or pass the URI you registered with --redirect-uri"
                ))
                .hint(
                    "the URI must be http:// or https:// on localhost, 127.0.0.1 or [::1], with an \
                     explicit port, exactly as registered",
                ),
            AuthError::PortBusy { port, .. } => Error::new(Kind::Usage, "redirect_port_busy", message)
                .hint(format!(
                    "stop the program using port {port} (see `lsof -i :{port}` or `ss -ltnp`), \
                     or choose another port with --redirect-uri and register that exact URI in the app"
                )),
            AuthError::Bind { source, .. } => {
                let err = Error::new(Kind::Usage, "redirect_port_unavailable", message);
                if source.kind() == std::io::ErrorKind::PermissionDenied {
                    err.hint(
                        "ports below 1024 need administrator rights: choose a port such as 8765 \
                         with --redirect-uri and register that exact URI in the app",
                    )
                } else {
                    err.hint("choose another port with --redirect-uri and register that exact URI in the app")
                }
            }
            AuthError::Declined { .. } => Error::new(Kind::ActionRequired, "authorization_declined", message)
                .hint("nothing was changed; run the command again and keep every permission and Page switched on"),
            AuthError::AuthorizationFailed { .. } => Error::failure("authorization_failed", message).hint(
                "check the app id, the app's mode and its Valid OAuth Redirect URIs in the Meta app dashboard",
            ),
            AuthError::Timeout { .. } => Error::failure("authorization_timeout", message).hint(
                "run the command again (--timeout sets the wait); if the browser is on another machine, \
                 paste the address the browser ended on, or use an SSH tunnel",
            ),
            AuthError::Cancelled => Error::interrupted(),
            AuthError::Certificate { path, .. } => Error::failure("certificate", message).hint(format!(
                "delete {} and its key next to it to have sq make a new one, or use an http:// redirect URI",
                path.display()
            )),
            AuthError::Random(_) => Error::failure("random", message),
            AuthError::Browser { .. } => Error::failure("browser", message)
                .hint("open the URL printed above by hand, or set BROWSER to a command that opens URLs"),
            AuthError::Io { .. } => Error::failure("io", message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_and_hints() {
        let cases: Vec<(AuthError, Kind, &str)> = vec![
            (
                AuthError::BadRedirectUri { uri: "http://x".into(), problem: "p".into() },
                Kind::Usage,
                "register http://localhost:8765/callback",
            ),
            (
                AuthError::PortBusy { port: 8765, uri: "u".into(), addr: "[::1]:8765".parse().unwrap() },
                Kind::Usage,
                "port 8765",
            ),
            (AuthError::Declined { reason: None, description: None }, Kind::ActionRequired, "keep every"),
            (AuthError::Timeout { after: Duration::from_secs(300) }, Kind::Failure, "--timeout"),
            (AuthError::Cancelled, Kind::Interrupted, ""),
        ];
        for (e, kind, hint) in cases {
            let err: Error = e.into();
            assert_eq!(err.kind, kind, "{}", err.message);
            assert!(err.hints.join("\n").contains(hint), "{:?}", err.hints);
        }
        let t: Error = AuthError::Timeout { after: Duration::from_secs(300) }.into();
        assert_eq!(t.message, "no answer from the browser within 5m");
    }

    #[test]
    fn meta_text_is_sanitized() {
        let e: Error = AuthError::AuthorizationFailed {
            error: "server_error".into(),
            description: Some("bad\x1b[31m thing".into()),
        }
        .into();
        assert!(!e.message.contains('\x1b'), "{}", e.message);
    }
}
