//! The collection half of `sq diagnose` (spec §4 "Facts collected"): asks Meta about stored
//! tokens and turns the answers into [`Facts`] for the pure engine.
//!
//! Inputs are plain values ([`CollectInput`]: [`StoredProfile`], [`StoredConnection`],
//! [`AppConfig`]) so this module knows nothing of the database or the credential store; the
//! caller adapts its rows and does the local probes (store round-trip, redirect port).
//!
//! Speed (spec §8): every `debug_token` of a Facebook token goes through Graph batches of ≤ 50
//! (meta-platform.md §10), Instagram publishing limits too, and the work runs as concurrent
//! tasks bounded by the client's `Limits::max_in_flight`. `/me/accounts` is read page by page
//! and, when Pages are discovered from it (`--token -`), each page's tokens are inspected while
//! the next page is on the wire, so 1,000 Pages cost about the 10 sequential result pages.
//!
//! Errors: a transient failure (network, timeout, 5xx, code 1/2, an unfinished batch item)
//! makes a token's health *unknown* ([`TokenHealth::Unreachable`]), never invalid; a Graph error
//! the classifier reads as a verdict goes into the facts with that reading for the engine.
//!
//! Meta's text enters sq here: the facts are sanitized as the last step ([`sanitize_facts`]).
//!
//! `debug_token` needs the app token `app_id|app_secret` (§2.1). Without the app secret sq
//! inspects with the login's own user token (accepted when that user is a developer of the
//! app), and when Meta refuses that, falls back to an identity call made with the token itself
//! (`GET /me`), which proves valid/invalid (with the 190 subcode) but carries no scopes.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use crate::diagnose::facts::{
    AppCredentials as AppFacts, ConnectionFacts, EnvironmentFacts, Facts, GranularScope, GraphError,
    Inspection, PageAccount, Permission, PermissionStatus, PortfolioPage, ProfileFacts, PublishingLimit,
    RateUsage, Reachability, RedirectFacts, StoreProbe, StoredToken, TokenFacts, TokenHealth, TokenSource,
    meta_time,
};
use crate::meta::api::first_data;
use crate::meta::types::{self, DebugToken, Page};
use crate::meta::{AppCredentials, BatchItem, GraphClient, Host, MetaError};
use crate::model::classify::{self, Classification, FailureClass, Refusal, TokenVerdict};
use crate::model::{Network, ProfileKind};
use crate::output::sanitize;
use crate::secret::{AppSecret, Secret, UserToken};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

// ---------------------------------------------------------------------------------------------
// Inputs

/// A secret as the credential store gave it.
#[derive(Debug, Clone)]
pub enum StoredSecret {
    Loaded(Secret),
    /// Nothing stored under the profile's / connection's key.
    Missing,
    /// The store could not be read (locked keyring, wrong passphrase); the environment's store
    /// probe says why. Health stays unknown, never "missing".
    Unreadable {
        reason: String,
    },
}

impl StoredSecret {
    fn loaded(&self) -> Option<&Secret> {
        match self {
            StoredSecret::Loaded(s) => Some(s),
            _ => None,
        }
    }
}

/// One profile as sq stored it (a database row plus its token from the store).
#[derive(Debug, Clone)]
pub struct StoredProfile {
    pub kind: ProfileKind,
    /// Page id, Instagram user id or Threads user id.
    pub id: String,
    pub name: String,
    /// The [`StoredConnection::id`] it belongs to.
    pub connection_id: Option<String>,
    /// Instagram via a Page: the Page it publishes through.
    pub page_id: Option<String>,
    /// The token it publishes with: the Page token (Page, Instagram via Page) or the Instagram
    /// Login / Threads user token.
    pub token: StoredSecret,
    pub token_source: TokenSource,
    /// Unix time sq recorded at exchange/refresh (the only expiry for Instagram Login, §2.4).
    pub stored_expires_at: Option<i64>,
    pub stored_issued_at: Option<i64>,
    /// Permissions returned with the token (Instagram Login exchange/refresh, §5.2).
    pub stored_scopes: Option<Vec<String>>,
    /// Posts of this profile in state `failed` on the local queue.
    pub failed_posts: u64,
}

impl StoredProfile {
    /// A profile with a loaded token and nothing else recorded.
    pub fn new(
        kind: ProfileKind,
        id: impl Into<String>,
        name: impl Into<String>,
        token: StoredSecret,
    ) -> Self {
        StoredProfile {
            kind,
            id: id.into(),
            name: name.into(),
            connection_id: None,
            page_id: None,
            token,
            token_source: TokenSource::Keyring,
            stored_expires_at: None,
            stored_issued_at: None,
            stored_scopes: None,
            failed_posts: 0,
        }
    }
}

/// One login (spec §1): for Facebook, the user token whose `debug_token`, permissions and Page
/// list every Page of the login shares.
#[derive(Debug, Clone)]
pub struct StoredConnection {
    pub id: String,
    pub network: Network,
    /// The Meta user id, when known (informational).
    pub user_id: Option<String>,
    pub user_token: StoredSecret,
}

/// An app's id and secret as configured (config file, env, store); either may be missing.
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    pub id: Option<String>,
    pub secret: Option<AppSecret>,
}

impl AppConfig {
    pub fn new(id: impl Into<String>, secret: AppSecret) -> AppConfig {
        AppConfig { id: Some(id.into()), secret: Some(secret) }
    }

    /// Both halves, as the client wants them.
    pub fn credentials(&self) -> Option<AppCredentials> {
        match (&self.id, &self.secret) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
                Some(AppCredentials::new(id.clone(), secret.clone()))
            }
            _ => None,
        }
    }
}

/// The three apps of spec §2 (`instagram` is the Instagram Login app).
#[derive(Debug, Clone, Default)]
pub struct Apps {
    pub facebook: AppConfig,
    pub instagram: AppConfig,
    pub threads: AppConfig,
    /// `facebook.config_id` (Facebook Login for Business), for the findings' wording.
    pub facebook_config_id: Option<String>,
}

impl Apps {
    fn facts(&self) -> Vec<AppFacts> {
        [
            (Network::Facebook, &self.facebook),
            (Network::Instagram, &self.instagram),
            (Network::Threads, &self.threads),
        ]
        .into_iter()
        .map(|(app, c)| AppFacts {
            app,
            id_present: c.id.as_deref().is_some_and(|s| !s.is_empty()),
            secret_present: c.secret.as_ref().is_some_and(|s| !s.is_empty()),
        })
        .collect()
    }
}

/// Everything [`collect`] needs; the environment probes are the caller's (they are local).
#[derive(Debug, Clone, Default)]
pub struct CollectInput {
    pub profiles: Vec<StoredProfile>,
    pub connections: Vec<StoredConnection>,
    pub apps: Apps,
    /// The credential-store round-trip, done by the caller (bounded by its timeout).
    pub store: Option<StoreProbe>,
    /// The redirect URI and whether its port is busy, checked by the caller.
    pub redirect: Option<RedirectFacts>,
}

// ---------------------------------------------------------------------------------------------
// Entry points

/// Collects the facts for stored profiles. `progress(done, total)` is called as profiles'
/// tokens are settled (for a progress bar on stderr). Never fails: what could not be learned
/// is recorded as unknown in the facts.
///
/// Takes the input by value: each profile's token and recorded scopes move into the run instead
/// of being copied, which matters at 10,000 Pages (docs/performance.md: peak memory).
pub async fn collect(client: &GraphClient, input: CollectInput, progress: &dyn Fn(usize, usize)) -> Facts {
    let CollectInput { profiles, connections, apps, store, redirect } = input;
    let mut run = Run::new(client, &apps, progress);
    run.reserve(profiles.len());
    for c in &connections {
        run.add_connection(c, false, None);
    }
    drop(connections);
    for p in profiles {
        run.add_profile(p);
    }
    run.start_all();
    let mut facts = run.finish().await;
    facts.environment.store = store;
    facts.environment.redirect = redirect;
    sanitize_facts(&mut facts);
    facts
}

