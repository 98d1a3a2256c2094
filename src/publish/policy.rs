//! The pure decision core of publishing: no I/O, plain data in, plain data out, table-tested.
//!
//! - [`judge`]: one step's `MetaError` → what it means for the post (spec §6 classes from the
//!   one classifier, plus the publishing-only rules: "not ready", "container dead", and
//!   "the outcome is unknown").
//! - [`RetryPolicy`]: whether and when to try again (bounded, exponential with jitter,
//!   honouring Meta's `estimated_time_to_regain_access`, §9).
//! - [`PollPolicy`] and [`next_for_container`]: the container status schedule (§7.2, §7.3).
//! - [`quota_failure`], [`usage_wait`], [`find_own_post`]: limits, throttling, reconciliation.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use crate::meta::publish::{ContainerState, ContainerStatus, RecentPost};
use crate::meta::types::Quota;
use crate::meta::{MetaError, Usage};
use crate::model::classify::{self, ContainerSignal, FailureClass, TokenDeath, classify, container_signal};
use std::time::Duration;

/// Which request of a publication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `POST /{id}/media` or `/threads`: publishes nothing (see `meta/publish.rs`).
    CreateContainer,
    /// `GET /{container-id}`.
    PollContainer,
    /// `content_publishing_limit` / `threads_publishing_limit`.
    ReadLimit,
    /// The request that publishes: `/feed`, `/photos`, `media_publish`, `threads_publish`.
    Publish,
    /// Reading recent posts or media (reconciliation).
    Lookup,
}

/// Why a post was not published, in the terms of spec §6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub class: FailureClass,
    /// Set when the token itself is dead (190 subcodes, §8.3): the profile needs `sq reauth`.
    pub token_death: Option<TokenDeath>,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    /// What happened, in words (Meta's message is sanitized and token-free by `MetaError`).
    pub message: String,
    /// For transient and rate-limit failures: the earliest sensible retry (Meta's estimate or
    /// the backoff). `None` when unknown.
    pub retry_after: Option<Duration>,
    /// Meta answered the *publishing* request with a server error (any HTTP status ≥ 500, or
    /// Graph's code 1/2): it may have acted on it anyway, whatever the error says. Threads has
    /// been seen answering a 5xx with code 10 for a post that went out
    /// (<https://github.com/tirthpatell/threads-go/issues/30>). [`super::Publisher::publish`]
    /// looks at Meta before it classifies such an answer or sends again; a caller doing its own
    /// retry must reconcile first.
    pub check_before_resend: bool,
    /// A container that is still good for the next attempt (reuse it: creating another is
    /// wasteful, publishing both would be a duplicate).
    pub container_id: Option<String>,
}

impl Failure {
    pub fn new(class: FailureClass, message: impl Into<String>) -> Failure {
        Failure {
            class,
            token_death: None,
            code: None,
            subcode: None,
            message: message.into(),
            retry_after: None,
            check_before_resend: false,
            container_id: None,
        }
    }

    /// From the one classifier, with Meta's rate-limit estimate when it gave one.
    pub fn from_error(err: &MetaError) -> Failure {
        let c = err.classification();
        let (code, subcode) = err.code_subcode();
        let retry_after = match err {
            MetaError::RateLimited { regain_after, .. } => *regain_after,
            // The publishing quota: a rolling 24 h window.
            _ if classify::is_publishing_quota(code) => Some(QUOTA_RECHECK),
            _ => None,
        };
        Failure {
            class: c.class,
            token_death: c.token_death,
            code,
            subcode,
            message: err.to_string(),
            retry_after,
            check_before_resend: false,
            container_id: None,
        }
    }

    /// Spec §6: transient and rate-limit failures are retried automatically.
    pub fn is_retryable(&self) -> bool {
        self.class.is_retryable()
    }

    /// Spec §6: an `auth` failure holds the profile's other posts until it is healthy again.
    pub fn holds_profile(&self) -> bool {
        self.class == FailureClass::Auth
    }
}

