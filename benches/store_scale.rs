//! The credential store at agency scale, through the real binary: `token import`, `profiles`,
//! `diagnose` (stored profiles), `publish` and `requeue --failed` (with its health check) with
//! 1,000 and 10,000 Pages on one login, on the encrypted file store and (inside a D-Bus session
//! with gnome-keyring, `SQ_BENCH_KEYRING=1`) on a real Secret Service. Plain `main`
//! (harness = false); prints one table, times as ratios to one round trip to the sandbox
//! (50 ms of injected latency), and each command's peak RSS (`/usr/bin/time -f %M`).
//!
//! `publish` and `requeue` work on 100 posts (one on each of 100 Pages) whatever the number of
//! Pages stored: what grows with the Pages is the store and the database, not Meta's work.
//!
//! Run (see docs/performance.md):
//! `dbus-run-session -- bash -c 'eval "$(printf x | gnome-keyring-daemon --unlock --components=secrets)"; SQ_BENCH_KEYRING=1 cargo bench --bench store_scale'`

use sq::meta::{GraphClient, Limits, MetaEndpoints};
use sq::secret::Secret;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const LATENCY_MS: u64 = 50;
const USER_TOKEN: &str = "EAASandboxPagesUser00000000000000000001";
const PASSPHRASE: &str = "bench passphrase";
const POSTS: usize = 100;

