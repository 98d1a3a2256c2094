#![allow(clippy::unwrap_used)] // a test that cannot set up should panic loudly
//! The SQLite layer: migrations, the repository, reference resolution, and two sq processes
//! writing at once.

use crate::common::test_name;
use sq::db::{Db, DbError, LoginKind, NewConnection, NewProfile, schema};
use sq::error::{Error, Kind};
use sq::model::Network;
use sq::model::Via;
use sq::settings::StoreKind;
use sq::store::Account;
use std::path::Path;

fn fb_connection(user: &str) -> NewConnection {
    NewConnection {
        network: Network::Facebook,
        meta_user_id: user.to_string(),
        app_id: "app1".to_string(),
        name: Some("Dana".to_string()),
        scopes: vec!["pages_manage_posts".to_string(), "pages_show_list".to_string()],
        declined_scopes: vec!["business_management".to_string()],
        token_expires_at: None,
        data_access_expires_at: Some(1_800_000_000),
        issued_at: Some(1_700_000_000),
        login_kind: LoginKind::FacebookLogin,
    }
}

fn page(id: &str, name: &str) -> NewProfile {
    NewProfile {
        kind: Network::Facebook,
        remote_id: id.to_string(),
        name: name.to_string(),
        username: None,
        page_id: None,
        via: Via::Page,
        tasks: Some(vec!["MANAGE".to_string(), "CREATE_CONTENT".to_string()]),
        token_store: Some(StoreKind::Keyring),
        token_expires_at: None,
        token_masked: None,
    }
}

fn ig_via_page(id: &str, username: &str, page_id: &str) -> NewProfile {
    NewProfile {
        kind: Network::Instagram,
        remote_id: id.to_string(),
        name: String::new(),
        username: Some(username.to_string()),
        page_id: Some(page_id.to_string()),
        via: Via::Page,
        tasks: None,
        token_store: Some(StoreKind::Keyring),
        token_expires_at: None,
        token_masked: None,
    }
}

fn threads_connection(user: &str) -> NewConnection {
    NewConnection {
        network: Network::Threads,
        meta_user_id: user.to_string(),
        app_id: "th-app".to_string(),
        name: None,
        scopes: vec!["threads_basic".into(), "threads_content_publish".into()],
        declined_scopes: vec![],
        token_expires_at: Some(1_705_000_000),
        data_access_expires_at: None,
        issued_at: Some(1_700_000_000),
        login_kind: LoginKind::Threads,
    }
}

fn threads_profile(id: &str, username: &str) -> NewProfile {
    NewProfile {
        kind: Network::Threads,
        remote_id: id.to_string(),
        name: String::new(),
        username: Some(username.to_string()),
        page_id: None,
        via: Via::Threads,
        tasks: None,
        token_store: Some(StoreKind::File),
        token_expires_at: Some(1_705_000_000),
        token_masked: None,
    }
}

#[test]
fn migrations_from_empty_and_idempotent_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("sq.db");
    let db = Db::open(&path).unwrap();
    assert_eq!(db.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
    assert_eq!(db.integrity_check().unwrap(), "ok");
    drop(db);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("data")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "data dir is private");
    }

    let mut db = Db::open(&path).unwrap();
    db.replace_connection_profiles(&fb_connection("u1"), &[page("777", "Acme Bakery")], 10).unwrap();
    drop(db);
    let started = std::time::Instant::now();
    let db = Db::open(&path).unwrap();
    let opened_in = started.elapsed();
    assert_eq!(db.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
    assert_eq!(db.list_profiles().unwrap().len(), 1, "reopening keeps the data");
    eprintln!("reopening an up-to-date database took {opened_in:?}");

    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_newer_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    Db::open(&path).unwrap();
    rusqlite::Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
    let err = Db::open(&path).err().unwrap();
    assert!(matches!(err, DbError::TooNew { found: 99, .. }), "{err:?}");
    assert!(err.to_string().contains("newer sq"), "{err}");
    let e = Error::from(err);
    assert_eq!(e.code, "db_too_new");
    let v: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 99);
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let err = Db::open(&path).err().unwrap();
    assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
    assert_eq!(Error::from(err).code, "db_corrupt");
}

