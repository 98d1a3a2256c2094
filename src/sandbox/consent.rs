//! The Facebook Login consent form a browser renders (meta-platform.md §1.1, §4.3): who logs
//! in, the Pages (with "opt in to all current and future Pages"), the linked Instagram
//! accounts, the businesses, and one toggle per requested permission ("Edit access"), pre-set
//! from the consent controls (`/_sandbox/consent`), with Continue and Cancel. Submitting it
//! posts to `…/dialog/oauth/confirm`, which answers like the dialog does for a script: the
//! redirect back to the app with what was ticked.
//!
//! Field names are one per box (`page_<id>`, `ig_<id>`, `business_<id>`, `perm_<name>`), since
//! a browser leaves unticked boxes out of the submission.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::oauth::{Dialog, consent_user};
use super::scenario::{Consent, ConsentOutcome};
use super::wire::{Req, Resp, html_escape};
use super::world::World;

/// A Page the consenting user can pick.
struct PageRow {
    id: String,
    name: String,
    instagram: Option<(String, String)>,
}

fn pages_of(w: &World, user: &str) -> Vec<PageRow> {
    let mut rows: Vec<PageRow> = w
        .pages
        .iter()
        .filter(|(_, p)| p.roles.contains_key(user) || p.portfolio_roles.contains_key(user))
        .map(|(id, p)| PageRow {
            id: id.clone(),
            name: p.name.clone(),
            instagram: p
                .instagram
                .as_ref()
                .map(|a| (a.clone(), w.ig.get(a).map(|s| s.username.clone()).unwrap_or_default())),
        })
        .collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows
}

fn businesses_of(w: &World, user: &str) -> Vec<(String, String)> {
    w.scenario
        .businesses
        .iter()
        .filter(|b| b.users.iter().any(|u| u == user))
        .map(|b| (b.id.clone(), b.name.clone()))
        .collect()
}

fn wants(d: &Dialog, prefix: &str) -> bool {
    d.requested.iter().any(|s| s.starts_with(prefix))
}

fn checkbox(name: &str, checked: bool, label: &str) -> String {
    format!(
        "<label><input type=\"checkbox\" name=\"{}\" value=\"on\"{}> {}</label><br>\n",
        html_escape(name),
        if checked { " checked" } else { "" },
        label
    )
}

