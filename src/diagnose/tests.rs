//! Table tests of the diagnosis engine (habit 6): every finding code, and the combinations
//! where one root cause must not drown in its consequences.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; habit n of docs/reference/style.md.

use super::fixtures::*;
use super::*;
use crate::model::Network;
use serde_json::json;
use std::collections::BTreeSet;

struct Case {
    name: &'static str,
    facts: Facts,
    /// Findings of the first profile, in order.
    want: Vec<Code>,
    status: Status,
}

fn case(name: &'static str, facts: Facts, want: &[Code], status: Status) -> Case {
    Case { name, facts, want: want.to_vec(), status }
}

fn cases() -> Vec<Case> {
    use Code::*;
    let mut cases = vec![
        case("healthy Page", facts(vec![page()]), &[], Status::Ok),
        case("healthy Instagram via Page", facts(vec![ig_via_page()]), &[], Status::Ok),
        case("healthy Threads, 2 h old", facts(vec![threads()]), &[], Status::Ok),
    ];

    let mut p = page();
    p.token = TokenFacts::Missing;
    cases.push(case("no token stored", facts(vec![p]), &[TokenMissing], Status::Broken));

    for (sub, code) in [
        (Some(460), TokenPasswordChanged),
        (Some(458), TokenAppRemoved),
        (Some(463), TokenExpired),
        (Some(467), TokenLoggedOut),
        (Some(459), TokenCheckpoint),
        (Some(464), TokenUnconfirmedUser),
        (Some(492), PageRoleLost),
        (None, TokenInvalid),
        (Some(999), TokenInvalid),
    ] {
        let mut p = page();
        p.token = dead(190, sub, "Error validating access token");
        // Stale data from the dead login must not add findings.
        let mut f = facts(vec![p]);
        set_permission(&mut f, "pages_manage_posts", Some(PermissionStatus::Declined));
        cases.push(case("190 subcode", f, &[code], Status::Broken));
    }

    let mut p = page();
    p.token = dead(102, None, "Session key invalid");
    cases.push(case("legacy 102 session error", facts(vec![p]), &[TokenInvalid], Status::Broken));

    let mut p = page();
    inspection(&mut p).expires_at = Some(NOW - 1);
    cases.push(case(
        "expiry passed while Meta still said valid",
        facts(vec![p]),
        &[TokenExpired],
        Status::Broken,
    ));

    let mut p = page();
    inspection(&mut p).expires_at = Some(NOW + 3 * D);
    cases.push(case("expires in 3 days", facts(vec![p]), &[TokenExpiring], Status::Warning));

    let mut p = page();
    inspection(&mut p).expires_at = Some(NOW + 8 * D);
    cases.push(case("expires in 8 days", facts(vec![p]), &[], Status::Ok));

    let mut p = page();
    inspection(&mut p).expires_at = meta_time(Some(0));
    cases.push(case("expires_at 0 never expires", facts(vec![p]), &[], Status::Ok));

    // Permissions.
    let mut f = facts(vec![page()]);
    set_permission(&mut f, "pages_manage_posts", Some(PermissionStatus::Declined));
    cases.push(case("declined permission", f, &[ScopeMissing], Status::Broken));

    let mut f = facts(vec![page()]);
    set_permission(&mut f, "pages_manage_posts", None);
    cases.push(case("never granted permission", f, &[ScopeMissing], Status::Broken));

    let mut f = facts(vec![ig_via_page()]);
    set_permission(&mut f, "instagram_content_publish", Some(PermissionStatus::Declined));
    cases.push(case("Instagram via Page: declined publish permission", f, &[ScopeMissing], Status::Broken));

    let mut p = ig_login(2 * H);
    if let TokenFacts::Present { stored, .. } = &mut p.token {
        stored.scopes = Some(strings(&["instagram_business_basic"]));
    }
    cases.push(case(
        "Instagram Login: scope from the exchange missing",
        facts(vec![p]),
        &[ScopeMissing],
        Status::Broken,
    ));

    let mut f = facts(vec![page()]);
    fb(&mut f).permissions = None;
    if let Some(TokenHealth::Inspected(i)) = fb(&mut f).user_token.as_mut() {
        i.scopes = Vec::new().into();
    }
    inspection(&mut f.profiles[0]).scopes = Vec::new().into();
    cases.push(case("no scope data at all: no conclusion", f, &[], Status::Ok));

    // Granular selection and the Page list.
    let mut f = facts(vec![page()]);
    set_granular(&mut f, vec![("pages_manage_posts", Some(&["888"])), ("pages_show_list", Some(&["888"]))]);
    fb(&mut f).accounts = Some(Vec::new());
    cases.push(case("Page not ticked in a granular grant", f, &[GranularNotSelected], Status::Broken));

    let mut f = facts(vec![page()]);
    set_granular(&mut f, vec![("pages_manage_posts", None), ("pages_show_list", None)]);
    cases.push(case("all-assets grant", f, &[], Status::Ok));

    let mut f = facts(vec![ig_via_page()]);
    set_granular(&mut f, vec![("instagram_content_publish", Some(&["17841499999999999"]))]);
    cases.push(case("Instagram account not ticked", f, &[GranularNotSelected], Status::Broken));

    let mut f = facts(vec![page()]);
    set_granular(&mut f, vec![("pages_manage_posts", Some(&["777"]))]);
    fb(&mut f).accounts = Some(Vec::new());
    fb(&mut f).portfolio_pages = Some(vec![PortfolioPage {
        id: String::from("777"),
        name: String::from("Acme Bakery"),
        has_token: true,
        tasks: None,
    }]);
    cases.push(case(
        "portfolio-only Page with a working portfolio path",
        f,
        &[PageNotListed],
        Status::Warning,
    ));

    let mut f = facts(vec![page()]);
    set_granular(&mut f, vec![("pages_manage_posts", Some(&["777"]))]);
    fb(&mut f).accounts = Some(Vec::new());
    fb(&mut f).portfolio_pages = Some(Vec::new());
    cases.push(case("Page in target_ids but not in /me/accounts", f, &[PageNotListed], Status::Broken));

    let mut f = facts(vec![page()]);
    fb(&mut f).accounts = Some(Vec::new());
    set_permission(&mut f, "business_management", None);
    cases.push(case("portfolio-only Page without business_management", f, &[ScopeMissing], Status::Broken));

    let mut f = facts(vec![page()]);
    fb(&mut f).accounts = Some(Vec::new());
    set_permission(&mut f, "pages_show_list", Some(PermissionStatus::Declined));
    cases.push(case(
        "no pages_show_list: the empty Page list is its consequence",
        f,
        &[ScopeMissing],
        Status::Broken,
    ));

    // Tasks.
    let mut f = facts(vec![page()]);
    fb(&mut f).accounts.as_mut().expect("accounts")[0].tasks = strings(&["CREATE_CONTENT", "MODERATE"]);
    cases.push(case("non-Admin on a healthy Page", f, &[NotPageAdmin], Status::Warning));

    let mut f = facts(vec![page()]);
    fb(&mut f).accounts.as_mut().expect("accounts")[0].tasks = strings(&["ANALYZE"]);
    cases.push(case("no CREATE_CONTENT", f, &[CannotPublish], Status::Broken));

    // Instagram via a Page.
    let mut p = ig_via_page();
    p.token =
        dead(190, Some(460), "The session has been invalidated because the user changed their password");
    cases.push(case(
        "Instagram via a Page whose token died",
        facts(vec![p, page()]),
        &[InstagramPageBroken],
        Status::Broken,
    ));

    let mut ig = ig_via_page();
    ig.token = unreachable();
    let mut pg = page();
    pg.token = dead(190, Some(492), "role lost");
    cases.push(case(
        "Instagram via a Page whose Page profile died",
        facts(vec![ig, pg]),
        &[InstagramPageBroken],
        Status::Broken,
    ));

    let mut p = ig_via_page();
    p.token = TokenFacts::Missing;
    cases.push(case(
        "Instagram via a Page without a Page token",
        facts(vec![p]),
        &[InstagramPageBroken],
        Status::Broken,
    ));

    let mut p = ig_via_page();
    p.page_instagram = Some(None);
    cases.push(case("Page has no Instagram account", facts(vec![p]), &[InstagramNotLinked], Status::Broken));

    let mut f = facts(vec![ig_via_page()]);
    fb(&mut f).accounts.as_mut().expect("accounts")[0].instagram_id = Some(String::from("17841499999999999"));
    cases.push(case("Page linked to another Instagram account", f, &[InstagramNotLinked], Status::Broken));

    // Refresh windows (meta-platform.md §5.4, §6.4).
    cases.push(case("IG Login 23 h old", facts(vec![ig_login(23 * H)]), &[], Status::Ok));
    cases.push(case("IG Login 25 h old", facts(vec![ig_login(25 * H)]), &[RefreshWindowOpen], Status::Ok));
    cases.push(case(
        "IG Login 57 days old",
        facts(vec![ig_login(57 * D)]),
        &[TokenExpiring],
        Status::Warning,
    ));

    let mut p = ig_login(61 * D);
    if let TokenFacts::Present { health, .. } = &mut p.token {
        *health = TokenHealth::Identity(Err(err(190, Some(463), "Session has expired")));
    }
    cases.push(case("IG Login expired", facts(vec![p]), &[TokenExpired], Status::Broken));

    let mut p = ig_login(61 * D);
    if let TokenFacts::Present { health, .. } = &mut p.token {
        *health = TokenHealth::Unreachable { reason: String::from("dns error") };
    }
    cases.push(case(
        "IG Login expired per sq's record, Meta unreachable",
        facts(vec![p]),
        &[TokenExpired],
        Status::Broken,
    ));

    let mut p = ig_login(2 * H);
    if let TokenFacts::Present { health, .. } = &mut p.token {
        *health = TokenHealth::Identity(Err(err(100, None, "Unsupported request - method type: get")));
    }
    cases.push(case("IG Login, Standard Access", facts(vec![p]), &[AppAccessLevel], Status::Broken));

    // Refusals and answers that don't settle the token's health.
    let mut p = threads();
    p.token =
        present(TokenHealth::Identity(Err(err(100, Some(10), "requires the threads_basic permission"))));
    cases.push(case("Threads, no role on the app", facts(vec![p]), &[AppAccessLevel], Status::Broken));
    let mut p = page();
    p.token = dead(10, None, "(#10) Requires pages_manage_posts permission");
    cases.push(case("permission error", facts(vec![p]), &[PermissionDenied], Status::Broken));
    let mut p = page();
    p.token = dead(200, None, "(#200) needs ads_management or ads_read");
    cases.push(case(
        "Business Manager Page without ads_read",
        facts(vec![p]),
        &[AdsPermissionMissing],
        Status::Broken,
    ));
    let mut p = page();
    p.token = dead(98765, None, "Something new");
    cases.push(case("unknown code", facts(vec![p]), &[TokenNotInspected], Status::Unknown));
    let mut p = page();
    p.token = present(TokenHealth::Uninspected { reason: String::from("no usable type") });
    cases.push(case("empty inspection", facts(vec![p]), &[TokenNotInspected], Status::Unknown));
    let mut p = page();
    p.token = present(TokenHealth::Identity(Err(err(
        100,
        None,
        "Invalid appsecret_proof provided in the API argument",
    ))));
    cases.push(case("app secret refused", facts(vec![p]), &[TokenNotInspected], Status::Unknown));

    let mut p = threads();
    inspection(&mut p).issued_at = Some(NOW - 30 * D);
    inspection(&mut p).expires_at = Some(NOW + 30 * D);
    cases.push(case("Threads 30 days old", facts(vec![p]), &[RefreshWindowOpen], Status::Ok));

    // Data access (§3.4).
    let mut p = page();
    inspection(&mut p).data_access_expires_at = Some(NOW + 3 * D);
    cases.push(case("data access ends in 3 days", facts(vec![p]), &[DataAccessExpiring], Status::Warning));

    let mut f = facts(vec![page()]);
    inspection(&mut f.profiles[0]).data_access_expires_at = Some(NOW - D);
    set_permission(&mut f, "pages_manage_posts", Some(PermissionStatus::Expired));
    cases.push(case("data access ended", f, &[DataAccessExpired], Status::Broken));

    // Limits.
    let mut p = threads();
    p.publishing_limit = Some(PublishingLimit { usage: 200, total: 250 });
    cases.push(case("publishing limit at 80 %", facts(vec![p]), &[PublishingLimitNear], Status::Warning));

    let mut p = ig_via_page();
    p.publishing_limit = Some(PublishingLimit { usage: 100, total: 100 });
    cases.push(case("publishing limit reached", facts(vec![p]), &[PublishingLimitReached], Status::Broken));

    let mut p = ig_via_page();
    p.publishing_limit = Some(PublishingLimit { usage: 79, total: 100 });
    cases.push(case("publishing limit at 79 %", facts(vec![p]), &[], Status::Ok));

    let mut p = page();
    p.rate = Some(RateUsage { max_pct: Some(85), throttled: false, regain_minutes: None });
    cases.push(case("usage headers at 85 %", facts(vec![p]), &[RateLimited], Status::Warning));

    let mut f = facts(vec![page()]);
    fb(&mut f).rate = Some(RateUsage { max_pct: Some(97), throttled: true, regain_minutes: Some(12) });
    cases.push(case("login throttled", f, &[RateLimited], Status::Warning));

    let mut p = threads();
    if let TokenFacts::Present { health, .. } = &mut p.token {
        *health = TokenHealth::Identity(Err(err(4, None, "(#4) Application request limit reached")));
    }
    cases.push(case(
        "throttled identity call",
        facts(vec![p]),
        &[RateLimited, MetaUnreachable],
        Status::Unknown,
    ));

    // Meta unreachable: unknown, never invalid.
    let mut p = page();
    p.token = unreachable();
    cases.push(case("Meta unreachable", facts(vec![p]), &[MetaUnreachable], Status::Unknown));

    let mut p = threads();
    if let TokenFacts::Present { health, .. } = &mut p.token {
        *health = TokenHealth::Identity(Err(err(2, None, "Service temporarily unavailable")));
    }
    cases.push(case("transient error code 2", facts(vec![p]), &[MetaUnreachable], Status::Unknown));

    let mut p = page();
    p.token = present(TokenHealth::Inspected(Inspection::invalid(GraphError {
        transient: true,
        ..err(1, None, "An unknown error occurred")
    })));
    cases.push(case("is_transient error", facts(vec![p]), &[MetaUnreachable], Status::Unknown));

    let mut f = facts(vec![page()]);
    f.profiles[0].token = unreachable();
    fb(&mut f).user_token =
        Some(TokenHealth::Inspected(Inspection::invalid(err(190, Some(460), "password changed"))));
    cases.push(case(
        "Page unreachable, its login's user token dead",
        f,
        &[TokenPasswordChanged],
        Status::Broken,
    ));

    let mut p = page();
    p.unreachable = vec![String::from("publishing limit: HTTP 503")];
    cases.push(case(
        "live token, one check unreachable",
        facts(vec![p]),
        &[MetaUnreachable],
        Status::Unknown,
    ));

    let mut p = page();
    p.token = TokenFacts::Unreadable { reason: String::from("keyring locked") };
    cases.push(case("store unreadable", facts(vec![p]), &[], Status::Unknown));

    // Failed posts.
    let mut p = page();
    p.failed_posts = 3;
    cases.push(case("3 failed posts on a healthy Page", facts(vec![p]), &[FailedPosts], Status::Ok));

    let mut p = page();
    p.failed_posts = 2;
    p.token = dead(190, Some(460), "password changed");
    cases.push(case(
        "failed posts on a broken Page",
        facts(vec![p]),
        &[TokenPasswordChanged, FailedPosts],
        Status::Broken,
    ));

    cases
}

