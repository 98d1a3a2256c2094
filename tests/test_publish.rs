//! Publishing against the sandbox (in-process, random port) with the real `GraphClient`.
//! Every test checks through `/_sandbox/published` that a post went out exactly once (or not
//! at all). Polling and retry waits are milliseconds so the suite runs fast.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use sq::ctx::Clock;
use sq::meta::{GraphClient, Host, Limits, MetaEndpoints};
use sq::model::ProfileKind;
use sq::model::classify::{FailureClass, TokenDeath};
use sq::publish::{
    Journal, JournalError, MemoryJournal, PollPolicy, PostRequest, PublishFailure, PublishOptions, Published,
    Publisher, Reconciled, Recorded, RetryPolicy, SettlePolicy,
};
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use sq::secret::Secret;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

const PAGE: &str = "777";
const PAGE_TOKEN: &str = "EAASandboxDefaultPage777000000000000001";
const IG_VIA_PAGE: &str = "17841400000000001";
const IG_LOGIN: &str = "17841400000000002";
const IG_TOKEN: &str = "IGAASandboxDefaultInstagram000000000001";
const THREADS: &str = "7000000000000001";
const TH_TOKEN: &str = "THAASandboxDefaultThreads00000000000001";
const DANA: &str = "100000000000001";
const IMAGE: &str = "https://cdn.example.com/bread.jpg";

/// HTTP timeout of the client under test: a `hang` fault turns into a timeout quickly.
const HTTP_TIMEOUT: Duration = Duration::from_millis(400);

struct Env {
    sb: SandboxThread,
    http: reqwest::Client,
}

impl Env {
    fn new() -> Env {
        Env::with(Scenario::load("default").unwrap())
    }

    fn with(scenario: Scenario) -> Env {
        // Its own runtime on its own thread, started from outside the test's runtime, so a
        // blocking journal can call it mid-run.
        let sb = std::thread::spawn(move || SandboxThread::start(SandboxOptions::new(scenario)))
            .join()
            .unwrap()
            .unwrap();
        Env { sb, http: reqwest::Client::new() }
    }

    fn publisher(&self) -> Publisher {
        self.publisher_with(Duration::ZERO)
    }

