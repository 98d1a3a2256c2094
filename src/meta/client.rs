//! [`GraphClient`]: the one place sq sends HTTP requests to Meta.
//!
//! - URLs come from [`MetaEndpoints`] (so `SQ_META_API_BASE`/`SQ_GRAPH_VERSION` always apply).
//! - Tokens travel in the `Authorization` header (`Bearer`, or `OAuth` for rupload,
//!   meta-platform.md §7.2), marked sensitive. Two exceptions: a batch, whose tokens are in the
//!   POST form (see `batch.rs`), and the four Instagram Login / Threads long-lived exchange and
//!   refresh calls, where Meta documents `access_token` as a required query parameter (§14;
//!   [`Request::token_in_query`]). Errors name host and path, never a query.
//! - `appsecret_proof` (§1.6) is added on `graph.facebook.com` when the app secret is known.
//! - Retries: transient errors and rate limits only, bounded, exponential backoff with jitter,
//!   honouring `estimated_time_to_regain_access`/`Retry-After` up to a cap (§9). Requests marked
//!   not idempotent (publishing POSTs, single-use code exchanges) are retried only when the
//!   connection failed before anything was sent.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use super::error::{CONNECT_PREFIX, MetaError, interpret, sanitize};
use super::hosts::{Host, MetaEndpoints};
use super::usage::Usage;
use crate::secret::{AppSecret, Expose, Secret, Token};
use hmac::{Hmac, Mac};
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// An app id with its secret (Facebook, Instagram Login or Threads app).
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub id: String,
    pub secret: AppSecret,
}

impl AppCredentials {
    pub fn new(id: impl Into<String>, secret: AppSecret) -> Self {
        AppCredentials { id: id.into(), secret }
    }

    /// The literal app token `app_id|app_secret` (§0, §2.1) for `debug_token`.
    pub fn app_token(&self) -> Secret {
        Secret::new(format!("{}|{}", self.id, self.secret.expose()))
    }
}

