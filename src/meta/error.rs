//! Meta's error shapes, parsed once (meta-platform.md §8.1, §5.2, §2.2, §10) into
//! [`MetaError`], and its translation to sq's exit kinds.
//!
//! Nothing here ever holds a token: messages from Meta are sanitized (control characters
//! removed, length capped) and the token that was sent is masked out of them, and
//! [`MetaError`] names a host and path, never a URL with its query.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use crate::model::classify::{Classification, CodeProblem, FailureClass, TokenDeath, classify, refusal};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// The longest piece of Meta-originated text sq repeats (messages, HTML snippets).
const MAX_TEXT: usize = 300;
/// HTML/garbled bodies are cut shorter: enough to recognise "502 Bad Gateway".
const MAX_SNIPPET: usize = 120;

/// A Graph error from any of Meta's shapes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiError {
    /// HTTP status of the response (or of the batch item).
    pub http_status: u16,
    pub code: Option<i64>,
    /// `error_subcode` (Graph) or `subcode` (`debug_token`, §2.2).
    pub subcode: Option<i64>,
    /// `type` (`OAuthException`, `IGApiException`, `THApiException`, ...) or `error_type` (§5.2).
    pub error_type: Option<String>,
    pub message: String,
    pub user_title: Option<String>,
    pub user_msg: Option<String>,
    pub is_transient: Option<bool>,
    pub fbtrace_id: Option<String>,
    /// The `WWW-Authenticate` header, sanitized (§8.1: `OAuth "Facebook Platform" "invalid_token" …`).
    pub www_authenticate: Option<String>,
}

impl ApiError {
    /// The spec §6 class, from the one classifier. `is_transient: true` (newer Instagram
    /// errors, §8.1) upgrades an otherwise unknown error to transient; a `WWW-Authenticate`
    /// `invalid_token` without a Graph code is a dead token.
    pub fn classification(&self) -> Classification {
        self.classification_with(false)
    }

    /// [`ApiError::classification`] of an answer to a call made with the app token
    /// (`debug_token`), where a signature error is about the app secret, not the token.
    pub fn classification_with(&self, app_token: bool) -> Classification {
        let mut c = classify(self.code, self.subcode, Some(self.http_status));
        if c.class == FailureClass::Unknown && self.is_transient == Some(true) {
            c.class = FailureClass::Transient;
        }
        if self.code.is_none() {
            if let Some(h) = &self.www_authenticate {
                if h.contains("invalid_token") || h.contains("invalid_request") {
                    c = Classification::dead(TokenDeath::Invalid);
                }
            }
        }
        c.with_refusal(refusal(self.code, self.subcode, self.error_type.as_deref(), &self.message, app_token))
    }

    /// `(#190/460) message` style summary for messages and logs.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        match (self.code, self.subcode) {
            (Some(c), Some(sc)) => s.push_str(&format!("(#{c}/{sc}) ")),
            (Some(c), None) => s.push_str(&format!("(#{c}) ")),
            (None, _) => s.push_str(&format!("(HTTP {}) ", self.http_status)),
        }
        // Graph often starts its message with the code itself ("(#200) Requires ..."):
        // don't say it twice.
        let message = match self.code {
            Some(c) => self.message.strip_prefix(&format!("(#{c}) ")).unwrap_or(&self.message),
            None => &self.message,
        };
        s.push_str(if message.is_empty() { "no message" } else { message });
        s
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum MetaError {
    /// No answer: DNS, connect, TLS, reset, timeout. The token's health is unknown.
    #[error("could not reach {host}: {reason}")]
    Unreachable { host: String, reason: String, timed_out: bool },

    /// Meta answered with an error in one of its JSON shapes.
    #[error("Meta refused the request to {endpoint}: {error}")]
    Api { endpoint: String, error: Box<ApiError> },

    /// Meta answered with a non-JSON error page (an HTML 502, an empty 503...).
    #[error("{host} answered HTTP {status} without a Graph error: {snippet:?}")]
    Http { host: String, status: u16, snippet: String },

    /// A success status, but not the shape sq expects (garbled JSON, missing fields).
    #[error("Meta answered something unexpected from {endpoint} (HTTP {status}): {detail}")]
    Unexpected { endpoint: String, status: u16, detail: String },

    /// Throttled for longer than sq is willing to wait; carries Meta's estimate if it gave one.
    #[error("Meta is throttling requests to {endpoint}{}: {error}", regain_text(*.regain_after))]
    RateLimited { endpoint: String, error: Box<ApiError>, regain_after: Option<Duration> },

    /// A batch item Meta did not finish (`null`, §10) even after the bounded retries.
    #[error("Meta did not finish a batched request in time")]
    BatchItemTimedOut,

    /// A code exchange refused for a known reason (§1.3: 36007/36008/36009; §5.2).
    #[error("{}: {error}", .problem.describe())]
    CodeExchange { problem: CodeProblem, error: Box<ApiError> },

    /// Threads OAuth was given the Facebook app id (error 4476002, §6.1).
    #[error("Threads refused the app id (error 4476002): it needs the Threads app id, not the Facebook one")]
    WrongThreadsAppId { error: Box<ApiError> },

    /// A `paging.next` URL outside the configured Meta host: never followed (token safety).
    #[error("refused to follow a paging link to {host}, which is not the configured Meta host")]
    ForeignUrl { host: String },

    /// More result pages than sq follows for one listing.
    #[error("stopped after {pages} pages of results from {endpoint}; Meta kept sending more")]
    TooManyPages { endpoint: String, pages: usize },
}

