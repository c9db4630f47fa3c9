//! Resource groups (eds-user): Roster runs no desktops; it keeps the groups, named and
//! authorized, so the tenant's console and tools find what they made. Admins only.

use super::{random_hex, validate, Actor, Services};
use crate::error::{Error, Resource, Result};
/// Which resource groups a page reads: the faces fill it in.
pub use crate::store::resource_groups::ResourceGroupQuery;
use crate::store::resource_groups::ResourceGroupRow;

impl Services {
    /// Creates a resource group; answers its id (`rg-` and 16 hex digits).
    pub async fn create_resource_group(
        &self,
        actor: &Actor,
        name: &str,
        platform: Option<&str>,
    ) -> Result<String> {
        actor.require_admin()?;
        validate::required("ResourceGroupName", name, validate::MAX_NAME)?;
        validate::optional("Platform", platform, validate::MAX_NAME)?;
        let row = ResourceGroupRow {
            domain_id: actor.domain_id.to_string(),
            resource_group_id: format!("rg-{}", random_hex(8)),
            resource_group_name: name.to_owned(),
            platform: platform.unwrap_or_default().to_owned(),
            creator: actor.user_id.to_string(),
            created_at: self.clock.now_ms(),
            auth_count: 0,
        };
        actor.audit(
            "resource_group.create",
            "resource_group",
            &row.resource_group_id,
        );
        self.store
            .create_resource_group(&actor.trail, row.clone())
            .await?;
        Ok(row.resource_group_id)
    }

    /// Deletes the named resource groups, or none when one of them names no resource group
    /// of the caller's domain (`NotFound`, as for user groups: another domain's id answers
    /// as one that does not exist, not as a success).
    pub async fn delete_resource_groups(&self, actor: &Actor, ids: &[String]) -> Result<()> {
        actor.require_admin()?;
        if ids.is_empty() {
            return Err(Error::missing("ResourceGroupId"));
        }
        for id in ids {
            validate::required("ResourceGroupId", id, validate::MAX_ID)?;
        }
        let mut distinct = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        for id in &distinct {
            actor.audit("resource_group.delete", "resource_group", id);
        }
        let query = ResourceGroupQuery {
            ids: distinct.clone(),
            ..ResourceGroupQuery::default()
        };
        let (found, _) = self
            .store
            .find_resource_groups(&actor.domain_id, &query, 0, 1)
            .await?;
        if usize::try_from(found).ok() != Some(distinct.len()) {
            return Err(Error::NotFound(Resource::ResourceGroup));
        }
        self.store
            .delete_resource_groups(&actor.trail, &actor.domain_id, &distinct)
            .await?;
        Ok(())
    }

    /// `(total, page)`: page `number` (from 1) of `size` resource groups, newest first.
    pub async fn resource_groups(
        &self,
        actor: &Actor,
        query: ResourceGroupQuery,
        number: i64,
        size: i64,
    ) -> Result<(i64, Vec<ResourceGroupRow>)> {
        actor.require_admin()?;
        let offset = super::pagination::numbered_page_offset(number, size)?;
        self.store
            .find_resource_groups(&actor.domain_id, &query, offset, size)
            .await
    }
}
