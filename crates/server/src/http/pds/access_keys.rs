//! `/v2/access_key/*` (Roster-specific).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::access_keys::{
    AccessKey, AccessKeyIdRequest, AccessKeyStatus, CreateAccessKeyRequest,
    CreateAccessKeyResponse, ListAccessKeyRequest, ListAccessKeyResponse, UpdateAccessKeyRequest,
};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::{translate, PdsError};
use crate::http::AppState;
use crate::model;

#[derive(OpenApi)]
#[openapi(
    paths(create_key, get_key, list_keys, update_key, delete_key),
    components(schemas(
        AccessKey,
        AccessKeyIdRequest,
        AccessKeyStatus,
        CreateAccessKeyRequest,
        CreateAccessKeyResponse,
        ListAccessKeyRequest,
        ListAccessKeyResponse,
        UpdateAccessKeyRequest,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/access_key/create", post(create_key))
        .route("/v2/access_key/get", post(get_key))
        .route("/v2/access_key/list", post(list_keys))
        .route("/v2/access_key/update", post(update_key))
        .route("/v2/access_key/delete", post(delete_key))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Issue an access key pair for a user (admin). The secret is in this answer only.
#[utoipa::path(post, path = "/v2/access_key/create", tag = "access_key", security(("bearer" = [])),
    request_body = CreateAccessKeyRequest,
    responses(
        (status = 201, description = "Created", body = CreateAccessKeyResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create_key(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateAccessKeyRequest>,
) -> Result<(StatusCode, Json<CreateAccessKeyResponse>), PdsError> {
    let issued = app
        .services
        .create_access_key(&actor, req.user_id, req.description)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(translate::issued_access_key(issued)),
    ))
}

/// Read an access key, without its secret (admin).
#[utoipa::path(post, path = "/v2/access_key/get", tag = "access_key", security(("bearer" = [])),
    request_body = AccessKeyIdRequest,
    responses(
        (status = 200, description = "The key", body = AccessKey),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_key(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<AccessKeyIdRequest>,
) -> Answer<AccessKey> {
    let key = app
        .services
        .get_access_key(&actor, &req.access_key_id)
        .await?;
    Ok(Json(translate::access_key(key)))
}

/// The domain's access keys, or one user's (admin).
#[utoipa::path(post, path = "/v2/access_key/list", tag = "access_key", security(("bearer" = [])),
    request_body = ListAccessKeyRequest,
    responses(
        (status = 200, description = "One page", body = ListAccessKeyResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_keys(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListAccessKeyRequest>,
) -> Answer<ListAccessKeyResponse> {
    let listed = app
        .services
        .list_access_keys(&actor, req.user_id, req.limit, req.marker.as_deref())
        .await?;
    Ok(Json(ListAccessKeyResponse {
        items: listed
            .items
            .into_iter()
            .map(translate::access_key)
            .collect(),
        next_marker: listed.next_marker,
    }))
}

/// Enable or disable an access key (admin).
#[utoipa::path(post, path = "/v2/access_key/update", tag = "access_key", security(("bearer" = [])),
    request_body = UpdateAccessKeyRequest,
    responses(
        (status = 200, description = "The key", body = AccessKey),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update_key(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateAccessKeyRequest>,
) -> Answer<AccessKey> {
    let status = match req.status {
        AccessKeyStatus::Enabled => model::AccessKeyStatus::Enabled,
        AccessKeyStatus::Disabled => model::AccessKeyStatus::Disabled,
    };
    let key = app
        .services
        .update_access_key(&actor, &req.access_key_id, status)
        .await?;
    Ok(Json(translate::access_key(key)))
}

/// Delete an access key (admin).
#[utoipa::path(post, path = "/v2/access_key/delete", tag = "access_key", security(("bearer" = [])),
    request_body = AccessKeyIdRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete_key(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<AccessKeyIdRequest>,
) -> Result<StatusCode, PdsError> {
    app.services
        .delete_access_key(&actor, &req.access_key_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
