//! What the directory dialects (eds-user, later KooDrive) ask of users and the organization
//! tree beyond the PDS needs: user numbers, name paths, member counts, moving users.

use crate::audit::Trail;
use async_trait::async_trait;

use super::groups::GroupRow;
use super::UserFilter;
use crate::error::Result;

/// Which groups of one kind a numbered page reads, by creation time then id.
#[derive(Debug, Clone, Default)]
pub struct GroupNumberedQuery {
    pub kind: String,
    pub group_id: Option<String>,
    /// Lower-case substring of the name.
    pub name_contains: Option<String>,
}

#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    /// `(user_id, number)` of the given users: the stable integer the database gave each.
    async fn user_numbers(
        &self,
        domain_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<(String, i64)>>;

    /// `(group_id, number)` of the given groups: the stable integer each was given.
    async fn group_numbers(
        &self,
        domain_id: &str,
        group_ids: &[String],
    ) -> Result<Vec<(String, i64)>>;

    /// How many users of the domain match `filter`.
    async fn count_matching_users(&self, domain_id: &str, filter: &UserFilter) -> Result<i64>;

    /// The user with this number.
    async fn user_id_by_number(&self, domain_id: &str, number: i64) -> Result<Option<String>>;

    /// `(group_id, ancestor name)` for every ancestor of the given groups, themselves
    /// included, from the top of the tree down.
    async fn group_name_paths(
        &self,
        domain_id: &str,
        group_ids: &[String],
    ) -> Result<Vec<(String, String)>>;

    /// `(total, page)` of the groups matching `query`, the page at `offset`. For APIs that
    /// page by number (eds-user DescribeGroups); user groups are few per tenant.
    async fn groups_by_number(
        &self,
        domain_id: &str,
        query: &GroupNumberedQuery,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<GroupRow>)>;

    /// `(user_id, joined at)` of the given users' direct memberships of a group.
    async fn joined_at(
        &self,
        domain_id: &str,
        group_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<(String, i64)>>;

    /// Deletes a group that has neither subgroups nor members (`Conflict` otherwise),
    /// checked in the deleting transaction; `NotFound(Group)` if there is none.
    async fn delete_empty_group(
        &self,
        trail: &Trail,
        domain_id: &str,
        group_id: &str,
    ) -> Result<()>;

    /// `(group_id, direct user members)` of the given groups.
    async fn member_counts(
        &self,
        domain_id: &str,
        group_ids: &[String],
    ) -> Result<Vec<(String, i64)>>;

    /// Makes `group_id` (or none, for `""`) the only group of `kind` the user is a direct
    /// member of; `NotFound(User)` if the user is gone, `NotFound(Group)` if the group is.
    async fn replace_membership_of_kind(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        kind: &str,
        group_id: &str,
        at: i64,
    ) -> Result<()>;
}
