//! A real browser end to end: `sq reauth facebook` runs with `BROWSER` set to a wrapper that
//! starts headless Chromium on the authorization URL; the test looks at the sandbox's consent
//! form through Chromium's DevTools protocol (a tiny WebSocket client below), changes a tick
//! as a person would, presses Continue, and Chromium follows Meta's redirect to sq's loopback
//! listener, over `http://localhost` and over `https://localhost` (sq's self-signed
//! certificate; Chromium is told to accept it). Then `sq diagnose` is clean and the tokens are
//! in the real Secret Service.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it); skipped, saying so, when it is missing.
//! The keyring half needs `SQ_TEST_KEYRING=1` inside scripts/test's D-Bus session; without it
//! the file store is used and the test says so.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::person::*;
use crate::common::sandbox::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The `BROWSER` command: a shell script that records its pid and becomes headless Chromium
/// with a fresh profile and the DevTools port on a free port (written to DevToolsActivePort).
fn wrapper(dir: &Path, chromium: &Path) -> PathBuf {
    let script = dir.join("browser.sh");
    let profile = dir.join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let text = format!(
        "#!/bin/sh\n\
         echo $$ > '{pid}'\n\
         env > '{env}'\n\
         exec '{chromium}' --headless --no-sandbox --disable-gpu --no-first-run \
         --disable-background-networking --disable-component-update --disable-sync --disable-quic \
         --password-store=basic --ignore-certificate-errors \
         --user-data-dir='{profile}' --remote-debugging-port=0 \"$1\" >'{log}' 2>&1\n",
        pid = dir.join("pid").display(),
        env = dir.join("env").display(),
        chromium = chromium.display(),
        profile = profile.display(),
        log = dir.join("chromium.log").display(),
    );
    std::fs::write(&script, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

/// Chromium started by sq through the wrapper; stopped (by its pid) when dropped.
struct Browser {
    dir: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The smallest DevTools client: HTTP for the target list, then one WebSocket to the page.

struct Cdp {
    s: TcpStream,
    next_id: u64,
}

fn http_get_local(port: u16, path: &str) -> String {
    // DevTools' HTTP server keeps the connection open: read the head, then Content-Length bytes.
    let Ok(s) = TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = &s;
    write!(w, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    let mut r = BufReader::new(&s);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    let _ = r.read_exact(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}

impl Cdp {
    /// Connects to the first page target of the Chromium whose profile is in `dir`.
    fn attach(dir: &Path) -> Cdp {
        let port: u16 = wait_for(30, "Chromium's DevToolsActivePort", || {
            std::fs::read_to_string(dir.join("profile/DevToolsActivePort"))
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
        });
        let ws = wait_for(30, "a page target", || {
            let list: Value = serde_json::from_str(&http_get_local(port, "/json/list")).ok()?;
            list.as_array()?
                .iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                .map(str::to_string)
        });
        let path = ws.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: c3EtdGVzdC1icm93c2VyLTE=\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "WebSocket upgrade refused: {head}");
        Cdp { s, next_id: 1 }
    }

    fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mut f = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            f.push(0x80 | len as u8);
        } else if len <= 0xffff {
            f.push(0x80 | 126);
            f.extend((len as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend((len as u64).to_be_bytes());
        }
        // A client must mask its frames (RFC 6455 §5.3); any key will do.
        let mask = [0x5a, 0x17, 0xc3, 0x2e];
        f.extend(mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.s.write_all(&f).unwrap();
    }

    fn read_message(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.s.read_exact(&mut h).unwrap();
            let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
            let mut len = u64::from(h[1] & 0x7f);
            if len == 126 {
                let mut l = [0u8; 2];
                self.s.read_exact(&mut l).unwrap();
                len = u64::from(u16::from_be_bytes(l));
            } else if len == 127 {
                let mut l = [0u8; 8];
                self.s.read_exact(&mut l).unwrap();
                len = u64::from_be_bytes(l);
            }
            let mask = if h[1] & 0x80 != 0 {
                let mut m = [0u8; 4];
                self.s.read_exact(&mut m).unwrap();
                Some(m)
            } else {
                None
            };
            let mut payload = vec![0u8; len as usize];
            self.s.read_exact(&mut payload).unwrap();
            if let Some(m) = mask {
                payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= m[i % 4]);
            }
            match opcode {
                0x9 => self.send_frame(0xA, &payload),
                0x8 => panic!("Chromium closed the DevTools connection"),
                0x0..=0x2 => {
                    message.extend(payload);
                    if fin {
                        return String::from_utf8_lossy(&message).into_owned();
                    }
                }
                _ => {}
            }
        }
    }

    /// One DevTools command; events that arrive meanwhile are skipped.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.send_frame(0x1, msg.as_bytes());
        loop {
            let v: Value = serde_json::from_str(&self.read_message()).unwrap_or(Value::Null);
            if v["id"] == id {
                return v;
            }
        }
    }

    /// Evaluates JavaScript in the page; `None` while the page is between documents.
    fn eval(&mut self, expr: &str) -> Option<Value> {
        let r = self.call("Runtime.evaluate", json!({"expression": expr, "returnByValue": true}));
        if r.get("error").is_some() || r["result"].get("exceptionDetails").is_some() {
            return None;
        }
        Some(r["result"]["result"]["value"].clone())
    }

    fn page(&mut self) -> Option<(String, String, String)> {
        let v = self.eval(
            "JSON.stringify({url: location.href, title: document.title, \
             text: document.body ? document.body.innerText : ''})",
        )?;
        let v: Value = serde_json::from_str(v.as_str()?).ok()?;
        Some((
            v["url"].as_str()?.to_string(),
            v["title"].as_str()?.to_string(),
            v["text"].as_str()?.to_string(),
        ))
    }
}

fn keyring_env(env: &mut TestEnv) -> bool {
    if std::env::var("SQ_TEST_KEYRING").as_deref() == Ok("1") {
        env.unset("SQ_STORE_PASSPHRASE").set("SQ_CREDENTIAL_STORE", "keyring").with_session_bus();
        true
    } else {
        eprintln!(
            "note: SQ_TEST_KEYRING is not 1 (run scripts/test), so the tokens go to the file store \
             instead of the Secret Service"
        );
        false
    }
}

fn secret_tool_lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        // All of sq's tokens are in one keyring item, the bundle (docs/ARCHITECTURE.md).
        .args(["lookup", "service", "sq", "account", "bundle:v1"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let bundle: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    bundle["entries"][account].as_str().map(str::to_string)
}

/// One full run over `scheme`://localhost; returns how long sq took from start to exit.
fn run_in_chromium(scheme: &str, ids: &People) -> Duration {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: chromium is not installed (Debian: apt-get install chromium; .ci/run does)");
        return Duration::ZERO;
    };
    let sb = people_sandbox(ids);
    let mut env = env_for(&sb);
    let keyring = keyring_env(&mut env);
    // Both Chromium tests (and the other keyring tests) write into the one bundle item of the
    // Secret Service (docs/ARCHITECTURE.md), so they take turns rather than racing on it.
    let _turn = keyring.then(crate::common::shared_keyring);
    let dir = tempfile::tempdir().unwrap();
    let browser_cmd = wrapper(dir.path(), &chromium);
    env.set("BROWSER", browser_cmd.to_str().unwrap());
    // No display, as on a CI machine or a server: an explicit $BROWSER is used anyway.
    env.unset("DISPLAY").unset("WAYLAND_DISPLAY");
    let _browser = Browser { dir: dir.path().to_path_buf() };

    let port = free_port();
    let redirect = format!("{scheme}://localhost:{port}/callback");
    let started = Instant::now();
    let mut child = env
        .command(&["reauth", "facebook", "--all", "--redirect-uri", &redirect])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let err_text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let e2 = err_text.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            e2.lock().unwrap().push_str(&(line + "\n"));
        }
    });

    let mut cdp = Cdp::attach(dir.path());
    // The consent form, as the browser rendered it.
    // The title renders before the body on a loaded machine, so wait for the last part of the
    // form too, not only the title.
    let (url, title, text) = wait_for(30, "the consent form", || {
        cdp.page().filter(|(_, title, text)| {
            title == "Log in with Facebook"
                && text.contains("Dana Rivera")
                && text.contains("Opt in to all current and future Pages")
        })
    });
    assert!(url.contains("/dialog/oauth"), "{url}");
    assert_eq!(title, "Log in with Facebook");
    for want in
        ["Dana Rivera", "Acme Bakery", LONG_NAME, UNICODE_NAME, "Opt in to all current and future Pages"]
    {
        assert!(text.contains(want), "{want:?} not on the rendered page:\n{text}");
    }
    assert!(text.contains("pages_manage_posts"), "the permission toggles:\n{text}");
    let boxes = cdp
        .eval("Array.from(document.querySelectorAll('input[type=checkbox]')).map(i => i.name + '=' + i.checked).join(' ')")
        .unwrap();
    let boxes = boxes.as_str().unwrap().to_string();
    let p = &ids.pages;
    for want in [
        "all_pages=true".to_string(),
        format!("page_{}=true", p[0]),
        format!("page_{}=true", p[2]),
        "perm_pages_manage_posts=true".to_string(),
    ] {
        assert!(boxes.contains(&want), "{want} pre-set from the consent controls: {boxes}");
    }
    // As a person would: only current Pages, Acme Moderation unticked, then Continue.
    cdp.eval(&format!(
        "document.querySelector('input[name=all_pages]').click(); \
         document.querySelector('input[name=page_{}]').click(); \
         document.getElementById('continue').click(); true",
        p[4]
    ))
    .unwrap();

    // Chromium follows the redirect to sq's listener and shows its page.
    let (url, _, text) = wait_for(30, "sq's page after the redirect", || {
        cdp.page().filter(|(url, _, text)| {
            url.starts_with(&format!("{scheme}://localhost:{port}/callback")) && !text.trim().is_empty()
        })
    });
    assert!(!text.is_empty(), "sq's success page is empty at {url}");
    let status = wait_for(60, "sq to finish", || child.try_wait().unwrap());
    let took = started.elapsed();
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let stderr = err_text.lock().unwrap().clone();
    assert_eq!(status.code(), Some(0), "sq reauth:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("Opening the authorization page with $BROWSER ({})", browser_cmd.display())),
        "the decision is said: {stderr}"
    );
    // sq's secrets stay out of the browser's environment.
    let browser_env = std::fs::read_to_string(dir.path().join("env")).unwrap();
    assert!(!browser_env.contains(FB_APP.1), "the app secret reached the browser's environment");
    assert!(!browser_env.contains("SQ_STORE_PASSPHRASE"), "the passphrase reached the browser");
    let connected = [ids.reference(0), ids.reference(1), ids.reference(2)];
    for c in &connected {
        assert!(stdout.contains(c.as_str()), "{c} reconnected:\n{stdout}");
    }
    assert!(!stdout.contains(&ids.reference(4)), "unticked in the browser, so not reached:\n{stdout}");

    let d = env.run(&["diagnose"]);
    assert_eq!(d.code, 0, "diagnose after the browser flow: {d:?}");
    let v = env.run(&["--json", "diagnose"]).json();
    assert!(v["profiles"].as_array().unwrap().iter().all(|p| p["status"] == "ok"), "{v}");
    assert_eq!(v["profiles"].as_array().unwrap().len(), 3, "{v}");

    if keyring {
        for account in &connected {
            let stored =
                secret_tool_lookup(account).unwrap_or_else(|| panic!("{account} not in the Secret Service"));
            let printed = env.run(&["token", "print", account]);
            assert_eq!(printed.stdout.trim(), stored, "{account}");
            // Only in the keyring: not in the database or anywhere else in the data directory.
            for (path, bytes) in crate::common::all_files(&env.data_dir()) {
                assert!(
                    !crate::common::contains(&bytes, &stored),
                    "{account}'s token is in {}",
                    path.display()
                );
            }
        }
        for account in &connected {
            let _ = env.run(&["profiles", "remove", account]);
        }
    }
    took
}

#[test]
fn chromium_reauth_over_http_localhost() {
    let took = run_in_chromium("http", &People::new(1));
    eprintln!("chromium http run: {took:?}");
}

#[test]
fn chromium_reauth_over_https_localhost() {
    let took = run_in_chromium("https", &People::new(2));
    eprintln!("chromium https run: {took:?}");
}
