//! `sq requeue` of 100,000 failed posts (spec §8: ≤ 0.5 s), through the real binary: the
//! per-profile health check against the sandbox, then the requeue itself in one transaction
//! (the selection, the history and one `UPDATE` over the same condition, docs/queue.md).
//! Plain `main` (harness = false).
//!
//! The posts come with the least history a failed post has (added, claimed, failed).
//!
//! Each case runs `RUNS` times, the cases taking turns, and prints the median with the
//! fastest and slowest run: on a shared 2-core machine one run of the same binary varies by
//! ±20 % (docs/performance.md).
//!
//! Run: `cargo bench --bench requeue`.
//!
//! Citations: spec §n of docs/reference/spec.md.

#[path = "bench_common.rs"]
mod bench_common;

use bench_common::{Res, connect_pages, sq};
use sq::sandbox::{SandboxOptions, SandboxThread, Scenario};
use std::time::{Duration, Instant};

const POSTS: usize = 100_000;
const RUNS: usize = 5;
const PAGES: [(&str, &str); 3] = [
    ("777", "EAASandboxDefaultPage777000000000000001"),
    ("888", "EAASandboxDefaultPage888000000000000001"),
    ("999", "EAASandboxDefaultPage999000000000000001"),
];

fn fill(data: &std::path::Path) -> Res<()> {
    // Bulk insert straight in SQL: the benchmark measures requeue, not 100,000 `queue add`s.
    let mut conn = rusqlite::Connection::open(data.join("sq.db"))?;
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM post_requeues", [])?;
    tx.execute("DELETE FROM post_history", [])?;
    tx.execute("DELETE FROM posts", [])?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO posts (profile, network, text, original_at, scheduled_at, state, attempts, error_class,
                 error_code, error_message, created_at, updated_at, finished_at)
             VALUES (?1, 'facebook', ?2, 1000, 1000, 'failed', 1, 'auth', 190, 'session invalidated', 1000, 1000, 2000)",
        )?;
        for i in 0..POSTS {
            ins.execute(rusqlite::params![
                format!("facebook:{}", PAGES[i % PAGES.len()].0),
                format!("post {i}")
            ])?;
        }
    }
    // The least history a failed post has (added, claimed, failed), so the history index the
    // requeue adds to is as large as it would be.
    tx.execute_batch(
        "INSERT INTO post_history (post_id, at, event, to_state) SELECT id, 1000, 'added', 'queued' FROM posts;
         INSERT INTO post_history (post_id, at, event, from_state, to_state, attempt, owner)
             SELECT id, 1500, 'claimed', 'queued', 'publishing', 1, 'bench' FROM posts;
         INSERT INTO post_history (post_id, at, event, from_state, to_state, attempt, error_code, error_class, message)
             SELECT id, 2000, 'failed', 'publishing', 'failed', 1, 190, 'auth', 'session invalidated' FROM posts;",
    )?;
    tx.commit()?;
    Ok(())
}

fn time(data: &std::path::Path, base: &str, extra: &[&str]) -> Res<(Duration, usize)> {
    fill(data)?;
    let start = Instant::now();
    let out = sq(data, base).args(["--json", "requeue", "--failed"]).args(extra).output()?;
    let took = start.elapsed();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let n = v["requeued"].as_array().map_or(0, Vec::len);
    if !out.status.success() || n != POSTS {
        return Err(
            format!("requeue failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)).into()
        );
    }
    Ok((took, n))
}

fn main() -> Res<()> {
    let sb = SandboxThread::start(SandboxOptions {
        latency: Duration::from_millis(50),
        ..SandboxOptions::new(Scenario::load("default")?)
    })?;
    let dir = tempfile::tempdir()?;
    let data = dir.path();
    let pages: Vec<(String, String)> = PAGES.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    connect_pages(data, "EAASandboxDefaultUser0000000000000000001", &pages)?;
    // Warm-up (page cache, binary).
    time(data, &sb.base_url(), &["--force"])?;
    println!(
        "requeue of {POSTS} failed posts over {} profiles (sandbox latency 50 ms), {RUNS} runs each",
        PAGES.len()
    );
    let cases = [("with the health check", &[][..]), ("--force (no health check)", &["--force"][..])];
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for _ in 0..RUNS {
        for ((_, extra), took) in cases.iter().zip(runs.iter_mut()) {
            took.push(time(data, &sb.base_url(), extra)?.0.as_secs_f64());
        }
    }
    for ((label, _), mut took) in cases.iter().zip(runs) {
        took.sort_by(f64::total_cmp);
        println!(
            "  {label:<28} {POSTS} requeued in {:.2} s median ({:.2}–{:.2} s) (target ≤ 0.5 s)",
            took[took.len() / 2],
            took[0],
            took[took.len() - 1]
        );
    }
    Ok(())
}
