//! `sq diagnose`: collection ([`collect`], with the local facts of [`local`]) feeds the pure
//! engine (`crate::diagnose`), whose report is printed as JSON or by [`render`], and whose
//! verdict becomes the exit code ([`ReportExit`]).

pub mod collect;
pub mod local;
pub mod render;

pub use render::{render_human, render_human_width};

use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::db::ProfileWithConnection;
use crate::diagnose::{Facts, Report, Verdict, diagnose};
use crate::error::{Error, Kind};
use crate::model::Network;
use crate::output::Progress;
use crate::secret::Secret;

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
    // The report is all that is printed; at 10,000 Pages the facts are as large again.
    drop(facts);
    print_report(ctx, &report, args.show_token)?;
    Ok(report.exit())
}

/// The exit rule of the spec for a diagnosis: 0 when nothing needs action (warnings and infos
/// allowed), 4 when something does, 3 when some health is unknown and nothing is known broken.
pub fn exit_for(verdict: Verdict) -> Exit {
    match verdict {
        Verdict::Healthy => Exit::Success,
        Verdict::ActionRequired => Exit::Code(Kind::ActionRequired),
        Verdict::Unreachable => Exit::Code(Kind::Unreachable),
    }
}

/// How the commands that end on a diagnosis (`diagnose`, reauth's closing diagnose) turn its
/// report into their exit.
pub trait ReportExit {
    fn exit(&self) -> Exit;

    fn exit_code(&self) -> u8 {
        self.exit().code()
    }
}

impl ReportExit for Report {
    fn exit(&self) -> Exit {
        exit_for(self.verdict())
    }
}

fn print_report(ctx: &Ctx, report: &Report, show_token: bool) -> Result<(), Error> {
    if ctx.printer.is_json() {
        return ctx.printer.json(report);
    }
    let printer = &ctx.printer;
    let width = crate::output::stdout_width(&ctx.env);
    let lines = render_human_width(report, &|style, text| printer.paint(style, text), width);
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
    let apps = local::apps(ctx, store_ok).await;
    let client = ctx.graph(None)?;
    let progress = Progress::counter(&ctx.printer, "checking tokens");
    let facts =
        collect::collect_for_token(&client, token, network, &apps, &|done, total| progress.set(done, total))
            .await;
    progress.finish();
    Ok(facts)
}

async fn stored_facts(ctx: &Ctx, args: &Args) -> Result<Facts, Error> {
    let db = ctx.db()?;
    let mut rows = if args.profiles.is_empty() {
        db.list_profiles()?
    } else {
        let mut rows: Vec<ProfileWithConnection> = Vec::new();
        for r in &args.profiles {
            let row = db.resolve(r)?;
            if !rows.iter().any(|x| x.profile.id == row.profile.id) {
                rows.push(row);
            }
        }
        rows
    };
    drop(db);
    if let Some(n) = args.network {
        rows.retain(|r| r.profile.kind == n);
    }
    if rows.is_empty() && !ctx.printer.is_json() {
        ctx.printer.status(if args.profiles.is_empty() && args.network.is_none() {
            "No profiles yet: connect one with `sq connect facebook` (or `sq token import facebook` with a token on stdin)."
        } else {
            "No stored profile matches."
        });
    }
    let progress = Progress::counter(&ctx.printer, "checking tokens");
    let facts =
        local::facts_for(ctx, rows, local::Scope::Report, &|done, total| progress.set(done, total)).await?;
    progress.finish();
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::fixtures::*;
    use crate::diagnose::*;

    #[test]
    fn exit_codes() {
        let exit = |profiles: Vec<ProfileFacts>, env: EnvironmentFacts| {
            let mut f = facts(profiles);
            f.environment = env;
            diagnose(&f, NOW).exit()
        };
        let mut broken = page();
        broken.token = dead(190, Some(460), "");
        let mut unknown = threads();
        unknown.token = unreachable();
        let mut warning = page();
        warning.rate = Some(RateUsage { max_pct: Some(90), ..RateUsage::default() });
        let none = EnvironmentFacts::default;

        assert_eq!(exit(vec![page(), warning.clone()], none()), Exit::Success);
        assert_eq!(exit(vec![page(), unknown.clone()], none()), Exit::Code(Kind::Unreachable));
        // Known broken wins over unknown: waiting alone would not help.
        assert_eq!(exit(vec![broken, unknown], none()), Exit::Code(Kind::ActionRequired));
        let store = EnvironmentFacts {
            store: Some(StoreProbe::Failed {
                backend: String::from("Secret Service"),
                reason: String::from("locked"),
            }),
            ..none()
        };
        assert_eq!(exit(vec![page()], store), Exit::Code(Kind::ActionRequired));
        let port = EnvironmentFacts {
            redirect: Some(RedirectFacts {
                uri: String::from("http://localhost:1/callback"),
                port: 1,
                port_busy: true,
            }),
            ..none()
        };
        assert_eq!(exit(vec![page()], port), Exit::Success);
        let meta = EnvironmentFacts {
            meta: Some(Reachability::Unreachable { reason: String::from("dns") }),
            ..none()
        };
        assert_eq!(exit(vec![], meta), Exit::Code(Kind::Unreachable));
        assert_eq!(diagnose(&facts(vec![]), NOW).exit_code(), 0);
    }

    #[test]
    fn verdicts_to_exit_codes() {
        let rows = [(Verdict::Healthy, 0), (Verdict::ActionRequired, 4), (Verdict::Unreachable, 3)];
        for (verdict, code) in rows {
            assert_eq!(exit_for(verdict).code(), code, "{verdict:?}");
        }
    }
}
