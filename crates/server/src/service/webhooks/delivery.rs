//! The delivery worker, inside `roster serve` on every replica: it queues each enabled
//! webhook's new events (following the domain's commit-ordered `seq`), claims due
//! deliveries (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so replicas share the work), and
//! sends them signed. At least once: a delivery is marked done only after a 2xx answer; one
//! whose worker died is claimed again when its claim runs out. Events of one object reach a
//! webhook in the order they happened: none is claimed while an earlier one of the same
//! object still pends. Failures are retried with exponential backoff and jitter for the retry
//! window (over a day by default); then the delivery goes to the dead-letter list and the
//! webhook is disabled, with an audit record saying so. Memory is bounded by the batch size.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::watch;

use super::guard::{check_url, GuardedResolver};
use super::seal::SecretSeal;
use super::{sign, WebhookSettings};
use crate::error::{Error, Result};
use crate::metrics::Delivery;
use crate::model::DomainId;
use crate::service::events::ChangeEvent;
use crate::service::Services;
use crate::store::audit_log::AuditRow;
use crate::store::events::EventRow;
use crate::store::webhooks::{AttemptEnd, AttemptRow, FinishedAttempt, WebhookRow};

// Deliveries claimed at once: the store's `delivery_batch` (500 on PostgreSQL, 100 on
// SQLite). A round costs a few statements whatever its size (the queue's fill, the claim,
// one read of the events per domain, one transaction recording every attempt), three of them
// commits, so a larger batch is fewer statements and commits per delivery where a commit is
// dear. Memory stays bounded by the batch (its events' objects, a few hundred KB).

