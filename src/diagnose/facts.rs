//! What collection gathers for `sq diagnose` (spec §4 "Facts collected"), as plain data.
//!
//! These types know nothing about HTTP, the database or the credential store: the collector
//! fills them, the engine reads them. Every piece that collection may fail to read is an
//! `Option` (or says why it is unknown), because missing data must never turn into a false
//! "invalid": the engine only concludes from what was actually seen.
//!
//! Per-login data (`/me/permissions`, `/me/accounts`, portfolio Pages) lives once in a
//! [`ConnectionFacts`] that profiles point at, so 1,000 Pages of one login don't carry 1,000
//! copies of the same Page list (spec §8 memory target).
//!
//! Text from Meta (names, messages, tasks, scopes) and the reasons collection writes arrive
//! here already made safe for a terminal: collection sanitizes the facts as its last step, so
//! the engine copies text into findings as it is. Errors carry the classifier's reading of
//! them, never a raw code for the engine to interpret.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use crate::model::classify::{Classification, TokenVerdict, classify, refusal};
use crate::model::{Network, ProfileKind};
use serde::Serialize;
use std::sync::Arc;

/// Everything one `sq diagnose` run knows.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub profiles: Vec<ProfileFacts>,
    pub connections: Vec<ConnectionFacts>,
    pub environment: EnvironmentFacts,
}

#[derive(Debug, Clone)]
pub struct ProfileFacts {
    /// `facebook:777`, `instagram:17841…`, `threads:…` (spec §1).
    pub reference: String,
    /// The Page / Instagram user / Threads user id.
    pub id: String,
    pub kind: ProfileKind,
    /// Name or username as Meta gave it (sanitized by collection).
    pub name: String,
    /// The [`ConnectionFacts::id`] this profile belongs to; `None` when there is none (a token
    /// read from stdin by `sq diagnose --token -`).
    pub connection: Option<String>,
    /// Instagram via a Page: the Page it publishes through.
    pub page_id: Option<String>,
    /// The token this profile publishes with: the Page token (Page, Instagram via Page) or the
    /// Instagram Login / Threads user token.
    pub token: TokenFacts,
    /// `GET /{page-id}?fields=instagram_business_account` (meta-platform.md §4.2) for the Page
    /// of an Instagram-via-Page profile: `Some(None)` = no account linked, `None` = not read.
    /// When not read, the `/me/accounts` entry's link is used.
    pub page_instagram: Option<Option<String>>,
    /// `content_publishing_limit` / `threads_publishing_limit` (meta-platform.md §7.2, §7.3).
    pub publishing_limit: Option<PublishingLimit>,
    /// Usage headers seen on this profile's calls (meta-platform.md §9).
    pub rate: Option<RateUsage>,
    /// Posts of this profile in state `failed` on the local queue.
    pub failed_posts: u64,
    /// Parts of collection for this profile that failed for a transient reason (network error,
    /// timeout, 5xx, code 1/2), in words: "publishing limit: timed out after 10 s".
    pub unreachable: Vec<String>,
}

impl ProfileFacts {
    /// A profile with nothing collected but its identity: the starting point for collection
    /// and for tests.
    pub fn new(kind: ProfileKind, id: impl Into<String>, name: impl Into<String>) -> ProfileFacts {
        let id = id.into();
        ProfileFacts {
            reference: format!("{}:{id}", kind.network().name()),
            id,
            kind,
            name: name.into(),
            connection: None,
            page_id: None,
            token: TokenFacts::Missing,
            page_instagram: None,
            publishing_limit: None,
            rate: None,
            failed_posts: 0,
            unreachable: Vec::new(),
        }
    }
}

/// The stored token of a profile and what Meta said about it.
// Nearly every profile holds the large variant, so boxing it would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum TokenFacts {
    /// No token is stored for the profile.
    Missing,
    /// The credential store could not be read; the environment's store probe says why. The
    /// token's health is unknown, not missing.
    Unreadable {
        reason: String,
    },
    Present {
        stored: StoredToken,
        health: TokenHealth,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenSource {
    Keyring,
    File,
    /// `sq diagnose --token -`: read from stdin and never stored.
    Stdin,
}

impl TokenSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Keyring => "keyring",
            TokenSource::File => "file",
            TokenSource::Stdin => "stdin",
        }
    }
}

