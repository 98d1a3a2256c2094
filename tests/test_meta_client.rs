//! The real `GraphClient` against a tiny in-test HTTP fake (hyper on 127.0.0.1:0) serving canned
//! Meta answers from meta-platform.md. This is not the sandbox: it only replays shapes, so the
//! tests pin down what the client *sends* (headers, forms, re-based URLs) and how it reacts.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sq::meta::{AppCredentials, BatchItem, GraphClient, Limits, MetaEndpoints, MetaError};
use sq::model::classify::CodeProblem;
use sq::model::classify::{FailureClass, TokenDeath};
use sq::secret::{AppSecret, AuthCode, PageToken, Secret, UserToken};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const USER_TOKEN: &str = "EAABuserTOKEN0123456789";

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Recorded {
    fn form(&self) -> HashMap<String, String> {
        serde_urlencoded::from_str(&self.body).unwrap_or_default()
    }
    fn query_map(&self) -> HashMap<String, String> {
        serde_urlencoded::from_str(&self.query).unwrap_or_default()
    }
}

struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn ok(body: Value) -> Canned {
    Canned { status: 200, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO }
}

fn status(status: u16, body: &str) -> Canned {
    Canned { status, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO }
}

type Handler = Arc<dyn Fn(&Recorded) -> Canned + Send + Sync>;