#[test]
fn table() {
    for c in cases() {
        let report = diagnose(&c.facts, NOW);
        let p = &report.profiles[0];
        assert_eq!(codes(&p.findings), c.want, "{}: {:#?}", c.name, p.findings);
        assert_eq!(p.status, c.status, "{}", c.name);
        for f in &p.findings {
            if f.severity != Severity::Info {
                assert!(
                    f.fix.command.is_some() || !f.fix.steps.is_empty(),
                    "{}: {} has no fix",
                    c.name,
                    f.code
                );
            }
            assert!(!f.summary.is_empty() && !f.detail.is_empty(), "{}: {} has no words", c.name, f.code);
        }
    }
}

fn env_cases() -> Vec<(&'static str, Facts, Vec<Code>)> {
    let mut out = Vec::new();
    let mut f = facts(vec![page()]);
    f.environment.store = Some(StoreProbe::Failed {
        backend: String::from("Secret Service"),
        reason: String::from("the collection is locked"),
    });
    out.push(("store probe failed", f, vec![Code::StoreUnavailable]));

    let mut f = facts(vec![page(), threads()]);
    f.environment.apps = vec![
        AppCredentials { app: Network::Facebook, id_present: true, secret_present: true },
        AppCredentials { app: Network::Threads, id_present: false, secret_present: true },
        // Not in use: no finding.
        AppCredentials { app: Network::Instagram, id_present: false, secret_present: false },
    ];
    out.push(("Threads app id missing", f, vec![Code::AppNotConfigured]));

    let mut f = facts(vec![page()]);
    f.environment.redirect = Some(RedirectFacts {
        uri: String::from("http://localhost:8765/callback"),
        port: 8765,
        port_busy: true,
    });
    out.push(("redirect port busy", f, vec![Code::RedirectPortBusy]));

    let mut f = facts(vec![page()]);
    f.environment.redirect = Some(RedirectFacts {
        uri: String::from("http://localhost:8765/callback"),
        port: 8765,
        port_busy: false,
    });
    f.environment.store = Some(StoreProbe::Ok);
    f.environment.meta = Some(Reachability::Reachable);
    out.push(("healthy environment", f, vec![]));

    let mut f = facts(vec![page()]);
    f.environment.meta = Some(Reachability::Unreachable { reason: String::from("dns error") });
    out.push(("Meta unreachable", f, vec![Code::MetaUnreachable]));

    let mut p = page();
    p.token = present(TokenHealth::Identity(Err(err(
        100,
        None,
        "Invalid appsecret_proof provided in the API argument",
    ))));
    out.push(("app secret refused", facts(vec![p]), vec![Code::AppSecretInvalid]));

    let mut f = facts(vec![page()]);
    f.environment.app_token_ignored = true;
    out.push(("Native/Desktop app", f, vec![Code::AppTokenIgnored]));
    out
}

