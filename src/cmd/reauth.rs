// Citations: §n is a section of docs/reference/meta-platform.md.
use crate::auth::{self, Login as AuthLogin};
use crate::cmd::Exit;
use crate::cmd::diagnose::ReportExit;
use crate::cmd::login::flow::{self, FlowOptions};
use crate::cmd::login::{self, InspectedLogin, Reached};
use crate::ctx::Ctx;
use crate::db::{NewProfile, ProfileWithConnection};
use crate::error::{Error, Kind};
use crate::meta::AppCredentials;
use crate::model::Network;
use crate::model::ProfileKind;
use crate::model::Via;
use crate::output::{Style, sanitize};
use crate::prompt::Choice;
use crate::secret::Secret;
use crate::store::Account;
use serde_json::json;
use std::time::Duration;

/// Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)
///
/// Runs Meta's login in your browser with every permission the profiles need, waits for the
/// redirect on a loopback address (default http://localhost:8765/callback; register it in
/// the app), exchanges the code for a long-lived token, lets you choose the Pages and
/// accounts to (re)connect, stores the new tokens and then diagnoses them. Nothing is stored
/// unless the whole flow succeeds; the old tokens keep working until the new ones are stored.
///
/// facebook: Pages, and the Instagram accounts linked to them. instagram: through the linked
/// Page (--via-page) or Instagram Login (--instagram-login); by default the way the account
/// is connected now. threads: the Threads app id and secret (not the Facebook ones).
///
/// Browser: --browser CMD, else $BROWSER, else the system opener; over SSH or without a
/// display only a command you named is run. With --no-browser, SSH or no display, open the
/// printed URL on any machine and paste the address the browser ends on here, or forward the
/// port with `ssh -L 8765:localhost:8765`. See docs/reauth.md.
///
/// Examples:
///   sq reauth facebook                       # choose the Pages interactively
///   sq reauth facebook facebook:777 "Acme Catering"
///   sq reauth facebook --all --no-browser    # scripts, or a server over SSH
///   sq reauth instagram instagram:17841400000000002 --instagram-login
///   sq reauth threads
///   sq connect facebook --all --redirect-uri https://localhost:8765/callback
///   sq reauth facebook --revoke --all        # start from a clean grant
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Which login to run
    #[arg(value_enum)]
    pub network: Network,
    /// Profiles to (re)connect: facebook:<id>, instagram:<id>, threads:<id>, or a name
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Connect every profile the login reaches that can publish (no prompt)
    #[arg(long, conflicts_with = "profiles")]
    pub all: bool,
    /// First revoke the app's permissions for this login (Business Integrations → Remove)
    #[arg(long)]
    pub revoke: bool,
    /// Don't launch a browser: print the URL and accept the pasted redirect address
    #[arg(long, conflicts_with = "browser")]
    pub no_browser: bool,
    /// Open the URL with this command instead of $BROWSER or the system opener (%s is the URL;
    /// without it the URL is the last argument); used over SSH and without a display too
    #[arg(long, value_name = "CMD")]
    pub browser: Option<String>,
    /// The redirect URI registered in the app [default: config <network>.redirect_uri, else
    /// redirect_uri, else http://localhost:8765/callback for Facebook and
    /// https://localhost:8765/callback for Instagram Login and Threads, which accept only https]
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// How long to wait for the browser, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// Ask for an extra permission too (repeatable; comma-separated lists work)
    #[arg(long = "scope", value_name = "PERM")]
    pub scopes: Vec<String>,
    /// instagram: reconnect through the linked Facebook Page
    #[arg(long, conflicts_with = "instagram_login")]
    pub via_page: bool,
    /// instagram: use Instagram Login (the Instagram app id and secret)
    #[arg(long)]
    pub instagram_login: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    if (args.via_page || args.instagram_login) && args.network != Network::Instagram {
        return Err(Error::usage("--via-page and --instagram-login are for `sq reauth instagram`"));
    }
    if args.timeout == 0 {
        return Err(Error::usage("--timeout must be at least 1 second"));
    }
    // Pre-flight for what the run ends with: the database the profiles are switched in and the
    // store the tokens go to. A damaged database or a store that can't be read stops the run
    // here, before the user is sent through the browser for nothing.
    let db = ctx.db()?;
    db.quick_check()?;
    let stored = db.list_profiles()?;
    drop(db);
    ctx.store()?;
    check_references(ctx, &args, &stored)?;
    match args.network {
        Network::Facebook => facebook(ctx, &args, &stored, false).await,
        Network::Threads => own_login(ctx, &args, &stored, AuthLogin::Threads).await,
        Network::Instagram => {
            if args.instagram_login {
                return own_login(ctx, &args, &stored, AuthLogin::InstagramLogin).await;
            }
            if args.via_page {
                return facebook(ctx, &args, &stored, true).await;
            }
            // Default: how the named (or stored) Instagram profiles are connected now.
            let named: Vec<&ProfileWithConnection> =
                stored.iter().filter(|p| args.profiles.iter().any(|a| matches_stored(a, p))).collect();
            let pool: Vec<&ProfileWithConnection> = if named.is_empty() {
                stored.iter().filter(|p| p.profile.kind == Network::Instagram).collect()
            } else {
                named
            };
            let via_login = pool.iter().filter(|p| p.profile.via == Via::InstagramLogin).count();
            let via_page = pool.len() - via_login;
            if via_login > 0 && via_page > 0 {
                return Err(Error::usage(
                    "these Instagram profiles are connected in two ways (through a Page and with Instagram Login)",
                )
                .hint("choose one with --via-page or --instagram-login (and name the profiles of that kind)"));
            }
            let instagram_login = via_login > 0
                || (pool.is_empty()
                    && ctx.settings.facebook.id.is_none()
                    && ctx.settings.instagram.id.is_some());
            if instagram_login {
                own_login(ctx, &args, &stored, AuthLogin::InstagramLogin).await
            } else {
                facebook(ctx, &args, &stored, true).await
            }
        }
    }
}

