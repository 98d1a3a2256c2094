//! Typed answers of the calls sq makes. Tolerant by design: every field Meta may omit is
//! optional or defaulted, unknown fields are ignored, ids are accepted as strings or numbers,
//! and tokens are secrets the moment they are decoded ([`UserToken`], [`PageToken`]).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use crate::model::classify::{Classification, classify};
use crate::secret::{PageToken, Secret, UserToken};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

// --- lenient field decoders -------------------------------------------------------------------

pub(super) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d).map(Option::unwrap_or_default)
}

pub(super) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.as_ref().and_then(super::error::int))
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s == "true",
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    })
}

/// A list of strings: also accepts numbers inside (`target_ids`, §2.2), a comma-separated
/// string (Instagram `permissions`, §5.2), or nothing.
/// [`string_list`], keeping "not in the answer" (`None`) apart from an empty list.
fn opt_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => string_list(v).map(Some).map_err(serde::de::Error::custom),
    }
}

pub(super) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => {
            s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
        }
        _ => Vec::new(),
    })
}

fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() => Some(Secret::new(s)),
        _ => None,
    })
}

fn user_token<'de, D: Deserializer<'de>>(d: D) -> Result<UserToken, D::Error> {
    opt_secret(d)?.map(UserToken::from_secret).ok_or_else(|| serde::de::Error::custom("missing access_token"))
}

fn opt_page_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PageToken>, D::Error> {
    Ok(opt_secret(d)?.map(PageToken::from_secret))
}

// --- debug_token (§2) -------------------------------------------------------------------------

/// `debug_token`'s `data` (§2.2 Facebook, §2.3 Threads: a subset, no `app_id`,
/// `granular_scopes` or `metadata`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DebugToken {
    #[serde(deserialize_with = "opt_string")]
    pub app_id: Option<String>,
    /// `USER`, `PAGE`, `APP` (`SYSTEM_USER` unconfirmed).
    #[serde(rename = "type", deserialize_with = "opt_string")]
    pub token_type: Option<String>,
    #[serde(deserialize_with = "opt_string")]
    pub application: Option<String>,
    #[serde(deserialize_with = "opt_i64")]
    pub data_access_expires_at: Option<i64>,
    /// Unix time; **0 means never** (§2.2) — use [`DebugToken::expires`].
    #[serde(deserialize_with = "opt_i64")]
    pub expires_at: Option<i64>,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_valid: bool,
    #[serde(deserialize_with = "opt_i64")]
    pub issued_at: Option<i64>,
    pub metadata: Option<Value>,
    /// Page tokens only: the Page id.
    #[serde(deserialize_with = "opt_string")]
    pub profile_id: Option<String>,
    #[serde(deserialize_with = "string_list")]
    pub scopes: Vec<String>,
    pub granular_scopes: Vec<GranularScope>,
    #[serde(deserialize_with = "opt_string")]
    pub user_id: Option<String>,
    pub error: Option<DebugTokenError>,
}

/// When the token expires: `Never` for `expires_at: 0` (§2.2), `Unknown` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    At(i64),
    Unknown,
}

impl DebugToken {
    pub fn expires(&self) -> Expiry {
        match self.expires_at {
            Some(0) => Expiry::Never,
            Some(t) => Expiry::At(t),
            None => Expiry::Unknown,
        }
    }

    /// The classification of the token's own error (`is_valid: false`), e.g. 190/460.
    pub fn error_classification(&self) -> Option<Classification> {
        self.error.as_ref().map(|e| classify(e.code, e.subcode, None))
    }

    /// `target_ids` of one scope: `None` when the scope is not granted granularly at all,
    /// `Some([])` when it covers all assets (the field is omitted then, §2.2).
    pub fn targets(&self, scope: &str) -> Option<&[String]> {
        self.granular_scopes.iter().find(|g| g.scope == scope).map(|g| g.target_ids.as_slice())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GranularScope {
    #[serde(deserialize_with = "string")]
    pub scope: String,
    /// Strings in real answers though documented as ints (§2.2); empty = all assets.
    #[serde(deserialize_with = "string_list")]
    pub target_ids: Vec<String>,
}

/// The inner error of an invalid token: `{code, subcode, message}` (note `subcode`, §2.2).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DebugTokenError {
    #[serde(deserialize_with = "opt_i64")]
    pub code: Option<i64>,
    #[serde(deserialize_with = "opt_i64", alias = "error_subcode")]
    pub subcode: Option<i64>,
    #[serde(deserialize_with = "string")]
    pub message: String,
}

// --- user, permissions, pages (§3, §4) ---------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Me {
    #[serde(deserialize_with = "string")]
    pub id: String,
    #[serde(deserialize_with = "opt_string")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionStatus {
    Granted,
    Declined,
    /// The 90-day data-access expiry (§3.4).
    Expired,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Permission {
    #[serde(default, deserialize_with = "string")]
    pub permission: String,
    #[serde(default, deserialize_with = "status")]
    pub status: PermissionStatus,
}

impl Default for PermissionStatus {
    fn default() -> Self {
        PermissionStatus::Other(String::new())
    }
}

fn status<'de, D: Deserializer<'de>>(d: D) -> Result<PermissionStatus, D::Error> {
    let s = opt_string(d)?.unwrap_or_default();
    Ok(match s.to_ascii_lowercase().as_str() {
        "granted" => PermissionStatus::Granted,
        "declined" => PermissionStatus::Declined,
        "expired" => PermissionStatus::Expired,
        _ => PermissionStatus::Other(s),
    })
}

/// `{id, username}` of the Instagram account linked to a Page (§4.2).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct IgAccountRef {
    #[serde(deserialize_with = "string")]
    pub id: String,
    #[serde(deserialize_with = "opt_string")]
    pub username: Option<String>,
}

