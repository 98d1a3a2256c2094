//! The three networks sq publishes to (spec `--network`, the JSON `network` field).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A network, by the name the command line, the config keys and the JSON use. The command
/// line reads it through `cli`'s `clap::ValueEnum` implementation, so this type stays free of
/// clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Facebook,
    Instagram,
    Threads,
}

impl Network {
    pub const ALL: [Network; 3] = [Network::Facebook, Network::Instagram, Network::Threads];

    pub fn name(self) -> &'static str {
        match self {
            Network::Facebook => "facebook",
            Network::Instagram => "instagram",
            Network::Threads => "threads",
        }
    }

    pub fn parse(s: &str) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.name() == s)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in Network::ALL {
            assert_eq!(Network::parse(n.name()), Some(n));
            assert_eq!(n.to_string(), n.name());
            assert_eq!(serde_json::to_value(n).expect("json"), serde_json::json!(n.name()));
        }
        assert_eq!(Network::parse("Facebook"), None);
        assert_eq!(Network::parse(""), None);
    }
}
