//! `/v2/domain/*`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::domains::{
    AppAccessStrategy, Domain, DomainQuota, GetDomainQuotaRequest, GetDomainRequest,
    UpdateDomainRequest,
};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::PdsError;
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(get_domain, update_domain, get_domain_quota),
    components(schemas(
        GetDomainRequest,
        UpdateDomainRequest,
        GetDomainQuotaRequest,
        Domain,
        DomainQuota,
        AppAccessStrategy,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/domain/get", post(get_domain))
        .route("/v2/domain/update", post(update_domain))
        .route("/v2/domain/get_quota", post(get_domain_quota))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Read your domain with its drive and quota settings (admin).
#[utoipa::path(post, path = "/v2/domain/get", tag = "domain", security(("bearer" = [])),
    request_body = GetDomainRequest,
    responses(
        (status = 200, description = "The domain", body = Domain),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_domain(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GetDomainRequest>,
) -> Answer<Domain> {
    Ok(Json(app.services.get_domain(&actor, req).await?))
}

/// Change your domain's name, description, initial drives and quotas (superadmin).
#[utoipa::path(post, path = "/v2/domain/update", tag = "domain", security(("bearer" = [])),
    request_body = UpdateDomainRequest,
    responses(
        (status = 200, description = "The changed domain", body = Domain),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update_domain(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateDomainRequest>,
) -> Answer<Domain> {
    Ok(Json(app.services.update_domain(&actor, req).await?))
}

/// Your domain's quotas and what is used of them (admin).
#[utoipa::path(post, path = "/v2/domain/get_quota", tag = "domain", security(("bearer" = [])),
    request_body = GetDomainQuotaRequest,
    responses(
        (status = 200, description = "Quotas and usage", body = DomainQuota),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_domain_quota(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(_req): PdsJson<GetDomainQuotaRequest>,
) -> Answer<DomainQuota> {
    Ok(Json(app.services.get_domain_quota(&actor).await?))
}
