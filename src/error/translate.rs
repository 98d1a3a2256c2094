//! The one translation from the modules' own errors to the user's [`Error`] (jj's
//! `command_error.rs`): the Graph client, the OAuth building blocks, the credential store and
//! the database say what happened in their own types and know nothing of the screen; here each
//! gets its exit kind, its stable `code` and the `hint:` lines that say what to do (with the
//! `sq` command to run). Commands turn a module error into an [`Error`] with `?`.
//!
//! Citations: spec §n of docs/reference/spec.md.

use super::{Error, Kind};
use crate::auth::{AuthError, DEFAULT_REDIRECT_URI};
use crate::db::DbError;
use crate::meta::{ApiError, MetaError};
use crate::model::classify::{FailureClass, Refusal, TokenDeath};
use crate::model::text::sanitize;
use crate::store::{Probe, ProbeFailure, SERVICE, StoreError, Unavailable};
use rusqlite::ErrorCode;

// ---------------------------------------------------------------------------------------------
// The Graph client

fn meta_error(e: MetaError) -> Error {
    let c = e.classification();
    let message = e.to_string();
    match (&e, c.class) {
        (MetaError::CodeExchange { .. }, _) => Error::action("code_exchange_failed", message)
            .hint("run the sq reauth command again and finish the login within a few minutes"),
        (MetaError::WrongThreadsAppId { .. }, _) => Error::action("threads_app_id_wrong", message).hint(
            "you configured the Facebook app id for Threads: use the Threads app id and secret \
                 (Meta dashboard → Use cases → Threads API → Settings) with `sq config set threads.app_id`",
        ),
        (MetaError::Unexpected { .. } | MetaError::ForeignUrl { .. } | MetaError::TooManyPages { .. }, _) => {
            Error::failure("meta_unexpected", message)
                .hint("Meta answered something unexpected; try again later, and report it if it persists")
        }
        (_, FailureClass::Transient) => Error::unreachable(message)
            .hint("Meta could not be reached or had a temporary problem; try again later"),
        (_, FailureClass::RateLimit) => Error::new(Kind::Unreachable, "rate_limited", message)
            .hint("Meta is throttling this app or profile; wait and try again later"),
        (MetaError::Api { endpoint, .. }, _) if c.refusal.is_some() => {
            refusal_error(endpoint, c.refusal, message)
        }
        (_, FailureClass::Auth) => {
            let code = c.token_death.map(TokenDeath::finding_code).unwrap_or("meta_permission");
            let what = c.token_death.map(|d| format!("{}: ", d.describe())).unwrap_or_default();
            Error::action(code, format!("{what}{message}"))
                .hint("run `sq diagnose` to see which profile needs `sq reauth`")
        }
        (MetaError::Http { .. }, FailureClass::Unknown) => {
            Error::failure("meta_unexpected", format!("Meta answered something unexpected: {message}"))
                .hint("check SQ_META_API_BASE if it is set; otherwise try again later")
        }
        (_, FailureClass::Media | FailureClass::Content) => Error::failure("meta_rejected", message),
        (_, FailureClass::Unknown) => Error::failure("meta_error", message),
    }
}

/// The network whose host answered: `graph.instagram.com/…` → instagram.
fn network_of_endpoint(endpoint: &str) -> &'static str {
    if endpoint.contains("instagram.com") {
        "instagram"
    } else if endpoint.contains("threads.net") || endpoint.contains("threads.com") {
        "threads"
    } else {
        "facebook"
    }
}