/// The store probe's result when it comes after the collection (it runs beside the Graph
/// requests: `local::facts_for`), made safe to show like the rest of the facts.
pub fn set_store_probe(facts: &mut Facts, mut probe: StoreProbe) {
    if let StoreProbe::Failed { backend, reason } = &mut probe {
        clean_all([backend, reason]);
    }
    facts.environment.store = Some(probe);
}

/// The token kind a pasted token looks like, from Meta's prefixes (meta-platform.md §0:
/// Instagram Login tokens start `IG`, Threads tokens `TH`, Facebook ones `EA`).
pub fn network_of_token(token: &Secret) -> Option<Network> {
    let t = token.expose();
    if t.starts_with("IG") {
        Some(Network::Instagram)
    } else if t.starts_with("TH") {
        Some(Network::Threads)
    } else if t.starts_with("EA") {
        Some(Network::Facebook)
    } else {
        None
    }
}

/// `sq diagnose --token -`: inspects one pasted token without storing anything.
///
/// - Facebook user token: the login (permissions, `/me/accounts`, portfolio Pages) plus every
///   Page it reaches and the Instagram accounts linked to them, as profiles whose tokens come
///   from `/me/accounts` (source `stdin`). Page tokens are inspected as each result page
///   arrives.
/// - Facebook Page token: that Page (and its linked Instagram account).
/// - Instagram Login (`IG…`) / Threads (`TH…`) token: that profile.
///
/// `network` overrides the prefix guess; without either, Facebook is assumed.
pub async fn collect_for_token(
    client: &GraphClient,
    token: Secret,
    network: Option<Network>,
    apps: &Apps,
    progress: &dyn Fn(usize, usize),
) -> Facts {
    let network = network.or_else(|| network_of_token(&token)).unwrap_or(Network::Facebook);
    let mut run = Run::new(client, apps, progress);
    let stdin = |kind, id: String, name: String| StoredProfile {
        token_source: TokenSource::Stdin,
        ..StoredProfile::new(kind, id, name, StoredSecret::Loaded(token.clone()))
    };
    match network {
        Network::Instagram => {
            let me = client.instagram_me(&token).await;
            run.reach.note(&me);
            let (id, name) = match &me {
                Ok(m) => (
                    m.user_id.clone().unwrap_or_else(|| m.id.clone()),
                    m.username.clone().unwrap_or_default(),
                ),
                Err(_) => (String::from("me"), String::from("(pasted Instagram token)")),
            };
            run.add_profile(stdin(ProfileKind::InstagramLogin, id, name));
        }
        Network::Threads => {
            let me = client.threads_me(&token).await;
            run.reach.note(&me);
            let (id, name) = match &me {
                Ok(m) => (m.id.clone(), m.username.clone().unwrap_or_default()),
                Err(_) => (String::from("me"), String::from("(pasted Threads token)")),
            };
            run.add_profile(stdin(ProfileKind::Threads, id, name));
        }
        Network::Facebook => {
            // The type decides the shape: a user token is a login with Pages, a Page token one
            // Page (§2.2 `type`, `profile_id`).
            let (health, page_id) = inspect_one(
                client,
                &token,
                run.fb_inspector(Some(&token)).as_ref(),
                Some(&token),
                &run.reach,
            )
            .await;
            match page_id {
                Some(page_id) => {
                    // With a Page token, the Page node answers for itself (§4.2).
                    let node = client.page(&token, "me").await;
                    run.reach.note(&node);
                    let (id, name, link) = match node {
                        Ok(p) => {
                            let link = p.instagram_business_account.map(|a| a.id).filter(|s| !s.is_empty());
                            (p.id, p.name.unwrap_or_default(), Some(link))
                        }
                        Err(_) => (page_id, String::new(), None),
                    };
                    let page = run.add_profile(stdin(ProfileKind::FacebookPage, id.clone(), name.clone()));
                    let mut settled = vec![page];
                    if let Some(Some(ig)) = &link {
                        let mut p = stdin(ProfileKind::InstagramViaPage, ig.clone(), name);
                        p.page_id = Some(id);
                        let i = run.add_profile(p);
                        run.facts.profiles[i].page_instagram = link.clone();
                        settled.push(i);
                    }
                    run.facts.profiles[page].page_instagram = link;
                    // Already inspected: the Instagram account publishes with the same token.
                    run.apply(Ev::Health(vec![(settled, health)]));
                }
                None => {
                    // A dead or unreachable login has no Page list to show: report the token
                    // itself, so the verdict (and exit code) isn't an empty "0 profiles".
                    let usable = matches!(&health, TokenHealth::Inspected(i) if i.valid);
                    if !usable {
                        let i = run.add_profile(stdin(
                            ProfileKind::FacebookPage,
                            String::from("me"),
                            String::from("(pasted Facebook token)"),
                        ));
                        run.apply(Ev::Health(vec![(vec![i], health)]));
                    } else {
                        let conn = StoredConnection {
                            id: String::from("stdin"),
                            network: Network::Facebook,
                            user_id: None,
                            user_token: StoredSecret::Loaded(token.clone()),
                        };
                        run.add_connection(&conn, true, Some(health));
                    }
                }
            }
        }
    }
    run.start_all();
    let mut facts = run.finish().await;
    sanitize_facts(&mut facts);
    facts
}

/// Makes every piece of text in the facts safe for a terminal: names, messages, tasks, scopes
/// and ids come from Meta (directly, or through the database, which stores what Meta said), and
/// the reasons quote Meta's errors. Done once, here where the text enters, so the engine can
/// copy text into findings as it is. Every field is named, so a new fact can't be forgotten.
pub fn sanitize_facts(facts: &mut Facts) {
    let Facts { profiles, connections, environment } = facts;
    for p in profiles {
        let ProfileFacts {
            reference,
            id,
            kind: _,
            name,
            connection,
            page_id,
            token,
            page_instagram,
            publishing_limit: _,
            rate: _,
            failed_posts: _,
            unreachable,
        } = p;
        clean_all([reference, id, name]);
        clean_opt(connection);
        clean_opt(page_id);
        if let Some(link) = page_instagram {
            clean_opt(link);
        }
        unreachable.iter_mut().for_each(clean);
        match token {
            TokenFacts::Missing => {}
            TokenFacts::Unreadable { reason } => clean(reason),
            TokenFacts::Present { stored, health } => {
                let StoredToken { source: _, masked, expires_at: _, issued_at: _, scopes } = stored;
                clean(masked);
                scopes.iter_mut().flatten().for_each(clean);
                clean_health(health);
            }
        }
    }
    for c in connections {
        let ConnectionFacts {
            id,
            network: _,
            user_token,
            permissions,
            accounts,
            portfolio_pages,
            rate: _,
            unreachable,
        } = c;
        clean(id);
        if let Some(h) = user_token {
            clean_health(h);
        }
        for Permission { name, status: _ } in permissions.iter_mut().flatten() {
            clean(name);
        }
        for PageAccount { id, name, tasks, instagram_id } in accounts.iter_mut().flatten() {
            clean_all([id, name]);
            tasks.iter_mut().for_each(clean);
            clean_opt(instagram_id);
        }
        for PortfolioPage { id, name, has_token: _, tasks } in portfolio_pages.iter_mut().flatten() {
            clean_all([id, name]);
            tasks.iter_mut().flatten().for_each(clean);
        }
        unreachable.iter_mut().for_each(clean);
    }
    let EnvironmentFacts { store, apps: _, redirect, meta, app_token_ignored: _, login_configuration } =
        environment;
    if let Some(c) = login_configuration {
        clean(c);
    }
    if let Some(StoreProbe::Failed { backend, reason }) = store {
        clean_all([backend, reason]);
    }
    if let Some(RedirectFacts { uri, port: _, port_busy: _ }) = redirect {
        clean(uri);
    }
    if let Some(Reachability::Unreachable { reason }) = meta {
        clean(reason);
    }
}

