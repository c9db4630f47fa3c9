//! `/v2/webhook/*`: a domain's webhooks (admin; Roster's own, not a PDS call).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::webhooks::{
    CreateWebhookRequest, CreateWebhookResponse, DeadLetter, DeliveryAttempt,
    ListDeadLettersResponse, ListDeliveriesRequest, ListDeliveriesResponse, ListWebhooksRequest,
    ListWebhooksResponse, RedeliverRequest, RedeliverResponse, TestWebhookResponse,
    UpdateWebhookRequest, Webhook, WebhookIdRequest,
};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::PdsError;
use crate::http::AppState;
use crate::service::webhooks::{self as hooks, WebhookSpec};
use crate::time_format::iso8601_ms;

#[derive(OpenApi)]
#[openapi(
    paths(
        create,
        get,
        list,
        update,
        delete,
        test,
        list_dead_letters,
        redeliver,
        list_deliveries
    ),
    components(schemas(
        Webhook,
        CreateWebhookRequest,
        CreateWebhookResponse,
        WebhookIdRequest,
        ListWebhooksRequest,
        ListWebhooksResponse,
        UpdateWebhookRequest,
        TestWebhookResponse,
        DeadLetter,
        ListDeadLettersResponse,
        RedeliverRequest,
        RedeliverResponse,
        ListDeliveriesRequest,
        ListDeliveriesResponse,
        DeliveryAttempt,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/webhook/create", post(create))
        .route("/v2/webhook/get", post(get))
        .route("/v2/webhook/list", post(list))
        .route("/v2/webhook/update", post(update))
        .route("/v2/webhook/delete", post(delete))
        .route("/v2/webhook/test", post(test))
        .route("/v2/webhook/list_dead_letters", post(list_dead_letters))
        .route("/v2/webhook/redeliver", post(redeliver))
        .route("/v2/webhook/list_deliveries", post(list_deliveries))
}

fn to_api(w: hooks::Webhook) -> Webhook {
    Webhook {
        webhook_id: w.webhook_id,
        domain_id: w.domain_id,
        url: w.url,
        description: w.description,
        event_types: w.event_types,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason,
        created_at: iso8601_ms(w.created_at),
        updated_at: iso8601_ms(w.updated_at),
    }
}

/// Registers a webhook of the caller's domain (admin); answers its `secret` this once.
#[utoipa::path(post, path = "/v2/webhook/create", tag = "webhook", security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 200, description = "The webhook and its signing secret", body = CreateWebhookResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateWebhookRequest>,
) -> Result<Json<CreateWebhookResponse>, PdsError> {
    let spec = WebhookSpec {
        url: Some(req.url),
        event_types: req.event_types,
        description: req.description,
        enabled: None,
    };
    let (webhook, secret) = app.services.create_webhook(&actor, spec).await?;
    Ok(Json(CreateWebhookResponse {
        webhook: to_api(webhook),
        secret,
    }))
}

/// A webhook of the caller's domain (admin), without its secret.
#[utoipa::path(post, path = "/v2/webhook/get", tag = "webhook", security(("bearer" = [])),
    request_body = WebhookIdRequest,
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<WebhookIdRequest>,
) -> Result<Json<Webhook>, PdsError> {
    let webhook = app.services.get_webhook(&actor, &req.webhook_id).await?;
    Ok(Json(to_api(webhook)))
}

/// Every webhook of the caller's domain (admin).
#[utoipa::path(post, path = "/v2/webhook/list", tag = "webhook", security(("bearer" = [])),
    request_body = ListWebhooksRequest,
    responses(
        (status = 200, description = "The webhooks", body = ListWebhooksResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(_req): PdsJson<ListWebhooksRequest>,
) -> Result<Json<ListWebhooksResponse>, PdsError> {
    let items = app.services.list_webhooks(&actor).await?;
    Ok(Json(ListWebhooksResponse {
        items: items.into_iter().map(to_api).collect(),
    }))
}

/// Changes a webhook's URL, event types, description, or re-enables it (admin).
#[utoipa::path(post, path = "/v2/webhook/update", tag = "webhook", security(("bearer" = [])),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The webhook as changed", body = Webhook),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateWebhookRequest>,
) -> Result<Json<Webhook>, PdsError> {
    let spec = WebhookSpec {
        url: req.url,
        event_types: req.event_types,
        description: req.description,
        enabled: req.enabled,
    };
    let webhook = app
        .services
        .update_webhook(&actor, &req.webhook_id, spec)
        .await?;
    Ok(Json(to_api(webhook)))
}

