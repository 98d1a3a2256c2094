//! `sq diagnose` as a user runs it: the real binary against the sandbox.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::sandbox::{control, free_port};
use crate::common::snapshot::Normalize;
use serde_json::Value;
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};

fn sandbox(name: &str) -> SandboxThread {
    SandboxThread::start(SandboxOptions::new(Scenario::builtin(name).unwrap())).unwrap()
}

fn env_for(base: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.with_file_store()
        .set("SQ_META_API_BASE", base)
        .set("SQ_FACEBOOK_APP_ID", "111111111111111")
        .set("SQ_FACEBOOK_APP_SECRET", "sandbox-facebook-secret")
        .set("SQ_INSTAGRAM_APP_ID", "222222222222222")
        .set("SQ_INSTAGRAM_APP_SECRET", "sandbox-instagram-secret")
        .set("SQ_THREADS_APP_ID", "333333333333333")
        .set("SQ_THREADS_APP_SECRET", "sandbox-threads-secret");
    env
}

fn codes(v: &Value, profile: &str) -> Vec<String> {
    v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"] == profile)
        .unwrap_or_else(|| panic!("{profile} not in {v}"))["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pasted_tokens_name_the_cause_and_set_the_exit_code() {
    let sb = sandbox("findings");
    let env = env_for(&sb.base_url());
    // (token, a profile it reaches, the finding that must be there, exit code)
    let table = [
        ("EAASandboxFindings460Page00000000000001", "facebook:4600", "token_password_changed", 4),
        ("EAASandboxFindings458Page00000000000001", "facebook:4580", "token_app_removed", 4),
        ("EAASandboxFindings492Page00000000000001", "facebook:4920", "page_role_lost", 4),
        ("EAASandboxFindings400User00000000000001", "facebook:4002", "cannot_publish", 4),
        ("EAASandboxFindings400User00000000000001", "facebook:4001", "not_page_admin", 4),
        ("EAASandboxFindings300User00000000000001", "facebook:3003", "page_not_listed", 0),
        (
            "EAASandboxFindings700User00000000000001",
            "instagram:17841400000007000",
            "publishing_limit_near",
            0,
        ),
        ("THAASandboxFindingsRefreshWindow000001", "threads:7000000000000800", "refresh_window_open", 0),
    ];
    for (token, profile, code, exit) in table {
        let run = env.run_stdin(&["--json", "diagnose", "--token", "-"], token);
        let v = run.json();
        assert_eq!(v["schema_version"], 1);
        let got = codes(&v, profile);
        assert!(got.contains(&code.to_string()), "{token}: {profile} wants {code}, got {got:?}\n{run:?}");
        assert_eq!(run.code, exit, "{token}: {run:?}");
        // The pasted token is never echoed whole.
        assert!(!run.stdout.contains(token) && !run.stderr.contains(token), "{token} leaked");
        let p = v["profiles"].as_array().unwrap().iter().find(|p| p["profile"] == profile).unwrap();
        assert_eq!(p["token"]["source"], "stdin");
    }
    // Nothing was stored.
    let run = env.run(&["--json", "profiles"]);
    assert_eq!(run.json()["profiles"], serde_json::json!([]));
}

#[test]
fn human_report_has_one_line_per_profile_with_the_fix() {
    let sb = sandbox("findings");
    let env = env_for(&sb.base_url());
    let run = env.run_stdin(&["diagnose", "--token", "-"], "EAASandboxFindings460User00000000000001");
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stdout.contains("password"), "{run:?}");
    assert!(run.stdout.contains("run: sq reauth facebook"), "{run:?}");
    assert!(run.stdout.lines().last().unwrap().contains("broken"), "summary last: {run:?}");
}

#[test]
fn meta_unreachable_is_exit_3_and_never_invalid() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = env_for(&format!("http://127.0.0.1:{port}"));
    let run =
        env.run_stdin(&["--json", "diagnose", "--token", "-"], "EAASandboxDefaultPage777000000000000001");
    assert_eq!(run.code, 3, "{run:?}");
    let v = run.json();
    for p in v["profiles"].as_array().unwrap() {
        assert_eq!(p["status"], "unknown", "{p}");
        for f in p["findings"].as_array().unwrap() {
            assert!(!f["code"].as_str().unwrap().starts_with("token_"), "{f}");
        }
    }
    assert_eq!(v["summary"]["unknown"], 1);
}

