//! The one way this store reads and writes: a [`Reader`] over the read pool, and a typed
//! write transaction ([`Tx`]) that only [`SqlStore::write`] hands out. These types are the
//! only place that branches on the backend; the writer pool is reachable from nowhere else,
//! so a store method cannot write without going through the machinery here, which commits
//! every change together with its [`Journal`] (the change's audit records and event rows).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::postgres::{PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqlitePool, SqliteRow};
use sqlx::AssertSqlSafe;

use serde::de::DeserializeOwned;

use super::direct::DirectReads;
use super::direct_writes::{DirectTx, Turn, WriteTurns};
use super::pg_connections::PgConnections;
use super::{Arg, Dialect, Stmt};
use crate::audit::Trail;
use crate::error::{Error, Result};
use crate::store::audit_log::AuditRow;

/// A unit of work inside a write transaction: a closure `|tx| Box::pin(async move { .. })`.
/// (Boxed, rather than an `async` closure, so that the futures of the store's methods can be
/// proven `Send` for every lifetime of the transaction they borrow.)
/// `'a` is how long what the closure borrows lives; the transaction's type carries it so that
/// the closure's futures may hold those borrows.
pub(crate) trait Work<'a, T>:
    for<'t> FnMut(&'t mut Tx<'a>) -> BoxFuture<'t, Result<T>> + Send
{
}

impl<'a, T, F> Work<'a, T> for F where
    F: for<'t> FnMut(&'t mut Tx<'a>) -> BoxFuture<'t, Result<T>> + Send
{
}

/// A row type both backends can decode.
pub(crate) trait Row:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Row for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

/// Binds a statement's arguments onto a sqlx query of either backend (pure boilerplate: the
/// two backends' query types share no trait that `bind` is reachable through).
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Runs `Stmt`s on one executor of either backend: the three ways to run a statement,
/// written once for the connection types below.
macro_rules! run_on {
    (execute, $conn:expr, $stmt:expr) => {
        bind_all!(sqlx::query(AssertSqlSafe($stmt.sql)), $stmt.args)
            .persistent($stmt.prepared)
            .execute($conn)
            .await
            .map(|done| done.rows_affected())
    };
    (fetch_all, $conn:expr, $stmt:expr) => {
        bind_all!(sqlx::query_as(AssertSqlSafe($stmt.sql)), $stmt.args)
            .persistent($stmt.prepared)
            .fetch_all($conn)
            .await
    };
    (fetch_optional, $conn:expr, $stmt:expr) => {
        bind_all!(sqlx::query_as(AssertSqlSafe($stmt.sql)), $stmt.args)
            .persistent($stmt.prepared)
            .fetch_optional($conn)
            .await
    };
}

/// Runs a statement on a connection `$lending` lends (`pg_connections.rs`), which the store
/// keeps if the statement ran to its end (dropped, it goes back to sqlx's pool).
macro_rules! run_lent {
    ($how:ident, $lending:expr, $stmt:expr) => {{
        let mut lent = $lending.await?;
        let done = run_on!($how, lent.conn(), $stmt);
        if done.is_ok() {
            lent.keep();
        }
        done
    }};
}

/// Runs a read on PostgreSQL; once more if its connection turned out lost (a read changes
/// nothing, so the second run is the first that can answer; `pg_connections.rs`).
macro_rules! read_on_postgres {
    ($how:ident, $pg:expr, $stmt:expr) => {{
        let again = $stmt.clone();
        match run_lent!($how, $pg.lend(), $stmt) {
            Err(error) if $pg.lost(&error) => run_lent!($how, $pg.lend(), again),
            done => done,
        }
    }};
}

/// The pools of a store. SQLite allows one writer at a time: the process's writes take
/// turns (`direct_writes.rs`), so they queue in the process instead of failing with
/// SQLITE_BUSY, and run on the calling thread (or, while another process holds the file's
/// write lock, on a single-connection pool); reads run in parallel.
pub(super) enum Pools {
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
        /// The hot reads' connections, used on the calling thread (`direct.rs`).
        direct: DirectReads,
        /// The turns to write, and the connection writes run on in the calling thread.
        turns: WriteTurns,
    },
    Postgres(PgConnections),
}

