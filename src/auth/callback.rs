//! Parsing what comes back to the redirect URI: a request target seen by the listener
//! (`/callback?code=…&state=…`) or a whole redirect URL pasted by the user.
//!
//! Shapes (meta-platform.md): Facebook `?code=AQ…&state=…#_=_` and
//! `?error=access_denied&error_code=200&error_description=Permissions+error&error_reason=user_denied&state=…#_=_`
//! (§1.2); Instagram `?code=AQ…&state=…#_` and a decline without `state` (§5.1); Threads
//! `?code=…#_` (§6.2). Unknown parameters are ignored.
//!
//! State policy: a `code` or an `error` is accepted only with the state sq sent (or with no
//! state at all when sq sent none, §1.2). An error without the state would let any web page end
//! a sign-in that is under way (an image tag pointing at `…/callback?error=access_denied` is
//! enough), so it is refused like a code without one, and the wait goes on. Instagram documents
//! a decline without `state` (§5.1); such a decline leaves sq waiting, and the page it gets says
//! to press Ctrl-C in the terminal to stop.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::pkce::State;
use super::redirect::RedirectUri;
use crate::secret::AuthCode;

/// What one callback (or paste) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The authorization code, with the state verified.
    Code { code: AuthCode },
    /// `error=access_denied`: the user declined.
    Denied { reason: Option<String>, description: Option<String> },
    /// Any other `error`.
    OtherError { error: String, reason: Option<String>, description: Option<String>, code: Option<String> },
    /// A state that is not the one sq sent: a stale tab, another run, or a forgery.
    WrongState,
    /// A code without state although sq sent one.
    MissingState,
    /// Not the callback path (a favicon, a typo).
    WrongPath { path: String },
    /// Neither a code nor an error; `why` is safe to show.
    Malformed { why: String },
}

impl Callback {
    /// Whether this ends the wait (the listener keeps waiting on everything else).
    pub fn is_final(&self) -> bool {
        matches!(self, Callback::Code { .. } | Callback::Denied { .. } | Callback::OtherError { .. })
    }
}

/// Parses a request target (`/callback?code=…`) as the listener sees it.
pub fn parse_request_target(target: &str, redirect: &RedirectUri, expected: Option<&State>) -> Callback {
    let (path, query) = split_target(strip_fragment(target));
    if path != redirect.path() {
        return Callback::WrongPath { path: clip(path) };
    }
    parse_query(query, expected)
}

/// Parses what the user pasted: the whole address from the browser's address bar (quotes,
/// surrounding spaces and the `#_=_` / `#_` suffix are tolerated), a request target starting
/// with `/`, or just the query (`?code=…&state=…` or `code=…&state=…`).
pub fn parse_pasted(input: &str, redirect: &RedirectUri, expected: Option<&State>) -> Callback {
    let mut s = input.trim();
    for (open, close) in [('"', '"'), ('\'', '\''), ('<', '>')] {
        if s.len() >= 2 && s.starts_with(open) && s.ends_with(close) {
            s = s[1..s.len() - 1].trim();
        }
    }
    let s = strip_fragment(s);
    if s.is_empty() {
        return Callback::Malformed { why: "nothing was pasted".into() };
    }
    if let Some((_, rest)) = s.split_once("://") {
        // The browser may show another host spelling than the registered one; the path and
        // the state are what identify sq's callback.
        let target = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => &rest[i..],
            Some(i) => return parse_request_target(&format!("/{}", &rest[i..]), redirect, expected),
            None => "/",
        };
        return parse_request_target(target, redirect, expected);
    }
    if s.starts_with('/') {
        return parse_request_target(s, redirect, expected);
    }
    let query = s.strip_prefix('?').unwrap_or(s);
    if query.contains('=') {
        return parse_query(query, expected);
    }
    Callback::Malformed {
        why: "that is not the address the browser ended on (it should contain code=)".into(),
    }
}

fn strip_fragment(s: &str) -> &str {
    s.split_once('#').map_or(s, |(before, _)| before)
}

