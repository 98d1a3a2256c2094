//! Saving a login: the logic `sq token import`, `sq reauth`/`sq connect` and `sq refresh` share.
//!
//! 1. **Inspect** a user token ([`inspect_facebook`], [`inspect_instagram`], [`inspect_threads`]):
//!    is it valid (a dead token is refused with Meta's reason, exit 4; an unreachable Meta is
//!    exit 3, never "invalid"), whose is it, which permissions, when does it expire. A
//!    short-lived Facebook token is upgraded to a long-lived one when the app secret is known.
//! 2. **List what it reaches** ([`facebook_profiles`]): every result page of `/me/accounts`
//!    plus the business-portfolio Pages when `business_management` is granted, each Page with
//!    its tasks and its linked Instagram account.
//! 3. **Save** ([`save`]): secrets first (the connection's user token, the Page tokens), then
//!    the database switch in ONE transaction, then — only after the switch — the Page tokens of
//!    profiles that are gone. Until step 3 ends the old tokens keep working; if the database
//!    switch fails, the new secrets that were written are valid tokens of the same profiles.
//!
//! Nothing here prints: callers render [`InspectedLogin::summary_json`] / [`Reached::json`].
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

pub mod flow;

use crate::ctx::Ctx;
use crate::db::{LoginKind, NewConnection, NewProfile, Profile};
use crate::error::Error;
use crate::meta::types::{DebugToken, Page};
use crate::meta::{AppCredentials, GraphClient, MetaError};
use crate::model::classify::TokenDeath;
use crate::model::grant::{GranularScope, PageReach};
use crate::model::{Network, ProfileKind, Via};
use crate::output::sanitize;
use crate::secret::{PageToken, Secret, UserToken};
use crate::settings::StoreKind;
use crate::store::Account;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A Facebook token that expires within this is short-lived (they live 1–2 h; long-lived ones
/// about 60 days).
const SHORT_LIVED_SECS: i64 = 24 * 3600;

/// One inspected login (spec §1 "Connection"), with its user token.
#[derive(Debug, Clone)]
pub struct InspectedLogin {
    pub network: Network,
    pub login_kind: LoginKind,
    /// The Facebook user id, the Instagram professional account id, or the Threads user id.
    pub user_id: String,
    pub name: Option<String>,
    pub username: Option<String>,
    pub token: UserToken,
    pub app_id: String,
    pub scopes: Vec<String>,
    pub declined: Vec<String>,
    pub expires_at: Option<i64>,
    pub data_access_expires_at: Option<i64>,
    pub issued_at: Option<i64>,
    /// Set when the token is still short-lived (no app secret to upgrade it).
    pub short_lived: bool,
    /// `debug_token`'s granular grant (Facebook): which Pages the user ticked (§2.2, §4.3).
    pub granular: Vec<GranularScope>,
    /// Things the user should know (no app secret, short-lived token kept, ...), in words.
    pub warnings: Vec<String>,
}

impl InspectedLogin {
    pub fn token_account(&self) -> Account {
        Account::user(self.network, &self.user_id)
    }

    pub fn new_connection(&self) -> NewConnection {
        NewConnection {
            network: self.network,
            meta_user_id: self.user_id.clone(),
            app_id: self.app_id.clone(),
            name: self.name.clone().or_else(|| self.username.clone()),
            scopes: self.scopes.clone(),
            declined_scopes: self.declined.clone(),
            token_expires_at: self.expires_at,
            data_access_expires_at: self.data_access_expires_at,
            issued_at: self.issued_at,
            login_kind: self.login_kind,
        }
    }

    /// The `connection` object of `--json` output. The token only masked.
    pub fn json(&self) -> Value {
        json!({
            "network": self.network.name(),
            "login": self.login_kind.as_str(),
            "user_id": self.user_id,
            "name": self.name.as_deref().map(sanitize),
            "username": self.username.as_deref().map(sanitize),
            "app_id": self.app_id,
            "token": self.token.masked(),
            "scopes": self.scopes,
            "declined_scopes": self.declined,
            "expires_at": self.expires_at.and_then(rfc3339),
            "data_access_expires_at": self.data_access_expires_at.and_then(rfc3339),
        })
    }

    /// "Dana Rivera (facebook user 100000000000001)".
    pub fn label(&self) -> String {
        let who = self
            .name
            .clone()
            .or_else(|| self.username.as_ref().map(|u| format!("@{u}")))
            .unwrap_or_else(|| String::from("(no name)"));
        format!("{} ({} user {})", sanitize(&who), self.network.name(), self.user_id)
    }
}

/// Where a Page was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundIn {
    Accounts,
    /// Only through a business portfolio (absent from `/me/accounts`, meta-platform.md §4.3).
    Portfolio,
    /// Returned by a listing (a business portfolio lists every Page it holds) although the
    /// login's grant leaves it out: it wasn't ticked in Meta's dialog. The same reading as
    /// diagnose's `granular_not_selected` ([`PageReach`]).
    NotSelected,
    /// The identity call of an Instagram Login / Threads token.
    Identity,
}

