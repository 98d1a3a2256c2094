#![allow(clippy::unwrap_used)] // a test that cannot set up should panic loudly
//! The keyring backend against a real Secret Service, and without one.
//!
//! Real-keyring tests need `SQ_TEST_KEYRING=1` inside a D-Bus session with an unlocked
//! gnome-keyring (scripts/test sets that up). The "no Secret Service" tests change the
//! process's D-Bus address, which a test can't do to itself (set_var is unsafe and the
//! variable is shared by every test thread), so each runs this test binary again as a child
//! with the environment it needs, and reads what the child saw.

use crate::common::{shared_keyring, test_name};
use sq::secret::Secret;
use sq::settings::StoreKind;
use sq::store::{Account, CredentialStore, KeyringStore, StoreError};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

const CHILD_VAR: &str = "SQ_TEST_KEYRING_CHILD";
const SECRET: &str = "EAABkeyringtestvalue9876f3c1";

/// The shared real keyring, held until the guard drops; `None` (the test skips) without one.
fn real_keyring() -> Option<MutexGuard<'static, ()>> {
    if std::env::var("SQ_TEST_KEYRING").as_deref() == Ok("1") {
        return Some(shared_keyring());
    }
    eprintln!("skipped: set SQ_TEST_KEYRING=1 inside a D-Bus session with gnome-keyring (see scripts/test)");
    None
}

fn secret_tool(args: &[&str]) -> (bool, String) {
    let out = Command::new("secret-tool")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("secret-tool (libsecret-tools)");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn real_secret_service_round_trip() {
    let Some(_keyring) = real_keyring() else {
        return;
    };
    let store = KeyringStore::new(&sq::env::Env::from_process());
    assert_eq!(store.kind(), StoreKind::Keyring);
    assert_eq!(store.describe(), "Secret Service (keyring)");
    let account = Account::page("777");
    let _ = store.delete(&account); // a leftover from an interrupted run

    assert_eq!(store.load(&account).unwrap(), None);
    store.save(&account, &Secret::new(SECRET)).unwrap();
    assert_eq!(store.load(&account).unwrap().unwrap().expose(), SECRET);

    // Really in the keyring: in the one bundle item, findable by the names the docs give,
    // with a readable label, and no per-profile item.
    let bundle = || -> serde_json::Value {
        let (found, value) = secret_tool(&["lookup", "service", "sq", "account", "bundle:v1"]);
        assert!(found, "secret-tool lookup found no bundle");
        serde_json::from_str(&value).unwrap()
    };
    assert_eq!(bundle()["entries"]["facebook:777"], SECRET);
    let (_, listing) = secret_tool(&["search", "service", "sq", "account", "bundle:v1"]);
    assert!(listing.contains("label = sq: bundle:v1"), "{listing}");
    let (found, _) = secret_tool(&["lookup", "service", "sq", "account", "facebook:777"]);
    assert!(!found, "a per-profile item next to the bundle");

    // Replacing keeps one item.
    store.save(&account, &Secret::new("EAABsecondvalue000000f3c1")).unwrap();
    assert_eq!(store.load(&account).unwrap().unwrap().expose(), "EAABsecondvalue000000f3c1");
    let (_, listing) = secret_tool(&["search", "--all", "service", "sq", "account", "bundle:v1"]);
    assert_eq!(listing.matches("label = ").count(), 1, "{listing}");

    assert!(store.delete(&account).unwrap());
    assert!(!store.delete(&account).unwrap());
    assert_eq!(store.load(&account).unwrap(), None);
    assert!(bundle()["entries"].get("facebook:777").is_none(), "still in the bundle after delete");

    let probe = sq::store::probe(&store);
    assert!(probe.ok(), "{probe:?}");
    assert!(probe.elapsed < Duration::from_secs(9));
    let (_, listing) = secret_tool(&["search", "--all", "service", "sq"]);
    assert!(!listing.contains("probe:"), "probe entry left behind: {listing}");
}

/// Run by the parent tests below in a child process; does nothing in a normal run.
#[test]
fn child() {
    let Ok(timeout_ms) = std::env::var(CHILD_VAR) else { return };
    let env = sq::env::Env::from_process();
    let store = KeyringStore::new(&env).with_timeout(Duration::from_millis(timeout_ms.parse().unwrap()));
    let started = Instant::now();
    let save = store.save(&Account::page("777"), &Secret::new(SECRET));
    let load = store.load(&Account::page("777"));
    let elapsed = started.elapsed().as_millis();
    let describe = |r: Result<String, StoreError>| match r {
        Ok(v) => format!("ok {v}"),
        Err(StoreError::Unavailable { reason, .. }) => format!("unavailable {reason:?}"),
        Err(e) => format!("error {e:?}"),
    };
    let err = save.as_ref().err().map(|e| sq::error::Error::from(clone(e)));
    println!("\n@@SAVE {}", describe(save.map(|()| String::new())));
    println!("\n@@LOAD {}", describe(load.map(|v| format!("{}", v.is_some()))));
    println!("\n@@ELAPSED {elapsed}");
    if let Some(e) = err {
        println!("\n@@MESSAGE {} | {}", e.message, e.hints.join(" | "));
        println!("\n@@CODE {}", e.code);
    }
}

fn clone(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable { backend, reason } => {
            StoreError::Unavailable { backend: backend.clone(), reason: reason.clone() }
        }
        other => StoreError::Backend { backend: "?".into(), detail: other.to_string() },
    }
}

