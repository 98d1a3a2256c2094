//! The queue, `sq publish` and `sq requeue` end to end: the real `sq` binary, a temp data dir,
//! the encrypted file store, and the sandbox (in-process, random port) as Meta. Every
//! publishing test counts what reached Meta through `/_sandbox/published`.
//!
//! Until `sq token import` lands, profiles and tokens are set up through the library with the
//! same paths the binary reads (`$SQ_DATA_DIR/sq.db`, `$SQ_DATA_DIR/credentials.enc`). The
//! file store keeps its KDF parameters in the file header, so the fast test parameters written
//! here are what the binary reads back.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Run, TestEnv};
use serde_json::{Value, json};
use sq::db::{Db, LoginKind, NewConnection, NewProfile};
use sq::model::Network;
use sq::model::Via;
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use sq::secret::Secret;
use sq::settings::StoreKind;
use sq::store::file::KdfParams;
use sq::store::{Account, CredentialStore, FileStore};
use std::time::Duration;

const PASSPHRASE: &str = "correct horse battery staple";
const DANA: &str = "100000000000001";
const USER_TOKEN: &str = "EAASandboxDefaultUser0000000000000000001";
const PAGE: &str = "777";
const PAGE2: &str = "888";
const IG_VIA_PAGE: &str = "17841400000000001";
const IG_LOGIN: &str = "17841400000000002";
const THREADS: &str = "7000000000000001";
const IMAGE: &str = "https://cdn.example.com/bread.jpg";

struct World {
    sb: SandboxThread,
    env: TestEnv,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

fn fb_connection() -> NewConnection {
    NewConnection {
        network: Network::Facebook,
        meta_user_id: DANA.into(),
        app_id: "111111111111111".into(),
        name: Some("Dana Rivera".into()),
        scopes: vec![],
        declined_scopes: vec![],
        token_expires_at: None,
        data_access_expires_at: None,
        issued_at: None,
        login_kind: LoginKind::FacebookLogin,
    }
}

fn profile(kind: Network, id: &str, name: &str, page: Option<&str>, via: Via) -> NewProfile {
    NewProfile {
        kind,
        remote_id: id.into(),
        name: name.into(),
        username: None,
        page_id: page.map(str::to_string),
        via,
        tasks: None,
        token_store: Some(StoreKind::File),
        token_expires_at: None,
    }
}

impl World {
    fn new() -> World {
        World::with(Scenario::load("default").unwrap())
    }

    fn with(scenario: Scenario) -> World {
        let sb = SandboxThread::start(SandboxOptions::new(scenario)).unwrap();
        let mut env = TestEnv::new();
        env.with_file_store();
        env.set("SQ_META_API_BASE", &sb.base_url())
            .set("SQ_FACEBOOK_APP_ID", "111111111111111")
            .set("SQ_FACEBOOK_APP_SECRET", "sandbox-facebook-secret")
            .set("SQ_INSTAGRAM_APP_ID", "222222222222222")
            .set("SQ_INSTAGRAM_APP_SECRET", "sandbox-instagram-secret")
            .set("SQ_THREADS_APP_ID", "333333333333333")
            .set("SQ_THREADS_APP_SECRET", "sandbox-threads-secret");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let w = World { sb, env, rt, http: reqwest::Client::new() };
        w.connect_default();
        w
    }

    fn db(&self) -> Db {
        Db::open(&self.env.data_dir().join("sq.db")).unwrap()
    }

    fn store(&self) -> FileStore {
        FileStore::new(self.env.data_dir().join("credentials.enc"), Secret::new(PASSPHRASE))
            .with_kdf_params(KdfParams::INSECURE_FAST_FOR_TESTS)
    }

