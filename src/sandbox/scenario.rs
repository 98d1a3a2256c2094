//! The sandbox's world, as written by hand in a scenario file (docs/sandbox.md).
//!
//! Every struct rejects unknown fields so a typo in a hand-written file fails loudly with the
//! path, line and column instead of silently doing nothing.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use super::SandboxError;

/// A parsed world: apps, people, Pages, accounts, tokens and knobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Free text shown by `GET /_sandbox/scenario`.
    #[serde(default)]
    pub description: String,
    pub facebook_app: FacebookApp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instagram_app: Option<OtherApp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_app: Option<OtherApp>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub pages: Vec<Page>,
    #[serde(default)]
    pub businesses: Vec<Business>,
    #[serde(default)]
    pub instagram_accounts: Vec<InstagramAccount>,
    #[serde(default)]
    pub threads_accounts: Vec<ThreadsAccount>,
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    #[serde(default)]
    pub consent: Consent,
    #[serde(default)]
    pub settings: Settings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookApp {
    pub id: String,
    pub secret: String,
    #[serde(default = "default_app_name")]
    pub name: String,
    /// Valid OAuth Redirect URIs; strict exact matching (§1.6).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub mode: AppMode,
    #[serde(default)]
    pub require_appsecret_proof: bool,
    /// Users with a role on the app: their user tokens may call `debug_token` (§2.1).
    #[serde(default)]
    pub developers: Vec<String>,
    /// The app type is Native/Desktop: Meta treats calls made with its app token as if no
    /// token were sent (https://developers.facebook.com/docs/facebook-login/security/).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub native: bool,
    /// Facebook Login for Business configurations made in the dashboard: a `config_id` and the
    /// permissions it grants (meta-platform.md §1.8, §14).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub login_configurations: Vec<LoginConfiguration>,
    /// The app's only login product is Facebook Login for Business: a dialog without
    /// `config_id` gets "It looks like this app isn't available" (§14).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub business_login_only: bool,
}

/// One Facebook Login for Business configuration (§1.8).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginConfiguration {
    pub id: String,
    pub permissions: Vec<String>,
}

/// Instagram Login or Threads app: its own id and secret (§5.1, §6.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherApp {
    pub id: String,
    pub secret: String,
    #[serde(default = "default_app_name")]
    pub name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Threads testers (account ids): only their tokens may call Threads `debug_token` (§2.3).
    #[serde(default)]
    pub testers: Vec<String>,
    /// The app's access level. Under `standard` (no App Review yet) Meta answers only for
    /// users with a role on the app (https://developers.facebook.com/docs/graph-api/overview/access-levels).
    #[serde(default, skip_serializing_if = "AccessLevel::is_advanced")]
    pub access_level: AccessLevel,
    /// Account ids with a role on the app (admin, developer, tester); Threads testers count too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// An app's access level for the permissions it asks for
/// (https://developers.facebook.com/docs/graph-api/overview/access-levels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    /// Only users with a role on the app.
    Standard,
    /// Anyone (App Review passed).
    #[default]
    Advanced,
}

impl AccessLevel {
    pub fn is_advanced(&self) -> bool {
        *self == AccessLevel::Advanced
    }
}

