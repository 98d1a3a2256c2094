// Citations: spec §n of docs/reference/spec.md.
use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::db::queue::{CancelOutcome, HistoryEntry, LastError, NewPost, Post, PostFilter, PostState};
use crate::db::{Db, Profile};
use crate::diagnose::report::rfc3339;
use crate::error::Error;
use crate::model::{Network, ProfileKind};
use crate::output::sanitize;
use crate::publish::PostRequest;
use serde::Serialize;

/// Add, list, show and cancel posts on the local queue
///
/// Posts wait in the queue (in sq's database) until `sq publish` sends them. States:
/// queued → publishing → published | failed | unknown; canceled. See docs/queue.md.
///
/// Examples:
///   sq queue add facebook:777 --text "Fresh sourdough today" --link https://acme.example/bread
///   sq queue add @acme.bakery --text "New loaf" --image-url https://cdn.example.com/loaf.jpg --at +2h
///   sq queue add @acme.threads --text "We open at 8" --at 2026-11-20T08:00:00+01:00
///   sq queue list --state failed
///   sq queue show 42 --json
///   sq queue cancel 42
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub command: QueueCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum QueueCommand {
    Add(AddArgs),
    List(ListArgs),
    Show(IdArg),
    Cancel(CancelArgs),
}

/// Put a post on the queue for one profile
///
/// Facebook posts take text, a link and/or one image; Instagram needs one image (a public JPEG
/// URL); Threads takes text and/or one image. Instagram and Threads have no link field: put
/// the link in the text.
///
/// Examples:
///   sq queue add facebook:777 --text "Fresh sourdough today"
///   sq queue add "Acme Bakery" --text "Menu" --link https://acme.example/menu --at +30m
///   sq queue add @acme.bakery --text "New loaf" --image-url https://cdn.example.com/loaf.jpg
///   sq queue add threads:7000000000000001 --text "Open at 8" --at 2026-11-20T08:00:00Z --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct AddArgs {
    /// facebook:<page-id>, instagram:<id>, threads:<id>, or the profile's name/username
    pub profile: String,
    /// The post's text (caption on Instagram)
    #[arg(long)]
    pub text: String,
    /// A link to share (Facebook only)
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
    /// A public image URL (one per post for now)
    #[arg(long = "image-url", value_name = "URL")]
    pub image_urls: Vec<String>,
    /// When to publish: now, +30m, +2h, +1d, or an RFC 3339 time (2026-11-20T08:00:00Z)
    #[arg(long, value_name = "TIME", default_value = "now")]
    pub at: String,
}

/// List posts on the queue (due first)
///
/// Examples:
///   sq queue list
///   sq queue list --state failed --state unknown
///   sq queue list facebook:777 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// Only posts in this state (repeatable)
    #[arg(long, value_enum, value_name = "STATE")]
    pub state: Vec<StateArg>,
    /// Only posts of these profiles
    pub profiles: Vec<String>,
}

/// Show one post with its history
///
/// Examples:
///   sq queue show 42
///   sq queue show 42 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct IdArg {
    /// The post's id (from `sq queue list`)
    pub id: i64,
}

/// Cancel a queued, failed or unknown post
///
/// A post being published or already published can't be canceled. Canceling an `unknown`
/// post (a request went out with no answer) tells sq never to send or reconcile it again:
/// check the profile on Meta first, it may be live.
///
/// Examples:
///   sq queue cancel 42
///   sq queue cancel 42 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CancelArgs {
    /// The post's id (from `sq queue list`)
    pub id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StateArg {
    Queued,
    Publishing,
    Published,
    Failed,
    Unknown,
    Canceled,
}

