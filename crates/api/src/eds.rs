//! Wire types of the eds-user dialect (Elastic Desktop Service `eds-user` 2021-03-08): RPC
//! answers in PascalCase, each wrapped with a `RequestId` by the server. Only what Roster
//! answers is here; the vendor SDK ignores keys it does not know and reads missing lists as
//! empty. Requests are form and query parameters, parsed by the server.

use serde::{Deserialize, Serialize};

/// The version every eds-user request names.
pub const EDS_USER_VERSION: &str = "2021-03-08";

/// The id of the root of the organization tree: top-level organizations are its children.
pub const ROOT_ORG_ID: &str = "org-aliyun-wy-org-id";

/// eds-user user status: normal.
pub const STATUS_NORMAL: i64 = 0;
/// eds-user user status: locked.
pub const STATUS_LOCKED: i64 = 9;

/// A failure answered in an HTTP error: `{RequestId, HostId, Code, Message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EdsErrorBody {
    pub request_id: String,
    pub host_id: String,
    pub code: String,
    pub message: String,
}

/// One item of a batch that failed, inside a 200 answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailedUser {
    pub end_user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub error_code: String,
    pub error_message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatedUser {
    pub end_user_id: String,
    pub email: String,
    pub phone: String,
    pub real_nick_name: String,
    pub remark: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgRef {
    pub org_id: String,
    pub org_name: String,
    pub org_name_path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupRef {
    pub group_id: String,
    pub group_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// A user as DescribeUsers answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EdsUser {
    pub id: i64,
    pub end_user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// [`STATUS_NORMAL`] or [`STATUS_LOCKED`].
    pub status: i64,
    pub owner_type: String,
    pub remark: String,
    pub real_nick_name: String,
    /// RealNickName, else Remark, else EndUserId.
    pub nick_name: String,
    /// The first organization (deprecated by the vendor; `Orgs` has them all).
    pub org_id: String,
    pub orgs: Vec<OrgRef>,
    pub groups: Vec<GroupRef>,
    pub properties: Vec<KeyValue>,
    pub is_tenant_manager: bool,
    pub enable_admin_access: bool,
    /// `yyyy-MM-dd HH:mm:ss` UTC when the user locks automatically; absent if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_lock_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PropertyValue {
    pub property_value_id: i64,
    pub property_value: String,
}

/// A property a user holds, as FilterUsers answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserSetProperty {
    pub user_id: i64,
    pub user_name: String,
    pub property_id: i64,
    pub property_key: String,
    pub property_type: i32,
    pub property_values: Vec<PropertyValue>,
}

/// A user as FilterUsers answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilteredUser {
    pub id: i64,
    pub end_user_id: String,
    pub email: String,
    pub phone: String,
    pub status: i64,
    pub owner_type: String,
    pub remark: String,
    pub real_nick_name: String,
    pub is_tenant_manager: bool,
    pub enable_admin_access: bool,
    pub auto_lock_time: String,
    pub org_list: Vec<OrgRef>,
    pub groups: Vec<GroupRef>,
    pub user_set_properties_models: Vec<UserSetProperty>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Org {
    pub org_id: String,
    pub org_name: String,
    pub parent_org_id: String,
    pub org_name_path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserGroup {
    pub group_id: String,
    pub group_name: String,
    pub description: String,
    /// `yyyy-MM-dd HH:mm:ss` UTC.
    pub create_time: String,
    pub user_count: i64,
}

/// The group DescribeGroupUser lists, with its number of members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupSummary {
    pub group_id: String,
    pub group_name: String,
    pub user_count: i64,
}

/// A member of a user group, as DescribeGroupUser answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupMember {
    pub end_user_id: String,
    pub email: String,
    pub phone: String,
    pub nick_name: String,
    pub remark: String,
    /// `yyyy-MM-dd HH:mm:ss` UTC.
    pub gmt_created: String,
    /// When the user joined the group, `yyyy-MM-dd HH:mm:ss` UTC.
    pub gmt_join_group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Property {
    pub property_id: i64,
    pub property_key: String,
    pub property_values: Vec<PropertyValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailedPropertyValue {
    pub property_id: i64,
    pub property_value: String,
    pub error_code: String,
    pub error_message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SavePropertyValueModel {
    pub save_property_values: Vec<PropertyValue>,
    pub failed_property_values: Vec<FailedPropertyValue>,
}

/// What CreateProperty and UpdateProperty answer in `CreateResult` / `UpdateResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PropertyResult {
    pub property_id: i64,
    pub property_key: String,
    pub save_property_value_model: SavePropertyValueModel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceGroup {
    pub resource_group_id: String,
    pub resource_group_name: String,
    pub aliyun_resource_group_id: String,
    /// `yyyy-MM-dd HH:mm:ss` UTC.
    pub create_time: String,
    /// Users authorized on it; a string, as the vendor answers it.
    pub auth_count: String,
    pub resource_count: String,
}