fn default_app_name() -> String {
    "sq sandbox".to_string()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppMode {
    /// Loopback `http://localhost`/`127.0.0.1` redirects are allowed without registration (§1.6).
    #[default]
    Development,
    Live,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub id: String,
    pub name: String,
    #[serde(default = "default_category")]
    pub category: String,
    /// Classic Page roles: user id → tasks. These Pages show in `/me/accounts` (§4.1).
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    /// Roles that come only through a business portfolio: absent from `/me/accounts` (§4.3).
    #[serde(default)]
    pub portfolio_roles: BTreeMap<String, Vec<String>>,
    /// Linked Instagram professional account id (§4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instagram: Option<String>,
}

fn default_category() -> String {
    "Local Business".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Business {
    pub id: String,
    pub name: String,
    /// Users who can see this business in `/me/businesses`.
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub owned_pages: Vec<String>,
    #[serde(default)]
    pub client_pages: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstagramAccount {
    /// The professional account id used for publishing.
    pub id: String,
    pub username: String,
    /// Usable through Instagram Login (the IG-Login consent can pick it).
    #[serde(default)]
    pub instagram_login: bool,
    /// Publishes already counted in the rolling 24 h window when the world starts.
    #[serde(default)]
    pub quota_used: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadsAccount {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub quota_used: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Facebook user token (`EAA…`).
    User,
    /// Facebook Page token (`EAA…`), needs `user` and `page`.
    Page,
    /// Instagram Login user token (`IGAA…`); `user` is the Instagram account id.
    Instagram,
    /// Threads user token (`TH…`); `user` is the Threads account id.
    Threads,
}

/// Why a token is dead; maps to the 190 subcode (§8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invalidation {
    AppRemoved,
    Checkpoint,
    PasswordChanged,
    Expired,
    Unconfirmed,
    LoggedOut,
    PageRoleLost,
    /// No subcode: "Invalid OAuth access token".
    Invalid,
}

impl Invalidation {
    pub fn subcode(self) -> Option<u32> {
        match self {
            Invalidation::AppRemoved => Some(458),
            Invalidation::Checkpoint => Some(459),
            Invalidation::PasswordChanged => Some(460),
            Invalidation::Expired => Some(463),
            Invalidation::Unconfirmed => Some(464),
            Invalidation::LoggedOut => Some(467),
            Invalidation::PageRoleLost => Some(492),
            Invalidation::Invalid => None,
        }
    }
}

/// A literal token with its full state, so users can `echo TOKEN | sq token import …`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    pub token: String,
    pub kind: TokenKind,
    /// Facebook user id, or the Instagram / Threads account id.
    pub user: String,
    /// Page id, for Page tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// The user token a Page token came from (then `/me/accounts` with it returns this token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub declined: Vec<String>,
    /// Granular grants: scope → asset ids. A scope not listed covers all assets (§2.2).
    #[serde(default)]
    pub targets: BTreeMap<String, Vec<String>>,
    /// How long ago it was issued (default 1 h).
    #[serde(default = "one_hour_ago")]
    pub issued: Dur,
    /// Seconds from now until it expires, `"never"`, or absent for the default of its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<Expiry>,
    /// Seconds from now until data access ends (default 89 days, §3.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_expires_in: Option<Dur>,
    #[serde(default = "yes")]
    pub long_lived: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<Invalidation>,
}

fn yes() -> bool {
    true
}

fn one_hour_ago() -> Dur {
    Dur(3600)
}

/// What the next consent screen does (also settable through `POST /_sandbox/consent`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    #[serde(default)]
    pub outcome: ConsentOutcome,
    /// Whether the Facebook dialog shows its consent form or answers at once.
    #[serde(default, skip_serializing_if = "ConsentScreen::is_default")]
    pub screen: ConsentScreen,
    /// Facebook user who logs in (default: the first user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Pages ticked; absent = "all current and future Pages" (no `target_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<Vec<String>>,
    /// Instagram accounts ticked (Facebook Login); absent = those linked to the ticked Pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instagram_accounts: Option<Vec<String>>,
    /// Businesses ticked; absent = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub businesses: Option<Vec<String>>,
    /// Requested permissions the user unticks.
    #[serde(default)]
    pub declined: Vec<String>,
    /// Instagram Login account that logs in (default: the first with `instagram_login`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instagram_user: Option<String>,
    /// Threads account that logs in (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_user: Option<String>,
}

/// How the Facebook Login dialog meets its visitor. A person's browser asks for HTML
/// (`Accept: text/html`) and gets the consent form, pre-set from this consent, which it submits;
/// a script that plays the browser (no `text/html` in `Accept`) gets the redirect at once, as if
/// the person had pressed the pre-set button.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentScreen {
    /// The form for browsers, the redirect for scripts.
    #[default]
    Browser,
    /// Always the form.
    Form,
    /// Always the redirect.
    Auto,
}

