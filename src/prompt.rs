//! The one prompter (habit 13, after gh's `Prompter` and jj's `can_prompt`): no dialoguer call
//! outside this file, and a prompter that refuses when it can't ask, naming the flag to use.
//!
//! Citations: habit n of docs/reference/style.md.

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
        run_picker(prompt, items)
    }
}

/// What a key did to the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Continue,
    /// Enter: the ticked rows.
    Done(Vec<usize>),
    /// Esc, `q` or Ctrl-C: nothing chosen.
    Cancelled,
}

/// The multi-select as plain state (dialoguer's has no rows that can't be ticked, and its
/// Ctrl-C leaves the cursor hidden): rows that can't be selected are shown, can be read, and
/// can't be ticked by any key.
pub struct Picker<'a> {
    items: &'a [Choice],
    ticked: Vec<bool>,
    cursor: usize,
    /// A one-line note for the last key (e.g. why a row can't be ticked).
    note: Option<String>,
}

pub const PICKER_LEGEND: &str = "↑/↓ move · space tick · a all · enter confirm · esc cancel";

impl<'a> Picker<'a> {
    pub fn new(items: &'a [Choice]) -> Picker<'a> {
        let ticked = items.iter().map(|c| c.selected && c.disabled.is_none()).collect();
        let cursor = items.iter().position(|c| c.disabled.is_none()).unwrap_or(0);
        Picker { items, ticked, cursor, note: None }
    }

    pub fn ticked(&self) -> Vec<usize> {
        (0..self.items.len()).filter(|&i| self.ticked[i] && self.items[i].disabled.is_none()).collect()
    }

    pub fn key(&mut self, key: &console::Key) -> Step {
        use console::Key;
        self.note = None;
        let n = self.items.len();
        match key {
            Key::ArrowUp | Key::Char('k') if n > 0 => self.cursor = (self.cursor + n - 1) % n,
            Key::ArrowDown | Key::Char('j') | Key::Tab if n > 0 => self.cursor = (self.cursor + 1) % n,
            Key::Home => self.cursor = 0,
            Key::End => self.cursor = n.saturating_sub(1),
            Key::Char(' ') | Key::Char('x') => match self.items.get(self.cursor) {
                Some(c) if c.disabled.is_none() => self.ticked[self.cursor] = !self.ticked[self.cursor],
                Some(c) => {
                    self.note = Some(format!(
                        "{} can't be selected: {}",
                        c.label.trim(),
                        c.disabled.as_deref().unwrap_or("")
                    ))
                }
                None => {}
            },
            Key::Char('a') => {
                let selectable: Vec<usize> = (0..n).filter(|&i| self.items[i].disabled.is_none()).collect();
                let all = selectable.iter().all(|&i| self.ticked[i]);
                for i in selectable {
                    self.ticked[i] = !all;
                }
            }
            Key::Enter => return Step::Done(self.ticked()),
            Key::Escape | Key::CtrlC | Key::Char('q') => return Step::Cancelled,
            _ => {}
        }
        Step::Continue
    }

    /// The screen: the prompt, the legend, then the rows that fit in `height` lines around the
    /// cursor, each cut to `width` columns so no row wraps (a wrapped row would break the redraw).
    pub fn render(&self, prompt: &str, width: usize, height: usize) -> Vec<String> {
        let mut out = vec![
            crate::output::ellipsize(&format!("? {prompt}"), width),
            crate::output::ellipsize(&format!("  {PICKER_LEGEND}"), width),
        ];
        let room = height.saturating_sub(out.len() + 1).max(3);
        let n = self.items.len();
        let start = if n <= room { 0 } else { self.cursor.saturating_sub(room / 2).min(n - room) };
        for i in start..(start + room).min(n) {
            let c = &self.items[i];
            let pointer = if i == self.cursor { '>' } else { ' ' };
            let mark = match (&c.disabled, self.ticked[i]) {
                (Some(_), _) => "[-]",
                (None, true) => "[x]",
                (None, false) => "[ ]",
            };
            let row = match &c.disabled {
                Some(why) => format!("{pointer} {mark} {} (can't be selected: {why})", c.label),
                None => format!("{pointer} {mark} {}", c.label),
            };
            out.push(crate::output::ellipsize(&row, width));
        }
        let footer = match &self.note {
            Some(note) => note.clone(),
            None if n > room => format!("  {}–{} of {n}", start + 1, (start + room).min(n)),
            None => String::new(),
        };
        if !footer.is_empty() {
            out.push(crate::output::ellipsize(&footer, width));
        }
        out
    }
}

/// Shows the cursor again however the picker ends (Enter, Esc, Ctrl-C, an I/O error).
struct CursorGuard<'t>(&'t console::Term);

impl Drop for CursorGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.show_cursor();
        let _ = self.0.flush();
    }
}