/// A Page from `/me/accounts`, `owned_pages`/`client_pages`, or the Page node (§4).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Page {
    #[serde(deserialize_with = "string")]
    pub id: String,
    #[serde(deserialize_with = "opt_string")]
    pub name: Option<String>,
    /// The Page token (absent without the right task, or from portfolio listings).
    #[serde(deserialize_with = "opt_page_token")]
    pub access_token: Option<PageToken>,
    /// The user's tasks on the Page: `MANAGE`, `CREATE_CONTENT`, `MODERATE`, `ADVERTISE`,
    /// `ANALYZE`, `MESSAGING`. Only `/me/accounts` serves them; `None` (the role is unknown) for
    /// portfolio listings and the Page node, which have no `tasks` field (§14).
    #[serde(deserialize_with = "opt_string_list")]
    pub tasks: Option<Vec<String>>,
    pub instagram_business_account: Option<IgAccountRef>,
}

impl Page {
    pub fn has_task(&self, task: &str) -> bool {
        self.tasks.iter().flatten().any(|t| t.eq_ignore_ascii_case(task))
    }
}

/// Where a Page was found (§4.3: a portfolio-only Page is absent from `/me/accounts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSource {
    Accounts,
    Portfolio,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Business {
    #[serde(deserialize_with = "string")]
    pub id: String,
    #[serde(deserialize_with = "opt_string")]
    pub name: Option<String>,
}

/// Merges Page listings (§12.2): one entry per id, first-seen order; an entry carrying a token
/// replaces one without; tasks and the Instagram link are filled in from whichever has them.
pub fn merge_pages(lists: impl IntoIterator<Item = Vec<Page>>) -> Vec<Page> {
    let mut out: Vec<Page> = Vec::new();
    for page in lists.into_iter().flatten() {
        if page.id.is_empty() {
            continue;
        }
        match out.iter_mut().find(|p| p.id == page.id) {
            None => out.push(page),
            Some(existing) => {
                if existing.access_token.is_none() && page.access_token.is_some() {
                    let mut better = page;
                    fill_from(&mut better, existing);
                    *existing = better;
                } else {
                    fill_from(existing, &page);
                }
            }
        }
    }
    out
}

fn fill_from(target: &mut Page, other: &Page) {
    if target.name.is_none() {
        target.name = other.name.clone();
    }
    if target.tasks.is_none() {
        target.tasks = other.tasks.clone();
    }
    if target.instagram_business_account.is_none() {
        target.instagram_business_account = other.instagram_business_account.clone();
    }
}

// --- tokens and identities (§1.3–1.4, §5, §6) -------------------------------------------------

/// A token from any exchange, refresh or code flow. `Debug` never shows the token.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    #[serde(deserialize_with = "user_token")]
    pub access_token: UserToken,
    #[serde(default, deserialize_with = "opt_string")]
    pub token_type: Option<String>,
    /// Seconds; may be missing (§1.3). Threads' code exchange has none and is filled with 1 h.
    #[serde(default, deserialize_with = "opt_i64")]
    pub expires_in: Option<i64>,
    /// Instagram Login / Threads: the app-scoped user id.
    #[serde(default, deserialize_with = "opt_string")]
    pub user_id: Option<String>,
    /// Instagram Login: the comma-separated permissions (§5.2).
    #[serde(default, deserialize_with = "string_list")]
    pub permissions: Vec<String>,
}

/// `graph.instagram.com/{v}/me?fields=user_id,username` (§5.2).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct InstagramMe {
    #[serde(deserialize_with = "string")]
    pub id: String,
    /// The IG professional account id used for publishing.
    #[serde(deserialize_with = "opt_string")]
    pub user_id: Option<String>,
    #[serde(deserialize_with = "opt_string")]
    pub username: Option<String>,
}

