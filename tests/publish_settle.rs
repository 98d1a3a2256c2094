//! The publisher (library) against the sandbox, with millisecond waits: "not found yet"
//! containers, answers that may hide a publication, reconciliation that looks at Meta first,
//! and the sandbox controls these rest on (`applied` faults, the Threads not-found window).
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use sq::ctx::Clock;
use sq::meta::{GraphClient, Limits, MetaEndpoints};
use sq::model::ProfileKind;
use sq::model::classify::FailureClass;
use sq::publish::{
    Journal, JournalError, MemoryJournal, PollPolicy, PostRequest, PublishFailure, PublishOptions, Publisher,
    Reconciled, Recorded, RetryPolicy, SettlePolicy,
};
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use sq::secret::Secret;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

const PAGE: &str = "777";
const PAGE_TOKEN: &str = "EAASandboxDefaultPage777000000000000001";
const USER_TOKEN: &str = "EAASandboxDefaultUser0000000000000000001";
const THREADS: &str = "7000000000000001";
const TH_TOKEN: &str = "THAASandboxDefaultThreads00000000000001";

struct Env {
    sb: SandboxThread,
    http: reqwest::Client,
}

impl Env {
    fn with_settings(settings: Value) -> Env {
        let mut sc = Scenario::load("default").unwrap();
        let mut v = serde_json::to_value(&sc.settings).unwrap();
        for (k, x) in settings.as_object().unwrap() {
            v[k] = x.clone();
        }
        sc.settings = serde_json::from_value(v).unwrap();
        // Its own runtime on its own thread, so a blocking journal can call it mid-run.
        let sb = std::thread::spawn(move || SandboxThread::start(SandboxOptions::new(sc)))
            .join()
            .unwrap()
            .unwrap();
        Env { sb, http: reqwest::Client::new() }
    }

    fn publisher(&self, clock: Option<Arc<dyn Clock>>, reconcile_grace: Duration) -> Publisher {
        let http = reqwest::Client::builder().timeout(Duration::from_millis(400)).build().unwrap();
        let ep = MetaEndpoints::new(Some(&self.sb.base_url()), None).unwrap();
        let limits = Limits {
            max_attempts: 2,
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_rate_limit_wait: Duration::from_millis(100),
            ..Limits::default()
        };
        let mut opts = PublishOptions {
            retry: RetryPolicy {
                max_attempts: 3,
                base: Duration::from_millis(10),
                cap: Duration::from_millis(100),
                max_inline_wait: Duration::from_secs(1),
            },
            poll: PollPolicy {
                first: Duration::from_millis(5),
                max_interval: Duration::from_millis(20),
                max_polls: 6,
            },
            settle: SettlePolicy { reads: 2, interval: Duration::from_millis(5) },
            reconcile_grace,
            ..PublishOptions::default()
        };
        if let Some(c) = clock {
            opts.clock = c;
        }
        Publisher::new(GraphClient::new(http, ep, None, limits), opts)
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_sandbox/{path}", self.sb.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {path}: {:?}", r.text().await);
        r.json().await.unwrap()
    }

    async fn published(&self, network: &str, profile: &str) -> Vec<Value> {
        let url = format!("{}/_sandbox/published?profile={profile}&network={network}", self.sb.base_url());
        let v: Value = self.http.get(url).send().await.unwrap().json().await.unwrap();
        v["published"].as_array().cloned().unwrap_or_default()
    }

    async fn count(&self, method: &str, path_end: &str) -> usize {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/requests", self.sb.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == method && r["path"].as_str().unwrap().ends_with(path_end))
            .count()
    }
}

fn tok(s: &str) -> Secret {
    Secret::new(s)
}

