//! The Printer (habit 8, after uv's `Printer` and jj's `Ui`): stdout carries the answer
//! (a report or one JSON document); progress, prompts, URLs, warnings and hints go to stderr.

use crate::error::Error;
use is_terminal::IsTerminal;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Ok,
    Warn,
    Bad,
    Dim,
    Bold,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Ok => "32",
            Style::Warn => "33",
            Style::Bad => "31",
            Style::Dim => "2",
            Style::Bold => "1",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Printer {
    json: bool,
    quiet: bool,
    verbose: u8,
    color_out: bool,
    color_err: bool,
    stderr_tty: bool,
}

impl Printer {
    /// `no_color`/`force_color` are NO_COLOR / CLICOLOR_FORCE (https://no-color.org); an
    /// explicit `--color` wins over both.
    pub fn new(
        json: bool,
        quiet: bool,
        verbose: u8,
        color: ColorChoice,
        no_color: bool,
        force_color: bool,
    ) -> Printer {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let (color_out, color_err) = match color {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto if no_color => (false, false),
            ColorChoice::Auto if force_color => (true, true),
            ColorChoice::Auto => (stdout_tty, stderr_tty),
        };
        Printer {
            json,
            quiet,
            verbose,
            // JSON on stdout is never colored.
            color_out: color_out && !json,
            color_err,
            stderr_tty,
        }
    }

    /// A printer for library callers and tests: plain text, nothing suppressed.
    pub fn plain() -> Printer {
        Printer {
            json: false,
            quiet: false,
            verbose: 0,
            color_out: false,
            color_err: false,
            stderr_tty: false,
        }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    pub fn verbosity(&self) -> u8 {
        self.verbose
    }

    /// Progress bars: a terminal on stderr, and neither `--json` nor `--quiet`.
    pub fn progress_allowed(&self) -> bool {
        self.stderr_tty && !self.json && !self.quiet
    }

    /// A line of the human answer. Under `--json` the answer is the JSON document, so human
    /// text moves to stderr (spec §2); under `--quiet` it is still printed (it is the answer).
    pub fn answer(&self, line: impl AsRef<str>) {
        if self.json {
            if !self.quiet {
                let _ = writeln!(std::io::stderr().lock(), "{}", line.as_ref());
            }
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{}", line.as_ref());
        }
    }

    /// The one JSON document of `--json`.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| Error::failure("internal", format!("could not encode JSON output: {e}")))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").map_err(|e| Error::io("writing to stdout", e))
    }

    /// Progress and informational text (stderr; silent with `--quiet`).
    pub fn status(&self, line: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{}", line.as_ref());
        }
    }

    pub fn warn(&self, line: impl AsRef<str>) {
        if !self.quiet {
            let label = self.paint_err(Style::Warn, "warning:");
            let _ = writeln!(std::io::stderr().lock(), "{label} {}", line.as_ref());
        }
    }

    pub fn hint(&self, line: impl AsRef<str>) {
        if !self.quiet {
            let label = self.paint_err(Style::Dim, "hint:");
            let _ = writeln!(std::io::stderr().lock(), "{label} {}", line.as_ref());
        }
    }

    /// `-v` detail (level 1) and `-vv` (level 2). Callers never pass secrets; they pass masked
    /// values or redacted URLs.
    pub fn verbose(&self, level: u8, line: impl AsRef<str>) {
        if self.verbose >= level && !self.quiet {
            let label = self.paint_err(Style::Dim, "debug:");
            let _ = writeln!(std::io::stderr().lock(), "{label} {}", line.as_ref());
        }
    }

    /// Errors are printed even with `--quiet`; with `--json`, stdout also gets `{"error":…}`.
    pub fn error(&self, err: &Error) {
        if self.json {
            let _ = self.json(&err.to_json());
        }
        let mut stderr = std::io::stderr().lock();
        let label = self.paint_err(Style::Bad, "error:");
        let _ = writeln!(stderr, "{label} {}", err.message);
        for hint in &err.hints {
            let label = self.paint_err(Style::Dim, "hint:");
            let _ = writeln!(stderr, "{label} {hint}");
        }
    }

    /// Styles text bound for stdout.
    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color_out, style, text)
    }

    /// Styles text bound for stderr.
    pub fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.color_err, style, text)
    }
}

fn paint(enabled: bool, style: Style, text: &str) -> String {
    if enabled { format!("\x1b[{}m{text}\x1b[0m", style.code()) } else { text.to_string() }
}

/// Makes Meta-originated text (Page names, error messages) safe for a terminal: control
/// characters, escape sequences and bidi overrides are replaced, so a hostile Page name can't
/// rewrite the screen or hide text (spec §4).
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_table() {
        let cases = [
            ("Acme Bakery", "Acme Bakery"),
            ("evil\x1b[2Jname", "evil\u{fffd}[2Jname"),
            ("line\nbreak", "line\u{fffd}break"),
            ("rtl\u{202e}txt", "rtl\u{fffd}txt"),
            ("tab\there", "tab here"),
            ("Café ☕", "Café ☕"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input), want, "{input:?}");
        }
    }
}
