//! Login dialogs and token exchanges: Facebook (§1), Instagram Login (§5), Threads (§6).
//!
//! There is no real user: the consent screen answers as configured (`/_sandbox/consent`).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::graph::token_problem;
use super::scenario::{AppMode, Consent, ConsentOutcome, ConsentScreen, TokenKind};
use super::wire::{ApiError, ApiResult, Req, Resp};
use super::world::{
    Code, DATA_ACCESS_SECS, DAY, FB_CODE_TTL, Family, IG_CODE_TTL, LONG_LIVED_SECS, SHORT_LIVED_SECS, Token,
    World, random_alnum,
};

const FB_PERMISSIONS: &[&str] = &[
    "public_profile",
    "email",
    "openid",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "pages_manage_metadata",
    "pages_manage_engagement",
    "pages_read_user_content",
    "pages_messaging",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
    "ads_read",
    "ads_management",
    "publish_video",
    "read_insights",
];

const IG_PERMISSIONS: &[&str] = &[
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
    "instagram_business_manage_messages",
    "instagram_business_manage_insights",
    "instagram_basic",
    "instagram_content_publish",
];

const TH_PERMISSIONS: &[&str] = &[
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
    "threads_delete",
    "threads_location_tagging",
    "threads_manage_mentions",
    "threads_keyword_search",
    "threads_profile_discovery",
    "threads_share_to_instagram",
];

/// §1.1: comma (or space) separated.
fn split_scopes(s: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for p in s.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        if !v.iter().any(|x| x == p) {
            v.push(p.to_string());
        }
    }
    v
}

/// `{uri}?a=b…` or `{uri}&a=b…` when the URI already has a query; form encoding as Meta does.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", ser.finish())
}

fn is_loopback(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]" | "::1"))
    })
}

fn new_code() -> String {
    format!("AQ{}", random_alnum(96))
}

/// What a login dialog grants, before it becomes a code or a token; no asset targets, no PKCE.
fn grant(
    family: Family,
    client_id: &str,
    redirect_uri: &str,
    user: String,
    scopes: Vec<String>,
    declined: Vec<String>,
    now: i64,
) -> Code {
    Code {
        family,
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        user,
        scopes,
        declined,
        targets: BTreeMap::new(),
        created_at: now,
        used: false,
        challenge: None,
    }
}

/// A fresh short-lived token carrying the grant: `ttl` seconds, no Page, no parent.
fn login_token(g: &Code, kind: TokenKind, now: i64, ttl: i64) -> Token {
    Token {
        kind,
        user: g.user.clone(),
        page: None,
        parent: None,
        scopes: g.scopes.clone(),
        declined: g.declined.clone(),
        targets: g.targets.clone(),
        issued_at: now,
        expires_at: now + ttl,
        data_access_expires_at: now + DATA_ACCESS_SECS,
        long_lived: false,
        invalid: None,
    }
}

/// A Graph-style code exchange (§1.3, §6.3): the code of this family, with §1.3's subcodes in the
/// order a reused or stale code is most often hit. `client_ok` is the caller's check of whom the
/// code was issued to. The code is not spent here.
fn checked_code(
    w: &World,
    req: &Req,
    family: Family,
    now: i64,
    ttl: i64,
    client_ok: impl Fn(&Code) -> bool,
) -> Result<(String, Code), ApiError> {
    let Some(code) = req.param("code") else {
        return Err(ApiError::missing_param("code"));
    };
    let Some(c) = w.codes.get(code).filter(|c| c.family == family).cloned() else {
        return Err(ApiError::oauth(100, None, "Invalid verification code format."));
    };
    if c.used {
        return Err(ApiError::oauth(100, Some(36009), "This authorization code has been used."));
    }
    if now - c.created_at > ttl {
        return Err(ApiError::oauth(100, Some(36007), "This authorization code has expired."));
    }
    if req.param("redirect_uri") != Some(c.redirect_uri.as_str()) || !client_ok(&c) {
        return Err(ApiError::oauth(
            100,
            Some(36008),
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        ));
    }
    Ok((code.to_string(), c))
}

