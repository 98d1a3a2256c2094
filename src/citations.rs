//! Every citation in the repository can be followed from a checkout (docs/ARCHITECTURE.md,
//! "Citations"): a comment's `§8.3` is a section of `docs/reference/meta-platform.md`,
//! `spec §4` of `docs/reference/spec.md`, `prior-art §3` of `docs/reference/prior-art.md`,
//! `habit 7` of `docs/reference/style.md`. These tests check that each cited section exists,
//! that a file citing a document names it once (its `Citations:` line), that nothing points at a
//! file outside the repository, and that no comment leans on an issue number (issues live
//! outside the repository).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md; spec §n of docs/reference/spec.md; prior-art §n of docs/reference/prior-art.md; habit n of docs/reference/style.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The reference documents a citation can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Doc {
    MetaPlatform,
    Spec,
    PriorArt,
    Style,
}

impl Doc {
    fn path(self) -> &'static str {
        match self {
            Doc::MetaPlatform => "docs/reference/meta-platform.md",
            Doc::Spec => "docs/reference/spec.md",
            Doc::PriorArt => "docs/reference/prior-art.md",
            Doc::Style => "docs/reference/style.md",
        }
    }

    /// The word before `§` that names this document (`spec §4`, `meta-platform.md §1.3`).
    fn from_prefix(word: &str) -> Option<Doc> {
        match word {
            "spec" | "Spec" | "spec.md" => Some(Doc::Spec),
            "prior-art" | "prior-art.md" => Some(Doc::PriorArt),
            "meta-platform" | "meta-platform.md" => Some(Doc::MetaPlatform),
            _ => None,
        }
    }
}

/// One citation found in a line: the document and the section (or habit) number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Cite {
    doc: Doc,
    section: String,
}

/// The citations of one line. A bare `§n` is Meta's platform notes; a run such as
/// `spec §3, §5` keeps the document of its first member.
fn cites(line: &str) -> Vec<Cite> {
    let mut out = Vec::new();
    let mut last: Option<(Doc, usize)> = None;
    for (at, _) in line.match_indices('§') {
        let after = &line[at + '§'.len_utf8()..];
        let after = after.strip_prefix(' ').unwrap_or(after);
        let section = section_number(after);
        if section.is_empty() {
            continue;
        }
        let before = &line[..at];
        let word = before
            .trim_end_matches([' ', ','])
            .rsplit(|c: char| c.is_whitespace() || "(`[\"'".contains(c))
            .next()
            .unwrap_or("");
        // A markdown link names the file: `[spec](reference/spec.md) §1`.
        let word = word.trim_end_matches([')', ']', '`']).rsplit('/').next().unwrap_or("");
        // Another standard's numbering (`RFC 5280 §4.1.2.5.1`) is cited with its own name.
        if before.trim_end().strip_suffix(word).is_some_and(|b| b.trim_end().ends_with("RFC")) {
            last = None;
            continue;
        }
        let doc = match (Doc::from_prefix(word), last) {
            (Some(doc), _) => doc,
            (None, Some((doc, end))) if chained(&line[end..at]) => doc,
            _ => Doc::MetaPlatform,
        };
        let end = line.len() - after.len() + section.len();
        last = Some((doc, end));
        out.push(Cite { doc, section });
    }
    let mut rest = line;
    while let Some(i) = rest.find("habit ") {
        let number = section_number(&rest[i + "habit ".len()..]);
        if !number.is_empty() && !number.contains('.') {
            out.push(Cite { doc: Doc::Style, section: number });
        }
        rest = &rest[i + "habit ".len()..];
    }
    out
}

/// `8.3` of `8.3: token dead`, `14` of `14.`, nothing of `n`.
fn section_number(s: &str) -> String {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    digits.trim_end_matches('.').to_string()
}

/// What separates two members of one run of citations: `, `, ` and `, ` or `, `/`, `; `, a dash.
fn chained(gap: &str) -> bool {
    let gap = gap.trim();
    gap.len() <= 4 && matches!(gap, "," | "and" | "or" | "/" | ";" | "–" | "-" | "")
}

/// The section numbers a reference document has: `## 8. Errors` → `8`, `### 8.3 Code 190` →
/// `8.3`, and the numbered items of a section (`spec §5.4` is the fourth step of spec §5,
/// `§12.1` the first case of §12); for the style guide its numbered habits (`7. **Typed…`).
fn sections(doc: Doc) -> BTreeSet<String> {
    let text = read(&root().join(doc.path()));
    let mut out = BTreeSet::new();
    let mut current = String::new();
    for line in text.lines() {
        let item = section_number(line);
        if !item.is_empty()
            && !item.contains('.')
            && line[item.len()..].starts_with(". ")
            && !current.is_empty()
        {
            out.insert(format!("{current}.{item}"));
        }
        if doc == Doc::Style {
            if let Some((n, rest)) = line.split_once(". **") {
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty() {
                    out.insert(n.to_string());
                }
            }
        } else if line.starts_with('#') {
            let title = line.trim_start_matches('#').trim_start();
            let number = section_number(title);
            if !number.is_empty() {
                if line.starts_with("## ") {
                    current = number.clone();
                }
                out.insert(number);
            }
        }
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The files whose citations must resolve: the sources, tests and benchmarks, and the docs a
/// user reads (not the reference documents themselves, which cite Meta's own pages).
fn files() -> Vec<PathBuf> {
    let root = root();
    let mut out = Vec::new();
    for dir in ["src", "tests", "benches", "scripts", "docs"] {
        walk(&root.join(dir), &mut out);
    }
    out.push(root.join("README.md"));
    out.retain(|f| {
        !f.starts_with(root.join("docs/reference"))
            && !f.ends_with("src/citations.rs")
            && !f.starts_with(root.join("tests/snapshots"))
    });
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs" || x == "md") || path.extension().is_none() {
            out.push(path);
        }
    }
}