#[test]
fn environment_table() {
    for (name, f, want) in env_cases() {
        let report = diagnose(&f, NOW);
        assert_eq!(codes(&report.environment.findings), want, "{name}");
    }
}

#[test]
fn every_code_is_covered_by_a_table_test() {
    let mut seen = BTreeSet::new();
    for c in cases() {
        seen.extend(c.want.iter().map(|c| c.as_str()));
    }
    for (_, _, want) in env_cases() {
        seen.extend(want.iter().map(|c| c.as_str()));
    }
    let all: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(seen, all);
}

#[test]
fn codes_serialize_as_their_names_and_are_unique() {
    let mut names = BTreeSet::new();
    for code in Code::ALL {
        assert_eq!(serde_json::to_value(code).expect("json"), json!(code.as_str()));
        assert!(names.insert(code.as_str()), "{code} twice");
    }
}

#[test]
fn findings_doc_has_a_section_per_code() {
    let doc = include_str!("../../docs/findings.md");
    let sections: BTreeSet<&str> =
        doc.lines().filter_map(|l| l.strip_prefix("## ")).map(|h| h.trim().trim_matches('`')).collect();
    let all: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let missing: Vec<_> = all.difference(&sections).collect();
    let unknown: Vec<_> = sections.difference(&all).collect();
    assert!(missing.is_empty(), "docs/findings.md lacks sections for {missing:?}");
    assert!(unknown.is_empty(), "docs/findings.md has sections for unknown codes {unknown:?}");
}

