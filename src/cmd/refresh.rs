use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::db::{NewConnection, ProfileWithConnection};
use crate::diagnose::report::human_time;
use crate::error::{Error, Kind};
use crate::model::Network;
use crate::model::Via;
use crate::model::classify::FailureClass;
use crate::output::sanitize;
use crate::secret::{Secret, UserToken};
use serde_json::json;

/// Meta refreshes a long-lived Instagram Login / Threads token only once it is this old.
const MIN_AGE_SECS: i64 = 24 * 3600;

/// Refresh Instagram Login and Threads tokens inside their refresh window
///
/// Instagram Login and Threads long-lived tokens last 60 days and can be refreshed (for another
/// 60 days) once they are at least 24 hours old and not yet expired. Run this from cron, e.g.
/// weekly. A token that is too young is left alone (exit 0); an expired one can't be refreshed
/// any more and needs `sq reauth` (exit 4). Facebook tokens have no refresh: re-authorize them
/// with `sq reauth facebook`.
///
/// Examples:
///   sq refresh                       # every Instagram Login and Threads profile
///   sq refresh threads:7000000000000001 --json
///   0 9 * * 1  sq refresh --quiet    # crontab: Mondays at 9
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Profiles to refresh (default: all Instagram Login and Threads profiles)
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<String>,
}

enum Result1 {
    Refreshed { expires_at: Option<i64> },
    TooYoung { issued_at: i64 },
    Expired { at: Option<i64>, why: String },
    NotRefreshable { why: String },
    Unreachable { why: String },
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let db = ctx.db()?;
    let mut targets: Vec<ProfileWithConnection> = Vec::new();
    if args.profiles.is_empty() {
        targets.extend(db.list_profiles()?.into_iter().filter(|p| p.profile.via != Via::Page));
    } else {
        for a in &args.profiles {
            let p = db.resolve(a)?;
            if !targets.iter().any(|t| t.profile.id == p.profile.id) {
                targets.push(p);
            }
        }
    }
    drop(db);
    let now = ctx.clock.now_unix();
    let graph = ctx.graph(None)?;
    let mut rows = Vec::new();
    let mut done_connections: Vec<i64> = Vec::new();
    for t in &targets {
        let (p, c) = (&t.profile, &t.connection);
        let reference = p.reference();
        if p.via == Via::Page {
            rows.push((
                t,
                Result1::NotRefreshable {
                    why: format!(
                        "Facebook tokens have no refresh; if it stops working run: sq reauth {} {reference}",
                        p.kind.name()
                    ),
                },
            ));
            continue;
        }
        if done_connections.contains(&c.id) {
            continue;
        }
        done_connections.push(c.id);
        if let Some(exp) = c.token_expires_at.filter(|&e| e <= now) {
            rows.push((t, Result1::Expired { at: Some(exp), why: String::from("it expired") }));
            continue;
        }
        if let Some(issued) = c.issued_at.filter(|&i| now - i < MIN_AGE_SECS) {
            rows.push((t, Result1::TooYoung { issued_at: issued }));
            continue;
        }
        let account = c.token_account();
        let token: Option<Secret> = ctx.with_store(move |s| s.load(&account)).await?;
        let Some(token) = token else {
            rows.push((
                t,
                Result1::NotRefreshable {
                    why: format!(
                        "no token is stored for it; run: sq reauth {} {reference}",
                        c.network.name()
                    ),
                },
            ));
            continue;
        };
        // What is stored under an Instagram Login or Threads connection is its user token.
        let token = UserToken::from_secret(token);
        let answer = match c.network {
            Network::Threads => graph.threads_refresh(&token).await,
            _ => graph.instagram_refresh(&token).await,
        };
        match answer {
            Ok(new) => {
                let expires_at = new.expires_in.map(|s| now + s);
                let account = c.token_account();
                let secret = new.access_token.clone().into_secret();
                // The new token first; the metadata after, so a crash in between leaves a
                // working token with a stale (earlier) expiry, never the reverse.
                ctx.with_store(move |s| s.save(&account, &secret)).await?;
                let mut db = ctx.db()?;
                let conn = NewConnection {
                    network: c.network,
                    meta_user_id: c.meta_user_id.clone(),
                    app_id: c.app_id.clone(),
                    name: c.name.clone(),
                    scopes: if new.permissions.is_empty() { c.scopes.clone() } else { new.permissions.clone() },
                    declined_scopes: c.declined_scopes.clone(),
                    token_expires_at: expires_at,
                    data_access_expires_at: c.data_access_expires_at,
                    issued_at: Some(now),
                    login_kind: c.login_kind,
                };
                db.upsert_connection(&conn, now)?;
                let mut profile = crate::cmd::login::keep_profile(p);
                profile.token_expires_at = expires_at;
                profile.token_masked = Some(new.access_token.masked());
                db.upsert_profile(c.id, &profile, now)?;
                db.mark_verified(c.id, now)?;
                rows.push((t, Result1::Refreshed { expires_at }));
            }
            Err(e) if e.class() == FailureClass::Transient || e.class() == FailureClass::RateLimit => {
                rows.push((t, Result1::Unreachable { why: e.to_string() }));
            }
            Err(e) if e.token_death().is_some() => {
                let why = e.token_death().map(|d| d.describe().to_string()).unwrap_or_default();
                rows.push((t, Result1::Expired { at: c.token_expires_at, why }));
            }
            Err(e) => rows.push((t, Result1::NotRefreshable {
                why: format!(
                    "Meta refused the refresh ({}); a token refreshes only when it is at least 24 h old, not expired, and {} was granted",
                    sanitize(&e.to_string()),
                    if c.network == Network::Threads { "threads_basic" } else { "instagram_business_basic" }
                ),
            })),
        }
    }

