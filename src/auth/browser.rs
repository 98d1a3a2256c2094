//! Opening the authorization URL (spec §5.4), behind a trait so tests and `sq demo` swap it.
//!
//! Order: nothing at all with `--no-browser` or when settings say headless (an SSH session or no
//! display); else `$BROWSER`; else the system opener (`xdg-open`, `open`, `cmd /c start`). The
//! URL is always printed to stderr by the caller ([`open_url_text`]), so a failed or silent
//! launch never leaves the user without it. Commands run directly, never through a shell.
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

use super::AuthError;
use super::redirect::RedirectUri;
use std::process::{Command, Stdio};

/// Opens a URL in a browser. Implementations must not print the URL (the caller does).
pub trait BrowserOpener: Send + Sync {
    fn open(&self, url: &str) -> Result<(), AuthError>;
}

/// What the caller should do about a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserDecision {
    /// Launch one (and still print the URL).
    Launch,
    /// Print the URL only, and accept the loopback callback or a pasted redirect. The string
    /// says why, for a short note on stderr.
    PrintOnly { why: &'static str },
}

/// `--no-browser` wins; then `Settings.headless` (SSH session or no display). A `$BROWSER` set
/// over SSH is still not used: it would most likely start a text browser on the server, which
/// can't do Meta's login (the az/w3m problem).
pub fn browser_decision(no_browser: bool, headless: bool) -> BrowserDecision {
    if no_browser {
        BrowserDecision::PrintOnly { why: "--no-browser was given" }
    } else if headless {
        BrowserDecision::PrintOnly { why: "this looks like an SSH session or a machine without a display" }
    } else {
        BrowserDecision::Launch
    }
}

/// The lines to print to stderr before waiting.
pub fn open_url_text(url: &str, redirect: &RedirectUri, decision: &BrowserDecision) -> String {
    match decision {
        BrowserDecision::Launch => {
            format!("Opening the authorization page in your browser. If it doesn't open, visit:\n\n  {url}\n")
        }
        BrowserDecision::PrintOnly { why } => format!(
            "Not opening a browser ({why}). Open this address in a browser:\n\n  {url}\n\n\
             After you approve, the browser goes to {redirect_uri}. If that page can't load (the \
             browser runs on another machine), copy the whole address from the address bar and \
             paste it here, then press Enter.\n\n{tunnel}",
            redirect_uri = redirect.as_str(),
            tunnel = ssh_tunnel_recipe(redirect),
        ),
    }
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
        let cases = [(true, false, false), (false, true, false), (true, true, false), (false, false, true)];
        for (no_browser, headless, launch) in cases {
            let d = browser_decision(no_browser, headless);
            assert_eq!(d == BrowserDecision::Launch, launch, "{no_browser} {headless}");
        }
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
        let t = open_url_text("https://u", &r, &browser_decision(true, false));
        assert!(
            t.contains("https://u") && t.contains("paste") && t.contains("ssh -L 8765:localhost:8765"),
            "{t}"
        );
        assert!(open_url_text("https://u", &r, &BrowserDecision::Launch).contains("https://u"));
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