#[test]
fn token_flag_takes_only_a_dash_and_needs_input() {
    let sb = sandbox("default");
    let env = env_for(&sb.base_url());
    assert_eq!(env.run(&["diagnose", "--token", "EAAxyz"]).code, 2);
    let run = env.run_stdin(&["diagnose", "--token", "-"], "");
    assert_eq!(run.code, 2, "{run:?}");
}

// --- JSON documents, frozen in snapshots ------------------------------------------------------

/// `sq diagnose --token - --json`: one pasted user token reaching Pages with different
/// problems, each finding with its fix.
#[test]
fn pasted_token_json_document() {
    let sb = sandbox("findings");
    let env = env_for(&sb.base_url());
    let n = Normalize::new(&env).replace(&sb.base_url(), "[sandbox]");
    let run =
        env.run_stdin(&["--json", "diagnose", "--token", "-"], "EAASandboxFindings400User00000000000001");
    assert_eq!(run.code, 4, "{run:?}");
    insta::assert_json_snapshot!("diagnose_pasted_token", n.json(&run));
}

/// `sq diagnose --json` over stored profiles after the password change: every profile of the
/// login broken, with the failed post counted, and the environment checked.
#[test]
fn stored_profiles_json_document() {
    let sb = sandbox("story");
    let env = env_for(&sb.base_url());
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    assert_eq!(env.run(&["config", "set", "redirect_uri", &redirect]).code, 0);
    let n = Normalize::new(&env).replace(&sb.base_url(), "[sandbox]").replace(&redirect, "[redirect_uri]");
    let run = env
        .run_stdin(&["--json", "token", "import", "facebook"], "EAASandboxStoryUser00000000000000000001\n");
    assert_eq!(run.code, 0, "{run:?}");
    // The story's Page 777 token is made afresh by each sandbox.
    let imported = run.json();
    let page =
        imported["profiles"].as_array().unwrap().iter().find(|p| p["profile"] == "facebook:777").unwrap();
    let n = n.replace(page["token"].as_str().unwrap(), "[page token]");
    let run = env.run(&["--json", "diagnose"]);
    insta::assert_json_snapshot!("diagnose_stored_story", n.json(&run));
    assert_eq!(run.code, 4, "the story world has a Page left unticked: {run:?}");

    control(
        &sb,
        "POST",
        "events",
        Some(serde_json::json!({"event": "password_changed", "user": "100000000000001"})),
    );
    assert_eq!(env.run(&["queue", "add", "facebook:777", "--text", "Fresh bread"]).code, 0);
    assert_eq!(env.run(&["publish"]).code, 4);
    let run = env.run(&["--json", "diagnose", "facebook:777", "facebook:888"]);
    assert_eq!(run.code, 4, "{run:?}");
    insta::assert_json_snapshot!("diagnose_stored_password_changed", n.json(&run));
}

/// A Page token on stdin: the Page node is asked for fields Page nodes have (no `tasks`, which
/// Meta refuses there, meta-platform.md §14), so the Page keeps its name and its Instagram link.
#[test]
fn a_pasted_page_token_keeps_the_page_name_and_its_instagram() {
    let sb = sandbox("default");
    let env = env_for(&sb.base_url());
    let run =
        env.run_stdin(&["--json", "diagnose", "--token", "-"], "EAASandboxDefaultPage777000000000000001");
    let v = run.json();
    let profiles = v["profiles"].as_array().unwrap();
    let page = profiles.iter().find(|p| p["profile"] == "facebook:777").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(page["name"], "Acme Bakery", "{page}");
    assert!(
        profiles.iter().any(|p| p["profile"].as_str().is_some_and(|r| r.starts_with("instagram:"))),
        "{v}"
    );
}
