//! Domain settings: initial drives and quotas. A caller sees and changes only its own domain.

use roster_api::domains::{
    AppAccessStrategy, Domain, DomainQuota, GetDomainRequest, UpdateDomainRequest,
};

use super::drives::iso8601_ms;
use super::{now_ms, validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::store::drives::{DomainSettingsChanges, DomainSettingsRow, DriveUsage};

/// What a domain's settings say about drives and quotas, for the other services
/// (user creation and import: initial drives, `user_count_quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainSettings {
    /// Create a drive for every new user.
    pub init_drive_enable: bool,
    /// Bytes of that drive; -1 unlimited.
    pub init_drive_size: i64,
    /// Bytes the domain's drives may total; 0 unlimited.
    pub size_quota: i64,
    /// Users the domain may hold; 0 unlimited.
    pub user_count_quota: i64,
}

fn to_api(row: DomainSettingsRow, usage: DriveUsage) -> Domain {
    Domain {
        domain_id: row.domain_id,
        domain_name: row.domain_name,
        description: row.description,
        parent_domain_id: String::new(),
        status: 1,
        init_drive_enable: row.init_drive_enable,
        init_drive_size: row.init_drive_size,
        size_quota: row.size_quota,
        size_quota_used: usage.allocated,
        used_size: usage.used,
        user_count_quota: row.user_count_quota,
        data_hash_name: "sha1".into(),
        store_redundancy_type: "LRS".into(),
        sharable: false,
        published_app_access_strategy: AppAccessStrategy {
            effect: "allow".into(),
            except_app_id_list: Vec::new(),
        },
        created_at: iso8601_ms(row.created_at),
        updated_at: iso8601_ms(row.updated_at),
    }
}

/// The `domain_id` of a request must be the caller's own domain.
fn own_domain(actor: &Actor, domain_id: &str) -> Result<()> {
    validate::required("domain_id", domain_id, validate::MAX_USER_ID)?;
    if domain_id != actor.domain_id {
        return Err(Error::forbidden("a caller may reach only its own domain"));
    }
    Ok(())
}

impl Services {
    /// The drive and quota settings of a domain. For services, not a permission check.
    pub async fn domain_settings(&self, domain_id: &str) -> Result<DomainSettings> {
        let row = self
            .store
            .domain_settings(domain_id)
            .await?
            .ok_or(Error::NotFound(Resource::Domain))?;
        Ok(DomainSettings {
            init_drive_enable: row.init_drive_enable,
            init_drive_size: row.init_drive_size,
            size_quota: row.size_quota,
            user_count_quota: row.user_count_quota,
        })
    }

    /// Reads the caller's domain (admin); with `get_quota_used`, what its drives use.
    pub async fn get_domain(&self, actor: &Actor, req: GetDomainRequest) -> Result<Domain> {
        own_domain(actor, &req.domain_id)?;
        if !actor.is_admin() {
            return Err(Error::forbidden("admin permission required"));
        }
        let row = self
            .store
            .domain_settings(&actor.domain_id)
            .await?
            .ok_or(Error::NotFound(Resource::Domain))?;
        let usage = if req.get_quota_used == Some(true) {
            self.store.drive_usage(&actor.domain_id).await?
        } else {
            DriveUsage::default()
        };
        Ok(to_api(row, usage))
    }

    /// Changes the caller's domain's name, description, initial drives and quotas
    /// (superadmin).
    pub async fn update_domain(&self, actor: &Actor, req: UpdateDomainRequest) -> Result<Domain> {
        own_domain(actor, &req.domain_id)?;
        if !actor.is_superadmin() {
            return Err(Error::forbidden("only a superadmin changes the domain"));
        }
        if let Some(name) = &req.domain_name {
            validate::required("domain_name", name, validate::MAX_NAME)?;
        }
        validate::optional(
            "description",
            req.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        if req.init_drive_size.is_some_and(|v| v < -1) {
            return Err(Error::out_of_range("init_drive_size"));
        }
        if req.size_quota.is_some_and(|v| v < 0) {
            return Err(Error::out_of_range("size_quota"));
        }
        if req.user_count_quota.is_some_and(|v| v < 0) {
            return Err(Error::out_of_range("user_count_quota"));
        }
        if req.published_app_access_strategy.is_some() {
            return Err(Error::not_supported("published_app_access_strategy"));
        }
        let changes = DomainSettingsChanges {
            domain_name: req.domain_name,
            description: req.description,
            init_drive_enable: req.init_drive_enable,
            init_drive_size: req.init_drive_size,
            size_quota: req.size_quota,
            user_count_quota: req.user_count_quota,
            updated_at: now_ms(),
        };
        let row = self
            .store
            .update_domain_settings(&actor.domain_id, changes)
            .await?
            .ok_or(Error::NotFound(Resource::Domain))?;
        Ok(to_api(row, DriveUsage::default()))
    }

    /// The domain's quotas and what is used of them (admin). `size_used` is the sum of the
    /// limited drives' `total_size`: what `size_quota` bounds.
    pub async fn get_domain_quota(&self, actor: &Actor) -> Result<DomainQuota> {
        if !actor.is_admin() {
            return Err(Error::forbidden("admin permission required"));
        }
        let settings = self.domain_settings(&actor.domain_id).await?;
        let usage = self.store.drive_usage(&actor.domain_id).await?;
        let users = self.store.count_users(&actor.domain_id).await?;
        Ok(DomainQuota {
            size_quota: settings.size_quota,
            size_used: usage.allocated,
            user_count_quota: settings.user_count_quota,
            user_count_used: users,
        })
    }
}
