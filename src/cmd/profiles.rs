use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::db::ProfileWithConnection;
use crate::diagnose::report::{human_time, rfc3339};
use crate::error::Error;
use crate::model::{ProfileKind, Via};
use crate::output::sanitize;
use crate::store::Account;
use serde::Serialize;
use std::collections::BTreeMap;

/// List or remove the connected profiles
///
/// A profile is a Facebook Page, an Instagram professional account (via its Page or through
/// Instagram Login) or a Threads profile. Its reference (facebook:<page-id>,
/// instagram:<id>, threads:<id>) or its name works wherever a PROFILE is asked for.
///
/// Examples:
///   sq profiles
///   sq profiles --json | jq -r '.profiles[].profile'
///   sq profiles remove facebook:777
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<ProfilesCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProfilesCommand {
    /// List profiles: kind, name, reference, connection, token source and masked token, expiry
    ///
    /// Examples:
    ///   sq profiles list
    ///   sq profiles list --json | jq -r '.profiles[] | select(.kind == "facebook") | .profile'
    #[command(verbatim_doc_comment)]
    List,
    /// Remove a profile and the secrets only it uses
    ///
    /// Examples:
    ///   sq profiles remove facebook:777
    ///   sq profiles remove "Acme Catering" --json
    #[command(verbatim_doc_comment)]
    Remove(RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// facebook:<page-id>, instagram:<id>, threads:<id>, or the profile's name
    pub profile: String,
}

#[derive(Debug, Serialize)]
struct TokenView {
    source: &'static str,
    /// `null` when nothing is stored (or the store could not be read: see `error`).
    masked: Option<String>,
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct ConnectionView {
    network: &'static str,
    user_id: String,
    name: Option<String>,
}

#[derive(Debug, Serialize)]
struct ProfileView {
    profile: String,
    network: &'static str,
    kind: &'static str,
    via: Option<&'static str>,
    name: String,
    username: Option<String>,
    page_id: Option<String>,
    tasks: Option<Vec<String>>,
    connection: ConnectionView,
    token: TokenView,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    match args.command {
        None | Some(ProfilesCommand::List) => list(ctx).await,
        Some(ProfilesCommand::Remove(a)) => remove(ctx, &a.profile).await,
    }
}

fn via(p: &ProfileWithConnection) -> Option<&'static str> {
    ProfileKind::of(p.profile.kind, p.profile.via).via()
}

/// A Page token from a long-lived login never expires; Instagram Login and Threads tokens
/// expire with their connection's token.
fn expires_at(r: &ProfileWithConnection) -> Option<i64> {
    match r.profile.via {
        Via::Page => r.profile.token_expires_at,
        _ => r.profile.token_expires_at.or(r.connection.token_expires_at),
    }
}

async fn list(ctx: &Ctx) -> Result<Exit, Error> {
    let rows = ctx.db()?.list_profiles()?;
    if rows.is_empty() {
        if ctx.printer.is_json() {
            ctx.printer.json(&serde_json::json!({"profiles": []}))?;
        } else {
            ctx.printer.status("No profiles yet.");
            ctx.printer.hint(
                "connect one with `sq connect facebook`, or `sq token import facebook` with a token on stdin",
            );
        }
        return Ok(Exit::Success);
    }
    // Masks come from the database, written when the token was saved (schema V4): listing
    // reads no secret. Only rows saved before V4 have none; those are masked from the store,
    // in one batched read, until they are saved again.
    let accounts: Vec<Account> = rows
        .iter()
        .filter(|r| r.profile.token_masked.is_none())
        .map(|r| r.profile.token_account(&r.connection))
        .collect();
    let opened = if accounts.is_empty() { Ok(None) } else { ctx.store().map(Some) };
    let masks: Result<BTreeMap<String, Option<String>>, Error> = match opened {
        Ok(None) => Ok(BTreeMap::new()),
        Ok(Some(_)) => {
            ctx.with_store(move |s| {
                let loaded = s.load_many(&accounts)?;
                Ok(accounts
                    .iter()
                    .zip(loaded)
                    .map(|(a, t)| (a.as_str().to_string(), t.map(|t| t.masked())))
                    .collect())
            })
            .await
        }
        Err(e) => Err(e),
    };
    let store_error = masks.as_ref().err().map(|e| e.message.clone());
    if let Some(e) = &store_error {
        ctx.printer.warn(format!("tokens can't be shown: {e}"));
    }
    let masks = masks.unwrap_or_default();
    let source = ctx.settings.store.value.name();
    let views: Vec<ProfileView> = rows
        .iter()
        .map(|r| {
            let p = &r.profile;
            let account = p.token_account(&r.connection);
            let expires = expires_at(r);
            ProfileView {
                profile: p.reference(),
                network: p.kind.name(),
                kind: p.kind.name(),
                via: via(r),
                name: sanitize(&p.display_name()),
                username: p.username.as_deref().map(sanitize),
                page_id: p.page_id.clone(),
                tasks: p.tasks.clone(),
                connection: ConnectionView {
                    network: r.connection.network.name(),
                    user_id: r.connection.meta_user_id.clone(),
                    name: r.connection.name.as_deref().map(sanitize),
                },
                token: TokenView {
                    source,
                    masked: p.token_masked.clone().or_else(|| masks.get(account.as_str()).cloned().flatten()),
                    expires_at: expires.and_then(rfc3339),
                    error: store_error.clone(),
                },
            }
        })
        .collect();
    if ctx.printer.is_json() {
        // The views as they are, not copied into a `serde_json::Value` first (memory at
        // 10,000 Pages, docs/performance.md).
        #[derive(serde::Serialize)]
        struct Listing<'a> {
            profiles: &'a [ProfileView],
        }
        ctx.printer.json(&Listing { profiles: &views })?;
        return Ok(Exit::Success);
    }
    let table: Vec<[String; 6]> = views
        .iter()
        .zip(&rows)
        .map(|(v, r)| {
            let kind = match v.via {
                Some(via) => format!("{} ({})", v.kind, via.replace('_', " ")),
                None => v.kind.to_string(),
            };
            let conn = format!(
                "{} {}",
                r.connection.network.name(),
                v.connection.name.clone().unwrap_or_else(|| v.connection.user_id.clone())
            );
            let token = match (&v.token.masked, &store_error) {
                (Some(m), _) => format!("{source} {m}"),
                (None, Some(_)) => format!("{source} ?"),
                (None, None) => "missing".to_string(),
            };
            let expiry = match (r.profile.via, expires_at(r)) {
                (_, Some(at)) => human_time(at).map(|t| format!("expires {t}")).unwrap_or_default(),
                (Via::Page, None) => "never expires".to_string(),
                (_, None) => "expiry unknown".to_string(),
            };
            [kind, v.name.clone(), v.profile.clone(), conn, token, expiry]
        })
        .collect();
    let width = crate::output::stdout_width(&ctx.env);
    for line in table_lines(table, width, &|t| ctx.printer.paint(crate::output::Style::Bold, t)) {
        ctx.printer.answer(line);
    }
    Ok(Exit::Success)
}

