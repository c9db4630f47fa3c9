//! The change-event scenarios (issue 21): the pull feed (`event/list`, pages of 100 from
//! random places in a feed the benchmark fills first) and webhook delivery to a receiver
//! this process serves: a backlog of `user.created` events is written while the webhook is
//! disabled, then the webhook is enabled and the time the worker takes to drain the backlog
//! to the receiver is measured (delivery alone, not writing).

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, Uri};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use crate::http::Connection;
use crate::load::{self, Measurement, Worker};
use crate::scenarios::{Target, PAGE_LIMIT};
use crate::seed::DOMAIN;

/// Users one `/v2/batch` request creates (the most a batch takes).
const USERS_PER_BATCH: u64 = 100;
/// How long the delivery scenario waits for the backlog to drain.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);
/// The events of a delivery run's backlog (the smoke run: a tenth).
pub const BACKLOG: u64 = 10_000;
/// Writers filling the backlog.
const BACKLOG_WRITERS: usize = 8;

/// The marker that continues after event number `seq` of the benchmark's domain, built as
/// Roster builds feed markers; `prepare_feed` checks one against the server.
pub fn feed_marker(seq: u64) -> String {
    let seq = seq.to_string();
    URL_SAFE_NO_PAD.encode(json!([DOMAIN, "seq", seq, seq]).to_string())
}

/// The body of `/v2/event/list` for the page after event `seq`.
pub fn feed_page(seq: u64) -> Value {
    json!({"limit": PAGE_LIMIT, "marker": feed_marker(seq)})
}

/// Creates `count` users named `<prefix><n>` from `first` on, with `/v2/batch`; answers
/// how many were created.
async fn create_users(
    target: &Target,
    connection: &mut Connection,
    prefix: &str,
    first: u64,
    count: u64,
) -> Result<u64, String> {
    let requests: Vec<Value> = (first..first + count)
        .map(|n| {
            let id = format!("{prefix}{n:011}");
            json!({"id": id, "method": "POST", "url": "/v2/user/create",
                   "body": {"user_id": id, "nick_name": format!("Event user {n}")}})
        })
        .collect();
    let body = json!({"resource": "user", "requests": requests});
    let answer = target
        .post_admin(connection, &Uri::from_static("/v2/batch"), &body)
        .await?;
    let answer: Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    let responses = answer["responses"].as_array().ok_or("no responses")?;
    let created = responses.iter().filter(|r| r["status"] == 201).count() as u64;
    if created < count {
        let refused = responses.iter().find(|r| r["status"] != 201);
        return Err(format!(
            "batch created {created} of {count} users: {refused:?}"
        ));
    }
    Ok(created)
}

/// Fills the feed for `event-list`: creates `users` users (at least one event each), then
/// reads the feed from its start to count the events, and checks that a page from a marker
/// the benchmark builds is a full page.
pub async fn prepare_feed(target: &Target, users: u64) -> anyhow::Result<()> {
    let mut connection = target.connect().await.map_err(anyhow::Error::msg)?;
    let mut made = 0;
    while made < users {
        let count = USERS_PER_BATCH.min(users - made);
        create_users(target, &mut connection, "vfeed", made, count)
            .await
            .map_err(anyhow::Error::msg)
            .context("filling the event feed")?;
        made += count;
    }
    let list = Uri::from_static("/v2/event/list");
    let (mut events, mut marker) = (0u64, String::new());
    loop {
        let body = json!({"limit": PAGE_LIMIT, "marker": marker});
        let page = target
            .post_admin(&mut connection, &list, &body)
            .await
            .map_err(anyhow::Error::msg)?;
        let page: Value = serde_json::from_slice(&page)?;
        let items = page["items"].as_array().map_or(0, Vec::len) as u64;
        if items == 0 {
            break;
        }
        events += items;
        marker = page["next_marker"].as_str().unwrap_or_default().to_owned();
    }
    anyhow::ensure!(
        events > PAGE_LIMIT,
        "the feed holds {events} events after {users} users were created: \
         is this a build without events (bench-no-events)?"
    );
    let page = target
        .post_admin(&mut connection, &list, &feed_page(events - PAGE_LIMIT))
        .await
        .map_err(anyhow::Error::msg)?;
    let page: Value = serde_json::from_slice(&page)?;
    let items = page["items"].as_array().map_or(0, Vec::len) as u64;
    anyhow::ensure!(
        items == PAGE_LIMIT,
        "the last full page of the feed holds {items} events, not {PAGE_LIMIT}"
    );
    target.feed_events.store(events, Ordering::Relaxed);
    Ok(())
}

/// The users of feed preparation: a tenth of the seeded users, 1,000 to 20,000.
pub fn feed_users(seeded: u64) -> u64 {
    (seeded / 10).clamp(1_000, 20_000)
}