fn clean_health(health: &mut TokenHealth) {
    let error = match health {
        TokenHealth::Inspected(i) => {
            let Inspection {
                valid: _,
                error,
                token_type,
                expires_at: _,
                data_access_expires_at: _,
                issued_at: _,
                scopes,
                granular_scopes,
            } = i;
            clean_opt(token_type);
            // Shared lists are rebuilt only when cleaning changes something.
            let mut list = scopes.to_vec();
            list.iter_mut().for_each(clean);
            if list[..] != scopes[..] {
                *scopes = list.into();
            }
            let mut list = granular_scopes.to_vec();
            for GranularScope { scope, target_ids } in &mut list {
                clean(scope);
                target_ids.iter_mut().flatten().for_each(clean);
            }
            if list[..] != granular_scopes[..] {
                *granular_scopes = list.into();
            }
            error.as_deref_mut()
        }
        TokenHealth::Identity(result) => result.as_mut().err(),
        TokenHealth::Unreachable { reason } | TokenHealth::Uninspected { reason } => {
            clean(reason);
            None
        }
    };
    if let Some(GraphError { classification: _, code: _, subcode: _, message, transient: _ }) = error {
        clean(message);
    }
}

fn clean(s: &mut String) {
    *s = sanitize(s);
}

fn clean_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        clean(s);
    }
}

fn clean_all<const N: usize>(strings: [&mut String; N]) {
    strings.into_iter().for_each(clean);
}

// ---------------------------------------------------------------------------------------------
// The run: spawned jobs report events; one loop folds them into the facts.

/// What a job reports.
enum Ev {
    UserToken {
        conn: usize,
        health: TokenHealth,
    },
    Permissions {
        conn: usize,
        result: Result<Vec<types::Permission>, MetaError>,
    },
    /// One `/me/accounts` result page (not the end of the job).
    AccountsPage {
        conn: usize,
        pages: Vec<Page>,
    },
    AccountsDone {
        conn: usize,
        result: Result<(), MetaError>,
    },
    Portfolio {
        conn: usize,
        result: Result<Vec<Page>, MetaError>,
    },
    /// Token health for groups of profiles sharing one token.
    Health(Vec<(Vec<usize>, TokenHealth)>),
    Limits(Vec<(usize, Result<types::PublishingLimit, MetaError>)>),
    /// `GET /{page}?fields=instagram_business_account` per profile (§4.2).
    Links(Vec<(usize, Result<Option<String>, MetaError>)>),
    /// An Instagram Login / Threads profile: its verdict and its publishing limit.
    Solo {
        i: usize,
        health: TokenHealth,
        limit: Result<types::PublishingLimit, MetaError>,
    },
    /// A job ended without reporting (it panicked): only the count matters.
    Lost,
}

impl Ev {
    fn ends_job(&self) -> bool {
        !matches!(self, Ev::AccountsPage { .. })
    }
}

/// Sends `Ev::Lost` if a job is dropped before it reported, so the loop never waits forever.
struct Reporter(Option<mpsc::UnboundedSender<Ev>>);

impl Reporter {
    fn send(mut self, ev: Ev) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(ev);
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(Ev::Lost);
        }
    }
}

/// Whether Meta answered anything at all (environment `meta` fact).
#[derive(Default)]
struct Reach(Mutex<(bool, Option<String>)>, AtomicBool);

impl Reach {
    fn note<T>(&self, r: &Result<T, MetaError>) {
        let Ok(mut s) = self.0.lock() else { return };
        match r {
            Err(e) if e.class() == FailureClass::Transient => {
                if s.1.is_none() {
                    s.1 = Some(e.to_string());
                }
            }
            // Any Graph answer, error or not, proves Meta reachable.
            _ => s.0 = true,
        }
    }

    /// Meta answered the app token as if no token were sent: a Native/Desktop app.
    fn app_token_ignored(&self) {
        self.1.store(true, Ordering::Relaxed);
    }

    fn fact(&self) -> Option<Reachability> {
        let s = self.0.lock().ok()?;
        match &*s {
            (true, _) => Some(Reachability::Reachable),
            (false, Some(reason)) => Some(Reachability::Unreachable { reason: reason.clone() }),
            (false, None) => None,
        }
    }
}

/// One distinct token and the profiles that publish with it.
type TokenGroup = (Secret, Vec<usize>);
/// A [`TokenGroup`] with the user token of the login it belongs to (a Native app's inspector).
type OwnedGroup = (Secret, Vec<usize>, Option<Secret>);

struct ConnState {
    token: Option<Secret>,
    /// `--token -`: the Pages of `/me/accounts` become profiles.
    discover: bool,
    accounts_done: bool,
    portfolio_started: bool,
    throttled: bool,
}

struct Run<'a> {
    client: GraphClient,
    progress: &'a dyn Fn(usize, usize),
    tx: mpsc::UnboundedSender<Ev>,
    rx: mpsc::UnboundedReceiver<Ev>,
    outstanding: usize,
    reach: Arc<Reach>,
    app_token: Option<Secret>,
    facts: Facts,
    conns: Vec<ConnState>,
    /// Parallel to `facts.profiles`.
    tokens: Vec<Option<Secret>>,
    /// Whether the profile's token health is in (its `TokenFacts::Present` starts as "the check
    /// did not finish" and is filled in place: no second list of 10,000 healths).
    settled_health: Vec<bool>,
    throttled: Vec<bool>,
    /// A refusal of a profile's other calls (the publishing limit) that names what publishing
    /// lacks — a Business Manager Page's ads permission, the app's access level — though the
    /// token itself inspected fine: it decides the profile's health (spec §4, meta-platform.md §14).
    /// The scope lists seen so far, each held once.
    lists: Arc<Lists>,
    /// Few profiles have one, so it is kept by index.
    refused: HashMap<usize, TokenHealth>,
    /// Profiles whose token checks were started (so discovery doesn't start them twice).
    started: usize,
    settled: usize,
}

