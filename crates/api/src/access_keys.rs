//! `/v2/access_key/*` (Roster-specific): access key pairs for signed, server-to-server calls.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

/// An access key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccessKey {
    pub access_key_id: String,
    pub domain_id: String,
    /// The user whose rights signed requests carry.
    pub user_id: String,
    /// `enabled` or `disabled`.
    pub status: String,
    pub description: String,
    pub creator: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
}

/// `/v2/access_key/create` (admin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateAccessKeyRequest {
    /// Default: the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: Option<String>,
    /// ≤1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
}

/// The new key with its secret: this is the only answer that shows the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateAccessKeyResponse {
    #[serde(flatten)]
    pub key: AccessKey,
    pub access_key_secret: String,
}

/// `/v2/access_key/list` (admin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListAccessKeyRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub user_id: Option<String>,
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
pub struct ListAccessKeyResponse {
    pub items: Vec<AccessKey>,
    pub next_marker: String,
}

/// `/v2/access_key/get` and `/v2/access_key/delete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AccessKeyIdRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub access_key_id: String,
}

/// `/v2/access_key/update`: enable or disable a key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateAccessKeyRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub access_key_id: String,
    pub status: AccessKeyStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessKeyStatus {
    Enabled,
    Disabled,
}

impl AccessKeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Enabled => "enabled",
            AccessKeyStatus::Disabled => "disabled",
        }
    }
}
