//! Sign-in for people: authorization codes and browser sign-in sessions.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;
use crate::model::{DomainId, UserId};
use crate::store::RefreshTokenRow;

/// An authorization code, by the SHA-256 of its value.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuthorizationCodeRow {
    pub code_hash: String,
    pub domain_id: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    /// Space-separated, as granted.
    pub scope: String,
    /// The S256 PKCE challenge; `""` when the app sent none (a `WebServer` app may omit it).
    pub code_challenge: String,
    pub nonce: String,
    /// When the user signed in (ms since the epoch), for the ID token's `auth_time`.
    pub auth_time: i64,
    /// The refresh-token family the code's use issues: revoked when the code comes back.
    pub family_id: String,
    pub expires_at: i64,
    /// 0 until used.
    pub consumed_at: i64,
}

/// A browser's sign-in session, by the SHA-256 of the cookie's id.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SigninSessionRow {
    pub session_hash: String,
    pub domain_id: String,
    pub user_id: String,
    /// The user's token generation when the session began: it ends when that changes.
    pub token_stamp: String,
    /// The form token (CSRF) of the session's pages.
    pub form_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// A console session (service/console.rs): the refresh-token family of the console's
/// built-in app that holds it, when its operator signed in and when it was last used.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConsoleSessionRow {
    pub family_id: String,
    pub domain_id: String,
    pub user_id: String,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
}

/// What a user's `groups` and `quota` claims say, read together in one statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimFacts {
    /// The groups the user is a direct member of, by id.
    pub group_ids: Vec<String>,
    /// The total size of the user's default drive (bytes, -1 unlimited); `None`: no drive.
    pub default_drive_size: Option<i64>,
}

#[async_trait]
pub trait SigninStore: Send + Sync + 'static {
    /// The user's groups and default drive, for its claims.
    async fn claim_facts(&self, domain_id: &DomainId, user_id: &UserId) -> Result<ClaimFacts>;
    /// Stores a new code; expired codes go at the same time.
    async fn insert_authorization_code(
        &self,
        trail: &Trail,
        code: AuthorizationCodeRow,
    ) -> Result<()>;
    async fn authorization_code(&self, code_hash: &str) -> Result<Option<AuthorizationCodeRow>>;
    /// Marks the code used; false if it was used already (by a concurrent exchange too).
    async fn consume_authorization_code(
        &self,
        trail: &Trail,
        code_hash: &str,
        now: i64,
    ) -> Result<bool>;
    /// Marks the code used and stores the refresh token its use issues, in one write
    /// transaction (as a refresh grant's rotation is); false, and nothing stored, if the code
    /// was used already (by a concurrent exchange too).
    async fn redeem_authorization_code(
        &self,
        trail: &Trail,
        code_hash: &str,
        now: i64,
        issued: RefreshTokenRow,
    ) -> Result<bool>;

    /// Stores a new session; the sessions that were idle or old past `stale_before` go.
    async fn insert_signin_session(
        &self,
        trail: &Trail,
        session: SigninSessionRow,
        stale_before: i64,
    ) -> Result<()>;
    async fn signin_session(&self, session_hash: &str) -> Result<Option<SigninSessionRow>>;
    async fn touch_signin_session(&self, session_hash: &str, now: i64) -> Result<()>;
    async fn delete_signin_session(&self, trail: &Trail, session_hash: &str) -> Result<()>;
    /// Ends every sign-in session of a user ("sign out everywhere").
    async fn delete_signin_sessions_of(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<()>;
    /// The user's sessions, newest first.
    async fn signin_sessions_of(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<Vec<SigninSessionRow>>;

    /// Stores a new console session; the user's console sessions last used before
    /// `stale_before`, or signed in before `born_before`, go.
    async fn insert_console_session(
        &self,
        session: ConsoleSessionRow,
        stale_before: i64,
        born_before: i64,
    ) -> Result<()>;
    async fn console_session(&self, family_id: &str) -> Result<Option<ConsoleSessionRow>>;
    async fn touch_console_session(&self, family_id: &str, now: i64) -> Result<()>;
    async fn delete_console_session(&self, family_id: &str) -> Result<()>;
}
