//! `/v2/app/*` (Roster-specific): JWT apps, which exchange signed assertions for tokens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

/// A registered JWT app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct App {
    pub domain_id: String,
    /// The `client_id` of the token form and the `iss` of its assertions.
    pub client_id: String,
    pub app_name: String,
    /// `RS256` or `ES256`.
    pub algorithm: String,
    /// The public key (PEM or JWK) that verifies its assertions.
    pub public_key: String,
    /// `enabled` or `disabled`.
    pub status: String,
    pub creator: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

/// `/v2/app/create` (superadmin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateAppRequest {
    /// ≤128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub app_name: String,
    /// PEM (`-----BEGIN PUBLIC KEY-----`) or a JWK (JSON object, `kty` RSA or EC).
    #[schema(min_length = 1, max_length = 16384)]
    pub public_key: String,
    /// `RS256` (default) or `ES256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::algorithm)]
    pub algorithm: Option<String>,
    /// Generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: Option<String>,
}

/// `/v2/app/get` and `/v2/app/delete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AppIdRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: String,
}

/// `/v2/app/update`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateAppRequest {
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub app_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 16384)]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::algorithm)]
    pub algorithm: Option<String>,
    /// `enabled` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::enabled_or_disabled)]
    pub status: Option<String>,
}

/// `/v2/app/list`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListAppRequest {
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
pub struct ListAppResponse {
    pub items: Vec<App>,
    pub next_marker: String,
}
