//! The README's examples run as written, and every command's help teaches by example.
//!
//! Every line of every fenced `sh` block in README.md is either an sq example (it starts with
//! `sq ` or pipes into `sq`), run here against the sandbox, or on the [`NOT_RUN`] list with the
//! reason. Examples run in document order in one environment (temp config/data dirs, the
//! encrypted file store, the sandbox's app credentials, `$USER_TOKEN` & co. set to the sandbox
//! world's tokens), through `bash -o pipefail` with `sq` on PATH, so quoting, pipes and
//! redirections are the README's own. A block that starts its own sandbox (`sq sandbox serve
//! … &`) is a session of its own: a fresh environment pointed at that sandbox.
//!
//! Adjustments, each because the test machine is not a person at a terminal:
//! - `sq reauth`/`sq connect`: the browser is played by this test (as in tests/test_reauth.rs), so
//!   `--no-browser` is added (the URL is read from stderr, the consent redirect pasted on
//!   stdin); `--all` is added when no profile is named (the interactive Page choice needs a
//!   terminal); `--redirect-uri` names a free port (8765 may be taken here), https for
//!   Instagram Login and Threads (the only scheme they accept).
//! - `sq sandbox serve --port 8080 &`: started with a free port instead, and stopped at the end
//!   of its block.
//! - Output redirected to `/var/tmp/…` goes to the test's temp directory; `~` is the test's
//!   temp HOME.
//! - A pipe from sq into a tool that isn't installed (jq) runs the sq part only.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::sandbox::*;
use clap::{CommandFactory, Parser};
use serde_json::json;
use sq::sandbox::SandboxThread;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Lines of `sh` blocks that are deliberately not run, with why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo run --release -- demo",
        "builds a release binary; the demo itself runs below as `sq demo` and in tests/test_demo.rs",
    ),
    ("scripts/test", "the test suite itself: this test is part of it"),
    (
        "cargo install --path .",
        "would build and install into ~/.cargo/bin; the binary under test is the one cargo built",
    ),
    (
        "export ",
        "the block's settings (sandbox address, temp dirs, file store, app credentials) are what this test's environment provides, with its own sandbox port",
    ),
];

/// README examples that end with a non-zero exit on purpose (the default is 0).
const EXPECTED_EXIT: &[(&str, i32)] = &[
    // The story world has a Page left unticked in the grant: diagnose reports it broken.
    ("sq diagnose", 4),
];

const DEFAULT_USER: &str = "EAASandboxDefaultUser0000000000000000001";
const DEFAULT_IG: &str = "IGAASandboxDefaultInstagram000000000001";
const DEFAULT_TH: &str = "THAASandboxDefaultThreads00000000000001";

struct Example {
    line_no: usize,
    text: String,
}

struct Block {
    examples: Vec<Example>,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The `sh` blocks, with each line that is not blank, a comment or on [`NOT_RUN`].
fn sh_blocks(text: &str) -> (Vec<Block>, Vec<String>) {
    let mut blocks = Vec::new();
    let mut unknown = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(b) = current.as_mut() {
            if t.starts_with("```") {
                blocks.push(current.take().unwrap());
                continue;
            }
            if t.is_empty() || t.starts_with('#') || NOT_RUN.iter().any(|(p, _)| t.starts_with(p)) {
                continue;
            }
            if is_sq_example(t) {
                b.examples.push(Example { line_no: i + 1, text: t.to_string() });
            } else {
                unknown.push(format!("README.md:{}: {t}", i + 1));
            }
        } else if t == "```sh" {
            current = Some(Block { examples: Vec::new() });
        }
    }
    (blocks, unknown)
}

fn is_sq_example(line: &str) -> bool {
    line.starts_with("sq ") || line.contains("| sq ")
}