    /// Dana's Pages 777 and 888 with Instagram via 777, the Instagram Login account and the
    /// Threads account of the `default` world, tokens in the file store.
    fn connect_default(&self) {
        let mut db = self.db();
        db.replace_connection_profiles(
            &fb_connection(),
            &[
                profile(Network::Facebook, PAGE, "Acme Bakery", None, Via::Page),
                profile(Network::Facebook, PAGE2, "Acme Catering", None, Via::Page),
                profile(Network::Instagram, IG_VIA_PAGE, "acme.bakery", Some(PAGE), Via::Page),
            ],
            1,
        )
        .unwrap();
        let ig = NewConnection {
            network: Network::Instagram,
            meta_user_id: IG_LOGIN.into(),
            app_id: "222222222222222".into(),
            login_kind: LoginKind::InstagramLogin,
            ..fb_connection()
        };
        db.replace_connection_profiles(
            &ig,
            &[profile(Network::Instagram, IG_LOGIN, "acme.studio", None, Via::InstagramLogin)],
            1,
        )
        .unwrap();
        let th = NewConnection {
            network: Network::Threads,
            meta_user_id: THREADS.into(),
            app_id: "333333333333333".into(),
            login_kind: LoginKind::Threads,
            ..fb_connection()
        };
        db.replace_connection_profiles(
            &th,
            &[profile(Network::Threads, THREADS, "acme.threads", None, Via::Threads)],
            1,
        )
        .unwrap();
        let store = self.store();
        for (account, token) in [
            (Account::user(Network::Facebook, DANA), USER_TOKEN),
            (Account::page(PAGE), "EAASandboxDefaultPage777000000000000001"),
            (Account::page(PAGE2), "EAASandboxDefaultPage888000000000000001"),
            (Account::user(Network::Instagram, IG_LOGIN), "IGAASandboxDefaultInstagram000000000001"),
            (Account::user(Network::Threads, THREADS), "THAASandboxDefaultThreads00000000000001"),
        ] {
            store.save(&account, &Secret::new(token)).unwrap();
        }
    }

    fn sq(&self, args: &[&str]) -> Run {
        self.env.run(args)
    }

    fn control(&self, path: &str, body: Value) -> Value {
        self.rt.block_on(async {
            let r = self
                .http
                .post(format!("{}/_sandbox/{path}", self.sb.base_url()))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "control {path}");
            r.json().await.unwrap()
        })
    }

    fn get(&self, path: &str) -> Value {
        self.rt.block_on(async {
            self.http.get(format!("{}{path}", self.sb.base_url())).send().await.unwrap().json().await.unwrap()
        })
    }

    fn fault(&self, fault: Value) {
        self.control("faults", fault);
    }

    fn clear_faults(&self) {
        self.rt.block_on(async {
            self.http.delete(format!("{}/_sandbox/faults", self.sb.base_url())).send().await.unwrap();
        });
    }

    fn published(&self, network: &str, profile: &str) -> Vec<Value> {
        let v = self.get(&format!("/_sandbox/published?profile={profile}&network={network}"));
        v["published"].as_array().cloned().unwrap_or_default()
    }

    /// `sq --json queue add ...` → the post id.
    fn add(&self, profile: &str, text: &str, extra: &[&str]) -> i64 {
        let mut args = vec!["--json", "queue", "add", profile, "--text", text];
        args.extend_from_slice(extra);
        let r = self.sq(&args);
        assert_eq!(r.code, 0, "{r:?}");
        r.json()["post"]["id"].as_i64().unwrap()
    }

    fn post(&self, id: i64) -> Value {
        let r = self.sq(&["--json", "queue", "show", &id.to_string()]);
        assert_eq!(r.code, 0, "{r:?}");
        r.json()["post"].clone()
    }

    fn publish(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--json", "publish"];
        args.extend_from_slice(extra);
        self.sq(&args)
    }
}

fn state(post: &Value) -> &str {
    post["state"].as_str().unwrap()
}

// --- queue ------------------------------------------------------------------------------------

