use crate::cmd::Exit;
use crate::cmd::queue::{parse_duration, post_line, profile_ref, publish_kind, time_str};
use crate::ctx::{Clock, Ctx};
use crate::db::Db;
use crate::db::queue::{ErrorRecord, Outcome, Post, PostState, Recovery};
use crate::error::{Error, Kind};
use crate::model::Network;
use crate::model::classify::FailureClass;
use crate::output::{Printer, sanitize};
use crate::publish::journal_db::DbJournal;
use crate::publish::{
    Failure, PostRequest, PublishFailure, PublishOptions, Publisher, Reconciled, Recorded, RetryPolicy,
};
use crate::secret::Secret;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// Publish the posts that are due
///
/// Facebook posts go to the Page's feed (or photos); Instagram and Threads posts go through a
/// container that is polled until ready, then published. Each post is claimed in the database
/// before anything is sent and every step is recorded first, so two `sq publish` runs never
/// send the same post, and a run that dies leaves the post `unknown` to be reconciled with
/// Meta (never blindly resent). Posts of different profiles go out concurrently; each
/// profile's posts go out in order.
///
/// Transient and rate-limit failures go back on the queue with a later time (bounded backoff,
/// honouring Meta's usage headers and estimated time to regain access). An auth failure marks
/// the post failed and holds the profile's other posts until it is re-authorized.
///
/// Exit: 0 all due posts published; 1 a post failed for content/media reasons; 4 a profile
/// needs re-authorization (posts failed as auth or held); 3 only retries or unknown outcomes
/// are left (Meta unreachable, throttled, transient). 1 wins over 4, 4 over 3.
///
/// Examples:
///   sq publish
///   sq publish facebook:777 --dry-run
///   sq publish --limit 10 --json
///   sq publish --watch --interval 1m
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Keep running: publish due posts every --interval until stopped (Ctrl-C / SIGTERM stop it
    /// cleanly)
    #[arg(long)]
    pub watch: bool,
    /// Time between passes with --watch (e.g. 30s, 1m, 5m)
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    pub interval: Duration,
    /// Only these profiles (default: all)
    pub profiles: Vec<String>,
    /// Show what would be published; send nothing, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Publish at most N posts in this run (per pass with --watch)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// How long a claim on a post lasts without a heartbeat before another run treats its
    /// process as dead (tests use a short one)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration, hide = true)]
    pub lease: Duration,
}

/// Profiles published to at once. Each holds at most one request in flight (per-profile
/// order), and the Graph client caps HTTP concurrency on its own.
const CONCURRENCY: usize = 12;
/// Automatic retries of one post before it is marked failed (the user can requeue it).
const MAX_AUTO_RETRIES: i64 = 8;
/// After Ctrl-C/SIGTERM, in-flight steps get this long to finish before they are abandoned
/// (abandoned = `queued` again if nothing went out, else `unknown`).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // This command handles its own signals (cli.rs `handles_signals`): stop claiming, let the
    // in-flight steps finish (bounded), record everything, then exit.
    let printer = ctx.printer.clone();
    let stop = crate::signal::Shutdown::install();
    let signals = tokio::spawn(async move {
        stop.wait().await;
        printer.status("stopping: finishing the posts in flight (at most 10 s; the rest are put back)");
        let _ = stop_tx.send(true);
    });
    let result = run_passes(ctx, &args, stop_rx.clone()).await;
    signals.abort();
    let stopped = *stop_rx.borrow();
    match result {
        Ok(_) if stopped && !args.watch => Err(Error::new(
            Kind::Interrupted,
            "interrupted",
            "interrupted; posts in flight were finished or put back (queued, or unknown to reconcile)",
        )),
        other => other,
    }
}

async fn run_passes(ctx: &Ctx, args: &Args, stop: watch::Receiver<bool>) -> Result<Exit, Error> {
    let refs = {
        let db = ctx.db()?;
        args.profiles.iter().map(|p| profile_ref(&db, p)).collect::<Result<Vec<_>, _>>()?
    };
    let owner =
        Owner { id: owner_id(), process: crate::publish::owner::ProcessId::current().map(|p| p.encode()) };
    let mut last;
    loop {
        let report = if args.dry_run {
            dry_run(ctx, &refs, args.limit)?
        } else {
            pass(ctx, args, &refs, &owner, &stop).await?
        };
        last = report.exit();
        report.print(&ctx.printer, args.watch)?;
        if !args.watch || *stop.borrow() {
            break;
        }
        let mut s = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(args.interval) => {}
            _ = s.wait_for(|v| *v) => break,
        }
    }
    // A service stopped on purpose ends well; its passes' outcomes are in the output.
    if args.watch && *stop.borrow() {
        return Ok(Exit::Success);
    }
    Ok(last)
}

