//! `sq demo`: the whole repair story, for real, on an in-process sandbox.
//!
//! Nothing here imitates sq: every step runs the current executable as a child process, in a
//! temporary directory, against a sandbox on a random loopback port, and what the user sees is
//! that process's own output. The demo only does what a person would do around sq: type the
//! commands, let Meta break things (through the sandbox's control API), and click "Continue"
//! in the browser (by opening the consent URL on the sandbox and pasting the address it
//! redirects to back into `sq reauth --no-browser`).
//!
//! The world is the built-in `story` scenario, rewound to the day Dana connected her profiles:
//! Page 777's token is still alive and her Instagram Login token has a week left. The demo
//! imports those tokens with `sq token import` (which refuses dead tokens, so they must be
//! alive then), and then lets the sandbox play what happens next — the password change (190 /
//! 460 on 777's Page token) and the Instagram token running out — which brings the world to the
//! story's state. Acme Catering (888) is unticked in her grant from the start.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

mod http;

use crate::error::{Error, Kind};
use crate::output::{ColorChoice, Style};
use crate::sandbox::{SandboxOptions, SandboxThread, Scenario};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const USER_TOKEN: &str = "EAASandboxStoryUser00000000000000000001";
const PAGE_777_TOKEN: &str = "EAASandboxStoryPage777000000000000001";
const INSTAGRAM_TOKEN: &str = "IGAASandboxStoryInstagram0000000000001";
const THREADS_TOKEN: &str = "THAASandboxStoryThreads000000000000001";
const INSTAGRAM_LOGIN_ACCOUNT: &str = "17841400000000002";

/// The sandbox's app credentials (docs/sandbox.md): the demo configures sq with them through
/// the environment, as a user would with their own app's.
const APPS: [(&str, &str, &str, &str); 3] = [
    ("SQ_FACEBOOK_APP_ID", "111111111111111", "SQ_FACEBOOK_APP_SECRET", "sandbox-facebook-secret"),
    ("SQ_INSTAGRAM_APP_ID", "222222222222222", "SQ_INSTAGRAM_APP_SECRET", "sandbox-instagram-secret"),
    ("SQ_THREADS_APP_ID", "333333333333333", "SQ_THREADS_APP_SECRET", "sandbox-threads-secret"),
];

/// No step waits longer than this (each takes well under a second on the sandbox).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// How the demo was started: where the `sq` executable is, the color choices to pass on, and
/// the flag Ctrl-C sets.
pub struct Options {
    pub exe: PathBuf,
    pub color: ColorChoice,
    pub no_color: bool,
    pub force_color: bool,
    /// `--json`: the story's text (narration and the commands' output) goes to stderr, and
    /// stdout gets the [`Summary`].
    pub json: bool,
    pub cancel: Arc<AtomicBool>,
}

/// What the story ended with.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub schema_version: u32,
    /// `clean`: every profile ok and every post published once (the only way the demo succeeds).
    pub result: &'static str,
    pub steps: Vec<StepResult>,
    /// Posts the sandbox received, and how many distinct posts that was.
    pub published: usize,
    pub posts: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StepResult {
    pub command: String,
    pub exit_code: i32,
}

/// A private directory under the system temp dir, removed on drop (also on error and Ctrl-C,
/// since the demo unwinds to here before exiting).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn create() -> Result<TempDir, Error> {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| Error::failure("internal", format!("no randomness: {e}")))?;
        let path = std::env::temp_dir().join(format!("sq-demo-{}", hex::encode(rnd)));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&path).map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The narration: bold step titles and `$ command` lines on stdout, between the commands' own
/// output (stdout inherited, so it interleaves in order); all on stderr with `--json`.
struct Narrator {
    color: bool,
    to_stderr: bool,
}

impl Narrator {
    fn paint(&self, style: Style, text: &str) -> String {
        let code = match style {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Ok => "32",
            Style::Warn => "33",
            Style::Bad => "31",
        };
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    fn out(&self, text: &str) {
        if self.to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        } else {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{text}");
            let _ = o.flush();
        }
    }

    fn title(&self, n: usize, total: usize, text: &str) {
        self.out("");
        self.out(&self.paint(Style::Bold, &format!("==> {n}/{total}  {text}")));
    }

    fn say(&self, text: &str) {
        for line in text.lines() {
            self.out(&format!("    {line}"));
        }
    }

