//! The diagnosis as data: the `--json` contract of spec §4 (habit 9, documented field by field
//! in `docs/json.md`), the exit-code rule, and the human rendering.

use crate::cmd::Exit;
use crate::error::Kind;
use crate::output::Style;
use serde::Serialize;

/// The version of the `sq diagnose --json` document. Bump it only for a change that breaks
/// readers (a renamed or removed field, a changed meaning); new fields keep it.
pub const SCHEMA_VERSION: u32 = 1;

/// Every finding code of spec §4, in one place so docs and tests can check completeness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    TokenMissing,
    TokenPasswordChanged,
    TokenAppRemoved,
    TokenExpired,
    TokenLoggedOut,
    TokenCheckpoint,
    TokenUnconfirmedUser,
    PageRoleLost,
    TokenInvalid,
    ScopeMissing,
    GranularNotSelected,
    PageNotListed,
    NotPageAdmin,
    CannotPublish,
    InstagramNotLinked,
    InstagramPageBroken,
    TokenExpiring,
    RefreshWindowOpen,
    DataAccessExpiring,
    DataAccessExpired,
    PublishingLimitNear,
    PublishingLimitReached,
    RateLimited,
    FailedPosts,
    MetaUnreachable,
    StoreUnavailable,
    AppNotConfigured,
    RedirectPortBusy,
}