/// `pid:<pid>:<random>`: unique per process, readable in the history.
fn owner_id() -> String {
    format!("pid:{}:{:08x}", std::process::id(), getrandom::u32().unwrap_or(0))
}

/// This run as a claim holder: its owner id, and the process identity another run uses to see
/// that it is gone (`None` where the platform gives none; its claims then wait for the lease).
struct Owner {
    id: String,
    process: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The report

#[derive(Debug, Clone, Serialize)]
struct ResultView {
    id: i64,
    profile: String,
    /// `published`, `retry`, `failed`, `unknown`, `reconciled`, `released`.
    outcome: &'static str,
    state: PostState,
    scheduled_at: String,
    attempts: i64,
    remote_id: Option<String>,
    last_error: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Held {
    profile: String,
    /// Due posts left `queued`.
    posts: i64,
    reason: String,
    fix: String,
}

#[derive(Debug, Clone, Serialize)]
struct RecoveredView {
    id: i64,
    profile: String,
    state: PostState,
    /// `lease_expired` or `owner_gone`.
    why: Recovery,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Counts {
    published: usize,
    retrying: usize,
    failed: usize,
    unknown: usize,
    held: usize,
    /// Posts still `unknown` that this run did not get to reconcile (their profile was held,
    /// busy in another run, or past `--limit`).
    unreconciled: usize,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    dry_run: bool,
    results: Vec<ResultView>,
    held: Vec<Held>,
    recovered: Vec<RecoveredView>,
    /// `--dry-run`: the posts that would be published or reconciled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    due: Vec<crate::cmd::queue::PostView>,
    summary: Counts,
    #[serde(skip)]
    final_failure: bool,
    #[serde(skip)]
    auth: bool,
    #[serde(skip)]
    leftover: bool,
}

impl Report {
    /// 1 (content/media/unknown-class failure) wins over 4 (auth failure or held profile),
    /// which wins over 3 (retries scheduled, outcomes unknown): see docs/queue.md.
    fn exit(&self) -> Exit {
        if self.final_failure {
            Exit::Code(Kind::Failure)
        } else if self.auth || !self.held.is_empty() {
            Exit::Code(Kind::ActionRequired)
        } else if self.leftover {
            Exit::Code(Kind::Unreachable)
        } else {
            Exit::Success
        }
    }

    fn add(&mut self, post: &Post, outcome: &'static str, message: Option<String>) {
        match post.state {
            PostState::Published => self.summary.published += 1,
            PostState::Queued if outcome == "retry" => {
                self.summary.retrying += 1;
                self.leftover = true;
            }
            PostState::Failed => {
                self.summary.failed += 1;
                match post.last_error.as_ref().map(|e| e.class) {
                    Some(FailureClass::Auth) => self.auth = true,
                    Some(FailureClass::Transient | FailureClass::RateLimit) => self.leftover = true,
                    _ => self.final_failure = true,
                }
            }
            PostState::Unknown => {
                self.summary.unknown += 1;
                self.leftover = true;
            }
            _ => {}
        }
        self.results.push(ResultView {
            id: post.id,
            profile: post.profile.clone(),
            outcome,
            state: post.state,
            scheduled_at: time_str(post.scheduled_at),
            attempts: post.attempts,
            remote_id: post.remote_id.clone(),
            last_error: post.last_error.as_ref().map(|e| {
                serde_json::json!({"code": e.code, "subcode": e.subcode, "class": e.class.as_str(), "message": e.message})
            }),
            message,
        });
    }

    fn hold(&mut self, profile: &str, posts: i64, reason: String, fix: String) {
        self.summary.held += 1;
        self.held.push(Held { profile: profile.to_string(), posts, reason, fix });
    }

