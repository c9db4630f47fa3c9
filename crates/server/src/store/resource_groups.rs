//! Resource groups (eds-user): named sets of desktops Roster does not run; it keeps the
//! groups and the users authorized on them.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ResourceGroupRow {
    pub domain_id: String,
    pub resource_group_id: String,
    pub resource_group_name: String,
    pub platform: String,
    pub creator: String,
    pub created_at: i64,
    /// Users authorized on it (computed when read).
    #[sqlx(default)]
    pub auth_count: i64,
}

/// Which resource groups a page reads, newest first.
#[derive(Debug, Clone, Default)]
pub struct ResourceGroupQuery {
    pub ids: Vec<String>,
    /// Lower-case substring of the name.
    pub name_contains: Option<String>,
    pub platform: Option<String>,
}

#[async_trait]
pub trait ResourceGroupStore: Send + Sync + 'static {
    async fn create_resource_group(&self, trail: &Trail, group: ResourceGroupRow) -> Result<()>;

    /// Deletes the given groups; answers how many there were.
    async fn delete_resource_groups(
        &self,
        trail: &Trail,
        domain_id: &str,
        ids: &[String],
    ) -> Result<u64>;

    /// `(total, page)`: the count of matching groups and the page at `offset` (resource
    /// groups are few per tenant; their API pages by number).
    async fn find_resource_groups(
        &self,
        domain_id: &str,
        query: &ResourceGroupQuery,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<ResourceGroupRow>)>;
}