fn profile_finding(report: &Report, code: Code) -> &Finding {
    report.profiles.iter().flat_map(|p| &p.findings).find(|f| f.code == code).expect("finding")
}

#[test]
fn password_change_says_what_why_and_what_to_do() {
    let mut p = page();
    p.token =
        dead(190, Some(460), "The session has been invalidated because the user changed their password");
    let report = diagnose(&facts(vec![p]), NOW);
    let f = profile_finding(&report, Code::TokenPasswordChanged);
    assert_eq!(
        f.summary,
        "Acme Bakery can't publish: Meta ended the session because the account password changed."
    );
    assert_eq!(f.fix.command.as_deref(), Some("sq reauth facebook facebook:777"));
    assert!(f.detail.contains("Meta said: \"The session has been invalidated"), "{}", f.detail);
}

#[test]
fn instagram_page_broken_points_at_the_page() {
    let mut ig = ig_via_page();
    ig.token = dead(190, Some(460), "password changed");
    let mut pg = page();
    pg.token = dead(190, Some(460), "password changed");
    let report = diagnose(&facts(vec![ig, pg]), NOW);
    let f = profile_finding(&report, Code::InstagramPageBroken);
    assert!(f.summary.contains("Acme Bakery (facebook:777)"), "{}", f.summary);
    assert!(f.summary.contains("password changed"), "{}", f.summary);
    assert_eq!(f.fix.command.as_deref(), Some("sq reauth instagram instagram:17841400000000000 --via-page"));
    assert!(f.fix.steps[0].starts_with("Fix the Page first"), "{:?}", f.fix.steps);
    // The Page reports its own cause; the Instagram account doesn't repeat it.
    assert_eq!(codes(&report.profiles[0].findings), vec![Code::InstagramPageBroken]);
    assert_eq!(codes(&report.profiles[1].findings), vec![Code::TokenPasswordChanged]);
}

