//! Domains (tenants).

use super::*;

impl Client {
    /// Creates a domain or a subdomain with its first superadmin (`/v2/domain/create`).
    pub async fn create_domain(
        &self,
        request: &CreateDomainRequest,
    ) -> Result<CreateDomainResponse> {
        self.call("/v2/domain/create", request).await
    }

    /// Gets a domain (`/v2/domain/get`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api::domains::GetDomainRequest;
    /// let domain = client
    ///     .get_domain(&GetDomainRequest {
    ///         domain_id: "default".into(),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_domain(&self, request: &GetDomainRequest) -> Result<Domain> {
        self.call("/v2/domain/get", request).await
    }

    /// Updates a domain (`/v2/domain/update`): only the fields given change.
    pub async fn update_domain(&self, request: &UpdateDomainRequest) -> Result<Domain> {
        self.call("/v2/domain/update", request).await
    }

    /// The caller's domain quotas and their use (`/v2/domain/get_quota`).
    pub async fn get_domain_quota(&self, request: &GetDomainQuotaRequest) -> Result<DomainQuota> {
        self.call("/v2/domain/get_quota", request).await
    }

    /// One page of the domains the caller manages (`/v2/domain/list`).
    pub async fn list_domains(&self, request: &ListDomainRequest) -> Result<ListDomainResponse> {
        self.call("/v2/domain/list", request).await
    }

    /// One page of a domain search by name prefix (`/v2/domain/search`).
    pub async fn search_domains(&self, request: &ListDomainRequest) -> Result<ListDomainResponse> {
        self.call("/v2/domain/search", request).await
    }

    /// Deletes a domain and everything in it (`/v2/domain/delete`, `force: true`).
    pub async fn delete_domain(&self, request: &DeleteDomainRequest) -> Result<()> {
        self.call_without_answer("/v2/domain/delete", request).await
    }

    /// Every domain `/v2/domain/list` answers, following `next_marker` to the last page.
    pub async fn all_domains(&self, request: &ListDomainRequest) -> Result<Vec<Domain>> {
        self.domains_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_domains`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn domains_stream<'a>(
        &'a self,
        request: &ListDomainRequest,
    ) -> impl Stream<Item = Result<Domain>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListDomainRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_domains(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }
}
