//! The delivery worker, inside `roster serve` on every replica: it queues each enabled
//! webhook's new events (following the domain's commit-ordered `seq`), claims due
//! deliveries (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so replicas share the work), and
//! sends them signed. At least once: a delivery is marked done only after a 2xx answer; one
//! whose worker died is claimed again when its claim runs out. Events of one object reach a
//! webhook in the order they happened: none is claimed while an earlier one of the same
//! object still pends. Failures are retried with exponential backoff and jitter for the retry
//! window (over a day by default); then the delivery goes to the dead-letter list and the
//! webhook is disabled, with an audit record saying so. Memory is bounded by the batch size.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::guard::{check_url, GuardedResolver};
use super::seal::SecretSeal;
use super::{sign, WebhookSettings};
use crate::error::{Error, Result};
use crate::metrics::Delivery;
use crate::service::events::ChangeEvent;
use crate::service::Services;
use crate::store::audit_log::AuditRow;
use crate::store::webhooks::{AttemptEnd, AttemptRow, DeliveryRow, WebhookRow};

/// Deliveries claimed (and sent concurrently) at once.
const BATCH: u32 = 16;
/// Events queued per webhook per round.
const ENQUEUE_BATCH: u32 = 200;
/// How long a claim holds a delivery against other workers.
const CLAIM_FOR: Duration = Duration::from_secs(60);
/// The first retry's delay; each failure doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptOutcome {
    pub delivered: bool,
    /// 0 when no HTTP answer came.
    pub status_code: i64,
    pub latency_ms: i64,
    pub error: String,
    /// Refused by the SSRF guard.
    pub refused: bool,
}

/// The HTTP client of deliveries: no redirects, the guarded resolver, a timeout, https
/// through rustls on ring.
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    seal: SecretSeal,
}

/// The TLS configuration of https deliveries: rustls with the ring provider, trusting the
/// Mozilla roots (`webpki-roots`, the same on every machine) and the operator's extra roots.
fn tls_config(extra_roots: Option<&std::path::Path>) -> Result<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let internal = |e: String| Error::Internal(anyhow::anyhow!(e));
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_roots {
        let pem = std::fs::read(path)
            .map_err(|e| internal(format!("reading {}: {e}", path.display())))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| internal(format!("{}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(internal(format!(
                "no PEM certificate in {}",
                path.display()
            )));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| internal(format!("{}: {e}", path.display())))?;
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| internal(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

impl Sender {
    pub fn new(settings: &WebhookSettings, seal: SecretSeal) -> Result<Sender> {
        let tls = tls_config(settings.extra_roots.as_deref())?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .dns_resolver(std::sync::Arc::new(GuardedResolver {
                allow_private: settings.allow_private,
            }))
            .no_proxy()
            .user_agent("Roster-Webhooks/1")
            .build()
            .map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
        Ok(Sender {
            client,
            allow_private: settings.allow_private,
            seal,
        })
    }

    /// Sends `body` to the webhook, signed with its key as message `id` at `timestamp` (s).
    pub async fn send(
        &self,
        hook: &WebhookRow,
        id: &str,
        timestamp: i64,
        body: &str,
    ) -> AttemptOutcome {
        let started = Instant::now();
        let elapsed = |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(0);
        let Some(key) = self
            .seal
            .open(&hook.domain_id, &hook.webhook_id, &hook.secret)
        else {
            return AttemptOutcome {
                delivered: false,
                status_code: 0,
                latency_ms: 0,
                error: "the webhook's secret was sealed under another key".into(),
                refused: false,
            };
        };
        if let Err(problem) = check_url(&hook.url, self.allow_private).await {
            return AttemptOutcome {
                delivered: false,
                status_code: 0,
                latency_ms: elapsed(started),
                error: problem,
                refused: true,
            };
        }
        let answer = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sign(&key, id, timestamp, body))
            .body(body.to_owned())
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status();
                AttemptOutcome {
                    delivered: status.is_success(),
                    status_code: i64::from(status.as_u16()),
                    latency_ms: elapsed(started),
                    error: if status.is_success() {
                        String::new()
                    } else {
                        format!("answered {}", status.as_u16())
                    },
                    refused: false,
                }
            }
            Err(e) => AttemptOutcome {
                delivered: false,
                status_code: 0,
                latency_ms: elapsed(started),
                // Words only: the error's text could carry the URL.
                error: if e.is_timeout() {
                    "timed out".into()
                } else if e.is_connect() {
                    "could not connect".into()
                } else {
                    "request failed".into()
                },
                refused: false,
            },
        }
    }
}

/// The delay before retry number `failures` (1 after the first failure): doubling from
/// [`FIRST_BACKOFF`] up to [`MAX_BACKOFF`], with ±20 % jitter so that retries of many
/// deliveries spread out.
pub fn backoff(failures: i64) -> Duration {
    use rand::Rng;
    let exponent = u32::try_from(failures.clamp(1, 20) - 1).unwrap_or(0);
    let base = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_BACKOFF);
    base.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
}

