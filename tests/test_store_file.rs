#![allow(clippy::unwrap_used)] // a test that cannot set up should panic loudly
//! The encrypted `file` credential store, as sq uses it: round trips, permissions, wrong
//! passphrases, damaged files, crashes mid-write and concurrent writers.

use sq::error::Error;
use sq::prompt::{Choice, Prompter};
use sq::secret::Secret;
use sq::settings::StoreKind;
use sq::store::file::KdfParams;
use sq::store::{Account, CredentialStore, FileStore, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn path(dir: &Path) -> PathBuf {
    dir.join("data").join("credentials.enc")
}

fn store(dir: &Path, pass: &str) -> FileStore {
    FileStore::new(path(dir), Secret::new(pass)).with_kdf_params(KdfParams::INSECURE_FAST_FOR_TESTS)
}

#[test]
fn round_trip_across_instances() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "correct horse");
    let page = Account::page("777");
    assert_eq!(s.load(&page).unwrap(), None, "no file yet is no entry");
    assert!(!s.delete(&page).unwrap());
    assert!(!path(dir.path()).exists(), "deleting from nothing writes nothing");

    s.save(&page, &Secret::new("EAABpagetoken0000f3c1")).unwrap();
    s.save(&Account::app_secret(sq::model::Network::Threads), &Secret::new("th-secret")).unwrap();
    s.save(&page, &Secret::new("EAABpagetoken1111f3c1")).unwrap(); // replace

    // A second process: fresh instance, no cached key.
    let other = store(dir.path(), "correct horse");
    assert_eq!(other.load(&page).unwrap().unwrap().expose(), "EAABpagetoken1111f3c1");
    assert_eq!(
        other.load(&Account::app_secret(sq::model::Network::Threads)).unwrap().unwrap().expose(),
        "th-secret"
    );
    assert_eq!(other.load(&Account::page("778")).unwrap(), None);
    assert!(other.delete(&page).unwrap());
    assert!(!other.delete(&page).unwrap());
    assert_eq!(s.load(&page).unwrap(), None);
    assert_eq!(s.kind(), StoreKind::File);
    assert!(s.describe().starts_with("encrypted file ") && s.describe().ends_with("credentials.enc"));

    let raw = std::fs::read(path(dir.path())).unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("th-secret"), "plaintext on disk");
}

#[test]
fn default_kdf_parameters_work() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileStore::new(path(dir.path()), Secret::new("pw"));
    s.save(&Account::page("1"), &Secret::new("tok")).unwrap();
    let again = FileStore::new(path(dir.path()), Secret::new("pw"));
    assert_eq!(again.load(&Account::page("1")).unwrap().unwrap().expose(), "tok");
}

#[cfg(unix)]
#[test]
fn file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "pw");
    s.save(&Account::page("1"), &Secret::new("tok")).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path(dir.path())), 0o600);
    assert_eq!(mode(&dir.path().join("data/credentials.enc.lock")), 0o600);
    assert_eq!(mode(&dir.path().join("data")), 0o700);
}

#[test]
fn wrong_passphrase_is_clear_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path(), "right").save(&Account::page("1"), &Secret::new("tok")).unwrap();
    let before = std::fs::read(path(dir.path())).unwrap();

    let wrong = store(dir.path(), "wrong");
    let err = wrong.load(&Account::page("1")).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase { .. }), "{err:?}");
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert!(err.to_string().contains("credentials.enc"), "names the file: {err}");
    assert!(matches!(
        wrong.save(&Account::page("2"), &Secret::new("x")),
        Err(StoreError::WrongPassphrase { .. })
    ));
    assert!(matches!(wrong.delete(&Account::page("1")), Err(StoreError::WrongPassphrase { .. })));
    assert_eq!(std::fs::read(path(dir.path())).unwrap(), before, "file untouched");

    let e = Error::from(err);
    assert_eq!(e.code, "store_passphrase");
    assert!(!format!("{e:?}").contains("right") && !format!("{e:?}").contains("wrong\""));
}

fn expect_unreadable(dir: &Path, mutate: impl FnOnce(&mut Vec<u8>), want: fn(&StoreError) -> bool) {
    let s = store(dir, "pw");
    s.save(&Account::page("1"), &Secret::new("tok")).unwrap();
    let mut bytes = std::fs::read(path(dir)).unwrap();
    mutate(&mut bytes);
    std::fs::write(path(dir), &bytes).unwrap();

    let fresh = store(dir, "pw");
    let err = fresh.load(&Account::page("1")).unwrap_err();
    assert!(want(&err), "unexpected error {err:?}");
    assert!(err.to_string().contains("credentials.enc"), "names the file: {err}");
    // A write must refuse too, leaving the damaged file for the user to recover.
    assert!(fresh.save(&Account::page("2"), &Secret::new("x")).is_err());
    assert_eq!(std::fs::read(path(dir)).unwrap(), bytes, "damaged file was overwritten");
    assert_eq!(Error::from(err).code, "store_damaged");
}

