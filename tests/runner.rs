//! The one integration-test binary, in the shape of jj's `cli/tests/runner.rs`: every
//! `tests/test_*.rs` file is a module of this crate and `common` holds what they share. One
//! binary links once instead of once per file, and the tests of every file run in one pool of
//! test threads instead of one file after another.
//!
//! `Cargo.toml` says `autotests = false`, so a file in `tests/` that is not listed below is not
//! compiled at all; the first test fails when that happens.
//!
//! Run one module or one test: `cargo test --test runner test_queue::` or
//! `cargo test --test runner -- --exact test_cli::version_prints_the_version`.

mod common;

#[test]
fn every_test_file_is_a_module_of_the_runner() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let runner = std::fs::read_to_string(tests.join("runner.rs")).expect("tests/runner.rs");
    let declared: Vec<&str> =
        runner.lines().filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';')).collect();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&tests).expect("tests/").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            // A `tests/<dir>/main.rs` would be a test binary of its own without `autotests = false`;
            // with it, nothing runs it.
            if path.join("main.rs").exists() {
                problems.push(format!("tests/{name}/main.rs: make it a tests/test_{name}.rs module"));
            }
            continue;
        }
        let Some(stem) = name.strip_suffix(".rs") else { continue };
        if stem == "runner" {
            continue;
        }
        if !stem.starts_with("test_") {
            problems.push(format!("tests/{name}: rename it tests/test_{stem}.rs and add `mod test_{stem};`"));
        } else if !declared.contains(&stem) {
            problems.push(format!("tests/{name}: add `mod {stem};` to tests/runner.rs"));
        }
    }
    for module in &declared {
        let present =
            tests.join(format!("{module}.rs")).exists() || tests.join(module).join("mod.rs").exists();
        if !present {
            problems.push(format!("tests/runner.rs declares `mod {module};` but there is no such file"));
        }
    }
    assert!(problems.is_empty(), "test files the runner would not run:\n{}", problems.join("\n"));
}

mod test_auth_listener;
mod test_browser_chromium;
mod test_cli;
mod test_db;
mod test_demo;
mod test_diagnose;
mod test_diagnose_collect;
mod test_generated;
mod test_help;
mod test_honest;
mod test_https_trust;
mod test_human_output;
mod test_import;
mod test_listener;
mod test_meta_api;
mod test_meta_client;
mod test_profiles;
mod test_publish;
mod test_publish_crash;
mod test_publish_not_ready;
mod test_publish_settle;
mod test_queue;
mod test_readme;
mod test_reauth;
mod test_reauth_person;
mod test_sandbox;
mod test_store_file;
mod test_store_keyring;
mod test_store_scale;
mod test_terminal;
