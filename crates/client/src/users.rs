//! Users.

use super::*;

impl Client {
    /// Creates a user (`/v2/user/create`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let bob = client
    ///     .create_user(&api::CreateUserRequest {
    ///         user_id: "bob".into(),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_user(&self, request: &CreateUserRequest) -> Result<User> {
        self.call("/v2/user/create", request).await
    }

    /// Gets a user (`/v2/user/get`); `user_id` omitted means the caller.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let me = client.get_user(&api::GetUserRequest::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_user(&self, request: &GetUserRequest) -> Result<User> {
        self.call("/v2/user/get", request).await
    }

    /// Updates a user (`/v2/user/update`): only the fields given change.
    pub async fn update_user(&self, request: &UpdateUserRequest) -> Result<User> {
        self.call("/v2/user/update", request).await
    }

    /// Deletes a user (`/v2/user/delete`).
    pub async fn delete_user(&self, request: &DeleteUserRequest) -> Result<()> {
        self.call_without_answer("/v2/user/delete", request).await
    }

    /// One page of users (`/v2/user/list`); see [`Client::all_users`] for every page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let page = client
    ///     .list_users(&api::ListUserRequest {
    ///         limit: Some(10),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("{} users, next marker {:?}", page.items.len(), page.next_marker);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_users(&self, request: &ListUserRequest) -> Result<ListUserResponse> {
        self.call("/v2/user/list", request).await
    }

    /// One page of a user search (`/v2/user/search`).
    pub async fn search_users(&self, request: &SearchUserRequest) -> Result<ListUserResponse> {
        self.call("/v2/user/search", request).await
    }

    /// Creates a user with a logon account (`/v2/user/import`).
    pub async fn import_user(&self, request: &ImportUserRequest) -> Result<User> {
        self.call("/v2/user/import", request).await
    }

    /// Runs up to 100 user or group calls in one request (`/v2/batch`); each answer carries
    /// its call's `id`, HTTP status and body. Consecutive creations are written together,
    /// which makes this the fast path for bulk import.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::batch::{BatchRequest, BatchSubRequest};
    /// let answers = client
    ///     .batch(&BatchRequest {
    ///         resource: "user".into(),
    ///         requests: vec![BatchSubRequest {
    ///             id: "1".into(),
    ///             method: "POST".into(),
    ///             url: "/user/import".into(),
    ///             body: Some(serde_json::json!({
    ///                 "authentication_type": "email",
    ///                 "identity": "ann@example.com",
    ///                 "nick_name": "Ann",
    ///             })),
    ///         }],
    ///     })
    ///     .await?;
    /// assert_eq!(answers.responses[0].id, "1");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn batch(&self, request: &BatchRequest) -> Result<BatchResponse> {
        self.call("/v2/batch", request).await
    }

    /// Gets a user with extra information (`/v2/user/general_get`).
    pub async fn general_get_user(&self, request: &GeneralGetUserRequest) -> Result<UserExtraItem> {
        self.call("/v2/user/general_get", request).await
    }

    /// One page of a user search with extra information (`/v2/user/general_search`).
    pub async fn general_search_users(
        &self,
        request: &GeneralSearchUserRequest,
    ) -> Result<GeneralSearchUserResponse> {
        self.call("/v2/user/general_search", request).await
    }

    /// Every user of the domain, following `next_marker` to the last page.
    pub async fn list_all_users(&self) -> Result<Vec<User>> {
        self.all_users(&ListUserRequest::default()).await
    }

    /// Every user `/v2/user/list` answers, from `request.marker` to the last page, `limit` a
    /// page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let users = client.all_users(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn all_users(&self, request: &ListUserRequest) -> Result<Vec<User>> {
        self.users_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_users`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn users_stream<'a>(
        &'a self,
        request: &ListUserRequest,
    ) -> impl Stream<Item = Result<User>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListUserRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_users(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every user a `/v2/user/search` matches, following `next_marker` to the last page.
    pub async fn search_all_users(&self, request: &SearchUserRequest) -> Result<Vec<User>> {
        self.search_users_stream(request).try_collect().await
    }

    /// The stream form of [`Client::search_all_users`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn search_users_stream<'a>(
        &'a self,
        request: &SearchUserRequest,
    ) -> impl Stream<Item = Result<User>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = SearchUserRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.search_users(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }
}
