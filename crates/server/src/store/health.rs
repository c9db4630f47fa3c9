//! What readiness and the metrics read of the store itself: whether it answers, whether its
//! schema is current, and how its connection pools stand.

use async_trait::async_trait;

pub use crate::metrics::{PoolState, RowCounts};

/// The store's answer to a readiness probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreHealth {
    Ready,
    /// The database does not answer (or answers with an error).
    Unreachable,
    /// This many of the migrations this binary carries are not applied.
    MigrationsPending(usize),
}

#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Asks the database; never waits longer than `crate::store::HEALTH_TIMEOUT`.
    async fn health(&self) -> StoreHealth;

    /// The connection pools, as they are now.
    fn pool_states(&self) -> Vec<PoolState>;

    /// About how many change events and audit records are kept: cheap estimates, not
    /// `COUNT(*)` (see `sql/health.rs`); -1 when the query failed.
    async fn row_counts(&self) -> RowCounts;
}

/// How long a readiness probe waits for the database before calling it unreachable.
pub const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