impl Pools {
    pub(super) fn dialect(&self) -> Dialect {
        match self {
            Pools::Sqlite { .. } => Dialect::Sqlite,
            Pools::Postgres(_) => Dialect::Postgres,
        }
    }

    pub(super) fn reader(&self) -> Reader<'_> {
        match self {
            Pools::Sqlite { reader, direct, .. } => Reader::Sqlite {
                pool: reader,
                direct,
            },
            Pools::Postgres(pg) => Reader::Postgres(pg),
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front, so that
    /// processes sharing the file queue on the busy timeout instead of failing when a
    /// deferred transaction tries to upgrade.
    async fn begin<'a>(&self) -> sqlx::Result<Tx<'a>> {
        let conn = match self {
            Pools::Sqlite { writer, turns, .. } => match turns.take().await.begin() {
                Ok(direct) => TxConn::SqliteDirect(direct),
                Err(turn) => TxConn::Sqlite {
                    tx: writer.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: turn,
                },
            },
            // What `PgPool::begin` does, on a connection the store may have kept.
            Pools::Postgres(pg) => TxConn::Postgres(
                sqlx::Transaction::begin(pg.lend().await?.into_pooled(), None).await?,
            ),
        };
        Ok(Tx {
            conn,
            discarded: false,
            wrote_memberships_or_drives: false,
            borrows: PhantomData,
        })
    }

    /// Whether a write transaction starting now must wait: for its turn on SQLite, for a
    /// connection on PostgreSQL (none is idle and the pool may open no more).
    fn writer_busy(&self) -> bool {
        match self {
            Pools::Sqlite { turns, .. } => turns.taken(),
            Pools::Postgres(pg) => pg.exhausted(),
        }
    }

    /// Whether `e` says a write's connection was lost (on PostgreSQL; a SQLite file is not
    /// lost), so that a write which had not sent its commit yet may run again.
    fn lost(&self, e: &Error) -> bool {
        match self {
            Pools::Postgres(pg) => sqlx_cause(e).is_some_and(|e| pg.lost(e)),
            Pools::Sqlite { .. } => false,
        }
    }

    /// Runs one statement on the writer outside any explicit transaction (on SQLite in its
    /// turn, on sqlx's writer: an upkeep statement may be a long purge, which should not hold
    /// an async worker thread).
    async fn execute_alone(&self, stmt: Stmt) -> sqlx::Result<u64> {
        match self {
            Pools::Sqlite { writer, turns, .. } => {
                let _turn = turns.take().await;
                run_on!(execute, writer, stmt)
            }
            Pools::Postgres(pg) => run_lent!(execute, pg.checked(), stmt),
        }
    }

    async fn fetch_alone<R: Row>(&self, stmt: Stmt) -> sqlx::Result<Option<R>> {
        match self {
            Pools::Sqlite { writer, turns, .. } => {
                let _turn = turns.take().await;
                run_on!(fetch_optional, writer, stmt)
            }
            Pools::Postgres(pg) => run_lent!(fetch_optional, pg.checked(), stmt),
        }
    }

    async fn fetch_all_alone<R: Row>(&self, stmt: Stmt) -> sqlx::Result<Vec<R>> {
        match self {
            Pools::Sqlite { writer, turns, .. } => {
                let _turn = turns.take().await;
                run_on!(fetch_all, writer, stmt)
            }
            Pools::Postgres(pg) => run_lent!(fetch_all, pg.checked(), stmt),
        }
    }

    /// Each pool's open and idle connections, for the metrics.
    pub(super) fn states(&self) -> Vec<crate::metrics::PoolState> {
        fn state<DB: sqlx::Database>(
            pool: &'static str,
            of: &sqlx::Pool<DB>,
        ) -> crate::metrics::PoolState {
            crate::metrics::PoolState {
                pool,
                connections: of.size(),
                idle: u32::try_from(of.num_idle()).unwrap_or(u32::MAX),
                ..Default::default()
            }
        }
        match self {
            Pools::Sqlite { reader, writer, .. } => {
                vec![state("reader", reader), state("writer", writer)]
            }
            Pools::Postgres(pg) => vec![crate::metrics::PoolState {
                idle: u32::try_from(pg.idle()).unwrap_or(u32::MAX),
                ..state("main", pg.pool())
            }],
        }
    }

    pub(super) async fn close(&self) {
        match self {
            Pools::Sqlite {
                reader,
                writer,
                direct,
                turns,
            } => {
                direct.close();
                turns.close().await;
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pg) => pg.close().await,
        }
    }
}

/// The store on SQLite or PostgreSQL. Its pools are private to this module: the other
/// modules read through [`SqlStore::reader`] and write through [`SqlStore::write`] and its
/// one-statement forms, so none can reach the writer any other way.
pub struct SqlStore {
    pools: Pools,
    /// The callers' rows (SQLite only; `callers.rs`).
    pub(super) callers: Option<super::callers::CallerCache>,
    /// Write transactions that had to wait for a connection, for the metrics (`health.rs`).
    pub(super) write_waits: super::health::WriteWaits,
}

impl SqlStore {
    pub(super) fn from_pools(pools: Pools, callers: Option<super::callers::CallerCache>) -> Self {
        SqlStore {
            pools,
            callers,
            write_waits: Default::default(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.pools.dialect()
    }

    /// The calling-thread readers of a SQLite store.
    #[cfg(test)]
    pub(super) fn direct_reads(&self) -> Option<&DirectReads> {
        match &self.pools {
            Pools::Sqlite { direct, .. } => Some(direct),
            Pools::Postgres(_) => None,
        }
    }

    /// Each pool's open and idle connections.
    pub(super) fn pool_states(&self) -> Vec<crate::metrics::PoolState> {
        self.pools.states()
    }

    /// Closes every connection (so a SQLite file is released before a restart).
    pub async fn close(&self) {
        self.pools.close().await
    }
}

/// Reads through the read pool (or, for the hot reads, on the calling thread: `direct.rs`).
pub(super) enum Reader<'a> {
    Sqlite {
        pool: &'a SqlitePool,
        direct: &'a DirectReads,
    },
    Postgres(&'a PgConnections),
}

impl Reader<'_> {
    /// Runs a statement that changes no rows (`VACUUM INTO`, `VACUUM ANALYZE`).
    pub(super) async fn execute(&self, stmt: Stmt) -> sqlx::Result<u64> {
        match self {
            Reader::Sqlite { pool, .. } => run_on!(execute, *pool, stmt),
            Reader::Postgres(pg) => read_on_postgres!(execute, pg, stmt),
        }
    }

    pub(super) async fn fetch_all<R: Row>(&self, stmt: Stmt) -> sqlx::Result<Vec<R>> {
        match self {
            Reader::Sqlite { pool, .. } => run_on!(fetch_all, *pool, stmt),
            Reader::Postgres(pg) => read_on_postgres!(fetch_all, pg, stmt),
        }
    }

    pub(super) async fn fetch_optional<R: Row>(&self, stmt: Stmt) -> sqlx::Result<Option<R>> {
        match self {
            Reader::Sqlite { pool, .. } => run_on!(fetch_optional, *pool, stmt),
            Reader::Postgres(pg) => read_on_postgres!(fetch_optional, pg, stmt),
        }
    }

    /// [`Reader::fetch_all`] for the hot reads: on SQLite it runs on the calling thread
    /// (`direct.rs`), the rows decoded through serde, so `R`'s serde names must be its
    /// columns' as its `FromRow` names are.
    pub(super) async fn fetch_all_inline<R: Row + DeserializeOwned>(
        &self,
        stmt: Stmt,
    ) -> sqlx::Result<Vec<R>> {
        if let Reader::Sqlite { direct, .. } = self {
            match direct.fetch_all(&stmt) {
                Ok(rows) => return Ok(rows),
                Err(why) => why.log(),
            }
        }
        self.fetch_all(stmt).await
    }

    /// [`Reader::fetch_optional`] for the hot reads (see [`Reader::fetch_all_inline`]).
    pub(super) async fn fetch_optional_inline<R: Row + DeserializeOwned>(
        &self,
        stmt: Stmt,
    ) -> sqlx::Result<Option<R>> {
        if let Reader::Sqlite { direct, .. } = self {
            match direct.fetch_optional(&stmt) {
                Ok(row) => return Ok(row),
                Err(why) => why.log(),
            }
        }
        self.fetch_optional(stmt).await
    }
}

enum TxConn {
    /// On the calling thread, in the process's turn.
    SqliteDirect(DirectTx),
    /// On sqlx's writer (another process held the write lock), in the process's turn.
    Sqlite {
        tx: sqlx::Transaction<'static, Sqlite>,
        _turn: Turn,
    },
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A write transaction of either backend. Only [`SqlStore::write`] makes one, and it commits
/// the change's [`Journal`] with it.
pub(crate) struct Tx<'a> {
    conn: TxConn,
    /// Set by [`Tx::discard`]: the work found nothing to change.
    discarded: bool,
    /// Whether a statement marked as inserting into `group_members` or `drives`
    /// ([`Stmt::adding_membership_or_drive`]) ran (even one a savepoint undid): if none did, a user this transaction creates has no first memberships or
    /// drives, and its events need not look for them (`events.rs`).
    wrote_memberships_or_drives: bool,
    /// The lifetime of what the work borrows (see [`Work`]).
    borrows: PhantomData<&'a ()>,
}

impl<'a> Tx<'a> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self.conn {
            TxConn::SqliteDirect(_) | TxConn::Sqlite { .. } => Dialect::Sqlite,
            TxConn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; answers the number of rows it affected.
    pub(crate) async fn execute(&mut self, stmt: Stmt) -> sqlx::Result<u64> {
        self.note(&stmt);
        match &mut self.conn {
            TxConn::SqliteDirect(tx) => tx.execute(&stmt),
            TxConn::Sqlite { tx, .. } => run_on!(execute, &mut **tx, stmt),
            TxConn::Postgres(tx) => run_on!(execute, &mut **tx, stmt),
        }
    }

