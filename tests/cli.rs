//! The command-line surface as a user meets it: global options, exit codes, errors.
#![allow(clippy::unwrap_used)]

mod common;
use common::TestEnv;

#[test]
fn help_lists_env_vars_and_exit_codes() {
    let env = TestEnv::new();
    let run = env.run(&["--help"]);
    assert_eq!(run.code, 0, "{run:?}");
    for needle in ["SQ_META_API_BASE", "SQ_CREDENTIAL_STORE", "Exit codes:", "130"] {
        assert!(run.stdout.contains(needle), "--help lacks {needle}: {run:?}");
    }
}

#[test]
fn version_prints_the_version() {
    let run = TestEnv::new().run(&["--version"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.trim(), format!("sq {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    for args in [&["no-such-command"][..], &["--color", "sometimes", "completions", "bash"], &["completions"]]
    {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "usage errors go to stderr: {run:?}");
    }
}

#[test]
fn bad_meta_base_is_a_usage_error_with_a_hint_in_json_too() {
    let mut env = TestEnv::new();
    env.set("SQ_META_API_BASE", "ftp://example");
    let run = env.run(&["--json", "completions", "bash"]);
    assert_eq!(run.code, 2, "{run:?}");
    let v = run.json();
    assert_eq!(v["error"]["exit_code"], 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("SQ_META_API_BASE"));
    assert!(run.stderr.contains("hint:"), "{run:?}");
}

#[test]
fn malformed_config_file_is_reported_with_its_path() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("config.toml"), "facebook = [").unwrap();
    let run = env.run(&["completions", "bash"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("config.toml"), "{run:?}");
}

#[test]
fn completions_for_every_shell() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = env.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains("sq"), "{shell}");
    }
}
