//! `/v2/user/*`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::{
    CreateUserRequest, DeleteUserRequest, ErrorBody, GeneralGetUserRequest,
    GeneralSearchUserRequest, GeneralSearchUserResponse, GetUserRequest, ImportUserRequest,
    ListUserRequest, ListUserResponse, SearchUserRequest, UpdateUserRequest, User, UserExtraItem,
};
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::translate;
use super::PdsError;
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        create_user,
        get_user,
        update_user,
        delete_user,
        list_users,
        search_users,
        import_user,
        general_get_user,
        general_search_users
    ),
    components(schemas(
        CreateUserRequest,
        GetUserRequest,
        UpdateUserRequest,
        DeleteUserRequest,
        ListUserRequest,
        SearchUserRequest,
        ImportUserRequest,
        GeneralGetUserRequest,
        GeneralSearchUserRequest,
        User,
        UserExtraItem,
        ListUserResponse,
        GeneralSearchUserResponse,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/user/create", post(create_user))
        .route("/v2/user/get", post(get_user))
        .route("/v2/user/update", post(update_user))
        .route("/v2/user/delete", post(delete_user))
        .route("/v2/user/list", post(list_users))
        .route("/v2/user/search", post(search_users))
        .route("/v2/user/import", post(import_user))
        .route("/v2/user/general_get", post(general_get_user))
        .route("/v2/user/general_search", post(general_search_users))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Create a user (admin; roles other than `user` need a superadmin).
#[utoipa::path(post, path = "/v2/user/create", tag = "user", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = User),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create_user(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<User>), PdsError> {
    let spec = translate::new_user_spec(req);
    let user = app.services.create_user(&actor, spec).await?;
    Ok((StatusCode::CREATED, Json(translate::user(user)?)))
}

/// Read a user: yourself (omit `user_id`), or anyone as an admin.
#[utoipa::path(post, path = "/v2/user/get", tag = "user", security(("bearer" = [])),
    request_body = GetUserRequest,
    responses(
        (status = 200, description = "The user", body = User),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_user(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GetUserRequest>,
) -> Answer<User> {
    let user = app
        .services
        .get_user(&actor, req.user_id.as_deref())
        .await?;
    Ok(Json(translate::user(user)?))
}

/// Change a user: your own `nick_name`, `avatar`, `description`; admins more; superadmins roles.
#[utoipa::path(post, path = "/v2/user/update", tag = "user", security(("bearer" = [])),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The changed user", body = User),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update_user(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateUserRequest>,
) -> Answer<User> {
    let (user_id, changes) = translate::user_changes(req);
    let user = app.services.update_user(&actor, &user_id, changes).await?;
    Ok(Json(translate::user(user)?))
}

/// Delete a user (admin). Its accounts, password, memberships and tokens go with it, and so
/// do its personal drives (Roster deletes them rather than refusing, as PDS does).
#[utoipa::path(post, path = "/v2/user/delete", tag = "user", security(("bearer" = [])),
    request_body = DeleteUserRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete_user(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<DeleteUserRequest>,
) -> Result<StatusCode, PdsError> {
    app.services.delete_user(&actor, &req.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List users in `user_id` order, by marker (admin).
#[utoipa::path(post, path = "/v2/user/list", tag = "user", security(("bearer" = [])),
    request_body = ListUserRequest,
    responses(
        (status = 200, description = "One page", body = ListUserResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_users(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListUserRequest>,
) -> Answer<ListUserResponse> {
    let listed = app
        .services
        .search_users(&actor, translate::user_listing(req))
        .await?;
    Ok(Json(translate::user_list(listed)?))
}

/// Search users by prefix, substring, role and status, all combined (admin).
#[utoipa::path(post, path = "/v2/user/search", tag = "user", security(("bearer" = [])),
    request_body = SearchUserRequest,
    responses(
        (status = 200, description = "One page", body = ListUserResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn search_users(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<SearchUserRequest>,
) -> Answer<ListUserResponse> {
    let listed = app
        .services
        .search_users(&actor, translate::user_search(req))
        .await?;
    Ok(Json(translate::user_list(listed)?))
}

/// Create a user and its logon account in one step (admin).
#[utoipa::path(post, path = "/v2/user/import", tag = "user", security(("bearer" = [])),
    request_body = ImportUserRequest,
    responses(
        (status = 200, description = "The new user", body = User),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn import_user(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ImportUserRequest>,
) -> Answer<User> {
    Ok(Json(translate::user(
        app.services
            .import_user(&actor, translate::imported_user(req))
            .await?,
    )?))
}

/// Read a user with extra information (`extra_return_info`).
#[utoipa::path(post, path = "/v2/user/general_get", tag = "user", security(("bearer" = [])),
    request_body = GeneralGetUserRequest,
    responses(
        (status = 200, description = "The user", body = UserExtraItem),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn general_get_user(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GeneralGetUserRequest>,
) -> Answer<UserExtraItem> {
    let extras = translate::extras(req.extra_return_info.as_deref());
    let item = app
        .services
        .get_user_with(&actor, req.user_id.as_deref(), extras)
        .await?;
    Ok(Json(translate::user_with_extras(item)?))
}

/// Search users with extra information (admin).
#[utoipa::path(post, path = "/v2/user/general_search", tag = "user", security(("bearer" = [])),
    request_body = GeneralSearchUserRequest,
    responses(
        (status = 200, description = "One page", body = GeneralSearchUserResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn general_search_users(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GeneralSearchUserRequest>,
) -> Answer<GeneralSearchUserResponse> {
    let (search, in_subtrees_of, direct_member_of, extras) = translate::general_search(req);
    let listed = app
        .services
        .search_users_with(
            &actor,
            search,
            &in_subtrees_of,
            direct_member_of.as_deref(),
            extras,
        )
        .await?;
    Ok(Json(GeneralSearchUserResponse {
        items: listed
            .items
            .into_iter()
            .map(translate::user_with_extras)
            .collect::<crate::error::Result<_>>()?,
        next_marker: listed.next_marker,
    }))
}