/// What one failed step means for the post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Nothing was published by this request.
    Failed(Failure),
    /// Meta is still processing the container ([`ContainerSignal::NotReady`]): poll its
    /// status, then publish it again.
    NotReady,
    /// Meta can't find the container yet ([`ContainerSignal::NotFoundYet`]): re-read the
    /// status, wait, publish it again; make a new container once if it stays missing.
    NotFoundYet,
    /// The container can't be published any more ([`ContainerSignal::Dead`]): make a new one.
    ContainerDead,
    /// The publishing request went out and no usable answer came back (timeout, dropped
    /// connection, a success status with a body sq can't read): it may have published.
    /// Spec §6 `unknown`: reconcile before anything is sent again.
    Unknown { reason: String },
}

/// THE publishing rules on top of [`crate::model::classify`].
pub fn judge(step: Step, err: &MetaError) -> Judgement {
    if step == Step::Publish {
        match err {
            // A connect failure never reached Meta; everything else (timeouts, resets after
            // the request was written) may have been processed. Prior art §3 item 19: a false
            // failure retried blindly is a duplicate.
            MetaError::Unreachable { .. } if !err.nothing_sent() => {
                return Judgement::Unknown { reason: format!("no answer to the publish request: {err}") };
            }
            MetaError::BatchItemTimedOut => {
                return Judgement::Unknown { reason: "a batched publish request did not finish".into() };
            }
            // 2xx with a body sq can't read: Meta most likely published.
            MetaError::Unexpected { status, .. } if (200..300).contains(status) => {
                return Judgement::Unknown {
                    reason: format!("unreadable answer to the publish request: {err}"),
                };
            }
            _ => {}
        }
        let (code, subcode) = err.code_subcode();
        match container_signal(code, subcode) {
            Some(ContainerSignal::NotReady) => return Judgement::NotReady,
            Some(ContainerSignal::NotFoundYet) => return Judgement::NotFoundYet,
            Some(ContainerSignal::Dead) => return Judgement::ContainerDead,
            None => {}
        }
        let mut f = Failure::from_error(err);
        // A server error after the request went out: Meta may have published before failing,
        // so the answer is looked into before it counts, whatever its class (a 5xx carrying an
        // auth code is no proof of an auth problem). Graph's code 1/2 with a 4xx status is the
        // same unknown/service error when it classifies as transient
        // (https://developers.facebook.com/docs/graph-api/guides/error-handling).
        let http_5xx = match err {
            MetaError::Http { status, .. } => *status >= 500,
            MetaError::Api { error, .. } => error.http_status >= 500,
            _ => false,
        };
        let server_code =
            matches!(err, MetaError::Api { error, .. } if classify::is_server_error(error.code));
        f.check_before_resend = http_5xx || (server_code && f.class == FailureClass::Transient);
        return Judgement::Failed(f);
    }
    let mut f = Failure::from_error(err);
    // Reads and container creation publish nothing: no answer is just a transient failure.
    if matches!(err, MetaError::Unreachable { .. }) {
        f.class = FailureClass::Transient;
    }
    Judgement::Failed(f)
}

/// When to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Wait this long, then retry in this run.
    Now(Duration),
    /// Give the post back to the queue: retry after this long (another run).
    Later(Duration),
    /// Not automatically: the user must act (auth, media, content, unknown).
    Never,
}

/// Bounded retries with exponential backoff and jitter (spec §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failed tries handled inside one `publish` call before the post goes back to the queue.
    pub max_attempts: u32,
    pub base: Duration,
    /// Upper bound of the backoff itself (Meta's own estimate may be longer and wins).
    pub cap: Duration,
    /// Longest wait spent inside one `publish` call; longer waits go back to the queue.
    pub max_inline_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_secs(2),
            cap: Duration::from_secs(15 * 60),
            max_inline_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// `attempt` counts failures so far (1 = the first failed). `jitter` ∈ [0, 1]: half of
    /// the delay is fixed, half random, so many posts don't retry in lockstep.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let d = exp.min(self.cap);
        let j = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
        d / 2 + (d / 2).mul_f64(j)
    }

    /// `usage_regain`: [`usage_wait`] for the profile (§9), folded in for rate limits.
    pub fn decide(&self, f: &Failure, attempt: u32, usage_regain: Option<Duration>, jitter: f64) -> Retry {
        if !f.is_retryable() {
            return Retry::Never;
        }
        let mut wait = self.backoff(attempt, jitter);
        if let Some(r) = f.retry_after {
            wait = wait.max(r);
        }
        if f.class == FailureClass::RateLimit {
            if let Some(r) = usage_regain {
                wait = wait.max(r);
            }
        }
        if attempt >= self.max_attempts || wait > self.max_inline_wait {
            Retry::Later(wait)
        } else {
            Retry::Now(wait)
        }
    }
}

