//! The human form of a diagnosis: what `sq diagnose` (and reauth's closing diagnose) print
//! when not asked for JSON.

use crate::diagnose::{Code, Expiry, Finding, ProfileReport, Report, Severity, Status, human_time};
use crate::output::Style;

/// Renders the human report as lines: one line per profile (status, kind, name, reference,
/// token source, masked token, expiry), its findings with their fixes indented below, the
/// environment's findings, and a summary line. `paint` styles a piece of text (the caller's
/// `Printer::paint`, or plain text), so rendering never touches a terminal.
pub fn render_human(report: &Report, paint: &dyn Fn(Style, &str) -> String) -> Vec<String> {
    render_human_width(report, paint, None)
}

/// [`render_human`] fitted to `width` columns (`None`: no limit): names are ellipsized so one
/// long Page name doesn't make every row wrap, and finding text is word-wrapped with a hanging
/// indent.
pub fn render_human_width(
    report: &Report,
    paint: &dyn Fn(Style, &str) -> String,
    width: Option<usize>,
) -> Vec<String> {
    use crate::output::{ellipsize, pad as pad_cols, width as cols};
    let mut lines = Vec::new();
    let widest = |f: fn(&ProfileReport) -> usize| report.profiles.iter().map(f).max().unwrap_or(0);
    let kind_w = widest(|p| cols(p.kind));
    let ref_w = widest(|p| cols(&p.profile));
    // With the store unreadable no profile's token was read: "not read", never "no token".
    let unread = report.environment.findings.iter().any(|f| f.code == Code::StoreUnavailable);
    let token_w = report.profiles.iter().map(|p| cols(&token_words(p, unread))).max().unwrap_or(0);
    let mut name_w = widest(|p| cols(&p.name));
    if let Some(w) = width {
        // status(7) + kind + name + reference + token, two spaces between.
        let fixed = 8 + kind_w + 2 + 2 + ref_w + 2 + token_w;
        name_w = name_w.min(w.saturating_sub(fixed).max(12));
    }

    let shared = SharedFixes::of(report);
    for p in &report.profiles {
        let style = match p.status {
            Status::Ok => Style::Ok,
            Status::Warning => Style::Warn,
            Status::Broken => Style::Bad,
            Status::Unknown => Style::Dim,
        };
        let status = paint(style, &pad(p.status.as_str(), 7));
        let name = pad_cols(&ellipsize(&p.name, name_w), name_w);
        let line = format!(
            "{status} {}  {}  {}  {}",
            pad(p.kind, kind_w),
            paint(Style::Bold, &name),
            pad(&p.profile, ref_w),
            token_words(p, unread)
        );
        lines.push(line.trim_end().to_string());
        render_findings(&p.findings, Some(&shared), paint, width, &mut lines);
    }

    if !report.environment.findings.is_empty() {
        lines.push(paint(Style::Bold, "environment"));
        render_findings(&report.environment.findings, None, paint, width, &mut lines);
    }
    shared.render(paint, width, &mut lines);

    let s = &report.summary;
    let total = s.ok + s.warning + s.broken + s.unknown;
    let noun = if total == 1 { "profile" } else { "profiles" };
    lines.push(format!(
        "{total} {noun}: {} ok, {} warning, {} broken, {} unknown",
        s.ok, s.warning, s.broken, s.unknown
    ));
    lines
}

/// The token column: source, masked token, expiry. A token Meta says has expired shows
/// "expired", never a date it "expires" on.
fn token_words(p: &ProfileReport, store_unread: bool) -> String {
    match &p.token {
        None if store_unread => String::from("token not read (store)"),
        None => String::from("no token"),
        Some(t) => {
            let expiry = if p.findings.iter().any(|f| f.code == Code::TokenExpired) {
                String::from("expired")
            } else {
                expiry_words(t.expiry)
            };
            format!("{} {}  {expiry}", t.source, t.masked)
        }
    }
}

const INDENT: &str = "            ";

/// Whether a word of a fix command is a profile reference (`facebook:777`).
fn is_reference(word: &str) -> bool {
    word.split_once(':').is_some_and(|(kind, id)| {
        ["facebook", "instagram", "threads"].contains(&kind) && !id.is_empty() && !id.contains(':')
    })
}

