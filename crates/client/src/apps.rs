//! JWT apps.

use super::*;

impl Client {
    /// Registers a JWT app (`/v2/app/create`).
    pub async fn create_app(&self, request: &CreateAppRequest) -> Result<App> {
        self.call("/v2/app/create", request).await
    }

    /// Gets a JWT app (`/v2/app/get`).
    pub async fn get_app(&self, request: &AppIdRequest) -> Result<App> {
        self.call("/v2/app/get", request).await
    }

    /// One page of JWT apps (`/v2/app/list`).
    pub async fn list_apps(&self, request: &ListAppRequest) -> Result<ListAppResponse> {
        self.call("/v2/app/list", request).await
    }

    /// Updates a JWT app (`/v2/app/update`): only the fields given change.
    pub async fn update_app(&self, request: &UpdateAppRequest) -> Result<App> {
        self.call("/v2/app/update", request).await
    }

    /// Deletes a JWT app (`/v2/app/delete`).
    pub async fn delete_app(&self, request: &AppIdRequest) -> Result<()> {
        self.call_without_answer("/v2/app/delete", request).await
    }

    /// Every JWT app, following `next_marker` to the last page.
    pub async fn all_apps(&self, request: &ListAppRequest) -> Result<Vec<App>> {
        self.apps_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_apps`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn apps_stream<'a>(
        &'a self,
        request: &ListAppRequest,
    ) -> impl Stream<Item = Result<App>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAppRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_apps(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }
}