    fn command(&self, shown: &str) {
        self.out(&self.paint(Style::Dim, &format!("$ {shown}")));
    }
}

/// One sq invocation of the story.
struct Step<'a> {
    args: Vec<String>,
    /// What the `$` line shows, when it differs from `sq ARGS` (a token on stdin).
    shown: Option<String>,
    stdin: Option<&'a str>,
    expect: i32,
    /// Play the browser for `sq reauth --no-browser`.
    browser: bool,
}

impl<'a> Step<'a> {
    fn new(args: &[&str], expect: i32) -> Step<'a> {
        Step {
            args: args.iter().map(|s| s.to_string()).collect(),
            shown: None,
            stdin: None,
            expect,
            browser: false,
        }
    }
}

struct Story {
    exe: PathBuf,
    env: Vec<(String, String)>,
    color_flag: &'static str,
    sandbox: String,
    cancel: Arc<AtomicBool>,
    narrator: Narrator,
    steps: Vec<StepResult>,
}

/// Runs the story. The temporary directory and the sandbox live inside this call and are gone
/// when it returns, whatever it returns.
pub fn run(opts: &Options) -> Result<Summary, Error> {
    let tmp = TempDir::create()?;
    // The path goes to stderr so scripts (and tests/demo.rs) can check it is gone afterwards.
    eprintln!("sq demo: working in {} (removed when the demo ends)", tmp.path().display());
    let result = run_in(opts, &tmp);
    drop(tmp);
    result
}

fn run_in(opts: &Options, tmp: &TempDir) -> Result<Summary, Error> {
    let port = free_port()?;
    // https: the one redirect all three logins accept (Instagram Login and Threads take only
    // https, meta-platform.md §14); the demo pastes the redirect, so no browser meets the certificate.
    let redirect = format!("https://127.0.0.1:{port}/callback");
    let scenario = story_before(&redirect)?;
    let sandbox = SandboxThread::start(SandboxOptions::new(scenario))
        .map_err(|e| Error::failure("sandbox", format!("the demo's sandbox did not start: {e}")))?;
    let base = sandbox.base_url();

    let mut passphrase = [0u8; 24];
    getrandom::fill(&mut passphrase)
        .map_err(|e| Error::failure("internal", format!("no randomness: {e}")))?;
    let home = tmp.path().to_string_lossy().into_owned();
    // Everything the children see is set here: nothing from the user's shell leaks in
    // (SQ_CREDENTIAL_STORE=keyring, a real SQ_META_API_BASE, DBUS_SESSION_BUS_ADDRESS, ...).
    let mut env: Vec<(String, String)> = vec![
        ("HOME".into(), home.clone()),
        ("SQ_CONFIG_DIR".into(), tmp.path().join("config").to_string_lossy().into_owned()),
        ("SQ_DATA_DIR".into(), tmp.path().join("data").to_string_lossy().into_owned()),
        ("SQ_META_API_BASE".into(), base.clone()),
        ("SQ_CREDENTIAL_STORE".into(), "file".into()),
        ("SQ_STORE_PASSPHRASE".into(), hex::encode(passphrase)),
        ("SQ_NO_PROMPT".into(), "1".into()),
    ];
    for (id_var, id, secret_var, secret) in APPS {
        env.push((id_var.into(), id.into()));
        env.push((secret_var.into(), secret.into()));
    }
    if opts.no_color {
        env.push(("NO_COLOR".into(), "1".into()));
    }
    if opts.force_color {
        env.push(("CLICOLOR_FORCE".into(), "1".into()));
    }
    let color_out = match opts.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if opts.json => {
            !opts.no_color && (opts.force_color || is_terminal::IsTerminal::is_terminal(&std::io::stderr()))
        }
        ColorChoice::Auto => {
            !opts.no_color && (opts.force_color || is_terminal::IsTerminal::is_terminal(&std::io::stdout()))
        }
    };
    let mut story = Story {
        exe: opts.exe.clone(),
        env,
        color_flag: match opts.color {
            ColorChoice::Auto => "auto",
            ColorChoice::Always => "always",
            ColorChoice::Never => "never",
        },
        sandbox: base,
        cancel: opts.cancel.clone(),
        narrator: Narrator { color: color_out, to_stderr: opts.json },
        steps: Vec::new(),
    };
    let summary = story.play(&redirect);
    drop(sandbox);
    eprintln!("sq demo: sandbox stopped; removing {}", tmp.path().display());
    summary
}