fn matches_stored(arg: &str, p: &ProfileWithConnection) -> bool {
    let a = arg.trim();
    let a_low = a.to_lowercase();
    a_low == p.profile.reference()
        || (!p.profile.name.is_empty() && p.profile.name.to_lowercase() == a_low)
        || p.profile.username.as_deref().is_some_and(|u| u.to_lowercase() == a_low.trim_start_matches('@'))
}

fn matches_reached(arg: &str, r: &Reached) -> bool {
    let a_low = arg.trim().to_lowercase();
    a_low == r.reference()
        || (!r.name.is_empty() && r.name.to_lowercase() == a_low)
        || r.username.as_deref().is_some_and(|u| u.to_lowercase() == a_low.trim_start_matches('@'))
}

/// Which kinds of profile a login run can (re)connect.
fn kinds_of_run(args: &Args, facebook_login: bool) -> &'static [Network] {
    match (args.network, facebook_login) {
        (Network::Facebook, _) => &[Network::Facebook, Network::Instagram],
        (Network::Instagram, _) => &[Network::Instagram],
        (Network::Threads, _) => &[Network::Threads],
    }
}

fn kind_words(n: Network) -> &'static str {
    match n {
        Network::Facebook => "a Facebook Page",
        Network::Instagram => "an Instagram account",
        Network::Threads => "a Threads profile",
    }
}

/// Edit distance (Levenshtein) over characters, for did-you-mean.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Stored profiles whose reference, name or username is close to `arg` (a typo, a missing
/// word), best first.
fn did_you_mean<'a>(arg: &str, stored: &'a [ProfileWithConnection]) -> Vec<&'a ProfileWithConnection> {
    let a = arg.trim().trim_start_matches('@').to_lowercase();
    let mut scored: Vec<(usize, &ProfileWithConnection)> = stored
        .iter()
        .filter_map(|p| {
            let mut keys =
                vec![p.profile.reference(), p.profile.remote_id.clone(), p.profile.name.to_lowercase()];
            keys.extend(p.profile.username.as_deref().map(str::to_lowercase));
            let best = keys
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| {
                    let d = distance(&a, k);
                    let contains = a.chars().count() >= 3 && (k.contains(&a) || a.contains(k.as_str()));
                    if contains { d.min(1) } else { d }
                })
                .min()?;
            let limit = (a.chars().count() / 4).max(2);
            (best <= limit).then_some((best, p))
        })
        .collect();
    scored.sort_by_key(|(d, p)| (*d, p.profile.reference()));
    scored.into_iter().map(|(_, p)| p).take(3).collect()
}

