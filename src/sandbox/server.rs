//! The HTTP side: hyper on 127.0.0.1, request parsing, faults and latency, batch (§10).
//!
//! The world lock is taken only for the synchronous parts of a request (fault selection, the
//! handler itself, logging) and never across a sleep, so 1,000 requests with 50 ms of latency
//! each finish in about 50 ms.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::scenario::Scenario;
use super::wire::{ApiError, Host, Req, Resp};
use super::world::{FaultAction, LogEntry, World};
use super::{control, graph};

const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct Shared {
    pub world: Mutex<World>,
    pub original: Scenario,
    pub base: String,
}

impl Shared {
    pub fn new(scenario: Scenario, latency_ms: u64, base: String) -> Shared {
        Shared { world: Mutex::new(World::new(scenario.clone(), latency_ms)), original: scenario, base }
    }

    /// A poisoned lock means a handler panicked mid-update; the world is still usable for a
    /// test double, so keep serving rather than failing every later request.
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: tokio::sync::oneshot::Receiver<()>) {
    // Connection tasks live in the set so stopping drops them all, hung requests included.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(shared.clone(), req));
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.shutdown().await;
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let resp = route(&shared, req).await;
    Ok(to_hyper(resp))
}

fn to_hyper(r: Resp) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(r.status).header("Content-Type", r.content_type);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(r.body))).unwrap_or_else(|_| {
        // Only reachable with a header value hyper refuses; answer plainly instead of panicking.
        let mut resp = Response::new(Full::new(Bytes::from_static(b"sandbox: bad header")));
        *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}

async fn route(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    let method = req.method().as_str().to_ascii_uppercase();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let auth_header = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let accepts_html = req
        .headers()
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/html"));
    let content_type =
        req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Resp::text(413, "request body too large or unreadable"),
    };

    if path == "/_sandbox" || path.starts_with("/_sandbox/") {
        return control::handle(shared, &method, &path, &query, &body);
    }

    let trimmed = path.trim_start_matches('/');
    let (host_name, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let Some(host) = Host::parse(host_name) else {
        return Resp::text(
            404,
            &format!(
                "sandbox: unknown host {host_name:?}; Meta hosts are reached at {}/<host>/…",
                shared.base
            ),
        );
    };
    let mut parsed = parse_request(ParseInput {
        method,
        host,
        host_name,
        rest,
        query: &query,
        auth_header: auth_header.as_deref(),
        content_type: &content_type,
        body: &body,
        base: &shared.base,
    });
    parsed.accepts_html = accepts_html;
    let path_for_log = format!("/{host_name}/{rest}");

    if host == Host::FbGraph && parsed.method == "POST" && parsed.params.contains_key("batch") {
        let plan = pick_faults(shared, &parsed, &path_for_log);
        if let Some(r) = apply_delays(&plan, shared).await {
            return finish(shared, &parsed, &path_for_log, None, r);
        }
        let resp = batch(shared, &parsed).await;
        return finish(shared, &parsed, &path_for_log, None, resp);
    }

    let plan = pick_faults(shared, &parsed, &path_for_log);
    if plan.applied {
        // The request takes effect before the fault answers: the latency first (a client
        // that gives up then changes nothing), then the real work, then the fault's answer.
        if plan.extra_ms > 0 {
            tokio::time::sleep(Duration::from_millis(plan.extra_ms)).await;
        }
        let real = {
            let mut w = shared.lock();
            graph::dispatch(&mut w, &parsed)
        };
        let hang = Plan { hang: plan.hang, ..Plan::default() };
        if let Some(r) = apply_delays(&hang, shared).await {
            return finish(shared, &parsed, &path_for_log, None, r);
        }
        let resp = match &plan.terminal {
            Some(action) => fault_response(shared, &parsed, action),
            None => real,
        };
        return finish(shared, &parsed, &path_for_log, None, resp);
    }
    if let Some(r) = apply_delays(&plan, shared).await {
        return finish(shared, &parsed, &path_for_log, None, r);
    }
    let resp = match plan.terminal {
        Some(action) => fault_response(shared, &parsed, &action),
        None => {
            let mut w = shared.lock();
            graph::dispatch(&mut w, &parsed)
        }
    };
    finish(shared, &parsed, &path_for_log, None, resp)
}

fn finish(shared: &Shared, req: &Req, path: &str, batch_item: Option<usize>, r: Resp) -> Resp {
    let mut w = shared.lock();
    let now = w.now();
    let mut keys: Vec<String> = req.query.iter().map(|(k, _)| k.clone()).collect();
    keys.dedup();
    w.log(LogEntry {
        seq: 0,
        time: now,
        method: req.method.clone(),
        host: req.host_name.clone(),
        path: path.split('?').next().unwrap_or(path).to_string(),
        query_keys: keys,
        token_source: req.token_source,
        status: r.status,
        batch_item,
    });
    r
}

struct ParseInput<'a> {
    method: String,
    host: Host,
    host_name: &'a str,
    rest: &'a str,
    query: &'a str,
    auth_header: Option<&'a str>,
    content_type: &'a str,
    body: &'a [u8],
    base: &'a str,
}