/// The `story` world as it was before things broke (see the module comment), with the demo's
/// redirect URI registered in the Instagram and Threads apps (Meta matches those exactly; the
/// Facebook app is in development mode, where any loopback redirect is accepted).
fn story_before(redirect: &str) -> Result<Scenario, Error> {
    let internal = |e: String| Error::failure("internal", format!("the demo's world: {e}"));
    let story = Scenario::builtin("story").map_err(|e| internal(e.to_string()))?;
    let mut world = serde_json::to_value(&story).map_err(|e| internal(e.to_string()))?;
    for app in ["instagram_app", "threads_app"] {
        if let Some(uris) = world[app]["redirect_uris"].as_array_mut() {
            uris.push(json!(redirect));
        }
    }
    let tokens = world["tokens"].as_array_mut().ok_or_else(|| internal("no tokens".into()))?;
    for t in tokens.iter_mut() {
        let Some(obj) = t.as_object_mut() else { continue };
        match obj.get("token").and_then(Value::as_str) {
            Some(PAGE_777_TOKEN) => {
                obj.remove("invalid");
                obj.insert("parent".into(), json!(USER_TOKEN));
            }
            Some(INSTAGRAM_TOKEN) => {
                obj.insert("issued".into(), json!("53d"));
                obj.insert("expires_in".into(), json!("7d"));
            }
            _ => {}
        }
    }
    serde_json::from_value(world).map_err(|e| internal(e.to_string()))
}

fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::io("finding a free loopback port for the redirect", e))
}