/// A fix with its profile references taken out: fixes equal under this key say the same thing
/// for different profiles (`sq reauth facebook facebook:777` and `... facebook:888`).
#[derive(Clone, PartialEq, Eq)]
struct FixKey {
    /// The command's words, a reference replaced by `None` (consecutive ones by one).
    command: Option<Vec<Option<String>>>,
    steps: Vec<String>,
}

impl FixKey {
    fn of(f: &Finding) -> (FixKey, Vec<String>) {
        let mut refs = Vec::new();
        let command = f.fix.command.as_ref().map(|c| {
            let mut words: Vec<Option<String>> = Vec::new();
            for w in c.split_whitespace() {
                if is_reference(w) {
                    refs.push(w.to_string());
                    if words.last() != Some(&None) {
                        words.push(None);
                    }
                } else {
                    words.push(Some(w.to_string()));
                }
            }
            words
        });
        (FixKey { command, steps: f.fix.steps.clone() }, refs)
    }
}

/// The fixes that several profiles share: shown once after the profiles, as one command
/// naming every profile it is for, and pointed at from each finding (`--json` keeps the fix
/// of every finding).
struct SharedFixes {
    /// (the fix, the references its command names, the profiles it is for)
    groups: Vec<(FixKey, Vec<String>, Vec<String>)>,
}

impl SharedFixes {
    fn of(report: &Report) -> SharedFixes {
        let mut groups: Vec<(FixKey, Vec<String>, Vec<String>)> = Vec::new();
        for p in &report.profiles {
            for f in p.findings.iter().filter(|f| f.fix.command.is_some() || !f.fix.steps.is_empty()) {
                let (key, refs) = FixKey::of(f);
                let who = format!("{} ({})", p.name, p.profile);
                match groups.iter_mut().find(|(k, _, _)| *k == key) {
                    Some((_, r, w)) => {
                        for x in refs {
                            if !r.contains(&x) {
                                r.push(x);
                            }
                        }
                        if !w.contains(&who) {
                            w.push(who);
                        }
                    }
                    None => groups.push((key, refs, vec![who])),
                }
            }
        }
        groups.retain(|(_, _, who)| who.len() > 1);
        SharedFixes { groups }
    }

    /// The number (1-based) of the shared fix `f` belongs to.
    fn index(&self, f: &Finding) -> Option<usize> {
        let (key, _) = FixKey::of(f);
        self.groups.iter().position(|(k, _, _)| *k == key).map(|i| i + 1)
    }

    fn command(key: &FixKey, refs: &[String]) -> Option<String> {
        let words = key.command.as_ref()?;
        let mut out: Vec<String> = Vec::new();
        for w in words {
            match w {
                Some(w) => out.push(w.clone()),
                None => out.extend(refs.iter().cloned()),
            }
        }
        Some(out.join(" "))
    }

    fn render(&self, paint: &dyn Fn(Style, &str) -> String, width: Option<usize>, lines: &mut Vec<String>) {
        use crate::output::wrap;
        if self.groups.is_empty() {
            return;
        }
        lines.push(paint(Style::Bold, "fixes shared by several profiles"));
        for (i, (key, refs, who)) in self.groups.iter().enumerate() {
            let label = format!("  [{}] ", i + 1);
            lines.extend(wrap(&format!("for {}:", who.join(", ")), width, &label, INDENT));
            if let Some(command) = Self::command(key, refs) {
                lines.push(format!("{INDENT}run: {}", paint(Style::Bold, &command)));
            }
            for step in &key.steps {
                lines.extend(wrap(step, width, &format!("{INDENT}- "), &format!("{INDENT}  ")));
            }
        }
    }
}