impl<'a> Run<'a> {
    fn new(client: &GraphClient, apps: &Apps, progress: &'a dyn Fn(usize, usize)) -> Run<'a> {
        let (tx, rx) = mpsc::unbounded_channel();
        let facts = Facts {
            environment: EnvironmentFacts {
                apps: apps.facts(),
                login_configuration: apps.facebook_config_id.clone(),
                ..EnvironmentFacts::default()
            },
            ..Facts::default()
        };
        Run {
            client: client.clone(),
            progress,
            tx,
            rx,
            outstanding: 0,
            reach: Arc::new(Reach::default()),
            app_token: apps.facebook.credentials().map(|a| a.app_token()),
            facts,
            conns: Vec::new(),
            tokens: Vec::new(),
            settled_health: Vec::new(),
            throttled: Vec::new(),
            refused: HashMap::new(),
            lists: Arc::default(),
            started: 0,
            settled: 0,
        }
    }

    /// The token `debug_token` is called with: the app token, else (no app secret) the
    /// login's user token, which Meta accepts when its user is a developer of the app (§2.1).
    fn fb_inspector(&self, user_token: Option<&Secret>) -> Option<Secret> {
        self.app_token.clone().or_else(|| user_token.cloned())
    }

    fn spawn(&mut self, fut: impl Future<Output = Ev> + Send + 'static) {
        self.outstanding += 1;
        let reporter = Reporter(Some(self.tx.clone()));
        tokio::spawn(async move {
            let ev = fut.await;
            reporter.send(ev);
        });
    }

    fn add_connection(&mut self, c: &StoredConnection, discover: bool, user_health: Option<TokenHealth>) {
        let mut facts = ConnectionFacts::new(c.id.clone(), c.network);
        facts.user_token = user_health;
        self.facts.connections.push(facts);
        self.conns.push(ConnState {
            token: c.user_token.loaded().cloned(),
            discover,
            accounts_done: false,
            portfolio_started: false,
            throttled: false,
        });
    }

    /// Room for `n` more profiles in every per-profile list, so 10,000 of them don't regrow
    /// (and briefly double) each list a dozen times.
    fn reserve(&mut self, n: usize) {
        self.facts.profiles.reserve(n);
        self.tokens.reserve(n);
        self.settled_health.reserve(n);
        self.throttled.reserve(n);
    }

    fn add_profile(&mut self, p: StoredProfile) -> usize {
        let mut f = ProfileFacts::new(p.kind, p.id, p.name);
        f.connection = p.connection_id;
        f.page_id = p.page_id;
        f.failed_posts = p.failed_posts;
        let token = match p.token {
            StoredSecret::Loaded(t) => {
                let mut s = StoredToken::new(p.token_source, t.masked());
                s.expires_at = p.stored_expires_at;
                s.issued_at = p.stored_issued_at;
                s.scopes = p.stored_scopes;
                f.token = TokenFacts::Present { stored: s, health: unfinished() };
                Some(t)
            }
            StoredSecret::Missing => {
                f.token = TokenFacts::Missing;
                None
            }
            StoredSecret::Unreadable { reason } => {
                f.token = TokenFacts::Unreadable { reason };
                None
            }
        };
        self.facts.profiles.push(f);
        self.tokens.push(token);
        self.settled_health.push(false);
        self.throttled.push(false);
        self.facts.profiles.len() - 1
    }

    fn conn_index(&self, profile: usize) -> Option<usize> {
        let id = self.facts.profiles[profile].connection.as_deref()?;
        self.facts.connections.iter().position(|c| c.id == id)
    }

    /// Starts the login checks and every profile's checks.
    fn start_all(&mut self) {
        for conn in 0..self.conns.len() {
            self.start_connection(conn);
        }
        self.start_profiles();
    }

    fn start_connection(&mut self, conn: usize) {
        let Some(token) = self.conns[conn].token.clone() else { return };
        if self.facts.connections[conn].network != Network::Facebook {
            // Instagram Login / Threads logins are checked through their one profile.
            return;
        }
        let client = self.client.clone();
        let reach = self.reach.clone();
        if self.facts.connections[conn].user_token.is_none() {
            let inspector = self.fb_inspector(Some(&token));
            let (client, reach, token) = (client.clone(), reach.clone(), token.clone());
            self.spawn(async move {
                let (health, _) =
                    inspect_one(&client, &token, inspector.as_ref(), Some(&token), &reach).await;
                Ev::UserToken { conn, health }
            });
        }
        {
            let (client, reach, token) = (client.clone(), reach.clone(), token.clone());
            self.spawn(async move {
                let result = client.permissions(&token).await;
                reach.note(&result);
                Ev::Permissions { conn, result }
            });
        }
        let tx = self.tx.clone();
        self.spawn(async move {
            let result = client
                .accounts_by_page(&UserToken::from_secret(token), |pages| {
                    let _ = tx.send(Ev::AccountsPage { conn, pages });
                })
                .await;
            reach.note(&result);
            Ev::AccountsDone { conn, result }
        });
    }

    /// Starts the checks of every profile added since the last call, in batches.
    fn start_profiles(&mut self) {
        let new: Vec<usize> = (self.started..self.facts.profiles.len()).collect();
        self.started = self.facts.profiles.len();

        // Facebook tokens (Page, Instagram via Page): one debug_token per distinct token,
        // batched; profiles that already have a verdict (the pasted Page token) are skipped.
        let mut groups: Vec<TokenGroup> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for &i in &new {
            let kind = self.facts.profiles[i].kind;
            let Some(t) = self.tokens[i].clone() else { continue };
            match kind {
                ProfileKind::FacebookPage | ProfileKind::InstagramViaPage => {
                    if self.settled_health[i] {
                        continue;
                    }
                    // Same token, one inspection (an Instagram account uses its Page's token).
                    match seen.get(t.expose()) {
                        Some(&g) => groups[g].1.push(i),
                        None => {
                            seen.insert(t.expose().to_string(), groups.len());
                            groups.push((t, vec![i]));
                        }
                    }
                }
                ProfileKind::InstagramLogin => self.start_instagram_login(i, t),
                ProfileKind::Threads => self.start_threads(i, t),
            }
        }
        // One job per inspector: the app token for everything, or without the app secret
        // each login's own user token for its Pages.
        let mut by_inspector: Vec<(Option<Secret>, Vec<OwnedGroup>)> = Vec::new();
        for group in groups {
            let own =
                group.1.first().and_then(|&i| self.conn_index(i)).and_then(|c| self.conns[c].token.clone());
            let inspector = match &self.app_token {
                Some(app) => Some(app.clone()),
                None => own.clone(),
            };
            let group = (group.0, group.1, own);
            match by_inspector.iter_mut().find(|(k, _)| k == &inspector) {
                Some((_, list)) => list.push(group),
                None => by_inspector.push((inspector, vec![group])),
            }
        }
        for (inspector, groups) in by_inspector {
            let (client, reach, lists) = (self.client.clone(), self.reach.clone(), self.lists.clone());
            self.spawn(async move {
                let tokens: Vec<Secret> = groups.iter().map(|(t, _, _)| t.clone()).collect();
                let owns: Vec<Option<Secret>> = groups.iter().map(|(_, _, own)| own.clone()).collect();
                let groups: Vec<TokenGroup> = groups.into_iter().map(|(t, g, _)| (t, g)).collect();
                let health = inspect_many(&client, &tokens, &owns, inspector.as_ref(), &reach, &lists).await;
                Ev::Health(groups.into_iter().map(|(_, g)| g).zip(health).collect())
            });
        }

        // Instagram publishing limits through Facebook (§7.2), batched with each item's Page
        // token.
        let limits: Vec<(usize, BatchItem)> = new
            .iter()
            .filter(|&&i| self.facts.profiles[i].kind == ProfileKind::InstagramViaPage)
            .filter_map(|&i| {
                let t = self.tokens[i].as_ref()?;
                let path = format!("{}/content_publishing_limit", segment(&self.facts.profiles[i].id));
                Some((i, BatchItem::get(&path).query("fields", "quota_usage,config").token(t)))
            })
            .collect();
        if let Some(top) = self.batch_top(&limits) {
            let (client, reach) = (self.client.clone(), self.reach.clone());
            self.spawn(async move {
                let (idx, items): (Vec<usize>, Vec<BatchItem>) = limits.into_iter().unzip();
                // Typed as each batch comes back: 5,000 answers kept as JSON trees until the
                // last batch were 7 MB of a 10,000-Page diagnose (docs/performance.md).
                let results = client
                    .batch_with(&top, items, |v| first_data("content_publishing_limit (batched)", v))
                    .await;
                let out = idx
                    .into_iter()
                    .zip(results)
                    .map(|(i, r)| {
                        reach.note(&r);
                        (i, r)
                    })
                    .collect();
                Ev::Limits(out)
            });
        }

        // The Page ↔ Instagram link of Instagram-via-Page profiles whose login has no Page
        // list to read it from (no user token); the others wait for `/me/accounts`.
        let orphans: Vec<usize> = new
            .iter()
            .copied()
            .filter(|&i| self.facts.profiles[i].kind == ProfileKind::InstagramViaPage)
            .filter(|&i| self.facts.profiles[i].page_instagram.is_none())
            .filter(|&i| self.conn_index(i).is_none_or(|c| self.conns[c].token.is_none()))
            .collect();
        self.start_links(orphans);
        (self.progress)(self.settled, self.facts.profiles.len());
    }

    /// A batch's required top-level token (§10): the app token, else the first item's own.
    fn batch_top(&self, items: &[(usize, BatchItem)]) -> Option<Secret> {
        let first = items.first()?;
        self.app_token.clone().or_else(|| first.1.token.clone())
    }

    fn start_links(&mut self, profiles: Vec<usize>) {
        let items: Vec<(usize, BatchItem)> = profiles
            .into_iter()
            .filter_map(|i| {
                let p = &self.facts.profiles[i];
                let page = p.page_id.as_deref()?;
                let t = self.tokens[i].as_ref()?;
                Some((
                    i,
                    BatchItem::get(&segment(page)).query("fields", "instagram_business_account").token(t),
                ))
            })
            .collect();
        let Some(top) = self.batch_top(&items) else { return };
        let (client, reach) = (self.client.clone(), self.reach.clone());
        self.spawn(async move {
            let (idx, items): (Vec<usize>, Vec<BatchItem>) = items.into_iter().unzip();
            let results = client
                .batch_with(&top, items, |v| {
                    Ok(v.pointer("/instagram_business_account/id")
                        .and_then(id_string)
                        .filter(|s| !s.is_empty()))
                })
                .await;
            Ev::Links(
                idx.into_iter()
                    .zip(results)
                    .map(|(i, link)| {
                        reach.note(&link);
                        (i, link)
                    })
                    .collect(),
            )
        });
    }

    /// Instagram Login has no `debug_token` (§2.4): the identity call decides, plus the
    /// publishing limit on graph.instagram.com (§7.2).
    fn start_instagram_login(&mut self, i: usize, token: Secret) {
        let id = self.facts.profiles[i].id.clone();
        let (client, reach) = (self.client.clone(), self.reach.clone());
        self.spawn(async move {
            let (me, limit) = tokio::join!(
                client.instagram_me(&token),
                client.instagram_publishing_limit(Host::InstagramGraph, &id, &token)
            );
            reach.note(&me);
            reach.note(&limit);
            let health = match me {
                Ok(_) => TokenHealth::Identity(Ok(())),
                Err(e) => health_of_error(&e),
            };
            Ev::Solo { i, health, limit }
        });
    }

    /// Threads: `debug_token` on graph.threads.net needs a Threads tester's token of the same
    /// app, never an app token (§2.3). The profile's own token is tried as the tester; when
    /// Meta refuses (not a tester), the identity call decides instead.
    fn start_threads(&mut self, i: usize, token: Secret) {
        let id = self.facts.profiles[i].id.clone();
        let (client, reach) = (self.client.clone(), self.reach.clone());
        self.spawn(async move {
            let (debug, limit) = tokio::join!(
                client.threads_debug_token(&token, &token),
                client.threads_publishing_limit(&id, &token)
            );
            reach.note(&debug);
            reach.note(&limit);
            let health = match debug {
                Ok(d) => inspection_health(&d),
                Err(e) if is_unknown(&e) => health_of_error(&e),
                Err(_) => {
                    // Not a tester: the identity call decides.
                    let me = client.threads_me(&token).await;
                    reach.note(&me);
                    match me {
                        Ok(_) => TokenHealth::Identity(Ok(())),
                        Err(e) => health_of_error(&e),
                    }
                }
            };
            Ev::Solo { i, health, limit }
        });
    }

    async fn finish(mut self) -> Facts {
        while self.outstanding > 0 {
            let Some(ev) = self.rx.recv().await else { break };
            if ev.ends_job() {
                self.outstanding -= 1;
            }
            self.apply(ev);
        }
        self.assemble()
    }

    fn apply(&mut self, ev: Ev) {
        match ev {
            Ev::Lost => {}
            Ev::Solo { i, health, limit } => {
                self.apply(Ev::Health(vec![(vec![i], health)]));
                self.apply(Ev::Limits(vec![(i, limit)]));
            }
            Ev::UserToken { conn, health } => {
                if let TokenHealth::Inspected(i) = &health {
                    if i.valid && i.scopes.iter().any(|s| s == "business_management") {
                        self.start_portfolio(conn);
                    }
                }
                if let TokenHealth::Identity(Err(e)) = &health {
                    self.conns[conn].throttled |= e.verdict() == TokenVerdict::Throttled;
                }
                self.facts.connections[conn].user_token = Some(health);
            }
            Ev::Permissions { conn, result } => match result {
                Ok(perms) => {
                    let granted = perms.iter().any(|p| {
                        p.permission == "business_management" && p.status == types::PermissionStatus::Granted
                    });
                    self.facts.connections[conn].permissions = Some(
                        perms
                            .into_iter()
                            .filter_map(|p| {
                                let status = match p.status {
                                    types::PermissionStatus::Granted => PermissionStatus::Granted,
                                    types::PermissionStatus::Declined => PermissionStatus::Declined,
                                    types::PermissionStatus::Expired => PermissionStatus::Expired,
                                    types::PermissionStatus::Other(_) => return None,
                                };
                                Some(Permission { name: p.permission, status })
                            })
                            .collect(),
                    );
                    if granted {
                        self.start_portfolio(conn);
                    }
                }
                Err(e) => self.conn_error(conn, "permissions", &e),
            },
            Ev::AccountsPage { conn, pages } => {
                let list = self.facts.connections[conn].accounts.get_or_insert_with(Vec::new);
                list.extend(pages.iter().map(|p| PageAccount {
                    id: p.id.clone(),
                    name: p.name.clone().unwrap_or_default(),
                    tasks: p.tasks.clone().unwrap_or_default(),
                    instagram_id:
                        p.instagram_business_account.as_ref().map(|a| a.id.clone()).filter(|s| !s.is_empty()),
                }));
                if self.conns[conn].discover {
                    for p in pages {
                        self.discover_page(conn, p);
                    }
                    self.start_profiles();
                }
            }
            Ev::AccountsDone { conn, result } => {
                self.conns[conn].accounts_done = true;
                match result {
                    Ok(()) => {
                        self.facts.connections[conn].accounts.get_or_insert_with(Vec::new);
                        // Instagram via a Page the list left out: ask the Page itself (§4.2).
                        // A set: one lookup per profile, not a search of 10,000 ids each.
                        let listed: HashSet<String> = self.facts.connections[conn]
                            .accounts
                            .iter()
                            .flatten()
                            .map(|a| a.id.clone())
                            .collect();
                        let id = self.facts.connections[conn].id.clone();
                        let unlisted: Vec<usize> = (0..self.facts.profiles.len())
                            .filter(|&i| {
                                let p = &self.facts.profiles[i];
                                p.kind == ProfileKind::InstagramViaPage
                                    && p.connection.as_deref() == Some(id.as_str())
                                    && p.page_instagram.is_none()
                                    && p.page_id.as_ref().is_some_and(|pg| !listed.contains(pg))
                            })
                            .collect();
                        self.start_links(unlisted);
                    }
                    Err(e) => {
                        // A partial list is not the list: the engine must not read "absent".
                        self.facts.connections[conn].accounts = None;
                        self.conn_error(conn, "Page list (/me/accounts)", &e);
                    }
                }
            }
            Ev::Portfolio { conn, result } => match result {
                Ok(pages) => {
                    self.facts.connections[conn].portfolio_pages = Some(
                        pages
                            .iter()
                            .map(|p| PortfolioPage {
                                id: p.id.clone(),
                                name: p.name.clone().unwrap_or_default(),
                                has_token: p.access_token.is_some(),
                                // Page nodes carry no tasks (§14): the role is unknown.
                                tasks: p.tasks.clone().filter(|t| !t.is_empty()),
                            })
                            .collect(),
                    );
                    if self.conns[conn].discover {
                        let known: HashSet<String> =
                            self.facts.profiles.iter().map(|p| p.id.clone()).collect();
                        for p in pages.into_iter().filter(|p| !known.contains(&p.id)) {
                            self.discover_page(conn, p);
                        }
                        self.start_profiles();
                    }
                }
                Err(e) => self.conn_error(conn, "business portfolio Pages", &e),
            },
            Ev::Health(groups) => {
                for (profiles, health) in groups {
                    for i in profiles {
                        if let TokenHealth::Identity(Err(e)) = &health {
                            self.throttled[i] |= e.verdict() == TokenVerdict::Throttled;
                        }
                        if !self.settled_health[i] {
                            self.settled += 1;
                            self.settled_health[i] = true;
                        }
                        if let TokenFacts::Present { health: h, .. } = &mut self.facts.profiles[i].token {
                            *h = health.clone();
                        }
                    }
                }
                (self.progress)(self.settled, self.facts.profiles.len());
            }
            Ev::Limits(results) => {
                for (i, r) in results {
                    match r {
                        Ok(l) => {
                            let q = l.posts();
                            if let Some(total) = q.total.and_then(|t| u64::try_from(t).ok()) {
                                let usage = u64::try_from(q.usage).unwrap_or(0);
                                self.facts.profiles[i].publishing_limit =
                                    Some(PublishingLimit { usage, total });
                            }
                        }
                        Err(e) => self.profile_error(i, "publishing limit", &e),
                    }
                }
            }
            Ev::Links(results) => {
                for (i, r) in results {
                    match r {
                        Ok(link) => self.facts.profiles[i].page_instagram = Some(link),
                        Err(e) => self.profile_error(i, "Page ↔ Instagram link", &e),
                    }
                }
            }
        }
    }

    /// A Page found through `/me/accounts` or a portfolio (`--token -`): a Page profile and,
    /// when an Instagram account is linked, an Instagram-via-Page profile on the same token.
    fn discover_page(&mut self, conn: usize, p: Page) {
        let conn_id = self.facts.connections[conn].id.clone();
        let name = p.name.clone().unwrap_or_default();
        let token = match &p.access_token {
            Some(t) => StoredSecret::Loaded(t.clone().into_secret()),
            None => StoredSecret::Missing,
        };
        let mut page =
            StoredProfile::new(ProfileKind::FacebookPage, p.id.clone(), name.clone(), token.clone());
        page.token_source = TokenSource::Stdin;
        page.connection_id = Some(conn_id.clone());
        self.add_profile(page);
        if let Some(ig) = p.instagram_business_account.filter(|a| !a.id.is_empty()) {
            let ig_name = ig.username.clone().unwrap_or(name);
            let mut igp = StoredProfile::new(ProfileKind::InstagramViaPage, ig.id.clone(), ig_name, token);
            igp.token_source = TokenSource::Stdin;
            igp.connection_id = Some(conn_id);
            igp.page_id = Some(p.id);
            let i = self.add_profile(igp);
            self.facts.profiles[i].page_instagram = Some(Some(ig.id));
        }
    }

    fn start_portfolio(&mut self, conn: usize) {
        if self.conns[conn].portfolio_started {
            return;
        }
        let Some(token) = self.conns[conn].token.clone() else { return };
        self.conns[conn].portfolio_started = true;
        let (client, reach) = (self.client.clone(), self.reach.clone());
        self.spawn(async move {
            let result = client.portfolio_pages(&UserToken::from_secret(token)).await;
            reach.note(&result);
            Ev::Portfolio { conn, result }
        });
    }

    fn conn_error(&mut self, conn: usize, what: &str, e: &MetaError) {
        match e.class() {
            FailureClass::RateLimit => self.conns[conn].throttled = true,
            FailureClass::Transient => self.facts.connections[conn].unreachable.push(format!("{what}: {e}")),
            // Auth errors are the user token's story, told by its debug_token; others leave
            // the fact unknown (None) rather than guessing.
            _ => {}
        }
    }

    fn profile_error(&mut self, i: usize, what: &str, e: &MetaError) {
        match e.class() {
            FailureClass::RateLimit => self.throttled[i] = true,
            FailureClass::Transient => self.facts.profiles[i].unreachable.push(format!("{what}: {e}")),
            _ => {
                if let Some(api) = e.api() {
                    let c = api.classification_with(false);
                    if matches!(c.refusal, Some(Refusal::AdsPermission | Refusal::AccessLevel)) {
                        self.refused.insert(i, TokenHealth::Identity(Err(graph_error(api, c))));
                    }
                }
            }
        }
    }

    /// Final facts: token health in place, rate usage from the client (§9).
    fn assemble(mut self) -> Facts {
        let usage = self.client.usage();
        let app_pct = usage.app.map(|a| pct(a.max_percent()));
        for (c, state) in self.facts.connections.iter_mut().zip(&self.conns) {
            // X-App-Usage is the Facebook app's budget for app and user tokens (§9); the
            // Instagram/Threads headers are unconfirmed, so they aren't attributed.
            let max_pct = if c.network == Network::Facebook { app_pct } else { None };
            if max_pct.is_some() || state.throttled {
                c.rate = Some(RateUsage { max_pct, throttled: state.throttled, regain_minutes: None });
            }
        }
        for (i, p) in self.facts.profiles.iter_mut().enumerate() {
            let buc = usage.business.get(&p.id);
            let max_pct = usage.percent_for(&p.id).map(pct);
            let regain = buc
                .into_iter()
                .flatten()
                .filter_map(|b| b.regain_after)
                .max()
                .map(|d| u32::try_from(d.as_secs().div_ceil(60)).unwrap_or(u32::MAX))
                .filter(|&m| m > 0);
            if max_pct.is_some() || self.throttled[i] || regain.is_some() {
                p.rate = Some(RateUsage { max_pct, throttled: self.throttled[i], regain_minutes: regain });
            }
            if let TokenFacts::Present { health, .. } = &mut p.token {
                // A token that inspected fine, on a profile Meta refuses to publish for: the
                // refusal is the profile's state (a dead token stays the first cause).
                let healthy = match &*health {
                    TokenHealth::Inspected(ins) => ins.valid,
                    TokenHealth::Identity(r) => r.is_ok(),
                    _ => false,
                };
                match self.refused.remove(&i) {
                    Some(r) if healthy => *health = r,
                    _ => {}
                }
            }
        }
        self.facts.environment.meta = self.reach.fact();
        self.facts.environment.app_token_ignored = self.reach.1.load(Ordering::Relaxed);
        self.facts
    }
}

/// The scope lists of the healths collected so far, each held once: the Page tokens of one login
/// carry the same scopes, and 10,000 copies of one list were a large part of a diagnose's peak
/// memory (docs/performance.md).
#[derive(Default)]
struct Lists {
    scopes: Mutex<HashSet<Arc<[String]>>>,
    granular: Mutex<HashSet<Arc<[GranularScope]>>>,
}

impl Lists {
    /// Makes the health's lists the ones already held when they are equal.
    fn share(&self, health: &mut TokenHealth) {
        if let TokenHealth::Inspected(i) = health {
            if let Ok(mut held) = self.scopes.lock() {
                i.scopes = shared(&mut held, &i.scopes);
            }
            if let Ok(mut held) = self.granular.lock() {
                i.granular_scopes = shared(&mut held, &i.granular_scopes);
            }
        }
    }
}

/// A `debug_token` answer's health, its lists shared as each answer is decoded: the 10,000
/// answers of a batch job are held until the job ends (the only place many healths are made).
fn shared_health(lists: &Arc<Lists>) -> impl Fn(DebugToken) -> TokenHealth + Send + Sync + 'static {
    let lists = lists.clone();
    move |d| {
        let mut health = inspection_health(&d);
        lists.share(&mut health);
        health
    }
}

