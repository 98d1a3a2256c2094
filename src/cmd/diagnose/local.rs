//! The local half of collection: database rows and credential-store secrets (plus the
//! environment probes that need no Meta) turned into a [`CollectInput`]. Shared by
//! `sq diagnose` and the closing diagnose of `sq reauth`.

use super::collect::{self, AppConfig, Apps, CollectInput, StoredConnection, StoredProfile, StoredSecret};
use crate::ctx::Ctx;
use crate::db::ProfileWithConnection;
use crate::diagnose::Facts;
use crate::diagnose::facts::{RedirectFacts, StoreProbe, TokenSource};
use crate::error::Error;
use crate::model::Via;
use crate::model::{Network, ProfileKind};
use crate::secret::{AppSecret, Secret};
use crate::settings::StoreKind;
use crate::store::{self, Account};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Reads the app id and secret of every network, tolerating a store that can't be read (that
/// is diagnosed as `store_unavailable`, not a reason to stop).
pub async fn apps(ctx: &Ctx, store_ok: bool) -> Apps {
    let from_store = app_secret_accounts(ctx);
    let stored = if store_ok && !from_store.is_empty() {
        let list = from_store.clone();
        // One batched read for the networks whose secret is not in the environment.
        ctx.with_store(move |s| s.load_many(&list)).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    apps_from(ctx, from_store.iter().zip(stored).filter_map(|(a, s)| Some((a.clone(), s?))).collect())
}

/// The store accounts of the app secrets that are not in the environment (`SQ_<NET>_APP_SECRET`).
fn app_secret_accounts(ctx: &Ctx) -> Vec<Account> {
    Network::ALL
        .into_iter()
        .filter(|&n| ctx.settings.app(n).env_secret.is_none())
        .map(Account::app_secret)
        .collect()
}

/// Every network's app id and secret: the environment's secret, else the one read from the
/// store (`stored`, by account).
fn apps_from(ctx: &Ctx, stored: HashMap<Account, Secret>) -> Apps {
    let mut apps = Apps { facebook_config_id: ctx.settings.facebook_config_id.clone(), ..Apps::default() };
    for network in Network::ALL {
        let app = ctx.settings.app(network);
        let id = app.id.as_ref().map(|s| s.value.clone());
        let secret = match &app.env_secret {
            Some(s) => Some(s.clone()),
            None => stored.get(&Account::app_secret(network)).cloned().map(AppSecret::from_secret),
        };
        let config = AppConfig { id, secret };
        match network {
            Network::Facebook => apps.facebook = config,
            Network::Instagram => apps.instagram = config,
            Network::Threads => apps.threads = config,
        }
    }
    apps
}

/// Collects the facts (local and Meta's) for the given stored profiles.
///
/// Takes the rows by value and lets go of them once they are turned into the collection's input,
/// so at 10,000 Pages the rows, the input and the facts are never all held at once
/// (docs/performance.md: peak memory).
pub async fn facts_for(
    ctx: &Ctx,
    rows: Vec<ProfileWithConnection>,
    scope: Scope,
    progress: &dyn Fn(usize, usize),
) -> Result<Facts, Error> {
    let (input, probe) = input_for(ctx, &rows, scope).await?;
    drop(rows);
    let client = ctx.graph(None)?;
    let mut facts = collect::collect(&client, input, progress).await;
    if let Some(probe) = probe {
        collect::set_store_probe(&mut facts, probe_fact(&finished(probe).await?));
    }
    Ok(facts)
}

/// The store's probe, running on a blocking thread.
pub type PendingProbe = tokio::task::JoinHandle<store::Probe>;

async fn finished(probe: PendingProbe) -> Result<store::Probe, Error> {
    probe.await.map_err(|e| Error::failure("internal", format!("store probe failed: {e}")))
}

/// What the environment's facts say of a probe.
fn probe_fact(probe: &store::Probe) -> StoreProbe {
    match crate::error::probe_error(probe) {
        None => StoreProbe::Ok,
        Some(err) => StoreProbe::Failed { backend: probe.backend.clone(), reason: err.message },
    }
}

/// How much to gather besides the profiles themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything a report shows: the store round-trip probe, the redirect port, failed-post
    /// counts (`sq diagnose`, reauth's closing diagnose).
    Report,
    /// Only what decides each profile's status (requeue's health check): no probe entry is
    /// written to the store and no port is bound.
    Health,
}