/// A profile a login reaches, with the token it publishes with (Page token, or the login's own
/// token for Instagram Login and Threads).
#[derive(Debug, Clone)]
pub struct Reached {
    pub network: Network,
    pub remote_id: String,
    pub name: String,
    pub username: Option<String>,
    pub page_id: Option<String>,
    pub via: Via,
    pub tasks: Option<Vec<String>>,
    pub token: Option<Secret>,
    pub token_expires_at: Option<i64>,
    pub source: FoundIn,
    /// Instagram via a Page whose login lacks the Instagram permissions (§3.3).
    pub missing_instagram_permissions: bool,
}

impl Reached {
    pub fn reference(&self) -> String {
        format!("{}:{}", self.network.name(), self.remote_id)
    }

    pub fn display_name(&self) -> String {
        match (&self.username, self.name.is_empty()) {
            (Some(u), true) => format!("@{}", sanitize(u)),
            _ => sanitize(&self.name),
        }
    }

    fn has_task(&self, task: &str) -> bool {
        self.tasks.as_ref().is_some_and(|t| t.iter().any(|x| x.eq_ignore_ascii_case(task)))
    }

    /// The user's tasks on this Page are unknown: it was reached through a business portfolio,
    /// whose listings have no `tasks` (meta-platform.md §14). Its role is shown as unknown,
    /// not guessed either way.
    pub fn role_unknown(&self) -> bool {
        self.via == Via::Page && self.tasks.is_none()
    }

    /// Publishing needs `CREATE_CONTENT` (or `MANAGE`) on the Page (meta-platform.md §3.3, §4.1).
    /// Instagram Login and Threads profiles publish with their own login. A Page whose role is
    /// unknown is not known to be unable either ([`Self::role_unknown`]).
    pub fn can_publish(&self) -> bool {
        self.via != Via::Page
            || self.role_unknown()
            || self.has_task("CREATE_CONTENT")
            || self.has_task("MANAGE")
    }

    /// Full control (`MANAGE`): re-authorization of the Page needs a Page Admin.
    pub fn is_admin(&self) -> bool {
        self.via != Via::Page || self.role_unknown() || self.has_task("MANAGE")
    }

