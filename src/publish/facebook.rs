//! Facebook Page publishing (meta-platform.md §7.1): `/feed` (message, link) or `/photos`
//! (url, message), and reconciliation through the Page's recent posts.
//!
//! A Facebook post has no container, so nothing on Meta's side makes a resend harmless: a post
//! is sent again only when sq knows the previous request did not publish (a refusal, a connect
//! failure) or after reconciliation found no trace of it.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::policy::{Failure, Judgement, Step, find_own_post, judge};
use super::{Journal, PostRequest, PublishFailure, Published, Publisher, Reconciled, Recorded};
use crate::model::classify::FailureClass;
use crate::secret::Secret;

impl Publisher {
    pub(super) async fn publish_facebook(
        &self,
        post: &PostRequest,
        token: &Secret,
        journal: &mut dyn Journal,
    ) -> Result<Published, PublishFailure> {
        let mut started = post.recorded.started_at;
        // An earlier attempt went out: look before sending again.
        if started.is_some() {
            match self.reconcile_facebook(post, token).await {
                Reconciled::Published { remote_id } => {
                    return Ok(Published { remote_id, container_id: None, already: true });
                }
                Reconciled::NotPublished => {}
                Reconciled::StillUnknown(reason) => {
                    return Err(PublishFailure::Unknown { reason, recorded: post.recorded.clone() });
                }
            }
        }
        let fingerprint = post.fingerprint();
        let message = Some(post.text.as_str()).filter(|t| !t.trim().is_empty());
        let mut attempt = 0u32;
        loop {
            let at = self.now();
            journal.about_to_post(&fingerprint, at)?;
            let since = *started.get_or_insert(at);
            let sent = match post.image_urls.first() {
                Some(url) => self
                    .client
                    .page_photo_post(&post.profile_id, url, message, token)
                    .await
                    .map(|p| p.best_id().to_string()),
                None => {
                    self.client.page_feed_post(&post.profile_id, message, post.link.as_deref(), token).await
                }
            };
            let err = match sent {
                Ok(id) => return Ok(Published { remote_id: Some(id), container_id: None, already: false }),
                Err(e) => e,
            };
            let mut f = match judge(Step::Publish, &err) {
                Judgement::Unknown { reason } => {
                    let recorded = Recorded { container_id: None, started_at: Some(since) };
                    return Err(PublishFailure::Unknown { reason, recorded });
                }
                Judgement::Failed(f) => f,
                // Container rules don't apply to a Page post; keep the plain class.
                Judgement::NotReady | Judgement::NotFoundYet | Judgement::ContainerDead => {
                    Failure::from_error(&err)
                }
            };
            if f.check_before_resend {
                // Meta failed on its side after receiving the post and may have published it:
                // look at the Page's posts before the answer counts.
                if let Some(id) = self.look_for_post(post, since, token).await {
                    return Ok(Published { remote_id: Some(id), container_id: None, already: true });
                }
                if !f.is_retryable() {
                    // A server error that names another cause (an auth or content code) is no
                    // proof the post was refused, and a Page post has no container to tell:
                    // the outcome is unknown until the Page shows it or the grace period ends.
                    let reason = format!(
                        "Meta answered the post request with a server error ({}) and the post is not on the                          Page yet; sq looks again before sending anything",
                        f.message
                    );
                    let recorded = Recorded { container_id: None, started_at: Some(since) };
                    return Err(PublishFailure::Unknown { reason, recorded });
                }
                // Not resent in this run: the next attempt reconciles first, after the grace
                // period (a request still in Meta's hands could land late).
                let grace = self.opts.reconcile_grace;
                f.retry_after = Some(f.retry_after.map_or(grace, |r| r.max(grace)));
                return Err(PublishFailure::Failed(f));
            }
            attempt += 1;
            self.retry_or_fail(f, attempt, &post.profile_id).await.map_err(PublishFailure::Failed)?;
        }
    }

    pub(super) async fn reconcile_facebook(&self, post: &PostRequest, token: &Secret) -> Reconciled {
        let Some(since) = post.recorded.started_at else {
            // No post request was ever announced, so none went out.
            return Reconciled::NotPublished;
        };
        if post.text.trim().is_empty() {
            return Reconciled::StillUnknown(
                "a post without text can't be recognised among the Page's posts; check the Page and \
                 mark the post by hand"
                    .into(),
            );
        }
        // Look first: a post Meta shows is settled at once, however recent. Only "not there"
        // has to wait out the grace period.
        match self.client.page_recent_posts(&post.profile_id, self.opts.lookup_limit, token).await {
            Ok(posts) => match find_own_post(&posts, &post.text, since) {
                Some(p) => Reconciled::Published { remote_id: Some(p.id.clone()) },
                None => {
                    let grace = i64::try_from(self.opts.reconcile_grace.as_secs()).unwrap_or(i64::MAX);
                    let waited = self.now().saturating_sub(since);
                    if waited < grace && !self.opts.reconcile_grace.is_zero() {
                        Reconciled::StillUnknown(format!(
                            "the post is not among the Page's posts yet; it was sent {waited} s ago and Meta may                              still be handling it, so sq looks again after {grace} s before sending anything"
                        ))
                    } else {
                        Reconciled::NotPublished
                    }
                }
            },
            Err(e) => {
                let f = Failure::from_error(&e);
                let why = if f.class == FailureClass::Auth { " (the token needs `sq reauth`)" } else { "" };
                Reconciled::StillUnknown(format!("could not read the Page's recent posts{why}: {e}"))
            }
        }
    }

    /// After a server error on the post request: the Page's recent posts, read up to
    /// [`super::SettlePolicy::reads`] times (the listing can lag behind the post). The post's
    /// id when it is there; `None` when it is not, or the Page can't be read.
    async fn look_for_post(&self, post: &PostRequest, since: i64, token: &Secret) -> Option<String> {
        if post.text.trim().is_empty() {
            return None;
        }
        for n in 0..self.opts.settle.reads.max(1) {
            if n > 0 {
                tokio::time::sleep(self.opts.settle.interval).await;
            }
            let Ok(posts) =
                self.client.page_recent_posts(&post.profile_id, self.opts.lookup_limit, token).await
            else {
                continue;
            };
            if let Some(p) = find_own_post(&posts, &post.text, since) {
                return Some(p.id.clone());
            }
        }
        None
    }
}
