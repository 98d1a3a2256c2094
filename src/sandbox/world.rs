//! Runtime state of the emulated Meta: tokens, codes, containers, posts, faults, the clock.
//!
//! Everything lives behind one `std::sync::Mutex` that request handlers hold only for the
//! synchronous part of a request (never across a sleep), see `server.rs`.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::scenario::{AppUsage, BucUsage, Consent, Expiry, Invalidation, Scenario, TokenKind, TokenSpec};

pub const DAY: i64 = 86_400;
/// §1.4: long-lived tokens last about 60 days.
pub const LONG_LIVED_SECS: i64 = 5_183_944;
/// §1.3: short-lived Facebook user tokens last 1–2 hours.
pub const SHORT_LIVED_SECS: i64 = 5_400;
/// §3.4: the data-access window.
pub const DATA_ACCESS_SECS: i64 = 90 * DAY;
/// §1.3: codes live minutes (~10 min commonly cited).
pub const FB_CODE_TTL: i64 = 600;
/// §5.1, §6.2: Instagram and Threads codes live 1 h.
pub const IG_CODE_TTL: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Facebook,
    Instagram,
    Threads,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub kind: TokenKind,
    pub user: String,
    pub page: Option<String>,
    pub parent: Option<String>,
    pub scopes: Vec<String>,
    pub declined: Vec<String>,
    pub targets: BTreeMap<String, Vec<String>>,
    pub issued_at: i64,
    /// 0 = never.
    pub expires_at: i64,
    pub data_access_expires_at: i64,
    pub long_lived: bool,
    pub invalid: Option<Invalidation>,
}

impl Token {
    pub fn family(&self) -> Family {
        match self.kind {
            TokenKind::User | TokenKind::Page => Family::Facebook,
            TokenKind::Instagram => Family::Instagram,
            TokenKind::Threads => Family::Threads,
        }
    }

    pub fn has_scope(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }

    /// Does the grant of `scope` cover asset `id`? No `targets` entry = all assets (§2.2).
    pub fn covers(&self, scope: &str, id: &str) -> bool {
        self.has_scope(scope) && self.targets.get(scope).is_none_or(|ids| ids.iter().any(|t| t == id))
    }
}

#[derive(Debug, Clone)]
pub struct Code {
    pub family: Family,
    pub client_id: String,
    pub redirect_uri: String,
    pub user: String,
    pub scopes: Vec<String>,
    pub declined: Vec<String>,
    pub targets: BTreeMap<String, Vec<String>>,
    pub created_at: i64,
    pub used: bool,
    pub challenge: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    InProgress,
    Finished,
    Error,
    Published,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub family: Family,
    pub owner: String,
    pub created_at: i64,
    pub polls: u32,
    pub state: ContainerState,
    pub text: String,
    pub media_url: Option<String>,
    pub published_id: Option<String>,
    /// Threads: `threads_publish` calls answered 24/4279009 so far (`threads_not_found_publishes`).
    pub not_found_answers: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub network: Family,
    pub profile: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    pub created_time: i64,
}

/// Which requests a fault applies to. Every given field must match.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// Substring of the host (e.g. `graph.facebook.com`, `instagram`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Substring of the path after the host, version included (e.g. `/accounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Exact token the request carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The request's token belongs to this user / account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The path mentions this id, or the request's token is this Page's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// A Graph error JSON with this code/subcode.
    Error {
        #[serde(default = "status_400")]
        status: u16,
        code: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subcode: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// The error's `type` is the host's own (`GraphMethodException`, `IGApiException`,
        /// `THApiException`) instead of `OAuthException`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        method: bool,
    },
    /// A success status with this JSON body as is: the empty or oddly typed answers Meta
    /// sometimes gives (`{"data":{}}`), which a client must not read as a verdict.
    Answer {
        #[serde(default = "status_200")]
        status: u16,
        body: serde_json::Value,
    },
    /// Rate limiting: 4, 17, 32, 613, 80001 or 80002, with usage headers at 100 %.
    Throttle {
        code: i64,
        #[serde(default = "five")]
        minutes: u32,
    },
    /// 500 (or `status`) with Graph code 1 (unknown) or 2 (service).
    ServerError {
        #[serde(default = "two")]
        code: i64,
        #[serde(default = "status_500")]
        status: u16,
    },
    /// 502 with an HTML body, as a proxy in front of Graph answers.
    BadGateway,
    /// Never answer (`secs` absent) or answer normally after `secs` seconds.
    Hang {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secs: Option<f64>,
    },
    /// Extra latency before answering normally.
    Latency { ms: u64 },
}

