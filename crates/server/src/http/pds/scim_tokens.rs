//! `/v2/scim_token/*` (Roster-specific): SCIM provisioning tokens (superadmin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::scim_tokens::{
    CreateScimTokenRequest, CreateScimTokenResponse, ListScimTokenRequest, ListScimTokenResponse,
    ScimToken, ScimTokenIdRequest,
};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::translate;
use super::PdsError;
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(create_token, list_tokens, delete_token),
    components(schemas(
        ScimToken,
        CreateScimTokenRequest,
        CreateScimTokenResponse,
        ListScimTokenRequest,
        ListScimTokenResponse,
        ScimTokenIdRequest,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/scim_token/create", post(create_token))
        .route("/v2/scim_token/list", post(list_tokens))
        .route("/v2/scim_token/delete", post(delete_token))
}

/// Create a SCIM provisioning token for the domain (superadmin). The token is in this
/// answer only.
#[utoipa::path(post, path = "/v2/scim_token/create", tag = "scim_token", security(("bearer" = [])),
    request_body = CreateScimTokenRequest,
    responses(
        (status = 201, description = "Created", body = CreateScimTokenResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create_token(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateScimTokenRequest>,
) -> Result<(StatusCode, Json<CreateScimTokenResponse>), PdsError> {
    let created = app
        .services
        .create_scim_token(&actor, req.description)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(translate::issued_scim_token(created)),
    ))
}

/// The domain's SCIM provisioning tokens, without the tokens (superadmin).
#[utoipa::path(post, path = "/v2/scim_token/list", tag = "scim_token", security(("bearer" = [])),
    request_body = ListScimTokenRequest,
    responses(
        (status = 200, description = "One page", body = ListScimTokenResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_tokens(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListScimTokenRequest>,
) -> Result<Json<ListScimTokenResponse>, PdsError> {
    let listed = app
        .services
        .list_scim_tokens(&actor, req.limit, req.marker.as_deref())
        .await?;
    Ok(Json(translate::scim_token_list(listed)))
}

/// Revoke a SCIM provisioning token: it stops at once (superadmin).
#[utoipa::path(post, path = "/v2/scim_token/delete", tag = "scim_token", security(("bearer" = [])),
    request_body = ScimTokenIdRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete_token(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ScimTokenIdRequest>,
) -> Result<StatusCode, PdsError> {
    app.services
        .delete_scim_token(&actor, &req.token_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