/// The [`CollectInput`] for stored profiles: their tokens from the store (one batched read,
/// bounded by its timeout), their connections, failed-post counts, app credentials and the
/// redirect URI.
///
/// With [`Scope::Report`] the store's probe may still be running when the input is ready: it is
/// handed back to be awaited once the collection is done (as [`facts_for`] does).
pub async fn input_for(
    ctx: &Ctx,
    rows: &[ProfileWithConnection],
    scope: Scope,
) -> Result<(CollectInput, Option<PendingProbe>), Error> {
    let report = scope == Scope::Report;
    let failed = if report { crate::cmd::login::failed_posts(ctx) } else { Default::default() };
    let source = match ctx.settings.store.value {
        StoreKind::Keyring => TokenSource::Keyring,
        StoreKind::File => TokenSource::File,
    };

    // Every account to read, once: Page tokens, user tokens and the app secrets not in the
    // environment.
    let mut accounts: Vec<Account> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |a: Account| {
        if seen.insert(a.as_str().to_string()) {
            accounts.push(a);
        }
    };
    for r in rows {
        push(r.profile.token_account(&r.connection));
        // Only a Facebook login has a user token of its own (permissions, Page list); an
        // Instagram Login or Threads connection's token is the profile's token.
        if r.connection.network == Network::Facebook {
            push(r.connection.token_account());
        }
    }
    let app_accounts = app_secret_accounts(ctx);
    for a in &app_accounts {
        push(a.clone());
    }
    drop(seen);

    // The store: its probe (write, read, delete of an entry of its own, bounded by the store's
    // timeout) runs beside everything else on a blocking thread, the Graph requests included:
    // on the keyring its three calls are about 0.35 s, which had come before anything else
    // (docs/performance.md). The one batched read of every secret is what the profiles need;
    // when it fails, the probe (finished meanwhile) says why, in the words it always has.
    let mut pending = None;
    let (store_probe, store_ok, store_reason, found) = match ctx.store() {
        Ok(store) => {
            let list = accounts.clone();
            let reader = store.clone();
            let probe = report.then(|| tokio::task::spawn_blocking(move || store::probe(store.as_ref())));
            // One batched read (one round trip to either backend); a store that fails makes
            // every secret unreadable for the same reason.
            let found =
                tokio::task::spawn_blocking(move || reader.load_many(&list).map_err(|e| e.to_string()))
                    .await
                    .map_err(|e| Error::failure("internal", format!("credential store task failed: {e}")))?;
            match (found, probe) {
                (Ok(found), probe) => {
                    pending = probe;
                    (None, true, String::new(), Ok(found))
                }
                (Err(reason), None) => (None, true, String::new(), Err(reason)),
                (Err(reason), Some(probe)) => match probe_fact(&finished(probe).await?) {
                    StoreProbe::Failed { backend, reason } => (
                        Some(StoreProbe::Failed { backend, reason: reason.clone() }),
                        false,
                        reason,
                        Ok(Vec::new()),
                    ),
                    ok => (Some(ok), true, String::new(), Err(reason)),
                },
            }
        }
        // A health check (requeue's) can't say anything without the tokens: the store's own
        // error ("can't read the credential store") is the answer, not N "unknown" profiles.
        Err(err) if !report => return Err(err),
        Err(err) => (
            Some(StoreProbe::Failed {
                backend: ctx.settings.store.value.name().to_string(),
                reason: err.message.clone(),
            }),
            false,
            err.message,
            Ok(Vec::new()),
        ),
    };
    let mut stored_apps: HashMap<Account, Secret> = HashMap::new();
    let loaded: HashMap<String, StoredSecret> = if store_ok {
        let mut out = HashMap::with_capacity(accounts.len());
        for (i, a) in accounts.iter().enumerate() {
            let v = match &found {
                // A copy made here, on the command's thread: the store's own allocations (a
                // decrypted file, a D-Bus reply) are then all freed together with their
                // thread's leftovers instead of pinning them (docs/performance.md: peak RSS).
                Ok(found) => match found.get(i).and_then(Option::as_ref) {
                    Some(t) => StoredSecret::Loaded(Secret::new(t.expose())),
                    None => StoredSecret::Missing,
                },
                Err(reason) => StoredSecret::Unreadable { reason: reason.clone() },
            };
            out.insert(a.as_str().to_string(), v);
        }
        // An app secret the store couldn't give is simply not configured there, as before
        // (the store's own trouble is its finding).
        for a in &app_accounts {
            if let Some(StoredSecret::Loaded(s)) = out.remove(a.as_str()) {
                stored_apps.insert(a.clone(), s);
            }
        }
        out
    } else {
        accounts
            .iter()
            .map(|a| (a.as_str().to_string(), StoredSecret::Unreadable { reason: store_reason.clone() }))
            .collect()
    };
    drop(found);
    let secret_of = |a: &Account| loaded.get(a.as_str()).cloned().unwrap_or(StoredSecret::Missing);

    let mut connections: BTreeMap<i64, StoredConnection> = BTreeMap::new();
    let mut profiles = Vec::with_capacity(rows.len());
    for r in rows {
        let c = &r.connection;
        let facebook = c.network == Network::Facebook;
        if facebook {
            connections.entry(c.id).or_insert_with(|| StoredConnection {
                id: c.id.to_string(),
                network: c.network,
                user_id: Some(c.meta_user_id.clone()),
                user_token: secret_of(&c.token_account()),
            });
        }
        let p = &r.profile;
        let kind = ProfileKind::of(p.kind, p.via);
        let mut sp =
            StoredProfile::new(kind, p.remote_id.clone(), p.display_name(), secret_of(&p.token_account(c)));
        sp.connection_id = facebook.then(|| c.id.to_string());
        sp.page_id = p.page_id.clone().filter(|_| kind == ProfileKind::InstagramViaPage);
        sp.token_source = source;
        sp.stored_expires_at = p.token_expires_at.or(match p.via {
            Via::Page => None,
            _ => c.token_expires_at,
        });
        sp.stored_issued_at = c.issued_at;
        sp.stored_scopes = (!c.scopes.is_empty() && p.via != Via::Page).then(|| c.scopes.clone());
        sp.failed_posts = failed.get(&p.reference()).copied().unwrap_or(0);
        profiles.push(sp);
    }

    let redirect = if report {
        crate::auth::RedirectUri::parse(&ctx.settings.redirect_for(crate::model::Network::Facebook).value)
            .ok()
            .map(|uri| {
                let port_busy = crate::auth::check_port_free(&uri).is_err();
                RedirectFacts { uri: uri.as_str().to_string(), port: uri.port(), port_busy }
            })
    } else {
        None
    };
    let input = CollectInput {
        profiles,
        connections: connections.into_values().collect(),
        apps: apps_from(ctx, stored_apps),
        store: store_probe,
        redirect,
    };
    Ok((input, pending))
}