/// Spends the code and mints the short-lived token it stands for.
fn redeem(w: &mut World, code: &str, c: &Code, kind: TokenKind, now: i64, ttl: i64) -> String {
    if let Some(cm) = w.codes.get_mut(code) {
        cm.used = true;
    }
    w.mint(login_token(c, kind, now, ttl))
}

/// Instagram and Threads (§5.1, §6.2) answer a denial alike, with `#_` after the query.
fn denied(redirect_uri: &str, state: Option<&str>) -> Resp {
    let mut pairs = vec![
        ("error", "access_denied"),
        ("error_reason", "user_denied"),
        ("error_description", "The user denied your request"),
    ];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    Resp::redirect(format!("{}#_", with_query(redirect_uri, &pairs)))
}

/// Instagram and Threads (§5.1, §6.2): store a new code for the grant and redirect with it; the
/// `#_` Meta appends is not part of the code.
fn code_redirect(w: &mut World, g: Code, state: Option<&str>) -> Resp {
    let code = new_code();
    let location = {
        let mut pairs = vec![("code", code.as_str())];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        format!("{}#_", with_query(&g.redirect_uri, &pairs))
    };
    w.codes.insert(code, g);
    Resp::redirect(location)
}

// ------------------------------------------------------------------------------------------
// Facebook Login dialog (§1.1, §1.2)

