//! `/v2/group/*`, `/v2/user/list_group_user` and the group-admin `/v2/role/*` wire types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::{int_or_numeric_string, ExtraReturnInfo};

/// A group of the organization tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub domain_id: String,
    pub group_id: String,
    pub group_name: String,
    pub description: String,
    pub is_root: bool,
    /// `""` for a top-level group.
    pub parent_group_id: String,
    pub creator: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
    /// Milliseconds since the UNIX epoch.
    pub updated_at: i64,
}

/// What kind of member a membership call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberType {
    User,
    Group,
}

impl MemberType {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberType::User => "user",
            MemberType::Group => "group",
        }
    }
}

/// `/v2/group/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateGroupRequest {
    /// 1..128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// A root group can never be placed under another group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub parent_group_id: Option<String>,
}

/// `/v2/group/get` and `/v2/group/delete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GroupIdRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub group_id: String,
}

/// `/v2/group/update`: only the fields given change. `parent_group_id` moves the group
/// (`""`: to the top level); a move that would make a cycle is refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateGroupRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub parent_group_id: Option<String>,
}

/// `/v2/group/update_name` (deprecated in PDS).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateGroupNameRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub group_id: String,
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
}

/// `/v2/group/list`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListGroupRequest {
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

/// `/v2/group/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchGroupRequest {
    /// Prefix, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub group_name: Option<String>,
    /// Substring, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub group_name_for_fuzzy: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListGroupResponse {
    pub items: Vec<Group>,
    pub next_marker: String,
}

/// `/v2/group/add_member` and `/v2/group/remove_member`. A `group` member is a subgroup:
/// adding one moves it under this group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupMemberRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub group_id: String,
    pub member_type: MemberType,
    #[schema(min_length = 1, max_length = 128)]
    pub member_id: String,
}

/// `/v2/group/list_member`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListGroupMemberRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub group_id: String,
    /// Omitted: subgroups first, then users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_type: Option<MemberType>,
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

/// `/v2/user/list_group_user`: `list_member`, with `group_id` optional (omitted: the top of the
/// tree, i.e. top-level groups and users in no group) and extra information for admins.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListGroupUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_type: Option<MemberType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_return_info: Option<Vec<ExtraReturnInfo>>,
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

/// `{user_items, group_items, next_marker}` of member listings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListGroupMemberResponse {
    pub user_items: Vec<crate::users::UserExtraItem>,
    pub group_items: Vec<Group>,
    pub next_marker: String,
}

/// Who holds a role: `IT_User` (a user id) or `IT_Group` (every member of a group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    #[schema(schema_with = crate::schema::identity_type)]
    pub identity_type: String,
    #[schema(min_length = 1, max_length = 128)]
    pub identity_id: String,
}

/// `/v2/role/assign` and `/v2/role/cancel_assign`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignRoleRequest {
    pub identity: Identity,
    /// `SystemGroupAdmin`.
    #[schema(schema_with = crate::schema::group_admin_role)]
    pub role_id: String,
    /// `RT_Group`.
    #[schema(schema_with = crate::schema::group_resource)]
    pub manage_resource_type: String,
    /// The group id.
    #[schema(min_length = 1, max_length = 128)]
    pub manage_resource_id: String,
}

/// `/v2/role/list_assignment`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListAssignmentRequest {
    #[schema(schema_with = crate::schema::group_resource)]
    pub manage_resource_type: String,
    #[schema(min_length = 1, max_length = 128)]
    pub manage_resource_id: String,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    pub domain_id: String,
    pub identity: Identity,
    pub role_id: String,
    pub manage_resource_type: String,
    pub manage_resource_id: String,
    pub creator: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListAssignmentResponse {
    pub assignment_list: Vec<Assignment>,
    pub next_marker: String,
}

/// `/v2/role/list_identity_role`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListIdentityRoleRequest {
    pub identity: Identity,
}

/// What the SDK reads as `BaseRoleMemberResponse`: the identity and its assignments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListIdentityRoleResponse {
    pub domain_id: String,
    pub identity: Identity,
    /// Whether the identity is a domain admin (a user with an admin role).
    pub is_admin: bool,
    pub assignment_list: Vec<Assignment>,
}