impl ConsentScreen {
    fn is_default(&self) -> bool {
        *self == ConsentScreen::Browser
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentOutcome {
    #[default]
    Grant,
    Deny,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Polls answering `IN_PROGRESS` before a container is `FINISHED`.
    #[serde(default = "one")]
    pub container_polls: u32,
    /// Sandbox seconds after which a container is `FINISHED` regardless of polls.
    #[serde(default = "sixty")]
    pub container_ready_secs: i64,
    #[serde(default = "hundred")]
    pub instagram_quota_total: u32,
    #[serde(default = "two_fifty")]
    pub threads_quota_total: u32,
    /// `data` (documented) or `flat` (seen in the wild) code-exchange shape (§5.2).
    #[serde(default)]
    pub instagram_token_response: IgTokenShape,
    /// Media URLs containing this fail to fetch (9004/2207052, container ERROR).
    #[serde(default = "broken")]
    pub broken_media_marker: String,
    /// Same message on the same Page within this many seconds → 506.
    #[serde(default = "hour")]
    pub duplicate_window_secs: i64,
    /// Calls per hour that make 100 % of `X-App-Usage` / `X-Business-Use-Case-Usage`.
    #[serde(default = "ten_thousand")]
    pub call_budget: u64,
    /// Batch items slower than this come back `null` (§10).
    #[serde(default = "ten")]
    pub batch_item_timeout_secs: u64,
    /// Threads: a `threads_publish` sooner than this many sandbox seconds after the container
    /// was created answers 24/4279009 "Media Not Found", even when its status reads FINISHED.
    #[serde(default)]
    pub threads_not_found_secs: i64,
    /// Threads: the first N `threads_publish` calls of every container answer 24/4279009.
    #[serde(default)]
    pub threads_not_found_publishes: u32,
}

fn one() -> u32 {
    1
}
fn sixty() -> i64 {
    60
}
fn hundred() -> u32 {
    100
}
fn two_fifty() -> u32 {
    250
}
fn broken() -> String {
    "broken".to_string()
}
fn hour() -> i64 {
    3600
}
fn ten_thousand() -> u64 {
    10_000
}
fn ten() -> u64 {
    10
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            container_polls: one(),
            container_ready_secs: sixty(),
            instagram_quota_total: hundred(),
            threads_quota_total: two_fifty(),
            instagram_token_response: IgTokenShape::default(),
            broken_media_marker: broken(),
            duplicate_window_secs: hour(),
            call_budget: ten_thousand(),
            batch_item_timeout_secs: ten(),
            threads_not_found_secs: 0,
            threads_not_found_publishes: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IgTokenShape {
    #[default]
    Data,
    Flat,
}

/// Preset usage percentages (§9), same shape as `POST /_sandbox/usage`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<AppUsage>,
    /// Business object id (Page or Instagram account id) → usage.
    #[serde(default)]
    pub objects: BTreeMap<String, BucUsage>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppUsage {
    #[serde(default)]
    pub call_count: u32,
    #[serde(default)]
    pub total_time: u32,
    #[serde(default)]
    pub total_cputime: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucUsage {
    /// `pages` (default) or `instagram`.
    #[serde(default = "pages_type", rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub call_count: u32,
    #[serde(default)]
    pub total_time: u32,
    #[serde(default)]
    pub total_cputime: u32,
    /// Minutes (§9).
    #[serde(default)]
    pub estimated_time_to_regain_access: u32,
}

fn pages_type() -> String {
    "pages".to_string()
}

/// A signed duration in seconds: an integer, or a string like `"90d"`, `"-1h"`, `"36 hours"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub i64);

impl Dur {
    pub fn parse(s: &str) -> Result<Dur, String> {
        let s = s.trim();
        let (neg, rest) = match s.strip_prefix('-') {
            Some(r) => (true, r.trim()),
            None => (false, s),
        };
        if let Ok(n) = rest.parse::<i64>() {
            return Ok(Dur(if neg { -n } else { n }));
        }
        let d = humantime::parse_duration(rest).map_err(|e| format!("bad duration {s:?}: {e}"))?;
        let secs = i64::try_from(d.as_secs()).map_err(|_| format!("duration too large: {s:?}"))?;
        Ok(Dur(if neg { -secs } else { secs }))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => {
                n.as_i64().map(Dur).ok_or_else(|| serde::de::Error::custom("duration must be whole seconds"))
            }
            Value::String(s) => Dur::parse(&s).map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom("duration must be seconds or a string like \"90d\"")),
        }
    }
}

/// `"never"` (expires_at 0) or a duration from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    In(Dur),
}

impl Serialize for Expiry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expiry::Never => s.serialize_str("never"),
            Expiry::In(d) => d.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s == "never" => Ok(Expiry::Never),
            v => Dur::deserialize(v).map(Expiry::In).map_err(serde::de::Error::custom),
        }
    }
}

