//! The loopback listener under attack from local processes, and its small holes (the KDF
//! bound, the browser's environment, stale temp files), through the real `sq` binary against
//! the sandbox. The browser is played by this test: GET the authorization URL on the sandbox,
//! take the `Location` it redirects to, and GET that on sq's listener. Every failing case
//! checks that the stored tokens are exactly as before.
#![allow(clippy::unwrap_used)]

use crate::common::sandbox::*;
use crate::common::{Run, TestEnv};
use serde_json::json;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEFAULT_USER: &str = "EAASandboxDefaultUser0000000000000000001";

fn v4(port: u16) -> SocketAddr {
    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)
}

fn v6(port: u16) -> SocketAddr {
    SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port)
}

/// Whether this machine has an IPv6 loopback (some containers don't).
fn have_ipv6() -> bool {
    TcpListener::bind(v6(0)).is_ok()
}

/// A port free on both loopback addresses right now.
fn free_port_both() -> u16 {
    loop {
        let port = free_port();
        if !have_ipv6() || TcpListener::bind(v6(port)).is_ok() {
            return port;
        }
    }
}

fn credentials(env: &TestEnv) -> Vec<u8> {
    std::fs::read(env.data_dir().join("credentials.enc")).unwrap_or_default()
}

fn import(env: &TestEnv) {
    let r = env.run_stdin(&["token", "import", "facebook"], &format!("{DEFAULT_USER}\n"));
    assert_eq!(r.code, 0, "{r:?}");
}

