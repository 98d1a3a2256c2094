use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::db::{ProfileWithConnection, Via};
use crate::diagnose::collect::{
    self, AppConfig, Apps, CollectInput, StoredConnection, StoredProfile, StoredSecret,
};
use crate::diagnose::facts::{ProfileKind, RedirectFacts, StoreProbe, TokenSource};
use crate::diagnose::report::{Report, render_human};
use crate::diagnose::{Facts, diagnose};
use crate::error::Error;
use crate::output::Printer;
use crate::secret::Secret;
use crate::settings::{Network, StoreKind};
use crate::store::{self, Account};
use std::collections::BTreeMap;

/// Say exactly why each profile can't publish, and what fixes it
///
/// For every selected profile (default: all) sq inspects the stored tokens with Meta
/// (debug_token, permissions, the Page list with tasks, granular grants, the Page↔Instagram
/// link, publishing limits, rate-limit headers) and the local environment (credential store,
/// app credentials, redirect URI), then prints one verdict per profile with the cause in
/// plain words and the exact fix.
///
/// Exit status: 0 when no profile needs action (warnings allowed), 4 when one needs
/// re-authorization or a fix on Meta's side, 3 when Meta could not be reached (health unknown;
/// never reported as invalid).
///
/// Examples:
///   sq diagnose
///   sq diagnose facebook:777 "Acme Bakery"
///   sq diagnose --network instagram --json
///   printf '%s' "$TOKEN" | sq diagnose --token -      # inspect a token without storing it
///   sq diagnose --json | jq '.profiles[] | select(.status != "ok") | .profile'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Profiles to diagnose: facebook:<page-id>, instagram:<id>, threads:<id>, or a name
    pub profiles: Vec<String>,
    /// Only profiles of this network
    #[arg(long, value_enum)]
    pub network: Option<Network>,
    /// Read a token from standard input ("-") and diagnose it without storing anything
    #[arg(long, value_name = "-", conflicts_with = "profiles")]
    pub token: Option<String>,
    /// Also show each token's details: type, scopes, granular targets (never the whole token:
    /// that is `sq token print`)
    #[arg(long)]
    pub show_token: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let facts = match &args.token {
        Some(dash) => {
            if dash != "-" {
                return Err(Error::usage("--token takes \"-\": the token is read from standard input")
                    .hint("printf '%s' \"$TOKEN\" | sq diagnose --token -"));
            }
            token_facts(ctx, args.network).await?
        }
        None => stored_facts(ctx, &args).await?,
    };
    let report = diagnose(&facts, ctx.clock.now_unix());
    print_report(ctx, &report, args.show_token)?;
    Ok(report.exit())
}

fn print_report(ctx: &Ctx, report: &Report, show_token: bool) -> Result<(), Error> {
    if ctx.printer.is_json() {
        return ctx.printer.json(report);
    }
    let printer = &ctx.printer;
    let lines = render_human(report, &|style, text| printer.paint(style, text));
    for line in lines {
        printer.answer(line);
    }
    if show_token {
        for p in &report.profiles {
            if let Some(t) = &p.token {
                printer.answer(format!(
                    "{}  type {}  source {}  token {}  expires {}  scopes {}",
                    p.profile,
                    t.token_type.as_deref().unwrap_or("?"),
                    t.source,
                    t.masked,
                    t.expires_at.as_deref().unwrap_or("never/unknown"),
                    if t.scopes.is_empty() { "-".to_string() } else { t.scopes.join(",") }
                ));
            }
        }
    }
    Ok(())
}