/// What sq itself knows about a token, without asking Meta.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub source: TokenSource,
    /// `secret::mask()` of the token; the engine never sees the token itself.
    pub masked: String,
    /// Unix time sq recorded at exchange/refresh (`issued + expires_in`): the only expiry
    /// source for Instagram Login, which has no `debug_token` (meta-platform.md §2.4).
    /// `None` = not recorded or never expires.
    pub expires_at: Option<i64>,
    /// Unix time of the exchange/refresh: the refresh window opens 24 h later (§5.4, §6.4).
    pub issued_at: Option<i64>,
    /// Permissions returned with the token (Instagram Login exchange/refresh, §5.2).
    pub scopes: Option<Vec<String>>,
}

impl StoredToken {
    pub fn new(source: TokenSource, masked: impl Into<String>) -> StoredToken {
        StoredToken { source, masked: masked.into(), expires_at: None, issued_at: None, scopes: None }
    }
}

/// Meta's view of a token.
#[derive(Debug, Clone)]
pub enum TokenHealth {
    /// `debug_token` answered (meta-platform.md §2.2, §2.3).
    Inspected(Inspection),
    /// Not inspectable (Instagram Login has no `debug_token`, §2.4; Threads only with a tester
    /// token, §2.3): the result of the identity call `GET /me` instead.
    Identity(Result<(), GraphError>),
    /// Meta could not be reached (network failure, timeout, 5xx): health unknown.
    Unreachable { reason: String },
    /// Meta answered, but the answer didn't say whether the token works (an empty
    /// `debug_token` answer, fields of the wrong type): health unknown, and `reason` says what
    /// was missing. Never read as valid.
    Uninspected { reason: String },
}

/// The `data` of a `debug_token` answer, normalized.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    pub valid: bool,
    /// The `error` object of an invalid token (`code`, `subcode`, `message`). Boxed: nearly every
    /// inspection has none, and 15,000 inline errors were a megabyte of a 10,000-Page
    /// `diagnose` (docs/performance.md).
    pub error: Option<Box<GraphError>>,
    /// `USER`, `PAGE`, … as Meta spells it.
    pub token_type: Option<String>,
    /// Unix time; `None` = never expires. Build it with [`meta_time`]: Meta's `0` means never.
    pub expires_at: Option<i64>,
    pub data_access_expires_at: Option<i64>,
    pub issued_at: Option<i64>,
    /// Shared (`Arc`): 10,000 Page tokens of one login carry the same list, held once
    /// (docs/performance.md: peak memory).
    pub scopes: Arc<[String]>,
    pub granular_scopes: Arc<[GranularScope]>,
}

impl Inspection {
    /// A valid token with these scopes and nothing else known.
    pub fn valid(token_type: &str, scopes: &[&str]) -> Inspection {
        Inspection {
            valid: true,
            token_type: Some(token_type.to_string()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Inspection::default()
        }
    }

    /// An invalid token with Meta's error.
    pub fn invalid(error: GraphError) -> Inspection {
        Inspection { valid: false, error: Some(Box::new(error)), ..Inspection::default() }
    }
}

/// Meta's `expires_at`/`data_access_expires_at`: `0` (and a missing field) mean "never"
/// (meta-platform.md §2.2).
pub fn meta_time(raw: Option<i64>) -> Option<i64> {
    raw.filter(|&t| t != 0)
}

/// One `granular_scopes` entry (meta-platform.md §2.2, §4.3): the model's, so the engine and
/// the commands that save a login read a grant the same way.
pub use crate::model::grant::GranularScope;

/// An error Meta gave about a token, as the classifier read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// The classifier's reading of the error (its class and, for a dead token, why): what the
    /// engine decides on, through [`GraphError::verdict`].
    pub classification: Classification,
    /// Meta's code and subcode when it sent them, quoted in the findings' words ("code
    /// 190/460") and asked about only through the classifier.
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub message: String,
    /// `is_transient: true` in the answer.
    pub transient: bool,
}

impl GraphError {
    /// An error with Meta's code and subcode, read by the classifier.
    pub fn new(code: i64, subcode: Option<i64>, message: impl Into<String>) -> GraphError {
        let message = message.into();
        GraphError {
            classification: classify(Some(code), subcode, None).with_refusal(refusal(
                Some(code),
                subcode,
                None,
                &message,
                false,
            )),
            code: Some(code),
            subcode,
            message,
            transient: false,
        }
    }

