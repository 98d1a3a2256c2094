//! Graph API on graph.facebook.com, graph.instagram.com and graph.threads.*: token checks,
//! `debug_token`, users, Pages, `/accounts`, businesses, permissions, usage headers.
//! Publishing lives in `publish.rs`, OAuth in `oauth.rs`.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::scenario::{Invalidation, TokenKind};
use super::server::throttle_error;
use super::wire::{ApiError, ApiResult, Field, Host, Req, Resp, fields_or, has_field};
use super::world::{Family, Token, World};
use super::{oauth, publish};

pub fn dispatch(w: &mut World, req: &Req) -> Resp {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let result = match (req.host, segs.as_slice()) {
        (Host::FbWww, _) => oauth::fb_dialog(w, req),
        (Host::IgWww | Host::IgApi, ["oauth", "authorize"]) => oauth::ig_authorize(w, req),
        (Host::IgApi, ["oauth", "access_token"]) => oauth::ig_exchange(w, req),
        (Host::IgWww | Host::IgApi, _) => {
            Ok(Resp::html(404, "Page Not Found", "Sorry, this page isn't available."))
        }
        (Host::ThWww, ["oauth", "authorize"]) => oauth::th_authorize(w, req),
        (Host::ThWww, _) => Ok(Resp::html(404, "Page Not Found", "Sorry, this page isn't available.")),
        (Host::FbGraph, ["oauth", "access_token"]) => oauth::fb_exchange(w, req),
        (Host::FbGraph, ["debug_token"]) => debug_token(w, req),
        (Host::IgGraph, ["access_token"]) => oauth::ig_long_lived(w, req),
        (Host::IgGraph, ["refresh_access_token"]) => oauth::ig_refresh(w, req),
        (Host::ThGraph, ["oauth", "access_token"]) => oauth::th_exchange(w, req),
        (Host::ThGraph, ["access_token"]) => oauth::th_long_lived(w, req),
        (Host::ThGraph, ["refresh_access_token"]) => oauth::th_refresh(w, req),
        (Host::ThGraph, ["debug_token"]) => threads_debug_token(w, req),
        _ => api(w, req),
    };
    result.unwrap_or_else(|e| e.into_resp(req.host))
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    App,
    Token(String, Token),
}

const CANNOT_PARSE: &str = "Invalid OAuth access token - Cannot parse access token";

/// `app_id|app_secret` literal, a minted client_credentials token, or Threads' `TH|…` (§2.3).
pub fn app_token_family(w: &World, s: &str) -> Option<Family> {
    if w.app_tokens.contains(s) {
        return if s.starts_with("TH|") { Some(Family::Threads) } else { Some(Family::Facebook) };
    }
    let sc = &w.scenario;
    if let Some(rest) = s.strip_prefix("TH|") {
        let (id, secret) = rest.split_once('|')?;
        let app = sc.threads_app.as_ref()?;
        return (id == app.id && secret == app.secret).then_some(Family::Threads);
    }
    let (id, secret) = s.split_once('|')?;
    if id == sc.facebook_app.id && secret == sc.facebook_app.secret {
        return Some(Family::Facebook);
    }
    if let Some(app) = &sc.instagram_app {
        if id == app.id && secret == app.secret {
            return Some(Family::Instagram);
        }
    }
    None
}

/// An app token `{app-id}|{secret}` of a known app with the wrong secret: Meta answers 190
/// "Invalid OAuth access token signature." and nothing about any user's token
/// (https://github.com/firebase/firebase-ios-sdk/issues/2262).
fn wrong_app_secret(w: &World, tok: &str) -> Option<ApiError> {
    let sc = &w.scenario;
    let (id, _) = tok.strip_prefix("TH|").unwrap_or(tok).split_once('|')?;
    let known = id == sc.facebook_app.id
        || sc.instagram_app.as_ref().is_some_and(|a| a.id == id)
        || sc.threads_app.as_ref().is_some_and(|a| a.id == id);
    known.then(|| ApiError::token(None, "Invalid OAuth access token signature."))
}

/// 463's message quotes dates in Pacific time, e.g. "Tuesday, 01-Dec-25 06:00:00 PST" (§8.3).
pub fn pst(ts: i64) -> String {
    let fmt = time::macros::format_description!(
        "[weekday], [day]-[month repr:short]-[year repr:last_two] [hour]:[minute]:[second]"
    );
    time::OffsetDateTime::from_unix_timestamp(ts - 8 * 3600)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .map(|s| format!("{s} PST"))
        .unwrap_or_else(|| ts.to_string())
}

pub fn iso_time(ts: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+0000");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| ts.to_string())
}

