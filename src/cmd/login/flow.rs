//! The OAuth flow `sq reauth` runs for each network, as one function taking its options
//! (gh's `pkg/cmd/auth/shared`, docs/ARCHITECTURE.md): pre-flight (redirect URI, port,
//! certificate), the authorization URL, the browser, the wait for the loopback callback (raced
//! with a pasted redirect when the browser may be elsewhere), then the caller's code exchange,
//! and the browser tab told how that ended.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use crate::auth::{
    self, AuthorizeParams, BrowserOpener, Listener, Login as AuthLogin, Outcome, PkceVerifier, RedirectUri,
    State, StdinSource, SystemBrowser, TlsIdentity,
};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::model::Network;
use crate::secret::AuthCode;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

/// What one authorization needs; the command fills it from its flags and settings.
pub struct FlowOptions<'a> {
    pub login: AuthLogin,
    pub app_id: &'a str,
    pub scopes: &'a [String],
    /// `--redirect-uri`; `None`: the network's setting (`<network>.redirect_uri`, then
    /// `redirect_uri`, then the default).
    pub redirect_uri: Option<&'a str>,
    /// `--no-browser`: print the URL, open nothing.
    pub no_browser: bool,
    /// `--browser <CMD>`.
    pub browser: Option<&'a str>,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// Opens the URL in place of the system browser (a test's program playing the browser);
    /// `None`: decided as usual ($BROWSER, `browser`, the desktop's opener, or none).
    pub opener: Option<&'a dyn BrowserOpener>,
}

/// Runs the whole flow: authorize, wait, then `exchange` with the code that came back. The
/// waiting browser tab is told the exchange's outcome, so it says "connected" only when that
/// is true. Nothing is stored here: `exchange` and the caller decide that.
pub async fn authorize_and_exchange<T, F, Fut>(
    ctx: &Ctx,
    opts: &FlowOptions<'_>,
    exchange: F,
) -> Result<T, Error>
where
    F: FnOnce(Code) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let grant = authorize(ctx, opts).await?;
    ctx.printer.status("Got the authorization; exchanging it for a token...");
    let result = exchange(grant.code).await;
    tell_browser(grant.browser, result)
}