/// `appsecret_proof`: hex HMAC-SHA256 of the access token keyed with the app secret (§1.6).
pub fn appsecret_proof(app_secret: &AppSecret, access_token: &Secret) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty proof
    // (Meta then rejects the call) rather than panicking.
    match Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes()) {
        Ok(mut mac) => {
            mac.update(access_token.expose().as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Bounds on everything the client does on its own.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Longest wait sq accepts for a throttled request; beyond it, give up with
    /// [`MetaError::RateLimited`] so the caller can report `rate_limited`.
    pub max_rate_limit_wait: Duration,
    /// HTTP requests in flight at once across every caller of this client (spec §8).
    pub max_in_flight: usize,
    /// Result pages followed for one listing.
    pub max_pages: usize,
    /// Operations per batch request; Graph's maximum is 50 (§10).
    pub batch_size: usize,
    /// Extra rounds for batch items that came back `null` or transient (§10).
    pub batch_item_retries: u32,
    /// Largest response body read.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attempts: 3,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_rate_limit_wait: Duration::from_secs(30),
            max_in_flight: 12,
            max_pages: 500,
            batch_size: 50,
            batch_item_retries: 2,
            max_body_bytes: 16 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer {token}`: Graph, Instagram, Threads.
    Bearer,
    /// `Authorization: OAuth {token}`: `rupload.facebook.com` (§7.2).
    OAuth,
}

/// One request to Meta, built by [`GraphClient::request`]. `Debug` is safe: the token is a
/// [`Secret`] and query/form values that are secrets are kept in `secret_params`.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) host: Host,
    /// Without query.
    pub(crate) url: String,
    /// `host/path` for messages.
    pub(crate) endpoint: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) form: Option<Vec<(String, String)>>,
    /// Secret parameters (`client_secret`, `input_token`), kept apart so `Debug` hides them.
    pub(crate) secret_params: Vec<(String, Secret)>,
    pub(crate) token: Option<Secret>,
    pub(crate) scheme: AuthScheme,
    /// The token goes in the `access_token` query parameter instead of the header.
    pub(crate) token_in_query: bool,
    pub(crate) idempotent: bool,
    /// One link of a sequential chain (a listing's result pages): it may take the slot kept
    /// for chains, see [`Inner::chain_permit`].
    pub(crate) chain: bool,
}

impl Request {
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    /// A form field (POST body, urlencoded).
    pub fn form(mut self, key: &str, value: impl Into<String>) -> Self {
        self.form.get_or_insert_with(Vec::new).push((key.to_string(), value.into()));
        self
    }

    /// A parameter whose value is secret (an app secret, a token to inspect): sent in the form
    /// of a POST or the query of a GET (where Meta documents it, e.g. `debug_token`'s
    /// `input_token`), and never shown by `Debug` or in errors.
    pub fn secret_param(mut self, key: &str, value: &impl Expose) -> Self {
        self.secret_params.push((key.to_string(), Secret::new(value.expose())));
        self
    }

    pub fn token(mut self, token: &impl Token) -> Self {
        self.token = Some(token.as_secret().clone());
        self
    }

    /// Send the token as the `access_token` query parameter, not in the `Authorization` header.
    /// Only for calls whose doc page lists `access_token` as a required query parameter and
    /// which are known to refuse the header: the Instagram Login and Threads long-lived exchange
    /// and refresh (meta-platform.md §14, §5.3, §5.4, §6.4). The value never appears in errors
    /// (they name host and path only) nor in `Debug`.
    pub fn token_in_query(mut self) -> Self {
        self.token_in_query = true;
        self
    }

    pub fn auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Whether the request may be repeated safely. GET/DELETE default to yes, POST to no:
    /// a publish must be reconciled, not resent (spec §6).
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn host(&self) -> Host {
        self.host
    }
}

struct Inner {
    http: reqwest::Client,
    endpoints: MetaEndpoints,
    app: Option<AppCredentials>,
    limits: Limits,
    usage: Mutex<Usage>,
    /// `max_in_flight` minus the chain slot.
    permits: Semaphore,
    /// One of the `max_in_flight` slots, kept for sequential chains (`/me/accounts` page after
    /// page). A listing of 1,000 Pages is 10 round trips one after another, while the batches
    /// of `debug_token` beside it are independent work; with one shared FIFO queue every
    /// result page waited behind a wave of batches, and the chain, the longest path of a
    /// `diagnose`, grew by those waits (docs/performance.md). `None` when `max_in_flight` is 1.
    chain_permit: Option<Semaphore>,
}

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("endpoints", &self.inner.endpoints)
            .field("app_id", &self.inner.app.as_ref().map(|a| a.id.as_str()))
            .finish_non_exhaustive()
    }
}

/// One attempt's outcome plus what the retry policy needs from the response.
struct Attempt {
    result: Result<Value, MetaError>,
    usage: Option<Usage>,
    retry_after: Option<Duration>,
}

impl Request {
    /// Where this request carries its token ([`super::catalog::TokenIn`]).
    pub fn token_placement(&self) -> super::catalog::TokenIn {
        use super::catalog::TokenIn;
        match (&self.token, self.token_in_query) {
            (Some(_), true) => TokenIn::Query,
            (Some(_), false) => TokenIn::Header,
            (None, _) if self.form.iter().flatten().any(|(k, _)| k == "access_token") => TokenIn::Form,
            (None, _) => TokenIn::None,
        }
    }
}

impl GraphClient {
    /// The request's path after its host's root (version included, query dropped later).
    fn path_of<'a>(&self, req: &'a Request) -> &'a str {
        let root = self.inner.endpoints.root(req.host);
        req.url.strip_prefix(&root).unwrap_or(&req.url)
    }

    /// `app`: the Facebook app, used for `appsecret_proof` on `graph.facebook.com`.
    pub fn new(
        http: reqwest::Client,
        endpoints: MetaEndpoints,
        app: Option<AppCredentials>,
        limits: Limits,
    ) -> GraphClient {
        let total = limits.max_in_flight.max(1);
        let chain_permit = (total > 1).then(|| Semaphore::new(1));
        let permits = Semaphore::new(if chain_permit.is_some() { total - 1 } else { total });
        GraphClient {
            inner: Arc::new(Inner {
                http,
                endpoints,
                app,
                limits,
                usage: Mutex::new(Usage::default()),
                permits,
                chain_permit,
            }),
        }
    }

    pub fn endpoints(&self) -> &MetaEndpoints {
        &self.inner.endpoints
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn app(&self) -> Option<&AppCredentials> {
        self.inner.app.as_ref()
    }

    /// The latest usage Meta reported on any response (§9), merged per business object.
    /// `rate_limited` is reported from this at ≥ 80 % ([`Usage::is_near_limit`]).
    pub fn usage(&self) -> Usage {
        self.inner.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }

    fn record_usage(&self, usage: &Usage) {
        if let Ok(mut u) = self.inner.usage.lock() {
            u.merge(usage.clone());
        }
    }

    /// A versioned request: `{root(host)}/{version}/{path}`.
    pub fn request(&self, method: Method, host: Host, path: &str) -> Request {
        let url = self.inner.endpoints.versioned(host, path);
        self.request_at(method, host, url)
    }

    /// An unversioned request (`api.instagram.com/oauth/access_token`, `…/refresh_access_token`).
    pub fn request_unversioned(&self, method: Method, host: Host, path: &str) -> Request {
        let url = self.inner.endpoints.url(host, path);
        self.request_at(method, host, url)
    }

    pub(crate) fn request_at(&self, method: Method, host: Host, url: String) -> Request {
        let root = self.inner.endpoints.root(host);
        let path = url.strip_prefix(&root).unwrap_or("").trim_matches('/');
        let endpoint = if path.is_empty() { host.name().to_string() } else { format!("{host}/{path}") };
        Request {
            method,
            host,
            url,
            endpoint,
            query: Vec::new(),
            form: None,
            secret_params: Vec::new(),
            token: None,
            scheme: AuthScheme::Bearer,
            token_in_query: false,
            idempotent: method != Method::Post,
            chain: false,
        }
    }

    /// Sends with the retry policy and returns Meta's JSON.
    pub async fn send(&self, req: &Request) -> Result<Value, MetaError> {
        let limits = &self.inner.limits;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let Attempt { result, usage, retry_after } = self.send_once(req).await;
            let err = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let class = err.class();
            let regain =
                [usage.as_ref().and_then(Usage::regain_after), retry_after].into_iter().flatten().max();
            let may_retry = if req.idempotent { class.is_retryable() } else { err.nothing_sent() };
            if class == crate::model::classify::FailureClass::RateLimit {
                // §9: Meta's own estimate beats our backoff; past the cap, stop and let the
                // caller report it rather than sleeping for minutes.
                if !may_retry
                    || attempt >= limits.max_attempts
                    || regain.is_some_and(|r| r > limits.max_rate_limit_wait)
                {
                    return Err(into_rate_limited(err, regain));
                }
            } else if !may_retry || attempt >= limits.max_attempts {
                return Err(err);
            }
            let wait =
                backoff(limits, attempt).max(regain.unwrap_or_default()).min(limits.max_rate_limit_wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends and decodes into `T` (unknown fields ignored; shape errors → `Unexpected`).
    pub async fn send_json<T: DeserializeOwned>(&self, req: &Request) -> Result<T, MetaError> {
        let v = self.send(req).await?;
        decode(&req.endpoint, v)
    }

    async fn send_once(&self, req: &Request) -> Attempt {
        let fail = |e| Attempt { result: Err(e), usage: None, retry_after: None };
        super::catalog::check(req.method, req.host, self.path_of(req), req.token_placement());
        let mut query = req.query.clone();
        let mut form = req.form.clone();
        for (k, v) in &req.secret_params {
            match (req.method, &mut form) {
                (Method::Post, f) => f.get_or_insert_with(Vec::new).push((k.clone(), v.expose().to_string())),
                _ => query.push((k.clone(), v.expose().to_string())),
            }
        }
        if let (Host::FacebookGraph, Some(app), Some(token)) = (req.host, &self.inner.app, &req.token) {
            query.push(("appsecret_proof".into(), appsecret_proof(&app.secret, token)));
        }
        if let (true, Some(token)) = (req.token_in_query, &req.token) {
            query.push(("access_token".into(), token.expose().to_string()));
        }
        let url = if query.is_empty() {
            req.url.clone()
        } else {
            match serde_urlencoded::to_string(&query) {
                Ok(q) => format!("{}?{q}", req.url),
                Err(_) => return fail(local_error(req, "could not encode the query")),
            }
        };
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut rb = self.inner.http.request(method, &url);
        if let Some(token) = req.token.as_ref().filter(|_| !req.token_in_query) {
            let scheme = match req.scheme {
                AuthScheme::Bearer => "Bearer",
                AuthScheme::OAuth => "OAuth",
            };
            match HeaderValue::from_str(&format!("{scheme} {}", token.expose())) {
                Ok(mut h) => {
                    h.set_sensitive(true);
                    rb = rb.header(AUTHORIZATION, h);
                }
                Err(_) => {
                    return fail(local_error(req, "the stored token contains characters HTTP cannot carry"));
                }
            }
        }
        if let Some(form) = &form {
            rb = rb.form(form);
        }
        let secret = req.token.as_ref().map(Secret::expose);

        // Hold a slot only while the request is on the wire, never while backing off.
        // A chain's request takes whichever slot frees first, its own or a shared one, so at
        // most `max_in_flight` are on the wire and the chain never queues behind a wave.
        let _permit = match (&self.inner.chain_permit, req.chain) {
            (Some(lane), true) => tokio::select! {
                biased;
                p = lane.acquire() => p,
                p = self.inner.permits.acquire() => p,
            },
            _ => self.inner.permits.acquire().await,
        };
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => return fail(network_error(req.host, &e, secret)),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers();
        let usage = Usage::from_headers(headers);
        if let Some(u) = &usage {
            self.record_usage(u);
        }
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let www = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = match read_body(resp, self.inner.limits.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => {
                return Attempt { result: Err(network_error(req.host, &e, secret)), usage, retry_after };
            }
        };
        Attempt {
            result: interpret(&req.endpoint, status, &body, www.as_deref(), secret),
            usage,
            retry_after,
        }
    }
}

async fn read_body(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = max.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= max {
            break;
        }
    }
    Ok(body)
}

fn local_error(req: &Request, detail: &str) -> MetaError {
    MetaError::Unexpected { endpoint: req.endpoint.clone(), status: 0, detail: detail.to_string() }
}

/// A network failure in words, without the URL reqwest would otherwise print (it may carry a
/// secret parameter).
fn network_error(host: Host, e: &reqwest::Error, secret: Option<&str>) -> MetaError {
    let timed_out = e.is_timeout();
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let detail = sanitize(&causes.join(": "), 200, secret);
    let reason = if timed_out {
        "timed out".to_string()
    } else if e.is_connect() {
        format!("{CONNECT_PREFIX}: {detail}")
    } else {
        format!("connection broken: {detail}")
    };
    MetaError::Unreachable { host: host.name().to_string(), reason, timed_out }
}

fn into_rate_limited(err: MetaError, regain: Option<Duration>) -> MetaError {
    match err {
        MetaError::Api { endpoint, error } => {
            MetaError::RateLimited { endpoint, error, regain_after: regain }
        }
        other => other,
    }
}

/// Exponential backoff with jitter: half fixed, half random, so retries spread out.
fn backoff(limits: &Limits, attempt: u32) -> Duration {
    let exp = limits.base_backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let d = exp.min(limits.max_backoff);
    let half = d / 2;
    let jitter_ms = half.as_millis() as u64;
    let r = if jitter_ms == 0 { 0 } else { getrandom::u64().unwrap_or(0) % (jitter_ms + 1) };
    half + Duration::from_millis(r)
}

/// JSON → `T`, with serde's message stripped of quoted values (they may be tokens).
pub(crate) fn decode<T: DeserializeOwned>(endpoint: &str, v: Value) -> Result<T, MetaError> {
    serde_json::from_value(v).map_err(|e| MetaError::Unexpected {
        endpoint: endpoint.to_string(),
        status: 200,
        detail: strip_quoted(&e.to_string()),
    })
}

pub(crate) fn strip_quoted(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for ch in s.chars() {
        if ch == '"' || ch == '`' {
            if !inside {
                out.push('…');
            }
            inside = !inside;
        } else if !inside {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: Option<&str>, app: Option<AppCredentials>) -> GraphClient {
        let ep = MetaEndpoints::new(base, Some("v25.0")).expect("endpoints");
        GraphClient::new(reqwest::Client::new(), ep, app, Limits::default())
    }

    #[test]
    fn appsecret_proof_known_vector() {
        // Computed independently: python3 hmac.new(b"app-secret-123", b"EAAB…", sha256).
        let proof =
            appsecret_proof(&AppSecret::new("app-secret-123"), &Secret::new("EAABwzLixnjYBO0123456789f3c1"));
        assert_eq!(proof, "8cdce579973e262df234c0685a076d83e23d107adfc232b0c57b0200b6b48937");
        // The classic HMAC example: key "key", message "The quick brown fox jumps over the lazy dog".
        let proof = appsecret_proof(
            &AppSecret::new("key"),
            &Secret::new("The quick brown fox jumps over the lazy dog"),
        );
        assert_eq!(proof, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    }

    #[test]
    fn app_token_and_debug_redaction() {
        let app = AppCredentials::new("1234", AppSecret::new("s3cr3tvalue"));
        assert_eq!(app.app_token().expose(), "1234|s3cr3tvalue");
        let c = client(None, Some(app));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t") && shown.contains("1234"));
        let req = c
            .request(Method::Get, Host::FacebookGraph, "debug_token")
            .secret_param("input_token", &Secret::new("EAABinputtoken"))
            .token(&Secret::new("1234|s3cr3tvalue"));
        let shown = format!("{req:?}");
        assert!(!shown.contains("EAABinputtoken") && !shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn request_urls_and_endpoints() {
        let real = client(None, None);
        let r = real.request(Method::Get, Host::FacebookGraph, "me/accounts");
        assert_eq!(r.url, "https://graph.facebook.com/v25.0/me/accounts");
        assert_eq!(r.endpoint, "graph.facebook.com/v25.0/me/accounts");
        assert!(r.idempotent);
        let r = real.request(Method::Get, Host::ThreadsGraph, "me");
        assert_eq!(r.url, "https://graph.threads.net/v1.0/me");
        let r = real.request_unversioned(Method::Post, Host::InstagramApi, "oauth/access_token");
        assert_eq!(r.url, "https://api.instagram.com/oauth/access_token");
        assert!(!r.idempotent, "POST defaults to not idempotent");
        let sb = client(Some("http://127.0.0.1:9/"), None);
        let r = sb.request(Method::Delete, Host::FacebookGraph, "/me/permissions");
        assert_eq!(r.url, "http://127.0.0.1:9/graph.facebook.com/v25.0/me/permissions");
        assert_eq!(r.endpoint, "graph.facebook.com/v25.0/me/permissions");
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        let limits = Limits::default();
        for attempt in 1..40 {
            let d = backoff(&limits, attempt);
            assert!(d <= limits.max_backoff, "{attempt}: {d:?}");
            let floor =
                (limits.base_backoff.saturating_mul(1 << (attempt - 1).min(16))).min(limits.max_backoff) / 2;
            assert!(d >= floor, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn decode_errors_hide_values() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            n: u32,
        }
        let e = decode::<T>("h/p", serde_json::json!({"n": "EAABleakedtoken"})).expect_err("shape");
        let shown = e.to_string();
        assert!(
            !shown.contains("EAABleaked") && shown.contains("Meta answered something unexpected"),
            "{shown}"
        );
    }
}
