use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::error::Error;
use clap::CommandFactory;
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

pub fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let _ = ctx;
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut crate::cli::Cli::command(), "sq", &mut out);
    Ok(Exit::Success)
}

/// The script for `shell`, as committed under `completions/`.
pub fn render(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::Cli::command(), "sq", &mut buf);
    buf
}