/// The sq command of an example: the words after `sq` up to a pipe, redirection or comment.
fn sq_words(line: &str) -> Vec<String> {
    let start = if line.starts_with("sq ") { 0 } else { line.find("| sq ").unwrap() + 2 };
    let rest = &line[start..];
    let end = rest.find(['|', '>', '#', ';']).unwrap_or(rest.len());
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in rest[..end].chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, ' ') => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn on_path(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// The test's session: a TestEnv wired to a sandbox, plus what a README reader has in their
/// shell ($USER_TOKEN, ...).
struct Session {
    env: TestEnv,
    bin: PathBuf,
    port: u16,
    _sandbox: Option<SandboxThread>,
    served: Option<Child>,
}

impl Session {
    fn new(sandbox: SandboxThread, port: u16) -> Session {
        let mut env = env_for(&sandbox);
        let bin = env.dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sq"), bin.join("sq")).unwrap();
        for (k, v) in [
            ("USER_TOKEN", DEFAULT_USER),
            ("TOKEN", DEFAULT_USER),
            ("IG_TOKEN", DEFAULT_IG),
            ("TH_TOKEN", DEFAULT_TH),
            ("FACEBOOK_APP_SECRET", FB_APP.1),
            ("THREADS_APP_SECRET", TH_APP.1),
        ] {
            env.set(k, v);
        }
        let home = env.dir.path().to_path_buf();
        std::fs::create_dir_all(home.join(".local/share/bash-completion/completions")).unwrap();
        Session { env, bin, port, _sandbox: Some(sandbox), served: None }
    }

    fn shell(&self, script: &str) -> Command {
        let mut cmd = Command::new("bash");
        cmd.args(["-o", "pipefail", "-c", script]).env_clear().current_dir(self.env.dir.path());
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", self.bin.display()));
        for (k, v) in &self.env.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs one example; returns its exit code and output for the assertion message.
    fn run(&mut self, ex: &Example) -> (i32, String) {
        let words = sq_words(&ex.text);
        let mut line = ex.text.replace("/var/tmp/", "./");
        // A pipe out of sq into a tool that isn't here: the sq part only.
        if line.starts_with("sq ") {
            if let Some(i) = line.find(" | ") {
                let tool = line[i + 3..].split_whitespace().next().unwrap_or("").to_string();
                if !on_path(&tool) {
                    line.truncate(i);
                }
            }
        }
        match words.get(1).map(String::as_str) {
            Some("sandbox") if line.trim_end().ends_with('&') => self.serve(&words),
            Some("reauth" | "connect") => self.reauth(&line, &words),
            _ => {
                let out = self.shell(&line).stdin(Stdio::null()).output().unwrap();
                let text = format!(
                    "--- stdout\n{}\n--- stderr\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                (out.status.code().unwrap_or(-1), text)
            }
        }
    }

    /// `sq sandbox serve … &`: on a free port; the rest of the block talks to it.
    fn serve(&mut self, words: &[String]) -> (i32, String) {
        let mut args: Vec<String> = Vec::new();
        let mut it = words[1..].iter();
        while let Some(w) = it.next() {
            if w == "--port" {
                it.next();
                continue;
            }
            if w != "&" {
                args.push(w.clone());
            }
        }
        let port_file = self.env.dir.path().join("sandbox-port");
        args.extend(["--port".into(), "0".into(), "--port-file".into(), port_file.display().to_string()]);
        let child = self
            .env
            .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                if let Ok(p) = p.trim().parse::<u16>() {
                    break p;
                }
            }
            assert!(Instant::now() < deadline, "sq sandbox serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        self.served = Some(child);
        self.env.set("SQ_META_API_BASE", &format!("http://127.0.0.1:{port}"));
        (0, String::new())
    }

    /// `sq reauth …`: the test plays the browser and pastes the redirect.
    fn reauth(&mut self, line: &str, words: &[String]) -> (i32, String) {
        let named = words.iter().skip(3).any(|w| !w.starts_with("--"));
        // Instagram Login and Threads accept only https redirect URIs (meta-platform.md §14).
        let https = words.iter().any(|w| w == "threads" || w == "--instagram-login");
        let scheme = if https { "https" } else { "http" };
        let mut extra = format!(" --timeout 30 --redirect-uri {scheme}://127.0.0.1:{}/callback", self.port);
        if !words.iter().any(|w| w == "--no-browser") {
            extra.push_str(" --no-browser");
        }
        if !named && !words.iter().any(|w| w == "--all") {
            extra.push_str(" --all");
        }
        let script = format!("exec {}{extra}", line.split('#').next().unwrap().trim());
        let mut child = self
            .shell(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let err = child.stderr.take().unwrap();
        let collector = std::thread::spawn(move || {
            let mut all = String::new();
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(u) = l
                    .split_whitespace()
                    .find(|w| w.contains("/dialog/oauth") || w.contains("/oauth/authorize"))
                {
                    let _ = tx.send(u.to_string());
                }
                all.push_str(&l);
                all.push('\n');
            }
            all
        });
        let mut stdout = child.stdout.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        if let Ok(url) = rx.recv_timeout(Duration::from_secs(20)) {
            let r = http("GET", &url, None);
            assert_eq!(r.status, 302, "consent did not redirect: {}", r.body);
            let location = r.header("location").unwrap().split('#').next().unwrap().to_string();
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "{location}").unwrap();
        }
        let status = child.wait().unwrap();
        let text =
            format!("--- stdout\n{}\n--- stderr\n{}", out_reader.join().unwrap(), collector.join().unwrap());
        (status.code().unwrap_or(-1), text)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(mut c) = self.served.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The default world, with the test's https redirect registered in the Instagram and Threads
/// apps (they match redirects exactly and take only https; the Facebook app is in development
/// mode).
fn default_session() -> Session {
    let port = free_port();
    let sb = sandbox("default");
    let mut world = control(&sb, "GET", "scenario", None);
    for app in ["instagram_app", "threads_app"] {
        world[app]["redirect_uris"]
            .as_array_mut()
            .unwrap()
            .push(json!(format!("https://127.0.0.1:{port}/callback")));
    }
    drop(sb);
    Session::new(sandbox_from(&world), port)
}

#[test]
fn readme_examples_run_against_the_sandbox() {
    let text = readme();
    let (blocks, unknown) = sh_blocks(&text);
    assert!(
        unknown.is_empty(),
        "README sh lines that are neither sq examples nor on NOT_RUN (add them to one):\n{}",
        unknown.join("\n")
    );
    let total: usize = blocks.iter().map(|b| b.examples.len()).sum();
    assert!(total >= 30, "only {total} examples found: is the extraction broken?");

    let mut main = default_session();
    let mut ran = 0;
    for block in &blocks {
        let own_sandbox = block.examples.iter().any(|e| e.text.starts_with("sq sandbox serve"));
        let mut separate = own_sandbox.then(|| {
            let mut s = default_session();
            // This session's Meta is the sandbox the block starts.
            s._sandbox = None;
            s
        });
        let session = separate.as_mut().unwrap_or(&mut main);
        for ex in &block.examples {
            let (code, output) = session.run(ex);
            let expected = if own_sandbox {
                EXPECTED_EXIT.iter().find(|(l, _)| *l == ex.text).map_or(0, |(_, c)| *c)
            } else {
                0
            };
            assert_ne!(code, 2, "README.md:{}: `{}` is a usage error\n{output}", ex.line_no, ex.text);
            assert_eq!(code, expected, "README.md:{}: `{}`\n{output}", ex.line_no, ex.text);
            ran += 1;
        }
    }
    assert_eq!(ran, total);
}

/// Every leaf command's long help has examples (and so do the commands that run on their own).
#[test]
fn every_command_help_has_examples() {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| s.get_name() != "help").collect();
        if subs.is_empty() || !cmd.is_subcommand_required_set() && !path.is_empty() {
            out.push((path.to_string(), cmd.clone().render_long_help().to_string()));
        }
        for s in subs {
            walk(s, format!("{path} {}", s.get_name()).trim(), out);
        }
    }
    let mut root = sq::cli::Cli::command();
    root.build();
    let mut helps = Vec::new();
    walk(&root, "", &mut helps);
    assert!(helps.len() >= 19, "{:?}", helps.iter().map(|h| &h.0).collect::<Vec<_>>());
    let missing: Vec<&str> =
        helps.iter().filter(|(_, h)| !h.contains("Examples:")).map(|(p, _)| p.as_str()).collect();
    assert!(missing.is_empty(), "sq {missing:?} --help: no \"Examples:\"");
    // And the examples in them parse: each `sq …` example line of a help is a valid command line.
    for (path, help) in &helps {
        let examples = help.split("Examples:").nth(1).unwrap_or("");
        for line in examples.lines().map(str::trim).take_while(|l| !l.starts_with("Usage:")) {
            if !line.starts_with("sq ") || line.contains(['|', '>', '<']) || line.ends_with('&') {
                continue;
            }
            let words = sq_words(line);
            let r = sq::cli::Cli::try_parse_from(&words);
            assert!(r.is_ok(), "`sq {path} --help` example `{line}` does not parse: {:?}", r.err());
        }
    }
}

#[test]
fn sh_block_extraction() {
    let (blocks, unknown) = sh_blocks(
        "text\n```sh\nsq diagnose   # c\n# only a comment\nprintf x | sq token import facebook\ncargo install --path .\nls\n```\n```ini\nsq no\n```\n",
    );
    assert_eq!(blocks.len(), 1);
    let lines: Vec<&str> = blocks[0].examples.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(lines, ["sq diagnose   # c", "printf x | sq token import facebook"]);
    assert_eq!(unknown, ["README.md:7: ls"]);
    assert_eq!(
        sq_words("sq queue add \"Acme Bakery\" --text 'a b' > x"),
        ["sq", "queue", "add", "Acme Bakery", "--text", "a b"]
    );
    assert_eq!(
        sq_words("printf '%s' \"$T\" | sq token import facebook # c"),
        ["sq", "token", "import", "facebook"]
    );
}