struct ChildRun {
    save: String,
    load: String,
    elapsed: Duration,
    message: String,
    code: String,
}

/// Runs [`child`] with `envs` (and `remove` unset) and a private HOME, then checks the secret
/// was written nowhere under it.
fn run_child(envs: &[(&str, &str)], remove: &[&str], timeout: Duration) -> ChildRun {
    run_child_in(None, envs, remove, timeout)
}

/// `session`: a shell script run inside a fresh `dbus-run-session` that prepares the bus and
/// then `exec "$0" "$@"` (the child test).
fn run_child_in(
    session: Option<&str>,
    envs: &[(&str, &str)],
    remove: &[&str],
    timeout: Duration,
) -> ChildRun {
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let child = test_name(module_path!(), "child");
    let child_args = ["--exact", &child, "--nocapture", "--test-threads=1"];
    let mut cmd = match session {
        None => Command::new(&exe),
        Some(script) => {
            let mut c = Command::new("dbus-run-session");
            c.args(["--", "sh", "-c", script]).arg(&exe);
            c
        }
    };
    let runtime = home.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    cmd.args(child_args)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env(CHILD_VAR, timeout.as_millis().to_string())
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("SQ_DATA_DIR", home.path().join("sq"))
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    for k in remove {
        cmd.env_remove(k);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.split_once(&format!("@@{prefix}")).map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("child printed no {prefix}: {stdout}"))
            .to_string()
    };
    assert_nothing_contains_secret(home.path());
    ChildRun {
        save: line("SAVE "),
        load: line("LOAD "),
        elapsed: Duration::from_millis(line("ELAPSED ").parse().unwrap()),
        message: line("MESSAGE "),
        code: line("CODE "),
    }
}

fn assert_nothing_contains_secret(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            assert_nothing_contains_secret(&p);
        } else {
            let bytes = std::fs::read(&p).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&bytes).contains(SECRET), "secret written to {}", p.display());
        }
    }
}

fn assert_offers_the_choices(run: &ChildRun) {
    assert_eq!(run.code, "store_unavailable");
    assert!(run.message.contains("Secret Service (keyring)"), "names the backend: {}", run.message);
    assert!(run.message.contains("SQ_CREDENTIAL_STORE=file"), "offers the file store: {}", run.message);
}

#[cfg(target_os = "linux")]
#[test]
fn no_session_bus_at_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("no-such-socket").display());
    let timeout = Duration::from_secs(3);
    let run = run_child(&[("DBUS_SESSION_BUS_ADDRESS", &address)], &[], timeout);
    assert!(run.save.starts_with("unavailable NoSession"), "{}", run.save);
    assert!(run.save.contains("no-such-socket"), "{}", run.save);
    assert!(run.load.starts_with("unavailable NoSession"), "{}", run.load);
    assert!(run.elapsed < 2 * timeout, "took {:?}", run.elapsed);
    assert!(run.message.contains("no D-Bus session"), "{}", run.message);
    assert_offers_the_choices(&run);
}

