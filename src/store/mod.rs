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
use crate::error::Error;
use crate::prompt::Prompter;
use crate::secret::Secret;
use crate::settings::{Settings, StoreKind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

/// Mentioned by every "unavailable" error: the choice that needs no keyring.
const FILE_CHOICE: &str = "or keep secrets in an encrypted file instead: export SQ_CREDENTIAL_STORE=file (or `sq config set credential_store file`); the passphrase comes from SQ_STORE_PASSPHRASE or a prompt";

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        let message = e.to_string();
        match &e {
            StoreError::Unavailable { reason, .. } => {
                let first = match reason {
                    Unavailable::NoSession { .. } => {
                        "start sq inside a desktop session (or `dbus-run-session`) so it has a D-Bus session bus"
                    }
                    Unavailable::NoSecretService => {
                        "install and start a Secret Service provider, e.g. gnome-keyring or KeePassXC (with its Secret Service integration on)"
                    }
                    Unavailable::Locked => {
                        "unlock the keyring (e.g. log in to the desktop, or open Seahorse / KeePassXC and unlock it), then run the command again"
                    }
                    Unavailable::NoCollection => {
                        "create a default keyring, e.g. in Seahorse (\"Passwords and Keys\": + → Password keyring, then \"Set as default\") or KeePassXC, and unlock it"
                    }
                    Unavailable::Timeout(_) => {
                        "the keyring may be waiting for an unlock prompt: unlock it, or restart the Secret Service provider, then run the command again"
                    }
                    Unavailable::Platform(_) => "check that the OS keyring works and is unlocked",
                };
                Error::failure("store_unavailable", message).hint(first).hint(FILE_CHOICE)
            }
            StoreError::LockTimeout { .. } => Error::failure("store_unavailable", message)
                .hint("wait for the other sq command to finish, then run this one again"),
            StoreError::WrongPassphrase { .. } => Error::failure("store_passphrase", message)
                .hint("check SQ_STORE_PASSPHRASE (or unset it to be asked): it must be the passphrase the file was written with")
                .hint("nothing was read or changed: the stored tokens and the queue are as they were"),
            StoreError::Damaged { path, .. } | StoreError::Format { path, .. } => {
                Error::failure("store_damaged", message)
                    .hint("if the passphrase is right, restore the file from a backup; sq never overwrites a file it can't read")
                    .hint(format!(
                        "to start over, move {} away and connect the profiles again (sq reauth ...)",
                        path.display()
                    ))
            }
            StoreError::NewerFormat { .. } => {
                Error::failure("store_damaged", message).hint("upgrade sq to read this credential file")
            }
            StoreError::Io { source, .. } if source.raw_os_error() == Some(28) => Error::failure("io", message)
                .hint("the disk is full: free some space and run the command again; nothing was changed"),
            StoreError::Io { .. } => Error::failure("io", message),
            StoreError::BadEntry { account, .. } | StoreError::Ambiguous { account, .. } => {
                Error::failure("store_entry", message).hint(format!(
                    "remove the entry for {account} (e.g. with Seahorse, or `secret-tool clear service {SERVICE} account {account}`) and store it again"
                ))
            }
            StoreError::Backend { .. } => Error::failure("store_unavailable", message).hint(FILE_CHOICE),
        }
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

/// Opens the store chosen in settings (`SQ_CREDENTIAL_STORE` / `credential_store`).
///
/// `keyring` opens nothing yet (the first call connects). `file` needs its passphrase now:
/// from `SQ_STORE_PASSPHRASE`, else asked once for an existing file (and checked against it at
/// once, so a typo fails here and not halfway through a command) or twice for a new one.
/// Open the store only in commands that use it: asking for a passphrase costs the user.
pub fn open(
    settings: &Settings,
    env: &Env,
    prompter: &dyn Prompter,
) -> Result<Box<dyn CredentialStore>, Error> {
    let _ = TRACE.set(env.get("SQ_DEBUG_STORE_TRACE").filter(|p| !p.is_empty()).map(PathBuf::from));
    match settings.store.value {
        StoreKind::Keyring => {
            // The keyring is the user's, not the data directory's: two data directories share
            // one bundle, so the lock is per user session where there is one.
            let dir = env
                .get("XDG_RUNTIME_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| settings.paths.data_dir.clone());
            Ok(Box::new(KeyringStore::new(env).with_lock_file(dir.join("sq-keyring.lock"))))
        }
        StoreKind::File => {
            let path = settings.paths.credential_file();
            let store = FileStore::open(path, settings.store_passphrase.clone(), prompter)?;
            Ok(Box::new(store))
        }
    }
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

    /// The `store_unavailable` error (message + hints) to show as the finding, if it failed.
    pub fn to_error(&self) -> Option<Error> {
        match self.failure.as_ref()? {
            ProbeFailure::Error { step, error } => {
                let mut e = Error::from(clone_for_report(error));
                e.code = "store_unavailable";
                e.message = format!("{} (while {} a test entry)", e.message, step.name());
                Some(e)
            }
            ProbeFailure::Mismatch => Some(
                Error::failure(
                    "store_unavailable",
                    format!(
                        "the credential store ({}) returned a different value than sq wrote",
                        self.backend
                    ),
                )
                .hint(FILE_CHOICE),
            ),
        }
    }
}

/// `StoreError` holds an `io::Error`, which isn't `Clone`; the report only needs its text.
fn clone_for_report(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable { backend, reason } => {
            StoreError::Unavailable { backend: backend.clone(), reason: reason.clone() }
        }
        StoreError::WrongPassphrase { path } => StoreError::WrongPassphrase { path: path.clone() },
        StoreError::Damaged { path, detail } => StoreError::Damaged { path: path.clone(), detail },
        StoreError::Format { path, detail } => {
            StoreError::Format { path: path.clone(), detail: detail.clone() }
        }
        StoreError::NewerFormat { path, found, supported } => {
            StoreError::NewerFormat { path: path.clone(), found: *found, supported: *supported }
        }
        StoreError::LockTimeout { path, waited } => {
            StoreError::LockTimeout { path: path.clone(), waited: *waited }
        }
        StoreError::Io { what, path, source } => StoreError::Io {
            what,
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StoreError::BadEntry { backend, account } => {
            StoreError::BadEntry { backend: backend.clone(), account: account.clone() }
        }
        StoreError::Ambiguous { backend, account } => {
            StoreError::Ambiguous { backend: backend.clone(), account: account.clone() }
        }
        StoreError::Backend { backend, detail } => {
            StoreError::Backend { backend: backend.clone(), detail: detail.clone() }
        }
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