fn quoted(p: &ProfileWithConnection) -> String {
    let name = sanitize(&p.profile.display_name());
    if name.is_empty() { p.profile.reference() } else { format!("{} ({name})", p.profile.reference()) }
}

/// Checks the PROFILE arguments before the browser opens (nothing has happened yet, so a
/// mistake costs nothing): one that names a profile of another network, or that matches no
/// stored profile but looks like a typo of one, fails at once with the right command or a
/// did-you-mean. One that is simply not connected yet is allowed (connecting it is what the
/// run is for) and said in one line.
fn check_references(ctx: &Ctx, args: &Args, stored: &[ProfileWithConnection]) -> Result<(), Error> {
    let allowed = kinds_of_run(args, true);
    let n = args.network.name();
    for a in &args.profiles {
        let arg = a.trim();
        let shown = sanitize(arg);
        // An explicit kind: the network must be one this login connects.
        if let Some((kind, id)) = arg.split_once(':') {
            if let Some(kind) = Network::parse(&kind.to_ascii_lowercase()) {
                if !allowed.contains(&kind) {
                    return Err(Error::usage(format!(
                        "{shown} is {}, and `sq reauth {n}` can't connect it",
                        kind_words(kind)
                    ))
                    .hint(format!("run: sq reauth {} {}", kind.name(), shown)));
                }
                if !stored.iter().any(|p| matches_stored(arg, p)) {
                    let close = did_you_mean(arg, stored);
                    if let Some(best) = close.first().filter(|p| p.profile.kind == kind) {
                        if distance(id.trim(), &best.profile.remote_id) <= 2 {
                            return Err(Error::usage(format!("no connected profile is {shown}"))
                                .hint(format!("did you mean {}?", quoted(best)))
                                .hint("see the connected profiles with: sq profiles"));
                        }
                    }
                    ctx.printer.status(format!(
                        "{shown} is not connected yet; sq connects it if the login below reaches it."
                    ));
                }
                continue;
            }
        }
        let matched: Vec<&ProfileWithConnection> = stored.iter().filter(|p| matches_stored(arg, p)).collect();
        if !matched.is_empty() {
            if matched.iter().all(|p| !allowed.contains(&p.profile.kind)) {
                let p = matched[0];
                return Err(Error::usage(format!(
                    "{shown} is {} ({}), not {}",
                    kind_words(p.profile.kind),
                    p.profile.reference(),
                    kind_words(args.network)
                ))
                .hint(format!(
                    "run: sq reauth {} {}",
                    p.profile.kind.name(),
                    p.profile.reference()
                )));
            }
            continue;
        }
        let close = did_you_mean(arg, stored);
        if !close.is_empty() {
            let mut e = Error::usage(format!("no profile matches {shown:?}"));
            for c in &close {
                e = e.hint(format!("did you mean {}?", quoted(c)));
            }
            return Err(e.hint(format!(
                "to connect a profile that isn't connected yet, name it by id: sq reauth {n} {n}:<id>"
            )));
        }
        if !stored.is_empty() {
            ctx.printer.status(format!(
                "No connected profile matches {shown:?}; sq connects it if the login below reaches a profile of that name."
            ));
        }
    }
    Ok(())
}

fn app_missing(network: Network) -> Error {
    let n = network.name();
    let which = match network {
        Network::Facebook => "the Facebook app",
        Network::Instagram => "the Instagram app (Instagram → API setup with Instagram login)",
        Network::Threads => "the Threads app (Use cases → Threads API → Settings; not the Facebook app id)",
    };
    Error::action("app_not_configured", format!("{n}: the app id or app secret of {which} is not configured"))
        .hint(format!("sq config set {n}.app_id <APP-ID>"))
        .hint(format!("printf '%s' \"$APP_SECRET\" | sq config set {n}.app_secret --stdin"))
}

