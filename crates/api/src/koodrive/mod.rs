//! KooDrive OSE (`/koodrive/ose/v1/...`) wire types: camelCase JSON in a `{code, msg, data}`
//! envelope. The vendor's pages disagree on whether ids and numbers are strings or integers,
//! so every such request field accepts both (see `docs/koodrive.md`).

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

/// The path every KooDrive call lives under.
pub const KOODRIVE_PREFIX: &str = "/koodrive/ose/v1";

/// `code` of a successful answer.
pub const CODE_OK: i64 = 0;

/// An id sent as a JSON string or a number (`deptId` is a Long on UpdateUser, a String
/// elsewhere); answered as its decimal text.
fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdValue {
        Int(i64),
        Str(String),
    }
    Ok(match Option::<IdValue>::deserialize(d)? {
        None => None,
        Some(IdValue::Int(n)) => Some(n.to_string()),
        Some(IdValue::Str(s)) => Some(s),
    })
}

/// `modifyUserInfoReq` of CreateUser.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifyUserInfo {
    #[serde(default, deserialize_with = "id_text")]
    #[schema(schema_with = crate::schema::koodrive_id)]
    pub dept_id: Option<String>,
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub role: Option<i64>,
}

/// `POST /users`. `name` and `mobile` are Roster extensions: KooDrive reads them from its
/// identity provider, Roster has none to read them from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserBody {
    #[serde(default, deserialize_with = "id_text")]
    #[schema(schema_with = crate::schema::koodrive_id)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub modify_user_info_req: Option<ModifyUserInfo>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
}

/// `PUT /users/{userId}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserBody {
    #[serde(default, deserialize_with = "id_text")]
    #[schema(schema_with = crate::schema::koodrive_id)]
    pub dept_id: Option<String>,
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub role: Option<i64>,
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub status: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
}

/// A user as GetUser and GetUserList answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Roster's stable user number, as text (KooDrive's "third-party id").
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub dept_id: String,
    pub dept_name: String,
    pub mobile: String,
    pub role: i64,
    pub status: i64,
    pub org_id: String,
}

/// `POST /departments` and `PUT /departments/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    #[schema(schema_with = crate::schema::koodrive_id)]
    pub parent_id: Option<String>,
}

/// A department as GetDepartment (flat, at the top level) and GetDepartmentList answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentInfo {
    pub id: String,
    pub org_id: String,
    pub dept_id: String,
    pub parent_id: String,
    pub name: String,
    pub tenant_id: String,
}

/// `POST /usergroups` and `PUT /usergroups/{groupId}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupBody {
    #[serde(default)]
    pub group_name: Option<String>,
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub source_type: Option<i64>,
}

/// A user group as the user-group calls answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupInfo {
    pub id: String,
    pub group_name: String,
    pub owner_id: String,
    pub tenant_id: String,
    pub source_type: i64,
    pub icon_url: String,
    pub created_time: i64,
    pub updated_time: i64,
}

/// A member of a user group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    pub user_id: String,
    pub user_name: String,
    pub dept_id: String,
    pub dept_name: String,
    pub mobile: String,
    pub role: i64,
    pub top: i64,
    pub created_time: i64,
    pub updated_time: i64,
}

/// One entry of `amendModRoles`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmendModRole {
    #[serde(default, deserialize_with = "id_text")]
    #[schema(schema_with = crate::schema::koodrive_id)]
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub template: Option<i64>,
}

/// `members/batchAdd` and `members/batchDelete`: `amendModRoles` as documented, or the
/// `userIds` the examples (and an older page) send.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchMembersBody {
    #[serde(default)]
    pub amend_mod_roles: Option<Vec<AmendModRole>>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::koodrive_ids)]
    pub user_ids: Option<Vec<serde_json::Value>>,
}

/// `POST /space/{ownerId}` and `PUT /space/{ownerId}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpaceBody {
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub capacity: Option<i64>,
    #[serde(default, rename = "type", deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub space_type: Option<i64>,
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub status: Option<i64>,
    #[serde(default)]
    pub container_id: Option<String>,
}

