//! `/_sandbox/…`: steer the world from tests, scripts and the demo (docs/sandbox.md).
//! JSON in, JSON out; errors are `{"error": "…"}` with 400 or 404. Never delayed or faulted.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::scenario::{Consent, Dur, Expiry, Invalidation, TokenKind, UsageSpec};
use super::server::Shared;
use super::wire::Resp;
use super::world::{
    DATA_ACCESS_SECS, Family, Fault, FaultAction, LONG_LIVED_SECS, Matcher, SHORT_LIVED_SECS, Token, World,
};

fn err(status: u16, msg: impl Into<String>) -> Resp {
    Resp::json(status, &json!({ "error": msg.into() }))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Resp> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|e| err(400, format!("bad JSON body: {e}")))
}

pub fn handle(shared: &Arc<Shared>, method: &str, path: &str, query: &str, body: &[u8]) -> Resp {
    let rest = path.trim_start_matches("/_sandbox").trim_matches('/').to_string();
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let q: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let r = match (method, segs.as_slice()) {
        ("GET", [] | ["health"]) => Ok(Resp::ok(json!({"ok": true}))),
        ("GET", ["scenario"]) => {
            let w = shared.lock();
            Ok(Resp::ok(serde_json::to_value(&w.scenario).unwrap_or(Value::Null)))
        }
        ("POST", ["reset"]) => {
            let mut w = shared.lock();
            let latency = w.latency_ms;
            *w = World::new(shared.original.clone(), latency);
            Ok(Resp::ok(json!({"ok": true})))
        }
        ("GET", ["clock"]) => Ok(clock_json(&shared.lock())),
        ("POST", ["clock"]) => clock(shared, body),
        ("POST", ["events"]) => event(shared, body),
        ("GET", ["consent"]) => {
            let w = shared.lock();
            Ok(Resp::ok(serde_json::to_value(&w.consent).unwrap_or(Value::Null)))
        }
        ("POST" | "PUT", ["consent"]) => parse::<Consent>(body).map(|c| {
            let mut w = shared.lock();
            w.consent = c;
            Resp::ok(serde_json::to_value(&w.consent).unwrap_or(Value::Null))
        }),
        ("DELETE", ["consent"]) => {
            let mut w = shared.lock();
            w.consent = w.scenario.consent.clone();
            Ok(Resp::ok(json!({"ok": true})))
        }
        ("POST", ["tokens"]) => mint(shared, body),
        ("GET", ["tokens", tok]) => token_state(shared, tok),
        ("GET", ["faults"]) => {
            let w = shared.lock();
            Ok(Resp::ok(json!({"faults": w.faults})))
        }
        ("POST", ["faults"]) => add_fault(shared, body),
        ("DELETE", ["faults"]) => {
            shared.lock().faults.clear();
            Ok(Resp::ok(json!({"ok": true})))
        }
        ("DELETE", ["faults", id]) => {
            let mut w = shared.lock();
            let before = w.faults.len();
            w.faults.retain(|f| f.id != *id);
            if w.faults.len() == before {
                Err(err(404, format!("no fault {id}")))
            } else {
                Ok(Resp::ok(json!({"ok": true})))
            }
        }
        ("GET", ["usage"]) => {
            let w = shared.lock();
            Ok(Resp::ok(json!({"app": w.app_usage, "objects": w.buc_usage})))
        }
        ("POST" | "PUT", ["usage"]) => parse::<UsageSpec>(body).map(|u| {
            let mut w = shared.lock();
            if u.app.is_some() {
                w.app_usage = u.app;
            }
            w.buc_usage.extend(u.objects);
            Resp::ok(json!({"app": w.app_usage, "objects": w.buc_usage}))
        }),
        ("DELETE", ["usage"]) => {
            let mut w = shared.lock();
            w.app_usage = None;
            w.buc_usage.clear();
            w.app_calls = Default::default();
            w.object_calls.clear();
            Ok(Resp::ok(json!({"ok": true})))
        }
        ("GET", ["latency"]) => Ok(Resp::ok(json!({"ms": shared.lock().latency_ms}))),
        ("POST" | "PUT", ["latency"]) => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct L {
                ms: u64,
            }
            parse::<L>(body).map(|l| {
                shared.lock().latency_ms = l.ms;
                Resp::ok(json!({"ms": l.ms}))
            })
        }
        ("GET", ["published"]) => {
            let w = shared.lock();
            let items: Vec<&super::world::Published> = w
                .published
                .iter()
                .filter(|p| q.get("profile").is_none_or(|x| *x == p.profile))
                .filter(|p| {
                    q.get("network").is_none_or(|n| serde_json::to_value(p.network).ok() == Some(json!(n)))
                })
                .collect();
            Ok(Resp::ok(json!({ "published": items })))
        }
        ("GET", ["requests"]) => {
            let w = shared.lock();
            Ok(Resp::ok(json!({ "requests": w.log })))
        }
        ("DELETE", ["requests"]) => {
            shared.lock().log.clear();
            Ok(Resp::ok(json!({"ok": true})))
        }
        _ => Err(err(404, format!("unknown control endpoint {method} {path}; see docs/sandbox.md"))),
    };
    r.unwrap_or_else(|e| e)
}