    fn print(&self, p: &Printer, watch: bool) -> Result<(), Error> {
        if p.is_json() {
            if watch {
                // One compact document per pass (JSON lines) for a long-running service.
                let line = serde_json::to_string(self)
                    .map_err(|e| Error::failure("internal", format!("could not encode JSON output: {e}")))?;
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}").map_err(|e| Error::io("writing to stdout", e))?;
                return out.flush().map_err(|e| Error::io("writing to stdout", e));
            }
            return p.json(self);
        }
        for r in &self.recovered {
            let how = match r.why {
                Recovery::LeaseExpired => "a run that stopped",
                Recovery::OwnerGone => "a run that is gone",
            };
            p.warn(format!(
                "post #{} ({}) was left claimed by {how}; it is now {}",
                r.id, r.profile, r.state
            ));
        }
        for r in &self.results {
            let mut line = format!("#{:<5} {:<10} {}", r.id, r.outcome, r.profile);
            match r.outcome {
                "published" => line.push_str(&format!(
                    "  → {}",
                    r.remote_id.as_deref().map(sanitize).unwrap_or_else(|| "(id not found)".into())
                )),
                "retry" => line.push_str(&format!("  next try at {}", r.scheduled_at)),
                _ => {}
            }
            if let Some(e) = &r.last_error {
                if r.outcome != "published" && r.outcome != "reconciled" {
                    let msg = e["message"].as_str().unwrap_or_default();
                    line.push_str(&format!("  [{}: {}]", e["class"].as_str().unwrap_or("?"), sanitize(msg)));
                }
            }
            if let Some(m) = &r.message {
                line.push_str(&format!("  ({})", sanitize(m)));
            }
            p.answer(line);
        }
        for h in &self.held {
            p.answer(format!(
                "held     {}  {} due post(s) left queued: {}",
                h.profile,
                h.posts,
                sanitize(&h.reason)
            ));
            p.hint(format!("fix: {}", h.fix));
        }
        let c = self.summary;
        p.status(format!(
            "{}: {} published, {} to retry, {} failed, {} unknown, {} profile(s) held",
            if self.dry_run { "dry run" } else { "publish" },
            c.published,
            c.retrying,
            c.failed,
            c.unknown,
            c.held
        ));
        if c.unreconciled > 0 {
            p.status(format!(
                "{} post(s) are still unknown and were not reconciled in this run (profile held, busy in another \
                 run, or past --limit)",
                c.unreconciled
            ));
        }
        if c.unknown + c.unreconciled > 0 {
            p.hint("`unknown` posts are reconciled with Meta by the next `sq publish` before anything is sent again");
        }
        if self.final_failure || self.auth {
            p.hint("after fixing the cause, `sq requeue --failed` puts failed posts back on the queue");
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// One pass

/// A profile ready to publish: its kind, id and token.
struct Target {
    reference: String,
    kind: crate::model::ProfileKind,
    remote_id: String,
    token: Secret,
}

fn reauth_fix(reference: &str) -> String {
    let network = reference.split(':').next().unwrap_or("facebook");
    format!("sq reauth {network} {reference}")
}

/// Profiles with work, minus those held (not connected, no token, an auth failure since the
/// last (re)connection). Tokens are loaded in one store call.
async fn targets(
    ctx: &Ctx,
    db: &Db,
    refs: &[String],
    now: i64,
    report: &mut Report,
) -> Result<Vec<Target>, Error> {
    let mut profiles = db.profiles_with_work(now)?;
    if !refs.is_empty() {
        profiles.retain(|p| refs.contains(p));
    }
    let mut ready = Vec::new();
    for reference in profiles {
        let due = db.due_count(&reference, now)?;
        let found = match db.resolve(&reference) {
            Ok(found) => found,
            // A database that can't be read is its own error, never "not connected".
            Err(e) if !matches!(e, crate::db::DbError::UnknownProfile { .. }) => return Err(e.into()),
            Err(_) => {
                report.hold(
                    &reference,
                    due,
                    "the profile is not connected any more".into(),
                    format!(
                        "sq reauth {} (or cancel its posts with `sq queue cancel`)",
                        reference.split(':').next().unwrap_or("facebook")
                    ),
                );
                continue;
            }
        };
        if let Some(p) = db.auth_hold(&reference, Some(found.profile.updated_at))? {
            let why = p.last_error.map(|e| e.message).unwrap_or_default();
            report.hold(
                &reference,
                due,
                format!("post #{} failed to authenticate: {why}", p.id),
                reauth_fix(&reference),
            );
            continue;
        }
        ready.push(found);
    }
    let accounts: Vec<_> = ready.iter().map(|f| f.profile.token_account(&f.connection)).collect();
    let tokens = if accounts.is_empty() {
        Vec::new()
    } else {
        ctx.with_store(move |s| s.load_many(&accounts)).await?
    };
    let mut out = Vec::new();
    for (found, token) in ready.into_iter().zip(tokens) {
        let reference = found.profile.reference();
        match token {
            Some(token) => out.push(Target {
                kind: publish_kind(&found.profile),
                remote_id: found.profile.remote_id.clone(),
                reference,
                token,
            }),
            None => {
                let due = db.due_count(&reference, now)?;
                report.hold(
                    &reference,
                    due,
                    "no token is stored for this profile".into(),
                    reauth_fix(&reference),
                );
            }
        }
    }
    Ok(out)
}

fn dry_run(ctx: &Ctx, refs: &[String], limit: Option<usize>) -> Result<Report, Error> {
    let now = ctx.clock.now_unix();
    let db = ctx.db()?;
    db.quick_check()?;
    let mut report = Report { dry_run: true, ..Report::default() };
    let mut profiles = db.profiles_with_work(now)?;
    if !refs.is_empty() {
        profiles.retain(|p| refs.contains(p));
    }
    for reference in profiles {
        let due = db.due_count(&reference, now)?;
        let held = match db.resolve(&reference) {
            Err(e) if !matches!(e, crate::db::DbError::UnknownProfile { .. }) => return Err(e.into()),
            Err(_) => Some(("the profile is not connected any more".to_string(), reauth_fix(&reference))),
            Ok(found) => db.auth_hold(&reference, Some(found.profile.updated_at))?.map(|p| {
                let why = p.last_error.map(|e| e.message).unwrap_or_default();
                (format!("post #{} failed to authenticate: {why}", p.id), reauth_fix(&reference))
            }),
        };
        if let Some((reason, fix)) = held {
            report.hold(&reference, due, reason, fix);
            continue;
        }
        let filter = crate::db::queue::PostFilter {
            states: vec![PostState::Unknown, PostState::Queued],
            profiles: vec![reference.clone()],
        };
        for p in db.list_posts(&filter)? {
            if limit.is_some_and(|n| report.due.len() >= n) {
                break;
            }
            if p.state == PostState::Unknown || p.scheduled_at <= now {
                if !ctx.printer.is_json() {
                    let what =
                        if p.state == PostState::Unknown { "would reconcile" } else { "would publish" };
                    ctx.printer.answer(format!("{what}  {}", post_line(&p)));
                }
                report.due.push(crate::cmd::queue::PostView::from(&p));
            }
        }
    }
    Ok(report)
}

struct Shared {
    db: Arc<Mutex<Db>>,
    owner: String,
    process: Option<String>,
    lease: Duration,
    clock: Arc<dyn Clock>,
    publisher: Publisher,
    printer: Printer,
    claimed: AtomicUsize,
    limit: Option<usize>,
    stop: watch::Receiver<bool>,
}

impl Shared {
    fn lease_until(&self) -> i64 {
        self.clock.now_unix().saturating_add(self.lease.as_secs().max(1) as i64)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Db> {
        // A poisoned lock only means a task panicked mid-call; SQLite itself is consistent.
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn pass(
    ctx: &Ctx,
    args: &Args,
    refs: &[String],
    owner: &Owner,
    stop: &watch::Receiver<bool>,
) -> Result<Report, Error> {
    let now = ctx.clock.now_unix();
    let mut db = ctx.db()?;
    // Before anything is claimed or sent: a damaged page must read as a damaged database,
    // not as a missing profile or an empty queue (docs/queue.md, "A damaged database").
    db.quick_check()?;
    let mut report = Report::default();
    // Claims whose lease ran out, and at once those whose process is provably gone (killed,
    // crashed): their posts are reconciled in this very pass.
    for r in db.recover_claims(now, &crate::publish::owner::is_gone)? {
        report.recovered.push(RecoveredView { id: r.id, profile: r.profile, state: r.to, why: r.why });
    }
    let targets = targets(ctx, &db, refs, now, &mut report).await?;
    if targets.is_empty() {
        count_unreconciled(&db, refs, &mut report)?;
        return Ok(report);
    }
    let app = ctx.app_credentials(Network::Facebook).await.unwrap_or(None);
    let opts = PublishOptions {
        retry: RetryPolicy::default(),
        clock: ctx.clock.clone(),
        ..PublishOptions::default()
    };
    let shared = Arc::new(Shared {
        db: Arc::new(Mutex::new(db)),
        owner: owner.id.clone(),
        process: owner.process.clone(),
        lease: args.lease,
        clock: ctx.clock.clone(),
        publisher: Publisher::new(ctx.graph(app)?, opts),
        printer: ctx.printer.clone(),
        claimed: AtomicUsize::new(0),
        limit: args.limit,
        stop: stop.clone(),
    });

    // The heartbeat: claims outlive slow steps (container polling) but not this process.
    let beat = {
        let shared = shared.clone();
        let period = (args.lease / 3).max(Duration::from_millis(200));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let until = shared.lease_until();
                let _ = shared.lock().renew_claims(&shared.owner, until);
            }
        })
    };

    let sem = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for t in targets {
        let shared = shared.clone();
        let sem = sem.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            profile_worker(&shared, t).await
        });
    }
    let mut first_err = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(part)) => {
                for (post, outcome, msg) in part.results {
                    report.add(&post, outcome, msg);
                }
                if let Some((profile, reason)) = part.held {
                    let due = shared.lock().due_count(&profile, shared.clock.now_unix())?;
                    if due > 0 {
                        report.hold(&profile, due, reason, reauth_fix(&profile));
                    }
                }
            }
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(Error::failure("internal", format!("a publishing task failed: {e}")));
            }
        }
    }
    beat.abort();
    if let Some(e) = first_err {
        return Err(e);
    }
    report.results.sort_by_key(|r| r.id);
    count_unreconciled(&shared.lock(), refs, &mut report)?;
    Ok(report)
}