    /// Notes a statement that inserts a membership or a drive (as its builder marked it).
    fn note(&mut self, stmt: &Stmt) {
        self.wrote_memberships_or_drives |= stmt.adds_membership_or_drive;
    }

    /// The rows `stmt` answers (`R`'s serde names must be its columns', as its `FromRow`
    /// names are: on SQLite they are decoded through serde, `direct.rs`).
    pub(crate) async fn fetch_all<R: Row + DeserializeOwned>(
        &mut self,
        stmt: Stmt,
    ) -> sqlx::Result<Vec<R>> {
        self.note(&stmt);
        match &mut self.conn {
            TxConn::SqliteDirect(tx) => tx.fetch_all(&stmt),
            TxConn::Sqlite { tx, .. } => run_on!(fetch_all, &mut **tx, stmt),
            TxConn::Postgres(tx) => run_on!(fetch_all, &mut **tx, stmt),
        }
    }

    /// The first row `stmt` answers (see [`Tx::fetch_all`]).
    pub(crate) async fn fetch_optional<R: Row + DeserializeOwned>(
        &mut self,
        stmt: Stmt,
    ) -> sqlx::Result<Option<R>> {
        self.note(&stmt);
        match &mut self.conn {
            TxConn::SqliteDirect(tx) => tx.fetch_optional(&stmt),
            TxConn::Sqlite { tx, .. } => run_on!(fetch_optional, &mut **tx, stmt),
            TxConn::Postgres(tx) => run_on!(fetch_optional, &mut **tx, stmt),
        }
    }

