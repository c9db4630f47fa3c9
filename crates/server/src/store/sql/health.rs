//! The store's health: a ping, the applied migrations against those this binary carries.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{Dialect, SqlStore, Stmt};
use crate::store::health::{HealthStore, PoolState, RowCounts, StoreHealth, HEALTH_TIMEOUT};

/// Write transactions that waited for a connection, and how long in all; kept by the store,
/// read by the metrics.
#[derive(Debug, Default)]
pub struct WriteWaits {
    count: AtomicU64,
    micros: AtomicU64,
}

impl WriteWaits {
    pub(super) fn note(&self, waited: std::time::Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

#[derive(sqlx::FromRow)]
struct Version {
    version: i64,
}

impl SqlStore {
    /// The versions of the migrations this binary carries for this store's backend.
    fn known_migrations(&self) -> Vec<i64> {
        let migrator = match self.dialect() {
            Dialect::Sqlite => sqlx::migrate!("../../migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("../../migrations/postgres"),
        };
        migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| m.version)
            .collect()
    }

    async fn probe(&self) -> StoreHealth {
        let ping: sqlx::Result<Option<Version>> = self
            .reader()
            .fetch_optional(Stmt::new("SELECT CAST(1 AS BIGINT) AS version", vec![]))
            .await;
        if ping.is_err() {
            return StoreHealth::Unreachable;
        }
        let applied: Vec<Version> = self
            .reader()
            .fetch_all(Stmt::new(
                "SELECT version FROM _sqlx_migrations WHERE success = TRUE",
                vec![],
            ))
            .await
            .unwrap_or_default();
        let applied: std::collections::HashSet<i64> =
            applied.into_iter().map(|v| v.version).collect();
        let pending = self
            .known_migrations()
            .into_iter()
            .filter(|v| !applied.contains(v))
            .count();
        if pending == 0 {
            StoreHealth::Ready
        } else {
            StoreHealth::MigrationsPending(pending)
        }
    }
}

#[async_trait]
impl HealthStore for SqlStore {
    async fn health(&self) -> StoreHealth {
        tokio::time::timeout(HEALTH_TIMEOUT, self.probe())
            .await
            .unwrap_or(StoreHealth::Unreachable)
    }

    fn pool_states(&self) -> Vec<PoolState> {
        let mut states = self.pool_states();
        // Write transactions take the writer (SQLite) or the one pool (PostgreSQL).
        if let Some(state) = states.iter_mut().find(|s| s.pool != "reader") {
            state.waits = self.write_waits.count.load(Ordering::Relaxed);
            state.wait_seconds = self.write_waits.micros.load(Ordering::Relaxed) as f64 / 1e6;
        }
        states
    }

    async fn row_counts(&self) -> RowCounts {
        let estimate = |sql: &str| {
            let stmt = Stmt::new(sql, vec![]);
            async move {
                let row: sqlx::Result<Option<Count>> = self.reader().fetch_optional(stmt).await;
                row.ok().flatten().map_or(-1, |c| c.n)
            }
        };
        let audit = match self.dialect() {
            Dialect::Sqlite => SQLITE_AUDIT_ROWS,
            Dialect::Postgres => POSTGRES_AUDIT_ROWS,
        };
        RowCounts {
            events: estimate(EVENT_ROWS).await,
            audit_records: estimate(audit).await,
        }
    }
}

// The row gauges are scraped often and the tables hold millions of rows: a `COUNT(*)` would
// read a whole table (or index) per scrape. These estimates read a few index entries.

/// Events: each domain's sequence span, from its oldest kept event to its last number (one
/// index probe per domain). Exact while the kept events of a domain have consecutive numbers;
/// the retention sweep deletes by age, which may leave a few gaps at its edge (counted).
const EVENT_ROWS: &str = "SELECT CAST(COALESCE(SUM(s.last_seq + 1 - COALESCE(\
        (SELECT MIN(e.seq) FROM events e WHERE e.domain_id = s.domain_id), s.last_seq + 1)), 0) \
        AS BIGINT) AS n FROM event_sequences s";

/// Audit records on SQLite: the span of the table's rowids, which grow with each insert (two
/// subqueries: SQLite reads a single `MIN` or `MAX` from the end of the b-tree). The sweep
/// deletes the oldest records, so gaps are rare and counted.
const SQLITE_AUDIT_ROWS: &str = "SELECT COALESCE((SELECT MAX(rowid) FROM audit_log) \
        - (SELECT MIN(rowid) FROM audit_log) + 1, 0) AS n";

/// Audit records on PostgreSQL: its statistics' live rows (`n_live_tup`, moved by every
/// committed insert and delete, reported by each connection within seconds), or, when larger,
/// the planner's `reltuples` from the last VACUUM or ANALYZE (which a crash does not reset).
const POSTGRES_AUDIT_ROWS: &str = "SELECT GREATEST(\
        COALESCE((SELECT n_live_tup FROM pg_stat_user_tables \
                  WHERE relid = 'audit_log'::regclass), 0), \
        COALESCE((SELECT CAST(GREATEST(reltuples, 0) AS BIGINT) FROM pg_class \
                  WHERE oid = 'audit_log'::regclass), 0)) AS n";
