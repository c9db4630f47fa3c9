//! `/v2/webhook/*`: a domain's webhooks (Roster's own). Deliveries follow the Standard
//! Webhooks specification; the payload is an [`crate::events::Event`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

/// Longest webhook URL.
pub const MAX_URL: usize = 2048;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 1024;
/// Most webhooks one domain may have.
pub const MAX_WEBHOOKS_PER_DOMAIN: usize = 32;

/// A webhook as answered (never with its secret, except by `create`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub webhook_id: String,
    pub domain_id: String,
    pub url: String,
    pub description: String,
    /// The event types delivered (empty: every type).
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why Roster disabled it (an endpoint that kept failing); empty otherwise.
    pub disabled_reason: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// `/v2/webhook/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// `http://` or `https://`; must not resolve to a loopback, private, link-local or
    /// metadata address unless the operator allows it.
    #[schema(max_length = 2048)]
    pub url: String,
    /// Omitted or empty: every type. At most 64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 64)]
    pub event_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
}

/// The new webhook with its signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateWebhookResponse {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and the base64 key: verify deliveries with it (Standard Webhooks).
    pub secret: String,
}

/// `/v2/webhook/get`, `/delete`, `/test`, `/list_dead_letters`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct WebhookIdRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub webhook_id: String,
}

/// `/v2/webhook/list`: every webhook of the caller's domain.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListWebhooksRequest {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListWebhooksResponse {
    pub items: Vec<Webhook>,
}

/// `/v2/webhook/update`: the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateWebhookRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub webhook_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 64)]
    pub event_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// `true` re-enables a webhook Roster disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `/v2/webhook/test`: how one `webhook.test` delivery went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestWebhookResponse {
    /// The endpoint answered 2xx.
    pub delivered: bool,
    /// 0 when no HTTP answer came.
    pub status_code: i64,
    pub latency_ms: i64,
    /// Why it failed, in a few words; empty when delivered.
    pub error: String,
}

/// One delivery of the dead-letter list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeadLetter {
    pub event_id: String,
    pub object_id: String,
    pub attempts: i64,
    pub last_status: i64,
    pub last_error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListDeadLettersResponse {
    pub items: Vec<DeadLetter>,
}

/// `/v2/webhook/redeliver`: puts dead letters back in the queue.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RedeliverRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub webhook_id: String,
    /// Omitted or empty: every dead letter of the webhook. At most 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100)]
    pub event_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RedeliverResponse {
    pub redelivered: u64,
}

/// `/v2/webhook/list_deliveries`: the delivery log, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListDeliveriesRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub webhook_id: String,
    /// 1..100, default 100.
    #[serde(
        default,
        deserialize_with = "int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::limit)]
    pub limit: Option<i64>,
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    pub event_id: String,
    pub attempt: i64,
    /// 0 when no HTTP answer came.
    pub status_code: i64,
    pub latency_ms: i64,
    pub error: String,
    /// RFC 3339 UTC.
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListDeliveriesResponse {
    pub items: Vec<DeliveryAttempt>,
}
