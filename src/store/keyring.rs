//! The OS keyring backend: Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows, through the `keyring` crate (v3: its Linux backend is pure Rust, see Cargo.toml).
//!
//! Every call runs on a worker thread and is abandoned after [`KEYRING_TIMEOUT`], as gh does:
//! a locked collection whose unlock prompt nobody sees, or a hung daemon, must not freeze sq.
//! An abandoned worker holds no lock of ours and dies with the process.
//!
//! On Linux every secret but the probe's lives in one item, the bundle (docs/ARCHITECTURE.md,
//! "The credential store at scale"): a command reads all its tokens in one call and writes
//! them in one, under a lock file; per-account items of an older sq are migrated on first use.

use super::{Account, CredentialStore, SERVICE, StoreError, Unavailable};
use crate::env::Env;
use crate::secret::Secret;
use crate::store::StoreKind;
use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

/// How long one keyring call may take (gh uses the same 3 s).
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

pub struct KeyringStore {
    timeout: Duration,
    /// Serializes the bundle's read-modify-write between sq processes (`<data>/keyring.lock`).
    lock_path: Option<std::path::PathBuf>,
    /// `DBUS_SESSION_BUS_ADDRESS` from the env snapshot, only to explain a failure.
    bus_address: Option<String>,
}

impl KeyringStore {
    pub fn new(env: &Env) -> KeyringStore {
        KeyringStore {
            timeout: KEYRING_TIMEOUT,
            lock_path: None,
            bus_address: env.get("DBUS_SESSION_BUS_ADDRESS").map(str::to_string),
        }
    }

    /// The same store with another per-call timeout (tests use a short one).
    pub fn with_timeout(mut self, timeout: Duration) -> KeyringStore {
        self.timeout = timeout;
        self
    }

    /// The lock file that serializes writes of the bundle. Without one (tests of the bare
    /// backend) writes are not serialized between processes.
    pub fn with_lock_file(mut self, path: std::path::PathBuf) -> KeyringStore {
        self.lock_path = Some(path);
        self
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn backend() -> &'static str {
        if cfg!(target_os = "macos") {
            "macOS Keychain (keyring)"
        } else if cfg!(windows) {
            "Windows Credential Manager (keyring)"
        } else {
            "Secret Service (keyring)"
        }
    }

    /// Runs `f` on a worker thread; gives up after the timeout.
    fn bounded<T: Send + 'static>(
        &self,
        account: &Account,
        f: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>, StoreError> {
        let account_owned = account.clone();
        self.bounded_fn(self.timeout, move || entry(&account_owned).and_then(f))
    }

    /// Runs `f` on a worker thread; gives up after `timeout`. One call is one round trip
    /// to the backend (counted in the debug trace).
    fn bounded_fn<T: Send + 'static>(
        &self,
        timeout: Duration,
        f: impl FnOnce() -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>, StoreError> {
        super::trace("keyring", "call");
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sq-keyring".into())
            .spawn(move || {
                let result = f();
                // The receiver is gone after a timeout; nobody needs the late answer.
                let _ = tx.send(result);
            })
            .map_err(|e| StoreError::Backend {
                backend: Self::backend().to_string(),
                detail: format!("can't start a worker thread: {e}"),
            })?;
        match rx.recv_timeout(timeout) {
            Ok(result) => Ok(result),
            Err(_) => Err(self.unavailable(Unavailable::Timeout(timeout))),
        }
    }

    fn unavailable(&self, reason: Unavailable) -> StoreError {
        StoreError::Unavailable { backend: Self::backend().to_string(), reason }
    }