fn app_id_for(w: &World, f: Family) -> String {
    match f {
        Family::Facebook => w.scenario.facebook_app.id.clone(),
        Family::Instagram => w.scenario.instagram_app.as_ref().map(|a| a.id.clone()).unwrap_or_default(),
        Family::Threads => w.scenario.threads_app.as_ref().map(|a| a.id.clone()).unwrap_or_default(),
    }
}

fn app_secret_for(w: &World, f: Family) -> Option<String> {
    match f {
        Family::Facebook => Some(w.scenario.facebook_app.secret.clone()),
        Family::Instagram => w.scenario.instagram_app.as_ref().map(|a| a.secret.clone()),
        Family::Threads => w.scenario.threads_app.as_ref().map(|a| a.secret.clone()),
    }
}

pub fn app_name_for(w: &World, f: Family) -> String {
    match f {
        Family::Facebook => w.scenario.facebook_app.name.clone(),
        Family::Instagram => w.scenario.instagram_app.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        Family::Threads => w.scenario.threads_app.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
    }
}

/// Why a token doesn't work right now: (subcode, message) per §8.3.
pub fn token_problem(w: &World, t: &Token) -> Option<(Option<u32>, String)> {
    let now = w.now();
    let app_id = app_id_for(w, t.family());
    let why = if t.family() == Family::Facebook && w.deauthorized.contains(&t.user) {
        Some(Invalidation::AppRemoved)
    } else {
        t.invalid
    };
    let why = why.or_else(|| (t.expires_at != 0 && now >= t.expires_at).then_some(Invalidation::Expired));
    let why = why?;
    let msg = match why {
        Invalidation::AppRemoved => format!(
            "Error validating access token: The user has not authorized application {app_id}."
        ),
        Invalidation::Checkpoint => "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.".to_string(),
        Invalidation::PasswordChanged => "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.".to_string(),
        Invalidation::Expired => {
            let at = if t.expires_at != 0 && t.expires_at <= now { t.expires_at } else { now };
            format!(
                "Error validating access token: Session has expired on {}. The current time is {}.",
                pst(at),
                pst(now)
            )
        }
        Invalidation::Unconfirmed => "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user.".to_string(),
        Invalidation::LoggedOut => "Error validating access token: The session is invalid because the user logged out.".to_string(),
        Invalidation::PageRoleLost => "Error validating access token: The user is no longer an administrator of the Page or does not have a role that allows this token.".to_string(),
        Invalidation::Invalid => "Invalid OAuth access token.".to_string(),
    };
    Some((why.subcode(), msg))
}

fn host_family(h: Host) -> Family {
    match h {
        Host::IgGraph | Host::IgWww | Host::IgApi => Family::Instagram,
        Host::ThGraph | Host::ThWww => Family::Threads,
        _ => Family::Facebook,
    }
}

pub fn authenticate(w: &World, req: &Req) -> Result<Caller, ApiError> {
    let Some(tok) = req.token.as_deref() else {
        return Err(ApiError::missing_token(req.seg(0) == Some("me")));
    };
    let family = host_family(req.host);
    if let Some(f) = app_token_family(w, tok) {
        if f != family {
            return Err(ApiError::token(None, CANNOT_PARSE));
        }
        // A Native/Desktop app's app token: "calls made with the app token are treated as if no
        // token were sent" (https://developers.facebook.com/docs/facebook-login/security/,
        // docs/reference/meta-platform.md §14), so every call answers as a tokenless one.
        if f == Family::Facebook && w.scenario.facebook_app.native {
            return Err(ApiError::missing_token(req.seg(0) == Some("me")));
        }
        return Ok(Caller::App);
    }
    if let Some(e) = wrong_app_secret(w, tok) {
        return Err(e);
    }
    let Some(t) = w.tokens.get(tok) else {
        return Err(ApiError::token(None, CANNOT_PARSE));
    };
    if t.family() != family {
        return Err(ApiError::token(None, CANNOT_PARSE));
    }
    if let Some((sub, msg)) = token_problem(w, t) {
        return Err(ApiError::token(sub, msg));
    }
    if let Some(e) = access_refusal(w, req, t) {
        return Err(e);
    }
    check_appsecret_proof(w, req, tok, family)?;
    Ok(Caller::Token(tok.to_string(), t.clone()))
}

