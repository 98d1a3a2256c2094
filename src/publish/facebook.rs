//! Facebook Page publishing (meta-platform.md §7.1): `/feed` (message, link) or `/photos`
//! (url, message), and reconciliation through the Page's recent posts.
//!
//! A Facebook post has no container, so nothing on Meta's side makes a resend harmless: a post
//! is sent again only when sq knows the previous request did not publish (a refusal, a connect
//! failure) or after reconciliation found no trace of it.

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
                Judgement::NotReady | Judgement::ContainerDead => Failure::from_error(&err),
            };
            if f.check_before_resend {
                // Meta failed on its side after receiving the post and may have published it.
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
        let grace = i64::try_from(self.opts.reconcile_grace.as_secs()).unwrap_or(i64::MAX);
        let waited = self.now().saturating_sub(since);
        if waited < grace && !self.opts.reconcile_grace.is_zero() {
            return Reconciled::StillUnknown(format!(
                "the post was sent {waited} s ago and Meta may still be handling it; check again after {grace} s"
            ));
        }
        match self.client.page_recent_posts(&post.profile_id, self.opts.lookup_limit, token).await {
            Ok(posts) => match find_own_post(&posts, &post.text, since) {
                Some(p) => Reconciled::Published { remote_id: Some(p.id.clone()) },
                None => Reconciled::NotPublished,
            },
            Err(e) => {
                let f = Failure::from_error(&e);
                let why = if f.class == FailureClass::Auth { " (the token needs `sq reauth`)" } else { "" };
                Reconciled::StillUnknown(format!("could not read the Page's recent posts{why}: {e}"))
            }
        }
    }
}
