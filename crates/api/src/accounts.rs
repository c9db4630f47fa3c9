//! `/v2/account/*`: logon accounts linked to users, and passwords.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::{AccountLinkInfo, AuthenticationType};

/// `/v2/account/link` and `/v2/account/unlink` (admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkAccountRequest {
    #[serde(rename = "type")]
    pub kind: AuthenticationType,
    #[schema(schema_with = crate::schema::new_identity)]
    pub identity: String,
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: String,
    /// For `mobile`: the country code, default `86`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub extra: Option<String>,
}

/// `/v2/account/get_link_info` and `/v2/account/get_access_token_by_link_info` (admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkInfoRequest {
    #[serde(rename = "type")]
    pub kind: AuthenticationType,
    #[schema(min_length = 1, max_length = 256)]
    pub identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub extra: Option<String>,
}

/// `/v2/account/get_link_info_by_user_id` (admin, or the user itself).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LinkInfoByUserIdRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LinkInfoListResponse {
    pub items: Vec<AccountLinkInfo>,
}

/// `/v2/account/change_password`: a user changes its own password with its current one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    /// Required when the user has a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_password: Option<String>,
    /// 8..256 characters.
    #[schema(schema_with = crate::schema::required_password)]
    pub new_password: String,
}

/// `/v2/account/reset_password`: sets a new password with the single-use token an admin's
/// password reset mailed to the user; no other credentials.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub token: String,
    /// 8..256 characters.
    #[schema(schema_with = crate::schema::required_password)]
    pub new_password: String,
}

/// `/v2/outbox/list` (admin): mail kept because no SMTP server is configured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListOutboxRequest {
    #[serde(
        default,
        deserialize_with = "crate::users::int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::limit)]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::marker)]
    pub marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutboxMessage {
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListOutboxResponse {
    pub items: Vec<OutboxMessage>,
    pub next_marker: String,
}
