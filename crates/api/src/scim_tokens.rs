//! `/v2/scim_token/*` (Roster-specific): provisioning tokens a superadmin creates for an
//! identity provider, used as the bearer token of SCIM (`/scim/v2`) requests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

/// A provisioning token, without the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScimToken {
    pub token_id: String,
    pub domain_id: String,
    pub description: String,
    /// The superadmin who created it.
    pub creator: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
}

/// `/v2/scim_token/create` (superadmin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateScimTokenRequest {
    /// What the token is for (the identity provider), ≤1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
}

/// The new token: this is the only answer that shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateScimTokenResponse {
    #[serde(flatten)]
    pub info: ScimToken,
    /// `Authorization: Bearer <token>` of SCIM requests.
    pub token: String,
}

/// `/v2/scim_token/list` (superadmin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListScimTokenRequest {
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
pub struct ListScimTokenResponse {
    pub items: Vec<ScimToken>,
    pub next_marker: String,
}

/// `/v2/scim_token/delete` (superadmin): the token stops at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ScimTokenIdRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub token_id: String,
}
