//! `sq reauth` as a person meets it: profile references checked before the browser opens
//! (network mismatch, an id that isn't connected, a name that matches nothing, with
//! did-you-mean), and `$BROWSER` / `--browser` honoured over SSH and without a display, the
//! decision said in one line on stderr.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::person::*;
use crate::common::sandbox::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn connected(n: u32) -> (sq::sandbox::SandboxThread, TestEnv, People) {
    let ids = People::new(n);
    let sb = people_sandbox(&ids);
    let env = env_for(&sb);
    connect_all(&env);
    (sb, env, ids)
}

/// Refused before anything happens: exit 2, no authorization URL, no wait.
fn refused_at_once(env: &TestEnv, args: &[&str]) -> String {
    let started = Instant::now();
    let r = env.run(args);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!r.stderr.contains("/dialog/oauth") && !r.stderr.contains("/oauth/authorize"), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "not at once: {r:?}");
    r.stderr
}

#[test]
fn a_facebook_page_named_to_reauth_instagram_says_which_command() {
    let (_sb, env, ids) = connected(11);
    let err = refused_at_once(&env, &["reauth", "instagram", "Acme Bakery"]);
    assert!(err.contains("is a Facebook Page") && err.contains(&ids.reference(0)), "{err}");
    assert!(err.contains(&format!("sq reauth facebook {}", ids.reference(0))), "{err}");
    let err = refused_at_once(&env, &["reauth", "facebook", "threads:7000000000000001"]);
    assert!(
        err.contains("Threads profile") && err.contains("sq reauth threads threads:7000000000000001"),
        "{err}"
    );
    let err = refused_at_once(&env, &["reauth", "threads", &ids.reference(1)]);
    assert!(err.contains("Facebook Page") && err.contains("sq reauth facebook"), "{err}");
}

#[test]
fn a_typo_gets_did_you_mean() {
    let (_sb, env, ids) = connected(12);
    let err = refused_at_once(&env, &["reauth", "facebook", "acme bakry"]);
    assert!(err.contains("no profile matches \"acme bakry\""), "{err}");
    assert!(err.contains(&format!("did you mean {} (Acme Bakery)?", ids.reference(0))), "{err}");
    // An id one digit off a connected one.
    let typo = format!("facebook:{}9", &ids.pages[0][..ids.pages[0].len() - 1]);
    let err = refused_at_once(&env, &["reauth", "facebook", &typo]);
    assert!(err.contains(&format!("no connected profile is {typo}")), "{err}");
    assert!(err.contains("did you mean facebook:"), "{err}");
}

#[test]
fn a_profile_not_connected_yet_is_said_and_allowed() {
    let ids = People::new(13);
    let sb = people_sandbox(&ids);
    let env = env_for(&sb);
    let browser = Recorder::new();
    let mut env = env;
    env.set("BROWSER", browser.command());
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let reference = ids.reference(1);
    let flow = browser
        .run(&env, &["reauth", "facebook", &reference, "--timeout", "60", "--redirect-uri", &redirect]);
    assert!(flow.stderr().contains(&format!("{reference} is not connected yet")), "{}", flow.stderr());
    flow.browse();
    let r = flow.finish();
    assert_eq!(r.0, 0, "{}\n{}", r.1, r.2);
    assert!(r.1.contains(&reference), "{}", r.1);
}

// ---------------------------------------------------------------------------------------------
// $BROWSER

/// A `BROWSER` command that writes the URL it was given, and its environment, to files.
struct Recorder {
    dir: tempfile::TempDir,
}

struct Running {
    child: std::process::Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    url_file: PathBuf,
}

impl Recorder {
    fn new() -> Recorder {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nenv > '{env}'\nprintf '%s' \"$1\" > '{url}.tmp' && mv '{url}.tmp' '{url}'\n",
                env = dir.path().join("env").display(),
                url = dir.path().join("url").display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Recorder { dir }
    }

    fn command(&self) -> &str {
        // Leaked on purpose: a test-lifetime string for `env.set`.
        Box::leak(self.dir.path().join("browser.sh").display().to_string().into_boxed_str())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, env: &TestEnv, args: &[&str]) -> Running {
        let mut child = env
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let s2 = stderr.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                s2.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        wait_for(20, "sq to wait for the browser", || {
            stderr.lock().unwrap().contains("Waiting for").then_some(())
        });
        Running { child, stderr, url_file: self.path("url") }
    }
}

impl Running {
    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Plays the browser on the URL the `BROWSER` command received.
    fn browse(&self) {
        let url = wait_for(20, "the BROWSER command to run", || std::fs::read_to_string(&self.url_file).ok());
        let r = http("GET", &url, None);
        assert_eq!(r.status, 302, "{}", r.body);
        let location = r.header("location").unwrap().split('#').next().unwrap().to_string();
        assert_eq!(http("GET", &location, None).status, 200);
    }

