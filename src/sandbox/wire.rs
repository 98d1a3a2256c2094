//! Request/response values the handlers work on, and Meta's error JSON (§8.1).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::world::{json_str, random_alnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    FbWww,
    FbGraph,
    IgWww,
    IgApi,
    IgGraph,
    ThWww,
    ThGraph,
}

impl Host {
    pub fn parse(s: &str) -> Option<Host> {
        Some(match s.to_ascii_lowercase().as_str() {
            "www.facebook.com" | "facebook.com" | "m.facebook.com" => Host::FbWww,
            "graph.facebook.com" => Host::FbGraph,
            "www.instagram.com" | "instagram.com" => Host::IgWww,
            "api.instagram.com" => Host::IgApi,
            "graph.instagram.com" => Host::IgGraph,
            // §6.1: the authorization window lives on both spellings.
            "threads.com" | "www.threads.com" | "threads.net" | "www.threads.net" => Host::ThWww,
            "graph.threads.net" | "graph.threads.com" => Host::ThGraph,
            _ => return None,
        })
    }
}

/// One Graph request, already parsed (also used for the items of a batch).
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub host: Host,
    /// The host as the client spelled it (for `paging.next`).
    pub host_name: String,
    /// The version segment if the path had one (`v27.0`).
    pub version: Option<String>,
    /// Path segments after host and version, percent-decoded.
    pub segs: Vec<String>,
    /// Query and body parameters merged (body wins).
    pub params: HashMap<String, String>,
    /// Query parameters alone, in order (for `paging.next`).
    pub query: Vec<(String, String)>,
    pub token: Option<String>,
    pub token_source: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The `Accept` header names `text/html`: a browser is asking (the consent form).
    pub accepts_html: bool,
}

impl Req {
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }

    pub fn seg(&self, i: usize) -> Option<&str> {
        self.segs.get(i).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: &'static str,
    pub body: String,
}

pub const JSON_CT: &str = "application/json; charset=UTF-8";

impl Resp {
    pub fn json(status: u16, v: &Value) -> Resp {
        Resp { status, headers: Vec::new(), content_type: JSON_CT, body: json_str(v) }
    }

    pub fn ok(v: Value) -> Resp {
        Resp::json(200, &v)
    }

