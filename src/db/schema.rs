//! Schema migrations, applied in order; `PRAGMA user_version` is the number applied so far.
//!
//! Never edit a step that has shipped: add a new one. The queue (posts, attempts) comes as a
//! later step (V2). Times are Unix seconds (UTC). No column ever holds a secret; since V4 a
//! profile keeps the masked form of its token (first and last four characters, `Secret::masked`)
//! so that `sq profiles` reads no secret.
//!
//! Citations: spec §n of docs/reference/spec.md.

pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

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

/// The post queue (spec §6) and its append-only history.
///
/// A post names its profile by reference (`facebook:777`), not by row id: reconnecting a
/// profile can delete and re-create its row, and the queue must outlive that.
/// `original_at` is the time the user asked for; `scheduled_at` is when the post is next due
/// (later after an automatic retry; reset by a requeue). `started_at`, `fingerprint` and
/// `container_id` are the publishing journal: written *before* the request they announce, so a
/// crash leaves what reconciliation needs. `claim_owner`/`claim_until` are the lease of the
/// process publishing it; a lease that ran out means that process died.
const V2: &str = r#"
CREATE TABLE posts (
    id              INTEGER PRIMARY KEY,
    profile         TEXT NOT NULL,
    network         TEXT NOT NULL CHECK (network IN ('facebook', 'instagram', 'threads')),
    text            TEXT NOT NULL DEFAULT '',
    link            TEXT,
    image_urls      TEXT NOT NULL DEFAULT '[]',            -- JSON array
    original_at     INTEGER NOT NULL,
    scheduled_at    INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'publishing', 'published', 'failed', 'unknown', 'canceled')),
    attempts        INTEGER NOT NULL DEFAULT 0,            -- publishing attempts, never reset
    auto_retries    INTEGER NOT NULL DEFAULT 0,            -- automatic retries since last queued by the user
    error_code      INTEGER,
    error_subcode   INTEGER,
    error_class     TEXT CHECK (error_class IN ('auth', 'rate_limit', 'transient', 'media', 'content', 'unknown')),
    error_message   TEXT,
    container_id    TEXT,
    remote_id       TEXT,
    fingerprint     TEXT,
    started_at      INTEGER,
    claim_owner     TEXT,
    claim_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER,                               -- published / failed / canceled at
    CHECK (state <> 'publishing' OR (claim_owner IS NOT NULL AND claim_until IS NOT NULL))
);

CREATE INDEX posts_due ON posts (state, scheduled_at, id);
CREATE INDEX posts_by_profile ON posts (profile, state, original_at, id);

CREATE TABLE post_history (
    id              INTEGER PRIMARY KEY,
    post_id         INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    at              INTEGER NOT NULL,
    event           TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT,
    attempt         INTEGER,
    error_code      INTEGER,
    error_subcode   INTEGER,
    error_class     TEXT,
    message         TEXT,
    owner           TEXT
);

CREATE INDEX post_history_by_post ON post_history (post_id, id);
"#;

/// Who holds a claim, beyond its owner id: `claim_process` identifies the claiming process
/// (`linux:<boot id>:<pid namespace>:<pid>:<start time>`, see `src/publish/owner.rs`) so that
/// another run on the same machine can see that the process is gone (not running, or its pid
/// now belongs to another process) and take the post over at once instead of waiting for the
/// lease. NULL when the platform gives no such identity, or for claims older than this step:
/// those wait for their lease as before.
const V3: &str = r#"
ALTER TABLE posts ADD COLUMN claim_process TEXT;
"#;

/// The masked form of each profile's token (`EAAG…tHlk`: `Secret::masked`, never more), written
/// when the token is saved, so `sq profiles` shows it from the database alone without opening
/// the credential store. NULL for profiles saved before this step: those are masked from the
/// store (one batched read) until they are saved again.
const V4: &str = r#"
ALTER TABLE profiles ADD COLUMN token_masked TEXT;
"#;

