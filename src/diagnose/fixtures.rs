//! Facts and reports for the engine's table tests and for the command's tests of what it
//! makes of a report (exit code, rendering): one healthy login with a Page, its Instagram
//! account, an Instagram Login account and a Threads profile, and helpers to break them.

use super::*;
use crate::model::{Network, ProfileKind};

/// 2027-01-15T08:00:00Z
pub(crate) const NOW: i64 = 1_800_000_000;
pub(crate) const H: i64 = 3_600;
pub(crate) const D: i64 = 24 * H;

pub(crate) const PAGE_SCOPES: &[&str] = &[
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "instagram_basic",
    "instagram_content_publish",
    "business_management",
];
pub(crate) const ALL_TASKS: &[&str] = &["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"];

pub(crate) fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn stored(masked: &str) -> StoredToken {
    StoredToken::new(TokenSource::Keyring, masked)
}

pub(crate) fn present(health: TokenHealth) -> TokenFacts {
    TokenFacts::Present { stored: stored("EAAB…f3c1"), health }
}

pub(crate) fn err(code: i64, subcode: Option<i64>, message: &str) -> GraphError {
    GraphError::new(code, subcode, message)
}

pub(crate) fn dead(code: i64, subcode: Option<i64>, message: &str) -> TokenFacts {
    present(TokenHealth::Inspected(Inspection::invalid(err(code, subcode, message))))
}

pub(crate) fn unreachable() -> TokenFacts {
    present(TokenHealth::Unreachable { reason: String::from("connection timed out after 10 s") })
}

/// A healthy Facebook Page, Acme Bakery (facebook:777), of the login `fb:1`.
pub(crate) fn page() -> ProfileFacts {
    let mut p = ProfileFacts::new(ProfileKind::FacebookPage, "777", "Acme Bakery");
    p.connection = Some(String::from("fb:1"));
    p.token = present(TokenHealth::Inspected(Inspection::valid("PAGE", PAGE_SCOPES)));
    p
}

/// A healthy Instagram account linked to Page 777.
pub(crate) fn ig_via_page() -> ProfileFacts {
    let mut p = ProfileFacts::new(ProfileKind::InstagramViaPage, "17841400000000000", "acme.bakery");
    p.connection = Some(String::from("fb:1"));
    p.page_id = Some(String::from("777"));
    p.token = present(TokenHealth::Inspected(Inspection::valid("PAGE", PAGE_SCOPES)));
    p
}

/// A healthy Instagram Login account, issued `age` ago with 60 days of life.
pub(crate) fn ig_login(age: i64) -> ProfileFacts {
    let mut p = ProfileFacts::new(ProfileKind::InstagramLogin, "17841400000000001", "acme.studio");
    p.connection = Some(String::from("ig:1"));
    let mut s = StoredToken::new(TokenSource::File, "IGAA…9d2e");
    s.issued_at = Some(NOW - age);
    s.expires_at = Some(NOW - age + 60 * D);
    s.scopes = Some(strings(&["instagram_business_basic", "instagram_business_content_publish"]));
    p.token = TokenFacts::Present { stored: s, health: TokenHealth::Identity(Ok(())) };
    p
}

pub(crate) fn threads() -> ProfileFacts {
    let mut p = ProfileFacts::new(ProfileKind::Threads, "1234567890123456", "acme");
    p.connection = Some(String::from("th:1"));
    let mut i = Inspection::valid("USER", &["threads_basic", "threads_content_publish"]);
    i.issued_at = Some(NOW - 2 * H);
    i.expires_at = Some(NOW - 2 * H + 60 * D);
    p.token = present(TokenHealth::Inspected(i));
    p
}

/// The Facebook login `fb:1`: all permissions granted, Page 777 listed with every task and
/// linked to the Instagram account.
pub(crate) fn fb_login() -> ConnectionFacts {
    let mut c = ConnectionFacts::new("fb:1", Network::Facebook);
    c.user_token = Some(TokenHealth::Inspected(Inspection::valid("USER", PAGE_SCOPES)));
    c.permissions = Some(
        PAGE_SCOPES
            .iter()
            .map(|s| Permission { name: s.to_string(), status: PermissionStatus::Granted })
            .collect(),
    );
    c.accounts = Some(vec![PageAccount {
        id: String::from("777"),
        name: String::from("Acme Bakery"),
        tasks: strings(ALL_TASKS),
        instagram_id: Some(String::from("17841400000000000")),
    }]);
    c
}

pub(crate) fn facts(profiles: Vec<ProfileFacts>) -> Facts {
    Facts {
        profiles,
        connections: vec![
            fb_login(),
            ConnectionFacts::new("ig:1", Network::Instagram),
            ConnectionFacts::new("th:1", Network::Threads),
        ],
        environment: EnvironmentFacts::default(),
    }
}

pub(crate) fn fb(f: &mut Facts) -> &mut ConnectionFacts {
    &mut f.connections[0]
}

pub(crate) fn set_permission(f: &mut Facts, name: &str, status: Option<PermissionStatus>) {
    let perms = fb(f).permissions.as_mut().expect("permissions");
    perms.retain(|p| p.name != name);
    if let Some(status) = status {
        perms.push(Permission { name: name.to_string(), status });
    }
}

pub(crate) fn set_granular(f: &mut Facts, grants: Vec<(&str, Option<&[&str]>)>) {
    if let Some(TokenHealth::Inspected(i)) = fb(f).user_token.as_mut() {
        i.granular_scopes = grants
            .into_iter()
            .map(|(s, ids)| GranularScope { scope: s.to_string(), target_ids: ids.map(strings) })
            .collect();
    }
}

pub(crate) fn inspection(p: &mut ProfileFacts) -> &mut Inspection {
    match &mut p.token {
        TokenFacts::Present { health: TokenHealth::Inspected(i), .. } => i,
        _ => panic!("not inspected"),
    }
}

pub(crate) fn codes(findings: &[Finding]) -> Vec<Code> {
    findings.iter().map(|f| f.code).collect()
}

/// A small report: a broken Page with failed posts and a healthy Threads profile.
pub(crate) fn small_report() -> Report {
    let mut p = page();
    p.failed_posts = 2;
    let mut i = Inspection::invalid(err(190, Some(460), "The session has been invalidated."));
    i.token_type = Some(String::from("PAGE"));
    i.data_access_expires_at = Some(1_801_562_400);
    i.scopes = strings(&["pages_manage_posts"]).into();
    p.token = present(TokenHealth::Inspected(i));
    let mut f = facts(vec![p, threads()]);
    f.environment.redirect = Some(RedirectFacts {
        uri: String::from("http://localhost:8765/callback"),
        port: 8765,
        port_busy: true,
    });
    diagnose(&f, NOW)
}
