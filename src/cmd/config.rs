// Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.
use crate::cmd::Exit;
use crate::config::{self, ConfigKey};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::model::Network;
use crate::secret::Secret;
use crate::settings::StoreKind;
use crate::store::Account;
use serde::Serialize;

/// Read and change sq's settings
///
/// Non-secret keys live in the config file (<config dir>/config.toml). App secrets
/// (*.app_secret) go to the credential store, are read only from standard input, and are
/// always shown masked. Environment variables (SQ_FACEBOOK_APP_ID, ...) win over both, and
/// `get`/`list` say so.
///
/// Examples:
///   sq config set facebook.app_id 1234567890
///   printf '%s' "$APP_SECRET" | sq config set facebook.app_secret --stdin
///   sq config set threads.app_id 9876543210
///   sq config get facebook.app_id
///   sq config list --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Set a key (secrets only with --stdin)
    ///
    /// Examples:
    ///   sq config set facebook.app_id 1234567890
    ///   printf '%s' "$APP_SECRET" | sq config set facebook.app_secret --stdin
    ///   sq config set redirect_uri https://localhost:8765/callback
    ///   sq config set credential_store file
    #[command(verbatim_doc_comment)]
    Set(SetArgs),
    /// Print a key's value (secrets masked); exit 1 when it is not set
    ///
    /// Examples:
    ///   sq config get facebook.app_id
    ///   sq config get facebook.app_secret --json
    #[command(verbatim_doc_comment)]
    Get(KeyArg),
    /// List every key with its value and where it comes from
    ///
    /// Examples:
    ///   sq config list
    ///   sq config list --json
    #[command(verbatim_doc_comment)]
    List,
    /// Remove a key from the config file (or a secret from the credential store)
    ///
    /// Examples:
    ///   sq config unset redirect_uri
    ///   sq config unset threads.app_secret
    #[command(verbatim_doc_comment)]
    Unset(KeyArg),
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// facebook.app_id, facebook.app_secret, instagram.app_id, instagram.app_secret,
    /// threads.app_id, threads.app_secret, facebook.redirect_uri, instagram.redirect_uri,
    /// threads.redirect_uri, redirect_uri, facebook.config_id, credential_store, graph_version
    pub key: String,
    /// The value (not allowed for secrets: use --stdin)
    #[arg(conflicts_with = "stdin")]
    pub value: Option<String>,
    /// Read the value from standard input (the first line)
    #[arg(long)]
    pub stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct KeyArg {
    pub key: String,
}

#[derive(Debug, Serialize)]
struct Entry {
    key: &'static str,
    /// The value, masked for secrets; null when not set.
    value: Option<String>,
    /// `env SQ_…`, `config file`, `credential store`, or null when not set.
    source: Option<String>,
    secret: bool,
    /// A value that the environment overrides (shown so the override is no surprise).
    #[serde(skip_serializing_if = "Option::is_none")]
    overridden: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    match args.command {
        ConfigCommand::Set(a) => set(ctx, a).await,
        ConfigCommand::Get(a) => get(ctx, &a.key).await,
        ConfigCommand::List => list(ctx).await,
        ConfigCommand::Unset(a) => unset(ctx, &a.key).await,
    }
}

/// `facebook.redirect_uri` & co: their value shown is the one the login uses.
fn redirect_network(name: &str) -> Option<Network> {
    Network::ALL.into_iter().find(|n| crate::settings::redirect_key(*n) == name)
}

fn secret_network(key: &ConfigKey) -> Option<Network> {
    key.secret.then(|| key.name.split('.').next().and_then(Network::parse)).flatten()
}

fn read_stdin_line() -> Result<String, Error> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Error::io("reading standard input", e))?;
    Ok(line.trim().to_string())
}

