//! `sq reauth` / `sq refresh` against the sandbox. The browser is played by a small program:
//! read the authorization URL from sq's stderr, GET it on the sandbox without following the
//! redirect, strip `#_=_` from the `Location`, and GET that on sq's loopback listener (or paste
//! it on sq's stdin).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use crate::common::sandbox::*;
use crate::common::snapshot::Normalize;
use crate::common::{Run, TestEnv};
use serde_json::{Value, json};
use sq::sandbox::SandboxThread;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STORY_USER: &str = "EAASandboxStoryUser00000000000000000001";

/// A running `sq reauth` whose stderr is collected as it comes.
struct Flow {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl Flow {
    fn start(env: &TestEnv, args: &[&str]) -> Flow {
        let mut child = env
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
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
        let stdin = child.stdin.take();
        Flow { child, stdin, stderr, stdout }
    }

    /// The authorization URL sq printed.
    fn url(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.stderr.lock().unwrap().clone();
            if let Some(u) = text
                .split_whitespace()
                .find(|w| w.contains("/dialog/oauth") || w.contains("/oauth/authorize"))
            {
                return u.to_string();
            }
            assert!(Instant::now() < deadline, "no URL on stderr:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The browser: Meta's consent answers with a redirect; returns its `Location` without the
    /// fragment.
    fn consent(&self) -> String {
        let r = http("GET", &self.url(), None);
        assert_eq!(r.status, 302, "consent did not redirect: {}", r.body);
        let loc = r.header("location").unwrap().to_string();
        loc.split('#').next().unwrap().to_string()
    }

    fn paste(&mut self, line: &str) {
        let s = self.stdin.as_mut().unwrap();
        s.write_all(format!("{line}\n").as_bytes()).unwrap();
        s.flush().unwrap();
    }

    fn finish(mut self) -> Run {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sq did not finish:\n{}", self.stderr.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        Run {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }
}

fn redirect(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

/// The kind of redirect Instagram Login and Threads accept (meta-platform.md §14).
fn https_redirect(port: u16) -> String {
    format!("https://127.0.0.1:{port}/callback")
}

/// A sandbox whose apps register the redirect on `port` (exact match): http for Facebook,
/// https for Instagram Login and Threads (the only kind their dashboards save).
fn sandbox_with_redirect(name: &str, port: u16) -> SandboxThread {
    let sb = sandbox(name);
    let mut world = control(&sb, "GET", "scenario", None);
    world["facebook_app"]["redirect_uris"] = json!([redirect(port)]);
    for app in ["instagram_app", "threads_app"] {
        world[app]["redirect_uris"] = json!([https_redirect(port)]);
    }
    drop(sb);
    sandbox_from(&world)
}

/// The browser on an https redirect: GET it trusting only sq's own certificate (made in the
/// data directory before the URL is printed). Returns the status of sq's answer page.
fn https_get(env: &TestEnv, url: &str) -> u16 {
    let pem = std::fs::read(env.data_dir().join("localhost-cert.pem")).unwrap();
    crate::common::sandbox::https_get(&pem, url).status
}

fn import(env: &TestEnv, network: &str, token: &str) {
    let r = env.run_stdin(&["token", "import", network], &format!("{token}\n"));
    assert_eq!(r.code, 0, "{r:?}");
}

fn profiles_json(env: &TestEnv, r: &Run) -> Value {
    let _ = env;
    r.json()
}

fn credentials(env: &TestEnv) -> Vec<u8> {
    std::fs::read(env.data_dir().join("credentials.enc")).unwrap_or_default()
}

#[test]
fn story_password_changed_page_is_fixed_and_unticked_page_reselected() {
    let sb = sandbox("story");
    let env = env_for(&sb);
    import(&env, "facebook", STORY_USER);
    // 888 was left unticked in that grant; then the password change kills every token.
    control(&sb, "POST", "events", Some(json!({"event": "password_changed", "user": "100000000000001"})));
    let port = free_port();
    let flow =
        Flow::start(&env, &["reauth", "facebook", "--all", "--json", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    let page = http("GET", &location, None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")));
    let r = flow.finish();
    assert_eq!(r.code, 0, "{r:?}");
    let v = profiles_json(&env, &r);
    let reconnected: Vec<&str> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "reconnected")
        .map(|p| p["profile"].as_str().unwrap())
        .collect();
    for want in ["facebook:777", "facebook:888", "facebook:999"] {
        assert!(reconnected.contains(&want), "{want}: {v}");
    }
    // The closing diagnose verified them.
    let statuses: Vec<&str> =
        v["diagnose"]["profiles"].as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == "ok"), "{v}");
    assert!(!r.stdout.contains(STORY_USER) && !r.stderr.contains(STORY_USER));
}

#[test]
fn a_page_not_selected_keeps_its_old_state_and_is_reported() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    import(&env, "facebook", "EAASandboxDefaultUser0000000000000000001");
    let port = free_port();
    let flow = Flow::start(&env, &["reauth", "facebook", "facebook:777", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    http("GET", &location, None);
    let r = flow.finish();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("reconnected  facebook:777"), "{r:?}");
    assert!(r.stdout.contains("kept as is   facebook:888"), "{r:?}");
}

#[test]
fn declined_permission_is_reported_with_the_fix() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    control(&sb, "POST", "consent", Some(json!({"outcome": "grant", "declined": ["pages_manage_posts"]})));
    let port = free_port();
    let flow = Flow::start(&env, &["reauth", "facebook", "--all", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    http("GET", &location, None);
    let r = flow.finish();
    assert!(r.stderr.contains("pages_manage_posts") && r.stderr.contains("Edit access"), "{r:?}");
    assert_eq!(r.code, 4, "the closing diagnose finds scope_missing: {r:?}");
}

#[test]
fn user_denies_then_old_tokens_are_intact() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    import(&env, "facebook", "EAASandboxDefaultUser0000000000000000001");
    let before = credentials(&env);
    control(&sb, "POST", "consent", Some(json!({"outcome": "deny"})));
    let port = free_port();
    let flow = Flow::start(&env, &["reauth", "facebook", "--all", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    let page = http("GET", &location, None);
    assert!(page.body.contains("declined") || page.status >= 400 || page.status == 200, "{}", page.body);
    let r = flow.finish();
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("you declined"), "{r:?}");
    assert_eq!(credentials(&env), before, "nothing may change");
    let d = env.run(&["token", "import", "facebook"]);
    assert_eq!(d.code, 2);
}

#[test]
fn wrong_state_gets_400_and_the_wait_goes_on() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let port = free_port();
    let flow = Flow::start(&env, &["reauth", "facebook", "--all", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    let forged = format!("{}?code=AQforged&state=not-the-state", redirect(port));
    assert_eq!(http("GET", &forged, None).status, 400);
    let missing = format!("{}?code=AQforged", redirect(port));
    assert_eq!(http("GET", &missing, None).status, 400);
    assert_eq!(http("GET", &location, None).status, 200);
    let r = flow.finish();
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn paste_back_in_no_browser_mode() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let port = free_port();
    let mut flow = Flow::start(
        &env,
        &["reauth", "facebook", "--all", "--no-browser", "--redirect-uri", &redirect(port)],
    );
    let location = flow.consent();
    flow.paste("this is not it");
    flow.paste(&format!("{location}#_=_"));
    let r = flow.finish();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("reconnected  facebook:777"), "{r:?}");
    assert!(!r.stderr.contains("code=AQ"), "the code must not be echoed: {r:?}");
}

#[test]
fn timeout_ends_the_wait() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let port = free_port();
    let flow = Flow::start(
        &env,
        &["reauth", "facebook", "--all", "--timeout", "1", "--redirect-uri", &redirect(port)],
    );
    let r = flow.finish();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no answer from the browser"), "{r:?}");
}

#[test]
fn without_a_terminal_a_selection_is_required() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let r = env.run(&["reauth", "facebook", "--redirect-uri", &redirect(free_port())]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--all"), "{r:?}");
}

#[test]
fn busy_port_and_missing_app_are_precise_errors() {
    let sb = sandbox("default");
    let mut env = env_for(&sb);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let r = env.run(&["reauth", "facebook", "--all", "--redirect-uri", &redirect(port)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&format!("port {port}")), "{r:?}");
    env.unset("SQ_FACEBOOK_APP_SECRET");
    let r = env.run(&["reauth", "facebook", "--all"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("sq config set facebook.app_id") && r.stderr.contains("--stdin"), "{r:?}");
}

#[test]
fn threads_with_the_facebook_app_id_is_named() {
    let sb = sandbox("default");
    let mut env = env_for(&sb);
    env.set("SQ_THREADS_APP_ID", FB_APP.0);
    let r = env.run(&["reauth", "threads", "--redirect-uri", &redirect(free_port())]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("Facebook app id") && r.stderr.contains("4476002"), "{r:?}");
}

#[test]
fn threads_and_instagram_login_flows() {
    let port = free_port();
    let sb = sandbox_with_redirect("default", port);
    let env = env_for(&sb);
    for (network, extra, want) in [
        ("threads", None, "threads:7000000000000001"),
        ("instagram", Some("--instagram-login"), "instagram:17841400000000002"),
    ] {
        let mut args = vec!["reauth", network, "--json", "--redirect-uri"];
        let uri = https_redirect(port);
        args.push(&uri);
        args.extend(extra);
        let flow = Flow::start(&env, &args);
        let location = flow.consent();
        assert!(location.starts_with(&uri), "{location}");
        assert_eq!(https_get(&env, &location), 200);
        let r = flow.finish();
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["profiles"][0]["profile"], want, "{r:?}");
    }
}

/// Out of the box (no --redirect-uri, no config): Instagram Login and Threads use
/// https://localhost:8765/callback, which the sandbox's apps register, and complete; tokens in
/// their window refresh. The four token calls carry the token in the query (§14).
#[test]
fn instagram_login_and_threads_work_with_the_default_setup() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let r = env.run(&["config", "list", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let uses =
        |key: &str| r.json()["config"].as_array().unwrap().iter().find(|e| e["key"] == key).cloned().unwrap();
    assert_eq!(uses("instagram.redirect_uri")["value"], "https://localhost:8765/callback");
    assert_eq!(uses("threads.redirect_uri")["value"], "https://localhost:8765/callback");
    assert_eq!(uses("facebook.redirect_uri")["value"], "http://localhost:8765/callback");
    assert_eq!(uses("threads.redirect_uri")["source"], "default");
    for (network, extra, want) in [
        ("threads", None, "threads:7000000000000001"),
        ("instagram", Some("--instagram-login"), "instagram:17841400000000002"),
    ] {
        let mut args = vec!["reauth", network, "--json", "--timeout", "60"];
        args.extend(extra);
        let flow = Flow::start(&env, &args);
        let location = flow.consent();
        assert!(location.starts_with("https://localhost:8765/callback?code="), "{location}");
        assert_eq!(https_get(&env, &location), 200);
        let r = flow.finish();
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["profiles"][0]["profile"], want, "{r:?}");
    }
    // Each login exchanged its short token for a long-lived one with the token in the query.
    assert_eq!(token_calls(&sb, "/access_token"), vec!["query", "query"]);

    // Tokens inside their refresh window (3 days old) refresh, the token again in the query.
    // (The Instagram one is imported without the app secret, so sq doesn't swap it for a fresh
    // long-lived token at import and doesn't know its age: Meta's answer decides.)
    let sb = sandbox("findings");
    let mut env = env_for(&sb);
    env.unset("SQ_INSTAGRAM_APP_SECRET");
    import(&env, "instagram", "IGAASandboxFindingsRefreshWindow000001");
    env.set("SQ_INSTAGRAM_APP_SECRET", IG_APP.1);
    import(&env, "threads", "THAASandboxFindingsRefreshWindow000001");
    let r = env.run(&["refresh", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let profiles = r.json()["profiles"].as_array().unwrap().clone();
    assert_eq!(profiles.len(), 2, "{r:?}");
    assert!(profiles.iter().all(|p| p["status"] == "refreshed"), "{r:?}");
    assert_eq!(token_calls(&sb, "/refresh_access_token"), vec!["query", "query"]);
}

/// Where the token travelled on the sandbox's `…{suffix}` calls (not `oauth/access_token`).
fn token_calls(sb: &SandboxThread, suffix: &str) -> Vec<String> {
    let log = control(sb, "GET", "requests", None);
    log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let p = e["path"].as_str().unwrap_or("");
            p.ends_with(suffix) && !p.contains("/oauth/")
        })
        .map(|e| e["token_source"].as_str().unwrap_or("").to_string())
        .collect()
}

/// An http redirect for Instagram Login or Threads is refused before anything happens, with the
/// https URI to use; nothing is stored.
#[test]
fn http_redirect_is_refused_for_instagram_login_and_threads() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let before = credentials(&env);
    let port = free_port();
    for args in [
        vec!["reauth", "threads", "--redirect-uri", &redirect(port) as &str],
        vec!["reauth", "instagram", "--instagram-login", "--redirect-uri", &redirect(port)],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("accepts only https redirect URIs"), "{r:?}");
        assert!(r.stderr.contains(&format!("https://localhost:{port}/callback")), "{r:?}");
    }
    let r = env.run(&["config", "set", "threads.redirect_uri", &redirect(port)]);
    assert_eq!(r.code, 2, "{r:?}");
    // The shared redirect_uri, when http, is left to Facebook; Threads keeps its https default.
    let r = env.run(&["config", "set", "redirect_uri", &redirect(port)]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = env.run(&["config", "list"]);
    let line = r.stdout.lines().find(|l| l.starts_with("threads.redirect_uri")).unwrap().to_string();
    assert!(line.contains("https://localhost:8765/callback") && line.contains("http"), "{line}");
    let line = r.stdout.lines().find(|l| l.starts_with("facebook.redirect_uri")).unwrap().to_string();
    assert!(line.contains(&redirect(port)) && line.contains("redirect_uri in config file"), "{line}");
    assert_eq!(credentials(&env), before);
}

/// sq waits in vain (Meta refused the redirect in the browser, which sq can't see): the message
/// names the URI to register and where.
#[test]
fn timeout_names_the_redirect_uri_to_register() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let port = free_port();
    let uri = https_redirect(port);
    let r = env.run(&["reauth", "threads", "--timeout", "1", "--no-browser", "--redirect-uri", &uri]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no answer from the browser"), "{r:?}");
    assert!(r.stderr.contains("Meta may have refused the redirect URI"), "{r:?}");
    assert!(r.stderr.contains(&format!("Register exactly {uri}")), "{r:?}");
    assert!(r.stderr.contains("Redirect Callback URLs"), "{r:?}");
}

#[test]
fn refresh_inside_and_outside_the_window() {
    let sb = sandbox("findings");
    let env = env_for(&sb);
    // 3 days old: inside the window.
    import(&env, "threads", "THAASandboxFindingsRefreshWindow000001");
    let r = env.run(&["refresh", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["profiles"][0]["status"], "refreshed", "{r:?}");
    // Just refreshed: younger than 24 h.
    let r = env.run(&["refresh"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("less than 24 h old"), "{r:?}");
    // Another machine keeps the 3-day-old token; 58 days later it is past its 60 days at Meta:
    // it can't be refreshed any more, and the fix is a new login.
    let sb = sandbox("findings");
    let env = env_for(&sb);
    import(&env, "threads", "THAASandboxFindingsRefreshWindow000001");
    control(&sb, "POST", "clock", Some(json!({"advance": "58d"})));
    let r = env.run(&["refresh", "threads:7000000000000800"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stdout.contains("can't be refreshed")
            && r.stderr.contains("sq reauth threads threads:7000000000000800"),
        "{r:?}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_cleanly() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    import(&env, "facebook", "EAASandboxDefaultUser0000000000000000001");
    let before = credentials(&env);
    let port = free_port();
    let flow = Flow::start(&env, &["reauth", "facebook", "--all", "--redirect-uri", &redirect(port)]);
    let _ = flow.url();
    let pid = flow.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let r = flow.finish();
    assert_eq!(r.code, 130, "{r:?}");
    assert_eq!(credentials(&env), before);
    // The port is free again.
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
}

/// The whole story of the README: posts fail after a password change; `sq diagnose` names the
/// cause and counts the failed posts; `sq reauth` (the browser played by this test); `sq
/// requeue --failed` moves them back; `sq publish` sends them; the sandbox shows each post
/// published exactly once.
#[test]
fn story_failed_posts_are_requeued_after_reauth_and_published_exactly_once() {
    let sb = sandbox("story");
    let env = env_for(&sb);
    import(&env, "facebook", STORY_USER);
    let texts = ["Fresh sourdough at 7", "Croissants are back", "Closed on Monday"];
    for t in texts {
        let r = env.run(&["queue", "add", "facebook:777", "--text", t]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    // The password change: every token of the login dies with 190/460.
    control(&sb, "POST", "events", Some(json!({"event": "password_changed", "user": "100000000000001"})));
    let r = env.run(&["publish"]);
    assert_eq!(r.code, 4, "auth failures need the user: {r:?}");

    let r = env.run(&["--json", "diagnose", "facebook:777"]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    let findings = v["profiles"][0]["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["code"] == "token_password_changed"), "{v}");
    // The first post failed as `auth`; the profile's other posts were held (still queued), not
    // sent into the same wall.
    let failed = findings.iter().find(|f| f["code"] == "failed_posts").expect("failed posts counted");
    assert!(failed["summary"].as_str().unwrap().contains("1 failed post"), "{failed}");
    let list = env.run(&["--json", "queue", "list"]).json();
    let states: Vec<&str> =
        list["posts"].as_array().unwrap().iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "failed").count(), 1, "{states:?}");
    assert_eq!(states.iter().filter(|s| **s == "queued").count(), 2, "{states:?}");

    // Requeue refuses while the Page is still broken, and says how to fix it.
    let r = env.run(&["--json", "requeue", "--failed"]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    assert_eq!(v["held"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["held"][0]["fix"].as_str().unwrap().contains("sq reauth facebook"), "{v}");

    // Re-authorize; the browser is played by `Flow::consent`.
    let port = free_port();
    let flow = Flow::start(&env, &["reauth", "facebook", "--all", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    assert_eq!(http("GET", &location, None).status, 200);
    let r = flow.finish();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("sq requeue --failed") || r.stdout.contains("sq requeue --failed"), "{r:?}");

    let r = env.run(&["--json", "requeue", "--failed"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["requeued"].as_array().unwrap().len(), 1, "{r:?}");
    let r = env.run(&["publish"]);
    assert_eq!(r.code, 0, "{r:?}");
    // A second run has nothing left to send.
    let r = env.run(&["publish"]);
    assert_eq!(r.code, 0, "{r:?}");

    let published = control(&sb, "GET", "published?profile=777&network=facebook", None);
    let published = published["published"].as_array().unwrap();
    for t in texts {
        let n = published.iter().filter(|p| p["text"] == t).count();
        assert_eq!(n, 1, "{t:?} published {n} times: {published:?}");
    }
    let r = env.run(&["--json", "diagnose", "facebook:777"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["profiles"][0]["status"], "ok");
}

// --- JSON documents, frozen in snapshots ------------------------------------------------------

/// `sq reauth --json` in the story (a password change, a Page left unticked), then `sq refresh
/// --json` of a Threads token inside its window and of one just refreshed.
#[test]
fn reauth_and_refresh_json_documents() {
    let sb = sandbox("story");
    let env = env_for(&sb);
    import(&env, "facebook", STORY_USER);
    control(&sb, "POST", "events", Some(json!({"event": "password_changed", "user": "100000000000001"})));
    let port = free_port();
    // Every token of the new login is new.
    let n = Normalize::new(&env)
        .replace(&sb.base_url(), "[sandbox]")
        .replace(&redirect(port), "[redirect_uri]")
        .redact(".connection.token", "[new token]")
        .redact(".profiles[].token", "[new token]")
        .redact(".diagnose.profiles[].token.masked", "[new token]");
    let flow =
        Flow::start(&env, &["reauth", "facebook", "--all", "--json", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    assert_eq!(http("GET", &location, None).status, 200);
    let r = flow.finish();
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("reauth_facebook", n.json(&r));

    let sb = sandbox("findings");
    let env = env_for(&sb);
    let n = Normalize::new(&env).replace(&sb.base_url(), "[sandbox]");
    import(&env, "threads", "THAASandboxFindingsRefreshWindow000001");
    let r = env.run(&["--json", "refresh"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("refresh", n.json(&r));
    let r = env.run(&["--json", "refresh"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("refresh_too_soon", n.json(&r));
}

// --- Facebook Login for Business (facebook.config_id) -----------------------------------------

/// The default world, its Facebook app a Business app whose only login is Facebook Login for
/// Business, with the given login configurations (id → permissions).
fn business_login_sandbox(configs: Value) -> SandboxThread {
    let sb = sandbox("default");
    let mut world = control(&sb, "GET", "scenario", None);
    world["facebook_app"]["login_configurations"] = configs;
    world["facebook_app"]["business_login_only"] = json!(true);
    drop(sb);
    sandbox_from(&world)
}

const FULL_CONFIG: [&str; 6] = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
];

/// With `facebook.config_id` set, the dialog carries `config_id` instead of `scope`, and the
/// login completes with the configuration's permissions.
#[test]
fn config_id_replaces_scope_in_the_dialog() {
    let sb = business_login_sandbox(json!([{"id": "4242", "permissions": FULL_CONFIG}]));
    let env = env_for(&sb);
    assert_eq!(env.run(&["config", "set", "facebook.config_id", "4242"]).code, 0);
    let port = free_port();
    let flow =
        Flow::start(&env, &["reauth", "facebook", "--all", "--json", "--redirect-uri", &redirect(port)]);
    let url = url::Url::parse(&flow.url()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("config_id").map(String::as_str), Some("4242"), "{url}");
    assert!(!q.contains_key("scope"), "scope must not be sent with config_id: {url}");
    let location = flow.consent();
    assert_eq!(http("GET", &location, None).status, 200);
    let r = flow.finish();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.json()["profiles"].as_array().unwrap().iter().any(|p| p["profile"] == "facebook:777"), "{r:?}");
}

/// A configuration without pages_manage_posts: reauth and diagnose say to add it to that
/// configuration in the dashboard, not to tick it in the dialog.
#[test]
fn missing_permissions_are_explained_in_terms_of_the_configuration() {
    let partial = ["pages_show_list", "pages_read_engagement", "business_management"];
    let sb = business_login_sandbox(json!([{"id": "4343", "permissions": partial}]));
    let env = env_for(&sb);
    assert_eq!(env.run(&["config", "set", "facebook.config_id", "4343"]).code, 0);
    let port = free_port();
    let flow = Flow::start(&env, &["reauth", "facebook", "--all", "--redirect-uri", &redirect(port)]);
    let location = flow.consent();
    assert_eq!(http("GET", &location, None).status, 200);
    let r = flow.finish();
    assert!(r.stderr.contains("add pages_manage_posts to login configuration 4343"), "{r:?}");
    assert!(!r.stderr.contains("switch every toggle"), "{r:?}");
    let d = env.run(&["diagnose", "--json", "facebook:777"]);
    let v = d.json();
    let findings = v["profiles"][0]["findings"].as_array().cloned().unwrap_or_default();
    let scope = findings.iter().find(|f| f["code"] == "scope_missing").unwrap_or_else(|| panic!("{v}"));
    let fix = scope["fix"].to_string();
    assert!(fix.contains("login configuration 4343"), "{fix}");
    assert!(!fix.contains("Edit access"), "{fix}");
}

/// An unknown configuration id (or none, for a Business-login-only app) gets Meta's "isn't
/// available" page in the browser; sq waits in vain and says so; nothing is stored.
#[test]
fn an_unknown_configuration_is_refused_in_the_browser() {
    let sb = business_login_sandbox(json!([{"id": "4242", "permissions": FULL_CONFIG}]));
    let env = env_for(&sb);
    let before = credentials(&env);
    for config in ["9999", ""] {
        if config.is_empty() {
            assert_eq!(env.run(&["config", "unset", "facebook.config_id"]).code, 0);
        } else {
            assert_eq!(env.run(&["config", "set", "facebook.config_id", config]).code, 0);
        }
        let port = free_port();
        let flow = Flow::start(
            &env,
            &["reauth", "facebook", "--all", "--timeout", "2", "--redirect-uri", &redirect(port)],
        );
        let page = http("GET", &flow.url(), None);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("isn't available"), "{config:?}: {}", page.body);
        let r = flow.finish();
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains("no answer from the browser"), "{r:?}");
    }
    assert_eq!(credentials(&env), before);
}