fn clock_json(w: &World) -> Resp {
    Resp::ok(json!({"now": w.now(), "offset": w.clock_offset}))
}

fn clock(shared: &Shared, body: &[u8]) -> Result<Resp, Resp> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct C {
        #[serde(default)]
        advance: Option<Dur>,
        /// Absolute unix time.
        #[serde(default)]
        set: Option<i64>,
    }
    let c: C = parse(body)?;
    let mut w = shared.lock();
    if let Some(d) = c.advance {
        w.clock_offset += d.0;
    }
    if let Some(t) = c.set {
        let real = w.now() - w.clock_offset;
        w.clock_offset = t - real;
    }
    Ok(clock_json(&w))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    event: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    page: Option<String>,
    /// Instagram or Threads account id.
    #[serde(default)]
    account: Option<String>,
}

fn event(shared: &Shared, body: &[u8]) -> Result<Resp, Resp> {
    let e: Event = parse(body)?;
    let mut w = shared.lock();
    let why = match e.event.as_str() {
        "password_changed" => Some(Invalidation::PasswordChanged),
        "app_removed" => Some(Invalidation::AppRemoved),
        "logged_out" => Some(Invalidation::LoggedOut),
        "checkpoint" => Some(Invalidation::Checkpoint),
        "unconfirmed" => Some(Invalidation::Unconfirmed),
        "token_invalid" => Some(Invalidation::Invalid),
        _ => None,
    };
    if let Some(why) = why {
        let n = invalidate(&mut w, &e, why)?;
        if why == Invalidation::AppRemoved {
            if let Some(u) = &e.user {
                w.deauthorized.insert(u.clone());
            }
        }
        return Ok(Resp::ok(json!({"invalidated": n})));
    }
    match e.event.as_str() {
        "expired" => {
            // Expire by date so 463's message quotes a real time (§8.3).
            let now = w.now();
            let targets = targets_of(&w, &e)?;
            for t in &targets {
                if let Some(tok) = w.tokens.get_mut(t) {
                    tok.expires_at = now - 1;
                }
            }
            Ok(Resp::ok(json!({"invalidated": targets.len()})))
        }
        "data_access_expired" => {
            let now = w.now();
            let targets = targets_of(&w, &e)?;
            for t in &targets {
                if let Some(tok) = w.tokens.get_mut(t) {
                    tok.data_access_expires_at = now - 1;
                }
            }
            Ok(Resp::ok(json!({"updated": targets.len()})))
        }
        "page_role_lost" => {
            let (Some(user), Some(page)) = (e.user.clone(), e.page.clone()) else {
                return Err(err(400, "page_role_lost needs user and page"));
            };
            let Some(p) = w.pages.get_mut(&page) else {
                return Err(err(404, format!("no page {page}")));
            };
            p.roles.remove(&user);
            p.portfolio_roles.remove(&user);
            if let Some(v) = w.user_pages.get_mut(&user) {
                v.retain(|x| *x != page);
            }
            let mut n = 0;
            for t in w.tokens.values_mut() {
                if t.kind == TokenKind::Page
                    && t.user == user
                    && t.page.as_deref() == Some(page.as_str())
                    && t.invalid.is_none()
                {
                    t.invalid = Some(Invalidation::PageRoleLost);
                    n += 1;
                }
            }
            Ok(Resp::ok(json!({"invalidated": n})))
        }
        "unlink_instagram" => {
            let Some(page) = e.page.clone() else {
                return Err(err(400, "unlink_instagram needs page"));
            };
            let Some(p) = w.pages.get_mut(&page) else {
                return Err(err(404, format!("no page {page}")));
            };
            let was = p.instagram.take();
            Ok(Resp::ok(json!({"unlinked": was})))
        }
        "link_instagram" => {
            let (Some(page), Some(acct)) = (e.page.clone(), e.account.clone()) else {
                return Err(err(400, "link_instagram needs page and account"));
            };
            if !w.ig.contains_key(&acct) {
                return Err(err(404, format!("no Instagram account {acct}")));
            }
            let Some(p) = w.pages.get_mut(&page) else {
                return Err(err(404, format!("no page {page}")));
            };
            p.instagram = Some(acct);
            Ok(Resp::ok(json!({"ok": true})))
        }
        "quota_reached" => {
            let Some(acct) = e.account.clone() else {
                return Err(err(400, "quota_reached needs account"));
            };
            let now = w.now();
            let ig_total = w.scenario.settings.instagram_quota_total as usize;
            let th_total = w.scenario.settings.threads_quota_total as usize;
            if let Some(a) = w.ig.get_mut(&acct) {
                a.publishes = vec![now; ig_total];
            } else if let Some(a) = w.threads.get_mut(&acct) {
                a.publishes = vec![now; th_total];
            } else {
                return Err(err(404, format!("no Instagram or Threads account {acct}")));
            }
            Ok(Resp::ok(json!({"ok": true})))
        }
        "quota_reset" => {
            let Some(acct) = e.account.clone() else {
                return Err(err(400, "quota_reset needs account"));
            };
            if let Some(a) = w.ig.get_mut(&acct) {
                a.publishes.clear();
            } else if let Some(a) = w.threads.get_mut(&acct) {
                a.publishes.clear();
            }
            Ok(Resp::ok(json!({"ok": true})))
        }
        other => Err(err(
            400,
            format!(
                "unknown event {other:?}; events: password_changed, app_removed, expired, logged_out, checkpoint, unconfirmed, token_invalid, page_role_lost, unlink_instagram, link_instagram, quota_reached, quota_reset, data_access_expired"
            ),
        )),
    }
}

