//! Opening the authorization URL (spec §5.4), behind a trait so tests and `sq demo` swap it.
//!
//! Order ([`browser_decision`]): nothing at all with `--no-browser`; else the `--browser`
//! command; else `$BROWSER`; else, unless settings say headless (an SSH session or no display),
//! the system opener (`xdg-open`, `open`, `cmd /c start`). An explicit command is used even
//! over SSH or without a display: that is where people set one (a forwarding helper such as the
//! one VS Code Remote puts in `BROWSER`, a script that sends the URL to their laptop, a test
//! harness). The decision is said in one line on stderr ([`BrowserDecision::line`]), and the URL
//! is always printed too ([`open_url_text`]), so a failed or silent launch never leaves the user
//! without it. Commands run directly, never through a shell.
//!
//! For the README, the headless recipe:
//!
//! ```text
//! # On the machine with the browser, forward the redirect port to the server running sq:
//! ssh -L 8765:localhost:8765 user@server
//! # In that SSH session:
//! sq reauth facebook --no-browser
//! # Open the printed URL in the local browser; Meta redirects to http://localhost:8765/callback,
//! # which the tunnel carries to sq. Without a tunnel, copy the address the browser ends on
//! # (the page itself won't load) and paste it into the terminal where sq waits.
//! ```
//!
//! The port must be the redirect URI's port (8765 for the default `http://localhost:8765/callback`).
//!
//! Citations: spec §n of docs/reference/spec.md.

use super::AuthError;
use super::redirect::RedirectUri;
use std::process::{Command, Stdio};

/// Why sq thinks no browser can be opened on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headless {
    /// `SSH_CONNECTION` or `SSH_TTY` is set: a browser started here would open on the server.
    Ssh,
    /// Neither `DISPLAY` nor `WAYLAND_DISPLAY` is set (Linux and other Unix).
    NoDisplay,
}

impl Headless {
    pub fn describe(self) -> &'static str {
        match self {
            Headless::Ssh => "this is an SSH session",
            Headless::NoDisplay => "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)",
        }
    }
}

/// Opens a URL in a browser. Implementations must not print the URL (the caller does).
pub trait BrowserOpener: Send + Sync {
    fn open(&self, url: &str) -> Result<(), AuthError>;
}

/// Where the command that opens the URL comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserSource {
    /// `--browser <CMD>`.
    Flag,
    /// `$BROWSER`.
    Env,
    /// `xdg-open`, `open` or `cmd /c start`.
    System,
}

/// What the caller should do about a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserDecision {
    /// Run `command` (words as [`SystemBrowser::command_for`] gives them, without the URL) and
    /// still print the URL.
    Launch { source: BrowserSource, command: String },
    /// Print the URL only, and accept the loopback callback or a pasted redirect. The string
    /// says why.
    PrintOnly { why: String },
}

/// `--no-browser` wins; then an explicit command (`--browser`, then `$BROWSER`), used even
/// when headless; then the system opener unless headless. `flag` and `env` are the raw values;
/// one that is only blanks or colons counts as unset.
pub fn browser_decision(
    no_browser: bool,
    flag: Option<&str>,
    env: Option<&str>,
    headless: Option<Headless>,
) -> BrowserDecision {
    if no_browser {
        return BrowserDecision::PrintOnly { why: "--no-browser was given".into() };
    }
    let explicit = [(BrowserSource::Flag, flag), (BrowserSource::Env, env)]
        .into_iter()
        .find_map(|(source, v)| v.and_then(browser_env_command).map(|words| (source, words.join(" "))));
    if let Some((source, command)) = explicit {
        return BrowserDecision::Launch { source, command };
    }
    match headless {
        Some(h) => BrowserDecision::PrintOnly {
            why: format!("{} and BROWSER is not set, so no system browser is started", h.describe()),
        },
        None => BrowserDecision::Launch {
            source: BrowserSource::System,
            command: platform_command("").into_iter().filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "),
        },
    }
}

impl BrowserDecision {
    /// The one line on stderr that says what sq decided and why.
    pub fn line(&self) -> String {
        match self {
            BrowserDecision::Launch { source: BrowserSource::Flag, command } => {
                format!("Opening the authorization page with --browser ({command}).")
            }
            BrowserDecision::Launch { source: BrowserSource::Env, command } => {
                format!("Opening the authorization page with $BROWSER ({command}).")
            }
            BrowserDecision::Launch { source: BrowserSource::System, command } => {
                format!("Opening the authorization page in your browser ({command}).")
            }
            BrowserDecision::PrintOnly { why } => format!("Not opening a browser: {why}."),
        }
    }

