//! `sq diagnose` against spec §8: the real collection + engine for a pasted user token
//! (`diagnose --token -`) over sandbox worlds of 1,000 and 10,000 Pages with 50 ms of injected
//! latency. Plain `main` (harness = false); prints a table.
//!
//! The sandbox runs in its own process (`sq sandbox serve`), and each world size is diagnosed
//! in a fresh child process of this benchmark, so the peak memory (`VmHWM`) is one client
//! run's alone. The sandbox's computed app usage is pinned at 0 % (`POST /_sandbox/usage`):
//! 10,000 Pages are ~15,000 calls, past the sandbox's 10,000-calls/hour budget, and the
//! `rate_limited` warnings that follow are correct but not what is measured here.
//!
//! Run: `cargo bench --bench diagnose`. `SQ_BENCH_SKIP_SEQUENTIAL=1` skips the one-at-a-time
//! run (about 1,500 round trips, ~80 s).
//!
//! Citations: spec §n of docs/reference/spec.md.

use sq::cmd::diagnose::collect::{AppConfig, Apps, collect_for_token};
use sq::diagnose::diagnose;
use sq::meta::{GraphClient, Limits, MetaEndpoints};
use sq::secret::{AppSecret, Secret};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LATENCY_MS: u64 = 50;
const USER_TOKEN: &str = "EAASandboxPagesUser00000000000000000001";

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

fn serve(pages: usize) -> Result<Sandbox, Box<dyn std::error::Error>> {
    let port_file: PathBuf =
        std::env::temp_dir().join(format!("sq-bench-{}-{pages}.port", std::process::id()));
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
        if let Ok(s) = std::fs::read_to_string(&port_file) {
            if let Ok(port) = s.trim().parse::<u16>() {
                let _ = std::fs::remove_file(&port_file);
                sb.base = format!("http://127.0.0.1:{port}");
                return Ok(sb);
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("the sandbox did not start within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn apps() -> Apps {
    Apps {
        facebook: AppConfig::new("111111111111111", AppSecret::new("sandbox-facebook-secret")),
        ..Apps::default()
    }
}

fn client(base: &str, limits: Limits) -> Result<GraphClient, Box<dyn std::error::Error>> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let endpoints = MetaEndpoints::new(Some(base), None)?;
    Ok(GraphClient::new(http, endpoints, apps().facebook.credentials(), limits))
}

/// One round trip as this client sees it: the median of sequential `GET /me` (50 ms of
/// injected latency plus loopback and parsing).
async fn round_trip(base: &str) -> Result<Duration, Box<dyn std::error::Error>> {
    let c = client(base, Limits::default())?;
    let token = Secret::new(USER_TOKEN);
    let mut samples = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        c.me(&token).await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok(samples[samples.len() / 2])
}

struct Run {
    wall: Duration,
    profiles: usize,
    ok: usize,
}

async fn diagnose_token(base: &str, limits: Limits) -> Result<Run, Box<dyn std::error::Error>> {
    reqwest::Client::new()
        .post(format!("{base}/_sandbox/usage"))
        .json(&serde_json::json!({"app": {"call_count": 0, "total_time": 0, "total_cputime": 0}}))
        .send()
        .await?;
    let c = client(base, limits)?;
    let started = Instant::now();
    let facts = collect_for_token(&c, Secret::new(USER_TOKEN), None, &apps(), &|_, _| {}).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let report = diagnose(&facts, now);
    let wall = started.elapsed();
    let ok = report.summary.ok;
    Ok(Run { wall, profiles: report.profiles.len(), ok })
}

/// Peak resident set of this process (`VmHWM`), in MB.
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Child mode: `SQ_BENCH_CHILD=<pages>` runs one world and prints one table row.
#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var("SQ_BENCH_CHILD").ok().and_then(|v| v.parse::<usize>().ok()) {
        Some(pages) => child(pages).await,
        None => parent(),
    }
}

fn parent() -> Result<(), Box<dyn std::error::Error>> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "sq diagnose --token - benchmark: sandbox in a separate process, {LATENCY_MS} ms latency, {cores} cores"
    );
    println!(
        "{:>7} {:>9} {:>10} {:>8} {:>10} {:>13} {:>9} {:>12}",
        "pages", "profiles", "ok", "RTT ms", "wall ms", "wall/RTT", "speed-up", "peak RSS MB"
    );
    for pages in [1_000usize, 10_000] {
        let status =
            Command::new(std::env::current_exe()?).env("SQ_BENCH_CHILD", pages.to_string()).status()?;
        if !status.success() {
            return Err(format!("the {pages}-Page run failed").into());
        }
    }
    println!(
        "speed-up: the same work with Limits {{ max_in_flight: 1, batch_size: 1 }} (measured at 1,000 Pages only)"
    );
    println!("peak RSS: VmHWM of the client process (a fresh one per row; the sandbox is another process)");
    Ok(())
}

async fn child(pages: usize) -> Result<(), Box<dyn std::error::Error>> {
    {
        let sb = serve(pages)?;
        let rtt = round_trip(&sb.base).await?;
        // Warm the sandbox (it mints the Page tokens on first use) and measure the second run.
        let _ = diagnose_token(&sb.base, Limits::default()).await?;
        // Linux: writing 5 to clear_refs resets VmHWM, so the peak is the timed run's own.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let run = diagnose_token(&sb.base, Limits::default()).await?;
        let ratio = run.wall.as_secs_f64() / rtt.as_secs_f64();
        let speedup = if pages == 1_000 && std::env::var_os("SQ_BENCH_SKIP_SEQUENTIAL").is_none() {
            let one_at_a_time = Limits { max_in_flight: 1, batch_size: 1, ..Limits::default() };
            let seq = diagnose_token(&sb.base, one_at_a_time).await?;
            format!("{:.0}x", seq.wall.as_secs_f64() / run.wall.as_secs_f64())
        } else {
            String::from("n/a")
        };
        println!(
            "{:>7} {:>9} {:>10} {:>8.1} {:>10.0} {:>13.1} {:>9} {:>12.1}",
            pages,
            run.profiles,
            run.ok,
            rtt.as_secs_f64() * 1e3,
            run.wall.as_secs_f64() * 1e3,
            ratio,
            speedup,
            peak_mb().unwrap_or(f64::NAN)
        );
    }
    Ok(())
}
