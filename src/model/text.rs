//! Text from outside (Page names, Meta's messages, a callback's `error_description`) made safe
//! to print.
//!
//! Citations: spec §n of docs/reference/spec.md.

/// Makes Meta-originated text (Page names, error messages) safe for a terminal: control
/// characters, escape sequences and bidi overrides are replaced, so a hostile Page name can't
/// rewrite the screen or hide text (spec §4).
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_table() {
        let cases = [
            ("Acme Bakery", "Acme Bakery"),
            ("evil\x1b[2Jname", "evil\u{fffd}[2Jname"),
            ("line\nbreak", "line\u{fffd}break"),
            ("rtl\u{202e}txt", "rtl\u{fffd}txt"),
            ("tab\there", "tab here"),
            ("Café ☕", "Café ☕"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input), want, "{input:?}");
        }
    }
}