#[cfg(target_os = "linux")]
#[test]
fn no_session_bus_variable() {
    let runtime = tempfile::tempdir().unwrap();
    let run = run_child(
        &[("XDG_RUNTIME_DIR", runtime.path().to_str().unwrap())],
        &["DBUS_SESSION_BUS_ADDRESS"],
        Duration::from_secs(3),
    );
    assert!(run.save.starts_with("unavailable NoSession { address: None }"), "{}", run.save);
    assert!(run.message.contains("DBUS_SESSION_BUS_ADDRESS is not set"), "{}", run.message);
    assert_offers_the_choices(&run);
}

/// A socket that accepts connections and never says a word: a hung bus or daemon.
#[cfg(unix)]
#[test]
fn hung_bus_times_out() {
    use std::os::unix::net::UnixListener;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("silent");
    let listener = UnixListener::bind(&sock).unwrap();
    let keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(2) {
            held.push(conn);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    let timeout = Duration::from_millis(500);
    let run =
        run_child(&[("DBUS_SESSION_BUS_ADDRESS", &format!("unix:path={}", sock.display()))], &[], timeout);
    assert!(run.save.starts_with("unavailable Timeout"), "{}", run.save);
    assert!(run.load.starts_with("unavailable Timeout"), "{}", run.load);
    // Two calls, each bounded; allow for process start-up noise, not for a hang.
    assert!(run.elapsed < Duration::from_millis(2 * 500 + 700), "took {:?}", run.elapsed);
    assert!(run.message.contains("did not answer within 0.5 s"), "{}", run.message);
    assert_offers_the_choices(&run);
    drop(keep);
}

/// A real session bus with nothing providing org.freedesktop.secrets (and no activation, so
/// an installed gnome-keyring can't be started behind the test's back).
#[cfg(target_os = "linux")]
#[test]
fn session_bus_without_secret_service() {
    if Command::new("dbus-daemon").arg("--version").stdout(Stdio::null()).status().is_err() {
        eprintln!("skipped: dbus-daemon not installed (Debian: dbus)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("session.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            dir.path().join("bus").display()
        ),
    )
    .unwrap();
    let mut daemon = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--nopidfile"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let bus = dir.path().join("bus");
    let started = Instant::now();
    while !bus.exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let run = run_child(
        &[("DBUS_SESSION_BUS_ADDRESS", &format!("unix:path={}", bus.display()))],
        &[],
        Duration::from_secs(3),
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(run.save.starts_with("unavailable NoSecretService"), "{}", run.save);
    assert!(run.load.starts_with("unavailable NoSecretService"), "{}", run.load);
    assert!(run.elapsed < Duration::from_secs(6), "took {:?}", run.elapsed);
    assert!(run.message.contains("org.freedesktop.secrets"), "{}", run.message);
    assert!(run.message.contains("gnome-keyring"), "{}", run.message);
    assert_offers_the_choices(&run);
}

/// A real gnome-keyring whose collection is locked, with no way to show the unlock prompt.
#[cfg(target_os = "linux")]
#[test]
fn locked_collection() {
    // Its gnome-keyring is a fresh one in a session of its own: the shared one isn't touched.
    if real_keyring().is_none() {
        return;
    }
    let script = r#"eval "$(printf sq-test | gnome-keyring-daemon --unlock --components=secrets)"
dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
  org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
exec "$0" "$@""#;
    let timeout = Duration::from_secs(3);
    let run = run_child_in(Some(script), &[], &[], timeout);
    assert!(
        run.save.starts_with("unavailable Locked") || run.save.starts_with("unavailable Timeout"),
        "{}",
        run.save
    );
    eprintln!("locked keyring: {} after {:?}", run.save, run.elapsed);
    assert!(run.elapsed < 3 * timeout, "took {:?}", run.elapsed);
    assert!(run.message.contains("unlock"), "{}", run.message);
    assert_offers_the_choices(&run);
}