#[test]
fn truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    expect_unreadable(
        dir.path(),
        |b| b.truncate(b.len() - 5),
        |e| matches!(e, StoreError::Format { detail, .. } if detail.contains("truncated")),
    );
    let dir = tempfile::tempdir().unwrap();
    expect_unreadable(
        dir.path(),
        |b| b.truncate(40),
        |e| matches!(e, StoreError::Format { detail, .. } if detail.contains("truncated")),
    );
}

#[test]
fn corrupted_byte_in_contents() {
    let dir = tempfile::tempdir().unwrap();
    expect_unreadable(
        dir.path(),
        |b| {
            let i = b.len() - 20;
            b[i] ^= 0x01;
        },
        |e| matches!(e, StoreError::Damaged { .. }) && e.to_string().contains("damaged"),
    );
}

#[test]
fn corrupted_byte_in_authenticated_header() {
    // Argon2 lanes field changed from 1 to 2: key check fails (reads as a wrong passphrase,
    // and the message says the header may be damaged).
    let dir = tempfile::tempdir().unwrap();
    expect_unreadable_passphrase(dir.path(), |b| b[18] = 2);
    // The ciphertext length: the file no longer matches its header.
    let dir = tempfile::tempdir().unwrap();
    expect_unreadable(dir.path(), |b| b[78] ^= 0x40, |e| matches!(e, StoreError::Format { .. }));
    // Not our file at all.
    let dir = tempfile::tempdir().unwrap();
    expect_unreadable(
        dir.path(),
        |b| b[0] = b'X',
        |e| matches!(e, StoreError::Format { detail, .. } if detail.contains("not an sq credential file")),
    );
}

fn expect_unreadable_passphrase(dir: &Path, mutate: impl FnOnce(&mut Vec<u8>)) {
    let s = store(dir, "pw");
    s.save(&Account::page("1"), &Secret::new("tok")).unwrap();
    let mut bytes = std::fs::read(path(dir)).unwrap();
    mutate(&mut bytes);
    std::fs::write(path(dir), &bytes).unwrap();
    let err = store(dir, "pw").load(&Account::page("1")).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase { .. }), "{err:?}");
    assert!(err.to_string().contains("header is damaged"), "{err}");
}

#[test]
fn crash_between_write_and_rename_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "pw");
    s.save(&Account::page("1"), &Secret::new("old")).unwrap();
    // What a crash after writing the temp file but before the rename leaves behind.
    let tmp = dir.path().join("data").join(".credentials.enc.deadbeef0000.tmp");
    std::fs::write(&tmp, b"sq-creds half written").unwrap();

    let fresh = store(dir.path(), "pw");
    assert_eq!(fresh.load(&Account::page("1")).unwrap().unwrap().expose(), "old");
    fresh.save(&Account::page("2"), &Secret::new("new")).unwrap();
    assert_eq!(fresh.load(&Account::page("1")).unwrap().unwrap().expose(), "old");
    assert_eq!(fresh.load(&Account::page("2")).unwrap().unwrap().expose(), "new");
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Create the file first so every writer shares one salt (as separate processes would).
    store(dir.path(), "pw").save(&Account::page("seed"), &Secret::new("seed")).unwrap();
    let writers = 4;
    let per_writer = 15;
    std::thread::scope(|scope| {
        for w in 0..writers {
            let dir = dir.path();
            scope.spawn(move || {
                // One instance per writer: its own lock file handle, as in its own process.
                let s = store(dir, "pw");
                for i in 0..per_writer {
                    s.save(&Account::page(&format!("{w}-{i}")), &Secret::new(format!("tok-{w}-{i}")))
                        .unwrap();
                }
            });
        }
    });
    let s = store(dir.path(), "pw");
    for w in 0..writers {
        for i in 0..per_writer {
            let got = s.load(&Account::page(&format!("{w}-{i}"))).unwrap();
            assert_eq!(got.unwrap().expose(), format!("tok-{w}-{i}"), "lost {w}-{i}");
        }
    }
}