    /// The command to run, if any: `None` for [`BrowserDecision::PrintOnly`]; the system
    /// opener is `Some(None)`.
    pub fn explicit_command(&self) -> Option<Option<&str>> {
        match self {
            BrowserDecision::Launch { source: BrowserSource::System, .. } => Some(None),
            BrowserDecision::Launch { command, .. } => Some(Some(command.as_str())),
            BrowserDecision::PrintOnly { .. } => None,
        }
    }
}

/// The lines to print to stderr before waiting: the decision, the URL, and, when the browser
/// may be on another machine (`paste`), how to bring the redirect back.
pub fn open_url_text(url: &str, redirect: &RedirectUri, decision: &BrowserDecision, paste: bool) -> String {
    let mut out = decision.line();
    match decision {
        BrowserDecision::Launch { .. } => {
            out.push_str(&format!(" If it doesn't open, visit:\n\n  {url}\n"));
        }
        BrowserDecision::PrintOnly { .. } => {
            out.push_str(&format!(" Open this address in a browser:\n\n  {url}\n"));
        }
    }
    if paste {
        out.push_str(&format!(
            "\nAfter you approve, the browser goes to {redirect_uri}. If that page can't load (the \
             browser runs on another machine), copy the whole address from the address bar and \
             paste it here, then press Enter.\n\n{tunnel}",
            redirect_uri = redirect.as_str(),
            tunnel = ssh_tunnel_recipe(redirect),
        ));
    }
    out
}

/// One line on forwarding the redirect port over SSH, for the redirect in use.
pub fn ssh_tunnel_recipe(redirect: &RedirectUri) -> String {
    let port = redirect.port();
    format!(
        "Or forward the port from the machine with the browser: ssh -L {port}:localhost:{port} <this host>, \
         and the browser's redirect reaches sq directly."
    )
}

/// `$BROWSER` (from settings) or the platform's opener.
#[derive(Debug, Clone, Default)]
pub struct SystemBrowser {
    /// The value of `$BROWSER`, if set.
    pub browser_env: Option<String>,
}

impl SystemBrowser {
    pub fn new(browser_env: Option<String>) -> SystemBrowser {
        SystemBrowser { browser_env }
    }

    /// The command line that would be run: program and arguments.
    pub fn command_for(&self, url: &str) -> Vec<String> {
        if let Some(cmd) = self.browser_env.as_deref().and_then(browser_env_command) {
            return with_url(cmd, url);
        }
        platform_command(url)
    }
}

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), AuthError> {
        let argv = self.command_for(url);
        let Some((program, args)) = argv.split_first() else {
            return Err(AuthError::Browser { command: String::new(), problem: "no command".into() });
        };
        // Don't let the browser scribble on sq's terminal or wait for its input; don't wait for
        // it to exit either (a browser started fresh runs until the user closes it).
        let mut command = Command::new(program);
        withhold_secrets(&mut command);
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| AuthError::Browser { command: program.clone(), problem: e.to_string() })?;
        // Reap it in the background so it doesn't linger as a zombie.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Ok(())
    }
}

/// The browser runs for a long time, with extensions, crash reporters and helpers of its own;
/// none of them has any use for the credential file's passphrase or an app secret sq was given
/// in its environment, so those (and any other `SQ_*` variable sq doesn't know) are removed.
fn withhold_secrets(command: &mut Command) {
    for name in crate::env::names_withheld_from_children() {
        command.env_remove(name);
    }
}

/// `$BROWSER` may be a list separated by `:` (the convention of xdg-utils and Python's
/// `webbrowser`); sq takes the first entry. Words are split on whitespace (no shell).
fn browser_env_command(value: &str) -> Option<Vec<String>> {
    let first = value.split(':').map(str::trim).find(|s| !s.is_empty())?;
    let words: Vec<String> = first.split_whitespace().map(str::to_string).collect();
    (!words.is_empty()).then_some(words)
}

/// `%s` in any word is replaced by the URL (and `%%` by `%`); without `%s` the URL is appended.
fn with_url(words: Vec<String>, url: &str) -> Vec<String> {
    let mut replaced = false;
    let mut out: Vec<String> = words
        .into_iter()
        .map(|w| {
            if w.contains("%s") {
                replaced = true;
            }
            w.replace("%%", "\u{0}").replace("%s", url).replace('\u{0}', "%")
        })
        .collect();
    if !replaced {
        out.push(url.to_string());
    }
    out
}

#[cfg(target_os = "macos")]
fn platform_command(url: &str) -> Vec<String> {
    vec!["open".into(), url.into()]
}

#[cfg(windows)]
fn platform_command(url: &str) -> Vec<String> {
    // `start` is a cmd built-in; cmd treats & | < > ^ as operators even inside an argument, so
    // they are escaped with ^. The empty "" is start's window title, else a quoted URL would be
    // taken as the title.
    vec!["cmd".into(), "/c".into(), "start".into(), "\"\"".into(), windows_cmd_escape(url)]
}