    /// Runs `work` so that a rule it breaks (an `Err` other than `Internal`) undoes only
    /// what `work` wrote, and the transaction goes on; an `Internal` error fails it whole.
    /// `name` names the savepoint (one per nesting level).
    pub(crate) async fn attempt<T>(
        &mut self,
        name: &str,
        work: impl for<'t> FnOnce(&'t mut Tx<'a>) -> BoxFuture<'t, Result<T>>,
    ) -> Result<Result<T>> {
        self.execute(Stmt::new(format!("SAVEPOINT {name}"), vec![]))
            .await?;
        match work(self).await {
            Ok(done) => {
                self.execute(Stmt::new(format!("RELEASE SAVEPOINT {name}"), vec![]))
                    .await?;
                Ok(Ok(done))
            }
            Err(e @ Error::Internal(_)) => Err(e),
            Err(broken) => {
                self.execute(Stmt::new(format!("ROLLBACK TO SAVEPOINT {name}"), vec![]))
                    .await?;
                self.execute(Stmt::new(format!("RELEASE SAVEPOINT {name}"), vec![]))
                    .await?;
                Ok(Err(broken))
            }
        }
    }

    /// Ends the work without committing: it found nothing to change (the row was gone), so
    /// its records stay pending on the request's trail, and the request answers them as a
    /// failure.
    pub(crate) fn discard(&mut self) {
        self.discarded = true;
    }