/// Throttling reported by the usage headers for one business object (a Page or Instagram id,
/// §9): Meta's `estimated_time_to_regain_access`, when it gave a non-zero one.
///
/// Used only to lengthen the wait after a rate-limit error, never to refuse a request up
/// front: the client keeps the last headers it saw, and Meta stops sending them when usage is
/// low, so a stale 100 % would otherwise block a profile forever.
pub fn usage_wait(usage: &Usage, object_id: &str) -> Option<Duration> {
    usage.business.get(object_id)?.iter().filter_map(|b| b.regain_after).filter(|d| !d.is_zero()).max()
}

/// How often to read a container's status (§7.2: Meta advises once a minute for at most
/// 5 minutes; sq starts faster because most images finish in seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPolicy {
    pub first: Duration,
    pub max_interval: Duration,
    /// Status reads answering `IN_PROGRESS` (or publishes answering "not ready") before sq
    /// gives up for this run and leaves the container for the next.
    pub max_polls: u32,
}

impl Default for PollPolicy {
    fn default() -> Self {
        // 2+4+8+16+32+60+60+60+60 s ≈ 5 min.
        PollPolicy { first: Duration::from_secs(2), max_interval: Duration::from_secs(60), max_polls: 9 }
    }
}

impl PollPolicy {
    /// The wait before poll number `polls_done + 1`, or `None` when the budget is spent.
    pub fn delay(&self, polls_done: u32) -> Option<Duration> {
        if polls_done >= self.max_polls {
            return None;
        }
        Some(self.first.saturating_mul(1u32 << polls_done.min(20)).min(self.max_interval))
    }
}

/// How hard to look at Meta after an answer that may hide a publication (a server error on
/// the publishing request, or a refusal right after it): the container status can lag behind
/// the publish, and the post can lag in the recent-posts listing, so one read is not enough
/// (threads-go polls both for a few seconds: <https://github.com/tirthpatell/threads-go>,
/// `posts_publish_recovery.go`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlePolicy {
    /// Reads of the container status (Instagram/Threads) or of the Page's recent posts
    /// (Facebook) before sq concludes the post did not go out.
    pub reads: u32,
    /// Time between two reads.
    pub interval: Duration,
}

impl Default for SettlePolicy {
    fn default() -> Self {
        SettlePolicy { reads: 4, interval: Duration::from_secs(1) }
    }
}

/// What to do after a container status read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerNext {
    /// `FINISHED`: publish it.
    Publish,
    /// `IN_PROGRESS`: read again after this long.
    Wait(Duration),
    /// `PUBLISHED`: it is out; record success and never publish it again.
    AlreadyPublished,
    /// `EXPIRED`: dead; make a new container.
    Recreate,
    /// `ERROR` (a media failure) or an unknown state: the post failed.
    Failed(Failure),
    /// Still `IN_PROGRESS` after the poll budget: try again in a later run with the same
    /// container.
    GiveUp(Failure),
}