impl Services {
    /// Runs the delivery worker until `stop` turns true; finishes the batch in hand first.
    pub async fn run_webhook_worker(self, mut stop: watch::Receiver<bool>) {
        let sender = match Sender::new(&self.webhooks, self.webhook_seal.clone()) {
            Ok(sender) => sender,
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery cannot start");
                return;
            }
        };
        while !*stop.borrow() {
            let worked = match self.webhook_round(&sender).await {
                Ok(worked) => worked,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery round failed");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    _ = tokio::time::sleep(self.webhooks.poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        tracing::debug!("webhook delivery stopped");
    }

    /// Queues new events and sends one batch of due deliveries; true if it did anything.
    async fn webhook_round(&self, sender: &Sender) -> Result<bool> {
        let now = self.clock.now_ms();
        let mut queued = 0;
        for hook in self.store.enabled_webhooks().await? {
            queued += self
                .store
                .enqueue_deliveries(&hook, ENQUEUE_BATCH, now)
                .await?;
        }
        let claim_ms = i64::try_from(CLAIM_FOR.as_millis()).unwrap_or(60_000);
        let claimed = self
            .store
            .claim_deliveries(now, now + claim_ms, BATCH)
            .await?;
        let sent = claimed.len();
        let attempts = claimed.into_iter().map(|d| self.deliver(sender, d));
        for result in futures_util::future::join_all(attempts).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, "a webhook delivery could not be recorded");
            }
        }
        Ok(queued > 0 || sent > 0)
    }

    async fn deliver(&self, sender: &Sender, delivery: DeliveryRow) -> Result<()> {
        let Some(hook) = self
            .store
            .webhook(&delivery.domain_id, &delivery.webhook_id)
            .await?
        else {
            return Ok(());
        };
        let event = self
            .store
            .event_by_seq(&delivery.domain_id, delivery.event_seq)
            .await?;
        let now = self.clock.now_ms();
        let outcome = match event {
            Some(event) => {
                let body = serde_json::to_string(&ChangeEvent::from(event))
                    .map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
                sender
                    .send(&hook, &delivery.event_id, now / 1000, &body)
                    .await
            }
            // Past the events' retention: nothing left to send.
            None => AttemptOutcome {
                delivered: false,
                status_code: 0,
                latency_ms: 0,
                error: "the event is no longer kept".into(),
                refused: false,
            },
        };
        let window_ms = i64::try_from(self.webhooks.retry_window.as_millis()).unwrap_or(i64::MAX);
        let end = if outcome.delivered {
            AttemptEnd::Delivered
        } else if now.saturating_sub(delivery.queued_at) >= window_ms {
            AttemptEnd::Dead
        } else {
            let delay = i64::try_from(backoff(delivery.attempts).as_millis()).unwrap_or(0);
            AttemptEnd::RetryAt(now + delay)
        };
        let attempt = AttemptRow {
            domain_id: delivery.domain_id.clone(),
            webhook_id: delivery.webhook_id.clone(),
            event_id: delivery.event_id.clone(),
            attempt: delivery.attempts,
            status_code: outcome.status_code,
            latency_ms: outcome.latency_ms,
            error: outcome.error.clone(),
            at: now,
        };
        let dead = end == AttemptEnd::Dead;
        let counted = match (&end, outcome.refused) {
            (AttemptEnd::Delivered, _) => Delivery::Delivered,
            (AttemptEnd::Dead, _) => Delivery::DeadLettered,
            (_, true) => Delivery::Refused,
            _ => Delivery::Failed,
        };
        self.store.finish_attempt(&delivery, &attempt, end).await?;
        self.metrics.webhook_delivery(counted);
        if dead {
            self.disable_failing_webhook(&hook, now).await?;
        }
        Ok(())
    }

    /// Disables a webhook whose delivery failed for the whole retry window, and says so in
    /// its domain's audit log.
    async fn disable_failing_webhook(&self, hook: &WebhookRow, now: i64) -> Result<()> {
        let reason = "deliveries failed for the whole retry window";
        if !self
            .store
            .disable_webhook(&hook.domain_id, &hook.webhook_id, reason, now)
            .await?
        {
            return Ok(());
        }
        tracing::warn!(
            domain_id = hook.domain_id,
            webhook_id = hook.webhook_id,
            "a failing webhook was disabled"
        );
        let record = AuditRow {
            log_id: crate::audit::next_log_id(),
            domain_id: hook.domain_id.clone(),
            acted_at: now,
            actor_id: String::new(),
            actor_type: "system".into(),
            action: "webhook.disable".into(),
            target_type: "webhook".into(),
            target_id: hook.webhook_id.clone(),
            request_id: String::new(),
            client_ip: String::new(),
            outcome: crate::audit::SUCCESS.into(),
            error_code: String::new(),
            detail: serde_json::json!({ "reason": reason }).to_string(),
        };
        self.store.append_audit(vec![record]).await
    }

    /// The webhook queue's state, for the metrics.
    pub(crate) async fn webhook_queue_state(&self) -> crate::metrics::WebhookQueueState {
        match self.store.queue_state().await {
            Ok(q) => crate::metrics::WebhookQueueState {
                backlog: q.backlog,
                oldest_age_s: if q.oldest_event_at > 0 {
                    (self.clock.now_ms() - q.oldest_event_at).max(0) / 1000
                } else {
                    0
                },
                dead_letters: q.dead,
            },
            Err(_) => crate::metrics::WebhookQueueState::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_growing_at_an_hour() {
        let first = backoff(1);
        assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6));
        let third = backoff(3);
        assert!(third >= Duration::from_secs(16) && third <= Duration::from_secs(24));
        assert!(backoff(40) <= Duration::from_secs(4320));
        assert!(backoff(40) >= Duration::from_secs(2880));
    }
}