/// A running `sq` whose stdout and stderr are collected as they come.
struct Sq {
    child: Child,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl Sq {
    /// `sq ARGS` with the test environment; `nofile` runs it with that descriptor limit.
    fn start(env: &TestEnv, args: &[&str], nofile: Option<u32>) -> Sq {
        let sq = env!("CARGO_BIN_EXE_sq");
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(format!("ulimit -n {n} && exec \"$0\" \"$@\"")).arg(sq);
                c
            }
            None => Command::new(sq),
        };
        cmd.args(args).env_clear();
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in &env.vars {
            cmd.env(k, v);
        }
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (e, o) = (stderr.clone(), stdout.clone());
        let mut err = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                e.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            o.lock().unwrap().push_str(&s);
        });
        Sq { child, stderr, stdout }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle`.
    fn wait_for_stderr(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.stderr().contains(needle) {
            assert!(Instant::now() < deadline, "no {needle:?} on stderr:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The authorization URL sq printed (it prints it once it listens).
    fn url(&self) -> String {
        self.wait_for_stderr("/dialog/oauth", Duration::from_secs(30));
        self.stderr().split_whitespace().find(|w| w.contains("/dialog/oauth")).unwrap().to_string()
    }

    /// Meta's consent: the callback target (`/callback?code=…&state=…`) the browser goes to.
    fn consent(&self) -> String {
        let r = http("GET", &self.url(), None);
        assert_eq!(r.status, 302, "consent did not redirect: {}", r.body);
        let location = r.header("location").unwrap().split('#').next().unwrap().to_string();
        let u = url::Url::parse(&location).unwrap();
        format!("{}?{}", u.path(), u.query().unwrap())
    }

    fn finish(mut self) -> Run {
        let deadline = Instant::now() + Duration::from_secs(90);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sq did not finish:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        Run {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Sq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read off a raw connection.
struct Got {
    status: u16,
    body: String,
}

/// `GET target` on exactly `addr` (127.0.0.1 or [::1]), as a browser would after resolving.
fn get_at(addr: SocketAddr, target: &str) -> Got {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
    // A server that refuses the request may close before it is all written (status 0 then).
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n", addr.port());
    if s.write_all(request.as_bytes()).is_err() {
        return Got { status: 0, body: String::new() };
    }
    read_response(&mut s)
}

fn read_response(s: &mut impl Read) -> Got {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Got { status, body: body.to_string() }
}

/// A number from `/proc/<pid>/status` (`VmHWM`, `VmRSS` in kB, `Threads`).
#[cfg(target_os = "linux")]
fn proc_status(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[cfg(target_os = "linux")]
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// The TCP addresses process `pid` listens on, from `/proc` (socket inodes of its descriptors
/// matched against the kernel's tables).
#[cfg(target_os = "linux")]
fn listening(pid: u32) -> BTreeSet<SocketAddr> {
    let inodes: BTreeSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|t| {
            let t = t.to_string_lossy().into_owned();
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut out = BTreeSet::new();
    for (table, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address st ... inode: state 0A is LISTEN.
            if f.len() < 10 || f[3] != "0A" || !inodes.contains(f[9]) {
                continue;
            }
            let (ip, port) = f[1].split_once(':').unwrap();
            let port = u16::from_str_radix(port, 16).unwrap();
            let bytes = hex::decode(ip).unwrap();
            // The kernel prints each 32-bit word in host (little-endian) order.
            let words: Vec<u8> = bytes.chunks(4).flat_map(|w| w.iter().rev().copied()).collect();
            let ip: std::net::IpAddr = if v6 {
                <[u8; 16]>::try_from(words.as_slice()).map(Ipv6Addr::from).unwrap().into()
            } else {
                <[u8; 4]>::try_from(words.as_slice()).map(Ipv4Addr::from).unwrap().into()
            };
            out.insert(SocketAddr::new(ip, port));
        }
    }
    out
}

/// A reauth against the default sandbox whose tokens were imported first.
fn setup() -> (sq::sandbox::SandboxThread, TestEnv, Vec<u8>) {
    let sb = sandbox("default");
    let env = env_for(&sb);
    import(&env);
    let before = credentials(&env);
    (sb, env, before)
}

fn reauth_args(redirect: &str) -> Vec<String> {
    ["reauth", "facebook", "--all", "-v", "--redirect-uri", redirect].iter().map(|s| s.to_string()).collect()
}

fn start_reauth(env: &TestEnv, redirect: &str, nofile: Option<u32>) -> Sq {
    let args = reauth_args(redirect);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Sq::start(env, &args, nofile)
}

// --- 4. Another listener on the redirect port is found before the browser is sent there ------

#[test]
fn a_squatter_on_either_loopback_address_is_refused_up_front() {
    let mut squatters = vec![("127.0.0.1", v4(0))];
    if have_ipv6() {
        squatters.push(("[::1]", v6(0)));
    } else {
        eprintln!("no IPv6 loopback on this machine: only the 127.0.0.1 squatter is tried");
    }
    for (shown, addr) in squatters {
        let (sb, env, before) = setup();
        let squatter = TcpListener::bind(addr).unwrap();
        let port = squatter.local_addr().unwrap().port();
        let redirect = format!("http://localhost:{port}/callback");
        let r = start_reauth(&env, &redirect, None).finish();
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(&format!("port {port}")) && r.stderr.contains(shown), "{r:?}");
        assert!(r.stderr.contains("redirect_port_busy") || r.stderr.contains("lsof -i"), "{r:?}");
        assert!(!r.stderr.contains("/dialog/oauth"), "the browser must not be sent there: {r:?}");
        assert_eq!(credentials(&env), before, "nothing may change");

        // diagnose's environment check sees it too.
        let set = env.run(&["config", "set", "redirect_uri", &redirect]);
        assert_eq!(set.code, 0, "{set:?}");
        let d = env.run(&["--json", "diagnose"]);
        let v = d.json();
        let findings = v["environment"]["findings"].as_array().unwrap();
        assert!(findings.iter().any(|f| f["code"] == "redirect_port_busy"), "{shown}: {v}");
        drop((sb, squatter));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn localhost_is_served_on_both_addresses_and_the_ipv6_callback_works() {
    if !have_ipv6() {
        eprintln!("skipped: no IPv6 loopback on this machine (sq then serves 127.0.0.1 alone)");
        return;
    }
    let (_sb, env, _) = setup();
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://localhost:{port}/callback"), None);
    let target = sq.consent();
    assert_eq!(listening(sq.pid()), BTreeSet::from([v4(port), v6(port)]));
    let page = get_at(v6(port), &target);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("sq is connected"), "{}", page.body);
    let r = sq.finish();
    assert_eq!(r.code, 0, "{r:?}");
}

// --- 5. It can't be knocked over ------------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn running_out_of_descriptors_does_not_end_the_accept_loop() {
    let (_sb, env, before) = setup();
    let port = free_port_both();
    // sq holds about 13 descriptors while it waits; 28 leaves fewer free than the connection
    // cap, so the descriptors run out first.
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), Some(28));
    let target = sq.consent();
    let mut held = Vec::new();
    for _ in 0..60 {
        if let Ok(s) = TcpStream::connect_timeout(&v4(port), Duration::from_secs(2)) {
            held.push(s);
        }
    }
    sq.wait_for_stderr("can't accept a connection", Duration::from_secs(20));
    assert!(sq.stderr().contains("Too many open files"), "{}", sq.stderr());
    let fds = open_fds(sq.pid());
    assert!(fds >= 27, "sq is at its limit: {fds} descriptors");
    assert!(listening(sq.pid()).contains(&v4(port)), "sq keeps the port");
    assert_eq!(credentials(&env), before);
    drop(held);
    // The real callback still gets through and is answered after the exchange.
    let page = get_at(v4(port), &target);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("sq is connected"), "{}", page.body);
    let r = sq.finish();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("accepting connections again"), "{r:?}");
    assert_ne!(credentials(&env), before, "the new tokens are stored");
}

#[cfg(target_os = "linux")]
#[test]
fn connections_are_capped() {
    let (_sb, env, _) = setup();
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    let threads_before = proc_status(sq.pid(), "Threads");
    let held: Vec<TcpStream> =
        (0..200).filter_map(|_| TcpStream::connect_timeout(&v4(port), Duration::from_secs(2)).ok()).collect();
    assert!(held.len() >= 100, "{}", held.len());
    std::thread::sleep(Duration::from_millis(500));
    let threads = proc_status(sq.pid(), "Threads");
    let fds = open_fds(sq.pid());
    // One thread and one descriptor per connection, 32 connections at most.
    assert!(threads <= threads_before + 32, "{threads} threads (before: {threads_before})");
    assert!(threads >= threads_before + 30, "the cap is reached: {threads} threads");
    assert!(fds <= 13 + 32 + 4, "{fds} descriptors");
    drop(held);
    let page = get_at(v4(port), &target);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(sq.finish().code, 0);
}

#[cfg(target_os = "linux")]
#[test]
fn a_huge_header_is_refused_and_memory_stays_small() {
    let (_sb, env, before) = setup();
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    let peak_before = proc_status(sq.pid(), "VmHWM");
    let mut s = TcpStream::connect(v4(port)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /callback?code=").unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0usize;
    // Up to 256 MB of one header line: sq stops reading long before.
    while sent < 256 * 1024 * 1024 {
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    assert!(sent < 16 * 1024 * 1024, "sq kept reading: {sent} bytes went in");
    let got = read_response(&mut s);
    assert!(got.status == 431 || got.status == 0, "answered {}: {}", got.status, got.body);
    let peak = proc_status(sq.pid(), "VmHWM");
    assert!(peak < peak_before + 16 * 1024, "peak memory grew from {peak_before} kB to {peak} kB");
    assert_eq!(credentials(&env), before);
    let page = get_at(v4(port), &target);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(sq.finish().code, 0);
}

/// The browser for https: trusts exactly the certificate sq made.
fn https_client(env: &TestEnv) -> reqwest::Client {
    let pem = std::fs::read(env.data_dir().join("localhost-cert.pem")).unwrap();
    reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .timeout(Duration::from_secs(90))
        .build()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn https_drops_a_slow_handshake_at_the_deadline_and_has_no_plain_port() {
    let (_sb, env, before) = setup();
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("https://localhost:{port}/callback"), None);
    let target = sq.consent();
    // Only the redirect port, on both loopback addresses: no internal plain-HTTP port.
    let mut want = BTreeSet::from([v4(port)]);
    if have_ipv6() {
        want.insert(v6(port));
    }
    assert_eq!(listening(sq.pid()), want);

    // A ClientHello one byte per second: the handshake never ends, the deadline does.
    let loris = std::thread::spawn(move || {
        let mut s = TcpStream::connect(v4(port)).unwrap();
        let started = Instant::now();
        let hello = [0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
        for b in hello.iter().cycle() {
            if s.write_all(&[*b]).is_err() {
                break;
            }
            s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let mut buf = [0u8; 64];
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            if started.elapsed() > Duration::from_secs(40) {
                break;
            }
        }
        started.elapsed()
    });
    // A plain-HTTP request on the https port is not served either.
    let plain = get_at(v4(port), &target);
    assert_ne!(plain.status, 200, "{}", plain.body);
    let took = loris.join().unwrap();
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(20), "closed after {took:?}");
    assert_eq!(credentials(&env), before);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (status, body) = runtime.block_on(async {
        let resp = https_client(&env).get(format!("https://localhost:{port}{target}")).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    });
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("sq is connected"), "{body}");
    let r = sq.finish();
    assert_eq!(r.code, 0, "{r:?}");
}

// --- 6. An error callback needs the right state; the page tells the real outcome -------------

#[test]
fn an_error_callback_without_the_right_state_does_not_end_the_wait() {
    let (_sb, env, before) = setup();
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    for forged in [
        "/callback?error=access_denied&error_reason=user_denied".to_string(),
        "/callback?error=access_denied&error_reason=user_denied&state=not-the-state".to_string(),
        "/callback?error=server_error&error_description=Oops".to_string(),
    ] {
        let got = get_at(v4(port), &forged);
        assert_eq!(got.status, 400, "{forged}: {}", got.body);
        assert!(got.body.contains("still waiting"), "{}", got.body);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(credentials(&env), before);
    let page = get_at(v4(port), &target);
    assert_eq!(page.status, 200, "{}", page.body);
    let r = sq.finish();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("rejected /callback?error=access_denied"), "-v names them: {r:?}");
}

#[test]
fn a_real_decline_gets_its_page_and_changes_nothing() {
    let (sb, env, before) = setup();
    control(&sb, "POST", "consent", Some(json!({"outcome": "deny"})));
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    assert!(target.contains("error=access_denied") && target.contains("state="), "{target}");
    let page = get_at(v4(port), &target);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("You declined") && !page.body.contains("connected"), "{}", page.body);
    let r = sq.finish();
    assert_eq!(r.code, 4, "{r:?}");
    assert_eq!(credentials(&env), before, "nothing may change");
}

#[test]
fn the_page_says_connected_only_after_the_exchange() {
    let (sb, env, _) = setup();
    control(&sb, "DELETE", "requests", None);
    // Each call to Meta takes a while, so an early page would show.
    control(&sb, "POST", "latency", Some(json!({"ms": 300})));
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    let started = Instant::now();
    let page = get_at(v4(port), &target);
    let took = started.elapsed();
    // The moment the page arrived, Meta had already exchanged the code and inspected the
    // token.
    let log = control(&sb, "GET", "requests", None);
    let paths: Vec<(String, u64)> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap_or_default().to_string(), r["status"].as_u64().unwrap_or(0)))
        .collect();
    assert!(paths.iter().any(|(p, s)| p.ends_with("/oauth/access_token") && *s == 200), "{paths:?}");
    assert!(paths.iter().any(|(p, _)| p.ends_with("/debug_token")), "{paths:?}");
    assert!(took >= Duration::from_millis(600), "answered after {took:?}");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("sq is connected"), "{}", page.body);
    assert_eq!(sq.finish().code, 0);
}

/// The page of a failed exchange says what failed, in the terminal's words, and never
/// "connected".
fn assert_failure_page(page: &Got, r: &Run, words: &str) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("sq is connected"), "{}", page.body);
    assert!(
        page.body.contains("sq could not connect") && page.body.contains("Nothing was changed"),
        "{}",
        page.body
    );
    assert!(page.body.contains(words), "{words:?} not in {}", page.body);
    let first = r.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    let message = first.trim_start_matches("error:").trim();
    assert!(!message.is_empty(), "{r:?}");
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(
        page.body.contains(&escaped),
        "the page says what the terminal says ({message:?}): {}",
        page.body
    );
}

#[test]
fn the_page_says_what_failed_when_the_exchange_fails() {
    // A wrong app secret: Meta refuses the exchange.
    let (_sb, mut env, before) = setup();
    env.set("SQ_FACEBOOK_APP_SECRET", "not-the-secret");
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    let page = get_at(v4(port), &target);
    let r = sq.finish();
    assert_ne!(r.code, 0, "{r:?}");
    assert_failure_page(&page, &r, "secret");
    assert_eq!(credentials(&env), before, "nothing may change");

    // An expired code: the browser comes back after the code's lifetime.
    let (sb, env, before) = setup();
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    control(&sb, "POST", "clock", Some(json!({"advance": "11m"})));
    let page = get_at(v4(port), &target);
    let r = sq.finish();
    assert_ne!(r.code, 0, "{r:?}");
    assert_failure_page(&page, &r, "expired");
    assert_eq!(credentials(&env), before, "nothing may change");
}

// --- 7. Small holes -------------------------------------------------------------------------

/// A credential file header asking for `memory_kib` × `passes` × `lanes` (the body is
/// garbage: the parameters are refused before anything is derived or decrypted).
fn crafted_credentials(memory_kib: u32, passes: u32, lanes: u32) -> Vec<u8> {
    let mut out = b"sq-creds".to_vec();
    out.push(1);
    out.push(1);
    for v in [memory_kib, passes, lanes] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[7u8; 16 + 24 + 16]);
    out.extend_from_slice(&32u64.to_le_bytes());
    out.extend_from_slice(&[9u8; 32]);
    out
}

#[test]
fn a_credential_file_asking_for_too_much_work_is_refused_at_once() {
    for (memory, passes, lanes) in
        [(4 * 1024 * 1024, 64, 1), (1024 * 1024, 64, 1), (65_536, 64, 1), (65_536, 1, 64)]
    {
        let sb = sandbox("default");
        let env = env_for(&sb);
        let path = env.data_dir().join("credentials.enc");
        std::fs::create_dir_all(env.data_dir()).unwrap();
        let crafted = crafted_credentials(memory, passes, lanes);
        std::fs::write(&path, &crafted).unwrap();
        let started = Instant::now();
        let r = env.run_stdin(&["token", "import", "facebook"], &format!("{DEFAULT_USER}\n"));
        let took = started.elapsed();
        assert_ne!(r.code, 0, "{r:?}");
        assert!(r.stderr.contains("out of range"), "{memory} KiB × {passes} × {lanes}: {r:?}");
        assert!(took < Duration::from_secs(10), "took {took:?}");
        assert_eq!(std::fs::read(&path).unwrap(), crafted, "the file is left as it was");
    }
}

#[test]
fn the_next_writer_removes_what_a_killed_write_left() {
    let (_sb, env, _) = setup();
    let dir = env.data_dir();
    let stale = dir.join(".credentials.enc.0123456789ab.tmp");
    std::fs::write(&stale, crafted_credentials(64, 1, 1)).unwrap();
    let others = [
        dir.join(".config.toml.0123456789ab.tmp"),
        dir.join("credentials.enc.bak"),
        dir.join(".credentials.enc.keep"),
    ];
    for o in &others {
        std::fs::write(o, b"not sq's temp file").unwrap();
    }
    // A command that only reads leaves it (no lock, a write may be under way).
    let r = env.run(&["--json", "profiles"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(stale.exists());
    import(&env);
    assert!(!stale.exists(), "the stale temp file is gone");
    for o in &others {
        assert!(o.exists(), "{} must stay", o.display());
    }
}

#[cfg(unix)]
#[test]
fn the_browser_gets_no_secret_from_sqs_environment() {
    use std::os::unix::fs::PermissionsExt;
    let (_sb, mut env, _) = setup();
    let dump = env.dir.path().join("browser-env.txt");
    let script = env.dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nenv > '{}'\necho \"$1\" >> '{}'\n", dump.display(), dump.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let secrets = [
        ("SQ_STORE_PASSPHRASE", "correct horse battery staple"),
        ("SQ_FACEBOOK_APP_SECRET", FB_APP.1),
        ("SQ_INSTAGRAM_APP_SECRET", IG_APP.1),
        ("SQ_THREADS_APP_SECRET", TH_APP.1),
        ("SQ_SOME_OTHER_TOKEN", "EAAnotforthebrowser0001"),
    ];
    for (k, v) in secrets {
        env.set(k, v);
    }
    env.set("BROWSER", script.to_str().unwrap()).set("DISPLAY", ":0").set("SQ_GRAPH_VERSION", "v27.0");
    let port = free_port_both();
    let sq = start_reauth(&env, &format!("http://127.0.0.1:{port}/callback"), None);
    let target = sq.consent();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&dump).unwrap_or_default().contains("/dialog/oauth") {
        assert!(Instant::now() < deadline, "the browser was not started:\n{}", sq.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen = std::fs::read_to_string(&dump).unwrap();
    for (k, v) in secrets {
        assert!(!seen.contains(k) && !seen.contains(v), "{k} reached the browser:\n{seen}");
    }
    // What it needs, and sq's documented non-secret settings, still come through.
    for k in ["PATH=", "HOME=", "DISPLAY=:0", "SQ_GRAPH_VERSION=v27.0", "SQ_FACEBOOK_APP_ID="] {
        assert!(seen.lines().any(|l| l.starts_with(k)), "{k} missing:\n{seen}");
    }
    assert_eq!(get_at(v4(port), &target).status, 200);
    assert_eq!(sq.finish().code, 0);
}
