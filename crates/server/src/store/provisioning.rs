//! What identity providers keep on users and groups (SCIM's `externalId` and attributes
//! Roster has no column for), by object.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;
use crate::store::{NewUser, UserChanges, UserRow};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProvisionedRow {
    pub domain_id: String,
    /// `user` or `group`.
    pub object_kind: String,
    pub object_id: String,
    /// The object's `created_at`: the row belongs to that object only.
    pub object_created_at: i64,
    pub external_id: String,
    /// A JSON object.
    pub data: String,
}

#[async_trait]
pub trait ProvisioningStore: Send + Sync + 'static {
    /// The rows of these objects (those that have one).
    async fn provisioned(
        &self,
        domain_id: &str,
        object_kind: &str,
        object_ids: &[String],
    ) -> Result<Vec<ProvisionedRow>>;

    /// The ids of the objects holding this external id (rows of deleted objects included:
    /// the caller checks `object_created_at`).
    async fn provisioned_by_external_id(
        &self,
        domain_id: &str,
        object_kind: &str,
        external_id: &str,
    ) -> Result<Vec<ProvisionedRow>>;

    /// Stores an object's row, replacing the one it had.
    async fn put_provisioned(&self, trail: &Trail, row: ProvisionedRow) -> Result<()>;

    /// Creates a user (as `UserStore::create_user`) and its row in one transaction: no user
    /// without what its provider sent.
    async fn create_provisioned_user(
        &self,
        trail: &Trail,
        new: NewUser,
        row: ProvisionedRow,
    ) -> Result<UserRow>;

    /// Updates a user (as `UserStore::update_user`) and, when given, replaces its row, in one
    /// transaction; `None` (nothing written) when the user does not exist.
    async fn update_provisioned_user(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        changes: UserChanges,
        row: Option<ProvisionedRow>,
    ) -> Result<Option<UserRow>>;
}