/// The selection must be possible before the browser opens: without a terminal, the profiles
/// come from PROFILE arguments or --all.
fn require_selection(ctx: &Ctx, args: &Args) -> Result<(), Error> {
    if args.profiles.is_empty() && !args.all && !ctx.prompter.can_prompt() {
        let n = args.network.name();
        return Err(Error::usage("sq can't ask which profiles to connect (no terminal, or --no-input)")
            .hint(format!(
                "name them: sq reauth {n} {n}:<id> ..., or connect everything with: sq reauth {n} --all"
            )));
    }
    Ok(())
}

/// The flow's options from reauth's flags.
fn flow_options<'a>(
    args: &'a Args,
    login: AuthLogin,
    app_id: &'a str,
    scopes: &'a [String],
) -> FlowOptions<'a> {
    FlowOptions {
        login,
        app_id,
        scopes,
        redirect_uri: args.redirect_uri.as_deref(),
        no_browser: args.no_browser,
        browser: args.browser.as_deref(),
        timeout: Duration::from_secs(args.timeout),
        opener: None,
    }
}

/// Prints the declined/missing permissions with the fix; returns the ones missing.
fn report_missing(ctx: &Ctx, login: &InspectedLogin, wanted: &[String]) -> Vec<String> {
    let missing: Vec<String> = wanted
        .iter()
        .filter(|s| !login.scopes.contains(s))
        // business_management only matters for portfolio Pages: missing it is not an error
        // unless the user declined it.
        .filter(|s| *s != "business_management" || login.declined.contains(s))
        .cloned()
        .collect();
    if !missing.is_empty() {
        ctx.printer.warn(format!(
            "permission{} not granted: {} — publishing needs {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "them" }
        ));
        match ctx.settings.facebook_config_id.as_deref().filter(|_| login.network == Network::Facebook) {
            // Facebook Login for Business: the login configuration decides the permissions
            // (meta-platform.md §1.8, §14); no toggle in the dialog can add one it lacks.
            Some(config) => ctx.printer.hint(format!(
                "add {} to login configuration {config} in the app dashboard (Facebook Login for Business → Configurations → edit {config} → Permissions), then run `sq reauth facebook` again",
                missing.join(", ")
            )),
            None => ctx.printer.hint(format!(
                "run `sq reauth {}` again and, on Meta's page, choose \"Edit access\" (or \"Edit settings\") and switch every toggle on",
                login.network.name()
            )),
        }
    }
    missing
}

/// `--revoke`: `DELETE /me/permissions` with each stored user token of this network's
/// Facebook logins; a dead token gets the manual steps instead.
async fn revoke(ctx: &Ctx, app: &AppCredentials, stored: &[ProfileWithConnection]) -> Result<(), Error> {
    let mut accounts: Vec<Account> = stored
        .iter()
        .filter(|p| p.connection.network == Network::Facebook)
        .map(|p| p.connection.token_account())
        .collect();
    accounts.dedup();
    if accounts.is_empty() {
        ctx.printer.status("--revoke: no stored Facebook login to revoke; continuing with the login");
        return Ok(());
    }
    let tokens: Vec<Option<Secret>> = ctx.with_store(move |s| s.load_many(&accounts)).await?;
    let graph = ctx.graph(Some(app.clone()))?;
    for t in tokens.into_iter().flatten() {
        match graph.revoke_permissions(&t, None).await {
            Ok(_) => {
                ctx.printer.status(format!("Revoked the app's permissions for the login {}", t.masked()))
            }
            Err(e) if e.token_death().is_some() => {
                ctx.printer.warn(format!(
                    "the stored login {} is already dead, so sq can't revoke it; remove the app by hand:",
                    t.masked()
                ));
                for step in [
                    "on Facebook: Settings & privacy → Settings → Business Integrations (Apps and Websites for a personal login)",
                    "find the app, choose Remove, and confirm",
                    "then come back here: the login below asks for everything again",
                ] {
                    ctx.printer.status(format!("  - {step}"));
                }
            }
            Err(e) => return Err(Error::from(e)),
        }
    }
    Ok(())
}