fn validate(key: &ConfigKey, value: &str) -> Result<(), Error> {
    let bad = |why: &str| Error::usage(format!("{} can't be {value:?}: {why}", key.name));
    match key.name {
        "facebook.app_id" | "instagram.app_id" | "threads.app_id"
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) =>
        {
            return Err(bad("an app id is a number (App settings → Basic → App ID)"));
        }
        "credential_store" if StoreKind::parse(value).is_none() => {
            return Err(bad("it is one of: keyring, file"));
        }
        "graph_version" => {
            crate::meta::hosts::MetaEndpoints::new(None, Some(value))?;
        }
        "redirect_uri" | "facebook.redirect_uri" => {
            crate::auth::RedirectUri::parse(value)?;
        }
        "instagram.redirect_uri" | "threads.redirect_uri" => {
            let uri = crate::auth::RedirectUri::parse(value)?;
            if !uri.is_https() {
                // §14: these dashboards refuse to save an http redirect URI, localhost included.
                return Err(bad(&format!(
                    "{} accepts only https redirect URIs, localhost included (use https://localhost:{}{})",
                    if key.name.starts_with("threads") { "Threads" } else { "Instagram Login" },
                    uri.port(),
                    uri.path()
                )));
            }
        }
        "facebook.config_id" if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(bad(
                "a login configuration id is a number (Facebook Login for Business → Configurations)",
            ));
        }
        _ => {}
    }
    Ok(())
}

async fn set(ctx: &Ctx, a: SetArgs) -> Result<Exit, Error> {
    let key = config::key(&a.key)?;
    if let Some(network) = secret_network(key) {
        if a.value.is_some() {
            return Err(Error::usage(format!(
                "{} is a secret and is never taken from the command line (it would stay in your shell history and be visible to other users in the process list)",
                key.name
            ))
            .hint(format!("printf '%s' \"$SECRET\" | sq config set {} --stdin", key.name)));
        }
        if !a.stdin {
            return Err(Error::usage(format!("{} needs --stdin", key.name)));
        }
        let value = read_stdin_line()?;
        if value.is_empty() {
            return Err(Error::usage("standard input was empty; nothing was stored"));
        }
        let secret = Secret::new(value);
        let account = Account::app_secret(network);
        ctx.with_store(move |s| s.save(&account, &secret)).await?;
        ctx.printer.status(format!("Stored {} in the {}.", key.name, ctx.store()?.describe()));
        if let Some(env) = key.env.filter(|e| ctx.env.get(e).is_some()) {
            ctx.printer.warn(format!("{env} is set and overrides the stored value"));
        }
        if ctx.printer.is_json() {
            ctx.printer
                .json(&serde_json::json!({"key": key.name, "stored_in": ctx.store()?.kind().name()}))?;
        }
        return Ok(Exit::Success);
    }
    let value = match (a.value, a.stdin) {
        (Some(v), _) => v,
        (None, true) => read_stdin_line()?,
        (None, false) => return Err(Error::usage(format!("give a value for {}, or --stdin", key.name))),
    };
    validate(key, &value)?;
    let mut file = ctx.settings.config.clone();
    file.set(key.name, &value);
    file.save()?;
    ctx.printer.status(format!("Set {} = {value} in {}", key.name, file.path.display()));
    if let Some(env) = key.env.filter(|e| ctx.env.get(e).is_some()) {
        ctx.printer.warn(format!("{env} is set and overrides this value"));
    }
    if ctx.printer.is_json() {
        ctx.printer.json(&serde_json::json!({"key": key.name, "value": value, "source": "config file"}))?;
    }
    Ok(Exit::Success)
}