    /// Turns a keyring error (other than `NoEntry`) into one that says why.
    fn classify(&self, account: &Account, err: keyring::Error) -> StoreError {
        let backend = Self::backend().to_string();
        match err {
            keyring::Error::BadEncoding(_) => StoreError::BadEntry { backend, account: account.to_string() },
            keyring::Error::Ambiguous(_) => StoreError::Ambiguous { backend, account: account.to_string() },
            keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e) => {
                self.unavailable(self.platform_reason(e.as_ref()))
            }
            // NoEntry is handled by the callers; TooLong/Invalid can't come from the names and
            // values sq uses, but say what happened if they do.
            other => StoreError::Backend { backend, detail: other.to_string() },
        }
    }

    #[cfg(target_os = "linux")]
    fn platform_reason(&self, e: &(dyn std::error::Error + Send + Sync + 'static)) -> Unavailable {
        use secret_service::Error as Ss;
        let Some(ss) = e.downcast_ref::<Ss>() else {
            return Unavailable::Platform(e.to_string());
        };
        let no_session = || Unavailable::NoSession { address: self.bus_address.clone() };
        match ss {
            Ss::Locked | Ss::Prompt => Unavailable::Locked,
            // keyring asks for the "default" alias; NoResult means there is no such collection.
            Ss::NoResult => Unavailable::NoCollection,
            // secret-service reports both "no bus" and "bus without the interface" this way.
            Ss::Unavailable => no_session(),
            Ss::Zbus(z) => {
                let text = z.to_string();
                if text.contains("IsLocked") {
                    Unavailable::Locked
                } else if text.contains("ServiceUnknown") || text.contains("org.freedesktop.secrets") {
                    Unavailable::NoSecretService
                } else if matches!(
                    z,
                    zbus::Error::InputOutput(_) | zbus::Error::Address(_) | zbus::Error::Handshake(_)
                ) {
                    no_session()
                } else {
                    Unavailable::Platform(text)
                }
            }
            Ss::ZbusFdo(f) => match f {
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_) => {
                    Unavailable::NoSecretService
                }
                other => Unavailable::Platform(other.to_string()),
            },
            other => Unavailable::Platform(other.to_string()),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn platform_reason(&self, e: &(dyn std::error::Error + Send + Sync + 'static)) -> Unavailable {
        Unavailable::Platform(e.to_string())
    }
}

/// The entry for `account` under service `sq`. On Linux the item also gets a readable label
/// ("sq: bundle:v1") and an `account` attribute, so `secret-tool lookup service sq account
/// bundle:v1` finds it; keyring's own `username` attribute holds the same name. On Linux the
/// only such items are the bundle and the store probe's; older sq versions wrote one per
/// account (migrated, see [`KeyringStore::migrate`]).
#[cfg(target_os = "linux")]
fn entry(account: &Account) -> keyring::Result<keyring::Entry> {
    use keyring::secret_service::SsCredential;
    let mut cred = SsCredential::new_with_target(None, SERVICE, account.as_str())?;
    cred.label = account.label();
    cred.attributes.insert("account".to_string(), account.as_str().to_string());
    Ok(keyring::Entry::new_with_credential(Box::new(cred)))
}

#[cfg(not(target_os = "linux"))]
fn entry(account: &Account) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, account.as_str())
}

impl KeyringStore {
    fn load_one(&self, account: &Account) -> Result<Option<Secret>, StoreError> {
        match self.bounded(account, |e| e.get_password())? {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.classify(account, e)),
        }
    }

    fn save_one(&self, account: &Account, secret: &Secret) -> Result<(), StoreError> {
        let value = secret.clone();
        match self.bounded(account, move |e| e.set_password(value.expose()))? {
            Ok(()) => Ok(()),
            Err(e) => Err(self.classify(account, e)),
        }
    }

    fn delete_one(&self, account: &Account) -> Result<bool, StoreError> {
        match self.bounded(account, |e| e.delete_credential())? {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.classify(account, e)),
        }
    }
}

/// The keyring bundle's contents: account name → secret. `migrated` says the per-profile
/// entries of an older sq were moved in (they are never looked for again once it is set).
/// Values are wiped when dropped.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Bundle {
    v: u32,
    migrated: bool,
    entries: std::collections::BTreeMap<String, String>,
}

impl Drop for Bundle {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for value in self.entries.values_mut() {
            value.zeroize();
        }
    }
}

/// Probe entries stay single items: a probe tests the backend, not the bundle.
fn in_bundle(account: &Account) -> bool {
    !matches!(account.kind(), super::AccountKind::Probe)
}