/// `list`, or the equal list already in `lists`.
fn shared<T: Eq + std::hash::Hash>(lists: &mut HashSet<Arc<[T]>>, list: &Arc<[T]>) -> Arc<[T]> {
    match lists.get(&**list) {
        Some(held) => held.clone(),
        None => {
            lists.insert(list.clone());
            list.clone()
        }
    }
}

/// The health of a token whose check has not come back (yet): unknown, never healthy.
fn unfinished() -> TokenHealth {
    TokenHealth::Unreachable { reason: String::from("the check did not finish") }
}

// ---------------------------------------------------------------------------------------------
// Inspection helpers

/// `debug_token` of one Facebook token, with the fallbacks of the module docs. Also returns
/// the Page id when Meta says it is a Page token (`type: PAGE`, `profile_id`, §2.2).
async fn inspect_one(
    client: &GraphClient,
    token: &Secret,
    inspector: Option<&Secret>,
    own: Option<&Secret>,
    reach: &Reach,
) -> (TokenHealth, Option<String>) {
    if let Some(inspector) = inspector {
        let answer = client.debug_token(token, inspector).await;
        reach.note(&answer);
        match answer {
            Ok(d) => {
                let page = (d.token_type.as_deref() == Some("PAGE"))
                    .then(|| d.profile_id.clone().unwrap_or_else(|| String::from("me")));
                return (inspection_health(&d), page);
            }
            Err(e) => {
                if let Some(health) = refused_inspection(&e, inspector, reach) {
                    return (health, None);
                }
                // A Native/Desktop app: the login's own token may inspect (itself and its Pages)
                // when its user has a role on the app (§14, §2.1); else `/me` below.
                if let Some(own) = own.filter(|o| is_app_token(inspector) && !is_app_token(o)) {
                    let answer = client.debug_token(token, own).await;
                    reach.note(&answer);
                    match answer {
                        Ok(d) => {
                            let page = (d.token_type.as_deref() == Some("PAGE"))
                                .then(|| d.profile_id.clone().unwrap_or_else(|| String::from("me")));
                            return (inspection_health(&d), page);
                        }
                        Err(e) => {
                            if let Some(health) = refused_inspection(&e, own, reach) {
                                return (health, None);
                            }
                        }
                    }
                }
            }
        }
    }
    (identity(client, token, reach).await, None)
}