/// Facebook Login: Pages and the Instagram accounts linked to them.
async fn facebook(
    ctx: &Ctx,
    args: &Args,
    stored: &[ProfileWithConnection],
    instagram: bool,
) -> Result<Exit, Error> {
    let app = ctx.app_credentials(Network::Facebook).await?.ok_or_else(|| app_missing(Network::Facebook))?;
    require_selection(ctx, args)?;
    let previous: Vec<&ProfileWithConnection> =
        stored.iter().filter(|p| p.connection.network == Network::Facebook).collect();
    let with_instagram = instagram
        || previous.iter().any(|p| p.profile.kind == Network::Instagram)
        || args.profiles.iter().any(|p| p.trim().to_lowercase().starts_with("instagram:"));
    let mut kinds = vec![ProfileKind::FacebookPage];
    if with_instagram {
        kinds.push(ProfileKind::InstagramViaPage);
    }
    let scopes = auth::scopes_for(&kinds, &args.scopes);
    if args.revoke {
        revoke(ctx, &app, stored).await?;
    }

    let graph = ctx.graph(Some(app.clone()))?;
    let (mut login, progress) = flow::authorize_and_exchange(
        ctx,
        &flow_options(args, AuthLogin::Facebook, &app.id, &scopes),
        |grant| {
            let (graph, app) = (&graph, &app);
            async move {
                // The token's clock starts at the exchange, not before the browser wait.
                let now = ctx.clock.now_unix();
                let progress = crate::output::Progress::spinner(&ctx.printer, "exchanging the code");
                let short = graph
                    .exchange_facebook_code(
                        app,
                        &grant.code,
                        grant.redirect.as_str(),
                        grant.verifier.as_ref().map(|v| v.verifier()),
                    )
                    .await?;
                progress.phase("checking the token");
                let login =
                    login::inspect_facebook(graph, Some(app), Some(&app.id), short.access_token, now).await?;
                Ok((login, progress))
            }
        },
    )
    .await?;
    progress.phase("listing Pages");
    let reached = login::facebook_profiles(&graph, &mut login).await?;
    progress.finish();
    for w in &login.warnings {
        ctx.printer.warn(w);
    }
    let missing = report_missing(ctx, &login, &scopes);

    // What can be chosen: Pages (and linked Instagram accounts); for `reauth instagram`, the
    // Instagram accounts.
    // Instagram accounts only when this grant covers Instagram publishing.
    let instagram_granted =
        ProfileKind::InstagramViaPage.permissions().iter().all(|p| login.scopes.iter().any(|s| s == p));
    let choices: Vec<&Reached> = reached
        .iter()
        .filter(|r| !(args.network == Network::Instagram && r.network == Network::Facebook))
        .filter(|r| r.network != Network::Instagram || instagram_granted)
        .collect();
    if !instagram_granted
        && args.network == Network::Facebook
        && reached.iter().any(|r| r.network == Network::Instagram)
    {
        ctx.printer.status(
            "Instagram accounts linked to these Pages were left out (this login has no Instagram permissions); \
             add them with: sq reauth instagram --via-page",
        );
    }
    let same_login: Vec<&ProfileWithConnection> =
        previous.iter().copied().filter(|p| p.connection.meta_user_id == login.user_id).collect();
    let was_connected = |r: &Reached| previous.iter().any(|p| p.profile.reference() == r.reference());
    // A Page left out of the grant can't publish whatever listing returned it (the same
    // reading as diagnose's `granular_not_selected`), so it is shown but not selectable.
    let selectable =
        |r: &Reached| r.can_publish() && r.token.is_some() && r.source != login::FoundIn::NotSelected;

    let mut chosen: Vec<Reached> = Vec::new();
    let mut unreachable_named: Vec<String> = Vec::new();
    if args.all {
        chosen.extend(choices.iter().filter(|r| selectable(r)).map(|r| (*r).clone()));
    } else if !args.profiles.is_empty() {
        for a in &args.profiles {
            match choices.iter().find(|r| matches_reached(a, r)) {
                Some(r) if selectable(r) => chosen.push((*r).clone()),
                Some(r) => ctx.printer.warn(format!(
                    "{} {} can't be connected: {}",
                    r.reference(),
                    r.display_name(),
                    r.flag_words().join("; ")
                )),
                None => {
                    let label = stored
                        .iter()
                        .find(|p| matches_stored(a, p))
                        .map(|p| format!("{} {}", p.profile.reference(), sanitize(&p.profile.display_name())))
                        .unwrap_or_else(|| sanitize(a));
                    unreachable_named.push(label);
                }
            }
        }
    } else {
        let items: Vec<Choice> = choices
            .iter()
            .map(|r| {
                // The reference first: a row cut to the terminal's width keeps what identifies it.
                let mut label = format!("{:<22} {}", r.reference(), r.display_name());
                if !r.is_admin() && r.can_publish() {
                    label.push_str("  [not a Page Admin]");
                }
                Choice {
                    label,
                    disabled: (!selectable(r)).then(|| r.flag_words().join("; ")),
                    selected: was_connected(r) || previous.is_empty(),
                }
            })
            .collect();
        if items.is_empty() {
            return Err(Error::action("nothing_to_connect", "this login reaches no Page or Instagram account")
                .hint("run the command again and tick the Pages (\"opt in to all current and future Pages\") on Meta's page"));
        }
        let flag = format!("PROFILE arguments or --all (sq reauth {} --all)", args.network.name());
        for i in ctx.prompter.multi_select("Which profiles should sq (re)connect?", &items, &flag)? {
            if let Some(r) = choices.get(i) {
                chosen.push((*r).clone());
            }
        }
    }
    // An Instagram account publishes with its Page's token: store that Page's token too by
    // keeping the Page in the set when it is already a profile.
    if chosen.is_empty() {
        let mut e = Error::action("nothing_selected", "no profile was selected; nothing was changed");
        if !unreachable_named.is_empty() {
            e = e.hint(format!(
                "not among the profiles this login reaches, so tick {} on Meta's page: {}",
                if unreachable_named.len() == 1 { "it" } else { "them" },
                unreachable_named.join(", ")
            ));
        }
        return Err(
            e.hint(format!("run `sq reauth {}` again and tick the Pages to connect", args.network.name()))
        );
    }

    // Profiles of this login that were not re-selected stay as they were.
    let keep: Vec<NewProfile> = same_login
        .iter()
        .filter(|p| !chosen.iter().any(|c| c.reference() == p.profile.reference()))
        .map(|p| login::keep_profile(&p.profile))
        .collect();
    login::save(ctx, &login, &chosen, &keep).await?;
    finish(ctx, &login, &chosen, &keep, &unreachable_named, &missing).await
}

