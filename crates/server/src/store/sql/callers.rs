//! The callers' rows, cached on SQLite with exact invalidation.
//!
//! Every authenticated request needs its caller's row (status, role, token stamp, lock and
//! punishments). Re-reading it through the read pool costs a statement on a pooled
//! connection's worker thread (two thread hand-offs) per request; here it is kept in memory
//! and taken only while the database has not changed since it was read.
//!
//! "Not changed" is SQLite's `PRAGMA data_version`, read on a connection of its own that
//! never writes: its value changes whenever any other connection to the file commits, in
//! this process (the writer pool) or in another one sharing the file. In WAL mode reading it
//! is a look at the shared WAL index, a few microseconds, run in the calling thread through
//! SQLite's C API (no pool, no worker thread). A row is served from the cache only if the
//! value read now is the one read *before* the row was; any commit anywhere in between
//! empties the cache. So a user disabled, deleted, demoted or whose sessions ended, through
//! any process, is read afresh by the very next request, as `docs/scaling.md` promises.
//! Writes are frequent on a busy server; the cache then simply misses (the row is read as
//! before, plus the microseconds of the probe).
//!
//! PostgreSQL has no equally cheap and exact signal across replicas (`LISTEN`/`NOTIFY`
//! arrives asynchronously, after the commit it reports): there the row is read per request.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::UserRow;

/// How many callers' rows the cache holds at most; when full it starts over.
const MAX_CALLERS: usize = 4096;

/// How long a probe waits on a locked WAL index (a WAL reset by a checkpoint) before the
/// request reads its caller from the pool instead.
const PROBE_BUSY_TIMEOUT: Duration = Duration::from_millis(20);

/// What a look-up found.
pub(super) enum Lookup {
    Hit(Box<UserRow>),
    /// Not cached: read the row, then offer it with [`CallerCache::offer`] and this version
    /// (none: the probe failed, do not cache).
    Miss(Option<i64>),
}

/// Callers' rows of one SQLite file.
pub(super) struct CallerCache {
    inner: Mutex<Inner>,
}

struct Inner {
    probe: DataVersion,
    /// The data version the rows were read under.
    version: i64,
    rows: HashMap<(String, String), UserRow>,
}

impl CallerCache {
    /// A cache for the SQLite file at `path`; `None` if its probe cannot be opened (the
    /// store then reads every caller).
    pub(super) fn open(path: &Path) -> Option<CallerCache> {
        let probe = DataVersion::open(path)?;
        Some(CallerCache {
            inner: Mutex::new(Inner {
                probe,
                version: i64::MIN,
                rows: HashMap::new(),
            }),
        })
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn lookup(&self, domain_id: &str, user_id: &str) -> Lookup {
        let mut inner = self.inner();
        let Some(version) = inner.probe.read() else {
            return Lookup::Miss(None);
        };
        if version != inner.version {
            inner.rows.clear();
            inner.version = version;
            return Lookup::Miss(Some(version));
        }
        // The key is owned; a look-up by two borrowed strings would need a key type of its
        // own, for a few hundred nanoseconds.
        match inner.rows.get(&(domain_id.to_owned(), user_id.to_owned())) {
            Some(row) => Lookup::Hit(Box::new(row.clone())),
            None => Lookup::Miss(Some(version)),
        }
    }

    /// Keeps `row`, read after the probe answered `version`, if nothing has committed since
    /// as far as this cache has seen (a later probe that saw a commit moved `version` on).
    pub(super) fn offer(&self, version: i64, row: &UserRow) {
        let mut inner = self.inner();
        if inner.version != version {
            return;
        }
        if inner.rows.len() >= MAX_CALLERS {
            inner.rows.clear();
        }
        inner
            .rows
            .insert((row.domain_id.clone(), row.user_id.clone()), row.clone());
    }
}

/// A read-only SQLite connection of its own, holding `PRAGMA data_version` prepared.
struct DataVersion {
    conn: Connection,
}

impl DataVersion {
    fn open(path: &Path) -> Option<DataVersion> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).ok()?;
        conn.busy_timeout(PROBE_BUSY_TIMEOUT).ok()?;
        let probe = DataVersion { conn };
        probe.read()?;
        Some(probe)
    }

    /// The file's data version now; `None` if SQLite could not say (busy, I/O error). The
    /// statement is reset after each read, so no read transaction stays open between calls.
    fn read(&self) -> Option<i64> {
        let mut stmt = self.conn.prepare_cached("PRAGMA data_version").ok()?;
        stmt.query_row([], |row| row.get(0)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(domain_id: &str, user_id: &str) -> UserRow {
        UserRow {
            domain_id: domain_id.into(),
            user_id: user_id.into(),
            user_name: String::new(),
            nick_name: String::new(),
            avatar: String::new(),
            email: String::new(),
            phone: String::new(),
            role: "user".into(),
            status: "enabled".into(),
            description: String::new(),
            user_data: "{}".into(),
            creator: String::new(),
            default_drive_id: String::new(),
            deny_change_password_by_self: false,
            need_change_password_next_login: false,
            expired_at: 0,
            phone_region: String::new(),
            last_login_time: 0,
            last_refresh_token_time: 0,
            created_at: 0,
            updated_at: 0,
            punishments: "[]".into(),
            owner_type: String::new(),
            token_stamp: "s".into(),
        }
    }

    fn version_of(lookup: Lookup) -> Option<i64> {
        match lookup {
            Lookup::Hit(_) => panic!("a hit where a miss was due"),
            Lookup::Miss(version) => version,
        }
    }

    #[tokio::test]
    async fn a_commit_by_another_connection_empties_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.db");
        let store = crate::store::sql::SqlStore::open_sqlite(&path)
            .await
            .unwrap();
        let cache = CallerCache::open(&path).unwrap();

        let version = version_of(cache.lookup("d", "u")).unwrap();
        cache.offer(version, &user("d", "u"));
        assert!(matches!(cache.lookup("d", "u"), Lookup::Hit(row) if row.user_id == "u"));
        assert!(matches!(cache.lookup("d", "other"), Lookup::Miss(Some(_))));

        // Any commit (here a domain row by the store's writer) is a change.
        store
            .upkeep(crate::store::sql::Stmt::new(
                "CREATE TABLE scratch (x INTEGER)",
                vec![],
            ))
            .await
            .unwrap();
        let after = version_of(cache.lookup("d", "u")).unwrap();
        assert_ne!(after, version);
        // A row read under the old version is not kept.
        cache.offer(version, &user("d", "u"));
        assert!(matches!(cache.lookup("d", "u"), Lookup::Miss(_)));
        cache.offer(after, &user("d", "u"));
        assert!(matches!(cache.lookup("d", "u"), Lookup::Hit(_)));
    }
}
