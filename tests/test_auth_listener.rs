#![allow(clippy::unwrap_used)] // a test that cannot set up should panic loudly
//! The loopback listener over real sockets, with reqwest playing the browser.

use sq::auth::{
    AuthError, Line, LineSource, Listener, Outcome, ReaderSource, RedirectUri, State, TlsIdentity, race,
};
use sq::secret::AuthCode;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const STATE: &str = "s7aTe-0123456789abcdefghijklmnopqrstuvwxyzAB";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_redirect() -> RedirectUri {
    RedirectUri::parse(&format!("http://localhost:{}/callback", free_port())).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn base(r: &RedirectUri) -> String {
    format!("http://127.0.0.1:{}", r.port())
}

/// Runs the wait on a thread, as the command will (the listener is blocking).
fn spawn_wait(listener: Listener, timeout: Duration) -> thread::JoinHandle<Outcome> {
    thread::spawn(move || listener.wait(timeout))
}

async fn get(url: impl reqwest::IntoUrl) -> (u16, Option<String>, String) {
    let resp = client().get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let connection = resp.headers().get("connection").map(|v| v.to_str().unwrap().to_ascii_lowercase());
    (status, connection, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_state_is_rejected_then_the_right_one_wins() {
    let r = http_redirect();
    let mut listener = Listener::bind(&r, Some(State::from_string(STATE)), None).unwrap();
    assert!(listener.local_addr().ip().is_loopback());
    let answer = listener.defer_answer();
    let wait = spawn_wait(listener, Duration::from_secs(10));

    let (status, connection, body) = get(&format!("{}/callback?code=AQstale&state=WRONG", base(&r))).await;
    assert_eq!(status, 400);
    assert_eq!(connection.as_deref(), Some("close"));
    assert!(body.contains("still waiting"), "{body}");
    assert!(!wait.is_finished(), "a wrong state must not end the wait");

    // The page of the code is held until the command says the exchange succeeded.
    let page =
        tokio::spawn(get(format!("{}/callback?code=AQgood&state={STATE}&granted_scopes=x#_=_", base(&r))));
    assert_eq!(wait.join().unwrap(), Outcome::Code(AuthCode::new("AQgood")));
    answer.take().unwrap().connected();
    let (status, connection, body) = page.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(connection.as_deref(), Some("close"));
    assert!(body.contains("sq is connected") && body.contains("close this tab"), "{body}");
}

#[tokio::test]
async fn missing_state_is_rejected_and_waiting_goes_on() {
    let r = http_redirect();
    let listener = Listener::bind(&r, Some(State::from_string(STATE)), None).unwrap();
    let cancel = listener.cancel_handle();
    let wait = spawn_wait(listener, Duration::from_secs(10));
    let (status, _, body) = get(&format!("{}/callback?code=AQ", base(&r))).await;
    assert_eq!(status, 400);
    assert!(body.contains("no state"), "{body}");
    assert!(!wait.is_finished());
    cancel.cancel();
    assert_eq!(wait.join().unwrap(), Outcome::Cancelled);
}

#[tokio::test]
async fn access_denied_ends_with_a_declined_page() {
    let r = http_redirect();
    let listener = Listener::bind(&r, Some(State::from_string(STATE)), None).unwrap();
    let wait = spawn_wait(listener, Duration::from_secs(10));
    let (status, connection, body) = get(&format!(
        "{}/callback?error=access_denied&error_code=200&error_description=Permissions+error\
         &error_reason=user_denied&state={STATE}",
        base(&r)
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(connection.as_deref(), Some("close"));
    assert!(body.contains("You declined") && body.contains("run the command again"), "{body}");
    let outcome = wait.join().unwrap();
    assert_eq!(
        outcome,
        Outcome::Denied { reason: Some("user_denied".into()), description: Some("Permissions error".into()) }
    );
    let err: sq::error::Error = outcome.into_result().unwrap_err().into();
    assert_eq!(err.exit_code(), 4);
}

#[tokio::test]
async fn other_paths_and_methods_are_refused() {
    let r = http_redirect();
    let listener = Listener::bind(&r, Some(State::from_string(STATE)), None).unwrap();
    let cancel = listener.cancel_handle();
    let wait = spawn_wait(listener, Duration::from_secs(10));
    for path in ["/", "/favicon.ico", &format!("/other?code=AQ&state={STATE}")] {
        let (status, connection, _) = get(&format!("{}{path}", base(&r))).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(connection.as_deref(), Some("close"));
    }
    let resp = client().post(format!("{}/callback?code=AQ&state={STATE}", base(&r))).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert!(!wait.is_finished());
    cancel.cancel();
    assert_eq!(wait.join().unwrap(), Outcome::Cancelled);
}

#[test]
fn only_loopback_can_be_expressed() {
    for uri in
        ["http://0.0.0.0:8765/callback", "http://192.168.0.10:8765/callback", "http://[::]:8765/callback"]
    {
        assert!(matches!(RedirectUri::parse(uri), Err(AuthError::BadRedirectUri { .. })), "{uri}");
    }
    for uri in ["http://localhost:8765/c", "http://127.0.0.1:8765/c", "https://[::1]:8765/c"] {
        assert!(RedirectUri::parse(uri).unwrap().bind_addr().ip().is_loopback(), "{uri}");
    }
}

#[test]
fn gives_up_after_the_timeout() {
    let listener = Listener::bind(&http_redirect(), Some(State::from_string(STATE)), None).unwrap();
    let started = Instant::now();
    let outcome = listener.wait(Duration::from_millis(300));
    assert_eq!(outcome, Outcome::Timeout(Duration::from_millis(300)));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2), "{took:?}");
    let err: sq::error::Error = outcome.into_result().unwrap_err().into();
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn cancel_stops_the_wait_promptly() {
    let listener = Listener::bind(&http_redirect(), Some(State::from_string(STATE)), None).unwrap();
    let cancel = listener.cancel_handle();
    let wait = spawn_wait(listener, Duration::from_secs(60));
    thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    cancel.cancel();
    assert_eq!(wait.join().unwrap(), Outcome::Cancelled);
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    let err: sq::error::Error = AuthError::Cancelled.into();
    assert_eq!(err.exit_code(), 130);
}

#[test]
fn a_busy_port_is_a_precise_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let r = RedirectUri::parse(&format!("http://localhost:{port}/callback")).unwrap();
    let err = Listener::bind(&r, None, None).unwrap_err();
    assert!(matches!(err, AuthError::PortBusy { port: p, .. } if p == port), "{err}");
    let err: sq::error::Error = err.into();
    assert_eq!(err.code, "redirect_port_busy");
    assert!(err.message.contains(&port.to_string()), "{}", err.message);
    let hints = err.hints.join("\n");
    assert!(
        hints.contains(&format!("port {port}"))
            && hints.contains("--redirect-uri")
            && hints.contains("register")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_the_saved_self_signed_certificate() {
    let data = tempfile::tempdir().unwrap();
    let mut pem = None;
    for run in 0..2 {
        let tls = TlsIdentity::load_or_create(data.path()).unwrap();
        assert_eq!(tls.was_created(), run == 0, "created on the first run only");
        if let Some(previous) = &pem {
            assert_eq!(&tls.cert_pem(), previous, "reused on the second run");
        }
        pem = Some(tls.cert_pem());
        let r = RedirectUri::parse(&format!("https://localhost:{}/callback", free_port())).unwrap();
        let mut listener = Listener::bind(&r, Some(State::from_string(STATE)), Some(&tls)).unwrap();
        let answer = listener.defer_answer();
        let wait = spawn_wait(listener, Duration::from_secs(10));

        // The browser: trusts exactly sq's certificate, nothing else.
        let https = reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(tls.cert_pem().as_bytes()).unwrap())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let origin = format!("https://localhost:{}", r.port());
        let resp = https.get(format!("{origin}/callback?code=AQx&state=WRONG")).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 400);
        assert_eq!(resp.headers().get("connection").unwrap(), "close");
        // Plain HTTP on the HTTPS port is not served.
        assert!(client().get(format!("http://127.0.0.1:{}/callback", r.port())).send().await.is_err());
        let page = tokio::spawn(https.get(format!("{origin}/callback?code=AQtls&state={STATE}#_=_")).send());
        assert_eq!(wait.join().unwrap(), Outcome::Code(AuthCode::new("AQtls")));
        answer.take().unwrap().connected();
        let resp = page.await.unwrap().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.headers().get("connection").unwrap(), "close");
        assert!(resp.text().await.unwrap().contains("sq is connected"));
    }
}

#[test]
fn https_without_a_certificate_is_refused() {
    let r = RedirectUri::parse(&format!("https://localhost:{}/callback", free_port())).unwrap();
    assert!(matches!(Listener::bind(&r, None, None), Err(AuthError::Certificate { .. })));
}

/// A paste source that never has input and returns only when told to stop, recording that.
struct Silent(Arc<AtomicBool>);

impl LineSource for Silent {
    fn next_line(&mut self, stop: &AtomicBool) -> std::io::Result<Line> {
        while !stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(10));
        }
        self.0.store(true, Ordering::SeqCst);
        Ok(Line::Stopped)
    }
}