async fn entry(ctx: &Ctx, key: &'static ConfigKey) -> Result<Entry, Error> {
    let from_env = key.env.and_then(|e| ctx.env.get(e).map(|v| (e, v.to_string())));
    if let Some(network) = secret_network(key) {
        let stored = {
            let account = Account::app_secret(network);
            ctx.with_store(move |s| s.load(&account)).await?
        };
        let store_name = "credential store".to_string();
        return Ok(match (from_env, stored) {
            (Some((env, v)), stored) => Entry {
                key: key.name,
                value: Some(Secret::new(v).masked()),
                source: Some(format!("env {env}")),
                secret: true,
                overridden: stored.map(|s| s.masked()),
            },
            (None, Some(s)) => Entry {
                key: key.name,
                value: Some(s.masked()),
                source: Some(store_name),
                secret: true,
                overridden: None,
            },
            (None, None) => {
                Entry { key: key.name, value: None, source: None, secret: true, overridden: None }
            }
        });
    }
    if let Some(network) = redirect_network(key.name) {
        // What the login uses, resolved the way `sq reauth` resolves it, with where it came from.
        let r = ctx.settings.redirect_for(network);
        return Ok(Entry {
            key: key.name,
            value: Some(r.value.clone()),
            source: Some(match &r.skipped_shared {
                Some(_) => "default; redirect_uri is http, which this login refuses".to_string(),
                None => r.source(),
            }),
            secret: false,
            overridden: None,
        });
    }
    let in_file = ctx.settings.config.get(key.name);
    let default = match key.name {
        "redirect_uri" => Some(crate::settings::DEFAULT_REDIRECT_URI),
        "credential_store" => Some("keyring"),
        "graph_version" => Some(crate::meta::hosts::DEFAULT_GRAPH_VERSION),
        _ => None,
    };
    Ok(match from_env {
        Some((env, v)) => Entry {
            key: key.name,
            value: Some(v),
            source: Some(format!("env {env}")),
            secret: false,
            overridden: in_file,
        },
        None => Entry {
            key: key.name,
            source: match (&in_file, default) {
                (Some(_), _) => Some("config file".to_string()),
                (None, Some(_)) => Some("default".to_string()),
                (None, None) => None,
            },
            value: in_file.or(default.map(str::to_string)),
            secret: false,
            overridden: None,
        },
    })
}

async fn get(ctx: &Ctx, name: &str) -> Result<Exit, Error> {
    let key = config::key(name)?;
    let e = entry(ctx, key).await?;
    match (&e.value, &e.source) {
        (Some(v), Some(source)) => {
            // One JSON document: the entry here, or only the error below (spec §2).
            if ctx.printer.is_json() {
                ctx.printer.json(&e)?;
            } else {
                ctx.printer.answer(v);
            }
            let mut note = format!("(from {source}");
            if let Some(o) = &e.overridden {
                note.push_str(&format!("; overrides {o}"));
            }
            note.push(')');
            ctx.printer.verbose(1, note);
            if e.overridden.is_some() {
                ctx.printer
                    .status(format!("{} comes from {source}, which overrides the stored value", key.name));
            }
            Ok(Exit::Success)
        }
        _ => Err(Error::failure("not_set", format!("{} is not set", key.name)).hint(if key.secret {
            format!("printf '%s' \"$SECRET\" | sq config set {} --stdin", key.name)
        } else {
            format!("sq config set {} <VALUE>", key.name)
        })),
    }
}

async fn list(ctx: &Ctx) -> Result<Exit, Error> {
    let mut entries = Vec::new();
    for key in config::KEYS {
        entries.push(entry(ctx, key).await?);
    }
    if ctx.printer.is_json() {
        ctx.printer.json(&serde_json::json!({"config": entries}))?;
        return Ok(Exit::Success);
    }
    let width = config::KEYS.iter().map(|k| k.name.len()).max().unwrap_or(10);
    for e in &entries {
        let value = e.value.clone().unwrap_or_else(|| "-".to_string());
        let mut line = format!("{:<width$}  {value}", e.key);
        if let Some(source) = &e.source {
            line.push_str(&format!("  ({source}"));
            if let Some(o) = &e.overridden {
                line.push_str(&format!("; overrides {o}"));
            }
            line.push(')');
        }
        ctx.printer.answer(line);
    }
    Ok(Exit::Success)
}

async fn unset(ctx: &Ctx, name: &str) -> Result<Exit, Error> {
    let key = config::key(name)?;
    let removed = if let Some(network) = secret_network(key) {
        let account = Account::app_secret(network);
        ctx.with_store(move |s| s.delete(&account)).await?
    } else {
        let mut file = ctx.settings.config.clone();
        let removed = file.unset(key.name);
        if removed {
            file.save()?;
        }
        removed
    };
    if removed {
        ctx.printer.status(format!("Removed {}.", key.name));
    } else {
        ctx.printer.status(format!("{} was not set.", key.name));
    }
    if ctx.printer.is_json() {
        ctx.printer.json(&serde_json::json!({"key": key.name, "removed": removed}))?;
    }
    Ok(Exit::Success)
}
