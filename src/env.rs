//! The one registry of environment variables sq reads (habit 5, after uv's `EnvVars`).
//!
//! The environment is read once, at start, into an [`Env`] snapshot; nothing else in sq calls
//! `std::env::var`. The help epilogue, the man page and the README table come from [`VARS`].
//!
//! Citations: habit n of docs/reference/style.md.

use std::collections::BTreeMap;

pub const SQ_CONFIG_DIR: &str = "SQ_CONFIG_DIR";
pub const SQ_DATA_DIR: &str = "SQ_DATA_DIR";
pub const SQ_META_API_BASE: &str = "SQ_META_API_BASE";
pub const SQ_GRAPH_VERSION: &str = "SQ_GRAPH_VERSION";
pub const SQ_FACEBOOK_APP_ID: &str = "SQ_FACEBOOK_APP_ID";
pub const SQ_FACEBOOK_APP_SECRET: &str = "SQ_FACEBOOK_APP_SECRET";
pub const SQ_INSTAGRAM_APP_ID: &str = "SQ_INSTAGRAM_APP_ID";
pub const SQ_INSTAGRAM_APP_SECRET: &str = "SQ_INSTAGRAM_APP_SECRET";
pub const SQ_THREADS_APP_ID: &str = "SQ_THREADS_APP_ID";
pub const SQ_THREADS_APP_SECRET: &str = "SQ_THREADS_APP_SECRET";
pub const SQ_CREDENTIAL_STORE: &str = "SQ_CREDENTIAL_STORE";
pub const SQ_STORE_PASSPHRASE: &str = "SQ_STORE_PASSPHRASE";
pub const SQ_NO_PROMPT: &str = "SQ_NO_PROMPT";
pub const BROWSER: &str = "BROWSER";
pub const NO_COLOR: &str = "NO_COLOR";
pub const CLICOLOR_FORCE: &str = "CLICOLOR_FORCE";
pub const COLUMNS: &str = "COLUMNS";

pub struct EnvVar {
    pub name: &'static str,
    pub help: &'static str,
    /// Holds a secret: never echoed, not even by `-vv`.
    pub secret: bool,
}

pub const VARS: &[EnvVar] = &[
    EnvVar { name: SQ_CONFIG_DIR, help: "override the config directory", secret: false },
    EnvVar {
        name: SQ_DATA_DIR,
        help: "override the data directory (database, encrypted store)",
        secret: false,
    },
    EnvVar {
        name: SQ_META_API_BASE,
        help: "reach every Meta host H at {base}/{H} (the sandbox, tests)",
        secret: false,
    },
    EnvVar {
        name: SQ_GRAPH_VERSION,
        help: "Graph API version for Facebook/Instagram (default v27.0)",
        secret: false,
    },
    EnvVar { name: SQ_FACEBOOK_APP_ID, help: "Facebook app id (overrides config)", secret: false },
    EnvVar {
        name: SQ_FACEBOOK_APP_SECRET,
        help: "Facebook app secret (overrides the stored one)",
        secret: true,
    },
    EnvVar { name: SQ_INSTAGRAM_APP_ID, help: "Instagram Login app id", secret: false },
    EnvVar { name: SQ_INSTAGRAM_APP_SECRET, help: "Instagram Login app secret", secret: true },
    EnvVar { name: SQ_THREADS_APP_ID, help: "Threads app id (not the Facebook app id)", secret: false },
    EnvVar { name: SQ_THREADS_APP_SECRET, help: "Threads app secret", secret: true },
    EnvVar { name: SQ_CREDENTIAL_STORE, help: "keyring (default) or file", secret: false },
    EnvVar {
        name: SQ_STORE_PASSPHRASE,
        help: "passphrase of the encrypted file store (else prompted)",
        secret: true,
    },
    EnvVar { name: SQ_NO_PROMPT, help: "same as --no-input", secret: false },
    EnvVar { name: BROWSER, help: "command that opens the authorization URL", secret: false },
    EnvVar { name: NO_COLOR, help: "disable color", secret: false },
    EnvVar { name: CLICOLOR_FORCE, help: "force color even when not on a terminal", secret: false },
    EnvVar {
        name: COLUMNS,
        help: "width human output fits when stdout is not a terminal (default: no limit)",
        secret: false,
    },
];

