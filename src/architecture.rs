//! The "nevers" of `docs/ARCHITECTURE.md`, checked by reading the source: which module may
//! name which. A dependency is any `crate::<module>` path outside a comment (in a `use` or
//! inline), or a `super::` path that climbs out of its top-level module.
//!
//! To add a rule: add a test below naming the module, what it may never use, and why (the
//! paragraph in ARCHITECTURE.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One source file: its module path (`["cmd", "diagnose", "collect"]`) and the top-level
/// modules it names besides its own.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    uses: BTreeSet<String>,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/` but this one (whose tests quote imports).
fn sources() -> Vec<Source> {
    let root = src_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.retain(|f| !f.ends_with("architecture.rs"));
    let tops = top_level_modules(&files, &root);
    files
        .into_iter()
        .map(|file| {
            let module = module_path(&file, &root);
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let mut uses = names(&text, &module, &tops);
            if let Some(own) = module.first() {
                uses.remove(own);
            }
            Source { file, module, uses }
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.map(|e| e.path()).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `src/a.rs` and `src/a/mod.rs` → `["a"]`, `src/a/b.rs` → `["a", "b"]`, `src/lib.rs` → `[]`.
fn module_path(file: &Path, root: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn top_level_modules(files: &[PathBuf], root: &Path) -> BTreeSet<String> {
    files.iter().filter_map(|f| module_path(f, root).first().cloned()).collect()
}

/// The top-level modules a file names: `crate::x`, `crate::{x, y::z}`, and `super::…::x` paths
/// that climb to the crate root.
fn names(text: &str, module: &[String], tops: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = strip_comment(line);
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + "crate::".len()..];
            // `$crate::` in macros and identifiers ending in "crate" are not paths of sq.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    out.insert(ident(item.trim()));
                }
            } else {
                out.insert(ident(rest));
            }
        }
        // `super::` from a file at depth d reaches the crate root after d climbs (inline
        // `mod tests` blocks add a level, so only names of top-level modules count).
        let mut rest = code;
        while let Some(i) = rest.find("super::") {
            rest = &rest[i..];
            let mut climbs = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                climbs += 1;
                rest = r;
            }
            if climbs >= module.len() {
                let name = ident(rest);
                if tops.contains(&name) {
                    out.insert(name);
                }
            }
        }
    }
    out.retain(|n| !n.is_empty() && n != "self");
    out
}

fn ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// The line without its `//` comment (doc comments included); a `//` inside a string literal
/// (an URL) is kept.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Files under `src/<dir>/` (or `src/<dir>.rs`) that name any of `forbidden`, with what they
/// name.
fn violations(dir: &str, forbidden: &dyn Fn(&str) -> bool) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|s| s.module.first().map(String::as_str) == Some(dir))
        .filter_map(|s| {
            let bad: Vec<&str> = s.uses.iter().map(String::as_str).filter(|m| forbidden(m)).collect();
            (!bad.is_empty()).then(|| {
                let file = s.file.strip_prefix(src_dir()).unwrap_or(&s.file).display().to_string();
                format!("src/{file} uses {}", bad.join(", "))
            })
        })
        .collect()
}

#[track_caller]
fn assert_none(what: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{what}:\n  {}", found.join("\n  "));
}

/// The top-level module graph: module → modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in sources() {
        let Some(top) = s.module.first() else { continue };
        g.entry(top.clone()).or_default().extend(s.uses);
    }
    g
}