    fn finish(mut self) -> (i32, String, String) {
        drop(self.child.stdin.take());
        let mut out = String::new();
        use std::io::Read;
        self.child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        (status.code().unwrap_or(-1), out, self.stderr())
    }
}

fn browser_run(n: u32, setup: impl FnOnce(&mut TestEnv, &Recorder), extra: &[&str]) -> (String, Recorder) {
    let ids = People::new(n);
    let sb = people_sandbox(&ids);
    let mut env = env_for(&sb);
    let rec = Recorder::new();
    setup(&mut env, &rec);
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let mut args = vec!["reauth", "facebook", "--all", "--timeout", "60", "--redirect-uri", &redirect];
    for e in extra {
        if *e == "--browser-from-recorder" {
            args.extend(["--browser", rec.command()]);
        } else {
            args.push(e);
        }
    }
    let running = rec.run(&env, &args);
    running.browse();
    let (code, _out, err) = running.finish();
    assert_eq!(code, 0, "{err}");
    (err, rec)
}

fn first_line_with<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("no line with {what:?}:\n{text}"))
}

#[test]
fn browser_is_used_over_ssh() {
    let (err, rec) = browser_run(
        14,
        |env, rec| {
            env.set("SSH_CONNECTION", "10.0.0.2 52000 10.0.0.1 22").set("DISPLAY", ":0");
            env.set("BROWSER", rec.command());
        },
        &[],
    );
    let line = first_line_with(&err, "Opening the authorization page");
    assert_eq!(
        line,
        format!(
            "Opening the authorization page with $BROWSER ({}). If it doesn't open, visit:",
            rec.command()
        )
    );
    // Over SSH the browser may be elsewhere: the paste-back is offered too.
    assert!(err.contains("paste it here"), "{err}");
    // The browser command gets none of sq's secrets.
    let child_env = std::fs::read_to_string(rec.path("env")).unwrap();
    assert!(!child_env.contains(FB_APP.1) && !child_env.contains("SQ_STORE_PASSPHRASE"), "{child_env}");
}

#[test]
fn browser_is_used_without_a_display() {
    let (err, rec) = browser_run(
        15,
        |env, rec| {
            env.unset("DISPLAY").unset("WAYLAND_DISPLAY").set("BROWSER", rec.command());
        },
        &[],
    );
    assert!(
        first_line_with(&err, "Opening").contains(&format!("with $BROWSER ({})", rec.command())),
        "{err}"
    );
}

#[test]
fn the_browser_flag_beats_browser_env() {
    let (err, rec) = browser_run(
        16,
        |env, _| {
            env.set("BROWSER", "/nonexistent/never-run").set("DISPLAY", ":0");
        },
        &["--browser-from-recorder"],
    );
    assert!(
        first_line_with(&err, "Opening").contains(&format!("with --browser ({})", rec.command())),
        "{err}"
    );
    assert!(!err.contains("never-run"), "{err}");
}

#[test]
fn no_browser_and_no_display_say_why_in_one_line() {
    let ids = People::new(17);
    let sb = people_sandbox(&ids);
    let mut env = env_for(&sb);
    env.unset("DISPLAY").unset("WAYLAND_DISPLAY").unset("BROWSER");
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let r = env.run(&["reauth", "facebook", "--all", "--timeout", "1", "--redirect-uri", &redirect]);
    let line = first_line_with(&r.stderr, "Not opening a browser");
    assert!(line.starts_with(
        "Not opening a browser: there is no display (DISPLAY and WAYLAND_DISPLAY are unset) and BROWSER is not set"
    ), "{line}");
    env.set("SSH_TTY", "/dev/pts/3");
    let r = env.run(&["reauth", "facebook", "--all", "--timeout", "1", "--redirect-uri", &redirect]);
    assert!(first_line_with(&r.stderr, "Not opening a browser").contains("this is an SSH session"), "{r:?}");
    env.set("BROWSER", "firefox");
    let r = env.run(&[
        "reauth",
        "facebook",
        "--all",
        "--no-browser",
        "--timeout",
        "1",
        "--redirect-uri",
        &redirect,
    ]);
    assert!(first_line_with(&r.stderr, "Not opening a browser").contains("--no-browser was given"), "{r:?}");
    let r = env.run(&["reauth", "facebook", "--all", "--no-browser", "--browser", "firefox"]);
    assert_eq!(r.code, 2, "--no-browser and --browser conflict: {r:?}");
}
