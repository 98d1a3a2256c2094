//! Instagram (meta-platform.md §7.2, both logins) and Threads (§7.3): create a container,
//! poll its status, read the publishing limit, publish the container.
//!
//! A container publishes at most once, which is what makes these networks safe to resume:
//! before any publish, sq reads the container's status; PUBLISHED means done, FINISHED means
//! "not published yet, publish this one". A second container is made only when the first is
//! dead (EXPIRED, or Meta says so), never while the first could still go out.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::policy::{
    ContainerNext, Failure, Judgement, Step, find_own_post, judge, next_for_container, quota_failure,
};
use super::{Journal, PostRequest, PublishFailure, Published, Publisher, Reconciled, Recorded};
use crate::meta::MetaError;
use crate::meta::hosts::Host;
use crate::meta::publish::{ContainerState, ContainerStatus, ThreadsMediaType};
use crate::meta::types::PublishingLimit;
use crate::model::ProfileKind;
use crate::model::classify::FailureClass;
use crate::secret::Secret;

/// Which container API a profile uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    /// `graph.facebook.com` with the Page token (via a Page) or `graph.instagram.com` with the
    /// Instagram Login token (§7.2).
    Instagram(Host),
    Threads,
}

fn net(kind: ProfileKind) -> Net {
    match kind {
        ProfileKind::InstagramLogin => Net::Instagram(Host::InstagramGraph),
        ProfileKind::Threads => Net::Threads,
        ProfileKind::InstagramViaPage | ProfileKind::FacebookPage => Net::Instagram(Host::FacebookGraph),
    }
}

/// At most one replacement container per `publish` call: two dead (or missing) containers in a
/// row is not something to loop on.
const MAX_RECREATE: u32 = 1;

impl Publisher {
    async fn create(&self, net: Net, post: &PostRequest, token: &Secret) -> Result<String, MetaError> {
        let text = Some(post.text.as_str()).filter(|t| !t.trim().is_empty());
        let image = post.image_urls.first().map(String::as_str);
        match (net, image) {
            (Net::Instagram(host), Some(url)) => {
                self.client.ig_create_container(host, &post.profile_id, url, text, token).await
            }
            (Net::Instagram(_), None) => Err(MetaError::Unexpected {
                endpoint: "instagram media".into(),
                status: 0,
                detail: "an Instagram post needs an image".into(),
            }),
            (Net::Threads, _) => {
                let kind = if image.is_some() { ThreadsMediaType::Image } else { ThreadsMediaType::Text };
                self.client.threads_create_container(&post.profile_id, kind, text, image, token).await
            }
        }
    }

    async fn status(&self, net: Net, container: &str, token: &Secret) -> Result<ContainerStatus, MetaError> {
        match net {
            Net::Instagram(host) => self.client.ig_container_status(host, container, token).await,
            Net::Threads => self.client.threads_container_status(container, token).await,
        }
    }

    async fn limit(&self, net: Net, profile: &str, token: &Secret) -> Result<PublishingLimit, MetaError> {
        match net {
            Net::Instagram(host) => self.client.instagram_publishing_limit(host, profile, token).await,
            Net::Threads => self.client.threads_publishing_limit(profile, token).await,
        }
    }

    async fn publish_call(
        &self,
        net: Net,
        profile: &str,
        container: &str,
        token: &Secret,
    ) -> Result<String, MetaError> {
        match net {
            Net::Instagram(host) => self.client.ig_media_publish(host, profile, container, token).await,
            Net::Threads => self.client.threads_publish(profile, container, token).await,
        }
    }

    /// Best effort: Meta's container status has no media id, so look for the post among the
    /// recent media created since `since` (same text rules as Facebook, see [`find_own_post`]).
    async fn find_media(
        &self,
        net: Net,
        post: &PostRequest,
        since: Option<i64>,
        token: &Secret,
    ) -> Option<String> {
        let since = since.unwrap_or(i64::MIN / 2);
        let limit = self.opts.lookup_limit;
        let recent = match net {
            Net::Instagram(host) => self.client.ig_recent_media(host, &post.profile_id, limit, token).await,
            Net::Threads => self.client.threads_recent(&post.profile_id, limit, token).await,
        };
        let recent = recent.ok()?;
        find_own_post(&recent, &post.text, since).map(|p| p.id.clone())
    }

