//! Snapshots of the human output of `diagnose`, `profiles`, `queue list` and the reauth
//! summary at 80 and 160 columns, in a world with a 120-character Page name and a
//! Cyrillic/Japanese/emoji one: every line fits, columns line up, names are ellipsized and
//! finding text wraps with a hanging indent. Masked tokens and times change from run to run and
//! are replaced by placeholders of the same width, so alignment is still what is checked.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::person::*;
use crate::common::sandbox::*;
use serde_json::json;

/// Same-width placeholders for what varies between runs: masked tokens (`EAAB…f3c1`) and
/// times (`2027-02-01 10:00`).
fn normalize(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut s = String::new();
        let mut i = 0;
        while i < chars.len() {
            // A date: dddd-dd-dd
            let is_digit = |j: usize| chars.get(j).is_some_and(char::is_ascii_digit);
            if (0..4).all(|k| is_digit(i + k))
                && chars.get(i + 4) == Some(&'-')
                && is_digit(i + 5)
                && is_digit(i + 6)
                && chars.get(i + 7) == Some(&'-')
                && is_digit(i + 8)
                && is_digit(i + 9)
            {
                s.push_str("0000-00-00");
                i += 10;
                if chars.get(i) == Some(&' ')
                    && is_digit(i + 1)
                    && is_digit(i + 2)
                    && chars.get(i + 3) == Some(&':')
                {
                    s.push_str(" 00:00");
                    i += 6;
                }
                continue;
            }
            s.push(chars[i]);
            i += 1;
        }
        // Masked tokens: every word holding "…" between letters and digits.
        let words: Vec<String> = s
            .split(' ')
            .map(|w| {
                let masked = w.contains('…')
                    && w.chars().filter(|c| *c != '…').all(|c| c.is_ascii_alphanumeric() || c == ':')
                    && w.chars().count() >= 8
                    && (w.starts_with("EAA") || w.starts_with("IGAA") || w.starts_with("TH"));
                if masked {
                    w.chars().map(|c| if c == '…' || c == ':' { c } else { 'x' }).collect()
                } else {
                    w.to_string()
                }
            })
            .collect();
        out.push(words.join(" "));
    }
    out.join("\n")
}

fn assert_fits(text: &str, cols: usize) {
    for line in text.lines() {
        assert!(sq::output::width(line) <= cols, "wider than {cols}: {line:?}");
    }
}