fn run_picker(prompt: &str, items: &[Choice]) -> Result<Vec<usize>, Error> {
    let term = console::Term::stderr();
    let io = |e: std::io::Error| Error::io("drawing the picker", e);
    let mut picker = Picker::new(items);
    let _ = term.hide_cursor();
    let _guard = CursorGuard(&term);
    let mut drawn = 0;
    loop {
        let (rows, cols) = term.size();
        let lines = picker.render(prompt, usize::from(cols).max(20), usize::from(rows).max(6));
        term.clear_last_lines(drawn).map_err(io)?;
        for l in &lines {
            term.write_line(l).map_err(io)?;
        }
        drawn = lines.len();
        // read_key_raw: Ctrl-C comes back as a key instead of a signal that would end sq with
        // the picker still on screen and the cursor hidden.
        let key = match term.read_key_raw() {
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => console::Key::CtrlC,
            Err(e) => return Err(Error::io("reading the answer", e)),
        };
        match picker.key(&key) {
            Step::Continue => {}
            Step::Done(chosen) => {
                term.clear_last_lines(drawn).map_err(io)?;
                // One short line, not an echo of every name.
                let selectable = items.iter().filter(|c| c.disabled.is_none()).count();
                term.write_line(&format!("✔ {prompt} {} of {selectable} selected", chosen.len()))
                    .map_err(io)?;
                return Ok(chosen);
            }
            Step::Cancelled => {
                term.clear_last_lines(drawn).map_err(io)?;
                return Err(Error::interrupted());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use console::Key;

    fn items() -> Vec<Choice> {
        let c = |label: &str, disabled: Option<&str>, selected: bool| Choice {
            label: label.into(),
            disabled: disabled.map(str::to_string),
            selected,
        };
        vec![
            c("Acme Bakery", None, true),
            c("Acme Archive", Some("no CREATE_CONTENT task"), true),
            c("Acme Catering", None, false),
        ]
    }

    #[test]
    fn keys_table() {
        let items = items();
        // keys typed -> final step
        let cases: Vec<(Vec<Key>, Step)> = vec![
            (vec![Key::Enter], Step::Done(vec![0])),
            // Space on the row that can't be selected does nothing (and says why).
            (vec![Key::ArrowDown, Key::Char(' '), Key::Enter], Step::Done(vec![0])),
            (vec![Key::ArrowDown, Key::ArrowDown, Key::Char(' '), Key::Enter], Step::Done(vec![0, 2])),
            // `a` ticks every row that can be ticked, and only those; again unticks them.
            (vec![Key::Char('a'), Key::Enter], Step::Done(vec![0, 2])),
            (vec![Key::Char('a'), Key::Char('a'), Key::Enter], Step::Done(vec![])),
            (vec![Key::Char(' '), Key::Enter], Step::Done(vec![])),
            (vec![Key::ArrowUp, Key::Char(' '), Key::Enter], Step::Done(vec![0, 2])),
            (vec![Key::Escape], Step::Cancelled),
            (vec![Key::Char(' '), Key::CtrlC], Step::Cancelled),
        ];
        for (keys, want) in cases {
            let mut p = Picker::new(&items);
            let mut last = Step::Continue;
            for k in &keys {
                last = p.key(k);
                if last != Step::Continue {
                    break;
                }
            }
            assert_eq!(last, want, "{keys:?}");
        }
    }

    #[test]
    fn a_disabled_row_explains_itself_and_rows_fit() {
        let items = items();
        let mut p = Picker::new(&items);
        p.key(&Key::ArrowDown);
        p.key(&Key::Char(' '));
        let screen = p.render("Which profiles?", 40, 24);
        assert!(screen.iter().any(|l| l.contains("can't be selected")), "{screen:#?}");
        assert!(screen.iter().all(|l| crate::output::width(l) <= 40), "{screen:#?}");
        assert_eq!(screen[1].trim(), crate::output::ellipsize(&format!("  {PICKER_LEGEND}"), 40).trim());
        assert!(
            screen.iter().any(|l| l.starts_with("  [-] Acme Archive") || l.starts_with("> [-] Acme Archive"))
        );
    }

    #[test]
    fn long_lists_scroll_with_the_cursor() {
        let items: Vec<Choice> =
            (0..50).map(|i| Choice { label: format!("Page {i}"), disabled: None, selected: false }).collect();
        let mut p = Picker::new(&items);
        for _ in 0..30 {
            p.key(&Key::ArrowDown);
        }
        let screen = p.render("Pick", 80, 12);
        assert!(screen.len() <= 12, "{screen:#?}");
        assert!(screen.iter().any(|l| l.starts_with("> [ ] Page 30")), "{screen:#?}");
        assert!(screen.last().unwrap().contains("of 50"), "{screen:#?}");
    }
}
