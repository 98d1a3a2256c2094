//! The config file (`<config dir>/config.toml`) and the registry of its keys.
//!
//! Secret keys (`*.app_secret`) are never written here: `sq config set` sends them to the
//! credential store. The file holds only what is safe to show.

use crate::error::Error;
use crate::fsutil;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct ConfigKey {
    pub name: &'static str,
    pub help: &'static str,
    /// Stored in the credential store under `app_secret:<network>`, masked when shown.
    pub secret: bool,
    /// The environment variable that overrides it.
    pub env: Option<&'static str>,
}

use crate::env as e;

pub const KEYS: &[ConfigKey] = &[
    ConfigKey {
        name: "facebook.app_id",
        help: "Facebook app id (App settings → Basic)",
        secret: false,
        env: Some(e::SQ_FACEBOOK_APP_ID),
    },
    ConfigKey {
        name: "facebook.app_secret",
        help: "Facebook app secret (kept in the credential store)",
        secret: true,
        env: Some(e::SQ_FACEBOOK_APP_SECRET),
    },
    ConfigKey {
        name: "instagram.app_id",
        help: "Instagram app id (Instagram → API setup with Instagram login)",
        secret: false,
        env: Some(e::SQ_INSTAGRAM_APP_ID),
    },
    ConfigKey {
        name: "instagram.app_secret",
        help: "Instagram app secret (kept in the credential store)",
        secret: true,
        env: Some(e::SQ_INSTAGRAM_APP_SECRET),
    },
    ConfigKey {
        name: "threads.app_id",
        help: "Threads app id (not the Facebook app id)",
        secret: false,
        env: Some(e::SQ_THREADS_APP_ID),
    },
    ConfigKey {
        name: "threads.app_secret",
        help: "Threads app secret (kept in the credential store)",
        secret: true,
        env: Some(e::SQ_THREADS_APP_SECRET),
    },
    ConfigKey {
        name: "facebook.redirect_uri",
        help: "Facebook's redirect URI (default: redirect_uri, else http://localhost:8765/callback)",
        secret: false,
        env: None,
    },
    ConfigKey {
        name: "facebook.config_id",
        help: "Facebook Login for Business configuration id: sent as config_id instead of scope",
        secret: false,
        env: None,
    },
    ConfigKey {
        name: "instagram.redirect_uri",
        help: "Instagram Login's redirect URI, https only (default: redirect_uri if https, else https://localhost:8765/callback)",
        secret: false,
        env: None,
    },
    ConfigKey {
        name: "threads.redirect_uri",
        help: "Threads' redirect URI, https only (default: redirect_uri if https, else https://localhost:8765/callback)",
        secret: false,
        env: None,
    },
    ConfigKey {
        name: "redirect_uri",
        help: "loopback redirect URI shared by the three logins unless <network>.redirect_uri is set (Instagram Login and Threads take it only if https)",
        secret: false,
        env: None,
    },
    ConfigKey {
        name: "https.trusted_certificate",
        help: "SHA-256 fingerprint of sq's https://localhost certificate once you trusted it in the browser (ends the warning; docs/reauth.md)",
        secret: false,
        env: None,
    },
    ConfigKey {
        name: "credential_store",
        help: "keyring (default) or file",
        secret: false,
        env: Some(e::SQ_CREDENTIAL_STORE),
    },
    ConfigKey {
        name: "graph_version",
        help: "Graph API version, e.g. v27.0",
        secret: false,
        env: Some(e::SQ_GRAPH_VERSION),
    },
];

pub fn key(name: &str) -> Result<&'static ConfigKey, Error> {
    KEYS.iter().find(|k| k.name == name).ok_or_else(|| {
        let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        Error::usage(format!("unknown config key {name:?}")).hint(format!("known keys: {}", names.join(", ")))
    })
}

#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    table: toml::Table,
}

impl ConfigFile {
    /// A missing file is an empty config; an unreadable or malformed one is an error that says
    /// where, since silently ignoring it would make sq act on settings the user didn't mean.
    pub fn load(path: &Path) -> Result<ConfigFile, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(Error::io(format!("reading config file {}", path.display()), err)),
        };
        let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
            Error::failure(
                "config_invalid",
                format!("config file {} is not valid TOML: {}", path.display(), err.message()),
            )
            .hint("fix or remove the file; `sq config list` shows the known keys")
        })?;
        Ok(ConfigFile { path: path.to_path_buf(), table })
    }

    pub fn get(&self, name: &str) -> Option<String> {
        let mut parts = name.split('.');
        let first = parts.next()?;
        let mut value = self.table.get(first)?;
        for part in parts {
            value = value.as_table()?.get(part)?;
        }
        match value {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn set(&mut self, name: &str, value: &str) {
        let parts: Vec<&str> = name.split('.').collect();
        let mut table = &mut self.table;
        for part in &parts[..parts.len() - 1] {
            let entry =
                table.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            let toml::Value::Table(t) = entry else { unreachable!("made a table above") };
            table = t;
        }
        table.insert(parts[parts.len() - 1].to_string(), toml::Value::String(value.to_string()));
    }

    pub fn unset(&mut self, name: &str) -> bool {
        let parts: Vec<&str> = name.split('.').collect();
        let mut table = &mut self.table;
        for part in &parts[..parts.len() - 1] {
            match table.get_mut(*part) {
                Some(toml::Value::Table(t)) => table = t,
                _ => return false,
            }
        }
        table.remove(parts[parts.len() - 1]).is_some()
    }

    pub fn save(&self) -> Result<(), Error> {
        let text = toml::to_string(&self.table)
            .map_err(|err| Error::failure("internal", format!("could not encode the config file: {err}")))?;
        fsutil::write_atomic(&self.path, text.as_bytes(), 0o600)
            .map_err(|err| Error::io(format!("writing config file {}", self.path.display()), err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_unset_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut c = ConfigFile::load(&path).unwrap();
        assert_eq!(c.get("facebook.app_id"), None);
        c.set("facebook.app_id", "1234");
        c.set("redirect_uri", "http://localhost:9000/cb");
        c.save().unwrap();
        let c2 = ConfigFile::load(&path).unwrap();
        assert_eq!(c2.get("facebook.app_id").as_deref(), Some("1234"));
        assert_eq!(c2.get("redirect_uri").as_deref(), Some("http://localhost:9000/cb"));
        let mut c3 = c2.clone();
        assert!(c3.unset("facebook.app_id"));
        assert!(!c3.unset("facebook.app_id"));
        assert_eq!(c3.get("facebook.app_id"), None);
    }

    #[test]
    fn malformed_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "facebook = [").unwrap();
        let err = ConfigFile::load(&path).unwrap_err();
        assert!(err.message.contains("not valid TOML"), "{}", err.message);
    }

    #[test]
    fn unknown_key_lists_the_known_ones() {
        let err = key("facebook.secret").unwrap_err();
        assert!(err.hints[0].contains("facebook.app_secret"));
    }
}
