#![allow(clippy::unwrap_used)] // a test that cannot set up should panic loudly
//! Completions and man pages are generated from the clap tree and committed (habit 15).
//! This test fails when they drift; `SQ_UPDATE_GENERATED=1 cargo test --test generated`
//! rewrites them.

use clap_complete::Shell;
use std::path::Path;

fn check(path: &Path, want: &[u8], stale: &mut Vec<String>) {
    if std::env::var_os("SQ_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, want).unwrap();
        return;
    }
    match std::fs::read(path) {
        Ok(have) if have == want => {}
        _ => stale.push(path.display().to_string()),
    }
}

#[test]
fn completions_and_man_pages_match_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "sq.bash"),
        (Shell::Zsh, "_sq"),
        (Shell::Fish, "sq.fish"),
        (Shell::PowerShell, "_sq.ps1"),
        (Shell::Elvish, "sq.elv"),
    ] {
        check(&root.join("completions").join(file), &sq::docs::completions(shell), &mut stale);
    }
    let man_dir = root.join("docs").join("man");
    let pages = sq::docs::man_pages();
    for (name, text) in &pages {
        check(&man_dir.join(name), text, &mut stale);
    }
    // A page for a command that no longer exists is drift too.
    if let Ok(entries) = std::fs::read_dir(&man_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !pages.iter().any(|(n, _)| *n == name) {
                if std::env::var_os("SQ_UPDATE_GENERATED").is_some() {
                    std::fs::remove_file(entry.path()).unwrap();
                } else {
                    stale.push(format!("docs/man/{name} (no such command)"));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are out of date: {stale:?}\nrun: SQ_UPDATE_GENERATED=1 cargo test --test generated"
    );
}