#[test]
fn rows_round_trip_with_their_connection() {
    let mut db = Db::open_in_memory().unwrap();
    let r = db
        .replace_connection_profiles(
            &fb_connection("u1"),
            &[page("777", "Acme Bakery"), ig_via_page("1789", "acme.bakes", "777")],
            100,
        )
        .unwrap();
    assert_eq!(r.kept, vec!["facebook:777", "instagram:1789"]);
    assert!(r.removed.is_empty());

    let all = db.list_profiles().unwrap();
    assert_eq!(all.len(), 2);
    let fb = &all[0];
    assert_eq!(fb.profile.reference(), "facebook:777");
    assert_eq!(fb.profile.page_id.as_deref(), Some("777"), "a Page is its own page");
    assert_eq!(fb.profile.tasks.as_deref(), Some(&["MANAGE".to_string(), "CREATE_CONTENT".to_string()][..]));
    assert_eq!(fb.profile.token_store, Some(StoreKind::Keyring));
    assert_eq!(fb.connection.scopes, vec!["pages_manage_posts", "pages_show_list"]);
    assert_eq!(fb.connection.declined_scopes, vec!["business_management"]);
    assert_eq!(fb.connection.data_access_expires_at, Some(1_800_000_000));
    assert_eq!(fb.connection.login_kind, LoginKind::FacebookLogin);
    assert_eq!(fb.connection.created_at, 100);
    assert_eq!(fb.profile.token_account(&fb.connection), Account::page("777"));
    assert_eq!(fb.connection.token_account(), Account::user(Network::Facebook, "u1"));

    let ig = &all[1];
    assert_eq!(ig.profile.display_name(), "@acme.bakes");
    assert_eq!(
        ig.profile.token_account(&ig.connection),
        Account::page("777"),
        "IG via Page uses the Page token"
    );

    let tid = db.upsert_connection(&threads_connection("t9"), 100).unwrap();
    db.upsert_profile(tid, &threads_profile("555", "acme"), 100).unwrap();
    let th = db.resolve("threads:555").unwrap();
    assert_eq!(th.profile.token_account(&th.connection), Account::user(Network::Threads, "t9"));
    assert_eq!(th.connection.token_expires_at, Some(1_705_000_000));

    assert_eq!(th.connection.last_verified_at, None);
    assert!(db.mark_verified(tid, 200).unwrap());
    assert_eq!(db.connection(tid).unwrap().unwrap().last_verified_at, Some(200));
    assert!(!db.mark_verified(9999, 200).unwrap());

    // Updating a connection keeps its id and creation time.
    let mut again = threads_connection("t9");
    again.scopes.push("threads_manage_insights".into());
    assert_eq!(db.upsert_connection(&again, 300).unwrap(), tid);
    let c = db.connection(tid).unwrap().unwrap();
    assert_eq!((c.created_at, c.updated_at, c.scopes.len()), (100, 300, 3));
    assert_eq!(db.connections().unwrap().len(), 2);

    assert!(db.remove_profile(Network::Threads, "555").unwrap());
    assert!(!db.remove_profile(Network::Threads, "555").unwrap());
}

