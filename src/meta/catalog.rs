//! Every request sq can send to Meta, in one list: [`CATALOG`]. `docs/meta-api.md` documents
//! each entry (parameters, what is read, Meta's doc page, documented/observed/assumed), and
//! `tests/test_meta_api.rs` keeps the two in step both ways.
//!
//! The list is enforced where requests leave the client: in debug builds (every test run),
//! [`GraphClient::send`](super::GraphClient::send) and batch encoding panic on a request whose
//! method, host, path and token placement match no entry, so a new request builder can't slip
//! past the table. Release builds don't check.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::client::Method;
use super::hosts::Host;

/// Where a request carries its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIn {
    /// `Authorization: Bearer …` (or `OAuth …` for rupload).
    Header,
    /// The `access_token` query parameter (Instagram Login / Threads exchange and refresh, §14).
    Query,
    /// The POST form (`access_token` of a batch).
    Form,
    /// A batch item: the item's `access_token` inside the batch body, or the batch's own.
    BatchItem,
    /// No token (code exchanges carry the app secret and the code instead; dialogs are opened
    /// in the browser).
    None,
}

impl TokenIn {
    /// The word used in the `token` column of `docs/meta-api.md`.
    pub fn word(self) -> &'static str {
        match self {
            TokenIn::Header => "header",
            TokenIn::Query => "query",
            TokenIn::Form => "form",
            TokenIn::BatchItem => "batch",
            TokenIn::None => "none",
        }
    }
}

/// One request sq sends (or, for `browser: true`, has the browser open).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Stable id, the first column of the table in `docs/meta-api.md`.
    pub id: &'static str,
    pub method: Method,
    pub host: Host,
    /// Path after host and version; `{…}` segments stand for one id each, `""` is the host root.
    pub path: &'static str,
    pub token: TokenIn,
    /// An authorization dialog: the URL is opened in the browser, not sent by the client.
    pub browser: bool,
}

const fn ep(id: &'static str, method: Method, host: Host, path: &'static str, token: TokenIn) -> Endpoint {
    Endpoint { id, method, host, path, token, browser: false }
}

use Host::*;
use Method::{Delete, Get, Post};
use TokenIn::{BatchItem, Form, Header, None as NoToken, Query};

pub const CATALOG: &[Endpoint] = &[
    // Dialogs (opened in the browser; built by `auth::authorize_url`).
    Endpoint { browser: true, ..ep("fb.dialog", Get, FacebookWww, "dialog/oauth", NoToken) },
    Endpoint { browser: true, ..ep("ig.authorize", Get, InstagramWww, "oauth/authorize", NoToken) },
    Endpoint { browser: true, ..ep("th.authorize", Get, Threads, "oauth/authorize", NoToken) },
    // Facebook tokens and user.
    ep("fb.code_exchange", Post, FacebookGraph, "oauth/access_token", NoToken),
    ep("fb.long_lived", Post, FacebookGraph, "oauth/access_token", NoToken),
    ep("fb.debug_token", Get, FacebookGraph, "debug_token", Header),
    ep("fb.debug_token.batch", Get, FacebookGraph, "debug_token", BatchItem),
    ep("fb.me", Get, FacebookGraph, "me", Header),
    ep("fb.permissions", Get, FacebookGraph, "me/permissions", Header),
    ep("fb.revoke_all", Delete, FacebookGraph, "me/permissions", Header),
    ep("fb.revoke_one", Delete, FacebookGraph, "me/permissions/{permission}", Header),
    ep("fb.batch", Post, FacebookGraph, "", Form),
    // Pages.
    ep("fb.accounts", Get, FacebookGraph, "me/accounts", Header),
    ep("fb.businesses", Get, FacebookGraph, "me/businesses", Header),
    ep("fb.owned_pages", Get, FacebookGraph, "{business-id}/owned_pages", Header),
    ep("fb.client_pages", Get, FacebookGraph, "{business-id}/client_pages", Header),
    ep("fb.page", Get, FacebookGraph, "{page-id}", Header),
    ep("fb.page.batch", Get, FacebookGraph, "{page-id}", BatchItem),
    ep("fb.page_feed", Post, FacebookGraph, "{page-id}/feed", Header),
    ep("fb.page_photos", Post, FacebookGraph, "{page-id}/photos", Header),
    ep("fb.page_posts", Get, FacebookGraph, "{page-id}/posts", Header),
    // Instagram through a Page (graph.facebook.com, Page token).
    ep("fbig.publishing_limit", Get, FacebookGraph, "{ig-user-id}/content_publishing_limit", Header),
    ep("fbig.publishing_limit.batch", Get, FacebookGraph, "{ig-user-id}/content_publishing_limit", BatchItem),
    ep("fbig.container", Post, FacebookGraph, "{ig-user-id}/media", Header),
    ep("fbig.container_status", Get, FacebookGraph, "{container-id}", Header),
    ep("fbig.media_publish", Post, FacebookGraph, "{ig-user-id}/media_publish", Header),
    ep("fbig.recent_media", Get, FacebookGraph, "{ig-user-id}/media", Header),
    // Instagram Login.
    ep("ig.code_exchange", Post, InstagramApi, "oauth/access_token", NoToken),
    ep("ig.long_lived", Get, InstagramGraph, "access_token", Query),
    ep("ig.refresh", Get, InstagramGraph, "refresh_access_token", Query),
    ep("ig.me", Get, InstagramGraph, "me", Header),
    ep("ig.publishing_limit", Get, InstagramGraph, "{ig-user-id}/content_publishing_limit", Header),
    ep("ig.container", Post, InstagramGraph, "{ig-user-id}/media", Header),
    ep("ig.container_status", Get, InstagramGraph, "{container-id}", Header),
    ep("ig.media_publish", Post, InstagramGraph, "{ig-user-id}/media_publish", Header),
    ep("ig.recent_media", Get, InstagramGraph, "{ig-user-id}/media", Header),
    // Threads.
    ep("th.code_exchange", Post, ThreadsGraph, "oauth/access_token", NoToken),
    ep("th.long_lived", Get, ThreadsGraph, "access_token", Query),
    ep("th.refresh", Get, ThreadsGraph, "refresh_access_token", Query),
    ep("th.debug_token", Get, ThreadsGraph, "debug_token", Header),
    ep("th.me", Get, ThreadsGraph, "me", Header),
    ep("th.publishing_limit", Get, ThreadsGraph, "{threads-user-id}/threads_publishing_limit", Header),
    ep("th.container", Post, ThreadsGraph, "{threads-user-id}/threads", Header),
    ep("th.container_status", Get, ThreadsGraph, "{container-id}", Header),
    ep("th.publish", Post, ThreadsGraph, "{threads-user-id}/threads_publish", Header),
    ep("th.recent", Get, ThreadsGraph, "{threads-user-id}/threads", Header),
];