fn regain_text(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!(" for about {} min", d.as_secs().div_ceil(60).max(1)),
        None => String::new(),
    }
}

impl MetaError {
    pub fn classification(&self) -> Classification {
        let of = Classification::of;
        match self {
            MetaError::Unreachable { .. } | MetaError::BatchItemTimedOut => of(FailureClass::Transient),
            MetaError::Api { error, .. } => error.classification(),
            MetaError::Http { status, .. } => classify(None, None, Some(*status)),
            MetaError::RateLimited { .. } => of(FailureClass::RateLimit),
            MetaError::CodeExchange { .. } | MetaError::WrongThreadsAppId { .. } => of(FailureClass::Auth),
            MetaError::Unexpected { .. } | MetaError::ForeignUrl { .. } | MetaError::TooManyPages { .. } => {
                of(FailureClass::Unknown)
            }
        }
    }

    /// Meta answered the app token as if no token were sent: a Native/Desktop app
    /// (https://developers.facebook.com/docs/facebook-login/security/).
    pub fn app_token_ignored(&self) -> bool {
        crate::model::classify::is_tokenless(self.api().and_then(|a| a.code))
    }

    pub fn class(&self) -> FailureClass {
        self.classification().class
    }

    pub fn token_death(&self) -> Option<TokenDeath> {
        self.classification().token_death
    }

    /// The Graph error, when Meta sent one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            MetaError::Api { error, .. }
            | MetaError::RateLimited { error, .. }
            | MetaError::CodeExchange { error, .. }
            | MetaError::WrongThreadsAppId { error } => Some(error),
            _ => None,
        }
    }

    /// `(code, subcode)` for the post's `last_error` (spec §2).
    pub fn code_subcode(&self) -> (Option<i64>, Option<i64>) {
        self.api().map(|e| (e.code, e.subcode)).unwrap_or((None, None))
    }

    /// True when the request never reached Meta's application (nothing can have been
    /// published): connect failures only. Timeouts may have been processed.
    pub(crate) fn nothing_sent(&self) -> bool {
        matches!(self, MetaError::Unreachable { timed_out: false, reason, .. } if reason.starts_with(CONNECT_PREFIX))
    }
}

pub(crate) const CONNECT_PREFIX: &str = "connection failed";

// ---------------------------------------------------------------------------------------------
// Parsing