/// Reads the app id and secret of every network, tolerating a store that can't be read (that
/// is diagnosed as `store_unavailable`, not a reason to stop).
async fn apps(ctx: &Ctx, store_ok: bool) -> Apps {
    let mut apps = Apps::default();
    for network in Network::ALL {
        let app = ctx.settings.app(network);
        let id = app.id.as_ref().map(|s| s.value.clone());
        let secret = match (&app.env_secret, store_ok) {
            (Some(s), _) => Some(s.clone()),
            (None, true) => {
                ctx.with_store(move |s| s.load(&Account::app_secret(network))).await.ok().flatten()
            }
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

async fn token_facts(ctx: &Ctx, network: Option<Network>) -> Result<Facts, Error> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::io("reading the token from standard input", e))?;
    let token = Secret::new(line.trim());
    if token.is_empty() {
        return Err(
            Error::usage("no token on standard input").hint("printf '%s' \"$TOKEN\" | sq diagnose --token -")
        );
    }
    // The store is only needed for app secrets here; a broken one is not this command's topic.
    let store_ok = ctx.settings.app(Network::Facebook).env_secret.is_some() || ctx.store().is_ok();
    let apps = apps(ctx, store_ok).await;
    let client = ctx.graph(None)?;
    let progress = Progress::new(&ctx.printer);
    let facts =
        collect::collect_for_token(&client, token, network, &apps, &|done, total| progress.set(done, total))
            .await;
    progress.finish();
    Ok(facts)
}

fn profile_kind(p: &ProfileWithConnection) -> ProfileKind {
    match (p.profile.kind, p.profile.via) {
        (Network::Facebook, _) => ProfileKind::Page,
        (Network::Instagram, Via::Page) => ProfileKind::InstagramViaPage,
        (Network::Instagram, _) => ProfileKind::InstagramLogin,
        (Network::Threads, _) => ProfileKind::Threads,
    }
}

async fn stored_facts(ctx: &Ctx, args: &Args) -> Result<Facts, Error> {
    let db = ctx.db()?;
    let mut rows = if args.profiles.is_empty() {
        db.list_profiles()?
    } else {
        let mut rows = Vec::new();
        for r in &args.profiles {
            let row = db.resolve(r)?;
            if !rows.iter().any(|x: &ProfileWithConnection| x.profile.id == row.profile.id) {
                rows.push(row);
            }
        }
        rows
    };
    if let Some(n) = args.network {
        rows.retain(|r| r.profile.kind == n);
    }
    let failed: BTreeMap<String, u64> = BTreeMap::new();
    drop(db);

    // The store: open it and probe it (write, read, delete), bounded by its own timeout.
    let (store_probe, store_ok, store_reason) = match ctx.store() {
        Ok(store) => {
            let probe = tokio::task::spawn_blocking(move || store::probe(store.as_ref()))
                .await
                .map_err(|e| Error::failure("internal", format!("store probe failed: {e}")))?;
            match probe.to_error() {
                None => (StoreProbe::Ok, true, String::new()),
                Some(err) => (
                    StoreProbe::Failed { backend: probe.backend.clone(), reason: err.message.clone() },
                    false,
                    err.message,
                ),
            }
        }
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
    let mut push = |a: Account| {
        if !accounts.contains(&a) {
            accounts.push(a);
        }
    };
    for r in &rows {
        push(r.profile.token_account(&r.connection));
        push(r.connection.token_account());
    }
    let loaded: BTreeMap<String, StoredSecret> = if store_ok {
        let list = accounts.clone();
        ctx.with_store(move |s| {
            let mut out = BTreeMap::new();
            for a in list {
                let v = match s.load(&a) {
                    Ok(Some(t)) => StoredSecret::Loaded(t),
                    Ok(None) => StoredSecret::Missing,
                    Err(e) => StoredSecret::Unreadable { reason: e.to_string() },
                };
                out.insert(a.as_str().to_string(), v);
            }
            Ok(out)
        })
        .await?
    } else {
        accounts
            .iter()
            .map(|a| (a.as_str().to_string(), StoredSecret::Unreadable { reason: store_reason.clone() }))
            .collect()
    };
    let secret_of = |a: &Account| loaded.get(a.as_str()).cloned().unwrap_or(StoredSecret::Missing);

    let mut connections: BTreeMap<i64, StoredConnection> = BTreeMap::new();
    let mut profiles = Vec::new();
    for r in &rows {
        let c = &r.connection;
        connections.entry(c.id).or_insert_with(|| StoredConnection {
            id: c.id.to_string(),
            network: c.network,
            user_id: Some(c.meta_user_id.clone()),
            user_token: secret_of(&c.token_account()),
        });
        let p = &r.profile;
        let mut sp = StoredProfile::new(
            profile_kind(r),
            p.remote_id.clone(),
            p.display_name(),
            secret_of(&p.token_account(c)),
        );
        sp.connection_id = Some(c.id.to_string());
        sp.page_id = p.page_id.clone();
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

    let redirect = crate::auth::RedirectUri::parse(&ctx.settings.redirect_uri.value).ok().map(|uri| {
        let port_busy = crate::auth::check_port_free(&uri).is_err();
        RedirectFacts { uri: uri.as_str().to_string(), port: uri.port(), port_busy }
    });

    let input = CollectInput {
        profiles,
        connections: connections.into_values().collect(),
        apps: apps(ctx, store_ok).await,
        store: Some(store_probe),
        redirect,
    };
    if input.profiles.is_empty() && !ctx.printer.is_json() {
        ctx.printer.status(if args.profiles.is_empty() && args.network.is_none() {
            "No profiles yet: connect one with `sq connect facebook` (or `sq token import facebook` with a token on stdin)."
        } else {
            "No stored profile matches."
        });
    }
    let client = ctx.graph(None)?;
    let progress = Progress::new(&ctx.printer);
    let facts = collect::collect(&client, &input, &|done, total| progress.set(done, total)).await;
    progress.finish();
    Ok(facts)
}

/// A bar on stderr for long runs, only on a terminal (never with --json/--quiet).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(printer: &Printer) -> Progress {
        let bar = printer.progress_allowed().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} profiles {wide_bar}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress { bar }
    }

    fn set(&self, done: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
