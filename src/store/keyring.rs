//! The OS keyring backend: Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows, through the `keyring` crate (v3: its Linux backend is pure Rust, see Cargo.toml).
//!
//! Every call runs on a worker thread and is abandoned after [`KEYRING_TIMEOUT`], as gh does:
//! a locked collection whose unlock prompt nobody sees, or a hung daemon, must not freeze sq.
//! An abandoned worker holds no lock of ours and dies with the process.

use super::{Account, CredentialStore, SERVICE, StoreError, Unavailable};
use crate::env::Env;
use crate::secret::Secret;
use crate::settings::StoreKind;
use std::sync::mpsc;
use std::time::Duration;

/// How long one keyring call may take (gh uses the same 3 s).
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

pub struct KeyringStore {
    timeout: Duration,
    /// `DBUS_SESSION_BUS_ADDRESS` from the env snapshot, only to explain a failure.
    bus_address: Option<String>,
}

impl KeyringStore {
    pub fn new(env: &Env) -> KeyringStore {
        KeyringStore {
            timeout: KEYRING_TIMEOUT,
            bus_address: env.get("DBUS_SESSION_BUS_ADDRESS").map(str::to_string),
        }
    }

    /// The same store with another per-call timeout (tests use a short one).
    pub fn with_timeout(mut self, timeout: Duration) -> KeyringStore {
        self.timeout = timeout;
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
        let (tx, rx) = mpsc::sync_channel(1);
        let account_owned = account.clone();
        std::thread::Builder::new()
            .name("sq-keyring".into())
            .spawn(move || {
                let result = entry(&account_owned).and_then(f);
                // The receiver is gone after a timeout; nobody needs the late answer.
                let _ = tx.send(result);
            })
            .map_err(|e| StoreError::Backend {
                backend: Self::backend().to_string(),
                detail: format!("can't start a worker thread: {e}"),
            })?;
        match rx.recv_timeout(self.timeout) {
            Ok(result) => Ok(result),
            Err(_) => Err(self.unavailable(Unavailable::Timeout(self.timeout))),
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
/// ("sq: facebook:777") and an `account` attribute, so `secret-tool lookup service sq account
/// facebook:777` finds it; keyring's own `username` attribute holds the same name.
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

impl CredentialStore for KeyringStore {
    fn load(&self, account: &Account) -> Result<Option<Secret>, StoreError> {
        match self.bounded(account, |e| e.get_password())? {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.classify(account, e)),
        }
    }

    fn save(&self, account: &Account, secret: &Secret) -> Result<(), StoreError> {
        let value = secret.clone();
        match self.bounded(account, move |e| e.set_password(value.expose()))? {
            Ok(()) => Ok(()),
            Err(e) => Err(self.classify(account, e)),
        }
    }

    fn delete(&self, account: &Account) -> Result<bool, StoreError> {
        match self.bounded(account, |e| e.delete_credential())? {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.classify(account, e)),
        }
    }

    fn kind(&self) -> StoreKind {
        StoreKind::Keyring
    }

    fn describe(&self) -> String {
        Self::backend().to_string()
    }
}
