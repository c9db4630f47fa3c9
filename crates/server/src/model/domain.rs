//! What the domains service takes and answers: a domain to create, a change to one, a
//! search, what a domain uses of its quotas.

use super::{Domain, DriveUsage};

/// A domain (tenant) to create, at the top level (operator) or under `parent_domain_id`,
/// with its first superadmin. What is left out takes Roster's default (a generated id, no
/// quotas, no initial drives, a first admin `admin` with a generated password).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewDomainSpec {
    pub domain_id: Option<String>,
    pub domain_name: String,
    pub description: Option<String>,
    pub parent_domain_id: Option<String>,
    /// Whether a new user gets a default drive, and its size (bytes, -1 unlimited).
    pub init_drive_enable: Option<bool>,
    pub init_drive_size: Option<i64>,
    /// Bytes; 0 unlimited.
    pub size_quota: Option<i64>,
    /// 0 unlimited.
    pub user_count_quota: Option<i64>,
    pub admin_user_id: Option<String>,
    pub admin_password: Option<String>,
}

/// A created domain, its first admin, and that admin's password when Roster generated it
/// (the only time it is shown).
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedDomain {
    pub domain: Domain,
    pub admin_user_id: String,
    pub admin_password: Option<String>,
}

/// A change to a domain: each field set is changed, each left out kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomainChanges {
    pub domain_name: Option<String>,
    pub description: Option<String>,
    pub init_drive_enable: Option<bool>,
    pub init_drive_size: Option<i64>,
    pub size_quota: Option<i64>,
    pub user_count_quota: Option<i64>,
    /// The caller asked to change which apps may reach the domain: Roster does not support
    /// it, so the change is refused.
    pub app_access_strategy: bool,
}

impl DomainChanges {
    /// The names of the fields this change sets, sorted, as the audit log lists them.
    pub fn field_names(&self) -> Vec<String> {
        super::set_field_names([
            ("description", self.description.is_some()),
            ("domain_name", self.domain_name.is_some()),
            ("init_drive_enable", self.init_drive_enable.is_some()),
            ("init_drive_size", self.init_drive_size.is_some()),
            ("published_app_access_strategy", self.app_access_strategy),
            ("size_quota", self.size_quota.is_some()),
            ("user_count_quota", self.user_count_quota.is_some()),
        ])
    }
}

/// Which domains a page holds. A search keeps those whose name starts with `name_prefix`
/// (else `alt_name_prefix`, the field older clients send); a listing ignores both, but
/// they are checked alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomainSearch {
    pub name_prefix: Option<String>,
    pub alt_name_prefix: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// A domain and what its drives use (zero unless asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct DomainWithUsage {
    pub domain: Domain,
    pub usage: DriveUsage,
}

/// A domain's quotas and what is used of them. `size_used` is the sum of the limited
/// drives' `total_size`: what `size_quota` bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUse {
    pub size_quota: i64,
    pub size_used: i64,
    pub user_count_quota: i64,
    pub user_count_used: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_change_names_the_fields_it_sets() {
        let changes = DomainChanges {
            size_quota: Some(1),
            app_access_strategy: true,
            ..DomainChanges::default()
        };
        assert_eq!(
            changes.field_names(),
            ["published_app_access_strategy", "size_quota"]
        );
    }
}
