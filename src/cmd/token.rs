use crate::cmd::Exit;
use crate::cmd::login::{self, InspectedLogin, Reached};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::model::Network;
use crate::output::Style;
use crate::secret::{Secret, Token, UserToken};
use is_terminal::IsTerminal;
use std::io::Read;

/// Import and print stored tokens
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    Import(ImportArgs),
    Print(crate::cmd::token_print::PrintArgs),
}

/// Store a token you already have (read from standard input), like `gh auth login --with-token`
///
/// The token is checked with Meta before anything is stored: a token Meta no longer accepts is
/// refused with the reason (exit 4); when Meta can't be reached nothing is stored (exit 3).
///
/// facebook: a user token. sq stores the connection and every profile it reaches: each Page
/// (with its own Page token) and each Instagram account linked to one. Pages where the user
/// can't publish (no CREATE_CONTENT task) are imported but flagged, and so are non-Admins. A
/// short-lived token is upgraded to a long-lived one when the app secret is configured.
///
/// instagram: an Instagram Login token (IGAA…). threads: a Threads token (TH…).
///
/// Importing again replaces the stored tokens; profiles the login no longer reaches are
/// removed. The token is never printed (only masked) and never taken from the command line.
///
/// Examples:
///   pbpaste | sq token import facebook
///   sq token import instagram < ig-token.txt
///   printf '%s\n' "$THREADS_TOKEN" | sq token import threads --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ImportArgs {
    /// Which kind of login the token is from
    #[arg(value_enum)]
    pub network: Network,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    match args.command {
        TokenCommand::Import(a) => import(ctx, a).await,
        TokenCommand::Print(a) => crate::cmd::token_print::print(ctx, a).await,
    }
}

/// The token: standard input when it is piped; a hidden prompt on a terminal.
fn read_token(ctx: &Ctx, network: Network) -> Result<UserToken, Error> {
    let hint = format!("pipe the token on standard input: pbpaste | sq token import {network}");
    let raw = if std::io::stdin().is_terminal() {
        ctx.prompter.password(&format!("Paste the {network} token"), &hint)?
    } else {
        let mut buf = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut buf)
            .map_err(|e| Error::io("reading the token from standard input", e))?;
        Secret::new(buf)
    };
    let token = raw.expose().split_whitespace().next().unwrap_or_default().to_string();
    if token.is_empty() {
        return Err(Error::usage("no token on standard input").hint(hint));
    }
    if raw.expose().split_whitespace().nth(1).is_some() {
        return Err(Error::usage("standard input holds more than one word; sq expects one token").hint(hint));
    }
    Ok(UserToken::new(token))
}

pub async fn import(ctx: &Ctx, args: ImportArgs) -> Result<Exit, Error> {
    let network = args.network;
    let token = read_token(ctx, network)?;
    if let Some(guess) = crate::cmd::diagnose::collect::network_of_token(token.as_secret()) {
        if guess != network {
            ctx.printer.warn(format!(
                "this looks like a {guess} token ({}), not a {network} one; checking it as {network} anyway",
                token.masked()
            ));
        }
    }
    let app = ctx.app_credentials(network).await?;
    let app_id = ctx.settings.app(network).id.as_ref().map(|s| s.value.clone());
    let graph = ctx.graph(if network == Network::Facebook { app.clone() } else { None })?;
    let now = ctx.clock.now_unix();
    ctx.printer.verbose(1, format!("checking the {network} token {} with Meta", token.masked()));

    let (login, profiles) = match network {
        Network::Facebook => {
            let mut login =
                login::inspect_facebook(&graph, app.as_ref(), app_id.as_deref(), token, now).await?;
            let profiles = login::facebook_profiles(&graph, &mut login).await?;
            (login, profiles)
        }
        Network::Instagram => {
            let (login, p) =
                login::inspect_instagram(&graph, app.as_ref(), token, Vec::new(), now, false).await?;
            (login, vec![p])
        }
        Network::Threads => {
            let (login, p) = login::inspect_threads(&graph, app.as_ref(), token, now, false).await?;
            (login, vec![p])
        }
    };
    for w in &login.warnings {
        ctx.printer.warn(w);
    }
    // Pages without a token can't publish at all: say so and leave them out.
    let (importable, tokenless): (Vec<Reached>, Vec<Reached>) =
        profiles.into_iter().partition(|p| p.token.is_some());
    // One warning and one hint for all of them, not one per Page.
    if !tokenless.is_empty() {
        let names: Vec<String> =
            tokenless.iter().map(|p| format!("{} {}", p.reference(), p.display_name())).collect();
        ctx.printer.warn(format!(
            "not imported, because Meta gave no Page token for {}: {}",
            if tokenless.len() == 1 { "it" } else { "them" },
            names.join(", ")
        ));
        ctx.printer.hint(
            "ask a Page Admin for a role with the CREATE_CONTENT task on these Pages, then import again",
        );
    }
    if network == Network::Facebook && importable.is_empty() {
        ctx.printer.warn(
            "this login reaches no Page: grant pages_show_list and tick the Pages in the login dialog \
             (or run `sq reauth facebook`)",
        );
    }
    let saved = login::save(ctx, &login, &importable, &[]).await?;
    render(ctx, &login, &importable, &saved.removed)
}

fn render(
    ctx: &Ctx,
    login: &InspectedLogin,
    profiles: &[Reached],
    removed: &[String],
) -> Result<Exit, Error> {
    let p = &ctx.printer;
    if p.is_json() {
        let mut connection = login.json();
        if let Some(o) = connection.as_object_mut() {
            o.insert("warnings".into(), serde_json::json!(login.warnings));
        }
        return p
            .json(&serde_json::json!({
                "connection": connection,
                "profiles": profiles.iter().map(|r| r.json("imported")).collect::<Vec<_>>(),
                "removed": removed,
            }))
            .map(|_| Exit::Success);
    }
    p.answer(format!(
        "Imported {} for {} ({} profile{}):",
        login.token.masked(),
        login.label(),
        profiles.len(),
        if profiles.len() == 1 { "" } else { "s" }
    ));
    for line in
        import_lines(profiles, removed, crate::output::stdout_width(&ctx.env), &|t| p.paint(Style::Warn, t))
    {
        p.answer(line);
    }
    if !login.declined.is_empty() {
        p.warn(format!("declined permissions: {}", login.declined.join(", ")));
    }
    for h in login::flag_hints(&profiles.iter().collect::<Vec<_>>()) {
        p.hint(h);
    }
    Ok(Exit::Success)
}

/// The import summary: a header and aligned columns (network, reference, name ellipsized to
/// `width`, notes), then the profiles this login no longer reaches.
fn import_lines(
    profiles: &[crate::cmd::login::Reached],
    removed: &[String],
    width: Option<usize>,
    warn: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let mut t = crate::output::Table::new(&["NETWORK", "PROFILE", "NAME", "NOTE"]).flex(2).indent("  ");
    let mut flagged = Vec::new();
    for r in profiles {
        let words = r.flag_words();
        flagged.push(!words.is_empty());
        t.row(vec![r.network.name().to_string(), r.reference(), r.display_name(), words.join("; ")]);
    }
    for r in removed {
        flagged.push(false);
        t.row(vec!["removed".into(), r.clone(), String::new(), "this login no longer reaches it".into()]);
    }
    t.render(width, &|col, row, text| match row {
        Some(i) if col == 3 && flagged.get(i).copied().unwrap_or(false) => warn(&text),
        _ => text,
    })
}