impl Code {
    pub const ALL: [Code; 28] = [
        Code::TokenMissing,
        Code::TokenPasswordChanged,
        Code::TokenAppRemoved,
        Code::TokenExpired,
        Code::TokenLoggedOut,
        Code::TokenCheckpoint,
        Code::TokenUnconfirmedUser,
        Code::PageRoleLost,
        Code::TokenInvalid,
        Code::ScopeMissing,
        Code::GranularNotSelected,
        Code::PageNotListed,
        Code::NotPageAdmin,
        Code::CannotPublish,
        Code::InstagramNotLinked,
        Code::InstagramPageBroken,
        Code::TokenExpiring,
        Code::RefreshWindowOpen,
        Code::DataAccessExpiring,
        Code::DataAccessExpired,
        Code::PublishingLimitNear,
        Code::PublishingLimitReached,
        Code::RateLimited,
        Code::FailedPosts,
        Code::MetaUnreachable,
        Code::StoreUnavailable,
        Code::AppNotConfigured,
        Code::RedirectPortBusy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::TokenMissing => "token_missing",
            Code::TokenPasswordChanged => "token_password_changed",
            Code::TokenAppRemoved => "token_app_removed",
            Code::TokenExpired => "token_expired",
            Code::TokenLoggedOut => "token_logged_out",
            Code::TokenCheckpoint => "token_checkpoint",
            Code::TokenUnconfirmedUser => "token_unconfirmed_user",
            Code::PageRoleLost => "page_role_lost",
            Code::TokenInvalid => "token_invalid",
            Code::ScopeMissing => "scope_missing",
            Code::GranularNotSelected => "granular_not_selected",
            Code::PageNotListed => "page_not_listed",
            Code::NotPageAdmin => "not_page_admin",
            Code::CannotPublish => "cannot_publish",
            Code::InstagramNotLinked => "instagram_not_linked",
            Code::InstagramPageBroken => "instagram_page_broken",
            Code::TokenExpiring => "token_expiring",
            Code::RefreshWindowOpen => "refresh_window_open",
            Code::DataAccessExpiring => "data_access_expiring",
            Code::DataAccessExpired => "data_access_expired",
            Code::PublishingLimitNear => "publishing_limit_near",
            Code::PublishingLimitReached => "publishing_limit_reached",
            Code::RateLimited => "rate_limited",
            Code::FailedPosts => "failed_posts",
            Code::MetaUnreachable => "meta_unreachable",
            Code::StoreUnavailable => "store_unavailable",
            Code::AppNotConfigured => "app_not_configured",
            Code::RedirectPortBusy => "redirect_port_busy",
        }
    }

    /// The severity of spec §4. `page_not_listed` is the one code that can also be a warning
    /// (when the Business-portfolio path still gives a token); this is its usual severity.
    pub fn severity(self) -> Severity {
        match self {
            Code::NotPageAdmin
            | Code::TokenExpiring
            | Code::DataAccessExpiring
            | Code::PublishingLimitNear
            | Code::RateLimited
            | Code::RedirectPortBusy => Severity::Warning,
            Code::RefreshWindowOpen | Code::FailedPosts => Severity::Info,
            _ => Severity::Error,
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What to do about a finding: the exact `sq` command (if one helps), and the steps on Meta's
/// side or on this machine, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub command: Option<String>,
    pub steps: Vec<String>,
}

impl Fix {
    pub fn command(command: impl Into<String>) -> Fix {
        Fix { command: Some(command.into()), steps: Vec::new() }
    }

    pub fn steps(steps: Vec<String>) -> Fix {
        Fix { command: None, steps }
    }

    pub fn step(mut self, step: impl Into<String>) -> Fix {
        self.steps.push(step.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// One sentence naming the profile and the cause.
    pub summary: String,
    /// Why, with what Meta said (sanitized).
    pub detail: String,
    pub fix: Fix,
}

impl Finding {
    /// A finding with its code's severity.
    pub fn new(code: Code, summary: impl Into<String>, detail: impl Into<String>, fix: Fix) -> Finding {
        Finding { code, severity: code.severity(), summary: summary.into(), detail: detail.into(), fix }
    }

    /// Errors need the user (or Meta's side) to act. `meta_unreachable` is an error that asks
    /// only for patience: it makes health unknown, not broken.
    pub fn needs_action(&self) -> bool {
        self.severity == Severity::Error && self.code != Code::MetaUnreachable
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Broken,
    /// Health could not be established (Meta unreachable) and nothing proves it broken.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Broken => "broken",
            Status::Unknown => "unknown",
        }
    }

    /// `broken` if any finding needs action, else `unknown` if Meta could not be asked, else
    /// `warning` if any warning, else `ok`.
    pub fn of(findings: &[Finding]) -> Status {
        if findings.iter().any(Finding::needs_action) {
            Status::Broken
        } else if findings.iter().any(|f| f.code == Code::MetaUnreachable) {
            Status::Unknown
        } else if findings.iter().any(|f| f.severity == Severity::Warning) {
            Status::Warning
        } else {
            Status::Ok
        }
    }
}

/// When a token stops working, as far as anyone knows. Only the human renderer needs the
/// difference between "never" and "unknown"; JSON carries `null` for both (spec §4), and
/// the profile's `status` tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiry {
    Never,
    At(i64),
    #[default]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenReport {
    /// `USER`, `PAGE`, … from `debug_token`; `null` when not inspected.
    #[serde(rename = "type")]
    pub token_type: Option<String>,
    pub source: &'static str,
    pub masked: String,
    /// RFC 3339, `null` = never expires or not known.
    pub expires_at: Option<String>,
    pub data_access_expires_at: Option<String>,
    pub scopes: Vec<String>,
    #[serde(skip)]
    pub expiry: Expiry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileReport {
    pub profile: String,
    pub network: &'static str,
    pub kind: &'static str,
    /// `page` or `instagram_login` for Instagram profiles, `null` otherwise.
    pub via: Option<&'static str>,
    pub name: String,
    pub status: Status,
    /// `null` when no token is stored (or the store could not be read).
    pub token: Option<TokenReport>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct EnvironmentReport {
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Summary {
    pub ok: usize,
    pub warning: usize,
    pub broken: usize,
    pub unknown: usize,
}

impl Summary {
    pub fn of(profiles: &[ProfileReport]) -> Summary {
        let mut s = Summary::default();
        for p in profiles {
            match p.status {
                Status::Ok => s.ok += 1,
                Status::Warning => s.warning += 1,
                Status::Broken => s.broken += 1,
                Status::Unknown => s.unknown += 1,
            }
        }
        s
    }
}

/// The whole `sq diagnose --json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub profiles: Vec<ProfileReport>,
    pub environment: EnvironmentReport,
    pub summary: Summary,
}

impl Report {
    /// The exit rule of spec §2 for `diagnose`:
    /// - 4 when any profile is `broken` or any environment finding needs action;
    /// - else 3 when some health is unknown (a profile `unknown`, or the environment's
    ///   `meta_unreachable`): retrying later may work;
    /// - else 0 (warnings and infos allowed).
    ///
    /// 4 wins over 3: what is known broken needs the user whatever Meta answers later, and
    /// exit 3 would tell a script that waiting is enough.
    pub fn exit(&self) -> Exit {
        let action = self.profiles.iter().any(|p| p.status == Status::Broken)
            || self.environment.findings.iter().any(Finding::needs_action);
        let unknown = self.profiles.iter().any(|p| p.status == Status::Unknown)
            || self.environment.findings.iter().any(|f| f.code == Code::MetaUnreachable);
        if action {
            Exit::Code(Kind::ActionRequired)
        } else if unknown {
            Exit::Code(Kind::Unreachable)
        } else {
            Exit::Success
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self.exit() {
            Exit::Success => 0,
            Exit::Code(kind) => kind.exit_code(),
        }
    }
}

/// Renders the human report as lines: one line per profile (status, kind, name, reference,
/// token source, masked token, expiry), its findings with their fixes indented below, the
/// environment's findings, and a summary line. `paint` styles a piece of text (the caller's
/// `Printer::paint`, or plain text), so the engine never touches a terminal.
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
    let token_w = report.profiles.iter().map(|p| cols(&token_words(p))).max().unwrap_or(0);
    let mut name_w = widest(|p| cols(&p.name));
    if let Some(w) = width {
        // status(7) + kind + name + reference + token, two spaces between.
        let fixed = 8 + kind_w + 2 + 2 + ref_w + 2 + token_w;
        name_w = name_w.min(w.saturating_sub(fixed).max(12));
    }

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
            token_words(p)
        );
        lines.push(line.trim_end().to_string());
        render_findings(&p.findings, paint, width, &mut lines);
    }

    if !report.environment.findings.is_empty() {
        lines.push(paint(Style::Bold, "environment"));
        render_findings(&report.environment.findings, paint, width, &mut lines);
    }

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
fn token_words(p: &ProfileReport) -> String {
    match &p.token {
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

fn render_findings(
    findings: &[Finding],
    paint: &dyn Fn(Style, &str) -> String,
    width: Option<usize>,
    lines: &mut Vec<String>,
) {
    use crate::output::wrap;
    const INDENT: &str = "            ";
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

/// RFC 3339 in UTC (`2027-02-01T10:00:00Z`), the JSON form of a time.
pub fn rfc3339(unix: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).ok()?;
    t.format(&time::format_description::well_known::Rfc3339).ok()
}

/// `2027-02-01 10:00 UTC`, the human form of a time.
pub fn human_time(unix: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).ok()?;
    t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).ok()
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}
