//! What a user's stored role and status mean.

use serde::{Deserialize, Serialize};

use super::{LogonKind, Role, User, UserStatus};
use crate::error::Result;

/// A stored role; a value Roster never writes is an internal error, never a silent default.
pub fn stored_role(stored: &str) -> Result<Role> {
    Role::from_stored(stored)
}

/// A stored user status, as strictly as [`stored_role`].
pub fn stored_status(stored: &str) -> Result<UserStatus> {
    UserStatus::from_stored(stored)
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

/// A user to create from one logon identity (an import): its account is of `kind`, and an
/// e-mail or mobile identity is also the user's e-mail or phone unless given apart.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedUserSpec {
    /// None: a generated id.
    pub user_id: Option<String>,
    pub kind: LogonKind,
    pub identity: String,
    pub nick_name: String,
    /// The account's display name (default: the identity).
    pub display_name: Option<String>,
    /// The account's extra (a mobile number's region; default `86`).
    pub extra: Option<String>,
    /// Gives the user a default drive of `drive_total_size` bytes (default unlimited).
    pub auto_create_drive: Option<bool>,
    pub drive_total_size: Option<i64>,
    pub parent_group_id: Option<String>,
    pub plain_password: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub deny_change_password_by_self: Option<bool>,
    pub need_change_password_next_login: Option<bool>,
    pub expired_at: Option<i64>,
    pub phone_region: Option<String>,
}

/// A change to a user: each field set is changed, each left out kept. Who may set what is
/// the users service's rule (a user its own profile; admins more; superadmins roles).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    pub user_name: Option<String>,
    pub nick_name: Option<String>,
    pub avatar: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_region: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub description: Option<String>,
    pub user_data: Option<serde_json::Map<String, serde_json::Value>>,
    /// The groups the user is in from now on (replacing its memberships).
    pub group_ids: Option<Vec<String>>,
    pub plain_password: Option<String>,
    pub deny_change_password_by_self: Option<bool>,
    pub need_change_password_next_login: Option<bool>,
    /// When the user locks by itself (milliseconds; 0: never).
    pub expired_at: Option<i64>,
    pub punishments: Option<Vec<Punishment>>,
}

impl UserChanges {
    /// The names of the fields this change sets, sorted, as the audit log lists them (a
    /// password as `password`, the groups as `group_info_list`, the names the log has
    /// always used).
    pub fn field_names(&self) -> Vec<String> {
        super::set_field_names([
            ("avatar", self.avatar.is_some()),
            (
                "deny_change_password_by_self",
                self.deny_change_password_by_self.is_some(),
            ),
            ("description", self.description.is_some()),
            ("email", self.email.is_some()),
            ("expired_at", self.expired_at.is_some()),
            ("group_info_list", self.group_ids.is_some()),
            (
                "need_change_password_next_login",
                self.need_change_password_next_login.is_some(),
            ),
            ("nick_name", self.nick_name.is_some()),
            ("password", self.plain_password.is_some()),
            ("phone", self.phone.is_some()),
            ("phone_region", self.phone_region.is_some()),
            ("punishments", self.punishments.is_some()),
            ("role", self.role.is_some()),
            ("status", self.status.is_some()),
            ("user_data", self.user_data.is_some()),
            ("user_name", self.user_name.is_some()),
        ])
    }

    /// Whether the change touches more than the profile a user keeps itself (nick name,
    /// avatar, description) and its role.
    pub fn touches_admin_fields(&self) -> bool {
        self.status.is_some()
            || self.email.is_some()
            || self.phone.is_some()
            || self.user_data.is_some()
            || self.user_name.is_some()
            || self.plain_password.is_some()
            || self.deny_change_password_by_self.is_some()
            || self.need_change_password_next_login.is_some()
            || self.expired_at.is_some()
            || self.phone_region.is_some()
            || self.punishments.is_some()
    }
}

/// A punishment on a user (PDS keeps them; Roster never punishes by itself). Stored as a JSON
/// list of these, with these field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Punishment {
    pub punish_flag: i64,
    /// RFC 3339, or `""`: from always.
    pub starts_at: String,
    /// RFC 3339, or `""`: for ever.
    pub ends_at: String,
    pub impermanent: bool,
}

