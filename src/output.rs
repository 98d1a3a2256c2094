//! The Printer (habit 8, after uv's `Printer` and jj's `Ui`): stdout carries the answer
//! (a report or one JSON document); progress, prompts, URLs, warnings and hints go to stderr.
//!
//! Citations: spec §n of docs/reference/spec.md; habit n of docs/reference/style.md.

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
        // Streamed, not built as one string first: at 10,000 Pages the answer is ~10 MB, and a
        // whole-string copy (grown by doubling) was a large part of peak memory
        // (docs/performance.md: under 64 MB at 10,000 Pages).
        let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut out, value).map_err(|e| {
            if e.is_io() {
                Error::io("writing to stdout", std::io::Error::from(e))
            } else {
                Error::failure("internal", format!("could not encode JSON output: {e}"))
            }
        })?;
        writeln!(out).and_then(|()| out.flush()).map_err(|e| Error::io("writing to stdout", e))
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
        // What lay under it (the module error's sources, Meta's code and trace id): detail for
        // someone digging in, so only with -v (jj's "Caused by:").
        if self.verbose >= 1 {
            for cause in &err.causes {
                let label = self.paint_err(Style::Dim, "caused by:");
                let _ = writeln!(stderr, "{label} {cause}");
            }
        }
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

/// Moved to the model so the modules below the screen (the OAuth building blocks) can use it.
pub use crate::model::text::sanitize;

// ---------------------------------------------------------------------------------------------
// Progress

