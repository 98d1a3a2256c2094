//! Start-up time of the binary (spec §8: `sq --version` and `sq profiles` in ≤ 10 ms).
//!
//! `cargo bench --bench startup` builds the release binary, then runs each command 100 times
//! one after another and prints the median and the 90th percentile. `sq profiles` runs on an
//! empty data directory, then on one holding 50 imported Pages (and their Instagram accounts)
//! in the encrypted file store, whose key derivation is deliberately slow.
//!
//! Citations: spec §n of docs/reference/spec.md.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn time_runs(bin: &Path, args: &[&str], env: &[(&str, &str)], n: usize) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let status = Command::new(bin)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        times.push(started.elapsed());
        assert!(status.success(), "sq {args:?} failed");
    }
    times.sort();
    (times[n / 2], times[n * 9 / 10])
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    let target =
        std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or(root.join("target"));
    let bin = target.join("release").join("sq");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    let base_env = [
        ("SQ_DATA_DIR", data.to_str().unwrap()),
        ("SQ_CONFIG_DIR", config.to_str().unwrap()),
        ("SQ_CREDENTIAL_STORE", "file"),
        ("SQ_STORE_PASSPHRASE", "bench"),
    ];
    // A baseline that does nothing, to see what process start costs on this machine.
    let (true_med, _) = time_runs(Path::new("/bin/true"), &[], &[], 100);
    let (v_med, v_p90) = time_runs(&bin, &["--version"], &base_env, 100);
    let (p_med, p_p90) = time_runs(&bin, &["profiles"], &base_env, 100);

    // 50 Pages imported from the sandbox: listing them reads the masks from the store, so the
    // file store's key derivation (Argon2id, deliberately slow) is part of this figure.
    let sb = sq::sandbox::SandboxThread::start(sq::sandbox::SandboxOptions::new(
        sq::sandbox::Scenario::builtin("pages:50").unwrap(),
    ))
    .unwrap();
    let base = sb.base_url();
    let mut import_env = base_env.to_vec();
    import_env.push(("SQ_META_API_BASE", base.as_str()));
    import_env.push(("SQ_FACEBOOK_APP_ID", "111111111111111"));
    import_env.push(("SQ_FACEBOOK_APP_SECRET", "sandbox-facebook-secret"));
    let mut child = Command::new(&bin)
        .args(["token", "import", "facebook"])
        .envs(import_env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"EAASandboxPagesUser00000000000000000001\n").unwrap();
    assert!(child.wait().unwrap().success(), "import failed");
    let (f_med, f_p90) = time_runs(&bin, &["profiles"], &base_env, 30);
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("{:<28} {:>10} {:>10}", "command", "median", "p90");
    println!("{:<28} {:>10.2?} {:>10}", "/bin/true (process start)", true_med, "");
    println!("{:<28} {:>10.2?} {:>10.2?}", "sq --version", v_med, v_p90);
    println!("{:<28} {:>10.2?} {:>10.2?}", "sq profiles (empty)", p_med, p_p90);
    println!("{:<28} {:>10.2?} {:>10.2?}", "sq profiles (75, file store)", f_med, f_p90);
    println!(
        "ratios: --version {:.1}× /bin/true; profiles {:.1}× /bin/true; target ≤ 10 ms each",
        v_med.as_secs_f64() / true_med.as_secs_f64(),
        p_med.as_secs_f64() / true_med.as_secs_f64()
    );
}
