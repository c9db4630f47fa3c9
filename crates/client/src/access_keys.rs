//! Access keys.

use super::*;

impl Client {
    /// Creates an access key pair (`/v2/access_key/create`); the only answer with the secret.
    pub async fn create_access_key(
        &self,
        request: &CreateAccessKeyRequest,
    ) -> Result<CreateAccessKeyResponse> {
        self.call("/v2/access_key/create", request).await
    }

    /// Gets an access key, without its secret (`/v2/access_key/get`).
    pub async fn get_access_key(&self, request: &AccessKeyIdRequest) -> Result<AccessKey> {
        self.call("/v2/access_key/get", request).await
    }

    /// One page of access keys (`/v2/access_key/list`).
    pub async fn list_access_keys(
        &self,
        request: &ListAccessKeyRequest,
    ) -> Result<ListAccessKeyResponse> {
        self.call("/v2/access_key/list", request).await
    }

    /// Enables or disables an access key (`/v2/access_key/update`).
    pub async fn update_access_key(&self, request: &UpdateAccessKeyRequest) -> Result<AccessKey> {
        self.call("/v2/access_key/update", request).await
    }

    /// Deletes an access key (`/v2/access_key/delete`).
    pub async fn delete_access_key(&self, request: &AccessKeyIdRequest) -> Result<()> {
        self.call_without_answer("/v2/access_key/delete", request)
            .await
    }

    /// Every access key `/v2/access_key/list` answers, following `next_marker` to the last
    /// page.
    pub async fn all_access_keys(&self, request: &ListAccessKeyRequest) -> Result<Vec<AccessKey>> {
        self.access_keys_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_access_keys`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn access_keys_stream<'a>(
        &'a self,
        request: &ListAccessKeyRequest,
    ) -> impl Stream<Item = Result<AccessKey>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAccessKeyRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_access_keys(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }
}
