//! `/v2/user/*` and the account objects they return.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A user's role. "Admin permission" means `admin` or `superadmin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Superadmin,
    Admin,
    User,
    SubdomainSuperAdmin,
    SubdomainAdmin,
    /// Reads the whole directory (an application account, e.g. an LDAP bind user) and
    /// changes nothing; granted by a superadmin.
    DirectoryReader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Superadmin => "superadmin",
            Role::Admin => "admin",
            Role::User => "user",
            Role::SubdomainSuperAdmin => "subdomain_super_admin",
            Role::SubdomainAdmin => "subdomain_admin",
            Role::DirectoryReader => "directory_reader",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Superadmin,
            Role::Admin,
            Role::User,
            Role::SubdomainSuperAdmin,
            Role::SubdomainAdmin,
            Role::DirectoryReader,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A user's status: `disabled` users cannot log on and their tokens stop working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Enabled,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Enabled => "enabled",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "enabled" => Some(UserStatus::Enabled),
            "disabled" => Some(UserStatus::Disabled),
            _ => None,
        }
    }
}

/// The kind of a logon account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticationType {
    Mobile,
    Email,
    Ldap,
    Custom,
}

impl AuthenticationType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthenticationType::Mobile => "mobile",
            AuthenticationType::Email => "email",
            AuthenticationType::Ldap => "ldap",
            AuthenticationType::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<AuthenticationType> {
        [
            AuthenticationType::Mobile,
            AuthenticationType::Email,
            AuthenticationType::Ldap,
            AuthenticationType::Custom,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// What `general_get` / `general_search` add to each user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtraReturnInfo {
    Account,
    Drive,
    Group,
}

/// A PDS user, as every user call answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub domain_id: String,
    pub user_id: String,
    pub user_name: String,
    pub nick_name: String,
    pub avatar: String,
    pub email: String,
    pub phone: String,
    pub role: Role,
    pub status: UserStatus,
    pub description: String,
    pub default_drive_id: String,
    /// The user id of whoever created this user (`system` for the bootstrap admin).
    pub creator: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
    /// Milliseconds since the UNIX epoch.
    pub updated_at: i64,
    #[schema(value_type = Object)]
    pub user_data: Map<String, Value>,
    /// Milliseconds since the UNIX epoch; 0 if never.
    pub last_login_time: i64,
    /// Milliseconds since the UNIX epoch; 0 if never.
    pub last_refresh_token_time: i64,
    pub deny_change_password_by_self: bool,
    pub need_change_password_next_login: bool,
    /// Milliseconds since the UNIX epoch; 0 means never expires.
    pub expired_at: i64,
    pub phone_region: String,
    pub punishments: Vec<Punishment>,
    pub is_sync: bool,
}

/// A punishment record; Roster never punishes, so users carry the neutral entry PDS shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Punishment {
    pub punish_flag: i64,
    #[schema(schema_with = crate::schema::time_or_empty)]
    pub starts_at: String,
    #[schema(schema_with = crate::schema::time_or_empty)]
    pub ends_at: String,
    pub impermanent: bool,
}

/// A user plus what `extra_return_info` asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserExtraItem {
    #[serde(flatten)]
    pub user: User,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Vec<AccountLinkInfo>>,
    /// The user's default drive (`null` if it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_drive: Option<Option<crate::drives::Drive>>,
    /// The groups the user is a direct member of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_group: Option<Vec<crate::groups::Group>>,
}

/// A logon account linked to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccountLinkInfo {
    pub authentication_type: String,
    pub identity: String,
    pub user_id: String,
    pub domain_id: String,
    pub display_name: String,
    pub extra: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
    /// Milliseconds since the UNIX epoch; 0 if never.
    pub last_login_time: i64,
    pub status: String,
}

/// `{"group_id": ...}` entries of `group_info_list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupInfo {
    #[schema(min_length = 1, max_length = 128)]
    pub group_id: String,
}

/// `/v2/user/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    /// ≤64 characters, no `#`.
    #[schema(schema_with = crate::schema::user_id)]
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub nick_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::avatar)]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::email)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::phone)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::user_data)]
    pub user_data: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_info_list: Option<Vec<GroupInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::password)]
    pub plain_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_change_password_by_self: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_change_password_next_login: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub expired_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub phone_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub subdomain_id: Option<String>,
}