/// An Instagram Login or Threads app under Standard Access answers only for users with a role
/// on the app (§3: "A published app with only Standard Access still works only for accounts
/// that have a role on the app", https://developers.facebook.com/docs/graph-api/overview/access-levels).
/// The answers are Meta's as observed: Instagram, after a login that succeeded, 100
/// IGApiException "Unsupported request - method type: get" on every call (§3, §5, §12.7);
/// Threads 100/10 THApiException "…your user must be in the list of Threads testers." (§6).
fn access_refusal(w: &World, req: &Req, t: &Token) -> Option<ApiError> {
    let (app, family) = match t.family() {
        Family::Instagram => (w.scenario.instagram_app.as_ref()?, Family::Instagram),
        Family::Threads => (w.scenario.threads_app.as_ref()?, Family::Threads),
        Family::Facebook => return None,
    };
    if app.access_level.is_advanced() || app.roles.contains(&t.user) || app.testers.contains(&t.user) {
        return None;
    }
    Some(match family {
        Family::Instagram => ApiError::method(
            100,
            None,
            format!("Unsupported request - method type: {}", req.method.to_ascii_lowercase()),
        ),
        _ => ApiError::method(
            100,
            Some(10),
            "This action requires the threads_basic permission. You must submit for app review, or your user must be in the list of Threads testers.",
        ),
    })
}