/// A snapshot of the variables in [`VARS`] (plus what the platform needs to detect a display
/// or an SSH session), taken once.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

/// Read for detection only (headless/SSH), never documented as sq settings.
const DETECTION: &[&str] =
    &["DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY", "DBUS_SESSION_BUS_ADDRESS"];

/// Read by the credential store: the debug trace of its round trips (docs/testing.md) and the
/// per-session directory of the keyring bundle's lock file.
pub const SQ_DEBUG_STORE_TRACE: &str = "SQ_DEBUG_STORE_TRACE";
const STORE: &[&str] = &[SQ_DEBUG_STORE_TRACE, "XDG_RUNTIME_DIR"];

impl Env {
    pub fn from_process() -> Env {
        let mut vars = BTreeMap::new();
        for name in VARS.iter().map(|v| v.name).chain(DETECTION.iter().copied()).chain(STORE.iter().copied())
        {
            if let Ok(value) = std::env::var(name) {
                vars.insert(name.to_string(), value);
            }
        }
        Env { vars }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    /// The value, treating an empty string as unset (as most CLIs do for `FOO= sq ...`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Set but possibly empty (NO_COLOR is "set to anything").
    pub fn is_set(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    pub fn truthy(&self, name: &str) -> bool {
        matches!(self.get(name), Some(v) if !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off"))
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in &self.vars {
            let secret = VARS.iter().any(|e| e.name == k && e.secret);
            map.entry(k, &if secret { "[redacted]".to_string() } else { v.clone() });
        }
        map.finish()
    }
}

/// Whether a child process sq starts (the browser) must not inherit the variable `name`: every
/// secret in [`VARS`], and every other `SQ_*` name, since sq can't vouch that a variable it
/// doesn't know holds no secret. The other documented `SQ_*` variables and everything outside
/// `SQ_*` (PATH, HOME, DISPLAY, …) are passed on.
pub fn withheld_from_children(name: &str) -> bool {
    match VARS.iter().find(|v| v.name == name) {
        Some(v) => v.secret,
        None => name.starts_with("SQ_"),
    }
}

/// The names in this process's environment that [`withheld_from_children`] holds back (read
/// here, the one place sq looks at the environment).
pub fn names_withheld_from_children() -> Vec<std::ffi::OsString> {
    std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| withheld_from_children(&name.to_string_lossy()))
        .chain(VARS.iter().filter(|v| v.secret).map(|v| v.name.into()))
        .collect()
}

/// The env section of `sq --help` and the man page.
pub fn help_table() -> String {
    let mut out = String::from("Environment:\n");
    for v in VARS {
        out.push_str(&format!("  {:<24} {}\n", v.name, v.help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_children_do_not_inherit() {
        let cases = [
            (SQ_STORE_PASSPHRASE, true),
            (SQ_FACEBOOK_APP_SECRET, true),
            (SQ_INSTAGRAM_APP_SECRET, true),
            (SQ_THREADS_APP_SECRET, true),
            ("SQ_SOME_FUTURE_TOKEN", true),
            ("SQ_", true),
            (SQ_DATA_DIR, false),
            (SQ_FACEBOOK_APP_ID, false),
            (SQ_META_API_BASE, false),
            (BROWSER, false),
            ("PATH", false),
            ("HOME", false),
            ("DISPLAY", false),
            ("sq_lowercase", false),
        ];
        for (name, want) in cases {
            assert_eq!(withheld_from_children(name), want, "{name}");
        }
        // Every secret of the registry, whether or not it is set in this process.
        let names = names_withheld_from_children();
        for v in VARS.iter().filter(|v| v.secret) {
            assert!(names.iter().any(|n| n == v.name), "{}", v.name);
        }
    }
}