fn render_findings(
    findings: &[Finding],
    shared: Option<&SharedFixes>,
    paint: &dyn Fn(Style, &str) -> String,
    width: Option<usize>,
    lines: &mut Vec<String>,
) {
    use crate::output::wrap;
    let mut shown: Vec<FixKey> = Vec::new();
    for f in findings {
        let style = match f.severity {
            Severity::Error => Style::Bad,
            Severity::Warning => Style::Warn,
            Severity::Info => Style::Dim,
        };
        // Wrapped as plain text first, painted after, so escapes don't count as columns.
        let label = format!("  {} ", pad(f.severity.as_str(), 8));
        let head = format!("{} [{}]", f.summary, f.code.as_str());
        for (i, l) in wrap(&head, width, &label, INDENT).into_iter().enumerate() {
            let l = if i == 0 {
                l.replacen(f.severity.as_str(), &paint(style, f.severity.as_str()), 1)
            } else {
                l
            };
            let code = format!("[{}]", f.code.as_str());
            lines.push(match l.strip_suffix(&code) {
                Some(rest) => format!("{rest}{}", paint(Style::Dim, &code)),
                None => l,
            });
        }
        if !f.detail.is_empty() {
            lines.extend(wrap(&f.detail, width, INDENT, INDENT));
        }
        if let Some(n) = shared.and_then(|s| s.index(f)) {
            lines.push(format!("{INDENT}fix: [{n}] below, shared with other profiles"));
            continue;
        }
        // Two findings of one profile with the same fix: the fix once.
        let (key, _) = FixKey::of(f);
        if (f.fix.command.is_some() || !f.fix.steps.is_empty()) && shown.contains(&key) {
            lines.push(format!("{INDENT}fix: as above"));
            continue;
        }
        shown.push(key);
        if let Some(command) = &f.fix.command {
            // A command is never broken across lines: it is meant to be copied.
            lines.push(format!("{INDENT}run: {}", paint(Style::Bold, command)));
        }
        for step in &f.fix.steps {
            lines.extend(wrap(step, width, &format!("{INDENT}- "), &format!("{INDENT}  ")));
        }
    }
}

fn expiry_words(expiry: Expiry) -> String {
    match expiry {
        Expiry::Never => String::from("never expires"),
        Expiry::Unknown => String::from("expiry unknown"),
        Expiry::At(t) => match human_time(t) {
            Some(s) => format!("expires {s}"),
            None => String::from("expiry unknown"),
        },
    }
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::fixtures::*;
    use crate::diagnose::*;

    #[test]
    fn human_snapshot() {
        let r = small_report();
        let lines = render_human(&r, &|_, t| t.to_string());
        let want = [
            "broken  facebook  Acme Bakery  facebook:777              keyring EAAB…f3c1  never expires",
            "  error    Acme Bakery can't publish: Meta ended the session because the account password changed. [token_password_changed]",
            "            Meta invalidates a login's tokens when its password changes or when it resets the session for security reasons (190/460); every Page token from that login stopped working with it. Meta said: \"The session has been invalidated.\"",
            "            run: sq reauth facebook facebook:777",
            "            - When the browser opens, log in to Facebook with the current password.",
            "  info     Acme Bakery has 2 failed posts that can be requeued once it is healthy. [failed_posts]",
            "            Requeued posts keep their history; posts that failed for media or content reasons are requeued only when named with --class.",
            "            run: sq requeue --failed facebook:777",
            "            - Fix the findings above first: sq requeue holds back posts of profiles that aren't healthy yet.",
            "ok      threads   acme         threads:1234567890123456  keyring EAAB…f3c1  expires 2027-03-16 06:00 UTC",
            "environment",
            "  warning  The redirect URI's port 8765 is in use by another program. [redirect_port_busy]",
            "            sq reauth listens on http://localhost:8765/callback for Meta's answer; while another program holds port 8765, re-authorization can't receive it.",
            "            - Stop the program that uses port 8765, or",
            "            - pick a free port: add http://localhost:<PORT>/callback to the app's Valid OAuth Redirect URIs and pass --redirect-uri http://localhost:<PORT>/callback to sq reauth.",
            "2 profiles: 1 ok, 0 warning, 1 broken, 0 unknown",
        ];
        assert_eq!(lines, want, "{}", lines.join("\n"));

        // Colour is the caller's: the renderer only marks what to paint.
        let painted = render_human(&r, &|style, t| format!("<{style:?}>{t}"));
        assert!(painted[0].starts_with("<Bad>broken "), "{}", painted[0]);
    }

    #[test]
    fn token_json_for_missing_and_never_expiring_tokens() {
        let mut missing = page();
        missing.token = TokenFacts::Missing;
        let mut never = page();
        inspection(&mut never).expires_at = meta_time(Some(0));
        let r = diagnose(&facts(vec![missing, never]), NOW);
        assert!(r.profiles[0].token.is_none());
        let t = r.profiles[1].token.as_ref().expect("token");
        assert_eq!(t.expires_at, None);
        assert_eq!(t.expiry, Expiry::Never);
        let lines = render_human(&r, &|_, t| t.to_string());
        assert!(lines[0].ends_with("no token"), "{}", lines[0]);
        assert!(lines.iter().any(|l| l.ends_with("never expires")), "{lines:?}");
    }
}
