//! The queue, `sq publish` and `sq requeue` end to end: the real `sq` binary, a temp data dir,
//! the encrypted file store, and the sandbox (in-process, random port) as Meta. Every
//! publishing test counts what reached Meta through `/_sandbox/published`. The world (profiles
//! and tokens set up through the library) is `common::world`.
#![allow(clippy::unwrap_used)]

use crate::common::Run;
use crate::common::snapshot::Normalize;
use crate::common::world::*;
use serde_json::{Value, json};
use std::time::Duration;

// --- queue ------------------------------------------------------------------------------------

#[test]
fn queue_add_list_show_cancel() {
    let w = World::new();
    let r = w.sq(&["--json", "queue", "add", "Acme Bakery", "--text", "Fresh bread", "--at", "+2h"]);
    assert_eq!(r.code, 0, "{r:?}");
    let post = &r.json()["post"];
    for key in ["id", "profile", "state", "scheduled_at", "attempts", "last_error", "remote_id"] {
        assert!(post.get(key).is_some(), "missing {key}: {post}");
    }
    assert_eq!(post["profile"], "facebook:777");
    assert_eq!(post["state"], "queued");
    assert_eq!(post["attempts"], 0);
    assert_eq!(post["last_error"], Value::Null);
    let id = post["id"].as_i64().unwrap();

    let other = w.add("threads:7000000000000001", "Open at 8", &["--at", "2030-01-01T08:00:00Z"]);
    let list = w.sq(&["--json", "queue", "list"]).json();
    assert_eq!(list["posts"].as_array().unwrap().len(), 2);
    let only = w.sq(&["--json", "queue", "list", "threads:7000000000000001"]).json();
    assert_eq!(only["posts"][0]["id"], json!(other));
    assert_eq!(only["posts"][0]["scheduled_at"], "2030-01-01T08:00:00Z");

    let shown = w.post(id);
    assert_eq!(shown["history"][0]["event"], "added");

    let r = w.sq(&["--json", "queue", "cancel", &id.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["post"]["state"], "canceled");
    let r = w.sq(&["queue", "cancel", &id.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    let list = w.sq(&["--json", "queue", "list", "--state", "canceled"]).json();
    assert_eq!(list["posts"].as_array().unwrap().len(), 1);

    // Bad input is a usage error.
    for args in [
        vec!["queue", "add", "facebook:777", "--text", "x", "--at", "tomorrow"],
        vec!["queue", "add", "facebook:404", "--text", "x"],
        vec!["queue", "add", "instagram:17841400000000001", "--text", "no image"],
        vec!["queue", "add", "threads:7000000000000001", "--text", "x", "--link", "https://a.example"],
        vec!["queue", "add", "facebook:777", "--text", "x", "--image-url", "not a url"],
        vec!["queue", "show", "999"],
    ] {
        let r = w.sq(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("error:"), "{r:?}");
    }
}

// --- publish: happy paths ---------------------------------------------------------------------

#[test]
fn publish_every_network_once() {
    let w = World::new();
    let fb = w.add("facebook:777", "Fresh sourdough today", &["--link", "https://acme.example/bread"]);
    let photo = w.add("facebook:888", "Croissants", &["--image-url", IMAGE]);
    let ig = w.add("instagram:17841400000000001", "New loaf", &["--image-url", IMAGE]);
    let igl = w.add("instagram:17841400000000002", "Studio loaf", &["--image-url", IMAGE]);
    let th = w.add("threads:7000000000000001", "We open at 8", &[]);
    let later = w.add("facebook:777", "Tomorrow's special", &["--at", "+1d"]);

    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["summary"]["published"], 5, "{v}");
    for id in [fb, photo, ig, igl, th] {
        let p = w.post(id);
        assert_eq!(state(&p), "published", "{p}");
        assert!(p["remote_id"].is_string(), "{p}");
        assert_eq!(p["attempts"], 1);
    }
    assert_eq!(state(&w.post(later)), "queued");
    assert_eq!(w.published("facebook", PAGE).len(), 1);
    assert_eq!(w.published("facebook", PAGE2).len(), 1);
    assert_eq!(w.published("instagram", IG_VIA_PAGE).len(), 1);
    assert_eq!(w.published("instagram", IG_LOGIN).len(), 1);
    assert_eq!(w.published("threads", THREADS).len(), 1);

    // Nothing due: a second run sends nothing.
    let r = w.publish(&[]);
    assert_eq!((r.code, r.json()["summary"]["published"].as_i64()), (0, Some(0)), "{r:?}");
    assert_eq!(w.published("facebook", PAGE).len(), 1);
}

#[test]
fn dry_run_and_limit() {
    let w = World::new();
    let a = w.add("facebook:777", "one", &[]);
    let b = w.add("facebook:777", "two", &[]);
    let r = w.publish(&["--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["due"].as_array().unwrap().len(), 2);
    assert_eq!(state(&w.post(a)), "queued");
    assert!(w.published("facebook", PAGE).is_empty());

    let r = w.publish(&["--limit", "1"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Per-profile order: the first added goes first.
    assert_eq!(state(&w.post(a)), "published");
    assert_eq!(state(&w.post(b)), "queued");
    let posted = w.published("facebook", PAGE);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["text"], "one");
}

/// A profile's posts go out in line order, so when its head of line is not due yet (waiting
/// out a retry) nothing of it is due, even a later post whose own time has come: the dry run
/// says so, and `sq publish` sends nothing until the head is due, then both in order.
#[test]
fn a_later_post_waits_for_its_head_of_line() {
    let w = World::new();
    let head = w.add("facebook:777", "one", &[]);
    let later = w.add("facebook:777", "two", &[]);
    w.sql(&format!("UPDATE posts SET scheduled_at = scheduled_at + 3600 WHERE id = {head}"));
    let r = w.publish(&["--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["due"].as_array().map_or(0, Vec::len), 0, "{r:?}");
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(state(&w.post(head)), "queued");
    assert_eq!(state(&w.post(later)), "queued");
    assert!(w.published("facebook", PAGE).is_empty());

    w.sql(&format!("UPDATE posts SET scheduled_at = scheduled_at - 3600 WHERE id = {head}"));
    assert_eq!(w.publish(&["--dry-run"]).json()["due"].as_array().unwrap().len(), 2);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let posted: Vec<String> =
        w.published("facebook", PAGE).iter().map(|p| p["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(posted, ["one", "two"]);
}

#[test]
fn help_has_examples() {
    let w = World::new();
    for cmd in [
        vec!["queue", "--help"],
        vec!["queue", "add", "--help"],
        vec!["queue", "list", "--help"],
        vec!["queue", "show", "--help"],
        vec!["queue", "cancel", "--help"],
        vec!["publish", "--help"],
        vec!["requeue", "--help"],
    ] {
        let r = w.sq(&cmd);
        assert_eq!(r.code, 0, "{cmd:?}");
        assert!(r.stdout.contains("Examples:") && r.stdout.contains("sq "), "{cmd:?}: {}", r.stdout);
    }
}

// --- publish: failure matrix ------------------------------------------------------------------

#[test]
fn instagram_container_slow_then_9007_then_success() {
    let w = World::with_settings(json!({"container_polls": 2}));
    w.fault(json!({"kind": "error", "code": 9007, "subcode": 2207027, "status": 400,
                   "message": "The media is not ready to be published. Please wait a moment.",
                   "match": {"path": "/media_publish"}, "count": 1}));
    let id = w.add("instagram:17841400000000001", "Slow loaf", &["--image-url", IMAGE]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let p = w.post(id);
    assert_eq!(state(&p), "published", "{p}");
    assert!(p["container_id"].is_string());
    assert_eq!(w.published("instagram", IG_VIA_PAGE).len(), 1);
}

#[test]
fn media_and_duplicate_fail_with_exit_1_and_others_go_out() {
    let w = World::new();
    let media = w.add(
        "instagram:17841400000000001",
        "Bad image",
        &["--image-url", "https://cdn.example.com/broken.jpg"],
    );
    let first = w.add("facebook:777", "Same words", &[]);
    let dup = w.add("facebook:777", "Same words", &[]);
    let fine = w.add("threads:7000000000000001", "Fine", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 1, "{r:?}");
    let p = w.post(media);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("failed", Some("media")), "{p}");
    assert_eq!(p["last_error"]["code"], 9004);
    assert_eq!(state(&w.post(first)), "published");
    let p = w.post(dup);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("failed", Some("content")), "{p}");
    assert_eq!(p["last_error"]["code"], 506);
    assert_eq!(state(&w.post(fine)), "published");
    assert_eq!(w.published("facebook", PAGE).len(), 1);
    assert!(w.published("instagram", IG_VIA_PAGE).is_empty());
}

#[test]
fn quota_reached_and_throttling_go_back_to_the_queue_with_exit_3() {
    let w = World::new();
    w.control("events", json!({"event": "quota_reached", "account": IG_LOGIN}));
    w.fault(
        json!({"kind": "throttle", "code": 80001, "minutes": 7, "match": {"page": PAGE, "path": "/feed"}}),
    );
    let ig = w.add("instagram:17841400000000002", "Over quota", &["--image-url", IMAGE]);
    let fb = w.add("facebook:777", "Throttled", &[]);
    let fb2 = w.add("facebook:777", "Throttled too", &[]);
    let before = now();
    let r = w.publish(&[]);
    assert_eq!(r.code, 3, "{r:?}");
    let p = w.post(ig);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("queued", Some("rate_limit")), "{p}");
    // The limit was read at run time and the re-check is later, not now.
    let due = |p: &Value| {
        time::OffsetDateTime::parse(
            p["scheduled_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp()
    };
    assert!(due(&p) >= before + 1800, "{p}");
    let p = w.post(fb);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("queued", Some("rate_limit")), "{p}");
    // Meta's estimated_time_to_regain_access (7 min) is honoured.
    assert!(due(&p) >= before + 7 * 60, "{p}");
    assert_eq!(p["attempts"], 1);
    assert!(w.events(fb).contains(&"retry".to_string()));
    // Per-profile order: the second post waits behind the first.
    assert_eq!((state(&w.post(fb2)), w.post(fb2)["attempts"].as_i64()), ("queued", Some(0)));
    assert!(w.published("facebook", PAGE).is_empty() && w.published("instagram", IG_LOGIN).is_empty());
}

#[test]
fn auth_failure_mid_run_holds_the_profile_and_others_keep_publishing() {
    let w = World::new();
    w.fault(json!({"kind": "error", "code": 190, "subcode": 460, "status": 400,
                   "message": "Error validating access token: The session has been invalidated because the user changed their password.",
                   "match": {"page": PAGE, "path": "/feed", "method": "POST"}}));
    let a = w.add("facebook:777", "one", &[]);
    let b = w.add("facebook:777", "two", &[]);
    let c = w.add("facebook:888", "three", &[]);
    let d = w.add("facebook:888", "four", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    assert_eq!(v["held"][0]["profile"], "facebook:777", "{v}");
    assert_eq!(v["held"][0]["posts"], 1);
    assert!(v["held"][0]["fix"].as_str().unwrap().contains("sq reauth facebook facebook:777"));
    let p = w.post(a);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("failed", Some("auth")), "{p}");
    assert_eq!(p["last_error"]["subcode"], 460);
    assert_eq!((state(&w.post(b)), w.post(b)["attempts"].as_i64()), ("queued", Some(0)));
    assert_eq!(state(&w.post(c)), "published");
    assert_eq!(state(&w.post(d)), "published");
    // The next run keeps holding it (nothing sent) until the profile is fixed.
    w.clear_faults();
    let r = w.publish(&[]);
    assert_eq!(r.code, 4, "{r:?}");
    assert_eq!(state(&w.post(b)), "queued");
    assert!(w.published("facebook", PAGE).is_empty());
}

#[test]
fn bad_gateway_on_publish_is_retried_later_never_resent_blind() {
    let w = World::new();
    w.fault(json!({"kind": "bad_gateway", "match": {"path": "/feed", "method": "POST"}, "count": 1}));
    let id = w.add("facebook:777", "Through the 502", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 3, "{r:?}");
    let p = w.post(id);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("queued", Some("transient")), "{p}");
    // Meta may have acted on it: no resend in this run, and the next attempt reconciles first
    // (the journal kept the start).
    assert!(w.published("facebook", PAGE).len() <= 1);
    let r = w.publish(&[]);
    assert_eq!(r.json()["summary"]["published"], 0, "not due yet: {r:?}");
}

#[test]
fn a_dead_claim_becomes_unknown_and_is_reconciled_not_resent() {
    let w = World::new();
    let id = w.add("facebook:777", "Already out", &[]);
    // It went out, then the process died before recording the answer.
    w.rt.block_on(async {
        let url = format!("{}/graph.facebook.com/v27.0/777/feed", w.sb.base_url());
        let r = w
            .http
            .post(url)
            .form(&[("message", "Already out"), ("access_token", "EAASandboxDefaultPage777000000000000001")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    });
    let started = now() - 600;
    w.sql(&format!(
        "UPDATE posts SET state = 'publishing', claim_owner = 'pid:1:dead', claim_until = 1, started_at = {started},
             attempts = 1 WHERE id = {id}"
    ));
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["recovered"][0]["state"], "unknown", "{v}");
    let p = w.post(id);
    assert_eq!(state(&p), "published", "{p}");
    assert!(p["remote_id"].as_str().unwrap().starts_with("777_"));
    let ev = w.events(id);
    assert!(ev.contains(&"lease_expired".into()) && ev.contains(&"reconciling".into()), "{ev:?}");
    assert_eq!(w.published("facebook", PAGE).len(), 1, "never twice");

    // A claim that died before anything was sent goes back to the queue and out once.
    let id = w.add("facebook:888", "Never sent", &[]);
    w.sql(&format!(
        "UPDATE posts SET state = 'publishing', claim_owner = 'pid:1:dead', claim_until = 1 WHERE id = {id}"
    ));
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["recovered"][0]["state"], "queued");
    assert_eq!(state(&w.post(id)), "published");
    assert_eq!(w.published("facebook", PAGE2).len(), 1);
}

#[test]
fn killed_mid_publish_then_reconciled_through_the_container() {
    let w = World::new();
    w.fault(json!({"kind": "hang", "match": {"path": "/media_publish"}}));
    let id = w.add("instagram:17841400000000002", "Killed", &["--image-url", IMAGE]);
    let mut child = w
        .env
        .command(&["publish", "--lease", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        || {
            w.post(id)["container_id"].is_string() && w.events(id).len() >= 2 && {
                let conn = rusqlite::Connection::open(w.env.data_dir().join("sq.db")).unwrap();
                conn.query_row(
                    &format!("SELECT started_at IS NOT NULL FROM posts WHERE id = {id}"),
                    [],
                    |r| r.get::<_, bool>(0),
                )
                .unwrap()
            }
        },
        "the publish request to go out",
    );
    child.kill().unwrap();
    let _ = child.wait();
    w.clear_faults();
    std::thread::sleep(Duration::from_millis(2100));
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["recovered"][0]["state"], "unknown");
    assert_eq!(state(&w.post(id)), "published");
    assert_eq!(w.published("instagram", IG_LOGIN).len(), 1);
}

#[test]
fn two_publish_processes_never_publish_a_post_twice() {
    let w = World::new();
    w.control("latency", json!({"ms": 30}));
    let mut texts = Vec::new();
    for i in 0..12 {
        for page in ["facebook:777", "facebook:888"] {
            let t = format!("post {i} to {page}");
            w.add(page, &t, &[]);
            texts.push(t);
        }
    }
    let spawn = || {
        w.env
            .command(&["--json", "publish"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{a:?} {b:?}");
    // Whatever one run left (the other held the profile at the time), a third run finishes.
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut seen: Vec<String> = [PAGE, PAGE2]
        .iter()
        .flat_map(|p| w.published("facebook", p))
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    texts.sort();
    assert_eq!(seen, texts, "each post exactly once");
    // Per-profile order held across processes.
    for page in [PAGE, PAGE2] {
        let order: Vec<String> =
            w.published("facebook", page).iter().map(|p| p["text"].as_str().unwrap().to_string()).collect();
        let mut sorted = order.clone();
        sorted.sort_by_key(|t| t.split(' ').nth(1).unwrap().parse::<u32>().unwrap());
        assert_eq!(order, sorted);
    }
}

#[test]
fn watch_stops_cleanly_on_sigterm() {
    let w = World::new();
    let id = w.add("facebook:777", "Watched", &[]);
    let child = w
        .env
        .command(&["publish", "--watch", "--interval", "200ms"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(|| state(&w.post(id)) == "published", "the watcher to publish");
    let later = w.add("facebook:777", "Watched later", &[]);
    wait_until(|| state(&w.post(later)) == "published", "the next pass");
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let conn = rusqlite::Connection::open(w.env.data_dir().join("sq.db")).unwrap();
    let claimed: i64 =
        conn.query_row("SELECT count(*) FROM posts WHERE state = 'publishing'", [], |r| r.get(0)).unwrap();
    assert_eq!(claimed, 0);
}

// --- requeue ----------------------------------------------------------------------------------

impl World {
    /// Marks a post failed with a class, `ago` seconds ago (requeue tests start from failures
    /// without waiting for Meta to produce each one).
    fn fail(&self, id: i64, class: &str, ago: i64) {
        let at = now() - ago;
        self.sql(&format!(
            "UPDATE posts SET state = 'failed', error_class = '{class}', error_message = 'test {class}',
                 attempts = 1, finished_at = {at} WHERE id = {id}"
        ));
    }

    fn requeue(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--json", "requeue"];
        args.extend_from_slice(extra);
        self.sq(&args)
    }
}

fn ids(v: &Value, key: &str) -> Vec<i64> {
    let mut out: Vec<i64> = v[key].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
    out.sort();
    out
}

#[test]
fn requeue_filters_classes_and_json_shape() {
    let w = World::new();
    let auth = w.add("facebook:777", "a", &[]);
    let rate = w.add("facebook:888", "b", &[]);
    let media = w.add("instagram:17841400000000002", "c", &["--image-url", IMAGE]);
    let content = w.add("threads:7000000000000001", "d", &[]);
    let old = w.add("threads:7000000000000001", "e", &[]);
    w.fail(auth, "auth", 60);
    w.fail(rate, "rate_limit", 60);
    w.fail(media, "media", 60);
    w.fail(content, "content", 60);
    w.fail(old, "transient", 3 * 86400);

    // --dry-run changes nothing.
    let r = w.requeue(&["--failed", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(ids(&v, "requeued"), vec![auth, rate, old], "media/content need --class: {v}");
    assert_eq!(v["held"], json!([]));
    for key in ["id", "profile", "scheduled_at"] {
        assert!(v["requeued"][0].get(key).is_some(), "{v}");
    }
    assert_eq!(state(&w.post(auth)), "failed");

    // Filters.
    assert_eq!(ids(&w.requeue(&["--failed", "--dry-run", "facebook:888"]).json(), "requeued"), vec![rate]);
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--network", "threads"]).json(), "requeued"),
        vec![old]
    );
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--since", "1h"]).json(), "requeued"),
        vec![auth, rate]
    );
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--class", "media"]).json(), "requeued"),
        vec![media]
    );
    assert_eq!(
        ids(&w.requeue(&["--failed", "--dry-run", "--class", "all"]).json(), "requeued"),
        vec![auth, rate, media, content, old]
    );

    // For real: history kept, attempts not reset.
    let r = w.requeue(&["--failed", "--class", "media", "--class", "auth"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ids(&r.json(), "requeued"), vec![auth, media]);
    let p = w.post(media);
    assert_eq!((state(&p), p["attempts"].as_i64()), ("queued", Some(1)), "{p}");
    assert_eq!(w.events(media).last().unwrap(), "requeued");
    assert_eq!(state(&w.post(content)), "failed");

    // Bad input.
    assert_eq!(w.sq(&["requeue", "--failed", "--since", "soon"]).code, 2);
    assert_eq!(w.sq(&["requeue", "--failed", "--class", "bogus"]).code, 2);
    assert_eq!(w.sq(&["requeue"]).code, 2);
    assert_eq!(w.sq(&["requeue", "999"]).code, 2);
}

#[test]
fn requeue_holds_broken_profiles_with_the_fix_unless_forced() {
    let w = World::new();
    let fb = w.add("facebook:777", "a", &[]);
    let th = w.add("threads:7000000000000001", "b", &[]);
    w.fail(fb, "auth", 60);
    w.fail(th, "transient", 60);
    // Dana changed her password: the Page token is dead (190/460).
    w.control("events", json!({"event": "password_changed", "user": DANA}));
    let r = w.requeue(&["--failed"]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    assert_eq!(ids(&v, "requeued"), vec![th], "{v}");
    assert_eq!(ids(&v, "held"), vec![fb]);
    let held = &v["held"][0];
    assert_eq!(held["profile"], "facebook:777");
    assert!(held["fix"].as_str().unwrap().contains("sq reauth facebook"), "{held}");
    assert!(held["reason"].as_str().unwrap().len() > 10, "{held}");
    assert_eq!(state(&w.post(fb)), "failed");
    assert_eq!(state(&w.post(th)), "queued");
    // The write that ran during the health check rolled back (a profile was broken) and the
    // healthy profile's post was requeued after it: once.
    assert_eq!(w.events(th).iter().filter(|e| *e == "requeued").count(), 1, "{:?}", w.events(th));
    assert!(!w.events(fb).iter().any(|e| e == "requeued"), "{:?}", w.events(fb));

    // Human output lists the fix too.
    let r = w.sq(&["requeue", "--failed"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stdout.contains("fix: sq reauth facebook"), "{r:?}");

    let r = w.requeue(&["--failed", "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ids(&r.json(), "requeued"), vec![fb]);
    assert_eq!(state(&w.post(fb)), "queued");
}

#[test]
fn requeue_at_original_and_by_id() {
    let w = World::new();
    let future = w.add("facebook:777", "later", &["--at", "+3h"]);
    let past = w.add("facebook:888", "earlier", &[]);
    w.fail(future, "transient", 10);
    w.fail(past, "transient", 10);
    let r = w.requeue(&["--failed", "--at", "original"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let at = |id: i64| {
        let s =
            v["requeued"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap()["scheduled_at"].clone();
        time::OffsetDateTime::parse(s.as_str().unwrap(), &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp()
    };
    assert!(at(future) >= now() + 3 * 3600 - 120, "{v}");
    assert!(at(past) <= now() + 5, "{v}");

    // By id: a media failure named by id is requeued; an unknown post is refused with the fix.
    let media = w.add("facebook:777", "m", &[]);
    w.fail(media, "media", 10);
    let unknown = w.add("facebook:888", "u", &[]);
    w.sql(&format!("UPDATE posts SET state = 'unknown', started_at = 1 WHERE id = {unknown}"));
    let r = w.requeue(&[&media.to_string(), &unknown.to_string()]);
    assert_eq!(r.code, 4, "{r:?}");
    let v = r.json();
    assert_eq!(ids(&v, "requeued"), vec![media]);
    assert_eq!(v["held"][0]["fix"], "sq publish facebook:888");
    assert_eq!(state(&w.post(unknown)), "unknown");
    // Requeueing a queued post again is refused (exit 1), nothing changes.
    let r = w.requeue(&[&media.to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.json()["skipped"][0]["state"], "queued");
}

/// The filters are SQL now (one selection, one history insert, one update over the same
/// condition): a requeue for real moves exactly the posts its dry run lists, gives each one
/// history event (a row for the first, a link to it for the others), and leaves every other
/// row as it was, whatever its state.
#[test]
fn requeue_for_real_touches_exactly_the_selected_posts() {
    let w = World::new();
    let fb_recent = w.add("facebook:777", "fb recent", &[]);
    let fb_other_page = w.add("facebook:888", "other page", &[]);
    let fb_old = w.add("facebook:777", "fb old", &[]);
    let fb_media = w.add("facebook:777", "fb media", &[]);
    let fb_unclassed = w.add("facebook:777", "no class", &[]);
    let th_recent = w.add("threads:7000000000000001", "threads recent", &[]);
    let queued = w.add("facebook:777", "still queued", &[]);
    let unknown = w.add("facebook:777", "unknown", &[]);
    let canceled = w.add("facebook:777", "canceled", &[]);
    w.fail(fb_recent, "transient", 60);
    w.fail(fb_other_page, "auth", 60);
    w.fail(fb_old, "auth", 3 * 86400);
    w.fail(fb_media, "media", 60);
    w.fail(fb_unclassed, "transient", 60);
    w.sql(&format!("UPDATE posts SET error_class = NULL, attempts = 3 WHERE id = {fb_unclassed}"));
    w.fail(th_recent, "rate_limit", 60);
    w.sql(&format!("UPDATE posts SET state = 'unknown', started_at = 1 WHERE id = {unknown}"));
    assert_eq!(w.sq(&["queue", "cancel", &canceled.to_string()]).code, 0);

    let args = ["--failed", "facebook:777", "--network", "facebook", "--since", "1h", "--force"];
    let dry = w.requeue(&[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry.code, 0, "{dry:?}");
    // A post without a class counts as `unknown`, which is taken by default.
    assert_eq!(ids(&dry.json(), "requeued"), vec![fb_recent, fb_unclassed], "{dry:?}");

    let before = w.queue_snapshot();
    let r = w.requeue(&args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ids(&r.json(), "requeued"), vec![fb_recent, fb_unclassed], "{r:?}");
    let after = w.queue_snapshot();
    let changed: Vec<&String> = after.iter().filter(|row| !before.contains(row)).collect();
    let posts_changed: Vec<&&String> = changed.iter().filter(|r| r.starts_with("posts:")).collect();
    // One history row for the requeue, written for the first post, and a link to it for the
    // other (docs/queue.md).
    let history_added: Vec<&&String> = changed.iter().filter(|r| r.starts_with("post_history:")).collect();
    let links_added: Vec<&&String> = changed.iter().filter(|r| r.starts_with("post_requeues:")).collect();
    assert_eq!(posts_changed.len(), 2, "{changed:#?}");
    assert_eq!(history_added.len(), 1, "{changed:#?}");
    let column = |row: &str, i: usize| row.split(" | ").nth(i).map(str::to_string);
    assert_eq!(column(history_added[0], 1), Some(format!("Integer({fb_recent})")), "{changed:#?}");
    assert_eq!(links_added.len(), 1, "{changed:#?}");
    assert_eq!(column(links_added[0], 0), Some(format!("post_requeues: Integer({fb_unclassed})")));
    // Each post shows the requeue as its own event: the shared time, transition and message,
    // with its own attempt and the failure it was requeued from (none for the unclassed one).
    let last = |id: i64| w.post(id)["history"].as_array().unwrap().last().unwrap().clone();
    let (shared, linked) = (last(fb_recent), last(fb_unclassed));
    for key in ["at", "event", "from", "to"] {
        assert_eq!(shared[key], linked[key], "{key}: {shared} / {linked}");
    }
    // The message shows under the failure when there is one, as for any event with an error.
    assert_eq!(shared["error"]["message"], linked["message"], "{shared} / {linked}");
    assert_eq!(linked["message"], "requeued with --force");
    assert_eq!((shared["attempt"].as_i64(), linked["attempt"].as_i64()), (Some(1), Some(3)));
    assert_eq!(shared["event"], "requeued");
    assert_eq!(shared["error"]["class"], "transient", "{shared}");
    assert_eq!(linked["error"], Value::Null, "{linked}");
    assert_eq!(before.len() + 2, after.len(), "only one history row and one link were added");
    for id in [fb_recent, fb_unclassed] {
        let p = w.post(id);
        assert_eq!(state(&p), "queued", "{p}");
        assert_eq!(w.events(id).last().unwrap(), "requeued");
    }
    for (id, st) in [
        (fb_other_page, "failed"),
        (fb_old, "failed"),
        (fb_media, "failed"),
        (th_recent, "failed"),
        (queued, "queued"),
        (unknown, "unknown"),
        (canceled, "canceled"),
    ] {
        assert_eq!(state(&w.post(id)), st, "post {id}");
    }

    // By id: only the named post that is failed moves, whatever its class; the others are
    // listed as skipped and nothing else changes.
    let before = w.queue_snapshot();
    let r = w.requeue(&[&fb_media.to_string(), &queued.to_string(), "--force"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(ids(&r.json(), "requeued"), vec![fb_media], "{r:?}");
    assert_eq!(ids(&r.json(), "skipped"), vec![queued], "{r:?}");
    let after = w.queue_snapshot();
    assert_eq!(
        after.iter().filter(|row| !before.contains(row)).count(),
        2,
        "one post row and one history row"
    );
    assert_eq!(state(&w.post(fb_old)), "failed");
}

#[test]
fn two_requeue_processes_requeue_each_post_once() {
    two_requeues(&["--force"]);
}

/// The same with the health check, whose write runs while the Graph requests are in flight and
/// waits for the verdicts before it commits: the other process waits for the lock, then finds
/// the posts queued already.
#[test]
fn two_health_checked_requeue_processes_requeue_each_post_once() {
    two_requeues(&[]);
}

fn two_requeues(extra: &[&str]) {
    let w = World::new();
    let mut all = Vec::new();
    for i in 0..200 {
        let id = w.add(if i % 2 == 0 { "facebook:777" } else { "facebook:888" }, &format!("p{i}"), &[]);
        all.push(id);
    }
    w.sql("UPDATE posts SET state = 'failed', error_class = 'transient', finished_at = 1000");
    let spawn = || {
        w.env
            .command(&[&["--json", "requeue", "--failed"][..], extra].concat())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let n = |o: &std::process::Output| {
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["requeued"].as_array().unwrap().len()
    };
    assert_eq!(n(&a) + n(&b), all.len(), "each post requeued by exactly one process");
    let conn = rusqlite::Connection::open(w.env.data_dir().join("sq.db")).unwrap();
    // Each post's requeued event: a history row of its own, or a link to its requeue's row.
    let rows: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM post_history WHERE event = 'requeued')
                  + (SELECT count(*) FROM post_requeues)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, all.len() as i64);
    for id in &all {
        assert_eq!(w.events(*id).iter().filter(|e| *e == "requeued").count(), 1, "post {id}");
    }
}

// --- JSON documents, frozen in snapshots ------------------------------------------------------

/// `sq queue add/list/show/cancel --json` and `sq publish --json` (a dry run, then a run where
/// posts go out and one fails for its content).
#[test]
fn queue_and_publish_json_documents() {
    let w = World::new();
    let n = Normalize::new(&w.env).replace(&w.sb.base_url(), "[sandbox]");
    let r = w.sq(&[
        "--json",
        "queue",
        "add",
        "Acme Bakery",
        "--text",
        "Fresh sourdough",
        "--link",
        "https://acme.example/bread",
        "--at",
        "2030-01-01T08:00:00Z",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("queue_add", n.json(&r));
    let later = r.json()["post"]["id"].as_i64().unwrap();
    let ig = w.add("instagram:17841400000000001", "New loaf", &["--image-url", IMAGE]);
    let th = w.add("threads:7000000000000001", "We open at 8", &[]);
    w.add("facebook:888", "Same words", &[]);
    w.add("facebook:888", "Same words", &[]);
    let r = w.sq(&["--json", "queue", "list"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("queue_list", n.json(&r));

    let r = w.publish(&["--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("publish_dry_run", n.json(&r));
    let r = w.publish(&[]);
    assert_eq!(r.code, 1, "the duplicate fails for its content: {r:?}");
    // The sandbox numbers what it creates in the order requests arrive, and the networks
    // publish at the same time.
    let published = n.clone().redact(".results[].remote_id", "[remote id]");
    insta::assert_json_snapshot!("publish", published.json(&r));
    assert_eq!((state(&w.post(ig)), state(&w.post(th))), ("published", "published"));

    let r = w.sq(&["--json", "queue", "show", &ig.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let shown =
        n.clone().redact(".post.remote_id", "[remote id]").redact(".post.container_id", "[container id]");
    insta::assert_json_snapshot!("queue_show", shown.json(&r));
    let r = w.sq(&["--json", "queue", "cancel", &later.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("queue_cancel", n.json(&r));
}

/// `sq requeue --json`: a dry run, then posts requeued while another is held back because its
/// profile is broken, and by id.
#[test]
fn requeue_json_documents() {
    let w = World::new();
    let n = Normalize::new(&w.env).replace(&w.sb.base_url(), "[sandbox]");
    let fb = w.add("facebook:777", "a", &[]);
    let th = w.add("threads:7000000000000001", "b", &[]);
    let later = w.add("facebook:888", "c", &["--at", "+3h"]);
    let media = w.add("instagram:17841400000000002", "d", &["--image-url", IMAGE]);
    w.fail(fb, "auth", 60);
    w.fail(th, "transient", 3 * 86400);
    w.fail(later, "rate_limit", 600);
    w.fail(media, "media", 60);
    let r = w.requeue(&["--failed", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_json_snapshot!("requeue_dry_run", n.json(&r));

    w.control("events", json!({"event": "password_changed", "user": DANA}));
    let r = w.requeue(&["--failed", "--at", "original"]);
    assert_eq!(r.code, 4, "{r:?}");
    insta::assert_json_snapshot!("requeue_held", n.json(&r));
    let r = w.requeue(&[&media.to_string(), &th.to_string()]);
    assert_eq!(r.code, 1, "the threads post is queued already: {r:?}");
    insta::assert_json_snapshot!("requeue_by_id", n.json(&r));
}

/// A health check slower than the write's wait for it (0.5 s once its statements are done):
/// the write started during the check rolls back and lets the lock go, and the posts are
/// requeued after the verdicts, each once. Meanwhile another process can write.
#[test]
fn a_slow_health_check_still_requeues_each_post_once() {
    let w = World::new();
    let a = w.add("facebook:777", "a", &[]);
    let b = w.add("threads:7000000000000001", "b", &[]);
    w.fail(a, "auth", 60);
    w.fail(b, "transient", 60);
    let c = w.add("facebook:777", "c", &[]);
    w.control("latency", json!({"ms": 400}));
    let child = w
        .env
        .command(&["--json", "requeue", "--failed"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While the health check waits on Meta, another writer gets the lock within its timeout.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let r = w.sq(&["queue", "cancel", &c.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let out = child.wait_with_output().unwrap();
    w.control("latency", json!({"ms": 0}));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids(&v, "requeued"), vec![a, b], "{v}");
    for id in [a, b] {
        assert_eq!(state(&w.post(id)), "queued");
        assert_eq!(w.events(id).iter().filter(|e| *e == "requeued").count(), 1, "{:?}", w.events(id));
    }
    assert_eq!(state(&w.post(c)), "canceled");
}