/// A space (`SpaceInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpaceInfo {
    #[serde(rename = "type")]
    pub space_type: i64,
    pub status: i64,
    pub owner_id: String,
    pub container_id: String,
    pub biz_root_file_id: String,
    pub biz_sbox_file_id: String,
    /// Bytes.
    pub capacity: i64,
    /// Bytes.
    pub space_used: i64,
    pub tenant_id: String,
    pub creator: String,
    pub modifier: String,
    pub root_file_id: String,
    pub operator_id: String,
}

/// A user with its personal space, as `/space/userList` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSpaceInfo {
    #[serde(flatten)]
    pub user: UserInfo,
    pub container_id: String,
    /// Bytes.
    pub capacity: i64,
    /// Bytes.
    pub space_used: i64,
    pub tenant_id: String,
    /// 0 enabled, 1 disabled or no space.
    pub space_status: i64,
}

/// `POST /space/group`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroupSpaceBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub icon_url: Option<String>,
    #[serde(default, deserialize_with = "int_or_numeric_string")]
    #[schema(schema_with = crate::schema::koodrive_integer)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub add_group_users: Option<Vec<AmendModRole>>,
}

/// The envelope of every answer: `code` 0 and `msg` on success (the payload, if any, in
/// `data` or beside them), a KooDrive error code and its message on failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Envelope {
    pub code: i64,
    pub msg: String,
}

/// `data` of CreateUser and CreateDepartment; the top-level `id` of CreateUserGroup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// `/userList`: a page of users and how many match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub list: Vec<UserInfo>,
    pub total: i64,
}

/// `/users/count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserCount {
    pub total: i64,
}

/// `/departmentList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DepartmentList {
    pub list: Vec<DepartmentInfo>,
}

/// `GET /usergroups`: a numbered page; `nextCursor` is absent on the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupPage {
    pub user_group_list: Vec<UserGroupInfo>,
    pub total: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /usergroups/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupAnswer {
    pub user_group: UserGroupInfo,
}

/// `GET /usergroups/{id}/members`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberPage {
    pub total: i64,
    pub user_group_member_infos: Vec<MemberInfo>,
}

/// A user a batch call could not add or remove, and why (a KooDrive error code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedMember {
    pub user_id: String,
    pub code: i64,
}

/// `members/batchAdd` and `members/batchDelete`: `status` 0 all done, 1 partly, 2 none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    pub status: i64,
    pub failed_list: Vec<FailedMember>,
}

/// `/space/userList`; `total` is a String there, as the vendor's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserSpaceList {
    pub total: String,
    pub users: Vec<UserSpaceInfo>,
}

/// A department with its department space, as `/space/departmentList` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentSpace {
    pub id: String,
    pub parent_id: String,
    pub name: String,
    pub tenant_id: String,
    pub container_id: String,
    /// Bytes.
    pub capacity: i64,
    /// Bytes.
    pub space_used: i64,
}

/// `/space/departmentList`; `total` is a String there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DepartmentSpaceList {
    pub total: String,
    pub departments: Vec<DepartmentSpace>,
}

/// `data` of `POST /space/group`: the new user group and its space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupSpaceCreated {
    pub id: String,
    pub space: SpaceInfo,
}

/// A user group with its group space, as `/space/groupList` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupSpace {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    pub tenant_id: String,
    pub container_id: String,
    /// Bytes.
    pub capacity: i64,
    /// Bytes.
    pub space_used: i64,
}

/// `/space/groupList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupSpaceList {
    pub total: i64,
    pub groups_total: i64,
    pub groups: Vec<GroupSpace>,
}

/// A team space (a department's or a user group's), as `/space/teamList` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamSpace {
    pub id: String,
    pub container_id: String,
    /// 0 enabled, 1 disabled.
    pub status: i64,
    /// Bytes.
    pub capacity: i64,
    /// Bytes.
    pub space_used: i64,
    pub user_num: i64,
    pub owner_id: String,
    pub owner_name: String,
    pub tenant_id: String,
}

/// `/space/teamList`; `total` is a String there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TeamSpaceList {
    pub total: String,
    pub teams: Vec<TeamSpace>,
}
