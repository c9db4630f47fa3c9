//! `/v2/drive/*` wire types.

use serde::{Deserialize, Serialize};

use crate::users::int_or_numeric_string;
use utoipa::ToSchema;

/// Who owns a drive: a user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerType {
    User,
    Group,
}

impl OwnerType {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerType::User => "user",
            OwnerType::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<OwnerType> {
        match s {
            "user" => Some(OwnerType::User),
            "group" => Some(OwnerType::Group),
            _ => None,
        }
    }
}

/// The kind of a drive; Roster has only `normal` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriveType {
    Normal,
}

impl DriveType {
    pub fn as_str(self) -> &'static str {
        match self {
            DriveType::Normal => "normal",
        }
    }
}

/// A drive's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriveStatus {
    Enabled,
    Disabled,
}

impl DriveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DriveStatus::Enabled => "enabled",
            DriveStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<DriveStatus> {
        match s {
            "enabled" => Some(DriveStatus::Enabled),
            "disabled" => Some(DriveStatus::Disabled),
            _ => None,
        }
    }
}

/// A PDS drive, as every drive call answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Drive {
    pub domain_id: String,
    pub drive_id: String,
    pub drive_name: String,
    pub drive_type: String,
    pub description: String,
    /// A `user_id` or a `group_id`, as `owner_type` says.
    pub owner: String,
    pub owner_type: String,
    pub status: String,
    /// Bytes; -1 means unlimited.
    pub total_size: i64,
    /// Bytes; Roster stores no files, so 0.
    pub used_size: i64,
    /// The user id of whoever created the drive.
    pub creator: String,
    /// ISO-8601, e.g. `2019-08-20T06:51:27.292Z`.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
    /// Whether this is its owner's default drive.
    #[serde(default)]
    pub default: bool,
}

/// `/v2/drive/create`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateDriveRequest {
    /// ≤128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub drive_name: String,
    /// A `user_id` or a `group_id`.
    #[schema(min_length = 1, max_length = 64)]
    pub owner: String,
    pub owner_type: OwnerType,
    /// Make this the owner's default drive (user-owned drives only; one per user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// ≤1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive_type: Option<DriveType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DriveStatus>,
    /// Bytes; -1 (the default) means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1.0, maximum = 9007199254740991.0)]
    pub total_size: Option<i64>,
    /// Act in this subdomain of the caller's domain (its admins manage their subdomains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub subdomain_id: Option<String>,
}

/// `/v2/drive/get`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetDriveRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub drive_id: String,
}

/// `/v2/drive/get_default_drive`; `user_id` omitted means the caller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetDefaultDriveRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub user_id: Option<String>,
}

/// `/v2/drive/update`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateDriveRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub drive_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub drive_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DriveStatus>,
    /// Bytes; -1 means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1.0, maximum = 9007199254740991.0)]
    pub total_size: Option<i64>,
    /// Changing a drive's owner is not supported; a non-empty value is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 0)]
    pub owner: Option<String>,
}

/// `/v2/drive/delete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DeleteDriveRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub drive_id: String,
    /// Accepted for compatibility; a drive is always deleted at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// `/v2/drive/list`: every drive of the domain, or those of one owner, by `drive_id`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListDriveRequest {
    /// 1..100, default 100. A JSON number or a numeric string.
    #[serde(
        default,
        deserialize_with = "int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::limit)]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::marker)]
    pub marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_type: Option<OwnerType>,
    /// Act in this subdomain of the caller's domain (its admins manage their subdomains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub subdomain_id: Option<String>,
}

/// `/v2/drive/list_my_drives`: the caller's own drives.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListMyDrivesRequest {
    #[serde(
        default,
        deserialize_with = "int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::limit)]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::marker)]
    pub marker: Option<String>,
}

/// `/v2/drive/search`: every filter given must match.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchDriveRequest {
    #[serde(
        default,
        deserialize_with = "int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::limit)]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::marker)]
    pub marker: Option<String>,
    /// Substring, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub drive_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_type: Option<OwnerType>,
}

/// `{items, next_marker}` of drive list and search calls; `next_marker` is `""` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListDriveResponse {
    pub items: Vec<Drive>,
    pub next_marker: String,
}
