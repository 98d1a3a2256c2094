//! The redirect URI: loopback only, explicit port, kept character for character.
//!
//! Why an explicit port: Meta compares the `redirect_uri` of the dialog (and of the code
//! exchange) with the app's *Valid OAuth Redirect URIs* character for character (strict mode,
//! meta-platform.md §1.6). sq therefore can't pick a random free port the way gh or az do; the
//! port is part of what the user registered, and leaving it out would mean 80/443, which need
//! administrator rights to listen on.
//!
//! The URI is sent to Meta exactly as the user wrote it ([`RedirectUri::as_str`]); parsing only
//! decides where to listen and which path is the callback.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md.

use super::AuthError;
use super::callback::redact_url;
use crate::model::Network;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};

/// The Facebook default: Facebook accepts `http://localhost` while the app is in Development
/// mode (meta-platform.md §1.6, §14).
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:8765/callback";

/// The Instagram Login and Threads default: their dashboards only save https redirect URIs,
/// localhost included (§14), so sq serves this one with its self-signed certificate (`auth::tls`).
pub const DEFAULT_HTTPS_REDIRECT_URI: &str = "https://localhost:8765/callback";

/// Whether a network's login accepts only https redirect URIs (§14): Instagram Login and Threads.
pub fn https_only(network: Network) -> bool {
    network != Network::Facebook
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    /// Served by sq with its own self-signed certificate (see [`super::tls`]).
    Https,
}

/// The three loopback spellings sq accepts. There is deliberately no variant for any other
/// address, so a listener built from a `RedirectUri` can only ever bind to loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopbackHost {
    /// `localhost`, bound as 127.0.0.1 (browsers fall back to it when `::1` refuses).
    Localhost,
    V4,
    V6,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    scheme: Scheme,
    host: LoopbackHost,
    port: u16,
    path: String,
}

impl RedirectUri {
    /// Accepts `http(s)://localhost:PORT/path`, `http(s)://127.0.0.1:PORT/path` and
    /// `http(s)://[::1]:PORT/path`. Surrounding whitespace is ignored; everything else is kept.
    pub fn parse(input: &str) -> Result<RedirectUri, AuthError> {
        let raw = input.trim();
        let shown = redact_url(raw);
        let bad =
            |problem: &str| AuthError::BadRedirectUri { uri: shown.clone(), problem: problem.to_string() };
        if raw.is_empty() {
            return Err(bad("it is empty"));
        }
        let (scheme, rest) = match raw.split_once("://") {
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
            Some(_) => return Err(bad("only http:// and https:// redirect URIs can reach sq")),
            None => return Err(bad("it is not an absolute URL (it should start with http://)")),
        };
        if raw.contains('#') {
            return Err(bad("a redirect URI can't have a #fragment"));
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(bad("it must not contain a user name or password"));
        }
        if tail.contains('?') {
            return Err(bad(
                "it has a ?query; Meta matches redirect URIs exactly, so keep per-run data out of it",
            ));
        }
        let (host_part, port_part) = if let Some(after) = authority.strip_prefix('[') {
            match after.split_once(']') {
                Some((h, p)) => (format!("[{h}]"), p.strip_prefix(':')),
                None => return Err(bad("the [IPv6] address is not closed with ]")),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        let host = match host_part.to_ascii_lowercase().as_str() {
            "localhost" => LoopbackHost::Localhost,
            "127.0.0.1" => LoopbackHost::V4,
            "[::1]" => LoopbackHost::V6,
            "" => return Err(bad("it has no host")),
            _ => {
                return Err(bad(&format!(
                    "{host_part} is not a loopback host; sq receives the callback on this computer, \
                     so the host must be localhost, 127.0.0.1 or [::1]"
                )));
            }
        };
        let port = match port_part {
            None | Some("") => {
                return Err(bad(
                    "it has no port; Meta matches the registered URI character for character, so \
                     the port must be written out (for example http://localhost:8765/callback)",
                ));
            }
            Some(p) => match p.parse::<u16>() {
                Ok(0) => return Err(bad("port 0 is not a fixed port that can be registered in the app")),
                Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(bad(&format!("{p:?} is not a port number (1-65535)"))),
            },
        };
        let path = if tail.is_empty() { "/".to_string() } else { tail.to_string() };
        if path.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(bad("the path contains spaces or control characters"));
        }
        Ok(RedirectUri { raw: raw.to_string(), scheme, host, port, path })
    }

    /// Exactly as given (trimmed): what goes into `redirect_uri` for the dialog and the exchange.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::Https
    }

