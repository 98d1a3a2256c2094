//! The credential store as a user meets it: tokens in the real keyring (checked with `secret-tool`), a
//! broken keyring diagnosed instead of hanging, profiles listed/removed, and secrets found only
//! where `sq token print` was asked.
#![allow(clippy::unwrap_used)]

use crate::common::{TestEnv, all_files, contains, shared_keyring};
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use std::sync::MutexGuard;

const USER: &str = "EAASandboxDefaultUser0000000000000000001";
const PAGE_777: &str = "EAASandboxDefaultPage777000000000000001";
const PAGE_888: &str = "EAASandboxDefaultPage888000000000000001";
const FB_APP: &str = "111111111111111";
const FB_SECRET: &str = "sandbox-facebook-secret";

fn sandbox() -> SandboxThread {
    SandboxThread::start(SandboxOptions::new(Scenario::builtin("default").unwrap())).unwrap()
}

fn env_for(sb: &SandboxThread) -> TestEnv {
    let mut env = TestEnv::new();
    env.set("SQ_META_API_BASE", &sb.base_url()).set("SQ_FACEBOOK_APP_ID", FB_APP);
    env
}

fn secret_tool_lookup(env: &TestEnv, account: &str) -> Option<String> {
    let mut cmd = std::process::Command::new("secret-tool");
    // All of sq's tokens are in one keyring item, the bundle (docs/ARCHITECTURE.md).
    cmd.args(["lookup", "service", "sq", "account", "bundle:v1"]);
    for (k, v) in &env.vars {
        if k == "DBUS_SESSION_BUS_ADDRESS" || k == "XDG_RUNTIME_DIR" {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().expect("secret-tool (Debian: libsecret-tools) must be installed");
    let bundle: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    bundle["entries"][account].as_str().map(str::to_string)
}

/// Runs only inside the D-Bus session with gnome-keyring that `scripts/test` starts; the guard
/// keeps the other real-keyring tests out of the shared keyring until it drops.
fn keyring_available() -> Option<MutexGuard<'static, ()>> {
    if std::env::var_os("SQ_TEST_KEYRING").is_none() {
        eprintln!(
            "skipped: set SQ_TEST_KEYRING=1 inside a D-Bus session with gnome-keyring (scripts/test does)"
        );
        return None;
    }
    Some(shared_keyring())
}

#[test]
fn import_puts_tokens_in_the_real_keyring_and_remove_takes_them_out() {
    let Some(_keyring) = keyring_available() else {
        return;
    };
    let sb = sandbox();
    let mut env = env_for(&sb);
    env.with_session_bus().set("SQ_FACEBOOK_APP_SECRET", FB_SECRET);
    let run = env.run_stdin(&["token", "import", "facebook"], USER);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(secret_tool_lookup(&env, "facebook:777").as_deref(), Some(PAGE_777));
    assert_eq!(secret_tool_lookup(&env, "facebook:888").as_deref(), Some(PAGE_888));
    assert!(secret_tool_lookup(&env, "facebook-user:100000000000001").is_some());

    let run = env.run(&["profiles", "remove", "facebook:888"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(secret_tool_lookup(&env, "facebook:888"), None, "the removed Page's token is gone");
    assert_eq!(secret_tool_lookup(&env, "facebook:777").as_deref(), Some(PAGE_777), "others stay");

    // Leave the shared test keyring clean.
    for p in ["facebook:777", "facebook:999", "instagram:17841400000000001"] {
        env.run(&["profiles", "remove", p]);
    }
    assert_eq!(secret_tool_lookup(&env, "facebook:777"), None);
}

#[test]
fn without_a_secret_service_the_keyring_error_is_clear_and_nothing_is_written_in_plaintext() {
    let sb = sandbox();
    let mut env = env_for(&sb);
    env.set("SQ_FACEBOOK_APP_SECRET", FB_SECRET)
        .set("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/sq-test-bus");
    let run = env.run_stdin(&["--json", "token", "import", "facebook"], USER);
    assert_eq!(run.code, 1, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["code"], "store_unavailable", "{run:?}");
    assert!(run.stderr.contains("D-Bus"), "names why: {run:?}");
    assert!(run.stderr.contains("SQ_CREDENTIAL_STORE=file"), "offers the choice: {run:?}");
    for (path, bytes) in all_files(env.dir.path()) {
        for secret in [USER, PAGE_777, FB_SECRET] {
            assert!(!contains(&bytes, secret), "{} holds a secret in plaintext", path.display());
        }
    }
    // diagnose reports the same thing as a finding instead of failing.
    let run = env.run(&["--json", "diagnose"]);
    let v = run.json();
    let codes: Vec<&str> =
        v["environment"]["findings"].as_array().unwrap().iter().filter_map(|f| f["code"].as_str()).collect();
    assert!(codes.contains(&"store_unavailable"), "{run:?}");
    assert_eq!(run.code, 4, "{run:?}");
}

#[test]
fn secrets_appear_only_where_token_print_was_asked() {
    let sb = sandbox();
    let mut env = env_for(&sb);
    env.with_file_store();
    // The app secret goes in through stdin, as a user would store it.
    let run = env.run_stdin(&["config", "set", "facebook.app_secret", "--stdin"], FB_SECRET);
    assert_eq!(run.code, 0, "{run:?}");
    let mut printed = Vec::new();
    for args in [
        &["-vv", "token", "import", "facebook"][..],
        &["-vv", "profiles"],
        &["-vv", "--json", "profiles"],
        &["-vv", "config", "list"],
        &["-vv", "--json", "config", "list"],
        &["-vv", "diagnose"],
        &["-vv", "--json", "diagnose"],
    ] {
        let run = env.run_stdin(args, USER);
        assert!(run.code == 0 || args.contains(&"diagnose"), "{args:?}: {run:?}");
        printed.push((args.join(" "), run));
    }
    for (what, run) in &printed {
        for secret in [USER, PAGE_777, PAGE_888, FB_SECRET] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "`sq {what}` printed a secret"
            );
        }
    }
    for dir in [env.data_dir(), env.config_dir()] {
        for (path, bytes) in all_files(&dir) {
            for secret in [USER, PAGE_777, PAGE_888, FB_SECRET] {
                assert!(!contains(&bytes, secret), "{} holds a secret in plaintext", path.display());
            }
        }
    }
    // The one way to see a whole token.
    let run = env.run(&["token", "print", "facebook:777"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.trim(), PAGE_777);
}

#[test]
fn profiles_list_shows_masked_tokens_and_remove_keeps_shared_ones() {
    let sb = sandbox();
    let mut env = env_for(&sb);
    env.with_file_store().set("SQ_FACEBOOK_APP_SECRET", FB_SECRET);
    assert_eq!(env.run_stdin(&["token", "import", "facebook"], USER).code, 0);
    let run = env.run(&["--json", "profiles"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    let profiles = v["profiles"].as_array().unwrap();
    let refs: Vec<&str> = profiles.iter().filter_map(|p| p["profile"].as_str()).collect();
    for want in ["facebook:777", "facebook:888", "facebook:999", "instagram:17841400000000001"] {
        assert!(refs.contains(&want), "{want} missing from {refs:?}");
    }
    let page = profiles.iter().find(|p| p["profile"] == "facebook:777").unwrap();
    assert_eq!(page["network"], "facebook");
    assert_eq!(page["kind"], "facebook");
    assert_eq!(page["token"]["masked"], "EAAS…0001");
    assert_eq!(page["token"]["source"], "file");
    let ig = profiles.iter().find(|p| p["profile"] == "instagram:17841400000000001").unwrap();
    assert_eq!(ig["via"], "page");

    let human = env.run(&["profiles"]);
    assert!(human.stdout.contains("facebook:777") && human.stdout.contains("EAAS…0001"), "{human:?}");

    // The Instagram account publishes with Page 777's token: removing the Page keeps it.
    let run = env.run(&["profiles", "remove", "facebook:777"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = env.run(&["token", "print", "instagram:17841400000000001"]);
    assert_eq!(run.stdout.trim(), PAGE_777, "{run:?}");
    let run = env.run(&["profiles", "remove", "nope"]);
    assert_eq!(run.code, 2, "{run:?}");
}
