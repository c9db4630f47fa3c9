//! `/v2/app/*` (Roster-specific): JWT apps.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::apps::{
    App, AppIdRequest, CreateAppRequest, ListAppRequest, ListAppResponse, UpdateAppRequest,
};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::{translate, PdsError};
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(create_app, get_app, list_apps, update_app, delete_app),
    components(schemas(
        App,
        AppIdRequest,
        CreateAppRequest,
        ListAppRequest,
        ListAppResponse,
        UpdateAppRequest,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/app/create", post(create_app))
        .route("/v2/app/get", post(get_app))
        .route("/v2/app/list", post(list_apps))
        .route("/v2/app/update", post(update_app))
        .route("/v2/app/delete", post(delete_app))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Register a JWT app with the public key (PEM, RS256 or ES256) that verifies its
/// assertions (superadmin).
#[utoipa::path(post, path = "/v2/app/create", tag = "app", security(("bearer" = [])),
    request_body = CreateAppRequest,
    responses(
        (status = 201, description = "Registered", body = App),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create_app(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateAppRequest>,
) -> Result<(StatusCode, Json<App>), PdsError> {
    let created = app
        .services
        .create_app(&actor, translate::new_app(req))
        .await?;
    Ok((StatusCode::CREATED, Json(translate::app(created))))
}

/// Read a JWT app (superadmin).
#[utoipa::path(post, path = "/v2/app/get", tag = "app", security(("bearer" = [])),
    request_body = AppIdRequest,
    responses(
        (status = 200, description = "The app", body = App),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_app(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<AppIdRequest>,
) -> Answer<App> {
    let read = app.services.get_app(&actor, &req.client_id).await?;
    Ok(Json(translate::app(read)))
}

/// The domain's JWT apps (superadmin).
#[utoipa::path(post, path = "/v2/app/list", tag = "app", security(("bearer" = [])),
    request_body = ListAppRequest,
    responses(
        (status = 200, description = "One page", body = ListAppResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_apps(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListAppRequest>,
) -> Answer<ListAppResponse> {
    let listed = app
        .services
        .list_apps(&actor, req.limit, req.marker.as_deref())
        .await?;
    Ok(Json(translate::app_list(listed)))
}

/// Rename, re-key, enable or disable a JWT app (superadmin).
#[utoipa::path(post, path = "/v2/app/update", tag = "app", security(("bearer" = [])),
    request_body = UpdateAppRequest,
    responses(
        (status = 200, description = "The app", body = App),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update_app(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateAppRequest>,
) -> Answer<App> {
    let (client_id, changes) = translate::app_changes(req);
    let changed = app.services.update_app(&actor, &client_id, changes).await?;
    Ok(Json(translate::app(changed)))
}

/// Delete a JWT app: its service tokens stop working (superadmin).
#[utoipa::path(post, path = "/v2/app/delete", tag = "app", security(("bearer" = [])),
    request_body = AppIdRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete_app(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<AppIdRequest>,
) -> Result<StatusCode, PdsError> {
    app.services.delete_app(&actor, &req.client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
