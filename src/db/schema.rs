//! Schema migrations, applied in order; `PRAGMA user_version` is the number applied so far.
//!
//! Never edit a step that has shipped: add a new one. The queue (posts, attempts) comes as a
//! later step. Times are Unix seconds (UTC). No column ever holds a secret, not even a masked
//! one: masks are computed from the credential store at display time.

pub const MIGRATIONS: &[&str] = &[V1];

const V1: &str = r#"
CREATE TABLE connections (
    id                      INTEGER PRIMARY KEY,
    network                 TEXT NOT NULL CHECK (network IN ('facebook', 'instagram', 'threads')),
    -- The Facebook user id, the Instagram Login user id or the Threads user id.
    meta_user_id            TEXT NOT NULL,
    app_id                  TEXT NOT NULL,
    name                    TEXT,
    scopes                  TEXT NOT NULL DEFAULT '[]',   -- JSON array of granted permissions
    declined_scopes         TEXT NOT NULL DEFAULT '[]',   -- JSON array
    token_expires_at        INTEGER,                      -- NULL: never expires
    data_access_expires_at  INTEGER,
    issued_at               INTEGER,
    login_kind              TEXT NOT NULL CHECK (login_kind IN ('facebook_login', 'instagram_login', 'threads')),
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    last_verified_at        INTEGER,
    UNIQUE (network, meta_user_id, app_id)
);

CREATE TABLE profiles (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('facebook', 'instagram', 'threads')),
    remote_id         TEXT NOT NULL,
    name              TEXT NOT NULL DEFAULT '',
    username          TEXT,
    connection_id     INTEGER NOT NULL REFERENCES connections (id) ON DELETE RESTRICT,
    -- Instagram via a Page: the Page whose token publishes. A Facebook profile: its own id.
    page_id           TEXT,
    -- Where the token comes from: 'page' (facebook:<page_id>), 'instagram_login'
    -- (instagram-user:<connection user>), 'threads' (threads-user:<connection user>).
    via               TEXT NOT NULL CHECK (via IN ('page', 'instagram_login', 'threads')),
    tasks             TEXT,                              -- JSON array, Pages only
    -- The store that held the token when it was written ('keyring' or 'file'), so a token
    -- missing after switching stores can be explained.
    token_store       TEXT CHECK (token_store IN ('keyring', 'file')),
    token_expires_at  INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (kind, remote_id),
    CHECK (via <> 'page' OR page_id IS NOT NULL)
);

CREATE INDEX profiles_by_connection ON profiles (connection_id);
"#;
