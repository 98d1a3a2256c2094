//! One file per subcommand (habit 2): `Args` (its doc comments are the help) and
//! `run(ctx, args)`. The dispatcher is one exhaustive match.

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::{Error, Kind};

pub mod completions;
pub mod config;
pub mod demo;
pub mod diagnose;
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

pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<Exit, Error> {
    match command {
        Command::Diagnose(args) => diagnose::run(ctx, args).await,
        Command::Profiles(args) => profiles::run(ctx, args).await,
        Command::Config(args) => config::run(ctx, args).await,
        Command::Completions(args) => completions::run(ctx, args),
        Command::Sandbox(args) => sandbox::run(ctx, args).await,
        Command::Demo(args) => demo::run(ctx, args).await,
        Command::Token(args) => token::run(ctx, args).await,
        Command::Reauth(args) => reauth::run(ctx, args).await,
        Command::Refresh(args) => refresh::run(ctx, args).await,
        Command::Queue(args) => queue::run(ctx, args).await,
        Command::Publish(args) => publish::run(ctx, args).await,
        Command::Requeue(args) => requeue::run(ctx, args).await,
    }
}