fn split_target(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn parse_query(query: &str, expected: Option<&State>) -> Callback {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut reason = None;
    let mut description = None;
    let mut error_code = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        // First occurrence wins; a repeated parameter can't override what came first.
        let slot = match k.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_reason" => &mut reason,
            "error_description" => &mut description,
            "error_code" => &mut error_code,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(v.into_owned());
        }
    }
    let state_ok = match (expected, state.as_deref()) {
        (Some(want), Some(got)) => Some(want.matches(got)),
        (Some(_), None) => None,
        // sq sent no state: anything that comes back is accepted (§1.2).
        (None, _) => Some(true),
    };
    if let Some(error) = error.filter(|e| !e.is_empty()) {
        return match state_ok {
            Some(false) => Callback::WrongState,
            None => Callback::MissingState,
            Some(true) if error == "access_denied" => Callback::Denied { reason, description },
            Some(true) => Callback::OtherError { error, reason, description, code: error_code },
        };
    }
    match (code.filter(|c| !c.is_empty()), state_ok) {
        (Some(_), Some(false)) => Callback::WrongState,
        (Some(_), None) => Callback::MissingState,
        (Some(code), Some(true)) => Callback::Code { code: AuthCode::new(code) },
        (None, _) => Callback::Malformed { why: "the address has neither a code nor an error".into() },
    }
}