fn reachable(g: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for next in g.get(&m).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn the_checker_sees_imports() {
    let tops: BTreeSet<String> = ["cli", "cmd", "model"].iter().map(|s| s.to_string()).collect();
    let module = vec![String::from("cmd"), String::from("diagnose")];
    let text = "use crate::model::Network;\n\
                use crate::{cli::Cli, ctx};\n\
                let x = crate::output::sanitize(\"a // b crate::db\"); // crate::store\n\
                /// crate::settings in a doc comment\n\
                use super::super::cli::Cli;\n\
                use super::collect;\n\
                $crate::error::x; mycrate::meta::y;";
    let got: Vec<String> = names(text, &module, &tops).into_iter().collect();
    // The string literal's "crate::db" counts: better a false alarm than a missed import.
    assert_eq!(got, ["cli", "ctx", "db", "model", "output"]);
    assert_eq!(module_path(Path::new("/s/cmd/diagnose/mod.rs"), Path::new("/s")), ["cmd", "diagnose"]);
    assert_eq!(module_path(Path::new("/s/lib.rs"), Path::new("/s")), Vec::<String>::new());
    // The real tree is found: the engine names the model.
    assert!(sources().iter().any(|s| s.module == ["diagnose", "engine"] && s.uses.contains("model")));
}

/// The engine is pure: facts in, findings out. It knows the model and nothing that does I/O,
/// renders, or knows the command line.
#[test]
fn diagnose_uses_only_the_model() {
    assert_none("src/diagnose/ may use only crate::model", violations("diagnose", &|m| m != "model"));
}

/// The model (network, profile kinds, the classifier) is the leaf every layer shares.
#[test]
fn model_uses_nothing_else() {
    assert_none("src/model/ may use nothing of sq outside itself", violations("model", &|_| true));
}

/// `cli` knows the commands; the commands never reach back to `cli`, directly or through
/// another module.
#[test]
fn no_command_reaches_the_command_line() {
    let g = graph();
    for m in ["cmd", "ctx", "settings"] {
        assert!(!reachable(&g, m).contains("cli"), "{m} reaches cli: {:?}", g.get(m));
    }
    let users: Vec<String> = g
        .iter()
        .filter(|(m, uses)| uses.contains("cli") && !matches!(m.as_str(), "docs"))
        .map(|(m, _)| m.clone())
        .collect();
    assert!(users.is_empty(), "only the crate root and docs may use cli, not {users:?}");
}

/// The sandbox is Meta's stand-in: if it shared the client's types, a misread field would agree
/// with itself and every test would pass against a Meta that doesn't exist.
#[test]
fn sandbox_does_not_use_the_client() {
    assert_none("src/sandbox/ must not use crate::meta", violations("sandbox", &|m| m == "meta"));
}

/// The client, the OAuth flow, the stores and the database return their own errors; the
/// user's error, its hints and the screen are the commands'.
fn knows_the_screen(m: &str) -> bool {
    matches!(m, "error" | "output" | "cmd")
}

#[test]
fn meta_does_not_know_the_screen() {
    assert_none("src/meta/ must not use error, output or cmd", violations("meta", &knows_the_screen));
}

#[test]
fn auth_does_not_know_the_screen() {
    assert_none("src/auth/ must not use error, output or cmd", violations("auth", &knows_the_screen));
}

#[test]
fn store_does_not_know_the_screen() {
    assert_none("src/store/ must not use error, output or cmd", violations("store", &knows_the_screen));
}

#[test]
fn db_does_not_know_the_screen() {
    assert_none("src/db/ must not use error, output or cmd", violations("db", &knows_the_screen));
}

/// Data flows one way: no top-level module reaches itself through its imports (the user's
/// error knows the modules' errors, never the other way round).
#[test]
fn top_level_modules_have_no_cycle() {
    let cyclic = on_a_cycle();
    assert!(cyclic.is_empty(), "modules on an import cycle: {cyclic:?}");
}

/// The top-level modules that reach themselves through their imports.
fn on_a_cycle() -> Vec<String> {
    let g = graph();
    g.keys().filter(|m| reachable(&g, m).contains(*m)).cloned().collect()
}

/// The login flow lives beside the commands that share it (gh's `pkg/cmd/auth/shared`):
/// `cmd::login`, used by `token`, `reauth` and `refresh`, and no top-level `connect`.
#[test]
fn the_login_flow_lives_beside_its_commands() {
    let root = src_dir();
    assert!(!root.join("connect.rs").exists(), "src/connect.rs is back at the top level");
    for (file, what) in [
        ("cmd/token.rs", "login::"),
        ("cmd/reauth.rs", "flow::authorize_and_exchange"),
        ("cmd/refresh.rs", "login::"),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(text.contains(what), "{file} uses the shared login code ({what})");
    }
}
