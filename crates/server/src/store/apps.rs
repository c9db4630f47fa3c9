//! JWT apps: rows and the storage port for them.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;
use crate::model::DomainId;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct AppRow {
    pub domain_id: String,
    pub client_id: String,
    pub app_name: String,
    /// `RS256` or `ES256`.
    pub algorithm: String,
    /// PEM.
    pub public_key: String,
    /// `enabled` or `disabled`.
    pub status: String,
    pub creator: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Random at creation: service tokens carry it, so an app re-created under the same
    /// `client_id` never honours the old one's tokens (`""` for apps created before).
    pub instance_stamp: String,
    /// `ServerSide` (JWT), `WebServer`, `SinglePageApp` or `NativeApp`.
    pub app_type: String,
    /// JSON array of strings.
    pub redirect_uris: String,
    /// JSON array of strings.
    pub scopes: String,
    pub trusted: bool,
    /// SHA-256 (hex) of a `WebServer` app's client secret; `""` otherwise.
    pub client_secret_hash: String,
}

/// What an app update may change; `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct AppChanges {
    pub app_name: Option<String>,
    pub algorithm: Option<String>,
    pub public_key: Option<String>,
    pub status: Option<String>,
    pub redirect_uris: Option<String>,
    pub scopes: Option<String>,
    pub trusted: Option<bool>,
    pub client_secret_hash: Option<String>,
    pub updated_at: i64,
}

#[async_trait]
pub trait AppStore: Send + Sync + 'static {
    /// `AlreadyExists(App)` if the client id is taken in the domain.
    async fn create_app(&self, trail: &Trail, app: AppRow) -> Result<()>;
    async fn app(&self, domain_id: &DomainId, client_id: &str) -> Result<Option<AppRow>>;
    async fn apps(&self, domain_id: &str, after: Option<&str>, limit: u32) -> Result<Vec<AppRow>>;
    async fn update_app(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        client_id: &str,
        changes: AppChanges,
    ) -> Result<Option<AppRow>>;
    async fn delete_app(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        client_id: &str,
    ) -> Result<bool>;
}
