//! Settings resolved once (habit 3, after uv's `settings.rs`): flags over environment over
//! config file over defaults. Commands read `Settings`, never env vars or clap types.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; habit n of docs/reference/style.md.

use crate::config::ConfigFile;
use crate::env::{self, Env};
use crate::error::Error;
use crate::meta::hosts::MetaEndpoints;
use crate::model::Network;
use crate::output::ColorChoice;
use crate::secret::{AppSecret, Secret};
// Defined beside what they configure (the store, the redirect, the browser opener), so those
// modules need nothing of the settings; re-exported for the commands.
pub use crate::auth::browser::Headless;
pub use crate::auth::redirect::{DEFAULT_HTTPS_REDIRECT_URI, DEFAULT_REDIRECT_URI, https_only};
pub use crate::store::StoreKind;
use std::path::PathBuf;

/// Where a setting's value came from, shown by `sq config get/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env(&'static str),
    Config,
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env(name) => write!(f, "env {name}"),
            Source::Config => f.write_str("config file"),
            Source::Default => f.write_str("default"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// One app's credentials as far as settings know them. A secret kept in the credential store
/// is loaded by the commands that need it (opening the keyring costs time).
#[derive(Debug, Clone, Default)]
pub struct AppSettings {
    pub id: Option<Sourced<String>>,
    /// From `SQ_<NET>_APP_SECRET`; wins over the stored one.
    pub env_secret: Option<AppSecret>,
}

#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Paths {
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("sq.db")
    }

    /// The encrypted `file` credential store.
    pub fn credential_file(&self) -> PathBuf {
        self.data_dir.join("credentials.enc")
    }
}

/// The global command-line options, as plain values (`cli::GlobalArgs::flags`).
#[derive(Debug, Clone, Default)]
pub struct GlobalFlags {
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    pub no_input: bool,
    pub color: ColorChoice,
    /// `--config <FILE>`.
    pub config: Option<PathBuf>,
}

/// The redirect URI one network's login uses, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectSetting {
    pub value: String,
    /// The config key it was read from (`threads.redirect_uri` or the shared `redirect_uri`),
    /// or `None` for the built-in default.
    pub key: Option<&'static str>,
    /// Why a shared `redirect_uri` was passed over (it is http and this login needs https).
    pub skipped_shared: Option<String>,
}

impl RedirectSetting {
    /// `config file` (the network's own key), `redirect_uri in config file` or `default`.
    pub fn source(&self) -> String {
        match self.key {
            Some("redirect_uri") => "redirect_uri in config file".to_string(),
            Some(_) => "config file".to_string(),
            None => "default".to_string(),
        }
    }
}

/// The config key of a network's own redirect URI.
pub fn redirect_key(network: Network) -> &'static str {
    match network {
        Network::Facebook => "facebook.redirect_uri",
        Network::Instagram => "instagram.redirect_uri",
        Network::Threads => "threads.redirect_uri",
    }
}

/// `{network}.redirect_uri`, else the shared `redirect_uri` (for Instagram Login and Threads only
/// when it is https: an http one can't work there, §14), else the network's default.
pub fn resolve_redirect(config: &ConfigFile, network: Network) -> RedirectSetting {
    let own = redirect_key(network);
    if let Some(v) = config.get(own) {
        return RedirectSetting { value: v, key: Some(own), skipped_shared: None };
    }
    let default = if https_only(network) { DEFAULT_HTTPS_REDIRECT_URI } else { DEFAULT_REDIRECT_URI };
    match config.get("redirect_uri") {
        Some(v) if https_only(network) && !v.trim().to_ascii_lowercase().starts_with("https://") => {
            RedirectSetting {
                value: default.to_string(),
                key: None,
                skipped_shared: Some(format!(
                    "redirect_uri {v} is not https, which {} refuses; set {own} to an https URI to choose another",
                    network_login_name(network)
                )),
            }
        }
        Some(v) => RedirectSetting { value: v, key: Some("redirect_uri"), skipped_shared: None },
        None => RedirectSetting { value: default.to_string(), key: None, skipped_shared: None },
    }
}

/// How the docs name a network's login.
pub fn network_login_name(network: Network) -> &'static str {
    match network {
        Network::Facebook => "Facebook Login",
        Network::Instagram => "Instagram Login",
        Network::Threads => "Threads",
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    pub no_input: bool,
    pub color: ColorChoice,
    pub paths: Paths,
    pub config: ConfigFile,
    pub endpoints: MetaEndpoints,
    pub store: Sourced<StoreKind>,
    pub store_passphrase: Option<Secret>,
    pub facebook: AppSettings,
    pub instagram: AppSettings,
    pub threads: AppSettings,
    pub redirect_uri: Sourced<String>,
    /// `facebook.config_id`: a Facebook Login for Business configuration (§1.8, §14). When set,
    /// the Facebook dialog carries `config_id` instead of `scope`.
    pub facebook_config_id: Option<String>,
    /// `https.trusted_certificate`: the fingerprint of the loopback certificate the user says
    /// the browser trusts (docs/reauth.md).
    pub trusted_certificate: Option<String>,
    /// `$BROWSER`, when set (not empty).
    pub browser: Option<String>,
    /// An SSH session or no display: no system opener is launched (an explicit `$BROWSER` or
    /// `--browser` still is), and a pasted redirect is accepted.
    pub headless: Option<Headless>,
    pub no_color_env: bool,
    pub force_color_env: bool,
}

