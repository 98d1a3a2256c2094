//! sq in a real terminal: each test runs `sq` inside tmux (a pseudo-terminal with a screen
//! that tmux renders, 80 columns unless said), types keys as a person does, and reads the
//! screen, the cursor's visibility and the exit status back from tmux. The Page picker and the
//! paste-back are tested here.
//!
//! Needs tmux (`.ci/run` installs it); skipped, saying so, when it is missing.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::person::*;
use crate::common::sandbox::*;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: tmux is not installed (Debian: apt-get install tmux; .ci/run does)");
    }
    ok
}

/// One tmux server (its own socket) with one pane running `sq`.
struct Term {
    socket: String,
    _dir: tempfile::TempDir,
}

impl Term {
    fn start(env: &TestEnv, args: &[&str], cols: u16, rows: u16) -> Term {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("tmux.conf");
        // Keep the pane after sq exits (to read its last screen and exit status); pass Esc on
        // at once instead of waiting to see whether it starts a key sequence.
        std::fs::write(&conf, "set -g remain-on-exit on\nset -sg escape-time 0\nset -g status off\n")
            .unwrap();
        let socket = format!("sq-test-{}", dir.path().file_name().unwrap().to_string_lossy());
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &socket, "-f", conf.to_str().unwrap(), "new-session", "-d", "-s", "t"]).args([
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            "--",
            "env",
            "-i",
        ]);
        cmd.arg("TERM=tmux-256color");
        if let Ok(path) = std::env::var("PATH") {
            cmd.arg(format!("PATH={path}"));
        }
        for (k, v) in &env.vars {
            cmd.arg(format!("{k}={v}"));
        }
        // The shell stays after sq ends, so the terminal's state (the cursor) can still be read:
        // tmux reports a dead pane's cursor as hidden whatever the program left.
        cmd.args(["sh", "-c", "\"$0\" \"$@\"; echo \"[sq exited $?]\"; exec sleep 600"]);
        cmd.arg(env!("CARGO_BIN_EXE_sq")).args(args);
        let st = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        assert!(st.success(), "tmux new-session failed");
        Term { socket, _dir: dir }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket]).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen as tmux shows it (`joined`: lines that wrapped are joined back).
    fn screen(&self, joined: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "t"];
        if joined {
            args.push("-J");
        }
        self.tmux(&args)
    }

    fn wait_screen(&self, what: &str) -> String {
        wait_for(30, what, || {
            let s = self.screen(false);
            s.contains(what).then_some(s)
        })
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
        // A person types one key at a time; let sq redraw between them.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    fn cursor_visible(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "t", "#{cursor_flag}"]).trim() == "1"
    }

    /// The exit status once sq has ended.
    fn exit_status(&self) -> i32 {
        wait_for(60, "sq to exit", || {
            let screen = self.screen(true);
            let rest = screen.split("[sq exited ").nth(1)?;
            rest.split(']').next()?.trim().parse().ok()
        })
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).stderr(Stdio::null()).status();
    }
}

/// A `BROWSER` that writes the URL to a file, for the test to play the browser with.
fn recorder(dir: &std::path::Path) -> (String, PathBuf) {
    let script = dir.join("browser.sh");
    let url = dir.join("url");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\n", url.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script.display().to_string(), url)
}

/// The browser, played: Meta's consent (as a script sees it) and the redirect to sq.
fn consent_and_redirect(url: &str) {
    let r = http("GET", url, None);
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.header("location").unwrap().split('#').next().unwrap().to_string();
    assert_eq!(http("GET", &location, None).status, 200);
}

/// sq reauth facebook (no PROFILE: the picker) in tmux, up to the picker on screen.
fn to_the_picker(
    n: u32,
    cols: u16,
) -> Option<(Term, TestEnv, People, sq::sandbox::SandboxThread, tempfile::TempDir)> {
    if !have_tmux() {
        return None;
    }
    let ids = People::new(n);
    let sb = people_sandbox(&ids);
    let mut env = env_for(&sb);
    env.unset("SQ_NO_PROMPT");
    let dir = tempfile::tempdir().unwrap();
    let (browser, url_file) = recorder(dir.path());
    env.set("BROWSER", &browser);
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let term =
        Term::start(&env, &["reauth", "facebook", "--timeout", "60", "--redirect-uri", &redirect], cols, 30);
    let url = wait_for(30, "the BROWSER command", || std::fs::read_to_string(&url_file).ok());
    consent_and_redirect(&url);
    term.wait_screen("esc cancel");
    // The picker switches the terminal to raw mode right after drawing; a key typed before
    // that would be read by the line discipline instead.
    std::thread::sleep(Duration::from_millis(300));
    Some((term, env, ids, sb, dir))
}