pub fn next_for_container(status: &ContainerStatus, polls_done: u32, poll: &PollPolicy) -> ContainerNext {
    match &status.state {
        ContainerState::Finished => ContainerNext::Publish,
        ContainerState::Published => ContainerNext::AlreadyPublished,
        ContainerState::Expired => ContainerNext::Recreate,
        ContainerState::InProgress => match poll.delay(polls_done) {
            Some(d) => ContainerNext::Wait(d),
            None => {
                let mut f = Failure::new(
                    FailureClass::Transient,
                    format!("Meta was still processing the media after {polls_done} status checks"),
                );
                f.retry_after = Some(poll.max_interval);
                f.container_id = Some(status.id.clone());
                ContainerNext::GiveUp(f)
            }
        },
        ContainerState::Error => {
            // §8.4: "Error: Media upload has failed with error code 2207026" — the subcode in
            // the text goes through the one classifier; a container ERROR is about the media
            // whatever the number.
            let detail = status.detail.clone().unwrap_or_else(|| "no detail".into());
            let subcode = subcode_in(&detail);
            let class = match subcode.map(|s| classify(None, Some(s), None).class) {
                Some(c @ (FailureClass::Media | FailureClass::Content)) => c,
                _ => FailureClass::Media,
            };
            let mut f = Failure::new(class, format!("Meta could not process the media: {detail}"));
            f.subcode = subcode;
            ContainerNext::Failed(f)
        }
        ContainerState::Other(s) => ContainerNext::Failed(Failure::new(
            FailureClass::Unknown,
            format!("the container is in a state sq does not know: {s}"),
        )),
    }
}

/// The first 7-digit number starting with 2207 in Meta's status text.
fn subcode_in(text: &str) -> Option<i64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 7 && w.starts_with("2207"))
        .find_map(|w| w.parse().ok())
}

/// When to look at a reached publishing quota again. The rolling 24 h window (§7.2, §7.3)
/// does not say when the oldest publication leaves it, so sq re-checks hourly rather than
/// waiting a whole day or hammering the limit.
pub const QUOTA_RECHECK: Duration = Duration::from_secs(3600);

/// `content_publishing_limit` / `threads_publishing_limit` read at run time (§7.2, §7.3;
/// never hard-coded): a reached quota is a `rate_limit` outcome, re-checked after
/// [`QUOTA_RECHECK`].
pub fn quota_failure(quota: &Quota) -> Option<Failure> {
    if !quota.is_reached() {
        return None;
    }
    let total = quota.total.unwrap_or(quota.usage);
    let window = quota.duration_secs.map(|s| format!(" per {} h", (s / 3600).max(1))).unwrap_or_default();
    let mut f = Failure::new(
        FailureClass::RateLimit,
        format!("the profile's publishing limit is reached ({} of {total}{window})", quota.usage),
    );
    f.retry_after = Some(QUOTA_RECHECK);
    Some(f)
}

/// How far before the recorded start a post's `created_time` may be and still count as ours
/// (clock skew between this machine and Meta).
pub const CLOCK_SKEW_SECS: i64 = 300;

