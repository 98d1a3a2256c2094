//! The pure diagnosis engine: facts in, findings out, no I/O and no clock of its own. What an
//! error says about a token is the classifier's reading (`crate::model::classify`); the text
//! in the facts is already sanitized by collection.
//!
//! Precedence, so one root cause doesn't drown in its consequences:
//! 1. A missing or dead token ends the profile's diagnosis with that one finding (plus
//!    `failed_posts`): scopes, Page lists and limits read with a dead token are stale. An
//!    Instagram account via a Page reports `instagram_page_broken`, pointing at the Page,
//!    instead of repeating the Page's token error.
//! 2. A token whose health is unknown (Meta unreachable, a transient error) gives
//!    `meta_unreachable` and status `unknown`, never an invalid-token finding. The one
//!    exception is an expiry that sq recorded itself and that has passed: that is proven
//!    without Meta.
//! 3. A live token: expired data access ends the connection checks (permissions then read
//!    "expired" as a consequence); a permission missing from the grant hides what depends on
//!    it (`pages_show_list` → the Page list); a Page not selected in a granular grant is
//!    `granular_not_selected`, not also `page_not_listed`; `cannot_publish` already asks for
//!    a Page Admin, so `not_page_admin` is left out next to it; `token_expiring` carries the
//!    `sq refresh` fix, so `refresh_window_open` is left out next to it.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use super::facts::*;
use super::report::*;
use crate::model::classify::{self, Refusal, TokenDeath, TokenVerdict};
use crate::model::grant::{self as grant_model, PageReach};
use crate::model::{Network, ProfileKind};
use std::collections::HashMap;

const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;
/// `token_expiring` / `data_access_expiring` look this far ahead (spec §4).
const SOON: i64 = 7 * DAY;
/// A long-lived Instagram Login / Threads token can be refreshed once it is 24 h old
/// (meta-platform.md §5.4, §6.4).
const REFRESH_MIN_AGE: i64 = DAY;
/// `publishing_limit_near` and `rate_limited` from this share of the budget (spec §4).
const NEAR_PCT: u64 = 80;

/// Turns the collected facts into the report. `now_unix` is the caller's clock.
pub fn diagnose(facts: &Facts, now_unix: i64) -> Report {
    let ix = Index::new(facts);
    let profiles: Vec<ProfileReport> =
        facts.profiles.iter().map(|p| profile(facts, &ix, p, now_unix)).collect();
    let environment = EnvironmentReport { findings: environment(facts) };
    let summary = Summary::of(&profiles);
    Report { schema_version: SCHEMA_VERSION, profiles, environment, summary }
}

// ---------------------------------------------------------------------------------------------
// Token health

/// Why a token no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Missing,
    PasswordChanged,
    AppRemoved,
    Expired(Option<i64>),
    LoggedOut,
    Checkpoint,
    Unconfirmed,
    PageRoleLost,
    Invalid,
}

impl From<TokenDeath> for Cause {
    /// The classifier's reason for a token's death, as a finding's cause.
    fn from(death: TokenDeath) -> Cause {
        match death {
            TokenDeath::AppRemoved => Cause::AppRemoved,
            TokenDeath::Checkpoint => Cause::Checkpoint,
            TokenDeath::PasswordChanged => Cause::PasswordChanged,
            TokenDeath::Expired => Cause::Expired(None),
            TokenDeath::UnconfirmedUser => Cause::Unconfirmed,
            TokenDeath::LoggedOut => Cause::LoggedOut,
            TokenDeath::PageRoleLost => Cause::PageRoleLost,
            TokenDeath::Invalid => Cause::Invalid,
        }
    }
}

impl Cause {
    fn code(self) -> Code {
        match self {
            Cause::Missing => Code::TokenMissing,
            Cause::PasswordChanged => Code::TokenPasswordChanged,
            Cause::AppRemoved => Code::TokenAppRemoved,
            Cause::Expired(_) => Code::TokenExpired,
            Cause::LoggedOut => Code::TokenLoggedOut,
            Cause::Checkpoint => Code::TokenCheckpoint,
            Cause::Unconfirmed => Code::TokenUnconfirmedUser,
            Cause::PageRoleLost => Code::PageRoleLost,
            Cause::Invalid => Code::TokenInvalid,
        }
    }

    /// Causes that end every Page token derived from the login too (§1.5, §3.2, §12.1), so a
    /// dead user token proves a Page dead even when the Page token itself went uninspected.
    fn kills_derived_tokens(self) -> bool {
        matches!(
            self,
            Cause::PasswordChanged
                | Cause::AppRemoved
                | Cause::LoggedOut
                | Cause::Checkpoint
                | Cause::Unconfirmed
        )
    }
}

/// Which token proved a death.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Witness {
    Own,
    /// The login's user token.
    Login,
    /// sq's own record of the expiry, while Meta couldn't be asked.
    Records,
}

#[derive(Debug, Clone)]
struct Death {
    cause: Cause,
    error: Option<GraphError>,
    witness: Witness,
}

#[derive(Debug, Clone)]
enum Health<'a> {
    /// The token works; `inspection` is its `debug_token` when there is one.
    Alive {
        stored: &'a StoredToken,
        inspection: Option<&'a Inspection>,
    },
    Dead(Death),
    /// Meta couldn't say (network, 5xx, transient or throttling error).
    Unknown {
        reason: String,
        throttled: bool,
    },
    /// The credential store couldn't be read; the environment finding explains.
    Unreadable,
    /// Meta answered without saying whether the token works (an empty or garbled inspection,
    /// an error the tables don't know, the app secret refused): health unknown, never `ok`.
    Uninspected {
        reason: String,
        refused_secret: bool,
    },
    /// Meta refused the call for a reason a new login can't fix: a permission, the app's
    /// access level, a Business Manager Page's ads permission.
    Refused {
        refusal: Refusal,
        error: GraphError,
    },
}

/// A Graph error as a verdict on the token, by the classifier. Throttling and temporary errors
/// say nothing about the token, so they never make it invalid.
fn error_health<'a>(e: &GraphError) -> Health<'a> {
    let throttled = match e.verdict() {
        TokenVerdict::Dead(death) => {
            return Health::Dead(Death {
                cause: death.into(),
                error: Some(e.clone()),
                witness: Witness::Own,
            });
        }
        TokenVerdict::Throttled => true,
        TokenVerdict::Transient => false,
        TokenVerdict::Refused(Refusal::AppSecret) => {
            return Health::Uninspected {
                reason: format!(
                    "Meta refused the app secret sq holds, so the token could not be checked ({}{})",
                    e.message.trim_end_matches('.'),
                    error_numbers(Some(e))
                ),
                refused_secret: true,
            };
        }
        TokenVerdict::Refused(refusal) => return Health::Refused { refusal, error: e.clone() },
        TokenVerdict::Unknown => {
            return Health::Uninspected {
                reason: format!(
                    "Meta answered with an error sq doesn't know{}: {}",
                    error_numbers(Some(e)),
                    e.message.trim_end_matches('.')
                ),
                refused_secret: false,
            };
        }
    };
    let code = e.code.map(|c| format!(" (code {c})")).unwrap_or_default();
    Health::Unknown {
        reason: format!("Meta answered with a temporary error{code}: {}", e.message),
        throttled,
    }
}

