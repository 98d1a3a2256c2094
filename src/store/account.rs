//! Account names in the credential store, in one place.
//!
//! Every secret is stored under service [`SERVICE`] with an account `<kind>:<id>`. The kinds are
//! fixed here so that the keyring, the encrypted file and the code that looks tokens up agree.

use crate::model::Network;
use std::fmt;

/// The keyring service name (and the prefix of the keyring entries' labels).
pub const SERVICE: &str = "sq";

/// One account name in the store, e.g. `facebook:777` or `app-secret:threads`.
///
/// Built only through the constructors below (or [`Account::parse`]), so a typo in a kind can't
/// create a second, unreachable entry.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account(String);

/// What an account holds, for listing and for choosing the right wording in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// `facebook:<page-id>`: a Page token (used by the Page and by Instagram accounts via it).
    PageToken,
    /// `facebook-user:` / `instagram-user:` / `threads-user:<user-id>`: a connection's user token.
    UserToken(Network),
    /// `app-secret:<network>`.
    AppSecret(Network),
    /// `probe:<random>`: written and deleted again by the store probe.
    Probe,
}

impl Account {
    /// The Page token of a Facebook Page: `facebook:<page-id>`.
    pub fn page(page_id: &str) -> Account {
        Account(format!("facebook:{page_id}"))
    }

    /// A connection's user token: `facebook-user:<meta-user-id>`, `instagram-user:<ig-user-id>`
    /// or `threads-user:<threads-user-id>`.
    pub fn user(network: Network, user_id: &str) -> Account {
        Account(format!("{}-user:{user_id}", network.name()))
    }

    /// An app secret: `app-secret:facebook|instagram|threads`.
    pub fn app_secret(network: Network) -> Account {
        Account(format!("app-secret:{}", network.name()))
    }

    /// A fresh `probe:<random>` account, so two probes at once never touch each other's entry.
    pub fn probe() -> Account {
        let mut rnd = [0u8; 8];
        // A predictable probe name only risks a collision between two concurrent probes.
        let _ = getrandom::fill(&mut rnd);
        Account(format!("probe:{}", hex::encode(rnd)))
    }

    /// The keyring's one bundle entry, `bundle:v1`, holding every other account's secret
    /// (docs/ARCHITECTURE.md, "The credential store at scale"). Never a key inside a bundle.
    pub(crate) fn bundle() -> Account {
        Account("bundle:v1".to_string())
    }

    /// Parses a stored account name; `None` for anything sq never writes.
    pub fn parse(s: &str) -> Option<Account> {
        let (kind, id) = s.split_once(':')?;
        if !valid_id(id) {
            return None;
        }
        let known = match kind {
            "facebook" | "probe" => true,
            "app-secret" => Network::parse(id).is_some(),
            _ => kind.strip_suffix("-user").and_then(Network::parse).is_some(),
        };
        known.then(|| Account(s.to_string()))
    }

    pub fn kind(&self) -> AccountKind {
        let (kind, id) = self.0.split_once(':').unwrap_or((&self.0, ""));
        match kind {
            "facebook" => AccountKind::PageToken,
            "probe" => AccountKind::Probe,
            "app-secret" => AccountKind::AppSecret(Network::parse(id).unwrap_or(Network::Facebook)),
            _ => AccountKind::UserToken(
                kind.strip_suffix("-user").and_then(Network::parse).unwrap_or(Network::Facebook),
            ),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The label a keyring entry gets, so people recognise it in Seahorse or Keychain Access.
    pub fn label(&self) -> String {
        format!("{SERVICE}: {}", self.0)
    }
}

/// Meta ids are digits; anything else is allowed as long as it can't split an account name.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && !id.contains(':') && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Account({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec() {
        assert_eq!(Account::page("777").as_str(), "facebook:777");
        assert_eq!(Account::user(Network::Facebook, "1").as_str(), "facebook-user:1");
        assert_eq!(Account::user(Network::Instagram, "2").as_str(), "instagram-user:2");
        assert_eq!(Account::user(Network::Threads, "3").as_str(), "threads-user:3");
        assert_eq!(Account::app_secret(Network::Threads).as_str(), "app-secret:threads");
        assert!(Account::probe().as_str().starts_with("probe:"));
        assert_ne!(Account::probe(), Account::probe());
        assert_eq!(Account::page("777").label(), "sq: facebook:777");
    }

    #[test]
    fn parse_round_trips_and_rejects_unknown_kinds() {
        for name in ["facebook:777", "threads-user:3", "app-secret:instagram", "probe:abc"] {
            assert_eq!(Account::parse(name).map(|a| a.to_string()).as_deref(), Some(name));
        }
        for bad in ["facebook:", "page:1", "app-secret:myspace", "x-user:1", "facebook:1:2", "nocolon"] {
            assert!(Account::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Account::user(Network::Threads, "3").kind(), AccountKind::UserToken(Network::Threads));
        assert_eq!(Account::page("1").kind(), AccountKind::PageToken);
        assert_eq!(
            Account::app_secret(Network::Instagram).kind(),
            AccountKind::AppSecret(Network::Instagram)
        );
    }
}
