//! A sandbox per test, a tiny HTTP/1.1 client that never follows redirects (the "browser" of
//! the OAuth tests), and a `TestEnv` wired to the sandbox with the file credential store.
#![allow(dead_code, clippy::unwrap_used)]

use crate::common::TestEnv;
use serde_json::Value;
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub const FB_APP: (&str, &str) = ("111111111111111", "sandbox-facebook-secret");
pub const IG_APP: (&str, &str) = ("222222222222222", "sandbox-instagram-secret");
pub const TH_APP: (&str, &str) = ("333333333333333", "sandbox-threads-secret");

pub fn sandbox(name: &str) -> SandboxThread {
    SandboxThread::start(SandboxOptions::new(Scenario::builtin(name).unwrap())).unwrap()
}

pub fn sandbox_from(scenario: &Value) -> SandboxThread {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, serde_json::to_vec(scenario).unwrap()).unwrap();
    SandboxThread::start(SandboxOptions::new(Scenario::from_path(&path).unwrap())).unwrap()
}

/// A test environment pointed at the sandbox, file store, all three apps configured.
pub fn env_for(sb: &SandboxThread) -> TestEnv {
    let mut env = TestEnv::new();
    env.with_file_store();
    env.set("SQ_META_API_BASE", &sb.base_url())
        .set("SQ_FACEBOOK_APP_ID", FB_APP.0)
        .set("SQ_FACEBOOK_APP_SECRET", FB_APP.1)
        .set("SQ_INSTAGRAM_APP_ID", IG_APP.0)
        .set("SQ_INSTAGRAM_APP_SECRET", IG_APP.1)
        .set("SQ_THREADS_APP_ID", TH_APP.0)
        .set("SQ_THREADS_APP_SECRET", TH_APP.1);
    env
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The browser on sq's https redirect: GET `url` trusting only the certificate `pem` (sq's own,
/// `localhost-cert.pem` in the data directory).
pub fn https_get(pem: &[u8], url: &str) -> Resp {
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(90))
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = client.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        Resp { status, headers, body: r.text().await.unwrap_or_default() }
    })
}

/// One HTTP/1.1 request with `Connection: close`; redirects are returned, never followed.
pub fn http(method: &str, url: &str, body: Option<&Value>) -> Resp {
    let u = url::Url::parse(url).unwrap();
    let host = u.host_str().unwrap().to_string();
    let port = u.port_or_known_default().unwrap();
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target.push('?');
        target.push_str(q);
    }
    let payload = body.map(|b| serde_json::to_string(b).unwrap()).unwrap_or_default();
    let mut s = TcpStream::connect((host.as_str(), port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status =
        lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp { status, headers, body: body.to_string() }
}

/// A control-API call: `/_sandbox/{path}`.
pub fn control(sb: &SandboxThread, method: &str, path: &str, body: Option<Value>) -> Value {
    let r = http(method, &format!("{}/_sandbox/{path}", sb.base_url()), body.as_ref());
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