    /// Whether this transaction runs on the calling thread (`direct_writes.rs`).
    #[cfg(test)]
    pub(crate) fn on_calling_thread(&self) -> bool {
        matches!(self.conn, TxConn::SqliteDirect(_))
    }

    /// Whether any statement of this transaction so far inserted a membership or a drive.
    pub(crate) fn wrote_memberships_or_drives(&self) -> bool {
        self.wrote_memberships_or_drives
    }

    async fn commit(self) -> sqlx::Result<()> {
        match self.conn {
            TxConn::SqliteDirect(tx) => tx.commit(),
            TxConn::Sqlite { tx, .. } => tx.commit().await,
            TxConn::Postgres(tx) => tx.commit().await,
        }
    }
}

/// What a change writes besides its own rows, in its own transaction: the audit records the
/// request noted on the trail handed to [`SqlStore::write`], and the events they stand for
/// (`events.rs`).
pub(crate) struct Journal {
    audit: Vec<AuditRow>,
    /// The objects the change deletes, as they were when the transaction began (by the log id
    /// of the record naming each), for the deletion events.
    deleted: HashMap<String, serde_json::Value>,
}

impl Journal {
    /// Reads, at the start of a transaction, the objects the noted deletions will remove.
    async fn before(
        trail: &Trail,
        tx: &mut Tx<'_>,
    ) -> sqlx::Result<HashMap<String, serde_json::Value>> {
        let deletions = trail.pending_where(super::events::is_deletion);
        if deletions.is_empty() || cfg!(feature = "bench-no-events") {
            return Ok(HashMap::new());
        }
        super::events::snapshot_deletions(tx, &deletions).await
    }

    /// The records the trail holds, taken from it to be written.
    fn pending(trail: &Trail, deleted: HashMap<String, serde_json::Value>) -> Self {
        Journal {
            audit: trail.take_pending(),
            deleted,
        }
    }

    async fn write(&self, tx: &mut Tx<'_>) -> sqlx::Result<()> {
        let audit = super::audit_log::insert_stmts(tx.dialect(), &self.audit);
        // `bench-no-events` (never in a release): measures what writing events costs.
        let events = if cfg!(feature = "bench-no-events") {
            Default::default()
        } else {
            super::events::event_rows(tx, &self.audit, &self.deleted).await?
        };
        // As few statements as the bound-parameter limits allow (usually one): each is a
        // round trip to the database (on SQLite, two thread hand-offs). Last before COMMIT:
        // the events take their domain's sequence row, held till then.
        for stmt in super::events::journal_stmts(tx.dialect(), audit, events) {
            tx.execute(stmt).await?;
        }
        Ok(())
    }

    /// Puts back on `trail` the records of a transaction that did not commit (for a retry, or
    /// to be written as failures).
    fn restore(self, trail: &Trail) {
        trail.restore(self.audit);
    }
}

/// How many times a write is tried when the database reports a serialization failure.
const ATTEMPTS: u32 = 6;
/// The first pause between attempts; it doubles after each.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(5);

/// Is this a transaction conflict the database asks us to retry (SQLSTATE 40001)?
fn is_retryable_sqlx(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40001"))
}

/// How far a write transaction's attempt got before it failed: a commit that fails may have
/// been kept (its answer lost with the connection), what fails before it was not.
enum Failed {
    BeforeCommit(Error),
    AtCommit(Error),
}

impl Failed {
    fn into_error(self) -> Error {
        match self {
            Failed::BeforeCommit(e) | Failed::AtCommit(e) => e,
        }
    }
}

fn is_retryable(e: &Error) -> bool {
    sqlx_cause(e).is_some_and(is_retryable_sqlx)
}

/// The database error behind an internal error, if one is.
fn sqlx_cause(e: &Error) -> Option<&sqlx::Error> {
    match e {
        Error::Internal(cause) => cause.downcast_ref::<sqlx::Error>(),
        _ => None,
    }
}

impl SqlStore {
    pub(super) fn reader(&self) -> Reader<'_> {
        self.pools.reader()
    }