#[cfg(not(any(target_os = "macos", windows)))]
fn platform_command(url: &str) -> Vec<String> {
    vec!["xdg-open".into(), url.into()]
}

/// Escapes cmd.exe metacharacters with `^` (used for `cmd /c start`).
pub fn windows_cmd_escape(url: &str) -> String {
    let mut out = String::with_capacity(url.len() + 8);
    for c in url.chars() {
        if matches!(c, '&' | '|' | '<' | '>' | '^' | '(' | ')' | '%' | '!' | '"') {
            out.push('^');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table() {
        use BrowserSource::*;
        let (ssh, nodisp) = (Some(Headless::Ssh), Some(Headless::NoDisplay));
        // (no_browser, --browser, $BROWSER, headless) -> launched source, or None for print-only
        type Case<'a> = (bool, Option<&'a str>, Option<&'a str>, Option<Headless>, Option<BrowserSource>);
        let cases: Vec<Case> = vec![
            (false, None, None, None, Some(System)),
            (true, None, None, None, None),
            (true, Some("chromium"), Some("firefox"), None, None),
            (false, None, None, ssh, None),
            (false, None, None, nodisp, None),
            // An explicit $BROWSER is the user's choice, also over SSH and without a display.
            (false, None, Some("code --open-url"), ssh, Some(Env)),
            (false, None, Some("helper"), nodisp, Some(Env)),
            (false, None, Some("firefox"), None, Some(Env)),
            // --browser beats $BROWSER.
            (false, Some("chromium"), Some("firefox"), ssh, Some(Flag)),
            // Only blanks or colons: unset.
            (false, None, Some("  : "), ssh, None),
            (false, Some(" "), None, None, Some(System)),
        ];
        for (no_browser, flag, env, headless, want) in cases {
            let d = browser_decision(no_browser, flag, env, headless);
            let got = match &d {
                BrowserDecision::Launch { source, .. } => Some(source.clone()),
                BrowserDecision::PrintOnly { .. } => None,
            };
            assert_eq!(got, want, "{no_browser} {flag:?} {env:?} {headless:?}: {d:?}");
            assert!(!d.line().contains('\n'), "one line: {}", d.line());
        }
        let d = browser_decision(false, None, Some("code --open-url"), ssh);
        assert_eq!(d.line(), "Opening the authorization page with $BROWSER (code --open-url).");
        let d = browser_decision(false, None, None, ssh);
        assert_eq!(
            d.line(),
            "Not opening a browser: this is an SSH session and BROWSER is not set, so no system browser is started."
        );
        assert!(browser_decision(true, None, None, None).line().contains("--no-browser"));
    }

    #[test]
    fn browser_env_table() {
        let url = "https://www.facebook.com/v27.0/dialog/oauth?a=1&b=2";
        let app = format!("--app={url}");
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("firefox", vec!["firefox", url]),
            ("  firefox --new-window ", vec!["firefox", "--new-window", url]),
            ("chromium --app=%s", vec!["chromium", &app]),
            ("echo 100%% %s", vec!["echo", "100%", url]),
            ("w3m:firefox", vec!["w3m", url]),
            (":firefox", vec!["firefox", url]),
        ];
        for (env, want) in cases {
            let got = SystemBrowser::new(Some(env.to_string())).command_for(url);
            assert_eq!(got, want, "{env}");
        }
        // Empty $BROWSER falls back to the platform opener.
        let fallback = SystemBrowser::new(Some("  ".into())).command_for(url);
        assert_eq!(fallback.last().map(String::as_str).map(|s| s.contains("dialog")), Some(true));
    }

    #[test]
    fn cmd_escaping() {
        assert_eq!(windows_cmd_escape("https://x/?a=1&b=%20"), "https://x/?a=1^&b=^%20");
    }

    #[test]
    fn texts() {
        let r = RedirectUri::parse("http://localhost:8765/callback").unwrap();
        let t = open_url_text("https://u", &r, &browser_decision(true, None, None, None), true);
        assert!(
            t.contains("https://u") && t.contains("paste") && t.contains("ssh -L 8765:localhost:8765"),
            "{t}"
        );
        let launch = browser_decision(false, None, None, None);
        let t = open_url_text("https://u", &r, &launch, false);
        assert!(t.contains("https://u") && !t.contains("paste"), "{t}");
    }

    #[test]
    fn a_real_command_is_run_without_a_shell() {
        // `true` ignores its arguments; a URL full of shell metacharacters must not matter.
        #[cfg(unix)]
        SystemBrowser::new(Some("true".into())).open("https://x/?a=1&b=$(touch /tmp/sq-pwned)").unwrap();
        let err = SystemBrowser::new(Some("/nonexistent/sq-browser".into())).open("https://x").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/sq-browser"), "{err}");
    }
}
