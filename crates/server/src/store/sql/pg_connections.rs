//! The PostgreSQL pool: connections checked only when they may have been dropped, and kept
//! by the store between statements instead of going back to sqlx's pool after each.
//!
//! sqlx checks a pooled connection before it hands it out (`test_before_acquire`) and again
//! when it comes back: a `Sync` message and PostgreSQL's answer each time, one more round trip
//! and backend wake-up per check (a `user/get` is two statements: with both checks, six
//! messages where two do the work). A connection in use a moment ago is as alive as the
//! socket says; the ones that may be dead are those left idle a long while (an idle timeout,
//! a firewall forgetting the flow) and all of them once PostgreSQL has dropped any (a restart,
//! `pg_terminate_backend`). So:
//!
//! - a connection idle for more than [`CHECK_WHEN_IDLE_FOR`] is checked, as before;
//! - a statement that fails because its connection was lost marks the pool *suspect* for
//!   [`SUSPECT_FOR`], during which every connection handed out is checked (those that fail
//!   are closed and new ones opened). A read is then run once more: it changes nothing, so the
//!   second run is the first that can answer. A write transaction that lost its connection
//!   before its commit was sent is run again from its start (`SqlStore::write`): nothing of
//!   it was kept. One lost at its commit is not: whether it was kept cannot be known.
//! - a write without an explicit transaction (the store's upkeep) could not be run again
//!   either, so its connection is checked first, always ([`PgConnections::checked`]).
//!
//! The check on the way back (sqlx's, unconditional) is there for a connection left in the
//! middle of a statement (its future dropped) or of a transaction. A statement that ran to
//! its end leaves neither: such a connection goes back to the store's own stack of connections
//! ([`Lent`]), unchecked, and the next statement takes it from there (the most recently used
//! first); any other goes back to sqlx, which checks it. Write transactions run on sqlx's
//! transaction type, which rolls back what was not committed: their connections go back to
//! sqlx. A kept connection also goes back when idle for a minute (sqlx closes idle ones in
//! time) and after five minutes kept (sqlx closes old ones). While a statement waits for a
//! connection from sqlx's pool (all of them lent), none is kept: each goes back to sqlx, which
//! hands it to the first waiting (kept, it would wait in vain until its acquire timeout).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::Connection;

/// A connection idle this long is checked before use.
const CHECK_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// How long, after a connection was found lost, every connection is checked before use.
const SUSPECT_FOR: Duration = Duration::from_secs(10);

/// A kept connection unused this long goes back to sqlx's pool, which closes the connections
/// it holds idle for long (so a burst's connections do not stay open for good).
const KEEP_IDLE_FOR: Duration = Duration::from_secs(60);

/// A connection kept this long, however busy, goes back to sqlx's pool once, so that sqlx's
/// limit on a connection's age (30 minutes) still closes it in time.
const KEEP_AT_MOST_FOR: Duration = Duration::from_secs(5 * 60);

/// A connection the store keeps between statements.
struct Kept {
    conn: PoolConnection<Postgres>,
    /// When it was last given back.
    idle_since: Instant,
    /// When the store took it from sqlx's pool.
    taken_at: Instant,
}

/// The connections the store keeps, and how many statements wait for one from sqlx's pool
/// (one lock for both: a connection is kept only while nobody waits).
#[derive(Default)]
struct Shelf {
    /// Taken from sqlx's pool and not given back, idle (the last used on top).
    stack: Vec<Kept>,
    /// Statements waiting in `PgPool::acquire`.
    waiting: usize,
}

/// The pool, the connections the store keeps between statements, and when connections were
/// last found dropped.
pub(super) struct PgConnections {
    pool: PgPool,
    shelf: Mutex<Shelf>,
    suspicion: Suspicion,
}