    let mut exit = Exit::Success;
    let p = &ctx.printer;
    let mut out = Vec::new();
    for (t, r) in &rows {
        let reference = t.profile.reference();
        let name = sanitize(&t.profile.display_name());
        let net = t.connection.network.name();
        let reauth = format!(
            "sq reauth {} {reference}{}",
            t.profile.kind.name(),
            if net == "instagram" { " --instagram-login" } else { "" }
        );
        let (status, text, fix): (&str, String, Option<String>) = match r {
            Result1::Refreshed { expires_at } => (
                "refreshed",
                format!(
                    "refreshed; now valid until {}",
                    expires_at.and_then(human_time).unwrap_or_else(|| "(unknown)".into())
                ),
                None,
            ),
            Result1::TooYoung { issued_at } => (
                "too_early",
                format!(
                    "not refreshed: the token is less than 24 h old (issued {}); Meta refreshes it from {}",
                    human_time(*issued_at).unwrap_or_default(),
                    human_time(issued_at + MIN_AGE_SECS).unwrap_or_default()
                ),
                None,
            ),
            Result1::Expired { at, why } => {
                exit = Exit::Code(Kind::ActionRequired);
                (
                    "expired",
                    format!(
                        "can't be refreshed: {why}{}; an expired token can only be replaced by logging in again",
                        at.and_then(human_time).map(|t| format!(" ({t})")).unwrap_or_default()
                    ),
                    Some(reauth.clone()),
                )
            }
            Result1::NotRefreshable { why } => {
                if t.profile.via != Via::Page {
                    exit = Exit::Code(Kind::ActionRequired);
                }
                ("not_refreshable", why.clone(), (t.profile.via != Via::Page).then(|| reauth.clone()))
            }
            Result1::Unreachable { why } => {
                if exit == Exit::Success {
                    exit = Exit::Code(Kind::Unreachable);
                }
                ("unreachable", format!("Meta could not be reached ({why}); try again later"), None)
            }
        };
        out.push(
            json!({"profile": reference, "network": t.profile.kind.name(), "kind": t.profile.kind.name(),
                        "name": name, "status": status, "message": text, "fix": fix}),
        );
        if !p.is_json() {
            p.answer(format!("{reference} {name}: {text}"));
            if let Some(f) = fix {
                p.hint(format!("run: {f}"));
            }
        }
    }
    if p.is_json() {
        p.json(&json!({"profiles": out}))?;
    } else if rows.is_empty() {
        p.status("No Instagram Login or Threads profile to refresh.");
    }
    Ok(exit)
}
