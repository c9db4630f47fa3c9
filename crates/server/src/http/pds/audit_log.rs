//! `/v2/audit_log/*` and `/v2/async_task/get`: reading and exporting the audit log (admin).

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use roster_api::audit_log::{
    AsyncTask, AuditLog, AuditLogExportRequest, AuditLogExportResponse, GetAsyncTaskRequest,
    ListAuditLogRequest, ListAuditLogResponse,
};
use roster_api::ErrorBody;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use super::extract::{Caller, PdsJson};
use super::translate;
use super::PdsError;
use crate::error::Error;
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(list_audit_log, export_audit_log, get_async_task, download_audit_log),
    components(schemas(
        AuditLog,
        ListAuditLogRequest,
        ListAuditLogResponse,
        AuditLogExportRequest,
        AuditLogExportResponse,
        GetAsyncTaskRequest,
        AsyncTask,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/audit_log/list", post(list_audit_log))
        .route("/v2/audit_log/export", post(export_audit_log))
        .route("/v2/audit_log/download", get(download_audit_log))
        .route("/v2/async_task/get", post(get_async_task))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// One page of the domain's audit log, newest first unless `order_by` says otherwise (admin).
#[utoipa::path(post, path = "/v2/audit_log/list", tag = "audit_log", security(("bearer" = [])),
    request_body = ListAuditLogRequest,
    responses(
        (status = 200, description = "One page", body = ListAuditLogResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_audit_log(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListAuditLogRequest>,
) -> Answer<ListAuditLogResponse> {
    let search = translate::audit_search(req);
    let listed = app.services.list_audit_log(&actor, search).await?;
    Ok(Json(translate::audit_log_list(listed)))
}

/// Export the matching audit log as CSV: answers a task, whose `url` (from
/// `/v2/async_task/get`) downloads the file (admin).
#[utoipa::path(post, path = "/v2/audit_log/export", tag = "audit_log", security(("bearer" = [])),
    request_body = AuditLogExportRequest,
    responses(
        (status = 200, description = "The export task", body = AuditLogExportResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn export_audit_log(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<AuditLogExportRequest>,
) -> Answer<AuditLogExportResponse> {
    let spec = translate::audit_export_spec(req);
    let async_task_id = app.services.export_audit_log(&actor, spec).await?;
    Ok(Json(AuditLogExportResponse { async_task_id }))
}

/// The state of an asynchronous task: an audit log export, ready at once (admin).
#[utoipa::path(post, path = "/v2/async_task/get", tag = "audit_log", security(("bearer" = [])),
    request_body = GetAsyncTaskRequest,
    responses(
        (status = 200, description = "The task", body = AsyncTask),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_async_task(
    State(app): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    PdsJson(req): PdsJson<GetAsyncTaskRequest>,
) -> Answer<AsyncTask> {
    let async_task_id = req.async_task_id;
    app.services
        .check_audit_export(&actor, &async_task_id)
        .await?;
    // An export is ready at once: its file is made as it is downloaded.
    let url = format!(
        "{}/v2/audit_log/download?async_task_id={async_task_id}",
        origin(&headers)
    );
    Ok(Json(AsyncTask {
        async_task_id,
        state: "Succeed".into(),
        status: "Succeed".into(),
        task_type: "audit_log_export".into(),
        url,
    }))
}

/// The query of a download (documentation only: it is read by `task_id_of`, so that a bad
/// query answers a PDS error).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DownloadParams {
    /// From `/v2/audit_log/export`.
    async_task_id: String,
}

/// `async_task_id` of a download's query string.
fn task_id_of(query: Option<&str>) -> Result<String, PdsError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|_| Error::invalid("query"))?;
    pairs
        .into_iter()
        .find(|(name, _)| name == "async_task_id")
        .map(|(_, value)| value)
        .ok_or_else(|| Error::missing("async_task_id").into())
}

/// Download an audit log export as CSV (admin of the domain that made it).
#[utoipa::path(get, path = "/v2/audit_log/download", tag = "audit_log", security(("bearer" = [])),
    params(DownloadParams),
    responses(
        (status = 200, description = "The CSV file", content_type = "text/csv", body = String),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn download_audit_log(
    State(app): State<AppState>,
    Caller(actor): Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, PdsError> {
    let task_id = task_id_of(query.as_deref())?;
    let (file_name, export) = app.services.open_audit_export(&actor, &task_id).await?;
    Ok(crate::http::csv_download(&file_name, export))
}

/// `scheme://host` the client called, for absolute URLs in answers (`X-Forwarded-Proto`
/// when a proxy terminates TLS).
fn origin(headers: &HeaderMap) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = match text("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    match text(header::HOST.as_str()) {
        Some(host) if !host.is_empty() && !host.contains(['/', ' ']) => {
            format!("{scheme}://{host}")
        }
        _ => String::new(),
    }
}
