//! One error type at the edge (habit 7, after jj's `command_error.rs` and uv's `UvError`).
//!
//! Modules own their `thiserror` enums; this file turns them into a [`Error`] with a kind
//! (which fixes the exit code of spec §2), a message that says what happened, and `hint:`
//! lines that say what to do.
//!
//! Citations: spec §n of docs/reference/spec.md; habit n of docs/reference/style.md.

mod translate;

pub use translate::{app_token_error, probe_error};

use serde::Serialize;
use std::fmt;

/// Exit codes of spec §2. `--json` never changes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 1: I/O, internal, a post failed for content reasons.
    Failure,
    /// 2: usage error.
    Usage,
    /// 3: Meta unreachable or transient; retrying later may work.
    Unreachable,
    /// 4: user action required (re-authorization, a fix on Meta's side, held posts).
    ActionRequired,
    /// 130: interrupted.
    Interrupted,
}

impl Kind {
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Failure => 1,
            Kind::Usage => 2,
            Kind::Unreachable => 3,
            Kind::ActionRequired => 4,
            Kind::Interrupted => 130,
        }
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    /// Stable machine-readable identifier for `--json` (`store_unavailable`, `usage`, ...).
    pub code: &'static str,
    pub message: String,
    pub hints: Vec<String>,
    /// What lay under the error, outermost first (`caused by:` lines under `-v`): the module
    /// error's `source()` chain and the details Meta sent (code, type, trace id). Sanitized;
    /// never a token. Not part of `--json` (spec §2 fixes the error object's fields).
    pub causes: Vec<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Error {
        Error { kind, code, message: message.into(), hints: Vec::new(), causes: Vec::new() }
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage, "usage", message)
    }

    pub fn failure(code: &'static str, message: impl Into<String>) -> Error {
        Error::new(Kind::Failure, code, message)
    }

    pub fn unreachable(message: impl Into<String>) -> Error {
        Error::new(Kind::Unreachable, "meta_unreachable", message)
    }

    pub fn action(code: &'static str, message: impl Into<String>) -> Error {
        Error::new(Kind::ActionRequired, code, message)
    }

    pub fn interrupted() -> Error {
        Error::new(Kind::Interrupted, "interrupted", "interrupted; nothing was changed")
    }

    pub fn io(what: impl fmt::Display, err: std::io::Error) -> Error {
        let mut e = Error::failure("io", format!("{what}: {err}"));
        if err.raw_os_error() == Some(28) {
            e = e.hint("the disk is full: free some space and run the command again; nothing was changed");
        }
        e
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hints.push(hint.into());
        self
    }

    /// Adds a `caused by:` line, unless the message or the line before already says it.
    pub fn cause(mut self, cause: impl Into<String>) -> Error {
        let cause = cause.into();
        let said = self.message.contains(&cause) || self.causes.last().is_some_and(|c| c.contains(&cause));
        if !cause.trim().is_empty() && !said {
            self.causes.push(cause);
        }
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "code": self.code,
                "kind": self.kind,
                "message": self.message,
                "hints": self.hints,
                "exit_code": self.exit_code(),
            }
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_spec() {
        let table = [
            (Kind::Failure, 1),
            (Kind::Usage, 2),
            (Kind::Unreachable, 3),
            (Kind::ActionRequired, 4),
            (Kind::Interrupted, 130),
        ];
        for (kind, code) in table {
            assert_eq!(kind.exit_code(), code, "{kind:?}");
        }
    }

    #[test]
    fn json_shape() {
        let e = Error::usage("bad flag").hint("try --help");
        let v = e.to_json();
        assert_eq!(v["error"]["exit_code"], 2);
        assert_eq!(v["error"]["hints"][0], "try --help");
        assert_eq!(v["error"]["kind"], "usage");
    }
}
