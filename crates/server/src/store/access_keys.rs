//! Access keys and signature nonces: rows and the storage port for them.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;

/// An access key pair bound to a user.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct AccessKeyRow {
    pub access_key_id: String,
    pub domain_id: String,
    pub user_id: String,
    pub secret: String,
    /// `enabled` or `disabled`.
    pub status: String,
    pub description: String,
    pub creator: String,
    pub created_at: i64,
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// `NotFound(User)` if the key's user does not exist.
    async fn create_access_key(&self, trail: &Trail, key: AccessKeyRow) -> Result<()>;

    /// A key by its id, whatever its domain (the id is all a signed request names).
    async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRow>>;

    /// Keys of a domain (or of one user of it), by id, after `after`.
    async fn access_keys(
        &self,
        domain_id: &str,
        user_id: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessKeyRow>>;

    /// `None` if the domain has no such key.
    async fn set_access_key_status(
        &self,
        trail: &Trail,
        domain_id: &str,
        access_key_id: &str,
        status: &str,
    ) -> Result<Option<AccessKeyRow>>;

    /// `false` if the domain has no such key.
    async fn delete_access_key(
        &self,
        trail: &Trail,
        domain_id: &str,
        access_key_id: &str,
    ) -> Result<bool>;

    /// Records a signature nonce until `expires_at`; `false` if it was already used. Also
    /// forgets nonces that expired before `now`.
    async fn use_nonce(&self, nonce: &str, expires_at: i64, now: i64) -> Result<bool>;
}