#[test]
fn reference_resolution() {
    let mut db = Db::open_in_memory().unwrap();
    db.replace_connection_profiles(
        &fb_connection("u1"),
        &[
            page("777", "Acme Bakery"),
            page("778", "Twin"),
            page("779", "twin"),
            page("780", "Café Élan"),
            ig_via_page("1789", "acme.bakes", "777"),
        ],
        1,
    )
    .unwrap();
    let tid = db.upsert_connection(&threads_connection("t9"), 1).unwrap();
    db.upsert_profile(tid, &threads_profile("555", "Acme.Bakes"), 1).unwrap();

    enum Want {
        Ok(&'static str),
        Unknown,
        Ambiguous(&'static [&'static str]),
    }
    let table: &[(&str, Want)] = &[
        ("facebook:777", Want::Ok("facebook:777")),
        ("FACEBOOK:777", Want::Ok("facebook:777")),
        ("instagram:1789", Want::Ok("instagram:1789")),
        ("threads:555", Want::Ok("threads:555")),
        ("facebook:1789", Want::Unknown),
        ("acme bakery", Want::Ok("facebook:777")),
        ("  ACME BAKERY ", Want::Ok("facebook:777")),
        ("café élan", Want::Ok("facebook:780")),
        ("CAFÉ ÉLAN", Want::Ok("facebook:780")),
        ("twin", Want::Ambiguous(&["facebook:778", "facebook:779"])),
        ("acme.bakes", Want::Ambiguous(&["instagram:1789", "threads:555"])),
        ("@acme.bakes", Want::Ambiguous(&["instagram:1789", "threads:555"])),
        ("nobody", Want::Unknown),
        ("", Want::Unknown),
        ("myspace:1", Want::Unknown),
    ];
    for (input, want) in table {
        let got = db.resolve(input);
        match (want, got) {
            (Want::Ok(r), Ok(p)) => assert_eq!(&p.profile.reference(), r, "{input:?}"),
            (Want::Unknown, Err(e @ DbError::UnknownProfile { .. })) => {
                let e = Error::from(e);
                assert_eq!(e.kind, Kind::Usage, "{input:?}");
                assert!(e.hints.iter().any(|h| h.contains("sq profiles")), "{input:?}: {e:?}");
            }
            (Want::Ambiguous(refs), Err(e @ DbError::AmbiguousProfile { .. })) => {
                let e = Error::from(e);
                assert_eq!(e.kind, Kind::Usage, "{input:?}");
                for r in *refs {
                    assert!(e.message.contains(r), "{input:?}: {}", e.message);
                    assert!(e.hints[0].contains(r), "{input:?}: {:?}", e.hints);
                }
            }
            (_, got) => panic!("{input:?}: unexpected {got:?}"),
        }
    }
}

#[test]
fn replace_switches_the_profile_set_in_one_transaction() {
    let mut db = Db::open_in_memory().unwrap();
    db.replace_connection_profiles(&fb_connection("u1"), &[page("1", "A"), page("2", "B")], 1).unwrap();

    // Reauth: B stays, C is new, A is gone.
    let mut conn = fb_connection("u1");
    conn.scopes.push("instagram_content_publish".into());
    let r = db.replace_connection_profiles(&conn, &[page("2", "B renamed"), page("3", "C")], 2).unwrap();
    assert_eq!(r.removed, vec!["facebook:1"]);
    assert_eq!(r.kept, vec!["facebook:2", "facebook:3"]);
    let refs: Vec<String> = db.list_profiles().unwrap().iter().map(|p| p.profile.reference()).collect();
    assert_eq!(refs, vec!["facebook:2", "facebook:3"]);
    assert_eq!(db.resolve("facebook:2").unwrap().profile.name, "B renamed");
    assert_eq!(db.resolve("facebook:2").unwrap().profile.created_at, 1, "an updated profile keeps its row");

    // A profile that breaks a constraint halfway: nothing of this call lands.
    let mut broken = ig_via_page("9", "x", "3");
    broken.page_id = None; // via page without a page: rejected by the schema
    let mut conn2 = fb_connection("u1");
    conn2.scopes = vec!["changed".into()];
    let err = db.replace_connection_profiles(&conn2, &[page("4", "D"), broken], 3);
    assert!(err.is_err());
    let refs: Vec<String> = db.list_profiles().unwrap().iter().map(|p| p.profile.reference()).collect();
    assert_eq!(refs, vec!["facebook:2", "facebook:3"], "rolled back");
    assert_eq!(db.resolve("facebook:2").unwrap().connection.scopes.len(), 3, "connection not changed either");

    // A Page reconnected by another user moves to that user's connection.
    let r = db.replace_connection_profiles(&fb_connection("u2"), &[page("3", "C")], 4).unwrap();
    assert!(r.removed.is_empty());
    assert_eq!(db.resolve("facebook:3").unwrap().connection.meta_user_id, "u2");
    assert_eq!(db.resolve("facebook:2").unwrap().connection.meta_user_id, "u1");
}

#[test]
fn a_connection_with_profiles_cant_vanish_under_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    let mut db = Db::open(&path).unwrap();
    let r = db.replace_connection_profiles(&fb_connection("u1"), &[page("1", "A")], 1).unwrap();
    drop(db);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    assert!(raw.execute("DELETE FROM connections WHERE id = ?1", [r.connection_id]).is_err());
}