#[test]
fn declined_and_never_granted_are_worded_apart() {
    let mut f = facts(vec![page()]);
    set_permission(&mut f, "pages_manage_posts", Some(PermissionStatus::Declined));
    let r = diagnose(&f, NOW);
    let declined = profile_finding(&r, Code::ScopeMissing);
    assert!(
        declined.summary.ends_with("the permission pages_manage_posts was declined."),
        "{}",
        declined.summary
    );
    assert!(declined.fix.steps.iter().any(|s| s.contains("\"Edit access\"")));
    assert!(declined.fix.steps.iter().any(|s| s.contains("Business Integrations")));

    let mut f = facts(vec![page()]);
    set_permission(&mut f, "pages_manage_posts", None);
    set_permission(&mut f, "pages_read_engagement", Some(PermissionStatus::Declined));
    let r = diagnose(&f, NOW);
    let both = profile_finding(&r, Code::ScopeMissing);
    assert!(
        both.summary.contains("pages_read_engagement (declined), pages_manage_posts (never granted)"),
        "{}",
        both.summary
    );

    let mut f = facts(vec![page()]);
    set_permission(&mut f, "pages_manage_posts", None);
    let r = diagnose(&f, NOW);
    let never = profile_finding(&r, Code::ScopeMissing);
    assert!(never.summary.ends_with("the permission pages_manage_posts was never granted."));
    assert!(!never.fix.steps.iter().any(|s| s.contains("Edit access")));
}

