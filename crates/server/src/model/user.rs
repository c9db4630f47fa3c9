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