impl PgConnections {
    /// Connects a pool of at most `max_connections` that checks a connection only when it
    /// may have been dropped.
    pub(super) async fn connect(
        options: PgConnectOptions,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> sqlx::Result<Self> {
        let suspicion = Suspicion::new();
        let checks = suspicion.clone();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let check = checks.active() || meta.idle_for > CHECK_WHEN_IDLE_FOR;
                Box::pin(async move {
                    if check {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        Ok(PgConnections {
            pool,
            shelf: Mutex::new(Shelf::default()),
            suspicion,
        })
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A connection for a statement: the last one kept, checked if it may have been dropped
    /// (as sqlx's pool checks those it hands out), or else one from sqlx's pool.
    pub(super) async fn lend(&self) -> sqlx::Result<Lent<'_>> {
        let waiting = loop {
            let mut kept = match self.take_kept_or_wait() {
                Ok(kept) => kept,
                Err(waiting) => break waiting,
            };
            let idle_for = kept.idle_since.elapsed();
            let check = self.suspicion.active() || idle_for > CHECK_WHEN_IDLE_FOR;
            if !check {
                return Ok(Lent::new(kept.conn, kept.taken_at, self));
            }
            match kept.conn.ping().await {
                Ok(()) => return Ok(Lent::new(kept.conn, kept.taken_at, self)),
                Err(error) => {
                    self.lost(&error);
                    kept.conn.close_on_drop();
                }
            }
        };
        let conn = self.pool.acquire().await;
        drop(waiting);
        Ok(Lent::new(conn?, Instant::now(), self))
    }

    /// A connection checked now, for a statement that cannot run again (a write without an
    /// explicit transaction: whether one that lost its connection committed cannot be known).
    pub(super) async fn checked(&self) -> sqlx::Result<Lent<'_>> {
        let mut lent = self.lend().await?;
        match lent.conn().ping().await {
            Ok(()) => Ok(lent),
            Err(error) if self.lost(&error) => {
                // The next one is checked on its way out, the pool now suspect.
                drop(lent);
                self.lend().await
            }
            Err(error) => Err(error),
        }
    }

    /// Whether no connection is idle and the pool may open no more.
    pub(super) fn exhausted(&self) -> bool {
        self.kept_count() == 0
            && self.pool.num_idle() == 0
            && self.pool.size() >= self.pool.options().get_max_connections()
    }

    /// The connections idle now, kept or in sqlx's pool.
    pub(super) fn idle(&self) -> usize {
        self.kept_count() + self.pool.num_idle()
    }

    /// Closes every connection (the kept ones go back to sqlx's pool first, which closes
    /// them: a closing pool waits for every connection it lent).
    pub(super) async fn close(&self) {
        let kept = std::mem::take(&mut self.lock_shelf().stack);
        drop(kept);
        self.pool.close().await;
    }

    /// The last kept connection or, when none is kept, a place in the queue for sqlx's pool
    /// (taken under the same lock, so that no connection is kept from then on until the
    /// waiter has one: sqlx hands the connections that come back to those waiting).
    fn take_kept_or_wait(&self) -> Result<Kept, Waiting<'_>> {
        let mut shelf = self.lock_shelf();
        match shelf.stack.pop() {
            Some(kept) => Ok(kept),
            None => {
                shelf.waiting += 1;
                Err(Waiting { home: self })
            }
        }
    }

    fn kept_count(&self) -> usize {
        self.lock_shelf().stack.len()
    }

    /// Keeps a connection whose statement ran to its end, unless a statement waits for one
    /// from sqlx's pool, it was kept for [`KEEP_AT_MOST_FOR`] already or the pool is closing:
    /// then it goes back to sqlx's pool (which hands it to the first waiting). The oldest
    /// kept one goes back when it has been idle for [`KEEP_IDLE_FOR`].
    fn keep(&self, conn: PoolConnection<Postgres>, taken_at: Instant) {
        if self.pool.is_closed() || taken_at.elapsed() > KEEP_AT_MOST_FOR {
            return;
        }
        let mut shelf = self.lock_shelf();
        if shelf.waiting > 0 {
            drop(shelf);
            drop(conn);
            return;
        }
        let stale = shelf
            .stack
            .first()
            .is_some_and(|oldest| oldest.idle_since.elapsed() > KEEP_IDLE_FOR);
        let returned = stale.then(|| shelf.stack.remove(0));
        shelf.stack.push(Kept {
            conn,
            idle_since: Instant::now(),
            taken_at,
        });
        drop(shelf);
        drop(returned);
    }

    fn lock_shelf(&self) -> std::sync::MutexGuard<'_, Shelf> {
        // A panic while the lock was held left plain data: still sound to use.
        self.shelf
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `error` says the statement's connection was lost (so that a read, or a write
    /// transaction that had not sent its commit, may run again); if so, the pool's connections
    /// are checked for a while.
    pub(super) fn lost(&self, error: &sqlx::Error) -> bool {
        let lost = connection_lost(error);
        if lost {
            tracing::info!(%error, "a PostgreSQL connection was lost; checking connections");
            self.suspicion.raise();
        }
        lost
    }
}

/// A statement's place in the queue for sqlx's pool, left when dropped (whether it got a
/// connection, failed, or was itself dropped while waiting).
struct Waiting<'p> {
    home: &'p PgConnections,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.home.lock_shelf().waiting -= 1;
    }
}