/// `v27.0/me/accounts?after=…` → `me/accounts`: no query, no version segment, no slashes around.
pub fn normalize_path(path: &str) -> &str {
    let path = path.split(['?', '#']).next().unwrap_or("").trim_matches('/');
    match path.split_once('/') {
        Some((first, rest)) if is_version(first) => rest,
        None if is_version(path) => "",
        _ => path,
    }
}

fn is_version(seg: &str) -> bool {
    seg.strip_prefix('v').is_some_and(|r| {
        !r.is_empty() && r.split('.').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Whether a concrete path (already [`normalize_path`]ed) fits a template.
pub fn path_matches(template: &str, path: &str) -> bool {
    if template.is_empty() || path.is_empty() {
        return template.is_empty() && path.is_empty();
    }
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| segment_matches(t, p))
}

/// `{permission}` is a name; every other `{…}` is a Meta id (digits, `_` in post ids) or `me`,
/// so `GET /refresh_access_token` can't pass for `GET /{container-id}`.
fn segment_matches(template: &str, seg: &str) -> bool {
    match template {
        "{permission}" => !seg.is_empty(),
        t if t.starts_with('{') => {
            seg == "me" || (!seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
        }
        t => t == seg,
    }
}

/// The entries a request fits (several when one shape serves two purposes, e.g. `GET /{id}`).
pub fn find(method: Method, host: Host, path: &str, token: TokenIn) -> Vec<&'static Endpoint> {
    let path = normalize_path(path);
    CATALOG
        .iter()
        .filter(|e| e.method == method && e.host == host && e.token == token && path_matches(e.path, path))
        .collect()
}

/// Debug builds: a request outside the catalog is a bug (the table in docs/meta-api.md would be
/// wrong), so it fails loudly in every test that sends it.
pub(crate) fn check(method: Method, host: Host, path: &str, token: TokenIn) {
    if cfg!(debug_assertions) && find(method, host, path, token).is_empty() {
        panic!(
            "{} {}/{} (token: {}) is not in src/meta/catalog.rs; add it there and to docs/meta-api.md",
            method.as_str(),
            host.name(),
            normalize_path(path),
            token.word()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_and_match() {
        assert_eq!(normalize_path("v27.0/me/accounts?after=x"), "me/accounts");
        assert_eq!(normalize_path("/v1.0/"), "");
        assert_eq!(normalize_path("oauth/access_token"), "oauth/access_token");
        assert_eq!(normalize_path("v27.0"), "");
        assert!(path_matches("{page-id}/feed", "777/feed"));
        assert!(!path_matches("{page-id}/feed", "777/photos"));
        assert!(!path_matches("{page-id}", "777/feed"));
        assert!(path_matches("", ""));
        assert!(!path_matches("", "me"));
    }

    #[test]
    fn ids_are_unique_and_requests_are_found() {
        let mut ids: Vec<&str> = CATALOG.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids");
        assert!(!find(Get, InstagramGraph, "refresh_access_token", Query).is_empty());
        assert!(find(Get, InstagramGraph, "refresh_access_token", Header).is_empty());
        assert!(
            find(Get, FacebookGraph, "v27.0/5000/owned_pages", Header)
                .iter()
                .any(|e| e.id == "fb.owned_pages")
        );
        assert!(find(Get, FacebookGraph, "me/friends", Header).is_empty());
    }
}
