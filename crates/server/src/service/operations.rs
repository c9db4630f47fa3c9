//! What operators ask of a running server: is it ready for traffic, and its metrics.

use std::sync::atomic::Ordering;

use super::Services;
use crate::store::StoreHealth;

/// Whether the server should be sent traffic, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// A SIGTERM started the drain: in-flight requests finish, new ones should go elsewhere.
    Draining,
    StoreUnreachable,
    /// The database's schema lacks this many of the binary's migrations.
    MigrationsPending(usize),
}

impl Readiness {
    /// The reason in a word, for the readiness answer (`ok` when ready).
    pub fn reason(self) -> &'static str {
        match self {
            Readiness::Ready => "ok",
            Readiness::Draining => "draining",
            Readiness::StoreUnreachable => "store_unreachable",
            Readiness::MigrationsPending(_) => "migrations_pending",
        }
    }
}

impl Services {
    /// Ready unless draining, or the store does not answer, or its schema is behind.
    pub async fn readiness(&self) -> Readiness {
        if self.draining.load(Ordering::SeqCst) {
            return Readiness::Draining;
        }
        match self.store.health().await {
            StoreHealth::Ready if self.draining.load(Ordering::SeqCst) => Readiness::Draining,
            StoreHealth::Ready => Readiness::Ready,
            StoreHealth::Unreachable => Readiness::StoreUnreachable,
            StoreHealth::MigrationsPending(n) => Readiness::MigrationsPending(n),
        }
    }

    /// Marks the server as draining (readiness 503 from now on).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// The metrics in Prometheus's text format, with the pools and queues as they are now.
    pub async fn metrics_text(&self) -> String {
        let pools = self.store.pool_states();
        let rows = self.store.row_counts().await;
        let queue = self.webhook_queue_state().await;
        self.metrics.encode(&pools, rows, queue)
    }
}
