//! `sq token import` against the sandbox: the real binary, the file credential store.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use crate::common::sandbox::*;
use crate::common::snapshot::Normalize;
use crate::common::{Run, TestEnv, all_files, contains};
use serde_json::{Value, json};

const DANA: &str = "EAASandboxDefaultUser0000000000000000001";

fn import(env: &TestEnv, network: &str, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["token", "import", network];
    args.extend_from_slice(extra);
    env.run_stdin(&args, &format!("{token}\n"))
}

fn refs(v: &Value) -> Vec<String> {
    v["profiles"].as_array().unwrap().iter().map(|p| p["profile"].as_str().unwrap().to_string()).collect()
}

/// No file under the config and data directories, and no output, holds the token.
fn assert_no_leak(env: &TestEnv, runs: &[&Run], secrets: &[&str]) {
    for s in secrets {
        for r in runs {
            assert!(!r.stdout.contains(s) && !r.stderr.contains(s), "{s} leaked in output: {r:?}");
        }
        for (path, bytes) in all_files(env.dir.path()) {
            assert!(!contains(&bytes, s), "{s} leaked into {}", path.display());
        }
    }
}

#[test]
fn facebook_user_with_pages_and_instagram() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let r = import(&env, "facebook", DANA, &["--json", "-vv"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["connection"]["user_id"], "100000000000001");
    assert_eq!(v["connection"]["token"], "EAAS…0001");
    let got = refs(&v);
    for want in ["facebook:777", "facebook:888", "facebook:999", "instagram:17841400000000001"] {
        assert!(got.contains(&want.to_string()), "{want} missing: {got:?}");
    }
    let ig = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"] == "instagram:17841400000000001")
        .unwrap();
    assert_eq!(
        (ig["kind"].as_str(), ig["via"].as_str(), ig["page_id"].as_str()),
        (Some("instagram"), Some("page"), Some("777"))
    );
    // Human output: one line per profile.
    let h = import(&env, "facebook", DANA, &[]);
    assert_eq!(h.code, 0, "{h:?}");
    assert_eq!(
        h.stdout.lines().filter(|l| l.contains("facebook:") || l.contains("instagram:")).count(),
        4,
        "{h:?}"
    );
    assert_no_leak(&env, &[&r, &h], &[DANA, "EAASandboxDefaultPage777000000000000001"]);
}