fn stored_profiles(env: &TestEnv) -> Vec<String> {
    let v = env.run(&["--json", "profiles"]).json();
    v["profiles"].as_array().unwrap().iter().map(|p| p["profile"].as_str().unwrap().to_string()).collect()
}

#[test]
fn the_picker_as_a_person_uses_it() {
    let Some((term, mut env, ids, _sb, _dir)) = to_the_picker(21, 80) else { return };
    env.set("SQ_NO_PROMPT", "1");
    let screen = term.screen(false);
    assert!(screen.contains("space tick") && screen.contains("esc cancel"), "a key legend:\n{screen}");
    assert!(!term.cursor_visible(), "the picker hides the cursor while it runs");
    // Every row fits: the 120-character name is cut with an ellipsis instead of wrapping.
    let long_row = screen.lines().find(|l| l.contains(&ids.reference(1))).unwrap();
    assert!(long_row.ends_with('…') && long_row.chars().count() <= 80, "{long_row:?}\n{screen}");
    assert!(screen.contains(UNICODE_NAME), "{screen}");
    let archive = screen.lines().find(|l| l.contains("Acme Archive")).unwrap();
    assert!(archive.contains("[-]") && archive.contains("can't be selected"), "{archive:?}");

    // Down to Acme Archive: Space and `a` can't tick it.
    term.keys(&["Down", "Down", "Down", "Space"]);
    let screen = term.screen(false);
    let archive = screen.lines().find(|l| l.contains("Acme Archive")).unwrap();
    assert!(archive.starts_with("> [-]"), "{archive:?}\n{screen}");
    assert!(screen.contains("Acme Archive can't be selected"), "why, in words:\n{screen}");
    // Untick Acme Moderation, then Enter.
    term.keys(&["Down", "Space"]);
    assert!(term.screen(false).lines().any(|l| l.contains("Acme Moderation") && l.contains("[ ]")));
    term.keys(&["Enter"]);
    assert_eq!(term.exit_status(), 0, "{}", term.screen(false));
    let screen = term.screen(true);
    assert!(screen.contains("✔ Which profiles should sq (re)connect? 3 of 4 selected"), "{screen}");
    assert!(term.cursor_visible(), "the cursor is back");
    let mut stored = stored_profiles(&env);
    stored.sort();
    assert_eq!(stored, vec![ids.reference(0), ids.reference(1), ids.reference(2)]);
}

#[test]
fn ctrl_c_at_the_picker_cancels_and_restores_the_cursor() {
    let Some((term, mut env, _ids, _sb, _dir)) = to_the_picker(22, 80) else { return };
    env.set("SQ_NO_PROMPT", "1");
    term.keys(&["Space", "C-c"]);
    assert_eq!(term.exit_status(), 130, "{}", term.screen(false));
    assert!(term.cursor_visible(), "Ctrl-C must not leave the cursor hidden");
    assert!(!term.screen(false).contains("Acme Archive"), "the picker is cleared");
    assert!(stored_profiles(&env).is_empty(), "nothing is stored");
}

#[test]
fn esc_at_the_picker_cancels_too() {
    let Some((term, mut env, _ids, _sb, _dir)) = to_the_picker(23, 160) else { return };
    env.set("SQ_NO_PROMPT", "1");
    term.keys(&["Escape"]);
    assert_eq!(term.exit_status(), 130, "{}", term.screen(false));
    assert!(term.cursor_visible());
    assert!(stored_profiles(&env).is_empty());
}

#[test]
fn paste_back_typed_at_the_terminal() {
    if !have_tmux() {
        return;
    }
    let ids = People::new(24);
    let sb = people_sandbox(&ids);
    let mut env = env_for(&sb);
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());
    let term = Term::start(
        &env,
        &["reauth", "facebook", "--all", "--no-browser", "--timeout", "60", "--redirect-uri", &redirect],
        80,
        40,
    );
    let screen = wait_for(30, "the URL on screen", || {
        let s = term.screen(true);
        s.split_whitespace().find(|w| w.contains("/dialog/oauth")).map(|u| (s.clone(), u.to_string()))
    });
    assert!(screen.0.contains("Not opening a browser: --no-browser was given."), "{}", screen.0);
    let r = http("GET", &screen.1, None);
    let location = r.header("location").unwrap().to_string();
    // A wrong line first: sq says why and keeps waiting.
    term.type_text("this is not it");
    term.keys(&["Enter"]);
    term.wait_screen("paste the whole address");
    term.type_text(&location);
    term.keys(&["Enter"]);
    assert_eq!(term.exit_status(), 0, "{}", term.screen(true));
    let screen = term.screen(true);
    assert!(screen.contains("reconnected"), "{screen}");
    assert!(
        !screen.contains("code=AQ") || screen.matches("code=AQ").count() == 1,
        "the code is not echoed back"
    );
    env.set("SQ_NO_PROMPT", "1");
    assert_eq!(stored_profiles(&env).len(), 4, "{screen}");
}
