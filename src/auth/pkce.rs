//! The CSRF `state` and PKCE S256 (RFC 7636), with sha2 + base64 + getrandom.
//!
//! Why not the `oauth2` crate: even with `default-features = false` it brings chrono (sq uses
//! `time`), rand 0.8 with its own getrandom 0.2 line, thiserror 1 and serde_path_to_error — about
//! eight crates for what is forty lines here — and its `CsrfToken` compares in constant time only
//! behind a feature flag. Nothing else in sq would use it (the exchanges are plain Graph calls).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::AuthError;
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;

fn random_b64(bytes: usize) -> Result<String, AuthError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(&buf))
}

/// Compares two byte strings in time that depends only on their lengths (lengths are public:
/// every state sq makes has the same one).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A fresh `state` for one authorization: 256 random bits, base64url (43 characters).
///
/// It goes into the authorization URL in the clear (that is its job), but it still never shows
/// in `Debug`, so a logged struct can't help forge a callback during the wait.
#[derive(Clone, PartialEq, Eq)]
pub struct State(String);

impl State {
    pub fn generate() -> Result<State, AuthError> {
        random_b64(32).map(State)
    }

    /// A known state, for tests and for resuming a flow.
    pub fn from_string(value: impl Into<String>) -> State {
        State(value.into())
    }

    /// The value, for the authorization URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a state that came back from the browser.
    pub fn matches(&self, returned: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), returned.as_bytes())
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State([redacted])")
    }
}

/// A PKCE code verifier: 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1). Sent only with
/// the code exchange, so it is a [`Secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(Secret);

impl PkceVerifier {
    /// 32 random bytes, base64url: 43 characters, the RFC's recommendation.
    pub fn generate() -> Result<PkceVerifier, AuthError> {
        random_b64(32).map(|v| PkceVerifier(Secret::new(v)))
    }

    /// Checks length and alphabet; `None` when the value is not a valid verifier.
    pub fn from_string(value: &str) -> Option<PkceVerifier> {
        let ok = (43..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        ok.then(|| PkceVerifier(Secret::new(value)))
    }

    /// For the `code_verifier` field of the code exchange.
    pub fn secret(&self) -> &Secret {
        &self.0
    }

    /// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`, unpadded.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.expose().as_bytes())))
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// The S256 challenge that goes into the authorization URL (public by design).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The only method sq sends; `plain` would put the verifier itself in the URL.
    pub const METHOD: &'static str = "S256";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let v = PkceVerifier::from_string("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(v.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn generated_values_have_the_right_shape() {
        let a = State::generate().unwrap();
        let b = State::generate().unwrap();
        assert_ne!(a, b);
        // 256 bits ≥ 128 bits; base64url without padding.
        assert_eq!(a.as_str().len(), 43);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        let v = PkceVerifier::generate().unwrap();
        assert!(PkceVerifier::from_string(v.secret().expose()).is_some());
        assert_eq!(v.challenge().as_str().len(), 43);
        assert!(!v.challenge().as_str().contains('='));
    }

    #[test]
    fn verifier_validation_table() {
        let cases = [
            ("a".repeat(42), false),
            ("a".repeat(43), true),
            ("a".repeat(128), true),
            ("a".repeat(129), false),
            (format!("{}~._-", "A".repeat(40)), true),
            (format!("{}+/=", "A".repeat(40)), false),
            (format!("{} ", "A".repeat(43)), false),
        ];
        for (input, ok) in cases {
            assert_eq!(PkceVerifier::from_string(&input).is_some(), ok, "{input:?}");
        }
    }

    #[test]
    fn state_comparison_and_debug() {
        let s = State::from_string("abcDEF123");
        assert!(s.matches("abcDEF123"));
        for other in ["abcDEF124", "abcDEF12", "", "abcDEF1234", "ABCDEF123"] {
            assert!(!s.matches(other), "{other}");
        }
        assert_eq!(format!("{s:?}"), "State([redacted])");
        let v = PkceVerifier::generate().unwrap();
        assert!(!format!("{v:?}").contains(v.secret().expose()));
    }
}
