//! What the test modules share. The test environment (after jj's `TestEnvironment`): each
//! test gets its own config and data directories and runs the real `sq` binary with a clean
//! environment. [`sandbox`]: a sandbox per test, the tests' browser and the control API.
//! [`snapshot`]: what varies between runs taken out of an output before it is snapshotted.
//! [`world`]: Dana's connected profiles with the sandbox, for the queue and publish tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod person;
pub mod sandbox;
pub mod snapshot;
pub mod world;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        let mut env = TestEnv { dir, vars: Vec::new() };
        let config = env.config_dir();
        let data = env.data_dir();
        env.set("SQ_CONFIG_DIR", config.to_str().unwrap());
        env.set("SQ_DATA_DIR", data.to_str().unwrap());
        let home = env.dir.path().to_str().unwrap().to_string();
        env.set("HOME", &home);
        env.set("SQ_NO_PROMPT", "1");
        env
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn set(&mut self, k: &str, v: &str) -> &mut TestEnv {
        self.vars.retain(|(name, _)| name != k);
        self.vars.push((k.to_string(), v.to_string()));
        self
    }

    pub fn unset(&mut self, k: &str) -> &mut TestEnv {
        self.vars.retain(|(name, _)| name != k);
        self
    }

    /// Use the encrypted file store with a fixed passphrase (no keyring needed).
    pub fn with_file_store(&mut self) -> &mut TestEnv {
        self.set("SQ_CREDENTIAL_STORE", "file").set("SQ_STORE_PASSPHRASE", "correct horse battery staple")
    }

    /// Use the real Secret Service of the surrounding D-Bus session (scripts/test starts one).
    pub fn with_session_bus(&mut self) -> &mut TestEnv {
        for k in ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"] {
            if let Ok(v) = std::env::var(k) {
                self.set(k, &v);
            }
        }
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sq"));
        cmd.args(args).env_clear();
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, "")
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_string();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(data.as_bytes());
        });
        let out: Output = child.wait_with_output().unwrap();
        let _ = writer.join();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Every file under `dir`, recursively, as bytes (for secret leak checks).
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The name libtest knows a test by in this binary (`test_db::two_processes_on_one_file`), for
/// running the binary again as a child with `--exact <name>`. `module` is `module_path!()` at
/// the test (`runner::test_db`): libtest leaves out the crate's own name.
pub fn test_name(module: &str, test: &str) -> String {
    match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{test}"),
        None => test.to_string(),
    }
}

static SHARED_KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Held by every test that uses the real Secret Service of the surrounding D-Bus session
/// (the one scripts/test starts). Those tests now share one process and one keyring, and they
/// write the same accounts (`facebook:777`, …) and check what is (not) there, so they take
/// turns. A test that failed while holding it doesn't stop the others.
pub fn shared_keyring() -> std::sync::MutexGuard<'static, ()> {
    SHARED_KEYRING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
