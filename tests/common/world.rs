//! A connected world for the queue, `sq publish` and `sq requeue` end to end: the real binary,
//! a temp data dir, the encrypted file store, and the sandbox (in-process, random port) as
//! Meta. Profiles and tokens are set up through the library with the same paths the binary
//! reads (`$SQ_DATA_DIR/sq.db`, `$SQ_DATA_DIR/credentials.enc`); the file store keeps its KDF
//! parameters in the file header, so the fast test parameters written here are what the
//! binary reads back.
#![allow(dead_code, clippy::unwrap_used)]

use crate::common::{Run, TestEnv};
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

pub const PASSPHRASE: &str = "correct horse battery staple";
pub const DANA: &str = "100000000000001";
pub const USER_TOKEN: &str = "EAASandboxDefaultUser0000000000000000001";
pub const PAGE: &str = "777";
pub const PAGE2: &str = "888";
pub const IG_VIA_PAGE: &str = "17841400000000001";
pub const IG_LOGIN: &str = "17841400000000002";
pub const THREADS: &str = "7000000000000001";
pub const IMAGE: &str = "https://cdn.example.com/bread.jpg";

pub struct World {
    pub sb: SandboxThread,
    pub env: TestEnv,
    pub rt: tokio::runtime::Runtime,
    pub http: reqwest::Client,
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
        token_masked: None,
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn wait_until(mut f: impl FnMut() -> bool, what: &str) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn state(post: &Value) -> &str {
    post["state"].as_str().unwrap()
}

impl World {
    pub fn new() -> World {
        World::with(Scenario::load("default").unwrap())
    }

    /// The default world with some `settings` changed (through a scenario file).
    pub fn with_settings(settings: Value) -> World {
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

    pub fn with(scenario: Scenario) -> World {
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

    pub fn db(&self) -> Db {
        Db::open(&self.env.data_dir().join("sq.db")).unwrap()
    }

    /// Pages 777 and 888 with Instagram via 777, the Instagram Login account and the Threads
    /// account of the `default` world, tokens in the file store.
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
        let store = FileStore::new(self.env.data_dir().join("credentials.enc"), Secret::new(PASSPHRASE))
            .with_kdf_params(KdfParams::INSECURE_FAST_FOR_TESTS);
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

    pub fn sq(&self, args: &[&str]) -> Run {
        self.env.run(args)
    }

    pub fn control(&self, path: &str, body: Value) -> Value {
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

    pub fn get(&self, path: &str) -> Value {
        self.rt.block_on(async {
            self.http.get(format!("{}{path}", self.sb.base_url())).send().await.unwrap().json().await.unwrap()
        })
    }

    pub fn fault(&self, fault: Value) {
        self.control("faults", fault);
    }

    pub fn clear_faults(&self) {
        self.rt.block_on(async {
            self.http.delete(format!("{}/_sandbox/faults", self.sb.base_url())).send().await.unwrap();
        });
    }

    pub fn published(&self, network: &str, profile: &str) -> Vec<Value> {
        let v = self.get(&format!("/_sandbox/published?profile={profile}&network={network}"));
        v["published"].as_array().cloned().unwrap_or_default()
    }

    /// `(method, path)` of every Meta request the sandbox answered so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.get("/_sandbox/requests")["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["method"].as_str().unwrap().to_string(), r["path"].as_str().unwrap().to_string()))
            .collect()
    }

    pub fn count(&self, method: &str, path_end: &str) -> usize {
        self.requests().iter().filter(|(m, p)| m == method && p.ends_with(path_end)).count()
    }

    /// `sq --json queue add ...` → the post id.
    pub fn add(&self, profile: &str, text: &str, extra: &[&str]) -> i64 {
        let mut args = vec!["--json", "queue", "add", profile, "--text", text];
        args.extend_from_slice(extra);
        let r = self.sq(&args);
        assert_eq!(r.code, 0, "{r:?}");
        r.json()["post"]["id"].as_i64().unwrap()
    }

    pub fn post(&self, id: i64) -> Value {
        let r = self.sq(&["--json", "queue", "show", &id.to_string()]);
        assert_eq!(r.code, 0, "{r:?}");
        r.json()["post"].clone()
    }

    pub fn events(&self, id: i64) -> Vec<String> {
        self.post(id)["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["event"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn publish(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--json", "publish"];
        args.extend_from_slice(extra);
        self.sq(&args)
    }

    pub fn sql(&self, sql: &str) {
        let conn = rusqlite::Connection::open(self.env.data_dir().join("sq.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    pub fn sql_i64(&self, sql: &str) -> Option<i64> {
        let conn = rusqlite::Connection::open(self.env.data_dir().join("sq.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Every row of the queue and its history, every column: two snapshots are equal only when
    /// nothing in the queue changed.
    pub fn queue_snapshot(&self) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.env.data_dir().join("sq.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        queue_rows(&conn)
    }
}

/// A fault, as JSON, that lets the request take effect and then answers with `kind`.
pub fn applied(kind: Value, path: &str) -> Value {
    let mut f = kind;
    f["applied"] = json!(true);
    f["match"] = json!({"path": path, "method": "POST"});
    f
}

/// Every row of `posts`, `post_history` and `post_requeues` (the history links, from schema
/// V7 on) of an open database, every column, in key order.
pub fn queue_rows(conn: &rusqlite::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for (table, order) in [("posts", "id"), ("post_history", "id"), ("post_requeues", "post_id, entry")] {
        let exists: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        if !exists {
            continue;
        }
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY {order}")).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let cols: Vec<String> =
                    (0..n).map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap())).collect();
                Ok(format!("{table}: {}", cols.join(" | ")))
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}
