use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::error::Error;
use clap_complete::Shell;

/// Print a shell completion script
///
/// Examples:
///   sq completions bash > ~/.local/share/bash-completion/completions/sq
///   sq completions zsh > "${fpath[1]}/_sq"
///   sq completions fish > ~/.config/fish/completions/sq.fish
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `command` is the whole command tree (`cli::Cli::command()`), passed in by the dispatcher so
/// the commands don't import `cli`.
pub fn run(ctx: &Ctx, args: Args, mut command: clap::Command) -> Result<Exit, Error> {
    let _ = ctx;
    use std::io::Write;
    // Generated into memory first: writing straight to stdout would panic on a closed pipe
    // (`sq completions bash | head`), where a CLI should just stop.
    let script = render(args.shell, &mut command);
    match std::io::stdout().lock().write_all(&script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("writing to stdout", e)),
        _ => Ok(Exit::Success),
    }
}

/// The script for `shell` from the command tree `command`, as committed under `completions/`
/// (`crate::docs::completions`).
pub fn render(shell: Shell, command: &mut clap::Command) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, command, "sq", &mut buf);
    buf
}