async fn remove(ctx: &Ctx, reference: &str) -> Result<Exit, Error> {
    let db = ctx.db()?;
    let row = db.resolve(reference)?;
    let all = db.list_profiles()?;
    let account = row.profile.token_account(&row.connection);
    // A Page token also serves the Instagram account linked through that Page, and a login's
    // user token serves every profile of the login: delete a secret only when nothing else
    // stored uses it.
    let still_used = |a: &Account| {
        all.iter().any(|o| o.profile.id != row.profile.id && o.profile.token_account(&o.connection) == *a)
    };
    let conn_account = row.connection.token_account();
    let conn_used =
        all.iter().any(|o| o.profile.id != row.profile.id && o.connection.id == row.connection.id);
    let mut to_delete = Vec::new();
    if !still_used(&account) {
        to_delete.push(account.clone());
    }
    if !conn_used && conn_account != account {
        to_delete.push(conn_account);
    }
    drop(db);
    // Secrets first: if the store fails, the profile stays listed (and its token with it)
    // rather than leaving a token behind that nothing points to.
    let deleted = {
        let list = to_delete.clone();
        ctx.with_store(move |s| Ok(s.delete_many(&list)?.into_iter().filter(|gone| *gone).count())).await?
    };
    let mut db = ctx.db()?;
    db.remove_profile(row.profile.kind, &row.profile.remote_id)?;
    let name = sanitize(&row.profile.display_name());
    let reference = row.profile.reference();
    ctx.printer.status(format!("Removed {name} ({reference}) and {deleted} stored secret(s)."));
    if to_delete.len() < 2 && !to_delete.contains(&account) {
        ctx.printer.status("Its token is kept: another profile still publishes with it.");
    }
    if ctx.printer.is_json() {
        ctx.printer.json(
            &serde_json::json!({"removed": {"profile": reference, "name": name, "secrets_deleted": deleted}}),
        )?;
    }
    Ok(Exit::Success)
}

/// The human table: a header, aligned columns, the NAME column ellipsized so each row fits
/// `width` (none: whole names, for pipes).
fn table_lines(rows: Vec<[String; 6]>, width: Option<usize>, bold: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut t = crate::output::Table::new(&["KIND", "NAME", "PROFILE", "CONNECTION", "TOKEN", "EXPIRES"])
        .flex(1)
        .flex(3)
        .flex(0);
    for r in rows {
        t.row(r.to_vec());
    }
    let mut lines = t.render(width, &|_, _, text| text);
    if let Some(h) = lines.first_mut() {
        *h = bold(h);
    }
    lines
}