    /// Runs `work` in a write transaction and commits it with the [`Journal`] of the records
    /// pending on `trail` (the request's), so a change and its records land together or not
    /// at all; [`Trail::none`] for a change no request makes. `work` is run again from the
    /// start when the database reports a serialization failure, as CockroachDB and
    /// YugabyteDB do under contention (free on plain PostgreSQL and SQLite), and when its
    /// PostgreSQL connection turns out lost before the commit was sent (nothing of it was
    /// kept; `pg_connections.rs`). An `Err` from `work` rolls everything back.
    pub(super) async fn write<'a, T: Send>(
        &'a self,
        trail: &Trail,
        mut work: impl Work<'a, T>,
    ) -> Result<T> {
        let mut delay = FIRST_RETRY_DELAY;
        for _ in 1..ATTEMPTS {
            match self.write_once(trail, &mut work).await {
                Ok(done) => return Ok(done),
                Err(failed) if self.worth_another_attempt(&failed) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(failed) => return Err(failed.into_error()),
            }
        }
        self.write_once(trail, &mut work)
            .await
            .map_err(Failed::into_error)
    }

    fn worth_another_attempt(&self, failed: &Failed) -> bool {
        match failed {
            Failed::BeforeCommit(e) => is_retryable(e) || self.pools.lost(e),
            Failed::AtCommit(e) => is_retryable(e),
        }
    }

    async fn write_once<'a, T: Send>(
        &'a self,
        trail: &Trail,
        work: &mut impl Work<'a, T>,
    ) -> std::result::Result<T, Failed> {
        let busy = self.pools.writer_busy();
        let started = std::time::Instant::now();
        let mut tx = self
            .pools
            .begin()
            .await
            .map_err(|e| Failed::BeforeCommit(e.into()))?;
        if busy {
            self.write_waits.note(started.elapsed());
        }
        let deleted = Journal::before(trail, &mut tx)
            .await
            .map_err(|e| Failed::BeforeCommit(e.into()))?;
        let done = work(&mut tx).await.map_err(Failed::BeforeCommit)?;
        if tx.discarded {
            return Ok(done);
        }
        let journal = Journal::pending(trail, deleted);
        let committed = match journal.write(&mut tx).await {
            Ok(()) => tx.commit().await.map_err(|e| Failed::AtCommit(e.into())),
            Err(e) => Err(Failed::BeforeCommit(e.into())),
        };
        if let Err(failed) = committed {
            journal.restore(trail);
            return Err(failed);
        }
        Ok(done)
    }

    /// Runs one writing statement with the records pending on `trail`; answers the rows it
    /// affected. A statement that changed nothing (no row matched) commits no journal: the
    /// records stay pending, for the request to answer (as a failure, if it fails). With no
    /// records pending it runs alone, without an explicit transaction (which would cost two
    /// more round trips).
    pub(super) async fn write_statement(&self, trail: &Trail, stmt: Stmt) -> sqlx::Result<u64> {
        if !trail.has_pending() {
            return self.upkeep(stmt).await;
        }
        self.write_sqlx(trail, |tx| {
            let stmt = stmt.clone();
            Box::pin(async move {
                let changed = tx.execute(stmt).await?;
                if changed == 0 {
                    tx.discard();
                }
                Ok(changed)
            })
        })
        .await
    }

    /// [`SqlStore::write_statement`] of an `... RETURNING` statement.
    pub(super) async fn write_returning<R: Row + DeserializeOwned>(
        &self,
        trail: &Trail,
        stmt: Stmt,
    ) -> sqlx::Result<Option<R>> {
        if !trail.has_pending() {
            return self.upkeep_returning(stmt).await;
        }
        self.write_sqlx(trail, |tx| {
            let stmt = stmt.clone();
            Box::pin(async move {
                let row = tx.fetch_optional(stmt).await?;
                if row.is_none() {
                    tx.discard();
                }
                Ok(row)
            })
        })
        .await
    }

    /// [`SqlStore::write`] of work whose errors are sqlx's, answered as they came, for the
    /// caller to map (a unique violation to `AlreadyExists`, ...).
    async fn write_sqlx<'a, T: Send + 'a>(
        &'a self,
        trail: &Trail,
        mut work: impl for<'t> FnMut(&'t mut Tx<'a>) -> BoxFuture<'t, sqlx::Result<T>> + Send,
    ) -> sqlx::Result<T> {
        self.write(trail, |tx| {
            let done = work(tx);
            Box::pin(async move { Ok(done.await?) })
        })
        .await
        .map_err(into_sqlx)
    }

    /// Runs one statement of the store's own upkeep (purges, counters that are not the
    /// request's change): alone, never with the request's records, retried on conflicts.
    pub(super) async fn upkeep(&self, stmt: Stmt) -> sqlx::Result<u64> {
        retrying(|| self.pools.execute_alone(stmt.clone())).await
    }

    /// [`SqlStore::upkeep`] of an `... RETURNING` statement; also reads what the writer has
    /// just written where a read replica could lag.
    pub(super) async fn upkeep_returning<R: Row>(&self, stmt: Stmt) -> sqlx::Result<Option<R>> {
        retrying(|| self.pools.fetch_alone(stmt.clone())).await
    }

    /// [`SqlStore::upkeep_returning`] of a statement returning many rows.
    pub(super) async fn upkeep_returning_all<R: Row>(&self, stmt: Stmt) -> sqlx::Result<Vec<R>> {
        retrying(|| self.pools.fetch_all_alone(stmt.clone())).await
    }
}