    pub(super) async fn publish_container(
        &self,
        post: &PostRequest,
        token: &Secret,
        journal: &mut dyn Journal,
    ) -> Result<Published, PublishFailure> {
        let net = net(post.kind);
        let profile = post.profile_id.as_str();
        let mut container = post.recorded.container_id.clone();
        let mut started = post.recorded.started_at;
        // Failed tries (retry policy), IN_PROGRESS reads and "not ready" answers (poll budget).
        let (mut attempt, mut polls, mut recreated) = (0u32, 0u32, 0u32);
        let mut limit_checked = false;
        loop {
            // 1. A container: the recorded one, or a new one.
            let cid = match &container {
                Some(c) => c.clone(),
                None => match self.create(net, post, token).await {
                    Ok(id) => {
                        journal.container_created(&id)?;
                        container = Some(id.clone());
                        polls = 0;
                        id
                    }
                    Err(e) => {
                        attempt += 1;
                        self.retry_or_fail(failed(Step::CreateContainer, &e), attempt, profile)
                            .await
                            .map_err(PublishFailure::Failed)?;
                        continue;
                    }
                },
            };
            let keep = |mut f: Failure| {
                f.container_id = Some(cid.clone());
                f
            };

            // 2. Its status, before every publish (the check that makes resuming safe).
            let status = match self.status(net, &cid, token).await {
                Ok(s) => s,
                Err(e) => {
                    attempt += 1;
                    self.retry_or_fail(keep(failed(Step::PollContainer, &e)), attempt, profile)
                        .await
                        .map_err(PublishFailure::Failed)?;
                    continue;
                }
            };
            match next_for_container(&status, polls, &self.opts.poll) {
                ContainerNext::Publish => {}
                ContainerNext::Wait(d) => {
                    tokio::time::sleep(d).await;
                    polls += 1;
                    continue;
                }
                ContainerNext::AlreadyPublished => {
                    let remote_id = self.find_media(net, post, started, token).await;
                    return Ok(Published { remote_id, container_id: Some(cid), already: true });
                }
                ContainerNext::Recreate => {
                    self.replace_container(&mut recreated, &cid)?;
                    container = None;
                    continue;
                }
                ContainerNext::Failed(f) | ContainerNext::GiveUp(f) => return Err(PublishFailure::Failed(f)),
            }

            // 3. The publishing limit, read at run time (§7.2, §7.3), once per call.
            if !limit_checked {
                match self.limit(net, profile, token).await {
                    Ok(l) => {
                        if let Some(f) = quota_failure(&l.posts()) {
                            return Err(PublishFailure::Failed(keep(f)));
                        }
                    }
                    // A dead token fails here already; anything else: Meta enforces the limit
                    // on publish anyway (9/2207042), so go on.
                    Err(e) => {
                        let f = failed(Step::ReadLimit, &e);
                        if f.class == FailureClass::Auth {
                            return Err(PublishFailure::Failed(keep(f)));
                        }
                    }
                }
                limit_checked = true;
            }

            // 4. Publish, announced first.
            let at = self.now();
            journal.about_to_publish(&cid, at)?;
            let since = *started.get_or_insert(at);
            let err = match self.publish_call(net, profile, &cid, token).await {
                Ok(id) => {
                    return Ok(Published { remote_id: Some(id), container_id: Some(cid), already: false });
                }
                Err(e) => e,
            };
            match judge(Step::Publish, &err) {
                Judgement::Unknown { reason } => {
                    let recorded = Recorded { container_id: Some(cid), started_at: Some(since) };
                    return Err(PublishFailure::Unknown { reason, recorded });
                }
                // Back to step 2 after each wait: the status is read again before every publish.
                Judgement::NotReady => match self.opts.poll.delay(polls) {
                    Some(d) => {
                        tokio::time::sleep(d).await;
                        polls += 1;
                    }
                    None => {
                        let mut f = Failure::new(
                            FailureClass::Transient,
                            format!("Meta kept answering that the media is not ready: {err}"),
                        );
                        f.retry_after = Some(self.opts.poll.max_interval);
                        return Err(PublishFailure::Failed(keep(f)));
                    }
                },
                // "Media Not Found" right after creation: not ready yet, never a final failure
                // on the first container (see `container_signal`).
                Judgement::NotFoundYet => match self.opts.poll.delay(polls) {
                    Some(d) => {
                        tokio::time::sleep(d).await;
                        polls += 1;
                    }
                    None => {
                        // It stayed missing for the whole budget. Before giving it up, make
                        // sure it did not go out after all; then one new container.
                        if let Some(p) = self.settle(net, post, &cid, since, token, 1).await {
                            return Ok(p);
                        }
                        if recreated >= MAX_RECREATE {
                            let mut f = Failure::new(
                                FailureClass::Transient,
                                format!(
                                    "Meta kept answering that the container can't be found, also for a new one: {err}"
                                ),
                            );
                            f.retry_after = Some(self.opts.poll.max_interval);
                            return Err(PublishFailure::Failed(keep(f)));
                        }
                        recreated += 1;
                        container = None;
                    }
                },
                Judgement::ContainerDead => {
                    self.replace_container(&mut recreated, &cid)?;
                    container = None;
                }
                Judgement::Failed(f) => {
                    // An answer that may hide a publication (a server error, whatever its
                    // code) is looked into before it counts; so is a refusal that would end
                    // the post, because the container status can lag behind a publish.
                    let reads = if f.check_before_resend {
                        self.opts.settle.reads
                    } else if f.is_retryable() {
                        0
                    } else {
                        1
                    };
                    if reads > 0 {
                        if let Some(p) = self.settle(net, post, &cid, since, token, reads).await {
                            return Ok(p);
                        }
                    }
                    // Retried from step 2 after the wait: the status read tells whether Meta
                    // published meanwhile, so the retry can't duplicate.
                    attempt += 1;
                    self.retry_or_fail(keep(f), attempt, profile).await.map_err(PublishFailure::Failed)?;
                }
            }
        }
    }

