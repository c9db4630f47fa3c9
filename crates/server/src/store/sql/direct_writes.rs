//! Write transactions on the calling thread (SQLite only).
//!
//! SQLite lets one connection write at a time. The process's writes therefore take turns
//! ([`WriteTurns`]): a transaction, or a statement of the store's upkeep, holds the turn from
//! its first statement to its commit, and the next waits for it asynchronously, in order.
//! Whoever holds the turn writes on the calling thread, as the hot reads do (`direct.rs`):
//! each statement is a call into SQLite's C API instead of two thread hand-offs to sqlx's
//! worker. A refresh grant's transaction is five statements, so this is ten hand-offs
//! fewer per grant, and the turn is held for microseconds instead of the hand-offs' latency
//! (docs/performance.md, "What bounds the rest").
//!
//! Another process sharing the file may hold SQLite's write lock. Then `BEGIN IMMEDIATE`
//! here fails at once (no busy wait on the calling thread) and the transaction runs on
//! sqlx's writer instead, whose worker thread waits out the busy timeout; the turn is held
//! either way. A transaction dropped before its commit (an error, a cancelled request) is
//! rolled back when its turn ends.
//!
//! SQLite would also checkpoint in the committing thread, once the WAL holds 1,000 pages:
//! writing them back to the file and an `fsync`, milliseconds during which the turn is held
//! and an async worker thread blocked. Here the writer does not checkpoint; once a commit
//! leaves [`CHECKPOINT_PAGES`] in the WAL (SQLite's own threshold) a passive checkpoint (it
//! never waits for readers or writers) runs on a blocking thread on a connection of its own
//! while writes go on, then a second one in a turn of its own copies the few pages written
//! meanwhile, so that the next write starts the WAL over instead of growing it. (A WAL left
//! long makes every read dearer: each page read first looks for the page in the WAL's index.)

use std::cell::Cell;
use std::os::raw::c_int;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::de::DeserializeOwned;
use sqlx::error::{DatabaseError, ErrorKind};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::direct::{self, Failure};
use super::Stmt;

/// Prepared statements kept on the writing connection.
const PREPARED_STATEMENTS: usize = 128;

/// How long `BEGIN IMMEDIATE` waits here for another process's write lock before the
/// transaction goes to sqlx's writer (which waits without holding an async worker thread).
const BUSY_TIMEOUT: Duration = Duration::from_millis(0);

/// The pages a commit may leave in the WAL before a checkpoint starts (SQLite's default
/// `wal_autocheckpoint`).
const CHECKPOINT_PAGES: c_int = 1000;

thread_local! {
    /// The pages in the WAL after the last commit on this thread, as the writer's WAL hook
    /// saw them (the hook runs inside `COMMIT`, on the committing thread).
    static WAL_PAGES: Cell<c_int> = const { Cell::new(0) };
}

/// The writer's WAL hook: notes the WAL's pages for the commit that called it.
fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|noted| noted.set(pages));
    Ok(())
}

/// The process's turns to write to one SQLite file, and the connection the holder writes on.
pub(super) struct WriteTurns {
    writer: Arc<Mutex<Writer>>,
}

/// The connection writes run on here; `None` when it could not be opened or the store is
/// closed (every transaction then runs on sqlx's writer).
struct Writer {
    conn: Option<Connection>,
    /// The writer's checkpoints (`None`: SQLite's own, in the committing thread).
    checkpoints: Option<Arc<Checkpoints>>,
}

/// The turn to write: while it is held, no other write of this process runs.
pub(super) struct Turn(OwnedMutexGuard<Writer>);

impl WriteTurns {
    /// Turns for the SQLite file at `path` (migrated already).
    pub(super) fn open(path: &Path) -> Self {
        let writer = Arc::new_cyclic(|turns| {
            let checkpoints = Checkpoints::open(path, turns.clone());
            let conn = match open_writer(path, checkpoints.is_some()) {
                Ok(conn) => Some(conn),
                Err(e) => {
                    tracing::warn!(error = %e, "no writer on the calling thread; writing through the pool");
                    None
                }
            };
            Mutex::new(Writer { conn, checkpoints })
        });
        WriteTurns { writer }
    }

    /// Waits for the turn to write (in the order asked).
    pub(super) async fn take(&self) -> Turn {
        Turn(self.writer.clone().lock_owned().await)
    }

    /// Whether a write of this process holds the turn now.
    pub(super) fn taken(&self) -> bool {
        self.writer.try_lock().is_err()
    }

    /// Closes the writing connection once the turn is free; later writes use sqlx's writer
    /// (closed too, so they fail as a closed store's do).
    /// Before closing it folds the WAL into the file: a WAL left behind is read back at the
    /// next start (seconds, after a bulk import), and checkpointed then while it serves.
    pub(super) async fn close(&self) {
        let mut writer = self.writer.lock().await;
        if let Some(conn) = writer.conn.take() {
            fold_wal_into_file(&conn);
        }
        if let Some(checkpoints) = writer.checkpoints.take() {
            checkpoints.close();
        }
    }
}

