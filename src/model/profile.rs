//! What kinds of profile exist (spec "Concepts"), which login and token each publishes
//! through, and the permissions each needs.

use super::network::Network;

/// Which token a stored profile publishes with (the database's `via` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// A Page token `facebook:<page_id>`: Facebook Pages, and Instagram accounts linked to one.
    Page,
    /// The connection's Instagram Login user token `instagram-user:<id>`.
    InstagramLogin,
    /// The connection's Threads user token `threads-user:<id>`.
    Threads,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Page => "page",
            Via::InstagramLogin => "instagram_login",
            Via::Threads => "threads",
        }
    }

    pub fn parse(s: &str) -> Option<Via> {
        [Via::Page, Via::InstagramLogin, Via::Threads].into_iter().find(|v| v.as_str() == s)
    }
}

/// What a profile is, and so which login it publishes through and what it must be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// A Facebook Page, published to with a Page token from a Facebook login.
    FacebookPage,
    /// An Instagram professional account linked to a Page; uses the Page's Facebook login.
    InstagramViaPage,
    /// An Instagram professional account with its own Instagram Login connection.
    InstagramLogin,
    /// A Threads profile with its own Threads connection.
    Threads,
}

impl ProfileKind {
    pub const ALL: [ProfileKind; 4] = [
        ProfileKind::FacebookPage,
        ProfileKind::InstagramViaPage,
        ProfileKind::InstagramLogin,
        ProfileKind::Threads,
    ];

    /// The kind of a stored profile, from its network and the token it publishes with: the one
    /// place that reads the two columns together. A Facebook profile is always a Page; an
    /// Instagram profile is "via a Page" only on a Page token.
    pub fn of(network: Network, via: Via) -> ProfileKind {
        match (network, via) {
            (Network::Facebook, _) => ProfileKind::FacebookPage,
            (Network::Instagram, Via::Page) => ProfileKind::InstagramViaPage,
            (Network::Instagram, Via::InstagramLogin | Via::Threads) => ProfileKind::InstagramLogin,
            (Network::Threads, _) => ProfileKind::Threads,
        }
    }

    /// The network the profile publishes to (`--network`, the JSON `network` field).
    pub fn network(self) -> Network {
        match self {
            ProfileKind::FacebookPage => Network::Facebook,
            ProfileKind::InstagramViaPage | ProfileKind::InstagramLogin => Network::Instagram,
            ProfileKind::Threads => Network::Threads,
        }
    }

    /// Whose app credentials its login uses: an Instagram account via a Page goes through the
    /// Facebook app; Instagram Login and Threads have app ids of their own
    /// (https://developers.facebook.com/documentation/instagram-platform/instagram-api-with-instagram-login/business-login,
    /// https://developers.facebook.com/documentation/threads/get-started).
    pub fn app(self) -> Network {
        match self {
            ProfileKind::FacebookPage | ProfileKind::InstagramViaPage => Network::Facebook,
            ProfileKind::InstagramLogin => Network::Instagram,
            ProfileKind::Threads => Network::Threads,
        }
    }

    /// How an Instagram profile is connected (the JSON `via` field); `None` for the other kinds.
    pub fn via(self) -> Option<&'static str> {
        match self {
            ProfileKind::InstagramViaPage => Some("page"),
            ProfileKind::InstagramLogin => Some("instagram_login"),
            ProfileKind::FacebookPage | ProfileKind::Threads => None,
        }
    }

    /// The permissions authorization asks for, so that a profile of this kind can be listed
    /// and can publish.
    ///
    /// Facebook: `business_management` is always asked for, because a Page reached through a
    /// Business portfolio is missing from `/me/accounts` without it, and sq can't know before
    /// the login which Pages those are. Instagram via Page asks for the Page permissions too,
    /// to find the Page and its link and to reconnect the Page first.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            ProfileKind::FacebookPage => {
                &["pages_show_list", "pages_read_engagement", "pages_manage_posts", "business_management"]
            }
            ProfileKind::InstagramViaPage => &[
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
                "business_management",
                "instagram_basic",
                "instagram_content_publish",
            ],
            ProfileKind::InstagramLogin => {
                &["instagram_business_basic", "instagram_business_content_publish"]
            }
            ProfileKind::Threads => &["threads_basic", "threads_content_publish"],
        }
    }

    /// The permissions publishing can't do without: what `sq diagnose` checks the grant for,
    /// in the order its findings name them. Always a subset of [`ProfileKind::permissions`].
    /// See https://developers.facebook.com/docs/permissions and the publishing guides
    /// (https://developers.facebook.com/documentation/pages-api/posts,
    /// https://developers.facebook.com/documentation/instagram-platform/content-publishing,
    /// https://developers.facebook.com/docs/threads/reference/publishing/).
    pub fn required_permissions(self) -> &'static [&'static str] {
        match self {
            ProfileKind::FacebookPage => &["pages_show_list", "pages_read_engagement", "pages_manage_posts"],
            ProfileKind::InstagramViaPage => {
                &["instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement"]
            }
            ProfileKind::InstagramLogin => {
                &["instagram_business_basic", "instagram_business_content_publish"]
            }
            ProfileKind::Threads => &["threads_basic", "threads_content_publish"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_of_network_and_via() {
        use ProfileKind::*;
        let rows = [
            (Network::Facebook, Via::Page, FacebookPage, None),
            (Network::Instagram, Via::Page, InstagramViaPage, Some("page")),
            (Network::Instagram, Via::InstagramLogin, InstagramLogin, Some("instagram_login")),
            (Network::Threads, Via::Threads, Threads, None),
        ];
        for (network, via, kind, json_via) in rows {
            assert_eq!(ProfileKind::of(network, via), kind, "{network} {via:?}");
            assert_eq!(kind.network(), network, "{kind:?}");
            assert_eq!(kind.via(), json_via, "{kind:?}");
        }
    }

    #[test]
    fn logins_use_their_own_app() {
        assert_eq!(ProfileKind::FacebookPage.app(), Network::Facebook);
        assert_eq!(ProfileKind::InstagramViaPage.app(), Network::Facebook);
        assert_eq!(ProfileKind::InstagramLogin.app(), Network::Instagram);
        assert_eq!(ProfileKind::Threads.app(), Network::Threads);
    }

    /// Authorization must ask for everything diagnose then checks, or a fresh login would be
    /// reported broken.
    #[test]
    fn what_is_asked_for_covers_what_is_required() {
        for kind in ProfileKind::ALL {
            for p in kind.required_permissions() {
                assert!(kind.permissions().contains(p), "{kind:?} requires {p} but doesn't ask for it");
            }
        }
    }

    #[test]
    fn via_names_round_trip() {
        for via in [Via::Page, Via::InstagramLogin, Via::Threads] {
            assert_eq!(Via::parse(via.as_str()), Some(via));
        }
        assert_eq!(Via::parse("Page"), None);
    }
}