/// A refusal that a new login can't fix: the app's secret, a permission or an access level.
/// The fix is named, and it is never `sq reauth` alone.
fn refusal_error(endpoint: &str, refusal: Option<Refusal>, message: String) -> Error {
    let network = network_of_endpoint(endpoint);
    match refusal {
        Some(Refusal::AppSecret) => Error::action(
            "app_secret_invalid",
            format!("Meta refuses the {network} app secret sq holds (the token was not checked): {message}"),
        )
        .hint(format!(
            "copy the app secret from the Meta dashboard (App settings → Basic) and run: sq config set {network}.app_secret --stdin"
        )),
        Some(Refusal::AccessLevel) => Error::action("app_access_level", message).hint(
            "the app has only Standard Access for this, or the account has no role on the app: add the \
             account as a tester in the app dashboard (App roles), or get Advanced Access through App Review",
        ),
        Some(Refusal::AdsPermission) => Error::action("ads_permission_missing", message).hint(
            "the Page is reached through a Business Manager role: Instagram publishing also needs \
             ads_management or ads_read; run sq reauth with --scope ads_read (the app needs that \
             permission approved in App Review)",
        ),
        Some(Refusal::Permission) | None => Error::action("permission_denied", message).hint(
            "the login lacks a permission this call needs (Meta's message names it); if the app \
             has it only with Standard Access, it needs App Review; run `sq diagnose` for the fix",
        ),
    }
}

/// The user's error for a failed call made with the app token (`debug_token`): there a
/// signature error means the app secret is wrong, not the token being inspected.
pub fn app_token_error(e: MetaError) -> Error {
    if let MetaError::Api { endpoint, error } = &e {
        let c = error.classification_with(true);
        if c.refusal == Some(Refusal::AppSecret) {
            return refusal_error(endpoint, c.refusal, e.to_string()).cause(graph_detail(error));
        }
    }
    Error::from(e)
}

// ---------------------------------------------------------------------------------------------
// The OAuth building blocks