fn is_version(s: &str) -> bool {
    let Some(v) = s.strip_prefix('v') else {
        return false;
    };
    let mut parts = v.splitn(2, '.');
    let major_ok = parts.next().is_some_and(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()));
    let minor_ok = parts.next().is_none_or(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()));
    major_ok && minor_ok
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

fn parse_request(i: ParseInput<'_>) -> Req {
    let mut segs: Vec<String> = i.rest.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let version = match segs.first() {
        Some(s) if is_version(s) => Some(segs.remove(0)),
        _ => None,
    };
    let query: Vec<(String, String)> = url::form_urlencoded::parse(i.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut params: HashMap<String, String> = query.iter().cloned().collect();
    let mut token_source = "none";
    if params.contains_key("access_token") {
        token_source = "query";
    }
    let body_params = parse_body(i.content_type, i.body);
    if body_params.contains_key("access_token") {
        token_source = "body";
    }
    params.extend(body_params);
    let mut token = params.get("access_token").filter(|s| !s.is_empty()).cloned();
    if let Some(h) = i.auth_header {
        let h = h.trim();
        let t = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .or_else(|| h.strip_prefix("OAuth "))
            .or_else(|| h.strip_prefix("oauth "))
            .map(str::trim);
        if let Some(t) = t.filter(|t| !t.is_empty()) {
            token = Some(t.to_string());
            token_source = "header";
        }
    }
    if token.is_none() {
        token_source = "none";
    }
    Req {
        method: i.method,
        host: i.host,
        host_name: i.host_name.to_string(),
        version,
        segs,
        params,
        query,
        token,
        token_source,
        base: i.base.to_string(),
        accepts_html: false,
    }
}

/// Form or JSON body → flat string params (non-string JSON values keep their JSON text).
pub fn parse_body(content_type: &str, body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if body.is_empty() {
        return out;
    }
    let looks_json =
        content_type.contains("json") || (!content_type.contains("form") && body.first() == Some(&b'{'));
    if looks_json {
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
            for (k, v) in m {
                let s = match v {
                    Value::String(s) => s,
                    Value::Null => continue,
                    other => other.to_string(),
                };
                out.insert(k, s);
            }
        }
        return out;
    }
    for (k, v) in url::form_urlencoded::parse(body) {
        out.insert(k.into_owned(), v.into_owned());
    }
    out
}

#[derive(Default)]
struct Plan {
    extra_ms: u64,
    /// `Some(None)`: hang forever; `Some(Some(s))`: answer after s seconds.
    hang: Option<Option<f64>>,
    terminal: Option<FaultAction>,
    /// A fired fault asked for the request to be carried out first.
    applied: bool,
}

fn pick_faults(shared: &Shared, req: &Req, path: &str) -> Plan {
    let mut w = shared.lock();
    let mut plan = Plan { extra_ms: w.latency_ms, ..Plan::default() };
    let tok = req.token.as_deref().and_then(|t| w.tokens.get(t)).cloned();
    let mut fired = Vec::new();
    for (idx, f) in w.faults.iter().enumerate() {
        let m = &f.matcher;
        let ok = m.host.as_ref().is_none_or(|h| req.host_name.contains(h.as_str()))
            && m.path.as_ref().is_none_or(|p| path.contains(p.as_str()))
            && m.method.as_ref().is_none_or(|x| x.eq_ignore_ascii_case(&req.method))
            && m.token.as_ref().is_none_or(|t| req.token.as_deref() == Some(t.as_str()))
            && m.user.as_ref().is_none_or(|u| tok.as_ref().is_some_and(|t| &t.user == u))
            && m.page.as_ref().is_none_or(|p| {
                req.segs.iter().any(|s| s == p || s.starts_with(&format!("{p}_")))
                    || tok.as_ref().is_some_and(|t| t.page.as_deref() == Some(p))
            });
        if !ok {
            continue;
        }
        fired.push(idx);
        plan.applied |= f.applied;
        match &f.action {
            FaultAction::Latency { ms } => plan.extra_ms += ms,
            FaultAction::Hang { secs } => {
                if plan.hang.is_none() {
                    plan.hang = Some(*secs);
                }
            }
            other => {
                if plan.terminal.is_none() {
                    plan.terminal = Some(other.clone());
                }
            }
        }
    }
    for idx in fired.iter().rev() {
        if let Some(f) = w.faults.get_mut(*idx) {
            if let Some(n) = f.remaining.as_mut() {
                *n = n.saturating_sub(1);
            }
        }
    }
    w.faults.retain(|f| f.remaining != Some(0));
    plan
}