/// Turns a response (status, body, `WWW-Authenticate`) into JSON or a [`MetaError`].
/// `endpoint` is `host/path` without query; `secret` is the token that was sent, masked out of
/// anything Meta echoes back.
pub(crate) fn interpret(
    endpoint: &str,
    status: u16,
    body: &[u8],
    www_authenticate: Option<&str>,
    secret: Option<&str>,
) -> Result<Value, MetaError> {
    let host = endpoint.split('/').next().unwrap_or(endpoint).to_string();
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(v) = &parsed {
        if let Some(mut err) = parse_error_value(v, status) {
            err.www_authenticate = www_authenticate.map(|h| sanitize(h, MAX_TEXT, secret));
            redact_error(&mut err, secret);
            return Err(MetaError::Api { endpoint: endpoint.to_string(), error: Box::new(err) });
        }
    }
    let ok = (200..300).contains(&status);
    match parsed {
        Some(v) if ok => Ok(v),
        Some(_) => {
            // JSON but no recognisable error: an error status all the same.
            Err(MetaError::Api {
                endpoint: endpoint.to_string(),
                error: Box::new(ApiError {
                    http_status: status,
                    message: sanitize(&String::from_utf8_lossy(body), MAX_SNIPPET, secret),
                    www_authenticate: www_authenticate.map(|h| sanitize(h, MAX_TEXT, secret)),
                    ..ApiError::default()
                }),
            })
        }
        None if ok => Err(MetaError::Unexpected {
            endpoint: endpoint.to_string(),
            status,
            detail: if body.iter().all(u8::is_ascii_whitespace) {
                "an empty body".into()
            } else {
                format!("not JSON: {:?}", snippet(body, secret))
            },
        }),
        None => {
            if let Some(h) = www_authenticate {
                return Err(MetaError::Api {
                    endpoint: endpoint.to_string(),
                    error: Box::new(ApiError {
                        http_status: status,
                        message: www_authenticate_message(h)
                            .map(|m| sanitize(&m, MAX_TEXT, secret))
                            .unwrap_or_default(),
                        www_authenticate: Some(sanitize(h, MAX_TEXT, secret)),
                        ..ApiError::default()
                    }),
                });
            }
            Err(MetaError::Http { host, status, snippet: snippet(body, secret) })
        }
    }
}

/// Any of Meta's error shapes inside a JSON value, or `None` if it is not an error.
/// - Graph (§8.1): `{"error": {message, type, code, error_subcode, ...}}`
/// - Instagram Login (§5.2): `{"error_type", "code", "error_message"}`
/// - `debug_token` inner (§2.2): `{code, subcode, message}` — see [`parse_inner_error`].
pub(crate) fn parse_error_value(v: &Value, status: u16) -> Option<ApiError> {
    let obj = v.as_object()?;
    if let Some(e) = obj.get("error") {
        return match e {
            Value::Object(_) => Some(parse_inner_error(e, status)),
            // Some OAuth endpoints answer `{"error": "invalid_request", "error_description": …}`.
            Value::String(s) => Some(ApiError {
                http_status: status,
                error_type: Some(sanitize(s, 80, None)),
                message: obj
                    .get("error_description")
                    .and_then(Value::as_str)
                    .map(|m| sanitize(m, MAX_TEXT, None))
                    .unwrap_or_default(),
                ..ApiError::default()
            }),
            _ => None,
        };
    }
    // `error_message` alone is not enough: a Threads container status is
    // `{"status":"ERROR","error_message":"FAILED_DOWNLOADING_VIDEO"}` (§7.3), a success.
    if obj.contains_key("error_type") || (obj.contains_key("error_message") && obj.contains_key("code")) {
        return Some(ApiError {
            http_status: status,
            code: obj.get("code").and_then(int),
            error_type: obj.get("error_type").and_then(text),
            message: obj.get("error_message").and_then(text).unwrap_or_default(),
            ..ApiError::default()
        });
    }
    None
}

/// The object inside `"error"`: Graph's fields, or `debug_token`'s `{code, subcode, message}`.
pub(crate) fn parse_inner_error(e: &Value, status: u16) -> ApiError {
    let get = |k: &str| e.get(k);
    ApiError {
        http_status: status,
        code: get("code").and_then(int),
        subcode: get("error_subcode").and_then(int).or_else(|| get("subcode").and_then(int)),
        error_type: get("type").and_then(text),
        message: get("message").and_then(text).unwrap_or_default(),
        user_title: get("error_user_title").and_then(text),
        user_msg: get("error_user_msg").and_then(text),
        is_transient: get("is_transient").and_then(|v| match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }),
        fbtrace_id: get("fbtrace_id").and_then(text),
        www_authenticate: None,
    }
}

/// Integers as Meta sends them: numbers, or numeric strings (`"190"`).
pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| sanitize(s, MAX_TEXT, None))
}

fn redact_error(e: &mut ApiError, secret: Option<&str>) {
    let Some(secret) = secret.filter(|s| s.len() >= 8) else { return };
    let mask = crate::secret::mask(secret);
    e.message = e.message.replace(secret, &mask);
    if let Some(m) = &mut e.user_msg {
        *m = m.replace(secret, &mask);
    }
    if let Some(m) = &mut e.user_title {
        *m = m.replace(secret, &mask);
    }
}