/// §1.6: `appsecret_proof` = hex HMAC-SHA256(token, key = app secret); an app can require it.
fn check_appsecret_proof(w: &World, req: &Req, tok: &str, f: Family) -> Result<(), ApiError> {
    let proof = req.param("appsecret_proof");
    let required = f == Family::Facebook && w.scenario.facebook_app.require_appsecret_proof;
    let Some(proof) = proof else {
        if required {
            return Err(ApiError::method(
                100,
                None,
                "API calls from the server require an appsecret_proof argument",
            ));
        }
        return Ok(());
    };
    let Some(secret) = app_secret_for(w, f) else {
        return Ok(());
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Ok(());
    };
    mac.update(tok.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    if expected.eq_ignore_ascii_case(proof) {
        Ok(())
    } else {
        Err(ApiError::method(100, None, "Invalid appsecret_proof provided in the API argument"))
    }
}

/// The business object a request is about, for `X-Business-Use-Case-Usage` (§9).
pub fn usage_object(w: &World, req: &Req) -> Option<(String, &'static str)> {
    let tok = req.token.as_deref().and_then(|t| w.tokens.get(t));
    if let Some(p) = tok.and_then(|t| t.page.clone()) {
        return Some((p, "pages"));
    }
    let first = req.seg(0)?;
    let first = first.split('_').next().unwrap_or(first);
    if w.pages.contains_key(first) {
        return Some((first.to_string(), "pages"));
    }
    if w.ig.contains_key(first) {
        return Some((first.to_string(), "instagram"));
    }
    if req.host == Host::IgGraph {
        if let Some(t) = tok {
            return Some((t.user.clone(), "instagram"));
        }
    }
    None
}

fn usage_headers(w: &World, req: &Req, r: &mut Vec<(String, String)>) {
    let app = w.app_usage_value();
    if w.app_usage.is_some() || app.call_count > 0 {
        r.push((
            "X-App-Usage".to_string(),
            json!({"call_count": app.call_count, "total_time": app.total_time,
                   "total_cputime": app.total_cputime})
            .to_string(),
        ));
    }
    if let Some((obj, kind)) = usage_object(w, req) {
        let b = w.buc_value(&obj, kind);
        if w.buc_usage.contains_key(&obj) || b.call_count > 0 {
            r.push((
                "X-Business-Use-Case-Usage".to_string(),
                json!({ obj: [{"type": b.kind, "call_count": b.call_count,
                               "total_cputime": b.total_cputime, "total_time": b.total_time,
                               "estimated_time_to_regain_access": b.estimated_time_to_regain_access}]})
                .to_string(),
            ));
        }
    }
}

fn api(w: &mut World, req: &Req) -> ApiResult {
    let caller = authenticate(w, req)?;
    // §9: preset usage at 100 % throttles, with the headers.
    if let Some(a) = w.app_usage {
        if a.call_count >= 100 || a.total_time >= 100 || a.total_cputime >= 100 {
            return Err(throttle_error(w, req, 4, 5));
        }
    }
    let object = usage_object(w, req);
    if let Some((obj, kind)) = &object {
        if let Some(b) = w.buc_usage.get(obj) {
            if b.call_count >= 100 || b.total_time >= 100 || b.total_cputime >= 100 {
                let code = if *kind == "instagram" { 80002 } else { 80001 };
                let minutes = b.estimated_time_to_regain_access.max(1);
                return Err(throttle_error(w, req, code, minutes));
            }
        }
    }
    w.count_call(object.as_ref().map(|(o, _)| o.as_str()));
    let result = match req.host {
        Host::IgGraph => publish::instagram_api(w, req, &caller),
        Host::ThGraph => publish::threads_api(w, req, &caller),
        _ => facebook_api(w, req, &caller),
    };
    let mut headers = Vec::new();
    usage_headers(w, req, &mut headers);
    match result {
        Ok(mut r) => {
            r.headers.extend(headers);
            Ok(r)
        }
        Err(mut e) => {
            e.headers.extend(headers);
            Err(e)
        }
    }
}

/// `me` → the token's user (or Page, for a Page token).
pub fn resolve_me(seg: &str, caller: &Caller) -> Result<String, ApiError> {
    if seg != "me" {
        return Ok(seg.to_string());
    }
    match caller {
        Caller::App => Err(ApiError::missing_token(true)),
        Caller::Token(_, t) => Ok(t.page.clone().unwrap_or_else(|| t.user.clone())),
    }
}

fn facebook_api(w: &mut World, req: &Req, caller: &Caller) -> ApiResult {
    let Some(first) = req.seg(0) else {
        return Err(ApiError::method(
            100,
            None,
            format!(
                "Unsupported {} request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                req.method.to_ascii_lowercase()
            ),
        ));
    };
    let id = resolve_me(first, caller)?;
    let edge = req.seg(1);
    let m = req.method.as_str();
    if w.users.contains_key(&id) {
        return match (m, edge) {
            ("GET", None) => user_node(w, req, &id),
            ("GET" | "DELETE", Some("permissions")) => permissions(w, req, caller, &id),
            ("GET", Some("accounts")) => accounts(w, req, caller, &id),
            ("GET", Some("businesses")) => businesses(w, req, caller, &id),
            (_, Some(e)) => Err(unknown_edge(e)),
            _ => Err(ApiError::no_object(m, &id)),
        };
    }
    if w.pages.contains_key(&id) {
        return match (m, edge) {
            ("GET", None) => page_node(w, req, caller, &id),
            ("POST", Some("feed")) => publish::page_feed_post(w, req, caller, &id),
            ("POST", Some("photos")) => publish::page_photo_post(w, req, caller, &id),
            ("GET", Some("feed" | "posts" | "published_posts")) => {
                publish::page_feed_list(w, req, caller, &id)
            }
            (_, Some(e)) => Err(unknown_edge(e)),
            _ => Err(ApiError::no_object(m, &id)),
        };
    }
    if w.scenario.businesses.iter().any(|b| b.id == id) {
        return match (m, edge) {
            ("GET", None) => business_node(w, req, caller, &id),
            ("GET", Some(e @ ("owned_pages" | "client_pages"))) => business_pages(w, req, caller, &id, e),
            (_, Some(e)) => Err(unknown_edge(e)),
            _ => Err(ApiError::no_object(m, &id)),
        };
    }
    if w.ig.contains_key(&id) || w.containers.contains_key(&id) {
        return publish::instagram_api(w, req, caller);
    }
    if let Some(p) = w.published.iter().find(|p| p.id == id || p.post_id.as_deref() == Some(&id)) {
        if m == "GET" && edge.is_none() {
            let fields = fields_or(req, "created_time,message,id");
            let mut o = Map::new();
            o.insert("id".into(), json!(id));
            if has_field(&fields, "message") && !p.text.is_empty() {
                o.insert("message".into(), json!(p.text));
            }
            if has_field(&fields, "created_time") {
                o.insert("created_time".into(), json!(iso_time(p.created_time)));
            }
            return Ok(Resp::ok(Value::Object(o)));
        }
    }
    Err(ApiError::no_object(m, &id))
}

fn unknown_edge(e: &str) -> ApiError {
    ApiError::oauth(2500, None, format!("Unknown path components: /{e}"))
}

fn user_token(caller: &Caller) -> Result<(&str, &Token), ApiError> {
    match caller {
        Caller::Token(s, t) if t.kind == TokenKind::User => Ok((s.as_str(), t)),
        Caller::Token(_, t) if t.kind == TokenKind::Page => {
            Err(ApiError::oauth(190, None, "(#190) This method must be called with a User access token."))
        }
        _ => Err(ApiError::missing_token(true)),
    }
}

fn user_node(w: &World, req: &Req, id: &str) -> ApiResult {
    let fields = fields_or(req, "id,name");
    let mut o = Map::new();
    o.insert("id".into(), json!(id));
    if has_field(&fields, "name") {
        o.insert("name".into(), json!(w.users.get(id).cloned().unwrap_or_default()));
    }
    Ok(Resp::ok(Value::Object(o)))
}

fn permissions(w: &mut World, req: &Req, caller: &Caller, uid: &str) -> ApiResult {
    let tok = match caller {
        Caller::App => None,
        Caller::Token(_, t) if t.kind == TokenKind::User && t.user == uid => Some(t.clone()),
        _ => return Err(ApiError::no_object(&req.method, uid)),
    };
    let one = req.seg(2);
    if req.method == "DELETE" {
        match one {
            // §3.2: revoking everything de-authorizes the app: every token dies with 458.
            None => {
                w.deauthorized.insert(uid.to_string());
                w.invalidate_user(uid, Invalidation::AppRemoved);
            }
            Some(perm) => {
                for t in w.tokens.values_mut() {
                    if t.family() == Family::Facebook && t.user == uid {
                        t.scopes.retain(|s| s != perm);
                        t.targets.remove(perm);
                        if !t.declined.iter().any(|d| d == perm) {
                            t.declined.push(perm.to_string());
                        }
                    }
                }
            }
        }
        return Ok(Resp::ok(json!({"success": true})));
    }
    // App token: the union of what this user granted across live tokens.
    let (scopes, declined, data_exp) = match tok {
        Some(t) => (t.scopes, t.declined, t.data_access_expires_at),
        None => {
            let mut s: Vec<String> = Vec::new();
            let mut d: Vec<String> = Vec::new();
            let mut exp = 0;
            for t in w.tokens.values() {
                if t.family() == Family::Facebook && t.user == uid && t.invalid.is_none() {
                    s.extend(t.scopes.iter().cloned());
                    d.extend(t.declined.iter().cloned());
                    exp = exp.max(t.data_access_expires_at);
                }
            }
            s.sort();
            s.dedup();
            d.sort();
            d.dedup();
            (s, d, exp)
        }
    };
    // §3.4: after the 90-day window, granted permissions read as expired.
    let expired = data_exp != 0 && w.now() >= data_exp;
    let mut data: Vec<Value> = scopes
        .iter()
        .map(|s| json!({"permission": s, "status": if expired { "expired" } else { "granted" }}))
        .chain(declined.iter().map(|s| json!({"permission": s, "status": "declined"})))
        .collect();
    if let Some(p) = one {
        data.retain(|v| v["permission"] == p);
    }
    Ok(Resp::ok(json!({ "data": data })))
}

const PAGE_SCOPES: &[&str] = &[
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_metadata",
    "pages_manage_engagement",
    "pages_read_user_content",
];

/// Does the grant reach this Page at all (any Page permission whose targets include it)?
pub fn grant_reaches_page(t: &Token, page: &str) -> bool {
    PAGE_SCOPES.iter().any(|s| t.covers(s, page))
}

/// One Page's JSON for `/accounts`, `owned_pages` and the Page node.
fn page_json(w: &mut World, page: &str, fields: &[Field], caller_token: &str, caller: &Token) -> Value {
    let mut o = Map::new();
    let Some(p) = w.pages.get(page) else {
        return json!({"id": page});
    };
    let name = p.name.clone();
    let category = p.category.clone();
    let ig = p.instagram.clone();
    let tasks = w.tasks_of(&caller.user, page).cloned();
    for f in fields {
        match f.name.as_str() {
            "name" => {
                o.insert("name".into(), json!(name));
            }
            "category" => {
                o.insert("category".into(), json!(category));
            }
            "category_list" => {
                o.insert("category_list".into(), json!([{"id": "2500", "name": category}]));
            }
            "tasks" => {
                if let Some(t) = &tasks {
                    o.insert("tasks".into(), json!(t));
                }
            }
            "access_token" => {
                let tok = if caller.kind == TokenKind::Page {
                    (caller.page.as_deref() == Some(page)).then(|| caller_token.to_string())
                } else if tasks.is_some() {
                    w.page_token_for(caller_token, page)
                } else {
                    None
                };
                if let Some(t) = tok {
                    o.insert("access_token".into(), json!(t));
                }
            }
            // §4.2: absent when no Instagram account is linked.
            "instagram_business_account" => {
                if let Some(ig) = &ig {
                    let mut io = Map::new();
                    io.insert("id".into(), json!(ig));
                    for sf in &f.sub {
                        if let Some(a) = w.ig.get(ig) {
                            match sf.name.as_str() {
                                "username" => {
                                    io.insert("username".into(), json!(a.username));
                                }
                                "name" => {
                                    io.insert("name".into(), json!(a.username));
                                }
                                _ => {}
                            }
                        }
                    }
                    o.insert("instagram_business_account".into(), Value::Object(io));
                }
            }
            "link" => {
                o.insert("link".into(), json!(format!("https://www.facebook.com/{page}")));
            }
            _ => {}
        }
    }
    o.insert("id".into(), json!(page));
    Value::Object(o)
}

/// §14: `tasks` is a field of the `/{user-id}/accounts` edge only, not of the Page node (Meta's
/// generated `Page.Field` list has none; openpost #218). Page nodes — `/{page-id}`,
/// `/{business}/owned_pages`, `…/client_pages` — fail the whole call when it is asked for.
fn refuse_tasks_on_page(req: &Req) -> Result<(), ApiError> {
    let asked = req.param("fields").is_some_and(|f| {
        f.split(',').any(|x| x.trim().split(['{', '.']).next().is_some_and(|n| n.trim() == "tasks"))
    });
    if asked {
        return Err(ApiError::oauth(
            100,
            None,
            "(#100) Tried accessing nonexisting field (tasks) on node type (Page)",
        ));
    }
    Ok(())
}

fn page_node(w: &mut World, req: &Req, caller: &Caller, page: &str) -> ApiResult {
    refuse_tasks_on_page(req)?;
    let (tok_s, tok) = match caller {
        Caller::Token(s, t) => (s.clone(), t.clone()),
        Caller::App => {
            let fields = fields_or(req, "name,id");
            let mut o = Map::new();
            o.insert("id".into(), json!(page));
            if has_field(&fields, "name") {
                o.insert("name".into(), json!(w.pages.get(page).map(|p| p.name.clone())));
            }
            return Ok(Resp::ok(Value::Object(o)));
        }
    };
    if tok.kind == TokenKind::User {
        if w.tasks_of(&tok.user, page).is_none() {
            return Err(ApiError::no_object(&req.method, page));
        }
        // §4.3: a Page left out of a granular grant is refused.
        if !grant_reaches_page(&tok, page) {
            return Err(ApiError::oauth(
                10,
                None,
                "(#10) The Page was not selected when the app was authorized (granular permissions), so the app can't access it.",
            ));
        }
    } else if tok.page.as_deref() != Some(page) && w.tasks_of(&tok.user, page).is_none() {
        return Err(ApiError::no_object(&req.method, page));
    }
    let fields = fields_or(req, "name,id");
    Ok(Resp::ok(page_json(w, page, &fields, &tok_s, &tok)))
}

/// Cursor paging over an ordered id list (§4.1): `limit` defaults to 25, capped at 100.
pub fn page_slice(req: &Req, ids: &[String]) -> (usize, usize, Option<Value>) {
    let limit = req.param("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, 100);
    let decode = |c: &str| {
        URL_SAFE_NO_PAD.decode(c.trim_end_matches('=')).ok().and_then(|b| String::from_utf8(b).ok())
    };
    let pos_of = |id: &str| ids.iter().position(|x| x == id);
    let (start, end) = if let Some(a) = req.param("after").and_then(decode) {
        let s = pos_of(&a).map(|p| p + 1).unwrap_or(ids.len());
        (s, (s + limit).min(ids.len()))
    } else if let Some(b) = req.param("before").and_then(decode) {
        let e = pos_of(&b).unwrap_or(0);
        (e.saturating_sub(limit), e)
    } else {
        (0, limit.min(ids.len()))
    };
    if start >= end {
        return (start, start, None);
    }
    let enc = |s: &str| URL_SAFE_NO_PAD.encode(s.as_bytes());
    let before = enc(&ids[start]);
    let after = enc(&ids[end - 1]);
    let mut paging = json!({"cursors": {"before": before, "after": after}});
    if end < ids.len() {
        paging["next"] = json!(paging_url(req, limit, "after", &after));
    }
    if start > 0 {
        paging["previous"] = json!(paging_url(req, limit, "before", &before));
    }
    (start, end, Some(paging))
}

/// A full URL through the same base (`{base}/{host}/{v}/…`), as Graph's `paging.next`.
fn paging_url(req: &Req, limit: usize, key: &str, cursor: &str) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &req.query {
        if !matches!(k.as_str(), "after" | "before" | "limit") {
            ser.append_pair(k, v);
        }
    }
    ser.append_pair("limit", &limit.to_string());
    ser.append_pair(key, cursor);
    let version = req.version.as_deref().map(|v| format!("{v}/")).unwrap_or_default();
    let path: Vec<String> =
        req.segs.iter().map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect()).collect();
    format!("{}/{}/{}{}?{}", req.base, req.host_name, version, path.join("/"), ser.finish())
}

