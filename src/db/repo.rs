//! Connections and profiles: the rows, and the few operations the commands need.
//!
//! Times are Unix seconds passed in by the caller (the `Clock` in `Ctx`), so tests control them.

use super::{Db, DbError, classify};
use crate::model::{Network, Via};
use crate::store::Account;
use crate::store::StoreKind;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use std::collections::HashMap;
use std::sync::Arc;

/// How the connection's login was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    FacebookLogin,
    InstagramLogin,
    Threads,
}

impl LoginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginKind::FacebookLogin => "facebook_login",
            LoginKind::InstagramLogin => "instagram_login",
            LoginKind::Threads => "threads",
        }
    }

    pub fn parse(s: &str) -> Option<LoginKind> {
        [LoginKind::FacebookLogin, LoginKind::InstagramLogin, LoginKind::Threads]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

macro_rules! text_enum_sql {
    ($t:ty, $parse:expr, $str:expr) => {
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from($str(*self)))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = value.as_str()?;
                $parse(s).ok_or_else(|| FromSqlError::Other(format!("unknown value {s:?}").into()))
            }
        }
    };
}

text_enum_sql!(LoginKind, LoginKind::parse, LoginKind::as_str);
text_enum_sql!(Via, Via::parse, Via::as_str);

/// `Network` and `StoreKind` live in settings; the database reads them through these.
struct NetworkCol(Network);
impl FromSql for NetworkCol {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = value.as_str()?;
        Network::parse(s)
            .map(NetworkCol)
            .ok_or_else(|| FromSqlError::Other(format!("unknown network {s:?}").into()))
    }
}

fn store_kind(s: Option<String>) -> Option<StoreKind> {
    s.as_deref().and_then(StoreKind::parse)
}

fn json_list(s: Option<String>) -> Vec<String> {
    // Written only by sq as a JSON array; an unreadable value reads as empty rather than
    // making every command fail.
    s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_string())
}

/// A connection as the import/reauth path knows it, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnection {
    pub network: Network,
    pub meta_user_id: String,
    pub app_id: String,
    pub name: Option<String>,
    pub scopes: Vec<String>,
    pub declined_scopes: Vec<String>,
    pub token_expires_at: Option<i64>,
    pub data_access_expires_at: Option<i64>,
    pub issued_at: Option<i64>,
    pub login_kind: LoginKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: i64,
    pub network: Network,
    pub meta_user_id: String,
    pub app_id: String,
    pub name: Option<String>,
    pub scopes: Vec<String>,
    pub declined_scopes: Vec<String>,
    pub token_expires_at: Option<i64>,
    pub data_access_expires_at: Option<i64>,
    pub issued_at: Option<i64>,
    pub login_kind: LoginKind,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_verified_at: Option<i64>,
}

