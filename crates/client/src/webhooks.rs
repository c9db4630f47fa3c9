//! Webhooks (`/v2/webhook/*`, admin): endpoints that receive the domain's change events,
//! signed as the Standard Webhooks specification says.

use super::*;

impl Client {
    /// Registers a webhook; the answer carries its `secret` (`whsec_...`), shown only now.
    pub async fn create_webhook(
        &self,
        request: &CreateWebhookRequest,
    ) -> Result<CreateWebhookResponse> {
        self.call("/v2/webhook/create", request).await
    }

    /// A webhook, without its secret.
    pub async fn get_webhook(&self, request: &WebhookIdRequest) -> Result<Webhook> {
        self.call("/v2/webhook/get", request).await
    }

    /// Every webhook of the domain.
    pub async fn list_webhooks(&self) -> Result<ListWebhooksResponse> {
        self.call("/v2/webhook/list", &ListWebhooksRequest {}).await
    }

    /// Changes the fields given; `enabled: Some(true)` re-enables a disabled webhook.
    pub async fn update_webhook(&self, request: &UpdateWebhookRequest) -> Result<Webhook> {
        self.call("/v2/webhook/update", request).await
    }

    pub async fn delete_webhook(&self, request: &WebhookIdRequest) -> Result<()> {
        self.call_without_answer("/v2/webhook/delete", request)
            .await
    }

    /// Sends one signed `webhook.test` event now and says how it went.
    pub async fn test_webhook(&self, request: &WebhookIdRequest) -> Result<TestWebhookResponse> {
        self.call("/v2/webhook/test", request).await
    }

    /// The deliveries given up after the retry window.
    pub async fn list_dead_letters(
        &self,
        request: &WebhookIdRequest,
    ) -> Result<ListDeadLettersResponse> {
        self.call("/v2/webhook/list_dead_letters", request).await
    }

    /// Puts dead letters (all, or those named) back in the queue.
    pub async fn redeliver(&self, request: &RedeliverRequest) -> Result<RedeliverResponse> {
        self.call("/v2/webhook/redeliver", request).await
    }

    /// The delivery log, newest first.
    pub async fn list_deliveries(
        &self,
        request: &ListDeliveriesRequest,
    ) -> Result<ListDeliveriesResponse> {
        self.call("/v2/webhook/list_deliveries", request).await
    }
}
