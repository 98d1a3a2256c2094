//! Secrets as a type (habit 10, after cargo's `Secret<T>` and oauth2's secret types).
//!
//! A `Secret` never shows its value through `Debug`, and has no `Display`; the only way out is
//! `expose()`, which makes every place that handles a whole token easy to find with grep.
//!
//! `Secret` is the opaque value the store and the database move. Where the kind matters, a
//! secret has its own type, so one can't be passed where another is expected: [`AppSecret`]
//! (an app's secret, never a token), [`AuthCode`] (the authorization code from the redirect),
//! [`UserToken`] and [`PageToken`]. Only [`Token`]s go where Meta expects an access token.
//!
//! Citations: habit n of docs/reference/style.md.

use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The value is shared, not copied, between clones: a diagnose of 10,000 Pages hands each token
/// to a batch, a job and the facts, and one copy of it in memory is both less memory
/// (docs/performance.md: peak RSS) and fewer copies of a secret. The last clone to go wipes it.
#[derive(Clone)]
pub struct Secret(Arc<Zeroizing<String>>);

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::new(Zeroizing::new(value.into())))
    }

    /// The whole value. Call only to put it on the wire, in the credential store, or in
    /// `sq token print`.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// `EAAB…f3c1`: enough to tell two tokens apart, never enough to use one.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// What Meta accepts as an access token: a [`UserToken`], a [`PageToken`], or a token of no
/// known kind (one read back from the store, the app token `app_id|app_secret`). An
/// [`AppSecret`] or an [`AuthCode`] is not one.
pub trait Token: Expose {
    fn as_secret(&self) -> &Secret;
}

impl Token for Secret {
    fn as_secret(&self) -> &Secret {
        self
    }
}

/// Any secret value, for the places that only carry one to the wire (a secret parameter).
pub trait Expose {
    fn expose(&self) -> &str;
}

impl Expose for Secret {
    fn expose(&self) -> &str {
        Secret::expose(self)
    }
}

/// A secret of one kind: a [`Secret`] inside (wiped on drop), `Debug` showing only the kind, no
/// `Display`, and `expose()` as the only way to the value.
macro_rules! secret_kind {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Secret);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(Secret::new(value))
            }

            /// A value of this kind read back from the credential store or the environment.
            pub fn from_secret(secret: Secret) -> Self {
                $name(secret)
            }

            /// The whole value: only to put it on the wire or in the credential store.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }

            /// The value as the store keeps it, kind forgotten.
            pub fn into_secret(self) -> Secret {
                self.0
            }

            pub fn masked(&self) -> String {
                self.0.masked()
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl Expose for $name {
            fn expose(&self) -> &str {
                self.0.expose()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_kind!(
    /// An app's secret (Facebook, Instagram Login or Threads app): `client_secret`, the key of
    /// `appsecret_proof`. Never an access token.
    AppSecret
);
secret_kind!(
    /// The single-use authorization `code` Meta's redirect brings back.
    AuthCode
);
secret_kind!(
    /// A user access token: what a code exchange, a long-lived exchange or a refresh returns.
    UserToken
);
secret_kind!(
    /// A Page access token, as `/me/accounts` lists it.
    PageToken
);

impl Token for UserToken {
    fn as_secret(&self) -> &Secret {
        &self.0
    }
}

impl Token for PageToken {
    fn as_secret(&self) -> &Secret {
        &self.0
    }
}

/// Shows the first 4 and last 4 characters of a value of 16 characters or more, and only
/// a length for shorter values (a short value with 8 characters shown would be mostly exposed).
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 16 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    } else if chars.is_empty() {
        String::from("(empty)")
    } else {
        format!("[{} chars]", chars.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_table() {
        let cases = [
            ("EAABwzLixnjYBO0123456789f3c1", "EAAB…f3c1"),
            ("short", "[5 chars]"),
            ("", "(empty)"),
            ("0123456789abcdef", "0123…cdef"),
        ];
        for (input, want) in cases {
            assert_eq!(mask(input), want, "mask({input:?})");
        }
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("EAABsupersecretvalue1234");
        assert!(!format!("{s:?}").contains("supersecret"));
        assert_eq!(s.expose(), "EAABsupersecretvalue1234");
        let shown = [
            format!("{:?}", AppSecret::new("supersecret-app")),
            format!("{:?}", AuthCode::new("AQsupersecret")),
            format!("{:?}", UserToken::new("EAABsupersecret")),
            format!("{:?}", PageToken::new("EAAPsupersecret")),
        ];
        assert_eq!(
            shown.iter().map(String::as_str).collect::<Vec<_>>(),
            [
                "AppSecret([redacted])",
                "AuthCode([redacted])",
                "UserToken([redacted])",
                "PageToken([redacted])"
            ]
        );
        let page = PageToken::new("EAAPpagetoken12345678");
        assert_eq!((page.expose(), page.masked().as_str()), ("EAAPpagetoken12345678", "EAAP…5678"));
        assert_eq!(page.clone().into_secret().expose(), page.as_secret().expose());
    }
}
