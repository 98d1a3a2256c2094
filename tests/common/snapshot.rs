//! A command's output made comparable from run to run before it goes into a snapshot
//! (`tests/snapshots/`; how to review and update them: docs/testing.md).
//!
//! What varies between runs, and what it becomes:
//! - the test's temp directory (config, data, HOME) → `[tmp]`;
//! - the sandbox's address, and any port the test picked → what the test names it, e.g.
//!   `[sandbox]`, `[port]`;
//! - times, which follow the clock → their distance from now: `[now]` (within two minutes: a
//!   command and its snapshot run seconds apart), `[now+2h]`, `[now-3d]`, `[now+60d]`, so a
//!   snapshot still says "expires in 60 days". A time more than two years away is a date the
//!   test chose and stays as written;
//! - fields that are generated afresh on every run (tokens Meta issues, ids it hands out) →
//!   a placeholder, by path ([`Normalize::redact`]). Null stays null, so the snapshot still
//!   tells "set" from "not set".
#![allow(dead_code, clippy::unwrap_used)]

use super::{Run, TestEnv};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Default)]
pub struct Normalize {
    literals: Vec<(String, String)>,
    paths: Vec<(String, String)>,
}

impl Normalize {
    /// The test's temp directory becomes `[tmp]`.
    pub fn new(env: &TestEnv) -> Normalize {
        let mut n = Normalize::default();
        let dir = env.dir.path();
        // Longest first, so the canonical form (e.g. /private/var/... on macOS) is caught whole.
        if let Ok(canonical) = dir.canonicalize() {
            if canonical != dir {
                n = n.replace(canonical.to_str().unwrap(), "[tmp]");
            }
        }
        n.replace(dir.to_str().unwrap(), "[tmp]")
    }

    /// Every occurrence of `from` (an address, a port, a path) becomes `to`.
    pub fn replace(mut self, from: &str, to: &str) -> Normalize {
        assert!(!from.is_empty(), "an empty string can't be replaced");
        self.literals.push((from.to_string(), to.to_string()));
        self.literals.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        self
    }

    /// The value at `path` (`.key.key`, `[]` for every element of an array:
    /// `.profiles[].token.masked`) becomes `with`, unless it is null. A path that matches
    /// nothing fails the test: a misspelt path would otherwise let a varying value through.
    pub fn redact(mut self, path: &str, with: &str) -> Normalize {
        self.paths.push((path.to_string(), with.to_string()));
        self
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in &self.literals {
            out = out.replace(from, to);
        }
        relative_times(&out, now())
    }

    pub fn value(&self, v: &Value) -> Value {
        let mut v = v.clone();
        for (path, with) in &self.paths {
            let segments = parse_path(path);
            let hits = redact_at(&mut v, &segments, with);
            assert!(hits > 0, "redaction {path} matched nothing in {v}");
        }
        self.strings(&mut v);
        v
    }

    /// The run's stdout, which must be one JSON document, normalised.
    pub fn json(&self, run: &Run) -> Value {
        self.value(&run.json())
    }

    fn strings(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|x| self.strings(x)),
            Value::Object(map) => map.values_mut().for_each(|x| self.strings(x)),
            _ => {}
        }
    }
}

#[derive(Debug, PartialEq)]
enum Segment {
    Key(String),
    Each,
}

fn parse_path(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.').skip(1) {
        let (key, each) = match part.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (part, false),
        };
        assert!(!key.is_empty() || each, "bad redaction path {path}");
        if !key.is_empty() {
            out.push(Segment::Key(key.to_string()));
        }
        if each {
            out.push(Segment::Each);
        }
    }
    assert!(path.starts_with('.') && !out.is_empty(), "bad redaction path {path}");
    out
}