impl Settings {
    pub fn resolve(args: &GlobalFlags, env: &Env) -> Result<Settings, Error> {
        let config_dir = match env.get(env::SQ_CONFIG_DIR) {
            Some(d) => PathBuf::from(d),
            None => dirs::config_dir().map(|d| d.join("sq")).ok_or_else(|| {
                Error::usage("can't find a config directory for this platform").hint("set SQ_CONFIG_DIR")
            })?,
        };
        let data_dir = match env.get(env::SQ_DATA_DIR) {
            Some(d) => PathBuf::from(d),
            None => dirs::data_dir().map(|d| d.join("sq")).ok_or_else(|| {
                Error::usage("can't find a data directory for this platform").hint("set SQ_DATA_DIR")
            })?,
        };
        let config_file = args.config.clone().unwrap_or_else(|| config_dir.join("config.toml"));
        let config = ConfigFile::load(&config_file)?;

        let pick = |env_name: Option<&'static str>, key: &str| -> Option<Sourced<String>> {
            if let Some(name) = env_name {
                if let Some(v) = env.get(name) {
                    return Some(Sourced { value: v.to_string(), source: Source::Env(name) });
                }
            }
            config.get(key).map(|v| Sourced { value: v, source: Source::Config })
        };

        let graph_version = pick(Some(env::SQ_GRAPH_VERSION), "graph_version");
        let endpoints = MetaEndpoints::new(
            env.get(env::SQ_META_API_BASE),
            graph_version.as_ref().map(|s| s.value.as_str()),
        )?;

        let store = match pick(Some(env::SQ_CREDENTIAL_STORE), "credential_store") {
            None => Sourced { value: StoreKind::Keyring, source: Source::Default },
            Some(s) => Sourced {
                value: StoreKind::parse(&s.value).ok_or_else(|| {
                    Error::usage(format!(
                        "credential store {:?} (from {}) is not one of: keyring, file",
                        s.value, s.source
                    ))
                })?,
                source: s.source,
            },
        };

        let app = |id_env: &'static str, secret_env: &'static str, prefix: &str| AppSettings {
            id: pick(Some(id_env), &format!("{prefix}.app_id")),
            env_secret: env.get(secret_env).map(AppSecret::new),
        };

        let redirect_uri = pick(None, "redirect_uri")
            .unwrap_or(Sourced { value: DEFAULT_REDIRECT_URI.to_string(), source: Source::Default });

        let trusted_certificate = pick(None, "https.trusted_certificate").map(|s| s.value);

        let ssh = env.get("SSH_CONNECTION").is_some() || env.get("SSH_TTY").is_some();
        let display = cfg!(any(target_os = "macos", windows))
            || env.get("DISPLAY").is_some()
            || env.get("WAYLAND_DISPLAY").is_some();

        let facebook = app(env::SQ_FACEBOOK_APP_ID, env::SQ_FACEBOOK_APP_SECRET, "facebook");
        let instagram = app(env::SQ_INSTAGRAM_APP_ID, env::SQ_INSTAGRAM_APP_SECRET, "instagram");
        let threads = app(env::SQ_THREADS_APP_ID, env::SQ_THREADS_APP_SECRET, "threads");

        let facebook_config_id = config.get("facebook.config_id").filter(|v| !v.trim().is_empty());
        Ok(Settings {
            json: args.json,
            quiet: args.quiet,
            verbose: args.verbose,
            no_input: args.no_input || env.truthy(env::SQ_NO_PROMPT),
            color: args.color,
            paths: Paths { config_dir, data_dir, config_file },
            config,
            endpoints,
            store,
            store_passphrase: env.get(env::SQ_STORE_PASSPHRASE).map(Secret::new),
            facebook,
            instagram,
            threads,
            redirect_uri,
            facebook_config_id,
            trusted_certificate,
            browser: env.get(env::BROWSER).map(str::to_string),
            headless: if ssh {
                Some(Headless::Ssh)
            } else if !display {
                Some(Headless::NoDisplay)
            } else {
                None
            },
            no_color_env: env.is_set(env::NO_COLOR),
            force_color_env: env.truthy(env::CLICOLOR_FORCE),
        })
    }

    /// The redirect URI `network`'s login uses when no `--redirect-uri` is given.
    pub fn redirect_for(&self, network: Network) -> RedirectSetting {
        resolve_redirect(&self.config, network)
    }

    pub fn app(&self, network: Network) -> &AppSettings {
        match network {
            Network::Facebook => &self.facebook,
            Network::Instagram => &self.instagram,
            Network::Threads => &self.threads,
        }
    }
}