fn status_200() -> u16 {
    200
}
fn status_400() -> u16 {
    400
}
fn status_500() -> u16 {
    500
}
fn two() -> i64 {
    2
}
fn five() -> u32 {
    5
}

#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub id: String,
    #[serde(rename = "match")]
    pub matcher: Matcher,
    #[serde(flatten)]
    pub action: FaultAction,
    /// Requests left; `None` = until cleared.
    pub remaining: Option<u32>,
    /// The request takes effect first (a post goes out), then the fault answers: how a lost or
    /// failed answer to a request Meta did carry out is played (see docs/sandbox.md).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub applied: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    pub time: i64,
    pub method: String,
    pub host: String,
    pub path: String,
    /// Names of query parameters (never values: they may hold tokens).
    pub query_keys: Vec<String>,
    /// Where the token came from: `header`, `query`, `body`, or `none`.
    pub token_source: &'static str,
    pub status: u16,
    /// Set for the items of a batch request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_item: Option<usize>,
}

pub struct World {
    pub scenario: Scenario,
    pub clock_offset: i64,
    pub users: HashMap<String, String>,
    pub pages: HashMap<String, PageState>,
    /// user id → Page ids with a classic role, sorted (for `/me/accounts` paging).
    pub user_pages: HashMap<String, Vec<String>>,
    pub ig: HashMap<String, IgState>,
    pub threads: HashMap<String, ThState>,
    pub tokens: HashMap<String, Token>,
    /// (user token, page id) → Page token derived from it.
    pub derived: HashMap<(String, String), String>,
    /// Facebook users who removed the app (§3.2): every token of theirs answers 458.
    pub deauthorized: HashSet<String>,
    /// App tokens minted by `grant_type=client_credentials`.
    pub app_tokens: HashSet<String>,
    pub codes: HashMap<String, Code>,
    pub containers: HashMap<String, Container>,
    pub published: Vec<Published>,
    pub faults: Vec<Fault>,
    pub fault_seq: u64,
    pub consent: Consent,
    pub log: Vec<LogEntry>,
    pub log_seq: u64,
    pub app_usage: Option<AppUsage>,
    pub buc_usage: BTreeMap<String, BucUsage>,
    /// Calls per minute for computed usage (rolling hour): O(1) per call, ≤ 60 buckets.
    pub app_calls: CallWindow,
    pub object_calls: HashMap<String, CallWindow>,
    pub latency_ms: u64,
    pub id_seq: u64,
}

pub struct PageState {
    pub name: String,
    pub category: String,
    pub roles: BTreeMap<String, Vec<String>>,
    pub portfolio_roles: BTreeMap<String, Vec<String>>,
    pub instagram: Option<String>,
}

pub struct IgState {
    pub username: String,
    /// Publish times inside the rolling window (preset usage counts as "now").
    pub publishes: Vec<i64>,
}

pub struct ThState {
    pub username: String,
    pub publishes: Vec<i64>,
}

pub fn real_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Random alphanumeric string from the OS RNG (tokens, codes, trace ids).
pub fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut buf = vec![0u8; n];
    if getrandom::fill(&mut buf).is_err() {
        // The OS RNG failing is not something a test double should die on; fall back to time.
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> (i % 16)) as u8 ^ (i as u8).wrapping_mul(31);
        }
    }
    buf.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect()
}

impl World {
    pub fn new(scenario: Scenario, latency_ms: u64) -> World {
        let mut w = World {
            clock_offset: 0,
            users: HashMap::new(),
            pages: HashMap::new(),
            user_pages: HashMap::new(),
            ig: HashMap::new(),
            threads: HashMap::new(),
            tokens: HashMap::new(),
            derived: HashMap::new(),
            deauthorized: HashSet::new(),
            app_tokens: HashSet::new(),
            codes: HashMap::new(),
            containers: HashMap::new(),
            published: Vec::new(),
            faults: Vec::new(),
            fault_seq: 0,
            consent: scenario.consent.clone(),
            log: Vec::new(),
            log_seq: 0,
            app_usage: scenario.usage.as_ref().and_then(|u| u.app),
            buc_usage: scenario.usage.as_ref().map(|u| u.objects.clone()).unwrap_or_default(),
            app_calls: CallWindow::default(),
            object_calls: HashMap::new(),
            latency_ms,
            id_seq: 0,
            scenario,
        };
        w.load();
        w
    }

