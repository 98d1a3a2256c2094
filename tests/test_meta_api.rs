//! docs/meta-api.md and `src/meta/catalog.rs` list the same requests: every request the client
//! can build is in the catalog (debug builds refuse to send any other, see the catalog's module
//! doc), and this test holds the catalog and the table in step both ways, row by row. Literal
//! paths in the request builders are checked against the catalog here too, so a builder that no
//! test happens to run can't be missed.
#![allow(clippy::unwrap_used)]

use sq::meta::catalog::{CATALOG, Endpoint, TokenIn, find};
use sq::meta::{Host, Method};
use std::collections::BTreeMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One row of the table, by column name.
type Row = BTreeMap<String, String>;

/// The rows of the table under `## Requests` in docs/meta-api.md.
fn table_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("docs/meta-api.md")).unwrap();
    let section = text.split("\n## Requests\n").nth(1).expect("a `## Requests` section");
    let section = section.split("\n## ").next().unwrap();
    let mut lines = section.lines().map(str::trim).filter(|l| l.starts_with('|'));
    let cells = |l: &str| -> Vec<String> {
        l.trim_matches('|').split(" | ").map(|c| c.trim().trim_matches('|').trim().to_string()).collect()
    };
    let header = cells(lines.next().expect("a header row"));
    assert_eq!(
        header,
        ["id", "method", "host", "version", "path", "parameters", "token", "reads", "doc", "status"],
        "the table's columns"
    );
    lines
        .skip(1) // |---|
        .map(|l| {
            let c = cells(l);
            assert_eq!(c.len(), header.len(), "a row with {} cells: {l}", c.len());
            header.iter().cloned().zip(c).collect()
        })
        .collect()
}

fn unquote(s: &str) -> &str {
    s.trim_matches('`')
}

fn method_name(m: Method) -> &'static str {
    m.as_str()
}

fn version_of(e: &Endpoint) -> &'static str {
    match e.host {
        Host::InstagramWww | Host::InstagramApi | Host::Threads => "none",
        _ if matches!(e.path, "access_token" | "refresh_access_token" | "oauth/access_token")
            && e.host != Host::FacebookGraph =>
        {
            "none"
        }
        Host::ThreadsGraph => "v1.0",
        _ => "graph",
    }
}

#[test]
fn the_table_and_the_catalog_list_the_same_requests() {
    let rows = table_rows();
    let mut problems = Vec::new();
    let by_id: BTreeMap<&str, &Row> = rows.iter().map(|r| (unquote(&r["id"]), r)).collect();
    assert_eq!(by_id.len(), rows.len(), "duplicate ids in docs/meta-api.md");
    for e in CATALOG {
        let Some(row) = by_id.get(e.id) else {
            problems.push(format!("{}: in src/meta/catalog.rs, not in docs/meta-api.md", e.id));
            continue;
        };
        let path = if e.path.is_empty() { "(root)".to_string() } else { format!("`{}`", e.path) };
        let want = [
            ("method", method_name(e.method).to_string()),
            ("host", e.host.name().to_string()),
            ("version", version_of(e).to_string()),
            ("path", path),
        ];
        for (col, v) in want {
            if row[col] != v {
                problems
                    .push(format!("{}: {col} is {:?} in the table, {v:?} in the catalog", e.id, row[col]));
            }
        }
        let token = row["token"].split_whitespace().next().unwrap_or("");
        if token != e.token.word() {
            problems.push(format!(
                "{}: token is {token:?} in the table, {:?} in the catalog",
                e.id,
                e.token.word()
            ));
        }
    }
    for id in by_id.keys() {
        if !CATALOG.iter().any(|e| e.id == *id) {
            problems.push(format!("{id}: in docs/meta-api.md, not in src/meta/catalog.rs"));
        }
    }
    for r in &rows {
        let id = unquote(&r["id"]);
        if !r["doc"].starts_with("https://developers.facebook.com/") {
            problems.push(format!("{id}: the doc column must be Meta's doc page URL, not {:?}", r["doc"]));
        }
        let status = &r["status"];
        let first = status.split([';', ' ', '(']).next().unwrap_or("");
        if !["documented", "observed", "assumption"].contains(&first) {
            problems.push(format!("{id}: status {status:?} is not documented / observed / assumption"));
        }
        // Every "observed" claim carries its evidence: a link or the § of meta-platform.md.
        for part in status.split(';') {
            if part.contains("observed") && !(part.contains("https://") || part.contains('§')) {
                problems.push(format!("{id}: {part:?} says observed without a link"));
            }
        }
    }
    assert!(problems.is_empty(), "docs/meta-api.md and src/meta/catalog.rs differ:\n{}", problems.join("\n"));
}

/// The request builders' literal paths (`.request(Method::Get, Host::FacebookGraph, "me")`) each
/// fit a catalog entry; paths built with `format!` are checked when sent (every test run).
#[test]
fn literal_request_paths_are_in_the_catalog() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for dir in ["src/meta", "src/cmd", "src/cmd/diagnose", "src/publish", "src"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for call in ["request(Method::", "request_unversioned(Method::"] {
                for (at, _) in code.match_indices(call) {
                    let rest = &code[at + call.len()..];
                    let args: Vec<&str> = rest.split(')').next().unwrap().split(',').map(str::trim).collect();
                    let [m, h, p] = args[..] else { continue };
                    let (Some(method), Some(host), Some(lit)) = (
                        match m {
                            "Get" => Some(Method::Get),
                            "Post" => Some(Method::Post),
                            "Delete" => Some(Method::Delete),
                            _ => None,
                        },
                        h.strip_prefix("Host::")
                            .and_then(|h| Host::ALL.into_iter().find(|x| format!("{x:?}") == h)),
                        p.strip_prefix('"').and_then(|p| p.strip_suffix('"')),
                    ) else {
                        continue;
                    };
                    checked += 1;
                    let any = [TokenIn::Header, TokenIn::Query, TokenIn::None, TokenIn::Form]
                        .into_iter()
                        .any(|t| !find(method, host, lit, t).is_empty());
                    if !any {
                        problems.push(format!("{}: {m} {} {lit}", path.display(), host.name()));
                    }
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} literal request paths found: has the builder call changed shape?");
    assert!(problems.is_empty(), "request paths missing from src/meta/catalog.rs:\n{}", problems.join("\n"));
}
