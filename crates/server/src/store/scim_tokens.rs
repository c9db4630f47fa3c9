//! SCIM provisioning tokens: rows and the storage port for them.

use async_trait::async_trait;

use crate::audit::Trail;

use crate::error::Result;

/// A provisioning token of a domain; only a hash of the token is kept.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScimTokenRow {
    pub token_id: String,
    pub domain_id: String,
    /// Hex SHA-256 of the whole token.
    pub secret_hash: String,
    pub description: String,
    pub creator: String,
    pub created_at: i64,
}

#[async_trait]
pub trait ScimTokenStore: Send + Sync + 'static {
    async fn create_scim_token(&self, trail: &Trail, row: ScimTokenRow) -> Result<()>;

    /// A token by its id, whatever its domain (the id is all a request's token names).
    async fn scim_token(&self, token_id: &str) -> Result<Option<ScimTokenRow>>;

    /// A domain's tokens, by id, after `after`.
    async fn scim_tokens(
        &self,
        domain_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ScimTokenRow>>;

    /// `false` if the domain has no such token.
    async fn delete_scim_token(
        &self,
        trail: &Trail,
        domain_id: &str,
        token_id: &str,
    ) -> Result<bool>;
}