fn token_health(token: &TokenFacts, now: i64) -> Health<'_> {
    let (stored, health) = match token {
        TokenFacts::Missing => {
            return Health::Dead(Death { cause: Cause::Missing, error: None, witness: Witness::Own });
        }
        TokenFacts::Unreadable { .. } => return Health::Unreadable,
        TokenFacts::Present { stored, health } => (stored, health),
    };
    let verdict = match health {
        TokenHealth::Inspected(i) if !i.valid => match &i.error {
            Some(e) => error_health(e),
            None => Health::Dead(Death { cause: Cause::Invalid, error: None, witness: Witness::Own }),
        },
        TokenHealth::Inspected(i) => match i.expires_at {
            // Meta still says valid, but the clock says otherwise: the next call will fail.
            Some(t) if t <= now => {
                Health::Dead(Death { cause: Cause::Expired(Some(t)), error: None, witness: Witness::Own })
            }
            _ => Health::Alive { stored, inspection: Some(i) },
        },
        TokenHealth::Identity(Ok(())) => Health::Alive { stored, inspection: None },
        TokenHealth::Identity(Err(e)) => error_health(e),
        TokenHealth::Unreachable { reason } => {
            Health::Unknown { reason: format!("Meta could not be reached: {reason}"), throttled: false }
        }
        TokenHealth::Uninspected { reason } => {
            Health::Uninspected { reason: reason.clone(), refused_secret: false }
        }
    };
    match (verdict, stored.expires_at) {
        // An expiry sq recorded and that has passed is proven without Meta.
        (Health::Unknown { .. } | Health::Uninspected { .. }, Some(t)) if t <= now => {
            Health::Dead(Death { cause: Cause::Expired(Some(t)), error: None, witness: Witness::Records })
        }
        (verdict, _) => verdict,
    }
}

/// The profile's health: its own token first, then what its login's user token and (for an
/// Instagram account via a Page) the Page profile prove.
fn profile_health<'a>(
    ix: &Index<'a>,
    p: &'a ProfileFacts,
    conn: Option<&'a ConnectionFacts>,
    now: i64,
) -> Health<'a> {
    let own = token_health(&p.token, now);
    if matches!(own, Health::Dead(_) | Health::Unreadable) {
        return own;
    }
    if matches!(own, Health::Unknown { .. } | Health::Uninspected { .. }) {
        if let Some(TokenHealth::Inspected(i)) = conn.and_then(|c| c.user_token.as_ref()) {
            if let Some(Death { cause, error, .. }) = dead_inspection(i) {
                if cause.kills_derived_tokens() {
                    return Health::Dead(Death { cause, error, witness: Witness::Login });
                }
            }
        }
    }
    if p.kind == ProfileKind::InstagramViaPage {
        if let Some(page) = p.page_id.as_ref().and_then(|id| ix.profile(&page_reference(id))) {
            // The Page profile's own missing token says nothing about the token this account
            // publishes with; any other death of the Page's connection breaks it too.
            if let Health::Dead(d) = token_health(&page.token, now) {
                if d.cause != Cause::Missing {
                    return Health::Dead(d);
                }
            }
        }
    }
    own
}

fn dead_inspection(i: &Inspection) -> Option<Death> {
    if i.valid {
        return None;
    }
    match i.error.as_deref().map(GraphError::verdict) {
        Some(TokenVerdict::Dead(death)) => {
            Some(Death { cause: death.into(), error: i.error.as_deref().cloned(), witness: Witness::Login })
        }
        Some(
            TokenVerdict::Throttled
            | TokenVerdict::Transient
            | TokenVerdict::Refused(_)
            | TokenVerdict::Unknown,
        ) => None,
        None => Some(Death { cause: Cause::Invalid, error: None, witness: Witness::Login }),
    }
}

// ---------------------------------------------------------------------------------------------
// One profile

/// What every finding of one profile needs to say its sentences.
struct Subject<'a> {
    facts: &'a Facts,
    ix: &'a Index<'a>,
    p: &'a ProfileFacts,
    conn: Option<&'a ConnectionFacts>,
    now: i64,
    /// Sanitized display name.
    name: String,
}

impl Subject<'_> {
    fn reference(&self) -> String {
        self.p.reference.clone()
    }

    /// The `sq reauth` command that fixes this profile's authorization (spec §3, §5).
    fn reauth(&self) -> String {
        let r = self.reference();
        match self.p.kind {
            ProfileKind::FacebookPage => format!("sq reauth facebook {r}"),
            ProfileKind::InstagramViaPage => format!("sq reauth instagram {r} --via-page"),
            ProfileKind::InstagramLogin => format!("sq reauth instagram {r} --instagram-login"),
            ProfileKind::Threads => format!("sq reauth threads {r}"),
        }
    }

    fn page_id(&self) -> Option<&str> {
        match self.p.kind {
            ProfileKind::FacebookPage => Some(&self.p.id),
            ProfileKind::InstagramViaPage => self.p.page_id.as_deref(),
            _ => None,
        }
    }

    fn account(&self) -> Option<&PageAccount> {
        let id = self.page_id()?;
        self.ix.accounts.get(&(self.conn?.id.as_str(), id)).copied()
    }

    fn portfolio_page(&self) -> Option<&PortfolioPage> {
        let id = self.page_id()?;
        self.ix.portfolio.get(&(self.conn?.id.as_str(), id)).copied()
    }

    /// "Acme Bakery (facebook:777)" for the Page an Instagram account publishes through.
    fn page_label(&self) -> String {
        let Some(id) = self.page_id() else { return String::from("its Page") };
        let reference = page_reference(id);
        let name = self
            .ix
            .profile(&reference)
            .map(|p| p.name.as_str())
            .or_else(|| self.account().map(|a| a.name.as_str()))
            .or_else(|| self.portfolio_page().map(|a| a.name.as_str()));
        match name {
            Some(n) => format!("{n} ({reference})"),
            None => reference,
        }
    }

    fn login_name(&self) -> &'static str {
        match self.p.kind.app() {
            Network::Facebook => "Facebook",
            Network::Instagram => "Instagram",
            Network::Threads => "Threads",
        }
    }

    fn login_site(&self) -> &'static str {
        match self.p.kind.app() {
            Network::Facebook => "facebook.com",
            Network::Instagram => "instagram.com",
            Network::Threads => "threads.com",
        }
    }

    /// Where the user removes the app on Meta's side (the manual `--revoke`, spec §5.2).
    fn removal_path(&self) -> &'static str {
        match self.p.kind.app() {
            Network::Facebook => {
                "on Facebook, Settings & privacy → Settings → Business Integrations (Apps and Websites for a personal login)"
            }
            Network::Instagram => "on Instagram, Settings → Website permissions → Apps and websites",
            Network::Threads => "on Threads, Settings → Account → Website permissions",
        }
    }

    /// Our user-token inspection, when the login has one that Meta called valid.
    fn user_inspection(&self) -> Option<&Inspection> {
        match self.conn?.user_token.as_ref()? {
            TokenHealth::Inspected(i) if i.valid => Some(i),
            _ => None,
        }
    }
}

fn page_reference(page_id: &str) -> String {
    format!("{}:{page_id}", Network::Facebook.name())
}

