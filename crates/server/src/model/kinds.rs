//! The closed vocabularies Roster stores as text.

use crate::error::{Error, Result};

/// What a user may do in its domain. A subdomain's users hold the subdomain forms, which act
/// only inside that subdomain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Admin,
    Superadmin,
    SubdomainAdmin,
    SubdomainSuperAdmin,
    /// An application account (an LDAP bind user of Nextcloud, SSSD, Jellyfin...): reads the
    /// whole directory as an admin does, and changes nothing, not even itself.
    DirectoryReader,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::User,
        Role::Admin,
        Role::Superadmin,
        Role::SubdomainAdmin,
        Role::SubdomainSuperAdmin,
        Role::DirectoryReader,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Superadmin => "superadmin",
            Role::SubdomainAdmin => "subdomain_admin",
            Role::SubdomainSuperAdmin => "subdomain_super_admin",
            Role::DirectoryReader => "directory_reader",
        }
    }

    /// The role of a stored value; a value Roster never writes is an internal error, never
    /// a silent default.
    pub fn from_stored(stored: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == stored)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown stored role {stored:?}")))
    }

    /// Admin permission: any admin or superadmin role.
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Superadmin | Role::SubdomainAdmin | Role::SubdomainSuperAdmin
        )
    }

    /// Reads the whole directory (users, groups, members): admin permission, or the
    /// read-only directory role.
    pub fn reads_directory(self) -> bool {
        self.is_admin() || self == Role::DirectoryReader
    }

    /// A superadmin, of a domain or of a subdomain.
    pub fn is_superadmin(self) -> bool {
        matches!(self, Role::Superadmin | Role::SubdomainSuperAdmin)
    }

    /// A role only a subdomain's users hold.
    pub fn is_subdomain_role(self) -> bool {
        matches!(self, Role::SubdomainAdmin | Role::SubdomainSuperAdmin)
    }
}

/// Whether a user may log in: a disabled user cannot, and its tokens stop working. (A lock
/// by time, `expired_at`, is not a status.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    Enabled,
    Disabled,
}

impl UserStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Enabled => "enabled",
            UserStatus::Disabled => "disabled",
        }
    }

    /// The status of a stored value, as strictly as [`Role::from_stored`].
    pub fn from_stored(stored: &str) -> Result<UserStatus> {
        match stored {
            "enabled" => Ok(UserStatus::Enabled),
            "disabled" => Ok(UserStatus::Disabled),
            other => Err(Error::internal(anyhow::anyhow!(
                "unknown stored user status {other:?}"
            ))),
        }
    }
}

/// What a group is: a department of the organization tree, or a flat group of users outside
/// it (an eds-user or KooDrive user group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    Org,
    UserGroup,
}

impl GroupKind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Org => "org",
            GroupKind::UserGroup => "user_group",
        }
    }

    /// The kind of a stored value; an unknown one means the store holds what Roster never
    /// wrote, an internal error.
    pub fn from_stored(stored: &str) -> Result<GroupKind> {
        match stored {
            "org" => Ok(GroupKind::Org),
            "user_group" => Ok(GroupKind::UserGroup),
            other => Err(Error::internal(anyhow::anyhow!(
                "unknown group kind {other:?}"
            ))),
        }
    }
}

/// The name of the group-admin role in audit records and events (PDS's, which the first
/// records used; the role is the only one Roster has).
pub const GROUP_ADMIN_ROLE_NAME: &str = "SystemGroupAdmin";

/// Who holds a group-admin role: a user, or a group (whose members then hold it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolderKind {
    User,
    Group,
}

impl HolderKind {
    /// The stored text (the table was first filled through PDS's role API, and keeps its
    /// names; the events feed shows them too).
    pub const fn as_str(self) -> &'static str {
        match self {
            HolderKind::User => "IT_User",
            HolderKind::Group => "IT_Group",
        }
    }

    /// The kind of a stored value; an unknown one is an internal error.
    pub fn from_stored(stored: &str) -> Result<HolderKind> {
        match stored {
            "IT_User" => Ok(HolderKind::User),
            "IT_Group" => Ok(HolderKind::Group),
            other => Err(Error::internal(anyhow::anyhow!(
                "unknown role holder kind {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_statuses_round_trip_and_unknown_ones_are_internal() {
        for role in Role::ALL {
            assert_eq!(Role::from_stored(role.as_str()).ok(), Some(role));
        }
        assert!(matches!(
            Role::from_stored("owner"),
            Err(Error::Internal(_))
        ));
        assert!(matches!(
            Role::from_stored("Admin"),
            Err(Error::Internal(_))
        ));
        assert!(matches!(Role::from_stored(""), Err(Error::Internal(_))));
        for status in [UserStatus::Enabled, UserStatus::Disabled] {
            assert_eq!(UserStatus::from_stored(status.as_str()).ok(), Some(status));
        }
        assert!(matches!(
            UserStatus::from_stored("locked"),
            Err(Error::Internal(_))
        ));
        assert!(Role::Admin.is_admin() && !Role::User.is_admin());
        assert!(!Role::DirectoryReader.is_admin() && Role::DirectoryReader.reads_directory());
        assert!(!Role::User.reads_directory() && Role::SubdomainAdmin.reads_directory());
        assert!(Role::SubdomainSuperAdmin.is_superadmin() && !Role::Admin.is_superadmin());
    }

    #[test]
    fn group_kinds_round_trip_and_unknown_ones_are_internal() {
        for kind in [GroupKind::Org, GroupKind::UserGroup] {
            assert_eq!(GroupKind::from_stored(kind.as_str()).ok(), Some(kind));
        }
        assert!(matches!(
            GroupKind::from_stored("team"),
            Err(Error::Internal(_))
        ));
    }
}