/// Exit codes, and why:
/// - a bad redirect URI or a busy port is something to fix in the invocation or the app
///   settings before anything can happen: usage (2);
/// - declining is not a fault but leaves the profile unauthorized, waiting for a person to
///   run the flow again and keep everything on: action required (4), like any other
///   "needs re-authorization" state;
/// - a timeout, a Meta-side refusal and local failures: failure (1);
/// - Ctrl-C: interrupted (130).
fn auth_error(e: AuthError) -> Error {
    let message = sanitize(&e.to_string());
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
        AuthError::PortBusy { port, .. } => {
            Error::new(Kind::Usage, "redirect_port_busy", message).hint(format!(
                "stop the program using port {port} (see `lsof -i :{port}` or `ss -ltnp`), \
                     or choose another port with --redirect-uri and register that exact URI in the app"
            ))
        }
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
            .hint(
                "nothing was changed; run the command again and keep every permission and Page switched on",
            ),
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

// ---------------------------------------------------------------------------------------------
// The credential store

/// Mentioned by every "unavailable" error: the choice that needs no keyring.
const FILE_CHOICE: &str = "or keep secrets in an encrypted file instead: export SQ_CREDENTIAL_STORE=file (or `sq config set credential_store file`); the passphrase comes from SQ_STORE_PASSPHRASE or a prompt";

fn store_error(e: StoreError) -> Error {
    let message = e.to_string();
    match &e {
            StoreError::Unavailable { reason, .. } => {
                let first = match reason {
                    Unavailable::NoSession { .. } => {
                        "start sq inside a desktop session (or `dbus-run-session`) so it has a D-Bus session bus"
                    }
                    Unavailable::NoSecretService => {
                        "install and start a Secret Service provider, e.g. gnome-keyring or KeePassXC (with its Secret Service integration on)"
                    }
                    Unavailable::Locked => {
                        "unlock the keyring (e.g. log in to the desktop, or open Seahorse / KeePassXC and unlock it), then run the command again"
                    }
                    Unavailable::NoCollection => {
                        "create a default keyring, e.g. in Seahorse (\"Passwords and Keys\": + → Password keyring, then \"Set as default\") or KeePassXC, and unlock it"
                    }
                    Unavailable::Timeout(_) => {
                        "the keyring may be waiting for an unlock prompt: unlock it, or restart the Secret Service provider, then run the command again"
                    }
                    Unavailable::Platform(_) => "check that the OS keyring works and is unlocked",
                };
                Error::failure("store_unavailable", message).hint(first).hint(FILE_CHOICE)
            }
            StoreError::LockTimeout { .. } => Error::failure("store_unavailable", message)
                .hint("wait for the other sq command to finish, then run this one again"),
            StoreError::WrongPassphrase { .. } => Error::failure("store_passphrase", message)
                .hint("check SQ_STORE_PASSPHRASE (or unset it to be asked): it must be the passphrase the file was written with")
                .hint("nothing was read or changed: the stored tokens and the queue are as they were"),
            StoreError::Damaged { path, .. } | StoreError::Format { path, .. } => {
                Error::failure("store_damaged", message)
                    .hint("if the passphrase is right, restore the file from a backup; sq never overwrites a file it can't read")
                    .hint(format!(
                        "to start over, move {} away and connect the profiles again (sq reauth ...)",
                        path.display()
                    ))
            }
            StoreError::NewerFormat { .. } => {
                Error::failure("store_damaged", message).hint("upgrade sq to read this credential file")
            }
            StoreError::Io { source, .. } if source.raw_os_error() == Some(28) => Error::failure("io", message)
                .hint("the disk is full: free some space and run the command again; nothing was changed"),
            StoreError::Io { .. } => Error::failure("io", message),
            StoreError::BadEntry { account, .. } | StoreError::Ambiguous { account, .. } => {
                Error::failure("store_entry", message).hint(format!(
                    "remove the entry for {account} (e.g. with Seahorse, or `secret-tool clear service {SERVICE} account {account}`) and store it again"
                ))
            }
            StoreError::Backend { .. } => Error::failure("store_unavailable", message).hint(FILE_CHOICE),
        }
}

/// The `store_unavailable` error (message + hints) to show as the finding, if it failed.
pub fn probe_error(probe: &Probe) -> Option<Error> {
    match probe.failure.as_ref()? {
        ProbeFailure::Error { step, error } => {
            let mut e = Error::from(clone_for_report(error));
            e.code = "store_unavailable";
            e.message = format!("{} (while {} a test entry)", e.message, step.name());
            Some(e)
        }
        ProbeFailure::Mismatch => Some(
            Error::failure(
                "store_unavailable",
                format!("the credential store ({}) returned a different value than sq wrote", probe.backend),
            )
            .hint(FILE_CHOICE),
        ),
    }
}

/// `StoreError` holds an `io::Error`, which isn't `Clone`; the report only needs its text.
fn clone_for_report(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable { backend, reason } => {
            StoreError::Unavailable { backend: backend.clone(), reason: reason.clone() }
        }
        StoreError::WrongPassphrase { path } => StoreError::WrongPassphrase { path: path.clone() },
        StoreError::Damaged { path, detail } => StoreError::Damaged { path: path.clone(), detail },
        StoreError::Format { path, detail } => {
            StoreError::Format { path: path.clone(), detail: detail.clone() }
        }
        StoreError::NewerFormat { path, found, supported } => {
            StoreError::NewerFormat { path: path.clone(), found: *found, supported: *supported }
        }
        StoreError::LockTimeout { path, waited } => {
            StoreError::LockTimeout { path: path.clone(), waited: *waited }
        }
        StoreError::Io { what, path, source } => StoreError::Io {
            what,
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StoreError::BadEntry { backend, account } => {
            StoreError::BadEntry { backend: backend.clone(), account: account.clone() }
        }
        StoreError::Ambiguous { backend, account } => {
            StoreError::Ambiguous { backend: backend.clone(), account: account.clone() }
        }
        StoreError::Backend { backend, detail } => {
            StoreError::Backend { backend: backend.clone(), detail: detail.clone() }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The database

fn db_error(e: DbError) -> Error {
    let message = e.to_string();
    match e {
            DbError::UnknownProfile { .. } => Error::usage(message)
                .hint("run `sq profiles` to list connected profiles and their references (facebook:<id>, instagram:<id>, threads:<id>)"),
            DbError::AmbiguousProfile { candidates, .. } => {
                let refs: Vec<&str> =
                    candidates.iter().map(|c| c.split_once(' ').map_or(c.as_str(), |(r, _)| r)).collect();
                Error::usage(message).hint(format!("name one by its reference: {}", refs.join(", ")))
            }
            DbError::TooNew { .. } => Error::failure("db_too_new", message)
                .hint("upgrade sq; this version leaves the database untouched"),
            DbError::Busy { .. } => Error::failure("db_busy", message)
                .hint("wait for the other sq command (e.g. `sq publish --watch`) to finish its write, then run this one again"),
            DbError::Corrupt { path, .. } => {
                let p = path.display();
                Error::failure("db_corrupt", message)
                    .hint(format!("sq changed nothing; keep a copy of the damaged file first: cp {p} {p}.damaged"))
                    .hint(format!("then restore {p} from a backup (with sq stopped), or try `sqlite3 {p}.damaged .recover | sqlite3 {p}.recovered` and move the result into place"))
                    .hint(format!("or move {p} away and connect the profiles again with `sq reauth`: the tokens stay in the credential store, but the queue and its history are in that file"))
            }
            DbError::Dir { source, .. } => Error::io("creating the data directory", source),
            DbError::Create { source, .. } => Error::io("creating the database", source),
            DbError::Sqlite { source: rusqlite::Error::SqliteFailure(f, _), .. } if f.code == ErrorCode::DiskFull => {
                Error::failure("io", message)
                    .hint("the disk is full: free some space and run the command again; nothing was changed")
            }
            DbError::Sqlite { .. } => Error::failure("db", message),
        }
}

// ---------------------------------------------------------------------------------------------
// What lay under it (`caused by:` under `-v`)

impl From<MetaError> for Error {
    fn from(e: MetaError) -> Error {
        let mut causes = chain(&e);
        if let Some(api) = e.api() {
            causes.push(graph_detail(api));
        }
        meta_error(e).caused_by(causes)
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Error {
        let causes = chain(&e);
        auth_error(e).caused_by(causes)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        let causes = chain(&e);
        store_error(e).caused_by(causes)
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Error {
        let causes = chain(&e);
        db_error(e).caused_by(causes)
    }
}

/// The `source()` chain under `e`, outermost first, each made safe to print. The modules' errors
/// hold no token (their own rule), so neither does this.
fn chain(e: &dyn std::error::Error) -> Vec<String> {
    std::iter::successors(e.source(), |c| c.source()).map(|c| sanitize(&c.to_string())).collect()
}

/// Meta's own words about an error, for a support request or a search: the code, subcode,
/// type, HTTP status and trace id (https://developers.facebook.com/docs/graph-api/guides/error-handling).
fn graph_detail(api: &ApiError) -> String {
    let mut parts = vec![format!("HTTP {}", api.http_status)];
    if let Some(c) = api.code {
        parts.push(format!("code {c}"));
    }
    if let Some(s) = api.subcode {
        parts.push(format!("subcode {s}"));
    }
    if let Some(t) = &api.error_type {
        parts.push(format!("type {t}"));
    }
    if let Some(id) = &api.fbtrace_id {
        parts.push(format!("fbtrace_id {id}"));
    }
    sanitize(&format!("Meta's error: {}", parts.join(", ")))
}

impl Error {
    fn caused_by(self, causes: Vec<String>) -> Error {
        causes.into_iter().fold(self, Error::cause)
    }
}

impl From<crate::meta::hosts::EndpointError> for Error {
    fn from(e: crate::meta::hosts::EndpointError) -> Error {
        Error::usage(e.to_string())
            .hint("unset the variable to use Meta's real hosts and the default version")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn exit_kinds() {
        let api = |code, sub| MetaError::Api {
            endpoint: "graph.facebook.com/me".into(),
            error: Box::new(ApiError {
                http_status: 400,
                code: Some(code),
                subcode: sub,
                ..ApiError::default()
            }),
        };
        let rows: Vec<(MetaError, Kind, &str)> = vec![
            (
                MetaError::Unreachable { host: "h".into(), reason: "timed out".into(), timed_out: true },
                Kind::Unreachable,
                "meta_unreachable",
            ),
            (api(2, None), Kind::Unreachable, "meta_unreachable"),
            (api(4, None), Kind::Unreachable, "rate_limited"),
            (api(190, Some(460)), Kind::ActionRequired, "token_password_changed"),
            (api(190, Some(492)), Kind::ActionRequired, "page_role_lost"),
            (api(10, None), Kind::ActionRequired, "permission_denied"),
            (api(506, None), Kind::Failure, "meta_rejected"),
            (
                MetaError::Unexpected { endpoint: "e".into(), status: 200, detail: "d".into() },
                Kind::Failure,
                "meta_unexpected",
            ),
            (
                MetaError::Http { host: "h".into(), status: 502, snippet: "x".into() },
                Kind::Unreachable,
                "meta_unreachable",
            ),
            (
                MetaError::Http { host: "h".into(), status: 404, snippet: "x".into() },
                Kind::Failure,
                "meta_unexpected",
            ),
            (
                MetaError::WrongThreadsAppId { error: Box::default() },
                Kind::ActionRequired,
                "threads_app_id_wrong",
            ),
        ];
        for (e, kind, code) in rows {
            let shown = e.to_string();
            let err: Error = e.into();
            assert_eq!((err.kind, err.code), (kind, code), "{shown}");
        }
        let err: Error =
            MetaError::Unexpected { endpoint: "e".into(), status: 200, detail: "d".into() }.into();
        assert!(err.message.contains("Meta answered something unexpected"));
    }

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

    #[test]
    fn causes_are_the_source_chain_and_metas_detail_once() {
        let api = MetaError::Api {
            endpoint: "graph.facebook.com/debug_token".into(),
            error: Box::new(ApiError {
                http_status: 400,
                code: Some(190),
                subcode: Some(460),
                error_type: Some("OAuthException".into()),
                message: "Error validating access token".into(),
                fbtrace_id: Some("AbC\x1b[2J".into()),
                ..ApiError::default()
            }),
        };
        let err: Error = api.into();
        assert_eq!(
            err.causes,
            ["Meta's error: HTTP 400, code 190, subcode 460, type OAuthException, fbtrace_id AbC\u{fffd}[2J"]
        );

        // An io error under the database: its text is already in the message, so not repeated.
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied");
        let err: Error = DbError::Create { path: "/x/sq.db".into(), source: io }.into();
        assert!(err.message.contains("Permission denied"), "{}", err.message);
        assert!(err.causes.is_empty(), "{:?}", err.causes);

        // SQLite's own error under rusqlite's: the extended code is new information.
        let f = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some("database disk image is malformed".into()),
        );
        let err: Error = DbError::Sqlite { path: "/x/sq.db".into(), source: f }.into();
        assert_eq!(err.code, "db", "{err:?}");
        let shown =
            [err.message.clone()].into_iter().chain(err.causes.clone()).collect::<Vec<_>>().join("\n");
        assert!(shown.contains("malformed"), "{shown}");

        // A refused app secret on debug_token keeps Meta's detail too.
        let refused = MetaError::Api {
            endpoint: "graph.facebook.com/debug_token".into(),
            error: Box::new(ApiError {
                http_status: 400,
                code: Some(1),
                error_type: Some("OAuthException".into()),
                message: "Error validating client secret.".into(),
                ..ApiError::default()
            }),
        };
        let err = app_token_error(refused);
        assert_eq!(err.code, "app_secret_invalid");
        assert_eq!(err.causes, ["Meta's error: HTTP 400, code 1, type OAuthException"]);
    }
}
