//! Never call healthy what wasn't verified: a wrong app secret, answers that don't say what a
//! token is, unknown codes, permission and access refusals, and a Native/Desktop app, through
//! the real binary against the sandbox. Every failing case checks that the stored tokens and
//! the queue are as before.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use crate::common::sandbox::*;
use crate::common::{Run, TestEnv};
use serde_json::{Value, json};
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};

const DANA: &str = "EAASandboxDefaultUser0000000000000000001";
const PAGE_777: &str = "EAASandboxDefaultPage777000000000000001";
const IG_LOGIN: &str = "IGAASandboxDefaultInstagram000000000001";
const THREADS: &str = "THAASandboxDefaultThreads00000000000001";

fn fault(sb: &SandboxThread, f: Value) {
    let r = http("POST", &format!("{}/_sandbox/faults", sb.base_url()), Some(&f));
    assert!(r.status < 300, "fault {f}: {}", r.body);
}

fn clear_faults(sb: &SandboxThread) {
    http("DELETE", &format!("{}/_sandbox/faults", sb.base_url()), None);
}

fn profile<'a>(v: &'a Value, reference: &str) -> &'a Value {
    v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"] == reference)
        .unwrap_or_else(|| panic!("{reference} not in {v}"))
}

fn codes(findings: &Value) -> Vec<String> {
    findings.as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

/// Every fix command of every finding.
fn fix_commands(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let env = v["environment"]["findings"].as_array().unwrap().iter();
    let profiles =
        v["profiles"].as_array().unwrap().iter().flat_map(|p| p["findings"].as_array().unwrap().iter());
    for f in env.chain(profiles) {
        if let Some(c) = f["fix"]["command"].as_str() {
            out.push(c.to_string());
        }
    }
    out
}

/// What sq holds: the profiles, every stored token, the queue.
fn state(env: &TestEnv, refs: &[&str]) -> Vec<String> {
    let mut out = vec![env.run(&["--json", "profiles"]).stdout, env.run(&["--json", "queue", "list"]).stdout];
    for r in refs {
        out.push(env.run(&["token", "print", r]).stdout);
    }
    out
}

fn diagnose_pasted(env: &TestEnv, token: &str) -> (Run, Value) {
    let run = env.run_stdin(&["--json", "diagnose", "--token", "-"], token);
    let v = run.json();
    (run, v)
}

#[test]
fn a_wrong_app_secret_is_named_in_diagnose_import_and_publish() {
    let sb = sandbox("default");
    let mut env = env_for(&sb);
    let imported = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(imported.code, 0, "{imported:?}");
    let queued = env.run(&["--json", "queue", "add", "facebook:777", "--text", "Fresh bread"]);
    assert_eq!(queued.code, 0, "{queued:?}");
    let refs = ["facebook:777", "facebook:888"];
    let before = state(&env, &refs);

    env.set("SQ_FACEBOOK_APP_SECRET", "not-the-secret");

    // diagnose: the secret is the cause, exit 4, and no profile is called ok.
    let run = env.run(&["--json", "diagnose"]);
    let v = run.json();
    assert_eq!(run.code, 4, "{run:?}");
    assert!(codes(&v["environment"]["findings"]).contains(&"app_secret_invalid".to_string()), "{v}");
    assert!(fix_commands(&v).contains(&"sq config set facebook.app_secret --stdin".to_string()), "{v}");
    for p in v["profiles"].as_array().unwrap() {
        assert_ne!(p["status"], "ok", "{p}");
        let c = codes(&p["findings"]);
        assert!(!c.iter().any(|c| c.starts_with("token_") && c != "token_not_inspected"), "{p}");
    }
    assert!(!fix_commands(&v).iter().any(|c| c.starts_with("sq reauth")), "{v}");

    // import: the secret is wrong, not the token.
    let again = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(again.code, 4, "{again:?}");
    assert!(
        again.stderr.contains("app secret")
            && again.stderr.contains("sq config set facebook.app_secret --stdin"),
        "{again:?}"
    );

    assert_eq!(state(&env, &refs), before, "a refused secret changed what sq holds");

    // publish: the post is held as an auth (configuration) failure, not content.
    let published = env.run(&["--json", "publish"]);
    assert_ne!(published.code, 0, "{published:?}");
    let list = env.run(&["--json", "queue", "list"]).json();
    let post = &list["posts"][0];
    assert_eq!(post["state"], "failed", "{list}");
    assert_eq!(post["last_error"]["class"], "auth", "{list}");
    let on_meta =
        http("GET", &format!("{}/_sandbox/published?profile=777&network=facebook", sb.base_url()), None);
    assert!(!on_meta.body.contains("Fresh bread"), "{}", on_meta.body);

    // Once the secret is fixed, requeue --failed puts the post back and it publishes once.
    env.set("SQ_FACEBOOK_APP_SECRET", FB_APP.1);
    let requeued = env.run(&["--json", "requeue", "--failed"]);
    assert_eq!(requeued.code, 0, "{requeued:?}");
    assert_eq!(requeued.json()["requeued"].as_array().unwrap().len(), 1, "{requeued:?}");
    let published = env.run(&["--json", "publish"]);
    assert_eq!(published.code, 0, "{published:?}");
    let on_meta =
        http("GET", &format!("{}/_sandbox/published?profile=777&network=facebook", sb.base_url()), None);
    assert_eq!(on_meta.body.matches("Fresh bread").count(), 1, "{}", on_meta.body);
}

#[test]
fn answers_that_do_not_say_what_a_token_is_are_unknown_never_ok() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    let bodies = [
        json!({"data": {}}),
        json!({"data": {"is_valid": true}}),
        json!({"data": {"is_valid": true, "type": 7, "scopes": "pages_manage_posts"}}),
        json!({"data": {"is_valid": "yes", "type": ["PAGE"]}}),
    ];
    for body in bodies {
        clear_faults(&sb);
        fault(&sb, json!({"kind": "answer", "body": body, "match": {"path": "/debug_token"}}));
        let (run, v) = diagnose_pasted(&env, PAGE_777);
        assert_ne!(run.code, 0, "{body}: {run:?}");
        for p in v["profiles"].as_array().unwrap() {
            assert_eq!(p["status"], "unknown", "{body}: {p}");
            assert!(codes(&p["findings"]).contains(&"token_not_inspected".to_string()), "{body}: {p}");
        }
    }
}

