//! What the drives service takes: a drive to create, a change to one, a search.

/// What owns a drive: a user or a group (an org unit or a user group). Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriveOwnerType {
    User,
    Group,
}

impl DriveOwnerType {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            DriveOwnerType::User => "user",
            DriveOwnerType::Group => "group",
        }
    }
}

/// Whether a drive may be used. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriveStatus {
    Enabled,
    Disabled,
}

impl DriveStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            DriveStatus::Enabled => "enabled",
            DriveStatus::Disabled => "disabled",
        }
    }
}

/// A drive to create; what is left out takes Roster's default (enabled, unlimited, not the
/// owner's default drive, in the caller's domain).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDriveSpec {
    pub drive_name: String,
    pub owner: String,
    pub owner_type: DriveOwnerType,
    /// Makes it its (user) owner's default drive.
    pub is_default: Option<bool>,
    pub description: Option<String>,
    pub status: Option<DriveStatus>,
    /// Bytes; -1 means unlimited.
    pub total_size: Option<i64>,
    /// The subdomain to create the drive in (none: the caller's domain).
    pub subdomain_id: Option<String>,
}

/// A change to a drive: each field set is changed, each left out kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DriveChanges {
    pub drive_name: Option<String>,
    pub description: Option<String>,
    pub status: Option<DriveStatus>,
    /// Bytes; -1 means unlimited.
    pub total_size: Option<i64>,
    /// A new owner: not supported, a non-empty one is refused.
    pub owner: Option<String>,
}

impl DriveChanges {
    /// The names of the fields this change sets, sorted, as the audit log lists them.
    pub fn field_names(&self) -> Vec<String> {
        super::set_field_names([
            ("description", self.description.is_some()),
            ("drive_name", self.drive_name.is_some()),
            ("owner", self.owner.is_some()),
            ("status", self.status.is_some()),
            ("total_size", self.total_size.is_some()),
        ])
    }
}

/// Which drives a page holds: every filter set must match (empty strings filter nothing),
/// in `drive_id` order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DriveSearch {
    pub owner_type: Option<DriveOwnerType>,
    pub owner: Option<String>,
    /// A substring of the drive's name, case-insensitive.
    pub name_contains: Option<String>,
    /// The subdomain to search in (none: the caller's domain).
    pub subdomain_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drive_change_names_the_fields_it_sets() {
        let changes = DriveChanges {
            total_size: Some(1),
            drive_name: Some("d".into()),
            ..DriveChanges::default()
        };
        assert_eq!(changes.field_names(), ["drive_name", "total_size"]);
        assert!(DriveChanges::default().field_names().is_empty());
    }
}
