//! OAuth: logins, refreshes, revocation.

use super::*;

impl Client {
    /// Logs in with an account identity and password (OAuth2 password grant); the client keeps
    /// the tokens.
    ///
    /// ```no_run
    /// # async fn demo() -> roster_client::Result<()> {
    /// let client = roster_client::Client::new("http://127.0.0.1:8080");
    /// let token = client.login("admin", "the-admin-password").await?;
    /// println!("logged in as {}", token.user_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login(&self, username: &str, password: &str) -> Result<Token> {
        self.token_grant(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .await
    }

    /// Logs in as a JWT app: exchanges a signed assertion (`iss` = `client_id`) for tokens
    /// (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`); the client keeps the tokens.
    ///
    /// ```no_run
    /// # async fn demo(assertion: &str) -> roster_client::Result<()> {
    /// let client = roster_client::Client::new("http://127.0.0.1:8080");
    /// client.login_with_assertion("my-app", assertion).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login_with_assertion(&self, client_id: &str, assertion: &str) -> Result<Token> {
        self.token_grant(&[
            ("grant_type", JWT_BEARER_GRANT),
            ("client_id", client_id),
            ("assertion", assertion),
        ])
        .await
    }

    /// Exchanges the refresh token held for new tokens.
    pub async fn refresh(&self) -> Result<Token> {
        let _guard = self.refreshing.lock().await;
        self.refresh_unlocked().await
    }

    async fn refresh_unlocked(&self) -> Result<Token> {
        let refresh = self.refresh_token().unwrap_or_default();
        self.token_grant(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await
    }

    /// Refreshes after a call made with `stale` was refused, unless a concurrent call already
    /// did.
    pub(crate) async fn refresh_after(&self, stale: Option<&str>) -> Result<()> {
        let _guard = self.refreshing.lock().await;
        if self.access_token().as_deref() == stale {
            self.refresh_unlocked().await?;
        }
        Ok(())
    }

    async fn token_grant(&self, form: &[(&str, &str)]) -> Result<Token> {
        let url = self.url("/v2/oauth/token");
        let response = self.execute(|| self.http.post(&url).form(form)).await?;
        let token: Token = decode(response).await?;
        self.remember(&token);
        Ok(token)
    }

    fn remember(&self, token: &Token) {
        let mut tokens = self.tokens();
        tokens.access = Some(token.access_token.clone());
        tokens.refresh = Some(token.refresh_token.clone());
    }

    /// Renews tokens with the legacy JSON form of the refresh grant (`/v2/account/token`); the
    /// client keeps the new tokens.
    pub async fn account_token(&self, request: &AccountTokenRequest) -> Result<Token> {
        let token: Token = self.call("/v2/account/token", request).await?;
        self.remember(&token);
        Ok(token)
    }

    /// Revokes a refresh token (legacy PDS logout, `/v2/account/revoke`).
    pub async fn revoke(&self, request: &RevokeRequest) -> Result<()> {
        self.call_without_answer("/v2/account/revoke", request)
            .await
    }
}
