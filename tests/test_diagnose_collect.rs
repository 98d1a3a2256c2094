//! `sq diagnose` collection against the in-process sandbox: the real GraphClient, the real
//! collector, the real engine. Each test gets its own sandbox on a random port.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use sq::cmd::diagnose::ReportExit;
use sq::cmd::diagnose::collect::{
    AppConfig, Apps, CollectInput, StoredConnection, StoredProfile, StoredSecret, collect, collect_for_token,
};
use sq::diagnose::{Code, Report, Status, diagnose};
use sq::meta::{GraphClient, Limits, MetaEndpoints};
use sq::model::Network;
use sq::model::ProfileKind;
use sq::sandbox::{RunningSandbox, SandboxOptions, Scenario, start};
use sq::secret::{AppSecret, Secret};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn apps() -> Apps {
    Apps {
        facebook: AppConfig::new("111111111111111", AppSecret::new("sandbox-facebook-secret")),
        instagram: AppConfig::new("222222222222222", AppSecret::new("sandbox-instagram-secret")),
        threads: AppConfig::new("333333333333333", AppSecret::new("sandbox-threads-secret")),
        facebook_config_id: None,
    }
}

async fn sandbox(name: &str) -> RunningSandbox {
    start(SandboxOptions::new(Scenario::builtin(name).unwrap())).await.unwrap()
}

fn client(sb: &RunningSandbox, timeout: Duration, limits: Limits) -> GraphClient {
    let http = reqwest::Client::builder().timeout(timeout).build().unwrap();
    let endpoints = MetaEndpoints::new(Some(&sb.base_url()), None).unwrap();
    GraphClient::new(http, endpoints, apps().facebook.credentials(), limits)
}

fn quick_limits() -> Limits {
    Limits {
        max_attempts: 2,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_rate_limit_wait: Duration::from_millis(50),
        batch_item_retries: 1,
        ..Limits::default()
    }
}

async fn control(sb: &RunningSandbox, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut r = reqwest::Client::new().request(method, format!("{}/_sandbox/{path}", sb.base_url()));
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap().json().await.unwrap_or(Value::Null)
}

fn tok(s: &str) -> StoredSecret {
    StoredSecret::Loaded(Secret::new(s))
}

/// A Facebook login and its Page (plus optional Instagram via that Page) from the `findings`
/// world's naming scheme.
fn fb(input: &mut CollectInput, code: &str, page: &str, page_token: Option<&str>, ig: Option<&str>) {
    let conn = format!("fb-{code}");
    if !input.connections.iter().any(|c| c.id == conn) {
        input.connections.push(StoredConnection {
            id: conn.clone(),
            network: Network::Facebook,
            user_id: None,
            user_token: tok(&format!("EAASandboxFindings{code}User00000000000001")),
        });
    }
    let token = page_token
        .map(str::to_string)
        .unwrap_or_else(|| format!("EAASandboxFindings{code}Page00000000000001"));
    let mut p = StoredProfile::new(ProfileKind::FacebookPage, page, format!("Page {page}"), tok(&token));
    p.connection_id = Some(conn.clone());
    input.profiles.push(p);
    if let Some(ig) = ig {
        let mut p = StoredProfile::new(ProfileKind::InstagramViaPage, ig, format!("IG {ig}"), tok(&token));
        p.connection_id = Some(conn);
        p.page_id = Some(page.to_string());
        input.profiles.push(p);
    }
}

