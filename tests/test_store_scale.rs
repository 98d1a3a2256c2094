#![allow(clippy::unwrap_used)]
//! The credential store at scale (docs/ARCHITECTURE.md, "The credential store at scale"):
//! how many round trips to the store a command makes with 1,000 stored Pages, counted through
//! `SQ_DEBUG_STORE_TRACE` (docs/testing.md), and the migration of per-profile keyring entries
//! into the bundle without losing a token. Not timed: the counts are the access pattern.

use crate::common::sandbox::*;
use crate::common::{TestEnv, shared_keyring};
use sq::secret::Secret;
use sq::store::{Account, CredentialStore, FileStore, KeyringStore};
use std::path::Path;

const USER: &str = "EAASandboxPagesUser00000000000000000001";

/// The backend round trips logged in `trace` since it was last cleared.
fn trips(trace: &Path) -> Vec<String> {
    let out = std::fs::read_to_string(trace).unwrap_or_default().lines().map(str::to_string).collect();
    let _ = std::fs::remove_file(trace);
    out
}

fn real_keyring() -> Option<std::sync::MutexGuard<'static, ()>> {
    if std::env::var("SQ_TEST_KEYRING").as_deref() == Ok("1") {
        return Some(shared_keyring());
    }
    eprintln!("skipped: set SQ_TEST_KEYRING=1 inside a D-Bus session with gnome-keyring (see scripts/test)");
    None
}

