//! `/v2/drive/*`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::drives::{
    CreateDriveRequest, DeleteDriveRequest, Drive, DriveStatus, DriveType, GetDefaultDriveRequest,
    GetDriveRequest, ListDriveRequest, ListDriveResponse, ListMyDrivesRequest, OwnerType,
    SearchDriveRequest, UpdateDriveRequest,
};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::{translate, PdsError};
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        create_drive,
        get_drive,
        get_default_drive,
        update_drive,
        delete_drive,
        list_drives,
        list_my_drives,
        search_drives
    ),
    components(schemas(
        CreateDriveRequest,
        GetDriveRequest,
        GetDefaultDriveRequest,
        UpdateDriveRequest,
        DeleteDriveRequest,
        ListDriveRequest,
        ListMyDrivesRequest,
        SearchDriveRequest,
        Drive,
        DriveStatus,
        DriveType,
        OwnerType,
        ListDriveResponse,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/drive/create", post(create_drive))
        .route("/v2/drive/get", post(get_drive))
        .route("/v2/drive/get_default_drive", post(get_default_drive))
        .route("/v2/drive/update", post(update_drive))
        .route("/v2/drive/delete", post(delete_drive))
        .route("/v2/drive/list", post(list_drives))
        .route("/v2/drive/list_my_drives", post(list_my_drives))
        .route("/v2/drive/search", post(search_drives))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Create a drive for a user or a group (admin); within the domain's size quota.
#[utoipa::path(post, path = "/v2/drive/create", tag = "drive", security(("bearer" = [])),
    request_body = CreateDriveRequest,
    responses(
        (status = 201, description = "Created", body = Drive),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create_drive(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateDriveRequest>,
) -> Result<(StatusCode, Json<Drive>), PdsError> {
    let drive = app
        .services
        .create_drive(&actor, translate::new_drive(req))
        .await?;
    Ok((StatusCode::CREATED, Json(translate::drive(drive))))
}

/// Read a drive: your own, or any as an admin.
#[utoipa::path(post, path = "/v2/drive/get", tag = "drive", security(("bearer" = [])),
    request_body = GetDriveRequest,
    responses(
        (status = 200, description = "The drive", body = Drive),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_drive(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GetDriveRequest>,
) -> Answer<Drive> {
    let drive = app.services.get_drive(&actor, &req.drive_id).await?;
    Ok(Json(translate::drive(drive)))
}

/// A user's default drive: yours (omit `user_id`), or anyone's as an admin.
#[utoipa::path(post, path = "/v2/drive/get_default_drive", tag = "drive",
    security(("bearer" = [])),
    request_body = GetDefaultDriveRequest,
    responses(
        (status = 200, description = "The drive", body = Drive),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_default_drive(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GetDefaultDriveRequest>,
) -> Answer<Drive> {
    let drive = app
        .services
        .get_default_drive(&actor, req.user_id.as_deref())
        .await?;
    Ok(Json(translate::drive(drive)))
}

/// Change a drive's name, description, status or size (admin).
#[utoipa::path(post, path = "/v2/drive/update", tag = "drive", security(("bearer" = [])),
    request_body = UpdateDriveRequest,
    responses(
        (status = 200, description = "The changed drive", body = Drive),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update_drive(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateDriveRequest>,
) -> Answer<Drive> {
    let (drive_id, changes) = translate::drive_changes(req);
    let drive = app
        .services
        .update_drive(&actor, &drive_id, changes)
        .await?;
    Ok(Json(translate::drive(drive)))
}

/// Delete a drive (admin).
#[utoipa::path(post, path = "/v2/drive/delete", tag = "drive", security(("bearer" = [])),
    request_body = DeleteDriveRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete_drive(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<DeleteDriveRequest>,
) -> Result<StatusCode, PdsError> {
    // `force` is accepted: Roster's drives hold no files.
    app.services.delete_drive(&actor, &req.drive_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the domain's drives, or one owner's, in `drive_id` order, by marker (admin).
#[utoipa::path(post, path = "/v2/drive/list", tag = "drive", security(("bearer" = [])),
    request_body = ListDriveRequest,
    responses(
        (status = 200, description = "One page", body = ListDriveResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_drives(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListDriveRequest>,
) -> Answer<ListDriveResponse> {
    let listed = app
        .services
        .search_drives(&actor, translate::drive_listing(req))
        .await?;
    Ok(Json(translate::drive_list(listed)))
}

/// List your own drives, by marker.
#[utoipa::path(post, path = "/v2/drive/list_my_drives", tag = "drive",
    security(("bearer" = [])),
    request_body = ListMyDrivesRequest,
    responses(
        (status = 200, description = "One page", body = ListDriveResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_my_drives(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListMyDrivesRequest>,
) -> Answer<ListDriveResponse> {
    let listed = app
        .services
        .list_my_drives(&actor, req.limit, req.marker.as_deref())
        .await?;
    Ok(Json(translate::drive_list(listed)))
}

/// Search drives by name (substring, case-insensitive) and owner (admin).
#[utoipa::path(post, path = "/v2/drive/search", tag = "drive", security(("bearer" = [])),
    request_body = SearchDriveRequest,
    responses(
        (status = 200, description = "One page", body = ListDriveResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn search_drives(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<SearchDriveRequest>,
) -> Answer<ListDriveResponse> {
    let listed = app
        .services
        .search_drives(&actor, translate::drive_search(req))
        .await?;
    Ok(Json(translate::drive_list(listed)))
}