#[test]
fn granular_fix_names_the_dialog_choices() {
    let mut f = facts(vec![page()]);
    set_granular(&mut f, vec![("pages_manage_posts", Some(&["888"]))]);
    let r = diagnose(&f, NOW);
    let g = profile_finding(&r, Code::GranularNotSelected);
    assert!(g.fix.steps.iter().any(|s| s.contains("tick Acme Bakery")));
    assert!(g.fix.steps.iter().any(|s| s.contains("Opt in to all current and future Pages")));
}

#[test]
fn reauth_commands_per_kind() {
    let mut cases = Vec::new();
    for mut p in [page(), ig_via_page(), ig_login(2 * H), threads()] {
        p.token = dead(190, Some(467), "logged out");
        p.page_id = None;
        cases.push(p);
    }
    let report = diagnose(&facts(cases), NOW);
    let commands: Vec<_> =
        report.profiles.iter().map(|p| p.findings[0].fix.command.clone().unwrap_or_default()).collect();
    assert_eq!(
        commands,
        [
            "sq reauth facebook facebook:777",
            "sq reauth instagram instagram:17841400000000000 --via-page",
            "sq reauth instagram instagram:17841400000000001 --instagram-login",
            "sq reauth threads threads:1234567890123456",
        ]
    );
}