/// The facts' lists by key, built once per run. Each profile looked its connection, its Page's
/// profile and its Page-list entry up by a linear search: quadratic, and most of the CPU time of
/// a 10,000-Page `diagnose` (docs/performance.md). The first entry of a key wins, as with the
/// searches, and a Page-list entry is looked up in the connection a profile is given.
struct Index<'a> {
    profiles: HashMap<&'a str, &'a ProfileFacts>,
    connections: HashMap<&'a str, &'a ConnectionFacts>,
    /// (connection id, Page id).
    accounts: HashMap<(&'a str, &'a str), &'a PageAccount>,
    portfolio: HashMap<(&'a str, &'a str), &'a PortfolioPage>,
}

impl<'a> Index<'a> {
    fn new(facts: &'a Facts) -> Index<'a> {
        let mut ix = Index {
            profiles: HashMap::with_capacity(facts.profiles.len()),
            connections: HashMap::with_capacity(facts.connections.len()),
            accounts: HashMap::new(),
            portfolio: HashMap::new(),
        };
        for p in &facts.profiles {
            ix.profiles.entry(p.reference.as_str()).or_insert(p);
        }
        for c in &facts.connections {
            if ix.connections.contains_key(c.id.as_str()) {
                continue;
            }
            ix.connections.insert(c.id.as_str(), c);
            for a in c.accounts.iter().flatten() {
                ix.accounts.entry((c.id.as_str(), a.id.as_str())).or_insert(a);
            }
            for pp in c.portfolio_pages.iter().flatten() {
                ix.portfolio.entry((c.id.as_str(), pp.id.as_str())).or_insert(pp);
            }
        }
        ix
    }

    fn profile(&self, reference: &str) -> Option<&'a ProfileFacts> {
        self.profiles.get(reference).copied()
    }
}

fn profile<'a>(facts: &'a Facts, ix: &'a Index<'a>, p: &'a ProfileFacts, now: i64) -> ProfileReport {
    let conn = p.connection.as_deref().and_then(|id| ix.connections.get(id).copied());
    let s = Subject { facts, ix, p, conn, now, name: p.name.clone() };
    let mut findings = Vec::new();
    match profile_health(ix, p, conn, now) {
        Health::Dead(death) => findings.push(death_finding(&s, &death)),
        Health::Unreadable => {}
        Health::Unknown { reason, throttled } => {
            if throttled {
                findings.extend(rate_finding(&s, true));
            }
            let parts = unreachable_parts(&s);
            let reason = if parts.is_empty() { reason } else { format!("{reason}; also {parts}") };
            findings.push(unreachable_finding(&s, Some(reason)));
        }
        Health::Alive { stored, inspection } => alive_findings(&s, stored, inspection, &mut findings),
        Health::Uninspected { reason, refused_secret } => {
            findings.push(uninspected_finding(&s, &reason, refused_secret))
        }
        Health::Refused { refusal, error } => findings.push(refused_finding(&s, refusal, &error)),
    }
    if p.failed_posts > 0 {
        let healthy = matches!(Status::of(&findings), Status::Ok | Status::Warning);
        findings.push(failed_posts_finding(&s, healthy));
    }
    ProfileReport {
        profile: s.reference(),
        network: p.kind.network().name(),
        // Spec §1 names the profile kinds facebook / instagram / threads; how an Instagram
        // account is connected goes in `via`.
        kind: p.kind.network().name(),
        via: p.kind.via(),
        name: s.name.clone(),
        status: match p.token {
            // Nothing proven either way while the store is unreadable.
            TokenFacts::Unreadable { .. } if findings.iter().all(|f| !f.needs_action()) => Status::Unknown,
            _ => Status::of(&findings),
        },
        token: token_report(&s),
        findings,
    }
}

fn token_report(s: &Subject) -> Option<TokenReport> {
    let TokenFacts::Present { stored, health } = &s.p.token else { return None };
    let own = match health {
        TokenHealth::Inspected(i) => Some(i),
        _ => None,
    };
    let user = s.user_inspection();
    let expiry = expiry(stored, own);
    let data_access =
        own.and_then(|i| i.data_access_expires_at).or(user.and_then(|i| i.data_access_expires_at));
    let scopes = [own, user]
        .into_iter()
        .flatten()
        .map(|i| &i.scopes)
        .find(|s| !s.is_empty())
        .cloned()
        .or_else(|| stored.scopes.as_deref().map(std::sync::Arc::from))
        .unwrap_or_default();
    Some(TokenReport {
        token_type: own.and_then(|i| i.token_type.clone()),
        source: stored.source.as_str(),
        masked: stored.masked.clone(),
        expires_at: match expiry {
            Expiry::At(t) => rfc3339(t),
            _ => None,
        },
        data_access_expires_at: data_access.and_then(rfc3339),
        scopes,
        expiry,
    })
}

/// `debug_token` is the authority on expiry (`None` = never); without it, sq's own record.
fn expiry(stored: &StoredToken, inspection: Option<&Inspection>) -> Expiry {
    match (inspection, stored.expires_at) {
        (Some(i), _) => i.expires_at.map_or(Expiry::Never, Expiry::At),
        (None, Some(t)) => Expiry::At(t),
        (None, None) => Expiry::Unknown,
    }
}

fn alive_findings(s: &Subject, stored: &StoredToken, own: Option<&Inspection>, out: &mut Vec<Finding>) {
    let user = s.user_inspection();

    // Expiry and the refresh window of Instagram Login / Threads tokens.
    let refreshable = matches!(s.p.kind, ProfileKind::InstagramLogin | ProfileKind::Threads);
    let issued = own.and_then(|i| i.issued_at).or(stored.issued_at);
    let window_open = refreshable && issued.is_some_and(|t| s.now - t >= REFRESH_MIN_AGE);
    let expires = expiry(stored, own);
    match expires {
        Expiry::At(t) if t - s.now <= SOON => out.push(expiring_finding(s, t, window_open)),
        _ if window_open => out.push(refresh_finding(s, issued.unwrap_or(s.now), expires)),
        _ => {}
    }

    // The 90-day data-access window (§3.4): once it has ended, what the login reports about
    // permissions and Pages is a consequence of it, so those checks stop here.
    let data_access =
        own.and_then(|i| i.data_access_expires_at).or(user.and_then(|i| i.data_access_expires_at));
    let mut connection_checks = true;
    if let Some(t) = data_access {
        if t <= s.now {
            out.push(data_access_finding(s, t, true));
            connection_checks = false;
        } else if t - s.now <= SOON {
            out.push(data_access_finding(s, t, false));
        }
    }
    if connection_checks {
        grant_findings(s, stored, own, user, out);
    }

    if let Some(limit) = s.p.publishing_limit {
        if limit.total > 0 && limit.usage >= limit.total {
            out.push(limit_finding(s, limit, true));
        } else if limit.total > 0 && limit.usage * 100 >= NEAR_PCT * limit.total {
            out.push(limit_finding(s, limit, false));
        }
    }
    out.extend(rate_finding(s, false));

    let parts = unreachable_parts(s);
    if !parts.is_empty() {
        out.push(unreachable_finding(s, Some(format!("Some checks could not reach Meta: {parts}"))));
    }
}