impl From<StateArg> for PostState {
    fn from(s: StateArg) -> PostState {
        match s {
            StateArg::Queued => PostState::Queued,
            StateArg::Publishing => PostState::Publishing,
            StateArg::Published => PostState::Published,
            StateArg::Failed => PostState::Failed,
            StateArg::Unknown => PostState::Unknown,
            StateArg::Canceled => PostState::Canceled,
        }
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    match args.command {
        QueueCommand::Add(a) => add(ctx, a),
        QueueCommand::List(a) => list(ctx, a),
        QueueCommand::Show(a) => show(ctx, a.id),
        QueueCommand::Cancel(a) => cancel(ctx, a.id),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared with publish and requeue

/// The publishing kind of a connected profile.
pub(crate) fn publish_kind(p: &Profile) -> ProfileKind {
    ProfileKind::of(p.kind, p.via)
}

/// A time on the command line: `now`, `+30m` / `+2h` / `+1d` (from now), or RFC 3339.
pub(crate) fn parse_time(s: &str, now: i64) -> Result<i64, Error> {
    let t = s.trim();
    let bad = |why: String| {
        Error::usage(format!("can't read the time {s:?}: {why}"))
            .hint("use now, a relative time like +30m, +2h, +1d, or RFC 3339 like 2026-11-20T08:00:00Z")
    };
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rest) = t.strip_prefix('+') {
        let d = humantime::parse_duration(rest.trim()).map_err(|e| bad(e.to_string()))?;
        let secs = i64::try_from(d.as_secs()).map_err(|_| bad("too far ahead".into()))?;
        return now.checked_add(secs).ok_or_else(|| bad("too far ahead".into()));
    }
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map(|d| d.unix_timestamp())
        .map_err(|e| bad(e.to_string()))
}

/// A duration on the command line (`--since 24h`, `--interval 1m`).
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| format!("{e} (examples: 90s, 30m, 24h, 7d)"))
}

/// RFC 3339 for JSON; the raw number if it is out of range (never panics on odd data).
pub(crate) fn time_str(unix: i64) -> String {
    rfc3339(unix).unwrap_or_else(|| unix.to_string())
}

/// A profile argument: a connected profile's reference, or a `network:id` reference as is
/// (posts of a profile that was removed can still be listed and requeued by it).
pub(crate) fn profile_ref(db: &Db, arg: &str) -> Result<String, Error> {
    match db.resolve(arg) {
        Ok(p) => Ok(p.profile.reference()),
        Err(e) if !matches!(e, crate::db::DbError::UnknownProfile { .. }) => Err(e.into()),
        Err(e) => match arg.split_once(':') {
            Some((net, id))
                if Network::parse(&net.to_ascii_lowercase()).is_some() && !id.trim().is_empty() =>
            {
                Ok(format!("{}:{}", net.to_ascii_lowercase(), id.trim()))
            }
            _ => Err(e.into()),
        },
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ErrorView {
    code: Option<i64>,
    subcode: Option<i64>,
    class: &'static str,
    message: String,
}

impl From<&LastError> for ErrorView {
    fn from(e: &LastError) -> ErrorView {
        ErrorView { code: e.code, subcode: e.subcode, class: e.class.as_str(), message: e.message.clone() }
    }
}

/// A post in `--json` (spec §2: id, profile, state, scheduled_at, attempts, last_error,
/// remote_id; then the rest).
#[derive(Debug, Serialize)]
pub(crate) struct PostView {
    id: i64,
    profile: String,
    network: &'static str,
    state: PostState,
    /// When it is next due (RFC 3339).
    scheduled_at: String,
    attempts: i64,
    last_error: Option<ErrorView>,
    remote_id: Option<String>,
    /// The time the post was added for.
    original_at: String,
    text: String,
    link: Option<String>,
    image_urls: Vec<String>,
    container_id: Option<String>,
    created_at: String,
    updated_at: String,
    finished_at: Option<String>,
}

impl From<&Post> for PostView {
    fn from(p: &Post) -> PostView {
        PostView {
            id: p.id,
            profile: p.profile.clone(),
            network: p.network.name(),
            state: p.state,
            scheduled_at: time_str(p.scheduled_at),
            attempts: p.attempts,
            last_error: p.last_error.as_ref().map(ErrorView::from),
            remote_id: p.remote_id.clone(),
            original_at: time_str(p.original_at),
            text: p.text.clone(),
            link: p.link.clone(),
            image_urls: p.image_urls.clone(),
            container_id: p.container_id.clone(),
            created_at: time_str(p.created_at),
            updated_at: time_str(p.updated_at),
            finished_at: p.finished_at.map(time_str),
        }
    }
}

#[derive(Debug, Serialize)]
struct HistoryView {
    at: String,
    event: String,
    from: Option<PostState>,
    to: Option<PostState>,
    attempt: Option<i64>,
    error: Option<ErrorView>,
    message: Option<String>,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> HistoryView {
        HistoryView {
            at: time_str(h.at),
            event: h.event.clone(),
            from: h.from_state,
            to: h.to_state,
            attempt: h.attempt,
            error: h.error.as_ref().map(ErrorView::from),
            message: if h.error.is_some() { None } else { h.message.clone() },
        }
    }
}

fn short(text: &str, n: usize) -> String {
    let one_line = sanitize(&text.replace('\n', " "));
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n.saturating_sub(1)).collect::<String>())
    }
}