/// Instagram Login and Threads: their own authorize/exchange/long-lived endpoints.
async fn own_login(
    ctx: &Ctx,
    args: &Args,
    stored: &[ProfileWithConnection],
    login_kind: AuthLogin,
) -> Result<Exit, Error> {
    let network = login_kind.network();
    if args.all {
        ctx.printer.verbose(1, "--all: an Instagram Login / Threads login is one profile");
    }
    let app = ctx.app_credentials(network).await?.ok_or_else(|| app_missing(network))?;
    if network == Network::Threads {
        if let Some(fb) = &ctx.settings.facebook.id {
            if fb.value == app.id {
                return Err(Error::usage(format!(
                    "threads.app_id is {}, which is the Facebook app id; Threads only accepts the Threads app id (Meta error 4476002)",
                    app.id
                ))
                .hint("find the Threads app id and secret in the Meta dashboard: Use cases → Threads API → Settings")
                .hint("sq config set threads.app_id <THREADS-APP-ID>, and printf '%s' \"$THREADS_SECRET\" | sq config set threads.app_secret --stdin"));
            }
        }
    }
    let kind = if network == Network::Threads { ProfileKind::Threads } else { ProfileKind::InstagramLogin };
    let scopes = auth::scopes_for(&[kind], &args.scopes);
    let graph = ctx.graph(None)?;
    let opts = flow_options(args, login_kind, &app.id, &scopes);
    let ((login, reached), progress) = flow::authorize_and_exchange(ctx, &opts, |grant| {
        let (graph, app, scopes) = (&graph, &app, &scopes);
        async move {
            let progress =
                crate::output::Progress::spinner(&ctx.printer, "exchanging the code and checking the token");
            // The token's clock starts at the exchange, not before the browser wait.
            let now = ctx.clock.now_unix();
            let inspected = if network == Network::Threads {
                let short = graph.exchange_threads_code(app, &grant.code, grant.redirect.as_str()).await?;
                login::inspect_threads(graph, Some(app), short.access_token, now, true).await?
            } else {
                let short = graph.exchange_instagram_code(app, &grant.code, grant.redirect.as_str()).await?;
                let perms = short.permissions.clone();
                let (mut login, r) =
                    login::inspect_instagram(graph, Some(app), short.access_token, perms, now, true).await?;
                if login.scopes.is_empty() {
                    login.scopes = scopes.clone();
                }
                (login, r)
            };
            Ok((inspected, progress))
        }
    })
    .await?;
    progress.finish();
    for w in &login.warnings {
        ctx.printer.warn(w);
    }
    let missing = if login.scopes.is_empty() { Vec::new() } else { report_missing(ctx, &login, &scopes) };
    // The login is one account: if other ones were named, say that they were not reconnected.
    let unreachable_named: Vec<String> = args
        .profiles
        .iter()
        .filter(|a| !matches_reached(a, &reached))
        .map(|a| {
            stored
                .iter()
                .find(|p| matches_stored(a, p))
                .map(|p| format!("{} {}", p.profile.reference(), sanitize(&p.profile.display_name())))
                .unwrap_or_else(|| sanitize(a))
        })
        .collect();
    let chosen = vec![reached];
    login::save(ctx, &login, &chosen, &[]).await?;
    finish(ctx, &login, &chosen, &[], &unreachable_named, &missing).await
}