#[test]
fn queue_add_list_show_cancel() {
    let w = World::new();
    let r = w.sq(&["--json", "queue", "add", "Acme Bakery", "--text", "Fresh bread", "--at", "+2h"]);
    assert_eq!(r.code, 0, "{r:?}");
    let post = &r.json()["post"];
    for key in ["id", "profile", "state", "scheduled_at", "attempts", "last_error", "remote_id"] {
        assert!(post.get(key).is_some(), "missing {key}: {post}");
    }
    assert_eq!(post["profile"], "facebook:777");
    assert_eq!(post["state"], "queued");
    assert_eq!(post["attempts"], 0);
    assert_eq!(post["last_error"], Value::Null);
    let id = post["id"].as_i64().unwrap();

    let other = w.add("threads:7000000000000001", "Open at 8", &["--at", "2030-01-01T08:00:00Z"]);
    let list = w.sq(&["--json", "queue", "list"]).json();
    assert_eq!(list["posts"].as_array().unwrap().len(), 2);
    let only = w.sq(&["--json", "queue", "list", "threads:7000000000000001"]).json();
    assert_eq!(only["posts"][0]["id"], json!(other));
    assert_eq!(only["posts"][0]["scheduled_at"], "2030-01-01T08:00:00Z");

    let shown = w.post(id);
    assert_eq!(shown["history"][0]["event"], "added");

    let r = w.sq(&["--json", "queue", "cancel", &id.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["post"]["state"], "canceled");
    let r = w.sq(&["queue", "cancel", &id.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    let list = w.sq(&["--json", "queue", "list", "--state", "canceled"]).json();
    assert_eq!(list["posts"].as_array().unwrap().len(), 1);

    // Bad input is a usage error.
    for args in [
        vec!["queue", "add", "facebook:777", "--text", "x", "--at", "tomorrow"],
        vec!["queue", "add", "facebook:404", "--text", "x"],
        vec!["queue", "add", "instagram:17841400000000001", "--text", "no image"],
        vec!["queue", "add", "threads:7000000000000001", "--text", "x", "--link", "https://a.example"],
        vec!["queue", "add", "facebook:777", "--text", "x", "--image-url", "not a url"],
        vec!["queue", "show", "999"],
    ] {
        let r = w.sq(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("error:"), "{r:?}");
    }
}

// --- publish: happy paths ---------------------------------------------------------------------

#[test]
fn publish_every_network_once() {
    let w = World::new();
    let fb = w.add("facebook:777", "Fresh sourdough today", &["--link", "https://acme.example/bread"]);
    let photo = w.add("facebook:888", "Croissants", &["--image-url", IMAGE]);
    let ig = w.add("instagram:17841400000000001", "New loaf", &["--image-url", IMAGE]);
    let igl = w.add("instagram:17841400000000002", "Studio loaf", &["--image-url", IMAGE]);
    let th = w.add("threads:7000000000000001", "We open at 8", &[]);
    let later = w.add("facebook:777", "Tomorrow's special", &["--at", "+1d"]);

    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["summary"]["published"], 5, "{v}");
    for id in [fb, photo, ig, igl, th] {
        let p = w.post(id);
        assert_eq!(state(&p), "published", "{p}");
        assert!(p["remote_id"].is_string(), "{p}");
        assert_eq!(p["attempts"], 1);
    }
    assert_eq!(state(&w.post(later)), "queued");
    assert_eq!(w.published("facebook", PAGE).len(), 1);
    assert_eq!(w.published("facebook", PAGE2).len(), 1);
    assert_eq!(w.published("instagram", IG_VIA_PAGE).len(), 1);
    assert_eq!(w.published("instagram", IG_LOGIN).len(), 1);
    assert_eq!(w.published("threads", THREADS).len(), 1);

    // Nothing due: a second run sends nothing.
    let r = w.publish(&[]);
    assert_eq!((r.code, r.json()["summary"]["published"].as_i64()), (0, Some(0)), "{r:?}");
    assert_eq!(w.published("facebook", PAGE).len(), 1);
}

#[test]
fn dry_run_and_limit() {
    let w = World::new();
    let a = w.add("facebook:777", "one", &[]);
    let b = w.add("facebook:777", "two", &[]);
    let r = w.publish(&["--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["due"].as_array().unwrap().len(), 2);
    assert_eq!(state(&w.post(a)), "queued");
    assert!(w.published("facebook", PAGE).is_empty());

    let r = w.publish(&["--limit", "1"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Per-profile order: the first added goes first.
    assert_eq!(state(&w.post(a)), "published");
    assert_eq!(state(&w.post(b)), "queued");
    let posted = w.published("facebook", PAGE);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["text"], "one");
}

#[test]
fn help_has_examples() {
    let w = World::new();
    for cmd in [
        vec!["queue", "--help"],
        vec!["queue", "add", "--help"],
        vec!["queue", "list", "--help"],
        vec!["queue", "show", "--help"],
        vec!["queue", "cancel", "--help"],
        vec!["publish", "--help"],
        vec!["requeue", "--help"],
    ] {
        let r = w.sq(&cmd);
        assert_eq!(r.code, 0, "{cmd:?}");
        assert!(r.stdout.contains("Examples:") && r.stdout.contains("sq "), "{cmd:?}: {}", r.stdout);
    }
}

#[allow(dead_code)]
fn wait_until(mut f: impl FnMut() -> bool, what: &str) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// --- publish: failure matrix ------------------------------------------------------------------

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl World {
    /// The default world with some `settings` changed (through a scenario file).
    fn with_settings(settings: Value) -> World {
        let probe = SandboxThread::start(SandboxOptions::new(Scenario::load("default").unwrap())).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut scenario: Value = rt.block_on(async {
            reqwest::get(format!("{}/_sandbox/scenario", probe.base_url()))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        for (k, v) in settings.as_object().unwrap() {
            scenario["settings"][k] = v.clone();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("world.json");
        std::fs::write(&path, scenario.to_string()).unwrap();
        World::with(Scenario::load(path.to_str().unwrap()).unwrap())
    }

    fn sql(&self, sql: &str) {
        let conn = rusqlite::Connection::open(self.env.data_dir().join("sq.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    fn events(&self, id: i64) -> Vec<String> {
        self.post(id)["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["event"].as_str().unwrap().to_string())
            .collect()
    }
}

#[test]
fn instagram_container_slow_then_9007_then_success() {
    let w = World::with_settings(json!({"container_polls": 2}));
    w.fault(json!({"kind": "error", "code": 9007, "subcode": 2207027, "status": 400,
                   "message": "The media is not ready to be published. Please wait a moment.",
                   "match": {"path": "/media_publish"}, "count": 1}));
    let id = w.add("instagram:17841400000000001", "Slow loaf", &["--image-url", IMAGE]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let p = w.post(id);
    assert_eq!(state(&p), "published", "{p}");
    assert!(p["container_id"].is_string());
    assert_eq!(w.published("instagram", IG_VIA_PAGE).len(), 1);
}

#[test]
fn media_and_duplicate_fail_with_exit_1_and_others_go_out() {
    let w = World::new();
    let media = w.add(
        "instagram:17841400000000001",
        "Bad image",
        &["--image-url", "https://cdn.example.com/broken.jpg"],
    );
    let first = w.add("facebook:777", "Same words", &[]);
    let dup = w.add("facebook:777", "Same words", &[]);
    let fine = w.add("threads:7000000000000001", "Fine", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 1, "{r:?}");
    let p = w.post(media);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("failed", Some("media")), "{p}");
    assert_eq!(p["last_error"]["code"], 9004);
    assert_eq!(state(&w.post(first)), "published");
    let p = w.post(dup);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("failed", Some("content")), "{p}");
    assert_eq!(p["last_error"]["code"], 506);
    assert_eq!(state(&w.post(fine)), "published");
    assert_eq!(w.published("facebook", PAGE).len(), 1);
    assert!(w.published("instagram", IG_VIA_PAGE).is_empty());
}

#[test]
fn quota_reached_and_throttling_go_back_to_the_queue_with_exit_3() {
    let w = World::new();
    w.control("events", json!({"event": "quota_reached", "account": IG_LOGIN}));
    w.fault(
        json!({"kind": "throttle", "code": 80001, "minutes": 7, "match": {"page": PAGE, "path": "/feed"}}),
    );
    let ig = w.add("instagram:17841400000000002", "Over quota", &["--image-url", IMAGE]);
    let fb = w.add("facebook:777", "Throttled", &[]);
    let fb2 = w.add("facebook:777", "Throttled too", &[]);
    let before = now();
    let r = w.publish(&[]);
    assert_eq!(r.code, 3, "{r:?}");
    let p = w.post(ig);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("queued", Some("rate_limit")), "{p}");
    // The limit was read at run time and the re-check is later, not now.
    let due = |p: &Value| {
        time::OffsetDateTime::parse(
            p["scheduled_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp()
    };
    assert!(due(&p) >= before + 1800, "{p}");
    let p = w.post(fb);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("queued", Some("rate_limit")), "{p}");
    // Meta's estimated_time_to_regain_access (7 min) is honoured.
    assert!(due(&p) >= before + 7 * 60, "{p}");
    assert_eq!(p["attempts"], 1);
    assert!(w.events(fb).contains(&"retry".to_string()));
    // Per-profile order: the second post waits behind the first.
    assert_eq!((state(&w.post(fb2)), w.post(fb2)["attempts"].as_i64()), ("queued", Some(0)));
    assert!(w.published("facebook", PAGE).is_empty() && w.published("instagram", IG_LOGIN).is_empty());
}

#[test]
fn auth_failure_mid_run_holds_the_profile_and_others_keep_publishing() {
    let w = World::new();
    w.fault(json!({"kind": "error", "code": 190, "subcode": 460, "status": 400,
                   "message": "Error validating access token: The session has been invalidated because the user changed their password.",
                   "match": {"page": PAGE, "path": "/feed", "method": "POST"}}));
    let a = w.add("facebook:777", "one", &[]);
    let b = w.add("facebook:777", "two", &[]);
    let c = w.add("facebook:888", "three", &[]);
    let d = w.add("facebook:888", "four", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    assert_eq!(v["held"][0]["profile"], "facebook:777", "{v}");
    assert_eq!(v["held"][0]["posts"], 1);
    assert!(v["held"][0]["fix"].as_str().unwrap().contains("sq reauth facebook facebook:777"));
    let p = w.post(a);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("failed", Some("auth")), "{p}");
    assert_eq!(p["last_error"]["subcode"], 460);
    assert_eq!((state(&w.post(b)), w.post(b)["attempts"].as_i64()), ("queued", Some(0)));
    assert_eq!(state(&w.post(c)), "published");
    assert_eq!(state(&w.post(d)), "published");
    // The next run keeps holding it (nothing sent) until the profile is fixed.
    w.clear_faults();
    let r = w.publish(&[]);
    assert_eq!(r.code, 4, "{r:?}");
    assert_eq!(state(&w.post(b)), "queued");
    assert!(w.published("facebook", PAGE).is_empty());
}

#[test]
fn bad_gateway_on_publish_is_retried_later_never_resent_blind() {
    let w = World::new();
    w.fault(json!({"kind": "bad_gateway", "match": {"path": "/feed", "method": "POST"}, "count": 1}));
    let id = w.add("facebook:777", "Through the 502", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 3, "{r:?}");
    let p = w.post(id);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("queued", Some("transient")), "{p}");
    // Meta may have acted on it: no resend in this run, and the next attempt reconciles first
    // (the journal kept the start).
    assert!(w.published("facebook", PAGE).len() <= 1);
    let r = w.publish(&[]);
    assert_eq!(r.json()["summary"]["published"], 0, "not due yet: {r:?}");
}

#[test]
fn a_dead_claim_becomes_unknown_and_is_reconciled_not_resent() {
    let w = World::new();
    let id = w.add("facebook:777", "Already out", &[]);
    // It went out, then the process died before recording the answer.
    w.rt.block_on(async {
        let url = format!("{}/graph.facebook.com/v27.0/777/feed", w.sb.base_url());
        let r = w
            .http
            .post(url)
            .form(&[("message", "Already out"), ("access_token", "EAASandboxDefaultPage777000000000000001")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    });
    let started = now() - 600;
    w.sql(&format!(
        "UPDATE posts SET state = 'publishing', claim_owner = 'pid:1:dead', claim_until = 1, started_at = {started},
             attempts = 1 WHERE id = {id}"
    ));
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["recovered"][0]["state"], "unknown", "{v}");
    let p = w.post(id);
    assert_eq!(state(&p), "published", "{p}");
    assert!(p["remote_id"].as_str().unwrap().starts_with("777_"));
    let ev = w.events(id);
    assert!(ev.contains(&"lease_expired".into()) && ev.contains(&"reconciling".into()), "{ev:?}");
    assert_eq!(w.published("facebook", PAGE).len(), 1, "never twice");

    // A claim that died before anything was sent goes back to the queue and out once.
    let id = w.add("facebook:888", "Never sent", &[]);
    w.sql(&format!(
        "UPDATE posts SET state = 'publishing', claim_owner = 'pid:1:dead', claim_until = 1 WHERE id = {id}"
    ));
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["recovered"][0]["state"], "queued");
    assert_eq!(state(&w.post(id)), "published");
    assert_eq!(w.published("facebook", PAGE2).len(), 1);
}

#[test]
fn killed_mid_publish_then_reconciled_through_the_container() {
    let w = World::new();
    w.fault(json!({"kind": "hang", "match": {"path": "/media_publish"}}));
    let id = w.add("instagram:17841400000000002", "Killed", &["--image-url", IMAGE]);
    let mut child = w
        .env
        .command(&["publish", "--lease", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        || {
            w.post(id)["container_id"].is_string() && w.events(id).len() >= 2 && {
                let conn = rusqlite::Connection::open(w.env.data_dir().join("sq.db")).unwrap();
                conn.query_row(
                    &format!("SELECT started_at IS NOT NULL FROM posts WHERE id = {id}"),
                    [],
                    |r| r.get::<_, bool>(0),
                )
                .unwrap()
            }
        },
        "the publish request to go out",
    );
    child.kill().unwrap();
    let _ = child.wait();
    w.clear_faults();
    std::thread::sleep(Duration::from_millis(2100));
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["recovered"][0]["state"], "unknown");
    assert_eq!(state(&w.post(id)), "published");
    assert_eq!(w.published("instagram", IG_LOGIN).len(), 1);
}

#[test]
fn two_publish_processes_never_publish_a_post_twice() {
    let w = World::new();
    w.control("latency", json!({"ms": 30}));
    let mut texts = Vec::new();
    for i in 0..12 {
        for page in ["facebook:777", "facebook:888"] {
            let t = format!("post {i} to {page}");
            w.add(page, &t, &[]);
            texts.push(t);
        }
    }
    let spawn = || {
        w.env
            .command(&["--json", "publish"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{a:?} {b:?}");
    // Whatever one run left (the other held the profile at the time), a third run finishes.
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut seen: Vec<String> = [PAGE, PAGE2]
        .iter()
        .flat_map(|p| w.published("facebook", p))
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    texts.sort();
    assert_eq!(seen, texts, "each post exactly once");
    // Per-profile order held across processes.
    for page in [PAGE, PAGE2] {
        let order: Vec<String> =
            w.published("facebook", page).iter().map(|p| p["text"].as_str().unwrap().to_string()).collect();
        let mut sorted = order.clone();
        sorted.sort_by_key(|t| t.split(' ').nth(1).unwrap().parse::<u32>().unwrap());
        assert_eq!(order, sorted);
    }
}

#[test]
fn watch_stops_cleanly_on_sigterm() {
    let w = World::new();
    let id = w.add("facebook:777", "Watched", &[]);
    let child = w
        .env
        .command(&["publish", "--watch", "--interval", "200ms"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(|| state(&w.post(id)) == "published", "the watcher to publish");
    let later = w.add("facebook:777", "Watched later", &[]);
    wait_until(|| state(&w.post(later)) == "published", "the next pass");
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let conn = rusqlite::Connection::open(w.env.data_dir().join("sq.db")).unwrap();
    let claimed: i64 =
        conn.query_row("SELECT count(*) FROM posts WHERE state = 'publishing'", [], |r| r.get(0)).unwrap();
    assert_eq!(claimed, 0);
}

// --- requeue ----------------------------------------------------------------------------------

impl World {
    /// Marks a post failed with a class, `ago` seconds ago (requeue tests start from failures
    /// without waiting for Meta to produce each one).
    fn fail(&self, id: i64, class: &str, ago: i64) {
        let at = now() - ago;
        self.sql(&format!(
            "UPDATE posts SET state = 'failed', error_class = '{class}', error_message = 'test {class}',
                 attempts = 1, finished_at = {at} WHERE id = {id}"
        ));
    }

    fn requeue(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--json", "requeue"];
        args.extend_from_slice(extra);
        self.sq(&args)
    }
}

fn ids(v: &Value, key: &str) -> Vec<i64> {
    let mut out: Vec<i64> = v[key].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
    out.sort();
    out
}

#[test]
fn requeue_filters_classes_and_json_shape() {
    let w = World::new();
    let auth = w.add("facebook:777", "a", &[]);
    let rate = w.add("facebook:888", "b", &[]);
    let media = w.add("instagram:17841400000000002", "c", &["--image-url", IMAGE]);
    let content = w.add("threads:7000000000000001", "d", &[]);
    let old = w.add("threads:7000000000000001", "e", &[]);
    w.fail(auth, "auth", 60);
    w.fail(rate, "rate_limit", 60);
    w.fail(media, "media", 60);
    w.fail(content, "content", 60);
    w.fail(old, "transient", 3 * 86400);

    // --dry-run changes nothing.
    let r = w.requeue(&["--failed", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(ids(&v, "requeued"), vec![auth, rate, old], "media/content need --class: {v}");
    assert_eq!(v["held"], json!([]));
    for key in ["id", "profile", "scheduled_at"] {
        assert!(v["requeued"][0].get(key).is_some(), "{v}");
    }
    assert_eq!(state(&w.post(auth)), "failed");

    // Filters.
    assert_eq!(ids(&w.requeue(&["--failed", "--dry-run", "facebook:888"]).json(), "requeued"), vec![rate]);
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--network", "threads"]).json(), "requeued"),
        vec![old]
    );
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--since", "1h"]).json(), "requeued"),
        vec![auth, rate]
    );
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--class", "media"]).json(), "requeued"),
        vec![media]
    );
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--class", "all"]).json(), "requeued"),
        vec![auth, rate, media, content, old]
    );

    // For real: history kept, attempts not reset.
    let r = w.requeue(&["--failed", "--class", "media", "--class", "auth"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ids(&r.json(), "requeued"), vec![auth, media]);
    let p = w.post(media);
    assert_eq!((state(&p), p["attempts"].as_i64()), ("queued", Some(1)), "{p}");
    assert_eq!(w.events(media).last().unwrap(), "requeued");
    assert_eq!(state(&w.post(content)), "failed");

    // Bad input.
    assert_eq!(w.sq(&["requeue", "--failed", "--since", "soon"]).code, 2);
    assert_eq!(w.sq(&["requeue", "--failed", "--class", "bogus"]).code, 2);
    assert_eq!(w.sq(&["requeue"]).code, 2);
    assert_eq!(w.sq(&["requeue", "999"]).code, 2);
}

#[test]
fn requeue_holds_broken_profiles_with_the_fix_unless_forced() {
    let w = World::new();
    let fb = w.add("facebook:777", "a", &[]);
    let th = w.add("threads:7000000000000001", "b", &[]);
    w.fail(fb, "auth", 60);
    w.fail(th, "transient", 60);
    // Dana changed her password: the Page token is dead (190/460).
    w.control("events", json!({"event": "password_changed", "user": DANA}));
    let r = w.requeue(&["--failed"]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    assert_eq!(ids(&v, "requeued"), vec![th], "{v}");
    assert_eq!(ids(&v, "held"), vec![fb]);
    let held = &v["held"][0];
    assert_eq!(held["profile"], "facebook:777");
    assert!(held["fix"].as_str().unwrap().contains("sq reauth facebook"), "{held}");
    assert!(held["reason"].as_str().unwrap().len() > 10, "{held}");
    assert_eq!(state(&w.post(fb)), "failed");
    assert_eq!(state(&w.post(th)), "queued");

    // Human output lists the fix too.
    let r = w.sq(&["requeue", "--failed"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stdout.contains("fix: sq reauth facebook"), "{r:?}");

    let r = w.requeue(&["--failed", "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ids(&r.json(), "requeued"), vec![fb]);
    assert_eq!(state(&w.post(fb)), "queued");
}

#[test]
fn requeue_at_original_and_by_id() {
    let w = World::new();
    let future = w.add("facebook:777", "later", &["--at", "+3h"]);
    let past = w.add("facebook:888", "earlier", &[]);
    w.fail(future, "transient", 10);
    w.fail(past, "transient", 10);
    let r = w.requeue(&["--failed", "--at", "original"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let at = |id: i64| {
        let s =
            v["requeued"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap()["scheduled_at"].clone();
        time::OffsetDateTime::parse(s.as_str().unwrap(), &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp()
    };
    assert!(at(future) >= now() + 3 * 3600 - 120, "{v}");
    assert!(at(past) <= now() + 5, "{v}");

    // By id: a media failure named by id is requeued; an unknown post is refused with the fix.
    let media = w.add("facebook:777", "m", &[]);
    w.fail(media, "media", 10);
    let unknown = w.add("facebook:888", "u", &[]);
    w.sql(&format!("UPDATE posts SET state = 'unknown', started_at = 1 WHERE id = {unknown}"));
    let r = w.requeue(&[&media.to_string(), &unknown.to_string()]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    assert_eq!(ids(&v, "requeued"), vec![media]);
    assert_eq!(v["held"][0]["fix"], "sq publish facebook:888");
    assert_eq!(state(&w.post(unknown)), "unknown");
    // Requeueing a queued post again is refused (exit 1), nothing changes.
    let r = w.requeue(&[&media.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.json()["skipped"][0]["state"], "queued");
}

#[test]
fn two_requeue_processes_requeue_each_post_once() {
    let w = World::new();
    let mut all = Vec::new();
    for i in 0..200 {
        let id = w.add(if i % 2 == 0 { "facebook:777" } else { "facebook:888" }, &format!("p{i}"), &[]);
        all.push(id);
    }
    w.sql("UPDATE posts SET state = 'failed', error_class = 'transient', finished_at = 1000");
    let spawn = || {
        w.env
            .command(&["--json", "requeue", "--failed", "--force"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let n = |o: &std::process::Output| {
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["requeued"].as_array().unwrap().len()
    };
    assert_eq!(n(&a) + n(&b), all.len(), "each post requeued by exactly one process");
    let conn = rusqlite::Connection::open(w.env.data_dir().join("sq.db")).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM post_history WHERE event = 'requeued'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, all.len() as i64);
}
