//! The audit log: pages, exports and their download.

use super::*;

impl Client {
    /// One page of the domain's audit log (`/v2/audit_log/list`, admin).
    pub async fn list_audit_log(
        &self,
        request: &ListAuditLogRequest,
    ) -> Result<ListAuditLogResponse> {
        self.call("/v2/audit_log/list", request).await
    }

    /// Every matching audit record, page after page.
    pub async fn all_audit_log(&self, request: &ListAuditLogRequest) -> Result<Vec<AuditLog>> {
        self.audit_log_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_audit_log`].
    pub fn audit_log_stream<'a>(
        &'a self,
        request: &ListAuditLogRequest,
    ) -> impl Stream<Item = Result<AuditLog>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAuditLogRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_audit_log(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Starts an export of the audit log (`/v2/audit_log/export`, admin).
    pub async fn export_audit_log(
        &self,
        request: &AuditLogExportRequest,
    ) -> Result<AuditLogExportResponse> {
        self.call("/v2/audit_log/export", request).await
    }

    /// The state of an asynchronous task (`/v2/async_task/get`).
    pub async fn async_task(&self, request: &GetAsyncTaskRequest) -> Result<AsyncTask> {
        self.call("/v2/async_task/get", request).await
    }

    /// Exports the matching audit log and downloads it: the CSV text.
    pub async fn download_audit_log(&self, request: &AuditLogExportRequest) -> Result<String> {
        let task = self.export_audit_log(request).await?;
        let url = self.url(&format!(
            "/v2/audit_log/download?async_task_id={}",
            task.async_task_id
        ));
        let token = self.access_token();
        let response = self
            .execute(|| {
                let builder = self.http.get(&url);
                match &token {
                    Some(token) => builder.bearer_auth(token),
                    None => builder,
                }
            })
            .await?;
        if !response.status().is_success() {
            return Err(error_of(response).await);
        }
        Ok(response.text().await?)
    }
}
