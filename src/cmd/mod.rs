//! One file per subcommand: `Args` (its doc comments are the help) and `run(ctx, args)`; a
//! folder when a command has parts (`diagnose/`). The dispatcher, one exhaustive match, is
//! `cli::Command::run`: `cli` knows the commands, the commands don't know `cli`.

use crate::error::Kind;

pub mod completions;
pub mod config;
pub mod demo;
pub mod diagnose;
pub mod login;
pub mod profiles;
pub mod publish;
pub mod queue;
pub mod reauth;
pub mod refresh;
pub mod requeue;
pub mod sandbox;
pub mod token;
pub mod token_print;

/// How a command that did its job ended: most end in success, but `diagnose` finishing its
/// report on a broken profile exits 4 without that being an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    Code(Kind),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Code(kind) => kind.exit_code(),
        }
    }
}
