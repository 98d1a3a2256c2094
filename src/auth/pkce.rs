//! The CSRF `state` and PKCE S256 (RFC 7636), on oauth2's `CsrfToken`, `PkceCodeVerifier` and
//! `PkceCodeChallenge`, with 256 random bits from the operating system's generator.
//!
//! oauth2 makes the challenge and puts these in the authorization URL (`authorize.rs`); what is
//! sq's own: the random bytes come from getrandom (a failure is an error, not a panic), the
//! state is compared in constant time (oauth2 does so only behind a feature flag), and both
//! values are wiped when dropped (oauth2's types are not).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::AuthError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use std::fmt;
use zeroize::Zeroize;

fn random_b64(bytes: usize) -> Result<String, AuthError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AuthError::Random(e.to_string()))?;
    let out = URL_SAFE_NO_PAD.encode(&buf);
    buf.zeroize();
    Ok(out)
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
pub struct State(CsrfToken);

impl State {
    pub fn generate() -> Result<State, AuthError> {
        random_b64(32).map(|v| State(CsrfToken::new(v)))
    }

    /// A known state, for tests and for resuming a flow.
    pub fn from_string(value: impl Into<String>) -> State {
        State(CsrfToken::new(value.into()))
    }

    /// The value, for the authorization URL.
    pub fn as_str(&self) -> &str {
        self.0.secret()
    }

    /// oauth2's token, for its authorization request.
    pub fn csrf_token(&self) -> CsrfToken {
        self.0.clone()
    }

    /// Constant-time comparison with a state that came back from the browser.
    pub fn matches(&self, returned: &str) -> bool {
        constant_time_eq(self.as_str().as_bytes(), returned.as_bytes())
    }
}

impl Clone for State {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other.as_str())
    }
}

impl Eq for State {}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State([redacted])")
    }
}

impl Drop for State {
    fn drop(&mut self) {
        std::mem::replace(&mut self.0, CsrfToken::new(String::new())).into_secret().zeroize();
    }
}

/// A PKCE code verifier: 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1). Sent only with
/// the code exchange, and never shown.
pub struct PkceVerifier(PkceCodeVerifier);

impl PkceVerifier {
    /// 32 random bytes, base64url: 43 characters, the RFC's recommendation.
    pub fn generate() -> Result<PkceVerifier, AuthError> {
        random_b64(32).map(|v| PkceVerifier(PkceCodeVerifier::new(v)))
    }

    /// Checks length and alphabet; `None` when the value is not a valid verifier.
    pub fn from_string(value: &str) -> Option<PkceVerifier> {
        let ok = (43..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        ok.then(|| PkceVerifier(PkceCodeVerifier::new(value.to_string())))
    }

    /// oauth2's verifier, for the `code_verifier` field of the code exchange.
    pub fn verifier(&self) -> &PkceCodeVerifier {
        &self.0
    }

    /// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`, unpadded. The length is checked when
    /// the verifier is made, so oauth2's length assertion always holds.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(PkceCodeChallenge::from_code_verifier_sha256(&self.0))
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

impl Drop for PkceVerifier {
    fn drop(&mut self) {
        std::mem::replace(&mut self.0, PkceCodeVerifier::new(String::new())).into_secret().zeroize();
    }
}

/// The S256 challenge that goes into the authorization URL (public by design).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceChallenge(PkceCodeChallenge);

impl PkceChallenge {
    /// The only method sq sends; `plain` would put the verifier itself in the URL.
    pub const METHOD: &'static str = "S256";

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// oauth2's challenge, for its authorization request.
    pub fn code_challenge(&self) -> PkceCodeChallenge {
        self.0.clone()
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
        assert!(PkceVerifier::from_string(v.verifier().secret()).is_some());
        assert_eq!(v.challenge().code_challenge().method().as_str(), PkceChallenge::METHOD);
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
        assert!(!format!("{v:?}").contains(v.verifier().secret().as_str()));
    }
}
