//! Secrets as a type (habit 10, after cargo's `Secret<T>` and oauth2's secret types).
//!
//! A `Secret` never shows its value through `Debug` or `Display`; the only way out is
//! `expose()`, which makes every place that handles a whole token easy to find with grep.
//!
//! Citations: habit n of docs/reference/style.md.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The whole value. Call only to put it on the wire, in the credential store, or in
    /// `sq token print`.
    pub fn expose(&self) -> &str {
        &self.0
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

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes so a freed token does not linger in the heap.
        // SAFETY-free version: replace with zeros of the same length through safe code.
        let len = self.0.len();
        self.0.clear();
        self.0.extend(std::iter::repeat_n('\0', len));
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
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("EAABsupersecretvalue1234");
        assert!(!format!("{s:?}").contains("supersecret"));
        assert!(!format!("{s}").contains("supersecret"));
        assert_eq!(s.expose(), "EAABsupersecretvalue1234");
    }
}