    fn publisher_with(&self, reconcile_grace: Duration) -> Publisher {
        let http = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build().unwrap();
        let ep = MetaEndpoints::new(Some(&self.sb.base_url()), None).unwrap();
        let limits = Limits {
            max_attempts: 2,
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_rate_limit_wait: Duration::from_millis(100),
            ..Limits::default()
        };
        let opts = PublishOptions {
            retry: RetryPolicy {
                max_attempts: 3,
                base: Duration::from_millis(10),
                cap: Duration::from_millis(100),
                max_inline_wait: Duration::from_secs(1),
            },
            poll: PollPolicy {
                first: Duration::from_millis(5),
                max_interval: Duration::from_millis(40),
                max_polls: 10,
            },
            settle: SettlePolicy { reads: 2, interval: Duration::from_millis(5) },
            reconcile_grace,
            ..PublishOptions::default()
        };
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

    async fn fault(&self, fault: Value) {
        self.control("faults", fault).await;
    }

    async fn published(&self, network: &str, profile: &str) -> Vec<Value> {
        let url = format!("{}/_sandbox/published?profile={profile}&network={network}", self.sb.base_url());
        let v: Value = self.http.get(url).send().await.unwrap().json().await.unwrap();
        v["published"].as_array().cloned().unwrap_or_default()
    }

    /// `(method, path)` of every Meta request so far.
    async fn requests(&self) -> Vec<(String, String)> {
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
            .map(|r| (r["method"].as_str().unwrap().to_string(), r["path"].as_str().unwrap().to_string()))
            .collect()
    }

    async fn count(&self, method: &str, path_end: &str) -> usize {
        self.requests().await.iter().filter(|(m, p)| m == method && p.ends_with(path_end)).count()
    }
}

fn tok(s: &str) -> Secret {
    Secret::new(s)
}

fn failed(r: Result<Published, PublishFailure>) -> sq::publish::Failure {
    match r {
        Err(PublishFailure::Failed(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn ig_post(text: &str) -> PostRequest {
    PostRequest::new(ProfileKind::InstagramViaPage, IG_VIA_PAGE, text).with_image(IMAGE)
}

// --- happy paths ------------------------------------------------------------------------------

#[tokio::test]
async fn facebook_feed_and_photo_publish_once() {
    let env = Env::new();
    let p = env.publisher();
    let mut j = MemoryJournal::default();
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Fresh sourdough today")
        .with_link("https://acme.example/bread");
    let out = p.publish(&post, &tok(PAGE_TOKEN), &mut j).await.unwrap();
    let id = out.remote_id.clone().unwrap();
    assert!(id.starts_with("777_") && !out.already, "{out:?}");
    assert_eq!(j.events.len(), 1, "{:?}", j.events);
    assert!(j.events[0].starts_with("about_to_post") && j.recorded.started_at.is_some());

    let mut j = MemoryJournal::default();
    let photo = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Croissants").with_image(IMAGE);
    let out = p.publish(&photo, &tok(PAGE_TOKEN), &mut j).await.unwrap();
    // §7.1: the post id, not the photo id.
    assert!(out.remote_id.as_deref().unwrap().starts_with("777_"), "{out:?}");

    let posted = env.published("facebook", PAGE).await;
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(posted[0]["id"], json!(id));
    assert_eq!(posted[0]["text"], json!("Fresh sourdough today"));
    assert_eq!(posted[0]["link"], json!("https://acme.example/bread"));
    assert_eq!(posted[1]["media_url"], json!(IMAGE));
    assert_eq!(posted[1]["post_id"], json!(out.remote_id.unwrap()));
}

#[tokio::test]
async fn instagram_both_logins_publish_once() {
    let env = Env::new();
    let p = env.publisher();
    for (kind, id, token) in [
        (ProfileKind::InstagramViaPage, IG_VIA_PAGE, PAGE_TOKEN),
        (ProfileKind::InstagramLogin, IG_LOGIN, IG_TOKEN),
    ] {
        let mut j = MemoryJournal::default();
        let post = PostRequest::new(kind, id, "New loaf").with_image(IMAGE);
        let out = p.publish(&post, &tok(token), &mut j).await.unwrap();
        let cid = out.container_id.clone().unwrap();
        assert_eq!(j.events, [format!("container_created {cid}"), format!("about_to_publish {cid}")]);
        let posted = env.published("instagram", id).await;
        assert_eq!(posted.len(), 1, "{posted:?}");
        assert_eq!(posted[0]["id"], json!(out.remote_id.unwrap()));
        assert_eq!(posted[0]["text"], json!("New loaf"));
    }
    // Each login on its own host (§7.2), limits read before publishing (§7.2).
    let reqs = env.requests().await;
    assert!(
        reqs.iter().any(|(m, p)| m == "POST"
            && p.starts_with("/graph.facebook.com/")
            && p.ends_with("/media_publish"))
    );
    assert!(reqs.iter().any(|(m, p)| m == "POST"
        && p.starts_with("/graph.instagram.com/")
        && p.ends_with("/media_publish")));
    assert_eq!(env.count("GET", "/content_publishing_limit").await, 2);
}

#[tokio::test]
async fn threads_text_and_image_publish_once() {
    let env = Env::new();
    let p = env.publisher();
    let mut j = MemoryJournal::default();
    let text = PostRequest::new(ProfileKind::Threads, THREADS, "Hello Threads");
    let a = p.publish(&text, &tok(TH_TOKEN), &mut j).await.unwrap();
    let image = PostRequest::new(ProfileKind::Threads, THREADS, "With a picture").with_image(IMAGE);
    let b = p.publish(&image, &tok(TH_TOKEN), &mut MemoryJournal::default()).await.unwrap();
    let posted = env.published("threads", THREADS).await;
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(posted[0]["id"], json!(a.remote_id.unwrap()));
    assert_eq!(posted[1]["id"], json!(b.remote_id.unwrap()));
    assert_eq!(posted[1]["media_url"], json!(IMAGE));
    assert_eq!(env.count("GET", "/threads_publishing_limit").await, 2);
    assert_eq!(j.events.len(), 2, "{:?}", j.events);
}

// --- containers -----------------------------------------------------------------------------

#[tokio::test]
async fn instagram_container_slow_to_finish() {
    let mut sc = Scenario::load("default").unwrap();
    sc.settings.container_polls = 4;
    let env = Env::with(sc);
    let out = env
        .publisher()
        .publish(&ig_post("Slow"), &tok(PAGE_TOKEN), &mut MemoryJournal::default())
        .await
        .unwrap();
    let cid = out.container_id.unwrap();
    // Four IN_PROGRESS reads, then FINISHED; a single publish.
    assert_eq!(env.count("GET", &format!("/{cid}")).await, 5);
    assert_eq!(env.count("POST", "/media_publish").await, 1);
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);
}

#[tokio::test]
async fn instagram_not_ready_9007_then_success() {
    let env = Env::new();
    env.fault(
        json!({"kind": "error", "code": 9007, "subcode": 2207027, "message": "Media ID is not available",
                     "match": {"path": "/media_publish"}, "count": 2}),
    )
    .await;
    let out =
        env.publisher().publish(&ig_post("Not ready"), &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await;
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(env.count("POST", "/media_publish").await, 3);
    assert_eq!(env.count("POST", "/media").await, 1, "same container throughout");
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);
}

#[tokio::test]
async fn media_failures_are_final() {
    let env = Env::new();
    let p = env.publisher();
    // Threads: the container ends in ERROR (§7.3 error_message).
    let post = PostRequest::new(ProfileKind::Threads, THREADS, "Pic")
        .with_image("https://cdn.example.com/broken.jpg");
    let f = failed(p.publish(&post, &tok(TH_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!(f.class, FailureClass::Media, "{f:?}");
    assert!(f.message.contains("UNKNOWN") && f.container_id.is_none(), "{f:?}");
    // Instagram: the image can't be fetched (9004/2207052 at creation, §8.4).
    let post = PostRequest::new(ProfileKind::InstagramLogin, IG_LOGIN, "Pic")
        .with_image("https://cdn.example.com/broken.jpg");
    let f = failed(p.publish(&post, &tok(IG_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!((f.class, f.subcode), (FailureClass::Media, Some(2_207_052)), "{f:?}");
    assert!(env.published("threads", THREADS).await.is_empty());
    assert!(env.published("instagram", IG_LOGIN).await.is_empty());
    assert_eq!(env.count("POST", "/threads_publish").await + env.count("POST", "/media_publish").await, 0);
}

#[tokio::test]
async fn expired_container_is_replaced() {
    let env = Env::new();
    let p = env.publisher();
    let old = p
        .client()
        .ig_create_container(Host::FacebookGraph, IG_VIA_PAGE, IMAGE, Some("Late"), &tok(PAGE_TOKEN))
        .await
        .unwrap();
    env.control("clock", json!({"advance": "25h"})).await;
    let post = ig_post("Late").with_recorded(Recorded { container_id: Some(old.clone()), started_at: None });
    let mut j = MemoryJournal::default();
    let out = p.publish(&post, &tok(PAGE_TOKEN), &mut j).await.unwrap();
    let new = out.container_id.unwrap();
    assert_ne!(new, old);
    assert_eq!(j.events[0], format!("container_created {new}"));
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);
}

// --- content, limits, throttling, auth, outages ----------------------------------------------

#[tokio::test]
async fn duplicate_post_is_content() {
    let env = Env::new();
    let p = env.publisher();
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Same words");
    p.publish(&post, &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await.unwrap();
    let f = failed(p.publish(&post, &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!((f.class, f.code), (FailureClass::Content, Some(506)), "{f:?}");
    assert!(!f.is_retryable());
    assert_eq!(env.published("facebook", PAGE).await.len(), 1);
}

#[tokio::test]
async fn quota_reached_is_rate_limit_without_publishing() {
    let env = Env::new();
    let p = env.publisher();
    env.control("events", json!({"event": "quota_reached", "account": IG_VIA_PAGE})).await;
    env.control("events", json!({"event": "quota_reached", "account": THREADS})).await;
    let f = failed(p.publish(&ig_post("Too many"), &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!(f.class, FailureClass::RateLimit, "{f:?}");
    assert!(f.message.contains("100 of 100"), "{f:?}");
    assert!(f.container_id.is_some() && f.retry_after.is_some(), "container kept for next time: {f:?}");
    let ig_container = f.container_id.clone();
    let th = PostRequest::new(ProfileKind::Threads, THREADS, "Too many");
    let f = failed(p.publish(&th, &tok(TH_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!(f.class, FailureClass::RateLimit, "{f:?}");
    assert!(f.message.contains("250 of 250"), "{f:?}");
    assert_eq!(env.count("POST", "/media_publish").await + env.count("POST", "/threads_publish").await, 0);

    // Next run after the quota frees up: the container kept by the failure is published.
    env.control("events", json!({"event": "quota_reset", "account": IG_VIA_PAGE})).await;
    let kept = Recorded { container_id: ig_container, started_at: None };
    let out = p
        .publish(
            &ig_post("Too many").with_recorded(kept.clone()),
            &tok(PAGE_TOKEN),
            &mut MemoryJournal::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.container_id, kept.container_id);
    assert_eq!(env.count("POST", "/media").await, 1);
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);
}

#[tokio::test]
async fn throttling_is_rate_limit_with_regain_time() {
    let env = Env::new();
    let p = env.publisher();
    env.fault(json!({"kind": "throttle", "code": 80002, "minutes": 7, "match": {"path": "/media_publish"}, "count": 1}))
        .await;
    let f = failed(p.publish(&ig_post("Busy"), &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!((f.class, f.code), (FailureClass::RateLimit, Some(80002)), "{f:?}");
    assert!(f.retry_after.unwrap() >= Duration::from_secs(7 * 60), "{f:?}");
    assert!(f.container_id.is_some());
    env.fault(
        json!({"kind": "throttle", "code": 80001, "minutes": 3, "match": {"path": "/feed"}, "count": 1}),
    )
    .await;
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Busy page");
    let f = failed(p.publish(&post, &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!(f.class, FailureClass::RateLimit, "{f:?}");
    assert!(f.retry_after.unwrap() >= Duration::from_secs(3 * 60), "{f:?}");
    assert!(env.published("instagram", IG_VIA_PAGE).await.is_empty());
    assert!(env.published("facebook", PAGE).await.is_empty());
}

/// Changes Dana's password from inside the journal, i.e. between container creation and
/// publishing. Blocking on purpose: the journal is synchronous (a database).
struct PasswordChangeJournal {
    base: String,
    inner: MemoryJournal,
}

impl Journal for PasswordChangeJournal {
    fn about_to_post(&mut self, f: &str, at: i64) -> Result<(), JournalError> {
        self.inner.about_to_post(f, at)
    }
    fn container_created(&mut self, id: &str) -> Result<(), JournalError> {
        control_blocking(
            &self.base,
            "/_sandbox/events",
            &json!({"event": "password_changed", "user": DANA}).to_string(),
        );
        self.inner.container_created(id)
    }
    fn about_to_publish(&mut self, id: &str, at: i64) -> Result<(), JournalError> {
        self.inner.about_to_publish(id, at)
    }
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

#[tokio::test]
async fn password_change_mid_run_is_auth() {
    let env = Env::new();
    let mut j = PasswordChangeJournal { base: env.sb.base_url(), inner: MemoryJournal::default() };
    let f = failed(env.publisher().publish(&ig_post("Mid-run"), &tok(PAGE_TOKEN), &mut j).await);
    assert_eq!(f.class, FailureClass::Auth, "{f:?}");
    assert_eq!(f.token_death, Some(TokenDeath::PasswordChanged), "{f:?}");
    assert!(f.holds_profile() && !f.is_retryable());
    assert!(env.published("instagram", IG_VIA_PAGE).await.is_empty());
    // The Page's own posts fail the same way.
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "After the change");
    let f = failed(env.publisher().publish(&post, &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!((f.class, f.code, f.subcode), (FailureClass::Auth, Some(190), Some(460)), "{f:?}");
}

#[tokio::test]
async fn bad_gateway_is_transient_and_never_duplicates() {
    let env = Env::new();
    let p = env.publisher();
    // Instagram: a 502 on media_publish is retried in the same run, status first.
    env.fault(json!({"kind": "bad_gateway", "match": {"path": "/media_publish"}, "count": 1})).await;
    let out = p.publish(&ig_post("Gateway"), &tok(PAGE_TOKEN), &mut MemoryJournal::default()).await;
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);

    // Facebook: a 502 after the post went out is transient, not resent in this run…
    env.fault(json!({"kind": "bad_gateway", "match": {"path": "/feed", "method": "POST"}, "count": 1})).await;
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Gateway page");
    let mut j = MemoryJournal::default();
    let f = failed(p.publish(&post, &tok(PAGE_TOKEN), &mut j).await);
    assert_eq!(f.class, FailureClass::Transient, "{f:?}");
    assert!(f.check_before_resend && f.retry_after.is_some(), "{f:?}");
    assert_eq!(env.count("POST", "/feed").await, 1);
    // …and the next run looks first, finds nothing, and posts once.
    let again = post.clone().with_recorded(j.recorded.clone());
    let out = p.publish(&again, &tok(PAGE_TOKEN), &mut j).await.unwrap();
    assert!(!out.already);
    assert_eq!(env.published("facebook", PAGE).await.len(), 1);

    // A 502 that doesn't go away: transient, bounded.
    env.fault(json!({"kind": "bad_gateway", "match": {"path": "/threads"}})).await;
    let th = PostRequest::new(ProfileKind::Threads, THREADS, "Down");
    let f = failed(p.publish(&th, &tok(TH_TOKEN), &mut MemoryJournal::default()).await);
    assert_eq!(f.class, FailureClass::Transient, "{f:?}");
    assert!(f.retry_after.is_some());
    assert!(env.published("threads", THREADS).await.is_empty());
}

// --- unknown outcomes, reconciliation, resuming ----------------------------------------------

#[tokio::test]
async fn hung_instagram_publish_is_unknown_then_reconciled() {
    let env = Env::new();
    let p = env.publisher();
    env.fault(json!({"kind": "hang", "match": {"path": "/media_publish"}, "count": 1})).await;
    let mut j = MemoryJournal::default();
    let post = ig_post("Hung");
    let recorded = match p.publish(&post, &tok(PAGE_TOKEN), &mut j).await {
        Err(PublishFailure::Unknown { recorded, .. }) => recorded,
        other => panic!("expected unknown, got {other:?}"),
    };
    assert_eq!(recorded, j.recorded, "the journal holds what reconciliation needs");
    let post = post.with_recorded(recorded);
    assert_eq!(p.reconcile(&post, &tok(PAGE_TOKEN)).await, Reconciled::NotPublished);
    // Safe to send again: the same container, published once.
    let out = p.publish(&post, &tok(PAGE_TOKEN), &mut j).await.unwrap();
    assert_eq!(out.container_id, post.recorded.container_id);
    assert_eq!(env.count("POST", "/media").await, 1);
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);
    // Reconciling again (a second process, a retry) now sees it published; publish is a no-op.
    let Reconciled::Published { remote_id } = p.reconcile(&post, &tok(PAGE_TOKEN)).await else { panic!() };
    assert_eq!(remote_id, out.remote_id);
    let again = p.publish(&post, &tok(PAGE_TOKEN), &mut j).await.unwrap();
    assert!(again.already && again.remote_id == out.remote_id, "{again:?}");
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);
}

#[tokio::test]
async fn instagram_published_before_crash_is_found() {
    // The process sent media_publish and died before reading the answer: Meta published.
    let env = Env::new();
    let p = env.publisher();
    let c = p.client();
    let t = tok(PAGE_TOKEN);
    let cid =
        c.ig_create_container(Host::FacebookGraph, IG_VIA_PAGE, IMAGE, Some("Crashed"), &t).await.unwrap();
    while c.ig_container_status(Host::FacebookGraph, &cid, &t).await.unwrap().state
        != sq::meta::publish::ContainerState::Finished
    {}
    let media = c.ig_media_publish(Host::FacebookGraph, IG_VIA_PAGE, &cid, &t).await.unwrap();
    let post = ig_post("Crashed").with_recorded(Recorded { container_id: Some(cid), started_at: Some(0) });
    assert_eq!(p.reconcile(&post, &t).await, Reconciled::Published { remote_id: Some(media.clone()) });
    let out = p.publish(&post, &t, &mut MemoryJournal::default()).await.unwrap();
    assert!(out.already && out.remote_id == Some(media), "{out:?}");
    assert_eq!(env.count("POST", "/media_publish").await, 1);
    assert_eq!(env.published("instagram", IG_VIA_PAGE).await.len(), 1);
}

/// A clock the test moves by hand (the reconciliation grace period is minutes long).
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn hung_facebook_post_is_unknown_then_reconciled() {
    let env = Env::new();
    // The sandbox answers after 1.5 s; the client gives up after 0.4 s.
    env.fault(json!({"kind": "hang", "secs": 1.5, "match": {"path": "/feed", "method": "POST"}, "count": 1}))
        .await;
    let clock = Arc::new(ManualClock(AtomicI64::new(time::OffsetDateTime::now_utc().unix_timestamp())));
    let mut p = env.publisher_with(Duration::from_secs(60));
    p = Publisher::new(p.client().clone(), PublishOptions { clock: clock.clone(), ..p.options().clone() });
    let mut j = MemoryJournal::default();
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Hung page post");
    let recorded = match p.publish(&post, &tok(PAGE_TOKEN), &mut j).await {
        Err(PublishFailure::Unknown { recorded, .. }) => recorded,
        other => panic!("expected unknown, got {other:?}"),
    };
    let post = post.with_recorded(recorded);
    // Too soon to trust "not there": still unknown, and publish refuses to send.
    assert!(matches!(p.reconcile(&post, &tok(PAGE_TOKEN)).await, Reconciled::StillUnknown(_)));
    assert!(matches!(p.publish(&post, &tok(PAGE_TOKEN), &mut j).await, Err(PublishFailure::Unknown { .. })));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    clock.0.fetch_add(61, Ordering::SeqCst);
    let landed = env.published("facebook", PAGE).await.len();
    let r = p.reconcile(&post, &tok(PAGE_TOKEN)).await;
    match landed {
        // The sandbox finished the request after the client gave up: found, not resent.
        1 => assert!(matches!(r, Reconciled::Published { remote_id: Some(_) }), "{r:?}"),
        // The sandbox dropped it with the connection: not there, safe to send.
        0 => assert_eq!(r, Reconciled::NotPublished),
        n => panic!("{n} posts"),
    }
    // Either way, finishing the post leaves exactly one on the Page.
    let out = p.publish(&post, &tok(PAGE_TOKEN), &mut j).await.unwrap();
    assert_eq!(out.already, landed == 1, "{out:?}");
    assert_eq!(env.published("facebook", PAGE).await.len(), 1);
}

#[tokio::test]
async fn facebook_post_published_before_crash_is_found() {
    // The post request went out and the process died before the answer: Meta published.
    // (The sandbox drops a hung request with its connection, so this is how a lost answer to
    // a post that did land is played.)
    let env = Env::new();
    let p = env.publisher();
    let t = tok(PAGE_TOKEN);
    let started = time::OffsetDateTime::now_utc().unix_timestamp();
    let id = p.client().page_feed_post(PAGE, Some("Landed anyway"), None, &t).await.unwrap();
    // Another post with other words, and an older one with the same words, are not it.
    p.client().page_feed_post(PAGE, Some("Something else"), None, &t).await.unwrap();
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Landed anyway")
        .with_recorded(Recorded { container_id: None, started_at: Some(started) });
    assert_eq!(p.reconcile(&post, &t).await, Reconciled::Published { remote_id: Some(id.clone()) });
    let out = p.publish(&post, &t, &mut MemoryJournal::default()).await.unwrap();
    assert!(out.already && out.remote_id == Some(id), "{out:?}");
    assert_eq!(env.count("POST", "/feed").await, 2);
    assert_eq!(env.published("facebook", PAGE).await.len(), 2);
    // A post with the same words made before the attempt started (beyond the clock skew) is
    // not taken for it.
    let old = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Landed anyway")
        .with_recorded(Recorded { container_id: None, started_at: Some(started + 3600) });
    assert_eq!(p.reconcile(&old, &t).await, Reconciled::NotPublished);
}

/// Dies (refuses) at a chosen checkpoint, like a process killed right there.
struct CrashAt {
    at: &'static str,
    inner: MemoryJournal,
}

impl Journal for CrashAt {
    fn about_to_post(&mut self, f: &str, at: i64) -> Result<(), JournalError> {
        if self.at == "about_to_post" {
            return Err(JournalError("crash".into()));
        }
        self.inner.about_to_post(f, at)
    }
    fn container_created(&mut self, id: &str) -> Result<(), JournalError> {
        self.inner.container_created(id)?;
        if self.at == "container_created" {
            return Err(JournalError("crash".into()));
        }
        Ok(())
    }
    fn about_to_publish(&mut self, id: &str, at: i64) -> Result<(), JournalError> {
        if self.at == "about_to_publish" {
            return Err(JournalError("crash".into()));
        }
        self.inner.about_to_publish(id, at)
    }
}

#[tokio::test]
async fn crash_after_container_created_resumes_with_it() {
    let env = Env::new();
    let p = env.publisher();
    for (kind, id, token, network, publish_path, create_path) in [
        (ProfileKind::InstagramLogin, IG_LOGIN, IG_TOKEN, "instagram", "/media_publish", "/media"),
        (ProfileKind::Threads, THREADS, TH_TOKEN, "threads", "/threads_publish", "/threads"),
    ] {
        let post = PostRequest::new(kind, id, "Resume me").with_image(IMAGE);
        let mut j = CrashAt { at: "container_created", inner: MemoryJournal::default() };
        let r = p.publish(&post, &tok(token), &mut j).await;
        assert!(matches!(r, Err(PublishFailure::Journal(_))), "{r:?}");
        let recorded = j.inner.recorded.clone();
        assert!(recorded.container_id.is_some());
        let resumed = post.with_recorded(recorded.clone());
        assert_eq!(p.reconcile(&resumed, &tok(token)).await, Reconciled::NotPublished);
        let out = p.publish(&resumed, &tok(token), &mut MemoryJournal::default()).await.unwrap();
        assert_eq!(out.container_id, recorded.container_id);
        assert_eq!(env.count("POST", create_path).await, 1, "{network}: no second container");
        assert_eq!(env.count("POST", publish_path).await, 1);
        assert_eq!(env.published(network, id).await.len(), 1);
    }
    // A journal that can't record the Facebook checkpoint: nothing is sent.
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Never sent");
    let mut j = CrashAt { at: "about_to_post", inner: MemoryJournal::default() };
    assert!(matches!(p.publish(&post, &tok(PAGE_TOKEN), &mut j).await, Err(PublishFailure::Journal(_))));
    assert_eq!(env.count("POST", "/feed").await, 0);
    assert_eq!(p.reconcile(&post, &tok(PAGE_TOKEN)).await, Reconciled::NotPublished);
}

#[tokio::test]
async fn reconcile_when_meta_is_unreachable_stays_unknown() {
    let env = Env::new();
    let p = env.publisher();
    let post = PostRequest::new(ProfileKind::FacebookPage, PAGE, "Unreachable")
        .with_recorded(Recorded { container_id: None, started_at: Some(0) });
    env.fault(json!({"kind": "hang", "match": {"path": "/posts"}})).await;
    assert!(matches!(p.reconcile(&post, &tok(PAGE_TOKEN)).await, Reconciled::StillUnknown(_)));
    let ig = ig_post("Unreachable")
        .with_recorded(Recorded { container_id: Some("178900".into()), started_at: Some(0) });
    env.fault(json!({"kind": "bad_gateway", "match": {"path": "/178900"}})).await;
    assert!(matches!(p.reconcile(&ig, &tok(PAGE_TOKEN)).await, Reconciled::StillUnknown(_)));
}
