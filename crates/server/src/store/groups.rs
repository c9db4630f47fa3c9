//! Groups in a tree, memberships and group admins: rows and the storage port for them.

use async_trait::async_trait;

/// Groups, the closure table of their tree, memberships and group-admin assignments.
#[async_trait]
pub trait GroupStore: Send + Sync + 'static {}
