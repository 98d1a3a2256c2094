//! How a login's grant covers a Page: the one reading that `diagnose` (the engine) and the
//! commands that save a login (`token import`, `reauth`, through `cmd::login`) share, so both
//! name the same cause for the same Page.
//!
//! A granular grant limits a permission to the assets ticked in Meta's dialog: `debug_token`
//! lists them as the scope's `target_ids`, and no `target_ids` means every asset
//! (meta-platform.md §2.2, §4.3). A Page left out of the grant can still be returned by the
//! Business-portfolio listing (`/{business-id}/owned_pages`, reached with
//! `business_management`, §4.3, §12.2), so "absent from `/me/accounts` but found in a
//! portfolio" is not by itself "reached through a portfolio only": the grant is read first.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

/// One `granular_scopes` entry of `debug_token`: `target_ids` is `None` when the scope covers
/// every asset (the field is omitted then, §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GranularScope {
    pub scope: String,
    pub target_ids: Option<Vec<String>>,
}

/// Whether the grant leaves `asset` out of `scope`: the scope is granted granularly and its
/// `target_ids` don't list the asset. A scope the grant doesn't mention leaves nothing out
/// (whether it is granted at all is the permissions' question, not this one).
pub fn leaves_out(granular: &[GranularScope], scope: &str, asset: &str) -> bool {
    granular
        .iter()
        .filter(|g| g.scope == scope)
        .any(|g| g.target_ids.as_ref().is_some_and(|ids| !ids.iter().any(|id| id == asset)))
}

/// The Page permissions (`pages_*`) among `required` that the grant leaves `page_id` out of.
pub fn page_scopes_left_out<'a>(
    granular: &[GranularScope],
    required: &[&'a str],
    page_id: &str,
) -> Vec<&'a str> {
    required.iter().copied().filter(|r| r.starts_with("pages_") && leaves_out(granular, r, page_id)).collect()
}

/// How a login reaches a Page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageReach {
    /// In the login's Page list (`/me/accounts`) and in the grant.
    Listed,
    /// Left out of the grant (not ticked in Meta's dialog), however a listing returned it:
    /// the finding `granular_not_selected`.
    NotSelected,
    /// In the grant but absent from `/me/accounts`: reached only through a Business portfolio
    /// (the finding `page_not_listed`).
    PortfolioOnly,
}

impl PageReach {
    /// `required`: the permissions the profile needs (`ProfileKind::required_permissions`);
    /// `listed`: the Page is in `/me/accounts`.
    pub fn of(granular: &[GranularScope], required: &[&str], page_id: &str, listed: bool) -> PageReach {
        if !page_scopes_left_out(granular, required, page_id).is_empty() {
            PageReach::NotSelected
        } else if listed {
            PageReach::Listed
        } else {
            PageReach::PortfolioOnly
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(scope: &str, ids: Option<&[&str]>) -> GranularScope {
        GranularScope {
            scope: scope.to_string(),
            target_ids: ids.map(|i| i.iter().map(|s| s.to_string()).collect()),
        }
    }

    const REQUIRED: &[&str] = &["pages_show_list", "pages_read_engagement", "pages_manage_posts"];

    #[test]
    fn a_page_left_out_of_the_grant_is_not_selected_even_when_a_portfolio_lists_it() {
        let grant =
            [g("pages_show_list", Some(&["777", "999"])), g("pages_manage_posts", Some(&["777", "999"]))];
        assert_eq!(PageReach::of(&grant, REQUIRED, "888", false), PageReach::NotSelected);
        assert_eq!(PageReach::of(&grant, REQUIRED, "888", true), PageReach::NotSelected);
        assert_eq!(PageReach::of(&grant, REQUIRED, "777", true), PageReach::Listed);
        assert_eq!(PageReach::of(&grant, REQUIRED, "999", false), PageReach::PortfolioOnly);
        assert_eq!(page_scopes_left_out(&grant, REQUIRED, "888"), ["pages_show_list", "pages_manage_posts"]);
    }

    #[test]
    fn a_scope_without_target_ids_covers_every_asset() {
        let grant = [g("pages_show_list", None), g("business_management", Some(&["5"]))];
        assert!(!leaves_out(&grant, "pages_show_list", "888"));
        assert!(!leaves_out(&grant, "pages_manage_posts", "888"));
        assert_eq!(PageReach::of(&grant, REQUIRED, "888", false), PageReach::PortfolioOnly);
        assert_eq!(PageReach::of(&[], REQUIRED, "888", true), PageReach::Listed);
    }
}