/// The report: what was reconnected, kept, not reached; then the closing diagnose and the
/// requeue hint.
async fn finish(
    ctx: &Ctx,
    login: &InspectedLogin,
    chosen: &[Reached],
    kept: &[NewProfile],
    unreachable_named: &[String],
    missing: &[String],
) -> Result<Exit, Error> {
    let refs: Vec<String> = chosen.iter().map(Reached::reference).collect();
    // The closing diagnose also covers the profiles that were kept, so one left unticked whose
    // token is broken is reported as still broken, not as fine.
    let kept_refs: Vec<String> = kept.iter().map(|k| format!("{}:{}", k.kind.name(), k.remote_id)).collect();
    let all_refs: Vec<String> = refs.iter().chain(kept_refs.iter()).cloned().collect();
    let report = match login::diagnose_profiles(ctx, &all_refs).await {
        Ok(r) => Some(r),
        Err(e) => {
            ctx.printer.warn(format!("the closing diagnose could not run: {}", e.message));
            None
        }
    };
    let failed: u64 = report.as_ref().map_or(0, |r| {
        r.profiles
            .iter()
            .flat_map(|p| p.findings.iter())
            .filter(|f| f.code == crate::diagnose::Code::FailedPosts)
            .count() as u64
    });
    let failed_refs: Vec<String> =
        login::failed_posts(ctx).into_keys().filter(|r| all_refs.contains(r)).collect();
    let requeue_hint = (!failed_refs.is_empty() || failed > 0).then(|| {
        let mut refs = failed_refs.clone();
        refs.sort();
        format!("failed posts are waiting for these profiles: sq requeue --failed {}", refs.join(" "))
    });

    let mut exit = report.as_ref().map_or(Exit::Success, |r| r.exit());
    if !unreachable_named.is_empty() {
        exit = Exit::Code(Kind::ActionRequired);
    }
    let p = &ctx.printer;
    let status_of = |reference: &str| {
        report.as_ref().and_then(|r| r.profiles.iter().find(|x| x.profile == reference)).map(|x| x.status)
    };
    if p.is_json() {
        let kept_json: Vec<_> = kept
            .iter()
            .map(|k| {
                let reference = format!("{}:{}", k.kind.name(), k.remote_id);
                let broken = status_of(&reference) == Some(crate::diagnose::report::Status::Broken);
                json!({"profile": reference, "network": k.kind.name(),
                       "kind": k.kind.name(), "name": sanitize(&k.name),
                       "status": if broken { "kept_broken" } else { "kept" }})
            })
            .collect();
        p.json(&json!({
            "connection": login.json(),
            "profiles": chosen.iter().map(|r| r.json("reconnected")).chain(kept_json).collect::<Vec<_>>(),
            "not_reached": unreachable_named,
            "missing_permissions": missing,
            "diagnose": report,
            "requeue_hint": requeue_hint,
        }))?;
        return Ok(exit);
    }
    p.answer(format!("Connected {} with a new token {}:", login.label(), login.token.masked()));
    for line in summary_lines(
        chosen,
        kept,
        unreachable_named,
        &|reference| status_of(reference),
        crate::output::stdout_width(&ctx.env),
        &|s, t| p.paint(s, t),
    ) {
        p.answer(line);
    }
    // The fixes the rows call for, each once, naming the profiles (not one per row).
    for h in login::flag_hints(&chosen.iter().collect::<Vec<_>>()) {
        p.hint(h);
    }
    if !unreachable_named.is_empty() {
        p.hint(format!(
            "tick {} on Meta's page and run the command again: {}",
            if unreachable_named.len() == 1 { "it" } else { "them" },
            unreachable_named.join(", ")
        ));
    }
    if let Some(r) = &report {
        p.answer("");
        let width = crate::output::stdout_width(&ctx.env);
        for line in crate::cmd::diagnose::render::render_human_width(r, &|s, t| p.paint(s, t), width) {
            p.answer(line);
        }
    }
    if let Some(h) = requeue_hint {
        p.hint(h);
    }
    Ok(exit)
}