    fn replace_container(&self, recreated: &mut u32, dead: &str) -> Result<(), PublishFailure> {
        if *recreated >= MAX_RECREATE {
            let mut f = Failure::new(
                FailureClass::Transient,
                format!("Meta let the new container {dead} die too (expired or failed); try again later"),
            );
            f.retry_after = Some(self.opts.poll.max_interval);
            return Err(PublishFailure::Failed(f));
        }
        *recreated += 1;
        Ok(())
    }

    /// After an answer that may hide a publication: reads the container's status up to
    /// `reads` times ([`super::SettlePolicy::interval`] apart) until it says PUBLISHED, then
    /// looks for the post among the recent media (the listing can be ahead of the status).
    /// `Some` when the post is out; `None` when Meta shows no trace of it (or can't be asked).
    async fn settle(
        &self,
        net: Net,
        post: &PostRequest,
        cid: &str,
        since: i64,
        token: &Secret,
        reads: u32,
    ) -> Option<Published> {
        let out = |remote_id| Published { remote_id, container_id: Some(cid.to_string()), already: true };
        for n in 0..reads {
            if n > 0 {
                tokio::time::sleep(self.opts.settle.interval).await;
            }
            match self.status(net, cid, token).await.map(|s| s.state) {
                Ok(ContainerState::Published) => {
                    return Some(out(self.find_media(net, post, Some(since), token).await));
                }
                // Final states: it did not go out, and won't.
                Ok(ContainerState::Error | ContainerState::Expired) => break,
                // FINISHED can lag behind a publish that went through; a failed read tells
                // nothing: read again.
                Ok(_) | Err(_) => {}
            }
        }
        self.find_media(net, post, Some(since), token).await.map(|id| out(Some(id)))
    }

    pub(super) async fn reconcile_container(&self, post: &PostRequest, token: &Secret) -> Reconciled {
        let Some(cid) = post.recorded.container_id.as_deref() else {
            // The container is recorded before the publish is announced: without one, no
            // publish request went out.
            return Reconciled::NotPublished;
        };
        let net = net(post.kind);
        match self.status(net, cid, token).await {
            Ok(s) => match s.state {
                ContainerState::Published => Reconciled::Published {
                    remote_id: self.find_media(net, post, post.recorded.started_at, token).await,
                },
                // A container that is not PUBLISHED was not published, and can't be any more
                // unless sq publishes it (FINISHED: reuse it; the others: a new one is made).
                // The status can lag behind a publish that just went through, so when a
                // publish request was sent, the recent media have the last word.
                ContainerState::Finished => {
                    let found = match post.recorded.started_at {
                        Some(since) => self.find_media(net, post, Some(since), token).await,
                        None => None,
                    };
                    match found {
                        Some(id) => Reconciled::Published { remote_id: Some(id) },
                        None => Reconciled::NotPublished,
                    }
                }
                ContainerState::InProgress | ContainerState::Error | ContainerState::Expired => {
                    Reconciled::NotPublished
                }
                ContainerState::Other(o) => {
                    Reconciled::StillUnknown(format!("the container is in a state sq does not know: {o}"))
                }
            },
            Err(e) => Reconciled::StillUnknown(format!("could not read the container's status: {e}")),
        }
    }
}

fn failed(step: Step, err: &MetaError) -> Failure {
    match judge(step, err) {
        Judgement::Failed(f) => f,
        _ => Failure::from_error(err),
    }
}