/// Sleep the latency (and a finite hang); a hang without end never returns.
async fn apply_delays(plan: &Plan, _shared: &Shared) -> Option<Resp> {
    if plan.extra_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.extra_ms)).await;
    }
    match plan.hang {
        Some(None) => {
            std::future::pending::<()>().await;
            None
        }
        Some(Some(secs)) => {
            tokio::time::sleep(Duration::from_secs_f64(secs.clamp(0.0, 86_400.0))).await;
            None
        }
        None => None,
    }
}

fn fault_response(shared: &Shared, req: &Req, action: &FaultAction) -> Resp {
    match action {
        FaultAction::Error {
            status,
            code,
            subcode,
            message,
            method,
        } => {
            let msg = message
                .clone()
                .unwrap_or_else(|| format!("(#{code}) An error injected by the sandbox"));
            let mut e = if *code == 190 {
                ApiError::token(subcode.and_then(|s| u32::try_from(s).ok()), msg)
            } else if *method {
                ApiError::method(*code, *subcode, msg)
            } else {
                ApiError::oauth(*code, *subcode, msg)
            };
            e.status = *status;
            e.into_resp(req.host)
        }
        FaultAction::Throttle { code, minutes } => {
            let w = shared.lock();
            throttle_error(&w, req, *code, *minutes).into_resp(req.host)
        }
        FaultAction::ServerError { code, status } => {
            let msg = if *code == 1 {
                "An unknown error has occurred."
            } else {
                "An unexpected error has occurred. Please retry your request later."
            };
            let mut e = ApiError::oauth(*code, None, msg);
            e.status = *status;
            e.into_resp(req.host)
        }
        FaultAction::Answer { status, body } => Resp::json(*status, body),
        FaultAction::BadGateway => Resp {
            status: 502,
            headers: Vec::new(),
            content_type: "text/html; charset=utf-8",
            body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>".to_string(),
        },
        FaultAction::Hang { .. } | FaultAction::Latency { .. } => {
            let mut w = shared.lock();
            graph::dispatch(&mut w, req)
        }
    }
}

/// A throttling error with usage headers at 100 % (§8.2, §9).
pub fn throttle_error(w: &World, req: &Req, code: i64, minutes: u32) -> ApiError {
    let message = match code {
        4 => "(#4) Application request limit reached",
        17 => "(#17) User request limit reached",
        32 => "(#32) Page request limit reached",
        613 => "(#613) Calls to this api have exceeded the rate limit.",
        80002 => {
            "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
        }
        _ => {
            "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
        }
    };
    let mut e = ApiError::oauth(code, None, message);
    e.headers.push((
        "X-App-Usage".to_string(),
        json!({"call_count": 100, "total_time": 100, "total_cputime": 100}).to_string(),
    ));
    let object = graph::usage_object(w, req).map(|(o, _)| o).or_else(|| {
        req.token
            .as_deref()
            .and_then(|t| w.tokens.get(t))
            .map(|t| t.page.clone().unwrap_or_else(|| t.user.clone()))
    });
    if let Some(obj) = object {
        let kind = if code == 80002 || w.ig.contains_key(&obj) { "instagram" } else { "pages" };
        e.headers.push((
            "X-Business-Use-Case-Usage".to_string(),
            json!({ obj: [{"type": kind, "call_count": 100, "total_cputime": 100,
                           "total_time": 100, "estimated_time_to_regain_access": minutes}]})
            .to_string(),
        ));
    }
    e
}