const BUILTIN_NAMES: &[&str] = &["default", "findings", "story", "pages:N"];

impl Scenario {
    /// Built-in worlds: `default`, `findings`, `story`, and the generator `pages:N`.
    pub fn builtin(name: &str) -> Result<Scenario, SandboxError> {
        let value = match name {
            "default" => default_world(),
            "findings" => findings_world(),
            "story" => story_world(),
            other => match other.strip_prefix("pages:").map(str::parse::<usize>) {
                Some(Ok(n)) if (1..=100_000).contains(&n) => pages_world(n),
                _ => {
                    return Err(SandboxError::UnknownScenario {
                        name: name.to_string(),
                        known: BUILTIN_NAMES.join(", "),
                    });
                }
            },
        };
        Scenario::from_value(value, &format!("built-in scenario {name}"))
    }

    pub fn from_path(path: &Path) -> Result<Scenario, SandboxError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SandboxError::ScenarioIo { path: path.to_path_buf(), source })?;
        Scenario::from_json_str(&text).map_err(|e| SandboxError::ScenarioParse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// A path if it exists or looks like one (has a separator or ends in `.json`), else a built-in.
    pub fn load(name_or_path: &str) -> Result<Scenario, SandboxError> {
        let p = Path::new(name_or_path);
        if p.exists()
            || name_or_path.contains('/')
            || name_or_path.contains(std::path::MAIN_SEPARATOR)
            || name_or_path.ends_with(".json")
        {
            Scenario::from_path(p)
        } else {
            Scenario::builtin(name_or_path)
        }
    }

    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    pub(crate) fn from_json_str(text: &str) -> Result<Scenario, serde_json::Error> {
        serde_json::from_str(text)
    }

    fn from_value(value: Value, what: &str) -> Result<Scenario, SandboxError> {
        serde_json::from_value(value).map_err(|e| SandboxError::Internal(format!("{what}: {e}")))
    }
}

// ---------------------------------------------------------------------------------------------
// Built-in worlds. Written as JSON so they go through the same parser as users' files.

const FB_APP_ID: &str = "111111111111111";
const IG_APP_ID: &str = "222222222222222";
const TH_APP_ID: &str = "333333333333333";

const ADMIN: &[&str] = &["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"];

const FB_SCOPES: &[&str] = &[
    "public_profile",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
];
const IG_SCOPES: &[&str] = &["instagram_business_basic", "instagram_business_content_publish"];
const TH_SCOPES: &[&str] = &["threads_basic", "threads_content_publish"];