/// The parts of collection for this profile and its login that failed transiently, in words.
fn unreachable_parts(s: &Subject) -> String {
    let conn = s.conn.map(|c| c.unreachable.as_slice()).unwrap_or_default();
    s.p.unreachable.iter().chain(conn).map(String::as_str).collect::<Vec<_>>().join("; ")
}

/// What the login granted, per permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Granted,
    Declined,
    Expired,
    NotGranted,
}

const BUSINESS_MANAGEMENT: &str = "business_management";

/// Permissions, granular selection, the Page list, tasks and the Instagram link.
fn grant_findings(
    s: &Subject,
    stored: &StoredToken,
    own: Option<&Inspection>,
    user: Option<&Inspection>,
    out: &mut Vec<Finding>,
) {
    // `/me/permissions` knows declined and expired; a token's scope list only knows granted.
    let permissions = s.conn.and_then(|c| c.permissions.as_deref());
    // An empty list means the field was absent: a live token always carries some scope.
    let scope_list: Option<&[String]> = [user, own]
        .into_iter()
        .flatten()
        .map(|i| &*i.scopes)
        .find(|s| !s.is_empty())
        .or(stored.scopes.as_deref());
    let grant = |name: &str| -> Option<Grant> {
        if let Some(perms) = permissions {
            return Some(match perms.iter().find(|p| p.name == name).map(|p| p.status) {
                Some(PermissionStatus::Granted) => Grant::Granted,
                Some(PermissionStatus::Declined) => Grant::Declined,
                Some(PermissionStatus::Expired) => Grant::Expired,
                None => Grant::NotGranted,
            });
        }
        let list = scope_list?;
        Some(if list.iter().any(|x| x == name) { Grant::Granted } else { Grant::NotGranted })
    };

    // Granular grants: each scope's `target_ids` must include the asset it acts on; no
    // `target_ids` means every asset (§2.2, §4.3).
    let granular: &[GranularScope] = match user.filter(|i| !i.granular_scopes.is_empty()) {
        Some(i) => &i.granular_scopes,
        None => own.map(|i| &*i.granular_scopes).unwrap_or_default(),
    };
    let asset_of = |scope: &str| -> Option<&str> {
        if scope.starts_with("pages_") {
            s.page_id()
        } else if scope.starts_with("instagram_") && s.p.kind == ProfileKind::InstagramViaPage {
            Some(&s.p.id)
        } else {
            None
        }
    };
    let excluded = |scope: &str| -> bool {
        asset_of(scope).is_some_and(|asset| grant_model::leaves_out(granular, scope, asset))
    };

    let required = s.p.kind.required_permissions();
    // The one reading of the grant that `token import` and `reauth` use too (model::grant): a
    // Page left out of the grant is `granular_not_selected` even when a Business portfolio
    // lists it; one granted yet absent from `/me/accounts` comes through a portfolio, which sq
    // reaches only with business_management (§3.3, §4.3, §12.2).
    let reach = s.page_id().map(|id| PageReach::of(granular, required, id, s.account().is_some()));
    let page_excluded = reach == Some(PageReach::NotSelected);
    let lists_pages = grant("pages_show_list").is_none_or(|g| g == Grant::Granted);
    let portfolio_only = reach == Some(PageReach::PortfolioOnly)
        && s.conn.is_some_and(|c| c.accounts.is_some())
        && lists_pages;

    let mut missing: Vec<(&str, Grant)> = Vec::new();
    for &scope in required.iter().chain(portfolio_only.then_some(&BUSINESS_MANAGEMENT)) {
        match grant(scope) {
            Some(Grant::Granted) | None => {}
            Some(g) => missing.push((scope, g)),
        }
    }
    if !missing.is_empty() {
        out.push(scope_finding(s, &missing, portfolio_only));
    }

    let not_selected: Vec<&str> =
        required.iter().copied().filter(|r| grant(r) == Some(Grant::Granted) && excluded(r)).collect();
    if !not_selected.is_empty() {
        out.push(granular_finding(s, &not_selected));
    }

    if s.page_id().is_none() || page_excluded {
        return;
    }
    let bm_granted = grant(BUSINESS_MANAGEMENT) == Some(Grant::Granted);
    if portfolio_only && bm_granted {
        let portfolio = s.portfolio_page();
        let works = portfolio.is_some_and(|pp| pp.has_token);
        // Without a portfolio answer and with some collection unreachable, don't conclude.
        let unsure = s.conn.is_some_and(|c| c.portfolio_pages.is_none() && !c.unreachable.is_empty());
        if !unsure {
            out.push(page_not_listed_finding(s, works));
        }
    }

    let tasks = s.account().map(|a| &a.tasks).or(s.portfolio_page().and_then(|pp| pp.tasks.as_ref()));
    if let Some(tasks) = tasks {
        let has = |t: &str| tasks.iter().any(|x| x == t);
        // Publishing needs CREATE_CONTENT; MANAGE is full control and includes it (§3.3, §4.1).
        if !has("CREATE_CONTENT") && !has("MANAGE") {
            out.push(cannot_publish_finding(s, tasks));
        } else if !has("MANAGE") {
            out.push(not_admin_finding(s));
        }
    }

    if s.p.kind == ProfileKind::InstagramViaPage {
        let linked = s.p.page_instagram.clone().or_else(|| s.account().map(|a| a.instagram_id.clone()));
        match linked {
            Some(None) => out.push(not_linked_finding(s, None)),
            Some(Some(other)) if other != s.p.id => out.push(not_linked_finding(s, Some(&other))),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finding texts

fn meta_said(e: Option<&GraphError>) -> String {
    match e {
        Some(e) if !e.message.is_empty() => format!(" Meta said: \"{}\"", e.message),
        _ => String::new(),
    }
}

fn error_numbers(e: Option<&GraphError>) -> String {
    match e {
        Some(GraphError { code: Some(code), subcode: Some(sub), .. }) => format!(" (code {code}/{sub})"),
        Some(GraphError { code: Some(code), .. }) => format!(" (code {code})"),
        _ => String::new(),
    }
}

/// (why it can't publish, the longer why, Meta-side steps)
fn cause_words(s: &Subject, death: &Death) -> (String, String, Vec<String>) {
    let site = s.login_site();
    let login = s.login_name();
    let again =
        format!("When the browser opens, log in to {login} and accept every permission the dialog asks for.");
    match death.cause {
        Cause::Missing => (
            String::from("no token is stored for it"),
            String::from(
                "sq has no token for this profile in the credential store, so every post to it would fail.",
            ),
            vec![again],
        ),
        Cause::PasswordChanged => (
            String::from("Meta ended the session because the account password changed"),
            String::from(
                "Meta invalidates a login's tokens when its password changes or when it resets the session for \
                 security reasons (190/460); every Page token from that login stopped working with it.",
            ),
            vec![format!("When the browser opens, log in to {login} with the current password.")],
        ),
        Cause::AppRemoved => (
            String::from("the app was removed from the account or its permissions were revoked"),
            String::from(
                "Meta answers 190/458 when the user removed the app (Business Integrations) or revoked all of its \
                 permissions; every token of that login is dead.",
            ),
            vec![
                again,
                format!(
                    "If the dialog doesn't list the app's permissions, remove the app {} and run the command again.",
                    s.removal_path()
                ),
            ],
        ),
        Cause::Expired(at) => {
            let when = at.and_then(human_time).map(|t| format!(" on {t}")).unwrap_or_default();
            let (why, steps) = match s.p.kind {
                ProfileKind::InstagramLogin | ProfileKind::Threads => (
                    "Instagram Login and Threads tokens live 60 days and can be refreshed only before they \
                     expire; this one can't be refreshed anymore.",
                    vec![
                        again,
                        String::from("Afterwards, run sq refresh regularly (sq warns 7 days before expiry)."),
                    ],
                ),
                _ => ("Facebook has no refresh grant: an expired token needs a new login.", vec![again]),
            };
            let from_records = if death.witness == Witness::Records {
                " sq's own record of the expiry shows it; Meta could not be asked."
            } else {
                ""
            };
            (format!("its token expired{when}"), format!("{why}{from_records}"), steps)
        }
        Cause::LoggedOut => (
            String::from("the session ended because the account logged out"),
            String::from(
                "Meta ends a login's tokens when the user logs out of the session they came from (190/467).",
            ),
            vec![again],
        ),
        Cause::Checkpoint => (
            String::from("Meta locked the account behind a security checkpoint"),
            String::from(
                "Meta holds the account until its owner completes a security check (190/459); no token works \
                 until then.",
            ),
            vec![
                format!("Log in on {site} (or in the app) and complete the security check Meta shows."),
                format!("Then run the command and log in to {login} again."),
            ],
        ),
        Cause::Unconfirmed => (
            String::from("the account isn't confirmed"),
            String::from("Meta refuses tokens of an account that hasn't been confirmed yet (190/464)."),
            vec![
                format!(
                    "Log in on {site} and confirm the account (follow the email or text message Meta sent)."
                ),
                format!("Then run the command and log in to {login} again."),
            ],
        ),
        Cause::PageRoleLost => (
            String::from("the person who connected it no longer has a role on the Page"),
            String::from(
                "A Page token stops working when the user it came from loses their role on the Page (190/492).",
            ),
            vec![
                String::from(
                    "Ask a Page Admin (full control) to give that account a role on the Page again: Page settings → \
                     Page access (or, in a Business portfolio, Settings → Accounts → Pages → assign people).",
                ),
                String::from(
                    "Then run the command; or have the Page Admin connect the Page with sq instead.",
                ),
            ],
        ),
        Cause::Invalid => {
            let mut steps = vec![again];
            // §3.3, §12.7: with Standard Access only accounts with a role on the app work; the
            // others get code 100 "Unsupported request" from every call.
            if s.p.kind == ProfileKind::InstagramLogin
                && death.error.as_ref().is_some_and(|e| classify::is_invalid_parameter(e.code))
            {
                steps.push(String::from(
                    "If this account has no role on the app: while the app has only Standard Access, add it as an \
                     Instagram tester (App dashboard → App roles → Roles) or get Advanced Access through App Review.",
                ));
            }
            (
                String::from("Meta no longer accepts its token"),
                format!("Meta rejected the token{}.", error_numbers(death.error.as_ref())),
                steps,
            )
        }
    }
}

fn death_finding(s: &Subject, death: &Death) -> Finding {
    let (why, detail, steps) = cause_words(s, death);
    let said = meta_said(death.error.as_ref());
    let seen = if death.witness == Witness::Login { " This was seen on the login's user token." } else { "" };
    if s.p.kind == ProfileKind::InstagramViaPage && s.p.page_id.is_some() {
        let page = s.page_label();
        let mut fix = Fix::command(s.reauth())
            .step(format!("Fix the Page first: the command reconnects {page}, then {}.", s.name));
        fix.steps.extend(steps);
        return Finding::new(
            Code::InstagramPageBroken,
            format!("{} can't publish: the Page it publishes through, {page}, is broken: {why}.", s.name),
            format!(
                "An Instagram account linked to a Page publishes with the Page's Facebook login. {detail}{seen}{said}"
            ),
            fix,
        );
    }
    let mut fix = Fix::command(s.reauth());
    fix.steps.extend(steps);
    Finding::new(
        death.cause.code(),
        format!("{} can't publish: {why}.", s.name),
        format!("{detail}{seen}{said}"),
        fix,
    )
}

fn unreachable_finding(s: &Subject, reason: Option<String>) -> Finding {
    Finding::new(
        Code::MetaUnreachable,
        format!("{}: health unknown, Meta could not be asked.", s.name),
        format!(
            "{}. This says nothing about the token: it is not reported as invalid.",
            reason.as_deref().unwrap_or("Meta could not be reached").trim_end_matches('.')
        ),
        Fix::command(format!("sq diagnose {}", s.reference())).step(
            "Check the network connection (and any proxy), then run the command again; Meta's status page is \
             https://metastatus.com.",
        ),
    )
}

/// A token whose health Meta's answer didn't settle: `unknown`, never `ok`.
fn uninspected_finding(s: &Subject, reason: &str, refused_secret: bool) -> Finding {
    let network = s.p.kind.app().name();
    let fix = if refused_secret {
        Fix::command(format!("sq config set {network}.app_secret --stdin")).step(
            "Copy the app secret from the Meta dashboard (App settings → Basic), then run sq diagnose again.",
        )
    } else {
        Fix::command(format!("sq diagnose {}", s.reference())).step(
            "If Meta keeps answering this way, check the token with Meta's Access Token Debugger \
             (https://developers.facebook.com/tools/debug/accesstoken/); sq does not call it healthy meanwhile.",
        )
    };
    Finding::new(
        Code::TokenNotInspected,
        format!("{}: health unknown, Meta's answer did not say whether the token works.", s.name),
        format!("{}. The token is not reported as valid or as invalid.", reason.trim_end_matches('.')),
        fix,
    )
}

/// A refusal that re-authorizing can't fix: the fix is the permission, the role or App Review.
fn refused_finding(s: &Subject, refusal: Refusal, e: &GraphError) -> Finding {
    let said = format!("Meta said{}: {}", error_numbers(Some(e)), e.message.trim_end_matches('.'));
    let dashboard = "https://developers.facebook.com/apps";
    match refusal {
        Refusal::AccessLevel => Finding::new(
            Code::AppAccessLevel,
            format!("{} can't be used by this app yet: the app has only Standard Access, or the account has no role on the app.", s.name),
            format!("{said}. Under Standard Access, Meta answers only accounts with a role on the app; a new login gets the same answer."),
            Fix::steps(vec![
                format!("Add the account as a tester (or developer) in the app dashboard ({dashboard} → App roles → Roles) and accept the invitation, or"),
                String::from("request Advanced Access for the permissions sq uses through App Review (https://developers.facebook.com/docs/app-review)."),
            ]),
        ),
        Refusal::AdsPermission => Finding::new(
            Code::AdsPermissionMissing,
            format!("{} can't publish to Instagram: the Page is reached through a Business Manager role, which also needs ads_management or ads_read.", s.name),
            format!("{said}. (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media)"),
            Fix::command(format!("sq reauth {} {} --scope ads_read", s.p.kind.app().name(), s.reference()))
                .step("The app must have ads_read (or ads_management) approved in App Review for accounts without a role on it."),
        ),
        Refusal::Permission | Refusal::AppSecret => Finding::new(
            Code::PermissionDenied,
            format!("{} is refused a permission the call needs.", s.name),
            format!("{said}. A new login doesn't help unless it grants the permission Meta names, and the app may need it approved in App Review."),
            Fix::steps(vec![
                String::from("Check which permission Meta names above and that the app has it (App dashboard → App Review → Permissions and Features)."),
                String::from("If the app has it only with Standard Access, add the account as a tester, or get Advanced Access through App Review."),
                format!("Once the app can ask for it: sq reauth {} {} --scope <PERMISSION>", s.p.kind.app().name(), s.reference()),
            ]),
        ),
    }
}

fn duration_words(secs: i64) -> String {
    let secs = secs.max(0);
    if secs >= 2 * DAY {
        format!("{} days", secs / DAY)
    } else if secs >= 2 * HOUR {
        format!("{} hours", secs / HOUR)
    } else {
        format!("{} minutes", (secs / 60).max(1))
    }
}

fn when(t: i64) -> String {
    human_time(t).unwrap_or_else(|| t.to_string())
}

fn expiring_finding(s: &Subject, at: i64, window_open: bool) -> Finding {
    let summary = format!("{}'s token expires in {} ({}).", s.name, duration_words(at - s.now), when(at));
    match s.p.kind {
        ProfileKind::InstagramLogin | ProfileKind::Threads if window_open => Finding::new(
            Code::TokenExpiring,
            summary,
            "Instagram Login and Threads tokens last 60 days and can be refreshed once they are 24 hours old; \
             after expiry only a new login helps.",
            Fix::command(format!("sq refresh {}", s.reference())),
        ),
        ProfileKind::InstagramLogin | ProfileKind::Threads => Finding::new(
            Code::TokenExpiring,
            summary,
            "This token is less than 24 hours old, so Meta won't refresh it yet; a new login gives a 60-day token.",
            Fix::command(s.reauth()),
        ),
        _ => Finding::new(
            Code::TokenExpiring,
            summary,
            "Facebook tokens can't be refreshed: a new login gives a new 60-day token, and Page tokens from a \
             long-lived login don't expire.",
            Fix::command(s.reauth()),
        ),
    }
}

fn refresh_finding(s: &Subject, issued: i64, expiry: Expiry) -> Finding {
    let until = match expiry {
        Expiry::At(t) => format!(" Refresh it before it expires on {}.", when(t)),
        _ => String::new(),
    };
    Finding::new(
        Code::RefreshWindowOpen,
        format!("{}'s token can be refreshed now.", s.name),
        format!(
            "It was issued {} ago; refreshing gives it a fresh 60 days (tokens can be refreshed once they are \
             24 hours old and until they expire).{until}",
            duration_words(s.now - issued)
        ),
        Fix::command(format!("sq refresh {}", s.reference())),
    )
}

fn data_access_finding(s: &Subject, at: i64, ended: bool) -> Finding {
    let detail = "Meta ends a login's data access when it hasn't been used with the app for 90 days, even if the \
                  token still authenticates; its permissions then read as expired. A new login renews it.";
    let fix =
        Fix::command(s.reauth()).step(format!("When the browser opens, log in to {} again.", s.login_name()));
    if ended {
        Finding::new(
            Code::DataAccessExpired,
            format!("{} can't publish: the login's 90-day data access ended on {}.", s.name, when(at)),
            detail,
            fix,
        )
    } else {
        Finding::new(
            Code::DataAccessExpiring,
            format!(
                "{}: the login's 90-day data access ends in {} ({}).",
                s.name,
                duration_words(at - s.now),
                when(at)
            ),
            detail,
            fix,
        )
    }
}

fn scope_finding(s: &Subject, missing: &[(&str, Grant)], portfolio_only: bool) -> Finding {
    let words = |g: Grant| match g {
        Grant::Declined => "declined",
        Grant::Expired => "expired",
        _ => "never granted",
    };
    let list = missing.iter().map(|(n, g)| format!("{n} ({})", words(*g))).collect::<Vec<_>>().join(", ");
    let summary = match missing {
        [(n, g)] => format!("{} can't publish: the permission {n} was {}.", s.name, words(*g)),
        _ => format!("{} can't publish: permissions missing: {list}.", s.name),
    };
    let mut detail = format!(
        "Publishing to {} needs {}.",
        match s.p.kind {
            ProfileKind::FacebookPage => "a Facebook Page",
            ProfileKind::InstagramViaPage => "an Instagram account through its Page",
            ProfileKind::InstagramLogin => "an Instagram account with Instagram Login",
            ProfileKind::Threads => "a Threads profile",
        },
        s.p.kind.required_permissions().join(", ")
    );
    if portfolio_only && missing.iter().any(|(n, _)| *n == BUSINESS_MANAGEMENT) {
        detail.push_str(
            " The Page is missing from the login's Page list, which happens when access comes through a \
             Business portfolio; sq reaches such Pages only with business_management.",
        );
    }
    let mut fix = Fix::command(s.reauth());
    let configuration =
        s.facts.environment.login_configuration.as_deref().filter(|_| s.p.kind.app() == Network::Facebook);
    if let Some(config) = configuration {
        // Facebook Login for Business: the configuration, not the dialog, decides the
        // permissions, and it is all-or-nothing (meta-platform.md §1.8, §14).
        let names: Vec<&str> = missing.iter().map(|(n, _)| *n).collect();
        fix.steps.push(format!(
            "Add {} to login configuration {config} in the app dashboard (Facebook Login for Business → \
             Configurations → edit {config} → Permissions).",
            names.join(", ")
        ));
        fix.steps.push(String::from(
            "Then run the command and accept every permission: a configuration is granted all or nothing.",
        ));
    } else if missing.iter().any(|(_, g)| *g == Grant::Declined) {
        fix.steps.push(String::from(
            "When the dialog opens, choose \"Edit access\" (or \"Edit previous settings\") and leave every toggle \
             on: a declined permission stays declined until it is switched back on.",
        ));
        fix.steps.push(format!(
            "If the dialog doesn't offer it again, remove the app {} and run the command again.",
            s.removal_path()
        ));
    } else if missing.iter().any(|(_, g)| *g == Grant::Expired) {
        fix.steps.push(format!(
            "When the browser opens, log in to {} again to renew the permissions.",
            s.login_name()
        ));
    } else {
        fix.steps.push(String::from(
            "Accept every permission the dialog asks for; sq asks for all that publishing needs.",
        ));
    }
    Finding::new(Code::ScopeMissing, summary, detail, fix)
}

fn granular_finding(s: &Subject, scopes: &[&str]) -> Finding {
    let what = match s.p.kind {
        ProfileKind::InstagramViaPage => format!("{} and its Page {}", s.name, s.page_label()),
        _ => s.name.clone(),
    };
    Finding::new(
        Code::GranularNotSelected,
        format!("{} can't publish: it wasn't selected when the login was authorized.", s.name),
        format!(
            "The grant for {} is limited to specific Pages or accounts, and {} isn't one of them.",
            scopes.join(", "),
            s.reference()
        ),
        Fix::command(s.reauth())
            .step(format!("When the dialog opens, choose \"Edit access\" and tick {what}."))
            .step("Or choose \"Opt in to all current and future Pages\", so Pages added later are included too."),
    )
}

fn page_not_listed_finding(s: &Subject, works: bool) -> Finding {
    let why = "Meta leaves Pages reached through a Business portfolio assignment out of the login's Page list \
               (/me/accounts), even when the grant includes them.";
    let ask_admin = "Ask a Page Admin (full control) to give your account a role on the Page itself (Page settings → \
                     Page access), or to assign the Page to you with full control in the Business portfolio \
                     (Settings → Accounts → Pages).";
    if works {
        let mut f = Finding::new(
            Code::PageNotListed,
            format!("{} is reached only through a Business portfolio, not the login's Page list.", s.name),
            format!(
                "{why} sq publishes through the portfolio, which works while business_management stays granted."
            ),
            Fix::steps(vec![String::from("Nothing is needed to keep publishing."), ask_admin.to_string()]),
        );
        f.severity = Severity::Warning;
        f
    } else {
        Finding::new(
            Code::PageNotListed,
            format!(
                "{} can't publish: it isn't in the login's Page list and its Business portfolio gives no Page token.",
                s.name
            ),
            why.to_string(),
            Fix::command(s.reauth())
                .step(ask_admin)
                .step("Then run the command; or have the Page Admin connect the Page with sq."),
        )
    }
}

fn cannot_publish_finding(s: &Subject, tasks: &[String]) -> Finding {
    let tasks = if tasks.is_empty() { String::from("none") } else { tasks.join(", ") };
    Finding::new(
        Code::CannotPublish,
        format!("{} can't publish: the connected account's role on the Page doesn't allow creating content.", s.name),
        format!("Meta lists its tasks on the Page as: {tasks}. Publishing needs CREATE_CONTENT (or full control)."),
        Fix::command(s.reauth())
            .step(format!(
                "Ask a Page Admin (full control) of {} to give the account content permission or full control: Page \
                 settings → Page access.",
                s.page_label()
            ))
            .step("Then run the command; or have the Page Admin connect the Page with sq."),
    )
}

fn not_admin_finding(s: &Subject) -> Finding {
    Finding::new(
        Code::NotPageAdmin,
        format!("{} is connected by an account without full control of the Page.", s.name),
        "Publishing works, but re-authorizing a Page (and its Instagram link) needs a Page Admin with full control \
         (the MANAGE task); if this connection breaks, its owner can't fix it alone.",
        Fix::steps(vec![
            String::from("Nothing is needed to keep publishing."),
            format!(
                "To be ready, ask a Page Admin (full control) of {} to connect it with sq, or to give this account full \
                 control: Page settings → Page access.",
                s.page_label()
            ),
        ]),
    )
}

fn not_linked_finding(s: &Subject, other: Option<&str>) -> Finding {
    let page = s.page_label();
    let summary = match other {
        None => format!("{} can't publish: its Page {page} has no Instagram account linked.", s.name),
        Some(o) => format!(
            "{} can't publish: its Page {page} is now linked to another Instagram account (instagram:{}).",
            s.name, o
        ),
    };
    Finding::new(
        Code::InstagramNotLinked,
        summary,
        "An Instagram account connected through a Page publishes only while the Page links to it.",
        Fix::command(s.reauth())
            .step(format!("On Facebook, open {page} → Settings → Linked accounts → Instagram, and connect {}.", s.name))
            .step("Then run the command: it reconnects the Page first, then its Instagram account.")
            .step(format!(
                "Or connect the account with Instagram Login instead: sq reauth instagram {} --instagram-login",
                s.reference()
            )),
    )
}

fn limit_finding(s: &Subject, limit: PublishingLimit, reached: bool) -> Finding {
    let detail = "Meta counts posts over a rolling 24 hours; when the limit is reached, further posts fail until \
                  older ones leave the window.";
    let wait = "Wait: posts leave the window 24 hours after they were published; sq publish retries rate-limited \
                posts by itself.";
    let spread = "Spread scheduled posts out (sq queue list) so fewer fall within the same 24 hours.";
    if reached {
        Finding::new(
            Code::PublishingLimitReached,
            format!(
                "{} can't publish for now: Meta's publishing limit is reached ({} of {} posts in 24 hours).",
                s.name, limit.usage, limit.total
            ),
            detail,
            Fix::steps(vec![wait.to_string(), spread.to_string()]),
        )
    } else {
        Finding::new(
            Code::PublishingLimitNear,
            format!(
                "{} is close to Meta's publishing limit: {} of {} posts in 24 hours.",
                s.name, limit.usage, limit.total
            ),
            detail,
            Fix::steps(vec![spread.to_string()]),
        )
    }
}

fn rate_finding(s: &Subject, throttled_error: bool) -> Option<Finding> {
    let rates = [s.p.rate, s.conn.and_then(|c| c.rate)];
    let pct = rates.iter().flatten().filter_map(|r| r.max_pct).max();
    let throttled = throttled_error || rates.iter().flatten().any(|r| r.throttled);
    let regain = rates.iter().flatten().filter_map(|r| r.regain_minutes).max();
    if !throttled && pct.is_none_or(|p| u64::from(p) < NEAR_PCT) {
        return None;
    }
    let summary = match (throttled, pct) {
        (true, _) => format!("{}: Meta is throttling calls.", s.name),
        (false, Some(p)) => format!("{}: calls are at {p}% of Meta's rate limit.", s.name),
        (false, None) => format!("{}: calls are near Meta's rate limit.", s.name),
    };
    let regain_words = match regain {
        Some(m) if m > 0 => format!(" Meta estimates access returns in about {m} minutes."),
        _ => String::new(),
    };
    let wait = match regain {
        Some(m) if m > 0 => format!("Wait about {m} minutes; sq publish backs off by itself."),
        _ => String::from("Wait a while; sq publish backs off by itself."),
    };
    Some(Finding::new(
        Code::RateLimited,
        summary,
        format!(
            "Meta budgets calls per app and per Page or account over a rolling hour; at 100% calls fail until usage \
             drops.{regain_words}"
        ),
        Fix::steps(vec![wait, String::from("If other tools use the same app, spread their calls out.")]),
    ))
}

fn failed_posts_finding(s: &Subject, healthy: bool) -> Finding {
    let n = s.p.failed_posts;
    let posts = if n == 1 { String::from("1 failed post") } else { format!("{n} failed posts") };
    let mut fix = Fix::command(format!("sq requeue --failed {}", s.reference()));
    let summary = if healthy {
        format!("{} has {posts} that can be requeued.", s.name)
    } else {
        fix.steps.push(String::from(
            "Fix the findings above first: sq requeue holds back posts of profiles that aren't healthy yet.",
        ));
        format!("{} has {posts} that can be requeued once it is healthy.", s.name)
    };
    Finding::new(
        Code::FailedPosts,
        summary,
        "Requeued posts keep their history; posts that failed for media or content reasons are requeued only when \
         named with --class.",
        fix,
    )
}

// ---------------------------------------------------------------------------------------------
// Environment

fn environment(facts: &Facts) -> Vec<Finding> {
    let env = &facts.environment;
    let mut out = Vec::new();

    if let Some(StoreProbe::Failed { backend, reason }) = &env.store {
        out.push(store_finding(backend, reason));
    }

    for app in Network::ALL {
        let users = facts.profiles.iter().filter(|p| p.kind.app() == app).count();
        let Some(creds) = env.apps.iter().find(|a| a.app == app) else { continue };
        if users > 0 && !(creds.id_present && creds.secret_present) {
            out.push(app_finding(*creds, users));
        }
    }

    for app in Network::ALL {
        if secret_refused(facts, app) {
            out.push(app_secret_finding(app));
        }
    }

    if env.app_token_ignored {
        out.push(Finding::new(
            Code::AppTokenIgnored,
            "The Facebook app is a Native/Desktop app: Meta ignores its app token, so tokens were checked with themselves.",
            "Meta treats calls made with a Native/Desktop app's token as if no token were sent \
             (https://developers.facebook.com/docs/facebook-login/security/). sq inspected each token with the \
             login's own token instead (debug_token, which Meta allows for the app's admins, developers and \
             testers); where Meta refused that, it asked the token about itself (GET /me), which proves it \
             works but not its scopes or expiry.",
            Fix::steps(vec![String::from(
                "Nothing to do. For full checks of every login, give the connecting person a role on the app \
                 (App roles → Roles), or set the app type to Web in the app dashboard \
                 (App settings → Advanced → Native or desktop app: off).",
            )]),
        ));
    }

    if let Some(r) = env.redirect.as_ref().filter(|r| r.port_busy) {
        let uri = &r.uri;
        let port = r.port;
        out.push(Finding::new(
            Code::RedirectPortBusy,
            format!("The redirect URI's port {port} is in use by another program."),
            format!(
                "sq reauth listens on {uri} for Meta's answer; while another program holds port {port}, \
                 re-authorization can't receive it."
            ),
            Fix::steps(vec![
                format!("Stop the program that uses port {port}, or"),
                String::from(
                    "pick a free port: add http://localhost:<PORT>/callback to the app's Valid OAuth Redirect URIs \
                     and pass --redirect-uri http://localhost:<PORT>/callback to sq reauth.",
                ),
            ]),
        ));
    }

    if let Some(Reachability::Unreachable { reason }) = &env.meta {
        out.push(Finding::new(
            Code::MetaUnreachable,
            format!("Meta could not be reached: {reason}."),
            "Token health can't be checked until it can; no token is reported invalid because of this.",
            Fix::command("sq diagnose").step(
                "Check the network connection (and any proxy), then run the command again; Meta's status page is \
                 https://metastatus.com.",
            ),
        ));
    }
    out
}

/// Whether any answer about a token of this app refused the app secret.
fn secret_refused(facts: &Facts, app: Network) -> bool {
    let refused = |h: &TokenHealth| {
        let e = match h {
            TokenHealth::Identity(Err(e)) => Some(e),
            TokenHealth::Inspected(i) => i.error.as_deref(),
            _ => None,
        };
        e.is_some_and(|e| e.classification.refusal == Some(Refusal::AppSecret))
    };
    facts.profiles.iter().filter(|p| p.kind.app() == app).any(|p| match &p.token {
        TokenFacts::Present { health, .. } => refused(health),
        _ => false,
    }) || facts
        .connections
        .iter()
        .filter(|c| c.network == app)
        .any(|c| c.user_token.as_ref().is_some_and(refused))
}

fn app_secret_finding(app: Network) -> Finding {
    let (title, key) = match app {
        Network::Facebook => ("Facebook", "facebook"),
        Network::Instagram => ("Instagram Login", "instagram"),
        Network::Threads => ("Threads", "threads"),
    };
    Finding::new(
        Code::AppSecretInvalid,
        format!("Meta refuses the {title} app secret sq holds."),
        String::from(
            "The app token's signature, the appsecret_proof or the client secret was refused; this says nothing \
             about the profiles' tokens, which could not be checked and are kept as they are.",
        ),
        Fix::command(format!("sq config set {key}.app_secret --stdin")).step(format!(
            "Copy the secret from the Meta dashboard (App settings → Basic → App secret); or set SQ_{}_APP_SECRET.",
            key.to_ascii_uppercase()
        )),
    )
}

fn store_finding(backend: &str, reason: &str) -> Finding {
    let summary = format!("The credential store ({backend}) can't be used: {reason}.");
    let detail = "sq keeps tokens and app secrets only in the credential store and never falls back to plain text; \
                  until the store works, no token can be read.";
    if backend.to_ascii_lowercase().contains("file") {
        return Finding::new(
            Code::StoreUnavailable,
            summary,
            detail,
            Fix::steps(vec![
                String::from(
                    "Check the passphrase (SQ_STORE_PASSPHRASE, or the one you type): the file can't be opened \
                     without the one it was written with.",
                ),
                String::from("Check that the data directory is readable and writable."),
                String::from(
                    "Or use the OS keyring: unset SQ_CREDENTIAL_STORE, then reconnect with sq reauth.",
                ),
            ]),
        );
    }
    Finding::new(
        Code::StoreUnavailable,
        summary,
        detail,
        Fix::command("SQ_CREDENTIAL_STORE=file sq diagnose")
            .step("Unlock the keyring (log in to the desktop session, or unlock it in your keyring app), or")
            .step("on a machine without a Secret Service, install and start one (gnome-keyring or KeePassXC), or")
            .step(
                "use the encrypted file store: set SQ_CREDENTIAL_STORE=file (passphrase from SQ_STORE_PASSPHRASE or \
                 a prompt); tokens kept in the keyring aren't there, so reconnect with sq reauth.",
            ),
    )
}

fn app_finding(creds: AppCredentials, users: usize) -> Finding {
    let (title, key, env) = match creds.app {
        Network::Facebook => ("Facebook", "facebook", "FACEBOOK"),
        Network::Instagram => ("Instagram Login", "instagram", "INSTAGRAM"),
        Network::Threads => ("Threads", "threads", "THREADS"),
    };
    let what = match (creds.id_present, creds.secret_present) {
        (false, false) => "its app id and secret are",
        (false, true) => "its app id is",
        _ => "its app secret is",
    };
    let profiles = if users == 1 { String::from("1 profile uses") } else { format!("{users} profiles use") };
    let which = match creds.app {
        // §6.1, §12.8: the Facebook App ID sent to Threads fails with 4476002.
        Network::Threads => {
            " Use the Threads App ID and secret (App dashboard → Use cases → Threads API → \
                             Settings), not the Facebook ones."
        }
        // §5.1: Instagram Login has its own app id.
        Network::Instagram => {
            " Use the Instagram App ID and secret (App dashboard → Instagram → API setup with \
                               Instagram login), not the Facebook ones."
        }
        Network::Facebook => "",
    };
    let mut fix = Fix { command: None, steps: Vec::new() };
    if !creds.id_present {
        fix.command = Some(format!("sq config set {key}.app_id <APP-ID>"));
    }
    if !creds.secret_present {
        let set_secret = format!("sq config set {key}.app_secret --stdin");
        if fix.command.is_none() {
            fix.command = Some(set_secret);
        } else {
            fix.steps.push(format!(
                "Then: {set_secret} (the secret is read from stdin, never from the command line)."
            ));
        }
    }
    fix.steps.push(format!("Or set SQ_{env}_APP_ID and SQ_{env}_APP_SECRET in the environment."));
    Finding::new(
        Code::AppNotConfigured,
        format!("The {title} app isn't configured: {what} missing."),
        format!("{profiles} it; sq needs the app's credentials to inspect and re-authorize tokens.{which}"),
        fix,
    )
}