/// What the receiver saw, and what the writers sent.
#[derive(Default)]
struct Tally {
    /// Every `webhook-id` received (a redelivery repeats one).
    ids: HashSet<String>,
    /// Deliveries this run: new ids of this run's users.
    delivered: u64,
    duplicates: u64,
    /// Deliveries without one of the Standard Webhooks headers, or not parsed.
    malformed: u64,
    first_problem: Option<String>,
    first: Option<Instant>,
    last: Option<Instant>,
    /// Per delivery: from sending the batch that made the user to receiving its event.
    lags_us: Vec<u32>,
    /// When each batch was sent, by number.
    sent: HashMap<u64, Instant>,
    /// The first batch number of the current run.
    run_from: u64,
}

/// A webhook receiver and the writers that feed it.
pub struct Hook {
    /// Set once the webhook is created (the receiver's URL is needed first).
    webhook_id: std::sync::OnceLock<String>,
    tally: Mutex<Tally>,
    next_batch: AtomicU64,
    created: AtomicU64,
}

impl Hook {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn problem(&self, problem: String) {
        let mut tally = self.tally();
        tally.malformed += 1;
        tally.first_problem.get_or_insert(problem);
    }

    /// One delivery: answers 200 whatever it holds (a refusal would make Roster retry);
    /// a delivery without the headers counts as an error.
    async fn receive(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let arrived = Instant::now();
        let headers = request.headers();
        let id = headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let signed = headers.contains_key("webhook-timestamp")
            && headers
                .get("webhook-signature")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("v1,"));
        let body = request.into_body().collect().await.map(|b| b.to_bytes());
        let event: Option<Value> = body.ok().and_then(|b| serde_json::from_slice(&b).ok());
        let user = event
            .as_ref()
            .and_then(|e| e["data"]["user_id"].as_str())
            .map(|u| u.strip_prefix("vhook").and_then(|n| n.parse::<u64>().ok()));
        match (id, signed, user) {
            // A user this scenario did not make (were the webhook to start from older events).
            (Some(_), true, Some(None)) => {}
            (Some(id), true, Some(Some(n))) => {
                let mut tally = self.tally();
                if !tally.ids.insert(id) {
                    tally.duplicates += 1;
                } else if n / USERS_PER_BATCH >= tally.run_from {
                    tally.delivered += 1;
                    tally.first.get_or_insert(arrived);
                    tally.last = Some(arrived);
                    if let Some(sent) = tally.sent.get(&u64::MAX).copied() {
                        let lag = arrived.saturating_duration_since(sent).as_micros();
                        tally.lags_us.push(u32::try_from(lag).unwrap_or(u32::MAX));
                    }
                }
            }
            (id, signed, _) => self.problem(format!(
                "a delivery with webhook-id {id:?}, signature headers {signed}, event {event:?}"
            )),
        }
        Response::new(Full::new(Bytes::new()))
    }
}

