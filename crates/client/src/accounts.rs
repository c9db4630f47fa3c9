//! Logon accounts and passwords.

use super::*;

impl Client {
    /// Links a logon account to a user (`/v2/account/link`); answers a token for that user,
    /// which the client does not keep.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::{accounts::LinkAccountRequest, AuthenticationType};
    /// client
    ///     .link_account(&LinkAccountRequest {
    ///         kind: AuthenticationType::Email,
    ///         identity: "alice@example.com".into(),
    ///         user_id: "alice".into(),
    ///         extra: None,
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn link_account(&self, request: &LinkAccountRequest) -> Result<Token> {
        self.call("/v2/account/link", request).await
    }

    /// Unlinks a logon account from its user (`/v2/account/unlink`).
    pub async fn unlink_account(&self, request: &LinkAccountRequest) -> Result<()> {
        self.call_without_answer("/v2/account/unlink", request)
            .await
    }

    /// The link of one logon account (`/v2/account/get_link_info`).
    pub async fn get_link_info(&self, request: &LinkInfoRequest) -> Result<AccountLinkInfo> {
        self.call("/v2/account/get_link_info", request).await
    }

    /// Every logon account linked to a user (`/v2/account/get_link_info_by_user_id`).
    pub async fn get_link_info_by_user_id(
        &self,
        request: &LinkInfoByUserIdRequest,
    ) -> Result<LinkInfoListResponse> {
        self.call("/v2/account/get_link_info_by_user_id", request)
            .await
    }

    /// A token for the user a logon account is linked to
    /// (`/v2/account/get_access_token_by_link_info`); the client does not keep it.
    pub async fn get_access_token_by_link_info(&self, request: &LinkInfoRequest) -> Result<Token> {
        self.call("/v2/account/get_access_token_by_link_info", request)
            .await
    }

    /// Changes the caller's own password (`/v2/account/change_password`).
    pub async fn change_password(&self, request: &ChangePasswordRequest) -> Result<()> {
        self.call_without_answer("/v2/account/change_password", request)
            .await
    }
}