#[test]
fn refresh_and_requeue_commands() {
    let mut p = ig_login(25 * H);
    p.failed_posts = 1;
    let r = diagnose(&facts(vec![p]), NOW);
    let refresh = profile_finding(&r, Code::RefreshWindowOpen);
    assert_eq!(refresh.fix.command.as_deref(), Some("sq refresh instagram:17841400000000001"));
    let requeue = profile_finding(&r, Code::FailedPosts);
    assert_eq!(requeue.fix.command.as_deref(), Some("sq requeue --failed instagram:17841400000000001"));
    assert_eq!(requeue.summary, "acme.studio has 1 failed post that can be requeued.");

    let r = diagnose(&facts(vec![ig_login(57 * D)]), NOW);
    let expiring = profile_finding(&r, Code::TokenExpiring);
    assert_eq!(expiring.fix.command.as_deref(), Some("sq refresh instagram:17841400000000001"));
}

#[test]
fn app_not_configured_names_the_command() {
    let (_, f, _) = env_cases().into_iter().find(|(n, _, _)| *n == "Threads app id missing").expect("case");
    let r = diagnose(&f, NOW);
    let a = &r.environment.findings[0];
    assert_eq!(a.summary, "The Threads app isn't configured: its app id is missing.");
    assert_eq!(a.fix.command.as_deref(), Some("sq config set threads.app_id <APP-ID>"));
    assert!(a.detail.contains("Threads App ID"));
}

#[test]
fn store_unavailable_names_backend_reason_and_choices() {
    let (_, f, _) = env_cases().into_iter().next().expect("case");
    let r = diagnose(&f, NOW);
    let s = &r.environment.findings[0];
    assert_eq!(s.summary, "The credential store (Secret Service) can't be used: the collection is locked.");
    assert_eq!(s.fix.command.as_deref(), Some("SQ_CREDENTIAL_STORE=file sq diagnose"));
    assert!(s.fix.steps.iter().any(|x| x.contains("Unlock the keyring")));
}