/// How long closing waits for readers to let the WAL start over.
const CLOSING_CHECKPOINT_WAIT: Duration = Duration::from_millis(500);

/// Copies every WAL frame into the file and empties the WAL (`TRUNCATE`); best effort: a
/// reader of another process may keep it, and the WAL is then checkpointed as it would be.
fn fold_wal_into_file(conn: &Connection) {
    let folded = conn.busy_timeout(CLOSING_CHECKPOINT_WAIT).and_then(|()| {
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            row.get::<_, i64>(0)
        })
    });
    match folded {
        Ok(0) => {}
        Ok(_) => tracing::debug!("the WAL was in use at closing; it stays"),
        Err(e) => tracing::debug!(error = %e, "no checkpoint at closing"),
    }
}

/// The connection writes run on; it checkpoints itself unless `checkpointed_apart`.
fn open_writer(path: &Path, checkpointed_apart: bool) -> rusqlite::Result<Connection> {
    let conn = open_read_write(path)?;
    conn.execute_batch("PRAGMA foreign_keys = ON;")?;
    if checkpointed_apart {
        // Replaces SQLite's own checkpointing hook (`wal_autocheckpoint` is one too).
        conn.wal_hook(Some(note_wal_pages));
    }
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
    direct::keep_plans(&conn)?;
    Ok(conn)
}

/// A read-write connection as sqlx's writer is opened (`SqlStore::open_sqlite`: in WAL mode
/// NORMAL loses nothing when the process dies); the journal mode (WAL) is the file's own.
fn open_read_write(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
    Ok(conn)
}

/// The writer's checkpoints, off the calling thread.
struct Checkpoints {
    /// `None` once the store is closed.
    conn: std::sync::Mutex<Option<Connection>>,
    /// The turns to write, for the second round of a checkpoint.
    turns: Weak<Mutex<Writer>>,
    running: AtomicBool,
}

impl Checkpoints {
    fn open(path: &Path, turns: Weak<Mutex<Writer>>) -> Option<Arc<Self>> {
        match open_read_write(path) {
            Ok(conn) => Some(Arc::new(Checkpoints {
                conn: std::sync::Mutex::new(Some(conn)),
                turns,
                running: AtomicBool::new(false),
            })),
            Err(e) => {
                tracing::warn!(error = %e, "no connection for checkpoints; the writer checkpoints itself");
                None
            }
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Option<Connection>> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// After a commit on this thread: starts a checkpoint if the commit left
    /// [`CHECKPOINT_PAGES`] in the WAL, unless one is still running.
    fn committed(self: &Arc<Self>) {
        if WAL_PAGES.with(|noted| noted.replace(0)) < CHECKPOINT_PAGES
            || self.running.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let this = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move {
                this.checkpoint().await;
                this.running.store(false, Ordering::Release);
            })),
            // No runtime (never, as writes are async): the next commit tries again.
            Err(_) => self.running.store(false, Ordering::Release),
        }
    }

    /// Copies the WAL's pages to the file: most while writes go on, then the rest between
    /// two writes.
    async fn checkpoint(self: &Arc<Self>) {
        self.run_apart().await;
        let Some(turns) = self.turns.upgrade() else {
            return;
        };
        let _turn = turns.lock_owned().await;
        self.run_apart().await;
    }

    /// A passive checkpoint on a blocking thread.
    async fn run_apart(self: &Arc<Self>) {
        let this = self.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || this.run()).await {
            tracing::warn!(error = %e, "a checkpoint of the WAL did not finish");
        }
    }

    fn run(&self) {
        if let Some(conn) = self.conn().as_ref() {
            let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            if let Err(e) = done {
                tracing::warn!(error = %e, "a checkpoint of the WAL failed");
            }
        }
    }

    fn close(&self) {
        *self.conn() = None;
    }
}

impl Turn {
    /// Begins a write transaction on the calling thread; gives the turn back when this
    /// process cannot (no connection, or another process holds the file's write lock), for
    /// the transaction to run on sqlx's writer.
    pub(super) fn begin(self) -> Result<DirectTx, Turn> {
        let Some(conn) = &self.0.conn else {
            return Err(self);
        };
        match conn
            .prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]))
        {
            Ok(_) => Ok(DirectTx { turn: self }),
            Err(e) => {
                if !is_busy(&e) {
                    tracing::warn!(error = %e, "beginning a write on the calling thread failed; writing through the pool");
                }
                Err(self)
            }
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
}

/// A write transaction on the calling thread. Dropped uncommitted, it rolls back.
pub(super) struct DirectTx {
    turn: Turn,
}

