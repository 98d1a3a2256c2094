//! `sq demo` as a user runs it: the real binary, in a clean environment with no keyring (the
//! session bus points at a socket that doesn't exist), and a shell environment that would
//! point sq at the keyring and at a real Meta if it leaked into the demo's commands.
#![allow(clippy::unwrap_used)]

use crate::common::{Run, TestEnv};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The environment of someone with sq set up for real: none of it may reach the demo's steps.
fn hostile_env() -> TestEnv {
    let mut env = TestEnv::new();
    let nowhere = env.dir.path().join("no-such-bus");
    env.set("DBUS_SESSION_BUS_ADDRESS", &format!("unix:path={}", nowhere.display()))
        .set("SQ_CREDENTIAL_STORE", "keyring")
        .set("SQ_META_API_BASE", "http://127.0.0.1:9")
        .set("SQ_FACEBOOK_APP_ID", "999999999999999")
        .set("SQ_FACEBOOK_APP_SECRET", "not-the-sandbox-secret")
        .set("SQ_GRAPH_VERSION", "v1.0")
        .unset("SQ_NO_PROMPT");
    env
}

fn temp_dir_of(r: &Run) -> PathBuf {
    let line = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("sq demo: working in "))
        .unwrap_or_else(|| panic!("no temp dir on stderr: {r:?}"));
    PathBuf::from(line.split(" (").next().unwrap())
}

#[test]
fn the_story_runs_for_real_and_ends_clean() {
    let env = hostile_env();
    let started = Instant::now();
    let r = env.run(&["demo"]);
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(took < Duration::from_secs(45), "the demo took {took:?}");
    let out = &r.stdout;

    // It says where it runs and that no keyring is involved.
    assert!(out.contains("no OS keyring"), "{r:?}");
    // Set-up: the imports and the queue.
    assert!(
        out.contains("Imported") && out.contains("facebook:777") && out.contains("@acme.studio"),
        "{r:?}"
    );
    assert!(out.contains("#5     queued"), "{r:?}");

    // The first publish: Threads goes out, the rest fail as auth.
    let first_publish = section(out, "==> 4/9", "==> 5/9");
    assert!(first_publish.contains("published  threads:7000000000000001"), "{first_publish}");
    assert_eq!(first_publish.matches("failed ").count(), 4, "{first_publish}");
    assert!(first_publish.contains("(#190/460)") && first_publish.contains("(#190/463)"), "{first_publish}");

    // Diagnose: each broken profile with its own cause and fix.
    let diagnose = section(out, "==> 5/9", "==> 6/9");
    for want in [
        "[token_password_changed]",
        "password changed",
        "[granular_not_selected]",
        "wasn't selected",
        "[instagram_page_broken]",
        "[token_expired]",
        "its token expired",
        "sq reauth facebook facebook:777",
        "4 broken",
    ] {
        assert!(diagnose.contains(want), "{want}:\n{diagnose}");
    }

    // The reconnects, with the demo playing the browser.
    let reauth = section(out, "==> 6/9", "==> 8/9");
    assert!(reauth.contains("consent granted on the sandbox"), "{reauth}");
    for want in [
        "reconnected  facebook:777",
        "reconnected  facebook:888",
        "reconnected  instagram:17841400000000001",
        "reconnected  instagram:17841400000000002",
    ] {
        assert!(reauth.contains(want), "{want}:\n{reauth}");
    }
    assert!(r.stderr.contains("/dialog/oauth") && r.stderr.contains("/oauth/authorize"), "{r:?}");

    // Requeue and publish.
    let fix = section(out, "==> 8/9", "==> 9/9");
    assert_eq!(fix.matches("requeued #").count(), 4, "{fix}");
    assert_eq!(fix.matches(" published  ").count(), 4, "{fix}");
    assert!(r.stderr.contains("requeued 4 post(s), held 0"), "{r:?}");
    assert!(r.stderr.contains("publish: 4 published, 0 to retry, 0 failed, 0 unknown"), "{r:?}");

    // The clean end.
    let last = section(out, "==> 9/9", "\u{0}");
    assert!(last.contains("6 profiles: 6 ok, 0 warning, 0 broken, 0 unknown"), "{last}");
    assert!(last.contains("each of the 5 posts exactly once"), "{last}");

    // Nothing left behind, nothing written to the user's directories.
    let tmp = temp_dir_of(&r);
    assert!(!tmp.exists(), "{} is still there", tmp.display());
    assert!(!env.config_dir().exists() && !env.data_dir().exists(), "the user's directories were touched");
    // No secret of the story's world is printed.
    for secret in ["EAASandboxStoryUser00000000000000000001", "sandbox-facebook-secret"] {
        assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret), "{secret} leaked");
    }
}

#[test]
fn json_summary_on_stdout_and_the_story_on_stderr() {
    let env = hostile_env();
    let r = env.run(&["demo", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["result"], "clean");
    assert_eq!(v["posts"], 5);
    assert_eq!(v["published"], 5);
    let steps = v["steps"].as_array().unwrap();
    let codes: Vec<(String, i64)> = steps
        .iter()
        .map(|s| (s["command"].as_str().unwrap().to_string(), s["exit_code"].as_i64().unwrap()))
        .collect();
    assert!(codes.contains(&("sq diagnose".to_string(), 4)), "{codes:?}");
    assert!(codes.contains(&("sq requeue --failed".to_string(), 0)), "{codes:?}");
    assert_eq!(codes.last().unwrap(), &("sq diagnose".to_string(), 0), "{codes:?}");
    assert!(r.stderr.contains("[token_password_changed]"), "{r:?}");
    assert!(!temp_dir_of(&r).exists());
}

#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_temp_dir_and_exits_130() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let env = hostile_env();
    let mut child = env.command(&["demo"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let tmp =
        PathBuf::from(first.trim().strip_prefix("sq demo: working in ").unwrap().split(" (").next().unwrap());
    assert!(tmp.exists());
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut err, &mut rest);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    assert!(!tmp.exists(), "{} is still there", tmp.display());
}

#[test]
fn help_has_examples() {
    let r = TestEnv::new().run(&["demo", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Examples:") && r.stdout.contains("keyring"), "{r:?}");
}

/// The text between two markers (`end` may be absent: then to the end).
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?} in:\n{text}"));
    let rest = &text[from..];
    match rest[start.len()..].find(end) {
        Some(i) => &rest[..start.len() + i],
        None => rest,
    }
}