    fn load(&mut self) {
        let now = self.now();
        let s = &self.scenario;
        for u in &s.users {
            self.users.insert(u.id.clone(), u.name.clone());
        }
        for p in &s.pages {
            for uid in p.roles.keys() {
                self.user_pages.entry(uid.clone()).or_default().push(p.id.clone());
            }
            self.pages.insert(
                p.id.clone(),
                PageState {
                    name: p.name.clone(),
                    category: p.category.clone(),
                    roles: p.roles.clone(),
                    portfolio_roles: p.portfolio_roles.clone(),
                    instagram: p.instagram.clone(),
                },
            );
        }
        for v in self.user_pages.values_mut() {
            sort_ids(v);
        }
        for a in &s.instagram_accounts {
            self.ig.insert(
                a.id.clone(),
                IgState { username: a.username.clone(), publishes: vec![now; a.quota_used as usize] },
            );
        }
        for a in &s.threads_accounts {
            self.threads.insert(
                a.id.clone(),
                ThState { username: a.username.clone(), publishes: vec![now; a.quota_used as usize] },
            );
        }
        let specs: Vec<TokenSpec> = s.tokens.clone();
        for t in specs {
            let token = self.token_from_spec(&t, now);
            if let (TokenKind::Page, Some(parent), Some(page)) = (t.kind, &t.parent, &t.page) {
                self.derived.insert((parent.clone(), page.clone()), t.token.clone());
            }
            self.tokens.insert(t.token.clone(), token);
        }
    }

    fn token_from_spec(&self, t: &TokenSpec, now: i64) -> Token {
        let issued_at = now - t.issued.0;
        let default_life = if t.long_lived {
            LONG_LIVED_SECS
        } else if t.kind == TokenKind::User {
            SHORT_LIVED_SECS
        } else {
            3600
        };
        let expires_at = match t.expires_in {
            Some(Expiry::Never) => 0,
            Some(Expiry::In(d)) => now + d.0,
            // §1.5: Page tokens from long-lived user tokens never expire.
            None if t.kind == TokenKind::Page && t.long_lived => 0,
            None => issued_at + default_life,
        };
        let data_access_expires_at = match t.data_access_expires_in {
            Some(d) => now + d.0,
            None => issued_at + DATA_ACCESS_SECS,
        };
        Token {
            kind: t.kind,
            user: t.user.clone(),
            page: t.page.clone(),
            parent: t.parent.clone(),
            scopes: t.scopes.clone(),
            declined: t.declined.clone(),
            targets: t.targets.clone(),
            issued_at,
            expires_at,
            data_access_expires_at,
            long_lived: t.long_lived,
            invalid: t.invalid,
        }
    }

    pub fn now(&self) -> i64 {
        real_now() + self.clock_offset
    }

    pub fn next_id(&mut self) -> u64 {
        self.id_seq += 1;
        self.id_seq
    }

    /// A numeric-looking id unique in this world (posts, containers, media).
    pub fn new_numeric_id(&mut self, prefix: &str) -> String {
        let n = self.next_id();
        format!("{prefix}{:010}", n)
    }

    pub fn mint(&mut self, token: Token) -> String {
        let prefix = match token.kind {
            TokenKind::User | TokenKind::Page => "EAA",
            TokenKind::Instagram => "IGAA",
            TokenKind::Threads => "THAA",
        };
        let s = format!("{prefix}{}", random_alnum(120));
        self.tokens.insert(s.clone(), token);
        s
    }

    /// Page token for (user token, page), minted once and reused (§1.5 lifetime rule).
    pub fn page_token_for(&mut self, user_token: &str, page: &str) -> Option<String> {
        let key = (user_token.to_string(), page.to_string());
        if let Some(t) = self.derived.get(&key) {
            if self.tokens.get(t).is_some_and(|t| t.invalid.is_none()) {
                return Some(t.clone());
            }
        }
        let parent = self.tokens.get(user_token)?.clone();
        let now = self.now();
        let tok = Token {
            kind: TokenKind::Page,
            user: parent.user.clone(),
            page: Some(page.to_string()),
            parent: Some(user_token.to_string()),
            scopes: parent.scopes.clone(),
            declined: parent.declined.clone(),
            targets: parent.targets.clone(),
            issued_at: now,
            expires_at: if parent.long_lived { 0 } else { parent.expires_at },
            data_access_expires_at: parent.data_access_expires_at,
            long_lived: parent.long_lived,
            invalid: None,
        };
        let s = self.mint(tok);
        self.derived.insert(key, s.clone());
        Some(s)
    }

