//! The one place that knows Meta's hosts (spec §2).
//!
//! Every URL sq sends to Meta is built here, so `SQ_META_API_BASE` (the sandbox, tests) and
//! `SQ_GRAPH_VERSION` are honoured everywhere by construction.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use std::fmt;

/// The seven hosts of spec §2. Facebook's and Threads' hosts have newer `.com`/older `.net`
/// spellings (meta-platform.md §6.1); sq uses the ones the spec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// `www.facebook.com`: the Facebook Login dialog.
    FacebookWww,
    /// `graph.facebook.com`: Graph API (Facebook Login, Pages, Instagram via Page).
    FacebookGraph,
    /// `www.instagram.com`: Instagram Login authorize dialog.
    InstagramWww,
    /// `api.instagram.com`: Instagram Login code exchange.
    InstagramApi,
    /// `graph.instagram.com`: Instagram API with Instagram Login, long-lived/refresh.
    InstagramGraph,
    /// `threads.com`: Threads authorization window.
    Threads,
    /// `graph.threads.net`: Threads API, exchanges and refresh.
    ThreadsGraph,
}

impl Host {
    pub const ALL: [Host; 7] = [
        Host::FacebookWww,
        Host::FacebookGraph,
        Host::InstagramWww,
        Host::InstagramApi,
        Host::InstagramGraph,
        Host::Threads,
        Host::ThreadsGraph,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Host::FacebookWww => "www.facebook.com",
            Host::FacebookGraph => "graph.facebook.com",
            Host::InstagramWww => "www.instagram.com",
            Host::InstagramApi => "api.instagram.com",
            Host::InstagramGraph => "graph.instagram.com",
            Host::Threads => "threads.com",
            Host::ThreadsGraph => "graph.threads.net",
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Newest stable Graph version in Nov 2026 (meta-platform.md §11: v27.0 shipped Nov 4 2026).
pub const DEFAULT_GRAPH_VERSION: &str = "v27.0";
/// Threads stays on v1.0 (meta-platform.md §11).
pub const THREADS_VERSION: &str = "v1.0";

/// Where Meta is, resolved once from settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaEndpoints {
    /// `None`: the real hosts over HTTPS. `Some(base)`: `{base}/{host}` (no trailing slash).
    base: Option<String>,
    graph_version: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("SQ_META_API_BASE must be an http:// or https:// URL without query or fragment, got {0:?}")]
    BadBase(String),
    #[error("SQ_GRAPH_VERSION must look like v27.0, got {0:?}")]
    BadVersion(String),
}

impl Default for MetaEndpoints {
    fn default() -> Self {
        MetaEndpoints { base: None, graph_version: DEFAULT_GRAPH_VERSION.to_string() }
    }
}

impl MetaEndpoints {
    pub fn new(base: Option<&str>, graph_version: Option<&str>) -> Result<Self, EndpointError> {
        let base = match base.map(str::trim).filter(|b| !b.is_empty()) {
            None => None,
            Some(b) => {
                let parsed = url::Url::parse(b).map_err(|_| EndpointError::BadBase(b.into()))?;
                if !matches!(parsed.scheme(), "http" | "https")
                    || parsed.query().is_some()
                    || parsed.fragment().is_some()
                    || parsed.host_str().is_none()
                {
                    return Err(EndpointError::BadBase(b.into()));
                }
                Some(b.trim_end_matches('/').to_string())
            }
        };
        let graph_version = match graph_version.map(str::trim).filter(|v| !v.is_empty()) {
            None => DEFAULT_GRAPH_VERSION.to_string(),
            Some(v) => {
                if !is_version(v) {
                    return Err(EndpointError::BadVersion(v.into()));
                }
                v.to_string()
            }
        };
        Ok(MetaEndpoints { base, graph_version })
    }

    pub fn graph_version(&self) -> &str {
        &self.graph_version
    }

    pub fn base(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// Root of a host, without a trailing slash: `https://graph.facebook.com` or
    /// `http://127.0.0.1:8080/graph.facebook.com`.
    pub fn root(&self, host: Host) -> String {
        match &self.base {
            None => format!("https://{}", host.name()),
            Some(base) => format!("{base}/{}", host.name()),
        }
    }

    /// `root(host)` + `/` + `path` (a leading slash on `path` is optional).
    pub fn url(&self, host: Host, path: &str) -> String {
        format!("{}/{}", self.root(host), path.trim_start_matches('/'))
    }

    /// A versioned Graph URL: Facebook and Instagram hosts use the Graph version, Threads v1.0.
    pub fn versioned(&self, host: Host, path: &str) -> String {
        let version = match host {
            Host::Threads | Host::ThreadsGraph => THREADS_VERSION,
            _ => &self.graph_version,
        };
        format!("{}/{version}/{}", self.root(host), path.trim_start_matches('/'))
    }
}

fn is_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !major.is_empty()
        && !minor.is_empty()
        && major.bytes().all(|b| b.is_ascii_digit())
        && minor.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_building_table() {
        let real = MetaEndpoints::default();
        let sandbox = MetaEndpoints::new(Some("http://127.0.0.1:8080/"), Some("v25.0")).unwrap();
        let cases: [(&MetaEndpoints, Host, &str, bool, &str); 6] = [
            (&real, Host::FacebookGraph, "me/accounts", true, "https://graph.facebook.com/v27.0/me/accounts"),
            (&real, Host::FacebookWww, "/dialog/oauth", true, "https://www.facebook.com/v27.0/dialog/oauth"),
            (&real, Host::ThreadsGraph, "me", true, "https://graph.threads.net/v1.0/me"),
            (
                &real,
                Host::InstagramApi,
                "oauth/access_token",
                false,
                "https://api.instagram.com/oauth/access_token",
            ),
            (
                &sandbox,
                Host::FacebookGraph,
                "debug_token",
                true,
                "http://127.0.0.1:8080/graph.facebook.com/v25.0/debug_token",
            ),
            (
                &sandbox,
                Host::Threads,
                "oauth/authorize",
                false,
                "http://127.0.0.1:8080/threads.com/oauth/authorize",
            ),
        ];
        for (ep, host, path, versioned, want) in cases {
            let got = if versioned { ep.versioned(host, path) } else { ep.url(host, path) };
            assert_eq!(got, want, "{host} {path}");
        }
    }

    #[test]
    fn rejects_bad_settings() {
        for bad in ["ftp://x", "not a url", "http://x/?q=1", "http://x/#f"] {
            assert!(MetaEndpoints::new(Some(bad), None).is_err(), "{bad}");
        }
        for bad in ["27", "v27", "v27.0.1", "vx.0", "v.0"] {
            assert!(MetaEndpoints::new(None, Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(MetaEndpoints::new(Some(""), Some("")).unwrap(), MetaEndpoints::default());
    }
}
