//! Typed publishing calls (meta-platform.md §7): Facebook Page feed/photos and recent posts,
//! Instagram containers (both logins), Threads containers.
//!
//! Retry safety, decided here once per call:
//! - Publishing POSTs (`/feed`, `/photos`, `media_publish`, `threads_publish`) are marked
//!   `idempotent(false)`: the client never resends them on its own (spec §6). What to do after a
//!   failure is `crate::publish`'s decision.
//! - Container creation (`/media`, `/threads`) is marked retry-safe: a container publishes
//!   nothing by itself, the publishing limit is enforced on `media_publish`/`threads_publish`,
//!   not on creation (§7.2, §7.3), and an orphan left by a lost answer expires unpublished after
//!   24 h. The one creation that *would* publish, Threads' `auto_publish_text=true`, is never sent.
//! - Status reads and listings are GETs, retried by the client as usual.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use super::client::{GraphClient, Method};
use super::error::MetaError;
use super::hosts::Host;
use crate::secret::Token;
use serde::Deserialize;

/// A container's state: Instagram `status_code` (§7.2) or Threads `status` (§7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    InProgress,
    Finished,
    Error,
    /// Not published within 24 h: dead, a new container is needed.
    Expired,
    /// Already published: never publish it again.
    Published,
    /// A value sq does not know (kept for messages).
    Other(String),
}

impl ContainerState {
    pub fn parse(s: &str) -> ContainerState {
        match s.trim().to_ascii_uppercase().as_str() {
            "IN_PROGRESS" => ContainerState::InProgress,
            "FINISHED" => ContainerState::Finished,
            "ERROR" => ContainerState::Error,
            "EXPIRED" => ContainerState::Expired,
            "PUBLISHED" => ContainerState::Published,
            _ => ContainerState::Other(s.chars().take(40).collect()),
        }
    }
}

/// What a container status read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    pub id: String,
    pub state: ContainerState,
    /// Instagram's `status` text ("Error: Media upload has failed with error code 2207026") or
    /// Threads' `error_message` (`FAILED_DOWNLOADING_VIDEO`, ...).
    pub detail: Option<String>,
}

/// `POST /{page-id}/photos` → `{"id":"{photo-id}","post_id":"{page-id}_{post-id}"}` (§7.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhotoPosted {
    pub id: String,
    #[serde(default)]
    pub post_id: Option<String>,
}

impl PhotoPosted {
    /// The post id when Meta gave one (§7.1: prefer `post_id`), else the photo id.
    pub fn best_id(&self) -> &str {
        self.post_id.as_deref().filter(|s| !s.is_empty()).unwrap_or(&self.id)
    }
}

/// One entry of a Page's recent posts, or of an Instagram/Threads account's recent media.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecentPost {
    pub id: String,
    /// Facebook `message`, Instagram `caption` or Threads `text`.
    #[serde(default, alias = "caption", alias = "text")]
    pub message: Option<String>,
    /// Facebook `created_time` or Instagram/Threads `timestamp`, e.g. `2026-11-20T10:00:00+0000`.
    #[serde(default, alias = "timestamp")]
    pub created_time: Option<String>,
}

impl RecentPost {
    /// `created_time` as Unix seconds; Meta writes `+0000` offsets without a colon.
    pub fn created_unix(&self) -> Option<i64> {
        parse_meta_time(self.created_time.as_deref()?)
    }
}

