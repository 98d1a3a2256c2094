//! The context every command runs in (habit 4): settings plus every side effect as a value or
//! a trait object, so tests can swap them.
//!
//! Citations: habit n of docs/reference/style.md.

use crate::db::Db;
use crate::env::Env;
use crate::error::Error;
use crate::meta::{AppCredentials, GraphClient, Limits};
use crate::model::Network;
use crate::output::Printer;
use crate::prompt::Prompter;
use crate::secret::{AppSecret, Secret};
use crate::settings::Settings;
use crate::store::{Account, CredentialStore, FileStore, KeyringStore, StoreError, StoreKind};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

pub struct Ctx {
    pub settings: Settings,
    pub env: Env,
    pub printer: Printer,
    pub prompter: Box<dyn Prompter>,
    pub clock: Arc<dyn Clock>,
    http: OnceLock<reqwest::Client>,
    store: OnceLock<Arc<dyn CredentialStore>>,
}

/// Meta answers in well under this; a hung connection must not freeze a cron job.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Ctx {
    pub fn new(
        settings: Settings,
        env: Env,
        printer: Printer,
        prompter: Box<dyn Prompter>,
        clock: Arc<dyn Clock>,
    ) -> Ctx {
        Ctx { settings, env, printer, prompter, clock, http: OnceLock::new(), store: OnceLock::new() }
    }

    /// One HTTP client for the whole run (connection pooling across batches). Built on first
    /// use so commands that never talk to Meta start fast.
    pub fn http(&self) -> Result<&reqwest::Client, Error> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("sq/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(HTTP_TIMEOUT)
            // Redirects from Meta's API are not expected; following one could send the
            // Authorization header somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| Error::failure("internal", format!("could not start the HTTP client: {e}")))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// The credential store chosen in settings, opened on first use (the file store may ask
    /// for its passphrase, so commands that don't need secrets never open it).
    pub fn store(&self) -> Result<Arc<dyn CredentialStore>, Error> {
        if let Some(s) = self.store.get() {
            return Ok(s.clone());
        }
        let opened: Arc<dyn CredentialStore> =
            Arc::from(open_store(&self.settings, &self.env, self.prompter.as_ref())?);
        Ok(self.store.get_or_init(|| opened).clone())
    }

    /// Runs a credential-store call off the async runtime (keyring calls block, bounded by the
    /// store's own timeout).
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn CredentialStore) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store()?;
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| Error::failure("internal", format!("credential store task failed: {e}")))?
            .map_err(Error::from)
    }

    /// Opens the database (creating it and running migrations on first use).
    pub fn db(&self) -> Result<Db, Error> {
        Db::open(&self.settings.paths.database()).map_err(Error::from)
    }

    /// The app id (settings) and secret (`SQ_<NET>_APP_SECRET`, else the credential store) of a
    /// network's app. `Ok(None)` when the id or the secret is not configured.
    pub async fn app_credentials(&self, network: Network) -> Result<Option<AppCredentials>, Error> {
        let app = self.settings.app(network);
        let Some(id) = app.id.as_ref().map(|s| s.value.clone()) else {
            return Ok(None);
        };
        let secret: Option<AppSecret> = match &app.env_secret {
            Some(s) => Some(s.clone()),
            // What is stored under the app-secret account is the app's secret.
            None => self
                .with_store(move |s| s.load(&Account::app_secret(network)))
                .await?
                .map(AppSecret::from_secret),
        };
        Ok(secret.map(|secret| AppCredentials::new(id, secret)))
    }

    /// A Graph client for one app (or none: calls that need no app credentials).
    pub fn graph(&self, app: Option<AppCredentials>) -> Result<GraphClient, Error> {
        Ok(GraphClient::new(self.http()?.clone(), self.settings.endpoints.clone(), app, Limits::default()))
    }
}

/// Opens the store chosen in settings (`SQ_CREDENTIAL_STORE` / `credential_store`). It lives
/// here, not in `store`, because choosing needs the settings and a passphrase may need the
/// prompter, and the store knows neither (docs/ARCHITECTURE.md).
///
/// `keyring` opens nothing yet (the first call connects). `file` needs its passphrase now:
/// from `SQ_STORE_PASSPHRASE`, else asked once for an existing file (and checked against it at
/// once, so a typo fails here and not halfway through a command) or twice for a new one.
/// Open the store only in commands that use it: asking for a passphrase costs the user.
pub fn open_store(
    settings: &Settings,
    env: &Env,
    prompter: &dyn Prompter,
) -> Result<Box<dyn CredentialStore>, Error> {
    crate::store::start_trace(env);
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
            let store = open_file_store(path, settings.store_passphrase.clone(), prompter)?;
            Ok(Box::new(store))
        }
    }
}

/// The encrypted file store at `path`: gets the passphrase (`SQ_STORE_PASSPHRASE`, else a
/// prompt: once for an existing file, twice for a new one) and checks it against an existing
/// file right away.
pub fn open_file_store(
    path: PathBuf,
    passphrase: Option<Secret>,
    prompter: &dyn Prompter,
) -> Result<FileStore, Error> {
    const FLAG: &str = "SQ_STORE_PASSPHRASE";
    let exists = path.exists();
    let passphrase = match passphrase {
        Some(p) => p,
        None if exists => {
            prompter.password(&format!("Passphrase for the sq credential file {}", path.display()), FLAG)?
        }
        None => {
            let first = prompter
                .password(&format!("New passphrase for the sq credential file {}", path.display()), FLAG)?;
            let again = prompter.password("Repeat the passphrase", FLAG)?;
            if first != again {
                return Err(Error::usage("the two passphrases differ; nothing was stored")
                    .hint("run the command again and type the same passphrase twice"));
            }
            first
        }
    };
    if passphrase.is_empty() {
        return Err(Error::usage("the credential file's passphrase is empty")
            .hint("set SQ_STORE_PASSPHRASE to a real passphrase, or type one when asked"));
    }
    let store = FileStore::new(path, passphrase);
    store.verify()?;
    Ok(store)
}