impl DirectTx {
    /// The connection the transaction began on. (The turn is held, so `close` cannot have
    /// taken it; were it gone, the statement fails as on a closed pool.)
    fn conn(&self) -> sqlx::Result<&Connection> {
        self.turn.0.conn.as_ref().ok_or(sqlx::Error::PoolClosed)
    }

    pub(super) fn execute(&mut self, stmt: &Stmt) -> sqlx::Result<u64> {
        direct::execute(self.conn()?, stmt).map_err(into_sqlx)
    }

    pub(super) fn fetch_all<R: DeserializeOwned>(&mut self, stmt: &Stmt) -> sqlx::Result<Vec<R>> {
        direct::fetch_all(self.conn()?, stmt).map_err(into_sqlx)
    }

    pub(super) fn fetch_optional<R: DeserializeOwned>(
        &mut self,
        stmt: &Stmt,
    ) -> sqlx::Result<Option<R>> {
        direct::fetch_optional(self.conn()?, stmt).map_err(into_sqlx)
    }

    pub(super) fn commit(self) -> sqlx::Result<()> {
        self.conn()?
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map_err(|e| into_sqlx(Failure::Sqlite(e)))?;
        if let Some(checkpoints) = &self.turn.0.checkpoints {
            checkpoints.committed();
        }
        Ok(())
    }
}

impl Drop for DirectTx {
    fn drop(&mut self) {
        let Ok(conn) = self.conn() else { return };
        if !conn.is_autocommit() {
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "rolling back a write on the calling thread failed");
            }
        }
    }
}

/// A failure here as the sqlx error the store's callers read: SQLite's errors keep their
/// extended result code and kind (a unique or foreign-key violation is told as sqlx's own
/// SQLite driver tells it), a row that does not decode is a decoding error.
fn into_sqlx(failure: Failure) -> sqlx::Error {
    match failure {
        Failure::Sqlite(rusqlite::Error::SqliteFailure(code, message)) => {
            sqlx::Error::Database(Box::new(SqliteError {
                extended_code: code.extended_code,
                message: message.unwrap_or_else(|| code.to_string()),
            }))
        }
        Failure::Sqlite(other) => sqlx::Error::Protocol(other.to_string()),
        Failure::Decode(why) => sqlx::Error::Decode(why.into()),
        Failure::Bind(why) => sqlx::Error::Protocol(why),
    }
}

/// An error SQLite answered on the calling thread.
#[derive(Debug)]
struct SqliteError {
    extended_code: i32,
    message: String,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.extended_code, self.message)
    }
}

impl std::error::Error for SqliteError {}

