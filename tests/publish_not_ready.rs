//! Not-ready and ambiguous publish answers through the real `sq publish`: Threads 24/4279009
//! and Instagram 24/2207008 "not there yet", and a server error on a publish after the post
//! went out. Every test counts the copies on the sandbox.
#![allow(clippy::unwrap_used)]

mod common;
mod publish_support;

use publish_support::*;
use serde_json::json;

#[test]
fn threads_not_found_twice_then_published_once() {
    // The first two threads_publish calls of every container answer 24/4279009 "Media Not
    // Found", even though the container status reads FINISHED at once.
    let w = World::with_settings(json!({"container_polls": 0, "threads_not_found_publishes": 2}));
    let id = w.add("threads:7000000000000001", "Not found yet", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let p = w.post(id);
    assert_eq!(state(&p), "published", "{p}");
    let posted = w.published("threads", THREADS);
    assert_eq!(posted.len(), 1, "exactly one copy: {posted:?}");
    assert_eq!(p["remote_id"], posted[0]["id"]);
    assert_eq!(w.count("POST", "/threads_publish"), 3, "two refusals, then the publish");
    assert_eq!(w.count("POST", "/7000000000000001/threads"), 1, "the same container throughout");
    assert_eq!(p["attempts"], 1, "one attempt, not a failure and a retry: {p}");
}

#[test]
fn instagram_media_builder_not_found_is_waited_out() {
    let w = World::with_settings(json!({"container_polls": 0}));
    w.fault(json!({"kind": "error", "code": 24, "subcode": 2207008, "status": 400,
                   "message": "Media builder not found", "match": {"path": "/media_publish"}, "count": 2}));
    let id = w.add("instagram:17841400000000002", "Builder not found yet", &["--image-url", IMAGE]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(state(&w.post(id)), "published");
    assert_eq!(w.published("instagram", IG_LOGIN).len(), 1);
    assert_eq!(w.count("POST", "/media_publish"), 3);
    assert_eq!(w.count("POST", "/17841400000000002/media"), 1);
}

#[test]
fn server_error_after_the_post_went_out_ends_published_once() {
    let w = World::new();
    // Meta carries each publish out, then answers 500 (code 2) or 502: the post is out.
    w.fault(applied(json!({"kind": "server_error", "code": 2, "count": 1}), "/777/feed"));
    w.fault(applied(json!({"kind": "bad_gateway", "count": 1}), "/media_publish"));
    w.fault(applied(
        json!({"kind": "server_error", "code": 1, "status": 503, "count": 1}),
        "/threads_publish",
    ));
    let fb = w.add("facebook:777", "Out despite the 500", &[]);
    let ig = w.add("instagram:17841400000000002", "Out despite the 502", &["--image-url", IMAGE]);
    let th = w.add("threads:7000000000000001", "Out despite the 503", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    for (id, network, profile) in
        [(fb, "facebook", PAGE), (ig, "instagram", IG_LOGIN), (th, "threads", THREADS)]
    {
        let p = w.post(id);
        assert_eq!(state(&p), "published", "{network}: {p}");
        let posted = w.published(network, profile);
        assert_eq!(posted.len(), 1, "{network}: one copy on Meta: {posted:?}");
        let out = posted[0]["post_id"].as_str().or(posted[0]["id"].as_str()).unwrap();
        assert_eq!(p["remote_id"].as_str(), Some(out), "{network}: {p}");
    }
    // One publishing request each: nothing was resent.
    assert_eq!(w.count("POST", "/777/feed"), 1);
    // (The sandbox logs a faulted request once, with the fault's status.)
    assert_eq!(w.count("POST", "/media_publish") + w.count("POST", "/threads_publish"), 2);
}

#[test]
fn server_error_with_an_auth_code_for_a_post_that_went_out_is_published_not_auth() {
    // threads-go #30: Threads answered a 5xx with code 10 for a post that went out.
    let w = World::new();
    w.fault(applied(
        json!({"kind": "error", "status": 500, "code": 10,
               "message": "(#10) Application does not have permission for this action", "count": 1}),
        "/threads_publish",
    ));
    w.fault(applied(
        json!({"kind": "error", "status": 500, "code": 10, "message": "(#10) Permission denied", "count": 1}),
        "/888/feed",
    ));
    let th = w.add("threads:7000000000000001", "Out despite code 10", &[]);
    let fb = w.add("facebook:888", "Out despite code 10", &[]);
    let r = w.publish(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.json()["held"].as_array().unwrap().is_empty(), "no profile held: {r:?}");
    assert_eq!(state(&w.post(th)), "published");
    assert_eq!(state(&w.post(fb)), "published");
    assert_eq!(w.published("threads", THREADS).len(), 1);
    assert_eq!(w.published("facebook", PAGE2).len(), 1);
}

#[test]
fn server_error_when_nothing_went_out_is_not_a_verdict() {
    // Meta really failed (the fault is not `applied`): nothing is out.
    let w = World::new();
    w.fault(json!({"kind": "error", "status": 500, "code": 10, "message": "(#10) Permission denied",
                   "match": {"path": "/777/feed", "method": "POST"}, "count": 1}));
    w.fault(json!({"kind": "error", "status": 500, "code": 10, "message": "(#10) Permission denied",
                   "match": {"path": "/threads_publish", "method": "POST"}, "count": 1}));
    let fb = w.add("facebook:777", "Maybe out", &[]);
    let th = w.add("threads:7000000000000001", "Maybe out", &[]);
    let r = w.publish(&[]);
    // Facebook: a Page post has no container to tell, and the 5xx proves nothing: unknown
    // (exit 3), looked at again before anything is sent, never `failed` as auth.
    let p = w.post(fb);
    assert_eq!(state(&p), "unknown", "{p}");
    assert!(w.published("facebook", PAGE).is_empty());
    // Threads: the container says it did not go out, so Meta's code counts once looked into.
    let p = w.post(th);
    assert_eq!((state(&p), p["last_error"]["class"].as_str()), ("failed", Some("auth")), "{p}");
    assert!(p["container_id"].is_string(), "the container is kept: its status is read before any publish");
    assert!(w.published("threads", THREADS).is_empty());
    assert_eq!(r.code, 4, "auth wins over unknown: {r:?}");
    assert_eq!(r.json()["summary"]["unknown"], 1, "{r:?}");
    // The next run at once: the Page still doesn't show it, so nothing is sent.
    let before = w.count("POST", "/777/feed");
    let r = w.publish(&["facebook:777"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(state(&w.post(fb)), "unknown");
    assert_eq!(w.count("POST", "/777/feed"), before);
}