    /// What the error says about the token.
    pub fn verdict(&self) -> TokenVerdict {
        self.classification.token_verdict(self.transient)
    }
}

/// One login's data, shared by its profiles.
#[derive(Debug, Clone)]
pub struct ConnectionFacts {
    pub id: String,
    pub network: Network,
    /// `debug_token` of the user token (Facebook): the source of scopes, granular scopes and
    /// data-access expiry for every Page of the login. `None` = not inspected.
    pub user_token: Option<TokenHealth>,
    /// `/me/permissions` (meta-platform.md §3.1).
    pub permissions: Option<Vec<Permission>>,
    /// `/me/accounts`, every result page (§4.1).
    pub accounts: Option<Vec<PageAccount>>,
    /// `/me/businesses` → `owned_pages` + `client_pages` (§4.3); collected when
    /// `business_management` is granted.
    pub portfolio_pages: Option<Vec<PortfolioPage>>,
    /// Usage headers seen on the login's calls (§9).
    pub rate: Option<RateUsage>,
    /// Parts of collection for this login that failed for a transient reason, in words.
    pub unreachable: Vec<String>,
}

impl ConnectionFacts {
    pub fn new(id: impl Into<String>, network: Network) -> ConnectionFacts {
        ConnectionFacts {
            id: id.into(),
            network,
            user_token: None,
            permissions: None,
            accounts: None,
            portfolio_pages: None,
            rate: None,
            unreachable: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub name: String,
    pub status: PermissionStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionStatus {
    Granted,
    Declined,
    /// Follows the 90-day data-access expiry (§3.1, §3.4).
    Expired,
}

/// One `/me/accounts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageAccount {
    pub id: String,
    pub name: String,
    /// `MANAGE`, `CREATE_CONTENT`, `MODERATE`, … (§4.1).
    pub tasks: Vec<String>,
    /// `instagram_business_account.id`; `None` = no Instagram account linked.
    pub instagram_id: Option<String>,
}

/// A Page reached through a Business portfolio (`owned_pages` / `client_pages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioPage {
    pub id: String,
    pub name: String,
    /// Whether that path gave sq a Page token it can publish with.
    pub has_token: bool,
    /// The user's tasks on the Page when the portfolio path reports them.
    pub tasks: Option<Vec<String>>,
}

/// Publishing-limit usage over Meta's rolling 24 h window. `total` is read at runtime, never
/// hard-coded: it has changed over the years (§7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishingLimit {
    pub usage: u64,
    pub total: u64,
}

/// Rate-limit state from the usage headers (§9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateUsage {
    /// Highest percentage in `X-App-Usage` / `X-Business-Use-Case-Usage`; `None` = no header
    /// (normal until enough calls were made).
    pub max_pct: Option<u32>,
    /// A throttling error was seen (4, 17, 32, 613, 80001, …; §8.2).
    pub throttled: bool,
    /// `estimated_time_to_regain_access`, in minutes.
    pub regain_minutes: Option<u32>,
}

/// Facts about the machine sq runs on, not about a profile.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentFacts {
    /// The credential store round-trip; `None` = not probed.
    pub store: Option<StoreProbe>,
    /// App credentials per app (`Network::Instagram` is the Instagram Login app).
    pub apps: Vec<AppCredentials>,
    pub redirect: Option<RedirectFacts>,
    /// A reachability check of Meta's hosts; `None` = not checked.
    pub meta: Option<Reachability>,
    /// Meta answered the Facebook app token as if no token were sent (a Native/Desktop app),
    /// so tokens were inspected with themselves instead.
    pub app_token_ignored: bool,
    /// `facebook.config_id`: Facebook logins go through this Facebook Login for Business
    /// configuration, which decides their permissions (meta-platform.md §1.8, §14).
    pub login_configuration: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreProbe {
    Ok,
    /// `backend`: "Secret Service", "macOS Keychain", "Windows Credential Manager",
    /// "encrypted file"; `reason`: what went wrong, in words.
    Failed {
        backend: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppCredentials {
    pub app: Network,
    pub id_present: bool,
    pub secret_present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectFacts {
    pub uri: String,
    pub port: u16,
    /// Something else is listening on the port.
    pub port_busy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reachability {
    Reachable,
    Unreachable { reason: String },
}