/// `graph.threads.net/v1.0/me?fields=id,username`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ThreadsMe {
    #[serde(deserialize_with = "string")]
    pub id: String,
    #[serde(deserialize_with = "opt_string")]
    pub username: Option<String>,
}

// --- publishing limits (§7.2, §7.3) -----------------------------------------------------------

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct QuotaConfig {
    #[serde(deserialize_with = "opt_i64")]
    pub quota_total: Option<i64>,
    #[serde(deserialize_with = "opt_i64")]
    pub quota_duration: Option<i64>,
}

/// One quota: usage against Meta's *current* total (25/50/100 have all been documented for
/// Instagram, so the total is read at runtime, never assumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub usage: i64,
    pub total: Option<i64>,
    pub duration_secs: Option<i64>,
}

impl Quota {
    pub fn remaining(&self) -> Option<i64> {
        self.total.map(|t| (t - self.usage).max(0))
    }

    pub fn is_reached(&self) -> bool {
        self.total.is_some_and(|t| self.usage >= t)
    }
}

/// `content_publishing_limit` (Instagram) / `threads_publishing_limit` (Threads) `data[0]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PublishingLimit {
    #[serde(deserialize_with = "opt_i64")]
    pub quota_usage: Option<i64>,
    pub config: Option<QuotaConfig>,
    #[serde(deserialize_with = "opt_i64")]
    pub reply_quota_usage: Option<i64>,
    pub reply_config: Option<QuotaConfig>,
    #[serde(deserialize_with = "opt_i64")]
    pub delete_quota_usage: Option<i64>,
    pub delete_config: Option<QuotaConfig>,
}

impl PublishingLimit {
    /// The posts quota.
    pub fn posts(&self) -> Quota {
        quota(self.quota_usage, self.config)
    }

    /// Threads replies quota, when reported.
    pub fn replies(&self) -> Option<Quota> {
        self.reply_config.map(|c| quota(self.reply_quota_usage, Some(c)))
    }
}