fn codes(report: &Report, reference: &str) -> Vec<&'static str> {
    let p = report.profiles.iter().find(|p| p.profile == reference);
    let p = p.unwrap_or_else(|| panic!("no profile {reference}"));
    p.findings.iter().map(|f| f.code.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_world_gives_each_profile_its_finding() {
    let sb = sandbox("findings").await;
    let client = client(&sb, Duration::from_secs(10), quick_limits());
    let mut input = CollectInput { apps: apps(), ..CollectInput::default() };
    fb(&mut input, "460", "4600", None, Some("17841400000004600"));
    for (code, page) in
        [("458", "4580"), ("463", "4630"), ("467", "4670"), ("459", "4590"), ("464", "4640"), ("492", "4920")]
    {
        fb(&mut input, code, page, None, None);
    }
    fb(&mut input, "190", "1900", None, None);
    fb(&mut input, "200", "2000", None, None);
    for page in ["3001", "3002", "3003"] {
        fb(&mut input, "300", page, Some(&format!("EAASandboxFindings300Page{page}0000000001")), None);
    }
    for page in ["4001", "4002"] {
        fb(&mut input, "400", page, Some(&format!("EAASandboxFindings400Page{page}0000000001")), None);
    }
    fb(&mut input, "500", "5001", Some("EAASandboxFindings500Page50010000000001"), Some("17841400000005001"));
    fb(&mut input, "700", "7000", Some("EAASandboxFindings700Page70000000000001"), Some("17841400000007000"));
    fb(&mut input, "900", "9000", None, None);
    fb(&mut input, "901", "9010", None, None);
    let mut ig = StoredProfile::new(
        ProfileKind::InstagramLogin,
        "17841400000000800",
        "refresh.window",
        tok("IGAASandboxFindingsRefreshWindow000001"),
    );
    ig.stored_issued_at = Some(now() - 3 * 86_400);
    ig.stored_expires_at = Some(now() + 57 * 86_400);
    input.profiles.push(ig);
    input.profiles.push(StoredProfile::new(
        ProfileKind::Threads,
        "7000000000000800",
        "threads.window",
        tok("THAASandboxFindingsRefreshWindow000001"),
    ));
    let mut missing = StoredProfile::new(ProfileKind::FacebookPage, "1", "No Token", StoredSecret::Missing);
    missing.failed_posts = 2;
    input.profiles.push(missing);

    let calls = std::sync::atomic::AtomicUsize::new(0);
    let facts = collect(&client, input, &|_, _| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .await;
    assert!(calls.into_inner() > 0, "progress was reported");
    let report = diagnose(&facts, now());

    let want: &[(&str, &str)] = &[
        ("facebook:4600", "token_password_changed"),
        ("instagram:17841400000004600", "instagram_page_broken"),
        ("facebook:4580", "token_app_removed"),
        ("facebook:4630", "token_expired"),
        ("facebook:4670", "token_logged_out"),
        ("facebook:4590", "token_checkpoint"),
        ("facebook:4640", "token_unconfirmed_user"),
        ("facebook:4920", "page_role_lost"),
        ("facebook:1900", "token_invalid"),
        ("facebook:2000", "scope_missing"),
        ("facebook:3003", "page_not_listed"),
        ("facebook:4001", "not_page_admin"),
        ("facebook:4002", "cannot_publish"),
        ("instagram:17841400000005001", "instagram_not_linked"),
        ("facebook:7000", "token_expiring"),
        ("facebook:7000", "rate_limited"),
        ("instagram:17841400000007000", "publishing_limit_near"),
        ("facebook:9000", "data_access_expiring"),
        ("facebook:9010", "data_access_expired"),
        ("instagram:17841400000000800", "publishing_limit_reached"),
        ("instagram:17841400000000800", "refresh_window_open"),
        ("threads:7000000000000800", "refresh_window_open"),
        ("facebook:1", "token_missing"),
        ("facebook:1", "failed_posts"),
    ];
    for (reference, code) in want {
        let got = codes(&report, reference);
        assert!(got.contains(code), "{reference}: want {code}, got {got:?}");
    }
    let unticked = codes(&report, "facebook:3002");
    // §4.3: the unticked Page's token stays valid; only the grant leaves the Page out.
    assert!(unticked.contains(&"granular_not_selected"), "3002: {unticked:?}");
    assert!(!unticked.contains(&"token_invalid"), "3002: {unticked:?}");
    // The root cause alone: no Page token error repeated on the Instagram account.
    assert_eq!(codes(&report, "instagram:17841400000004600"), ["instagram_page_broken"]);
    // A ticked Page is healthy apart from the app-wide usage warning.
    let ok = codes(&report, "facebook:3001");
    assert!(ok.iter().all(|c| *c == "rate_limited"), "3001: {ok:?}");
    // Threads was inspected with its own (tester) token, so expiry comes from Meta.
    let th = report.profiles.iter().find(|p| p.profile == "threads:7000000000000800").unwrap();
    assert!(th.token.as_ref().is_some_and(|t| t.expires_at.is_some()), "{th:?}");
    assert!(report.environment.findings.is_empty(), "{:?}", report.environment.findings);
    assert_eq!(report.exit_code(), 4);
    sb.shutdown().await;
}

async fn unreachable_case(fault: Value, timeout: Duration) {
    let sb = sandbox("default").await;
    control(&sb, reqwest::Method::POST, "faults", Some(fault)).await;
    let client = client(&sb, timeout, quick_limits());
    let mut input = CollectInput { apps: apps(), ..CollectInput::default() };
    input.connections.push(StoredConnection {
        id: "fb".into(),
        network: Network::Facebook,
        user_id: None,
        user_token: tok("EAASandboxDefaultUser0000000000000000001"),
    });
    for (page, token) in [
        ("777", "EAASandboxDefaultPage777000000000000001"),
        ("888", "EAASandboxDefaultPage888000000000000001"),
    ] {
        let mut p = StoredProfile::new(ProfileKind::FacebookPage, page, page, tok(token));
        p.connection_id = Some("fb".into());
        input.profiles.push(p);
    }
    let mut ig = StoredProfile::new(
        ProfileKind::InstagramViaPage,
        "17841400000000001",
        "acme.bakery",
        tok("EAASandboxDefaultPage777000000000000001"),
    );
    ig.connection_id = Some("fb".into());
    ig.page_id = Some("777".into());
    input.profiles.push(ig);

    let facts = collect(&client, input, &|_, _| {}).await;
    let report = diagnose(&facts, now());
    for p in &report.profiles {
        assert_eq!(p.status, Status::Unknown, "{}: {:?}", p.profile, p.findings);
        let c: Vec<&str> = p.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(c, ["meta_unreachable"], "{}", p.profile);
    }
    assert!(report.environment.findings.iter().any(|f| f.code == Code::MetaUnreachable));
    assert_eq!(report.exit_code(), 3);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_gateway_is_unknown_never_invalid() {
    unreachable_case(
        json!({"kind": "bad_gateway", "match": {"host": "graph.facebook.com"}}),
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_is_unknown_never_invalid() {
    unreachable_case(
        json!({"kind": "hang", "match": {"host": "graph.facebook.com"}}),
        Duration::from_millis(400),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_user_token_reaches_1000_pages_in_few_batched_requests() {
    let sb = sandbox("pages:1000").await;
    let client = client(&sb, Duration::from_secs(30), Limits::default());
    control(&sb, reqwest::Method::DELETE, "requests", None).await;
    let token = Secret::new("EAASandboxPagesUser00000000000000000001");
    let facts = collect_for_token(&client, token, None, &apps(), &|_, _| {}).await;
    let report = diagnose(&facts, now());
    let pages = report.profiles.iter().filter(|p| p.network == "facebook").count();
    let igs = report.profiles.iter().filter(|p| p.network == "instagram").count();
    assert_eq!((pages, igs), (1000, 500));
    assert!(report.profiles.iter().all(|p| p.status == Status::Ok), "{:?}", report.summary);
    assert!(report.profiles.iter().all(|p| p.token.as_ref().is_some_and(|t| t.source == "stdin")));
    assert_eq!(report.exit_code(), 0);

    let log = control(&sb, reqwest::Method::GET, "requests", None).await;
    let entries = log["requests"].as_array().unwrap();
    let http: Vec<&Value> = entries.iter().filter(|e| e["batch_item"].is_null()).collect();
    let items = entries.len() - http.len();
    // 1 debug_token + 1 permissions + 10 accounts pages + 1 businesses + 20 debug batches
    // + 10 publishing-limit batches.
    assert!(http.len() <= 45, "{} HTTP requests (43 when written)", http.len());
    assert!(items >= 1500, "{items} batch items");
    // Tokens travel in the Authorization header (or a batch's POST body), never in a URL.
    for e in &http {
        let source = e["token_source"].as_str().unwrap_or("");
        assert!(source == "header" || source == "body", "{e}");
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_tokens_of_each_kind() {
    let sb = sandbox("findings").await;
    let client = client(&sb, Duration::from_secs(10), quick_limits());
    let apps = apps();
    let run = |t: &str| collect_for_token(&client, Secret::new(t), None, &apps, &|_, _| {});

    // A Page token: that Page and its Instagram account.
    let r = diagnose(&run("EAASandboxFindings700Page70000000000001").await, now());
    let refs: Vec<&str> = r.profiles.iter().map(|p| p.profile.as_str()).collect();
    assert_eq!(refs, ["facebook:7000", "instagram:17841400000007000"]);
    assert!(codes(&r, "instagram:17841400000007000").contains(&"publishing_limit_near"));

    // A dead Page token: its death, with the subcode.
    let r = diagnose(&run("EAASandboxFindings460Page00000000000001").await, now());
    assert!(codes(&r, "facebook:4600").contains(&"token_password_changed"), "{:?}", r.profiles);

    // A user token: the login's Pages, unticked one excluded from the list.
    let r = diagnose(&run("EAASandboxFindings300User00000000000001").await, now());
    assert!(r.profiles.iter().any(|p| p.profile == "facebook:3001"));
    assert!(codes(&r, "facebook:3003").contains(&"page_not_listed"), "{:?}", r.profiles);

    // Instagram Login and Threads by prefix.
    let r = diagnose(&run("IGAASandboxFindingsRefreshWindow000001").await, now());
    assert_eq!(r.profiles[0].profile, "instagram:17841400000000800");
    assert!(codes(&r, "instagram:17841400000000800").contains(&"publishing_limit_reached"));
    let r = diagnose(&run("THAASandboxFindingsRefreshWindow000001").await, now());
    assert_eq!(r.profiles[0].profile, "threads:7000000000000800");
    assert!(codes(&r, "threads:7000000000000800").contains(&"refresh_window_open"));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_app_secret_tokens_are_still_judged() {
    let sb = sandbox("findings").await;
    let http = reqwest::Client::new();
    let endpoints = MetaEndpoints::new(Some(&sb.base_url()), None).unwrap();
    let client = GraphClient::new(http, endpoints, None, quick_limits());
    let apps = Apps { facebook: AppConfig { id: Some("111111111111111".into()), secret: None }, ..apps() };
    let mut input = CollectInput { apps, ..CollectInput::default() };
    fb(&mut input, "460", "4600", None, None);
    fb(&mut input, "400", "4001", Some("EAASandboxFindings400Page40010000000001"), None);
    let facts = collect(&client, input, &|_, _| {}).await;
    let report = diagnose(&facts, now());
    assert!(codes(&report, "facebook:4600").contains(&"token_password_changed"), "{:?}", report.profiles);
    assert!(codes(&report, "facebook:4001").contains(&"not_page_admin"), "{:?}", report.profiles);
    assert!(report.environment.findings.iter().any(|f| f.code == Code::AppNotConfigured));
    sb.shutdown().await;
}
