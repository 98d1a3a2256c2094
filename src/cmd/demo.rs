use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::demo::{self, Options};
use crate::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Watch sq repair broken profiles, for real, on an offline Meta sandbox (no account needed)
///
/// Starts the built-in Meta sandbox (scenario "story") on a random loopback port, in a
/// temporary directory, and runs the real sq commands of a repair, showing their real output:
/// sq token import and sq queue add (the set-up), the sandbox breaking things (a password
/// change, an expired Instagram token; one Page was never ticked), sq publish failing, sq
/// diagnose naming each cause and its fix, sq reauth facebook and sq reauth instagram with the
/// demo playing the browser (the sandbox consents on your behalf), sq requeue --failed, sq
/// publish, and a clean sq diagnose.
///
/// It needs no Meta account, no network and no keyring: credentials go to an encrypted file in
/// the temporary directory with a random passphrase. Your own config, data directory and
/// keyring are never touched, and the temporary directory is removed when the demo ends (also
/// on an error or Ctrl-C). Takes a few seconds. Exit 0 when the story ends clean; otherwise 1,
/// naming the step that went wrong. With --json, the commands' output goes to stderr and stdout
/// gets a summary (docs/json.md).
///
/// Examples:
///   sq demo
///   sq demo --color never | less
///   cargo run --release -- demo
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let Args {} = args;
    let exe = std::env::current_exe().map_err(|e| Error::io("finding the sq executable to run", e))?;
    let cancel = Arc::new(AtomicBool::new(false));
    let opts = Options {
        exe,
        color: ctx.settings.color,
        no_color: ctx.settings.no_color_env,
        force_color: ctx.settings.force_color_env,
        json: ctx.printer.is_json(),
        cancel: cancel.clone(),
    };
    // The story runs on its own thread (it waits on child processes); Ctrl-C or SIGTERM only
    // raise the flag, so the story stops its current step, removes its temporary directory and
    // stops the sandbox before sq exits.
    // Listen before the story starts: a signal that came before would end sq at once and leave
    // the temporary directory behind.
    let signals = Signals::listen()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("sq-demo".into())
        .spawn(move || {
            let _ = tx.send(demo::run(&opts));
        })
        .map_err(|e| Error::io("starting the demo", e))?;
    let mut rx = rx;
    let result = tokio::select! {
        r = &mut rx => r,
        _ = signals.recv() => {
            cancel.store(true, Ordering::SeqCst);
            rx.await
        }
    };
    let summary = result.map_err(|_| Error::failure("internal", "the demo ended without a result"))??;
    if ctx.printer.is_json() {
        ctx.printer.json(&summary)?;
    }
    Ok(Exit::Success)
}

/// Ctrl-C or SIGTERM, registered when created.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> Result<Signals, Error> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let int = signal(SignalKind::interrupt()).map_err(|e| Error::io("listening for Ctrl-C", e))?;
            let term = signal(SignalKind::terminate()).map_err(|e| Error::io("listening for SIGTERM", e))?;
            Ok(Signals { int, term })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
