//! Password reset tokens and the outbox of mail that no SMTP server took.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct ResetTokenRow {
    pub token_hash: String,
    pub domain_id: String,
    pub user_id: String,
    pub expires_at: i64,
    pub created_at: i64,
    /// The user's role when the token was issued: it works only while the role is the same.
    pub role: String,
    /// The address it was mailed to: it works only while that is still the user's address.
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxRow {
    pub domain_id: String,
    pub message_id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    /// Decided when the mail is written (mail to a superadmin): its body is shown to
    /// superadmins only, whatever happens to the recipient afterwards.
    pub superadmins_only: bool,
}

#[async_trait]
pub trait MailStore: Send + Sync + 'static {
    /// Stores a reset token, replacing the user's earlier ones (only the newest works).
    async fn insert_reset_token(&self, trail: &Trail, token: ResetTokenRow) -> Result<()>;

    /// Deletes and returns the token with this hash: it works once.
    async fn take_reset_token(
        &self,
        trail: &Trail,
        token_hash: &str,
    ) -> Result<Option<ResetTokenRow>>;

    async fn push_outbox(&self, message: OutboxRow) -> Result<()>;

    /// The domain's outbox, newest first, after the given `(created_at, message_id)`.
    async fn outbox(
        &self,
        domain_id: &str,
        before: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>>;
}
