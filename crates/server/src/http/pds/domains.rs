//! `/v2/domain/*`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::domains::{
    AppAccessStrategy, CreateDomainRequest, CreateDomainResponse, DeleteDomainRequest, Domain,
    DomainQuota, GetDomainQuotaRequest, GetDomainRequest, ListDomainRequest, ListDomainResponse,
    UpdateDomainRequest,
};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::{translate, PdsError};
use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        create_domain,
        list_domains,
        search_domains,
        delete_domain,
        get_domain,
        update_domain,
        get_domain_quota
    ),
    components(schemas(
        CreateDomainRequest,
        CreateDomainResponse,
        ListDomainRequest,
        ListDomainResponse,
        DeleteDomainRequest,
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
        .route("/v2/domain/create", post(create_domain))
        .route("/v2/domain/list", post(list_domains))
        .route("/v2/domain/search", post(search_domains))
        .route("/v2/domain/delete", post(delete_domain))
        .route("/v2/domain/get", post(get_domain))
        .route("/v2/domain/update", post(update_domain))
        .route("/v2/domain/get_quota", post(get_domain_quota))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Create a domain with its first superadmin: a top-level one (the operator domain's
/// superadmins) or a subdomain (`parent_domain_id`; the parent's superadmin). The generated
/// admin password, if any, is answered this once.
#[utoipa::path(post, path = "/v2/domain/create", tag = "domain", security(("bearer" = [])),
    request_body = CreateDomainRequest,
    responses(
        (status = 201, description = "Created", body = CreateDomainResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create_domain(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateDomainRequest>,
) -> Result<(StatusCode, Json<CreateDomainResponse>), PdsError> {
    let created = app
        .services
        .create_domain(&actor, translate::new_domain(req))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(translate::created_domain(created)),
    ))
}

/// The domains you manage: top-level ones for the operator, else your subdomains.
#[utoipa::path(post, path = "/v2/domain/list", tag = "domain", security(("bearer" = [])),
    request_body = ListDomainRequest,
    responses(
        (status = 200, description = "One page", body = ListDomainResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_domains(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListDomainRequest>,
) -> Answer<ListDomainResponse> {
    let search = translate::domain_search(req);
    let listed = app.services.list_domains(&actor, search, false).await?;
    Ok(Json(translate::domain_list(listed)))
}

/// The domains you manage whose name starts with `domain_name`.
#[utoipa::path(post, path = "/v2/domain/search", tag = "domain", security(("bearer" = [])),
    request_body = ListDomainRequest,
    responses(
        (status = 200, description = "One page", body = ListDomainResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn search_domains(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListDomainRequest>,
) -> Answer<ListDomainResponse> {
    let search = translate::domain_search(req);
    let listed = app.services.list_domains(&actor, search, true).await?;
    Ok(Json(translate::domain_list(listed)))
}

/// Delete a domain you manage, with everything in it (`force: true`; not while it has
/// subdomains).
#[utoipa::path(post, path = "/v2/domain/delete", tag = "domain", security(("bearer" = [])),
    request_body = DeleteDomainRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete_domain(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<DeleteDomainRequest>,
) -> Result<StatusCode, PdsError> {
    let force = req.force == Some(true);
    app.services
        .delete_domain(&actor, &req.domain_id, force)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

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
    let with_usage = req.get_quota_used == Some(true);
    let read = app
        .services
        .get_domain(&actor, &req.domain_id, with_usage)
        .await?;
    Ok(Json(translate::domain(read.domain, read.usage)))
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
    let (domain_id, changes) = translate::domain_changes(req);
    let domain = app
        .services
        .update_domain(&actor, &domain_id, changes)
        .await?;
    Ok(Json(translate::domain(domain, Default::default())))
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
    let quota = app.services.get_domain_quota(&actor).await?;
    Ok(Json(translate::quota(quota)))
}