/// How long migrating an old keyring may take: one search plus one read and one delete per
/// old entry (about 10 and 50 ms each on gnome-keyring), far beyond one call's timeout.
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(600);

impl KeyringStore {
    /// The bundle as stored, `None` when there is none yet. One round trip.
    fn read_bundle(&self) -> Result<Option<Bundle>, StoreError> {
        let account = Account::bundle();
        let Some(text) = self.load_one(&account)? else {
            return Ok(None);
        };
        let bundle: Bundle = serde_json::from_str(text.expose()).map_err(|_| StoreError::BadEntry {
            backend: Self::backend().to_string(),
            account: account.to_string(),
        })?;
        Ok(Some(bundle))
    }

    fn write_bundle(&self, bundle: &Bundle) -> Result<(), StoreError> {
        let text = serde_json::to_string(bundle).map_err(|e| StoreError::Backend {
            backend: Self::backend().to_string(),
            detail: format!("can't encode the bundle: {e}"),
        })?;
        self.save_one(&Account::bundle(), &Secret::new(text))
    }

    /// The bundle for reading: the stored one, or (first use) the per-profile entries of an
    /// older sq moved into a new one.
    fn bundle_for_read(&self) -> Result<Bundle, StoreError> {
        match self.read_bundle()? {
            Some(b) if b.migrated => return Ok(b),
            _ => {}
        }
        self.locked(|| self.bundle_locked())
    }

    /// Under the lock: the bundle, migrating first if it isn't yet.
    fn bundle_locked(&self) -> Result<Bundle, StoreError> {
        match self.read_bundle()? {
            Some(b) if b.migrated => Ok(b),
            other => self.migrate(other.unwrap_or_default()),
        }
    }

    fn locked<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        match &self.lock_path {
            Some(path) => super::with_lock(path, self.timeout.max(Duration::from_secs(30)), f),
            None => f(),
        }
    }

    /// Read-modify-write of the bundle under the lock: one read, one write.
    fn update<T>(&self, change: impl FnOnce(&mut Bundle) -> (bool, T)) -> Result<T, StoreError> {
        self.locked(|| {
            let mut bundle = self.bundle_locked()?;
            let (changed, result) = change(&mut bundle);
            if changed {
                self.write_bundle(&bundle)?;
            }
            Ok(result)
        })
    }

    /// Moves every per-profile entry (service `sq`, written by an sq before bundles) into the
    /// bundle. The bundle is written, with every token, before any old entry is deleted, so
    /// a crash in between loses nothing (the leftovers are ignored once `migrated` is set).
    #[cfg(target_os = "linux")]
    fn migrate(&self, mut bundle: Bundle) -> Result<Bundle, StoreError> {
        let found = self.bounded_fn(MIGRATION_TIMEOUT, || {
            use secret_service::{EncryptionType, blocking::SecretService};
            let pf = |e: secret_service::Error| keyring::Error::PlatformFailure(Box::new(e));
            let ss = SecretService::connect(EncryptionType::Dh).map_err(pf)?;
            let items =
                ss.search_items(std::collections::HashMap::from([("service", SERVICE)])).map_err(pf)?;
            let mut names = Vec::new();
            for item in items.unlocked.iter().chain(items.locked.iter()) {
                let attrs = item.get_attributes().map_err(pf)?;
                if let Some(name) = attrs.get("username") {
                    names.push(name.clone());
                }
            }
            Ok(names)
        })?;
        let names = match found {
            Ok(names) => names,
            Err(e) => return Err(self.classify(&Account::bundle(), e)),
        };
        let old: Vec<Account> = names.iter().filter_map(|n| Account::parse(n)).filter(in_bundle).collect();
        for account in &old {
            // An entry already in the bundle is newer than the old one.
            if bundle.entries.contains_key(account.as_str()) {
                continue;
            }
            if let Some(secret) = self.load_one(account)? {
                bundle.entries.insert(account.to_string(), secret.expose().to_string());
            }
        }
        bundle.v = 1;
        bundle.migrated = true;
        self.write_bundle(&bundle)?;
        for account in &old {
            self.delete_one(account)?;
        }
        Ok(bundle)
    }

    #[cfg(not(target_os = "linux"))]
    fn migrate(&self, _bundle: Bundle) -> Result<Bundle, StoreError> {
        unreachable!("the bundle is used on Linux only")
    }

    /// Bundles are used where sq can search the keyring for old entries to migrate (the
    /// Secret Service); elsewhere every account stays its own entry.
    fn bundled(&self, account: &Account) -> bool {
        cfg!(target_os = "linux") && in_bundle(account)
    }
}