const ACCOUNTS_DEFAULT: &str = "access_token,category,category_list,name,id,tasks";

fn accounts(w: &mut World, req: &Req, caller: &Caller, uid: &str) -> ApiResult {
    let (tok_s, tok) = user_token(caller)?;
    if tok.user != uid {
        return Err(ApiError::no_object(&req.method, uid));
    }
    let (tok_s, tok) = (tok_s.to_string(), tok.clone());
    // §4.1/§4.3: classic roles only (`user_pages` is the index of those; portfolio-only Pages
    // are absent), and only Pages the grant covers for pages_show_list. With an all-assets
    // grant the index is used as is, so a 10,000-Page user costs no copy per request.
    let all: &[String] = w.user_pages.get(uid).map(Vec::as_slice).unwrap_or(&[]);
    let filtered: Option<Vec<String>> = if !tok.has_scope("pages_show_list") {
        Some(Vec::new())
    } else {
        tok.targets.get("pages_show_list").map(|t| all.iter().filter(|p| t.contains(p)).cloned().collect())
    };
    let ids: &[String] = filtered.as_deref().unwrap_or(all);
    let (s, e, paging) = page_slice(req, ids);
    let chosen: Vec<String> = ids[s..e].to_vec();
    let fields = fields_or(req, ACCOUNTS_DEFAULT);
    let data: Vec<Value> = chosen.iter().map(|p| page_json(w, p, &fields, &tok_s, &tok)).collect();
    let mut out = json!({ "data": data });
    if let Some(p) = paging {
        out["paging"] = p;
    }
    Ok(Resp::ok(out))
}