    pub fn host(&self) -> LoopbackHost {
        self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The callback path (`/` when the URI has none), compared byte for byte with requests.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The first address sq listens on for this URI (127.0.0.1 for `localhost`): always a
    /// loopback address.
    pub fn bind_addr(&self) -> SocketAddr {
        self.bind_addrs()[0]
    }

    /// Every address sq listens on for this URI, all loopback. `localhost` is both 127.0.0.1
    /// and `[::1]`: browsers resolve it to either (many try `::1` first), so a program on the
    /// address sq left free would receive the callback, code included, while sq waits in vain.
    pub fn bind_addrs(&self) -> Vec<SocketAddr> {
        let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port);
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), self.port);
        match self.host {
            LoopbackHost::Localhost => vec![v4, v6],
            LoopbackHost::V4 => vec![v4],
            LoopbackHost::V6 => vec![v6],
        }
    }

    /// Binds every callback address, mapping "in use" (on any of them) to
    /// [`AuthError::PortBusy`].
    pub(crate) fn bind(&self) -> Result<Vec<TcpListener>, AuthError> {
        let mut sockets = Vec::new();
        for addr in self.bind_addrs() {
            match TcpListener::bind(addr) {
                Ok(s) => sockets.push(s),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    return Err(AuthError::PortBusy { port: self.port, uri: self.raw.clone(), addr });
                }
                // A machine without an IPv6 loopback (IPv6 disabled, some containers): browsers
                // can't reach `[::1]` there either, so 127.0.0.1 alone serves `localhost`.
                Err(e) if self.host == LoopbackHost::Localhost && addr.is_ipv6() && no_ipv6(&e) => {}
                Err(e) => {
                    return Err(AuthError::Bind { addr: addr.to_string(), uri: self.raw.clone(), source: e });
                }
            }
        }
        Ok(sockets)
    }
}

/// The errors binding `[::1]` gives where there is no IPv6 loopback: the address is not
/// assigned (EADDRNOTAVAIL), or the kernel has no IPv6 at all (EAFNOSUPPORT).
fn no_ipv6(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::AddrNotAvailable {
        return true;
    }
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        false
    }
}

impl std::fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Pre-flight (spec §5.1, diagnose `redirect_port_busy`): can sq listen on the URI's port now,
/// on every address the browser may use? Binds and releases at once; the listener binds again
/// later, so a program that grabs the port in between still gets the same precise error then.
pub fn check_port_free(uri: &RedirectUri) -> Result<(), AuthError> {
    uri.bind().map(drop)
}

