//! The command-line surface (clap derive). Doc comments here are the help text, the man pages
//! and the completions; `cmd/` holds what each command does.

use crate::cmd::{self, Exit};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::model::Network;
use crate::output::ColorChoice;
use crate::settings::GlobalFlags;
use clap::builder::PossibleValue;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "Exit codes:
  0    success; for diagnose: no profile needs action (warnings allowed)
  1    failure not covered below (I/O, internal, a post failed for content reasons)
  2    usage error
  3    Meta could not be reached or answered with a transient error; retry later
  4    user action required: re-authorize, fix something on Meta's side, or posts were held
  130  interrupted";

/// sq keeps Facebook Page, Instagram and Threads profiles publishing: it says exactly why a
/// profile can't publish, re-authorizes it in the browser, and requeues the failed posts
/// without ever publishing twice.
#[derive(Debug, Parser)]
#[command(name = "sq", version, propagate_version = true, max_term_width = 100)]
#[command(after_long_help = after_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

fn after_help() -> String {
    format!("{}\n{}", crate::env::help_table(), EXIT_CODES)
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr
    #[arg(long, global = true)]
    pub json: bool,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr (repeat for more); secrets are always masked
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]
    #[arg(long, global = true)]
    pub no_input: bool,
    /// When to use color (honours NO_COLOR and CLICOLOR_FORCE)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Config file [default: <config dir>/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl GlobalArgs {
    /// The global options as settings take them (settings know nothing of clap).
    pub fn flags(&self) -> GlobalFlags {
        GlobalFlags {
            json: self.json,
            quiet: self.quiet,
            verbose: self.verbose,
            no_input: self.no_input,
            color: self.color,
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Diagnose(cmd::diagnose::Args),
    #[command(visible_alias = "connect")]
    Reauth(cmd::reauth::Args),
    Requeue(cmd::requeue::Args),
    Publish(cmd::publish::Args),
    Queue(cmd::queue::Args),
    Refresh(cmd::refresh::Args),
    Profiles(cmd::profiles::Args),
    Token(cmd::token::Args),
    Config(cmd::config::Args),
    Sandbox(cmd::sandbox::Args),
    Demo(cmd::demo::Args),
    Completions(cmd::completions::Args),
}

impl Command {
    /// Long-running commands that stop cleanly on Ctrl-C/SIGTERM themselves (a server, a
    /// watcher); for the rest, Ctrl-C ends the command with exit 130.
    pub fn handles_signals(&self) -> bool {
        matches!(self, Command::Sandbox(_) | Command::Publish(_) | Command::Demo(_))
    }

    /// Runs the command: the one dispatcher.
    pub async fn run(self, ctx: &Ctx) -> Result<Exit, Error> {
        match self {
            Command::Diagnose(args) => cmd::diagnose::run(ctx, args).await,
            Command::Profiles(args) => cmd::profiles::run(ctx, args).await,
            Command::Config(args) => cmd::config::run(ctx, args).await,
            // The completions are generated from the command tree, which is this module's.
            Command::Completions(args) => cmd::completions::run(ctx, args, Cli::command()),
            Command::Sandbox(args) => cmd::sandbox::run(ctx, args).await,
            Command::Demo(args) => cmd::demo::run(ctx, args).await,
            Command::Token(args) => cmd::token::run(ctx, args).await,
            Command::Reauth(args) => cmd::reauth::run(ctx, args).await,
            Command::Refresh(args) => cmd::refresh::run(ctx, args).await,
            Command::Queue(args) => cmd::queue::run(ctx, args).await,
            Command::Publish(args) => cmd::publish::run(ctx, args).await,
            Command::Requeue(args) => cmd::requeue::run(ctx, args).await,
        }
    }
}

/// `--network` and the network arguments read a [`Network`] by its name. Implemented here rather
/// than derived on the type, so the domain model doesn't depend on clap.
impl ValueEnum for Network {
    fn value_variants<'a>() -> &'a [Self] {
        &Network::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}
