//! What a user's stored role and status mean.

use roster_api::{Role, UserStatus};

use super::User;
use crate::error::{Error, Result};

/// A stored role; a value Roster never writes is an internal error, never a silent default.
pub fn stored_role(stored: &str) -> Result<Role> {
    Role::parse(stored)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown stored role {stored:?}")))
}

/// A stored user status, as strictly as [`stored_role`].
pub fn stored_status(stored: &str) -> Result<UserStatus> {
    UserStatus::parse(stored)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown stored user status {stored:?}")))
}

/// A user to create: what the caller says; everything left out takes Roster's default
/// (role `user`, enabled, no groups, no password).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUserSpec {
    pub user_id: String,
    pub user_name: Option<String>,
    pub nick_name: Option<String>,
    pub avatar: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_region: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub description: Option<String>,
    /// Free-form data the caller keeps on the user.
    pub user_data: Option<serde_json::Map<String, serde_json::Value>>,
    /// The groups to place the user in.
    pub group_ids: Option<Vec<String>>,
    pub plain_password: Option<String>,
    pub deny_change_password_by_self: Option<bool>,
    pub need_change_password_next_login: Option<bool>,
    /// When the user locks by itself (milliseconds; none or 0: never).
    pub expired_at: Option<i64>,
    /// The subdomain to create the user in (none: the caller's domain).
    pub subdomain_id: Option<String>,
}

impl User {
    /// The user's role.
    pub fn role(&self) -> Result<Role> {
        stored_role(&self.role)
    }

    /// The user's status (`enabled` or `disabled`; a lock by time is not a status).
    pub fn status(&self) -> Result<UserStatus> {
        stored_status(&self.status)
    }

    /// Whether the user holds a superadmin role (of a domain or of a subdomain).
    pub fn is_superadmin(&self) -> Result<bool> {
        Ok(matches!(
            self.role()?,
            Role::Superadmin | Role::SubdomainSuperAdmin
        ))
    }

    /// Whether the user has admin permission (any admin or superadmin role).
    pub fn is_admin(&self) -> Result<bool> {
        Ok(matches!(
            self.role()?,
            Role::Admin | Role::Superadmin | Role::SubdomainAdmin | Role::SubdomainSuperAdmin
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_role_or_status_roster_never_writes_is_internal() {
        assert_eq!(stored_role("admin").ok(), Some(Role::Admin));
        assert!(matches!(stored_role("owner"), Err(Error::Internal(_))));
        assert!(matches!(stored_role(""), Err(Error::Internal(_))));
        assert_eq!(stored_status("disabled").ok(), Some(UserStatus::Disabled));
        assert!(matches!(stored_status("locked"), Err(Error::Internal(_))));
    }
}