/// An app token is `{app-id}|{secret}` (or one minted for it); user and Page tokens never
/// hold a `|`.
fn is_app_token(t: &Secret) -> bool {
    t.expose().contains('|')
}

/// `GET /me` with the token itself: valid, or Meta's error about it.
async fn identity(client: &GraphClient, token: &Secret, reach: &Reach) -> TokenHealth {
    let me = client.me(token).await;
    reach.note(&me);
    match me {
        Ok(_) => TokenHealth::Identity(Ok(())),
        Err(e) => health_of_error(&e),
    }
}

/// Batched `debug_token` of many Facebook tokens (≤ 50 per request, §10), results in order.
/// An answer about the token (`is_valid`, its `error`) is a verdict; a failure of the call
/// itself is not: transient → unknown, otherwise the token is asked about itself (`GET /me`).
///
/// `owns[i]` is the user token of the login `tokens[i]` belongs to: when the app token is
/// ignored (a Native/Desktop app), each login's token inspects its own tokens, one batch per
/// login, before anything falls back to `/me`.
async fn inspect_many(
    client: &GraphClient,
    tokens: &[Secret],
    owns: &[Option<Secret>],
    inspector: Option<&Secret>,
    reach: &Reach,
    lists: &Arc<Lists>,
) -> Vec<TokenHealth> {
    if let ([token], [own]) = (tokens, owns) {
        return vec![inspect_one(client, token, inspector, own.as_ref(), reach).await.0];
    }
    // Each answer becomes its health as its batch returns (the `DebugToken`s are not kept).
    let answers: Vec<Option<Result<TokenHealth, MetaError>>> = match inspector {
        Some(inspector) => client
            .debug_tokens_with(tokens, inspector, shared_health(lists))
            .await
            .into_iter()
            .map(Some)
            .collect(),
        None => tokens.iter().map(|_| None).collect(),
    };
    let mut out: Vec<Option<TokenHealth>> = Vec::with_capacity(tokens.len());
    // (login token, indices) still to ask with the login's own token.
    let mut by_own: Vec<(Secret, Vec<usize>)> = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        if let Some(a) = &answer {
            reach.note(a);
        }
        let refused = match (&answer, inspector) {
            (Some(Err(e)), Some(inspector)) => refused_inspection(e, inspector, reach),
            _ => None,
        };
        out.push(match (answer, refused) {
            (Some(Ok(health)), _) => Some(health),
            (_, Some(health)) => Some(health),
            (Some(Err(_)), None) => {
                match owns
                    .get(i)
                    .cloned()
                    .flatten()
                    .filter(|o| inspector.is_some_and(is_app_token) && !is_app_token(o))
                {
                    Some(own) => {
                        match by_own.iter_mut().find(|(k, _)| *k == own) {
                            Some((_, list)) => list.push(i),
                            None => by_own.push((own, vec![i])),
                        }
                        None
                    }
                    None => None,
                }
            }
            _ => None,
        });
    }
    // A Native/Desktop app's ignored app token (§14): each login's own token, batched.
    for (own, idx) in by_own {
        let batch: Vec<Secret> = idx.iter().map(|&i| tokens[i].clone()).collect();
        let answers = client.debug_tokens_with(&batch, &own, shared_health(lists)).await;
        for (&i, answer) in idx.iter().zip(answers) {
            reach.note(&answer);
            out[i] = match answer {
                Ok(health) => Some(health),
                Err(e) => refused_inspection(&e, &own, reach),
            };
        }
    }
    let mut done = Vec::with_capacity(tokens.len());
    for (token, health) in tokens.iter().zip(out) {
        done.push(match health {
            Some(h) => h,
            // Meta refused the inspection with the login's own token (not a developer of the
            // app), or there was none to ask with: ask with the token itself.
            None => identity(client, token, reach).await,
        });
    }
    done
}

