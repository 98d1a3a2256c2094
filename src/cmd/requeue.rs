use crate::cmd::Exit;
use crate::cmd::queue::{parse_duration, profile_ref, time_str};
use crate::ctx::Ctx;
use crate::db::Db;
use crate::db::queue::{FailedFilter, PostState, RequeueAt, Selection};
use crate::diagnose::{Code, Status};
use crate::error::{Error, Kind};
use crate::model::Network;
use crate::model::classify::FailureClass;
use crate::output::sanitize;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Put failed posts back on the queue, once their profile is healthy
///
/// `--failed` selects failed posts (all profiles, or the PROFILEs named), checks each
/// profile's health first (the `sq diagnose` engine), and moves the posts of healthy profiles
/// back to `queued`. Posts of profiles that still need action (or whose health Meta could not
/// confirm) are held back and listed with the fix (exit 4), unless --force. Failures of class
/// media or content are requeued only when named with --class (the post itself must change
/// first). History is kept: a requeue is a history row and attempts keep counting.
///
/// `sq requeue <POST-ID>...` requeues the named failed posts, whatever their class. A post
/// whose outcome is `unknown` is never requeued blindly: `sq publish` reconciles it with Meta.
///
/// Examples:
///   sq requeue --failed
///   sq requeue --failed facebook:777 --since 24h
///   sq requeue --failed --network instagram --class media --at original
///   sq requeue --failed --dry-run --json
///   sq requeue --failed --force
///   sq requeue 41 42
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Select failed posts (by profile and the filters below)
    #[arg(long)]
    pub failed: bool,
    /// With --failed: profiles (default: all). Without: the ids of posts to requeue
    #[arg(value_name = "PROFILE|POST-ID")]
    pub targets: Vec<String>,
    /// Only posts of this network
    #[arg(long, value_enum, requires = "failed")]
    pub network: Option<Network>,
    /// Only posts that failed within this long (e.g. 24h, 7d)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "failed")]
    pub since: Option<Duration>,
    /// Only these failure classes (repeatable). Default: auth, rate_limit, transient, unknown
    #[arg(long = "class", value_enum, value_name = "CLASS", requires = "failed")]
    pub classes: Vec<ClassArg>,
    /// When the posts go out: now, or their original time when that is still ahead
    #[arg(long, value_enum, default_value_t = AtArg::Now)]
    pub at: AtArg,
    /// Show what would be requeued and held; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Requeue without the health check (posts of a broken profile will fail again)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClassArg {
    Auth,
    #[value(name = "rate_limit", alias = "rate-limit")]
    RateLimit,
    Transient,
    Media,
    Content,
    Unknown,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AtArg {
    Now,
    Original,
}

/// The classes `--failed` takes without `--class`: the ones a healthy profile (or time)
/// fixes. Media and content failures need the post changed first.
const DEFAULT_CLASSES: [FailureClass; 4] =
    [FailureClass::Auth, FailureClass::RateLimit, FailureClass::Transient, FailureClass::Unknown];

fn classes(args: &[ClassArg]) -> Option<BTreeSet<&'static str>> {
    if args.contains(&ClassArg::All) {
        return None;
    }
    let list: Vec<FailureClass> = if args.is_empty() {
        DEFAULT_CLASSES.to_vec()
    } else {
        args.iter()
            .filter_map(|c| match c {
                ClassArg::Auth => Some(FailureClass::Auth),
                ClassArg::RateLimit => Some(FailureClass::RateLimit),
                ClassArg::Transient => Some(FailureClass::Transient),
                ClassArg::Media => Some(FailureClass::Media),
                ClassArg::Content => Some(FailureClass::Content),
                ClassArg::Unknown => Some(FailureClass::Unknown),
                ClassArg::All => None,
            })
            .collect()
    };
    Some(list.into_iter().map(FailureClass::as_str).collect())
}

#[derive(Debug, Serialize)]
struct Requeued<'a> {
    id: i64,
    profile: &'a str,
    scheduled_at: Cow<'a, str>,
}

#[derive(Debug, Clone, Serialize)]
struct Held {
    id: i64,
    profile: String,
    reason: String,
    fix: String,
}

#[derive(Debug, Serialize)]
struct Skipped {
    id: i64,
    profile: String,
    state: PostState,
    reason: String,
}

#[derive(Debug, Serialize)]
struct Answer<'a> {
    dry_run: bool,
    requeued: Vec<Requeued<'a>>,
    held: Vec<Held>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<Skipped>,
}

