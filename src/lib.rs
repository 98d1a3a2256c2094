//! sq: keeps Facebook Page, Instagram and Threads profiles publishing.
//!
//! Data flows one way: `cli` → `cmd` → (`meta`, `store`, `db`) collect facts → `diagnose` /
//! policy decide → `output` renders. `docs/ARCHITECTURE.md` says which module may use which;
//! `architecture.rs` checks it.

#[cfg(test)]
mod architecture;
pub mod auth;
#[cfg(test)]
mod citations;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod ctx;
pub mod db;
pub mod demo;
pub mod diagnose;
pub mod docs;
pub mod env;
pub mod error;
pub mod fsutil;
pub mod meta;
pub mod model;
pub mod output;
pub mod prompt;
pub mod publish;
pub mod sandbox;
pub mod secret;
pub mod settings;
pub mod signal;
pub mod store;

use clap::Parser;
use error::Error;
use std::process::ExitCode;
use std::sync::Arc;

pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are successes; everything else clap rejects is exit 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let env = env::Env::from_process();
    run(cli, env)
}

/// Runs a parsed command line with a given environment snapshot.
pub fn run(cli: cli::Cli, env: env::Env) -> ExitCode {
    let settings = match settings::Settings::resolve(&cli.global.flags(), &env) {
        Ok(s) => s,
        Err(err) => {
            let printer =
                output::Printer::new(cli.global.json, cli.global.quiet, 0, cli.global.color, false, false);
            printer.error(&err);
            return ExitCode::from(err.exit_code());
        }
    };
    let printer = output::Printer::new(
        settings.json,
        settings.quiet,
        settings.verbose,
        settings.color,
        settings.no_color_env,
        settings.force_color_env,
    );
    let prompter = Box::new(prompt::TerminalPrompter::new(settings.no_input));
    let ctx = ctx::Ctx::new(settings, env, printer, prompter, Arc::new(ctx::SystemClock));

    // One thread for the command's async work: sq waits on Meta far more than it computes, and
    // with worker threads each thread's allocator arena kept its own freed memory (about 20 MB
    // more peak RSS for a diagnose of 10,000 Pages; docs/performance.md). Blocking calls (the
    // keyring, the file store's key derivation) still run on tokio's blocking threads.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let err = Error::io("starting the async runtime", e);
            ctx.printer.error(&err);
            return ExitCode::from(err.exit_code());
        }
    };
    let own_signals = cli.command.handles_signals();
    let result = runtime.block_on(async {
        if own_signals {
            return cli.command.run(&ctx).await;
        }
        tokio::select! {
            r = cli.command.run(&ctx) => r,
            // Ctrl-C: the command's future is dropped at an await point; database writes are
            // single transactions and credential writes are atomic, so nothing is half-done.
            _ = tokio::signal::ctrl_c() => Err(Error::interrupted()),
        }
    });
    // Don't wait for stray blocking tasks (a hung keyring call) on the way out.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) => {
            ctx.printer.error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
