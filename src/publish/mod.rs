//! Publishing, exactly once (spec §6): the publishers per network and the retry/reconcile
//! policy.
//!
//! - [`policy`]: the pure core (error → outcome, retries, container schedule, limits, matching).
//! - [`Publisher::publish`]: Facebook `/feed` or `/photos` (`facebook.rs`); Instagram and
//!   Threads container → status poll → publish (`container.rs`).
//! - [`Publisher::reconcile`]: what happened to an `unknown` post.
//!
//! Exactly once rests on three rules:
//! 1. The caller's [`Journal`] records each step *before* the request that could publish goes
//!    out, so a crash leaves an `unknown` post with the remote ids it needs, never a silent gap.
//! 2. A publishing request that got no usable answer is `unknown`, never a failure to retry
//!    (prior-art §3 items 19–20); it is reconciled with Meta first.
//! 3. Instagram and Threads publish a *container*, and a container publishes at most once: a
//!    resumed attempt reads the recorded container's status first (PUBLISHED → done; FINISHED →
//!    publish that same container), so it never makes a second one while the first may be live.
//!
//! Citations: spec §n of docs/reference/spec.md; prior-art §n of docs/reference/prior-art.md.

pub mod journal_db;
pub mod owner;
pub mod policy;

mod container;
mod facebook;

use crate::ctx::Clock;
use crate::meta::GraphClient;
use crate::model::ProfileKind;
use crate::model::classify::FailureClass;
use crate::secret::Secret;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

pub use policy::{
    ContainerNext, Failure, Judgement, PollPolicy, Retry, RetryPolicy, SettlePolicy, Step, find_own_post,
    judge, next_for_container, quota_failure, usage_wait,
};

/// One post to publish, with what earlier attempts recorded through the [`Journal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRequest {
    pub kind: ProfileKind,
    /// Page id, Instagram user id or Threads user id.
    pub profile_id: String,
    pub text: String,
    /// Facebook only (the feed's `link`); Instagram and Threads have no link field.
    pub link: Option<String>,
    /// Public image URLs; sq publishes at most one per post for now (no carousels).
    pub image_urls: Vec<String>,
    pub recorded: Recorded,
}

impl PostRequest {
    pub fn new(kind: ProfileKind, profile_id: impl Into<String>, text: impl Into<String>) -> PostRequest {
        PostRequest {
            kind,
            profile_id: profile_id.into(),
            text: text.into(),
            link: None,
            image_urls: Vec::new(),
            recorded: Recorded::default(),
        }
    }

    pub fn with_link(mut self, link: impl Into<String>) -> PostRequest {
        self.link = Some(link.into());
        self
    }

    pub fn with_image(mut self, url: impl Into<String>) -> PostRequest {
        self.image_urls.push(url.into());
        self
    }

    pub fn with_recorded(mut self, recorded: Recorded) -> PostRequest {
        self.recorded = recorded;
        self
    }

    /// A stable hash of what is published (profile, text, link, images): the caller stores it
    /// with [`Journal::about_to_post`] to recognise the same content later.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for part in [self.profile_id.as_str(), self.text.as_str(), self.link.as_deref().unwrap_or("")]
            .into_iter()
            .chain(self.image_urls.iter().map(String::as_str))
        {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// What an earlier attempt recorded (from the caller's database).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Instagram/Threads container from [`Journal::container_created`].
    pub container_id: Option<String>,
    /// Unix time of the *first* publishing request ([`Journal::about_to_post`] /
    /// [`Journal::about_to_publish`]): reconciliation looks for the post from then on.
    pub started_at: Option<i64>,
}

/// The journal could not record a step: nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not record the publishing step: {0}")]
pub struct JournalError(pub String);

/// Durable checkpoints, implemented by the caller over its database. Each method is called
/// *before* the request it announces; if it fails, the request is not sent. When the process
/// dies after a checkpoint, the post is `unknown` and carries what it needs to be reconciled.
pub trait Journal: Send {
    /// Facebook: the post request is about to go out (`at`: Unix seconds). Keep the first
    /// `at` of a post as [`Recorded::started_at`].
    fn about_to_post(&mut self, fingerprint: &str, at: i64) -> Result<(), JournalError>;
    /// Instagram/Threads: a container exists; store it as [`Recorded::container_id`] so a later
    /// attempt reuses it. (Called after creation: an unrecorded container publishes nothing.)
    fn container_created(&mut self, container_id: &str) -> Result<(), JournalError>;
    /// Instagram/Threads: `media_publish`/`threads_publish` for this container is about to go
    /// out. Keep the first `at` as [`Recorded::started_at`].
    fn about_to_publish(&mut self, container_id: &str, at: i64) -> Result<(), JournalError>;
}

/// A journal that keeps the checkpoints in memory (tests, dry runs).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemoryJournal {
    pub recorded: Recorded,
    /// Every checkpoint in order, e.g. `container_created 123`.
    pub events: Vec<String>,
}

