//! `/v2/app/*` (Roster-specific): JWT apps, which exchange signed assertions for tokens, and
//! apps of the authorization-code flow (`/v2/oauth/authorize`), which send people to sign in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

fn server_side() -> String {
    "ServerSide".into()
}

/// A registered app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct App {
    pub domain_id: String,
    /// The `client_id` of the token form and the `iss` of its assertions.
    pub client_id: String,
    pub app_name: String,
    /// `ServerSide` (a JWT app: signed assertions), `WebServer` (code flow, confidential:
    /// a client secret), `SinglePageApp` or `NativeApp` (code flow, public: PKCE required).
    #[serde(default = "server_side")]
    pub app_type: String,
    /// `RS256` or `ES256` (JWT apps).
    pub algorithm: String,
    /// The public key (PEM or JWK) that verifies its assertions (JWT apps; else empty).
    pub public_key: String,
    /// Where `/v2/oauth/authorize` may send people back (exact match; a `NativeApp`'s
    /// loopback URIs on any port, RFC 8252).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// The scopes the app may ask for (`openid`, `profile`, `email`, `groups`, `quota`,
    /// `offline_access`); empty: all of them.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A first-party app: with `hide_consent` it skips the consent page.
    #[serde(default)]
    pub trusted: bool,
    /// A `WebServer` app's client secret: only in the answer that created or rotated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
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
    /// `ServerSide` (default: a JWT app), `WebServer`, `SinglePageApp` or `NativeApp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::app_type)]
    pub app_type: Option<String>,
    /// PEM (`-----BEGIN PUBLIC KEY-----`) or a JWK (JSON object, `kty` RSA or EC); required
    /// for a `ServerSide` app, refused for the others.
    #[serde(default)]
    #[schema(max_length = 16384)]
    pub public_key: String,
    /// Code-flow apps: at least one; `https://` (or `http://` on loopback), or a
    /// `NativeApp`'s private scheme (`com.example.app:/cb`); no fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub redirect_uris: Option<Vec<String>>,
    /// The scopes the app may ask for; omitted or empty: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub scopes: Option<Vec<String>>,
    /// A first-party app (may skip consent with `hide_consent`). Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted: Option<bool>,
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
    /// Code-flow apps: replaces the registered redirect URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted: Option<bool>,
    /// A `WebServer` app: `true` replaces its client secret (the answer carries the new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_secret: Option<bool>,
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
