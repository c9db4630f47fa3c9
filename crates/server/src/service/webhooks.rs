//! Webhooks: a domain's admins register endpoints; the delivery worker
//! ([`delivery`]) sends them the domain's change events, signed as the Standard Webhooks
//! specification says. A tenant must not make Roster call into the operator's network: URLs
//! that resolve to loopback, private, link-local or metadata addresses are refused at create
//! and again at every delivery, after DNS resolution ([`guard`]), unless the operator allows
//! them (`--webhook-allow-private`).

pub mod delivery;
pub mod guard;
pub mod seal;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use roster_api::webhooks::{MAX_DESCRIPTION, MAX_URL, MAX_WEBHOOKS_PER_DOMAIN};

use super::{validate, Actor, Services};
use crate::error::{Error, ParamProblem, Resource, Result};
pub use crate::store::events::EVENT_TYPES;
use crate::store::webhooks::{AttemptRow, DeliveryRow, WebhookRow};

/// What the operator decides about webhooks (`roster serve` flags; tests shorten the times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Allow URLs that resolve to loopback, private, link-local or metadata addresses.
    pub allow_private: bool,
    /// How long one delivery may take.
    pub timeout: Duration,
    /// How long a delivery is retried before it goes to the dead-letter list and its
    /// webhook is disabled (at least a day by default).
    pub retry_window: Duration,
    /// How often the worker looks for new events when it found nothing to do.
    pub poll: Duration,
    /// A PEM file of root certificates https deliveries trust besides the Mozilla roots
    /// (`--webhook-ca-file`: a private CA of the operator's receivers; tests).
    pub extra_roots: Option<PathBuf>,
    /// The key that seals webhook secrets at rest (`--webhook-key-file`); `None`:
    /// `<data-dir>/webhook-secrets.key` ([`seal`]).
    pub key_file: Option<PathBuf>,
}

pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_RETRY_WINDOW: Duration = Duration::from_secs(25 * 3600);

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            timeout: DEFAULT_WEBHOOK_TIMEOUT,
            retry_window: DEFAULT_RETRY_WINDOW,
            poll: Duration::from_millis(250),
            extra_roots: None,
            key_file: None,
        }
    }
}

/// A webhook's public face (no secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub webhook_id: String,
    pub domain_id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            event_types: serde_json::from_str(&r.event_types).unwrap_or_default(),
            webhook_id: r.webhook_id,
            domain_id: r.domain_id,
            url: r.url,
            description: r.description,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What `create` and `update` take.
#[derive(Debug, Clone, Default)]
pub struct WebhookSpec {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// The secret `create` answers once: `whsec_` and the base64 of 24 random bytes.
pub(crate) fn new_secret() -> (String, String) {
    use rand::RngCore;
    let mut key = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let encoded = base64::engine::general_purpose::STANDARD.encode(key);
    (format!("whsec_{encoded}"), encoded)
}

/// The Standard Webhooks signature of `body` (`v1,<base64 HMAC-SHA256>` over
/// `id.timestamp.body` with the decoded key).
pub(crate) fn sign(key_b64: &str, id: &str, timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .unwrap_or_default();
    // HMAC takes keys of any length.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("v1,{signature}")
}

fn checked_types(types: Option<Vec<String>>) -> Result<Vec<String>> {
    let types = types.unwrap_or_default();
    let bad = |rule: String| Error::param(ParamProblem::Invalid, "event_types").with_rule(rule);
    if types.len() > 64 {
        return Err(bad("at most 64 event types".into()));
    }
    if let Some(unknown) = types.iter().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
        let shown = crate::audit::clipped(unknown);
        return Err(bad(format!("unknown event type {shown:?}")));
    }
    let mut types = types;
    types.sort();
    types.dedup();
    Ok(types)
}

fn not_found() -> Error {
    Error::NotFound(Resource::Webhook)
}