/// A connection lent for one statement (or a few, in order). Given back with
/// [`Lent::keep`] once they ran to their end, the store keeps it; merely dropped (its
/// statement failed, or was itself dropped halfway, leaving PostgreSQL's answer unread), it
/// goes back to sqlx's pool, which checks it.
pub(super) struct Lent<'p> {
    conn: PoolConnection<Postgres>,
    /// When the store took it from sqlx's pool.
    taken_at: Instant,
    home: &'p PgConnections,
}

impl<'p> Lent<'p> {
    fn new(conn: PoolConnection<Postgres>, taken_at: Instant, home: &'p PgConnections) -> Self {
        Lent {
            conn,
            taken_at,
            home,
        }
    }

    pub(super) fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// Gives the connection back for the store to keep: its statements ran to their end,
    /// without error.
    pub(super) fn keep(self) {
        self.home.keep(self.conn, self.taken_at);
    }

    /// The connection itself, no longer the store's to keep (for a write transaction, which
    /// owns it).
    pub(super) fn into_pooled(self) -> PoolConnection<Postgres> {
        self.conn
    }
}

/// Until when the pool's connections are all checked before use; shared by the pool's
/// `before_acquire` hook and the store.
#[derive(Clone)]
struct Suspicion {
    since: Instant,
    /// Milliseconds after `since` until which connections are checked (0: never raised).
    until_ms: Arc<AtomicU64>,
}