    /// Machine-readable flags for the output: `cannot_publish`, `not_page_admin`, `role_unknown`,
    /// `portfolio_only`, `no_page_token`.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.role_unknown() {
            f.push("role_unknown");
        }
        if !self.can_publish() {
            f.push("cannot_publish");
        }
        if !self.is_admin() {
            f.push("not_page_admin");
        }
        if self.source == FoundIn::Portfolio {
            f.push("portfolio_only");
        }
        if self.source == FoundIn::NotSelected {
            f.push("granular_not_selected");
        }
        if self.token.is_none() {
            f.push("no_page_token");
        }
        if self.missing_instagram_permissions {
            f.push("instagram_permissions_missing");
        }
        f
    }

    /// Plain words for the flags, for the human summary.
    pub fn flag_words(&self) -> Vec<&'static str> {
        // One cause per Page: a Page left out of the grant can't be used whatever the user's
        // role on it, so its unknown role is not mentioned beside that cause (`--json` keeps
        // both flags).
        let not_selected = self.source == FoundIn::NotSelected;
        self.flags()
            .into_iter()
            .filter(|f| !(not_selected && *f == "role_unknown"))
            .map(|f| match f {
                "cannot_publish" => "can't publish: no CREATE_CONTENT task on the Page",
                "not_page_admin" => "not a Page Admin (no MANAGE task)",
                "role_unknown" => {
                    "your role on the Page is unknown (Meta lists no tasks for portfolio Pages)"
                }
                "portfolio_only" => "reached through a business portfolio only",
                "granular_not_selected" => "not selected in the login's grant",
                "no_page_token" => "Meta gave no Page token",
                "instagram_permissions_missing" => {
                    "the login lacks instagram_basic/instagram_content_publish"
                }
                other => other,
            })
            .collect()
    }

    fn label(&self) -> String {
        format!("{} ({})", self.display_name(), self.reference())
    }

    pub fn new_profile(&self, store: StoreKind) -> NewProfile {
        NewProfile {
            kind: self.network,
            remote_id: self.remote_id.clone(),
            name: self.name.clone(),
            username: self.username.clone(),
            page_id: self.page_id.clone(),
            via: self.via,
            tasks: self.tasks.clone(),
            token_store: Some(store),
            token_expires_at: self.token_expires_at,
            // Set by the caller, who knows which token this profile publishes with.
            token_masked: None,
        }
    }

    /// One profile of `--json` output (spec §2 field names), with its flags; `status` says what
    /// the command did with it.
    pub fn json(&self, status: &str) -> Value {
        json!({
            "profile": self.reference(),
            "network": self.network.name(),
            "kind": self.network.name(),
            "name": self.display_name(),
            // The same `via` as everywhere else (spec §1 kinds + how Instagram is connected).
            "via": ProfileKind::of(self.network, self.via).via(),
            "page_id": self.page_id,
            "tasks": self.tasks,
            "token": self.token.as_ref().map(Secret::masked),
            "status": status,
            "flags": self.flags(),
        })
    }
}

/// The fixes the flags of `profiles` call for, each once however many profiles carry it, with
/// the profiles it is for (one `sq reauth` naming them all rather than a hint per row). For the
/// human summaries of `token import` and `reauth`; `--json` keeps each profile's flags.
pub fn flag_hints(profiles: &[&Reached]) -> Vec<String> {
    let with = |flag: &str| -> Vec<&Reached> {
        profiles.iter().copied().filter(|r| r.flags().contains(&flag)).collect()
    };
    let refs = |rs: &[&Reached]| rs.iter().map(|r| r.reference()).collect::<Vec<_>>().join(" ");
    let labels = |rs: &[&Reached]| rs.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    let rs = with("granular_not_selected");
    if !rs.is_empty() {
        out.push(format!(
            "{} {} not ticked on Meta's page; run `sq reauth facebook {}`, choose \"Edit access\" and tick {}",
            labels(&rs),
            if rs.len() == 1 { "was" } else { "were" },
            refs(&rs),
            if rs.len() == 1 { "it" } else { "them" }
        ));
    }
    let rs = with("instagram_permissions_missing");
    if !rs.is_empty() {
        out.push(format!(
            "to publish to {}, add the Instagram permissions: sq reauth instagram {} --via-page",
            labels(&rs),
            refs(&rs)
        ));
    }
    let rs = with("cannot_publish");
    if !rs.is_empty() {
        out.push(format!(
            "to publish to {}, ask a Page Admin for a role with the CREATE_CONTENT task",
            labels(&rs)
        ));
    }
    out
}

/// A stored profile, as the `NewProfile` that keeps it unchanged in a replace.
pub fn keep_profile(p: &Profile) -> NewProfile {
    NewProfile {
        kind: p.kind,
        remote_id: p.remote_id.clone(),
        name: p.name.clone(),
        username: p.username.clone(),
        page_id: p.page_id.clone(),
        via: p.via,
        tasks: p.tasks.clone(),
        token_store: p.token_store,
        token_expires_at: p.token_expires_at,
        token_masked: p.token_masked.clone(),
    }
}

pub fn rfc3339(unix: i64) -> Option<String> {
    crate::diagnose::rfc3339(unix)
}