impl Services {
    async fn checked_url(&self, url: &str) -> Result<String> {
        validate::required("url", url, MAX_URL)?;
        guard::check_url(url, self.webhooks.allow_private)
            .await
            .map_err(|problem| Error::param(ParamProblem::Invalid, "url").with_rule(problem))?;
        Ok(url.trim().to_owned())
    }

    /// A webhook of the caller's domain (admin).
    async fn own_webhook(&self, actor: &Actor, webhook_id: &str) -> Result<WebhookRow> {
        actor.require_admin()?;
        validate::required("webhook_id", webhook_id, 64)?;
        self.store
            .webhook(&actor.domain_id, webhook_id)
            .await?
            .ok_or_else(not_found)
    }

    /// Registers a webhook; answers it and its secret (shown only now).
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        spec: WebhookSpec,
    ) -> Result<(Webhook, String)> {
        actor.audit("webhook.create", "webhook", "");
        actor.require_admin()?;
        let url = self
            .checked_url(spec.url.as_deref().unwrap_or_default())
            .await?;
        let event_types = checked_types(spec.event_types)?;
        let description = spec.description.unwrap_or_default();
        validate::max_len("description", &description, MAX_DESCRIPTION)?;
        if self.store.webhooks(&actor.domain_id).await?.len() >= MAX_WEBHOOKS_PER_DOMAIN {
            return Err(
                Error::param(ParamProblem::Invalid, "url").with_rule(format!(
                    "a domain has at most {MAX_WEBHOOKS_PER_DOMAIN} webhooks"
                )),
            );
        }
        let webhook_id = format!("wh_{}", crate::ids::random_hex(12));
        actor.trail.name_target(&webhook_id);
        let (secret, key) = new_secret();
        let now = self.clock.now_ms();
        let row = WebhookRow {
            domain_id: actor.domain_id.to_string(),
            webhook_id: webhook_id.clone(),
            url,
            description,
            event_types: serde_json::to_string(&event_types).unwrap_or_else(|_| "[]".into()),
            secret: self.webhook_seal.seal(&actor.domain_id, &webhook_id, &key),
            enabled: true,
            disabled_reason: String::new(),
            cursor_seq: 0,
            created_at: now,
            updated_at: now,
        };
        self.store.create_webhook(&actor.trail, &row).await?;
        let created = self.own_webhook(actor, &webhook_id).await?;
        Ok((created.into(), secret))
    }

    pub async fn get_webhook(&self, actor: &Actor, webhook_id: &str) -> Result<Webhook> {
        Ok(self.own_webhook(actor, webhook_id).await?.into())
    }

    pub async fn list_webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        actor.require_admin()?;
        let rows = self.store.webhooks(&actor.domain_id).await?;
        Ok(rows.into_iter().map(Webhook::from).collect())
    }

    pub async fn update_webhook(
        &self,
        actor: &Actor,
        webhook_id: &str,
        spec: WebhookSpec,
    ) -> Result<Webhook> {
        actor.audit("webhook.update", "webhook", webhook_id);
        let mut row = self.own_webhook(actor, webhook_id).await?;
        if let Some(url) = spec.url.as_deref() {
            row.url = self.checked_url(url).await?;
        }
        if spec.event_types.is_some() {
            let types = checked_types(spec.event_types)?;
            row.event_types = serde_json::to_string(&types).unwrap_or_else(|_| "[]".into());
        }
        if let Some(description) = spec.description {
            validate::max_len("description", &description, MAX_DESCRIPTION)?;
            row.description = description;
        }
        if let Some(enabled) = spec.enabled {
            row.enabled = enabled;
            row.disabled_reason = String::new();
        }
        if !seal::SecretSeal::is_sealed(&row.secret) {
            // A key stored before sealing existed is sealed now.
            row.secret = self
                .webhook_seal
                .seal(&row.domain_id, &row.webhook_id, &row.secret);
        }
        row.updated_at = self.clock.now_ms();
        if !self.store.update_webhook(&actor.trail, &row).await? {
            return Err(not_found());
        }
        Ok(row.into())
    }

    pub async fn delete_webhook(&self, actor: &Actor, webhook_id: &str) -> Result<()> {
        actor.audit("webhook.delete", "webhook", webhook_id);
        self.own_webhook(actor, webhook_id).await?;
        if !self
            .store
            .delete_webhook(&actor.trail, &actor.domain_id, webhook_id)
            .await?
        {
            return Err(not_found());
        }
        Ok(())
    }

    /// Sends one `webhook.test` event to the webhook now and says how it went (it is not
    /// queued or retried).
    pub async fn test_webhook(
        &self,
        actor: &Actor,
        webhook_id: &str,
    ) -> Result<delivery::AttemptOutcome> {
        let row = self.own_webhook(actor, webhook_id).await?;
        let now = self.clock.now_ms();
        let event_id = format!("evt_test_{}", crate::ids::random_hex(12));
        let payload = serde_json::json!({
            "event_id": event_id,
            "type": "webhook.test",
            "time": crate::time_format::iso8601_ms(now),
            "domain_id": actor.domain_id,
            "actor": {"type": "user", "id": actor.user_id},
            "data": {"webhook_id": webhook_id},
            "changed_fields": [],
        });
        let client = delivery::Sender::new(&self.webhooks, self.webhook_seal.clone())?;
        Ok(client
            .send(&row, &event_id, now / 1000, &payload.to_string())
            .await)
    }

    /// The webhook's dead letters: deliveries given up after the retry window.
    pub async fn dead_letters(&self, actor: &Actor, webhook_id: &str) -> Result<Vec<DeliveryRow>> {
        self.own_webhook(actor, webhook_id).await?;
        self.store
            .dead_letters(&actor.domain_id, webhook_id, 100)
            .await
    }

    /// Puts dead letters back in the queue (all, or those of `event_ids`).
    pub async fn redeliver(
        &self,
        actor: &Actor,
        webhook_id: &str,
        event_ids: Option<Vec<String>>,
    ) -> Result<u64> {
        actor.audit("webhook.redeliver", "webhook", webhook_id);
        self.own_webhook(actor, webhook_id).await?;
        let event_ids = event_ids.unwrap_or_default();
        if event_ids.len() > 100 {
            return Err(Error::param(ParamProblem::Invalid, "event_ids").with_rule("at most 100"));
        }
        for id in &event_ids {
            validate::required("event_ids", id, 64)?;
        }
        self.store
            .redeliver(
                &actor.domain_id,
                webhook_id,
                &event_ids,
                self.clock.now_ms(),
            )
            .await
    }

    /// The webhook's latest delivery attempts, newest first.
    pub async fn delivery_log(
        &self,
        actor: &Actor,
        webhook_id: &str,
        limit: Option<i64>,
    ) -> Result<Vec<AttemptRow>> {
        self.own_webhook(actor, webhook_id).await?;
        let limit = match limit {
            None => 100,
            Some(n @ 1..=100) => n as u32,
            Some(_) => {
                return Err(Error::param(ParamProblem::Invalid, "limit").with_rule("1..100"));
            }
        };
        self.store
            .delivery_log(&actor.domain_id, webhook_id, limit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks specification's reference implementations.
        let key = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(key, id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_fresh_and_prefixed() {
        let (a, key_a) = new_secret();
        let (b, _) = new_secret();
        assert!(a.starts_with("whsec_"));
        assert_eq!(&a["whsec_".len()..], key_a);
        assert_ne!(a, b);
    }

    #[test]
    fn unknown_event_types_are_refused_and_duplicates_folded() {
        assert!(checked_types(Some(vec!["user.exploded".into()])).is_err());
        let types = checked_types(Some(vec!["user.created".into(), "user.created".into()]));
        assert_eq!(types.unwrap(), vec!["user.created".to_owned()]);
    }
}