/// What a refused `debug_token` call (an error of the call, not an answer about the token)
/// means; `None`: ask the token itself (`GET /me`), the documented other way.
/// - Transient or throttled: unknown.
/// - The app secret refused (the app token's signature, the `appsecret_proof`): the token could
///   not be checked; the engine names the secret.
/// - The app token answered as if no token were sent: a Native/Desktop app, whose app token
///   Meta ignores (https://developers.facebook.com/docs/facebook-login/security/): ask the token
///   itself and say so once.
/// - Any other refusal of the app token, or an answer sq can't read: not inspected, unknown.
///   Falling back silently would call healthy what wasn't verified.
/// - The login's own token as inspector refused (not a developer of the app): ask the token.
fn refused_inspection(e: &MetaError, inspector: &Secret, reach: &Reach) -> Option<TokenHealth> {
    if is_unknown(e) {
        return Some(health_of_error(e));
    }
    let app_token = is_app_token(inspector);
    if let Some(api) = e.api() {
        let c = api.classification_with(app_token);
        if c.refusal == Some(Refusal::AppSecret) {
            return Some(TokenHealth::Identity(Err(graph_error(api, c))));
        }
        if app_token && classify::is_tokenless(api.code) {
            reach.app_token_ignored();
            return None;
        }
    }
    if matches!(e, MetaError::Unexpected { .. }) || app_token {
        return Some(TokenHealth::Uninspected {
            reason: format!("debug_token was refused or unreadable: {e}"),
        });
    }
    None
}