/// `2026-11-20T10:00:00+0000` (Graph) or RFC 3339 → Unix seconds.
pub fn parse_meta_time(s: &str) -> Option<i64> {
    let graph = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    time::OffsetDateTime::parse(s, &graph)
        .or_else(|_| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
        .ok()
        .map(|d| d.unix_timestamp())
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
struct RawStatus {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status_code: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    data: Vec<RecentPost>,
}

/// Threads media types sq publishes (§7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadsMediaType {
    Text,
    Image,
}

impl GraphClient {
    // --- Facebook Page (§7.1) ----------------------------------------------------------------

    /// `POST /{page-id}/feed` with a Page token → the post id `{page-id}_{post-id}`.
    pub async fn page_feed_post(
        &self,
        page_id: &str,
        message: Option<&str>,
        link: Option<&str>,
        token: &impl Token,
    ) -> Result<String, MetaError> {
        let mut req = self
            .request(Method::Post, Host::FacebookGraph, &format!("{}/feed", segment(page_id)))
            .token(token)
            .idempotent(false);
        if let Some(m) = message.filter(|m| !m.is_empty()) {
            req = req.form("message", m);
        }
        if let Some(l) = link.filter(|l| !l.is_empty()) {
            req = req.form("link", l);
        }
        let r: IdOnly = self.send_json(&req).await?;
        Ok(r.id)
    }

    /// `POST /{page-id}/photos` with a public image `url` and an optional `message`.
    pub async fn page_photo_post(
        &self,
        page_id: &str,
        url: &str,
        message: Option<&str>,
        token: &impl Token,
    ) -> Result<PhotoPosted, MetaError> {
        let mut req = self
            .request(Method::Post, Host::FacebookGraph, &format!("{}/photos", segment(page_id)))
            .form("url", url)
            .token(token)
            .idempotent(false);
        if let Some(m) = message.filter(|m| !m.is_empty()) {
            req = req.form("message", m);
        }
        self.send_json(&req).await
    }

    /// `GET /{page-id}/posts?fields=id,message,created_time`: the Page's own posts, newest
    /// first, one result page of at most `limit` (for reconciliation; older posts are not needed).
    pub async fn page_recent_posts(
        &self,
        page_id: &str,
        limit: u32,
        token: &impl Token,
    ) -> Result<Vec<RecentPost>, MetaError> {
        let req = self
            .request(Method::Get, Host::FacebookGraph, &format!("{}/posts", segment(page_id)))
            .query("fields", "id,message,created_time")
            .query("limit", limit.clamp(1, 100).to_string())
            .token(token);
        let l: Listing = self.send_json(&req).await?;
        Ok(l.data)
    }

    // --- Instagram (§7.2) --------------------------------------------------------------------
    // `host`: `FacebookGraph` with the Page token (Instagram via a Page), `InstagramGraph`
    // with the Instagram Login token.

    /// `POST /{ig-user-id}/media` (image) → the container id. Retry-safe (see the module doc).
    pub async fn ig_create_container(
        &self,
        host: Host,
        ig_user_id: &str,
        image_url: &str,
        caption: Option<&str>,
        token: &impl Token,
    ) -> Result<String, MetaError> {
        let mut req = self
            .request(Method::Post, host, &format!("{}/media", segment(ig_user_id)))
            .form("image_url", image_url)
            .token(token)
            .idempotent(true);
        if let Some(c) = caption.filter(|c| !c.is_empty()) {
            req = req.form("caption", c);
        }
        let r: IdOnly = self.send_json(&req).await?;
        Ok(r.id)
    }

    /// `GET /{container-id}?fields=status_code,status`.
    pub async fn ig_container_status(
        &self,
        host: Host,
        container_id: &str,
        token: &impl Token,
    ) -> Result<ContainerStatus, MetaError> {
        self.container_status(host, container_id, token, StatusFields::Instagram).await
    }

    /// `POST /{ig-user-id}/media_publish` with `creation_id` → the Instagram media id.
    /// Never resent by the client.
    pub async fn ig_media_publish(
        &self,
        host: Host,
        ig_user_id: &str,
        container_id: &str,
        token: &impl Token,
    ) -> Result<String, MetaError> {
        self.publish_container(host, &format!("{}/media_publish", segment(ig_user_id)), container_id, token)
            .await
    }

    /// `GET /{ig-user-id}/media?fields=id,caption,timestamp`: recent media, newest first.
    pub async fn ig_recent_media(
        &self,
        host: Host,
        ig_user_id: &str,
        limit: u32,
        token: &impl Token,
    ) -> Result<Vec<RecentPost>, MetaError> {
        let path = format!("{}/media", segment(ig_user_id));
        self.recent_posts(host, &path, "id,caption,timestamp", limit, token).await
    }

    // --- Threads (§7.3) ----------------------------------------------------------------------

    /// `POST /{user-id}/threads` → the container id. Retry-safe (see the module doc).
    pub async fn threads_create_container(
        &self,
        user_id: &str,
        media_type: ThreadsMediaType,
        text: Option<&str>,
        image_url: Option<&str>,
        token: &impl Token,
    ) -> Result<String, MetaError> {
        let kind = match media_type {
            ThreadsMediaType::Text => "TEXT",
            ThreadsMediaType::Image => "IMAGE",
        };
        let mut req = self
            .request(Method::Post, Host::ThreadsGraph, &format!("{}/threads", segment(user_id)))
            .form("media_type", kind)
            .token(token)
            .idempotent(true);
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            req = req.form("text", t);
        }
        if let Some(u) = image_url {
            req = req.form("image_url", u);
        }
        let r: IdOnly = self.send_json(&req).await?;
        Ok(r.id)
    }

    /// `GET /{container-id}?fields=status,error_message` (the field is `status`, §7.3).
    pub async fn threads_container_status(
        &self,
        container_id: &str,
        token: &impl Token,
    ) -> Result<ContainerStatus, MetaError> {
        self.container_status(Host::ThreadsGraph, container_id, token, StatusFields::Threads).await
    }

    /// `POST /{user-id}/threads_publish` with `creation_id` → the Threads media id. Never
    /// resent by the client.
    pub async fn threads_publish(
        &self,
        user_id: &str,
        container_id: &str,
        token: &impl Token,
    ) -> Result<String, MetaError> {
        let path = format!("{}/threads_publish", segment(user_id));
        self.publish_container(Host::ThreadsGraph, &path, container_id, token).await
    }

    /// `GET /{user-id}/threads?fields=id,text,timestamp`: recent posts, newest first.
    pub async fn threads_recent(
        &self,
        user_id: &str,
        limit: u32,
        token: &impl Token,
    ) -> Result<Vec<RecentPost>, MetaError> {
        let path = format!("{}/threads", segment(user_id));
        self.recent_posts(Host::ThreadsGraph, &path, "id,text,timestamp", limit, token).await
    }

    // --- what Instagram and Threads share -----------------------------------------------------

    /// `GET /{container-id}` with the network's status fields (see [`StatusFields`]).
    async fn container_status(
        &self,
        host: Host,
        container_id: &str,
        token: &impl Token,
        fields: StatusFields,
    ) -> Result<ContainerStatus, MetaError> {
        let req = self
            .request(Method::Get, host, &segment(container_id))
            .query("fields", fields.query())
            .token(token);
        let r: RawStatus = self.send_json(&req).await?;
        let (name, state, detail) = fields.split(r.status_code, r.status, r.error_message);
        let Some(state) = state else {
            return Err(MetaError::Unexpected {
                endpoint: req.endpoint().to_string(),
                status: 200,
                detail: format!("no {name} in the container status"),
            });
        };
        Ok(ContainerStatus {
            id: r.id.unwrap_or_else(|| container_id.to_string()),
            state: ContainerState::parse(&state),
            detail,
        })
    }

    /// `POST {path}` with `creation_id` → the published media id. Never resent by the client.
    async fn publish_container(
        &self,
        host: Host,
        path: &str,
        container_id: &str,
        token: &impl Token,
    ) -> Result<String, MetaError> {
        let req = self
            .request(Method::Post, host, path)
            .form("creation_id", container_id)
            .token(token)
            .idempotent(false);
        let r: IdOnly = self.send_json(&req).await?;
        Ok(r.id)
    }

    /// `GET {path}?fields={fields}&limit=…`: recent posts, newest first.
    async fn recent_posts(
        &self,
        host: Host,
        path: &str,
        fields: &str,
        limit: u32,
        token: &impl Token,
    ) -> Result<Vec<RecentPost>, MetaError> {
        let req = self
            .request(Method::Get, host, path)
            .query("fields", fields)
            .query("limit", limit.clamp(1, 100).to_string())
            .token(token);
        let l: Listing = self.send_json(&req).await?;
        Ok(l.data)
    }
}

