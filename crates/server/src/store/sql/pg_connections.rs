//! The PostgreSQL pool, its connections checked only when they may have been dropped.
//!
//! sqlx checks a pooled connection before it hands it out (`test_before_acquire`): a `Sync`
//! message and PostgreSQL's answer, one more round trip and backend wake-up for every
//! statement, on the request's path (a `user/get` is two statements: with the checks, four
//! round trips where two do the work). A connection in use a moment ago is as alive as the
//! socket says; the ones that may be dead are those left idle a long while (an idle timeout,
//! a firewall forgetting the flow) and all of them once PostgreSQL has dropped any (a restart,
//! `pg_terminate_backend`). So:
//!
//! - a connection idle for more than [`CHECK_WHEN_IDLE_FOR`] is checked, as before;
//! - a statement that fails because its connection was lost marks the pool *suspect* for
//!   [`SUSPECT_FOR`], during which every connection handed out is checked (sqlx closes those
//!   that fail and opens new ones). A read is then run once more: it changes nothing, so the
//!   second run is the first that can answer. A write transaction that lost its connection
//!   before its commit was sent is run again from its start (`SqlStore::write`): nothing of
//!   it was kept. One lost at its commit is not: whether it was kept cannot be known.
//! - a write without an explicit transaction (the store's upkeep) could not be run again
//!   either, so its connection is checked first, always ([`PgConnections::checked`]).
//!
//! (sqlx also checks each connection when it comes back to the pool, unconditionally; that
//! check runs in a task of its own, off the request's path.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};
use sqlx::Connection;

/// A connection idle this long is checked before use.
const CHECK_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// How long, after a connection was found lost, every connection is checked before use.
const SUSPECT_FOR: Duration = Duration::from_secs(10);

/// The pool and when its connections were last found dropped.
pub(super) struct PgConnections {
    pool: PgPool,
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
        Ok(PgConnections { pool, suspicion })
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A connection checked now, for a statement that cannot run again (a write without an
    /// explicit transaction: whether one that lost its connection committed cannot be known).
    pub(super) async fn checked(&self) -> sqlx::Result<PoolConnection<Postgres>> {
        let mut conn = self.pool.acquire().await?;
        match conn.ping().await {
            Ok(()) => Ok(conn),
            Err(error) if self.lost(&error) => {
                // The next one is checked on its way out of the pool, the pool now suspect.
                conn.close_on_drop();
                drop(conn);
                self.pool.acquire().await
            }
            Err(error) => Err(error),
        }
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