#[test]
fn race_a_paste_wins_over_the_listener() {
    let r = http_redirect();
    let listener = Listener::bind(&r, Some(State::from_string(STATE)), None).unwrap();
    let pasted = format!(
        "\nnot a url\n'http://localhost:{port}/callback?code=AQpasted&state={STATE}#_=_'\n",
        port = r.port()
    );
    let notes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let notes_in = notes.clone();
    let started = Instant::now();
    let outcome = race(
        listener,
        Duration::from_secs(30),
        Box::new(ReaderSource(std::io::Cursor::new(pasted))),
        &r,
        Some(State::from_string(STATE)),
        Box::new(move |n| notes_in.lock().unwrap().push(n.to_string())),
    );
    assert_eq!(outcome, Outcome::Code(AuthCode::new("AQpasted")));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(notes.lock().unwrap().len(), 1, "{:?}", notes.lock().unwrap());
    // The listener is gone: its port is free again.
    thread::sleep(Duration::from_millis(50));
    sq::auth::check_port_free(&r).unwrap();
}

#[tokio::test]
async fn race_the_listener_wins_over_the_paste_and_stops_the_reader() {
    let r = http_redirect();
    let listener = Listener::bind(&r, Some(State::from_string(STATE)), None).unwrap();
    let stopped = Arc::new(AtomicBool::new(false));
    let source = Silent(stopped.clone());
    let r2 = r.clone();
    let handle = thread::spawn(move || {
        race(
            listener,
            Duration::from_secs(30),
            Box::new(source),
            &r2,
            Some(State::from_string(STATE)),
            Box::new(|_| {}),
        )
    });
    let (status, _, _) = get(&format!("{}/callback?code=AQloop&state={STATE}", base(&r))).await;
    assert_eq!(status, 200);
    assert_eq!(handle.join().unwrap(), Outcome::Code(AuthCode::new("AQloop")));
    let deadline = Instant::now() + Duration::from_secs(1);
    while !stopped.load(Ordering::SeqCst) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(stopped.load(Ordering::SeqCst), "the paste reader was told to stop");
}

#[test]
fn race_end_of_input_leaves_the_listener_waiting() {
    let r = http_redirect();
    let listener = Listener::bind(&r, Some(State::from_string(STATE)), None).unwrap();
    let outcome = race(
        listener,
        Duration::from_millis(300),
        Box::new(ReaderSource(std::io::Cursor::new(""))),
        &r,
        Some(State::from_string(STATE)),
        Box::new(|_| {}),
    );
    assert_eq!(outcome, Outcome::Timeout(Duration::from_millis(300)));
}