#[test]
fn no_secret_columns() {
    let db_dir = tempfile::tempdir().unwrap();
    let path = db_dir.path().join("sq.db");
    Db::open(&path).unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = raw
        .prepare(
            "SELECT t.name, c.name FROM sqlite_master t, pragma_table_info(t.name) c WHERE t.type = 'table'",
        )
        .unwrap();
    let cols: Vec<String> =
        stmt.query_map([], |r| r.get::<_, String>(1)).unwrap().map(Result::unwrap).collect();
    for c in &cols {
        let c = c.to_lowercase();
        // token_masked (V4) holds `Secret::masked` only: checked in masks_never_hold_a_token.
        let allowed = c == "token_expires_at" || c == "token_store" || c == "token_masked";
        assert!(
            allowed || !(c.contains("token") || c.contains("secret") || c.contains("mask")),
            "column {c}"
        );
    }
}

fn hammer(path: &Path, writer: usize, rounds: usize) {
    let mut db = Db::open(path).unwrap();
    let conn = fb_connection(&format!("user{writer}"));
    for i in 0..rounds {
        let profiles: Vec<NewProfile> = (0..=i % 3)
            .map(|j| page(&format!("{writer}-{i}-{j}"), &format!("Page {writer} {i} {j}")))
            .collect();
        // Alternate the one-transaction replace and single upserts.
        if i % 2 == 0 {
            db.replace_connection_profiles(&conn, &profiles, i as i64).unwrap();
        } else {
            let id = db.upsert_connection(&conn, i as i64).unwrap();
            db.upsert_profile(id, &page(&format!("{writer}-extra-{i}"), "extra"), i as i64).unwrap();
        }
        db.list_profiles().unwrap();
    }
    // The last state this writer left: its final replace plus the extra after it.
    let id = db.upsert_connection(&conn, 0).unwrap();
    db.upsert_profile(id, &page(&format!("{writer}-final"), "final"), 0).unwrap();
}

#[test]
fn two_writers_on_one_file_corrupt_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    // Both start on a database that doesn't exist yet, so they race on the migration too.
    let writers = 3;
    let rounds = 60;
    std::thread::scope(|s| {
        for w in 0..writers {
            let path = &path;
            s.spawn(move || hammer(path, w, rounds));
        }
    });
    let db = Db::open(&path).unwrap();
    assert_eq!(db.integrity_check().unwrap(), "ok");
    assert_eq!(db.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
    assert_eq!(db.connections().unwrap().len(), writers);
    for w in 0..writers {
        assert!(db.find_profile(Network::Facebook, &format!("{w}-final")).unwrap().is_some(), "writer {w}");
        // Its last replace (round 58) left 58 % 3 + 1 = 2 pages, then round 59 added one extra.
        let last = rounds - 2;
        for j in 0..=last % 3 {
            assert!(db.find_profile(Network::Facebook, &format!("{w}-{last}-{j}")).unwrap().is_some());
        }
        assert!(db.find_profile(Network::Facebook, &format!("{w}-extra-{}", rounds - 1)).unwrap().is_some());
    }
}