#[test]
fn an_unknown_code_is_unknown_in_metas_words_not_token_invalid() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    fault(
        &sb,
        json!({"kind": "error", "code": 98765, "message": "Something new happened", "match": {"path": "/debug_token"}}),
    );
    let (run, v) = diagnose_pasted(&env, PAGE_777);
    assert_eq!(run.code, 3, "{run:?}");
    let p = &v["profiles"][0];
    assert_eq!(p["status"], "unknown", "{p}");
    assert!(!codes(&p["findings"]).contains(&"token_invalid".to_string()), "{p}");
    // An unknown error inside debug_token's answer too.
    clear_faults(&sb);
    let body = json!({"data": {"is_valid": false, "type": "PAGE", "error": {"code": 98765, "message": "Something new happened"}}});
    fault(&sb, json!({"kind": "answer", "body": body, "match": {"path": "/debug_token"}}));
    let (run, v) = diagnose_pasted(&env, PAGE_777);
    assert_eq!(run.code, 3, "{run:?}");
    let p = &v["profiles"][0];
    assert_eq!(codes(&p["findings"]), ["token_not_inspected"], "{p}");
    assert!(p["findings"][0]["detail"].as_str().unwrap().contains("Something new happened"), "{p}");
}

#[test]
fn permission_and_access_refusals_are_named_and_never_sent_to_reauth() {
    let sb = sandbox("default");
    let env = env_for(&sb);
    // (token, profile, fault, the finding, whether `sq reauth` may be the fix)
    let page_error = |code: i64, message: &str| {
        json!({"kind": "answer", "match": {"path": "/debug_token"}, "body":
            {"data": {"is_valid": false, "type": "PAGE", "profile_id": "777", "error": {"code": code, "message": message}}}})
    };
    let cases = [
        (
            PAGE_777,
            "facebook:777",
            page_error(10, "(#10) Requires pages_manage_posts permission to manage the object"),
            "permission_denied",
            false,
        ),
        (PAGE_777, "facebook:777", page_error(200, "(#200) Permissions error"), "permission_denied", false),
        (
            PAGE_777,
            "facebook:777",
            page_error(
                10,
                "(#10) Publishing needs ads_management or ads_read for a Page reached through Business Manager",
            ),
            "ads_permission_missing",
            true,
        ),
        (
            IG_LOGIN,
            "instagram:me",
            json!({"kind": "error", "code": 100, "method": true, "message": "Unsupported request - method type: get", "match": {"host": "graph.instagram.com"}}),
            "app_access_level",
            false,
        ),
        (
            THREADS,
            "threads:me",
            json!({"kind": "error", "code": 100, "subcode": 10, "method": true, "message": "The user has not accepted the invite to test the app.", "match": {"host": "graph.threads.net"}}),
            "app_access_level",
            false,
        ),
    ];
    for (token, reference, f, code, reauth_ok) in cases {
        clear_faults(&sb);
        fault(&sb, f);
        let (run, v) = diagnose_pasted(&env, token);
        assert_eq!(run.code, 4, "{code}: {run:?}");
        let p = profile(&v, reference);
        assert!(codes(&p["findings"]).contains(&code.to_string()), "{code}: {p}");
        assert!(!codes(&p["findings"]).iter().any(|c| c == "token_invalid"), "{code}: {p}");
        if !reauth_ok {
            assert!(!fix_commands(&v).iter().any(|c| c.starts_with("sq reauth")), "{code}: {v}");
        }
    }
}

