//! Webhooks: a domain's endpoints, the queue of deliveries of its events, the attempt log.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;
use crate::model::DomainId;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WebhookRow {
    pub domain_id: String,
    pub webhook_id: String,
    pub url: String,
    pub description: String,
    /// JSON array; `[]`: every type.
    pub event_types: String,
    /// The signing key, base64 (what follows `whsec_`).
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: String,
    pub cursor_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct DeliveryRow {
    pub domain_id: String,
    pub webhook_id: String,
    pub event_seq: i64,
    pub event_id: String,
    pub object_id: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: i64,
    pub last_error: String,
    pub event_at: i64,
    /// When it was queued or redelivered (ms): the retry window starts there.
    pub queued_at: i64,
}

/// One attempt, for the delivery log.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttemptRow {
    pub domain_id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub attempt: i64,
    pub status_code: i64,
    pub latency_ms: i64,
    pub error: String,
    pub at: i64,
}

/// How an attempt ended, as the queue records it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptEnd {
    Delivered,
    /// Try again at this time (ms).
    RetryAt(i64),
    /// Given up: the delivery goes to the dead-letter list.
    Dead,
}

/// One attempt's end, as [`WebhookStore::finish_attempts`] records it.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedAttempt {
    pub delivery: DeliveryRow,
    pub attempt: AttemptRow,
    pub end: AttemptEnd,
}

/// The queue as a whole, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, sqlx::FromRow)]
pub struct QueueState {
    pub backlog: i64,
    /// When the oldest pending delivery's event happened (0: none pends).
    pub oldest_event_at: i64,
    pub dead: i64,
}

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Creates a webhook whose cursor starts at the domain's latest event (it receives the
    /// events after its creation).
    async fn create_webhook(&self, trail: &Trail, row: &WebhookRow) -> Result<()>;
    async fn webhook(&self, domain_id: &DomainId, webhook_id: &str) -> Result<Option<WebhookRow>>;
    async fn webhooks(&self, domain_id: &str) -> Result<Vec<WebhookRow>>;
    /// Writes url, description, event types, enabled and disabled_reason; false if gone.
    async fn update_webhook(&self, trail: &Trail, row: &WebhookRow) -> Result<bool>;
    /// Deletes a webhook with its queue and log; false if there was none.
    async fn delete_webhook(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        webhook_id: &str,
    ) -> Result<bool>;

    /// Every enabled webhook, across domains (the delivery worker's round).
    async fn enabled_webhooks(&self) -> Result<Vec<WebhookRow>>;
    /// Queues up to `limit` of the domain's events after the webhook's cursor (those of its
    /// types) and moves the cursor past them; answers how many events it read. Safe to run
    /// on several servers at once.
    async fn enqueue_deliveries(&self, hook: &WebhookRow, limit: u32, now: i64) -> Result<usize>;
    /// How many deliveries the worker claims a round: enough that the round's few
    /// statements and commits are spread thin, where a commit is dear.
    fn delivery_batch(&self) -> u32;
    /// Claims up to `limit` due deliveries of enabled webhooks until `claim_until`: none of an
    /// object while an earlier event of it for the same webhook still pends, none another
    /// server holds. Counts the attempt.
    async fn claim_deliveries(
        &self,
        now: i64,
        claim_until: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRow>>;
    /// Records the ends of attempts and their log lines, all in one transaction (a round's
    /// batch at once: a few statements, not two per delivery).
    async fn finish_attempts(&self, finished: &[FinishedAttempt]) -> Result<()>;
    /// Disables a webhook the worker gave up on; false if it was already disabled.
    async fn disable_webhook(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool>;
    async fn dead_letters(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRow>>;
    /// Puts dead deliveries (those of `event_ids`, or all when empty) back in the queue, due
    /// at `now`; answers how many.
    async fn redeliver(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        event_ids: &[String],
        now: i64,
    ) -> Result<u64>;
    /// The latest `limit` attempts, newest first.
    async fn delivery_log(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<AttemptRow>>;
    async fn queue_state(&self) -> Result<QueueState>;
    /// The events of a domain with these numbers (those still kept), in `seq` order.
    async fn events_by_seq(
        &self,
        domain_id: &str,
        seqs: &[i64],
    ) -> Result<Vec<crate::store::events::EventRow>>;
}