/// Finds the post sq sent among a profile's recent posts: the oldest one whose text is exactly
/// `text` (surrounding whitespace aside) and that was created no earlier than `since` minus
/// [`CLOCK_SKEW_SECS`].
///
/// Why text and time, and nothing hidden: sq publishes the user's words as they are; a
/// marker (an invisible character, a tag) would change the post people see and break Meta's
/// own duplicate detection (506). The limits, stated where they are decided:
/// - A post with no text can't be recognised (`None`; callers report "still unknown").
/// - Facebook returns no `link` for posts any more, so two posts with the same text and
///   different links in the window look alike; Meta refuses a repeated message on a Page
///   within a short window (506), which makes that rare.
/// - A post edited on Meta's side before reconciliation no longer matches.
/// - An identical post made by hand in the window would be taken for sq's: the safe
///   direction (no duplicate is sent).
pub fn find_own_post<'a>(posts: &'a [RecentPost], text: &str, since: i64) -> Option<&'a RecentPost> {
    let want = text.trim();
    if want.is_empty() {
        return None;
    }
    posts
        .iter()
        .filter(|p| p.message.as_deref().map(str::trim) == Some(want))
        .filter(|p| p.created_unix().is_none_or(|t| t >= since - CLOCK_SKEW_SECS))
        .min_by_key(|p| p.created_unix().unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::error::ApiError;

    fn api(code: Option<i64>, subcode: Option<i64>, http_status: u16) -> MetaError {
        MetaError::Api {
            endpoint: "graph.facebook.com/v27.0/1/media_publish".into(),
            error: Box::new(ApiError {
                http_status,
                code,
                subcode,
                message: "m".into(),
                ..ApiError::default()
            }),
        }
    }

    fn unreachable(reason: &str, timed_out: bool) -> MetaError {
        MetaError::Unreachable { host: "graph.facebook.com".into(), reason: reason.into(), timed_out }
    }

    fn class_of(j: &Judgement) -> Option<FailureClass> {
        match j {
            Judgement::Failed(f) => Some(f.class),
            _ => None,
        }
    }

    #[test]
    fn judge_publish_step() {
        use FailureClass::*;
        // (error, expected judgement kind, class when Failed)
        let rows: Vec<(MetaError, &str, Option<FailureClass>)> = vec![
            (unreachable("timed out", true), "unknown", None),
            (unreachable("connection broken: reset", false), "unknown", None),
            (unreachable("connection failed: refused", false), "failed", Some(Transient)),
            (
                MetaError::Unexpected { endpoint: "e".into(), status: 200, detail: "not JSON".into() },
                "unknown",
                None,
            ),
            (api(Some(9007), Some(2_207_027), 400), "not_ready", None),
            (api(Some(24), None, 400), "not_found_yet", None),
            (api(Some(24), Some(4_279_009), 400), "not_found_yet", None),
            (api(Some(24), Some(2_207_008), 400), "not_found_yet", None),
            (api(Some(24), Some(2_207_006), 400), "failed", Some(Content)),
            (api(Some(-2), Some(2_207_020), 400), "dead", None),
            (api(Some(-1), Some(2_207_032), 400), "dead", None),
            (api(Some(-1), Some(2_207_001), 400), "failed", Some(Transient)),
            (api(Some(9), Some(2_207_042), 400), "failed", Some(RateLimit)),
            (api(Some(9), None, 400), "failed", Some(RateLimit)),
            (api(Some(506), None, 400), "failed", Some(Content)),
            (api(Some(368), None, 400), "failed", Some(Content)),
            (api(Some(190), Some(460), 400), "failed", Some(Auth)),
            (api(Some(10), None, 403), "failed", Some(Auth)),
            (api(Some(9004), Some(2_207_052), 400), "failed", Some(Media)),
            (api(Some(2), None, 500), "failed", Some(Transient)),
            (
                MetaError::Http { host: "h".into(), status: 502, snippet: "<html>".into() },
                "failed",
                Some(Transient),
            ),
            (api(Some(100), Some(33), 400), "failed", Some(Unknown)),
        ];
        for (err, kind, class) in rows {
            let j = judge(Step::Publish, &err);
            let got = match &j {
                Judgement::Failed(_) => "failed",
                Judgement::NotReady => "not_ready",
                Judgement::NotFoundYet => "not_found_yet",
                Judgement::ContainerDead => "dead",
                Judgement::Unknown { .. } => "unknown",
            };
            assert_eq!(got, kind, "{err}");
            assert_eq!(class_of(&j), class, "{err}");
        }
        // Server errors after the publish request went out: look before resending, whatever
        // the class (Threads' 5xx with code 10 for a post that went out).
        for err in [
            MetaError::Http { host: "h".into(), status: 502, snippet: "x".into() },
            api(Some(2), None, 500),
            api(Some(2), None, 400),
            api(Some(10), None, 500),
            api(Some(190), Some(460), 503),
        ] {
            let Judgement::Failed(f) = judge(Step::Publish, &err) else { panic!("failed expected") };
            assert!(f.check_before_resend, "{err}");
        }
        for err in [api(Some(10), None, 400), api(Some(506), None, 400), api(Some(100), None, 400)] {
            let Judgement::Failed(f) = judge(Step::Publish, &err) else { panic!("failed expected") };
            assert!(!f.check_before_resend, "{err}");
        }
        let Judgement::Failed(f) = judge(Step::Publish, &api(Some(10), None, 500)) else { panic!() };
        assert_eq!(f.class, Auth, "classified as Meta said, looked into first");
        let Judgement::Failed(f) = judge(Step::Publish, &api(Some(190), Some(460), 400)) else { panic!() };
        assert_eq!(f.token_death, Some(TokenDeath::PasswordChanged));
        assert!(f.holds_profile() && !f.check_before_resend);
    }

    #[test]
    fn judge_other_steps_never_unknown() {
        for step in [Step::CreateContainer, Step::PollContainer, Step::ReadLimit, Step::Lookup] {
            let j = judge(step, &unreachable("timed out", true));
            assert_eq!(class_of(&j), Some(FailureClass::Transient), "{step:?}");
            let j = judge(step, &api(Some(9007), Some(2_207_027), 400));
            assert_eq!(class_of(&j), Some(FailureClass::Transient), "{step:?}");
            let j = judge(step, &api(Some(9004), Some(2_207_052), 400));
            assert_eq!(class_of(&j), Some(FailureClass::Media), "{step:?}");
        }
        let rl = MetaError::RateLimited {
            endpoint: "e".into(),
            error: Box::new(ApiError { http_status: 400, code: Some(80002), ..ApiError::default() }),
            regain_after: Some(Duration::from_secs(300)),
        };
        let Judgement::Failed(f) = judge(Step::Publish, &rl) else { panic!() };
        assert_eq!((f.class, f.retry_after), (FailureClass::RateLimit, Some(Duration::from_secs(300))));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(10),
            max_inline_wait: Duration::from_secs(30),
        };
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(2, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(3, 0.5), Duration::from_secs(3));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(1000, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(3, f64::NAN), Duration::from_secs(2));
    }

    #[test]
    fn retry_decisions() {
        use FailureClass::*;
        let p = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            max_inline_wait: Duration::from_secs(10),
        };
        let f = |class| Failure::new(class, "x");
        for c in [Auth, Media, Content, Unknown] {
            assert_eq!(p.decide(&f(c), 1, None, 1.0), Retry::Never, "{c}");
        }
        assert_eq!(p.decide(&f(Transient), 1, None, 1.0), Retry::Now(Duration::from_secs(1)));
        assert_eq!(p.decide(&f(Transient), 2, None, 1.0), Retry::Now(Duration::from_secs(2)));
        // Bounded: the third failure goes back to the queue.
        assert_eq!(p.decide(&f(Transient), 3, None, 1.0), Retry::Later(Duration::from_secs(4)));
        // Meta's estimate wins over the backoff; too long to wait inline.
        let mut rl = f(RateLimit);
        rl.retry_after = Some(Duration::from_secs(300));
        assert_eq!(p.decide(&rl, 1, None, 0.0), Retry::Later(Duration::from_secs(300)));
        // Usage headers' regain time for the profile counts for rate limits only.
        assert_eq!(
            p.decide(&f(RateLimit), 1, Some(Duration::from_secs(120)), 0.0),
            Retry::Later(Duration::from_secs(120))
        );
        assert_eq!(
            p.decide(&f(Transient), 1, Some(Duration::from_secs(120)), 1.0),
            Retry::Now(Duration::from_secs(1))
        );
        assert_eq!(
            p.decide(&f(RateLimit), 1, Some(Duration::from_secs(5)), 0.0),
            Retry::Now(Duration::from_secs(5))
        );
    }

    #[test]
    fn usage_regain_per_object() {
        let u = Usage::parse(
            None,
            Some(r#"{"777":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":7}],"888":[{"type":"pages","call_count":10,"estimated_time_to_regain_access":0}]}"#),
        )
        .expect("usage");
        assert_eq!(usage_wait(&u, "777"), Some(Duration::from_secs(420)));
        assert_eq!(usage_wait(&u, "888"), None);
        assert_eq!(usage_wait(&u, "999"), None);
    }

    fn status(state: ContainerState, detail: Option<&str>) -> ContainerStatus {
        ContainerStatus { id: "c1".into(), state, detail: detail.map(str::to_string) }
    }

    #[test]
    fn container_schedule() {
        let poll =
            PollPolicy { first: Duration::from_secs(2), max_interval: Duration::from_secs(10), max_polls: 4 };
        assert_eq!(
            (0..6).map(|n| poll.delay(n)).collect::<Vec<_>>(),
            [2, 4, 8, 10]
                .iter()
                .map(|s| Some(Duration::from_secs(*s)))
                .chain([None, None])
                .collect::<Vec<_>>()
        );
        assert_eq!(
            next_for_container(&status(ContainerState::Finished, None), 0, &poll),
            ContainerNext::Publish
        );
        assert_eq!(
            next_for_container(&status(ContainerState::Published, None), 0, &poll),
            ContainerNext::AlreadyPublished
        );
        assert_eq!(
            next_for_container(&status(ContainerState::Expired, None), 0, &poll),
            ContainerNext::Recreate
        );
        assert_eq!(
            next_for_container(&status(ContainerState::InProgress, None), 1, &poll),
            ContainerNext::Wait(Duration::from_secs(4))
        );
        let ContainerNext::GiveUp(f) =
            next_for_container(&status(ContainerState::InProgress, None), 4, &poll)
        else {
            panic!("give up expected")
        };
        assert_eq!((f.class, f.container_id.as_deref()), (FailureClass::Transient, Some("c1")));
        let e = status(ContainerState::Error, Some("Error: Media upload has failed with error code 2207026"));
        let ContainerNext::Failed(f) = next_for_container(&e, 0, &poll) else { panic!() };
        assert_eq!((f.class, f.subcode), (FailureClass::Media, Some(2_207_026)));
        assert!(f.message.contains("2207026") && f.container_id.is_none());
        let ContainerNext::Failed(f) =
            next_for_container(&status(ContainerState::Error, Some("FAILED_DOWNLOADING_VIDEO")), 0, &poll)
        else {
            panic!()
        };
        assert_eq!((f.class, f.subcode), (FailureClass::Media, None));
        let ContainerNext::Failed(f) =
            next_for_container(&status(ContainerState::Other("X".into()), None), 0, &poll)
        else {
            panic!()
        };
        assert_eq!(f.class, FailureClass::Unknown);
    }

    #[test]
    fn quota() {
        let q = |usage, total| Quota { usage, total, duration_secs: Some(86400) };
        assert_eq!(quota_failure(&q(99, Some(100))), None);
        assert_eq!(quota_failure(&q(5, None)), None);
        let f = quota_failure(&q(100, Some(100))).expect("reached");
        assert_eq!((f.class, f.retry_after), (FailureClass::RateLimit, Some(QUOTA_RECHECK)));
        assert!(f.message.contains("100 of 100 per 24 h"), "{}", f.message);
        assert!(quota_failure(&q(251, Some(250))).is_some());
    }

    #[test]
    fn own_post_matching() {
        let p = |id: &str, msg: Option<&str>, t: &str| RecentPost {
            id: id.into(),
            message: msg.map(str::to_string),
            created_time: Some(t.into()),
        };
        // 1795168800 = 2026-11-20T10:00:00Z
        let posts = vec![
            p("777_4", Some("Fresh bread"), "2026-11-20T10:02:00+0000"),
            p("777_3", Some("Fresh bread "), "2026-11-20T10:01:00+0000"),
            p("777_2", Some("Other"), "2026-11-20T10:00:30+0000"),
            p("777_1", Some("Fresh bread"), "2026-11-20T09:00:00+0000"),
            p("777_0", None, "2026-11-20T10:00:10+0000"),
        ];
        let since = 1_795_168_800;
        assert_eq!(find_own_post(&posts, "Fresh bread", since).map(|p| p.id.as_str()), Some("777_3"));
        assert_eq!(find_own_post(&posts, "Other", since).map(|p| p.id.as_str()), Some("777_2"));
        assert_eq!(find_own_post(&posts, "Missing", since), None);
        assert_eq!(find_own_post(&posts, "  ", since), None);
        // Older than the window minus the skew: not ours.
        assert_eq!(find_own_post(&posts[3..4], "Fresh bread", since), None);
        assert!(find_own_post(&posts[3..4], "Fresh bread", since - 3600 + CLOCK_SKEW_SECS).is_some());
    }
}