/// Hides the values of OAuth secrets in a URL or request target before it is printed or logged:
/// `code`, `state`, tokens, secrets and verifiers. Everything else is kept.
pub fn redact_url(s: &str) -> String {
    const SECRET_KEYS: &[&str] = &[
        "code",
        "state",
        "access_token",
        "client_secret",
        "code_verifier",
        "fb_exchange_token",
        "input_token",
        "refresh_token",
        "id_token",
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // Redact in the query and in the fragment (response_type=token puts tokens there).
    while let Some(i) = rest.find(['?', '#', '&']) {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let end = rest.find(['&', '#']).unwrap_or(rest.len());
        let (pair, tail) = rest.split_at(end);
        match pair.split_once('=') {
            Some((k, _)) if SECRET_KEYS.contains(&k) => {
                out.push_str(k);
                out.push_str("=[redacted]");
            }
            _ => out.push_str(pair),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect() -> RedirectUri {
        RedirectUri::parse("http://localhost:8765/callback").unwrap()
    }

    fn code(c: &str) -> Callback {
        Callback::Code { code: AuthCode::new(c) }
    }

    #[test]
    fn request_target_table() {
        let st = State::from_string("S7");
        let r = redirect();
        let cases: Vec<(&str, Option<&State>, Callback)> = vec![
            // Facebook success (§1.2): the browser drops #_=_, but tolerate it anyway.
            ("/callback?code=AQDx1&state=S7", Some(&st), code("AQDx1")),
            ("/callback?code=AQDx1&state=S7#_=_", Some(&st), code("AQDx1")),
            ("/callback?state=S7&code=AQ%2BDx1&granted_scopes=a%2Cb", Some(&st), code("AQ+Dx1")),
            // Facebook decline (§1.2).
            (
                "/callback?error=access_denied&error_code=200&error_description=Permissions+error&error_reason=user_denied&state=S7",
                Some(&st),
                Callback::Denied {
                    reason: Some("user_denied".into()),
                    description: Some("Permissions error".into()),
                },
            ),
            // Instagram documents its decline without state (§5.1): without the state sq sent,
            // it could come from any web page, so it doesn't end the wait.
            (
                "/callback?error=access_denied&error_reason=user_denied&error_description=The+user+denied+your+request",
                Some(&st),
                Callback::MissingState,
            ),
            (
                "/callback?error=access_denied&error_reason=user_denied&error_description=The+user+denied+your+request&state=S7",
                Some(&st),
                Callback::Denied {
                    reason: Some("user_denied".into()),
                    description: Some("The user denied your request".into()),
                },
            ),
            ("/callback?error=access_denied&state=OTHER", Some(&st), Callback::WrongState),
            ("/callback?error=access_denied&state=", Some(&st), Callback::WrongState),
            ("/callback?error=server_error", Some(&st), Callback::MissingState),
            // sq sent no state: an error without one is the answer.
            ("/callback?error=access_denied", None, Callback::Denied { reason: None, description: None }),
            (
                "/callback?error=server_error&error_code=2&error_description=Oops&state=S7",
                Some(&st),
                Callback::OtherError {
                    error: "server_error".into(),
                    reason: None,
                    description: Some("Oops".into()),
                    code: Some("2".into()),
                },
            ),
            ("/callback?code=AQ&state=WRONG", Some(&st), Callback::WrongState),
            ("/callback?code=AQ&state=", Some(&st), Callback::WrongState),
            ("/callback?code=AQ&state=S7x", Some(&st), Callback::WrongState),
            ("/callback?code=AQ", Some(&st), Callback::MissingState),
            // Threads success shape (§6.2) when sq sent no state.
            ("/callback?code=TH1#_", None, code("TH1")),
            ("/callback?code=TH1&state=anything", None, code("TH1")),
            // First occurrence wins.
            ("/callback?code=A&state=S7&state=X&code=B", Some(&st), code("A")),
            (
                "/callback",
                Some(&st),
                Callback::Malformed { why: "the address has neither a code nor an error".into() },
            ),
            (
                "/callback?code=&state=S7",
                Some(&st),
                Callback::Malformed { why: "the address has neither a code nor an error".into() },
            ),
            ("/favicon.ico", Some(&st), Callback::WrongPath { path: "/favicon.ico".into() }),
            ("/callback/?code=AQ&state=S7", Some(&st), Callback::WrongPath { path: "/callback/".into() }),
            ("/CALLBACK?code=AQ&state=S7", Some(&st), Callback::WrongPath { path: "/CALLBACK".into() }),
        ];
        for (target, expected, want) in cases {
            assert_eq!(parse_request_target(target, &r, expected), want, "{target}");
        }
    }

    #[test]
    fn pasted_table() {
        let st = State::from_string("S7");
        let r = redirect();
        let cases: Vec<(&str, Callback)> = vec![
            ("http://localhost:8765/callback?code=AQDx1&state=S7#_=_", code("AQDx1")),
            ("  'http://localhost:8765/callback?code=AQDx1&state=S7#_=_'\n", code("AQDx1")),
            ("\"http://127.0.0.1:8765/callback?code=AQDx1&state=S7#_\"", code("AQDx1")),
            ("<https://localhost:8765/callback?code=AQDx1&state=S7>", code("AQDx1")),
            ("/callback?code=AQDx1&state=S7", code("AQDx1")),
            ("?code=AQDx1&state=S7", code("AQDx1")),
            ("code=AQDx1&state=S7#_", code("AQDx1")),
            ("http://localhost:8765/callback?code=AQDx1&state=BAD", Callback::WrongState),
            (
                "http://localhost:8765/other?code=AQDx1&state=S7",
                Callback::WrongPath { path: "/other".into() },
            ),
            ("http://localhost:8765?code=AQDx1&state=S7", Callback::WrongPath { path: "/".into() }),
            (
                "http://localhost:8765/callback?error=access_denied&error_reason=user_denied&state=S7#_=_",
                Callback::Denied { reason: Some("user_denied".into()), description: None },
            ),
            (
                "hello",
                Callback::Malformed {
                    why: "that is not the address the browser ended on (it should contain code=)".into(),
                },
            ),
            ("''", Callback::Malformed { why: "nothing was pasted".into() }),
        ];
        for (input, want) in cases {
            assert_eq!(parse_pasted(input, &r, Some(&st)), want, "{input:?}");
        }
    }

    #[test]
    fn root_path_redirect() {
        let r = RedirectUri::parse("https://localhost:8443/").unwrap();
        assert_eq!(parse_pasted("https://localhost:8443/?code=X#_", &r, None), code("X"));
        assert_eq!(parse_pasted("https://localhost:8443?code=X#_", &r, None), code("X"));
    }

    #[test]
    fn debug_hides_the_code() {
        let c = parse_request_target("/callback?code=AQsecretcode", &redirect(), None);
        assert!(!format!("{c:?}").contains("AQsecretcode"));
    }

    #[test]
    fn redaction_table() {
        let cases = [
            (
                "http://localhost:8765/callback?code=AQx&state=S7#_=_",
                "http://localhost:8765/callback?code=[redacted]&state=[redacted]#_=_",
            ),
            ("/callback?error=access_denied&state=S7", "/callback?error=access_denied&state=[redacted]"),
            ("https://x/#access_token=EAAB&expires_in=5", "https://x/#access_token=[redacted]&expires_in=5"),
            ("https://x/a?client_secret=s&client_id=1", "https://x/a?client_secret=[redacted]&client_id=1"),
            ("no query", "no query"),
            ("/p?codex=1&code", "/p?codex=1&code"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url(input), want, "{input}");
        }
    }
}