struct Fake {
    base: String,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl Fake {
    async fn start(handler: impl Fn(&Recorded) -> Canned + Send + Sync + 'static) -> Fake {
        let handler: Handler = Arc::new(handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let log2 = log.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (handler, log) = (handler.clone(), log2.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<Incoming>| {
                        let (handler, log) = (handler.clone(), log.clone());
                        async move {
                            let method = req.method().to_string();
                            let path = req.uri().path().to_string();
                            let query = req.uri().query().unwrap_or("").to_string();
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect();
                            let body =
                                req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let rec = Recorded {
                                method,
                                path,
                                query,
                                headers,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let canned = handler(&rec);
                            log.lock().expect("log").push(rec);
                            if !canned.delay.is_zero() {
                                tokio::time::sleep(canned.delay).await;
                            }
                            let mut resp = hyper::Response::builder().status(canned.status);
                            for (k, v) in canned.headers {
                                resp = resp.header(k, v);
                            }
                            Ok::<_, Infallible>(
                                resp.body(Full::new(Bytes::from(canned.body))).expect("response"),
                            )
                        }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Fake { base: format!("http://{addr}"), log }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.log.lock().expect("log").clone()
    }

    fn client(&self, app: Option<AppCredentials>) -> GraphClient {
        client_for(&self.base, app)
    }
}

fn fast_limits() -> Limits {
    Limits {
        base_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_rate_limit_wait: Duration::from_secs(2),
        ..Limits::default()
    }
}

fn client_for(base: &str, app: Option<AppCredentials>) -> GraphClient {
    client_with_timeout(base, app, Duration::from_millis(1500))
}

fn client_with_timeout(base: &str, app: Option<AppCredentials>, timeout: Duration) -> GraphClient {
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let ep = MetaEndpoints::new(Some(base), Some("v27.0")).expect("endpoints");
    GraphClient::new(http, ep, app, fast_limits())
}

fn token() -> Secret {
    Secret::new(USER_TOKEN)
}

fn app() -> AppCredentials {
    AppCredentials::new("1234", AppSecret::new("app-secret-123"))
}

/// The token is in the Authorization header and nowhere in the URL.
#[track_caller]
fn assert_header_only(r: &Recorded, tok: &str) {
    assert_eq!(r.headers.get("authorization").map(String::as_str), Some(format!("Bearer {tok}").as_str()));
    assert!(!r.query.contains(tok) && !r.path.contains(tok), "token in URL: {}?{}", r.path, r.query);
    assert!(!r.query_map().contains_key("access_token"), "access_token in URL: {}", r.query);
}

#[tokio::test]
async fn pages_through_three_pages_with_rebased_cursors() {
    let base = Arc::new(Mutex::new(String::new()));
    let base2 = base.clone();
    let fake = Fake::start(move |r| {
        let after = r.query_map().get("after").cloned();
        let page = |id: &str| json!({"id": id, "name": format!("Page {id}"), "access_token": format!("PT{id}"), "tasks": ["MANAGE","CREATE_CONTENT"]});
        match after.as_deref() {
            // Meta's real host with the token echoed in `next`: re-based, token dropped.
            None => ok(json!({"data": [page("1"), page("2")], "paging": {"cursors": {"after": "p2"},
                "next": format!("https://graph.facebook.com/v27.0/me/accounts?access_token={USER_TOKEN}&fields=id%2Cname&limit=100&after=p2")}})),
            // The sandbox's own URL.
            Some("p2") => ok(json!({"data": [page("3")], "paging": {
                "next": format!("{}/graph.facebook.com/v27.0/me/accounts?limit=100&after=p3", base2.lock().expect("b"))}})),
            Some("p3") => ok(json!({"data": [{"id": "4", "instagram_business_account": {"id": "1784", "username": "acme"}}],
                "paging": {"cursors": {"before": "x"}}})),
            _ => status(400, "{}"),
        }
    })
    .await;
    *base.lock().expect("b") = fake.base.clone();
    let client = fake.client(Some(app()));
    let pages = client.accounts(&UserToken::new(USER_TOKEN)).await.expect("accounts");
    let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    assert_eq!(pages[0].access_token.as_ref().map(PageToken::expose), Some("PT1"));
    assert_eq!(pages[3].instagram_business_account.as_ref().map(|a| a.id.as_str()), Some("1784"));

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    let expected_proof = sq::meta::appsecret_proof(&AppSecret::new("app-secret-123"), &token());
    for r in &reqs {
        assert_eq!(r.path, "/graph.facebook.com/v27.0/me/accounts");
        assert_header_only(r, USER_TOKEN);
        assert_eq!(r.query_map().get("limit").map(String::as_str), Some("100"));
        assert_eq!(r.query_map().get("appsecret_proof"), Some(&expected_proof));
    }
    assert!(
        reqs[0]
            .query_map()
            .get("fields")
            .is_some_and(|f| f.contains("instagram_business_account{id,username}"))
    );
}

#[tokio::test]
async fn refuses_paging_links_to_other_hosts() {
    let fake = Fake::start(|_| {
        ok(json!({"data": [{"id": "1"}], "paging": {"next": "https://evil.example/v27.0/me/accounts?after=2"}}))
    })
    .await;
    let err = fake.client(None).accounts(&UserToken::new(USER_TOKEN)).await.expect_err("foreign");
    assert!(matches!(&err, MetaError::ForeignUrl { host } if host == "evil.example"), "{err:?}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn batch_of_120_in_three_requests_with_a_null_retried() {
    let nulled = Arc::new(AtomicUsize::new(0));
    let nulled2 = nulled.clone();
    let fake = Fake::start(move |r| {
        let form = r.form();
        assert_eq!(form.get("access_token").map(String::as_str), Some(USER_TOKEN), "top-level token in the form");
        assert_eq!(form.get("include_headers").map(String::as_str), Some("false"));
        let ops: Vec<Value> = serde_json::from_str(form.get("batch").map(String::as_str).unwrap_or("[]")).expect("batch");
        assert!(ops.len() <= 50);
        let answers: Vec<Value> = ops
            .iter()
            .map(|op| {
                let url = op["relative_url"].as_str().unwrap_or("");
                let id = url.split('?').next().unwrap_or("");
                if id == "9007" && nulled2.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Value::Null; // timed out once (§10)
                }
                if id == "9009" {
                    let body = json!({"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190, "error_subcode": 492}});
                    return json!({"code": 400, "body": body.to_string()});
                }
                let has_own = url.contains("access_token=PT");
                json!({"code": 200, "body": json!({"id": id, "own_token": has_own}).to_string()})
            })
            .collect();
        ok(Value::Array(answers))
    })
    .await;
    let client = fake.client(None);
    let items: Vec<BatchItem> = (0..120)
        .map(|i| {
            // Page ids, so each item is a request sq sends (`fb.page.batch` in docs/meta-api.md).
            let item = BatchItem::get(&format!("{}", 9000 + i)).query("fields", "id");
            if i % 2 == 0 { item.token(&Secret::new(format!("PT{i}"))) } else { item }
        })
        .collect();
    let results = client.batch(&token(), items).await;
    assert_eq!(results.len(), 120);
    for (i, r) in results.iter().enumerate() {
        if i == 9 {
            let e = r.as_ref().expect_err("9009 fails");
            assert_eq!(e.token_death(), Some(TokenDeath::PageRoleLost));
            continue;
        }
        let v = r.as_ref().unwrap_or_else(|e| panic!("item {i}: {e}"));
        assert_eq!(v["id"], format!("{}", 9000 + i), "order preserved");
        assert_eq!(v["own_token"], i % 2 == 0, "per-item token in relative_url");
    }
    let reqs = fake.requests();
    let sizes: Vec<usize> = reqs
        .iter()
        .map(|r| {
            serde_json::from_str::<Vec<Value>>(r.form().get("batch").map(String::as_str).unwrap_or("[]"))
                .map(|v| v.len())
                .unwrap_or(0)
        })
        .collect();
    let mut first_round = sizes[..3].to_vec();
    first_round.sort_unstable();
    assert_eq!(first_round, [20, 50, 50]);
    assert_eq!(&sizes[3..], [1], "only the null item is retried");
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/graph.facebook.com/v27.0");
        assert!(!r.query.contains(USER_TOKEN));
    }
}

#[tokio::test]
async fn batched_debug_tokens_keep_order() {
    let fake = Fake::start(|r| {
        let ops: Vec<Value> = serde_json::from_str(r.form().get("batch").map(String::as_str).unwrap_or("[]")).expect("ops");
        let answers: Vec<Value> = ops
            .iter()
            .map(|op| {
                let url = op["relative_url"].as_str().unwrap_or("");
                let input = url.split("input_token=").nth(1).unwrap_or("");
                let data = if input.ends_with("dead") {
                    json!({"data": {"type": "USER", "is_valid": false, "error": {"code": 190, "subcode": 460, "message": "changed"}}})
                } else {
                    json!({"data": {"type": "PAGE", "is_valid": true, "expires_at": 0, "profile_id": input}})
                };
                json!({"code": 200, "body": data.to_string()})
            })
            .collect();
        ok(Value::Array(answers))
    })
    .await;
    let client = fake.client(Some(app()));
    let inputs = [Secret::new("tok-a"), Secret::new("tok-dead"), Secret::new("tok-c")];
    let out = client.debug_tokens(&inputs, &app().app_token()).await;
    let a = out[0].as_ref().expect("a");
    assert_eq!(a.profile_id.as_deref(), Some("tok-a"));
    assert_eq!(a.expires(), sq::meta::types::Expiry::Never);
    let dead = out[1].as_ref().expect("dead");
    assert!(!dead.is_valid);
    assert_eq!(dead.error_classification().and_then(|c| c.token_death), Some(TokenDeath::PasswordChanged));
    assert_eq!(out[2].as_ref().expect("c").profile_id.as_deref(), Some("tok-c"));
    let form = fake.requests()[0].form();
    assert_eq!(form.get("access_token").map(String::as_str), Some("1234|app-secret-123"));
    assert!(form.contains_key("appsecret_proof"));
}

#[tokio::test]
async fn html_502_is_transient_after_bounded_retries() {
    let fake = Fake::start(|_| {
        status(502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
    })
    .await;
    let err = fake.client(None).me(&token()).await.expect_err("502");
    assert_eq!(err.class(), FailureClass::Transient);
    assert!(err.to_string().contains("502 Bad Gateway") && !err.to_string().contains('<'), "{err}");
    assert_eq!(fake.requests().len(), fast_limits().max_attempts as usize);
    let e: sq::error::Error = err.into();
    assert_eq!((e.exit_code(), e.code), (3, "meta_unreachable"));
}

#[tokio::test]
async fn password_changed_is_not_retried() {
    let fake = Fake::start(|_| Canned {
        status: 400,
        headers: vec![("www-authenticate", r#"OAuth "Facebook Platform" "invalid_token" "Error validating access token""#.into())],
        body: json!({"error": {"message": "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.", "type": "OAuthException", "code": 190, "error_subcode": 460, "fbtrace_id": "AbC"}}).to_string(),
        delay: Duration::ZERO,
    })
    .await;
    let err = fake.client(None).me(&token()).await.expect_err("190");
    assert_eq!(err.token_death(), Some(TokenDeath::PasswordChanged));
    assert_eq!(err.code_subcode(), (Some(190), Some(460)));
    assert_eq!(fake.requests().len(), 1);
    assert_header_only(&fake.requests()[0], USER_TOKEN);
    let e: sq::error::Error = err.into();
    assert_eq!((e.exit_code(), e.code), (4, "token_password_changed"));
}

#[tokio::test]
async fn rate_limits_honour_regain_time_and_usage_is_recorded() {
    // Regain estimate (minutes) beyond the cap: give up at once with the estimate.
    let fake = Fake::start(|_| Canned {
        status: 400,
        headers: vec![(
            "x-business-use-case-usage",
            r#"{"777":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":12}]}"#.into(),
        )],
        body: json!({"error": {"message": "(#80001) There have been too many calls to this Page account.", "code": 80001}}).to_string(),
        delay: Duration::ZERO,
    })
    .await;
    let client = fake.client(None);
    let err = client.page(&token(), "777").await.expect_err("throttled");
    match &err {
        MetaError::RateLimited { regain_after, .. } => {
            assert_eq!(*regain_after, Some(Duration::from_secs(720)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.requests().len(), 1);
    assert!(client.usage().is_near_limit());
    assert_eq!(client.usage().percent_for("777"), Some(100.0));

    // Without an estimate: bounded retries, then the same typed error.
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let fake = Fake::start(move |_| {
        n2.fetch_add(1, Ordering::SeqCst);
        Canned {
            status: 400,
            headers: vec![("x-app-usage", r#"{"call_count":85,"total_time":10,"total_cputime":10}"#.into())],
            body: json!({"error": {"message": "(#4) Application request limit reached", "code": 4}})
                .to_string(),
            delay: Duration::ZERO,
        }
    })
    .await;
    let client = fake.client(None);
    let err = client.me(&token()).await.expect_err("4");
    assert!(matches!(err, MetaError::RateLimited { regain_after: None, .. }), "{err:?}");
    assert_eq!(n.load(Ordering::SeqCst), 3);
    assert_eq!(client.usage().max_percent(), Some(85.0));
    let e: sq::error::Error = err.into();
    assert_eq!((e.exit_code(), e.code), (3, "rate_limited"));
}

#[tokio::test]
async fn non_idempotent_posts_are_not_resent() {
    let fake =
        Fake::start(|_| status(500, r#"{"error":{"message":"An unknown error has occurred.","code":1}}"#))
            .await;
    let client = fake.client(None);
    let req = client
        .request(sq::meta::Method::Post, sq::meta::Host::FacebookGraph, "777/feed")
        .form("message", "hello")
        .token(&token());
    let err = client.send(&req).await.expect_err("500");
    assert_eq!(err.class(), FailureClass::Transient);
    assert_eq!(fake.requests().len(), 1, "a publish is reconciled, never resent");
    assert_eq!(fake.requests()[0].form().get("message").map(String::as_str), Some("hello"));
    // Same request marked idempotent: retried.
    let err = client.send(&req.clone().idempotent(true)).await.expect_err("500");
    assert_eq!(err.class(), FailureClass::Transient);
    assert_eq!(fake.requests().len(), 1 + 3);
}

#[tokio::test]
async fn network_failures_are_unreachable() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let client = client_for(&format!("http://127.0.0.1:{port}"), None);
    let err = client.me(&token()).await.expect_err("refused");
    assert!(matches!(&err, MetaError::Unreachable { timed_out: false, .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(USER_TOKEN));

    let fake = Fake::start(|_| Canned { delay: Duration::from_secs(5), ..ok(json!({})) }).await;
    let client = client_with_timeout(&fake.base, None, Duration::from_millis(150));
    let err = client.me(&token()).await.expect_err("timeout");
    assert_eq!(fake.requests().len(), 3, "a GET that timed out is retried, within bounds");
    assert!(matches!(&err, MetaError::Unreachable { timed_out: true, .. }), "{err:?}");
    let e: sq::error::Error = err.into();
    assert_eq!(e.exit_code(), 3);
}

#[tokio::test]
async fn exchanges_accept_documented_shapes() {
    let fake = Fake::start(|r| match r.path.as_str() {
        "/api.instagram.com/oauth/access_token" => {
            if r.form().get("code").map(String::as_str) == Some("flat") {
                ok(json!({"access_token": "IGAAflat", "user_id": 1020, "permissions": "instagram_business_basic"}))
            } else if r.form().get("code").map(String::as_str) == Some("used") {
                status(400, r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#)
            } else {
                ok(json!({"data": [{"access_token": "IGAAwrapped", "user_id": "1021", "permissions": "instagram_business_basic,instagram_business_content_publish"}]}))
            }
        }
        "/graph.threads.net/oauth/access_token" => {
            if r.form().get("client_id").map(String::as_str) == Some("fb-app") {
                status(400, r#"{"error":{"message":"Invalid client_id","type":"OAuthException","code":4476002}}"#)
            } else {
                ok(json!({"access_token": "THQVJshort", "user_id": "1234567"}))
            }
        }
        "/graph.facebook.com/v27.0/oauth/access_token" => {
            status(400, r#"{"error":{"message":"This authorization code has been used.","type":"OAuthException","code":100,"error_subcode":36009}}"#)
        }
        "/graph.threads.net/refresh_access_token" => {
            ok(json!({"access_token": "THlong2", "token_type": "bearer", "expires_in": 5183944}))
        }
        "/graph.facebook.com/v27.0/me/permissions" if r.method == "DELETE" => {
            if r.headers.get("authorization").is_some_and(|a| a.ends_with("wrapped")) { ok(json!({"success": true})) } else { ok(json!(true)) }
        }
        _ => status(404, "{}"),
    })
    .await;
    let client = fake.client(None);
    let ig = AppCredentials::new("ig-app", AppSecret::new("ig-secret"));
    let t = client
        .exchange_instagram_code(&ig, &AuthCode::new("wrapped"), "https://localhost/cb")
        .await
        .expect("wrapped");
    assert_eq!((t.access_token.expose(), t.user_id.as_deref()), ("IGAAwrapped", Some("1021")));
    assert_eq!(t.permissions.len(), 2);
    let t = client
        .exchange_instagram_code(&ig, &AuthCode::new("flat"), "https://localhost/cb")
        .await
        .expect("flat");
    assert_eq!((t.access_token.expose(), t.user_id.as_deref()), ("IGAAflat", Some("1020")));
    let e = client
        .exchange_instagram_code(&ig, &AuthCode::new("used"), "https://localhost/cb")
        .await
        .expect_err("used");
    assert!(matches!(e, MetaError::CodeExchange { problem: CodeProblem::Rejected, .. }), "{e:?}");

    let th = AppCredentials::new("th-app", AppSecret::new("th-secret"));
    let t = client
        .exchange_threads_code(&th, &AuthCode::new("c"), "https://localhost/cb")
        .await
        .expect("threads");
    assert_eq!(t.expires_in, Some(3600), "no expires_in → 1 h");
    let wrong = AppCredentials::new("fb-app", AppSecret::new("x"));
    let e = client
        .exchange_threads_code(&wrong, &AuthCode::new("c"), "https://localhost/cb")
        .await
        .expect_err("4476002");
    assert!(matches!(e, MetaError::WrongThreadsAppId { .. }));
    let e: sq::error::Error = e.into();
    assert!(e.hints.iter().any(|h| h.contains("Facebook app id for Threads")));

    let e = client
        .exchange_facebook_code(&app(), &AuthCode::new("c"), "https://localhost/cb", None)
        .await
        .expect_err("36009");
    assert!(matches!(e, MetaError::CodeExchange { problem: CodeProblem::AlreadyUsed, .. }));

    let t = client.threads_refresh(&UserToken::new("THlong1")).await.expect("refresh");
    assert_eq!(t.expires_in, Some(5183944));

    assert!(client.revoke_permissions(&Secret::new("tok-wrapped"), None).await.expect("wrapped"));
    assert!(client.revoke_permissions(&Secret::new("tok-bare"), None).await.expect("bare"));

    // §14: the refresh carries the token as the documented `access_token` query parameter, and
    // not also in a header.
    let refresh = fake.requests().into_iter().find(|r| r.path.ends_with("/refresh_access_token")).unwrap();
    assert_eq!(refresh.query_map().get("access_token").map(String::as_str), Some("THlong1"));
    assert!(!refresh.headers.contains_key("authorization"), "{:?}", refresh.headers);

    for r in fake.requests() {
        let form = r.form();
        // Secrets travel in POST bodies or the Authorization header, never in the URL
        // (client_secret is only in the query of the documented GET exchanges, not used here).
        assert!(!r.query.contains("secret") && !r.query.contains("code="), "{}?{}", r.path, r.query);
        if r.method == "POST" {
            assert!(form.contains_key("client_secret") && form.contains_key("code"), "{:?}", r.path);
        }
    }
}

#[tokio::test]
async fn publishing_limits_are_read_not_assumed() {
    let fake = Fake::start(|r| match r.path.as_str() {
        "/graph.instagram.com/v27.0/1784/content_publishing_limit" => {
            ok(json!({"data": [{"quota_usage": 2, "config": {"quota_total": 50, "quota_duration": 86400}}]}))
        }
        "/graph.threads.net/v1.0/99/threads_publishing_limit" => ok(json!({"data": [{"quota_usage": 250,
            "config": {"quota_total": 250, "quota_duration": 86400}, "reply_quota_usage": 3, "reply_config": {"quota_total": 1000, "quota_duration": 86400}}]})),
        "/graph.instagram.com/v27.0/me" => ok(json!({"id": "1", "user_id": "1784", "username": "acme"})),
        "/graph.threads.net/v1.0/me" => ok(json!({"id": "99", "username": "acme_th"})),
        _ => ok(json!({"data": []})),
    })
    .await;
    let client = fake.client(None);
    let ig = client
        .instagram_publishing_limit(sq::meta::Host::InstagramGraph, "1784", &token())
        .await
        .expect("ig");
    assert_eq!(ig.posts().remaining(), Some(48));
    let th = client.threads_publishing_limit("99", &token()).await.expect("th");
    assert!(th.posts().is_reached());
    assert_eq!(th.replies().map(|q| q.usage), Some(3));
    assert_eq!(client.instagram_me(&token()).await.expect("me").user_id.as_deref(), Some("1784"));
    assert_eq!(client.threads_me(&token()).await.expect("me").username.as_deref(), Some("acme_th"));
    let e = client
        .instagram_publishing_limit(sq::meta::Host::FacebookGraph, "0", &token())
        .await
        .expect_err("no data");
    assert!(matches!(e, MetaError::Unexpected { .. }));
    for r in fake.requests() {
        assert_header_only(&r, USER_TOKEN);
        assert!(!r.query.contains("appsecret_proof"), "no app configured, no proof");
    }
}

#[tokio::test]
async fn null_batch_items_retry_reads_only_and_within_bounds() {
    // Every item always comes back null (§10: timed out).
    let fake = Fake::start(|r| {
        let ops: Vec<Value> =
            serde_json::from_str(r.form().get("batch").map(String::as_str).unwrap_or("[]")).expect("ops");
        ok(Value::Array(ops.iter().map(|_| Value::Null).collect()))
    })
    .await;
    let client = fake.client(None);
    // sq batches no writes; this one tests the batch machinery, outside the catalog on purpose.
    let post = BatchItem::new(sq::meta::Method::Post, "777/feed").body("message", "hi").unlisted();
    let out = client.batch(&token(), vec![post]).await;
    assert!(matches!(out[0], Err(MetaError::BatchItemTimedOut)));
    assert_eq!(fake.requests().len(), 1, "an unfinished write is never resent");

    let out = client.batch(&token(), vec![BatchItem::get("me")]).await;
    assert!(matches!(out[0], Err(MetaError::BatchItemTimedOut)));
    let rounds = 1 + fast_limits().batch_item_retries as usize;
    assert_eq!(fake.requests().len(), 1 + rounds);
    assert!(client.batch(&token(), Vec::new()).await.is_empty());
    assert_eq!(fake.requests().len(), 1 + rounds, "nothing to send, nothing sent");
}
