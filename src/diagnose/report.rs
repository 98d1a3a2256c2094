//! The diagnosis as data: the `--json` contract of spec §4 (documented field by field in
//! `docs/json.md`) and the verdict the exit code is made from. The human rendering is the
//! command's (`cmd/diagnose/render.rs`).
//!
//! Citations: spec §n of docs/reference/spec.md.

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
    AppSecretInvalid,
    RedirectPortBusy,
    TokenNotInspected,
    PermissionDenied,
    AppAccessLevel,
    AdsPermissionMissing,
    AppTokenIgnored,
}

impl Code {
    pub const ALL: [Code; 34] = [
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
        Code::AppSecretInvalid,
        Code::RedirectPortBusy,
        Code::TokenNotInspected,
        Code::PermissionDenied,
        Code::AppAccessLevel,
        Code::AdsPermissionMissing,
        Code::AppTokenIgnored,
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
            Code::AppSecretInvalid => "app_secret_invalid",
            Code::TokenNotInspected => "token_not_inspected",
            Code::PermissionDenied => "permission_denied",
            Code::AppAccessLevel => "app_access_level",
            Code::AdsPermissionMissing => "ads_permission_missing",
            Code::AppTokenIgnored => "app_token_ignored",
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
            Code::RefreshWindowOpen | Code::FailedPosts | Code::AppTokenIgnored => Severity::Info,
            _ => Severity::Error,
        }
    }
}

impl Code {
    /// Errors that leave a profile's health unknown rather than broken: Meta couldn't be asked,
    /// or its answer didn't say. Neither is ever `ok`.
    pub fn makes_unknown(self) -> bool {
        matches!(self, Code::MetaUnreachable | Code::TokenNotInspected)
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
        self.severity == Severity::Error && !self.code.makes_unknown()
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
        } else if findings.iter().any(|f| f.code.makes_unknown()) {
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
    /// The token's own list, shared with the facts (10,000 Pages, one list: docs/performance.md).
    pub scopes: std::sync::Arc<[String]>,
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

/// What a whole diagnosis comes to; the command turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No profile and nothing in the environment needs action (warnings and infos allowed).
    Healthy,
    /// A profile is `broken` or an environment finding needs action.
    ActionRequired,
    /// Nothing is known broken, but some health is unknown (a profile `unknown`, or the
    /// environment's `meta_unreachable`): retrying later may tell.
    Unreachable,
}

impl Report {
    /// The verdict: action required wins over unknown, because what is known broken needs the
    /// user whatever Meta answers later, and "unknown" would tell a script that waiting is
    /// enough.
    pub fn verdict(&self) -> Verdict {
        let action = self.profiles.iter().any(|p| p.status == Status::Broken)
            || self.environment.findings.iter().any(Finding::needs_action);
        let unknown = self.profiles.iter().any(|p| p.status == Status::Unknown)
            || self.environment.findings.iter().any(|f| f.code == Code::MetaUnreachable);
        if action {
            Verdict::ActionRequired
        } else if unknown {
            Verdict::Unreachable
        } else {
            Verdict::Healthy
        }
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