/// A dead token, refused with the cause in plain words (exit 4).
fn dead_token(network: Network, death: TokenDeath, meta_message: &str) -> Error {
    let mut e = Error::action(
        death.finding_code(),
        format!(
            "the {} token is not valid: {}{}",
            network.name(),
            death.describe(),
            if meta_message.is_empty() {
                String::new()
            } else {
                format!(" (Meta: {})", sanitize(meta_message))
            }
        ),
    );
    e = match death {
        TokenDeath::Checkpoint => {
            e.hint("log in on facebook.com and complete the security check, then get a new token")
        }
        TokenDeath::UnconfirmedUser => e.hint("confirm the account on Meta's site, then get a new token"),
        _ => e,
    };
    e.hint(format!(
        "get a new token (or run `sq reauth {}`, which makes one in the browser); nothing was stored",
        network.name()
    ))
}

fn meta_to_error(network: Network, e: MetaError) -> Error {
    if let Some(death) = e.token_death() {
        let msg = e.api().map(|a| a.message.clone()).unwrap_or_default();
        return dead_token(network, death, &msg);
    }
    Error::from(e)
}

fn debug_token_death(t: &DebugToken) -> Option<(TokenDeath, String)> {
    if t.is_valid {
        return None;
    }
    let c = t.error_classification();
    let death = c.and_then(|c| c.token_death).unwrap_or(TokenDeath::Invalid);
    Some((death, t.error.as_ref().map(|e| e.message.clone()).unwrap_or_default()))
}

/// Inspects a Facebook user token: `debug_token` with the app token when the app is known
/// (else with the token itself, then `/me`), `/me`, `/me/permissions`; upgrades a short-lived
/// token with the app secret. `app` is the Facebook app (id and secret) if configured;
/// `app_id` the configured id alone otherwise.
pub async fn inspect_facebook(
    graph: &GraphClient,
    app: Option<&AppCredentials>,
    app_id: Option<&str>,
    token: UserToken,
    now: i64,
) -> Result<InspectedLogin, Error> {
    let mut warnings = Vec::new();
    let (mut token, mut dbg) = (token, None::<DebugToken>);
    match app {
        Some(app) => match graph.debug_token(&token, &app.app_token()).await {
            Ok(d) => dbg = Some(d),
            // A Native/Desktop app (§14): the token inspects itself, which Meta allows for the
            // app's admins, developers and testers (§2.1); for anyone else `/me` below is the
            // validity check, the documented other way.
            Err(e) if e.app_token_ignored() => match graph.debug_token(&token, &token).await {
                Ok(d) => {
                    warnings.push(String::from(
                        "the Facebook app is a Native/Desktop app, whose app token Meta ignores, so the token \
                         inspected itself (debug_token with the login's own token)",
                    ));
                    dbg = Some(d);
                }
                Err(e) if e.class() == crate::model::classify::FailureClass::Transient => {
                    return Err(Error::from(e));
                }
                Err(e) if e.token_death().is_some() => return Err(meta_to_error(Network::Facebook, e)),
                Err(_) => warnings.push(String::from(
                    "the Facebook app is a Native/Desktop app, whose app token Meta ignores, and Meta lets only \
                     the app's admins, developers and testers inspect their own token, so the token was checked \
                     with GET /me (its scopes and expiry are not known)",
                )),
            },
            Err(e) => return Err(crate::error::app_token_error(e)),
        },
        None => {
            warnings.push(String::from(
                "the Facebook app secret is not configured, so the token was checked with itself \
                 (`printf '%s' \"$SECRET\" | sq config set facebook.app_secret --stdin` for a full check)",
            ));
            // Meta lets an app developer's token inspect itself (§2.1); for anyone else this is
            // refused and `/me` below is the validity check.
            match graph.debug_token(&token, &token).await {
                Ok(d) => dbg = Some(d),
                Err(e) if e.class() == crate::model::classify::FailureClass::Transient => {
                    return Err(Error::from(e));
                }
                Err(e) if e.token_death().is_some() => return Err(meta_to_error(Network::Facebook, e)),
                Err(_) => {}
            }
        }
    }
    if let Some((death, msg)) = dbg.as_ref().and_then(debug_token_death) {
        return Err(dead_token(Network::Facebook, death, &msg));
    }
    if let Some(d) = &dbg {
        if d.token_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("PAGE")) {
            return Err(Error::usage("this is a Page token; sq imports the user token of the person who manages the Pages")
                .hint("get a user access token (e.g. from the Graph API Explorer, \"Get User Access Token\") and import that; sq fetches the Page tokens itself"));
        }
        if let (Some(have), Some(want)) = (d.app_id.as_deref(), app_id) {
            if have != want {
                return Err(Error::usage(format!(
                    "this token belongs to app {have}, but sq is configured for Facebook app {want}"
                ))
                .hint("import a token made for the configured app, or `sq config set facebook.app_id` to the token's app"));
            }
        }
    }

    // Upgrade a short-lived token (§1.4) while it still works.
    let expires = dbg.as_ref().and_then(|d| crate::diagnose::meta_time(d.expires_at));
    let mut short_lived = expires.is_some_and(|e| e - now < SHORT_LIVED_SECS);
    if short_lived {
        match app {
            Some(app) => {
                let long = graph
                    .facebook_long_lived(app, &token)
                    .await
                    .map_err(|e| meta_to_error(Network::Facebook, e))?;
                token = long.access_token;
                match graph.debug_token(&token, &app.app_token()).await {
                    Ok(d) => {
                        if let Some((death, msg)) = debug_token_death(&d) {
                            return Err(dead_token(Network::Facebook, death, &msg));
                        }
                        dbg = Some(d);
                    }
                    Err(e) if e.app_token_ignored() => {}
                    Err(e) => return Err(crate::error::app_token_error(e)),
                }
                short_lived = false;
            }
            None => warnings.push(String::from(
                "the token is short-lived (it and its Page tokens expire within hours) and the app secret \
                 is not configured, so it could not be upgraded to a long-lived one",
            )),
        }
    }

    let me = graph.me(&token).await.map_err(|e| meta_to_error(Network::Facebook, e))?;
    if me.id.is_empty() {
        return Err(Error::failure(
            "meta_unexpected",
            "Meta did not say whose token this is (/me has no id)",
        ));
    }
    let perms = graph.permissions(&token).await.map_err(|e| meta_to_error(Network::Facebook, e))?;
    use crate::meta::types::PermissionStatus as P;
    let mut scopes: Vec<String> =
        perms.iter().filter(|p| p.status == P::Granted).map(|p| p.permission.clone()).collect();
    let declined: Vec<String> =
        perms.iter().filter(|p| p.status == P::Declined).map(|p| p.permission.clone()).collect();
    if scopes.is_empty() {
        if let Some(d) = &dbg {
            scopes = d.scopes.clone();
        }
    }
    let d = dbg.unwrap_or_default();
    Ok(InspectedLogin {
        network: Network::Facebook,
        login_kind: LoginKind::FacebookLogin,
        user_id: me.id,
        name: me.name,
        username: None,
        token,
        app_id: d.app_id.clone().or_else(|| app_id.map(str::to_string)).unwrap_or_default(),
        scopes,
        declined,
        expires_at: crate::diagnose::meta_time(d.expires_at),
        data_access_expires_at: crate::diagnose::meta_time(d.data_access_expires_at),
        issued_at: crate::diagnose::meta_time(d.issued_at),
        short_lived,
        granular: d
            .granular_scopes
            .iter()
            .map(|g| GranularScope {
                scope: g.scope.clone(),
                target_ids: (!g.target_ids.is_empty()).then(|| g.target_ids.clone()),
            })
            .collect(),
        warnings,
    })
}