fn graph_error(api: &crate::meta::error::ApiError, classification: Classification) -> GraphError {
    GraphError {
        classification,
        code: api.code,
        subcode: api.subcode,
        message: api.message.clone(),
        transient: api.is_transient == Some(true),
    }
}

/// `debug_token`'s answer as the engine's fact: an answer that doesn't say what the token is
/// (`{"data":{}}`, `{"data":{"is_valid":true}}` without a type or scopes, fields of the wrong
/// type, which read as absent) is not an inspection.
fn inspection_health(d: &DebugToken) -> TokenHealth {
    let missing: Vec<&str> = if d.is_valid {
        // `type` is one of Meta's token kinds (a number or a list reads as something else).
        let known_type = matches!(d.token_type.as_deref(), Some("USER" | "PAGE" | "APP" | "SYSTEM_USER"));
        [(!known_type, "type"), (d.scopes.is_empty(), "scopes")]
            .into_iter()
            .filter_map(|(absent, name)| absent.then_some(name))
            .collect()
    } else if d.error.as_ref().is_none_or(|e| e.code.is_none()) && d.token_type.is_none() {
        vec!["is_valid", "error"]
    } else {
        Vec::new()
    };
    if missing.is_empty() {
        return TokenHealth::Inspected(inspection(d));
    }
    TokenHealth::Uninspected {
        reason: format!("Meta's debug_token answer had no usable {}", missing.join(" or ")),
    }
}

/// Transient failures and throttling: the call says nothing about the token.
fn is_unknown(e: &MetaError) -> bool {
    matches!(e.class(), FailureClass::Transient | FailureClass::RateLimit)
}

/// A failed call made *with* the token, as the facts the engine reads: a transient failure →
/// unknown (never invalid); throttling, or an answer the classifier reads as a verdict on the
/// token (a Graph error with a code, a `WWW-Authenticate: invalid_token`) → that error with
/// the classifier's reading; anything else (a garbled answer) → unknown.
fn health_of_error(e: &MetaError) -> TokenHealth {
    let classification = e.classification();
    let api = e.api();
    let code = api.and_then(|a| a.code);
    let throttled = classification.class == FailureClass::RateLimit;
    let verdict = match classification.class {
        FailureClass::Transient => false,
        FailureClass::RateLimit => true,
        _ => code.is_some() || classification.token_death.is_some(),
    };
    if !verdict {
        return TokenHealth::Unreachable { reason: e.to_string() };
    }
    TokenHealth::Identity(Err(GraphError {
        classification,
        code,
        subcode: api.and_then(|a| a.subcode),
        message: match api {
            Some(a) if code.is_some() || throttled => a.message.clone(),
            _ => e.to_string(),
        },
        transient: api.is_some_and(|a| a.is_transient == Some(true)),
    }))
}

/// `debug_token`'s `data`, normalized for the engine (§2.2): `0` expiries mean never, an
/// omitted `target_ids` means every asset.
fn inspection(d: &DebugToken) -> Inspection {
    Inspection {
        valid: d.is_valid,
        error: d.error.as_ref().and_then(|e| {
            // An invalid token without a code is still invalid; the engine says "invalid".
            Some(Box::new(GraphError::new(e.code?, e.subcode, e.message.clone())))
        }),
        token_type: d.token_type.clone(),
        expires_at: meta_time(d.expires_at),
        data_access_expires_at: meta_time(d.data_access_expires_at),
        issued_at: meta_time(d.issued_at),
        scopes: d.scopes.as_slice().into(),
        granular_scopes: d
            .granular_scopes
            .iter()
            .map(|g| GranularScope {
                scope: g.scope.clone(),
                target_ids: (!g.target_ids.is_empty()).then(|| g.target_ids.clone()),
            })
            .collect(),
    }
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn pct(p: f64) -> u32 {
    // Percentages are whole numbers on the wire (§9); clamp whatever else arrives.
    p.round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// Ids from the database or Meta, made safe as one path segment of a batch item.
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::diagnose;
    use crate::diagnose::fixtures::*;

    /// Meta's text reaches the report only through collection, which sanitizes it.
    #[test]
    fn meta_text_is_sanitized() {
        let mut p = page();
        p.name = String::from("Evil\x1b[2J Page");
        p.token = dead(190, None, "bad\x1b]0;title\x07 token");
        let mut f = facts(vec![p]);
        sanitize_facts(&mut f);
        let r = diagnose(&f, NOW);
        let text = serde_json::to_string(&r).expect("json");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert_eq!(r.profiles[0].name, "Evil\u{fffd}[2J Page");
    }

    /// Every text field of every fact, dirty in, clean out.
    #[test]
    fn every_text_fact_is_sanitized() {
        let dirty = |s: &str| format!("{s}\x1b[31m\u{202e}");
        let mut p = ig_via_page();
        p.reference = dirty("instagram:1");
        p.id = dirty("1");
        p.name = dirty("name");
        p.connection = Some(dirty("fb:1"));
        p.page_id = Some(dirty("777"));
        p.page_instagram = Some(Some(dirty("2")));
        p.unreachable = vec![dirty("limit")];
        let mut i = Inspection::invalid(err(190, Some(460), &dirty("message")));
        i.token_type = Some(dirty("PAGE"));
        i.scopes = vec![dirty("scope")].into();
        i.granular_scopes =
            vec![GranularScope { scope: dirty("scope"), target_ids: Some(vec![dirty("777")]) }].into();
        let mut stored = StoredToken::new(TokenSource::Keyring, dirty("EAAB…f3c1"));
        stored.scopes = Some(vec![dirty("scope")]);
        p.token = TokenFacts::Present { stored, health: TokenHealth::Inspected(i) };
        let mut q = page();
        q.token = TokenFacts::Unreadable { reason: dirty("locked") };
        let mut r = threads();
        r.token = present(TokenHealth::Identity(Err(err(4, None, &dirty("throttled")))));
        let mut s = threads();
        s.token = present(TokenHealth::Unreachable { reason: dirty("timeout") });
        let mut f = facts(vec![p, q, r, s]);
        let c = fb(&mut f);
        c.id = dirty("fb:1");
        c.unreachable = vec![dirty("accounts")];
        c.permissions =
            Some(vec![Permission { name: dirty("pages_show_list"), status: PermissionStatus::Granted }]);
        c.accounts = Some(vec![PageAccount {
            id: dirty("777"),
            name: dirty("Acme"),
            tasks: vec![dirty("MANAGE")],
            instagram_id: Some(dirty("2")),
        }]);
        c.portfolio_pages = Some(vec![PortfolioPage {
            id: dirty("778"),
            name: dirty("Other"),
            has_token: true,
            tasks: Some(vec![dirty("MANAGE")]),
        }]);
        f.environment.store =
            Some(StoreProbe::Failed { backend: dirty("file"), reason: dirty("passphrase") });
        f.environment.redirect =
            Some(RedirectFacts { uri: dirty("http://localhost:1/callback"), port: 1, port_busy: true });
        f.environment.meta = Some(Reachability::Unreachable { reason: dirty("dns") });

        sanitize_facts(&mut f);
        let shown = format!("{f:?}");
        assert!(!shown.contains("\\u{1b}") && !shown.contains("\\u{202e}"), "{shown}");
        assert_eq!(shown.matches('\u{fffd}').count(), 2 * shown.matches("[31m").count(), "{shown}");
        assert!(shown.matches("[31m").count() >= 30, "{shown}");
    }
}
