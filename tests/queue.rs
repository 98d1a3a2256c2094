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
use sq::db::{Db, LoginKind, NewConnection, NewProfile, Via};
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use sq::secret::Secret;
use sq::settings::{Network, StoreKind};
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
            let r = self.http.post(format!("{}/_sandbox/{path}", self.sb.base_url())).json(&body).send().await.unwrap();
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