/// Every profile a Facebook login reaches: its Pages (every result page of `/me/accounts`, plus
/// the portfolio Pages when `business_management` is granted) and the Instagram accounts
/// linked to them. A Page listed without a token is asked for its token directly (§4.3).
pub async fn facebook_profiles(
    graph: &GraphClient,
    login: &mut InspectedLogin,
) -> Result<Vec<Reached>, Error> {
    let token = login.token.clone();
    let accounts = graph.accounts(&token).await.map_err(|e| meta_to_error(Network::Facebook, e))?;
    let listed: HashSet<String> = accounts.iter().map(|p| p.id.clone()).collect();
    let mut lists = vec![accounts];
    if login.scopes.iter().any(|s| s == "business_management") {
        match graph.portfolio_pages(&token).await {
            Ok(p) => lists.push(p),
            Err(e) if e.class() == crate::model::classify::FailureClass::Transient => {
                return Err(Error::from(e));
            }
            Err(e) => login.warnings.push(format!("business-portfolio Pages could not be listed: {e}")),
        }
    }
    let mut pages: Vec<Page> = crate::meta::types::merge_pages(lists);
    for p in pages.iter_mut().filter(|p| p.access_token.is_none()) {
        if let Ok(node) = graph.page(&token, &p.id).await {
            p.access_token = node.access_token;
        }
    }
    let ig_granted =
        ["instagram_basic", "instagram_content_publish"].iter().all(|p| login.scopes.iter().any(|s| s == p));
    let page_expiry = if login.short_lived { login.expires_at } else { None };
    let mut out = Vec::new();
    for p in pages {
        let required = ProfileKind::FacebookPage.required_permissions();
        let source = match PageReach::of(&login.granular, required, &p.id, listed.contains(&p.id)) {
            PageReach::Listed => FoundIn::Accounts,
            PageReach::PortfolioOnly => FoundIn::Portfolio,
            PageReach::NotSelected => FoundIn::NotSelected,
        };
        let page = Reached {
            network: Network::Facebook,
            remote_id: p.id.clone(),
            name: p.name.clone().unwrap_or_default(),
            username: None,
            page_id: Some(p.id.clone()),
            via: Via::Page,
            // `None` for a portfolio-only Page: Meta serves no tasks there (§14).
            tasks: p.tasks.clone(),
            token: p.access_token.clone().map(PageToken::into_secret),
            token_expires_at: page_expiry,
            source,
            missing_instagram_permissions: false,
        };
        let ig = p.instagram_business_account.as_ref().filter(|a| !a.id.is_empty()).map(|a| Reached {
            network: Network::Instagram,
            remote_id: a.id.clone(),
            name: String::new(),
            username: a.username.clone(),
            page_id: Some(p.id.clone()),
            via: Via::Page,
            tasks: p.tasks.clone(),
            token: p.access_token.clone().map(PageToken::into_secret),
            token_expires_at: page_expiry,
            source,
            missing_instagram_permissions: !ig_granted,
        });
        out.push(page);
        out.extend(ig);
    }
    Ok(out)
}

