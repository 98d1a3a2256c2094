//! The command-line surface as a user meets it: global options, exit codes, errors.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::sandbox::{env_for, free_port, sandbox};
use crate::common::snapshot::Normalize;

#[test]
fn help_lists_env_vars_and_exit_codes() {
    let env = TestEnv::new();
    let run = env.run(&["--help"]);
    assert_eq!(run.code, 0, "{run:?}");
    for needle in ["SQ_META_API_BASE", "SQ_CREDENTIAL_STORE", "Exit codes:", "130"] {
        assert!(run.stdout.contains(needle), "--help lacks {needle}: {run:?}");
    }
}

#[test]
fn version_prints_the_version() {
    let run = TestEnv::new().run(&["--version"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.trim(), format!("sq {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    for args in [&["no-such-command"][..], &["--color", "sometimes", "completions", "bash"], &["completions"]]
    {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "usage errors go to stderr: {run:?}");
    }
}

#[test]
fn bad_meta_base_is_a_usage_error_with_a_hint_in_json_too() {
    let mut env = TestEnv::new();
    env.set("SQ_META_API_BASE", "ftp://example");
    let run = env.run(&["--json", "completions", "bash"]);
    assert_eq!(run.code, 2, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["exit_code"], 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("SQ_META_API_BASE"));
    assert!(run.stderr.contains("hint:"), "{run:?}");
}

#[test]
fn malformed_config_file_is_reported_with_its_path() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("config.toml"), "facebook = [").unwrap();
    let run = env.run(&["completions", "bash"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("config.toml"), "{run:?}");
}

#[test]
fn completions_for_every_shell() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = env.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains("sq"), "{shell}");
    }
}

/// `sq sandbox serve` as a user runs it: a process on a random loopback port that writes the
/// port file, answers like Meta, rejects unknown scenarios, and stops cleanly on SIGTERM.
#[test]
fn sandbox_serve_runs_as_a_process() {
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let port_file = env.dir.path().join("port");
    let child = env
        .command(&["sandbox", "serve", "--port-file", port_file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let port: u16 = loop {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            if let Ok(p) = text.trim().parse() {
                break p;
            }
        }
        assert!(std::time::Instant::now() < deadline, "sandbox did not write its port file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /graph.facebook.com/v27.0/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer EAASandboxDefaultUser0000000000000000001\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"id\":\"100000000000001\""), "{answer}");

    // SIGTERM is how a service manager stops it: a clean exit 0.
    let pid = child.id().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), format!("http://127.0.0.1:{port}"));
}

#[test]
fn sandbox_unknown_scenario_is_a_usage_error_listing_the_names() {
    let run = TestEnv::new().run(&["sandbox", "serve", "--scenario", "nope"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("default"), "{run:?}");
}

// --- JSON documents, frozen in snapshots ------------------------------------------------------

/// `sq config set/get/list/unset --json`: a value from the config file, a secret from the
/// credential store (masked), one from the environment that overrides the stored one.
#[test]
fn config_json_documents() {
    let mut env = TestEnv::new();
    env.with_file_store().set("SQ_THREADS_APP_ID", "333333333333333");
    let n = Normalize::new(&env);
    let run = env.run(&["--json", "config", "set", "facebook.app_id", "111111111111111"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_json_snapshot!("config_set", n.json(&run));
    let run = env
        .run_stdin(&["--json", "config", "set", "facebook.app_secret", "--stdin"], "sandbox-facebook-secret");
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_json_snapshot!("config_set_secret", n.json(&run));
    let run =
        env.run_stdin(&["--json", "config", "set", "threads.app_secret", "--stdin"], "stored-threads-secret");
    assert_eq!(run.code, 0, "{run:?}");
    env.set("SQ_THREADS_APP_SECRET", "sandbox-threads-secret");

    for (key, name) in [
        ("facebook.app_id", "config_get"),
        ("facebook.app_secret", "config_get_secret"),
        ("threads.app_secret", "config_get_overridden"),
    ] {
        let run = env.run(&["--json", "config", "get", key]);
        assert_eq!(run.code, 0, "{key}: {run:?}");
        insta::assert_json_snapshot!(name, n.json(&run));
    }
    let run = env.run(&["--json", "config", "list"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_json_snapshot!("config_list", n.json(&run));
    let run = env.run(&["--json", "config", "unset", "facebook.app_id"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_json_snapshot!("config_unset", n.json(&run));
    for secret in ["sandbox-facebook-secret", "stored-threads-secret", "sandbox-threads-secret"] {
        assert!(!env.run(&["--json", "config", "list"]).stdout.contains(secret), "{secret} shown whole");
    }
}

/// The `{"error": …}` document of a failing command, one of each kind: usage (2), failure
/// (1), unreachable (3), action required (4).
#[test]
fn error_json_documents() {
    let sb = sandbox("findings");
    let closed = free_port();
    let mut env = env_for(&sb);
    let n = Normalize::new(&env)
        .replace(&sb.base_url(), "[sandbox]")
        .replace(&format!("127.0.0.1:{closed}"), "127.0.0.1:[closed port]")
        // The OS's number for ECONNREFUSED (111 on Linux, 61 on macOS).
        .replace("Connection refused (os error 111)", "Connection refused (os error ECONNREFUSED)")
        .replace("Connection refused (os error 61)", "Connection refused (os error ECONNREFUSED)");

    let run = env.run(&["--json", "config", "get", "no.such.key"]);
    assert_eq!(run.code, 2, "{run:?}");
    insta::assert_json_snapshot!("error_usage", n.json(&run));

    let run = env
        .run_stdin(&["--json", "token", "import", "facebook"], "EAASandboxFindings460User00000000000001\n");
    assert_eq!(run.code, 4, "{run:?}");
    insta::assert_json_snapshot!("error_action_required", n.json(&run));

    env.set("SQ_CREDENTIAL_STORE", "keyring")
        .set("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/sq-test-bus");
    let run = env
        .run_stdin(&["--json", "token", "import", "facebook"], "EAASandboxFindings400User00000000000001\n");
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_json_snapshot!("error_failure", n.json(&run));

    env.with_file_store().set("SQ_META_API_BASE", &format!("http://127.0.0.1:{closed}"));
    let run = env
        .run_stdin(&["--json", "token", "import", "facebook"], "EAASandboxFindings400User00000000000001\n");
    assert_eq!(run.code, 3, "{run:?}");
    insta::assert_json_snapshot!("error_unreachable", n.json(&run));
}

/// `sq --json config get` of a key that isn't set prints one JSON document, the error (spec
/// §2), not the empty entry followed by the error; the config file is left as it was.
#[test]
fn json_config_get_of_an_unset_key_is_one_error_document() {
    let env = TestEnv::new();
    let before = crate::common::all_files(env.dir.path());
    let r = env.run(&["--json", "config", "get", "facebook.app_id"]);
    assert_eq!(r.code, 1, "{r:?}");
    let mut docs = serde_json::Deserializer::from_str(&r.stdout).into_iter::<serde_json::Value>();
    let first = docs.next().expect("a JSON document").unwrap();
    assert!(docs.next().is_none(), "more than one JSON document: {}", r.stdout);
    assert_eq!(first["error"]["code"], "not_set", "{first}");
    assert!(first.get("key").is_none(), "{first}");
    assert_eq!(crate::common::all_files(env.dir.path()), before, "nothing may change");
}