/// Serves the receiver on a free local port; answers its URL.
async fn serve_receiver(hook: Arc<Hook>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let hook = hook.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let hook = hook.clone();
                    async move { Ok::<_, Infallible>(hook.receive(request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(format!("http://{address}/hook"))
}

/// Starts a receiver and registers it as a webhook of `user.created` on the server.
pub async fn set_up_hook(target: &Target) -> anyhow::Result<Arc<Hook>> {
    let hook = Arc::new(Hook {
        webhook_id: std::sync::OnceLock::new(),
        tally: Mutex::default(),
        next_batch: AtomicU64::new(0),
        created: AtomicU64::new(0),
    });
    let url = serve_receiver(hook.clone()).await?;
    let mut connection = target.connect().await.map_err(anyhow::Error::msg)?;
    let body = json!({"url": url, "event_types": ["user.created"], "description": "roster-bench"});
    let answer = target
        .post_admin(
            &mut connection,
            &Uri::from_static("/v2/webhook/create"),
            &body,
        )
        .await
        .map_err(anyhow::Error::msg)
        .context("creating the benchmark's webhook (does the server allow private URLs?)")?;
    let answer: Value = serde_json::from_slice(&answer)?;
    let webhook_id = answer["webhook_id"]
        .as_str()
        .context("the created webhook's id")?;
    let _ = hook.webhook_id.set(webhook_id.to_owned());
    Ok(hook)
}

/// Enables or disables the benchmark's webhook.
async fn set_enabled(target: &Target, hook: &Hook, enabled: bool) -> anyhow::Result<()> {
    let mut connection = target.connect().await.map_err(anyhow::Error::msg)?;
    let webhook_id = hook.webhook_id.get().context("the webhook's id")?;
    let body = json!({"webhook_id": webhook_id, "enabled": enabled});
    target
        .post_admin(
            &mut connection,
            &Uri::from_static("/v2/webhook/update"),
            &body,
        )
        .await
        .map_err(anyhow::Error::msg)
        .context("updating the benchmark's webhook")?;
    Ok(())
}

/// A writer of the backlog: each call creates 100 users in one `/v2/batch`, until the
/// backlog is written.
struct HookWriter {
    target: Arc<Target>,
    connection: Connection,
    hook: Arc<Hook>,
    batches: u64,
}

impl Worker for HookWriter {
    async fn call(&mut self) -> Result<(), String> {
        let batch = self.hook.next_batch.fetch_add(1, Ordering::Relaxed);
        if batch >= self.batches {
            // The backlog is written: idle until the run ends.
            tokio::time::sleep(Duration::from_millis(10)).await;
            return Ok(());
        }
        let first = batch * USERS_PER_BATCH;
        let created = create_users(
            &self.target,
            &mut self.connection,
            "vhook",
            first,
            USERS_PER_BATCH,
        )
        .await?;
        self.hook.created.fetch_add(created, Ordering::Relaxed);
        Ok(())
    }
}

/// Writes a run's backlog with the webhook disabled: `events` users (one `user.created`
/// each) in batches of 100. Answers the number the run is to deliver.
pub async fn write_backlog(
    target: &Arc<Target>,
    hook: &Arc<Hook>,
    events: u64,
) -> anyhow::Result<u64> {
    set_enabled(target, hook, false).await?;
    let run_from = hook.next_batch.load(Ordering::Relaxed);
    let batches = run_from + events.div_ceil(USERS_PER_BATCH);
    {
        let mut tally = hook.tally();
        tally.run_from = run_from;
        tally.delivered = 0;
        tally.duplicates = 0;
        tally.malformed = 0;
        tally.first_problem = None;
        tally.first = None;
        tally.last = None;
        tally.lags_us.clear();
        tally.sent.clear();
    }
    hook.created.store(0, Ordering::Relaxed);
    let mut writers = Vec::with_capacity(BACKLOG_WRITERS);
    for _ in 0..BACKLOG_WRITERS {
        writers.push(HookWriter {
            target: target.clone(),
            connection: target.connect().await.map_err(anyhow::Error::msg)?,
            hook: hook.clone(),
            batches,
        });
    }
    // Run until every batch is taken (the writers then return at once).
    let started = Instant::now();
    while hook.next_batch.load(Ordering::Relaxed) < batches {
        let (writes, back) = load::run(writers, Duration::from_millis(500)).await;
        anyhow::ensure!(
            writes.errors == 0,
            "writing the backlog: {:?}",
            writes.first_error
        );
        anyhow::ensure!(
            started.elapsed() < DRAIN_TIMEOUT,
            "writing the backlog took too long"
        );
        writers = back;
    }
    hook.next_batch.store(batches, Ordering::Relaxed);
    Ok(hook.created.load(Ordering::Relaxed))
}

/// One run of the delivery scenario, after [`write_backlog`]: enables the webhook and waits
/// until the `expected` events have arrived. Its "requests" are deliveries, over the time
/// from the first to the last; latencies run from enabling the webhook to receiving each
/// event; errors are malformed deliveries and events that did not arrive within
/// [`DRAIN_TIMEOUT`]. The server CPU the caller measures around it is the delivery's.
pub async fn drain_run(
    target: &Arc<Target>,
    hook: &Arc<Hook>,
    expected: u64,
) -> anyhow::Result<Measurement> {
    hook.tally().sent.insert(u64::MAX, Instant::now());
    set_enabled(target, hook, true).await?;
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while hook.tally().delivered < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A moment for duplicates or strays to show.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut tally = hook.tally();
    tally.lags_us.sort_unstable();
    let seconds = match (tally.first, tally.last) {
        (Some(first), Some(last)) => (last - first).as_secs_f64(),
        _ => 0.0,
    };
    let missing = expected.saturating_sub(tally.delivered);
    let first_error = tally
        .first_problem
        .clone()
        .or_else(|| (missing > 0).then(|| format!("{missing} of {expected} events not delivered")));
    Ok(Measurement {
        concurrency: 1,
        requests: tally.delivered,
        errors: tally.malformed + missing,
        seconds,
        requests_per_second: tally.delivered as f64 / seconds.max(f64::EPSILON),
        p50_ms: load::percentile_ms(&tally.lags_us, 0.50),
        p99_ms: load::percentile_ms(&tally.lags_us, 0.99),
        server_cpu_seconds: 0.0,
        server_cpu_us_per_request: 0.0,
        generator_cpu_us_per_request: 0.0,
        first_error,
    })
}
