//! The post queue (spec §6): posts, their append-only history, and every state transition as
//! one transaction.
//!
//! Exactly once rests on these rules, enforced here rather than trusted to callers:
//! - A post is *claimed* (`queued`/`unknown` → `publishing`, with an owner and a lease) in one
//!   IMMEDIATE transaction before anything is sent; only one process can win it.
//! - One profile has at most one post `publishing` at a time, and the post claimed next is the
//!   profile's head of line (earliest `original_at`), so per-profile order holds across
//!   processes.
//! - Every later write for a claimed post (journal checkpoints, the outcome) is conditional on
//!   `state = 'publishing' AND claim_owner = me`; a process that lost its claim (its lease ran
//!   out and another process took the post over) can't record a step, so it sends nothing.
//! - A lease that ran out means its process died: the post becomes `unknown` when a request
//!   may have gone out (a journal checkpoint exists), else `queued` again. A claim whose
//!   process is provably gone (the caller checks the recorded `claim_process`) is recovered
//!   the same way at once, without waiting for the lease.
//!
//! Citations: spec §n of docs/reference/spec.md.

use super::{Db, DbError, WAL_AUTOCHECKPOINT, classify};
use crate::model::Network;
use crate::model::classify::FailureClass;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};

/// Spec §6 post states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PostState {
    Queued,
    Publishing,
    Published,
    Failed,
    Unknown,
    Canceled,
}

impl PostState {
    pub const ALL: [PostState; 6] = [
        PostState::Queued,
        PostState::Publishing,
        PostState::Published,
        PostState::Failed,
        PostState::Unknown,
        PostState::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Queued => "queued",
            PostState::Publishing => "publishing",
            PostState::Published => "published",
            PostState::Failed => "failed",
            PostState::Unknown => "unknown",
            PostState::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<PostState> {
        PostState::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for PostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for PostState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for PostState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = value.as_str()?;
        PostState::parse(s).ok_or_else(|| FromSqlError::Other(format!("unknown post state {s:?}").into()))
    }
}

/// The spec §6 failure class from its stored name.
pub fn parse_class(s: &str) -> Option<FailureClass> {
    use FailureClass::*;
    [Auth, RateLimit, Transient, Media, Content, Unknown].into_iter().find(|c| c.as_str() == s)
}

/// The last error of a post (`last_error` in JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub class: FailureClass,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    pub profile: String,
    pub network: Network,
    pub text: String,
    pub link: Option<String>,
    pub image_urls: Vec<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: i64,
    /// `facebook:777`.
    pub profile: String,
    pub network: Network,
    pub text: String,
    pub link: Option<String>,
    pub image_urls: Vec<String>,
    /// The time the user asked for.
    pub original_at: i64,
    /// When the post is next due.
    pub scheduled_at: i64,
    pub state: PostState,
    pub attempts: i64,
    pub auto_retries: i64,
    pub last_error: Option<LastError>,
    pub container_id: Option<String>,
    pub remote_id: Option<String>,
    pub fingerprint: Option<String>,
    pub started_at: Option<i64>,
    pub claim_owner: Option<String>,
    pub claim_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl Post {
    /// A journal checkpoint exists: a publishing request may have gone out.
    pub fn may_have_been_sent(&self) -> bool {
        self.started_at.is_some() || self.container_id.is_some()
    }
}

/// One row of a post's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at: i64,
    /// `added`, `claimed`, `published`, `retry`, `failed`, `unknown`, `reconciled`, `released`,
    /// `lease_expired`, `requeued`, `canceled`.
    pub event: String,
    pub from_state: Option<PostState>,
    pub to_state: Option<PostState>,
    pub attempt: Option<i64>,
    pub error: Option<LastError>,
    pub message: Option<String>,
    pub owner: Option<String>,
}

/// An outcome to record on a claimed post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRecord {
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub class: FailureClass,
    pub message: String,
}

/// Which posts `queue list` shows.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    pub states: Vec<PostState>,
    pub profiles: Vec<String>,
}

/// A failed post as `requeue` selects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequeueCandidate {
    pub id: i64,
    pub profile: String,
    pub network: Network,
    pub state: PostState,
    pub class: Option<FailureClass>,
    pub original_at: i64,
    pub finished_at: Option<i64>,
}

/// What `cancel` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Canceled(Box<Post>),
    /// The post is in a state that can't be canceled (published, publishing, canceled); the
    /// post as it is.
    Refused(Box<Post>),
    NotFound,
}

/// Posts whose claim was recovered, and what they became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub id: i64,
    pub profile: String,
    pub to: PostState,
    pub why: Recovery,
}

/// Why a claim was recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// Its lease ran out (the process stopped renewing it).
    LeaseExpired,
    /// Its process is gone, seen before the lease ran out.
    OwnerGone,
}

const POST_COLUMNS: &str = "id, profile, network, text, link, image_urls, original_at, scheduled_at, state,
    attempts, auto_retries, error_code, error_subcode, error_class, error_message, container_id, remote_id,
    fingerprint, started_at, claim_owner, claim_until, created_at, updated_at, finished_at";

fn network_at(r: &Row<'_>, i: usize) -> rusqlite::Result<Network> {
    let s: String = r.get(i)?;
    Network::parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown network {s:?}").into(),
        )
    })
}

fn class_of(s: Option<String>) -> Option<FailureClass> {
    s.as_deref().and_then(parse_class)
}

