//! Domains (tenants): their settings, and who manages which.
//!
//! The operator domain (the first one, bootstrapped at first start) holds the deployment's
//! operators: its superadmins create, read, change and delete top-level domains. A domain's
//! superadmin manages that domain and its subdomains (one level deep), whose own admins hold
//! the `subdomain_super_admin` / `subdomain_admin` roles and act only inside them. A domain the
//! caller does not manage answers `NotFound.Domain`, whether or not it exists.

use crate::model::{
    CreatedDomain, Domain, DomainChanges, DomainSearch, DomainWithUsage, DriveUsage, Listed,
    NewDomainSpec, QuotaUse, Role,
};

use super::pagination::{encode_marker, finish_page, Page};
use super::users::new_user_row;
use super::{random_hex, validate, Actor, Services};
use crate::error::{Error, ParamProblem, Resource, Result};
use crate::store::{AccountRow, DomainChanges as StoredDomainChanges, DomainRow, NewUser};

/// PDS lists domains 50 at a time unless asked otherwise (100 at most, as elsewhere).
const DEFAULT_DOMAIN_LIMIT: u32 = roster_api::domains::DEFAULT_DOMAIN_LIMIT;

/// A domain id is the first label of its host name: `[a-z0-9-]`, 1..63, no `-` at either end.
fn validate_domain_id(id: &str) -> Result<()> {
    let well_formed = (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if well_formed {
        Ok(())
    } else {
        Err(Error::param(ParamProblem::WrongFormat, "domain_id"))
    }
}

/// A fresh id: random at the top level, `<parent>-<random>` for a subdomain.
fn generated_domain_id(parent: &str) -> String {
    if parent.is_empty() {
        random_hex(8)
    } else {
        format!("{parent}-{}", random_hex(4))
    }
}

/// The settings a create or an update may carry, checked.
struct Settings<'a> {
    domain_name: Option<&'a str>,
    description: Option<&'a str>,
    init_drive_size: Option<i64>,
    size_quota: Option<i64>,
    user_count_quota: Option<i64>,
}

fn validate_settings(s: &Settings<'_>) -> Result<()> {
    if let Some(name) = s.domain_name {
        validate::required("domain_name", name, validate::MAX_NAME)?;
    }
    validate::optional("description", s.description, validate::MAX_DESCRIPTION)?;
    validate::size("init_drive_size", s.init_drive_size, -1)?;
    validate::size("size_quota", s.size_quota, 0)?;
    if s.user_count_quota.is_some_and(|v| v < 0) {
        return Err(Error::out_of_range("user_count_quota"));
    }
    Ok(())
}

/// A quota limits the domain it is set on, so the level above sets it: the operator for a
/// top-level domain, the parent's superadmin for a subdomain. A domain's own superadmin may
/// only lower it: never raise it, nor lift it (0 is unlimited). Restating it is no change.
fn own_quota_only_lowered(name: &str, current: i64, asked: Option<i64>) -> Result<()> {
    let Some(asked) = asked.filter(|&a| a != current) else {
        return Ok(());
    };
    let lowers = asked > 0 && (current == 0 || asked < current);
    if lowers {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "only the level above raises or lifts {name}; a domain may lower its own"
        )))
    }
}

impl Services {
    /// The caller acting in `subdomain_id`: the admins of a top-level domain reach its
    /// subdomains (`NotFound.Domain` for any other domain). `None` or its own domain: itself.
    pub async fn in_subdomain(&self, actor: &Actor, subdomain_id: Option<&str>) -> Result<Actor> {
        let Some(id) = subdomain_id.filter(|s| !s.is_empty() && *s != actor.domain_id) else {
            return Ok(actor.clone());
        };
        if !matches!(actor.role, Role::Admin | Role::Superadmin) {
            return Err(Error::forbidden(
                "only a parent domain's admins reach subdomains",
            ));
        }
        validate::max_len("subdomain_id", id, validate::MAX_USER_ID)?;
        match self.store.domain(id).await? {
            Some(sub) if sub.parent_domain_id == actor.domain_id => Ok(Actor {
                domain_id: sub.domain_id.into(),
                ..actor.clone()
            }),
            _ => Err(Error::NotFound(Resource::Domain)),
        }
    }