/// Posts left `unknown` (of the run's profiles) that this run did not reconcile: said in the
/// summary and the exit code, never a silent 0.
fn count_unreconciled(db: &Db, refs: &[String], report: &mut Report) -> Result<(), Error> {
    let filter = crate::db::queue::PostFilter { states: vec![PostState::Unknown], profiles: refs.to_vec() };
    let handled: std::collections::HashSet<i64> = report.results.iter().map(|r| r.id).collect();
    let left = db.list_posts(&filter)?.iter().filter(|p| !handled.contains(&p.id)).count();
    report.summary.unreconciled = left;
    if left > 0 {
        report.leftover = true;
    }
    Ok(())
}

#[derive(Default)]
struct WorkerResult {
    results: Vec<(Post, &'static str, Option<String>)>,
    /// The profile stopped on an auth failure: its other due posts are held.
    held: Option<(String, String)>,
}

/// Waits for the stop signal, then the grace period.
async fn stopped_then_grace(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|v| *v).await;
    tokio::time::sleep(SHUTDOWN_GRACE).await;
}

fn error_record(f: &Failure) -> ErrorRecord {
    ErrorRecord { code: f.code, subcode: f.subcode, class: f.class, message: f.message.clone() }
}

/// Publishes one profile's due posts in order, one at a time.
async fn profile_worker(s: &Shared, t: Target) -> Result<WorkerResult, Error> {
    let mut out = WorkerResult::default();
    loop {
        if *s.stop.borrow() {
            break;
        }
        if let Some(limit) = s.limit {
            if s.claimed.fetch_add(1, Ordering::SeqCst) >= limit {
                break;
            }
        }
        let now = s.clock.now_unix();
        let claimed =
            s.lock().claim_next(&t.reference, &s.owner, s.process.as_deref(), s.lease_until(), now)?;
        let Some((post, from)) = claimed else {
            if s.limit.is_some() {
                s.claimed.fetch_sub(1, Ordering::SeqCst);
            }
            break;
        };
        let req = PostRequest {
            kind: t.kind,
            profile_id: t.remote_id.clone(),
            text: post.text.clone(),
            link: post.link.clone(),
            image_urls: post.image_urls.clone(),
            recorded: Recorded { container_id: post.container_id.clone(), started_at: post.started_at },
        };
        let mut stop_profile = false;
        let (outcome, label): (Outcome, &'static str) = if from == PostState::Unknown {
            let fut = s.publisher.reconcile(&req, &t.token);
            let r = tokio::select! {
                r = fut => Some(r),
                _ = stopped_then_grace(s.stop.clone()) => None,
            };
            match r {
                Some(Reconciled::Published { remote_id }) => {
                    (Outcome::Published { remote_id, container_id: None, already: true }, "published")
                }
                Some(Reconciled::NotPublished) => (
                    Outcome::NotPublished { reason: "Meta has no trace of it; it goes out again".into() },
                    "reconciled",
                ),
                Some(Reconciled::StillUnknown(reason)) => {
                    // Head of line stays unknown: later posts of this profile wait for it.
                    stop_profile = true;
                    (Outcome::Unknown { reason, container_id: None, started_at: None }, "unknown")
                }
                None => {
                    stop_profile = true;
                    (Outcome::Release { reason: "sq was stopped while reconciling".into() }, "released")
                }
            }
        } else {
            let mut journal = DbJournal::new(s.db.clone(), post.id, &s.owner, s.lease, s.clock.clone());
            let fut = s.publisher.publish(&req, &t.token, &mut journal);
            let r = tokio::select! {
                r = fut => Some(r),
                _ = stopped_then_grace(s.stop.clone()) => None,
            };
            match r {
                None => {
                    stop_profile = true;
                    (Outcome::Release { reason: "sq was stopped while publishing".into() }, "released")
                }
                Some(Ok(p)) => (
                    Outcome::Published {
                        remote_id: p.remote_id,
                        container_id: p.container_id,
                        already: p.already,
                    },
                    "published",
                ),
                Some(Err(PublishFailure::Failed(f))) if f.is_retryable() => {
                    // The profile is throttled or Meta is struggling: this post keeps its
                    // place in line, so the profile's later posts wait for it.
                    stop_profile = true;
                    if post.auto_retries + 1 >= MAX_AUTO_RETRIES {
                        let mut rec = error_record(&f);
                        rec.message = format!(
                            "{} (gave up after {} automatic retries)",
                            rec.message,
                            post.auto_retries + 1
                        );
                        (Outcome::Failed { error: rec, container_id: f.container_id.clone() }, "failed")
                    } else {
                        let wait = f.retry_after.unwrap_or_else(|| {
                            RetryPolicy::default()
                                .backoff(u32::try_from(post.auto_retries + 1).unwrap_or(1), 0.5)
                        });
                        let at = s.clock.now_unix().saturating_add(wait.as_secs().max(1) as i64);
                        (
                            Outcome::Retry {
                                error: error_record(&f),
                                at,
                                container_id: f.container_id.clone(),
                            },
                            "retry",
                        )
                    }
                }
                Some(Err(PublishFailure::Failed(f))) => {
                    if f.holds_profile() {
                        stop_profile = true;
                        out.held = Some((
                            t.reference.clone(),
                            format!("post #{} failed to authenticate: {}", post.id, f.message),
                        ));
                    }
                    (
                        Outcome::Failed { error: error_record(&f), container_id: f.container_id.clone() },
                        "failed",
                    )
                }
                Some(Err(PublishFailure::Unknown { reason, recorded })) => {
                    stop_profile = true;
                    (
                        Outcome::Unknown {
                            reason,
                            container_id: recorded.container_id,
                            started_at: recorded.started_at,
                        },
                        "unknown",
                    )
                }
                Some(Err(PublishFailure::Journal(e))) => {
                    stop_profile = true;
                    (Outcome::Release { reason: e.to_string() }, "released")
                }
            }
        };
        let now = s.clock.now_unix();
        let (owned, after) = {
            let mut db = s.lock();
            let owned = db.finish_claim(post.id, &s.owner, &outcome, now)?;
            (owned, db.post(post.id)?)
        };
        if !owned {
            s.printer.warn(format!("post #{}: this run lost its claim; another run handles it", post.id));
            break;
        }
        if let Some(after) = after {
            if !s.printer.is_json() && s.printer.verbosity() > 0 {
                s.printer.verbose(1, post_line(&after));
            }
            let msg = match &outcome {
                Outcome::NotPublished { reason } | Outcome::Release { reason } => Some(reason.clone()),
                Outcome::Unknown { reason, .. } => Some(reason.clone()),
                Outcome::Published { already: true, .. } => Some("found already published on Meta".into()),
                _ => None,
            };
            out.results.push((after, label, msg));
        }
        if stop_profile {
            break;
        }
    }
    Ok(out)
}