#[test]
fn follows_every_result_page_of_me_accounts() {
    let sb = sandbox("pages:150");
    let env = env_for(&sb);
    let r = import(&env, "facebook", "EAASandboxPagesUser00000000000000000001", &["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let got = refs(&r.json());
    let pages = got.iter().filter(|p| p.starts_with("facebook:")).count();
    let igs = got.iter().filter(|p| p.starts_with("instagram:")).count();
    assert_eq!((pages, igs), (150, 75), "{got:?}");
    assert!(got.contains(&"facebook:20000000149".to_string()));
}

#[test]
fn pages_without_create_content_are_imported_and_flagged() {
    let sb = sandbox("findings");
    let env = env_for(&sb);
    let r = import(&env, "facebook", "EAASandboxFindings400User00000000000001", &["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let flags = |id: &str| -> Vec<String> {
        let p = v["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["profile"] == id)
            .unwrap_or_else(|| panic!("{id}: {v}"));
        p["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect()
    };
    assert!(flags("facebook:4002").contains(&"cannot_publish".to_string()), "{v}");
    assert!(flags("facebook:4001").contains(&"not_page_admin".to_string()), "{v}");
    assert!(!flags("facebook:4001").contains(&"cannot_publish".to_string()), "{v}");
    let h = import(&env, "facebook", "EAASandboxFindings400User00000000000001", &[]);
    assert!(h.stdout.contains("can't publish"), "{h:?}");
}

/// A Page reached only through a business portfolio is listed at import (owned_pages asked for
/// the fields Page nodes have, no `tasks`: meta-platform.md §14), its role shown as unknown
/// rather than guessed; the Page from /me/accounts keeps its tasks.
#[test]
fn portfolio_pages_are_listed_with_their_role_unknown() {
    let sb = sandbox("findings");
    let env = env_for(&sb);
    let r = import(&env, "facebook", "EAASandboxFindings300User00000000000001", &["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let profile = |id: &str| -> Value {
        v["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["profile"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}: {v}"))
    };
    let portfolio = profile("facebook:3003");
    let flags: Vec<&str> = portfolio["flags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(flags.contains(&"role_unknown") && flags.contains(&"portfolio_only"), "{portfolio}");
    assert!(!flags.contains(&"cannot_publish") && !flags.contains(&"not_page_admin"), "{portfolio}");
    assert!(portfolio["tasks"].is_null(), "{portfolio}");
    assert!(profile("facebook:3001")["tasks"].as_array().is_some_and(|t| !t.is_empty()), "{v}");
    let h = import(&env, "facebook", "EAASandboxFindings300User00000000000001", &[]);
    assert!(h.stdout.contains("your role on the Page is unknown"), "{h:?}");
    // No call asked a Page node for `tasks` (Meta would fail it).
    let log = control(&sb, "GET", "requests", None);
    let refused: Vec<&Value> =
        log["requests"].as_array().unwrap().iter().filter(|e| e["status"].as_u64() != Some(200)).collect();
    assert!(refused.is_empty(), "{refused:?}");
}

#[test]
fn a_dead_token_is_refused_with_the_reason_and_nothing_is_stored() {
    let sb = sandbox("findings");
    let env = env_for(&sb);
    let token = "EAASandboxFindings460User00000000000001";
    let r = import(&env, "facebook", token, &["-vv"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("password changed"), "{r:?}");
    let j = import(&env, "facebook", token, &["--json"]);
    assert_eq!(j.code, 4);
    assert_eq!(j.json()["error"]["code"], "token_password_changed");
    let p = env.run(&["token", "import", "facebook"]);
    assert_eq!(p.code, 2, "empty stdin is a usage error: {p:?}");
    assert!(!env.data_dir().join("credentials.enc").exists(), "nothing may be stored");
    assert_no_leak(&env, &[&r, &j], &[token]);
}

#[test]
fn meta_unreachable_is_exit_3_not_invalid() {
    // A closed port.
    let sb = sandbox("default");
    let mut env = env_for(&sb);
    env.set("SQ_META_API_BASE", &format!("http://127.0.0.1:{}", free_port()));
    let r = import(&env, "facebook", DANA, &[]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(!r.stderr.contains("not valid"), "{r:?}");

    // A 502 from Meta on the Page list, after the token checked out.
    let env = env_for(&sb);
    control(&sb, "POST", "faults", Some(json!({"kind": "bad_gateway", "match": {"path": "/me/accounts"}})));
    let r = import(&env, "facebook", DANA, &["--json"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.json()["error"]["kind"], "unreachable");
    control(&sb, "DELETE", "faults", None);
    let ok = import(&env, "facebook", DANA, &[]);
    assert_eq!(ok.code, 0, "{ok:?}");
}

#[test]
fn reimport_replaces_profiles_and_tokens() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    assert_eq!(import(&env, "facebook", DANA, &[]).code, 0);
    // Dana loses her role on 999: the next import no longer reaches it.
    control(
        &sb,
        "POST",
        "events",
        Some(json!({"event": "page_role_lost", "user": "100000000000001", "page": "999"})),
    );
    let r = import(&env, "facebook", DANA, &["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert!(!refs(&v).contains(&"facebook:999".to_string()), "{v}");
    assert_eq!(v["removed"], json!(["facebook:999"]));
    // Instagram Login and Threads tokens.
    let ig = import(&env, "instagram", "IGAASandboxDefaultInstagram000000000001", &["--json"]);
    assert_eq!(ig.code, 0, "{ig:?}");
    assert_eq!(refs(&ig.json()), ["instagram:17841400000000002"]);
    let th = import(&env, "threads", "THAASandboxDefaultThreads00000000000001", &["--json"]);
    assert_eq!(th.code, 0, "{th:?}");
    assert_eq!(refs(&th.json()), ["threads:7000000000000001"]);
    assert_no_leak(
        &env,
        &[&r, &ig, &th],
        &[DANA, "IGAASandboxDefaultInstagram000000000001", "THAASandboxDefaultThreads00000000000001"],
    );
}

// --- JSON documents, frozen in snapshots ------------------------------------------------------

/// `sq token import --json` for each network, then `sq profiles --json` and `sq profiles remove
/// --json` over what they stored.
#[test]
fn import_and_profiles_json_documents() {
    let sb = sandbox("findings");
    let env = env_for(&sb);
    let n = Normalize::new(&env).replace(&sb.base_url(), "[sandbox]");
    // Pages with and without CREATE_CONTENT and MANAGE: the flags are part of the document.
    let r = import(&env, "facebook", "EAASandboxFindings400User00000000000001", &["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("token_import_facebook", n.json(&r));

    let sb = sandbox("default");
    let env = env_for(&sb);
    let mut n = Normalize::new(&env).replace(&sb.base_url(), "[sandbox]");
    for (network, token) in [
        ("facebook", DANA),
        ("instagram", "IGAASandboxDefaultInstagram000000000001"),
        ("threads", "THAASandboxDefaultThreads00000000000001"),
    ] {
        let r = import(&env, network, token, &["--json"]);
        assert_eq!(r.code, 0, "{network}: {r:?}");
        if network == "instagram" {
            // The long-lived token Instagram exchanges the pasted one for is new every time.
            n = n.replace(r.json()["connection"]["token"].as_str().unwrap(), "[exchanged token]");
        }
        if network != "facebook" {
            insta::assert_json_snapshot!(format!("token_import_{network}"), n.json(&r));
        }
    }
    let r = env.run(&["--json", "profiles"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("profiles", n.json(&r));
    let r = env.run(&["--json", "profiles", "remove", "facebook:888"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("profiles_remove", n.json(&r));
}

/// The story world: Dana left Acme Catering (888) unticked in her granular grant, yet the
/// business-portfolio listing returns it. Import and diagnose name the same cause for it: not
/// selected in the grant (`granular_not_selected`), not "reached through a portfolio only".
#[test]
fn an_unticked_page_has_the_same_cause_in_import_and_diagnose() {
    let sb = sandbox("story");
    let env = env_for(&sb);
    let token = "EAASandboxStoryUser00000000000000000001";
    let r = import(&env, "facebook", token, &["--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let page = v["profiles"].as_array().unwrap().iter().find(|p| p["profile"] == "facebook:888").unwrap();
    let flags: Vec<&str> = page["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(flags.contains(&"granular_not_selected"), "{flags:?}");
    assert!(!flags.contains(&"portfolio_only"), "{flags:?}");
    // The ticked Pages carry neither.
    for p in v["profiles"].as_array().unwrap().iter().filter(|p| p["profile"] != "facebook:888") {
        assert!(!p["flags"].to_string().contains("granular_not_selected"), "{p}");
    }

    let h = import(&env, "facebook", token, &[]);
    assert_eq!(h.code, 0, "{h:?}");
    let line = h.stdout.lines().find(|l| l.contains("facebook:888")).unwrap();
    assert!(line.contains("not selected in the login's grant"), "{line}");
    assert!(!h.stdout.contains("business portfolio"), "{}", h.stdout);

    let d = env.run(&["diagnose", "--json", "facebook:888"]);
    assert_eq!(d.code, 4, "{d:?}");
    let dv = d.json();
    let codes: Vec<&str> = dv["profiles"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["granular_not_selected"], "{dv}");
    let dh = env.run(&["diagnose", "facebook:888"]);
    assert!(dh.stdout.contains("wasn't selected when the login was authorized"), "{dh:?}");
    assert!(!dh.stdout.contains("business portfolio"), "{dh:?}");
}