fn relative(file: &Path) -> String {
    file.strip_prefix(root()).unwrap_or(file).display().to_string()
}

#[test]
fn the_parser_reads_citations() {
    let table: &[(&str, &[(Doc, &str)])] = &[
        ("// §8.3: token dead", &[(Doc::MetaPlatform, "8.3")]),
        (
            "// (§8.1, §5.2, §2.2)",
            &[(Doc::MetaPlatform, "8.1"), (Doc::MetaPlatform, "5.2"), (Doc::MetaPlatform, "2.2")],
        ),
        ("// spec §3, §5", &[(Doc::Spec, "3"), (Doc::Spec, "5")]),
        ("// (spec §4), and then §14.", &[(Doc::Spec, "4"), (Doc::MetaPlatform, "14")]),
        ("// meta-platform.md §1.1, §4.3", &[(Doc::MetaPlatform, "1.1"), (Doc::MetaPlatform, "4.3")]),
        ("// prior-art §3: users ask", &[(Doc::PriorArt, "3")]),
        ("//! The Printer (habit 8, after uv)", &[(Doc::Style, "8")]),
        ("// a § alone, §n as a pattern", &[]),
        ("the kind of [spec](reference/spec.md) §1:", &[(Doc::Spec, "1")]),
        ("// 50–99 are 19xx (RFC 5280 §4.1.2.5.1), see §8", &[(Doc::MetaPlatform, "8")]),
    ];
    for (line, want) in table {
        let got: Vec<(Doc, String)> = cites(line).into_iter().map(|c| (c.doc, c.section)).collect();
        let want: Vec<(Doc, String)> = want.iter().map(|(d, s)| (*d, s.to_string())).collect();
        assert_eq!(got, want, "{line}");
    }
}

#[test]
fn every_cited_section_exists() {
    let known: Vec<(Doc, BTreeSet<String>)> = [Doc::MetaPlatform, Doc::Spec, Doc::PriorArt, Doc::Style]
        .into_iter()
        .map(|d| (d, sections(d)))
        .collect();
    assert!(known.iter().all(|(_, s)| s.len() > 5), "the reference documents' headings were not found");
    let mut missing = Vec::new();
    for file in files() {
        for (n, line) in read(&file).lines().enumerate() {
            for cite in cites(line) {
                let (_, have) = known.iter().find(|(d, _)| *d == cite.doc).expect("every doc is known");
                if !have.contains(&cite.section) {
                    missing.push(format!(
                        "{}:{}: {} has no section {}",
                        relative(&file),
                        n + 1,
                        cite.doc.path(),
                        cite.section
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "citations that lead nowhere:\n{}", missing.join("\n"));
}

#[test]
fn a_file_that_cites_a_document_names_it() {
    let mut unnamed = Vec::new();
    for file in files() {
        let text = read(&file);
        let docs: BTreeSet<Doc> = text.lines().flat_map(cites).map(|c| c.doc).collect();
        for doc in docs {
            // A doc in docs/ links the reference relatively (`reference/meta-platform.md`).
            let name = doc.path().trim_start_matches("docs/");
            if !text.contains(name) {
                unnamed.push(format!("{} cites {} without naming it", relative(&file), doc.path()));
            }
        }
    }
    assert!(unnamed.is_empty(), "add a `Citations:` line (docs/ARCHITECTURE.md):\n{}", unnamed.join("\n"));
}

#[test]
fn nothing_points_outside_the_repository() {
    let outside = ["../shared", "shared/spec", "shared/reference", "shared/STYLE"];
    let issue_words = ["issue ", "Issue ", "issues "];
    let mut found = Vec::new();
    for file in files() {
        for (n, line) in read(&file).lines().enumerate() {
            if let Some(path) = outside.iter().find(|p| line.contains(*p)) {
                found.push(format!("{}:{}: cites {path}", relative(&file), n + 1));
            }
            // "issue 12" means an issue of this project's tracker, which a checkout doesn't hold;
            // a GitHub issue is cited by its URL (`…/issues/12`) or as `owner/repo#12`.
            if file.extension().is_some_and(|x| x == "rs") {
                for word in issue_words {
                    for (at, _) in line.match_indices(word) {
                        let rest = &line[at + word.len()..];
                        if rest.trim_start_matches('#').starts_with(|c: char| c.is_ascii_digit()) {
                            found.push(format!("{}:{}: cites an issue number", relative(&file), n + 1));
                        }
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "cite the repository's docs or Meta's URLs instead:\n{}", found.join("\n"));
}