/// One line per post for people.
pub(crate) fn post_line(p: &Post) -> String {
    let mut line = format!(
        "#{:<5} {:<10} {}  {}  {}",
        p.id,
        p.state.as_str(),
        time_str(p.scheduled_at),
        p.profile,
        short(&p.text, 40)
    );
    if p.attempts > 0 {
        line.push_str(&format!("  (attempts {})", p.attempts));
    }
    if let (Some(e), PostState::Failed | PostState::Queued | PostState::Unknown) = (&p.last_error, p.state) {
        line.push_str(&format!("  [{}: {}]", e.class, short(&e.message, 80)));
    }
    line
}

// ---------------------------------------------------------------------------------------------

fn add(ctx: &Ctx, a: AddArgs) -> Result<Exit, Error> {
    let now = ctx.clock.now_unix();
    let at = parse_time(&a.at, now)?;
    let mut db = ctx.db()?;
    let found = db.resolve(&a.profile)?;
    let profile = &found.profile;
    let link = a.link.filter(|l| !l.trim().is_empty());
    let mut req = PostRequest::new(publish_kind(profile), profile.remote_id.clone(), a.text.clone());
    req.link = link.clone();
    req.image_urls = a.image_urls.clone();
    // The same checks `sq publish` makes, now, while the user is here to fix the input.
    if let Some(f) = crate::publish::validate(&req) {
        return Err(Error::usage(format!("{} can't take this post: {}", profile.reference(), f.message)));
    }
    for url in req.image_urls.iter().chain(link.iter()) {
        if url::Url::parse(url).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true) {
            return Err(Error::usage(format!("{url:?} is not an http(s) URL"))
                .hint("Meta fetches images and links itself, so they must be public http(s) URLs"));
        }
    }
    let post = db.add_post(
        &NewPost {
            profile: profile.reference(),
            network: profile.kind,
            text: a.text,
            link,
            image_urls: a.image_urls,
            at,
        },
        now,
    )?;
    if ctx.printer.is_json() {
        ctx.printer.json(&serde_json::json!({"post": PostView::from(&post)}))?;
    } else {
        ctx.printer.answer(post_line(&post));
        if at < now {
            ctx.printer.warn("that time is in the past: the post goes out with the next `sq publish`");
        }
        ctx.printer.hint("`sq publish` sends due posts (or run `sq publish --watch` as a service)");
    }
    Ok(Exit::Success)
}

fn list(ctx: &Ctx, a: ListArgs) -> Result<Exit, Error> {
    let db = ctx.db()?;
    let profiles = a.profiles.iter().map(|p| profile_ref(&db, p)).collect::<Result<Vec<_>, _>>()?;
    let filter = PostFilter { states: a.state.into_iter().map(PostState::from).collect(), profiles };
    let posts = db.list_posts(&filter)?;
    if ctx.printer.is_json() {
        let views: Vec<PostView> = posts.iter().map(PostView::from).collect();
        ctx.printer.json(&serde_json::json!({"posts": views}))?;
    } else if posts.is_empty() {
        ctx.printer.status("no posts");
    } else {
        for line in list_lines(&posts, crate::output::stdout_width(&ctx.env)) {
            ctx.printer.answer(line);
        }
    }
    Ok(Exit::Success)
}

/// `queue list`: a header and aligned columns; the TEXT column is ellipsized to fit `width`,
/// the last error stays whole (it says what to do).
fn list_lines(posts: &[Post], width: Option<usize>) -> Vec<String> {
    let mut t =
        crate::output::Table::new(&["ID", "STATE", "SCHEDULED", "PROFILE", "TRIES", "TEXT", "LAST ERROR"])
            .flex(5);
    for p in posts {
        let error = match (&p.last_error, p.state) {
            (Some(e), PostState::Failed | PostState::Queued | PostState::Unknown) => {
                format!("{}: {}", e.class, short(&e.message, 80))
            }
            _ => String::new(),
        };
        t.row(vec![
            format!("#{}", p.id),
            p.state.as_str().to_string(),
            time_str(p.scheduled_at),
            p.profile.clone(),
            p.attempts.to_string(),
            short(&p.text, 60),
            error,
        ]);
    }
    t.render(width, &|_, _, text| text)
}

fn not_found(id: i64) -> Error {
    Error::usage(format!("there is no post #{id}")).hint("`sq queue list` shows the posts and their ids")
}