/// The quoted message of `OAuth "Facebook Platform" "invalid_token" "<message>"`.
fn www_authenticate_message(h: &str) -> Option<String> {
    let parts: Vec<&str> = h.split('"').collect();
    // parts: [OAuth , Facebook Platform, " ", invalid_token, " ", message, ""]
    let quoted: Vec<&str> = parts.iter().skip(1).step_by(2).copied().collect();
    quoted.get(2).or(quoted.get(1)).map(|s| s.to_string())
}

/// A short, printable excerpt of a non-JSON body: tags dropped, whitespace collapsed.
pub(crate) fn snippet(body: &[u8], secret: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    let s = sanitize(&out, MAX_SNIPPET, secret);
    if s.is_empty() { "(empty body)".to_string() } else { s }
}

/// Meta-originated text made safe for a terminal (spec §4): control and escape characters
/// dropped, whitespace collapsed, length capped, the sent token masked.
pub fn sanitize(s: &str, max_chars: usize, secret: Option<&str>) -> String {
    let s = match secret.filter(|t| t.len() >= 8) {
        Some(t) => s.replace(t, &crate::secret::mask(t)),
        None => s.to_string(),
    };
    let mut out = String::with_capacity(s.len().min(max_chars));
    let mut last_space = true;
    let mut n = 0;
    for ch in s.chars() {
        let ch = if ch.is_whitespace() { ' ' } else { ch };
        if ch.is_control() || matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            continue;
        }
        if ch == ' ' && last_space {
            continue;
        }
        last_space = ch == ' ';
        if n == max_chars {
            out.push('…');
            break;
        }
        out.push(ch);
        n += 1;
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err_of(status: u16, body: &str, www: Option<&str>) -> MetaError {
        match interpret(
            "graph.facebook.com/v27.0/me",
            status,
            body.as_bytes(),
            www,
            Some("EAABsecrettoken1234"),
        ) {
            Err(e) => e,
            Ok(v) => panic!("expected an error, got {v}"),
        }
    }

    #[test]
    fn graph_error_shape_8_1() {
        let body = r#"{"error":{"message":"Error validating access token: The session has been invalidated","type":"OAuthException","code":190,"error_subcode":460,"error_user_title":"Session","error_user_msg":"Log in again","is_transient":false,"fbtrace_id":"EJplcsCHuLu"}}"#;
        let e = err_of(400, body, Some(r#"OAuth "Facebook Platform" "invalid_token" "Error validating""#));
        let api = e.api().expect("api error");
        assert_eq!((api.code, api.subcode), (Some(190), Some(460)));
        assert_eq!(api.error_type.as_deref(), Some("OAuthException"));
        assert_eq!(api.user_title.as_deref(), Some("Session"));
        assert_eq!(api.user_msg.as_deref(), Some("Log in again"));
        assert_eq!(api.is_transient, Some(false));
        assert_eq!(api.fbtrace_id.as_deref(), Some("EJplcsCHuLu"));
        assert!(api.www_authenticate.as_deref().unwrap_or("").contains("invalid_token"));
        assert_eq!(e.token_death(), Some(TokenDeath::PasswordChanged));
        assert_eq!(e.class(), FailureClass::Auth);
    }

    #[test]
    fn error_shapes_table() {
        // (status, body, code, subcode, class)
        type Row<'a> = (u16, &'a str, Option<i64>, Option<i64>, FailureClass);
        let rows: &[Row] = &[
            // §5.2 Instagram Login shape
            (
                400,
                r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#,
                Some(400),
                None,
                FailureClass::Unknown,
            ),
            // string codes
            (
                400,
                r#"{"error":{"message":"x","code":"190","error_subcode":"463"}}"#,
                Some(190),
                Some(463),
                FailureClass::Auth,
            ),
            // missing subcode
            (
                400,
                r#"{"error":{"message":"(#4) Application request limit reached","code":4}}"#,
                Some(4),
                None,
                FailureClass::RateLimit,
            ),
            // §6.5 Threads
            (
                400,
                r#"{"error":{"message":"The requested resource does not exist","type":"THApiException","code":24}}"#,
                Some(24),
                None,
                FailureClass::Transient,
            ),
            // is_transient upgrades an unknown code
            (
                400,
                r#"{"error":{"message":"x","code":777777,"is_transient":true}}"#,
                Some(777777),
                None,
                FailureClass::Transient,
            ),
            // debug_token-style inner `subcode`
            (
                400,
                r#"{"error":{"code":190,"subcode":458,"message":"not authorized"}}"#,
                Some(190),
                Some(458),
                FailureClass::Auth,
            ),
            // error object with garbage fields
            (
                500,
                r#"{"error":{"code":null,"error_subcode":[1],"message":5}}"#,
                None,
                None,
                FailureClass::Transient,
            ),
            // JSON but no error object on an error status
            (503, r#"{"status":"down"}"#, None, None, FailureClass::Transient),
            (400, r#"[]"#, None, None, FailureClass::Unknown),
            // error in a 200 (tolerated)
            (200, r#"{"error":{"message":"x","code":2}}"#, Some(2), None, FailureClass::Transient),
            // OAuth string error
            (
                400,
                r#"{"error":"invalid_request","error_description":"bad"}"#,
                None,
                None,
                FailureClass::Unknown,
            ),
        ];
        for &(status, body, code, sub, class) in rows {
            let e = err_of(status, body, None);
            assert_eq!(e.code_subcode(), (code, sub), "{body}");
            assert_eq!(e.class(), class, "{body}");
        }
    }

    #[test]
    fn html_and_empty_bodies() {
        let html = "<html><head><title>502 Bad Gateway</title></head><body>\n<h1>Bad Gateway</h1>\x1b[31m</body></html>";
        let e = err_of(502, html, None);
        assert_eq!(e.class(), FailureClass::Transient);
        let MetaError::Http { status, snippet, .. } = &e else { panic!("{e:?}") };
        assert_eq!(*status, 502);
        assert!(snippet.contains("502 Bad Gateway") && !snippet.contains('<') && !snippet.contains('\x1b'));
        assert!(snippet.chars().count() <= MAX_SNIPPET + 1);

        assert_eq!(err_of(503, "", None).class(), FailureClass::Transient);
        assert_eq!(err_of(404, "<h1>nope</h1>", None).class(), FailureClass::Unknown);
        assert!(matches!(err_of(200, "<html>", None), MetaError::Unexpected { .. }));
        assert!(matches!(err_of(200, "", None), MetaError::Unexpected { .. }));
        assert!(matches!(err_of(200, "{\"trunc", None), MetaError::Unexpected { .. }));
        let long = "x".repeat(10_000);
        let MetaError::Http { snippet, .. } = err_of(500, &long, None) else { panic!() };
        assert!(snippet.len() < 200);
    }

    #[test]
    fn www_authenticate_only() {
        let e = err_of(
            401,
            "",
            Some(r#"OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token""#),
        );
        assert_eq!(e.token_death(), Some(TokenDeath::Invalid));
        assert_eq!(e.api().map(|a| a.message.as_str()), Some("Invalid OAuth access token"));
    }

    #[test]
    fn token_never_echoed() {
        let body = r#"{"error":{"message":"Malformed access token EAABsecrettoken1234","code":190}}"#;
        let e = err_of(400, body, None);
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("EAABsecrettoken1234"), "{shown}");
        assert!(shown.contains("EAAB…1234"));
        let e = err_of(502, "<p>EAABsecrettoken1234</p>", None);
        assert!(!format!("{e}").contains("secrettoken"));
    }

    #[test]
    fn threads_container_status_is_not_an_error() {
        let body = br#"{"status":"ERROR","error_message":"FAILED_DOWNLOADING_VIDEO","id":"1"}"#;
        let v = interpret("graph.threads.net/v1.0/1", 200, body, None, None).expect("a status, not an error");
        assert_eq!(v["error_message"], "FAILED_DOWNLOADING_VIDEO");
    }

    #[test]
    fn success_passes_through() {
        let v = interpret("h/p", 200, br#"{"data":[]}"#, None, None).expect("ok");
        assert_eq!(v, json!({"data": []}));
        assert_eq!(interpret("h/p", 200, b"true", None, None).expect("ok"), json!(true));
    }

    #[test]
    fn sanitize_strips_controls_and_caps() {
        assert_eq!(sanitize("a\x1b[2Jb\n\n c\u{202e}d", 100, None), "a[2Jb cd");
        assert_eq!(sanitize("abcdef", 3, None), "abc…");
    }
}