#[test]
fn json_snapshot() {
    let r = small_report();
    let value = serde_json::to_value(&r).expect("json");
    let fb_steps = json!(["When the browser opens, log in to Facebook with the current password."]);
    let want = json!({
        "schema_version": 1,
        "profiles": [
            {
                "profile": "facebook:777",
                "network": "facebook",
                "kind": "facebook",
                "via": null,
                "name": "Acme Bakery",
                "status": "broken",
                "token": {
                    "type": "PAGE",
                    "source": "keyring",
                    "masked": "EAAB…f3c1",
                    "expires_at": null,
                    "data_access_expires_at": "2027-02-02T10:00:00Z",
                    "scopes": ["pages_manage_posts"]
                },
                "findings": [
                    {
                        "code": "token_password_changed",
                        "severity": "error",
                        "summary": "Acme Bakery can't publish: Meta ended the session because the account password changed.",
                        "detail": "Meta invalidates a login's tokens when its password changes or when it resets the session for security reasons (190/460); every Page token from that login stopped working with it. Meta said: \"The session has been invalidated.\"",
                        "fix": {"command": "sq reauth facebook facebook:777", "steps": fb_steps}
                    },
                    {
                        "code": "failed_posts",
                        "severity": "info",
                        "summary": "Acme Bakery has 2 failed posts that can be requeued once it is healthy.",
                        "detail": "Requeued posts keep their history; posts that failed for media or content reasons are requeued only when named with --class.",
                        "fix": {
                            "command": "sq requeue --failed facebook:777",
                            "steps": ["Fix the findings above first: sq requeue holds back posts of profiles that aren't healthy yet."]
                        }
                    }
                ]
            },
            {
                "profile": "threads:1234567890123456",
                "network": "threads",
                "kind": "threads",
                "via": null,
                "name": "acme",
                "status": "ok",
                "token": {
                    "type": "USER",
                    "source": "keyring",
                    "masked": "EAAB…f3c1",
                    "expires_at": "2027-03-16T06:00:00Z",
                    "data_access_expires_at": null,
                    "scopes": ["threads_basic", "threads_content_publish"]
                },
                "findings": []
            }
        ],
        "environment": {
            "findings": [
                {
                    "code": "redirect_port_busy",
                    "severity": "warning",
                    "summary": "The redirect URI's port 8765 is in use by another program.",
                    "detail": "sq reauth listens on http://localhost:8765/callback for Meta's answer; while another program holds port 8765, re-authorization can't receive it.",
                    "fix": {
                        "command": null,
                        "steps": [
                            "Stop the program that uses port 8765, or",
                            "pick a free port: add http://localhost:<PORT>/callback to the app's Valid OAuth Redirect URIs and pass --redirect-uri http://localhost:<PORT>/callback to sq reauth."
                        ]
                    }
                }
            ]
        },
        "summary": {"ok": 1, "warning": 0, "broken": 1, "unknown": 0}
    });
    assert_eq!(value, want, "{}", serde_json::to_string_pretty(&value).unwrap_or_default());
}

/// Many Pages on one login: each profile is judged by its own entry of the Page list and its own
/// Page (the engine looks them up through an index built once per run), and where an id comes
/// twice the first entry counts, as a search in list order gives.
#[test]
fn each_of_many_pages_is_judged_by_its_own_entry() {
    use Code::*;
    const N: usize = 300;
    let mut profiles = Vec::new();
    let mut accounts = Vec::new();
    for i in 0..N {
        let id = format!("{}", 1000 + i);
        let mut p = page();
        p.id.clone_from(&id);
        p.reference = format!("facebook:{id}");
        p.name = format!("Page {i}");
        profiles.push(p);
        let tasks: &[&str] = match i % 3 {
            0 => ALL_TASKS,
            1 => &["CREATE_CONTENT", "MODERATE"],
            _ => &["ANALYZE"],
        };
        if i != 7 {
            accounts.push(PageAccount {
                id,
                name: format!("Page {i}"),
                tasks: strings(tasks),
                instagram_id: None,
            });
        }
    }
    // A later, second entry of Page 1000 with no tasks: the first one (every task) counts.
    accounts.push(PageAccount {
        id: String::from("1000"),
        name: String::from("Page 0"),
        tasks: Vec::new(),
        instagram_id: None,
    });
    let mut f = facts(profiles);
    fb(&mut f).accounts = Some(accounts);
    // A second connection with the same id and no Page list: the first connection counts.
    let mut shadow = ConnectionFacts::new("fb:1", Network::Facebook);
    shadow.accounts = Some(Vec::new());
    f.connections.push(shadow);
    let report = diagnose(&f, NOW);
    for (i, pr) in report.profiles.iter().enumerate() {
        let want: &[Code] = match i {
            7 => &[PageNotListed],
            _ if i % 3 == 0 => &[],
            _ if i % 3 == 1 => &[NotPageAdmin],
            _ => &[CannotPublish],
        };
        assert_eq!(codes(&pr.findings), want, "profile {i} ({})", pr.profile);
    }
}