fn show(ctx: &Ctx, id: i64) -> Result<Exit, Error> {
    let db = ctx.db()?;
    let post = db.post(id)?.ok_or_else(|| not_found(id))?;
    let history = db.post_history(id)?;
    if ctx.printer.is_json() {
        let mut v = serde_json::to_value(PostView::from(&post))
            .map_err(|e| Error::failure("internal", format!("could not encode JSON output: {e}")))?;
        if let Some(o) = v.as_object_mut() {
            let h: Vec<HistoryView> = history.iter().map(HistoryView::from).collect();
            o.insert("history".into(), serde_json::to_value(h).unwrap_or_default());
        }
        ctx.printer.json(&serde_json::json!({"post": v}))?;
        return Ok(Exit::Success);
    }
    let p = &ctx.printer;
    p.answer(format!("post #{}  {}  {}", post.id, post.state, post.profile));
    p.answer(format!(
        "  scheduled  {} (added for {})",
        time_str(post.scheduled_at),
        time_str(post.original_at)
    ));
    p.answer(format!("  text       {}", sanitize(&post.text)));
    if let Some(l) = &post.link {
        p.answer(format!("  link       {}", sanitize(l)));
    }
    for u in &post.image_urls {
        p.answer(format!("  image      {}", sanitize(u)));
    }
    p.answer(format!("  attempts   {}", post.attempts));
    if let Some(id) = &post.remote_id {
        p.answer(format!("  remote id  {}", sanitize(id)));
    }
    if let Some(e) = &post.last_error {
        let code = match (e.code, e.subcode) {
            (Some(c), Some(s)) => format!(" ({c}/{s})"),
            (Some(c), None) => format!(" ({c})"),
            _ => String::new(),
        };
        p.answer(format!("  last error {}{code}: {}", e.class, sanitize(&e.message)));
    }
    p.answer("  history");
    for h in &history {
        let mut line = format!("    {}  {}", time_str(h.at), h.event);
        if let (Some(f), Some(t)) = (h.from_state, h.to_state) {
            line.push_str(&format!(" {f} → {t}"));
        }
        if let Some(m) = &h.message {
            line.push_str(&format!(": {}", short(m, 100)));
        }
        p.answer(line);
    }
    Ok(Exit::Success)
}

fn cancel(ctx: &Ctx, id: i64) -> Result<Exit, Error> {
    let now = ctx.clock.now_unix();
    let mut db = ctx.db()?;
    let was_unknown = db.post(id)?.is_some_and(|p| p.state == PostState::Unknown);
    match db.cancel_post(id, now)? {
        CancelOutcome::NotFound => Err(not_found(id)),
        CancelOutcome::Canceled(post) => {
            if ctx.printer.is_json() {
                ctx.printer.json(&serde_json::json!({"post": PostView::from(post.as_ref())}))?;
            } else {
                ctx.printer.answer(post_line(&post));
            }
            if was_unknown {
                ctx.printer.warn(format!(
                    "post #{id} may have been published before sq lost track of it: check {} on Meta",
                    post.profile
                ));
            }
            Ok(Exit::Success)
        }
        CancelOutcome::Refused(post) => {
            let e = Error::failure(
                "post_not_cancelable",
                format!("post #{id} is {} and can't be canceled", post.state),
            );
            Err(match post.state {
                PostState::Publishing => e.hint("it is being published right now"),
                PostState::Published => e.hint("delete it on Meta's side if it should not be there"),
                _ => e,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = 1_795_168_800; // 2026-11-20T10:00:00Z
        assert_eq!(parse_time("now", now).ok(), Some(now));
        assert_eq!(parse_time("+2h", now).ok(), Some(now + 7200));
        assert_eq!(parse_time("+30m", now).ok(), Some(now + 1800));
        assert_eq!(parse_time("+1d", now).ok(), Some(now + 86400));
        assert_eq!(parse_time("2026-11-20T11:00:00+01:00", now).ok(), Some(now));
        for bad in ["tomorrow", "+", "+2x", "2026-11-20", ""] {
            let e = parse_time(bad, now).expect_err(bad);
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
        assert!(parse_duration("24h").is_ok() && parse_duration("soon").is_err());
    }

    #[test]
    fn short_text() {
        assert_eq!(short("abc", 5), "abc");
        assert_eq!(short("abcdef", 4), "abc…");
        assert_eq!(short("a\nb\x1b", 10), "a b\u{fffd}");
    }
}
