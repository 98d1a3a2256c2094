//! The smallest HTTP/1.1 client the demo needs to talk to its own sandbox on 127.0.0.1: the
//! control API and the "browser" that opens the consent URL. Plain HTTP on loopback only;
//! redirects are returned, never followed (the browser's last hop is sq's own listener, whose
//! address the demo pastes back instead).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One request with `Connection: close`. Only `http://127.0.0.1:PORT/…` URLs are accepted: the
/// demo never talks to anything but the sandbox it started.
pub fn request(method: &str, url: &str, body: Option<&serde_json::Value>) -> Result<Response, String> {
    let u = url::Url::parse(url).map_err(|e| format!("bad URL {url}: {e}"))?;
    if u.scheme() != "http" || u.host_str() != Some("127.0.0.1") {
        return Err(format!("refusing to request {url}: the demo only talks to its sandbox on 127.0.0.1"));
    }
    let port = u.port_or_known_default().unwrap_or(80);
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target.push('?');
        target.push_str(q);
    }
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connecting to {url}: {e}"))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let req = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| format!("sending to {url}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("reading from {url}: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no HTTP status from {url}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    // The sandbox answers with Content-Length (never chunked), so the body is the rest.
    Ok(Response { status, headers, body: body.to_string() })
}