fn quota(usage: Option<i64>, config: Option<QuotaConfig>) -> Quota {
    Quota {
        usage: usage.unwrap_or(0),
        total: config.and_then(|c| c.quota_total),
        duration_secs: config.and_then(|c| c.quota_duration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::classify::{FailureClass, TokenDeath};

    #[test]
    fn debug_token_valid_user_2_2() {
        let v: Value = serde_json::from_str(
            r#"{"app_id":"1234","type":"USER","application":"sq","data_access_expires_at":1790000000,
             "expires_at":1785000000,"is_valid":true,"issued_at":1780000000,"unknown_field":[1],
             "scopes":["pages_show_list","pages_manage_posts","business_management"],
             "granular_scopes":[{"scope":"pages_show_list","target_ids":["777","888"]},
                                {"scope":"pages_manage_posts","target_ids":[777]},
                                {"scope":"business_management"}],
             "user_id":"100000000000001"}"#,
        )
        .expect("json");
        let t: DebugToken = serde_json::from_value(v).expect("decode");
        assert!(t.is_valid);
        assert_eq!(t.token_type.as_deref(), Some("USER"));
        assert_eq!(t.expires(), Expiry::At(1785000000));
        assert_eq!(t.targets("pages_show_list"), Some(&["777".to_string(), "888".to_string()][..]));
        assert_eq!(t.targets("pages_manage_posts"), Some(&["777".to_string()][..]));
        assert_eq!(t.targets("business_management"), Some(&[][..]));
        assert_eq!(t.targets("ads_read"), None);
        assert!(t.error_classification().is_none());
    }

    #[test]
    fn debug_token_invalid_and_page_and_threads() {
        let t: DebugToken = serde_json::from_str(
            r#"{"app_id":1234,"type":"USER","is_valid":false,"scopes":["pages_show_list"],
                "error":{"code":190,"subcode":460,"message":"The session has been invalidated"}}"#,
        )
        .expect("decode");
        let c = t.error_classification().expect("error");
        assert_eq!((c.class, c.token_death), (FailureClass::Auth, Some(TokenDeath::PasswordChanged)));
        assert_eq!(t.app_id.as_deref(), Some("1234"));
        assert_eq!(t.expires(), Expiry::Unknown);

        let p: DebugToken =
            serde_json::from_str(r#"{"type":"PAGE","profile_id":"777","expires_at":0,"is_valid":true}"#)
                .expect("p");
        assert_eq!((p.expires(), p.profile_id.as_deref()), (Expiry::Never, Some("777")));

        let th: DebugToken = serde_json::from_str(
            r#"{"type":"USER","application":"Threads API Test App","data_access_expires_at":1754846089,
                "expires_at":1752254132,"is_valid":true,"issued_at":1747070132,
                "scopes":["threads_basic","threads_content_publish"],"user_id":"1234567890123456"}"#,
        )
        .expect("threads");
        assert!(th.app_id.is_none() && th.granular_scopes.is_empty());
        assert_eq!(th.scopes.len(), 2);

        // Odd values never fail the decode.
        let odd: DebugToken = serde_json::from_str(
            r#"{"is_valid":"true","expires_at":"0","scopes":null,"granular_scopes":[]}"#,
        )
        .expect("odd");
        assert!(odd.is_valid);
        assert_eq!(odd.expires(), Expiry::Never);
    }

    #[test]
    fn permissions_and_pages() {
        let ps: Vec<Permission> = serde_json::from_str(
            r#"[{"permission":"public_profile","status":"granted"},{"permission":"pages_manage_posts","status":"declined"},
                {"permission":"email","status":"expired"},{"permission":"x","status":"weird"},{"permission":"y"}]"#,
        )
        .expect("perms");
        let st: Vec<PermissionStatus> = ps.into_iter().map(|p| p.status).collect();
        assert_eq!(
            st,
            [
                PermissionStatus::Granted,
                PermissionStatus::Declined,
                PermissionStatus::Expired,
                PermissionStatus::Other("weird".into()),
                PermissionStatus::Other(String::new())
            ]
        );

        let page: Page = serde_json::from_str(
            r#"{"access_token":"EAAPagetoken","category":"Internet Company","name":"Acme","id":"777",
                "tasks":["ANALYZE","CREATE_CONTENT","MANAGE"],"instagram_business_account":{"id":"17841405822304914","username":"acme"}}"#,
        )
        .expect("page");
        assert!(page.has_task("manage") && page.has_task("CREATE_CONTENT") && !page.has_task("MODERATE"));
        assert_eq!(page.access_token.as_ref().map(PageToken::expose), Some("EAAPagetoken"));
        assert!(!format!("{page:?}").contains("EAAPagetoken"));
        assert_eq!(page.instagram_business_account.map(|a| a.id), Some("17841405822304914".into()));
    }

    #[test]
    fn merge_prefers_tokens_and_dedupes() {
        let p = |id: &str, token: Option<&str>, tasks: &[&str]| Page {
            id: id.into(),
            name: Some(format!("P{id}")),
            access_token: token.map(PageToken::new),
            tasks: (!tasks.is_empty()).then(|| tasks.iter().map(|t| t.to_string()).collect()),
            instagram_business_account: None,
        };
        let accounts = vec![p("1", Some("T1"), &["MANAGE"]), p("2", None, &[])];
        let owned = vec![p("2", Some("T2"), &[]), p("3", None, &[]), p("", Some("x"), &[])];
        let client = vec![p("3", None, &["CREATE_CONTENT"]), p("1", None, &[])];
        let merged = merge_pages([accounts, owned, client]);
        let ids: Vec<&str> = merged.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(merged[0].access_token.as_ref().map(PageToken::expose), Some("T1"));
        assert_eq!(merged[1].access_token.as_ref().map(PageToken::expose), Some("T2"));
        assert_eq!(merged[2].tasks.as_deref(), Some(&["CREATE_CONTENT".to_string()][..]));
        assert_eq!(merged[1].tasks, None, "a portfolio listing has no tasks: unknown, not none");
    }

    #[test]
    fn tokens_and_limits() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"IGAAx","user_id":1020,"permissions":"instagram_business_basic,instagram_business_content_publish"}"#,
        )
        .expect("token");
        assert_eq!(t.user_id.as_deref(), Some("1020"));
        assert_eq!(t.permissions, ["instagram_business_basic", "instagram_business_content_publish"]);
        assert!(serde_json::from_str::<TokenResponse>(r#"{"token_type":"bearer"}"#).is_err());
        assert!(serde_json::from_str::<TokenResponse>(r#"{"access_token":""}"#).is_err());

        let l: PublishingLimit =
            serde_json::from_str(r#"{"quota_usage":2,"config":{"quota_total":100,"quota_duration":86400}}"#)
                .expect("limit");
        assert_eq!(l.posts(), Quota { usage: 2, total: Some(100), duration_secs: Some(86400) });
        assert_eq!(l.posts().remaining(), Some(98));
        let th: PublishingLimit = serde_json::from_str(
            r#"{"quota_usage":250,"config":{"quota_total":250,"quota_duration":86400},
                "reply_quota_usage":0,"reply_config":{"quota_total":1000,"quota_duration":86400}}"#,
        )
        .expect("threads");
        assert!(th.posts().is_reached());
        assert_eq!(th.replies().and_then(|q| q.total), Some(1000));
        let empty: PublishingLimit = serde_json::from_str("{}").expect("empty");
        assert_eq!(empty.posts().remaining(), None);
    }
}
