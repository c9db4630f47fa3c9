//! `/v2/drive/*`.

use axum::Router;
use utoipa::OpenApi;

use crate::http::AppState;

#[derive(OpenApi)]
#[openapi()]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
}
