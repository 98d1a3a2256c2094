//! Following `paging.next` (meta-platform.md §4.1) without ever sending a token elsewhere.
//!
//! Meta's `next` is a full URL on Meta's real host, and it usually repeats the
//! `access_token` in its query. sq re-bases it onto the configured endpoints (so the sandbox
//! keeps receiving the pages), drops any token-ish parameter (the token goes in the header),
//! and refuses any other host.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use super::client::{GraphClient, Method, Request};
use super::error::MetaError;
use super::hosts::{Host, MetaEndpoints};
use serde_json::Value;
use url::Url;

/// Graph serves at most 100 items per page (§4.1, spec §8).
pub const PAGE_LIMIT: &str = "100";

/// Query parameters never carried over from a `next` URL.
const DROPPED: &[&str] = &["access_token", "appsecret_proof", "appsecret_time"];

/// Other spellings Meta uses for the same host (§6.1: Threads answers on `.com` and `.net`).
fn aliases(host: Host) -> &'static [&'static str] {
    match host {
        Host::ThreadsGraph => &["graph.threads.com"],
        Host::Threads => &["www.threads.com", "threads.net", "www.threads.net"],
        _ => &[],
    }
}

/// `next` → (URL without query on the configured endpoints, query pairs to send), or
/// [`MetaError::ForeignUrl`] when it does not belong to `host`.
pub fn rebase_next(
    endpoints: &MetaEndpoints,
    host: Host,
    next: &str,
) -> Result<(String, Vec<(String, String)>), MetaError> {
    let parsed = Url::parse(next).map_err(|_| MetaError::Unexpected {
        endpoint: host.name().to_string(),
        status: 200,
        detail: "a paging link that is not a URL".into(),
    })?;
    let foreign = || MetaError::ForeignUrl { host: parsed.host_str().unwrap_or("(none)").to_string() };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(foreign());
    }
    let root = Url::parse(&endpoints.root(host)).map_err(|_| foreign())?;
    let root_path = root.path().trim_end_matches('/');
    let same_origin = |u: &Url, r: &Url| {
        u.scheme() == r.scheme()
            && u.host_str() == r.host_str()
            && u.port_or_known_default() == r.port_or_known_default()
    };

    // 1. Already under the configured root (the sandbox, or Meta itself without a base).
    let path = if same_origin(&parsed, &root)
        && (root_path.is_empty()
            || parsed.path().strip_prefix(root_path).is_some_and(|rest| rest.starts_with('/')))
    {
        parsed.path()[root_path.len()..].to_string()
    // 2. Meta's real host (HTTPS, default port): re-based onto the configured root.
    } else if parsed.scheme() == "https"
        && parsed.port().is_none()
        && parsed
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(host.name()) || aliases(host).contains(&h))
    {
        parsed.path().to_string()
    } else {
        return Err(foreign());
    };
    let url = format!("{}{}", endpoints.root(host), path);
    let query = parsed
        .query_pairs()
        .filter(|(k, _)| !DROPPED.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok((url, query))
}

impl GraphClient {
    /// GETs `req` and every following page, returning all `data` items in order. Stops at an
    /// empty page, a missing `next`, a repeated `next`, or `Limits::max_pages` (an error).
    pub async fn get_all(&self, req: Request) -> Result<Vec<Value>, MetaError> {
        let mut items = Vec::new();
        self.get_pages(req, |data| items.extend(data)).await?;
        Ok(items)
    }

