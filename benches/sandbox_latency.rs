//! The sandbox must never be a benchmark's bottleneck: 1,000 requests in flight with 50 ms of
//! injected latency each should take about 50 ms in total, and `/me/accounts` over a
//! 10,000-Page world must stay quick. Plain `main` (harness = false); prints its results.
//!
//! Run: `cargo bench --bench sandbox_latency`. Needs ~2,100 file descriptors (`ulimit -n`).

use std::time::{Duration, Instant};

use serde_json::Value;
use sq::sandbox::{SandboxOptions, Scenario, start};

const LATENCY_MS: u64 = 50;
const REQUESTS: usize = 1_000;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scenario = Scenario::builtin("default")?;
    let sb = start(SandboxOptions { port: 0, scenario, latency: Duration::from_millis(LATENCY_MS) }).await?;
    let control = format!("{}/_sandbox/latency", sb.base_url());
    let client = reqwest::Client::builder().pool_max_idle_per_host(REQUESTS).build()?;
    let url = format!("{}/graph.facebook.com/v27.0/me", sb.base_url());
    // Round 0 opens the connections; round 1 reuses them; round 2 has no latency at all, so
    // (round 1 - round 2) is what the injected latency costs: about one latency, not 1,000.
    for round in 0..3 {
        if round == 2 {
            client.post(&control).json(&serde_json::json!({"ms": 0})).send().await?;
        }
        let started = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..REQUESTS {
            let c = client.clone();
            let u = url.clone();
            set.spawn(async move {
                c.get(u)
                    .bearer_auth("EAASandboxDefaultUser0000000000000000001")
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
        }
        let mut ok = 0;
        while let Some(r) = set.join_next().await {
            if matches!(r, Ok(Ok(200))) {
                ok += 1;
            }
        }
        let wall = started.elapsed();
        let ms = if round == 2 { 0 } else { LATENCY_MS };
        println!(
            "{} {REQUESTS} concurrent GET /me, {ms} ms latency: {ok} ok, wall {:.1} ms = {:.2}x {LATENCY_MS} ms",
            ["cold", "warm", "baseline"][round],
            wall.as_secs_f64() * 1e3,
            wall.as_secs_f64() * 1e3 / LATENCY_MS as f64
        );
    }
    sb.shutdown().await;

    // /me/accounts over 10,000 Pages, no latency: every result page, 100 at a time.
    let built = Instant::now();
    let scenario = Scenario::builtin("pages:10000")?;
    let sb = start(SandboxOptions::new(scenario)).await?;
    println!("pages:10000 world built and started in {:.1} ms", built.elapsed().as_secs_f64() * 1e3);
    let mut next = Some(format!(
        "{}/graph.facebook.com/v27.0/me/accounts?fields=name,access_token,tasks,instagram_business_account&limit=100",
        sb.base_url()
    ));
    let started = Instant::now();
    let (mut pages, mut calls) = (0usize, 0usize);
    while let Some(u) = next.take() {
        let v: Value = client
            .get(&u)
            .bearer_auth("EAASandboxPagesUser00000000000000000001")
            .send()
            .await?
            .json()
            .await?;
        calls += 1;
        pages += v["data"].as_array().map(Vec::len).unwrap_or(0);
        next = v["paging"]["next"].as_str().map(str::to_string);
    }
    let wall = started.elapsed();
    println!(
        "/me/accounts over 10,000 Pages: {pages} Pages in {calls} calls, {:.1} ms total, {:.2} ms per call",
        wall.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3 / calls.max(1) as f64
    );
    sb.shutdown().await;
    Ok(())
}