impl CredentialStore for KeyringStore {
    fn load(&self, account: &Account) -> Result<Option<Secret>, StoreError> {
        if !self.bundled(account) {
            return self.load_one(account);
        }
        Ok(self.bundle_for_read()?.entries.get(account.as_str()).map(|v| Secret::new(v.as_str())))
    }

    fn save(&self, account: &Account, secret: &Secret) -> Result<(), StoreError> {
        self.save_many(&[(account.clone(), secret.clone())])
    }

    fn delete(&self, account: &Account) -> Result<bool, StoreError> {
        Ok(self.delete_many(std::slice::from_ref(account))?.first().copied().unwrap_or(false))
    }

    /// One read of the bundle for all bundled accounts.
    fn load_many(&self, accounts: &[Account]) -> Result<Vec<Option<Secret>>, StoreError> {
        let mut bundle =
            if accounts.iter().any(|a| self.bundled(a)) { Some(self.bundle_for_read()?) } else { None };
        // Each value moves out of the bundle into its `Secret` rather than being copied: at
        // 10,000 Pages a copy of every token was megabytes more (docs/performance.md). An
        // account asked twice gets the same `Secret` again.
        let mut taken: HashMap<&str, Secret> = HashMap::new();
        accounts
            .iter()
            .map(|a| match &mut bundle {
                Some(b) if self.bundled(a) => {
                    if let Some(s) = taken.get(a.as_str()) {
                        return Ok(Some(s.clone()));
                    }
                    let found = b.entries.remove(a.as_str()).map(Secret::new);
                    if let Some(s) = &found {
                        taken.insert(a.as_str(), s.clone());
                    }
                    Ok(found)
                }
                _ => self.load_one(a),
            })
            .collect()
    }

    /// One locked read-modify-write of the bundle.
    fn save_many(&self, items: &[(Account, Secret)]) -> Result<(), StoreError> {
        let (bundled, single): (Vec<_>, Vec<_>) = items.iter().partition(|(a, _)| self.bundled(a));
        for (a, s) in single {
            self.save_one(a, s)?;
        }
        if bundled.is_empty() {
            return Ok(());
        }
        self.update(|b| {
            for (a, s) in bundled {
                if let Some(mut old) = b.entries.insert(a.to_string(), s.expose().to_string()) {
                    zeroize::Zeroize::zeroize(&mut old);
                }
            }
            (true, ())
        })
    }

    fn delete_many(&self, accounts: &[Account]) -> Result<Vec<bool>, StoreError> {
        let mut out = vec![false; accounts.len()];
        let mut any_bundled = false;
        for (i, a) in accounts.iter().enumerate() {
            if self.bundled(a) {
                any_bundled = true;
            } else {
                out[i] = self.delete_one(a)?;
            }
        }
        if !any_bundled {
            return Ok(out);
        }
        self.update(|b| {
            let mut changed = false;
            for (i, a) in accounts.iter().enumerate() {
                if !self.bundled(a) {
                    continue;
                }
                if let Some(mut old) = b.entries.remove(a.as_str()) {
                    zeroize::Zeroize::zeroize(&mut old);
                    out[i] = true;
                    changed = true;
                }
            }
            (changed, out)
        })
    }

    fn kind(&self) -> StoreKind {
        StoreKind::Keyring
    }

    fn describe(&self) -> String {
        Self::backend().to_string()
    }
}
