//! The store's health: a ping, the applied migrations against those this binary carries.

use async_trait::async_trait;

use super::{Dialect, SqlStore, Stmt};
use crate::store::health::{HealthStore, PoolState, StoreHealth, HEALTH_TIMEOUT};

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
        self.pool_states()
    }
}