/// Cancels the listener when the command's future is dropped (Ctrl-C in `lib::run`), so the
/// blocking wait ends at once and the port is released; nothing has been stored at that point.
struct CancelOnDrop(auth::CancelHandle);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Stderr lines that must show even with `--quiet`: the URL is the one thing the user needs.
fn always(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The code that came back, with what is needed to exchange it.
pub struct Code {
    pub code: AuthCode,
    /// The redirect URI the dialog was opened with: the exchange must send the same one.
    pub redirect: RedirectUri,
    /// The PKCE verifier, when the login uses PKCE (Facebook Login).
    pub verifier: Option<PkceVerifier>,
}

/// [`Code`], and the browser tab that brought it over the loopback, waiting to hear how the
/// exchange ended (`None` for a pasted code).
struct Grant {
    code: Code,
    browser: Option<auth::BrowserAnswer>,
}

/// Tells the waiting browser tab how the exchange ended, so it says "connected" only when it
/// is true, and otherwise what went wrong in the terminal's words.
fn tell_browser<T>(browser: Option<auth::BrowserAnswer>, result: Result<T, Error>) -> Result<T, Error> {
    if let Some(b) = browser {
        match &result {
            Ok(_) => b.connected(),
            Err(e) => b.failed(&e.message, &e.hints),
        }
    }
    result
}

/// Pre-flight (redirect URI, port), the authorization URL, the browser, and the wait for the
/// loopback callback (raced with a pasted redirect when headless).
async fn authorize(ctx: &Ctx, opts: &FlowOptions<'_>) -> Result<Grant, Error> {
    let (login, app_id, scopes) = (opts.login, opts.app_id, opts.scopes);
    let network = login.network();
    let setting = ctx.settings.redirect_for(network);
    if opts.redirect_uri.is_none() {
        if let Some(why) = &setting.skipped_shared {
            ctx.printer.verbose(1, format!("note: {why}"));
        }
    }
    let raw = opts.redirect_uri.map_or_else(|| setting.value.clone(), str::to_string);
    let redirect = RedirectUri::parse(&raw)?;
    if crate::settings::https_only(network) && !redirect.is_https() {
        // §14: the Instagram and Threads dashboards only save https redirect URIs (localhost
        // included), so an http one never matches and Meta refuses it in the browser.
        let name = crate::settings::network_login_name(network);
        let from = match (opts.redirect_uri, setting.key) {
            (Some(_), _) => "--redirect-uri".to_string(),
            (None, Some(k)) => k.to_string(),
            (None, None) => "the default".to_string(),
        };
        return Err(Error::usage(format!(
            "{name} accepts only https redirect URIs, localhost included; {} (from {from}) is http",
            redirect.as_str()
        ))
        .hint(format!(
            "use https://localhost:{}{} (sq serves it with its own certificate) and register exactly that in the Meta dashboard (docs/reauth.md)",
            redirect.port(),
            redirect.path()
        ))
        .hint(format!("sq config set {} https://localhost:{}{}", crate::settings::redirect_key(network), redirect.port(), redirect.path())));
    }
    auth::check_port_free(&redirect)?;
    let tls = if redirect.is_https() {
        Some(TlsIdentity::load_or_create(&ctx.settings.paths.data_dir)?)
    } else {
        None
    };
    let state = State::generate()?;
    let verifier = if login.supports_pkce() { Some(PkceVerifier::generate()?) } else { None };
    let challenge = verifier.as_ref().map(PkceVerifier::challenge);
    let url = auth::authorize_url(
        &ctx.settings.endpoints,
        login,
        &AuthorizeParams {
            app_id,
            redirect: &redirect,
            scopes,
            state: &state,
            pkce: challenge.as_ref(),
            config_id: ctx.settings.facebook_config_id.as_deref(),
        },
    )?;
    let mut listener = Listener::bind(&redirect, Some(state.clone()), tls.as_ref())?;
    let guard = CancelOnDrop(listener.cancel_handle());
    let browser_page = listener.defer_answer();

    // sq can't see into the browser, so the warning comes on every https run until the user
    // says the browser trusts this certificate (`https.trusted_certificate`, its fingerprint)
    // or the system bundle holds it (docs/reauth.md).
    if let Some(t) = &tls {
        if t.acknowledged(ctx.settings.trusted_certificate.as_deref()) {
            ctx.printer.verbose(1, "the https certificate is marked trusted (https.trusted_certificate)");
        } else if t.in_system_bundle() {
            ctx.printer.verbose(1, "the https certificate is in the system's trust store");
        } else {
            ctx.printer.warn(t.untrusted_warning_text());
        }
    }
    if let Some(note) = auth::live_mode_note(&redirect) {
        ctx.printer.verbose(1, note);
    }
    ctx.printer.verbose(1, format!("asking for: {}", scopes.join(", ")));
    let decision = auth::browser_decision(
        opts.no_browser,
        opts.browser,
        ctx.settings.browser.as_deref(),
        ctx.settings.headless,
    );
    // A pasted redirect is accepted whenever the browser may be on another machine: nothing
    // launched, a headless machine (an explicit command there may forward the URL elsewhere),
    // or a launch that failed.
    let (mut paste, launch_error) = match opts.opener {
        // The caller's opener (a program playing the browser) takes the URL; nothing else does.
        Some(opener) => (false, opener.open(&url).err()),
        None => (
            ctx.settings.headless.is_some() || decision.explicit_command().is_none(),
            match decision.explicit_command() {
                Some(command) => SystemBrowser::new(command.map(str::to_string)).open(&url).err(),
                None => None,
            },
        ),
    };
    paste |= launch_error.is_some();
    always(&auth::open_url_text(&url, &redirect, &decision, paste));
    if let Some(e) = launch_error {
        ctx.printer.warn(format!("{e}; open the URL above by hand"));
    }
    ctx.printer.status(format!(
        "Waiting for the browser (up to {}; Ctrl-C cancels)...",
        humantime::format_duration(opts.timeout)
    ));
    let timeout = opts.timeout;
    let printer = ctx.printer.clone();
    let outcome = if paste {
        let redirect2 = redirect.clone();
        let notes = printer.clone();
        let listener = listener.with_notes(move |n| notes.verbose(1, n));
        tokio::task::spawn_blocking(move || {
            auth::race(
                listener,
                timeout,
                Box::new(StdinSource::new()),
                &redirect2,
                Some(state),
                Box::new(move |n| printer.warn(n.to_string())),
            )
        })
        .await
    } else {
        tokio::task::spawn_blocking(move || listener.wait_with(timeout, &mut |n| printer.verbose(1, n))).await
    }
    .unwrap_or(Outcome::Cancelled);
    drop(guard);
    let code = match outcome.into_result() {
        Ok(c) => c,
        Err(auth::AuthError::Timeout { after }) => {
            return Err(timeout_error(network, &redirect, after));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Grant { code: Code { code, redirect, verifier }, browser: browser_page.take() })
}

/// sq waited in vain: the most likely cause is Meta refusing the redirect URI in the browser
/// ("Invalid redirect_uri" / "URL blocked"), which sq, waiting on the loopback, never hears of (§14).
fn timeout_error(network: Network, redirect: &RedirectUri, after: Duration) -> Error {
    let err: Error = auth::AuthError::Timeout { after }.into();
    let (dashboard, field) = match network {
        Network::Facebook => ("Facebook Login (for Business) → Settings", "Valid OAuth Redirect URIs"),
        Network::Instagram => {
            ("Instagram → API setup with Instagram login → Business login settings", "OAuth redirect URIs")
        }
        Network::Threads => ("Use cases → Threads API → Settings", "Redirect Callback URLs"),
    };
    Error { hints: Vec::new(), ..err }
        .hint(format!(
            "Meta may have refused the redirect URI in the browser (\"Invalid redirect_uri\" or \"URL blocked\"); sq can't see that page. Register exactly {} in the Meta app dashboard: {dashboard} → {field} (docs/reauth.md)",
            redirect.as_str()
        ))
        .hint(
            "then run the command again (--timeout sets the wait); if the browser is on another machine, paste the address the browser ended on, or use an SSH tunnel",
        )
}

#[cfg(test)]
mod tests {
    //! The flow in process: a small program plays the browser (it reads the authorization URL
    //! it is handed and calls the loopback back as Meta's redirect would), the exchange is a
    //! closure. No sandbox and no terminal: what is tested is the flow's own contract.
    use super::*;
    use crate::env::Env;
    use crate::output::{ColorChoice, Printer};
    use crate::settings::{GlobalFlags, Settings};
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    /// Plays the browser: follows the authorization URL's `redirect_uri` with the `state` it
    /// carries and the query `answer` builds, and keeps the page sq's listener serves.
    struct ScriptedBrowser {
        answer: fn(&str) -> String,
        page: Arc<Mutex<Option<String>>>,
    }

    impl BrowserOpener for ScriptedBrowser {
        fn open(&self, url: &str) -> Result<(), auth::AuthError> {
            let parsed = reqwest::Url::parse(url).expect("the authorization URL parses");
            let q = |k: &str| parsed.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
            let redirect = reqwest::Url::parse(&q("redirect_uri").expect("redirect_uri")).expect("redirect");
            let state = q("state").expect("the dialog carries a state");
            let target = format!("{}?{}", redirect.path(), (self.answer)(&state));
            let port = redirect.port().expect("a loopback port");
            let page = self.page.clone();
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the listener is up");
                write!(s, "GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut text = String::new();
                let _ = s.read_to_string(&mut text);
                *page.lock().unwrap() = Some(text);
            });
            Ok(())
        }
    }

    fn ctx(dir: &std::path::Path) -> Ctx {
        let (config, data) = (dir.join("config"), dir.join("data"));
        let env = Env::from_pairs([
            ("SQ_CONFIG_DIR", config.to_str().unwrap()),
            ("SQ_DATA_DIR", data.to_str().unwrap()),
            ("SQ_NO_PROMPT", "1"),
        ]);
        let flags = GlobalFlags {
            json: false,
            quiet: true,
            verbose: 0,
            no_input: true,
            color: ColorChoice::Never,
            config: None,
        };
        let settings = Settings::resolve(&flags, &env).expect("settings");
        let printer = Printer::new(false, true, 0, ColorChoice::Never, false, false);
        Ctx::new(
            settings,
            env,
            printer,
            Box::new(crate::prompt::TerminalPrompter::new(true)),
            Arc::new(crate::ctx::SystemClock),
        )
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_flow_hands_the_code_to_the_exchange_and_tells_the_browser() {
        // (what the browser sends back, the exchange's outcome, what the caller gets, the tab)
        type Case = (fn(&str) -> String, bool, Result<&'static str, &'static str>, &'static str);
        let cases: [Case; 3] = [
            (
                |state| format!("code=THE-CODE&state={state}"),
                true,
                Ok("exchanged THE-CODE"),
                "sq is connected",
            ),
            (
                |state| format!("code=THE-CODE&state={state}"),
                false,
                Err("Meta refused the code"),
                "sq could not connect",
            ),
            (
                |state| format!("error=access_denied&error_reason=user_denied&state={state}"),
                true,
                Err("declined"),
                "",
            ),
        ];
        for (answer, exchange_ok, want, tab) in cases {
            let dir = tempfile::tempdir().unwrap();
            let ctx = ctx(dir.path());
            let page = Arc::new(Mutex::new(None));
            let browser = ScriptedBrowser { answer, page: page.clone() };
            let redirect = format!("http://localhost:{}/callback", free_port());
            let scopes = vec!["pages_show_list".to_string(), "pages_manage_posts".to_string()];
            let opts = FlowOptions {
                login: AuthLogin::Facebook,
                app_id: "111111111111111",
                scopes: &scopes,
                redirect_uri: Some(&redirect),
                no_browser: false,
                browser: None,
                timeout: Duration::from_secs(20),
                opener: Some(&browser),
            };
            let called = Mutex::new(false);
            let got = authorize_and_exchange(&ctx, &opts, |code| {
                let (called, redirect) = (&called, &redirect);
                async move {
                    *called.lock().unwrap() = true;
                    assert_eq!(
                        code.redirect.as_str(),
                        redirect,
                        "the exchange gets the dialog's redirect URI"
                    );
                    assert!(code.verifier.is_some(), "Facebook Login is run with PKCE");
                    if exchange_ok {
                        Ok(format!("exchanged {}", code.code.expose()))
                    } else {
                        Err(Error::failure("auth", "Meta refused the code"))
                    }
                }
            })
            .await;
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(g, w),
                (Err(w), Err(e)) => {
                    assert!(e.message.contains(w), "{w:?} in {:?}", e.message);
                    // A refusal in the browser never reaches the exchange.
                    assert_eq!(*called.lock().unwrap(), w != "declined");
                }
                _ => panic!("wanted {want:?}, got {:?}", got.as_ref().map_err(|e| &e.message)),
            }
            // The tab's page comes once the flow has told it how the exchange ended.
            let mut shown = None;
            for _ in 0..200 {
                shown = page.lock().unwrap().clone();
                if shown.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            let shown = shown.expect("the browser got an answer page");
            assert!(shown.contains(tab), "{tab:?} on the tab:\n{shown}");
        }
    }
}
