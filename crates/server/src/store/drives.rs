//! Drives: rows and the storage port for them, and the domain settings that bound them
//! (initial drives, size and user-count quotas).

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;
use crate::model::{DomainId, UserId};

/// A drive as stored. Times are UNIX milliseconds; `total_size` -1 means unlimited.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct DriveRow {
    pub domain_id: String,
    pub drive_id: String,
    pub owner: String,
    /// `user` or `group`.
    pub owner_type: String,
    pub drive_name: String,
    pub description: String,
    pub drive_type: String,
    pub status: String,
    pub is_default: bool,
    pub total_size: i64,
    pub used_size: i64,
    pub creator: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of a drive that an update may change. `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct DriveChanges {
    pub drive_name: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub total_size: Option<i64>,
    pub updated_at: i64,
}

/// Filters of a drive page, all combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriveFilter {
    pub owner_type: Option<String>,
    pub owner: Option<String>,
    /// Already normalised (lower-cased) by the service.
    pub name_contains: Option<String>,
}

/// A page of drives in `drive_id` order, after `after_drive_id`.
#[derive(Debug, Clone)]
pub struct DrivePage {
    pub filter: DriveFilter,
    pub after_drive_id: Option<String>,
    pub limit: u32,
}

/// What the drives of a domain add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DriveUsage {
    /// Sum of `total_size` over the drives with a limit (`total_size >= 0`).
    pub allocated: i64,
    /// Sum of `used_size` over all drives.
    pub used: i64,
}

/// Drives and their quotas, and the domain settings that govern them.
#[async_trait]
pub trait DriveStore: Send + Sync + 'static {
    /// Inserts a drive, in one write transaction that also checks, against committed data:
    /// - the owner exists: a user (`NotFound(User)`) or a group (`NotFound(Group)`);
    /// - the domain's `size_quota` (when > 0): the limited drives' `total_size`s plus this
    ///   one stay within it, and this one is not unlimited, else `QuotaExhausted`;
    /// - one default drive per owner, else `AlreadyExists(Drive)`.
    ///
    /// Nothing is written when a check fails.
    /// A user's new default drive also becomes its `default_drive_id`.
    async fn create_drive(&self, trail: &Trail, drive: DriveRow) -> Result<DriveRow>;

    async fn drive(&self, domain_id: &DomainId, drive_id: &str) -> Result<Option<DriveRow>>;

    /// Applies `changes` (a new `total_size` checked against the domain's `size_quota` in
    /// the same transaction, as in `create_drive`); `None` if there is no such drive.
    async fn update_drive(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        drive_id: &str,
        changes: DriveChanges,
    ) -> Result<Option<DriveRow>>;

    /// Deletes a drive (clearing its owner's `default_drive_id` if it was the default);
    /// `false` if there was none.
    async fn delete_drive(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        drive_id: &str,
    ) -> Result<bool>;

    /// One page of drives matching `page.filter`, by `drive_id`.
    async fn find_drives(&self, domain_id: &str, page: &DrivePage) -> Result<Vec<DriveRow>>;

    /// The default drive of a user, if it has one. For the users service
    /// (`default_drive_id`, `extra_return_info: drive`).
    async fn default_drive_of(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<Option<DriveRow>>;

    /// The default drives of the given users.
    async fn default_drives_of(
        &self,
        domain_id: &DomainId,
        user_ids: &[String],
    ) -> Result<Vec<DriveRow>>;

    /// Every drive of one owner (`owner_type` `user` or `group`), by `drive_id`.
    async fn drives_of_owner(
        &self,
        domain_id: &DomainId,
        owner_type: &str,
        owner: &str,
    ) -> Result<Vec<DriveRow>>;

    /// Deletes every drive of one owner; returns how many. For user and group deletion.
    async fn delete_drives_of_owner(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        owner_type: &str,
        owner: &str,
    ) -> Result<u64>;

    /// What the domain's drives add up to.
    async fn drive_usage(&self, domain_id: &str) -> Result<DriveUsage>;

    /// How many users the domain holds (for `user_count_quota`).
    async fn count_users(&self, domain_id: &str) -> Result<i64>;
}