#[test]
fn a_held_lock_times_out_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "pw").with_lock_timeout(std::time::Duration::from_millis(200));
    s.save(&Account::page("1"), &Secret::new("a")).unwrap();
    let lock =
        std::fs::OpenOptions::new().write(true).open(dir.path().join("data/credentials.enc.lock")).unwrap();
    let mut lock = fd_lock_holder(lock);
    let _held = lock.write().unwrap();
    let err = s.save(&Account::page("2"), &Secret::new("b")).unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err:?}");
    assert!(err.is_unavailable());
}

fn fd_lock_holder(f: std::fs::File) -> fd_lock::RwLock<std::fs::File> {
    fd_lock::RwLock::new(f)
}

/// Answers passphrase prompts from a script and records the questions.
struct Scripted {
    answers: Mutex<Vec<&'static str>>,
    asked: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(answers: &[&'static str]) -> Scripted {
        Scripted {
            answers: Mutex::new(answers.iter().rev().copied().collect()),
            asked: Mutex::new(Vec::new()),
        }
    }
}

impl Prompter for Scripted {
    fn can_prompt(&self) -> bool {
        true
    }
    fn password(&self, prompt: &str, flag: &str) -> Result<Secret, Error> {
        assert_eq!(flag, "SQ_STORE_PASSPHRASE");
        self.asked.lock().unwrap().push(prompt.to_string());
        match self.answers.lock().unwrap().pop() {
            Some(a) => Ok(Secret::new(a)),
            None => Err(sq::prompt::cannot_prompt(prompt, flag)),
        }
    }
    fn confirm(&self, _: &str, _: bool, _: &str) -> Result<bool, Error> {
        unreachable!()
    }
    fn multi_select(&self, _: &str, _: &[Choice], _: &str) -> Result<Vec<usize>, Error> {
        unreachable!()
    }
}

#[test]
fn open_asks_twice_for_a_new_file_and_once_for_an_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = path(dir.path());

    let mismatch = Scripted::new(&["one", "two"]);
    let err = sq::ctx::open_file_store(p.clone(), None, &mismatch).err().unwrap();
    assert_eq!(err.code, "usage");
    assert!(!p.exists());

    let new = Scripted::new(&["pw", "pw"]);
    let s = sq::ctx::open_file_store(p.clone(), None, &new).unwrap();
    assert_eq!(new.asked.lock().unwrap().len(), 2);
    assert!(new.asked.lock().unwrap()[0].starts_with("New passphrase"));
    s.save(&Account::page("1"), &Secret::new("tok")).unwrap();

    let existing = Scripted::new(&["pw"]);
    let s = sq::ctx::open_file_store(p.clone(), None, &existing).unwrap();
    assert_eq!(existing.asked.lock().unwrap().len(), 1);
    assert_eq!(s.load(&Account::page("1")).unwrap().unwrap().expose(), "tok");

    // A wrong passphrase fails at open, before any command work.
    let wrong = Scripted::new(&["nope"]);
    let err = sq::ctx::open_file_store(p.clone(), None, &wrong).err().unwrap();
    assert_eq!(err.code, "store_passphrase");

    // From the environment: no prompt at all.
    let none = Scripted::new(&[]);
    sq::ctx::open_file_store(p.clone(), Some(Secret::new("pw")), &none).unwrap();
    assert!(none.asked.lock().unwrap().is_empty());

    // Can't ask and no variable: the error names SQ_STORE_PASSPHRASE.
    let err = sq::ctx::open_file_store(p, None, &none).err().unwrap();
    assert!(err.hints.iter().any(|h| h.contains("SQ_STORE_PASSPHRASE")), "{err:?}");

    let empty = Scripted::new(&["", ""]);
    assert!(sq::ctx::open_file_store(dir.path().join("other.enc"), None, &empty).is_err());
}

#[test]
fn probe_round_trips_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "pw");
    s.save(&Account::page("1"), &Secret::new("tok")).unwrap();
    let probe = sq::store::probe(&s);
    assert!(probe.ok(), "{probe:?}");
    assert!(sq::error::probe_error(&probe).is_none());
    assert_eq!(probe.kind, StoreKind::File);
    // Only the real entry is left: a second store sees page 1 and nothing named probe:.
    let raw = std::fs::read(path(dir.path())).unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("probe:"));

    let wrong = store(dir.path(), "bad");
    let probe = sq::store::probe(&wrong);
    let err = sq::error::probe_error(&probe).unwrap();
    assert_eq!(err.code, "store_unavailable");
    assert!(err.message.contains("wrong passphrase"), "{}", err.message);
}