impl Journal for MemoryJournal {
    fn about_to_post(&mut self, fingerprint: &str, at: i64) -> Result<(), JournalError> {
        self.recorded.started_at.get_or_insert(at);
        let short: String = fingerprint.chars().take(12).collect();
        self.events.push(format!("about_to_post {short}"));
        Ok(())
    }

    fn container_created(&mut self, container_id: &str) -> Result<(), JournalError> {
        self.recorded.container_id = Some(container_id.to_string());
        self.events.push(format!("container_created {container_id}"));
        Ok(())
    }

    fn about_to_publish(&mut self, container_id: &str, at: i64) -> Result<(), JournalError> {
        self.recorded.started_at.get_or_insert(at);
        self.events.push(format!("about_to_publish {container_id}"));
        Ok(())
    }
}

/// A published post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Facebook post id (`{page}_{post}`), Instagram or Threads media id. `None` only when a
    /// container was found already PUBLISHED and the media could not be found in the recent
    /// media (Meta's container status carries no media id).
    pub remote_id: Option<String>,
    pub container_id: Option<String>,
    /// Found already published (a resumed or reconciled attempt), not published just now.
    pub already: bool,
}

/// Why `publish` did not end with a published post.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishFailure {
    /// Nothing was published. The failure says the class, whether and when to retry, and the
    /// container to reuse.
    #[error("{} failure: {}", .0.class, .0.message)]
    Failed(Failure),
    /// A publishing request went out and no usable answer came back: spec §6 `unknown`.
    /// Reconcile before anything is sent again.
    #[error("outcome unknown: {reason}")]
    Unknown { reason: String, recorded: Recorded },
    /// The journal refused a checkpoint; the request was not sent.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl PublishFailure {
    /// The spec §6 class (`unknown` for an unknown outcome and journal failures).
    pub fn class(&self) -> FailureClass {
        match self {
            PublishFailure::Failed(f) => f.class,
            PublishFailure::Unknown { .. } | PublishFailure::Journal(_) => FailureClass::Unknown,
        }
    }
}

/// What reconciliation found for an `unknown` post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// It is out: mark it `published` (the id may be missing, see [`Published::remote_id`]).
    Published { remote_id: Option<String> },
    /// Meta has no trace of it: safe to publish again (Instagram/Threads: with the same
    /// container when it is still good).
    NotPublished,
    /// Meta could not be asked, or the answer can't tell: keep it `unknown`, send nothing.
    StillUnknown(String),
}

/// Timing and bounds of a [`Publisher`].
#[derive(Clone)]
pub struct PublishOptions {
    pub retry: RetryPolicy,
    pub poll: PollPolicy,
    /// Looking at Meta after a publishing answer that may hide a publication (a 5xx).
    pub settle: SettlePolicy,
    /// Facebook reconciliation looks at the Page's posts at once, but trusts "not among the
    /// recent posts" only this long after the recorded start: a request Meta is still working
    /// on could land later. Keep it above the HTTP timeout. (Instagram/Threads need none: a
    /// container publishes once.)
    pub reconcile_grace: Duration,
    /// Recent posts read when looking for one (newest first).
    pub lookup_limit: u32,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PublishOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishOptions")
            .field("retry", &self.retry)
            .field("poll", &self.poll)
            .field("settle", &self.settle)
            .field("reconcile_grace", &self.reconcile_grace)
            .field("lookup_limit", &self.lookup_limit)
            .finish_non_exhaustive()
    }
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            settle: SettlePolicy::default(),
            reconcile_grace: Duration::from_secs(120),
            lookup_limit: 25,
            clock: Arc::new(crate::ctx::SystemClock),
        }
    }
}

/// Publishes posts and reconciles unknown ones. One value serves every network; the network
/// code lives in `facebook.rs` (feed/photos) and `container.rs` (Instagram, Threads).
#[derive(Debug, Clone)]
pub struct Publisher {
    client: GraphClient,
    opts: PublishOptions,
}

impl Publisher {
    pub fn new(client: GraphClient, opts: PublishOptions) -> Publisher {
        Publisher { client, opts }
    }