/// Replaces what `path` reaches; returns how many values it reached (null ones included).
fn redact_at(v: &mut Value, path: &[Segment], with: &str) -> usize {
    match path.split_first() {
        None => {
            if !v.is_null() {
                *v = Value::String(with.to_string());
            }
            1
        }
        Some((Segment::Key(k), rest)) => v.get_mut(k.as_str()).map_or(0, |x| redact_at(x, rest, with)),
        Some((Segment::Each, rest)) => {
            v.as_array_mut().map_or(0, |items| items.iter_mut().map(|x| redact_at(x, rest, with)).sum())
        }
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Every time within two years of `now`, written as its distance from `now`: RFC 3339 UTC
/// (`2026-12-01T23:07:13Z`, optionally with a fraction), as the JSON documents carry them, and
/// `2026-12-01 23:07 UTC`, as messages for people write them.
fn relative_times(text: &str, now: i64) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some((end, at)) = time_at(text, i) else {
            i += 1;
            continue;
        };
        if (at - now).abs() <= 2 * 365 * 86_400 {
            out.push_str(&text[copied..i]);
            out.push_str(&relative(at - now));
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// The time that starts at byte `i` of `text`, if one does: where it ends, and its Unix time.
fn time_at(text: &str, i: usize) -> Option<(usize, i64)> {
    let fits = |shape: &[u8], from: usize| {
        text.len() >= from + shape.len()
            && shape.iter().zip(&text.as_bytes()[from..]).all(|(want, got)| match want {
                b'd' => got.is_ascii_digit(),
                other => other == got,
            })
    };
    let bytes = text.as_bytes();
    if fits(b"dddd-dd-ddTdd:dd:dd", i) {
        let mut end = i + 19;
        if bytes.get(end) == Some(&b'.') {
            end += 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        if bytes.get(end) != Some(&b'Z') {
            return None;
        }
        end += 1;
        let at = time::OffsetDateTime::parse(&text[i..end], &time::format_description::well_known::Rfc3339);
        return at.ok().map(|at| (end, at.unix_timestamp()));
    }
    if fits(b"dddd-dd-dd dd:dd UTC", i) {
        let end = i + 20;
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        let at = time::PrimitiveDateTime::parse(&text[i..end - 4], &format).ok()?;
        return Some((end, at.assume_utc().unix_timestamp()));
    }
    None
}

/// `[now]` within two minutes; then minutes up to 90 min, hours up to two days, else days,
/// each rounded to the nearest.
fn relative(delta: i64) -> String {
    let sign = if delta < 0 { '-' } else { '+' };
    let a = delta.abs();
    if a < 120 {
        return "[now]".to_string();
    }
    let (n, unit) = if a < 90 * 60 {
        ((a + 30) / 60, "m")
    } else if a < 48 * 3600 {
        ((a + 1800) / 3600, "h")
    } else {
        ((a + 43_200) / 86_400, "d")
    };
    format!("[now{sign}{n}{unit}]")
}

#[test]
fn normalising_is_exact_about_what_it_changes() {
    let now = 1_800_000_000; // 2027-01-15T08:00:00Z
    // (text, what it becomes)
    let table = [
        ("at 2027-01-15T08:00:00Z.", "at [now]."),
        ("2027-01-15T08:01:30Z", "[now]"),
        ("2027-01-15T07:55:00.250Z", "[now-5m]"),
        ("2027-01-15T10:00:03Z", "[now+2h]"),
        ("2027-01-12T08:00:00Z and 2027-03-16T07:59:00Z", "[now-3d] and [now+60d]"),
        // A date the test chose, years away, stays.
        ("2030-01-01T08:00:00Z", "2030-01-01T08:00:00Z"),
        // Not a UTC time, or not a time at all.
        ("2027-01-15T08:00:00+02:00", "2027-01-15T08:00:00+02:00"),
        ("2027-01-15 08:00:00Z", "2027-01-15 08:00:00Z"),
        ("2027-13-45T08:00:00Z", "2027-13-45T08:00:00Z"),
        ("id 20270115T080000Z", "id 20270115T080000Z"),
        (
            "valid until 2027-03-16 08:00 UTC; issued 2027-01-15 07:59 UTC",
            "valid until [now+60d]; issued [now]",
        ),
        ("2027-01-16 08:00 CET", "2027-01-16 08:00 CET"),
        ("end 2027-01-15T08:00:00", "end 2027-01-15T08:00:00"),
        ("", ""),
    ];
    for (text, want) in table {
        assert_eq!(relative_times(text, now), want, "{text:?}");
    }

    let n = Normalize::default().replace("http://127.0.0.1:4242", "[sandbox]").replace("4242", "[port]");
    assert_eq!(n.text("http://127.0.0.1:4242/x port 4242"), "[sandbox]/x port [port]");
    let v = serde_json::json!({"posts": [{"id": 7, "remote_id": "777_1"}, {"id": 8, "remote_id": null}],
                               "at": "http://127.0.0.1:4242"});
    let got = n.redact(".posts[].remote_id", "[remote id]").value(&v);
    assert_eq!(
        got,
        serde_json::json!({"posts": [{"id": 7, "remote_id": "[remote id]"}, {"id": 8, "remote_id": null}],
                           "at": "[sandbox]"})
    );
    let missing = std::panic::catch_unwind(|| Normalize::default().redact(".nope[].x", "[x]").value(&v));
    assert!(missing.is_err(), "a path that matches nothing must fail");
}