    pub fn html(status: u16, title: &str, text: &str) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            content_type: "text/html; charset=utf-8",
            body: format!(
                "<!DOCTYPE html><html><head><title>{t}</title></head><body><h1>{t}</h1><p>{x}</p></body></html>",
                t = html_escape(title),
                x = html_escape(text)
            ),
        }
    }

    pub fn text(status: u16, text: &str) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            content_type: "text/plain; charset=utf-8",
            body: text.to_string(),
        }
    }

    pub fn redirect(location: String) -> Resp {
        Resp {
            status: 302,
            headers: vec![("Location".to_string(), location)],
            content_type: "text/html; charset=utf-8",
            body: String::new(),
        }
    }
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Which `type` an error carries: OAuth errors are `OAuthException` everywhere; method/object
/// errors take the host's own type (§8.1, §5.5, §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrKind {
    OAuth,
    Method,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub kind: ErrKind,
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
    /// `error_user_title` / `error_user_msg` (boxed: rare, and keeps `Result`s small).
    pub user: Option<Box<(String, String)>>,
    /// `invalid_token` / `invalid_request` → `WWW-Authenticate` (§8.1).
    pub www_auth: Option<&'static str>,
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(kind: ErrKind, code: i64, subcode: Option<i64>, message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            kind,
            code,
            subcode,
            message: message.into(),
            user: None,
            www_auth: None,
            headers: Vec::new(),
        }
    }

    pub fn oauth(code: i64, subcode: Option<i64>, message: impl Into<String>) -> Self {
        ApiError::new(ErrKind::OAuth, code, subcode, message)
    }

    pub fn method(code: i64, subcode: Option<i64>, message: impl Into<String>) -> Self {
        ApiError::new(ErrKind::Method, code, subcode, message)
    }

    /// 190 with its subcode; `WWW-Authenticate: … "invalid_token"`.
    pub fn token(subcode: Option<u32>, message: impl Into<String>) -> Self {
        let mut e = ApiError::oauth(190, subcode.map(i64::from), message);
        e.www_auth = Some("invalid_token");
        e
    }

    /// No token at all: `"invalid_request"` (§8.1).
    pub fn missing_token(me: bool) -> Self {
        let mut e = if me {
            ApiError::oauth(
                2500,
                None,
                "An active access token must be used to query information about the current user.",
            )
        } else {
            ApiError::oauth(104, None, "An access token is required to request this resource.")
        };
        e.www_auth = Some("invalid_request");
        e
    }

    /// `Unsupported get request. Object with ID '…' does not exist…` (100/33, §8.1).
    pub fn no_object(method: &str, id: &str) -> Self {
        ApiError::method(
            100,
            Some(33),
            format!(
                "Unsupported {} request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase(),
                id
            ),
        )
    }

    pub fn missing_param(name: &str) -> Self {
        ApiError::oauth(100, None, format!("(#100) The parameter {name} is required"))
    }

    pub fn user(mut self, title: &str, msg: &str) -> Self {
        self.user = Some(Box::new((title.to_string(), msg.to_string())));
        self
    }

    pub fn type_name(&self, host: Host) -> &'static str {
        match (self.kind, host) {
            (ErrKind::OAuth, _) => "OAuthException",
            (ErrKind::Method, Host::IgGraph) => "IGApiException",
            (ErrKind::Method, Host::ThGraph) => "THApiException",
            (ErrKind::Method, _) => "GraphMethodException",
        }
    }

    pub fn body(&self, host: Host) -> Value {
        let mut e = Map::new();
        e.insert("message".into(), json!(self.message));
        e.insert("type".into(), json!(self.type_name(host)));
        e.insert("code".into(), json!(self.code));
        if let Some(s) = self.subcode {
            e.insert("error_subcode".into(), json!(s));
        }
        if let Some(u) = &self.user {
            e.insert("error_user_title".into(), json!(u.0));
            e.insert("error_user_msg".into(), json!(u.1));
        }
        if host == Host::IgGraph {
            e.insert("is_transient".into(), json!(matches!(self.code, 1 | 2 | -1 | -2)));
        }
        e.insert("fbtrace_id".into(), json!(random_alnum(11)));
        json!({ "error": Value::Object(e) })
    }

    pub fn into_resp(self, host: Host) -> Resp {
        let mut r = Resp::json(self.status, &self.body(host));
        if let Some(kind) = self.www_auth {
            let msg = self.message.replace('"', "'");
            r.headers.push((
                "WWW-Authenticate".to_string(),
                format!("OAuth \"Facebook Platform\" \"{kind}\" \"{msg}\""),
            ));
        }
        r.headers.extend(self.headers);
        r
    }
}

pub type ApiResult = Result<Resp, ApiError>;

/// Parse a Graph `fields` list, nested selections included: `a,b{c,d},e`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub sub: Vec<Field>,
}

pub fn parse_fields(s: &str) -> Vec<Field> {
    fn parse(chars: &[char], pos: &mut usize) -> Vec<Field> {
        let mut out = Vec::new();
        let mut name = String::new();
        while *pos < chars.len() {
            let c = chars[*pos];
            *pos += 1;
            match c {
                ',' => {
                    if !name.trim().is_empty() {
                        out.push(Field { name: name.trim().to_string(), sub: Vec::new() });
                    }
                    name.clear();
                }
                '{' => {
                    let sub = parse(chars, pos);
                    out.push(Field { name: name.trim().to_string(), sub });
                    name.clear();
                    // Skip to the separator after the closing brace.
                    while *pos < chars.len() && chars[*pos] != ',' && chars[*pos] != '}' {
                        *pos += 1;
                    }
                    if *pos < chars.len() && chars[*pos] == ',' {
                        *pos += 1;
                    }
                }
                '}' => break,
                _ => name.push(c),
            }
        }
        if !name.trim().is_empty() {
            out.push(Field { name: name.trim().to_string(), sub: Vec::new() });
        }
        out
    }
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    parse(&chars, &mut pos).into_iter().filter(|f| !f.name.is_empty()).collect()
}

/// The fields asked for, or `default` when `fields` is absent.
pub fn fields_or(req: &Req, default: &str) -> Vec<Field> {
    parse_fields(req.param("fields").unwrap_or(default))
}

pub fn has_field(fields: &[Field], name: &str) -> bool {
    fields.iter().any(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields() {
        let f = parse_fields("name,instagram_business_account{id,username},tasks");
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["name", "instagram_business_account", "tasks"]);
        assert_eq!(f[1].sub.len(), 2);
        assert!(parse_fields("a{b{c}},d{").len() == 2);
    }
}