fn post_at(r: &Row<'_>) -> rusqlite::Result<Post> {
    let images: String = r.get(5)?;
    let class = class_of(r.get(13)?);
    let message: Option<String> = r.get(14)?;
    let last_error = class.map(|class| LastError {
        code: r.get(11).ok().flatten(),
        subcode: r.get(12).ok().flatten(),
        class,
        message: message.unwrap_or_default(),
    });
    Ok(Post {
        id: r.get(0)?,
        profile: r.get(1)?,
        network: network_at(r, 2)?,
        text: r.get(3)?,
        link: r.get(4)?,
        // Written only by sq as a JSON array.
        image_urls: serde_json::from_str(&images).unwrap_or_default(),
        original_at: r.get(6)?,
        scheduled_at: r.get(7)?,
        state: r.get(8)?,
        attempts: r.get(9)?,
        auto_retries: r.get(10)?,
        last_error,
        container_id: r.get(15)?,
        remote_id: r.get(16)?,
        fingerprint: r.get(17)?,
        started_at: r.get(18)?,
        claim_owner: r.get(19)?,
        claim_until: r.get(20)?,
        created_at: r.get(21)?,
        updated_at: r.get(22)?,
        finished_at: r.get(23)?,
    })
}

fn get_post(tx: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<Post>> {
    tx.query_row(&format!("SELECT {POST_COLUMNS} FROM posts WHERE id = ?1"), [id], post_at).optional()
}

#[allow(clippy::too_many_arguments)]
fn history(
    tx: &rusqlite::Connection,
    post_id: i64,
    at: i64,
    event: &str,
    from: Option<PostState>,
    to: Option<PostState>,
    error: Option<&ErrorRecord>,
    message: Option<&str>,
    owner: Option<&str>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO post_history (post_id, at, event, from_state, to_state, attempt, error_code, error_subcode,
             error_class, message, owner)
         VALUES (?1, ?2, ?3, ?4, ?5, (SELECT attempts FROM posts WHERE id = ?1), ?6, ?7, ?8, ?9, ?10)",
        params![
            post_id,
            at,
            event,
            from,
            to,
            error.and_then(|e| e.code),
            error.and_then(|e| e.subcode),
            error.map(|e| e.class.as_str()),
            message.or(error.map(|e| e.message.as_str())),
            owner
        ],
    )?;
    Ok(())
}