/// Imports the 1,000-Page login, then counts the store round trips of `diagnose`, `profiles`
/// and `token print`, and checks `profiles remove` still removes one Page's token.
fn access_pattern(env: &mut TestEnv, backend: &str) {
    let trace = env.data_dir().parent().unwrap().join("store-trace");
    env.set("SQ_DEBUG_STORE_TRACE", trace.to_str().unwrap());

    let r = env.run_stdin(&["token", "import", "facebook", "--json"], &format!("{USER}\n"));
    assert_eq!(r.code, 0, "{r:?}");
    let imported = r.json()["profiles"].as_array().unwrap().len();
    assert!(imported >= 1000, "{imported}");
    let t = trips(&trace);
    // One batched write for the login's user token and its 1,000 Page tokens (plus the
    // reads of the read-modify-write and the app secret lookup): a handful, not thousands.
    assert!(!t.is_empty() && t.len() <= 6, "{backend} import: {t:?}");
    assert!(t.iter().all(|l| l.starts_with(backend)), "{t:?}");

    let r = env.run(&["diagnose", "--json"]);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    let t = trips(&trace);
    assert!(!t.is_empty(), "diagnose read no secret at all: {r:?}");
    assert!(t.len() <= 8, "{backend} diagnose: {} round trips: {t:?}", t.len());

    // `profiles` works from the database alone: no round trip to the store, masks shown.
    let r = env.run(&["profiles", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let t = trips(&trace);
    let listed = r.json();
    let unmasked: Vec<&serde_json::Value> =
        listed["profiles"].as_array().unwrap().iter().filter(|p| p["token"]["masked"].is_null()).collect();
    assert!(t.is_empty(), "{backend} profiles: {t:?}, {unmasked:?}");
    let p999 = listed["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"] == "facebook:20000000999")
        .unwrap();
    let masked = p999["token"]["masked"].as_str().unwrap().to_string();

    // `token print` still works per profile, from the batched layout.
    let r = env.run(&["token", "print", "facebook:20000000999"]);
    assert_eq!(r.code, 0, "{r:?}");
    let token = r.stdout.trim().to_string();
    assert!(token.starts_with("EAA"), "{r:?}");
    assert_eq!(sq::secret::Secret::new(token.as_str()).masked(), masked);
    let t = trips(&trace);
    assert!(!t.is_empty() && t.len() <= 2, "{backend} token print: {t:?}");
    // The database keeps the mask, never the token.
    for (path, bytes) in crate::common::all_files(&env.data_dir()) {
        assert!(!crate::common::contains(&bytes, &token), "{} holds the token", path.display());
    }

    // `profiles remove` of one Page removes just its token.
    let r = env.run(&["profiles", "remove", "facebook:20000000998"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = env.run(&["token", "print", "facebook:20000000998"]);
    assert_ne!(r.code, 0, "{r:?}");
    let r = env.run(&["token", "print", "facebook:20000000997"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn file_store_1000_pages_constant_round_trips() {
    let sb = sandbox("pages:1000");
    let mut env = env_for(&sb);
    access_pattern(&mut env, "file");
}

#[test]
fn keyring_1000_pages_constant_round_trips() {
    let Some(_k) = real_keyring() else {
        return;
    };
    let store = KeyringStore::new(&sq::env::Env::from_process());
    clear_bundle(&store);
    let sb = sandbox("pages:1000");
    let mut env = env_for(&sb);
    env.unset("SQ_CREDENTIAL_STORE").unset("SQ_STORE_PASSPHRASE").with_session_bus();
    access_pattern(&mut env, "keyring");
    clear_bundle(&store);
}

/// Removes every account the bundle holds (the shared keyring starts clean for this test).
fn clear_bundle(store: &KeyringStore) {
    let _ = std::process::Command::new("secret-tool")
        .args(["clear", "service", "sq", "account", "bundle:v1"])
        .status();
    let _ = store;
}

/// An entry as sq wrote it before bundles: its own item, `service sq`, `username`/`account`
/// attributes naming the account.
fn legacy_save(account: &Account, value: &str) {
    use keyring::secret_service::SsCredential;
    let mut cred = SsCredential::new_with_target(None, "sq", account.as_str()).unwrap();
    cred.label = account.label();
    cred.attributes.insert("account".to_string(), account.as_str().to_string());
    keyring::Entry::new_with_credential(Box::new(cred)).set_password(value).unwrap();
}

fn secret_tool_lookup(account: &str) -> Option<String> {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "sq", "account", account])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

#[test]
fn keyring_migration_keeps_every_token() {
    let Some(_k) = real_keyring() else {
        return;
    };
    let env = sq::env::Env::from_process();
    let dir = tempfile::tempdir().unwrap();
    let store = KeyringStore::new(&env).with_lock_file(dir.path().join("lock"));
    clear_bundle(&store);
    let mut old: Vec<(Account, String)> =
        (0..40).map(|i| (Account::page(&format!("5500{i:03}")), format!("EAAlegacypage{i:03}tok"))).collect();
    old.push((Account::user(sq::model::Network::Facebook, "550000001"), "EAAlegacyuser0001tok".into()));
    old.push((Account::app_secret(sq::model::Network::Threads), "legacy-app-secret-0001".into()));
    for (a, v) in &old {
        legacy_save(a, v);
    }

    // First use: every old token is there, read in one batch.
    let accounts: Vec<Account> = old.iter().map(|(a, _)| a.clone()).collect();
    let got = store.load_many(&accounts).unwrap();
    for ((a, v), g) in old.iter().zip(&got) {
        assert_eq!(g.as_ref().map(|s| s.expose()), Some(v.as_str()), "{a}");
    }
    // The old items are gone, the bundle holds them.
    for (a, _) in &old {
        assert_eq!(secret_tool_lookup(a.as_str()), None, "{a} left as its own item");
    }
    let bundle: serde_json::Value = serde_json::from_str(&secret_tool_lookup("bundle:v1").unwrap()).unwrap();
    assert_eq!(bundle["migrated"], true);
    for (a, v) in &old {
        assert_eq!(bundle["entries"][a.as_str()], v.as_str(), "{a}");
    }
    // Single-profile calls keep working.
    assert_eq!(store.load(&old[3].0).unwrap().unwrap().expose(), old[3].1);
    assert!(store.delete(&old[3].0).unwrap());
    assert_eq!(store.load(&old[3].0).unwrap(), None);
    assert_eq!(store.load(&old[4].0).unwrap().unwrap().expose(), old[4].1);
    clear_bundle(&store);
}

#[test]
fn keyring_concurrent_bundle_writers_lose_nothing() {
    let Some(_k) = real_keyring() else {
        return;
    };
    let env = sq::env::Env::from_process();
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("lock");
    clear_bundle(&KeyringStore::new(&env));
    std::thread::scope(|s| {
        for w in 0..20 {
            let (env, lock) = (&env, &lock);
            s.spawn(move || {
                let store = KeyringStore::new(env).with_lock_file(lock.clone());
                let items: Vec<(Account, Secret)> = (0..5)
                    .map(|i| (Account::page(&format!("66{w:02}{i}")), Secret::new(format!("EAAw{w}i{i}"))))
                    .collect();
                store.save_many(&items).unwrap();
            });
        }
    });
    let store = KeyringStore::new(&env).with_lock_file(lock);
    for w in 0..20 {
        for i in 0..5 {
            let got = store.load(&Account::page(&format!("66{w:02}{i}"))).unwrap();
            assert_eq!(got.unwrap().expose(), format!("EAAw{w}i{i}"));
        }
    }
    clear_bundle(&store);
}

#[test]
fn file_store_batches_read_and_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.enc");
    let store = FileStore::new(path.clone(), Secret::new("pass"))
        .with_kdf_params(sq::store::file::KdfParams::INSECURE_FAST_FOR_TESTS);
    // A file written one entry at a time (as every sq before batches did) reads whole.
    for i in 0..50 {
        store.save(&Account::page(&format!("77{i:03}")), &Secret::new(format!("EAAone{i}"))).unwrap();
    }
    let batch: Vec<(Account, Secret)> = (50..1050)
        .map(|i| (Account::page(&format!("77{i:03}")), Secret::new(format!("EAAone{i}"))))
        .collect();
    store.save_many(&batch).unwrap();
    let all: Vec<Account> = (0..1050).map(|i| Account::page(&format!("77{i:03}"))).collect();
    let got = store.load_many(&all).unwrap();
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.as_ref().unwrap().expose(), format!("EAAone{i}"));
    }
    let gone = store.delete_many(&all[..10]).unwrap();
    assert!(gone.iter().all(|g| *g));
    assert_eq!(store.load_many(&all[..11]).unwrap().iter().filter(|g| g.is_some()).count(), 1);
}

const WRITER_VAR: &str = "SQ_TEST_BUNDLE_WRITER";

/// Run by [`keyring_bundle_killed_mid_rewrite_keeps_a_whole_bundle`] in a child process:
/// rewrites the bundle's 200 Page tokens over and over, each round with its own values, until
/// killed. Does nothing in a normal run.
#[test]
fn bundle_writer_child() {
    let Ok(lock) = std::env::var(WRITER_VAR) else { return };
    let store = KeyringStore::new(&sq::env::Env::from_process()).with_lock_file(lock.into());
    for round in 0.. {
        let items: Vec<(Account, Secret)> = (0..200)
            .map(|i| (Account::page(&format!("88{i:03}")), Secret::new(format!("EAAround{round}page{i}"))))
            .collect();
        store.save_many(&items).unwrap();
        println!("@@DONE {round}");
    }
}

#[test]
fn keyring_bundle_killed_mid_rewrite_keeps_a_whole_bundle() {
    use std::io::BufRead;
    let Some(_k) = real_keyring() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("lock");
    let store = KeyringStore::new(&sq::env::Env::from_process()).with_lock_file(lock.clone());
    clear_bundle(&store);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "test_store_scale::bundle_writer_child", "--nocapture", "--test-threads", "1"])
        .env(WRITER_VAR, &lock)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    for line in out.lines() {
        // Killed (SIGKILL) while it is rewriting the bundle for the fourth time or later.
        if line.unwrap() == "@@DONE 3" {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // The bundle is whole: every token there, all from the same round (never half of one).
    let accounts: Vec<Account> = (0..200).map(|i| Account::page(&format!("88{i:03}"))).collect();
    let got = store.load_many(&accounts).unwrap();
    let first = got[0].as_ref().unwrap().expose().to_string();
    let round: u32 = first.strip_prefix("EAAround").unwrap().split("page").next().unwrap().parse().unwrap();
    assert!(round >= 3, "{first}");
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.as_ref().unwrap().expose(), format!("EAAround{round}page{i}"));
    }
    // And the next writer is not blocked by the killed one's lock.
    store.save(&Account::page("88999"), &Secret::new("EAAafterthekill")).unwrap();
    assert_eq!(store.load(&Account::page("88999")).unwrap().unwrap().expose(), "EAAafterthekill");
    clear_bundle(&store);
}
