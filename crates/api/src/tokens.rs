//! `/v2/oauth/token`: the form it takes and the `Token` object it answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The form-urlencoded body of `/v2/oauth/token`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `password`, `refresh_token`, `authorization_code` or
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    #[serde(default)]
    pub grant_type: Option<String>,
    /// Account identity (custom id, email or mobile) for the password grant.
    #[serde(default)]
    #[schema(max_length = 256)]
    pub username: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub password: Option<String>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    #[schema(max_length = 16384)]
    pub assertion: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// PKCE (RFC 7636): the verifier of the `code_challenge` the authorization named.
    #[serde(default)]
    #[schema(max_length = 128)]
    pub code_verifier: Option<String>,
    /// Roster extension: the domain to log in to, when the `Host` header names none.
    #[serde(default)]
    pub domain_id: Option<String>,
}

/// The PDS `Token` object.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub access_token: String,
    pub refresh_token: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    /// When the access token expires, ISO-8601 UTC.
    pub expire_time: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub user_id: String,
    pub user_name: String,
    pub nick_name: String,
    pub avatar: String,
    pub role: String,
    pub status: String,
    pub domain_id: String,
    pub default_drive_id: String,
    pub default_sbox_drive_id: String,
    pub is_first_login: bool,
    pub need_link: bool,
    pub need_rp_verify: bool,
    pub pin_setup: bool,
    pub state: String,
    pub exist_link: Vec<ExistLink>,
    pub user_data: serde_json::Map<String, serde_json::Value>,
    /// OpenID Connect: the ID token, when the authorization's scope had `openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The scope granted (authorization-code grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// An account linked to the user a token was issued for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExistLink {
    #[serde(rename = "type")]
    pub kind: String,
    pub identity: String,
    pub extra: String,
}

/// `/v2/account/token` (legacy PDS refresh, JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AccountTokenRequest {
    #[serde(default)]
    pub app_id: Option<String>,
    /// `refresh_token`.
    #[schema(schema_with = crate::schema::refresh_grant)]
    pub grant_type: String,
    #[schema(min_length = 1, max_length = 128)]
    pub refresh_token: String,
}

/// `/v2/account/revoke` (legacy PDS logout): the refresh token stops working.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RevokeRequest {
    #[serde(default)]
    pub app_id: Option<String>,
    #[schema(min_length = 1, max_length = 128)]
    pub refresh_token: String,
}