fn control_blocking(base: &str, path: &str, body: &str) {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

/// Moves the sandbox clock two hours ahead right after the second container is created, so
/// that container is out of the not-found window while the first one never was.
struct SecondContainerAges {
    base: String,
    created: u32,
    inner: MemoryJournal,
}

impl Journal for SecondContainerAges {
    fn about_to_post(&mut self, f: &str, at: i64) -> Result<(), JournalError> {
        self.inner.about_to_post(f, at)
    }
    fn container_created(&mut self, id: &str) -> Result<(), JournalError> {
        self.created += 1;
        if self.created == 2 {
            control_blocking(&self.base, "/_sandbox/clock", r#"{"advance": "2h"}"#);
        }
        self.inner.container_created(id)
    }
    fn about_to_publish(&mut self, id: &str, at: i64) -> Result<(), JournalError> {
        self.inner.about_to_publish(id, at)
    }
}

#[tokio::test]
async fn a_container_that_stays_missing_is_replaced_once() {
    // Every threads_publish within an hour of its container's creation: 24/4279009.
    let env = Env::with_settings(json!({"threads_not_found_secs": 3600}));
    let p = env.publisher(None, Duration::ZERO);
    let post = PostRequest::new(ProfileKind::Threads, THREADS, "Missing, then a new container");
    let mut j = SecondContainerAges { base: env.sb.base_url(), created: 0, inner: MemoryJournal::default() };
    let out = p.publish(&post, &tok(TH_TOKEN), &mut j).await.unwrap();
    assert!(!out.already, "{out:?}");
    let containers: Vec<&String> =
        j.inner.events.iter().filter(|e| e.starts_with("container_created")).collect();
    assert_eq!(containers.len(), 2, "{:?}", j.inner.events);
    assert_eq!(out.container_id.as_deref(), containers[1].strip_prefix("container_created "));
    assert_eq!(env.published("threads", THREADS).await.len(), 1);
    assert_eq!(env.count("POST", "/7000000000000001/threads").await, 2);
}

#[tokio::test]
async fn missing_for_both_containers_is_transient_never_final() {
    let env = Env::with_settings(json!({"threads_not_found_secs": 3600}));
    let p = env.publisher(None, Duration::ZERO);
    let post = PostRequest::new(ProfileKind::Threads, THREADS, "Missing twice");
    let mut j = MemoryJournal::default();
    let f = match p.publish(&post, &tok(TH_TOKEN), &mut j).await {
        Err(PublishFailure::Failed(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert_eq!(f.class, FailureClass::Transient, "{f:?}");
    assert!(f.retry_after.is_some(), "{f:?}");
    // The newer container is kept: the next attempt reads its status before anything else.
    assert_eq!(f.container_id, j.recorded.container_id, "{f:?}");
    assert_eq!(env.count("POST", "/7000000000000001/threads").await, 2, "one replacement, no more");
    assert!(env.published("threads", THREADS).await.is_empty());
    // Once Meta finds it, the kept container goes out and no third one is made.
    env.control("clock", json!({"advance": "2h"})).await;
    let again = post.with_recorded(j.recorded.clone());
    let out = p.publish(&again, &tok(TH_TOKEN), &mut j).await.unwrap();
    assert_eq!(out.container_id, j.recorded.container_id);
    assert_eq!(env.count("POST", "/7000000000000001/threads").await, 2);
    assert_eq!(env.published("threads", THREADS).await.len(), 1);
}

#[tokio::test]
async fn sandbox_threads_not_found_window_and_count() {
    let env = Env::with_settings(
        json!({"threads_not_found_secs": 30, "threads_not_found_publishes": 1, "container_ready_secs": 0}),
    );
    let base = env.sb.base_url();
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        let http = env.http.clone();
        let url = format!("{base}/graph.threads.net/v1.0/{path}");
        async move {
            let r = http.post(url).form(&form).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let (_, v) = post(
        "me/threads",
        vec![("media_type", "TEXT".into()), ("text", "early".into()), ("access_token", TH_TOKEN.into())],
    )
    .await;
    let cid = v["id"].as_str().unwrap().to_string();
    let status: Value = env
        .http
        .get(format!("{base}/graph.threads.net/v1.0/{cid}?fields=status&access_token={TH_TOKEN}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "FINISHED", "the status already says FINISHED");
    let publish = vec![("creation_id", cid.clone()), ("access_token", TH_TOKEN.to_string())];
    let (s, v) = post("me/threads_publish", publish.clone()).await;
    assert_eq!(
        (s, &v["error"]["code"], &v["error"]["error_subcode"]),
        (400, &json!(24), &json!(4279009)),
        "{v}"
    );
    // Past the window, the first publish of the container is still refused once (the count)…
    env.control("clock", json!({"advance": "31s"})).await;
    let (s, v) = post("me/threads_publish", publish.clone()).await;
    assert_eq!(s, 200, "the count was used up by the early call: {v}");
    // …and a fresh container past the window gets its one refusal.
    let (_, v) = post(
        "me/threads",
        vec![("media_type", "TEXT".into()), ("text", "later".into()), ("access_token", TH_TOKEN.into())],
    )
    .await;
    let cid = v["id"].as_str().unwrap().to_string();
    env.control("clock", json!({"advance": "31s"})).await;
    let publish = vec![("creation_id", cid), ("access_token", TH_TOKEN.to_string())];
    assert_eq!(post("me/threads_publish", publish.clone()).await.0, 400);
    assert_eq!(post("me/threads_publish", publish).await.0, 200);
    assert_eq!(env.published("threads", THREADS).await.len(), 2);
}

#[tokio::test]
async fn applied_faults_carry_the_request_out_then_answer() {
    let env = Env::with_settings(json!({}));
    let base = env.sb.base_url();
    env.control(
        "faults",
        json!({"kind": "server_error", "applied": true, "match": {"path": "/777/feed", "method": "POST"}, "count": 1}),
    )
    .await;
    let r = env
        .http
        .post(format!("{base}/graph.facebook.com/v27.0/777/feed"))
        .form(&[("message", "out, then 500"), ("access_token", PAGE_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert_eq!(env.published("facebook", PAGE).await.len(), 1, "the post went out");
    // Inside a batch: a hung item comes back null, and it took effect.
    env.control(
        "faults",
        json!({"kind": "hang", "applied": true, "match": {"path": "/777/feed", "method": "POST"}, "count": 1}),
    )
    .await;
    let batch = json!([{"method": "POST", "relative_url": "777/feed",
                        "body": format!("message=batched&access_token={PAGE_TOKEN}")}]);
    let v: Value = env
        .http
        .post(format!("{base}/graph.facebook.com/v27.0/"))
        .form(&[("batch", batch.to_string().as_str()), ("access_token", USER_TOKEN)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!([null]), "{v}");
    assert_eq!(env.published("facebook", PAGE).await.len(), 2);
    // A latency can't be `applied` (it changes no answer).
    let r = env
        .http
        .post(format!("{base}/_sandbox/faults"))
        .json(&json!({"kind": "latency", "ms": 5, "applied": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

/// A clock the test moves by hand (the reconciliation grace period is minutes long).
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn facebook_reconciliation_looks_first_and_waits_only_for_what_it_does_not_see() {
    let env = Env::with_settings(json!({}));
    let start = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = Arc::new(ManualClock(AtomicI64::new(start)));
    let p = env.publisher(Some(clock.clone()), Duration::from_secs(120));
    let t = tok(PAGE_TOKEN);
    // Sent a second ago and out: settled at once, inside the grace period.
    let id = p.client().page_feed_post(PAGE, Some("Out already"), None, &t).await.unwrap();
    let out = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Out already")
        .with_recorded(Recorded { container_id: None, started_at: Some(start - 1) });
    assert_eq!(p.reconcile(&out, &t).await, Reconciled::Published { remote_id: Some(id) });
    // Not out: wait while it could still land, then it is safe to send.
    let missing = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Not out")
        .with_recorded(Recorded { container_id: None, started_at: Some(start - 1) });
    let Reconciled::StillUnknown(why) = p.reconcile(&missing, &t).await else {
        panic!("still unknown expected")
    };
    assert!(why.contains("not among the Page's posts yet"), "{why}");
    clock.0.fetch_add(121, Ordering::SeqCst);
    assert_eq!(p.reconcile(&missing, &t).await, Reconciled::NotPublished);
}

#[tokio::test]
async fn facebook_server_errors_are_looked_into_before_they_count() {
    let env = Env::with_settings(json!({}));
    let p = env.publisher(None, Duration::from_secs(120));
    let t = tok(PAGE_TOKEN);
    // Out despite the 500 with an auth code: published, found on the Page, sent once.
    env.control(
        "faults",
        json!({"kind": "error", "status": 500, "code": 10, "applied": true,
               "match": {"path": "/777/feed", "method": "POST"}, "count": 1}),
    )
    .await;
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Out despite it");
    let out = p.publish(&post, &t, &mut MemoryJournal::default()).await.unwrap();
    assert!(out.already && out.remote_id.as_deref().is_some_and(|i| i.starts_with("777_")), "{out:?}");
    assert_eq!(env.count("POST", "/777/feed").await, 1);
    // Not out: an auth code on a 5xx proves nothing, so the outcome is unknown (not `auth`).
    env.control(
        "faults",
        json!({"kind": "error", "status": 500, "code": 10, "match": {"path": "/777/feed", "method": "POST"}, "count": 1}),
    )
    .await;
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Not out");
    let mut j = MemoryJournal::default();
    match p.publish(&post, &t, &mut j).await {
        Err(PublishFailure::Unknown { recorded, reason }) => {
            assert_eq!(recorded.started_at, j.recorded.started_at, "{reason}");
            assert!(reason.contains("server error"), "{reason}");
        }
        other => panic!("expected unknown, got {other:?}"),
    }
    // A plain 500 (code 2) that did nothing: transient, not resent in this run.
    env.control(
        "faults",
        json!({"kind": "server_error", "match": {"path": "/777/feed", "method": "POST"}, "count": 1}),
    )
    .await;
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Plain 500");
    match p.publish(&post, &t, &mut MemoryJournal::default()).await {
        Err(PublishFailure::Failed(f)) => {
            assert_eq!(f.class, FailureClass::Transient, "{f:?}");
            assert!(f.check_before_resend && f.retry_after >= Some(Duration::from_secs(120)), "{f:?}");
        }
        other => panic!("expected a transient failure, got {other:?}"),
    }
    assert_eq!(env.published("facebook", PAGE).await.len(), 1);
}
