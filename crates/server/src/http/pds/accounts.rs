//! `/v2/account/*`.

use crate::audit::Trail;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use roster_api::accounts::{
    ChangePasswordRequest, LinkAccountRequest, LinkInfoByUserIdRequest, LinkInfoListResponse,
    LinkInfoRequest, ListOutboxRequest, ListOutboxResponse, OutboxMessage, ResetPasswordRequest,
};
use roster_api::{AccountLinkInfo, ErrorBody, Token};
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::{translate, PdsError};
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        link_account,
        unlink_account,
        get_link_info,
        get_link_info_by_user_id,
        get_access_token_by_link_info,
        change_password,
        reset_password,
        list_outbox
    ),
    components(schemas(
        LinkAccountRequest,
        LinkInfoRequest,
        LinkInfoByUserIdRequest,
        LinkInfoListResponse,
        ChangePasswordRequest,
        ResetPasswordRequest,
        ListOutboxRequest,
        ListOutboxResponse,
        OutboxMessage,
        AccountLinkInfo,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/account/link", post(link_account))
        .route("/v2/account/unlink", post(unlink_account))
        .route("/v2/account/get_link_info", post(get_link_info))
        .route(
            "/v2/account/get_link_info_by_user_id",
            post(get_link_info_by_user_id),
        )
        .route(
            "/v2/account/get_access_token_by_link_info",
            post(get_access_token_by_link_info),
        )
        .route("/v2/account/change_password", post(change_password))
        .route("/v2/account/reset_password", post(reset_password))
        .route("/v2/outbox/list", post(list_outbox))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Link a logon account to a user (admin); answers a token for that user, as PDS does.
#[utoipa::path(post, path = "/v2/account/link", tag = "account", security(("bearer" = [])),
    request_body = LinkAccountRequest,
    responses(
        (status = 200, description = "Linked", body = Token),
        (status = "4XX", description = "Refused; AlreadyExist.Account if taken", body = ErrorBody),
    ))]
async fn link_account(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<LinkAccountRequest>,
) -> Answer<Token> {
    let link = translate::account_link(req);
    let token = app.services.link_account(&actor, link).await?;
    Ok(Json(translate::token(token)?))
}

/// Unlink a logon account from its user (admin).
#[utoipa::path(post, path = "/v2/account/unlink", tag = "account", security(("bearer" = [])),
    request_body = LinkAccountRequest,
    responses(
        (status = 204, description = "Unlinked"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn unlink_account(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<LinkAccountRequest>,
) -> Result<StatusCode, PdsError> {
    let link = translate::account_link(req);
    app.services.unlink_account(&actor, link).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account of a type and identity (admin).
#[utoipa::path(post, path = "/v2/account/get_link_info", tag = "account", security(("bearer" = [])),
    request_body = LinkInfoRequest,
    responses(
        (status = 200, description = "The account", body = AccountLinkInfo),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_link_info(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<LinkInfoRequest>,
) -> Answer<AccountLinkInfo> {
    let account = app
        .services
        .link_info(&actor, &translate::logon_identity(req))
        .await?;
    Ok(Json(translate::account_to_api(account)))
}

/// A user's accounts (admin, or the user itself).
#[utoipa::path(post, path = "/v2/account/get_link_info_by_user_id", tag = "account",
    security(("bearer" = [])),
    request_body = LinkInfoByUserIdRequest,
    responses(
        (status = 200, description = "Its accounts", body = LinkInfoListResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_link_info_by_user_id(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<LinkInfoByUserIdRequest>,
) -> Answer<LinkInfoListResponse> {
    let accounts = app.services.link_info_of_user(&actor, &req.user_id).await?;
    let items = accounts
        .into_iter()
        .map(translate::account_to_api)
        .collect();
    Ok(Json(LinkInfoListResponse { items }))
}

/// A token for the user of an account (admin).
#[utoipa::path(post, path = "/v2/account/get_access_token_by_link_info", tag = "account",
    security(("bearer" = [])),
    request_body = LinkInfoRequest,
    responses(
        (status = 200, description = "Tokens for that user", body = Token),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_access_token_by_link_info(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<LinkInfoRequest>,
) -> Answer<Token> {
    let identity = translate::logon_identity(req);
    let token = app
        .services
        .access_token_by_link_info(&actor, &identity)
        .await?;
    Ok(Json(translate::token(token)?))
}

/// Change your own password, giving the current one.
#[utoipa::path(post, path = "/v2/account/change_password", tag = "account",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = "4XX", description = "Refused; InvalidParameterNotMatch for a wrong current password", body = ErrorBody),
    ))]
async fn change_password(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ChangePasswordRequest>,
) -> Result<StatusCode, PdsError> {
    app.services
        .change_password(&actor, req.old_password.as_deref(), &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a new password with the token of a password reset (eds-user ResetUserPassword mails
/// it); the token works once, for 24 hours. No other credentials.
#[utoipa::path(post, path = "/v2/account/reset_password", tag = "account",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "The password is set"),
        (status = "4XX", description = "Refused; NotFound.ResetToken for an unknown, used or expired token", body = ErrorBody),
    ))]
async fn reset_password(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    PdsJson(req): PdsJson<ResetPasswordRequest>,
) -> Result<StatusCode, PdsError> {
    let domain = app.host_domain(&headers).await?;
    app.services
        .reset_password_with_token(&trail, domain.as_deref(), &req.token, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The domain's outbox (admin): mail kept because no SMTP server is configured, newest
/// first. It holds password reset tokens; the body of mail to a superadmin is shown to
/// superadmins only.
#[utoipa::path(post, path = "/v2/outbox/list", tag = "account", security(("bearer" = [])),
    request_body = ListOutboxRequest,
    responses(
        (status = 200, description = "A page of messages", body = ListOutboxResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_outbox(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListOutboxRequest>,
) -> Answer<ListOutboxResponse> {
    let (rows, next_marker) = app
        .services
        .outbox(&actor, req.limit, req.marker.as_deref())
        .await?;
    let items = rows
        .into_iter()
        .map(|m| OutboxMessage {
            message_id: m.message_id,
            recipient: m.recipient,
            subject: m.subject,
            body: m.body,
            created_at: m.created_at,
        })
        .collect();
    Ok(Json(ListOutboxResponse { items, next_marker }))
}
