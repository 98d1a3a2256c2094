//! `sq publish` throughput against the sandbox with 50 ms of latency across many Facebook
//! Pages: posts of different profiles go out concurrently, each profile's in order. Compares
//! the wall time with the sequential floor (one round trip per post) and checks every post
//! reached the sandbox exactly once and in order. Plain `main` (harness = false).
//!
//! Run: `cargo bench --bench publish`.

#[path = "bench_common.rs"]
mod bench_common;

use bench_common::{Res, connect_pages, sq};
use serde_json::Value;
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use std::time::{Duration, Instant};

const PAGES: usize = 48;
const PER_PAGE: usize = 5;
const USER: &str = "EAASandboxPagesUser00000000000000000001";

fn main() -> Res<()> {
    let sb = SandboxThread::start(SandboxOptions {
        latency: Duration::from_millis(50),
        ..SandboxOptions::new(Scenario::load(&format!("pages:{PAGES}"))?)
    })?;
    let base = sb.base_url();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let http = reqwest::Client::new();
    let get = |url: String| rt.block_on(async { http.get(url).send().await?.json::<Value>().await });
    let accounts = get(format!(
        "{base}/graph.facebook.com/v27.0/me/accounts?limit=100&fields=id,access_token&access_token={USER}"
    ))?;
    let pages: Vec<(String, String)> = accounts["data"]
        .as_array()
        .ok_or("no /me/accounts data")?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?.to_string(), p["access_token"].as_str()?.to_string())))
        .collect();
    if pages.len() != PAGES {
        return Err(format!("expected {PAGES} pages, got {}", pages.len()).into());
    }
    let dir = tempfile::tempdir()?;
    let data = dir.path();
    connect_pages(data, USER, &pages)?;
    for i in 0..PER_PAGE {
        for (id, _) in &pages {
            let out = sq(data, &base)
                .args(["queue", "add", &format!("facebook:{id}"), "--text", &format!("post {i} for {id}")])
                .output()?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
            }
        }
    }
    // One round trip as a client sees it.
    let t = Instant::now();
    for _ in 0..5 {
        get(format!("{base}/graph.facebook.com/v27.0/me?access_token={USER}"))?;
    }
    let rtt = t.elapsed() / 5;

    let start = Instant::now();
    let out = sq(data, &base).args(["--json", "publish"]).output()?;
    let took = start.elapsed();
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let published = v["summary"]["published"].as_u64().unwrap_or(0) as usize;
    let total = PAGES * PER_PAGE;
    if !out.status.success() || published != total {
        return Err(format!("publish: {} {}", out.status, String::from_utf8_lossy(&out.stderr)).into());
    }
    // Exactly once, in order, per Page.
    for (id, _) in &pages {
        let p = get(format!("{base}/_sandbox/published?profile={id}&network=facebook"))?;
        let texts: Vec<&str> =
            p["published"].as_array().ok_or("published")?.iter().filter_map(|x| x["text"].as_str()).collect();
        let want: Vec<String> = (0..PER_PAGE).map(|i| format!("post {i} for {id}")).collect();
        if texts != want.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(format!("page {id}: {texts:?}").into());
        }
    }
    let floor = rtt * total as u32;
    println!("publish of {total} posts over {PAGES} Pages (sandbox latency 50 ms)");
    println!("  round trip            {:.1} ms", rtt.as_secs_f64() * 1000.0);
    println!("  wall                  {:.2} s", took.as_secs_f64());
    println!("  one at a time (floor) {:.2} s", floor.as_secs_f64());
    println!("  speed-up              {:.1}×", floor.as_secs_f64() / took.as_secs_f64());
    println!("  posts per second      {:.0}", total as f64 / took.as_secs_f64());
    Ok(())
}
