//! The one prompter (habit 13, after gh's `Prompter` and jj's `can_prompt`): no dialoguer call
//! outside this file, and a prompter that refuses when it can't ask, naming the flag to use.

use crate::error::Error;
use crate::secret::Secret;
use is_terminal::IsTerminal;

pub struct Choice {
    pub label: String,
    /// Shown but not selectable (a Page without CREATE_CONTENT), with the reason.
    pub disabled: Option<String>,
    pub selected: bool,
}

pub trait Prompter: Send + Sync {
    /// Whether a person can answer (a terminal on stdin and stderr, and no `--no-input`).
    fn can_prompt(&self) -> bool;
    /// `flag` names what to use instead when prompting is impossible.
    fn password(&self, prompt: &str, flag: &str) -> Result<Secret, Error>;
    fn confirm(&self, prompt: &str, default: bool, flag: &str) -> Result<bool, Error>;
    /// Returns the indices of the chosen items; disabled items can't be chosen.
    fn multi_select(&self, prompt: &str, items: &[Choice], flag: &str) -> Result<Vec<usize>, Error>;
}

pub fn cannot_prompt(what: &str, flag: &str) -> Error {
    Error::usage(format!("{what}: sq needs an answer but can't ask (no terminal, or --no-input)"))
        .hint(format!("use {flag}"))
}

pub struct TerminalPrompter {
    no_input: bool,
}

impl TerminalPrompter {
    pub fn new(no_input: bool) -> TerminalPrompter {
        TerminalPrompter { no_input }
    }
}

fn interrupted_or(e: dialoguer::Error) -> Error {
    match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => Error::interrupted(),
        dialoguer::Error::IO(io) => Error::io("reading the answer", io),
    }
}

impl Prompter for TerminalPrompter {
    fn can_prompt(&self) -> bool {
        !self.no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn password(&self, prompt: &str, flag: &str) -> Result<Secret, Error> {
        if !self.can_prompt() {
            return Err(cannot_prompt(prompt, flag));
        }
        dialoguer::Password::new().with_prompt(prompt).interact().map(Secret::new).map_err(interrupted_or)
    }

    fn confirm(&self, prompt: &str, default: bool, flag: &str) -> Result<bool, Error> {
        if !self.can_prompt() {
            return Err(cannot_prompt(prompt, flag));
        }
        dialoguer::Confirm::new().with_prompt(prompt).default(default).interact().map_err(interrupted_or)
    }

    fn multi_select(&self, prompt: &str, items: &[Choice], flag: &str) -> Result<Vec<usize>, Error> {
        if !self.can_prompt() {
            return Err(cannot_prompt(prompt, flag));
        }
        // dialoguer has no disabled rows: show them in the list, and drop them from the answer
        // with a note, so the person sees why a Page can't be picked.
        let labels: Vec<String> = items
            .iter()
            .map(|c| match &c.disabled {
                Some(why) => format!("{} (can't be selected: {why})", c.label),
                None => c.label.clone(),
            })
            .collect();
        let defaults: Vec<bool> = items.iter().map(|c| c.selected && c.disabled.is_none()).collect();
        let chosen = dialoguer::MultiSelect::new()
            .with_prompt(prompt)
            .items(&labels)
            .defaults(&defaults)
            .interact()
            .map_err(interrupted_or)?;
        Ok(chosen.into_iter().filter(|&i| items[i].disabled.is_none()).collect())
    }
}
