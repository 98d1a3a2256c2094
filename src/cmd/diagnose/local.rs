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
    let mut apps = Apps { facebook_config_id: ctx.settings.facebook_config_id.clone(), ..Apps::default() };
    for network in Network::ALL {
        let app = ctx.settings.app(network);
        let id = app.id.as_ref().map(|s| s.value.clone());
        let secret = match (&app.env_secret, store_ok) {
            (Some(s), _) => Some(s.clone()),
            (None, true) => ctx
                .with_store(move |s| s.load(&Account::app_secret(network)))
                .await
                .ok()
                .flatten()
                .map(AppSecret::from_secret),
            (None, false) => None,
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
    let input = input_for(ctx, &rows, scope).await?;
    drop(rows);
    let client = ctx.graph(None)?;
    Ok(collect::collect(&client, input, progress).await)
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

/// The [`CollectInput`] for stored profiles: their tokens from the store (probed first, bounded
/// by its timeout), their connections, failed-post counts, app credentials and the redirect URI.
pub async fn input_for(
    ctx: &Ctx,
    rows: &[ProfileWithConnection],
    scope: Scope,
) -> Result<CollectInput, Error> {
    let report = scope == Scope::Report;
    let failed = if report { crate::cmd::login::failed_posts(ctx) } else { Default::default() };
    // The store: open it and probe it (write, read, delete), bounded by its own timeout.
    let (store_probe, store_ok, store_reason) = match ctx.store() {
        Ok(_) if !report => (StoreProbe::Ok, true, String::new()),
        Ok(store) => {
            let probe = tokio::task::spawn_blocking(move || store::probe(store.as_ref()))
                .await
                .map_err(|e| Error::failure("internal", format!("store probe failed: {e}")))?;
            match crate::error::probe_error(&probe) {
                None => (StoreProbe::Ok, true, String::new()),
                Some(err) => (
                    StoreProbe::Failed { backend: probe.backend.clone(), reason: err.message.clone() },
                    false,
                    err.message,
                ),
            }
        }
        // A health check (requeue's) can't say anything without the tokens: the store's own
        // error ("can't read the credential store") is the answer, not N "unknown" profiles.
        Err(err) if !report => return Err(err),
        Err(err) => (
            StoreProbe::Failed {
                backend: ctx.settings.store.value.name().to_string(),
                reason: err.message.clone(),
            },
            false,
            err.message,
        ),
    };

    let source = match ctx.settings.store.value {
        StoreKind::Keyring => TokenSource::Keyring,
        StoreKind::File => TokenSource::File,
    };

    // Every account to read, once: Page tokens and user tokens.
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
    drop(seen);
    let loaded: HashMap<String, StoredSecret> = if store_ok {
        let list = accounts.clone();
        // One batched read (one round trip to either backend); a store that fails makes every
        // secret unreadable for the same reason.
        let found = ctx.with_store(move |s| Ok(s.load_many(&list).map_err(|e| e.to_string()))).await?;
        let mut out = HashMap::with_capacity(accounts.len());
        for (i, a) in accounts.iter().enumerate() {
            let v = match &found {
                // A copy made here, on the command's thread: the store's own allocations (a
                // decrypted file, a D-Bus reply) are then all freed together with their
                // thread's leftovers instead of pinning them (docs/performance.md: peak RSS).
                Ok(found) => match &found[i] {
                    Some(t) => StoredSecret::Loaded(Secret::new(t.expose())),
                    None => StoredSecret::Missing,
                },
                Err(reason) => StoredSecret::Unreadable { reason: reason.clone() },
            };
            out.insert(a.as_str().to_string(), v);
        }
        out
    } else {
        accounts
            .iter()
            .map(|a| (a.as_str().to_string(), StoredSecret::Unreadable { reason: store_reason.clone() }))
            .collect()
    };
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
    Ok(CollectInput {
        profiles,
        connections: connections.into_values().collect(),
        apps: apps(ctx, store_ok).await,
        store: report.then_some(store_probe),
        redirect,
    })
}