/// Where a network puts a container's state and its explanation: Instagram in `status_code`
/// and `status` (§7.2), Threads in `status` and `error_message` (§7.3).
#[derive(Clone, Copy)]
enum StatusFields {
    Instagram,
    Threads,
}

impl StatusFields {
    fn query(self) -> &'static str {
        match self {
            StatusFields::Instagram => "status_code,status",
            StatusFields::Threads => "status,error_message",
        }
    }

    /// (the state field's name, the state, the explanation) from an answer's three fields.
    fn split(
        self,
        status_code: Option<String>,
        status: Option<String>,
        error_message: Option<String>,
    ) -> (&'static str, Option<String>, Option<String>) {
        match self {
            StatusFields::Instagram => ("status_code", status_code, status),
            StatusFields::Threads => ("status", status, error_message),
        }
    }
}

/// Ids from the database made safe as one path segment.
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_times() {
        assert_eq!(ContainerState::parse("FINISHED"), ContainerState::Finished);
        assert_eq!(ContainerState::parse("in_progress"), ContainerState::InProgress);
        assert_eq!(ContainerState::parse("PUBLISHED"), ContainerState::Published);
        assert_eq!(ContainerState::parse("EXPIRED"), ContainerState::Expired);
        assert_eq!(ContainerState::parse("ERROR"), ContainerState::Error);
        assert_eq!(ContainerState::parse("WEIRD"), ContainerState::Other("WEIRD".into()));
        assert_eq!(parse_meta_time("2026-11-20T10:00:00+0000"), Some(1_795_168_800));
        assert_eq!(parse_meta_time("2026-11-20T11:00:00+0100"), Some(1_795_168_800));
        assert_eq!(parse_meta_time("2026-11-20T10:00:00Z"), Some(1_795_168_800));
        assert_eq!(parse_meta_time("yesterday"), None);
        let p = PhotoPosted { id: "2".into(), post_id: Some("777_1".into()) };
        assert_eq!(p.best_id(), "777_1");
        let p = PhotoPosted { id: "2".into(), post_id: None };
        assert_eq!(p.best_id(), "2");
    }

    #[test]
    fn recent_post_aliases() {
        let fb: RecentPost = serde_json::from_value(
            serde_json::json!({"id":"777_1","message":"hi","created_time":"2026-11-20T10:00:00+0000"}),
        )
        .expect("fb");
        assert_eq!(fb.message.as_deref(), Some("hi"));
        let ig: RecentPost = serde_json::from_value(
            serde_json::json!({"id":"1","caption":"c","timestamp":"2026-11-20T10:00:00+0000"}),
        )
        .expect("ig");
        assert_eq!((ig.message.as_deref(), ig.created_unix()), (Some("c"), Some(1_795_168_800)));
        let th: RecentPost = serde_json::from_value(serde_json::json!({"id":"1","text":"t"})).expect("th");
        assert_eq!(th.message.as_deref(), Some("t"));
    }
}
