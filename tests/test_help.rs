//! `sq … --help` of every command and subcommand, as the real binary prints it, frozen in
//! snapshots (`tests/snapshots/runner__test_help__*.snap`). The list of commands comes from the
//! clap tree, so a new command gets a snapshot (and a missing one fails) without editing this
//! file; a snapshot of a command that no longer exists fails too.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use clap::CommandFactory;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Every command path under `sq` (`["queue", "add"]`), the root first; clap's own `help`
/// subcommands are not sq's.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
        out.push(path.to_vec());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            walk(sub, &p, out);
        }
    }
    let mut root = sq::cli::Cli::command();
    root.build();
    let mut out = Vec::new();
    walk(&root, &[], &mut out);
    out
}

fn snapshot_name(path: &[String]) -> String {
    std::iter::once("sq")
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("_")
        .replace('-', "_")
}

#[test]
fn help_of_every_command() {
    let mut env = TestEnv::new();
    // The help a user without SQ_NO_PROMPT sees (clap would show the variable's value).
    env.unset("SQ_NO_PROMPT");
    let paths = command_paths();
    assert!(paths.len() >= 25, "{paths:?}");
    let mut failed = Vec::new();
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = env.run(&args);
        assert_eq!(run.code, 0, "sq {args:?}: {run:?}");
        assert!(run.stderr.is_empty(), "sq {args:?}: help goes to stdout: {run:?}");
        let name = snapshot_name(path);
        // Every command is checked (and every changed one written as .snap.new) before failing.
        let checked = catch_unwind(AssertUnwindSafe(|| insta::assert_snapshot!(name.as_str(), run.stdout)));
        if checked.is_err() {
            failed.push(format!("sq {} --help", path.join(" ")));
        }
    }
    assert!(
        failed.is_empty(),
        "help changed (review the .snap.new files, docs/testing.md):\n{}",
        failed.join("\n")
    );
}

/// A snapshot left over from a command that was removed or renamed is drift too.
#[test]
fn no_help_snapshot_without_its_command() {
    let want: Vec<String> =
        command_paths().iter().map(|p| format!("runner__test_help__{}.snap", snapshot_name(p))).collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("snapshots");
    let stale: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("runner__test_help__") && n.ends_with(".snap") && !want.contains(n))
        .collect();
    assert!(stale.is_empty(), "help snapshots of no command (delete them): {stale:?}");
}