/// The posts a requeue moves (or would), as the database gives them: each profile's name once.
#[derive(Default)]
struct Picked {
    profiles: Vec<String>,
    /// (id, index in `profiles`, original time).
    rows: Vec<(i64, usize, i64)>,
}

impl Picked {
    fn push(&mut self, id: i64, profile: &str, original_at: i64) {
        if self.profiles.last().map(String::as_str) != Some(profile) {
            self.profiles.push(profile.to_string());
        }
        self.rows.push((id, self.profiles.len() - 1, original_at));
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let now = ctx.clock.now_unix();
    let db = ctx.db()?;
    // Before anything is read for the answer or written: a damaged page is a damaged database
    // (exit 1 with what to do), never a profile "not connected any more" (docs/queue.md). The
    // tables read to decide (profiles, connections) and the freelist and schema a write
    // relies on are checked whole; the posts and their history are checked by the
    // transaction that reads them, which rolls back whole on any damage it meets.
    db.quick_check_tables(&REQUEUE_CHECKED)?;
    let mut skipped = Vec::new();
    let mut held = Vec::new();
    let mut filter = FailedFilter::default();
    let mut ids = Vec::new();
    // The profiles whose posts would be requeued, for the health check.
    let profiles: BTreeSet<String> = if args.failed {
        filter.profiles = args.targets.iter().map(|p| profile_ref(&db, p)).collect::<Result<Vec<_>, _>>()?;
        filter.since = args.since.map(|d| now.saturating_sub(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
        filter.network = args.network;
        filter.classes = classes(&args.classes).map(|c| c.into_iter().collect());
        if args.force { BTreeSet::new() } else { db.failed_profiles(&filter, now)?.into_iter().collect() }
    } else {
        if args.targets.is_empty() {
            return Err(Error::usage("name the posts to requeue, or select them with --failed")
                .hint("sq requeue --failed    or    sq requeue 41 42"));
        }
        let named = args
            .targets
            .iter()
            .map(|t| {
                t.trim().trim_start_matches('#').parse::<i64>().map_err(|_| {
                    Error::usage(format!("{t:?} is not a post id"))
                        .hint("to select by profile, add --failed: sq requeue --failed facebook:777")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let found = db.posts_by_id(&named)?;
        if let Some(missing) = named.iter().find(|id| !found.iter().any(|c| c.id == **id)) {
            return Err(Error::usage(format!("there is no post #{missing}"))
                .hint("`sq queue list --state failed` shows the failed posts"));
        }
        let mut profiles = BTreeSet::new();
        for c in found {
            match c.state {
                PostState::Failed => {
                    ids.push(c.id);
                    profiles.insert(c.profile);
                }
                PostState::Unknown => held.push(Held {
                    id: c.id,
                    profile: c.profile.clone(),
                    reason: "a request went out with no answer; it must be reconciled with Meta before anything is sent again".into(),
                    fix: format!("sq publish {}", c.profile),
                }),
                state => skipped.push(Skipped {
                    id: c.id,
                    profile: c.profile,
                    state,
                    reason: format!("only failed posts are requeued; this one is {state}"),
                }),
            }
        }
        profiles
    };
    let sel = if args.failed { Selection::Failed(&filter) } else { Selection::Ids(&ids) };

    let at = match args.at {
        AtArg::Now => RequeueAt::Now,
        AtArg::Original => RequeueAt::OriginalIfAhead,
    };
    let checked = !args.force && !profiles.is_empty();
    // The health check and the write are independent until the commit, so they overlap: the
    // requeue's transaction runs its statements on its own connection (a blocking task) while
    // the Graph requests are in flight, and commits only when every profile it touched checked
    // healthy; otherwise it rolls back whole and the posts of the healthy profiles are
    // requeued after the verdicts, as without the overlap. Until it commits nothing of it is
    // visible or durable, so a post is never requeued for a profile that was not checked.
    let ahead = (checked && !args.dry_run)
        .then(|| ctx.db().map(|db| ahead(db, &filter, &ids, args.failed, &profiles, at, now)));
    let ahead = ahead.transpose()?;

    // The health check, once per profile.
    let verdicts = if checked {
        if !ctx.printer.is_json() {
            ctx.printer
                .status(format!("checking {} profile(s) with Meta before requeueing…", profiles.len()));
        }
        health(ctx, &db, &profiles, now).await
    } else {
        Ok(BTreeMap::new())
    };
    let mut picked = Picked::default();
    let mut written = false;
    // The connection whose requeue committed: its checkpoint runs while the answer prints.
    let mut committed: Option<Db> = None;
    if let Some((go, task)) = ahead {
        let _ = go.send(matches!(&verdicts, Ok(v) if v.is_empty()));
        drop(go);
        let done =
            task.await.map_err(|e| Error::failure("internal", format!("the requeue's write failed: {e}")))?;
        // The health check's own error first (below), as when the write came after it.
        if verdicts.is_ok() {
            let (p, ahead_db) = done?;
            if let Some(p) = p {
                picked = p;
                written = true;
                committed = Some(ahead_db);
            }
        }
    }
    let verdicts = verdicts?;
    drop(db);

    // Only the posts of profiles that checked healthy are taken (all with --force): a post of
    // a profile that was not checked is never requeued by this run.
    let healthy: Option<Vec<String>> =
        (!args.force).then(|| profiles.iter().filter(|p| !verdicts.contains_key(*p)).cloned().collect());
    let take = !written && (args.failed || !ids.is_empty()) && healthy.as_ref().is_none_or(|h| !h.is_empty());
    if take || !verdicts.is_empty() {
        let mut db = ctx.db()?;
        if take {
            let mut each = |id, profile: &str, original_at| picked.push(id, profile, original_at);
            if args.dry_run {
                db.each_failed(&sel, healthy.as_deref(), now, &mut each)?;
            } else {
                let reason = if args.force { "requeued with --force" } else { HEALTHY };
                db.requeue(&sel, healthy.as_deref(), at, reason, now, &mut each, &mut || true)?;
            }
        }
        if !verdicts.is_empty() {
            let broken: Vec<String> = verdicts.keys().cloned().collect();
            db.each_failed(&sel, Some(&broken), now, &mut |id, profile, _| {
                if let Some((reason, fix)) = verdicts.get(profile) {
                    held.push(Held {
                        id,
                        profile: profile.to_string(),
                        reason: reason.clone(),
                        fix: fix.clone(),
                    });
                }
            })?;
        }
        if take && !args.dry_run {
            committed = Some(db);
        }
    }

    let now_str = time_str(now);
    let requeued = picked
        .rows
        .iter()
        .map(|&(id, p, original_at)| Requeued {
            id,
            profile: &picked.profiles[p],
            scheduled_at: if at == RequeueAt::OriginalIfAhead && original_at > now {
                Cow::Owned(time_str(original_at))
            } else {
                Cow::Borrowed(now_str.as_str())
            },
        })
        .collect();
    let answer = Answer { dry_run: args.dry_run, requeued, held, skipped };
    // The requeue is committed; copying its pages back into the database file (a fifth of
    // its time at 100,000 posts, `Db::checkpoint`) runs beside the printing of the answer,
    // and the command ends when both have. A checkpoint that fails loses nothing: the
    // commit is in the WAL, which the next sq copies back.
    let checkpoint = committed.map(|db| tokio::task::spawn_blocking(move || db.checkpoint()));
    print(ctx, &answer);
    if let Some(checkpoint) = checkpoint {
        match checkpoint.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => ctx.printer.warn(format!(
                "the requeue is saved, but its journal could not be copied back into the database yet ({e}); the next sq command does it"
            )),
            Err(e) => ctx.printer.warn(format!("the requeue is saved; its checkpoint did not finish: {e}")),
        }
    }
    if !answer.held.is_empty() {
        Ok(Exit::Code(Kind::ActionRequired))
    } else if !answer.skipped.is_empty() {
        Ok(Exit::Code(Kind::Failure))
    } else {
        Ok(Exit::Success)
    }
}

/// The history message of a post requeued after its profile's health check.
const HEALTHY: &str = "requeued; the profile checked healthy";

/// How long the write started ahead of the health check keeps the write lock once its
/// statements are done, waiting for the verdicts, before it rolls back and lets other sq
/// processes (`sq publish`, whose busy timeout is `db::BUSY_TIMEOUT`) have the lock.
const HOLD: Duration = Duration::from_millis(500);

type Ahead = (
    std::sync::mpsc::Sender<bool>,
    tokio::task::JoinHandle<Result<(Option<Picked>, Db), crate::db::DbError>>,
);

/// Starts the requeue of every checked profile's posts on `db` (a connection of its own) in a
/// blocking task; it commits only when `true` comes on the channel (every profile healthy),
/// and gives back what it moved (`None`: rolled back, nothing written) with the connection,
/// whose checkpoint is still to run (`Db::requeue`).
fn ahead(
    mut db: Db,
    filter: &FailedFilter,
    ids: &[i64],
    failed: bool,
    profiles: &BTreeSet<String>,
    at: RequeueAt,
    now: i64,
) -> Ahead {
    let (go, verdict) = std::sync::mpsc::channel::<bool>();
    let (filter, ids) = (filter.clone(), ids.to_vec());
    let only: Vec<String> = profiles.iter().cloned().collect();
    let task = tokio::task::spawn_blocking(move || {
        let sel = if failed { Selection::Failed(&filter) } else { Selection::Ids(&ids) };
        let mut picked = Picked::default();
        let done = db.requeue(
            &sel,
            Some(&only),
            at,
            HEALTHY,
            now,
            &mut |id, profile, original_at| picked.push(id, profile, original_at),
            &mut || verdict.recv_timeout(HOLD) == Ok(true),
        )?;
        Ok((done.map(|_| picked), db))
    });
    (go, task)
}

/// What requeue checks whole before it reads for its answer: the schema (with the freelist:
/// naming `sqlite_schema` includes it) and the tables the health check and the profile
/// references read. See `Db::quick_check_tables`.
const REQUEUE_CHECKED: [&str; 3] = ["sqlite_schema", "connections", "profiles"];

fn print(ctx: &Ctx, a: &Answer) {
    let p = &ctx.printer;
    if p.is_json() {
        let _ = p.json(a);
        return;
    }
    let verb = if a.dry_run { "would requeue" } else { "requeued" };
    for r in &a.requeued {
        p.answer(format!("{verb} #{}  {}  at {}", r.id, r.profile, r.scheduled_at));
    }
    for h in &a.held {
        p.answer(format!("held #{}  {}: {}", h.id, h.profile, sanitize(&h.reason)));
        p.answer(format!("    fix: {}", h.fix));
    }
    for s in &a.skipped {
        p.answer(format!("skipped #{}  {}: {}", s.id, s.profile, s.reason));
    }
    if a.requeued.is_empty() && a.held.is_empty() && a.skipped.is_empty() {
        p.status("no failed posts match");
        p.hint("media and content failures are requeued only when named: --class media / --class content");
    } else {
        p.status(format!(
            "{} {} post(s), held {}{}",
            verb,
            a.requeued.len(),
            a.held.len(),
            if a.dry_run { " (dry run: nothing changed)" } else { "" }
        ));
    }
    if !a.requeued.is_empty() && !a.dry_run {
        p.hint("`sq publish` sends them");
    }
}

/// The profiles that are not healthy, with (reason, fix): the diagnose engine's verdict
/// (`broken`, or `unknown` when Meta could not be asked), or "not connected".
async fn health(
    ctx: &Ctx,
    db: &Db,
    refs: &BTreeSet<String>,
    now: i64,
) -> Result<BTreeMap<String, (String, String)>, Error> {
    let mut out = BTreeMap::new();
    let mut found = Vec::new();
    for r in refs {
        match db.resolve(r) {
            Ok(f) => found.push(f),
            // Only a profile that is really gone is "not connected"; a database that can't be
            // read is that database's error.
            Err(crate::db::DbError::UnknownProfile { .. }) => {
                let net = r.split(':').next().unwrap_or("facebook");
                out.insert(
                    r.clone(),
                    ("the profile is not connected".into(), format!("sq reauth {net} {r}")),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    if found.is_empty() {
        return Ok(out);
    }
    let facts = crate::cmd::diagnose::local::facts_for(
        ctx,
        found,
        crate::cmd::diagnose::local::Scope::Health,
        &|_, _| {},
    )
    .await?;
    let report = crate::diagnose::diagnose(&facts, now);
    for pr in &report.profiles {
        if !matches!(pr.status, Status::Broken | Status::Unknown) {
            continue;
        }
        let finding = pr
            .findings
            .iter()
            .find(|f| f.needs_action())
            .or_else(|| pr.findings.iter().find(|f| f.code == Code::MetaUnreachable));
        let (reason, fix) = match finding {
            Some(f) => {
                let fix = f.fix.command.clone().unwrap_or_else(|| f.fix.steps.join("; "));
                (f.summary.clone(), fix)
            }
            None => (format!("the profile is {}", pr.status.as_str()), format!("sq diagnose {}", pr.profile)),
        };
        let fix = if fix.is_empty() { format!("sq diagnose {}", pr.profile) } else { fix };
        out.insert(pr.profile.clone(), (reason, fix));
    }
    Ok(out)
}
