//! The credential store (spec §7; habit 11, after codex's `keyring-store` and gh's keyring
//! timeout): one small trait in front of the OS keyring and the encrypted file.
//!
//! "No entry" (`Ok(None)`) is the only absence; a locked keyring, a missing Secret Service, a
//! wrong passphrase or a damaged file is an error, so a broken store is never mistaken for a
//! missing token. Calls are synchronous and bounded in time: async callers wrap them in
//! `spawn_blocking`. There is no fallback between backends, and never one to plaintext.
//!
//! Citations: spec §n of docs/reference/spec.md; habit n of docs/reference/style.md.

pub mod account;
pub mod file;
pub mod keyring;

pub use account::{Account, AccountKind, SERVICE};
pub use file::FileStore;
pub use keyring::KeyringStore;

use crate::env::Env;
use crate::secret::Secret;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Which backend holds the secrets (`SQ_CREDENTIAL_STORE` / `credential_store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Keyring,
    File,
}

impl StoreKind {
    pub fn parse(s: &str) -> Option<StoreKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keyring" => Some(StoreKind::Keyring),
            "file" => Some(StoreKind::File),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Keyring => "keyring",
            StoreKind::File => "file",
        }
    }
}

pub trait CredentialStore: Send + Sync {
    /// The secret stored for `account`, or `None` when there is no entry.
    fn load(&self, account: &Account) -> Result<Option<Secret>, StoreError>;
    /// Creates or replaces the entry.
    fn save(&self, account: &Account, secret: &Secret) -> Result<(), StoreError>;
    /// Removes the entry; `Ok(false)` when there was none.
    fn delete(&self, account: &Account) -> Result<bool, StoreError>;
    /// The secrets of many accounts, in order, in as few backend round trips as the backend
    /// allows (one for both backends: docs/ARCHITECTURE.md, "The credential store at scale").
    fn load_many(&self, accounts: &[Account]) -> Result<Vec<Option<Secret>>, StoreError> {
        accounts.iter().map(|a| self.load(a)).collect()
    }
    /// Creates or replaces many entries at once (one write for both backends).
    fn save_many(&self, items: &[(Account, Secret)]) -> Result<(), StoreError> {
        items.iter().try_for_each(|(a, s)| self.save(a, s))
    }
    /// Removes many entries at once; per account whether there was one.
    fn delete_many(&self, accounts: &[Account]) -> Result<Vec<bool>, StoreError> {
        accounts.iter().map(|a| self.delete(a)).collect()
    }
    fn kind(&self) -> StoreKind;
    /// For people: "Secret Service (keyring)", "encrypted file /home/me/.local/share/sq/...".
    fn describe(&self) -> String;
}

/// Why the keyring can't be used. Each reason has its own hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// No D-Bus session bus: `DBUS_SESSION_BUS_ADDRESS` unset, or its socket can't be reached.
    NoSession { address: Option<String> },
    /// A session bus, but nothing on it provides `org.freedesktop.secrets`.
    NoSecretService,
    /// The collection is locked and unlocking was refused or dismissed.
    Locked,
    /// The Secret Service has no default collection and couldn't create one (creating one
    /// needs a prompt for its password).
    NoCollection,
    /// The backend didn't answer in time (a hung daemon, an unlock prompt nobody sees).
    Timeout(Duration),
    /// Anything else the platform reported (text from the platform, never a secret).
    Platform(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::NoSession { address: None } => {
                f.write_str("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")
            }
            Unavailable::NoSession { address: Some(a) } => {
                write!(f, "no D-Bus session: the session bus at {a} can't be reached")
            }
            Unavailable::NoSecretService => {
                f.write_str("no Secret Service on the session bus (nothing provides org.freedesktop.secrets)")
            }
            Unavailable::Locked => f.write_str("the keyring is locked and was not unlocked"),
            Unavailable::NoCollection => {
                f.write_str("the Secret Service has no default keyring (collection), and couldn't create one")
            }
            Unavailable::Timeout(d) => write!(f, "it did not answer within {} s", d.as_secs_f32()),
            Unavailable::Platform(msg) => f.write_str(msg),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the credential store ({backend}) is unavailable: {reason}")]
    Unavailable { backend: String, reason: Unavailable },

    #[error("can't read the credential store: the passphrase doesn't open the credential file {} (a wrong passphrase, or the file's header is damaged)", path.display())]
    WrongPassphrase { path: PathBuf },

    #[error("the credential file {} is damaged: {detail}", path.display())]
    Damaged { path: PathBuf, detail: &'static str },

    #[error("the credential file {} is not a file sq can read: {detail}", path.display())]
    Format { path: PathBuf, detail: String },

    #[error("the credential file {} was written by a newer sq (format {found}, this sq reads up to {supported})", path.display())]
    NewerFormat { path: PathBuf, found: u8, supported: u8 },

    #[error("another sq process has held the credential file lock {} for {} s", path.display(), waited.as_secs())]
    LockTimeout { path: PathBuf, waited: Duration },

    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the {backend} entry for {account} is not text sq wrote")]
    BadEntry { backend: String, account: String },

    #[error("the {backend} has more than one entry for {account}")]
    Ambiguous { backend: String, account: String },

    #[error("the credential store ({backend}) failed: {detail}")]
    Backend { backend: String, detail: String },
}

impl StoreError {
    /// True when the store as a whole can't be used (as opposed to one bad entry).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. } | StoreError::LockTimeout { .. })
    }
}

/// The debug trace of backend round trips (docs/testing.md): when `SQ_DEBUG_STORE_TRACE` names
/// a file, every round trip to the backend (a keyring call, a read or a write of the encrypted
/// file) appends one line `<backend> <op>` to it. It names no account and holds no secret.
static TRACE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

pub(crate) fn trace(backend: &str, op: &str) {
    if let Some(Some(path)) = TRACE.get() {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{backend} {op}");
        }
    }
}

/// Runs `f` holding the exclusive lock on `lock_path` (created 0600), waiting at most
/// `timeout` for another sq process to let go.
pub(crate) fn with_lock<T>(
    lock_path: &std::path::Path,
    timeout: Duration,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    use std::io::ErrorKind;
    let io = |what: &'static str, e: std::io::Error| StoreError::Io {
        what,
        path: lock_path.to_path_buf(),
        source: e,
    };
    if let Some(dir) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::fsutil::create_private_dir(dir).map_err(|e| io("can't create the directory", e))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let lock_file = opts.open(lock_path).map_err(|e| io("can't open the lock file", e))?;
    let mut lock = fd_lock::RwLock::new(lock_file);
    let started = Instant::now();
    let _guard = loop {
        match lock.try_write() {
            Ok(guard) => break guard,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if started.elapsed() >= timeout {
                    return Err(StoreError::LockTimeout {
                        path: lock_path.to_path_buf(),
                        waited: started.elapsed(),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(io("can't lock", e)),
        }
    };
    f()
}

/// Starts the debug trace of backend round trips if `SQ_DEBUG_STORE_TRACE` names a file
/// (docs/testing.md); called once, when the command opens its store.
pub fn start_trace(env: &Env) {
    let _ = TRACE.set(env.get("SQ_DEBUG_STORE_TRACE").filter(|p| !p.is_empty()).map(PathBuf::from));
}

/// The step of the probe that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStep {
    Save,
    Load,
    Delete,
}

impl ProbeStep {
    pub fn name(self) -> &'static str {
        match self {
            ProbeStep::Save => "writing",
            ProbeStep::Load => "reading back",
            ProbeStep::Delete => "deleting",
        }
    }
}

#[derive(Debug)]
pub enum ProbeFailure {
    Error {
        step: ProbeStep,
        error: StoreError,
    },
    /// The store answered, but with something other than what was written.
    Mismatch,
}

/// The credential store round-trip of `sq diagnose`'s environment checks.
#[derive(Debug)]
pub struct Probe {
    pub kind: StoreKind,
    pub backend: String,
    pub elapsed: Duration,
    pub failure: Option<ProbeFailure>,
}

impl Probe {
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// Writes, reads back and deletes a `probe:<random>` entry. Each call is bounded by the
/// backend's timeout, so the whole probe is too. The probe value is random and never shown.
pub fn probe(store: &dyn CredentialStore) -> Probe {
    let started = Instant::now();
    let account = Account::probe();
    let mut rnd = [0u8; 16];
    let _ = getrandom::fill(&mut rnd);
    let value = Secret::new(format!("sq-probe-{}", hex::encode(rnd)));
    let failure = (|| {
        store.save(&account, &value).map_err(|error| ProbeFailure::Error { step: ProbeStep::Save, error })?;
        let back =
            store.load(&account).map_err(|error| ProbeFailure::Error { step: ProbeStep::Load, error })?;
        // Delete before judging the value, so a mismatch doesn't leave the entry behind.
        store.delete(&account).map_err(|error| ProbeFailure::Error { step: ProbeStep::Delete, error })?;
        if back.as_ref() != Some(&value) {
            return Err(ProbeFailure::Mismatch);
        }
        Ok(())
    })()
    .err();
    Probe { kind: store.kind(), backend: store.describe(), elapsed: started.elapsed(), failure }
}