/// A connected people world: Page n03 (the unicode one) lost its role, two posts are queued.
fn world() -> (sq::sandbox::SandboxThread, TestEnv, People, String) {
    let ids = People::new(31);
    let sb = people_sandbox(&ids);
    let env = env_for(&sb);
    let summary = reauth_all_output(&env);
    control(
        &sb,
        "POST",
        "events",
        Some(json!({"event": "page_role_lost", "user": ids.user, "page": ids.pages[2]})),
    );
    for (i, text) in [
        (
            1,
            "Fresh sourdough every morning from six: come early, the rye goes first and the croissants soon after",
        ),
        (2, "Ёлка: новые пирожки 🥐 東京"),
    ] {
        let r = env.run(&["queue", "add", &ids.reference(i), "--text", text, "--at", "2030-01-01T09:00:00Z"]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    (sb, env, ids, summary)
}

#[test]
fn human_output_at_80_and_160_columns() {
    let (_sb, mut env, _ids, summary) = world();
    for cols in [80usize, 160] {
        env.set("COLUMNS", &cols.to_string());
        for (name, args) in [
            ("diagnose", vec!["diagnose"]),
            ("profiles", vec!["profiles"]),
            ("queue_list", vec!["queue", "list"]),
        ] {
            let r = env.run(&args);
            assert!(r.code == 0 || r.code == 4, "{r:?}");
            assert_fits(&r.stdout, cols);
            insta::assert_snapshot!(format!("{name}_{cols}"), normalize(&r.stdout));
        }
    }
    // Without a terminal or COLUMNS, nothing is cut: scripts get whole names.
    env.unset("COLUMNS");
    let r = env.run(&["profiles"]);
    assert!(r.stdout.contains(LONG_NAME), "{r:?}");
    assert!(summary.contains(LONG_NAME), "{summary}");
}

#[test]
fn reauth_summary_at_80_and_160_columns() {
    for (n, cols) in [(32u32, 80usize), (33, 160)] {
        let ids = People::new(n);
        let sb = people_sandbox(&ids);
        let mut env = env_for(&sb);
        // Connect everything, then reconnect two Pages: the others are kept, and the unicode
        // Page, whose role was lost meanwhile, is reported as still broken.
        connect_all(&env);
        control(
            &sb,
            "POST",
            "events",
            Some(json!({"event": "page_role_lost", "user": ids.user, "page": ids.pages[2]})),
        );
        env.set("COLUMNS", &cols.to_string());
        let out = reauth_args_output(&env, &[&ids.reference(0), &ids.reference(1)]);
        assert_fits(&out, cols);
        let normalized = normalize(&out).replace(&ids.user, "USER");
        let normalized = normalized.replace(&format!("9{n:02}"), "9NN");
        insta::assert_snapshot!(format!("reauth_summary_{cols}"), normalized);
        assert!(out.contains("still broken"), "{out}");
    }
}

/// `sq reauth facebook PROFILE...` played as in [`reauth_all_output`].
fn reauth_args_output(env: &TestEnv, profiles: &[&str]) -> String {
    let mut extra = vec!["reauth", "facebook"];
    extra.extend_from_slice(profiles);
    crate::common::person::reauth_output(env, &extra)
}

/// A repeated fix is shown once: after a password change every Page of the login needs the
/// same `sq reauth facebook`, so the human report points each finding at one shared fix that
/// names all the Pages; `--json` keeps each finding's own fix.
#[test]
fn a_fix_several_profiles_share_is_shown_once() {
    let sb = sandbox("story");
    let mut env = env_for(&sb);
    let r = env.run_stdin(&["token", "import", "facebook"], "EAASandboxStoryUser00000000000000000001\n");
    assert_eq!(r.code, 0, "{r:?}");
    control(&sb, "POST", "events", Some(json!({"event": "password_changed", "user": "100000000000001"})));
    env.set("COLUMNS", "100");
    let r = env.run(&["diagnose"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert_fits(&r.stdout, 100);
    assert_eq!(r.stdout.matches("run: sq reauth facebook").count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("run: sq reauth facebook facebook:777 facebook:888 facebook:999"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("log in to Facebook with the current password").count(), 2, "{}", r.stdout);
    insta::assert_snapshot!("diagnose_shared_fix_100", normalize(&r.stdout));

    let j = env.run(&["--json", "diagnose"]).json();
    let commands: Vec<&str> = j["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["findings"].as_array().unwrap())
        .filter_map(|f| f["fix"]["command"].as_str())
        .collect();
    for page in ["777", "888", "999"] {
        let want = format!("sq reauth facebook facebook:{page}");
        assert!(commands.contains(&want.as_str()), "{commands:?}");
    }
}

/// The import summary gives each fix once: two Pages left unticked in the grant get one
/// `sq reauth facebook` hint naming both, not a hint on each row.
#[test]
fn import_summary_gives_a_shared_hint_once() {
    let base = sandbox("story");
    let mut world = control(&base, "GET", "scenario", None);
    drop(base);
    let only_777 = json!({"pages_show_list": ["777"], "pages_read_engagement": ["777"],
                          "pages_manage_posts": ["777"]});
    for t in world["tokens"].as_array_mut().unwrap() {
        if t.get("targets").is_some_and(|v| !v.is_null()) {
            t["targets"] = only_777.clone();
        }
    }
    let sb = sandbox_from(&world);
    let mut env = env_for(&sb);
    env.set("COLUMNS", "100");
    let r = env.run_stdin(&["token", "import", "facebook"], "EAASandboxStoryUser00000000000000000001\n");
    assert_eq!(r.code, 0, "{r:?}");
    assert_fits(&r.stdout, 100);
    assert_eq!(r.stderr.matches("sq reauth facebook").count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("sq reauth facebook facebook:888 facebook:999"), "{}", r.stderr);
    assert!(!r.stdout.contains("sq reauth"), "{}", r.stdout);
    insta::assert_snapshot!(
        "import_shared_hint_100",
        format!("{}\n--- stderr\n{}", normalize(&r.stdout), r.stderr)
    );
}
