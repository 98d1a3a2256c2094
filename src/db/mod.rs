//! The SQLite database at `Paths::database()`: connections and profiles (and, later, the queue).
//!
//! One file, WAL mode (readers never wait for a writer), a 5 s busy timeout (two sq processes
//! take turns instead of failing), foreign keys on, versioned migrations in `schema.rs`.
//! Opening an up-to-date database reads one pragma and writes nothing, so `sq profiles` starts
//! fast. No secret is ever stored here.

pub mod queue;
mod repo;
pub mod schema;

pub use repo::{Connection, LoginKind, NewConnection, NewProfile, Profile, ProfileWithConnection, Replaced};

use rusqlite::{ErrorCode, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The WAL size, in pages, at which a commit copies the WAL back into the file: SQLite's
/// default (https://sqlite.org/pragma.html#pragma_wal_autocheckpoint).
pub const WAL_AUTOCHECKPOINT: i64 = 1000;

/// How long a writer waits for another sq process before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("can't create the data directory {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("can't create the database {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the database {} was written by a newer sq (schema {found}; this sq knows up to {supported})", path.display())]
    TooNew { path: PathBuf, found: i64, supported: i64 },

    #[error("the database {} is busy: another sq process kept it locked for more than {} s", path.display(), BUSY_TIMEOUT.as_secs())]
    Busy { path: PathBuf },

    #[error("the database {} is damaged: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("database error in {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("no profile matches {reference:?}")]
    UnknownProfile { reference: String },

    #[error("{reference:?} matches more than one profile: {}", candidates.join(", "))]
    AmbiguousProfile { reference: String, candidates: Vec<String> },
}

pub struct Db {
    conn: rusqlite::Connection,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the database and brings its schema up to date.
    ///
    /// A new database is made under a temporary name and linked into place whole, so a file
    /// at `path` always has at least its header: a zero-byte `sq.db` is not "new" but a file
    /// that lost its contents (a truncation, a bad restore, a full disk), and it is refused as
    /// damaged instead of silently becoming an empty queue.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::fsutil::create_private_dir(dir)
                .map_err(|source| DbError::Dir { path: dir.to_path_buf(), source })?;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() == 0 => {
                return Err(DbError::Corrupt { path: path.to_path_buf(), detail: EMPTY_FILE.into() });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
            _ => {}
        }
        let conn = rusqlite::Connection::open_with_flags(
            path,
            // Not CREATE: the file exists (made whole above); if it vanished meanwhile, say so
            // rather than start an empty one.
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(path, e))?;
        let mut db = Db { conn, path: path.to_path_buf() };
        db.configure()?;
        db.migrate()?;
        Ok(db)
    }

    /// A private in-memory database with the full schema, for tests.
    pub fn open_in_memory() -> Result<Db, DbError> {
        let conn = rusqlite::Connection::open_in_memory().map_err(|e| classify(Path::new(":memory:"), e))?;
        let mut db = Db { conn, path: PathBuf::from(":memory:") };
        db.configure()?;
        db.migrate()?;
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i64, DbError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String, DbError> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// SQLite's `PRAGMA quick_check`: every page of every table and index is read and its
    /// structure checked (not the index contents, which `integrity_check` compares too).
    /// `publish`, `reauth` and `token import` run it before they write, so a damaged page is
    /// reported as such instead of reading as a missing profile. Its cost is measured in
    /// docs/queue.md, which says why `requeue` checks less (`quick_check_tables`).
    pub fn quick_check(&self) -> Result<(), DbError> {
        self.check("PRAGMA quick_check(5)")
    }

    /// `PRAGMA quick_check(<table>)` of each table named, with its indexes: the same checks of
    /// every page of those b-trees, without reading the rest of the file. Naming
    /// `sqlite_schema` also checks the freelist (the pages a write takes next). See
    /// https://sqlite.org/pragma.html#pragma_quick_check and docs/queue.md for who uses it.
    pub fn quick_check_tables(&self, tables: &[&str]) -> Result<(), DbError> {
        for table in tables {
            // A table name can't be a bound parameter; these are sq's own names.
            self.check(&format!("PRAGMA quick_check(\"{table}\")"))?;
        }
        Ok(())
    }

    /// Copies the pages committed to the WAL back into the database file, as far as no
    /// reader still needs the old ones (`PRAGMA wal_checkpoint(PASSIVE)`: it never waits for
    /// another process). Commits do this themselves once the WAL holds
    /// [`WAL_AUTOCHECKPOINT`] pages; [`Db::requeue`] leaves it to its caller. What was
    /// committed is in the WAL whether or not this runs: https://sqlite.org/wal.html#ckpt
    pub fn checkpoint(&self) -> Result<(), DbError> {
        self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).map_err(|e| self.err(e))
    }

    fn check(&self, pragma: &str) -> Result<(), DbError> {
        let found: Vec<String> = (|| {
            let mut stmt = self.conn.prepare(pragma)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.take(5).collect::<Result<Vec<String>, _>>()
        })()
        .map_err(|e| self.err(e))?;
        if found.len() == 1 && found[0] == "ok" {
            return Ok(());
        }
        Err(DbError::Corrupt {
            path: self.path.clone(),
            detail: format!("SQLite's integrity check found: {}", found.join("; ")),
        })
    }

    fn configure(&mut self) -> Result<(), DbError> {
        self.conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| self.err(e))?;
        // WAL persists in the file; asking again on an open is a cheap no-op. NORMAL sync is
        // durable across application crashes in WAL mode and much cheaper than FULL.
        let _mode: String =
            self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        self.conn
            .execute_batch(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
                 PRAGMA cache_size = -16384;",
            )
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), DbError> {
        let latest = schema::MIGRATIONS.len() as i64;
        let found = self.schema_version()?;
        if found > latest {
            return Err(DbError::TooNew { path: self.path.clone(), found, supported: latest });
        }
        if found == latest {
            return Ok(());
        }
        loop {
            // IMMEDIATE takes the write lock first, so two processes opening a new database at
            // once apply each step exactly once: the second one re-reads the version below.
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| classify(&self.path, e))?;
            let version: i64 =
                tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(&self.path, e))?;
            if version >= latest {
                return Ok(());
            }
            tx.execute_batch(schema::MIGRATIONS[version as usize]).map_err(|e| classify(&self.path, e))?;
            // user_version can't take a bound parameter; the value is our own integer.
            tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))
                .map_err(|e| classify(&self.path, e))?;
            tx.commit().map_err(|e| classify(&self.path, e))?;
        }
    }

    fn err(&self, e: rusqlite::Error) -> DbError {
        classify(&self.path, e)
    }
}