    pub fn client(&self) -> &GraphClient {
        &self.client
    }

    pub fn options(&self) -> &PublishOptions {
        &self.opts
    }

    /// Publishes `post` with the profile's token (Page token for Facebook and Instagram via a
    /// Page; Instagram Login or Threads token otherwise). Safe to call again on a post that
    /// recorded a container or a start: it checks what happened before sending anything.
    pub async fn publish(
        &self,
        post: &PostRequest,
        token: &Secret,
        journal: &mut dyn Journal,
    ) -> Result<Published, PublishFailure> {
        if let Some(f) = validate(post) {
            return Err(PublishFailure::Failed(f));
        }
        match post.kind {
            ProfileKind::FacebookPage => self.publish_facebook(post, token, journal).await,
            ProfileKind::InstagramViaPage | ProfileKind::InstagramLogin | ProfileKind::Threads => {
                self.publish_container(post, token, journal).await
            }
        }
    }

    /// What happened to an `unknown` post, from what it recorded. Never sends a post.
    pub async fn reconcile(&self, post: &PostRequest, token: &Secret) -> Reconciled {
        match post.kind {
            ProfileKind::FacebookPage => self.reconcile_facebook(post, token).await,
            ProfileKind::InstagramViaPage | ProfileKind::InstagramLogin | ProfileKind::Threads => {
                self.reconcile_container(post, token).await
            }
        }
    }

    fn now(&self) -> i64 {
        self.opts.clock.now_unix()
    }

    /// Sleeps before retry `attempt` when the policy allows it in this run; otherwise returns
    /// the failure with its `retry_after`.
    async fn retry_or_fail(&self, mut f: Failure, attempt: u32, profile_id: &str) -> Result<(), Failure> {
        let regain = usage_wait(&self.client.usage(), profile_id);
        let jitter = getrandom::u64().map(|r| (r % 1001) as f64 / 1000.0).unwrap_or(0.5);
        match self.opts.retry.decide(&f, attempt, regain, jitter) {
            Retry::Now(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Retry::Later(d) => {
                f.retry_after = Some(d);
                Err(f)
            }
            Retry::Never => Err(f),
        }
    }
}

/// Checks that need no request: what sq can publish to each network.
pub fn validate(post: &PostRequest) -> Option<Failure> {
    let refuse = |m: &str| Some(Failure::new(FailureClass::Content, m));
    if post.image_urls.len() > 1 {
        return refuse("sq publishes one image per post; carousels and albums are not supported yet");
    }
    let has_text = !post.text.trim().is_empty();
    match post.kind {
        ProfileKind::FacebookPage if !has_text && post.link.is_none() && post.image_urls.is_empty() => {
            refuse("a Facebook post needs a message, a link or an image")
        }
        ProfileKind::InstagramViaPage | ProfileKind::InstagramLogin if post.image_urls.is_empty() => {
            refuse("an Instagram post needs an image")
        }
        ProfileKind::Threads if !has_text && post.image_urls.is_empty() => {
            refuse("a Threads post needs text or an image")
        }
        ProfileKind::InstagramViaPage | ProfileKind::InstagramLogin | ProfileKind::Threads
            if post.link.is_some() =>
        {
            refuse("Instagram and Threads posts have no link field; put the link in the text")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_separates_fields() {
        let a = PostRequest::new(ProfileKind::FacebookPage, "777", "ab");
        let b = PostRequest::new(ProfileKind::FacebookPage, "777", "a").with_link("b");
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
    }

    #[test]
    fn validation() {
        use ProfileKind::*;
        let ok = |p: &PostRequest| validate(p).is_none();
        assert!(ok(&PostRequest::new(FacebookPage, "1", "hi")));
        assert!(ok(&PostRequest::new(FacebookPage, "1", "").with_link("https://x")));
        assert!(!ok(&PostRequest::new(FacebookPage, "1", " ")));
        assert!(!ok(&PostRequest::new(InstagramLogin, "1", "hi")));
        assert!(ok(&PostRequest::new(InstagramViaPage, "1", "").with_image("https://x/a.jpg")));
        assert!(!ok(&PostRequest::new(InstagramViaPage, "1", "").with_image("a").with_image("b")));
        assert!(!ok(&PostRequest::new(Threads, "1", "hi").with_link("https://x")));
        assert!(ok(&PostRequest::new(Threads, "1", "hi")));
        assert!(!ok(&PostRequest::new(Threads, "1", "")));
    }
}