    /// Like [`get_all`](Self::get_all), but hands each result page's `data` to `on_page` as
    /// soon as it arrives, so callers can start work on page 1 while page 2 is on the wire
    /// (spec §8: 1,000 Pages are 10 sequential result pages).
    pub async fn get_pages(
        &self,
        req: Request,
        mut on_page: impl FnMut(Vec<Value>),
    ) -> Result<(), MetaError> {
        let mut req = req;
        // Each result page waits for the one before: the client lets them take the slot it
        // keeps for chains.
        req.chain = true;
        let mut previous_next: Option<String> = None;
        for _ in 0..self.limits().max_pages.max(1) {
            let page = self.send(&req).await?;
            let data = match page.get("data") {
                Some(Value::Array(a)) => a.clone(),
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(MetaError::Unexpected {
                        endpoint: req.endpoint.clone(),
                        status: 200,
                        detail: "`data` is not a list".into(),
                    });
                }
            };
            let empty = data.is_empty();
            if !empty {
                on_page(data);
            }
            let next = page.pointer("/paging/next").and_then(Value::as_str).filter(|s| !s.is_empty());
            let Some(next) = next else { return Ok(()) };
            if empty || previous_next.as_deref() == Some(next) {
                return Ok(());
            }
            previous_next = Some(next.to_string());
            let (url, query) = rebase_next(self.endpoints(), req.host, next)?;
            let mut following = self.request_at(Method::Get, req.host, url);
            following.query = query;
            following.token = req.token.clone();
            following.scheme = req.scheme;
            following.chain = true;
            req = following;
        }
        Err(MetaError::TooManyPages { endpoint: req.endpoint.clone(), pages: self.limits().max_pages })
    }

    /// [`get_all`](Self::get_all) decoding each item into `T`.
    pub async fn get_all_as<T: serde::de::DeserializeOwned>(
        &self,
        req: Request,
    ) -> Result<Vec<T>, MetaError> {
        let endpoint = req.endpoint.clone();
        self.get_all(req).await?.into_iter().map(|v| super::client::decode(&endpoint, v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_table() {
        let real = MetaEndpoints::default();
        let sb = MetaEndpoints::new(Some("http://127.0.0.1:8080"), None).expect("ep");
        let sb_prefix = MetaEndpoints::new(Some("http://127.0.0.1:8080/meta/"), None).expect("ep");
        let next = "https://graph.facebook.com/v27.0/100/accounts?access_token=EAAB123&limit=100&after=QVFI&appsecret_proof=ab";
        // (endpoints, host, next, Some(expected url) or None = refused)
        let rows: Vec<(&MetaEndpoints, Host, &str, Option<&str>)> = vec![
            (&real, Host::FacebookGraph, next, Some("https://graph.facebook.com/v27.0/100/accounts")),
            (
                &sb,
                Host::FacebookGraph,
                next,
                Some("http://127.0.0.1:8080/graph.facebook.com/v27.0/100/accounts"),
            ),
            (
                &sb,
                Host::FacebookGraph,
                "http://127.0.0.1:8080/graph.facebook.com/v27.0/100/accounts?after=x",
                Some("http://127.0.0.1:8080/graph.facebook.com/v27.0/100/accounts"),
            ),
            (
                &sb_prefix,
                Host::FacebookGraph,
                "http://127.0.0.1:8080/meta/graph.facebook.com/v1/x?after=x",
                Some("http://127.0.0.1:8080/meta/graph.facebook.com/v1/x"),
            ),
            (
                &real,
                Host::ThreadsGraph,
                "https://graph.threads.com/v1.0/me/threads?after=x",
                Some("https://graph.threads.net/v1.0/me/threads"),
            ),
            // refused
            (&real, Host::FacebookGraph, "https://evil.example/v27.0/100/accounts?after=x", None),
            (&real, Host::FacebookGraph, "http://graph.facebook.com/v27.0/x", None),
            (&real, Host::FacebookGraph, "https://graph.facebook.com:444/v27.0/x", None),
            (&real, Host::FacebookGraph, "https://graph.facebook.com.evil.example/v27.0/x", None),
            (&real, Host::FacebookGraph, "https://graph.facebook.com@evil.example/v27.0/x", None),
            (&real, Host::FacebookGraph, "https://user@graph.facebook.com/v27.0/x", None),
            (&real, Host::FacebookGraph, "https://graph.instagram.com/v27.0/x", None),
            (&sb, Host::FacebookGraph, "http://127.0.0.1:8081/graph.facebook.com/v27.0/x", None),
            (&sb, Host::FacebookGraph, "http://127.0.0.1:8080/graph.facebook.com.evil/x", None),
            (&sb, Host::FacebookGraph, "http://127.0.0.1:8080/graph.instagram.com/v27.0/x", None),
            (&sb, Host::FacebookGraph, "http://127.0.0.1:8080/x/../evil/graph.facebook.com/x", None),
            (&sb_prefix, Host::FacebookGraph, "http://127.0.0.1:8080/graph.facebook.com/v1/x", None),
            (&real, Host::FacebookGraph, "not a url", None),
            (&real, Host::FacebookGraph, "javascript:alert(1)", None),
        ];
        for (ep, host, next, want) in rows {
            let got = rebase_next(ep, host, next);
            match (want, got) {
                (Some(w), Ok((url, _))) => assert_eq!(url, w, "{next}"),
                (None, Err(_)) => {}
                (w, g) => panic!("{next}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn rebase_drops_tokens_and_keeps_cursors() {
        let next = "https://graph.facebook.com/v27.0/100/accounts?access_token=EAAB123&fields=id%2Cname&limit=100&after=QVFI%3D&appsecret_proof=ab&appsecret_time=1";
        let (_, q) = rebase_next(&MetaEndpoints::default(), Host::FacebookGraph, next).expect("ok");
        assert_eq!(
            q,
            vec![
                ("fields".to_string(), "id,name".to_string()),
                ("limit".to_string(), "100".to_string()),
                ("after".to_string(), "QVFI=".to_string())
            ]
        );
    }
}