impl Connection {
    /// Where this connection's user token is stored.
    pub fn token_account(&self) -> Account {
        Account::user(self.network, &self.meta_user_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProfile {
    pub kind: Network,
    pub remote_id: String,
    pub name: String,
    pub username: Option<String>,
    /// Instagram via a Page: that Page's id. Facebook: may be left `None` (it is its own Page).
    pub page_id: Option<String>,
    pub via: Via,
    /// The connecting user's tasks on the Page (`MANAGE`, `CREATE_CONTENT`, ...).
    pub tasks: Option<Vec<String>>,
    pub token_store: Option<StoreKind>,
    pub token_expires_at: Option<i64>,
    /// `Secret::masked` of the token (never the token): shown by `sq profiles`.
    pub token_masked: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: i64,
    pub kind: Network,
    pub remote_id: String,
    pub name: String,
    pub username: Option<String>,
    pub connection_id: i64,
    pub page_id: Option<String>,
    pub via: Via,
    pub tasks: Option<Vec<String>>,
    pub token_store: Option<StoreKind>,
    pub token_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// `Secret::masked` of the token as saved (V4); `None` for rows saved before.
    pub token_masked: Option<String>,
}

impl Profile {
    /// `facebook:777`: how the command line and `--json` name a profile.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.kind.name(), self.remote_id)
    }

    /// The name people know: the Page name, else `@username`.
    pub fn display_name(&self) -> String {
        match (&self.username, self.name.is_empty()) {
            (Some(u), true) => format!("@{u}"),
            _ => self.name.clone(),
        }
    }

    /// Where the token that publishes to this profile is stored.
    pub fn token_account(&self, connection: &Connection) -> Account {
        match self.via {
            Via::Page => Account::page(self.page_id.as_deref().unwrap_or(&self.remote_id)),
            Via::InstagramLogin => Account::user(Network::Instagram, &connection.meta_user_id),
            Via::Threads => Account::user(Network::Threads, &connection.meta_user_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileWithConnection {
    pub profile: Profile,
    /// Shared by the profiles of one login: a list of 10,000 Pages decodes their connection
    /// (with its scope lists) once, not 10,000 times.
    pub connection: Arc<Connection>,
}

/// What [`Db::replace_connection_profiles`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub connection_id: i64,
    /// References of the profiles now on this connection, in the order given.
    pub kept: Vec<String>,
    /// References of profiles that were on this connection and no longer are (their Page
    /// tokens may be deleted from the store now).
    pub removed: Vec<String>,
}

const SELECT_JOINED: &str =
    "SELECT p.id, p.kind, p.remote_id, p.name, p.username, p.connection_id, p.page_id, p.via,
        p.tasks, p.token_store, p.token_expires_at, p.created_at, p.updated_at, p.token_masked,
        c.id, c.network, c.meta_user_id, c.app_id, c.name, c.scopes, c.declined_scopes, c.token_expires_at,
        c.data_access_expires_at, c.issued_at, c.login_kind, c.created_at, c.updated_at, c.last_verified_at
 FROM profiles p JOIN connections c ON c.id = p.connection_id";

const SELECT_CONNECTION: &str = "SELECT id, network, meta_user_id, app_id, name, scopes, declined_scopes, token_expires_at,
        data_access_expires_at, issued_at, login_kind, created_at, updated_at, last_verified_at FROM connections";

fn connection_at(r: &Row<'_>, o: usize) -> rusqlite::Result<Connection> {
    Ok(Connection {
        id: r.get(o)?,
        network: r.get::<_, NetworkCol>(o + 1)?.0,
        meta_user_id: r.get(o + 2)?,
        app_id: r.get(o + 3)?,
        name: r.get(o + 4)?,
        scopes: json_list(r.get(o + 5)?),
        declined_scopes: json_list(r.get(o + 6)?),
        token_expires_at: r.get(o + 7)?,
        data_access_expires_at: r.get(o + 8)?,
        issued_at: r.get(o + 9)?,
        login_kind: r.get(o + 10)?,
        created_at: r.get(o + 11)?,
        updated_at: r.get(o + 12)?,
        last_verified_at: r.get(o + 13)?,
    })
}

fn joined(r: &Row<'_>) -> rusqlite::Result<ProfileWithConnection> {
    joined_sharing(r, &mut HashMap::new())
}

/// [`joined`], with the connections already decoded by id: the profiles of one login share one.
fn joined_sharing(
    r: &Row<'_>,
    seen: &mut HashMap<i64, Arc<Connection>>,
) -> rusqlite::Result<ProfileWithConnection> {
    let id: i64 = r.get(14)?;
    let connection = match seen.get(&id) {
        Some(c) => c.clone(),
        None => {
            let c = Arc::new(connection_at(r, 14)?);
            seen.insert(id, c.clone());
            c
        }
    };
    let tasks: Option<String> = r.get(8)?;
    Ok(ProfileWithConnection {
        profile: Profile {
            id: r.get(0)?,
            kind: r.get::<_, NetworkCol>(1)?.0,
            remote_id: r.get(2)?,
            name: r.get(3)?,
            username: r.get(4)?,
            connection_id: r.get(5)?,
            page_id: r.get(6)?,
            via: r.get(7)?,
            tasks: tasks.map(|t| json_list(Some(t))),
            token_store: store_kind(r.get(9)?),
            token_expires_at: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            token_masked: r.get(13)?,
        },
        connection,
    })
}

fn upsert_connection_in(conn: &rusqlite::Connection, c: &NewConnection, now: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO connections (network, meta_user_id, app_id, name, scopes, declined_scopes, token_expires_at,
             data_access_expires_at, issued_at, login_kind, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT (network, meta_user_id, app_id) DO UPDATE SET
             name = excluded.name, scopes = excluded.scopes, declined_scopes = excluded.declined_scopes,
             token_expires_at = excluded.token_expires_at, data_access_expires_at = excluded.data_access_expires_at,
             issued_at = excluded.issued_at, login_kind = excluded.login_kind, updated_at = excluded.updated_at
         RETURNING id",
        params![
            c.network.name(),
            c.meta_user_id,
            c.app_id,
            c.name,
            to_json(&c.scopes),
            to_json(&c.declined_scopes),
            c.token_expires_at,
            c.data_access_expires_at,
            c.issued_at,
            c.login_kind,
            now
        ],
        |r| r.get(0),
    )
}

fn upsert_profile_in(
    conn: &rusqlite::Connection,
    connection_id: i64,
    p: &NewProfile,
    now: i64,
) -> rusqlite::Result<i64> {
    // A Facebook Page is its own Page: keep page_id filled so `via = page` always has one.
    let page_id = match (p.kind, &p.page_id) {
        (Network::Facebook, None) => Some(p.remote_id.as_str()),
        (_, id) => id.as_deref(),
    };
    conn.query_row(
        "INSERT INTO profiles (kind, remote_id, name, username, connection_id, page_id, via, tasks, token_store,
             token_expires_at, created_at, updated_at, token_masked)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)
         ON CONFLICT (kind, remote_id) DO UPDATE SET
             name = excluded.name, username = excluded.username, connection_id = excluded.connection_id,
             page_id = excluded.page_id, via = excluded.via, tasks = excluded.tasks,
             token_store = excluded.token_store, token_expires_at = excluded.token_expires_at,
             updated_at = excluded.updated_at, token_masked = excluded.token_masked
         RETURNING id",
        params![
            p.kind.name(),
            p.remote_id,
            p.name,
            p.username,
            connection_id,
            page_id,
            p.via,
            p.tasks.as_deref().map(to_json),
            p.token_store.map(StoreKind::name),
            p.token_expires_at,
            now,
            p.token_masked
        ],
        |r| r.get(0),
    )
}

impl Db {
    /// Creates or updates the connection for (network, user, app); returns its id.
    pub fn upsert_connection(&mut self, c: &NewConnection, now: i64) -> Result<i64, DbError> {
        upsert_connection_in(&self.conn, c, now).map_err(|e| self.err(e))
    }

    /// The import/reauth switch, in ONE transaction: upsert the connection, make `profiles`
    /// exactly its profile set (moving a profile from another connection if needed), and
    /// drop the profiles it no longer has. Either all of it lands or none of it.
    pub fn replace_connection_profiles(
        &mut self,
        c: &NewConnection,
        profiles: &[NewProfile],
        now: i64,
    ) -> Result<Replaced, DbError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&path, e))?;
        let result = (|| {
            let connection_id = upsert_connection_in(&tx, c, now)?;
            let mut kept_ids = Vec::with_capacity(profiles.len());
            let mut kept = Vec::with_capacity(profiles.len());
            for p in profiles {
                kept_ids.push(upsert_profile_in(&tx, connection_id, p, now)?);
                kept.push(format!("{}:{}", p.kind.name(), p.remote_id));
            }
            let mut removed = Vec::new();
            {
                let mut stmt =
                    tx.prepare("SELECT id, kind, remote_id FROM profiles WHERE connection_id = ?1")?;
                let rows = stmt.query_map([connection_id], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })?;
                for row in rows {
                    let (id, kind, remote_id) = row?;
                    if !kept_ids.contains(&id) {
                        removed.push((id, format!("{kind}:{remote_id}")));
                    }
                }
            }
            for (id, _) in &removed {
                tx.execute("DELETE FROM profiles WHERE id = ?1", [id])?;
            }
            Ok(Replaced { connection_id, kept, removed: removed.into_iter().map(|(_, r)| r).collect() })
        })();
        match result {
            Ok(r) => {
                tx.commit().map_err(|e| classify(&path, e))?;
                Ok(r)
            }
            // Dropping the transaction rolls it back.
            Err(e) => Err(classify(&path, e)),
        }
    }

    /// Adds or updates one profile on a connection; returns its id.
    pub fn upsert_profile(&mut self, connection_id: i64, p: &NewProfile, now: i64) -> Result<i64, DbError> {
        upsert_profile_in(&self.conn, connection_id, p, now).map_err(|e| self.err(e))
    }

    /// Removes a profile by kind and id; `false` when there was none.
    pub fn remove_profile(&mut self, kind: Network, remote_id: &str) -> Result<bool, DbError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM profiles WHERE kind = ?1 AND remote_id = ?2",
                params![kind.name(), remote_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Every profile with its connection, by kind then name.
    pub fn list_profiles(&self) -> Result<Vec<ProfileWithConnection>, DbError> {
        let sql = format!("{SELECT_JOINED} ORDER BY p.kind, lower(p.name), lower(p.username), p.remote_id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        // Sorted by name, not by login: the connections decoded so far are kept by id.
        let mut seen = HashMap::new();
        let rows = stmt.query_map([], |r| joined_sharing(r, &mut seen)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    pub fn find_profile(
        &self,
        kind: Network,
        remote_id: &str,
    ) -> Result<Option<ProfileWithConnection>, DbError> {
        let sql = format!("{SELECT_JOINED} WHERE p.kind = ?1 AND p.remote_id = ?2");
        self.conn.query_row(&sql, params![kind.name(), remote_id], joined).optional().map_err(|e| self.err(e))
    }

    pub fn connection(&self, id: i64) -> Result<Option<Connection>, DbError> {
        let sql = format!("{SELECT_CONNECTION} WHERE id = ?1");
        self.conn.query_row(&sql, [id], |r| connection_at(r, 0)).optional().map_err(|e| self.err(e))
    }

    pub fn connections(&self) -> Result<Vec<Connection>, DbError> {
        let sql = format!("{SELECT_CONNECTION} ORDER BY network, meta_user_id");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| connection_at(r, 0)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Records that the connection's token was checked with Meta and found working.
    pub fn mark_verified(&mut self, connection_id: i64, now: i64) -> Result<bool, DbError> {
        let n = self
            .conn
            .execute(
                "UPDATE connections SET last_verified_at = ?2 WHERE id = ?1",
                params![connection_id, now],
            )
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Resolves a command-line profile reference: `facebook:<id>`, `instagram:<id>`,
    /// `threads:<id>`, or a name / username (`@` optional) matched case-insensitively when
    /// exactly one profile has it.
    pub fn resolve(&self, reference: &str) -> Result<ProfileWithConnection, DbError> {
        let r = reference.trim();
        let unknown = || DbError::UnknownProfile { reference: reference.to_string() };
        if r.is_empty() {
            return Err(unknown());
        }
        if let Some((kind, id)) = r.split_once(':') {
            if let Some(network) = Network::parse(&kind.to_ascii_lowercase()) {
                return self.find_profile(network, id.trim())?.ok_or_else(unknown);
            }
        }
        // Unicode-aware case folding in Rust (SQLite's NOCASE is ASCII only); a scan of names
        // is cheap next to anything else a command does.
        let want = r.to_lowercase();
        let want_user = r.strip_prefix('@').unwrap_or(r).to_lowercase();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, remote_id, name, username FROM profiles")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, NetworkCol>(0)?.0,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut matches = Vec::new();
        for row in rows {
            let (kind, remote_id, name, username) = row.map_err(|e| self.err(e))?;
            let by_name = !name.is_empty() && name.to_lowercase() == want;
            let by_user = username.as_deref().is_some_and(|u| u.to_lowercase() == want_user);
            if by_name || by_user {
                let label = if name.is_empty() {
                    username.map(|u| format!("@{u}")).unwrap_or_default()
                } else {
                    name
                };
                matches.push((kind, remote_id, label));
            }
        }
        match matches.len() {
            0 => Err(unknown()),
            1 => {
                let (kind, remote_id, _) = &matches[0];
                self.find_profile(*kind, remote_id)?.ok_or_else(unknown)
            }
            _ => {
                matches.sort();
                Err(DbError::AmbiguousProfile {
                    reference: reference.to_string(),
                    candidates: matches
                        .into_iter()
                        .map(|(kind, id, label)| format!("{}:{id} ({label})", kind.name()))
                        .collect(),
                })
            }
        }
    }
}