/// Inspects an Instagram Login token (no `debug_token` exists for it, §2.4): the identity
/// call proves it valid. With the app secret, a short-lived token is upgraded (§5.3); a token
/// that is already long-lived is kept as it is.
pub async fn inspect_instagram(
    graph: &GraphClient,
    app: Option<&AppCredentials>,
    token: UserToken,
    permissions: Vec<String>,
    now: i64,
    known_short: bool,
) -> Result<(InspectedLogin, Reached), Error> {
    let mut warnings = Vec::new();
    let (mut token, mut expires_at, mut issued_at) = (token, None, None);
    if let Some(app) = app {
        match graph.instagram_long_lived(&app.secret, &token).await {
            Ok(long) => {
                token = long.access_token;
                expires_at = long.expires_in.map(|s| now + s);
                issued_at = Some(now);
            }
            Err(e) if e.class() == crate::model::classify::FailureClass::Transient => {
                return Err(Error::from(e));
            }
            Err(e) if known_short => return Err(meta_to_error(Network::Instagram, e)),
            // Already long-lived (Meta refuses to exchange it again): keep it.
            Err(_) => {}
        }
    } else if known_short {
        return Err(Error::action(
            "app_not_configured",
            "the Instagram app secret is needed to get a long-lived token",
        ));
    } else {
        warnings.push(String::from(
            "the Instagram app secret is not configured: the token's age and expiry are unknown, and a \
             short-lived token can't be upgraded",
        ));
    }
    let me = graph.instagram_me(&token).await.map_err(|e| meta_to_error(Network::Instagram, e))?;
    let id = me.user_id.clone().filter(|s| !s.is_empty()).unwrap_or(me.id.clone());
    if id.is_empty() {
        return Err(Error::failure(
            "meta_unexpected",
            "Instagram did not say whose token this is (/me has no id)",
        ));
    }
    let login = InspectedLogin {
        network: Network::Instagram,
        login_kind: LoginKind::InstagramLogin,
        user_id: id,
        name: None,
        username: me.username,
        token,
        app_id: app.map(|a| a.id.clone()).unwrap_or_default(),
        scopes: permissions,
        declined: Vec::new(),
        expires_at,
        data_access_expires_at: None,
        issued_at,
        short_lived: false,
        granular: Vec::new(),
        warnings,
    };
    let profile = identity_profile(&login, Via::InstagramLogin);
    Ok((login, profile))
}