/// Runs `attempt` again while the database reports a serialization failure.
async fn retrying<T, F, Fut>(mut attempt: F) -> sqlx::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = sqlx::Result<T>>,
{
    let mut delay = FIRST_RETRY_DELAY;
    for _ in 1..ATTEMPTS {
        match attempt().await {
            Err(e) if is_retryable_sqlx(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            done => return done,
        }
    }
    attempt().await
}

/// An error of the write machinery back as the sqlx error it came from.
fn into_sqlx(e: Error) -> sqlx::Error {
    match e {
        Error::Internal(cause) => match cause.downcast::<sqlx::Error>() {
            Ok(e) => e,
            Err(other) => sqlx::Error::Protocol(other.to_string()),
        },
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod journal_tests {
    use super::*;
    use crate::audit::Event;

    fn note(trail: &Trail, target_id: &str) {
        trail.record(Event {
            domain_id: "d",
            actor_id: "u",
            action: "test.noted",
            target_type: "test",
            target_id,
            detail: serde_json::Value::Null,
        });
    }

    fn request(request_id: &str) -> Trail {
        Trail::new(request_id.into(), "127.0.0.1".into(), Default::default())
    }

    fn describe_domain(domain_id: &str) -> Stmt {
        Stmt::new(
            "UPDATE domains SET description = 'changed' WHERE domain_id = $1",
            vec![Arg::Text(domain_id.into())],
        )
    }

    async fn records_of(store: &SqlStore, request_id: &str) -> i64 {
        let sql = "SELECT COUNT(*) FROM audit_log WHERE request_id = $1";
        super::super::tests::count(store, sql, request_id).await
    }

    #[tokio::test]
    async fn a_write_commits_the_records_of_the_trail_it_is_handed_and_no_other() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        let (ours, other) = (request("ours"), request("other"));
        note(&ours, "a");
        note(&other, "b");
        let changed = store.write_statement(&ours, describe_domain("d")).await;
        assert_eq!(changed.unwrap(), 1);
        assert!(!ours.has_pending());
        assert!(other.has_pending());
        assert_eq!(records_of(&store, "ours").await, 1);
        assert_eq!(records_of(&store, "other").await, 0);
    }

    #[tokio::test]
    async fn a_write_that_changes_nothing_or_fails_leaves_its_records_pending() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        let trail = request("r");
        note(&trail, "a");
        let changed = store.write_statement(&trail, describe_domain("nope")).await;
        assert_eq!(changed.unwrap(), 0);
        let failed = store
            .write(&trail, |tx| {
                Box::pin(async move {
                    tx.execute(describe_domain("d")).await?;
                    Err::<(), _>(Error::Conflict("refused".into()))
                })
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(trail.take_pending().len(), 1);
        assert_eq!(records_of(&store, "r").await, 0);
    }
}