impl Db {
    fn immediate(&mut self) -> Result<Transaction<'_>, DbError> {
        let path = self.path.clone();
        self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| classify(&path, e))
    }

    /// Runs `f` in one IMMEDIATE transaction: all of it lands or none of it.
    fn in_tx<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> Result<T, DbError> {
        let path = self.path.clone();
        let tx = self.immediate()?;
        let out = f(&tx).map_err(|e| classify(&path, e))?;
        tx.commit().map_err(|e| classify(&path, e))?;
        Ok(out)
    }

    pub fn add_post(&mut self, p: &NewPost, now: i64) -> Result<Post, DbError> {
        self.in_tx(|tx| {
            let images = serde_json::to_string(&p.image_urls).unwrap_or_else(|_| "[]".into());
            let id: i64 = tx.query_row(
                "INSERT INTO posts (profile, network, text, link, image_urls, original_at, scheduled_at, state,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 'queued', ?7, ?7) RETURNING id",
                params![p.profile, p.network.name(), p.text, p.link, images, p.at, now],
                |r| r.get(0),
            )?;
            history(tx, id, now, "added", None, Some(PostState::Queued), None, None, None)?;
            get_post(tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
        })
    }

    pub fn post(&self, id: i64) -> Result<Option<Post>, DbError> {
        get_post(&self.conn, id).map_err(|e| self.err(e))
    }

    /// Posts by due time, then id.
    pub fn list_posts(&self, filter: &PostFilter) -> Result<Vec<Post>, DbError> {
        let mut sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if !filter.states.is_empty() {
            let marks: Vec<String> = filter
                .states
                .iter()
                .map(|s| {
                    args.push(s.as_str().to_string());
                    format!("?{}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
            // Posts in line only: through `posts_line` instead of every post ever published.
            if filter.states.iter().all(|s| !matches!(s, PostState::Published | PostState::Canceled)) {
                sql.push_str(" AND closed_at IS NULL");
            }
        }
        if !filter.profiles.is_empty() {
            let marks: Vec<String> = filter
                .profiles
                .iter()
                .map(|p| {
                    args.push(p.clone());
                    format!("?{}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND profile IN ({})", marks.join(", ")));
        }
        sql.push_str(" ORDER BY scheduled_at, id");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows =
            stmt.query_map(rusqlite::params_from_iter(args.iter()), post_at).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The post's history: its own rows and, for each requeue that moved it with others, the
    /// row that requeue wrote once with this post's attempt and failure (`post_requeues`,
    /// migration V7 in `src/db/schema.rs`), in the order they were written.
    pub fn post_history(&self, id: i64) -> Result<Vec<HistoryEntry>, DbError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, event, from_state, to_state, attempt, error_code, error_subcode, error_class, message,
                        owner, id
                 FROM post_history WHERE post_id = ?1
                 UNION ALL
                 SELECT h.at, h.event, h.from_state, h.to_state, r.attempt, r.error_code, r.error_subcode,
                        r.error_class, h.message, h.owner, h.id
                 FROM post_requeues AS r JOIN post_history AS h ON h.id = r.entry
                 WHERE r.post_id = ?1
                 ORDER BY 11",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| {
                let class = class_of(r.get(7)?);
                let message: Option<String> = r.get(8)?;
                Ok(HistoryEntry {
                    at: r.get(0)?,
                    event: r.get(1)?,
                    from_state: r.get(2)?,
                    to_state: r.get(3)?,
                    attempt: r.get(4)?,
                    error: class.map(|class| LastError {
                        code: r.get(5).ok().flatten(),
                        subcode: r.get(6).ok().flatten(),
                        class,
                        message: message.clone().unwrap_or_default(),
                    }),
                    message,
                    owner: r.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Cancels a `queued`, `failed` or `unknown` post (an unknown one may be live on Meta;
    /// canceling it is the user's word that sq must not send or reconcile it again). A post
    /// being published or already published is refused.
    pub fn cancel_post(&mut self, id: i64, now: i64) -> Result<CancelOutcome, DbError> {
        self.in_tx(|tx| {
            let Some(post) = get_post(tx, id)? else { return Ok(CancelOutcome::NotFound) };
            if !matches!(post.state, PostState::Queued | PostState::Failed | PostState::Unknown) {
                return Ok(CancelOutcome::Refused(Box::new(post)));
            }
            tx.execute(
                "UPDATE posts SET state = 'canceled', updated_at = ?2, finished_at = ?2, closed_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            history(tx, id, now, "canceled", Some(post.state), Some(PostState::Canceled), None, None, None)?;
            let post = get_post(tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            Ok(CancelOutcome::Canceled(Box::new(post)))
        })
    }

    /// Posts whose publishing process died: `unknown` when a request may have gone out,
    /// `queued` (due now) when nothing was sent. A claim is recovered when its lease ran out,
    /// or at once when `gone` says its recorded process (`claim_process`) no longer runs. One
    /// transaction: a claim renewed or finished meanwhile is not touched.
    pub fn recover_claims(
        &mut self,
        now: i64,
        gone: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Recovered>, DbError> {
        self.in_tx(|tx| {
            let mut stmt = tx.prepare(
                "SELECT id, profile, started_at IS NOT NULL OR container_id IS NOT NULL, claim_owner,
                     claim_until < ?1, claim_process
                 FROM posts WHERE state = 'publishing' AND (claim_until < ?1 OR claim_process IS NOT NULL)",
            )?;
            type Row = (i64, String, bool, Option<String>, bool, Option<String>);
            let rows: Vec<Row> = stmt
                .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for (id, profile, sent, owner, expired, process) in rows {
                let why = if expired {
                    Recovery::LeaseExpired
                } else if process.as_deref().is_some_and(gone) {
                    Recovery::OwnerGone
                } else {
                    continue;
                };
                let to = if sent { PostState::Unknown } else { PostState::Queued };
                tx.execute(
                    "UPDATE posts SET state = ?2, claim_owner = NULL, claim_until = NULL, claim_process = NULL,
                         updated_at = ?3,
                         scheduled_at = CASE WHEN ?2 = 'queued' THEN min(scheduled_at, ?3) ELSE scheduled_at END
                     WHERE id = ?1",
                    params![id, to, now],
                )?;
                let (event, stopped) = match why {
                    Recovery::LeaseExpired => ("lease_expired", "stopped without finishing"),
                    Recovery::OwnerGone => ("owner_gone", "is gone (no longer running)"),
                };
                let message = format!(
                    "the process publishing it ({}) {stopped}{}",
                    owner.as_deref().unwrap_or("?"),
                    if sent { "; a request may have gone out, so it is reconciled before anything is sent" } else { "; nothing had been sent" }
                );
                history(tx, id, now, event, Some(PostState::Publishing), Some(to), None, Some(&message), owner.as_deref())?;
                out.push(Recovered { id, profile, to, why });
            }
            Ok(out)
        })
    }

    /// Profiles that have something for `publish` to do now: an `unknown` post to reconcile,
    /// or a due head-of-line `queued` post. Sorted.
    pub fn profiles_with_work(&self, now: i64) -> Result<Vec<String>, DbError> {
        // From one profile in line to the next (one seek each in `posts_line`), then whether it
        // has a post to reconcile (`posts_in_flight`) or a due head of line, the only queued
        // post `claim_next` may take: https://sqlite.org/lang_with.html
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{PROFILES_IN_LINE}
                 SELECT profile FROM line AS l
                 WHERE l.profile IS NOT NULL
                   AND (EXISTS (SELECT 1 FROM posts WHERE state = 'unknown' AND posts.profile = l.profile)
                        OR (SELECT scheduled_at FROM posts
                            WHERE closed_at IS NULL AND posts.profile = l.profile AND state = 'queued'
                            ORDER BY original_at, id LIMIT 1) <= ?1)"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([now], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<String>>>().map_err(|e| self.err(e))
    }

    /// Claims the profile's next post in one transaction: an `unknown` post first (it must be
    /// reconciled before anything else goes out), else the head of line among `queued` posts
    /// (earliest `original_at`) when it is due. Nothing when another process is publishing
    /// to this profile. `attempts` counts when a queued post is claimed (an attempt to
    /// publish); reconciling an unknown post is not an attempt.
    ///
    /// `process`: the claiming process's identity (see [`Db::recover_claims`]), recorded so
    /// another run can tell when it is gone.
    pub fn claim_next(
        &mut self,
        profile: &str,
        owner: &str,
        process: Option<&str>,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<(Post, PostState)>, DbError> {
        self.in_tx(|tx| {
            let busy: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM posts WHERE profile = ?1 AND state = 'publishing')",
                [profile],
                |r| r.get(0),
            )?;
            if busy {
                return Ok(None);
            }
            let unknown: Option<i64> = tx
                .query_row(
                    "SELECT id FROM posts WHERE profile = ?1 AND state = 'unknown' ORDER BY original_at, id LIMIT 1",
                    [profile],
                    |r| r.get(0),
                )
                .optional()?;
            let (id, from) = match unknown {
                Some(id) => (id, PostState::Unknown),
                None => {
                    let head: Option<(i64, i64)> = tx
                        .query_row(
                            "SELECT id, scheduled_at FROM posts WHERE closed_at IS NULL AND profile = ?1 AND state = 'queued'
                             ORDER BY original_at, id LIMIT 1",
                            [profile],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .optional()?;
                    match head {
                        Some((id, due)) if due <= now => (id, PostState::Queued),
                        _ => return Ok(None),
                    }
                }
            };
            let bump = i64::from(from == PostState::Queued);
            tx.execute(
                "UPDATE posts SET state = 'publishing', claim_owner = ?2, claim_until = ?3, updated_at = ?4,
                     attempts = attempts + ?5, claim_process = ?6
                 WHERE id = ?1",
                params![id, owner, lease_until, now, bump, process],
            )?;
            let event = if from == PostState::Unknown { "reconciling" } else { "claimed" };
            history(tx, id, now, event, Some(from), Some(PostState::Publishing), None, None, Some(owner))?;
            Ok(get_post(tx, id)?.map(|p| (p, from)))
        })
    }

    /// Extends the lease of every post this process holds (the heartbeat).
    pub fn renew_claims(&mut self, owner: &str, lease_until: i64) -> Result<usize, DbError> {
        self.conn
            .execute(
                "UPDATE posts SET claim_until = ?2 WHERE state = 'publishing' AND claim_owner = ?1",
                params![owner, lease_until],
            )
            .map_err(|e| self.err(e))
    }

    /// A journal checkpoint on a post this process holds. `false` when the claim is lost.
    pub fn journal_step(
        &mut self,
        id: i64,
        owner: &str,
        step: JournalStep<'_>,
        lease_until: i64,
    ) -> Result<bool, DbError> {
        let n = match step {
            JournalStep::AboutToPost { fingerprint, at } => self.conn.execute(
                "UPDATE posts SET fingerprint = ?3, started_at = coalesce(started_at, ?4), claim_until = ?5, updated_at = ?4
                 WHERE id = ?1 AND state = 'publishing' AND claim_owner = ?2",
                params![id, owner, fingerprint, at, lease_until],
            ),
            JournalStep::ContainerCreated { container_id } => self.conn.execute(
                "UPDATE posts SET container_id = ?3, claim_until = ?4
                 WHERE id = ?1 AND state = 'publishing' AND claim_owner = ?2",
                params![id, owner, container_id, lease_until],
            ),
            JournalStep::AboutToPublish { container_id, at } => self.conn.execute(
                "UPDATE posts SET container_id = ?3, started_at = coalesce(started_at, ?4), claim_until = ?5, updated_at = ?4
                 WHERE id = ?1 AND state = 'publishing' AND claim_owner = ?2",
                params![id, owner, container_id, at, lease_until],
            ),
        }
        .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// Records the end of a claim. `false` when this process no longer held the post (nothing
    /// was written).
    pub fn finish_claim(
        &mut self,
        id: i64,
        owner: &str,
        outcome: &Outcome,
        now: i64,
    ) -> Result<bool, DbError> {
        self.in_tx(|tx| {
            let Some(post) = get_post(tx, id)? else { return Ok(false) };
            if post.state != PostState::Publishing || post.claim_owner.as_deref() != Some(owner) {
                return Ok(false);
            }
            let release = "claim_owner = NULL, claim_until = NULL, claim_process = NULL, updated_at = ?2";
            let (event, to, err, msg): (&str, PostState, Option<&ErrorRecord>, Option<String>) = match outcome {
                Outcome::Published { remote_id, container_id, already } => {
                    tx.execute(
                        &format!(
                            "UPDATE posts SET state = 'published', {release}, finished_at = ?2, closed_at = ?2, remote_id = ?3,
                                 container_id = coalesce(?4, container_id) WHERE id = ?1"
                        ),
                        params![id, now, remote_id, container_id],
                    )?;
                    let m = if *already { Some("found already published on Meta".to_string()) } else { None };
                    ("published", PostState::Published, None, m)
                }
                Outcome::Retry { error, at, container_id } => {
                    tx.execute(
                        &format!(
                            "UPDATE posts SET state = 'queued', {release}, scheduled_at = ?3, auto_retries = auto_retries + 1,
                                 error_code = ?4, error_subcode = ?5, error_class = ?6, error_message = ?7,
                                 container_id = ?8 WHERE id = ?1"
                        ),
                        params![
                            id,
                            now,
                            at,
                            error.code,
                            error.subcode,
                            error.class.as_str(),
                            error.message,
                            container_id
                        ],
                    )?;
                    ("retry", PostState::Queued, Some(error), None)
                }
                Outcome::Failed { error, container_id } => {
                    tx.execute(
                        &format!(
                            "UPDATE posts SET state = 'failed', {release}, finished_at = ?2,
                                 error_code = ?3, error_subcode = ?4, error_class = ?5, error_message = ?6,
                                 container_id = ?7 WHERE id = ?1"
                        ),
                        params![id, now, error.code, error.subcode, error.class.as_str(), error.message, container_id],
                    )?;
                    ("failed", PostState::Failed, Some(error), None)
                }
                Outcome::Unknown { reason, container_id, started_at } => {
                    tx.execute(
                        &format!(
                            "UPDATE posts SET state = 'unknown', {release},
                                 container_id = coalesce(?3, container_id), started_at = coalesce(started_at, ?4),
                                 error_code = NULL, error_subcode = NULL, error_class = 'unknown', error_message = ?5
                             WHERE id = ?1"
                        ),
                        params![id, now, container_id, started_at, reason],
                    )?;
                    ("unknown", PostState::Unknown, None, Some(reason.clone()))
                }
                Outcome::NotPublished { reason } => {
                    // Reconciliation found no trace: due again now, in its place in line.
                    tx.execute(
                        &format!("UPDATE posts SET state = 'queued', {release}, scheduled_at = min(scheduled_at, ?2) WHERE id = ?1"),
                        params![id, now],
                    )?;
                    ("reconciled", PostState::Queued, None, Some(reason.clone()))
                }
                Outcome::Release { reason } => {
                    let to = if post.may_have_been_sent() { PostState::Unknown } else { PostState::Queued };
                    tx.execute(&format!("UPDATE posts SET state = ?3, {release} WHERE id = ?1"), params![id, now, to])?;
                    ("released", to, None, Some(reason.clone()))
                }
            };
            history(tx, id, now, event, Some(PostState::Publishing), Some(to), err, msg.as_deref(), Some(owner))?;
            Ok(true)
        })
    }

    /// The `auth`-failed post that holds a profile: failed after the profile was last
    /// (re)connected. `profile_updated_at`: the profile row's `updated_at` (reauth and import
    /// rewrite it), `None` when the profile is not connected.
    pub fn auth_hold(&self, profile: &str, profile_updated_at: Option<i64>) -> Result<Option<Post>, DbError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {POST_COLUMNS} FROM posts WHERE closed_at IS NULL AND profile = ?1 AND state = 'failed' AND error_class = 'auth'
                       AND finished_at >= ?2 ORDER BY finished_at DESC, id DESC LIMIT 1"
                ),
                params![profile, profile_updated_at.unwrap_or(i64::MIN)],
                post_at,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Due `queued` posts of a profile (for notes on held profiles).
    pub fn due_count(&self, profile: &str, now: i64) -> Result<i64, DbError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM posts WHERE closed_at IS NULL AND profile = ?1 AND state = 'queued' AND scheduled_at <= ?2",
                params![profile, now],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The number of `failed` posts per profile reference (diagnose's `failed_posts`): one
    /// grouped count over the posts in line, in line order (no sort).
    pub fn failed_counts(&self) -> Result<std::collections::HashMap<String, u64>, DbError> {
        let mut stmt = self
            .conn
            .prepare("SELECT profile, count(*) FROM posts WHERE closed_at IS NULL AND state = 'failed' GROUP BY profile")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (profile, n) = row.map_err(|e| self.err(e))?;
            out.insert(profile, u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// SQLite's extra check of each b-tree page's cells as it is loaded, for the requeue's
    /// reads and writes of the queue, which are not checked whole beforehand (docs/queue.md, "A
    /// damaged database"); its cost did not show in the requeue benchmark:
    /// https://sqlite.org/pragma.html#pragma_cell_size_check
    fn check_cells(&self) -> Result<(), DbError> {
        self.conn.pragma_update(None, "cell_size_check", true).map_err(|e| self.err(e))
    }

    /// The profiles that have posts `requeue --failed` would select (sorted): whose health
    /// the requeue checks before it writes.
    pub fn failed_profiles(&self, filter: &FailedFilter, now: i64) -> Result<Vec<String>, DbError> {
        self.check_cells()?;
        failed_profiles(&self.conn, filter, now).map_err(|e| self.err(e))
    }

    /// Calls `each(id, profile, original_at)` for the `failed` posts `sel` names (of the `only`
    /// profiles when given), in line order (profile, original time, id): what a requeue would
    /// move, or holds back. Nothing is collected here; the caller keeps what it prints.
    pub fn each_failed(
        &self,
        sel: &Selection<'_>,
        only: Option<&[String]>,
        now: i64,
        each: &mut dyn FnMut(i64, &str, i64),
    ) -> Result<(), DbError> {
        self.check_cells()?;
        select_failed(&self.conn, sel, only, now, Route::Line, each).map_err(|e| self.err(e))
    }

    /// The named posts, whatever their state (`requeue <POST-ID>...`).
    pub fn posts_by_id(&self, ids: &[i64]) -> Result<Vec<RequeueCandidate>, DbError> {
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT id, profile, network, state, error_class, original_at, finished_at FROM posts
             WHERE id IN ({}) ORDER BY id",
            marks.join(", ")
        );
        self.candidates(&sql, ids.iter().map(|i| (*i).into()).collect())
    }

    fn candidates(
        &self,
        sql: &str,
        args: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<RequeueCandidate>, DbError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok(RequeueCandidate {
                    id: r.get(0)?,
                    profile: r.get(1)?,
                    network: network_at(r, 2)?,
                    state: r.get(3)?,
                    class: class_of(r.get(4)?),
                    original_at: r.get(5)?,
                    finished_at: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Moves the `failed` posts `sel` names (of the `only` profiles when given: those whose
    /// health was checked) back to `queued`, in one IMMEDIATE transaction: three set-based
    /// statements over the same condition (the selection, in line order: the answer,
    /// `each(id, profile, original_at)`; one `INSERT … SELECT` of the history links; one
    /// `UPDATE`) and the history row those links name, written for the first post selected
    /// (migration V7 in `src/db/schema.rs`; spec §8: 100,000 posts in ≤ 0.5 s). The write lock
    /// is held from the first statement, so all of them see the same posts, and a post that stopped being `failed`
    /// meanwhile (another requeue, a cancel) is not among them: two requeues never requeue a
    /// post twice. `attempts` is kept; the automatic-retry budget restarts. The update sets no
    /// column an index of posts names, so it rewrites each row and nothing else
    /// (docs/performance.md).
    ///
    /// `confirm` is asked once the statements have run, before the commit: `false` rolls the
    /// whole transaction back (nothing written, `Ok(None)`), so a caller can run the
    /// statements while it is still deciding whether it may (requeue's health check). Returns
    /// how many posts were requeued.
    #[allow(clippy::too_many_arguments)]
    pub fn requeue(
        &mut self,
        sel: &Selection<'_>,
        only: Option<&[String]>,
        at: RequeueAt,
        reason: &str,
        now: i64,
        each: &mut dyn FnMut(i64, &str, i64),
        confirm: &mut dyn FnMut() -> bool,
    ) -> Result<Option<usize>, DbError> {
        self.check_cells()?;
        // Room for every page the transaction changes (about 20 MB at 100,000 posts), so none
        // is spilled to the WAL before the commit (and written again if it changes after). The
        // cache only grows as pages are used; this connection ends with the command.
        self.conn.pragma_update(None, "cache_size", -65536).map_err(|e| self.err(e))?;
        // The commit leaves the changed pages in the WAL: copying them back into the file
        // (about a fifth of the time at 100,000 posts) is `checkpoint`'s job, which the caller
        // runs while it prints the answer. Until then readers find those pages in the WAL; if
        // the caller never asks, closing the last connection copies them back, or the first
        // commit of another connection once the WAL holds `WAL_AUTOCHECKPOINT` pages
        // (https://sqlite.org/wal.html#ckpt). Set first: left so by an error below, it only
        // delays a checkpoint.
        self.conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(|e| self.err(e))?;
        // Each history row and link names a post the same statement reads under the write
        // lock, each link the history row written just before, and the update changes no id:
        // the foreign keys hold by construction, so their checks (a seek per row) are left out
        // of this transaction. The pragma can't change inside a transaction, so it is set
        // around it: https://sqlite.org/pragma.html#pragma_foreign_keys
        self.conn.pragma_update(None, "foreign_keys", false).map_err(|e| self.err(e))?;
        let path = self.path.clone();
        let done = (|| -> Result<Option<usize>, DbError> {
            let tx = self.immediate()?;
            let moved =
                requeue_statements(&tx, sel, only, at, reason, now, each).map_err(|e| classify(&path, e))?;
            // The changed pages go to the WAL now, before `confirm` waits for the health check,
            // instead of at the commit after it: what is left for the commit is its last frame
            // and the checkpoint. Pages written so are not committed: no reader sees them, and a
            // rollback drops them (https://sqlite.org/c3ref/db_cacheflush.html,
            // https://sqlite.org/wal.html).
            if moved > 0 {
                tx.cache_flush().map_err(|e| classify(&path, e))?;
            }
            if moved > 0 && !confirm() {
                // Dropping the transaction rolls it back: nothing of it was written.
                return Ok(None);
            }
            tx.commit().map_err(|e| classify(&path, e))?;
            Ok(Some(moved))
        })();
        let restored = self
            .conn
            .pragma_update(None, "foreign_keys", true)
            .and(self.conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT))
            .map_err(|e| self.err(e));
        match done? {
            // Committed: the posts moved whatever follows, so the answer is not turned into an
            // error. These pragmas only set flags of this connection (no I/O); one that could
            // not be set back stays so until the connection closes with the command.
            Some(moved) => Ok(Some(moved)),
            None => restored.map(|()| None),
        }
    }
}

/// The statements of [`Db::requeue`] on its open transaction; returns how many posts
/// they moved, after calling `each` for each in the order of the answer.
fn requeue_statements(
    tx: &rusqlite::Connection,
    sel: &Selection<'_>,
    only: Option<&[String]>,
    at: RequeueAt,
    reason: &str,
    now: i64,
    each: &mut dyn FnMut(i64, &str, i64),
) -> rusqlite::Result<usize> {
    // (id, index in `profiles`, original time), in the order of the answer.
    let mut profiles: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut moved: Vec<(i64, usize, i64)> = Vec::new();
    let route = Route::for_requeue(tx)?;
    // When the profiles checked include every profile with a post to move (as they do
    // unless one failed since the check began), naming them selects nothing less, and
    // each statement is spared a look-up in the list for every row.
    let only = match (sel, only) {
        (Selection::Failed(filter), Some(checked)) => {
            let checked: std::collections::HashSet<&str> = checked.iter().map(String::as_str).collect();
            let all_checked = failed_profiles(tx, filter, now)?.iter().all(|p| checked.contains(p.as_str()));
            if all_checked { None } else { only }
        }
        (_, only) => only,
    };
    select_failed(tx, sel, only, now, route, &mut |id, profile, original_at| {
        // Looked up by `&str`: a name is copied only the first time it is met, not each time
        // the rows change profile (every row, through the table in storage order).
        let p = match profiles.last() {
            Some(last) if last == profile => profiles.len() - 1,
            _ => match index.get(profile) {
                Some(&p) => p,
                None => {
                    profiles.push(profile.to_string());
                    index.insert(profile.to_string(), profiles.len() - 1);
                    profiles.len() - 1
                }
            },
        };
        moved.push((id, p, original_at));
    })?;
    if moved.is_empty() {
        return Ok(0);
    }
    // Through the table, the rows of --failed come in storage order and are sorted here into
    // line order: much quicker than SQLite's sorter (docs/performance.md). Text compares byte
    // by byte, as SQLite's BINARY collation does.
    if route == Route::Table && matches!(sel, Selection::Failed(_)) {
        let mut by_name: Vec<usize> = (0..profiles.len()).collect();
        by_name.sort_unstable_by(|&a, &b| profiles[a].cmp(&profiles[b]));
        let mut rank = vec![0; profiles.len()];
        for (r, &p) in by_name.iter().enumerate() {
            rank[p] = r;
        }
        moved.sort_unstable_by_key(|&(id, p, original_at)| (rank[p], original_at, id));
    }
    let (cond, args) = requeue_where(sel, only, now, reason, at, route);
    // OR FAIL: no statement journal (a copy of every page the statement changes, kept to
    // undo only this statement on an error). Any error here fails the whole
    // transaction, which rolls back, so nothing of a failed statement stays:
    // https://sqlite.org/lang_conflict.html
    //
    // The history: the first post moved gets the event's row, every other post a link to it
    // with its own attempt and failure (migration V7 in `src/db/schema.rs`).
    let first = moved.iter().map(|&(id, _, _)| id).min().unwrap_or(0);
    let mut inserted = tx.execute(
        "INSERT OR FAIL INTO post_history (post_id, at, event, from_state, to_state, attempt, error_code,
             error_subcode, error_class, message)
         SELECT id, ?1, 'requeued', 'failed', 'queued', attempts, error_code, error_subcode, error_class, ?2
         FROM posts WHERE id = ?3",
        params![now, reason, first],
    )?;
    let entry = tx.last_insert_rowid();
    let mut link_args = args.clone();
    link_args.push(entry.into());
    link_args.push(first.into());
    let (e, f) = (link_args.len() - 1, link_args.len());
    inserted += tx
        .prepare(&format!(
            "INSERT OR FAIL INTO post_requeues (post_id, entry, attempt, error_code, error_subcode, error_class)
             SELECT id, ?{e}, attempts, error_code, error_subcode, error_class
             FROM posts WHERE {cond} AND id <> ?{f}"
        ))?
        .execute(rusqlite::params_from_iter(&link_args))?;
    // A post that failed as auth/rate_limit/media/content got a definite "no" from Meta,
    // so nothing of it is live: forget when it was sent, or the next publish would wait
    // out the reconcile grace of an outcome that is not unknown. A transient or unknown
    // failure (a 5xx after a Facebook post went out) keeps it, so it is reconciled
    // before anything is sent again. A container id always stays: its status is checked
    // before it is ever published.
    let sql = format!(
        "UPDATE OR FAIL posts SET state = 'queued',
                 scheduled_at = CASE WHEN ?3 AND original_at > ?1 THEN original_at ELSE ?1 END,
                 auto_retries = 0, updated_at = ?1, finished_at = NULL,
                 started_at = CASE WHEN error_class IN ('auth', 'rate_limit', 'media', 'content')
                                   THEN NULL ELSE started_at END
             WHERE {cond}"
    );
    // The CHECKs this update would run on each row (about half of its time) hold by
    // its text: the state it writes is the constant 'queued', and it sets no other
    // checked column (closed_at stays NULL). So they are left out of this one
    // statement: https://sqlite.org/pragma.html#pragma_ignore_check_constraints
    // SQLite compiles them into a statement, and changing the pragma makes every
    // prepared statement compile again before its next step, so the pragma is set
    // back only once the statement has run.
    tx.pragma_update(None, "ignore_check_constraints", true)?;
    let updated = tx.prepare(&sql).and_then(|mut s| s.execute(rusqlite::params_from_iter(&args)));
    tx.pragma_update(None, "ignore_check_constraints", false)?;
    let updated = updated?;
    if inserted != moved.len() || updated != moved.len() {
        // Can't happen under the write lock (one condition, one transaction); if it did,
        // the history would not match what was moved, so nothing is written.
        return Err(rusqlite::Error::StatementChangedRows(updated));
    }
    for &(id, p, original_at) in &moved {
        each(id, &profiles[p], original_at);
    }
    Ok(moved.len())
}

/// Which posts a requeue takes.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// `requeue --failed` and its filters.
    Failed(&'a FailedFilter),
    /// `requeue <POST-ID>...`: the named posts that are `failed`, whatever their class.
    Ids(&'a [i64]),
}

/// The filters of `requeue --failed` (spec §6), all applied in SQL.
#[derive(Debug, Clone, Default)]
pub struct FailedFilter {
    /// Profile references; all profiles when empty.
    pub profiles: Vec<String>,
    /// Failed at or after this time.
    pub since: Option<i64>,
    pub network: Option<Network>,
    /// The failure classes taken (a post without a class counts as `unknown`); all when `None`.
    pub classes: Option<Vec<&'static str>>,
}

/// When requeued posts are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueAt {
    Now,
    /// Their original time when that is still ahead, else now.
    OriginalIfAhead,
}

/// How the statements of a requeue reach the failed posts. Both give the same posts: a
/// `failed` post is always in line (`closed_at IS NULL`, by the CHECK of migration V6 in
/// `src/db/schema.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Through `posts_line`, in line order: a seek for each post in line to read its row.
    Line,
    /// Every row of the table in storage order, no seek: the statements leave
    /// `closed_at IS NULL` out of their condition, so no index applies.
    Table,
}

impl Route {
    /// Through the line unless it is a large part of the table. A post reached through the
    /// line costs about three rows of a scan (0.48 µs against 0.17 µs here, docs/performance.md),
    /// so the table is read whole once a third or more of all posts are in line (a requeue
    /// after a bad day); with a long published history the line is much shorter and is taken.
    /// Counting the line reads only its index; the row count is the last id (sq never deletes
    /// a post).
    ///
    /// The counts also read both indexes of posts whole (every page: `posts_in_flight` is
    /// small), so a damaged page in one stops the requeue before it writes, even when its
    /// statements would not touch that index (docs/queue.md, "A damaged database"). The last
    /// one reads the history links' root, where their insert starts.
    fn for_requeue(conn: &rusqlite::Connection) -> rusqlite::Result<Route> {
        let (in_line, last): (i64, i64) = conn.query_row(
            "SELECT (SELECT count(*) FROM posts WHERE closed_at IS NULL),
                    (SELECT coalesce(max(id), 0) FROM posts),
                    (SELECT count(*) FROM posts WHERE state = 'publishing'),
                    (SELECT count(*) FROM posts WHERE state = 'unknown'),
                    (SELECT count(*) FROM (SELECT 1 FROM post_requeues LIMIT 1))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(if in_line.saturating_mul(3) >= last { Route::Table } else { Route::Line })
    }
}

/// The condition shared by the selection (a dry run, the held posts), the history insert and
/// the update of a requeue, and its arguments. `?1` is now, `?2` the history message, `?3`
/// whether original times are kept; the condition's own arguments follow. Lists travel as one JSON array each
/// (`json_each`), so any number of profiles or ids is one parameter and one statement text.
/// `finished_at <= now`: a post that fails while the health check runs was not selected and
/// its profile's health may have changed, so it waits for the next requeue.
fn requeue_where(
    sel: &Selection<'_>,
    only: Option<&[String]>,
    now: i64,
    reason: &str,
    at: RequeueAt,
    route: Route,
) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut args: Vec<Value> =
        vec![now.into(), reason.to_string().into(), i64::from(at == RequeueAt::OriginalIfAhead).into()];
    // By id, the ids lead (a rowid lookup each): the condition names no `closed_at`, so no
    // index of posts applies.
    let mut cond = String::from("state = 'failed'");
    let mut arg = |cond: &mut String, sql: &str, v: Value| {
        args.push(v);
        cond.push_str(&sql.replace('#', &format!("?{}", args.len())));
    };
    match sel {
        Selection::Failed(f) => {
            if route == Route::Line {
                cond.push_str(" AND closed_at IS NULL");
            }
            arg(&mut cond, " AND finished_at >= #", f.since.unwrap_or(i64::MIN).into());
            cond.push_str(" AND finished_at <= ?1");
            // The health-checked profiles are among these already.
            if !f.profiles.is_empty() && only.is_none() {
                arg(&mut cond, " AND profile IN (SELECT value FROM json_each(#))", json_list(&f.profiles));
            }
            if let Some(n) = f.network {
                arg(&mut cond, " AND network = #", n.name().to_string().into());
            }
            if let Some(classes) = &f.classes {
                arg(
                    &mut cond,
                    " AND coalesce(error_class, 'unknown') IN (SELECT value FROM json_each(#))",
                    json_list(classes),
                );
            }
        }
        Selection::Ids(ids) => {
            arg(&mut cond, " AND id IN (SELECT value FROM json_each(#))", json_list(ids));
        }
    }
    if let Some(only) = only {
        arg(&mut cond, " AND profile IN (SELECT value FROM json_each(#))", json_list(&only));
    }
    (cond, args)
}

/// A list as one JSON array parameter (serializing strings and integers can't fail).
fn json_list<T: serde::Serialize + ?Sized>(v: &T) -> rusqlite::types::Value {
    rusqlite::types::Value::Text(serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
}

/// `line(profile)`: each profile with a post in line, once, in order (NULL last), from one to
/// the next through `posts_line` (one seek each): https://sqlite.org/lang_with.html
const PROFILES_IN_LINE: &str = "WITH RECURSIVE line(profile) AS (
     SELECT (SELECT min(profile) FROM posts WHERE closed_at IS NULL)
     UNION ALL
     SELECT (SELECT min(profile) FROM posts WHERE closed_at IS NULL AND profile > line.profile)
     FROM line WHERE line.profile IS NOT NULL
 )";

/// See [`Db::failed_profiles`].
fn failed_profiles(
    conn: &rusqlite::Connection,
    filter: &FailedFilter,
    now: i64,
) -> rusqlite::Result<Vec<String>> {
    let (cond, args) = requeue_where(&Selection::Failed(filter), None, now, "", RequeueAt::Now, Route::Line);
    // From one profile in line to the next through `posts_line` (one seek each), then
    // whether any of that profile's posts passes the filters (the first found will do):
    // https://sqlite.org/lang_with.html
    let mut stmt = conn.prepare(&format!(
        "{PROFILES_IN_LINE}
         SELECT profile FROM line AS f
         WHERE f.profile IS NOT NULL
           AND EXISTS (SELECT 1 FROM posts WHERE {cond} AND posts.profile = f.profile)"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?;
    rows.collect()
}

fn select_failed(
    conn: &rusqlite::Connection,
    sel: &Selection<'_>,
    only: Option<&[String]>,
    now: i64,
    route: Route,
    each: &mut dyn FnMut(i64, &str, i64),
) -> rusqlite::Result<()> {
    let (cond, args) = requeue_where(sel, only, now, "", RequeueAt::Now, route);
    // The order of the answer: line order for --failed, as named (by id) otherwise; none
    // through the table, whose rows the requeue sorts itself.
    let order = match (route, sel) {
        (_, Selection::Ids(_)) => " ORDER BY id",
        (Route::Line, Selection::Failed(_)) => " ORDER BY profile, original_at, id",
        (Route::Table, Selection::Failed(_)) => "",
    };
    let mut stmt =
        conn.prepare(&format!("SELECT id, profile, original_at FROM posts WHERE {cond}{order}"))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        let profile = r.get_ref(1)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?;
        each(r.get(0)?, profile, r.get(2)?);
    }
    Ok(())
}

/// A journal checkpoint (see [`crate::publish::Journal`]).
#[derive(Debug, Clone, Copy)]
pub enum JournalStep<'a> {
    AboutToPost { fingerprint: &'a str, at: i64 },
    ContainerCreated { container_id: &'a str },
    AboutToPublish { container_id: &'a str, at: i64 },
}

/// How a claim ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Published {
        remote_id: Option<String>,
        container_id: Option<String>,
        already: bool,
    },
    /// Transient or rate-limited: back to `queued`, due at `at`, with the container to reuse.
    Retry {
        error: ErrorRecord,
        at: i64,
        container_id: Option<String>,
    },
    /// Final until the user acts.
    Failed {
        error: ErrorRecord,
        container_id: Option<String>,
    },
    /// A publishing request got no usable answer.
    Unknown {
        reason: String,
        container_id: Option<String>,
        started_at: Option<i64>,
    },
    /// Reconciliation found the post not published: `queued` again, due now.
    NotPublished {
        reason: String,
    },
    /// Given up without an outcome (shutdown, lost journal): `queued` if nothing was sent,
    /// else `unknown`.
    Release {
        reason: String,
    },
}
