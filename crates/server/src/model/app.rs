//! What the apps service takes and answers.

use super::App;

/// What kind of app, and so how it authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppType {
    /// A JWT app: signed assertions (jwt-bearer grant).
    ServerSide,
    /// Code flow, confidential: authenticates with its client secret.
    WebServer,
    /// Code flow, public: PKCE required.
    SinglePageApp,
    /// Code flow, public: PKCE required; loopback redirects on any port (RFC 8252).
    NativeApp,
}

impl AppType {
    pub fn parse(s: &str) -> Option<AppType> {
        Some(match s {
            "ServerSide" => AppType::ServerSide,
            "WebServer" => AppType::WebServer,
            "SinglePageApp" => AppType::SinglePageApp,
            "NativeApp" => AppType::NativeApp,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AppType::ServerSide => "ServerSide",
            AppType::WebServer => "WebServer",
            AppType::SinglePageApp => "SinglePageApp",
            AppType::NativeApp => "NativeApp",
        }
    }

    /// Sends people through `/v2/oauth/authorize`.
    pub fn is_code_flow(self) -> bool {
        self != AppType::ServerSide
    }
}

/// An app to register; what is left out takes Roster's default (a `ServerSide` app using
/// RS256, a generated client id, not trusted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAppSpec {
    pub client_id: Option<String>,
    pub app_name: String,
    /// The kind's name as the caller gave it ([`AppType::parse`]); the service refuses an
    /// unknown one after checking who asks.
    pub app_type: Option<String>,
    pub algorithm: Option<String>,
    /// The PEM key of a `ServerSide` app (`""` for the others).
    pub public_key: String,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub trusted: Option<bool>,
}

/// A change to an app: each field set is changed, each left out kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppChanges {
    pub app_name: Option<String>,
    pub public_key: Option<String>,
    pub algorithm: Option<String>,
    /// `enabled` or `disabled`.
    pub status: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub trusted: Option<bool>,
    /// Gives a `WebServer` app a new client secret.
    pub rotate_secret: Option<bool>,
}

/// An app with its kind and lists read, and its client secret when this answer is the one
/// time it is shown (a `WebServer` app's creation or secret rotation).
#[derive(Debug, Clone, PartialEq)]
pub struct AppInfo {
    pub app: App,
    pub kind: AppType,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub client_secret: Option<String>,
}