/// Deletes a webhook with its queue and delivery log (admin).
#[utoipa::path(post, path = "/v2/webhook/delete", tag = "webhook", security(("bearer" = [])),
    request_body = WebhookIdRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<WebhookIdRequest>,
) -> Result<axum::http::StatusCode, PdsError> {
    app.services.delete_webhook(&actor, &req.webhook_id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Sends a signed `webhook.test` event now and answers how it went (admin).
#[utoipa::path(post, path = "/v2/webhook/test", tag = "webhook", security(("bearer" = [])),
    request_body = WebhookIdRequest,
    responses(
        (status = 200, description = "How the test delivery went", body = TestWebhookResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn test(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<WebhookIdRequest>,
) -> Result<Json<TestWebhookResponse>, PdsError> {
    let outcome = app.services.test_webhook(&actor, &req.webhook_id).await?;
    Ok(Json(TestWebhookResponse {
        delivered: outcome.delivered,
        status_code: outcome.status_code,
        latency_ms: outcome.latency_ms,
        error: outcome.error,
    }))
}

/// The webhook's dead letters: deliveries given up after the retry window (admin).
#[utoipa::path(post, path = "/v2/webhook/list_dead_letters", tag = "webhook",
    security(("bearer" = [])),
    request_body = WebhookIdRequest,
    responses(
        (status = 200, description = "Up to 100 dead letters, oldest first", body = ListDeadLettersResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_dead_letters(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<WebhookIdRequest>,
) -> Result<Json<ListDeadLettersResponse>, PdsError> {
    let rows = app.services.dead_letters(&actor, &req.webhook_id).await?;
    Ok(Json(ListDeadLettersResponse {
        items: rows
            .into_iter()
            .map(|d| DeadLetter {
                event_id: d.event_id,
                object_id: d.object_id,
                attempts: d.attempts,
                last_status: d.last_status,
                last_error: d.last_error,
            })
            .collect(),
    }))
}

/// Puts dead letters back in the queue (admin).
#[utoipa::path(post, path = "/v2/webhook/redeliver", tag = "webhook", security(("bearer" = [])),
    request_body = RedeliverRequest,
    responses(
        (status = 200, description = "How many were queued again", body = RedeliverResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn redeliver(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<RedeliverRequest>,
) -> Result<Json<RedeliverResponse>, PdsError> {
    let redelivered = app
        .services
        .redeliver(&actor, &req.webhook_id, req.event_ids)
        .await?;
    Ok(Json(RedeliverResponse { redelivered }))
}

/// The webhook's delivery log, newest first: status code, latency, attempt (admin).
#[utoipa::path(post, path = "/v2/webhook/list_deliveries", tag = "webhook",
    security(("bearer" = [])),
    request_body = ListDeliveriesRequest,
    responses(
        (status = 200, description = "The latest attempts", body = ListDeliveriesResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_deliveries(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListDeliveriesRequest>,
) -> Result<Json<ListDeliveriesResponse>, PdsError> {
    let rows = app
        .services
        .delivery_log(&actor, &req.webhook_id, req.limit)
        .await?;
    Ok(Json(ListDeliveriesResponse {
        items: rows
            .into_iter()
            .map(|a| DeliveryAttempt {
                event_id: a.event_id,
                attempt: a.attempt,
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
                time: iso8601_ms(a.at),
            })
            .collect(),
    }))
}