/// A Facebook Login dialog request that passed the dialog's checks (§1.1, §1.6).
pub struct Dialog {
    pub app_name: String,
    pub redirect_uri: String,
    /// Requested permissions, in order, without duplicates.
    pub requested: Vec<String>,
    /// Facebook Login for Business (`config_id`): all-or-nothing (§1.8).
    pub flfb: bool,
    pub challenge: Option<(String, String)>,
    pub state: Option<String>,
    pub response_type: String,
    /// The dialog's own parameters, carried through the consent form as hidden fields.
    pub params: Vec<(&'static str, String)>,
}

/// The parameters of the dialog that the consent form carries back unchanged.
const DIALOG_PARAMS: &[&str] = &[
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "response_type",
    "config_id",
    "auth_type",
    "code_challenge",
    "code_challenge_method",
];

/// The dialog's checks, in Meta's order; a failure is the HTML error page Meta shows.
fn fb_check(w: &World, req: &Req) -> Result<Dialog, Resp> {
    let app = &w.scenario.facebook_app;
    match req.param("client_id") {
        Some(id) if id == app.id => {}
        Some(_) | None => {
            return Err(Resp::html(
                200,
                "Invalid App ID",
                "Invalid App ID: The provided app ID does not look like a valid app ID.",
            ));
        }
    }
    let Some(redirect_uri) = req.param("redirect_uri").map(str::to_string) else {
        return Err(Resp::html(200, "Error", "The parameter redirect_uri is required."));
    };
    // §1.6: strict exact matching; loopback is allowed without registration in development mode.
    let registered = app.redirect_uris.contains(&redirect_uri);
    let dev_loopback = app.mode == AppMode::Development && is_loopback(&redirect_uri);
    if !registered && !dev_loopback {
        return Err(Resp::html(
            200,
            "URL blocked",
            "URL blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings. Make sure Client and Web OAuth Login are on and add all your app domains as Valid OAuth Redirect URIs.",
        ));
    }
    if app.mode == AppMode::Live && redirect_uri.starts_with("http://") {
        return Err(Resp::html(
            200,
            "Insecure Login Blocked",
            "Insecure Login Blocked: You can't get an access token or log in to this app from an insecure page. Try re-loading the page as https://",
        ));
    }
    // §14: Meta's answer to a Facebook Login for Business dialog it can't serve (laravel/socialite
    // #716, vue3-facebook-login #10): the same page for a missing and an unknown configuration.
    let unavailable = || {
        Resp::html(
            200,
            "App not available",
            "It looks like this app isn't available. This app needs at least one supported permission.",
        )
    };
    let config_id = req.param("config_id");
    if config_id.is_none() && app.business_login_only {
        return Err(unavailable());
    }
    let flfb = config_id.is_some();
    let mut requested = split_scopes(req.param("scope").unwrap_or(""));
    if let (Some(id), false) = (config_id, app.login_configurations.is_empty()) {
        // §1.8, §14: the configuration replaces `scope`; its permissions are what is asked.
        match app.login_configurations.iter().find(|c| c.id == id) {
            Some(c) => requested = c.permissions.clone(),
            None => return Err(unavailable()),
        }
    } else if flfb && requested.is_empty() {
        // §1.8: a Login for Business configuration replaces `scope`.
        requested = [
            "pages_show_list",
            "pages_read_engagement",
            "pages_manage_posts",
            "business_management",
            "instagram_basic",
            "instagram_content_publish",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
    }
    let unknown: Vec<&str> =
        requested.iter().map(String::as_str).filter(|s| !FB_PERMISSIONS.contains(s)).collect();
    if !unknown.is_empty() {
        return Err(Resp::html(
            200,
            "Invalid Scopes",
            &format!(
                "Invalid Scopes: {}. This message is only shown to developers. Users of your app will ignore these permissions if present. Please read the documentation for valid permissions at: https://developers.facebook.com/docs/facebook-login/permissions",
                unknown.join(", ")
            ),
        ));
    }
    let challenge = match req.param("code_challenge") {
        Some(c) => {
            let method = req.param("code_challenge_method").unwrap_or("plain");
            if method != "S256" && method != "plain" {
                return Err(Resp::html(200, "Error", "Invalid code_challenge_method: use S256 or plain."));
            }
            Some((c.to_string(), method.to_string()))
        }
        None => None,
    };
    let params = DIALOG_PARAMS.iter().filter_map(|k| req.param(k).map(|v| (*k, v.to_string()))).collect();
    Ok(Dialog {
        app_name: app.name.clone(),
        redirect_uri,
        requested,
        flfb,
        challenge,
        state: req.param("state").map(str::to_string),
        response_type: req.param("response_type").unwrap_or("code").to_string(),
        params,
    })
}

/// `www.facebook.com[/{v}]/dialog/oauth`: the consent form for a browser, or the answer the
/// consent controls chose for a script ([`ConsentScreen`]); `…/dialog/oauth/confirm` is where
/// the form is submitted.
pub fn fb_dialog(w: &mut World, req: &Req) -> ApiResult {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let confirm = match segs.as_slice() {
        ["dialog", "oauth"] => false,
        ["dialog", "oauth", "confirm"] if req.method == "POST" => true,
        _ => return Ok(Resp::html(404, "Page Not Found", "This content isn't available right now.")),
    };
    let dialog = match fb_check(w, req) {
        Ok(d) => d,
        Err(page) => return Ok(page),
    };
    if confirm {
        let choice = super::consent::read_form(w, &dialog, req);
        return Ok(fb_answer(w, &dialog, &choice));
    }
    let consent = w.consent.clone();
    let show_form = match consent.screen {
        ConsentScreen::Form => true,
        ConsentScreen::Auto => false,
        ConsentScreen::Browser => req.accepts_html,
    };
    if show_form {
        return Ok(super::consent::form(w, &dialog, &consent, req));
    }
    Ok(fb_answer(w, &dialog, &consent))
}

/// What the dialog answers once the person has chosen (`consent`): the redirect with a code
/// (and/or a token), or the denial (§1.2).
fn fb_answer(w: &mut World, d: &Dialog, consent: &Consent) -> Resp {
    let redirect_uri = d.redirect_uri.clone();
    let state = d.state.clone();
    if consent.outcome == ConsentOutcome::Deny {
        let mut pairs = vec![
            ("error", "access_denied"),
            ("error_code", "200"),
            ("error_description", "Permissions error"),
            ("error_reason", "user_denied"),
        ];
        if let Some(s) = &state {
            pairs.push(("state", s));
        }
        return Resp::redirect(format!("{}#_=_", with_query(&redirect_uri, &pairs)));
    }
    let Some(user) = consent_user(w, consent) else {
        return Resp::html(200, "Error", "Sandbox: the consent user is not a user of this scenario.");
    };
    let requested = &d.requested;
    // FLfB is all-or-nothing (§1.8): nothing can be unticked.
    let declined: Vec<String> = if d.flfb {
        Vec::new()
    } else {
        requested.iter().filter(|s| consent.declined.iter().any(|x| x == *s)).cloned().collect()
    };
    let mut scopes: Vec<String> = requested.iter().filter(|s| !declined.contains(s)).cloned().collect();
    if !scopes.iter().any(|s| s == "public_profile") {
        scopes.push("public_profile".to_string());
    }
    let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let ig_targets: Option<Vec<String>> = consent.instagram_accounts.clone().or_else(|| {
        consent
            .pages
            .as_ref()
            .map(|ps| ps.iter().filter_map(|p| w.pages.get(p).and_then(|pg| pg.instagram.clone())).collect())
    });
    for s in &scopes {
        if s.starts_with("pages_") {
            if let Some(ps) = &consent.pages {
                targets.insert(s.clone(), ps.clone());
            }
        } else if s.starts_with("instagram_") {
            if let Some(ig) = &ig_targets {
                targets.insert(s.clone(), ig.clone());
            }
        } else if s == "business_management" {
            if let Some(b) = &consent.businesses {
                targets.insert(s.clone(), b.clone());
            }
        }
    }
    let now = w.now();
    let response_type = d.response_type.as_str();
    let wants_code = response_type.contains("code") || !response_type.contains("token");
    let wants_token = response_type.contains("token");
    let app_id = w.scenario.facebook_app.id.clone();
    let g = Code {
        targets,
        challenge: d.challenge.clone(),
        ..grant(Family::Facebook, &app_id, &redirect_uri, user, scopes.clone(), declined.clone(), now)
    };
    let token = wants_token.then(|| login_token(&g, TokenKind::User, now, SHORT_LIVED_SECS));
    let mut pairs: Vec<(String, String)> = Vec::new();
    if wants_code {
        let code = new_code();
        w.codes.insert(code.clone(), g);
        pairs.push(("code".into(), code));
    }
    if let Some(t) = token {
        pairs.push(("access_token".into(), w.mint(t)));
        pairs.push(("data_access_expiration_time".into(), (now + DATA_ACCESS_SECS).to_string()));
        pairs.push(("expires_in".into(), SHORT_LIVED_SECS.to_string()));
    }
    if response_type.contains("granted_scopes") {
        pairs.push(("granted_scopes".into(), scopes.join(",")));
        pairs.push(("denied_scopes".into(), declined.join(",")));
    }
    if let Some(s) = &state {
        pairs.push(("state".into(), s.clone()));
    }
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    // §1.2: query for `code`, fragment for `token`; Facebook always appends `#_=_`.
    let location = if wants_token {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &refs {
            ser.append_pair(k, v);
        }
        format!("{redirect_uri}#{}", ser.finish())
    } else {
        format!("{}#_=_", with_query(&redirect_uri, &refs))
    };
    Resp::redirect(location)
}

/// The Facebook user the consent logs in: the one it names, else the scenario's first.
pub fn consent_user(w: &World, consent: &Consent) -> Option<String> {
    consent
        .user
        .clone()
        .or_else(|| w.scenario.users.first().map(|u| u.id.clone()))
        .filter(|u| w.users.contains_key(u))
}

/// `graph.facebook.com/{v}/oauth/access_token` (§1.3, §1.4, app tokens).
pub fn fb_exchange(w: &mut World, req: &Req) -> ApiResult {
    let app = w.scenario.facebook_app.clone();
    let grant = req.param("grant_type").unwrap_or("authorization_code");
    let Some(client_id) = req.param("client_id") else {
        return Err(ApiError::oauth(101, None, "Missing client_id parameter."));
    };
    if client_id != app.id {
        return Err(ApiError::oauth(101, None, "Error validating application. Invalid application ID."));
    }
    let secret = req.param("client_secret");
    let check_secret = |required: bool| -> Result<(), ApiError> {
        match secret {
            Some(s) if s == app.secret => Ok(()),
            Some(_) => Err(ApiError::oauth(1, None, "Error validating client secret.")),
            None if required => Err(ApiError::oauth(101, None, "Missing client_secret parameter.")),
            None => Ok(()),
        }
    };
    let now = w.now();
    match grant {
        "client_credentials" => {
            check_secret(true)?;
            let t = format!("{}|{}", app.id, random_alnum(27));
            w.app_tokens.insert(t.clone());
            Ok(Resp::ok(json!({"access_token": t, "token_type": "bearer"})))
        }
        "fb_exchange_token" => {
            check_secret(true)?;
            let Some(short) = req.param("fb_exchange_token") else {
                return Err(ApiError::missing_param("fb_exchange_token"));
            };
            let Some(t) = w.tokens.get(short).filter(|t| t.family() == Family::Facebook).cloned() else {
                return Err(ApiError::token(None, "Invalid OAuth access token - Cannot parse access token"));
            };
            // §1.4: an expired (or otherwise dead) token can't be exchanged.
            if let Some((sub, msg)) = token_problem(w, &t) {
                return Err(ApiError::token(sub, msg));
            }
            let page_token = t.kind == TokenKind::Page;
            let long = w.mint(Token {
                issued_at: now,
                expires_at: if page_token { 0 } else { now + LONG_LIVED_SECS },
                long_lived: true,
                parent: t.parent.clone(),
                ..t
            });
            let mut out = json!({"access_token": long, "token_type": "bearer"});
            if !page_token {
                out["expires_in"] = json!(LONG_LIVED_SECS);
            }
            Ok(Resp::ok(out))
        }
        _ => {
            let (code, c) =
                checked_code(w, req, Family::Facebook, now, FB_CODE_TTL, |c| c.client_id == app.id)?;
            // §1.7: with PKCE the verifier proves the caller; the secret may be omitted.
            match &c.challenge {
                Some((challenge, method)) => {
                    let Some(v) = req.param("code_verifier") else {
                        return Err(ApiError::oauth(
                            100,
                            None,
                            "(#100) The parameter code_verifier is required",
                        ));
                    };
                    let computed = if method == "S256" {
                        URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
                    } else {
                        v.to_string()
                    };
                    if &computed != challenge {
                        return Err(ApiError::oauth(
                            100,
                            None,
                            "Invalid code_verifier: it does not match the code_challenge of the OAuth dialog request.",
                        ));
                    }
                    check_secret(false)?;
                }
                None => check_secret(true)?,
            }
            let t = redeem(w, &code, &c, TokenKind::User, now, SHORT_LIVED_SECS);
            // A Facebook user who logs in again has re-installed the app.
            w.deauthorized.remove(&c.user);
            let mut out = json!({"access_token": t, "token_type": "bearer",
                                 "expires_in": SHORT_LIVED_SECS});
            if c.scopes.iter().any(|s| s == "openid") {
                out["id_token"] = json!(fake_id_token(&app.id, &c.user, now));
            }
            Ok(Resp::ok(out))
        }
    }
}

/// An unsigned-looking JWT with the OIDC claims (§1.7); the sandbox does not sign it.
fn fake_id_token(aud: &str, sub: &str, now: i64) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"sandbox","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(
        json!({"iss": "https://www.facebook.com", "aud": aud, "sub": sub,
               "iat": now, "exp": now + 3600})
        .to_string(),
    );
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(b"sandbox-signature"))
}