    /// Subdomain roles belong to subdomains, `admin` and `superadmin` to top-level domains.
    /// Every role is a valid value; whether it fits depends on the domain, so a misfit is a
    /// conflict with the domain's state (409), not a malformed request.
    pub(crate) async fn check_role_fits_domain(&self, actor: &Actor, role: Role) -> Result<()> {
        let in_subdomain = !self.own_domain(actor).await?.parent_domain_id.is_empty();
        let subdomain_role = matches!(role, Role::SubdomainAdmin | Role::SubdomainSuperAdmin);
        // The read-only directory role reads its own domain, top-level or subdomain.
        if subdomain_role == in_subdomain || role == Role::DirectoryReader {
            Ok(())
        } else if in_subdomain {
            Err(Error::Conflict(format!(
                "role {} belongs to top-level domains; a subdomain has subdomain roles",
                role.as_str()
            )))
        } else {
            Err(Error::Conflict(format!(
                "role {} belongs to subdomains, and this is a top-level domain",
                role.as_str()
            )))
        }
    }

    /// Keeps tenants out of each other's names and the deployment's: no domain takes a
    /// reserved label or one of the base domain's own, and a subdomain's id is its parent's
    /// followed by `-` and more (`acme-labs` under `acme`), so a tenant names subdomains only
    /// inside its own id and never takes an id the operator may give another tenant.
    fn check_domain_id_is_claimable(&self, domain_id: &str, parent: &str) -> Result<()> {
        if self.routing.is_reserved(domain_id) {
            return Err(Error::param(ParamProblem::Invalid, "domain_id"));
        }
        let in_parents_name = domain_id
            .strip_prefix(parent)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|label| !label.is_empty());
        if !parent.is_empty() && !in_parents_name {
            return Err(Error::param(ParamProblem::Invalid, "domain_id"));
        }
        Ok(())
    }

    /// The caller's own domain.
    /// The tenant as the directory dialects name it (eds-user InitTenantAlias): its domain,
    /// whose id is its alias, generated once and never changed. Admins only.
    pub async fn tenant_alias(&self, actor: &Actor) -> Result<DomainRow> {
        actor.require_admin()?;
        self.own_domain(actor).await
    }

    pub async fn own_domain(&self, actor: &Actor) -> Result<DomainRow> {
        self.store
            .domain(&actor.domain_id)
            .await?
            .ok_or(Error::NotFound(Resource::Domain))
    }

    /// The parent under which the caller creates and lists domains: `""` (top level) for the
    /// operator domain's superadmins, its own domain for a top-level domain's superadmin.
    async fn managed_parent(&self, actor: &Actor) -> Result<String> {
        if actor.role != Role::Superadmin {
            return Err(Error::forbidden("a superadmin manages domains"));
        }
        let own = self.own_domain(actor).await?;
        Ok(if own.is_operator {
            String::new()
        } else {
            own.domain_id
        })
    }

    /// A domain the caller may manage below it: a subdomain of its own domain, or, for the
    /// operator's superadmins, a top-level domain other than the operator's.
    async fn domain_below(&self, actor: &Actor, domain_id: &str) -> Result<DomainRow> {
        let hidden = || Error::NotFound(Resource::Domain);
        if actor.role != Role::Superadmin {
            return Err(hidden());
        }
        let target = self.store.domain(domain_id).await?.ok_or_else(hidden)?;
        if target.domain_id == actor.domain_id || target.is_operator {
            return Err(hidden());
        }
        if target.parent_domain_id == actor.domain_id {
            return Ok(target);
        }
        let own = self.own_domain(actor).await?;
        if own.is_operator && target.parent_domain_id.is_empty() {
            Ok(target)
        } else {
            Err(hidden())
        }
    }

    /// The domain a get or update names: the caller's own (as an admin, or a superadmin to
    /// change it), or one below it.
    async fn reachable_domain(
        &self,
        actor: &Actor,
        domain_id: &str,
        to_change: bool,
    ) -> Result<DomainRow> {
        validate::required("domain_id", domain_id, validate::MAX_USER_ID)?;
        if domain_id != actor.domain_id {
            return self.domain_below(actor, domain_id).await;
        }
        let allowed = if to_change {
            actor.is_superadmin()
        } else {
            actor.is_admin()
        };
        if !allowed {
            return Err(Error::forbidden("admin permission required"));
        }
        self.own_domain(actor).await
    }

    pub async fn create_domain(&self, actor: &Actor, req: NewDomainSpec) -> Result<CreatedDomain> {
        actor.audit("domain.create", "domain", "");
        validate_settings(&Settings {
            domain_name: Some(&req.domain_name),
            description: req.description.as_deref(),
            init_drive_size: req.init_drive_size,
            size_quota: req.size_quota,
            user_count_quota: req.user_count_quota,
        })?;
        let parent = match req.parent_domain_id.filter(|p| !p.is_empty()) {
            None => {
                if !self.managed_parent(actor).await?.is_empty() {
                    return Err(Error::forbidden(
                        "only the operator creates top-level domains",
                    ));
                }
                String::new()
            }
            Some(parent) if parent == actor.domain_id => {
                let own = self.own_domain(actor).await?;
                if actor.role != Role::Superadmin || !own.parent_domain_id.is_empty() {
                    return Err(Error::forbidden("subdomains hang under a top-level domain"));
                }
                parent
            }
            Some(parent) => {
                let target = self.domain_below(actor, &parent).await?;
                if !target.parent_domain_id.is_empty() {
                    return Err(Error::invalid("parent_domain_id"));
                }
                parent
            }
        };
        let domain_id = req
            .domain_id
            .unwrap_or_else(|| generated_domain_id(&parent));
        actor.trail.name_target(&domain_id);
        validate_domain_id(&domain_id)?;
        self.check_domain_id_is_claimable(&domain_id, &parent)?;
        let admin_user_id = req.admin_user_id.unwrap_or_else(|| "admin".into());
        validate::user_id(&admin_user_id)?;
        if let Some(pw) = &req.admin_password {
            validate::password(pw)?;
        }
        let generated = req.admin_password.is_none().then(|| random_hex(12));
        let password = req
            .admin_password
            .as_deref()
            .or(generated.as_deref())
            .unwrap_or_default();

        let now = self.clock.now_ms();
        let mut domain = DomainRow::new(&domain_id, &req.domain_name, &parent, now);
        domain.description = req.description.unwrap_or_default();
        domain.init_drive_enable = req.init_drive_enable.unwrap_or(false);
        domain.init_drive_size = req.init_drive_size.unwrap_or(0);
        domain.size_quota = req.size_quota.unwrap_or(0);
        domain.user_count_quota = req.user_count_quota.unwrap_or(0);
        let mut admin = new_user_row(&domain_id, admin_user_id.clone(), &actor.user_id, now);
        admin.role = if parent.is_empty() {
            Role::Superadmin
        } else {
            Role::SubdomainSuperAdmin
        }
        .as_str()
        .into();
        admin.nick_name = admin_user_id.clone();
        let account = AccountRow {
            domain_id: domain_id.clone(),
            authentication_type: "custom".into(),
            identity: admin_user_id.clone(),
            user_id: admin_user_id.clone(),
            display_name: admin_user_id.clone(),
            extra: String::new(),
            status: "normal".into(),
            created_at: now,
            last_login_time: 0,
        };
        let first_admin = NewUser {
            user: admin,
            accounts: vec![account],
            password_hash: Some(self.passwords.hash(password).await?),
            group_ids: Vec::new(),
            drive: None,
        };
        let created = self
            .store
            .create_domain(&actor.trail, domain, first_admin)
            .await?;
        Ok(CreatedDomain {
            domain: created,
            admin_user_id,
            admin_password: generated,
        })
    }

    /// The domains the caller manages below it: top-level ones for the operator, else its
    /// subdomains. A search (`search`) keeps those whose name starts with the prefix asked;
    /// a list ignores it, but it is checked alike.
    pub async fn list_domains(
        &self,
        actor: &Actor,
        req: DomainSearch,
        search: bool,
    ) -> Result<Listed<Domain>> {
        validate::optional(
            "domain_name",
            req.name_prefix.as_deref(),
            validate::MAX_NAME,
        )?;
        validate::optional("name", req.alt_name_prefix.as_deref(), validate::MAX_NAME)?;
        let parent = self.managed_parent(actor).await?;
        let page = Page::parse_limited(
            &actor.domain_id,
            req.limit,
            req.marker.as_deref(),
            ("limit", roster_api::MAX_LIMIT, DEFAULT_DOMAIN_LIMIT),
        )?;
        let prefix = if search {
            req.name_prefix
                .or(req.alt_name_prefix)
                .filter(|n| !n.is_empty())
        } else {
            None
        };
        let tag = if prefix.is_some() { "dn" } else { "di" };
        let rows = self
            .store
            .find_domains(
                &parent,
                prefix.as_deref(),
                page.after_for(tag)?,
                page.limit + 1,
            )
            .await?;
        let by_name = prefix.is_some();
        let (rows, next_marker) = finish_page(rows, page.limit, |d| {
            let value = if by_name { d.domain_name.as_str() } else { "" };
            encode_marker(&actor.domain_id, tag, value, &d.domain_id)
        });
        Ok(Listed {
            items: rows
                .into_iter()
                // The operator's own domain is top-level too, but it is not managed from here.
                .filter(|d| !d.is_operator)
                .collect(),
            next_marker,
        })
    }

    /// Reads a domain; `with_usage`, what its drives use.
    pub async fn get_domain(
        &self,
        actor: &Actor,
        domain_id: &str,
        with_usage: bool,
    ) -> Result<DomainWithUsage> {
        let row = self.reachable_domain(actor, domain_id, false).await?;
        let usage = if with_usage {
            self.store.drive_usage(&row.domain_id).await?
        } else {
            DriveUsage::default()
        };
        Ok(DomainWithUsage { domain: row, usage })
    }

    /// Changes a domain's name, description, initial drives and quotas (superadmin).
    pub async fn update_domain(
        &self,
        actor: &Actor,
        domain_id: &str,
        req: DomainChanges,
    ) -> Result<Domain> {
        let detail = serde_json::json!({ "fields": req.field_names() });
        actor.audit_with("domain.update", "domain", domain_id, detail);
        validate_settings(&Settings {
            domain_name: req.domain_name.as_deref(),
            description: req.description.as_deref(),
            init_drive_size: req.init_drive_size,
            size_quota: req.size_quota,
            user_count_quota: req.user_count_quota,
        })?;
        if req.app_access_strategy {
            return Err(Error::not_supported("published_app_access_strategy"));
        }
        let row = self.reachable_domain(actor, domain_id, true).await?;
        if row.domain_id == actor.domain_id && !row.is_operator {
            own_quota_only_lowered("size_quota", row.size_quota, req.size_quota)?;
            own_quota_only_lowered(
                "user_count_quota",
                row.user_count_quota,
                req.user_count_quota,
            )?;
        }
        let changes = StoredDomainChanges {
            domain_name: req.domain_name,
            description: req.description,
            init_drive_enable: req.init_drive_enable,
            init_drive_size: req.init_drive_size,
            size_quota: req.size_quota,
            user_count_quota: req.user_count_quota,
            updated_at: self.clock.now_ms(),
        };
        self.store
            .update_domain(&actor.trail, &row.domain_id, changes)
            .await?
            .ok_or(Error::NotFound(Resource::Domain))
    }

    /// Deletes a domain below the caller with everything in it; needs `force`.
    pub async fn delete_domain(&self, actor: &Actor, domain_id: &str, force: bool) -> Result<()> {
        actor.audit("domain.delete", "domain", domain_id);
        validate::required("domain_id", domain_id, validate::MAX_USER_ID)?;
        let target = self.domain_below(actor, domain_id).await?;
        if !force {
            return Err(Error::Conflict(
                "deleting a domain deletes everything in it: send force=true".into(),
            ));
        }
        self.store
            .delete_domain(&actor.trail, &target.domain_id)
            .await
    }

    /// The caller's domain's quotas and what is used of them (admin). `size_used` is the sum
    /// of the limited drives' `total_size`: what `size_quota` bounds.
    pub async fn get_domain_quota(&self, actor: &Actor) -> Result<QuotaUse> {
        if !actor.is_admin() {
            return Err(Error::forbidden("admin permission required"));
        }
        let domain = self.own_domain(actor).await?;
        let usage = self.store.drive_usage(&actor.domain_id).await?;
        let users = self.store.count_users(&actor.domain_id).await?;
        Ok(QuotaUse {
            size_quota: domain.size_quota,
            size_used: usage.allocated,
            user_count_quota: domain.user_count_quota,
            user_count_used: users,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::own_quota_only_lowered;

    #[test]
    fn a_domain_only_lowers_its_own_quota() {
        // (current, asked, allowed); 0 is unlimited.
        for (current, asked, allowed) in [
            (100, None, true),
            (100, Some(100), true),
            (100, Some(50), true),
            (0, Some(50), true),
            (100, Some(101), false),
            (100, Some(0), false),
            (0, Some(0), true),
        ] {
            assert_eq!(
                own_quota_only_lowered("size_quota", current, asked).is_ok(),
                allowed,
                "{current} -> {asked:?}"
            );
        }
    }
}