fn business_visible(w: &World, tok: &Token, biz: &str) -> bool {
    tok.covers("business_management", biz)
        && w.scenario.businesses.iter().any(|b| b.id == biz && b.users.contains(&tok.user))
}

fn businesses(w: &mut World, req: &Req, caller: &Caller, uid: &str) -> ApiResult {
    let (_, tok) = user_token(caller)?;
    if tok.user != uid {
        return Err(ApiError::no_object(&req.method, uid));
    }
    if !tok.has_scope("business_management") {
        return Err(ApiError::oauth(
            200,
            None,
            "(#200) Requires business_management permission to manage the object",
        ));
    }
    let tok = tok.clone();
    let ids: Vec<String> = w
        .scenario
        .businesses
        .iter()
        .filter(|b| business_visible(w, &tok, &b.id))
        .map(|b| b.id.clone())
        .collect();
    let (s, e, paging) = page_slice(req, &ids);
    let data: Vec<Value> = ids[s..e]
        .iter()
        .filter_map(|id| w.scenario.businesses.iter().find(|b| &b.id == id))
        .map(|b| json!({"id": b.id, "name": b.name}))
        .collect();
    let mut out = json!({ "data": data });
    if let Some(p) = paging {
        out["paging"] = p;
    }
    Ok(Resp::ok(out))
}