impl DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.extended_code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{count, store_with_domain};
    use super::super::{Arg, SqlStore};
    use super::*;
    use crate::audit::Trail;
    use crate::error::Error;

    fn add_user(domain_id: &str, user_id: &str) -> Stmt {
        Stmt::new(
            "INSERT INTO users (domain_id, user_id, role, status, created_at, updated_at) \
             VALUES ($1, $2, 'user', 'enabled', 0, 0)",
            vec![Arg::Text(domain_id.into()), Arg::Text(user_id.into())],
        )
    }

    async fn users_named(store: &SqlStore, user_id: &str) -> i64 {
        count(
            store,
            "SELECT COUNT(*) FROM users WHERE user_id = $1",
            user_id,
        )
        .await
    }

    /// Runs `stmt` in a write transaction; answers whether it ran on the calling thread and
    /// the database's error, if any.
    async fn write_one(store: &SqlStore, stmt: Stmt) -> (bool, Option<sqlx::Error>) {
        let mut direct = false;
        let done = store
            .write(&Trail::none(), |tx| {
                direct = tx.on_calling_thread();
                let stmt = stmt.clone();
                Box::pin(async move { Ok(tx.execute(stmt).await?) })
            })
            .await;
        let error = done.err().map(|e| match e {
            Error::Internal(cause) => cause.downcast::<sqlx::Error>().expect("a sqlx error"),
            other => panic!("not a database error: {other:?}"),
        });
        (direct, error)
    }

    /// A unique or foreign-key violation on the calling thread is the error sqlx's own
    /// driver answers for it (code and kind), so the store's callers map it alike.
    #[tokio::test]
    async fn violations_on_the_calling_thread_are_told_as_sqlx_tells_them() {
        let (_dir, store) = store_with_domain().await;
        let first = write_one(&store, add_user("d", "u1")).await;
        assert!(first.1.is_none(), "{first:?}");
        for (stmt, unique) in [(add_user("d", "u1"), true), (add_user("nope", "u2"), false)] {
            let (direct, error) = write_one(&store, stmt.clone()).await;
            assert!(direct);
            let Some(sqlx::Error::Database(ours)) = error else {
                panic!("not a database error: {error:?}");
            };
            let Err(sqlx::Error::Database(theirs)) = store.upkeep(stmt).await else {
                panic!("sqlx's writer accepted the statement");
            };
            assert_eq!(ours.code(), theirs.code());
            assert_eq!(ours.kind(), theirs.kind());
            assert_eq!(ours.is_unique_violation(), unique);
            assert_eq!(ours.is_foreign_key_violation(), !unique);
        }
        assert_eq!(users_named(&store, "u2").await, 0);
    }

    /// A transaction that fails, or whose request is dropped midway, leaves nothing written
    /// and hands the turn on: the next write runs and commits.
    #[tokio::test]
    async fn a_transaction_dropped_before_its_commit_writes_nothing_and_frees_the_turn() {
        let (_dir, store) = store_with_domain().await;
        let failed = store
            .write(&Trail::none(), |tx| {
                Box::pin(async move {
                    tx.execute(add_user("d", "failed")).await?;
                    Err::<(), _>(Error::Conflict("refused".into()))
                })
            })
            .await;
        assert!(failed.is_err());
        let cancelled = tokio::time::timeout(
            Duration::from_millis(50),
            store.write(&Trail::none(), |tx| {
                Box::pin(async move {
                    tx.execute(add_user("d", "cancelled")).await?;
                    std::future::pending::<()>().await;
                    Ok(())
                })
            }),
        )
        .await;
        assert!(cancelled.is_err());
        assert!(write_one(&store, add_user("d", "next")).await.1.is_none());
        assert_eq!(users_named(&store, "failed").await, 0);
        assert_eq!(users_named(&store, "cancelled").await, 0);
        assert_eq!(users_named(&store, "next").await, 1);
    }

    /// The writer does not checkpoint in the committing thread, and the WAL still does not
    /// grow without bound: the checkpoints apart keep it to a few of their rounds.
    #[tokio::test]
    async fn the_wal_is_checkpointed_apart_from_the_writes() {
        let (dir, store) = store_with_domain().await;
        store
            .upkeep(Stmt::new("CREATE TABLE t (x TEXT NOT NULL)", vec![]))
            .await
            .unwrap();
        let row = "x".repeat(2000);
        for _ in 0..2000 {
            let insert = Stmt::new("INSERT INTO t VALUES ($1)", vec![Arg::Text(row.clone())]);
            let (direct, error) = write_one(&store, insert).await;
            assert!(direct && error.is_none());
            tokio::task::yield_now().await;
        }
        // Two thousand commits of two pages each: 19 MB of WAL when nothing checkpoints,
        // about 4 MB (1,000 pages and what is written during a checkpoint) when they run;
        // less than 8 MB means the WAL started over.
        let wal = std::fs::metadata(dir.path().join("t.db-wal"))
            .unwrap()
            .len();
        assert!(wal < 8 << 20, "the WAL grew to {wal} bytes");
    }

    /// A store closed after writes leaves no WAL behind for the next start to read back.
    #[tokio::test]
    async fn closing_folds_the_wal_into_the_file() {
        let (dir, store) = store_with_domain().await;
        let create = Stmt::new("CREATE TABLE t (x TEXT NOT NULL)", vec![]);
        store.upkeep(create).await.unwrap();
        for i in 0..50 {
            let insert = Stmt::new("INSERT INTO t VALUES ($1)", vec![Arg::Text(i.to_string())]);
            let (_, error) = write_one(&store, insert).await;
            assert!(error.is_none(), "{error:?}");
        }
        let wal = dir.path().join("t.db-wal");
        let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
        assert!(size(&wal) > 0, "the writes are in the WAL");
        store.close().await;
        assert_eq!(size(&wal), 0, "the WAL was folded into the file");
        let reopened = SqlStore::open_sqlite(&dir.path().join("t.db"))
            .await
            .unwrap();
        let rows = "SELECT COUNT(*) FROM t WHERE x <> $1";
        assert_eq!(count(&reopened, rows, "").await, 50);
    }

    /// While another process holds the file's write lock, a transaction does not wait on the
    /// calling thread: it waits on sqlx's writer, and commits once the lock is released.
    #[tokio::test]
    async fn a_write_lock_held_by_another_process_is_waited_for_off_the_calling_thread() {
        let (dir, store) = store_with_domain().await;
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let store = std::sync::Arc::new(store);
        let writing = tokio::spawn({
            let store = store.clone();
            async move { write_one(&store, add_user("d", "waited")).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!writing.is_finished());
        other.execute_batch("COMMIT").unwrap();
        let (direct, error) = writing.await.unwrap();
        assert!(!direct);
        assert!(error.is_none());
        assert_eq!(users_named(&store, "waited").await, 1);
        assert!(write_one(&store, add_user("d", "after")).await.0);
    }
}