async fn batch(shared: &Shared, req: &Req) -> Resp {
    let raw = req.params.get("batch").cloned().unwrap_or_default();
    let items: Vec<Value> = match serde_json::from_str::<Value>(&raw) {
        Ok(Value::Array(a)) => a,
        _ => {
            return ApiError::oauth(100, None, "(#100) The parameter batch must be a JSON array")
                .into_resp(Host::FbGraph);
        }
    };
    // §10: at most 50 operations.
    if items.len() > 50 {
        return ApiError::oauth(
            100,
            Some(1_487_084),
            "Too many requests in batch message. Maximum batch size is 50",
        )
        .into_resp(Host::FbGraph);
    }
    // §10: the top-level token is required even when every item carries its own.
    let Some(top_token) = req.token.clone() else {
        return ApiError::missing_token(false).into_resp(Host::FbGraph);
    };
    let include_headers = req.param("include_headers").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    let (timeout, latency_ms) = {
        let w = shared.lock();
        (w.scenario.settings.batch_item_timeout_secs as f64, w.latency_ms)
    };
    // §14 (batch cost, [doc + obs]): a batch takes about one latency (paid by the caller
    // before this) plus a small cost per item; latency/50 per item is our guess at the size.
    if latency_ms > 0 && !items.is_empty() {
        let per_item_us = latency_ms.saturating_mul(1000) / 50;
        let n = u64::try_from(items.len()).unwrap_or(u64::MAX);
        tokio::time::sleep(Duration::from_micros(per_item_us.saturating_mul(n))).await;
    }
    let mut out = Vec::with_capacity(items.len());
    for (idx, item) in items.iter().enumerate() {
        let Some(item_req) = batch_item(req, item, &top_token) else {
            out.push(item_json(
                &ApiError::oauth(100, None, "(#100) Missing relative_url in batch item")
                    .into_resp(Host::FbGraph),
                include_headers,
            ));
            continue;
        };
        let path = format!(
            "/graph.facebook.com/{}{}",
            item_req.version.as_deref().map(|v| format!("{v}/")).unwrap_or_default(),
            item_req.segs.join("/")
        );
        let plan = pick_faults(shared, &item_req, &path);
        // An `applied` fault: the item takes effect whatever its answer becomes.
        let applied = plan.applied.then(|| {
            let mut w = shared.lock();
            graph::dispatch(&mut w, &item_req)
        });
        // §10: items that don't finish in time come back as null.
        let timed_out = match plan.hang {
            Some(None) => true,
            Some(Some(s)) => s >= timeout,
            None => false,
        };
        if timed_out {
            finish(shared, &item_req, &path, Some(idx), Resp::text(504, ""));
            out.push(Value::Null);
            continue;
        }
        let resp = match (plan.terminal, applied) {
            (Some(a), _) => fault_response(shared, &item_req, &a),
            (None, Some(real)) => real,
            (None, None) => {
                let mut w = shared.lock();
                graph::dispatch(&mut w, &item_req)
            }
        };
        let resp = finish(shared, &item_req, &path, Some(idx), resp);
        out.push(item_json(&resp, include_headers));
    }
    Resp::ok(Value::Array(out))
}

fn item_json(r: &Resp, include_headers: bool) -> Value {
    let mut v = json!({"code": r.status, "body": r.body});
    if include_headers {
        let mut hs = vec![json!({"name": "Content-Type", "value": "text/javascript; charset=UTF-8"})];
        for (k, val) in &r.headers {
            hs.push(json!({"name": k, "value": val}));
        }
        v["headers"] = Value::Array(hs);
    }
    v
}

fn batch_item(outer: &Req, item: &Value, top_token: &str) -> Option<Req> {
    let method = item.get("method").and_then(Value::as_str).unwrap_or("GET").to_ascii_uppercase();
    let rel = item.get("relative_url").and_then(Value::as_str)?;
    let body = item.get("body").and_then(Value::as_str).unwrap_or("");
    let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
    let body_bytes = if matches!(method.as_str(), "POST" | "PUT" | "DELETE") { body.as_bytes() } else { b"" };
    let mut r = parse_request(ParseInput {
        method,
        host: Host::FbGraph,
        host_name: &outer.host_name,
        rest: path.trim_start_matches('/'),
        query,
        auth_header: None,
        content_type: "application/x-www-form-urlencoded",
        body: body_bytes,
        base: &outer.base,
    });
    if r.token.is_none() {
        r.token = Some(top_token.to_string());
        r.token_source = "batch";
    }
    // Items inherit the outer version when they have none (so paging links stay versioned).
    if r.version.is_none() {
        r.version = outer.version.clone();
    }
    Some(r)
}