/// The queue's indexes, for `sq requeue` of many posts at once (spec §8: 100,000 in ≤ 0.5 s).
///
/// Before this step both indexes had `state` inside the key, so a requeue moved every post in
/// both (a delete and an insert in each). Now one index leads with the state and serves every
/// query that filters on it (per-profile head of line, claims, `queue list --state`, the
/// failed posts by profile); the due-time index holds only `queued` posts (a partial index:
/// https://sqlite.org/partialindex.html), which is all that `sq publish`'s due query asks of
/// it, so a requeue only adds the post to it. It keeps `state` first so that SQLite's planner,
/// without statistics, prefers its `state = ? AND scheduled_at <= ?` range to the state index.
/// The rows are untouched; SQLite builds the two indexes from them inside the migration's
/// transaction.
const V5: &str = r#"
DROP INDEX posts_due;
DROP INDEX posts_by_profile;
CREATE INDEX posts_by_state ON posts (state, profile, original_at, id);
CREATE INDEX posts_due ON posts (state, scheduled_at, id) WHERE state = 'queued';
"#;

/// The queue's line, so that a requeue moves no index entry (spec §8: 100,000 posts in
/// ≤ 0.5 s).
///
/// V5's state index still had `state` in its key, so a requeue moved each post in it (a
/// delete and an insert) and added it to the due index: most of a requeue's time. Now:
/// - `closed_at`: when the post left its profile's line for good (`published` or `canceled`,
///   both final); NULL while it is in line (`queued`, `publishing`, `failed`, `unknown`). Its
///   CHECK keeps a post in line from ever being hidden by it.
/// - `posts_line` holds the posts in line in line order (profile, original time, id). Neither
///   its key nor its condition changes when a post fails or is requeued, so SQLite leaves it
///   alone then: it touches an index only when the UPDATE sets a column the index names (the
///   costs are in docs/performance.md). A query uses it only when its WHERE says
///   `closed_at IS NULL` (https://sqlite.org/partialindex.html), which is why the queue's
///   queries on posts in line all say so. A query by state reads each entry's row.
/// - `posts_in_flight` holds the few posts being published or waiting for reconciliation, the
///   ones a claim must see at once. A requeue (`failed` → `queued`) is in neither its old nor
///   its new condition, so it adds or removes nothing there.
/// - The due index is gone: `sq publish` looks at each profile's head of line (one seek per
///   profile in `posts_line`), which is the only post it may claim.
///
/// Published and canceled posts get their `closed_at` from when they finished. SQLite builds
/// the new indexes from the rows inside the migration's transaction.
const V6: &str = r#"
ALTER TABLE posts ADD COLUMN closed_at INTEGER CHECK (closed_at IS NULL OR state IN ('published', 'canceled'));
UPDATE posts SET closed_at = coalesce(finished_at, updated_at) WHERE state IN ('published', 'canceled');
DROP INDEX posts_by_state;
DROP INDEX posts_due;
CREATE INDEX posts_line ON posts (profile, original_at, id) WHERE closed_at IS NULL;
CREATE INDEX posts_in_flight ON posts (state, profile, original_at, id) WHERE state = 'publishing' OR state = 'unknown';
"#;

/// The history of a requeue of many posts, written once (spec §8: 100,000 posts in ≤ 0.5 s).
///
/// A requeue gives every post it moves the same event: the same time, transition and message.
/// Until this step each post got a whole `post_history` row for it, about half of the pages
/// a requeue of 100,000 posts wrote. Now the first post moved (the lowest id) gets that row, as
/// any event does, and each other post a `post_requeues` row naming it (`entry`) with what
/// differs from post to post: its attempt and the failure it was requeued from. A post's
/// history is its own rows and the rows its links name, in the order of their ids: one
/// sequence, so an event written later always comes after (`Db::post_history`). `WITHOUT
/// ROWID`: a link is its key, in post order (https://sqlite.org/withoutrowid.html). Nothing
/// indexes `entry`, so deleting a history row would read every link to find its children
/// (https://sqlite.org/foreignkeys.html#fk_indexes); sq never deletes a post or its history.
const V7: &str = r#"
CREATE TABLE post_requeues (
    post_id         INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    entry           INTEGER NOT NULL REFERENCES post_history (id) ON DELETE CASCADE,
    attempt         INTEGER,
    error_code      INTEGER,
    error_subcode   INTEGER,
    error_class     TEXT,
    PRIMARY KEY (post_id, entry)
) WITHOUT ROWID;
"#;