/// Tokens an event targets: one token (and its Page tokens), a Facebook user's, or an account's.
fn targets_of(w: &World, e: &Event) -> Result<Vec<String>, Resp> {
    if let Some(t) = &e.token {
        if !w.tokens.contains_key(t) {
            return Err(err(404, "no such token"));
        }
        return Ok(w
            .tokens
            .iter()
            .filter(|(s, tok)| *s == t || tok.parent.as_deref() == Some(t.as_str()))
            .map(|(s, _)| s.clone())
            .collect());
    }
    if let Some(u) = &e.user {
        return Ok(w
            .tokens
            .iter()
            .filter(|(_, t)| t.family() == Family::Facebook && &t.user == u)
            .map(|(s, _)| s.clone())
            .collect());
    }
    if let Some(a) = &e.account {
        return Ok(w
            .tokens
            .iter()
            .filter(|(_, t)| t.family() != Family::Facebook && &t.user == a)
            .map(|(s, _)| s.clone())
            .collect());
    }
    Err(err(400, "the event needs token, user or account"))
}

fn invalidate(w: &mut World, e: &Event, why: Invalidation) -> Result<usize, Resp> {
    if let Some(t) = &e.token {
        if !w.tokens.contains_key(t) {
            return Err(err(404, "no such token"));
        }
        return Ok(w.invalidate_token(t, why));
    }
    if let Some(u) = &e.user {
        return Ok(w.invalidate_user(u, why));
    }
    if let Some(a) = &e.account {
        let fam = if w.ig.contains_key(a) { Family::Instagram } else { Family::Threads };
        return Ok(w.invalidate_account(fam, a, why));
    }
    Err(err(400, "the event needs token, user or account"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintReq {
    kind: TokenKind,
    user: String,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    declined: Vec<String>,
    #[serde(default)]
    targets: BTreeMap<String, Vec<String>>,
    #[serde(default = "yes")]
    long_lived: bool,
    #[serde(default)]
    issued: Option<Dur>,
    #[serde(default)]
    expires_in: Option<Expiry>,
    #[serde(default)]
    data_access_expires_in: Option<Dur>,
}

fn yes() -> bool {
    true
}

fn mint(shared: &Shared, body: &[u8]) -> Result<Resp, Resp> {
    let m: MintReq = parse(body)?;
    let mut w = shared.lock();
    let now = w.now();
    let issued_at = now - m.issued.map(|d| d.0).unwrap_or(0);
    if m.kind == TokenKind::Page && m.page.is_none() {
        return Err(err(400, "a page token needs page"));
    }
    let expires_at = match m.expires_in {
        Some(Expiry::Never) => 0,
        Some(Expiry::In(d)) => now + d.0,
        None if m.kind == TokenKind::Page && m.long_lived => 0,
        None if m.long_lived => issued_at + LONG_LIVED_SECS,
        None if m.kind == TokenKind::User => issued_at + SHORT_LIVED_SECS,
        None => issued_at + 3600,
    };
    let t = Token {
        kind: m.kind,
        user: m.user,
        page: m.page,
        parent: None,
        scopes: m.scopes,
        declined: m.declined,
        targets: m.targets,
        issued_at,
        expires_at,
        data_access_expires_at: now + m.data_access_expires_in.map(|d| d.0).unwrap_or(DATA_ACCESS_SECS),
        long_lived: m.long_lived,
        invalid: None,
    };
    let s = w.mint(t);
    Ok(Resp::ok(json!({"access_token": s, "expires_at": expires_at, "issued_at": issued_at})))
}

fn token_state(shared: &Shared, tok: &str) -> Result<Resp, Resp> {
    let w = shared.lock();
    let Some(t) = w.tokens.get(tok) else {
        return Err(err(404, "no such token"));
    };
    Ok(Resp::ok(json!({
        "kind": t.kind, "user": t.user, "page": t.page, "scopes": t.scopes,
        "declined": t.declined, "targets": t.targets, "issued_at": t.issued_at,
        "expires_at": t.expires_at, "data_access_expires_at": t.data_access_expires_at,
        "long_lived": t.long_lived, "invalid": t.invalid,
    })))
}

fn add_fault(shared: &Shared, body: &[u8]) -> Result<Resp, Resp> {
    #[derive(Deserialize)]
    struct F {
        #[serde(default, rename = "match")]
        matcher: Matcher,
        /// Requests to affect; absent = until cleared.
        #[serde(default)]
        count: Option<u32>,
        /// Carry the request out first, then answer with the fault.
        #[serde(default)]
        applied: bool,
        #[serde(flatten)]
        action: FaultAction,
    }
    let f: F = parse(body)?;
    if let FaultAction::Throttle { code, .. } = &f.action {
        if ![4, 17, 32, 613, 80001, 80002].contains(code) {
            return Err(err(400, "throttle code must be one of 4, 17, 32, 613, 80001, 80002"));
        }
    }
    let mut w = shared.lock();
    w.fault_seq += 1;
    let id = format!("f{}", w.fault_seq);
    if f.applied && matches!(f.action, FaultAction::Latency { .. }) {
        return Err(err(
            400,
            "applied needs a fault that changes the answer (error, throttle, server_error, bad_gateway, hang)",
        ));
    }
    w.faults.push(Fault {
        id: id.clone(),
        matcher: f.matcher,
        action: f.action,
        remaining: f.count,
        applied: f.applied,
    });
    Ok(Resp::ok(json!({ "id": id })))
}