/// A progress indicator on stderr that names its phase ("exchanging the code", "listing
/// Pages", "checking tokens 300/1000") and ticks steadily on its own, so a slow answer from
/// Meta never looks like a hang. Only on a terminal, never with `--json`/`--quiet`.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A spinner with a phase, for steps whose size isn't known.
    pub fn spinner(printer: &Printer, phase: &str) -> Progress {
        Progress::make(printer, phase, "{spinner} {msg}…")
    }

    /// A counter (`{phase} {done}/{total}`), for steps that know their size.
    pub fn counter(printer: &Printer, phase: &str) -> Progress {
        Progress::make(printer, phase, "{spinner} {msg} {pos}/{len}")
    }

    fn make(printer: &Printer, phase: &str, template: &str) -> Progress {
        let bar = printer.progress_allowed().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(phase.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    pub fn phase(&self, phase: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(phase.to_string());
        }
    }

    pub fn set(&self, done: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Text that fits the terminal. Widths are display columns (a CJK character or an emoji takes
// two), measured after the text went through [`sanitize`]; styling is added after fitting.

/// Display width of plain text.
pub fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` cut to at most `max` columns, ending in `…` when something was cut.
pub fn ellipsize(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `text` padded with spaces to `cols` columns (never cut).
pub fn pad(text: &str, cols: usize) -> String {
    let w = width(text);
    if w >= cols { text.to_string() } else { format!("{text}{}", " ".repeat(cols - w)) }
}

/// Word-wraps `text` to `max` columns: the first line starts with `first`, the following ones
/// with `indent` (a hanging indent). Words longer than a line are split, never cut off; without
/// a width (`None`: not a terminal) the text stays on one line.
pub fn wrap(text: &str, max: Option<usize>, first: &str, indent: &str) -> Vec<String> {
    let Some(max) = max else {
        return vec![format!("{first}{text}")];
    };
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut line_has_word = false;
    for word in text.split_whitespace() {
        let prefix_w = width(if lines.is_empty() { first } else { indent });
        let room = max.saturating_sub(prefix_w).max(10);
        let mut word = word.to_string();
        loop {
            let sep = if line_has_word { 1 } else { 0 };
            let used = width(&line) - prefix_w;
            if used + sep + width(&word) <= room {
                if line_has_word {
                    line.push(' ');
                }
                line.push_str(&word);
                line_has_word = true;
                break;
            }
            if line_has_word {
                lines.push(std::mem::replace(&mut line, indent.to_string()));
                line_has_word = false;
                continue;
            }
            // A word wider than a whole line: split it at the line's end.
            let mut head = String::new();
            let mut w = 0;
            let mut rest = String::new();
            for c in word.chars() {
                let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                if rest.is_empty() && w + cw <= room {
                    head.push(c);
                    w += cw;
                } else {
                    rest.push(c);
                }
            }
            line.push_str(&head);
            lines.push(std::mem::replace(&mut line, indent.to_string()));
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if line_has_word || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A table with a header row and aligned columns, fitted to a width: the `flex` columns
/// (names) shrink first, in the order given, with their cells ellipsized; if the line is still
/// too wide, the last column (notes, errors) is word-wrapped under itself. The last column is
/// never padded. Without a width (`None`) nothing is cut or wrapped.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The columns that shrink to fit, first first.
    pub flex: Vec<usize>,
    /// Spaces between columns.
    pub gap: usize,
    /// Text before every line (indentation).
    pub indent: String,
}

/// A flex column never gets narrower than this (or its header).
const MIN_FLEX: usize = 10;

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            flex: Vec::new(),
            gap: 2,
            indent: String::new(),
        }
    }

    pub fn flex(mut self, column: usize) -> Table {
        self.flex.push(column);
        self
    }

    pub fn indent(mut self, indent: &str) -> Table {
        self.indent = indent.to_string();
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The lines, header first; `style(column, row, padded_text)` may color a cell (row `None`
    /// is the header) after it was fitted and padded, so escapes never upset the alignment.
    pub fn render(
        &self,
        max: Option<usize>,
        style: &dyn Fn(usize, Option<usize>, String) -> String,
    ) -> Vec<String> {
        let n = self.headers.len();
        if n == 0 {
            return Vec::new();
        }
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(width(c));
            }
        }
        let total = |w: &[usize]| width(&self.indent) + w.iter().sum::<usize>() + self.gap * (n - 1);
        if let Some(max) = max {
            for &f in &self.flex {
                let over = total(&widths).saturating_sub(max);
                if over == 0 {
                    break;
                }
                let floor = MIN_FLEX.max(width(&self.headers[f])).min(widths[f]);
                widths[f] = widths[f].saturating_sub(over).max(floor);
            }
        }
        // Where the last column starts, and the room it has before the edge.
        let last_start = total(&widths) - widths[n - 1];
        let last_room = max.map(|m| m.saturating_sub(last_start).max(MIN_FLEX));
        let mut out = Vec::new();
        let mut emit = |cells: &[String], row: Option<usize>| {
            let mut line = self.indent.clone();
            for (i, &w) in widths.iter().enumerate().take(n - 1) {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let fitted = if self.flex.contains(&i) && max.is_some() {
                    ellipsize(cell, w)
                } else {
                    cell.to_string()
                };
                line.push_str(&style(i, row, pad(&fitted, w)));
                line.push_str(&" ".repeat(self.gap));
            }
            let last = cells.get(n - 1).map(String::as_str).unwrap_or("");
            let parts = match last_room {
                Some(room) if width(last) > room => wrap(last, Some(room), "", ""),
                _ => vec![last.to_string()],
            };
            for (k, part) in parts.into_iter().enumerate() {
                let text = style(n - 1, row, part);
                if k == 0 {
                    out.push(format!("{line}{text}").trim_end().to_string());
                } else {
                    out.push(format!("{}{text}", " ".repeat(last_start)).trim_end().to_string());
                }
            }
        };
        emit(&self.headers, None);
        for (ri, r) in self.rows.iter().enumerate() {
            emit(r, Some(ri));
        }
        out
    }
}

/// The width human output should fit: the terminal's when stdout is one, else `COLUMNS` when
/// set (so `COLUMNS=80 sq profiles | less` still fits), else none (pipes and files keep whole
/// names, for scripts).
pub fn stdout_width(env: &crate::env::Env) -> Option<usize> {
    if std::io::stdout().is_terminal() {
        if let Some((_, cols)) = console::Term::stdout().size_checked() {
            return Some(usize::from(cols));
        }
    }
    env.get(crate::env::COLUMNS).and_then(|c| c.trim().parse::<usize>().ok()).filter(|c| *c >= 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsize_table() {
        let cases = [
            ("Acme Bakery", 20, "Acme Bakery"),
            ("Acme Bakery", 11, "Acme Bakery"),
            ("Acme Bakery", 10, "Acme Bake…"),
            ("東京ベーカリー", 7, "東京ベ…"),
            ("東京ベーカリー", 8, "東京ベ…"),
            ("🥐🥐🥐", 4, "🥐…"),
            ("abc", 1, "…"),
            ("abc", 0, ""),
        ];
        for (text, max, want) in cases {
            let got = ellipsize(text, max);
            assert_eq!(got, want, "{text:?} {max}");
            assert!(width(&got) <= max, "{got:?}");
        }
    }

    #[test]
    fn wrap_table() {
        let cases: Vec<(&str, Option<usize>, Vec<&str>)> = vec![
            ("one two three", None, vec!["- one two three"]),
            ("one two three", Some(20), vec!["- one two three"]),
            ("one two three four five", Some(12), vec!["- one two", "  three four", "  five"]),
            // A word never breaks in the middle unless it is wider than a whole line.
            ("a reauthorization b", Some(14), vec!["- a", "  reauthorizat", "  ion b"]),
            ("", Some(10), vec!["- "]),
        ];
        for (text, max, want) in cases {
            assert_eq!(wrap(text, max, "- ", "  "), want, "{text:?} {max:?}");
        }
        for line in wrap(
            "Пекарня «Ёлка» 東京ベーカリー 🥐 can't publish: Meta ended the session",
            Some(30),
            "  ",
            "    ",
        ) {
            assert!(width(&line) <= 30, "{line:?}");
        }
    }

    #[test]
    fn table_fits_and_aligns() {
        let mut t = Table::new(&["PROFILE", "NAME", "STATUS"]).flex(1);
        t.row(vec!["facebook:1".into(), "x".repeat(120), "ok".into()]);
        t.row(vec!["facebook:22".into(), "東京ベーカリー".into(), "broken".into()]);
        let plain = |_: usize, _: Option<usize>, s: String| s;
        let lines = t.render(Some(40), &plain);
        assert_eq!(lines[0], "PROFILE      NAME                 STATUS");
        assert!(lines.iter().all(|l| width(l) <= 40), "{lines:#?}");
        assert!(lines[1].contains('…'), "{lines:#?}");
        // Columns line up in display width, wide characters included.
        let col = |l: &str| width(&l[..l.find("ok").or_else(|| l.find("broken")).unwrap_or(0)]);
        assert_eq!(col(&lines[1]), col(&lines[2]));
        // No width: nothing is cut.
        assert!(t.render(None, &plain)[1].contains(&"x".repeat(120)));
    }
}
