//! Roster's own domain types: what the services take and answer, whichever face calls them.
//! A face (`http/<dialect>`) translates between its wire types and these; it never reaches
//! the store's types itself.
//!
//! Users, groups and property values are decoded by the store straight into the types named
//! here; the enums are stored as text and decoded strictly: a stored value Roster does not
//! know is an internal error, never a silent default.

mod access_key;
mod account;
mod app;
mod audit;
mod domain;
mod drive;
mod group;
mod ids;
mod kinds;
mod scim_token;
mod token;
mod user;

pub use access_key::{AccessKey, AccessKeyStatus, IssuedAccessKey};
pub use account::{AccountLink, LogonIdentity, LogonKind};
pub use app::{AppChanges, AppInfo, AppType, NewAppSpec};
pub use audit::{AuditExportSpec, AuditSearch};
pub use domain::{
    CreatedDomain, DomainChanges, DomainSearch, DomainWithUsage, NewDomainSpec, QuotaUse,
};
pub use drive::{DriveChanges, DriveOwnerType, DriveSearch, DriveStatus, NewDriveSpec};
pub use group::{
    GroupAdminGrant, GroupAdminRole, GroupChanges, GroupSearch, HolderRoles, Member, MemberKind,
    MemberListing, NewGroupSpec,
};
pub use ids::{DomainId, GroupId, UserId};
pub use kinds::{GroupKind, HolderKind, Role, UserStatus, GROUP_ADMIN_ROLE_NAME};
pub use scim_token::{IssuedScimToken, ScimTokenInfo};
pub use token::{IssuedToken, TokenHolder};
pub use user::{
    stored_role, stored_status, GroupMembers, ImportedUserSpec, Listed, ListedBothWays,
    NewUserSpec, PageDirection, Punishment, UserChanges, UserExtras, UserSearch, UserWithExtras,
};

/// The names of the fields a change sets, sorted, as the audit log lists them: each name
/// with whether the change sets it.
fn set_field_names<const N: usize>(fields: [(&str, bool); N]) -> Vec<String> {
    let mut names: Vec<String> = fields
        .into_iter()
        .filter(|(_, is_set)| *is_set)
        .map(|(name, _)| name.to_owned())
        .collect();
    names.sort();
    names
}

/// A user as Roster keeps it.
pub use crate::store::UserRow as User;

/// A logon account of a user (an identity it logs in with).
pub use crate::store::AccountRow as Account;

/// A drive: storage owned by a user or a group.
pub use crate::store::drives::DriveRow as Drive;

/// What the drives of a domain add up to.
pub use crate::store::drives::DriveUsage;

/// A registered app (a JWT app or one of the authorization-code flow).
pub use crate::store::apps::AppRow as App;

/// A record of the audit log: who did what to which object, when, and how it ended.
pub use crate::store::audit_log::AuditRow as AuditEntry;

/// A domain (tenant) with its drive and quota settings.
pub use crate::store::DomainRow as Domain;

/// A group: a department of the tree ([`GroupKind::Org`]) or a flat user group.
pub use crate::store::groups::GroupRow as Group;

/// A custom user property (a key) and one of the values it allows.
pub use crate::store::properties::{PropertyRow as Property, PropertyValueRow as PropertyValue};