fn business_node(w: &World, req: &Req, caller: &Caller, biz: &str) -> ApiResult {
    let (_, tok) = user_token(caller)?;
    if !business_visible(w, tok, biz) {
        return Err(ApiError::no_object(&req.method, biz));
    }
    let name = w.scenario.businesses.iter().find(|b| b.id == biz).map(|b| b.name.clone());
    Ok(Resp::ok(json!({"id": biz, "name": name})))
}

fn business_pages(w: &mut World, req: &Req, caller: &Caller, biz: &str, edge: &str) -> ApiResult {
    let (tok_s, tok) = user_token(caller)?;
    let (tok_s, tok) = (tok_s.to_string(), tok.clone());
    refuse_tasks_on_page(req)?;
    if !tok.has_scope("business_management") {
        return Err(ApiError::oauth(
            200,
            None,
            "(#200) Requires business_management permission to manage the object",
        ));
    }
    if !business_visible(w, &tok, biz) {
        return Err(ApiError::no_object(&req.method, biz));
    }
    let ids: Vec<String> = w
        .scenario
        .businesses
        .iter()
        .find(|b| b.id == biz)
        .map(|b| if edge == "owned_pages" { b.owned_pages.clone() } else { b.client_pages.clone() })
        .unwrap_or_default();
    let fields = fields_or(req, "id,name");
    let (s, e, paging) = page_slice(req, &ids);
    let data: Vec<Value> = ids[s..e].iter().map(|p| page_json(w, p, &fields, &tok_s, &tok)).collect();
    let mut out = json!({ "data": data });
    if let Some(p) = paging {
        out["paging"] = p;
    }
    Ok(Resp::ok(out))
}