/// Which users a page of users holds: every condition set must hold. Text conditions are
/// prefixes, compared case-insensitively; empty ones filter nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserSearch {
    pub user_name: Option<String>,
    pub nick_name: Option<String>,
    /// A substring of the nick name.
    pub nick_name_contains: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Search a subdomain of the caller's domain instead of its own.
    pub subdomain_id: Option<String>,
    /// Page size (none: the default).
    pub limit: Option<i64>,
    /// Where the page starts: the `next_marker` of the page before (or, read
    /// [`PageDirection::Backward`], the `previous_marker` of the page after).
    pub marker: Option<String>,
    /// Which side of `marker` the page lies on.
    pub direction: PageDirection,
}

/// Which side of its marker a page of a keyset-paged list lies on. Either way the page's
/// rows come in the list's order; without a marker it is the first page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PageDirection {
    /// The rows after the marker (a `next_marker`).
    #[default]
    Forward,
    /// The rows just before the marker (a `previous_marker`): read backwards from it, so
    /// the page before page 1,000 costs what page 2 does. When fewer than a page's rows lie
    /// before it, the answer is the first page.
    Backward,
}

/// What to read along with each user of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserExtras {
    pub accounts: bool,
    pub default_drive: bool,
    pub groups: bool,
}

impl UserExtras {
    pub fn any(self) -> bool {
        self.accounts || self.default_drive || self.groups
    }
}

/// A user with the extras asked for (`None`: not asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct UserWithExtras {
    pub user: User,
    pub accounts: Option<Vec<super::Account>>,
    /// Asked for: the user's default drive, if it has one.
    pub default_drive: Option<Option<super::Drive>>,
    /// The groups the user is a direct member of.
    pub groups: Option<Vec<super::Group>>,
}

/// One page of a group's members: its subgroups first, then its users.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMembers {
    pub groups: Vec<super::Group>,
    pub users: Vec<UserWithExtras>,
    /// `""` when this is the last page.
    pub next_marker: String,
}

/// One page of a listing, and the marker of the next (`""` when this is the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_marker: String,
}

/// One page of a listing paged both ways: the marker of the next page (`""` when this is
/// the last) and of the previous one (`""` when this is the first), each a single sort key
/// whatever the depth, so neither needs a count, an offset or the pages in between.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedBothWays<T> {
    pub items: Vec<T>,
    pub next_marker: String,
    /// Read with [`PageDirection::Backward`].
    pub previous_marker: String,
}

impl<T> ListedBothWays<T> {
    /// The page as a one-way listing (for faces that only page forward).
    pub fn forward_only(self) -> Listed<T> {
        Listed {
            items: self.items,
            next_marker: self.next_marker,
        }
    }
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
        Ok(self.role()?.is_superadmin())
    }

    /// Whether the user has admin permission (any admin or superadmin role).
    pub fn is_admin(&self) -> Result<bool> {
        Ok(self.role()?.is_admin())
    }

    /// Whether the user is locked out at `now`: disabled, or past its `expired_at` (the time
    /// an admin set for it to lock by itself, eds-user `AutoLockTime`).
    pub fn locked_at(&self, now: i64) -> bool {
        self.status != UserStatus::Enabled.as_str()
            || (self.expired_at > 0 && self.expired_at <= now)
    }

    /// The user's free-form data (an empty object when none is stored).
    pub fn user_data_object(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.user_data).unwrap_or_default()
    }

    /// The user's punishments, as stored.
    pub fn punishment_list(&self) -> Vec<Punishment> {
        serde_json::from_str(&self.punishments).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_stored_role_or_status_roster_never_writes_is_internal() {
        assert_eq!(stored_role("admin").ok(), Some(Role::Admin));
        assert!(matches!(stored_role("owner"), Err(Error::Internal(_))));
        assert!(matches!(stored_role(""), Err(Error::Internal(_))));
        assert_eq!(stored_status("disabled").ok(), Some(UserStatus::Disabled));
        assert!(matches!(stored_status("locked"), Err(Error::Internal(_))));
    }

    #[test]
    fn a_change_names_the_fields_it_sets_sorted() {
        let changes = UserChanges {
            status: Some(UserStatus::Disabled),
            nick_name: Some("n".into()),
            plain_password: Some("p".into()),
            group_ids: Some(Vec::new()),
            ..UserChanges::default()
        };
        assert_eq!(
            changes.field_names(),
            ["group_info_list", "nick_name", "password", "status"]
        );
        assert!(changes.touches_admin_fields());
        let own = UserChanges {
            nick_name: Some("n".into()),
            avatar: Some("a".into()),
            description: Some("d".into()),
            ..UserChanges::default()
        };
        assert!(!own.touches_admin_fields());
    }
}
