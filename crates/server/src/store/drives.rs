//! Drives: rows and the storage port for them.

use async_trait::async_trait;

/// Drives and their quotas.
#[async_trait]
pub trait DriveStore: Send + Sync + 'static {}