#[test]
fn a_native_app_is_inspected_the_other_way_and_says_so_once() {
    let mut scenario = Scenario::builtin("default").unwrap();
    scenario.facebook_app.native = true;
    let sb = SandboxThread::start(SandboxOptions::new(scenario)).unwrap();
    let env = env_for(&sb);
    let imported = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(imported.code, 0, "{imported:?}");
    let run = env.run(&["--json", "diagnose"]);
    let v = run.json();
    let env_codes = codes(&v["environment"]["findings"]);
    assert_eq!(env_codes.iter().filter(|c| *c == "app_token_ignored").count(), 1, "{v}");
    assert!(!env_codes.contains(&"app_secret_invalid".to_string()), "{v}");
    for p in v["profiles"].as_array().unwrap() {
        let c = codes(&p["findings"]);
        assert!(!c.iter().any(|c| c.starts_with("token_")), "{p}");
        // Dana is a developer of the app: her token inspected her Page tokens, so their
        // scopes are known (the documented other way, not only `/me`).
        assert_eq!(p["status"], "ok", "{p}");
        assert!(!p["token"]["scopes"].as_array().unwrap().is_empty(), "{p}");
        // Only debug_token tells the data-access window; `/me` doesn't.
        assert!(!p["token"]["data_access_expires_at"].is_null(), "{p}");
    }
    assert_eq!(run.code, 0, "{run:?}");
    let requests: Value =
        serde_json::from_str(&http("GET", &format!("{}/_sandbox/requests", sb.base_url()), None).body)
            .unwrap();
    assert!(requests.to_string().contains("debug_token"), "{requests}");
}

