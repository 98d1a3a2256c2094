//! Shared by the tests of what a person meets (`tests/browser_chromium.rs`, `tests/terminal.rs`,
//! `tests/human_output.rs`): a world whose Pages have the names that break layouts (120
//! characters, non-Latin and wide characters, an emoji), Pages that can't be picked, and a
//! `sq reauth` run to completion with the sandbox's consent answered as a script would.
#![allow(dead_code, clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::sandbox::*;
use serde_json::{Value, json};
use sq::sandbox::SandboxThread;
use std::time::{Duration, Instant};

pub const ADMIN: &[&str] = &["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"];

/// Exactly 120 characters.
pub const LONG_NAME: &str = "The Extraordinarily Long-Named Neighbourhood Sourdough Bakery, Café, Catering Kitchen and Weekend Farmers' Market Stalls";
pub const UNICODE_NAME: &str = "Пекарня «Ёлка» 東京ベーカリー 🥐";

/// The ids of one people world. Each test takes its own `n` (1–99): the real keyring is shared
/// by every test of a run, so two tests must never store under the same Page or user id.
#[derive(Debug, Clone)]
pub struct People {
    pub user: String,
    /// Acme Bakery, the 120-character name, the unicode name, Acme Archive (ANALYZE only: can't
    /// be picked), Acme Moderation (can publish, not an Admin).
    pub pages: [String; 5],
    pub instagram: String,
}

impl People {
    pub fn new(n: u32) -> People {
        let p = |i: u32| format!("9{n:02}{i}");
        People {
            user: format!("1000000009{n:02}01"),
            pages: [p(1), p(2), p(3), p(4), p(5)],
            instagram: format!("178414000009{n:02}01"),
        }
    }

    pub fn reference(&self, i: usize) -> String {
        format!("facebook:{}", self.pages[i])
    }
}

/// The people world: Dana admins three Pages (one with a 120-character name, one with a
/// Cyrillic/Japanese/emoji name), may only analyze a fourth (it can't be picked) and moderates
/// a fifth without being its Admin.
pub fn people_world(sb_default: &SandboxThread, ids: &People) -> Value {
    let mut world = control(sb_default, "GET", "scenario", None);
    let u = ids.user.as_str();
    let p = &ids.pages;
    world["description"] = json!("people: long and unicode Page names, a Page that can't be picked");
    world["users"] = json!([{"id": u, "name": "Dana Rivera"}]);
    world["pages"] = json!([
        {"id": p[0], "name": "Acme Bakery", "roles": {u: ADMIN}, "instagram": ids.instagram},
        {"id": p[1], "name": LONG_NAME, "roles": {u: ADMIN}},
        {"id": p[2], "name": UNICODE_NAME, "roles": {u: ADMIN}},
        {"id": p[3], "name": "Acme Archive", "roles": {u: ["ANALYZE"]}},
        {"id": p[4], "name": "Acme Moderation", "roles": {u: ["MODERATE", "CREATE_CONTENT"]}}
    ]);
    world["businesses"] = json!([]);
    world["instagram_accounts"] = json!([{"id": ids.instagram, "username": "acme.bakery"}]);
    world["threads_accounts"] = json!([]);
    world["tokens"] = json!([]);
    world["consent"] = json!({"outcome": "grant"});
    if let Some(devs) = world["facebook_app"].get_mut("developers") {
        *devs = json!([u]);
    }
    world
}

pub fn people_sandbox(ids: &People) -> SandboxThread {
    let base = sandbox("default");
    let world = people_world(&base, ids);
    drop(base);
    assert_eq!(LONG_NAME.chars().count(), 120);
    sandbox_from(&world)
}

/// Waits for `f` to give a value, polling every 50 ms, up to `secs`.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `sq reauth facebook --all` with the browser played by a small program: the dialog answers a
/// non-browser at once (the consent controls' choice), and the redirect is pasted back.
pub fn connect_all(env: &TestEnv) {
    reauth_all_output(env);
}

/// [`connect_all`], returning what `sq reauth` printed on stdout.
pub fn reauth_all_output(env: &TestEnv) -> String {
    reauth_output(env, &["reauth", "facebook", "--all"])
}

/// `args` (a `sq reauth …`) with the browser played: returns stdout.
pub fn reauth_output(env: &TestEnv, args: &[&str]) -> String {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--no-browser", "--redirect-uri", &redirect]);
    let mut child = env
        .command(&all)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let l2 = lines.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            l2.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let url = wait_for(20, "the authorization URL", || {
        lines.lock().unwrap().split_whitespace().find(|w| w.contains("/dialog/oauth")).map(str::to_string)
    });
    let r = http("GET", &url, None);
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.header("location").unwrap().split('#').next().unwrap().to_string();
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{location}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(4),
        "reauth failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        lines.lock().unwrap()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