/// At most this many of a batch's deliveries in flight at once (so at most as many
/// connections to one receiver).
const IN_FLIGHT: usize = 100;
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
        match self.prepare(hook).await {
            Ok(ready) => self.post(&ready, id, timestamp, body.to_owned()).await,
            Err(refused) => refused,
        }
    }

    /// Opens the webhook's key and checks its URL (after DNS resolution): once for all the
    /// deliveries of a round to that webhook. `Err` is every one's outcome.
    pub async fn prepare(&self, hook: &WebhookRow) -> std::result::Result<Ready, AttemptOutcome> {
        let started = Instant::now();
        let Some(key) = self
            .seal
            .open(&hook.domain_id, &hook.webhook_id, &hook.secret)
        else {
            return Err(AttemptOutcome {
                delivered: false,
                status_code: 0,
                latency_ms: 0,
                error: "the webhook's secret was sealed under another key".into(),
                refused: false,
            });
        };
        if let Err(problem) = check_url(&hook.url, self.allow_private).await {
            return Err(AttemptOutcome {
                delivered: false,
                status_code: 0,
                latency_ms: elapsed_ms(started),
                error: problem,
                refused: true,
            });
        }
        Ok(Ready {
            url: hook.url.clone(),
            key,
        })
    }

    /// Posts one signed delivery to a prepared webhook (over the client's pool of kept-alive
    /// connections).
    pub async fn post(&self, to: &Ready, id: &str, timestamp: i64, body: String) -> AttemptOutcome {
        let started = Instant::now();
        let answer = self
            .client
            .post(&to.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sign(&to.key, id, timestamp, &body))
            .body(body)
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status();
                AttemptOutcome {
                    delivered: status.is_success(),
                    status_code: i64::from(status.as_u16()),
                    latency_ms: elapsed_ms(started),
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
                latency_ms: elapsed_ms(started),
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

/// A webhook ready for deliveries: its URL checked, its key opened.
pub struct Ready {
    url: String,
    key: String,
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(0)
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
    /// The batch is sent concurrently, [`IN_FLIGHT`] at a time (events of one object are
    /// never in one batch together: the claim holds back an event while an earlier one of
    /// its object pends), and its store work is a few statements whatever its size: the
    /// claim, one read of the events per domain, one transaction recording every attempt.
    async fn webhook_round(&self, sender: &Sender) -> Result<bool> {
        let now = self.clock.now_ms();
        let batch = self.store.delivery_batch();
        let mut queued = 0;
        let hooks = self.store.enabled_webhooks().await?;
        for hook in &hooks {
            // More than a batch, so the queue keeps ahead.
            queued += self.store.enqueue_deliveries(hook, 2 * batch, now).await?;
        }
        let claim_ms = i64::try_from(CLAIM_FOR.as_millis()).unwrap_or(60_000);
        let claimed = self
            .store
            .claim_deliveries(now, now + claim_ms, batch)
            .await?;
        if claimed.is_empty() {
            return Ok(queued > 0);
        }
        let mut seqs: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for d in &claimed {
            seqs.entry(d.domain_id.as_str())
                .or_default()
                .push(d.event_seq);
        }
        let mut events: HashMap<(String, i64), EventRow> = HashMap::new();
        for (domain_id, seqs) in seqs {
            for event in self.store.events_by_seq(domain_id, &seqs).await? {
                events.insert((event.domain_id.clone(), event.seq), event);
            }
        }
        type HookKey = (String, String);
        let mut ready: HashMap<HookKey, (WebhookRow, std::result::Result<Ready, AttemptOutcome>)> =
            HashMap::new();
        for d in &claimed {
            let key = (d.domain_id.clone(), d.webhook_id.clone());
            if ready.contains_key(&key) {
                continue;
            }
            let known = hooks
                .iter()
                .find(|h| h.domain_id == d.domain_id && h.webhook_id == d.webhook_id)
                .cloned();
            let hook = match known {
                Some(hook) => Some(hook),
                None => {
                    self.store
                        .webhook(&DomainId::from(&d.domain_id), &d.webhook_id)
                        .await?
                }
            };
            // A webhook deleted meanwhile: its deliveries are left to their claims' end.
            if let Some(hook) = hook {
                let prepared = sender.prepare(&hook).await;
                ready.insert(key, (hook, prepared));
            }
        }
        let attempts = claimed.into_iter().filter_map(|delivery| {
            let key = (delivery.domain_id.clone(), delivery.webhook_id.clone());
            let (hook, prepared) = ready.get(&key)?;
            let event = events.remove(&(delivery.domain_id.clone(), delivery.event_seq));
            Some(async move {
                let outcome = match (prepared, event) {
                    (Err(refused), _) => refused.clone(),
                    (Ok(to), Some(event)) => {
                        match serde_json::to_string(&ChangeEvent::from(event)) {
                            Ok(body) => {
                                let now = self.clock.now_ms();
                                sender.post(to, &delivery.event_id, now / 1000, body).await
                            }
                            Err(e) => AttemptOutcome {
                                delivered: false,
                                status_code: 0,
                                latency_ms: 0,
                                error: format!("the event could not be written: {e}"),
                                refused: false,
                            },
                        }
                    }
                    // Past the events' retention: nothing left to send.
                    (Ok(_), None) => AttemptOutcome {
                        delivered: false,
                        status_code: 0,
                        latency_ms: 0,
                        error: "the event is no longer kept".into(),
                        refused: false,
                    },
                };
                (delivery, hook, outcome)
            })
        });
        let done: Vec<_> = futures_util::stream::iter(attempts)
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let now = self.clock.now_ms();
        let window_ms = i64::try_from(self.webhooks.retry_window.as_millis()).unwrap_or(i64::MAX);
        let mut finished = Vec::with_capacity(done.len());
        let mut counted = Vec::with_capacity(done.len());
        let mut gave_up: Vec<&WebhookRow> = Vec::new();
        for (delivery, hook, outcome) in done {
            let end = if outcome.delivered {
                AttemptEnd::Delivered
            } else if now.saturating_sub(delivery.queued_at) >= window_ms {
                AttemptEnd::Dead
            } else {
                let delay = i64::try_from(backoff(delivery.attempts).as_millis()).unwrap_or(0);
                AttemptEnd::RetryAt(now + delay)
            };
            counted.push(match (&end, outcome.refused) {
                (AttemptEnd::Delivered, _) => Delivery::Delivered,
                (AttemptEnd::Dead, _) => Delivery::DeadLettered,
                (_, true) => Delivery::Refused,
                _ => Delivery::Failed,
            });
            if end == AttemptEnd::Dead && !gave_up.iter().any(|h| std::ptr::eq(*h, hook)) {
                gave_up.push(hook);
            }
            let attempt = AttemptRow {
                domain_id: delivery.domain_id.clone(),
                webhook_id: delivery.webhook_id.clone(),
                event_id: delivery.event_id.clone(),
                attempt: delivery.attempts,
                status_code: outcome.status_code,
                latency_ms: outcome.latency_ms,
                error: outcome.error,
                at: now,
            };
            finished.push(FinishedAttempt {
                delivery,
                attempt,
                end,
            });
        }
        self.store.finish_attempts(&finished).await?;
        for outcome in counted {
            self.metrics.webhook_delivery(outcome);
        }
        for hook in gave_up {
            self.disable_failing_webhook(hook, now).await?;
        }
        Ok(true)
    }

    /// Disables a webhook whose delivery failed for the whole retry window, and says so in
    /// its domain's audit log.
    async fn disable_failing_webhook(&self, hook: &WebhookRow, now: i64) -> Result<()> {
        let reason = "deliveries failed for the whole retry window";
        if !self
            .store
            .disable_webhook(
                &DomainId::from(&hook.domain_id),
                &hook.webhook_id,
                reason,
                now,
            )
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