/// The consent page. `consent` pre-sets every box and which button is the default (first).
pub fn form(w: &World, d: &Dialog, consent: &Consent, req: &Req) -> Resp {
    let Some(user) = consent_user(w, consent) else {
        return Resp::html(200, "Error", "Sandbox: the consent user is not a user of this scenario.");
    };
    let user_name = w.users.get(&user).cloned().unwrap_or_default();
    let version = req.version.as_deref().map(|v| format!("{v}/")).unwrap_or_default();
    let action = format!("/{}/{version}dialog/oauth/confirm", req.host_name);
    let app = html_escape(&d.app_name);
    let mut body = format!(
        "<h1>{app} is requesting access</h1>\n<p>Continuing as <b>{}</b>.</p>\n\
         <form id=\"consent\" method=\"post\" action=\"{}\">\n",
        html_escape(&user_name),
        html_escape(&action)
    );
    for (k, v) in &d.params {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            html_escape(k),
            html_escape(v)
        ));
    }
    body.push_str(&format!("<input type=\"hidden\" name=\"user\" value=\"{}\">\n", html_escape(&user)));

    let pages = pages_of(w, &user);
    if wants(d, "pages_") || wants(d, "instagram_") {
        body.push_str(
            "<fieldset id=\"pages\"><legend>Choose the Pages you want the app to access</legend>\n",
        );
        body.push_str(&checkbox(
            "all_pages",
            consent.pages.is_none(),
            "Opt in to all current and future Pages",
        ));
        for p in &pages {
            let ticked = consent.pages.as_ref().is_none_or(|ps| ps.contains(&p.id));
            body.push_str(&checkbox(
                &format!("page_{}", p.id),
                ticked,
                &format!("{} <small>({})</small>", html_escape(&p.name), html_escape(&p.id)),
            ));
        }
        body.push_str("</fieldset>\n");
    }
    if wants(d, "instagram_") && pages.iter().any(|p| p.instagram.is_some()) {
        body.push_str(
            "<fieldset id=\"instagram\"><legend>Choose the Instagram accounts you want the app to access</legend>\n",
        );
        for p in &pages {
            let Some((id, username)) = &p.instagram else { continue };
            let ticked = match (&consent.instagram_accounts, &consent.pages) {
                (Some(list), _) => list.contains(id),
                (None, Some(ps)) => ps.contains(&p.id),
                (None, None) => true,
            };
            body.push_str(&checkbox(
                &format!("ig_{id}"),
                ticked,
                &format!("@{} <small>({})</small>", html_escape(username), html_escape(id)),
            ));
        }
        body.push_str("</fieldset>\n");
    }
    let businesses = businesses_of(w, &user);
    if d.requested.iter().any(|s| s == "business_management") && !businesses.is_empty() {
        body.push_str(
            "<fieldset id=\"businesses\"><legend>Choose the businesses you want the app to access</legend>\n",
        );
        for (id, name) in &businesses {
            let ticked = consent.businesses.as_ref().is_none_or(|b| b.contains(id));
            body.push_str(&checkbox(
                &format!("business_{id}"),
                ticked,
                &format!("{} <small>({})</small>", html_escape(name), html_escape(id)),
            ));
        }
        body.push_str("</fieldset>\n");
    }
    body.push_str("<fieldset id=\"permissions\"><legend>Edit access: what the app can do</legend>\n");
    if d.flfb {
        // §1.8: all or nothing, so there is nothing to switch off.
        body.push_str("<p>This business login asks for all of these together:</p>\n<ul>\n");
        for s in &d.requested {
            body.push_str(&format!("<li>{}</li>\n", html_escape(s)));
        }
        body.push_str("</ul>\n");
    } else {
        for s in d.requested.iter().filter(|s| *s != "public_profile") {
            let on = !consent.declined.iter().any(|x| x == s);
            body.push_str(&checkbox(&format!("perm_{s}"), on, &html_escape(s)));
        }
    }
    body.push_str("</fieldset>\n");
    // The pre-set answer is the first button: what Enter (implicit submission) presses.
    let go = "<button type=\"submit\" id=\"continue\" name=\"action\" value=\"continue\">Continue</button>\n";
    let no = "<button type=\"submit\" id=\"cancel\" name=\"action\" value=\"cancel\">Cancel</button>\n";
    if consent.outcome == ConsentOutcome::Deny {
        body.push_str(no);
        body.push_str(go);
    } else {
        body.push_str(go);
        body.push_str(no);
    }
    body.push_str("</form>\n");
    Resp {
        status: 200,
        headers: vec![("Cache-Control".into(), "no-store".into())],
        content_type: "text/html; charset=utf-8",
        body: format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Log in with Facebook</title></head>\n<body>\n{body}</body></html>\n"
        ),
    }
}

/// What a submitted form chose, as a consent the dialog answers with.
pub fn read_form(w: &World, d: &Dialog, req: &Req) -> Consent {
    let on = |name: &str| req.param(name).is_some();
    let outcome =
        if req.param("action") == Some("cancel") { ConsentOutcome::Deny } else { ConsentOutcome::Grant };
    let user = req.param("user").map(str::to_string).filter(|u| w.users.contains_key(u));
    let Some(uid) = user.clone().or_else(|| consent_user(w, &Consent::default())) else {
        return Consent { outcome, ..Consent::default() };
    };
    let pages = pages_of(w, &uid);
    let ticked_pages: Vec<String> =
        pages.iter().filter(|p| on(&format!("page_{}", p.id))).map(|p| p.id.clone()).collect();
    let pages_choice = if on("all_pages") { None } else { Some(ticked_pages) };
    let linked: Vec<&String> = pages.iter().filter_map(|p| p.instagram.as_ref().map(|(id, _)| id)).collect();
    let ticked_ig: Vec<String> =
        linked.iter().filter(|id| on(&format!("ig_{id}"))).map(|s| (*s).clone()).collect();
    // Everything linked ticked under "all Pages" is the same grant as no asset list at all.
    let instagram_accounts =
        if pages_choice.is_none() && ticked_ig.len() == linked.len() { None } else { Some(ticked_ig) };
    let businesses = businesses_of(w, &uid);
    let ticked_b: Vec<String> =
        businesses.iter().filter(|(id, _)| on(&format!("business_{id}"))).map(|(id, _)| id.clone()).collect();
    let businesses_choice = if ticked_b.len() == businesses.len() { None } else { Some(ticked_b) };
    let declined: Vec<String> = if d.flfb {
        Vec::new()
    } else {
        d.requested.iter().filter(|s| *s != "public_profile" && !on(&format!("perm_{s}"))).cloned().collect()
    };
    let current = &w.consent;
    Consent {
        outcome,
        screen: current.screen,
        user,
        pages: pages_choice,
        instagram_accounts,
        businesses: businesses_choice,
        declined,
        instagram_user: current.instagram_user.clone(),
        threads_user: current.threads_user.clone(),
    }
}