impl Suspicion {
    fn new() -> Self {
        Suspicion {
            since: Instant::now(),
            until_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn raise(&self) {
        let until = self.now_ms().saturating_add(SUSPECT_FOR.as_millis() as u64);
        self.until_ms.fetch_max(until, Ordering::Relaxed);
    }

    fn active(&self) -> bool {
        self.now_ms() < self.until_ms.load(Ordering::Relaxed)
    }
}

/// An I/O failure on the socket, or PostgreSQL saying it ended the session (class 08,
/// connection exception; 57P01–57P03, shut down or terminated by an administrator).
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Trail;
    use crate::store::sql::{tests, Arg, SqlStore, Stmt};
    use crate::store::{DomainRow, DomainStore};

    #[test]
    fn a_raised_suspicion_lasts_its_time_then_lapses() {
        let suspicion = Suspicion::new();
        assert!(!suspicion.active());
        suspicion.raise();
        assert!(suspicion.active());
        suspicion
            .until_ms
            .store(suspicion.now_ms(), Ordering::Relaxed);
        assert!(!suspicion.active());
    }

    /// The first statement to meet a dropped connection here is a write transaction's
    /// (through HTTP, the caller's read always comes first): it runs again, and writes once.
    #[tokio::test]
    async fn a_write_transaction_starts_again_after_postgres_dropped_the_connections() {
        let Some(store) = store_whose_connections_postgres_dropped().await else {
            return;
        };
        store
            .write(&Trail::none(), |tx| {
                Box::pin(async move {
                    let describe = Stmt::new(
                        "UPDATE domains SET description = description || '+' \
                         WHERE domain_id = $1",
                        vec![Arg::Text("d".into())],
                    );
                    tx.execute(describe).await?;
                    Ok(())
                })
            })
            .await
            .expect("a write after the drop");
        let changed = "SELECT COUNT(*) FROM domains WHERE domain_id = $1 AND description = '+'";
        assert_eq!(tests::count(&store, changed, "d").await, 1, "written once");
    }

    /// A write without a transaction of its own runs on a connection checked first.
    #[tokio::test]
    async fn an_upkeep_write_finds_a_live_connection_after_postgres_dropped_them() {
        let Some(store) = store_whose_connections_postgres_dropped().await else {
            return;
        };
        store
            .restore_domain(DomainRow::new("e", "e", "", 0))
            .await
            .expect("a write after the drop");
        assert!(store.domain("e").await.unwrap().is_some());
    }

    /// A connection kept for [`KEEP_AT_MOST_FOR`] goes back to sqlx's pool once, so that
    /// sqlx's limit on a connection's age still applies to it.
    #[tokio::test]
    async fn a_connection_kept_for_long_goes_back_to_sqlx() {
        let Some(connections) = test_connections(2, Duration::from_secs(10)).await else {
            return;
        };
        connections.lend().await.unwrap().keep();
        assert_eq!(connections.kept_count(), 1);
        let mut lent = connections.lend().await.unwrap();
        assert_eq!(connections.kept_count(), 0);
        lent.taken_at = Instant::now() - KEEP_AT_MOST_FOR - Duration::from_secs(1);
        lent.keep();
        assert_eq!(connections.kept_count(), 0, "given back");
        connections.close().await;
    }

    /// A statement that waits for sqlx's pool (every connection lent) gets the next
    /// connection given back, not after its acquire timeout; once nobody waits, connections
    /// are kept again.
    #[tokio::test]
    async fn a_statement_waiting_for_the_pool_gets_the_next_connection_given_back() {
        let Some(connections) = test_connections(1, Duration::from_secs(3)).await else {
            return;
        };
        let only = connections.lend().await.unwrap();
        let give_back = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            only.keep();
        };
        let (waited, ()) = tokio::join!(connections.lend(), give_back);
        let waited = waited.expect("the connection given back, before the acquire timeout");
        assert_eq!(connections.kept_count(), 0, "handed over, not kept");
        waited.keep();
        assert_eq!(connections.kept_count(), 1, "kept again once nobody waits");
        connections.close().await;
    }

    /// Connections to the test database (none without `ROSTER_TEST_DATABASE_URL`).
    async fn test_connections(max: u32, acquire_timeout: Duration) -> Option<PgConnections> {
        let url = std::env::var("ROSTER_TEST_DATABASE_URL").ok()?;
        let options: PgConnectOptions = url.parse().ok()?;
        let connections = PgConnections::connect(options, max, acquire_timeout).await;
        Some(connections.unwrap())
    }

    /// The backend serving a read on `store`.
    async fn backend_of_a_read(store: &SqlStore) -> i32 {
        let pid = Stmt::new("SELECT pg_backend_pid()", vec![]);
        let (pid,) = store
            .reader()
            .fetch_optional::<(i32,)>(pid)
            .await
            .unwrap()
            .unwrap();
        pid
    }

    /// A read that ran to its end leaves its connection with the store, and the next read
    /// takes it (sqlx's pool would check it on its way back, then hand out its oldest idle
    /// connection first).
    #[tokio::test]
    async fn the_next_read_runs_on_the_connection_the_last_one_ran_on() {
        let Some(store) = tests::scratch_postgres_store().await else {
            return;
        };
        let reader = store.reader();
        let several = (0..4).map(|_| reader.fetch_optional::<(i32,)>(sleep(0.05)));
        futures_util::future::join_all(several).await;
        let first = backend_of_a_read(&store).await;
        for _ in 0..5 {
            assert_eq!(backend_of_a_read(&store).await, first);
        }
    }