/// The reauth summary: one aligned row per profile (what was done, its reference, its name
/// ellipsized to the width, a note), with a header. `status` is the closing diagnose's verdict.
pub fn summary_lines(
    chosen: &[Reached],
    kept: &[NewProfile],
    unreachable_named: &[String],
    status: &dyn Fn(&str) -> Option<crate::diagnose::report::Status>,
    width: Option<usize>,
    paint: &dyn Fn(Style, &str) -> String,
) -> Vec<String> {
    use crate::diagnose::report::Status;
    let mut t = crate::output::Table::new(&["DONE", "PROFILE", "NAME", "NOTE"]).flex(2).indent("  ");
    let mut styles: Vec<Option<Style>> = Vec::new();
    for r in chosen {
        t.row(vec!["reconnected".into(), r.reference(), r.display_name(), r.flag_words().join("; ")]);
        styles.push((!r.flags().is_empty()).then_some(Style::Warn));
    }
    for k in kept {
        let reference = format!("{}:{}", k.kind.name(), k.remote_id);
        let broken = status(&reference) == Some(Status::Broken);
        let (done, note) = if broken {
            ("still broken", "not selected, and its old token doesn't work (see below)")
        } else {
            ("kept as is", "not selected: its old token was left unchanged")
        };
        t.row(vec![done.into(), reference, sanitize(&k.name), note.into()]);
        styles.push(broken.then_some(Style::Bad));
    }
    for u in unreachable_named {
        t.row(vec!["not reached".into(), u.clone(), String::new(), "this login can't reach it".into()]);
        styles.push(Some(Style::Warn));
    }
    t.render(width, &|col, row, text| match (col, row.and_then(|r| styles.get(r).copied().flatten())) {
        (0 | 3, Some(style)) => paint(style, &text),
        _ => text,
    })
}
