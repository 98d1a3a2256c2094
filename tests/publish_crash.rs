//! Crash recovery without waiting, through the real `sq publish`: a publisher killed with
//! SIGKILL mid-post is taken over by the next run at once (its process is gone), which looks at
//! Meta right away. A claim whose process still runs, or can't be checked from here, is left
//! exactly as it was.
#![allow(clippy::unwrap_used)]

mod common;
mod publish_support;

use publish_support::*;
use serde_json::{Value, json};
use sq::publish::owner::ProcessId;
use std::process::Stdio;

/// Starts `sq publish` (default lease: 60 s, so only "the process is gone" can explain a
/// takeover within the test), waits for `ready`, then kills it with SIGKILL and reaps it.
fn kill_mid_publish(w: &World, mut ready: impl FnMut() -> bool, what: &str) {
    let mut child = w.env.command(&["publish"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_until(&mut ready, what);
    child.kill().unwrap();
    let _ = child.wait();
}

fn started(w: &World, id: i64) -> bool {
    w.sql_i64(&format!("SELECT started_at FROM posts WHERE id = {id}")).is_some()
}

fn recovered(r: &Value, id: i64) -> &Value {
    r["recovered"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap_or_else(|| panic!("{r}"))
}

#[test]
fn killed_mid_facebook_post_is_published_by_the_next_run_at_once() {
    let w = World::new();
    // Meta carries the post out and never answers: the publisher is stuck mid-request.
    w.fault(json!({"kind": "hang", "applied": true, "match": {"path": "/777/feed", "method": "POST"}}));
    let id = w.add("facebook:777", "Went out, then the publisher died", &[]);
    kill_mid_publish(&w, || !w.published("facebook", PAGE).is_empty(), "the post to reach Meta");
    assert_eq!(state(&w.post(id)), "publishing", "the dead run's claim is still there");

    let t = std::time::Instant::now();
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(recovered(&v, id)["why"], "owner_gone", "{v}");
    assert_eq!(recovered(&v, id)["state"], "unknown", "{v}");
    let p = w.post(id);
    assert_eq!(state(&p), "published", "{p}");
    let posted = w.published("facebook", PAGE);
    assert_eq!(posted.len(), 1, "one copy on Meta: {posted:?}");
    assert_eq!(p["remote_id"], posted[0]["id"]);
    assert_eq!(
        w.count("POST", "/777/feed"),
        0,
        "the second run sent nothing (the first never got an answer)"
    );
    let ev = w.events(id);
    assert!(
        ev.ends_with(&["owner_gone".into(), "reconciling".into(), "published".into()]),
        "taken over at once, no lease wait: {ev:?}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(30), "well inside the 60 s lease");
}

#[test]
fn killed_mid_threads_and_instagram_publish_are_settled_through_the_container() {
    let w = World::new();
    w.fault(
        json!({"kind": "hang", "applied": true, "match": {"path": "/threads_publish", "method": "POST"}}),
    );
    w.fault(json!({"kind": "hang", "applied": true, "match": {"path": "/media_publish", "method": "POST"}}));
    let th = w.add("threads:7000000000000001", "Threads, then killed", &[]);
    let ig = w.add("instagram:17841400000000002", "Instagram, then killed", &["--image-url", IMAGE]);
    kill_mid_publish(
        &w,
        || !w.published("threads", THREADS).is_empty() && !w.published("instagram", IG_LOGIN).is_empty(),
        "both posts to reach Meta",
    );
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    for (id, network, profile) in [(th, "threads", THREADS), (ig, "instagram", IG_LOGIN)] {
        assert_eq!(recovered(&v, id)["why"], "owner_gone", "{v}");
        let p = w.post(id);
        assert_eq!(state(&p), "published", "{network}: {p}");
        let posted = w.published(network, profile);
        assert_eq!(posted.len(), 1, "{network}: one copy: {posted:?}");
        assert_eq!(p["remote_id"], posted[0]["id"], "{network}");
    }
}

#[test]
fn killed_before_meta_carried_it_out() {
    let w = World::new();
    // The request hangs before Meta acts on it: nothing is out.
    w.fault(json!({"kind": "hang", "match": {"path": "/feed", "method": "POST"}}));
    w.fault(json!({"kind": "hang", "match": {"path": "/threads_publish", "method": "POST"}}));
    let fb = w.add("facebook:777", "Never reached Meta", &[]);
    let th = w.add("threads:7000000000000001", "Never reached Meta either", &[]);
    kill_mid_publish(&w, || started(&w, fb) && started(&w, th), "both publish requests to be sent");
    w.clear_faults();
    let r = w.publish(&[]);
    // Threads: the container was not published, so the same container goes out now, once.
    assert_eq!(state(&w.post(th)), "published");
    assert_eq!(w.published("threads", THREADS).len(), 1);
    // Facebook: Meta doesn't show it, and it was sent moments ago: it could still land, so
    // the run waits (unknown) and says so in its exit code and summary, sending nothing.
    let p = w.post(fb);
    assert_eq!(state(&p), "unknown", "{p}");
    assert!(w.published("facebook", PAGE).is_empty());
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.json()["summary"]["unknown"], 1, "{r:?}");
    let human = w.sq(&["publish", "facebook:777"]);
    assert_eq!(human.code, 3, "{human:?}");
    assert!(human.stderr.contains("1 unknown"), "{human:?}");
    assert!(w.published("facebook", PAGE).is_empty(), "never sent blind");
}

/// The identity of a claim made by this very test process (alive), optionally changed.
fn me() -> ProcessId {
    ProcessId::current().expect("a process identity on Linux")
}

fn claim(w: &World, id: i64, process: Option<String>, started_at: Option<i64>) {
    let process = process.map_or("NULL".to_string(), |p| format!("'{p}'"));
    let started = started_at.map_or("NULL".to_string(), |t| t.to_string());
    w.sql(&format!(
        "UPDATE posts SET state = 'publishing', claim_owner = 'pid:{}:test', claim_until = {}, claim_process = {process},
             started_at = {started}, attempts = 1 WHERE id = {id}",
        std::process::id(),
        now() + 600
    ));
}

#[test]
fn a_claim_whose_process_runs_or_cant_be_checked_is_left_exactly_as_it_was() {
    if ProcessId::current().is_none() {
        eprintln!("skipped: no process identity on this platform (claims wait for their lease)");
        return;
    }
    let w = World::new();
    let alive = w.add("facebook:777", "Claimed by a live run", &[]);
    let elsewhere = w.add("facebook:888", "Claimed on another machine", &[]);
    let legacy = w.add("threads:7000000000000001", "Claimed before this version", &[]);
    claim(&w, alive, Some(me().encode()), Some(now()));
    let other_boot = ProcessId { boot_id: "another-machine-or-boot".into(), ..me() };
    // Its pid does not run here, but the pid means nothing on this machine.
    let other_boot = ProcessId { pid: 1 << 22, ..other_boot };
    claim(&w, elsewhere, Some(other_boot.encode()), None);
    claim(&w, legacy, None, None);
    let before = w.queue_snapshot();
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "nothing to do, nothing unknown: {r:?}");
    assert!(r.json()["recovered"].as_array().unwrap().is_empty(), "{r:?}");
    assert_eq!(w.queue_snapshot(), before, "the queue is exactly as before");
    assert!(w.published("facebook", PAGE).is_empty() && w.published("facebook", PAGE2).is_empty());
    assert!(w.published("threads", THREADS).is_empty());
}

#[test]
fn a_reused_pid_or_a_vanished_process_is_taken_over() {
    if ProcessId::current().is_none() {
        eprintln!("skipped: no process identity on this platform (claims wait for their lease)");
        return;
    }
    let w = World::new();
    // Same pid as this (running) test, but another start time: the pid was reused.
    let reused = w.add("facebook:777", "Pid reused", &[]);
    let mut id = me();
    id.start += 1;
    claim(&w, reused, Some(id.encode()), None);
    // A process that ran and exited.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let vanished = w.add("facebook:888", "Process vanished", &[]);
    claim(&w, vanished, Some(ProcessId { pid, ..me() }.encode()), None);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    for id in [reused, vanished] {
        // Nothing had been sent (no journal step): back to the queue and out, once.
        assert_eq!(recovered(&v, id)["why"], "owner_gone", "{v}");
        assert_eq!(recovered(&v, id)["state"], "queued", "{v}");
        assert_eq!(state(&w.post(id)), "published");
    }
    assert_eq!(w.published("facebook", PAGE).len(), 1);
    assert_eq!(w.published("facebook", PAGE2).len(), 1);
}

#[test]
fn unknown_posts_a_run_could_not_reconcile_are_not_a_silent_success() {
    if ProcessId::current().is_none() {
        eprintln!("skipped: no process identity on this platform");
        return;
    }
    let w = World::new();
    // An unknown post, and a later post of the same profile that a live run is publishing:
    // this run can't reconcile the unknown one (one post per profile at a time).
    let unknown = w.add("facebook:777", "Outcome unknown", &[]);
    let busy = w.add("facebook:777", "Being published elsewhere", &[]);
    w.sql(&format!(
        "UPDATE posts SET state = 'unknown', started_at = {}, attempts = 1 WHERE id = {unknown}",
        now() - 30
    ));
    claim(&w, busy, Some(me().encode()), Some(now()));
    let before = w.queue_snapshot();
    let r = w.publish(&[]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.json()["summary"]["unreconciled"], 1, "{r:?}");
    assert_eq!(w.queue_snapshot(), before, "the queue is exactly as before");
    let human = w.sq(&["publish"]);
    assert_eq!(human.code, 3, "{human:?}");
    assert!(human.stderr.contains("still unknown and were not reconciled"), "{human:?}");
    assert!(w.published("facebook", PAGE).is_empty());
}