#[test]
fn a_native_app_with_a_user_without_a_role_falls_back_to_me_and_says_so_once() {
    let mut scenario = Scenario::builtin("default").unwrap();
    scenario.facebook_app.native = true;
    scenario.facebook_app.developers.clear();
    let sb = SandboxThread::start(SandboxOptions::new(scenario)).unwrap();
    let env = env_for(&sb);
    let imported = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(imported.code, 0, "{imported:?}");
    assert!(
        imported.stderr.contains("Native/Desktop") && imported.stderr.contains("GET /me"),
        "{imported:?}"
    );
    let run = env.run(&["--json", "diagnose"]);
    let v = run.json();
    let env_codes = codes(&v["environment"]["findings"]);
    assert_eq!(env_codes.iter().filter(|c| *c == "app_token_ignored").count(), 1, "{v}");
    for p in v["profiles"].as_array().unwrap() {
        assert!(!codes(&p["findings"]).iter().any(|c| c.starts_with("token_")), "{p}");
        assert_eq!(p["status"], "ok", "{p}");
        assert!(p["token"]["data_access_expires_at"].is_null(), "asked with /me only: {p}");
    }
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_native_app_is_reauthorized() {
    let port = free_port();
    let sb0 = sandbox("default");
    let mut world = control(&sb0, "GET", "scenario", None);
    drop(sb0);
    world["facebook_app"]["native"] = json!(true);
    world["facebook_app"]["redirect_uris"] = json!([format!("http://127.0.0.1:{port}/callback")]);
    let sb = sandbox_from(&world);
    let env = env_for(&sb);
    let imported = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(imported.code, 0, "{imported:?}");
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let (page, run) = reauth_through_the_browser(
        &env,
        &[
            "--json",
            "reauth",
            "facebook",
            "--all",
            "--no-browser",
            "--timeout",
            "30",
            "--redirect-uri",
            &redirect,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(page.body.contains("sq is connected"), "{}", page.body);
    assert_eq!(run.stderr.matches("Native/Desktop").count(), 1, "said once: {run:?}");
    let v = run.json();
    let reconnected = v.to_string();
    for r in ["facebook:777", "facebook:888", "facebook:999"] {
        assert!(reconnected.contains(r), "{r}: {v}");
    }
    // The new tokens are stored and work.
    let d = env.run(&["--json", "diagnose"]);
    assert_eq!(d.code, 0, "{d:?}");
    assert_ne!(env.run(&["token", "print", "facebook:777"]).stdout.trim(), PAGE_777);
}

/// Dana's Pages imported, one post failed for an auth reason (requeue has work) and one
/// queued (publish has work): what the store and database tests start from.
fn world_with_a_queue(sb: &SandboxThread) -> TestEnv {
    let env = env_for(sb);
    let imported = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(imported.code, 0, "{imported:?}");
    assert_eq!(env.run(&["queue", "add", "facebook:777", "--text", "Will fail"]).code, 0);
    fault(
        sb,
        json!({"kind": "error", "code": 190, "subcode": 460, "message": "Session invalidated", "match": {"path": "/feed"}}),
    );
    let published = env.run(&["publish"]);
    assert_eq!(published.code, 4, "{published:?}");
    clear_faults(sb);
    assert_eq!(env.run(&["queue", "add", "facebook:888", "--text", "Still queued"]).code, 0);
    let list = env.run(&["--json", "queue", "list"]).json();
    let states: Vec<&str> =
        list["posts"].as_array().unwrap().iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["failed", "queued"], "{list}");
    env
}

const REFS: [&str; 3] = ["facebook:777", "facebook:888", "facebook:999"];

#[test]
fn a_wrong_passphrase_says_the_store_cant_be_read_in_every_command() {
    let sb = sandbox("default");
    let mut env = world_with_a_queue(&sb);
    let before = state(&env, &REFS);
    http("DELETE", &format!("{}/_sandbox/requests", sb.base_url()), None);

    env.set("SQ_STORE_PASSPHRASE", "not the passphrase");
    let says_store = |what: &str, run: &Run| {
        assert!(run.stderr.contains("can't read the credential store"), "{what}: {run:?}");
        assert!(
            !run.stderr.contains("not connected") && !run.stderr.contains("no token is stored"),
            "{what}: {run:?}"
        );
    };

    // diagnose: the store is the finding; no profile is called missing or ok.
    let run = env.run(&["--json", "diagnose"]);
    assert_eq!(run.code, 4, "{run:?}");
    let v = run.json();
    assert!(codes(&v["environment"]["findings"]).contains(&"store_unavailable".to_string()), "{v}");
    assert!(
        v["environment"]["findings"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("can't read the credential store"),
        "{v}"
    );
    for p in v["profiles"].as_array().unwrap() {
        assert_eq!(p["status"], "unknown", "{p}");
        assert!(!codes(&p["findings"]).contains(&"token_missing".to_string()), "{p}");
    }
    assert!(!fix_commands(&v).iter().any(|c| c.starts_with("sq reauth")), "{v}");
    let human = env.run(&["diagnose"]);
    assert_eq!(human.code, 4, "{human:?}");
    let rows: Vec<&str> = human.stdout.lines().filter(|l| l.starts_with("unknown ")).collect();
    assert_eq!(rows.len(), 4, "{human:?}");
    assert!(rows.iter().all(|l| l.ends_with("token not read (store)")), "{human:?}");

    // Every command that reads secrets stops with the store's error (exit 1).
    for args in [
        &["publish"][..],
        &["requeue", "--failed"],
        &["token", "print", "facebook:777"],
        &["profiles", "remove", "facebook:999"],
        &["reauth", "facebook", "--all", "--no-browser", "--timeout", "1"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        says_store(&format!("{args:?}"), &run);
        assert!(!run.stderr.contains("Waiting for the browser"), "{args:?}: {run:?}");
    }
    let again = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(again.code, 1, "{again:?}");
    says_store("import", &again);
    // With --json the error is the document.
    let j = env.run(&["--json", "requeue", "--failed"]);
    assert_eq!(j.code, 1, "{j:?}");
    assert_eq!(j.json()["error"]["code"], "store_passphrase", "{j:?}");

    // Nothing was sent to Meta on the way, and nothing sq holds changed.
    let requests: Value =
        serde_json::from_str(&http("GET", &format!("{}/_sandbox/requests", sb.base_url()), None).body)
            .unwrap();
    assert!(
        !requests["requests"].as_array().unwrap().iter().any(|r| r["method"] == "POST"),
        "something was sent to Meta: {requests}"
    );
    env.set("SQ_STORE_PASSPHRASE", "correct horse battery staple");
    assert_eq!(state(&env, &REFS), before, "a wrong passphrase changed what sq holds");
}

/// The database file with its WAL folded in, so its bytes are the whole database.
fn checkpoint(env: &TestEnv) -> std::path::PathBuf {
    let path = env.data_dir().join("sq.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(conn);
    for s in ["sq.db-wal", "sq.db-shm"] {
        let _ = std::fs::remove_file(env.data_dir().join(s));
    }
    path
}

/// Runs every command on a database sq can't use and checks each says so (exit 1, the path,
/// what to do), never "not connected" or a token problem, and leaves the files as they were.
fn every_command_says_the_database_is_damaged(sb: &SandboxThread, env: &TestEnv, db: &std::path::Path) {
    let bytes = std::fs::read(db).unwrap();
    let creds = std::fs::read(env.data_dir().join("credentials.enc")).unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["publish"],
        vec!["publish", "--dry-run"],
        vec!["requeue", "--failed"],
        vec!["requeue", "--failed", "--dry-run"],
        vec!["requeue", "1"],
        vec!["diagnose"],
        vec!["profiles"],
        vec!["token", "print", "facebook:777"],
        vec!["queue", "add", "facebook:777", "--text", "More bread"],
        vec!["refresh"],
        vec!["reauth", "facebook", "--all", "--no-browser", "--timeout", "1"],
    ];
    for args in &commands {
        let run = env.run(args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(&format!("the database {} is damaged", db.display())),
            "{args:?}: {run:?}"
        );
        assert!(run.stderr.contains("from a backup"), "{args:?}: {run:?}");
        assert!(!run.stderr.contains("not connected"), "{args:?}: {run:?}");
        assert!(!run.stderr.contains("Waiting for the browser"), "{args:?}: {run:?}");
        let j = env.run(&[&["--json"][..], args].concat());
        assert_eq!(j.json()["error"]["code"], "db_corrupt", "{args:?}: {j:?}");
    }
    let import = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(import.code, 1, "{import:?}");
    assert!(import.stderr.contains("is damaged"), "{import:?}");
    assert_eq!(std::fs::read(db).unwrap(), bytes, "sq wrote to a damaged database");
    assert_eq!(std::fs::read(env.data_dir().join("credentials.enc")).unwrap(), creds, "the store changed");
    let on_meta =
        http("GET", &format!("{}/_sandbox/published?profile=888&network=facebook", sb.base_url()), None);
    assert!(!on_meta.body.contains("Still queued"), "{}", on_meta.body);
}

#[test]
fn a_damaged_database_page_is_reported_as_damage_by_every_command() {
    let sb = sandbox("default");
    let env = world_with_a_queue(&sb);
    let before = state(&env, &REFS);
    let path = checkpoint(&env);
    let good = std::fs::read(&path).unwrap();
    // The root page of the profiles table, overwritten as a failing disk or a bad copy would.
    let (root, page_size): (i64, i64) = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let root = conn
            .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'profiles'", [], |r| r.get(0))
            .unwrap();
        let size = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        (root, size)
    };
    drop(checkpoint(&env));
    let mut bad = std::fs::read(&path).unwrap();
    assert_eq!(bad, good);
    let at = ((root - 1) * page_size) as usize;
    bad[at..at + page_size as usize].fill(0xA5);
    std::fs::write(&path, &bad).unwrap();

    every_command_says_the_database_is_damaged(&sb, &env, &path);

    // The good copy back: every token and post as before.
    std::fs::write(&path, &good).unwrap();
    assert_eq!(state(&env, &REFS), before, "a damaged database changed what sq holds");
}

/// `sq requeue` checks whole only the tables it decides from (docs/queue.md); the queue's own
/// pages are checked by the transaction that reads them. A damaged page in the posts table,
/// one of its indexes or the history is still reported as damage (exit 1, `db_corrupt`), and
/// the file is left exactly as it was: the requeue's transaction rolls back whole.
#[test]
fn a_damaged_queue_page_is_reported_by_requeue_and_changes_nothing() {
    let sb = sandbox("default");
    let env = world_with_a_queue(&sb);
    let before = state(&env, &REFS);
    let path = checkpoint(&env);
    let good = std::fs::read(&path).unwrap();
    let (roots, page_size): (Vec<(String, i64)>, i64) = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let roots = ["posts", "posts_line", "posts_in_flight", "post_history", "post_requeues"]
            .iter()
            .map(|name| {
                let root = conn
                    .query_row("SELECT rootpage FROM sqlite_schema WHERE name = ?1", [name], |r| r.get(0))
                    .unwrap();
                (name.to_string(), root)
            })
            .collect();
        (roots, conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap())
    };
    drop(checkpoint(&env));
    assert_eq!(std::fs::read(&path).unwrap(), good);
    // Those that write read every b-tree of the queue (the indexes of posts whole, before
    // anything is written); a dry run reads the posts and the line only.
    let writes: [&[&str]; 3] =
        [&["requeue", "--failed"], &["requeue", "--failed", "--force"], &["requeue", "1"]];
    let reads: [&[&str]; 1] = [&["requeue", "--failed", "--dry-run"]];
    for (name, root) in &roots {
        let mut bad = good.clone();
        let at = ((root - 1) * page_size) as usize;
        bad[at..at + page_size as usize].fill(0xA5);
        std::fs::write(&path, &bad).unwrap();
        let reading = matches!(name.as_str(), "posts" | "posts_line");
        for args in writes.iter().chain(reads.iter().filter(|_| reading)) {
            let j = env.run(&[&["--json"][..], args].concat());
            assert_eq!(j.code, 1, "{name} damaged, {args:?}: {j:?}");
            assert_eq!(j.json()["error"]["code"], "db_corrupt", "{name} damaged, {args:?}: {j:?}");
            let message = j.json()["error"]["message"].as_str().unwrap().to_string();
            assert!(message.contains(&format!("the database {} is damaged", path.display())), "{message}");
            assert_eq!(std::fs::read(&path).unwrap(), bad, "{name} damaged, {args:?}: sq wrote to it");
        }
    }

    std::fs::write(&path, &good).unwrap();
    assert_eq!(state(&env, &REFS), before, "a damaged database changed what sq holds");
}

#[test]
fn a_zero_byte_database_is_damaged_not_new() {
    let sb = sandbox("default");
    let env = world_with_a_queue(&sb);
    let before = state(&env, &REFS);
    let path = checkpoint(&env);
    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, b"").unwrap();

    every_command_says_the_database_is_damaged(&sb, &env, &path);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the empty file was made into a new database");
    let run = env.run(&["profiles"]);
    assert!(run.stderr.contains("empty (0 bytes)"), "{run:?}");

    std::fs::write(&path, &good).unwrap();
    assert_eq!(state(&env, &REFS), before, "a zero-byte database changed what sq holds");
}

#[test]
fn a_new_data_directory_still_gets_a_new_database() {
    let env = TestEnv::new();
    let run = env.run(&["--json", "profiles"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(std::fs::metadata(env.data_dir().join("sq.db")).unwrap().len() > 0);
    let leftovers: Vec<_> = std::fs::read_dir(env.data_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".new-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `sq reauth` with the browser played by the test: read the authorization URL from sq's
/// stderr, let the sandbox consent (a redirect), follow it to sq's loopback listener and
/// return what the browser page said, then sq's run.
fn reauth_through_the_browser(env: &TestEnv, args: &[&str]) -> (Resp, Run) {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let mut child = env
        .command(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut err = child.stderr.take().unwrap();
    let e = stderr.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            e.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = loop {
        let text = stderr.lock().unwrap().clone();
        if let Some(u) =
            text.split_whitespace().find(|w| w.contains("/dialog/oauth") || w.contains("/oauth/authorize"))
        {
            break u.to_string();
        }
        assert!(Instant::now() < deadline, "no URL on stderr:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let consent = http("GET", &url, None);
    assert_eq!(consent.status, 302, "consent did not redirect: {}", consent.body);
    let location = consent.header("location").unwrap().split('#').next().unwrap().to_string();
    let page = if location.starts_with("https:") {
        let pem = std::fs::read(env.data_dir().join("localhost-cert.pem")).unwrap();
        https_get(&pem, &location)
    } else {
        http("GET", &location, None)
    };
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let stderr = stderr.lock().unwrap().clone();
    (page, Run { code: status.code().unwrap_or(-1), stdout, stderr })
}

/// The redirect a network's app registers on `port`: http for Facebook (Development mode),
/// https for Instagram Login and Threads, the only kind their dashboards save
/// (meta-platform.md §14).
fn redirect_for(network: &str, port: u16) -> String {
    let scheme = if network == "facebook" { "http" } else { "https" };
    format!("{scheme}://127.0.0.1:{port}/callback")
}

/// A sandbox whose three apps register their redirect on `port` exactly ([`redirect_for`]).
fn sandbox_with_redirect(port: u16) -> SandboxThread {
    let sb = sandbox("default");
    let mut world = control(&sb, "GET", "scenario", None);
    for (app, network) in
        [("facebook_app", "facebook"), ("instagram_app", "instagram"), ("threads_app", "threads")]
    {
        world[app]["redirect_uris"] = json!([redirect_for(network, port)]);
    }
    drop(sb);
    sandbox_from(&world)
}

#[test]
fn a_wrong_app_secret_is_named_by_reauth_in_the_terminal_and_the_browser() {
    let port = free_port();
    let sb = sandbox_with_redirect(port);
    let mut env = env_for(&sb);
    for (network, token) in [("facebook", DANA), ("instagram", IG_LOGIN), ("threads", THREADS)] {
        let r = env.run_stdin(&["token", "import", network], &format!("{token}\n"));
        assert_eq!(r.code, 0, "{network}: {r:?}");
    }
    let refs = ["facebook:777", "facebook:888", "instagram:17841400000000002", "threads:7000000000000001"];
    let before = state(&env, &refs);

    for (network, var, extra) in [
        ("facebook", "SQ_FACEBOOK_APP_SECRET", &["--all"][..]),
        ("instagram", "SQ_INSTAGRAM_APP_SECRET", &["--instagram-login"][..]),
        ("threads", "SQ_THREADS_APP_SECRET", &[][..]),
    ] {
        env.set(var, "not-the-secret");
        let redirect = redirect_for(network, port);
        let mut args =
            vec!["reauth", network, "--no-browser", "--timeout", "30", "--redirect-uri", &redirect];
        args.extend_from_slice(extra);
        let (page, run) = reauth_through_the_browser(&env, &args);
        // The terminal: the app secret, with the command that fixes it; exit 4, not 3.
        assert_eq!(run.code, 4, "{network}: {run:?}");
        assert!(run.stderr.contains("app secret"), "{network}: {run:?}");
        assert!(
            run.stderr.contains(&format!("sq config set {network}.app_secret --stdin")),
            "{network}: {run:?}"
        );
        assert!(!run.stderr.contains("could not be reached"), "{network}: {run:?}");
        assert!(!run.stderr.to_lowercase().contains("token is invalid"), "{network}: {run:?}");
        // The browser: the real outcome, never "connected".
        assert!(
            page.body.contains("could not connect") && page.body.contains("app secret"),
            "{network}: {}",
            page.body
        );
        assert!(!page.body.contains("sq is connected"), "{network}: {}", page.body);
        env.set(
            var,
            match network {
                "facebook" => FB_APP.1,
                "instagram" => IG_APP.1,
                _ => TH_APP.1,
            },
        );
    }
    assert_eq!(state(&env, &refs), before, "a refused secret changed what sq holds");
}

#[test]
fn standard_access_without_a_role_on_the_app_is_named_natively() {
    let mut scenario = Scenario::builtin("default").unwrap();
    for app in [scenario.instagram_app.as_mut().unwrap(), scenario.threads_app.as_mut().unwrap()] {
        app.access_level = sq::sandbox::AccessLevel::Standard;
        app.roles.clear();
        app.testers.clear();
    }
    let sb = SandboxThread::start(SandboxOptions::new(scenario)).unwrap();
    let env = env_for(&sb);
    for (token, reference) in [(IG_LOGIN, "instagram:me"), (THREADS, "threads:me")] {
        let (run, v) = diagnose_pasted(&env, token);
        assert_eq!(run.code, 4, "{reference}: {run:?}");
        let p = profile(&v, reference);
        let c = codes(&p["findings"]);
        assert!(c.contains(&"app_access_level".to_string()), "{reference}: {p}");
        assert!(!c.iter().any(|c| c.starts_with("token_")), "{reference}: {p}");
        assert!(!fix_commands(&v).iter().any(|c| c.starts_with("sq reauth")), "{reference}: {v}");
    }
    // With a role on the app the same tokens are fine: the refusal is the access level's.
    let mut scenario = Scenario::builtin("default").unwrap();
    for app in [scenario.instagram_app.as_mut().unwrap(), scenario.threads_app.as_mut().unwrap()] {
        app.access_level = sq::sandbox::AccessLevel::Standard;
    }
    scenario.instagram_app.as_mut().unwrap().roles.push("17841400000000002".into());
    let sb = SandboxThread::start(SandboxOptions::new(scenario)).unwrap();
    let env = env_for(&sb);
    for token in [IG_LOGIN, THREADS] {
        let (run, v) = diagnose_pasted(&env, token);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!v.to_string().contains("app_access_level"), "{v}");
    }
}

#[test]
fn a_business_manager_page_without_ads_permission_is_named_natively() {
    let sb0 = sandbox("default");
    let mut world = control(&sb0, "GET", "scenario", None);
    drop(sb0);
    // Dana reaches Acme Bakery (and its Instagram account) only through the business.
    for p in world["pages"].as_array_mut().unwrap() {
        if p["id"] == "777" {
            p["portfolio_roles"] = p["roles"].clone();
            p["roles"] = json!({});
        }
    }
    let sb = sandbox_from(&world);
    let env = env_for(&sb);
    let imported = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(imported.code, 0, "{imported:?}");
    let ig = "instagram:17841400000000001";
    assert_eq!(
        env.run(&["queue", "add", ig, "--text", "Croissants", "--image-url", "https://example.com/c.jpg"])
            .code,
        0
    );

    let run = env.run(&["--json", "diagnose"]);
    assert_eq!(run.code, 4, "{run:?}");
    let v = run.json();
    let p = profile(&v, ig);
    assert_eq!(p["status"], "broken", "{p}");
    let c = codes(&p["findings"]);
    assert!(c.contains(&"ads_permission_missing".to_string()), "{p}");
    assert!(!c.iter().any(|c| c.starts_with("token_")), "{p}");
    // The Pages themselves are fine.
    assert_eq!(profile(&v, "facebook:888")["status"], "ok", "{v}");

    // publish: the post fails as an auth (configuration) failure naming the permission, not
    // content, and nothing reaches Meta.
    let before_publish = state(&env, &REFS);
    let published = env.run(&["publish"]);
    assert_eq!(published.code, 4, "{published:?}");
    let list = env.run(&["--json", "queue", "list"]).json();
    assert_eq!(list["posts"][0]["state"], "failed", "{list}");
    assert_eq!(list["posts"][0]["last_error"]["class"], "auth", "{list}");
    assert!(list["posts"][0]["last_error"]["message"].as_str().unwrap().contains("ads_read"), "{list}");
    let on_meta = http(
        "GET",
        &format!("{}/_sandbox/published?profile=17841400000000001&network=instagram", sb.base_url()),
        None,
    );
    assert!(!on_meta.body.contains("Croissants"), "{}", on_meta.body);
    // Tokens unchanged (only the post's state moved).
    assert_eq!(state(&env, &REFS)[2..], before_publish[2..], "publish changed the stored tokens");
}

/// `-v` adds what lay under an error (`caused by:`, Meta's code and trace id); without it the
/// error is the message and its hints only, and neither ever shows the token.
#[test]
fn verbose_errors_say_what_lay_under_them() {
    let sb = sandbox("default");
    let mut env = env_for(&sb);
    env.set("SQ_FACEBOOK_APP_SECRET", "not-the-secret");

    let plain = env.run_stdin(&["token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(plain.code, 4, "{plain:?}");
    assert!(!plain.stderr.contains("caused by:"), "{plain:?}");

    let verbose = env.run_stdin(&["-v", "token", "import", "facebook"], &format!("{DANA}\n"));
    assert_eq!(verbose.code, 4, "{verbose:?}");
    let causes: Vec<&str> = verbose.stderr.lines().filter(|l| l.starts_with("caused by:")).collect();
    assert_eq!(causes.len(), 1, "{verbose:?}");
    assert!(causes[0].starts_with("caused by: Meta's error: HTTP "), "{verbose:?}");
    assert!(causes[0].contains(", code "), "{verbose:?}");
    // The message and the hints are the same as without -v.
    for line in plain.stderr.lines().filter(|l| l.starts_with("error:") || l.starts_with("hint:")) {
        assert!(verbose.stderr.contains(line), "{line:?} missing under -v: {verbose:?}");
    }
    assert!(!verbose.stderr.contains(DANA) && !verbose.stdout.contains(DANA), "{verbose:?}");
    assert!(!verbose.stderr.contains("not-the-secret"), "{verbose:?}");
}