/// `/v2/user/get`; `user_id` omitted means the caller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub user_id: Option<String>,
}

/// `/v2/user/update`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub nick_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::avatar)]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::email)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::phone)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::user_data)]
    pub user_data: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_info_list: Option<Vec<GroupInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::password)]
    pub plain_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_change_password_by_self: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_change_password_next_login: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub expired_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub phone_region: Option<String>,
    /// Replaces the user's punishments (admin); `[]` clears them. One in force (a non-zero
    /// `punish_flag` between `starts_at` and `ends_at`, ISO-8601, empty meaning open-ended)
    /// blocks the user's logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 16)]
    pub punishments: Option<Vec<Punishment>>,
}

impl UpdateUserRequest {
    /// Whether the request sets a punishment list (admin only).
    pub fn sets_punishments(&self) -> bool {
        self.punishments.is_some()
    }
}

/// `/v2/user/delete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DeleteUserRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: String,
}

/// `/v2/user/list`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListUserRequest {
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
    pub status: Option<UserStatus>,
    /// Act in this subdomain of the caller's domain (its admins manage their subdomains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub subdomain_id: Option<String>,
}

/// `/v2/user/search`: every filter given must match.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchUserRequest {
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
    /// Prefix, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub user_name: Option<String>,
    /// Prefix, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub nick_name: Option<String>,
    /// Substring, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub nick_name_for_fuzzy: Option<String>,
    /// Prefix, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub email: Option<String>,
    /// Prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Act in this subdomain of the caller's domain (its admins manage their subdomains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub subdomain_id: Option<String>,
}

/// `/v2/user/general_search`: the filters of `search`, plus groups and extra information.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GeneralSearchUserRequest {
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
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub nick_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub nick_name_for_fuzzy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::id_list)]
    pub parent_group_id_list: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub direct_parent_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_return_info: Option<Vec<ExtraReturnInfo>>,
    /// Act in this subdomain of the caller's domain (its admins manage their subdomains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub subdomain_id: Option<String>,
}

impl GeneralSearchUserRequest {
    /// The plain search this request contains.
    pub fn search(&self) -> SearchUserRequest {
        SearchUserRequest {
            limit: self.limit,
            marker: self.marker.clone(),
            user_name: self.user_name.clone(),
            nick_name: self.nick_name.clone(),
            nick_name_for_fuzzy: self.nick_name_for_fuzzy.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            role: self.role,
            status: self.status,
            subdomain_id: self.subdomain_id.clone(),
        }
    }
}

/// `/v2/user/general_get`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GeneralGetUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_return_info: Option<Vec<ExtraReturnInfo>>,
}

/// `/v2/user/import`: a user and its logon account in one call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportUserRequest {
    /// Roster extension: the new user's id (≤64 characters, no `#`); generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::optional_user_id)]
    pub user_id: Option<String>,
    pub authentication_type: AuthenticationType,
    #[schema(schema_with = crate::schema::new_identity)]
    pub identity: String,
    #[schema(min_length = 1, max_length = 128)]
    pub nick_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub authentication_display_name: Option<String>,
    /// For `mobile`: the country code, default `86`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub extra: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_create_drive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1.0, maximum = 9007199254740991.0)]
    pub drive_total_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub parent_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::password)]
    pub plain_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::email)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::phone)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_change_password_by_self: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_change_password_next_login: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub expired_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_region: Option<String>,
}

/// `{items, next_marker}` of user list and search calls; `next_marker` is `""` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListUserResponse {
    pub items: Vec<User>,
    pub next_marker: String,
}

/// `{items, next_marker}` of `general_search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GeneralSearchUserResponse {
    pub items: Vec<UserExtraItem>,
    pub next_marker: String,
}

/// PDS documents `limit` as a number but its JS SDK types it as a string: take both. A string
/// is a plain decimal (digits, no sign, no leading zero, no spaces), as the OpenAPI schema
/// says; anything else is refused.
pub(crate) fn int_or_numeric_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrString {
        Int(i64),
        Str(String),
    }
    match Option::<IntOrString>::deserialize(d)? {
        None => Ok(None),
        Some(IntOrString::Int(n)) => Ok(Some(n)),
        Some(IntOrString::Str(s)) => {
            let plain = !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'));
            plain
                .then(|| s.parse().ok())
                .flatten()
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("invalid type: expected an integer"))
        }
    }
}