/// Inspects a Threads token: the identity call, then (best effort) `debug_token` with the
/// token itself, which works when its user is a Threads tester of the app (§2.3) and gives the
/// expiry. With the Threads app secret a short-lived token is upgraded (§6.4).
pub async fn inspect_threads(
    graph: &GraphClient,
    app: Option<&AppCredentials>,
    token: UserToken,
    now: i64,
    known_short: bool,
) -> Result<(InspectedLogin, Reached), Error> {
    let mut warnings = Vec::new();
    let (mut token, mut expires_at, mut issued_at, mut scopes) = (token, None, None, Vec::new());
    // What the token says about itself (works when its user is a tester of the app, §2.3): a
    // long-lived token keeps its age, so `sq refresh` knows its window.
    if !known_short {
        match graph.threads_debug_token(&token, &token).await {
            Ok(d) => {
                if let Some((death, msg)) = debug_token_death(&d) {
                    return Err(dead_token(Network::Threads, death, &msg));
                }
                expires_at = crate::diagnose::meta_time(d.expires_at);
                issued_at = crate::diagnose::meta_time(d.issued_at);
                scopes = d.scopes;
            }
            Err(e) if e.class() == crate::model::classify::FailureClass::Transient => {
                return Err(Error::from(e));
            }
            Err(_) => {}
        }
    }
    let short = known_short || expires_at.is_none_or(|e| e - now < SHORT_LIVED_SECS);
    if short {
        if let Some(app) = app {
            match graph.threads_long_lived(&app.secret, &token).await {
                Ok(long) => {
                    token = long.access_token;
                    expires_at = long.expires_in.map(|s| now + s);
                    issued_at = Some(now);
                }
                Err(e) if e.class() == crate::model::classify::FailureClass::Transient => {
                    return Err(Error::from(e));
                }
                Err(e @ MetaError::WrongThreadsAppId { .. }) => return Err(Error::from(e)),
                Err(e) if known_short => return Err(meta_to_error(Network::Threads, e)),
                Err(_) => {}
            }
        } else if known_short {
            return Err(Error::action(
                "app_not_configured",
                "the Threads app secret is needed to get a long-lived token",
            ));
        }
    }
    let me = graph.threads_me(&token).await.map_err(|e| meta_to_error(Network::Threads, e))?;
    if me.id.is_empty() {
        return Err(Error::failure(
            "meta_unexpected",
            "Threads did not say whose token this is (/me has no id)",
        ));
    }
    if expires_at.is_none() {
        warnings.push(String::from(
            "the token's age and expiry are unknown (Threads inspects tokens only for its testers)",
        ));
    }
    let login = InspectedLogin {
        network: Network::Threads,
        login_kind: LoginKind::Threads,
        user_id: me.id,
        name: None,
        username: me.username,
        token,
        app_id: app.map(|a| a.id.clone()).unwrap_or_default(),
        scopes,
        declined: Vec::new(),
        expires_at,
        data_access_expires_at: None,
        issued_at,
        short_lived: false,
        granular: Vec::new(),
        warnings,
    };
    let profile = identity_profile(&login, Via::Threads);
    Ok((login, profile))
}

/// The one profile an Instagram Login or Threads token publishes to: its own account, found
/// by the identity call, with the login's token.
fn identity_profile(login: &InspectedLogin, via: Via) -> Reached {
    Reached {
        network: login.network,
        remote_id: login.user_id.clone(),
        name: String::new(),
        username: login.username.clone(),
        page_id: None,
        via,
        tasks: None,
        token: Some(login.token.clone().into_secret()),
        token_expires_at: login.expires_at,
        source: FoundIn::Identity,
        missing_instagram_permissions: false,
    }
}

/// What [`save`] did.
#[derive(Debug, Clone)]
pub struct Saved {
    pub connection_id: i64,
    /// References of profiles that were on the connection and are gone now.
    pub removed: Vec<String>,
}

