//! Groups in a tree, memberships and group admins: rows and the storage port for them.

use crate::audit::Trail;
use async_trait::async_trait;

use super::UserRow;
use crate::error::Result;
use crate::model::{DomainId, GroupId, UserId};

/// A group as stored. `parent_group_id` is `""` for a top-level group.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct GroupRow {
    pub domain_id: String,
    pub group_id: String,
    pub group_name: String,
    pub description: String,
    pub is_root: bool,
    pub parent_group_id: String,
    pub creator: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// [`KIND_ORG`] or [`KIND_USER_GROUP`].
    pub kind: String,
}

/// A department of the organization tree: a PDS group, an eds-user organization.
pub const KIND_ORG: &str = "org";
/// A flat group of users outside the tree: an eds-user (or KooDrive) user group.
pub const KIND_USER_GROUP: &str = "user_group";

/// A group-admin assignment: `identity_type` is a stored [`crate::model::HolderKind`].
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AssignmentRow {
    pub domain_id: String,
    pub group_id: String,
    pub identity_type: String,
    pub identity_id: String,
    pub creator: String,
    pub created_at: i64,
}

/// Which groups a page reads, in `(group_name, group_id)` order when a name prefix is given,
/// else in `group_id` order.
#[derive(Debug, Clone, Default)]
pub struct GroupPage {
    /// Normalised prefix of the name.
    pub name_prefix: Option<String>,
    /// Normalised substring of the name.
    pub name_contains: Option<String>,
    /// Only the direct children of this group (`""`: top-level groups).
    pub parent: Option<String>,
    /// Only groups of this kind.
    pub kind: Option<String>,
    /// `(sort value, group_id)` of the last group already seen.
    pub after: Option<(String, String)>,
    pub limit: u32,
}

/// Groups, the closure table of their tree, memberships and group-admin assignments.
#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    /// Inserts a group under its parent (checked in the same transaction: `NotFound(Group)`
    /// if the parent is gone, `InvalidParameter` if the group is a root and has a parent).
    async fn create_group(&self, trail: &Trail, group: GroupRow) -> Result<GroupRow>;

    async fn group(&self, domain_id: &DomainId, group_id: &GroupId) -> Result<Option<GroupRow>>;

    /// Renames or describes a group; `None` if there is none.
    async fn update_group(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        name: Option<&str>,
        description: Option<&str>,
        at: i64,
    ) -> Result<Option<GroupRow>>;

    /// Moves a group (with its subtree) under `new_parent` (`""`: top level). Refuses a
    /// move into its own subtree or of a root group under another, changing nothing.
    async fn move_group(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        new_parent: &str,
        at: i64,
    ) -> Result<()>;

    /// Deletes a group with its memberships and assignments; `Conflict` if it still has
    /// subgroups, `NotFound(Group)` if there is none.
    async fn delete_group(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
    ) -> Result<()>;

    async fn find_groups(&self, domain_id: &str, page: &GroupPage) -> Result<Vec<GroupRow>>;

    /// Adds a user to a group; adding an existing member changes nothing.
    async fn add_member(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        user_id: &UserId,
        at: i64,
    ) -> Result<()>;

    /// `false` if the user was not a direct member.
    async fn remove_member(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<bool>;

    /// Direct user members of a group (or, for `""`, users in no group), by `user_id`.
    async fn member_users(
        &self,
        domain_id: &DomainId,
        group_id: &GroupId,
        after_user_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UserRow>>;

    /// `(user_id, group)` for every direct membership of the given users.
    async fn groups_of_users(
        &self,
        domain_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<(String, GroupRow)>>;

    /// Whether `user_id` administers `group_id` through an assignment on the group itself
    /// (when `inclusive`) or on any group above it, directly or through a group it is in.
    async fn administers(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
        group_id: &GroupId,
        inclusive: bool,
    ) -> Result<bool>;

    /// Those of `group_ids` that `user_id` administers (inclusively, as
    /// [`GroupStore::administers`] answers), in one statement.
    async fn administered_among(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
        group_ids: &[String],
    ) -> Result<Vec<String>>;

    /// The groups `user_id` administers through an assignment on them, directly or through
    /// a group it is in: the tops of the subtrees [`GroupStore::administers`] answers `true`
    /// for, sorted.
    async fn administered_groups(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<Vec<String>>;

    /// Records an assignment; assigning twice changes nothing.
    async fn assign(&self, trail: &Trail, assignment: AssignmentRow) -> Result<()>;

    /// `false` if there was no such assignment.
    async fn cancel_assignment(&self, trail: &Trail, assignment: &AssignmentRow) -> Result<bool>;

    /// Assignments on a group, by `(identity_type, identity_id)` after the given key.
    async fn assignments_on(
        &self,
        domain_id: &DomainId,
        group_id: &GroupId,
        after: Option<(String, String)>,
        limit: u32,
    ) -> Result<Vec<AssignmentRow>>;

    async fn assignments_of(
        &self,
        domain_id: &DomainId,
        identity_type: &str,
        identity_id: &str,
    ) -> Result<Vec<AssignmentRow>>;

    /// How many levels hang below a group: 0 for a leaf (or an unknown group).
    async fn subtree_height(&self, domain_id: &DomainId, group_id: &GroupId) -> Result<i64>;
}