impl Story {
    fn play(&mut self, redirect: &str) -> Result<Summary, Error> {
        const TOTAL: usize = 9;
        let n = &self.narrator;
        n.out(
            &n.paint(Style::Bold, "sq demo: a profile-repair story, run for real on an offline Meta sandbox"),
        );
        n.say(&format!(
            "Meta is played by sq's built-in sandbox (scenario \"story\") at {}.\n\
             Every command below is the real sq, run as you would run it; what follows each `$` line\n\
             is its own output. It all happens in a temporary directory that is removed at the end.\n\
             Credentials go to an encrypted file there with a random passphrase: no OS keyring is\n\
             needed or used, and your own sq config, data and keyring are never touched.",
            self.sandbox
        ));

        self.narrator.title(1, TOTAL, "Dana Rivera connects her profiles");
        self.narrator.say(
            "She manages three Facebook Pages (Acme Bakery, Acme Catering, Acme Events), the Instagram\n\
             account @acme.bakery linked to the bakery's Page, @acme.studio (Instagram Login) and\n\
             @acme.threads. The last time she logged in to the app she left Acme Catering unticked.\n\
             sq gets the redirect URI the demo's loopback port uses; the tokens come on stdin.",
        );
        self.exec(Step::new(&["config", "set", "redirect_uri", redirect], 0))?;
        for (network, token) in
            [("facebook", USER_TOKEN), ("instagram", INSTAGRAM_TOKEN), ("threads", THREADS_TOKEN)]
        {
            let mut s = Step::new(&["token", "import", network], 0);
            s.shown = Some(format!("printf '%s' \"$TOKEN\" | sq token import {network}"));
            s.stdin = Some(token);
            self.exec(s)?;
        }

        self.narrator.title(2, TOTAL, "She queues a post for each profile");
        let image = "https://cdn.example.com/acme/sourdough.jpg";
        let posts: [&[&str]; 5] = [
            &["queue", "add", "Acme Bakery", "--text", "Fresh sourdough at 8"],
            &["queue", "add", "facebook:888", "--text", "Catering menu for the holidays"],
            &["queue", "add", "@acme.bakery", "--text", "Fresh sourdough at 8", "--image-url", image],
            &["queue", "add", "instagram:17841400000000002", "--text", "Studio shots", "--image-url", image],
            &["queue", "add", "threads:7000000000000001", "--text", "Open at 8 today"],
        ];
        for args in posts {
            self.exec(Step::new(args, 0))?;
        }

        self.narrator.title(3, TOTAL, "Meanwhile, on Meta's side");
        self.narrator.say(
            "Dana changes her Facebook password: Meta ends the session Acme Bakery's Page token came\n\
             from (error 190, subcode 460). And nobody refreshed @acme.studio's Instagram Login token:\n\
             its 60 days run out. (The demo asks the sandbox to do both, through /_sandbox/events.)",
        );
        self.control("POST", "events", Some(json!({"event": "password_changed", "token": PAGE_777_TOKEN})))?;
        self.control(
            "POST",
            "events",
            Some(json!({"event": "expired", "account": INSTAGRAM_LOGIN_ACCOUNT})),
        )?;

        self.narrator.title(4, TOTAL, "The publishing run (cron, every minute) tries the queue");
        self.exec(Step::new(&["publish"], 4))?;

        self.narrator.title(5, TOTAL, "Why? sq diagnose says, profile by profile, and names the fix");
        self.exec(Step::new(&["diagnose"], 4))?;

        self.narrator.title(6, TOTAL, "Re-authorize Facebook: every Page, in one consent");
        self.narrator.say(
            "sq prints Meta's authorization URL and waits. The demo plays Dana's browser: it opens the\n\
             URL on the sandbox, whose consent screen grants everything on her behalf (every Page\n\
             ticked), and pastes the address the browser ends on back into sq.",
        );
        let mut s = Step::new(&["reauth", "facebook", "--all", "--no-browser"], 0);
        s.browser = true;
        self.exec(s)?;

        self.narrator.title(7, TOTAL, "Re-authorize @acme.studio with Instagram Login");
        self.narrator.say("The same, on Instagram's consent screen (again played by the demo).");
        let mut s = Step::new(
            &["reauth", "instagram", "instagram:17841400000000002", "--instagram-login", "--no-browser"],
            0,
        );
        s.browser = true;
        self.exec(s)?;

        self.narrator.title(8, TOTAL, "Put the failed posts back on the queue, and publish them");
        self.narrator.say("requeue checks each profile's health first; publish never sends a post twice.");
        self.exec(Step::new(&["requeue", "--failed"], 0))?;
        self.exec(Step::new(&["publish"], 0))?;

        self.narrator.title(9, TOTAL, "And the final check");
        self.exec(Step::new(&["diagnose"], 0))?;

        // What Meta (the sandbox) received: every post, each exactly once.
        let published = self.control("GET", "published", None)?;
        let items = published["published"].as_array().cloned().unwrap_or_default();
        let posts_count = posts.len();
        if items.len() != posts_count {
            return Err(Error::failure(
                "demo_failed",
                format!(
                    "the demo's story did not end clean: the sandbox received {} posts, expected {posts_count}",
                    items.len()
                ),
            ));
        }
        self.narrator.out("");
        self.narrator.out(&self.narrator.paint(
            Style::Ok,
            &format!(
                "The story ends clean: every profile is ok, and Meta (the sandbox) received each of the {posts_count} posts exactly once."
            ),
        ));
        self.narrator.say(
            "With your own app: `sq config set facebook.app_id …` (see the README), then\n\
             `sq reauth facebook` in your browser; `sq diagnose` tells you what to do next.",
        );
        Ok(Summary {
            schema_version: 1,
            result: "clean",
            steps: self.steps.clone(),
            published: items.len(),
            posts: posts_count,
        })
    }