    /// A read dropped halfway (its answer unread) or failed leaves no connection that
    /// answers the next read with the old statement's rows or an error.
    #[tokio::test]
    async fn reads_after_one_dropped_halfway_or_failed_answer_their_own_rows() {
        let Some(store) = tests::scratch_postgres_store().await else {
            return;
        };
        let reader = store.reader();
        for _ in 0..3 {
            let slow = reader.fetch_optional::<(i32,)>(sleep(0.3));
            let dropped = tokio::time::timeout(Duration::from_millis(30), slow).await;
            assert!(dropped.is_err(), "the slow read should still run");
            let failing = Stmt::new("SELECT 1 / (SELECT 0)", vec![]);
            let failed = reader.fetch_optional::<(i32,)>(failing).await;
            assert!(failed.is_err());
            let seven = Stmt::new("SELECT 7", vec![]);
            let answer = reader.fetch_optional::<(i32,)>(seven).await;
            assert_eq!(answer.unwrap(), Some((7,)));
        }
    }

    /// A write transaction that failed leaves nothing open on its connection: the next one
    /// commits, and what the failed one wrote is gone.
    #[tokio::test]
    async fn a_failed_write_transaction_leaves_its_connection_clean() {
        let Some(store) = tests::scratch_postgres_store().await else {
            return;
        };
        store
            .restore_domain(DomainRow::new("d", "d", "", 0))
            .await
            .unwrap();
        let describe = || {
            Stmt::new(
                "UPDATE domains SET description = description || '+' WHERE domain_id = $1",
                vec![Arg::Text("d".into())],
            )
        };
        for _ in 0..3 {
            let failed = store
                .write(&Trail::none(), |tx| {
                    Box::pin(async move {
                        tx.execute(describe()).await?;
                        let failing = Stmt::new("SELECT 1 / (SELECT 0)", vec![]);
                        tx.execute(failing).await?;
                        Ok(())
                    })
                })
                .await;
            assert!(failed.is_err());
        }
        store
            .write(&Trail::none(), |tx| {
                Box::pin(async move {
                    tx.execute(describe()).await?;
                    Ok(())
                })
            })
            .await
            .unwrap();
        let changed = "SELECT COUNT(*) FROM domains WHERE domain_id = $1 AND description = '+'";
        assert_eq!(tests::count(&store, changed, "d").await, 1);
    }

    fn sleep(seconds: f64) -> Stmt {
        Stmt::new(format!("SELECT 1 FROM pg_sleep({seconds})"), vec![])
    }

    /// A PostgreSQL store (none without `ROSTER_TEST_DATABASE_URL`) with a domain `d` and
    /// several pooled connections, all used a moment ago and then terminated by PostgreSQL.
    async fn store_whose_connections_postgres_dropped() -> Option<SqlStore> {
        use sqlx::Executor;
        let store = tests::scratch_postgres_store().await?;
        store
            .restore_domain(DomainRow::new("d", "d", "", 0))
            .await
            .unwrap();
        let database = Stmt::new("SELECT current_database()", vec![]);
        let reader = store.reader();
        let reads = (0..4).map(|_| reader.fetch_optional::<(String,)>(database.clone()));
        let names = futures_util::future::join_all(reads).await;
        let (name,) = names[0].as_ref().unwrap().clone().unwrap();
        let admin_url = std::env::var("ROSTER_TEST_DATABASE_URL").unwrap();
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        let terminate = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        );
        let dropped = admin
            .fetch_all(sqlx::AssertSqlSafe(terminate))
            .await
            .unwrap();
        assert!(dropped.len() > 1, "{} connections", dropped.len());
        admin.close().await.unwrap();
        Some(store)
    }

    #[test]
    fn only_a_dropped_connection_counts_as_lost() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(connection_lost(&io));
        assert!(!connection_lost(&sqlx::Error::RowNotFound));
        assert!(!connection_lost(&sqlx::Error::PoolTimedOut));
    }
}
