//! Drives.

use super::*;

impl Client {
    /// Creates a drive for a user or a group (`/v2/drive/create`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::drives::{CreateDriveRequest, OwnerType};
    /// let drive = client
    ///     .create_drive(&CreateDriveRequest {
    ///         drive_name: "Alice's files".into(),
    ///         owner: "alice".into(),
    ///         owner_type: OwnerType::User,
    ///         default: Some(true),
    ///         description: None,
    ///         drive_type: None,
    ///         status: None,
    ///         total_size: Some(10 << 30),
    ///         subdomain_id: None,
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_drive(&self, request: &CreateDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/create", request).await
    }

    /// Gets a drive (`/v2/drive/get`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::drives::GetDriveRequest;
    /// let drive = client
    ///     .get_drive(&GetDriveRequest { drive_id: "1".into() })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_drive(&self, request: &GetDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/get", request).await
    }

    /// Gets a user's default drive (`/v2/drive/get_default_drive`; `user_id` omitted: the
    /// caller's).
    pub async fn get_default_drive(&self, request: &GetDefaultDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/get_default_drive", request).await
    }

    /// Updates a drive (`/v2/drive/update`): only the fields given change.
    pub async fn update_drive(&self, request: &UpdateDriveRequest) -> Result<Drive> {
        self.call("/v2/drive/update", request).await
    }

    /// Deletes a drive (`/v2/drive/delete`).
    pub async fn delete_drive(&self, request: &DeleteDriveRequest) -> Result<()> {
        self.call_without_answer("/v2/drive/delete", request).await
    }

    /// One page of the domain's drives, or one owner's (`/v2/drive/list`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let page = client.list_drives(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_drives(&self, request: &ListDriveRequest) -> Result<ListDriveResponse> {
        self.call("/v2/drive/list", request).await
    }

    /// One page of the caller's drives (`/v2/drive/list_my_drives`).
    pub async fn list_my_drives(&self, request: &ListMyDrivesRequest) -> Result<ListDriveResponse> {
        self.call("/v2/drive/list_my_drives", request).await
    }

    /// One page of a drive search (`/v2/drive/search`).
    pub async fn search_drives(&self, request: &SearchDriveRequest) -> Result<ListDriveResponse> {
        self.call("/v2/drive/search", request).await
    }

    /// Every drive `/v2/drive/list` answers, following `next_marker` to the last page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let drives = client.all_drives(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn all_drives(&self, request: &ListDriveRequest) -> Result<Vec<Drive>> {
        self.drives_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_drives`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn drives_stream<'a>(
        &'a self,
        request: &ListDriveRequest,
    ) -> impl Stream<Item = Result<Drive>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListDriveRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_drives(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every drive of the caller, following `next_marker` to the last page.
    pub async fn all_my_drives(&self, request: &ListMyDrivesRequest) -> Result<Vec<Drive>> {
        self.my_drives_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_my_drives`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn my_drives_stream<'a>(
        &'a self,
        request: &ListMyDrivesRequest,
    ) -> impl Stream<Item = Result<Drive>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListMyDrivesRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_my_drives(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every drive a `/v2/drive/search` matches, following `next_marker` to the last page.
    pub async fn search_all_drives(&self, request: &SearchDriveRequest) -> Result<Vec<Drive>> {
        self.search_drives_stream(request).try_collect().await
    }

    /// The stream form of [`Client::search_all_drives`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn search_drives_stream<'a>(
        &'a self,
        request: &SearchDriveRequest,
    ) -> impl Stream<Item = Result<Drive>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = SearchDriveRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.search_drives(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }
}
