//! The PDS dialect: `POST /v2/<area>/<verb>`, snake_case JSON, `{code, message}` errors.

mod access_keys;
mod accounts;
mod apps;
mod audit_log;
pub mod auth;
mod batch;
mod domains;
mod drives;
mod error;
mod events;
pub(crate) mod extract;
mod groups;
mod oauth;
mod scim_tokens;
pub mod signature;
/// The PDS shapes of Roster's types, which the CLI prints too.
pub mod translate;
mod users;
mod webhooks;

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use roster_api::ErrorBody;

pub use error::PdsError;
pub use extract::Caller;

use super::{current_request_id, AppState};
use crate::error::{Error, Resource};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(oauth::router())
        .merge(groups::router())
        .merge(drives::router())
        .merge(domains::router())
        .merge(access_keys::router())
        .merge(accounts::router())
        .merge(apps::router())
        .merge(audit_log::router())
        .merge(events::router())
        .merge(webhooks::router())
        .merge(batch::router())
        .merge(scim_tokens::router())
}

/// Unknown paths and wrong methods: a JSON 404, as the PDS gateway answers them.
pub async fn not_found(uri: Uri) -> PdsError {
    tracing::debug!(path = uri.path(), "no such route");
    PdsError::from(Error::NotFound(Resource::Route))
}

/// A known path called with a method it does not serve. A PDS path (`/v2/...`, all `POST`)
/// and the operational endpoints of `/openapi.json` (all `GET`) answer 405 with a PDS error
/// body; axum adds the `Allow` header from the route's methods. Other dialects' paths keep
/// the JSON 404 they always had.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let takes = if path.starts_with("/v2/") {
        "PDS operations take POST"
    } else if super::openapi::OPERATIONAL_PATHS.contains(&path) {
        "it takes GET"
    } else {
        return super::fallback(uri).await;
    };
    let body = ErrorBody {
        code: "MethodNotAllowed".into(),
        message: format!("The method {method} is not allowed for {path}; {takes}."),
        request_id: current_request_id(),
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

/// The OpenAPI paths and schemas of this dialect.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut api = users::Api::openapi();
    api.merge(oauth::Api::openapi());
    api.merge(groups::Api::openapi());
    api.merge(drives::Api::openapi());
    api.merge(domains::Api::openapi());
    api.merge(access_keys::Api::openapi());
    api.merge(accounts::Api::openapi());
    api.merge(apps::Api::openapi());
    api.merge(audit_log::Api::openapi());
    api.merge(events::Api::openapi());
    api.merge(webhooks::Api::openapi());
    api.merge(batch::Api::openapi());
    api.merge(scim_tokens::Api::openapi());
    api
}