#[test]
fn two_processes_on_one_file() {
    // The same hammer from two real processes: this test binary run again as children.
    if let Ok(spec) = std::env::var("SQ_TEST_DB_CHILD") {
        let (path, writer) = spec.split_once('|').unwrap();
        hammer(Path::new(path), writer.parse().unwrap(), 40);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    let children: Vec<_> = (0..2)
        .map(|w| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    &test_name(module_path!(), "two_processes_on_one_file"),
                    "--test-threads=1",
                ])
                .env("SQ_TEST_DB_CHILD", format!("{}|{w}", path.display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let db = Db::open(&path).unwrap();
    assert_eq!(db.integrity_check().unwrap(), "ok");
    for w in 0..2 {
        assert!(db.find_profile(Network::Facebook, &format!("{w}-final")).unwrap().is_some(), "writer {w}");
    }
}

/// A database at V3 (as main shipped it) opens at V4 with its profiles intact; their masks are
/// NULL (they are masked from the store until saved again) and a new save fills them.
#[test]
fn migration_from_v3_keeps_profiles_and_adds_masks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    {
        let mut raw = rusqlite::Connection::open(&path).unwrap();
        let tx = raw.transaction().unwrap();
        for step in &schema::MIGRATIONS[..3] {
            tx.execute_batch(step).unwrap();
        }
        tx.execute_batch("PRAGMA user_version = 3").unwrap();
        tx.execute(
            "INSERT INTO connections (network, meta_user_id, app_id, login_kind, created_at, updated_at)
             VALUES ('facebook', 'u1', '111', 'facebook_login', 1, 1)",
            [],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO profiles (kind, remote_id, name, connection_id, page_id, via, created_at, updated_at)
             VALUES ('facebook', '777', 'Acme', 1, '777', 'page', 1, 1)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let mut db = Db::open(&path).unwrap();
    assert_eq!(db.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
    let rows = db.list_profiles().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].profile.name, "Acme");
    assert_eq!(rows[0].profile.token_masked, None);

    let mut p = page("777", "Acme");
    p.token_masked = Some(sq::secret::Secret::new("EAAGabcdefghijklmnopqrstuvwxyz0123tHlk").masked());
    db.replace_connection_profiles(&fb_connection("u1"), &[p], 20).unwrap();
    let rows = db.list_profiles().unwrap();
    assert_eq!(rows[0].profile.token_masked.as_deref(), Some("EAAG…tHlk"));
}

/// A database at V4 with a queue opens at the latest schema (V5's indexes, then V6's line)
/// with every post and history row as it was, published and canceled posts closed when they
/// finished, the old indexes gone, the new ones in use, and the file sound.
#[test]
fn migration_to_the_queue_line_keeps_every_post() {
    use sq::db::queue::{PostFilter, PostState};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    let dump = crate::common::world::queue_rows;
    let before = {
        let mut raw = rusqlite::Connection::open(&path).unwrap();
        let tx = raw.transaction().unwrap();
        for step in &schema::MIGRATIONS[..4] {
            tx.execute_batch(step).unwrap();
        }
        tx.execute_batch("PRAGMA user_version = 4").unwrap();
        let states = ["queued", "published", "failed", "unknown", "canceled", "queued"];
        for i in 0..600i64 {
            let state = states[i as usize % states.len()];
            tx.execute(
                "INSERT INTO posts (profile, network, text, original_at, scheduled_at, state, error_class, finished_at,
                     created_at, updated_at)
                 VALUES (?1, 'facebook', ?2, ?3, ?3, ?4, CASE WHEN ?4 = 'failed' THEN 'auth' END,
                     CASE WHEN ?4 IN ('published', 'failed', 'canceled') THEN ?3 + 10 END, 1, 1)",
                rusqlite::params![format!("facebook:{}", 777 + i % 3), format!("post {i}"), 1000 + i, state],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO post_history (post_id, at, event, to_state) VALUES (?1, 1, 'added', 'queued')",
                [i + 1],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        dump(&raw)
    };
    assert_eq!(before.len(), 1200);

    let db = Db::open(&path).unwrap();
    assert_eq!(db.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
    assert_eq!(db.integrity_check().unwrap(), "ok");
    drop(db);
    let raw = rusqlite::Connection::open(&path).unwrap();
    // Every row as it was, with the new column last: closed when it finished for published
    // and canceled posts, in line (NULL) for every other.
    let after: Vec<String> = dump(&raw)
        .into_iter()
        .map(|row| match row.strip_prefix("posts: ") {
            Some(cols) => {
                let (kept, closed) = cols.rsplit_once(" | ").unwrap();
                let finished = kept.split(" | ").nth(23).unwrap();
                let state = kept.split(" | ").nth(8).unwrap();
                let expect = if matches!(state, "Text(\"published\")" | "Text(\"canceled\")") {
                    finished.to_string()
                } else {
                    "Null".to_string()
                };
                assert_eq!(closed, expect, "closed_at of {kept}");
                format!("posts: {kept}")
            }
            None => row,
        })
        .collect();
    assert_eq!(after, before, "the migration changed a row");
    let indexes: Vec<String> = raw
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'posts' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(indexes, ["posts_in_flight", "posts_line"]);
    let plan = |sql: &str| -> String {
        raw.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
            .join("; ")
    };
    // The per-profile head of line and the failed posts by profile take the line, in its
    // order; a claim's look for a post being published or reconciled takes the small index.
    let head = plan(
        "SELECT id FROM posts WHERE closed_at IS NULL AND profile = 'facebook:777' AND state = 'queued'
         ORDER BY original_at, id LIMIT 1",
    );
    assert!(head.contains("posts_line (profile=?)") && !head.contains("TEMP B-TREE"), "{head}");
    let failed = plan(
        "SELECT profile, count(*) FROM posts WHERE closed_at IS NULL AND state = 'failed' GROUP BY profile",
    );
    assert!(failed.contains("posts_line") && !failed.contains("TEMP B-TREE"), "{failed}");
    let busy =
        plan("SELECT EXISTS (SELECT 1 FROM posts WHERE profile = 'facebook:777' AND state = 'publishing')");
    assert!(busy.contains("COVERING INDEX posts_in_flight (state=? AND profile=?)"), "{busy}");
    let unknown = plan(
        "SELECT id FROM posts WHERE profile = 'facebook:777' AND state = 'unknown' ORDER BY original_at, id LIMIT 1",
    );
    assert!(
        unknown.contains("posts_in_flight (state=? AND profile=?)") && !unknown.contains("TEMP B-TREE"),
        "{unknown}"
    );

    // A post in line can't be closed; a closed one can be written only as published or canceled.
    let refused = raw.execute("UPDATE posts SET closed_at = 5 WHERE state = 'queued'", []);
    assert!(refused.unwrap_err().to_string().contains("CHECK constraint failed"));

    let db = Db::open(&path).unwrap();
    let queued = db.list_posts(&PostFilter { states: vec![PostState::Queued], profiles: vec![] }).unwrap();
    assert_eq!(queued.len(), 200);
    let failed = db
        .list_posts(&PostFilter { states: vec![PostState::Failed], profiles: vec!["facebook:779".into()] })
        .unwrap();
    assert_eq!(failed.len(), 100);
    assert!(failed.windows(2).all(|w| (w[0].scheduled_at, w[0].id) < (w[1].scheduled_at, w[1].id)));
    let published =
        db.list_posts(&PostFilter { states: vec![PostState::Published], profiles: vec![] }).unwrap();
    assert_eq!(published.len(), 100);
}

/// The requeue's answer is in line order (profile as SQLite compares text, original time, id),
/// the same order as the selection of a dry run, and by id for named posts; the same whether
/// its statements go through the line (a long published history: most posts are closed) or
/// through the whole table (most posts in line), whose rows sq sorts itself.
#[test]
fn requeue_answers_in_the_order_of_its_selection() {
    for published in [0, 100] {
        requeue_answers_in_line_order(published);
    }
}

fn requeue_answers_in_line_order(published: i64) {
    use sq::db::queue::{FailedFilter, RequeueAt, Selection};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    let mut db = Db::open(&path).unwrap();
    add_published(&rusqlite::Connection::open(&path).unwrap(), published);
    let mut ids = Vec::new();
    for (profile, at) in [
        ("facebook:888", 300),
        ("facebook:777", 200),
        ("facebook:888", 100),
        ("facebook:777", 100),
        ("facebook:1000", 50),
        ("facebook:777", 200),
    ] {
        ids.push(db.add_post(&new_post(profile, at), 10).unwrap().id);
    }
    let failed = |ids: &[i64]| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let list = serde_json::to_string(ids).unwrap();
        conn.execute(
            "UPDATE posts SET state = 'failed', error_class = 'transient', finished_at = 20
             WHERE id IN (SELECT value FROM json_each(?1))",
            [list],
        )
        .unwrap();
    };
    failed(&ids);
    let filter = FailedFilter::default();
    let sel = Selection::Failed(&filter);
    let mut dry = Vec::new();
    db.each_failed(&sel, None, 30, &mut |id, p, at| dry.push((id, p.to_string(), at))).unwrap();
    let expect: Vec<(i64, String, i64)> = [
        (4, "facebook:1000", 50),
        (3, "facebook:777", 100),
        (1, "facebook:777", 200),
        (5, "facebook:777", 200),
        (2, "facebook:888", 100),
        (0, "facebook:888", 300),
    ]
    .iter()
    .map(|&(i, p, at)| (ids[i], p.to_string(), at))
    .collect();
    assert_eq!(dry, expect);
    let mut got = Vec::new();
    let n = db
        .requeue(
            &sel,
            None,
            RequeueAt::Now,
            "test",
            30,
            &mut |id, p, at| got.push((id, p.to_string(), at)),
            &mut || true,
        )
        .unwrap();
    assert_eq!(n, Some(ids.len()));
    assert_eq!(got, expect);

    // By id: in id order, whatever the order named.
    failed(&ids);
    let named = [ids[5], ids[0], ids[3]];
    let mut got = Vec::new();
    db.requeue(
        &Selection::Ids(&named),
        None,
        RequeueAt::Now,
        "test",
        30,
        &mut |id, _, _| got.push(id),
        &mut || true,
    )
    .unwrap();
    assert_eq!(got, vec![ids[0], ids[3], ids[5]]);

    // Not confirmed: rolled back, nothing written.
    failed(&ids);
    let before: i64 = db_history_count(&path);
    let r = db.requeue(&sel, None, RequeueAt::Now, "test", 30, &mut |_, _, _| {}, &mut || false).unwrap();
    assert_eq!(r, None);
    assert_eq!(db_history_count(&path), before);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let still: i64 =
        conn.query_row("SELECT count(*) FROM posts WHERE state = 'failed'", [], |r| r.get(0)).unwrap();
    assert_eq!(still, ids.len() as i64);
}

/// A requeue limited to the profiles whose health was checked moves only their posts: when a
/// profile with failed posts was not checked (it failed since the check began), its posts stay
/// `failed`; when every such profile was checked, the limit selects nothing less (and sq
/// leaves it out of its statements). Through the line and through the whole table alike.
#[test]
fn requeue_moves_only_the_posts_of_the_profiles_checked() {
    use sq::db::queue::{FailedFilter, RequeueAt, Selection};
    // (profiles checked, published posts before: which route, posts requeued per profile)
    let cases: [(&[&str], i64, [usize; 3]); 6] = [
        (&["facebook:777"], 0, [2, 0, 0]),
        (&["facebook:777", "facebook:888"], 0, [2, 1, 0]),
        (&["facebook:777", "facebook:888", "facebook:999"], 0, [2, 1, 3]),
        (&["facebook:777"], 100, [2, 0, 0]),
        (&["facebook:888", "facebook:999"], 100, [0, 1, 3]),
        (&["facebook:777", "facebook:888", "facebook:999", "facebook:1"], 100, [2, 1, 3]),
    ];
    for (checked, published, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sq.db");
        let mut db = Db::open(&path).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        add_published(&conn, published);
        let profiles = ["facebook:777", "facebook:888", "facebook:999"];
        for (n, profile) in [2, 1, 3].iter().zip(profiles) {
            for at in 0..*n {
                db.add_post(&new_post(profile, 200 + at), 10).unwrap();
            }
        }
        conn.execute("UPDATE posts SET state = 'failed', error_class = 'auth', finished_at = 20 WHERE state = 'queued'", [])
            .unwrap();
        let only: Vec<String> = checked.iter().map(|p| p.to_string()).collect();
        let mut got = [0; 3];
        let filter = FailedFilter::default();
        db.requeue(
            &Selection::Failed(&filter),
            Some(&only),
            RequeueAt::Now,
            "test",
            30,
            &mut |_, p, _| got[profiles.iter().position(|x| *x == p).unwrap()] += 1,
            &mut || true,
        )
        .unwrap();
        assert_eq!(got, expect, "checked {checked:?}, {published} published");
        for (i, profile) in profiles.iter().enumerate() {
            let left: i64 = conn
                .query_row(
                    "SELECT count(*) FROM posts WHERE profile = ?1 AND state = 'failed'",
                    [profile],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                left,
                ([2, 1, 3][i] - expect[i]) as i64,
                "{profile}: checked {checked:?}, {published} published"
            );
        }
    }
}

/// A requeue of many posts writes its event once and links the other posts to it (schema V7):
/// each post's history still shows every requeue that moved it, in the order things happened,
/// with its own attempt and failure, whether it got the row or a link.
#[test]
fn each_post_shows_the_requeues_that_moved_it_in_order() {
    use sq::db::queue::{FailedFilter, PostState, RequeueAt, Selection};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sq.db");
    let mut db = Db::open(&path).unwrap();
    let ids: Vec<i64> = ["facebook:777", "facebook:888", "facebook:999"]
        .iter()
        .map(|p| db.add_post(&new_post(p, 5), 1).unwrap().id)
        .collect();
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let fail = |id: i64, attempts: i64, class: &str, code: i64, at: i64| {
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE posts SET state = 'failed', attempts = ?2, error_class = ?3, error_code = ?4,
                     finished_at = ?5 WHERE id = ?1",
                rusqlite::params![id, attempts, class, code, at],
            )
            .unwrap();
    };
    let requeue = |db: &mut Db, sel: &Selection<'_>, reason: &str, now: i64| {
        db.requeue(sel, None, RequeueAt::Now, reason, now, &mut |_, _, _| {}, &mut || true).unwrap()
    };
    let all = FailedFilter::default();
    fail(a, 1, "transient", 2, 10);
    fail(b, 2, "rate_limit", 4, 10);
    fail(c, 3, "auth", 190, 10);
    assert_eq!(requeue(&mut db, &Selection::Failed(&all), "first", 20), Some(3));
    fail(b, 4, "auth", 190, 30);
    assert_eq!(requeue(&mut db, &Selection::Ids(&[b]), "second", 40), Some(1));
    fail(a, 5, "media", 9007, 50);
    fail(c, 6, "transient", 1, 50);
    assert_eq!(requeue(&mut db, &Selection::Failed(&all), "third", 60), Some(2));

    // (at, message, attempt, class, code) of each requeued event.
    type Requeued = (i64, String, Option<i64>, Option<String>, Option<i64>);
    let requeued = |id: i64| -> Vec<Requeued> {
        let history = db.post_history(id).unwrap();
        assert_eq!(history[0].event, "added", "{history:?}");
        history[1..]
            .iter()
            .map(|h| {
                assert_eq!(h.event, "requeued", "{h:?}");
                assert_eq!((h.from_state, h.to_state), (Some(PostState::Failed), Some(PostState::Queued)));
                let e = h.error.as_ref().unwrap();
                assert_eq!(e.message, h.message.clone().unwrap());
                (h.at, h.message.clone().unwrap(), h.attempt, Some(e.class.as_str().to_string()), e.code)
            })
            .collect()
    };
    let r = |at, m: &str, attempt, class: &str, code| {
        (at, m.to_string(), Some(attempt), Some(class.to_string()), Some(code))
    };
    assert_eq!(requeued(a), [r(20, "first", 1, "transient", 2), r(60, "third", 5, "media", 9007)]);
    assert_eq!(requeued(b), [r(20, "first", 2, "rate_limit", 4), r(40, "second", 4, "auth", 190)]);
    assert_eq!(requeued(c), [r(20, "first", 3, "auth", 190), r(60, "third", 6, "transient", 1)]);
    // Two requeues of several posts: one row each (for the first post), a link for each other.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM post_history WHERE event = 'requeued'"), 3);
    assert_eq!(count("SELECT count(*) FROM post_requeues"), 3);
}

/// A Facebook post of `profile` for time `at`.
fn new_post(profile: &str, at: i64) -> sq::db::queue::NewPost {
    sq::db::queue::NewPost {
        profile: profile.into(),
        network: Network::Facebook,
        text: format!("{profile} {at}"),
        link: None,
        image_urls: Vec::new(),
        at,
    }
}

/// `n` published posts of `facebook:777`: a published history, so the posts in line are few.
fn add_published(conn: &rusqlite::Connection, n: i64) {
    for i in 0..n {
        conn.execute(
            "INSERT INTO posts (profile, network, text, original_at, scheduled_at, state, created_at, updated_at,
                 finished_at, closed_at)
             VALUES ('facebook:777', 'facebook', 'old', ?1, ?1, 'published', 1, 1, ?1, ?1)",
            [i],
        )
        .unwrap();
    }
}

fn db_history_count(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT count(*) FROM post_history", [], |r| r.get(0)).unwrap()
}