// ------------------------------------------------------------------------------------------
// Instagram Login (§5)

/// An https redirect URI: the only kind the Instagram and Threads dashboards register (§14).
fn https(uri: &str) -> bool {
    uri.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

fn ig_error(msg: &str) -> Resp {
    // §5.2: a different shape from Graph's.
    Resp::json(400, &json!({"error_type": "OAuthException", "code": 400, "error_message": msg}))
}

pub fn ig_authorize(w: &mut World, req: &Req) -> ApiResult {
    let Some(app) = w.scenario.instagram_app.clone() else {
        return Ok(ig_error("Invalid platform app"));
    };
    if req.param("client_id") != Some(app.id.as_str()) {
        return Ok(ig_error("Invalid platform app"));
    }
    let Some(redirect_uri) = req.param("redirect_uri").map(str::to_string) else {
        return Ok(ig_error("Invalid redirect_uri"));
    };
    // §5.1: exact match against the registered list (trailing slash included). §14: the
    // dashboard refuses to save an http URI (localhost included), so one never matches.
    if !https(&redirect_uri) || !app.redirect_uris.contains(&redirect_uri) {
        return Ok(ig_error("Invalid redirect_uri"));
    }
    let scopes = split_scopes(req.param("scope").unwrap_or(""));
    let unknown: Vec<&str> =
        scopes.iter().map(String::as_str).filter(|s| !IG_PERMISSIONS.contains(s)).collect();
    if !unknown.is_empty() {
        return Ok(ig_error(&format!("Invalid scope: [{}]", unknown.join(", "))));
    }
    if !scopes.iter().any(|s| s == "instagram_business_basic" || s == "instagram_basic") {
        return Ok(ig_error("Invalid scope: instagram_business_basic is required"));
    }
    let state = req.param("state");
    let consent = w.consent.clone();
    if consent.outcome == ConsentOutcome::Deny {
        return Ok(denied(&redirect_uri, state));
    }
    let user = consent
        .instagram_user
        .clone()
        .or_else(|| w.scenario.instagram_accounts.iter().find(|a| a.instagram_login).map(|a| a.id.clone()));
    let Some(user) = user.filter(|u| w.ig.contains_key(u)) else {
        return Ok(ig_error("Sandbox: no Instagram Login account in this scenario"));
    };
    let declined: Vec<String> = scopes.iter().filter(|s| consent.declined.contains(s)).cloned().collect();
    let granted: Vec<String> = scopes.iter().filter(|s| !declined.contains(s)).cloned().collect();
    let g = grant(Family::Instagram, &app.id, &redirect_uri, user, granted, declined, w.now());
    Ok(code_redirect(w, g, state))
}

pub fn ig_exchange(w: &mut World, req: &Req) -> ApiResult {
    if req.method != "POST" {
        return Ok(ig_error("Invalid request: this endpoint needs a POST"));
    }
    let Some(app) = w.scenario.instagram_app.clone() else {
        return Ok(ig_error("Invalid platform app"));
    };
    if req.param("client_id") != Some(app.id.as_str()) {
        return Ok(ig_error("Invalid platform app"));
    }
    if req.param("client_secret") != Some(app.secret.as_str()) {
        return Ok(ig_error("Error validating client secret."));
    }
    if req.param("grant_type").is_some_and(|g| g != "authorization_code") {
        return Ok(ig_error("Invalid grant_type"));
    }
    let now = w.now();
    let found = req.param("code").and_then(|c| {
        w.codes.get(c).filter(|c| c.family == Family::Instagram).cloned().map(|v| (c.to_string(), v))
    });
    let Some((code, c)) = found else {
        return Ok(ig_error("Matching code was not found or was already used"));
    };
    if c.used || now - c.created_at > IG_CODE_TTL {
        return Ok(ig_error("Matching code was not found or was already used"));
    }
    if req.param("redirect_uri") != Some(c.redirect_uri.as_str()) {
        return Ok(ig_error(
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        ));
    }
    let t = redeem(w, &code, &c, TokenKind::Instagram, now, 3600);
    let item = json!({"access_token": t, "user_id": c.user, "permissions": c.scopes.join(",")});
    // §5.2: documented `data` array, or the flat object some clients get.
    let body = match w.scenario.settings.instagram_token_response {
        super::scenario::IgTokenShape::Data => json!({ "data": [item] }),
        super::scenario::IgTokenShape::Flat => item,
    };
    Ok(Resp::ok(body))
}

/// Shared long-lived exchange for Instagram (§5.3) and Threads (§6.4).
fn exchange_long(w: &mut World, req: &Req, family: Family, grant: &str) -> ApiResult {
    let secret = match family {
        Family::Instagram => w.scenario.instagram_app.as_ref().map(|a| a.secret.clone()),
        _ => w.scenario.threads_app.as_ref().map(|a| a.secret.clone()),
    };
    if req.param("grant_type") != Some(grant) {
        return Err(ApiError::method(100, None, format!("(#100) Param grant_type must be {grant}")));
    }
    if req.param("client_secret").is_none() {
        return Err(ApiError::oauth(101, None, "Missing client_secret parameter."));
    }
    if req.param("client_secret").map(str::to_string) != secret {
        return Err(ApiError::oauth(1, None, "Error validating client secret."));
    }
    let t = query_token(w, req, family)?;
    let now = w.now();
    let long = w.mint(Token { issued_at: now, expires_at: now + LONG_LIVED_SECS, long_lived: true, ..t });
    Ok(Resp::ok(json!({"access_token": long, "token_type": "bearer", "expires_in": LONG_LIVED_SECS})))
}

/// The token of a long-lived exchange or refresh (§5.3, §5.4, §6.4), which Meta reads only from
/// the `access_token` query parameter: every doc page lists it as a required query parameter, and
/// a token sent only in the `Authorization` header is not seen, so the call fails as if no token
/// were sent (§14). The exact wording of that refusal is our assumption (Graph's "token required").
fn query_token(w: &World, req: &Req, family: Family) -> Result<Token, ApiError> {
    if !req.query.iter().any(|(k, v)| k == "access_token" && !v.is_empty()) {
        return Err(ApiError::missing_token(false));
    }
    live_token(w, req, family)
}

fn live_token(w: &World, req: &Req, family: Family) -> Result<Token, ApiError> {
    let Some(s) = req.token.as_deref() else {
        return Err(ApiError::missing_token(false));
    };
    let Some(t) = w.tokens.get(s).filter(|t| t.family() == family).cloned() else {
        return Err(ApiError::token(None, "Invalid OAuth access token - Cannot parse access token"));
    };
    if let Some((sub, msg)) = token_problem(w, &t) {
        return Err(ApiError::token(sub, msg));
    }
    Ok(t)
}

/// Refresh (§5.4, §6.4): long-lived, at least 24 h old, not expired, basic scope granted.
fn refresh(w: &mut World, req: &Req, family: Family, grant: &str, basic: &[&str]) -> ApiResult {
    if req.param("grant_type") != Some(grant) {
        return Err(ApiError::method(100, None, format!("(#100) Param grant_type must be {grant}")));
    }
    let t = query_token(w, req, family)?;
    let now = w.now();
    if !t.long_lived {
        return Err(ApiError::method(
            100,
            None,
            "(#100) Only long-lived access tokens can be refreshed; exchange the short-lived token first.",
        ));
    }
    if now - t.issued_at < DAY {
        return Err(ApiError::method(
            100,
            None,
            "(#100) The access token can't be refreshed yet: it must be at least 24 hours old.",
        ));
    }
    if !basic.iter().any(|b| t.has_scope(b)) {
        return Err(ApiError::method(
            10,
            None,
            format!("(#10) Refreshing requires the {} permission", basic[0]),
        ));
    }
    let scopes = t.scopes.join(",");
    let long = w.mint(Token { issued_at: now, expires_at: now + LONG_LIVED_SECS, long_lived: true, ..t });
    let mut out = json!({"access_token": long, "token_type": "bearer", "expires_in": LONG_LIVED_SECS});
    if family == Family::Instagram {
        out["permissions"] = Value::String(scopes);
    }
    Ok(Resp::ok(out))
}

pub fn ig_long_lived(w: &mut World, req: &Req) -> ApiResult {
    exchange_long(w, req, Family::Instagram, "ig_exchange_token")
}

pub fn ig_refresh(w: &mut World, req: &Req) -> ApiResult {
    refresh(w, req, Family::Instagram, "ig_refresh_token", &["instagram_business_basic", "instagram_basic"])
}

// ------------------------------------------------------------------------------------------
// Threads (§6)

/// §6.1, §12.8: any id but the Threads app id (the Facebook app id included) fails with 4476002.
fn th_error(msg: &str, code: i64) -> Resp {
    Resp::json(400, &json!({"error_message": msg, "error_code": code}))
}

pub fn th_authorize(w: &mut World, req: &Req) -> ApiResult {
    let Some(app) = w.scenario.threads_app.clone() else {
        return Ok(th_error("No app ID was provided in the request.", 4_476_002));
    };
    if req.param("client_id") != Some(app.id.as_str()) {
        return Ok(th_error("No app ID was provided in the request.", 4_476_002));
    }
    let Some(redirect_uri) = req.param("redirect_uri").map(str::to_string) else {
        return Ok(th_error("Invalid redirect_uri", 1_349_048));
    };
    // §6.2: exact match. §14: the Threads dashboard saves only https URIs (localhost included;
    // fbsamples/threads_api#32), so an http one never matches.
    if !https(&redirect_uri) || !app.redirect_uris.contains(&redirect_uri) {
        return Ok(th_error("Invalid redirect_uri", 1_349_048));
    }
    let scopes = split_scopes(req.param("scope").unwrap_or(""));
    let unknown: Vec<&str> =
        scopes.iter().map(String::as_str).filter(|s| !TH_PERMISSIONS.contains(s)).collect();
    if !unknown.is_empty() {
        return Ok(th_error(&format!("Invalid scope: {}", unknown.join(", ")), 1_349_049));
    }
    if !scopes.iter().any(|s| s == "threads_basic") {
        return Ok(th_error("The threads_basic scope is required.", 1_349_049));
    }
    let state = req.param("state");
    let consent = w.consent.clone();
    if consent.outcome == ConsentOutcome::Deny {
        return Ok(denied(&redirect_uri, state));
    }
    let user =
        consent.threads_user.clone().or_else(|| w.scenario.threads_accounts.first().map(|a| a.id.clone()));
    let Some(user) = user.filter(|u| w.threads.contains_key(u)) else {
        return Ok(th_error("Sandbox: no Threads account in this scenario", 1));
    };
    let declined: Vec<String> =
        scopes.iter().filter(|s| consent.declined.contains(s) && *s != "threads_basic").cloned().collect();
    let granted: Vec<String> = scopes.iter().filter(|s| !declined.contains(s)).cloned().collect();
    let g = grant(Family::Threads, &app.id, &redirect_uri, user, granted, declined, w.now());
    Ok(code_redirect(w, g, state))
}

/// `POST graph.threads.*/oauth/access_token` (§6.3) and Threads app tokens (§2.3).
pub fn th_exchange(w: &mut World, req: &Req) -> ApiResult {
    let Some(app) = w.scenario.threads_app.clone() else {
        return Err(ApiError::oauth(101, None, "Error validating application. Invalid application ID."));
    };
    let Some(client_id) = req.param("client_id") else {
        return Err(ApiError::oauth(101, None, "Missing client_id parameter."));
    };
    if client_id != app.id {
        return Err(ApiError::oauth(101, None, "Error validating application. Invalid application ID."));
    }
    match req.param("client_secret") {
        Some(s) if s == app.secret => {}
        Some(_) => return Err(ApiError::oauth(1, None, "Error validating client secret.")),
        None => {
            return Err(ApiError::oauth(101, None, "Missing client_secret parameter."));
        }
    }
    let now = w.now();
    if req.param("grant_type") == Some("client_credentials") {
        let t = format!("TH|{}|{}", app.id, random_alnum(27));
        w.app_tokens.insert(t.clone());
        return Ok(Resp::ok(json!({"access_token": t, "token_type": "bearer"})));
    }
    let (code, c) = checked_code(w, req, Family::Threads, now, IG_CODE_TTL, |_| true)?;
    let t = redeem(w, &code, &c, TokenKind::Threads, now, 3600);
    // §6.3: no expires_in; valid 1 hour.
    Ok(Resp::ok(json!({"access_token": t, "user_id": c.user})))
}

pub fn th_long_lived(w: &mut World, req: &Req) -> ApiResult {
    exchange_long(w, req, Family::Threads, "th_exchange_token")
}

pub fn th_refresh(w: &mut World, req: &Req) -> ApiResult {
    refresh(w, req, Family::Threads, "th_refresh_token", &["threads_basic"])
}