    pub fn tasks_of(&self, user: &str, page: &str) -> Option<&Vec<String>> {
        let p = self.pages.get(page)?;
        p.roles.get(user).or_else(|| p.portfolio_roles.get(user))
    }

    pub fn page_of_ig(&self, ig: &str) -> Option<&str> {
        // Linear, but only on Instagram-via-Page calls; worlds with many links keep it cheap.
        self.pages.iter().find(|(_, p)| p.instagram.as_deref() == Some(ig)).map(|(id, _)| id.as_str())
    }

    /// Invalidate every Facebook token of `user` (and the Page tokens made from them).
    pub fn invalidate_user(&mut self, user: &str, why: Invalidation) -> usize {
        let mut n = 0;
        for t in self.tokens.values_mut() {
            if t.family() == Family::Facebook && t.user == user && t.invalid.is_none() {
                t.invalid = Some(why);
                n += 1;
            }
        }
        n
    }

    pub fn invalidate_account(&mut self, family: Family, user: &str, why: Invalidation) -> usize {
        let mut n = 0;
        for t in self.tokens.values_mut() {
            if t.family() == family && t.user == user && t.invalid.is_none() {
                t.invalid = Some(why);
                n += 1;
            }
        }
        n
    }

    /// Invalidate one token; for a user token also the Page tokens derived from it.
    pub fn invalidate_token(&mut self, token: &str, why: Invalidation) -> usize {
        let mut n = 0;
        for (s, t) in self.tokens.iter_mut() {
            if (s == token || t.parent.as_deref() == Some(token)) && t.invalid.is_none() {
                t.invalid = Some(why);
                n += 1;
            }
        }
        n
    }

    pub fn quota_used(publishes: &mut Vec<i64>, now: i64) -> u32 {
        publishes.retain(|t| *t > now - DAY);
        publishes.len() as u32
    }

    pub fn log(&mut self, mut e: LogEntry) {
        self.log_seq += 1;
        e.seq = self.log_seq;
        // Bounded so a long `--watch` session can't grow without limit.
        if self.log.len() >= 100_000 {
            self.log.drain(..10_000);
        }
        self.log.push(e);
    }

    /// Count a call for the computed usage headers (§9).
    pub fn count_call(&mut self, object: Option<&str>) {
        let minute = self.now().div_euclid(60);
        self.app_calls.add(minute);
        if let Some(o) = object {
            self.object_calls.entry(o.to_string()).or_default().add(minute);
        }
    }

    fn pct(&self, calls: &CallWindow) -> u32 {
        let n = calls.in_last_hour(self.now().div_euclid(60));
        let budget = self.scenario.settings.call_budget.max(1);
        (n.saturating_mul(100) / budget).min(100) as u32
    }

    pub fn app_usage_value(&self) -> AppUsage {
        self.app_usage.unwrap_or_else(|| {
            let p = self.pct(&self.app_calls);
            AppUsage { call_count: p, total_time: p / 2, total_cputime: p / 2 }
        })
    }

    pub fn buc_value(&self, object: &str, kind: &str) -> BucUsage {
        self.buc_usage.get(object).cloned().unwrap_or_else(|| {
            let p = self.object_calls.get(object).map(|c| self.pct(c)).unwrap_or(0);
            BucUsage {
                kind: kind.to_string(),
                call_count: p,
                total_time: p / 2,
                total_cputime: p / 2,
                estimated_time_to_regain_access: 0,
            }
        })
    }
}

#[derive(Debug, Default, Clone)]
pub struct CallWindow(std::collections::VecDeque<(i64, u64)>);

impl CallWindow {
    fn add(&mut self, minute: i64) {
        match self.0.back_mut() {
            Some((m, n)) if *m == minute => *n += 1,
            _ => self.0.push_back((minute, 1)),
        }
        while self.0.front().is_some_and(|(m, _)| *m <= minute - 60) {
            self.0.pop_front();
        }
    }

    fn in_last_hour(&self, minute: i64) -> u64 {
        self.0.iter().filter(|(m, _)| *m > minute - 60).map(|(_, n)| n).sum()
    }
}

/// Numeric ids sort numerically, others after them lexicographically: stable paging order.
pub fn sort_ids(v: &mut [String]) {
    v.sort_by(|a, b| match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    });
}

pub fn json_str(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}