/// Stores a login: the user token and the Page tokens of `profiles` first, then ONE database
/// transaction that makes the connection's profile set exactly `profiles` + `keep` (`keep`:
/// stored profiles left as they are, e.g. not re-selected in `reauth`), then deletes the Page
/// tokens of profiles that are gone (only after the switch, and only when no remaining profile
/// publishes with them).
pub async fn save(
    ctx: &Ctx,
    login: &InspectedLogin,
    profiles: &[Reached],
    keep: &[NewProfile],
) -> Result<Saved, Error> {
    let store_kind = ctx.store()?.kind();
    // 0. A database that can't take the switch must stop the save before any secret is
    // replaced: new tokens under old, unreadable rows would be neither login.
    ctx.db()?.quick_check()?;
    // 1. Secrets.
    let mut secrets: Vec<(Account, Secret)> =
        vec![(login.token_account(), login.token.clone().into_secret())];
    for p in profiles.iter().filter(|p| p.via == Via::Page) {
        if let (Some(page), Some(t)) = (&p.page_id, &p.token) {
            let account = Account::page(page);
            if !secrets.iter().any(|(a, _)| *a == account) {
                secrets.push((account, t.clone()));
            }
        }
    }
    // One batched write: one encrypted write or one keyring bundle write for the whole login.
    let masks_from: std::collections::HashMap<Account, String> =
        secrets.iter().map(|(a, t)| (a.clone(), t.masked())).collect();
    ctx.with_store(move |s| s.save_many(&secrets)).await?;

    // 2. The metadata switch, in one transaction.
    let connection = login.new_connection();
    // Each row keeps the masked form of its token (never the token), so `sq profiles` can
    // show it without reading the store: a Page's own token, else the login's.
    let mut rows: Vec<NewProfile> = profiles
        .iter()
        .map(|p| {
            let mut row = p.new_profile(store_kind);
            row.token_masked = match (p.via, &p.page_id) {
                // An Instagram account via a Page publishes with that Page's token.
                (Via::Page, Some(page)) => {
                    let account = Account::page(page);
                    masks_from.get(&account).cloned()
                }
                (Via::Page, None) => p.token.as_ref().map(Secret::masked),
                _ => Some(login.token.masked()),
            };
            row
        })
        .collect();
    for k in keep {
        if !rows.iter().any(|r| r.kind == k.kind && r.remote_id == k.remote_id) {
            rows.push(k.clone());
        }
    }
    let now = ctx.clock.now_unix();
    let mut db = ctx.db()?;
    let replaced = db.replace_connection_profiles(&connection, &rows, now)?;
    db.mark_verified(replaced.connection_id, now)?;

    // 3. Page tokens nobody publishes with any more.
    let still_used: HashSet<String> = db
        .list_profiles()?
        .into_iter()
        .filter(|p| p.profile.via == Via::Page)
        .filter_map(|p| p.profile.page_id.clone())
        .collect();
    let stale: Vec<Account> = replaced
        .removed
        .iter()
        .filter_map(|r| r.strip_prefix("facebook:"))
        .filter(|id| !still_used.contains(*id))
        .map(Account::page)
        .collect();
    if !stale.is_empty() {
        // A leftover entry is harmless (nothing refers to it); don't fail a finished switch.
        let _ = ctx.with_store(move |s| s.delete_many(&stale).map(|_| ())).await;
    }
    Ok(Saved { connection_id: replaced.connection_id, removed: replaced.removed })
}

// ---------------------------------------------------------------------------------------------
// The closing diagnose of reauth/refresh

/// Failed posts per profile reference, from the queue's `posts` table when this database has
/// one (the queue is built elsewhere; a database without it, or with another shape, reads as
/// "no failed posts").
pub fn failed_posts(ctx: &Ctx) -> std::collections::HashMap<String, u64> {
    // A count for a report: a database that can't be read here is reported by the command
    // that needs it, not by this hint.
    ctx.db().and_then(|db| db.failed_counts().map_err(Error::from)).unwrap_or_default()
}

/// Runs `diagnose` (collect + engine) on the stored profiles named by `refs`.
pub async fn diagnose_profiles(ctx: &Ctx, refs: &[String]) -> Result<crate::diagnose::Report, Error> {
    let rows: Vec<_> =
        ctx.db()?.list_profiles()?.into_iter().filter(|p| refs.contains(&p.profile.reference())).collect();
    let facts = crate::cmd::diagnose::local::facts_for(
        ctx,
        rows,
        crate::cmd::diagnose::local::Scope::Report,
        &|_, _| {},
    )
    .await?;
    Ok(crate::diagnose::diagnose(&facts, ctx.clock.now_unix()))
}
