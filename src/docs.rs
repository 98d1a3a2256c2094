//! Generated documentation: man pages and shell completions from the clap tree. Committed
//! under `docs/man` and `completions/`, and checked by `tests/generated.rs`.

use clap::CommandFactory;

/// The completion script for `shell`, as committed under `completions/`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    crate::cmd::completions::render(shell, &mut crate::cli::Cli::command())
}

/// `(file name, roff text)` for `sq.1` and one page per subcommand (`sq-diagnose.1`, ...).
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut pages = Vec::new();
    let cmd = crate::cli::Cli::command();
    render(&cmd, "sq", &mut pages);
    pages
}

fn render(cmd: &clap::Command, name: &str, pages: &mut Vec<(String, Vec<u8>)>) {
    let cmd = cmd.clone().name(name.to_string()).bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    // Writing to a Vec can't fail.
    let _ = man.render(&mut buf);
    pages.push((format!("{name}.1"), buf));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        render(sub, &format!("{name}-{}", sub.get_name()), pages);
    }
}