/// A note for `http://` redirect URIs, or `None` for `https://` ones: Meta allows
/// `http://localhost` redirects only while the app is in Development mode (meta-platform.md §1.6).
pub fn live_mode_note(uri: &RedirectUri) -> Option<String> {
    match uri.scheme {
        Scheme::Https => None,
        Scheme::Http => Some(format!(
            "note: Meta accepts the http:// redirect {uri} only while the app is in Development mode; \
             an app in Live mode requires HTTPS. If the browser shows \"Insecure Login Blocked\" or a \
             redirect URI error, register https://localhost:{port}{path} in the app and pass it with \
             --redirect-uri: sq serves it with its own self-signed certificate (the browser warns once \
             about it).",
            port = uri.port,
            path = uri.path,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_table() {
        let cases = [
            (
                "http://localhost:8765/callback",
                Scheme::Http,
                LoopbackHost::Localhost,
                "127.0.0.1:8765",
                "/callback",
            ),
            ("  http://127.0.0.1:9000/cb/x  ", Scheme::Http, LoopbackHost::V4, "127.0.0.1:9000", "/cb/x"),
            ("http://[::1]:8765/callback", Scheme::Http, LoopbackHost::V6, "[::1]:8765", "/callback"),
            ("https://localhost:8443/", Scheme::Https, LoopbackHost::Localhost, "127.0.0.1:8443", "/"),
            ("https://localhost:8443", Scheme::Https, LoopbackHost::Localhost, "127.0.0.1:8443", "/"),
            (
                "HTTP://LocalHost:80/callback",
                Scheme::Http,
                LoopbackHost::Localhost,
                "127.0.0.1:80",
                "/callback",
            ),
        ];
        for (input, scheme, host, addr, path) in cases {
            let uri = RedirectUri::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(uri.scheme(), scheme, "{input}");
            assert_eq!(uri.host(), host, "{input}");
            assert_eq!(uri.bind_addr().to_string(), addr, "{input}");
            assert!(uri.bind_addr().ip().is_loopback(), "{input}");
            assert_eq!(uri.path(), path, "{input}");
            assert_eq!(uri.as_str(), input.trim(), "kept character for character");
        }
    }

    #[test]
    fn rejected_table() {
        let cases = [
            ("", "empty"),
            ("localhost:8765/callback", "not an absolute URL"),
            ("ftp://localhost:8765/callback", "only http:// and https://"),
            ("http://localhost/callback", "has no port"),
            ("http://localhost:/callback", "has no port"),
            ("https://[::1]/callback", "has no port"),
            ("http://localhost:0/callback", "port 0"),
            ("http://localhost:70000/callback", "not a port number"),
            ("http://localhost:+80/callback", "not a port number"),
            ("http://0.0.0.0:8765/callback", "not a loopback host"),
            ("http://192.168.1.2:8765/callback", "not a loopback host"),
            ("http://127.0.0.2:8765/callback", "not a loopback host"),
            ("https://example.com:443/callback", "not a loopback host"),
            ("http://localhost.example.com:8765/cb", "not a loopback host"),
            ("http://user:pw@localhost:8765/cb", "user name or password"),
            ("http://localhost:8765/cb?x=1", "?query"),
            ("http://localhost:8765/cb#_=_", "#fragment"),
            ("http://[::1:8765/cb", "not closed"),
            ("http://localhost:8765/c b", "spaces"),
        ];
        for (input, want) in cases {
            match RedirectUri::parse(input) {
                Ok(u) => panic!("{input} accepted as {u:?}"),
                Err(e) => assert!(e.to_string().contains(want), "{input}: {e}"),
            }
        }
    }

    #[test]
    fn errors_never_echo_a_code() {
        let e = RedirectUri::parse("http://localhost:8765/cb?code=AQsecret&state=s3cr3t").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("AQsecret") && !text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn live_mode_note_only_for_http() {
        let http = RedirectUri::parse("http://localhost:8765/callback").unwrap();
        let note = live_mode_note(&http).unwrap();
        assert!(
            note.contains("Development mode") && note.contains("https://localhost:8765/callback"),
            "{note}"
        );
        assert!(live_mode_note(&RedirectUri::parse("https://localhost:8765/callback").unwrap()).is_none());
    }

    #[test]
    fn localhost_is_both_loopback_addresses() {
        let cases = [
            ("http://localhost:8765/callback", vec!["127.0.0.1:8765", "[::1]:8765"]),
            ("https://LOCALHOST:8443/", vec!["127.0.0.1:8443", "[::1]:8443"]),
            ("http://127.0.0.1:8765/callback", vec!["127.0.0.1:8765"]),
            ("http://[::1]:8765/callback", vec!["[::1]:8765"]),
        ];
        for (input, want) in cases {
            let got: Vec<String> =
                RedirectUri::parse(input).unwrap().bind_addrs().iter().map(|a| a.to_string()).collect();
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn busy_port_is_named() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let uri = RedirectUri::parse(&format!("http://127.0.0.1:{port}/callback")).unwrap();
        match check_port_free(&uri) {
            Err(AuthError::PortBusy { port: p, .. }) => assert_eq!(p, port),
            other => panic!("{other:?}"),
        }
        drop(taken);
        check_port_free(&uri).unwrap();
    }
}