    fn control(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Error> {
        let url = format!("{}/_sandbox/{path}", self.sandbox);
        let r = http::request(method, &url, body.as_ref())
            .map_err(|e| Error::failure("demo_failed", format!("the demo's sandbox: {e}")))?;
        if r.status != 200 {
            return Err(Error::failure(
                "demo_failed",
                format!("the demo's sandbox refused {method} /_sandbox/{path}: {} {}", r.status, r.body),
            ));
        }
        serde_json::from_str(&r.body).map_err(|e| {
            Error::failure("demo_failed", format!("the demo's sandbox answered {path} with bad JSON: {e}"))
        })
    }

    /// Runs one step as a child process and checks its exit code.
    fn exec(&mut self, step: Step<'_>) -> Result<(), Error> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(interrupted());
        }
        let shown = step.shown.clone().unwrap_or_else(|| format!("sq {}", shell_words(&step.args)));
        self.narrator.command(&shown);
        let mut cmd = Command::new(&self.exe);
        cmd.arg("--color").arg(self.color_flag).args(&step.args).env_clear();
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(if step.stdin.is_some() || step.browser { Stdio::piped() } else { Stdio::null() })
            .stdout(if self.narrator.to_stderr { Stdio::from(std::io::stderr()) } else { Stdio::inherit() })
            .stderr(if step.browser { Stdio::piped() } else { Stdio::inherit() });
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::io(format!("the demo could not run {}", self.exe.display()), e))?;
        let mut stdin = child.stdin.take();
        if let Some(data) = step.stdin {
            if let Some(mut w) = stdin.take() {
                // Dropped right after: sq sees the end of its input.
                let _ = w.write_all(data.as_bytes());
            }
        }
        let urls = step.browser.then(|| forward_stderr(&mut child));
        let code = self.wait(&mut child, urls, stdin)?;
        self.steps.push(StepResult { command: shown.clone(), exit_code: code });
        // Ctrl-C in a terminal reaches the child too (same process group): it ends with 130.
        if code == 130 || self.cancel.load(Ordering::SeqCst) {
            return Err(interrupted());
        }
        if code != step.expect {
            return Err(Error::failure(
                "demo_failed",
                format!(
                    "the demo stopped at `{shown}`: it exited with {code}, where the story expects {}",
                    step.expect
                ),
            )
            .hint("its output is above; this is a bug in sq or its demo, please report it"));
        }
        Ok(())
    }

    /// Waits for the child, playing the browser when its authorization URL appears, and ends
    /// it on Ctrl-C or after [`STEP_TIMEOUT`].
    fn wait(
        &self,
        child: &mut Child,
        urls: Option<mpsc::Receiver<String>>,
        mut stdin: Option<ChildStdin>,
    ) -> Result<i32, Error> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(exit_code(status)),
                Ok(None) => {}
                Err(e) => return Err(Error::io("waiting for a step of the demo", e)),
            }
            if self.cancel.load(Ordering::SeqCst) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(interrupted());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::failure(
                    "demo_failed",
                    format!(
                        "a step of the demo took longer than {} s and was stopped",
                        STEP_TIMEOUT.as_secs()
                    ),
                ));
            }
            if let Some(url) = urls.as_ref().and_then(|r| r.try_recv().ok()) {
                let location = self.browse(&url)?;
                // Said before pasting, so it shows before sq's answer to the paste.
                self.narrator.say(
                    "(the demo, as Dana's browser: consent granted on the sandbox; pasting the redirect address)",
                );
                if let Some(mut w) = stdin.take() {
                    let _ = writeln!(w, "{location}");
                    let _ = w.flush();
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The browser: GET the authorization URL on the sandbox; Meta answers the (auto-consented)
    /// dialog with a redirect to sq's loopback address. That address, without the fragment
    /// (`#_=_`), is what a person would paste.
    fn browse(&self, url: &str) -> Result<String, Error> {
        if !url.starts_with(&self.sandbox) {
            return Err(Error::failure(
                "demo_failed",
                format!("the authorization URL is not on the demo's sandbox: {url}"),
            ));
        }
        let r = http::request("GET", url, None)
            .map_err(|e| Error::failure("demo_failed", format!("the demo's browser: {e}")))?;
        let location = r.header("location").filter(|_| r.status == 302).ok_or_else(|| {
            Error::failure(
                "demo_failed",
                format!(
                    "the sandbox's consent screen did not redirect back to sq ({}): {}",
                    r.status, r.body
                ),
            )
        })?;
        Ok(location.split('#').next().unwrap_or(location).to_string())
    }
}

/// Copies the child's stderr to ours line by line, and sends the authorization URL (the first
/// word that looks like one) to the waiting loop.
fn forward_stderr(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if !sent {
                    if let Some(u) = line.split_whitespace().find(|w| {
                        w.starts_with("http")
                            && (w.contains("/dialog/oauth") || w.contains("/oauth/authorize"))
                    }) {
                        sent = tx.send(u.to_string()).is_ok();
                    }
                }
            }
        });
    }
    rx
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(c) = status.code() {
        return c;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    -1
}

pub fn interrupted() -> Error {
    Error::new(
        Kind::Interrupted,
        "interrupted",
        "the demo was interrupted; its temporary directory and sandbox are gone",
    )
}

/// Quotes arguments the way a shell would need them, for the `$` lines.
fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,".contains(c)) {
                a.clone()
            } else {
                format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\""))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