fn apps(description: &str) -> Value {
    json!({
        "description": description,
        "facebook_app": {
            "id": FB_APP_ID, "secret": "sandbox-facebook-secret", "name": "sq sandbox",
            "redirect_uris": ["http://127.0.0.1:8765/callback", "http://localhost:8765/callback",
                              "https://127.0.0.1:8765/callback", "https://localhost:8765/callback"],
            "mode": "development",
            "developers": ["100000000000001"]
        },
        // §14: the Instagram and Threads dashboards save only https redirect URIs.
        "instagram_app": {
            "id": IG_APP_ID, "secret": "sandbox-instagram-secret", "name": "sq sandbox (Instagram)",
            "redirect_uris": ["https://127.0.0.1:8765/callback", "https://localhost:8765/callback"]
        },
        "threads_app": {
            "id": TH_APP_ID, "secret": "sandbox-threads-secret", "name": "sq sandbox (Threads)",
            "redirect_uris": ["https://127.0.0.1:8765/callback", "https://localhost:8765/callback"],
            "testers": ["7000000000000001", "7000000000000800"]
        }
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
    base
}

fn user_token(token: &str, user: &str) -> Value {
    json!({"token": token, "kind": "user", "user": user, "scopes": FB_SCOPES})
}

fn page_token(token: &str, user: &str, page: &str, parent: &str) -> Value {
    json!({"token": token, "kind": "page", "user": user, "page": page, "parent": parent,
           "scopes": FB_SCOPES})
}

/// Dana Rivera's Acme: three Pages (Acme Bakery has Instagram) in one portfolio, plus an
/// Instagram Login account and a Threads account. The default and story worlds differ only in
/// their tokens.
fn acme(description: &str, tokens: Value) -> Value {
    with(
        apps(description),
        json!({
            "users": [{"id": "100000000000001", "name": "Dana Rivera"}],
            "pages": [
                {"id": "777", "name": "Acme Bakery", "category": "Bakery",
                 "roles": {"100000000000001": ADMIN}, "instagram": "17841400000000001"},
                {"id": "888", "name": "Acme Catering", "category": "Caterer",
                 "roles": {"100000000000001": ADMIN}},
                {"id": "999", "name": "Acme Events", "category": "Event Planner",
                 "roles": {"100000000000001": ADMIN}}
            ],
            "businesses": [{"id": "5000000000001", "name": "Acme Holdings",
                            "users": ["100000000000001"], "owned_pages": ["777", "888", "999"]}],
            "instagram_accounts": [
                {"id": "17841400000000001", "username": "acme.bakery"},
                {"id": "17841400000000002", "username": "acme.studio", "instagram_login": true}
            ],
            "threads_accounts": [{"id": "7000000000000001", "username": "acme.threads"}],
            "tokens": tokens
        }),
    )
}

fn default_world() -> Value {
    let u = "EAASandboxDefaultUser0000000000000000001";
    acme(
        "Healthy world: Dana Rivera admins three Pages (Acme Bakery has Instagram), plus an Instagram Login account and a Threads account.",
        json!([
            user_token(u, "100000000000001"),
            page_token("EAASandboxDefaultPage777000000000000001", "100000000000001", "777", u),
            page_token("EAASandboxDefaultPage888000000000000001", "100000000000001", "888", u),
            page_token("EAASandboxDefaultPage999000000000000001", "100000000000001", "999", u),
            {"token": "IGAASandboxDefaultInstagram000000000001", "kind": "instagram",
             "user": "17841400000000002", "scopes": IG_SCOPES, "issued": "1h"},
            {"token": "THAASandboxDefaultThreads00000000000001", "kind": "threads",
             "user": "7000000000000001", "scopes": TH_SCOPES, "issued": "1h"}
        ]),
    )
}

/// One broken-user-with-one-Page profile: user token + Page token, both with `invalid`.
#[derive(Default)]
struct World3 {
    users: Vec<Value>,
    pages: Vec<Value>,
    tokens: Vec<Value>,
}

fn broken_pair(
    acc: &mut World3,
    code: &str,
    name: &str,
    user_invalid: Option<&str>,
    page_invalid: Option<&str>,
    extra_user: Value,
) {
    let uid = format!("100000000000{code}");
    let pid = format!("{code}0");
    let ut = format!("EAASandboxFindings{code}User00000000000001");
    let pt = format!("EAASandboxFindings{code}Page00000000000001");
    acc.users.push(json!({"id": uid, "name": format!("{name} Owner")}));
    acc.pages.push(json!({"id": pid, "name": name, "roles": {uid.clone(): ADMIN}}));
    let mut u = with(user_token(&ut, &uid), extra_user.clone());
    let mut p = with(page_token(&pt, &uid, &pid, &ut), extra_user);
    if let Some(i) = user_invalid {
        u["invalid"] = json!(i);
    }
    if let Some(i) = page_invalid {
        p["invalid"] = json!(i);
    }
    acc.tokens.push(u);
    acc.tokens.push(p);
}

fn findings_world() -> Value {
    let mut acc = World3::default();
    let none = json!({});
    for (code, name, inv) in [
        ("460", "Password Bakery", "password_changed"),
        ("458", "Removed App Cafe", "app_removed"),
        ("467", "Logged Out Deli", "logged_out"),
        ("459", "Checkpoint Diner", "checkpoint"),
        ("464", "Unconfirmed Bistro", "unconfirmed"),
        ("190", "Garbled Token Pub", "invalid"),
    ] {
        broken_pair(&mut acc, code, name, Some(inv), Some(inv), none.clone());
    }
    // 463: expired yesterday, from a short-lived user token so the Page token expired with it.
    broken_pair(
        &mut acc,
        "463",
        "Expired Grill",
        None,
        None,
        json!({"issued": "2h", "expires_in": "-1d", "long_lived": false}),
    );
    // 492: the user lost the role; the user token is fine, the Page token is dead.
    broken_pair(&mut acc, "492", "Lost Role Tavern", None, Some("page_role_lost"), none.clone());
    let World3 { mut users, mut pages, mut tokens } = acc;
    if let Some(p) = pages.iter_mut().find(|p| p["id"] == "4920") {
        p["roles"] = json!({});
    }
    // Instagram via the password-changed Page: instagram_page_broken.
    if let Some(p) = pages.iter_mut().find(|p| p["id"] == "4600") {
        p["instagram"] = json!("17841400000004600");
    }
    // Declined permission: pages_manage_posts unticked.
    let scopes_declined: Vec<&str> =
        FB_SCOPES.iter().copied().filter(|s| *s != "pages_manage_posts").collect();
    users.push(json!({"id": "100000000000200", "name": "Sam Scopes"}));
    pages.push(json!({"id": "2000", "name": "Declined Scope Shop", "roles": {"100000000000200": ADMIN}}));
    tokens.push(json!({"token": "EAASandboxFindings200User00000000000001", "kind": "user",
        "user": "100000000000200", "scopes": scopes_declined, "declined": ["pages_manage_posts"]}));
    tokens.push(json!({"token": "EAASandboxFindings200Page00000000000001", "kind": "page",
        "user": "100000000000200", "page": "2000", "parent": "EAASandboxFindings200User00000000000001",
        "scopes": scopes_declined, "declined": ["pages_manage_posts"]}));
    // Granular: 3001 ticked, 3002 not ticked, 3003 ticked but reached only through a portfolio.
    let gu = "EAASandboxFindings300User00000000000001";
    users.push(json!({"id": "100000000000300", "name": "Gina Granular"}));
    pages.push(json!({"id": "3001", "name": "Ticked Flowers", "roles": {"100000000000300": ADMIN}}));
    pages.push(json!({"id": "3002", "name": "Unticked Florist", "roles": {"100000000000300": ADMIN}}));
    pages.push(
        json!({"id": "3003", "name": "Portfolio Garden", "portfolio_roles": {"100000000000300": ADMIN}}),
    );
    let targets = json!({"pages_show_list": ["3001", "3003"], "pages_read_engagement": ["3001", "3003"],
                         "pages_manage_posts": ["3001", "3003"]});
    tokens.push(with(user_token(gu, "100000000000300"), json!({"targets": targets})));
    tokens.push(with(
        page_token("EAASandboxFindings300Page30010000000001", "100000000000300", "3001", gu),
        json!({"targets": targets}),
    ));
    tokens.push(with(
        // §4.3: the token itself stays valid; calls on the unticked Page fail with a
        // permission error (code 10/200), and target_ids no longer list it.
        page_token("EAASandboxFindings300Page30020000000001", "100000000000300", "3002", gu),
        json!({"targets": targets}),
    ));
    tokens.push(with(
        page_token("EAASandboxFindings300Page30030000000001", "100000000000300", "3003", gu),
        json!({"targets": targets}),
    ));
    // Not an Admin (no MANAGE) on 4001; no CREATE_CONTENT on 4002.
    let nu = "EAASandboxFindings400User00000000000001";
    users.push(json!({"id": "100000000000400", "name": "Nora Editor"}));
    pages.push(json!({"id": "4001", "name": "Editor Only Books",
                      "roles": {"100000000000400": ["ANALYZE", "MODERATE", "CREATE_CONTENT"]}}));
    pages.push(json!({"id": "4002", "name": "Analyst Only Games",
                      "roles": {"100000000000400": ["ANALYZE", "ADVERTISE"]}}));
    tokens.push(user_token(nu, "100000000000400"));
    tokens.push(page_token("EAASandboxFindings400Page40010000000001", "100000000000400", "4001", nu));
    tokens.push(page_token("EAASandboxFindings400Page40020000000001", "100000000000400", "4002", nu));
    // Instagram unlinked from 5001 (the account still exists).
    let lu = "EAASandboxFindings500User00000000000001";
    users.push(json!({"id": "100000000000500", "name": "Lou Unlinked"}));
    pages.push(json!({"id": "5001", "name": "Unlinked Studio", "roles": {"100000000000500": ADMIN}}));
    tokens.push(user_token(lu, "100000000000500"));
    tokens.push(page_token("EAASandboxFindings500Page50010000000001", "100000000000500", "5001", lu));
    // Expiring within 7 days; its Page has Instagram near the publishing limit and heavy usage.
    let eu = "EAASandboxFindings700User00000000000001";
    users.push(json!({"id": "100000000000700", "name": "Eve Expiring"}));
    pages.push(json!({"id": "7000", "name": "Expiring Soon Market", "roles": {"100000000000700": ADMIN},
                      "instagram": "17841400000007000"}));
    tokens.push(with(user_token(eu, "100000000000700"), json!({"issued": "55d", "expires_in": "5d"})));
    tokens.push(with(
        page_token("EAASandboxFindings700Page70000000000001", "100000000000700", "7000", eu),
        json!({"issued": "55d", "expires_in": "5d"}),
    ));
    // Data access expiring in 5 days / expired yesterday.
    for (code, page, name, da) in
        [("900", "9000", "Fading Access Gym", "5d"), ("901", "9010", "Lapsed Access Spa", "-1d")]
    {
        let uid = format!("100000000000{code}");
        let ut = format!("EAASandboxFindings{code}User00000000000001");
        users.push(json!({"id": uid, "name": format!("{name} Owner")}));
        pages.push(json!({"id": page, "name": name, "roles": {uid.clone(): ADMIN}}));
        tokens.push(with(user_token(&ut, &uid), json!({"data_access_expires_in": da})));
        tokens.push(with(
            page_token(&format!("EAASandboxFindings{code}Page00000000000001"), &uid, page, &ut),
            json!({"data_access_expires_in": da}),
        ));
    }
    with(
        apps("Every Meta-side finding of spec §4, one profile each (see docs/sandbox.md)."),
        json!({
            "users": users,
            "pages": pages,
            "businesses": [{"id": "5000000000003", "name": "Garden Portfolio",
                            "users": ["100000000000300"], "owned_pages": ["3003"]}],
            "instagram_accounts": [
                {"id": "17841400000004600", "username": "password.bakery"},
                {"id": "17841400000005001", "username": "unlinked.studio"},
                {"id": "17841400000007000", "username": "expiring.market", "quota_used": 90},
                {"id": "17841400000000800", "username": "refresh.window", "instagram_login": true,
                 "quota_used": 100}
            ],
            "threads_accounts": [{"id": "7000000000000800", "username": "refresh.threads",
                                  "quota_used": 240}],
            "tokens": tokens.into_iter().chain([
                json!({"token": "IGAASandboxFindingsRefreshWindow000001", "kind": "instagram",
                       "user": "17841400000000800", "scopes": IG_SCOPES, "issued": "3d",
                       "expires_in": "57d"}),
                json!({"token": "THAASandboxFindingsRefreshWindow000001", "kind": "threads",
                       "user": "7000000000000800", "scopes": TH_SCOPES, "issued": "3d",
                       "expires_in": "57d"})
            ]).collect::<Vec<_>>(),
            "usage": {"app": {"call_count": 85, "total_time": 40, "total_cputime": 30},
                      "objects": {"7000": {"type": "pages", "call_count": 92, "total_time": 20,
                                           "total_cputime": 20, "estimated_time_to_regain_access": 0}}}
        }),
    )
}

fn story_world() -> Value {
    let u = "EAASandboxStoryUser00000000000000000001";
    // Dana changed her password (the old Page token for 777 died with 460), logged back in and
    // left Acme Catering (888) unticked; her Instagram Login token expired last week.
    let targets = json!({"pages_show_list": ["777", "999"], "pages_read_engagement": ["777", "999"],
                         "pages_manage_posts": ["777", "999"], "instagram_basic": ["17841400000000001"],
                         "instagram_content_publish": ["17841400000000001"]});
    acme(
        "Demo story: a password change, an unticked Page and an expired Instagram token; one re-consent each fixes them.",
        json!([
            with(user_token(u, "100000000000001"), json!({"targets": targets})),
            with(page_token("EAASandboxStoryPage777000000000000001", "100000000000001", "777", u),
                 json!({"targets": targets, "invalid": "password_changed", "parent": null})),
            with(page_token("EAASandboxStoryPage888000000000000001", "100000000000001", "888", u),
                 json!({"targets": targets})),
            with(page_token("EAASandboxStoryPage999000000000000001", "100000000000001", "999", u),
                 json!({"targets": targets})),
            {"token": "IGAASandboxStoryInstagram0000000000001", "kind": "instagram",
             "user": "17841400000000002", "scopes": IG_SCOPES, "issued": "67d",
             "expires_in": "-7d"},
            {"token": "THAASandboxStoryThreads000000000000001", "kind": "threads",
             "user": "7000000000000001", "scopes": TH_SCOPES, "issued": "1h"}
        ]),
    )
}

fn pages_world(n: usize) -> Value {
    let uid = "100000000000001";
    let pages: Vec<Value> = (0..n)
        .map(|i| {
            let mut p = json!({"id": format!("{}", 20_000_000_000u64 + i as u64),
                               "name": format!("Bench Page {i}"),
                               "roles": {uid: ADMIN}});
            if i % 2 == 0 {
                p["instagram"] = json!(format!("{}", 17_841_500_000_000_000u64 + i as u64));
            }
            p
        })
        .collect();
    let igs: Vec<Value> = (0..n)
        .step_by(2)
        .map(|i| {
            json!({"id": format!("{}", 17_841_500_000_000_000u64 + i as u64),
                   "username": format!("bench.ig.{i}")})
        })
        .collect();
    with(
        apps(&format!("Benchmark world: one user, {n} Pages (all Admin), half with Instagram.")),
        json!({
            "users": [{"id": uid, "name": "Bench User"}],
            "pages": pages,
            "instagram_accounts": igs,
            "tokens": [user_token("EAASandboxPagesUser00000000000000000001", uid)]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for name in ["default", "findings", "story", "pages:10"] {
            let s = Scenario::builtin(name);
            assert!(s.is_ok(), "{name}: {:?}", s.err());
        }
    }

    #[test]
    fn unknown_builtin_lists_names() {
        let e = Scenario::builtin("nope").err().map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("default") && m.contains("pages:N")));
    }

    #[test]
    fn unknown_field_rejected() {
        let r = Scenario::from_json_str(r#"{"facebook_app":{"id":"1","secret":"s","bogus":1}}"#);
        assert!(r.is_err_and(|e| e.to_string().contains("bogus")));
    }

    #[test]
    fn durations() {
        assert_eq!(Dur::parse("-1d"), Ok(Dur(-86400)));
        assert_eq!(Dur::parse("90"), Ok(Dur(90)));
        assert_eq!(Dur::parse("36 hours"), Ok(Dur(36 * 3600)));
    }
}