struct Sandbox {
    child: Child,
    base: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(pages: usize) -> Res<Sandbox> {
    let port_file = std::env::temp_dir().join(format!("sq-bench-store-{}-{pages}.port", std::process::id()));
    let _ = std::fs::remove_file(&port_file);
    let child = Command::new(env!("CARGO_BIN_EXE_sq"))
        .args(["sandbox", "serve", "--scenario", &format!("pages:{pages}"), "--port", "0"])
        .args(["--latency-ms", &LATENCY_MS.to_string(), "--port-file"])
        .arg(&port_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut sb = Sandbox { child, base: String::new() };
    let started = Instant::now();
    loop {
        if let Some(port) =
            std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse::<u16>().ok())
        {
            let _ = std::fs::remove_file(&port_file);
            sb.base = format!("http://127.0.0.1:{port}");
            return Ok(sb);
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("the sandbox did not start within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One round trip: the median of sequential `GET /me`; also pins the sandbox's app usage at
/// 0 % (10,000 Pages are more calls than its hourly budget; rate limiting is not measured).
fn round_trip(rt: &tokio::runtime::Runtime, base: &str) -> Res<Duration> {
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/_sandbox/usage"))
            .json(&serde_json::json!({"app": {"call_count": 0, "total_time": 0, "total_cputime": 0}}))
            .send()
            .await?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let endpoints = MetaEndpoints::new(Some(base), None)?;
        let c = GraphClient::new(http, endpoints, None, Limits::default());
        let token = Secret::new(USER_TOKEN);
        let mut samples = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            c.me(&token).await?;
            samples.push(t.elapsed());
        }
        samples.sort();
        Ok(samples[samples.len() / 2])
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Store {
    File,
    Keyring,
}

fn sq(data: &Path, base: &str, store: Store, args: &[&str]) -> Command {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "@@RSS %M", env!("CARGO_BIN_EXE_sq")]).args(args);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", data)
        .env("SQ_CONFIG_DIR", data.join("config"))
        .env("SQ_DATA_DIR", data)
        .env("SQ_NO_PROMPT", "1")
        .env("SQ_META_API_BASE", base)
        .env("SQ_FACEBOOK_APP_ID", "111111111111111")
        .env("SQ_FACEBOOK_APP_SECRET", "sandbox-facebook-secret");
    match store {
        Store::File => {
            cmd.env("SQ_CREDENTIAL_STORE", "file").env("SQ_STORE_PASSPHRASE", PASSPHRASE);
        }
        Store::Keyring => {
            for k in ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"] {
                if let Ok(v) = std::env::var(k) {
                    cmd.env(k, v);
                }
            }
        }
    }
    cmd
}

struct Measured {
    wall: Duration,
    rss_mb: f64,
    code: i32,
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Res<Measured> {
    use std::io::Write;
    cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    if let Some(s) = stdin {
        child.stdin.take().ok_or("no stdin")?.write_all(s.as_bytes())?;
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output()?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss_kb: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("@@RSS "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN);
    let code = out.status.code().unwrap_or(-1);
    if code > 1 && code != 4 {
        eprintln!("{stderr}");
    }
    Ok(Measured { wall, rss_mb: rss_kb / 1024.0, code })
}

/// 100 posts, one on each of the first 100 Pages, due now (`state`: queued or failed).
fn fill_posts(data: &Path, state: &str) -> Res<()> {
    let mut conn = rusqlite::Connection::open(data.join("sq.db"))?;
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM post_requeues", [])?;
    tx.execute("DELETE FROM post_history", [])?;
    tx.execute("DELETE FROM posts", [])?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO posts (profile, network, text, original_at, scheduled_at, state, attempts, error_class,
                 error_code, error_message, created_at, updated_at, finished_at)
             VALUES (?1, 'facebook', ?2, 1000, 1000, ?3, ?4, ?5, ?6, ?7, 1000, 1000, ?8)",
        )?;
        for i in 0..POSTS {
            let failed = state == "failed";
            ins.execute(rusqlite::params![
                format!("facebook:{}", 20_000_000_000u64 + i as u64),
                format!("bench post {i}"),
                state,
                if failed { 1 } else { 0 },
                failed.then_some("auth"),
                failed.then_some(190),
                failed.then_some("session invalidated"),
                failed.then_some(2000),
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn clear_keyring() {
    let _ = Command::new("secret-tool").args(["clear", "service", "sq", "account", "bundle:v1"]).status();
}

fn main() -> Res<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut stores = vec![Store::File];
    if std::env::var("SQ_BENCH_KEYRING").as_deref() == Ok("1") {
        stores.push(Store::Keyring);
    } else {
        println!("(keyring rows skipped: set SQ_BENCH_KEYRING=1 inside a D-Bus session with gnome-keyring)");
    }
    println!("store   | Pages  | RTT ms | command            | wall s  | ÷ RTT  | peak RSS MB | exit");
    for store in stores {
        for pages in [1000usize, 10_000] {
            let sb = serve(pages)?;
            let rtt = round_trip(&rt, &sb.base)?;
            let dir = tempfile::tempdir()?;
            let data: PathBuf = dir.path().to_path_buf();
            if store == Store::Keyring {
                clear_keyring();
            }
            let name = if store == Store::File { "file" } else { "keyring" };
            let row = |what: &str, m: Measured| {
                println!(
                    "{name:<7} | {pages:>6} | {:>6.1} | {what:<18} | {:>7.3} | {:>6.1} | {:>11.1} | {}",
                    rtt.as_secs_f64() * 1000.0,
                    m.wall.as_secs_f64(),
                    m.wall.as_secs_f64() / rtt.as_secs_f64(),
                    m.rss_mb,
                    m.code
                );
            };
            let m = run(
                sq(&data, &sb.base, store, &["token", "import", "facebook"]),
                Some(&format!("{USER_TOKEN}\n")),
            )?;
            row("token import", m);
            let m = run(sq(&data, &sb.base, store, &["--json", "profiles"]), None)?;
            row("profiles", m);
            round_trip(&rt, &sb.base)?;
            let m = run(sq(&data, &sb.base, store, &["--json", "diagnose"]), None)?;
            row("diagnose", m);
            fill_posts(&data, "queued")?;
            let m = run(sq(&data, &sb.base, store, &["--json", "publish"]), None)?;
            row("publish (100)", m);
            fill_posts(&data, "failed")?;
            round_trip(&rt, &sb.base)?;
            let m = run(sq(&data, &sb.base, store, &["--json", "requeue", "--failed"]), None)?;
            row("requeue (100)", m);
            if store == Store::Keyring {
                clear_keyring();
            }
        }
    }
    Ok(())
}