/// `GET /debug_token` (§2.1, §2.2).
fn debug_token(w: &mut World, req: &Req) -> ApiResult {
    let Some(caller) = req.token.as_deref() else {
        return Err(ApiError::missing_token(false));
    };
    let fb_app = w.scenario.facebook_app.id.clone();
    let caller_ok = match app_token_family(w, caller) {
        // A Native/Desktop app's app token counts as no token at all (§14; Facebook Login
        // security doc, https://developers.facebook.com/docs/facebook-login/security/). A user
        // token of the app's developers may still inspect (below), as §2.1 documents.
        Some(Family::Facebook) if w.scenario.facebook_app.native => {
            return Err(ApiError::missing_token(false));
        }
        Some(Family::Facebook) => true,
        Some(_) => false,
        None if wrong_app_secret(w, caller).is_some() => {
            return Err(ApiError::token(None, "Invalid OAuth access token signature."));
        }
        None => match w.tokens.get(caller) {
            Some(t) => {
                if let Some((sub, msg)) = token_problem(w, t) {
                    return Err(ApiError::token(sub, msg));
                }
                t.kind == TokenKind::User && w.scenario.facebook_app.developers.contains(&t.user)
            }
            None => return Err(ApiError::token(None, CANNOT_PARSE)),
        },
    };
    if !caller_ok {
        return Err(ApiError::oauth(
            100,
            None,
            "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app",
        ));
    }
    let Some(input) = req.param("input_token") else {
        return Err(ApiError::missing_param("input_token"));
    };
    if app_token_family(w, input) == Some(Family::Facebook) {
        return Ok(Resp::ok(json!({"data": {
            "app_id": fb_app, "type": "APP", "application": w.scenario.facebook_app.name,
            "is_valid": true, "scopes": []}})));
    }
    let Some(t) = w.tokens.get(input).filter(|t| t.family() == Family::Facebook) else {
        return Ok(Resp::ok(json!({"data": {
            "error": {"code": 190, "message": CANNOT_PARSE},
            "is_valid": false, "scopes": []}})));
    };
    let mut d = Map::new();
    d.insert("app_id".into(), json!(fb_app));
    d.insert("type".into(), json!(if t.kind == TokenKind::Page { "PAGE" } else { "USER" }));
    d.insert("application".into(), json!(w.scenario.facebook_app.name));
    let problem = token_problem(w, t);
    if problem.is_none() {
        d.insert("data_access_expires_at".into(), json!(t.data_access_expires_at));
    }
    d.insert("expires_at".into(), json!(t.expires_at));
    d.insert("is_valid".into(), json!(problem.is_none()));
    if problem.is_none() {
        d.insert("issued_at".into(), json!(t.issued_at));
    }
    if let Some(p) = &t.page {
        d.insert("profile_id".into(), json!(p));
    }
    d.insert("scopes".into(), json!(t.scopes));
    if problem.is_none() {
        // §2.2: target_ids are strings, and omitted when the grant covers all assets.
        let gs: Vec<Value> = t
            .scopes
            .iter()
            .filter(|s| !matches!(s.as_str(), "public_profile" | "email" | "openid"))
            .map(|s| match t.targets.get(s) {
                Some(ids) => json!({"scope": s, "target_ids": ids}),
                None => json!({"scope": s}),
            })
            .collect();
        d.insert("granular_scopes".into(), Value::Array(gs));
    }
    d.insert("user_id".into(), json!(t.user));
    if let Some((sub, msg)) = problem {
        // §2.2: `subcode`, not `error_subcode`, inside debug_token's error.
        let mut e = json!({"code": 190, "message": msg});
        if let Some(s) = sub {
            e["subcode"] = json!(s);
        }
        d.insert("error".into(), e);
    }
    Ok(Resp::ok(json!({ "data": Value::Object(d) })))
}

/// Threads `debug_token` (§2.3): caller must be a Threads tester's user token of the same app.
fn threads_debug_token(w: &mut World, req: &Req) -> ApiResult {
    let Some(caller) = req.token.as_deref() else {
        return Err(ApiError::missing_token(false));
    };
    let testers = w.scenario.threads_app.as_ref().map(|a| a.testers.clone()).unwrap_or_default();
    if app_token_family(w, caller).is_some() {
        return Err(ApiError::method(
            100,
            None,
            "(#100) debug_token on Threads needs the user access token of a Threads tester of this app; app access tokens are not accepted.",
        ));
    }
    let Some(ct) = w.tokens.get(caller).filter(|t| t.family() == Family::Threads) else {
        return Err(ApiError::token(None, CANNOT_PARSE));
    };
    if let Some((sub, msg)) = token_problem(w, ct) {
        return Err(ApiError::token(sub, msg));
    }
    if !testers.contains(&ct.user) {
        return Err(ApiError::method(
            100,
            None,
            "(#100) debug_token on Threads needs the user access token of a Threads tester of this app.",
        ));
    }
    let Some(input) = req.param("input_token") else {
        return Err(ApiError::missing_param("input_token"));
    };
    let app_name = app_name_for(w, Family::Threads);
    let Some(t) = w.tokens.get(input).filter(|t| t.family() == Family::Threads) else {
        return Ok(Resp::ok(json!({"data": {
            "error": {"code": 190, "message": CANNOT_PARSE},
            "is_valid": false, "scopes": []}})));
    };
    let problem = token_problem(w, t);
    let mut d = json!({
        "type": "USER", "application": app_name,
        "data_access_expires_at": t.data_access_expires_at, "expires_at": t.expires_at,
        "is_valid": problem.is_none(), "issued_at": t.issued_at, "scopes": t.scopes,
        "user_id": t.user,
    });
    if let Some((sub, msg)) = problem {
        let mut e = json!({"code": 190, "message": msg});
        if let Some(s) = sub {
            e["subcode"] = json!(s);
        }
        d["error"] = e;
    }
    Ok(Resp::ok(json!({ "data": d })))
}
