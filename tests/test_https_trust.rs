//! The https certificate warning of `sq reauth` comes on every run until the certificate is
//! trusted, not only on the run that made it: the real binary, an https loopback redirect, the
//! browser played by a small program and the redirect pasted back.
#![allow(clippy::unwrap_used)]

use crate::common::TestEnv;
use crate::common::person::*;
use crate::common::sandbox::*;

const MARK: &str = "sq config set https.trusted_certificate ";

/// `sq reauth facebook --all` over `https://127.0.0.1:PORT/callback`: returns (exit code, stderr).
fn reauth_https(env: &TestEnv) -> (Option<i32>, String) {
    let redirect = format!("https://127.0.0.1:{}/callback", free_port());
    let mut child = env
        .command(&["reauth", "facebook", "--all", "--no-browser", "--redirect-uri", &redirect])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let l2 = lines.clone();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            l2.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let url = wait_for(20, "the authorization URL", || {
        lines.lock().unwrap().split_whitespace().find(|w| w.contains("/dialog/oauth")).map(str::to_string)
    });
    let r = http("GET", &url, None);
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.header("location").unwrap().split('#').next().unwrap().to_string();
    assert!(location.starts_with("https://127.0.0.1:"), "{location}");
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{location}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    let err = lines.lock().unwrap().clone();
    (out.status.code(), err)
}

fn fingerprint_in(stderr: &str) -> String {
    let at = stderr.find(MARK).unwrap_or_else(|| panic!("no trust hint: {stderr}"));
    stderr[at + MARK.len()..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn the_certificate_warning_comes_on_every_run_until_the_certificate_is_trusted() {
    let ids = People::new(40);
    let sb = people_sandbox(&ids);
    let env = env_for(&sb);

    // Made on the first run, kept on the second: both warn, with the same fingerprint.
    let (code, first) = reauth_https(&env);
    assert_eq!(code, Some(0), "{first}");
    assert!(first.contains("not private"), "{first}");
    let (code, second) = reauth_https(&env);
    assert_eq!(code, Some(0), "{second}");
    assert!(second.contains("not private"), "the warning must come again: {second}");
    let fp = fingerprint_in(&first);
    assert_eq!(fingerprint_in(&second), fp);
    assert_eq!(fp.split(':').count(), 32, "{fp}");

    // A fingerprint of another certificate doesn't silence it.
    let wrong = fp.chars().map(|c| if c == ':' { c } else { '0' }).collect::<String>();
    assert_eq!(env.run(&["config", "set", "https.trusted_certificate", &wrong]).code, 0);
    let (_, third) = reauth_https(&env);
    assert!(third.contains("not private"), "{third}");

    // Marked trusted: no warning (and said with -v only).
    assert_eq!(env.run(&["config", "set", "https.trusted_certificate", &fp.to_uppercase()]).code, 0);
    let (code, trusted) = reauth_https(&env);
    assert_eq!(code, Some(0), "{trusted}");
    assert!(!trusted.contains("not private") && !trusted.contains(MARK), "{trusted}");

    // A new certificate (the old one deleted) warns again: the setting names the old one.
    std::fs::remove_file(env.data_dir().join("localhost-cert.pem")).unwrap();
    let (_, renewed) = reauth_https(&env);
    assert!(renewed.contains("not private"), "{renewed}");
    assert_ne!(fingerprint_in(&renewed), fp);
}