const EMPTY_FILE: &str =
    "the file is empty (0 bytes); sq never leaves a database it made empty, so its contents were lost";

/// Makes a new database at `path`: built under a temporary name in the same directory, then
/// hard-linked into place, which fails if another process got there first (its database is
/// then the one used). No other process ever sees a half-made or zero-byte file.
fn create(path: &Path) -> Result<(), DbError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "sq.db".into());
    let mut rnd = [0u8; 6];
    let _ = getrandom::fill(&mut rnd);
    let tmp = path.with_file_name(format!(".{name}.new-{}-{}", std::process::id(), hex::encode(rnd)));
    let cleanup = |tmp: &Path| {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = tmp.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    };
    let made = (|| {
        let conn = rusqlite::Connection::open(&tmp).map_err(|e| classify(&tmp, e))?;
        let mut db = Db { conn, path: tmp.clone() };
        db.configure()?;
        db.migrate()?;
        // Closing the last connection checkpoints the WAL into the file and removes it.
        db.conn.close().map_err(|(_, e)| classify(&tmp, e))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|source| DbError::Create { path: tmp.clone(), source })?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            // A file system without hard links: a rename, checked first (a narrow race with
            // another sq creating the database at the same instant, on such file systems only).
            Err(_) if !path.exists() => std::fs::rename(&tmp, path)
                .map_err(|source| DbError::Create { path: path.to_path_buf(), source }),
            Err(_) => Ok(()),
        }
    })();
    cleanup(&tmp);
    made
}

fn classify(path: &Path, e: rusqlite::Error) -> DbError {
    let path = path.to_path_buf();
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbError::Busy { path },
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                DbError::Corrupt { path, detail: e.to_string() }
            }
            _ => DbError::Sqlite { path, source: e },
        },
        _ => DbError::Sqlite { path, source: e },
    }
}
