//! Prometheus metrics: one registry per server (tests start many servers in one process),
//! served as text at `/metrics` (and, with `--metrics-listen`, on an address of its own).
//!
//! Every label takes values from a closed set (a dialect, a route template of the router, a
//! status code, an outcome, a grant): no user ids, paths or other unbounded values.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `pds`, `eds`, `koodrive`, `browse` or `roster` (health, metrics, OpenAPI).
    pub dialect: &'static str,
    /// The route template that matched (`/v2/user/create`), or `unmatched`.
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub dialect: &'static str,
    pub route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabels {
    pub grant: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `reader`, `writer` (SQLite) or `main` (PostgreSQL).
    pub pool: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// How a sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    Success,
    /// Unknown identity, wrong password, disabled user: one answer to the caller.
    InvalidCredentials,
    /// Refused because the identity or user is locked out.
    LockedOut,
    /// Refused for another reason (bad input, store failure).
    Error,
}

impl SignIn {
    fn label(self) -> &'static str {
        match self {
            SignIn::Success => "success",
            SignIn::InvalidCredentials => "invalid_credentials",
            SignIn::LockedOut => "locked_out",
            SignIn::Error => "error",
        }
    }
}

/// How one webhook delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// A non-2xx answer, a timeout or a connection failure; it will be retried.
    Failed,
    /// Given up: moved to the dead-letter list.
    DeadLettered,
    /// The URL resolved to an address the SSRF guard refuses.
    Refused,
}

impl Delivery {
    fn label(self) -> &'static str {
        match self {
            Delivery::Delivered => "delivered",
            Delivery::Failed => "failed",
            Delivery::DeadLettered => "dead_lettered",
            Delivery::Refused => "refused",
        }
    }
}

/// The server's metrics and the registry that serves them.
pub struct Metrics {
    /// The route templates seen, each kept once for the life of the process: a label
    /// without a new string per request (the set is bounded by the router's routes).
    route_names: std::sync::RwLock<std::collections::HashSet<&'static str>>,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    sign_ins: Family<OutcomeLabels, Counter>,
    lockouts: Counter,
    tokens_issued: Family<GrantLabels, Counter>,
    pool_connections: Family<PoolLabels, Gauge<i64, AtomicI64>>,
    pool_in_use: Family<PoolLabels, Gauge<i64, AtomicI64>>,
    pool_waits: Family<PoolLabels, Counter>,
    pool_wait_seconds: Family<PoolLabels, Counter<f64, AtomicU64>>,
    event_rows: Gauge<i64, AtomicI64>,
    audit_rows: Gauge<i64, AtomicI64>,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    webhook_backlog: Gauge<i64, AtomicI64>,
    webhook_oldest_age: Gauge<i64, AtomicI64>,
    webhook_dead_letters: Gauge<i64, AtomicI64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// A snapshot of a connection pool, read when metrics are scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolState {
    pub pool: &'static str,
    pub connections: u32,
    pub idle: u32,
    /// Write transactions that found no free connection and waited, since the start.
    pub waits: u64,
    /// Their waits added up.
    pub wait_seconds: f64,
}

/// Rows the store keeps, read when metrics are scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowCounts {
    pub events: i64,
    pub audit_records: i64,
}

/// The webhook queue, read when metrics are scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookQueueState {
    /// Deliveries waiting (first attempt or retry).
    pub backlog: i64,
    /// Seconds since the oldest waiting delivery's event happened (0: none waits).
    pub oldest_age_s: i64,
    pub dead_letters: i64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("roster");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by dialect, route template and status",
            requests.clone(),
        );
        let request_seconds =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by dialect and route template",
            request_seconds.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Password sign-ins, by outcome",
            sign_ins.clone(),
        );
        let lockouts = Counter::default();
        registry.register(
            "lockouts",
            "Account identities or users locked out after failed password checks",
            lockouts.clone(),
        );
        let tokens_issued = Family::<GrantLabels, Counter>::default();
        registry.register(
            "tokens_issued",
            "Access tokens issued, by grant",
            tokens_issued.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "store_pool_connections",
            "Open connections of a store pool",
            pool_connections.clone(),
        );
        let pool_in_use = Family::<PoolLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "store_pool_connections_in_use",
            "Connections of a store pool currently lent out",
            pool_in_use.clone(),
        );
        let pool_waits = Family::<PoolLabels, Counter>::default();
        registry.register(
            "store_pool_waits",
            "Write transactions that found no free connection of a store pool and waited",
            pool_waits.clone(),
        );
        let pool_wait_seconds = Family::<PoolLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "store_pool_wait_seconds",
            "Time write transactions waited for a connection of a store pool",
            pool_wait_seconds.clone(),
        );
        let event_rows = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "event_rows",
            "Change events kept (the feed, within its retention); an estimate from each domain's sequence span, not a count",
            event_rows.clone(),
        );
        let audit_rows = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "audit_rows",
            "Audit records kept (within their retention); an estimate (SQLite: rowid span; PostgreSQL: table statistics), not a count",
            audit_rows.clone(),
        );
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome",
            webhook_deliveries.clone(),
        );
        let webhook_backlog = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_backlog",
            "Webhook deliveries waiting to be made or retried",
            webhook_backlog.clone(),
        );
        let webhook_oldest_age = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_oldest_undelivered_age_seconds",
            "Age of the oldest event still waiting for delivery",
            webhook_oldest_age.clone(),
        );
        let webhook_dead_letters = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_dead_letters",
            "Webhook deliveries given up and kept in the dead-letter list",
            webhook_dead_letters.clone(),
        );
        Metrics {
            route_names: Default::default(),
            registry,
            requests,
            request_seconds,
            sign_ins,
            lockouts,
            tokens_issued,
            pool_connections,
            pool_in_use,
            pool_waits,
            pool_wait_seconds,
            event_rows,
            audit_rows,
            webhook_deliveries,
            webhook_backlog,
            webhook_oldest_age,
            webhook_dead_letters,
        }
    }

    /// The label of a route template: the same `&'static str` for every request to it.
    pub fn route_label(&self, route: &str) -> &'static str {
        if let Ok(names) = self.route_names.read() {
            if let Some(name) = names.get(route) {
                return name;
            }
        }
        let Ok(mut names) = self.route_names.write() else {
            return "unmatched";
        };
        if let Some(name) = names.get(route) {
            return name;
        }
        // Leaked on purpose, once per route template of the router (a bounded set).
        let name: &'static str = Box::leak(route.to_owned().into_boxed_str());
        names.insert(name);
        name
    }

    /// Counts one answered request.
    pub fn observe_request(
        &self,
        dialect: &'static str,
        route: &'static str,
        status: u16,
        seconds: f64,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                dialect,
                route,
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels { dialect, route })
            .observe(seconds);
    }

    pub fn sign_in(&self, outcome: SignIn) {
        self.sign_ins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    pub fn lockout(&self) {
        self.lockouts.inc();
    }

    /// Counts an issued token; `grant` is one of a fixed set named in the code.
    pub fn token_issued(&self, grant: &'static str) {
        self.tokens_issued
            .get_or_create(&GrantLabels { grant })
            .inc();
    }

    pub fn webhook_delivery(&self, outcome: Delivery) {
        self.webhook_deliveries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// The text exposition of every metric, with the pools and the webhook queue as they
    /// are now.
    pub fn encode(&self, pools: &[PoolState], rows: RowCounts, queue: WebhookQueueState) -> String {
        for pool in pools {
            let labels = PoolLabels { pool: pool.pool };
            self.pool_connections
                .get_or_create(&labels)
                .set(i64::from(pool.connections));
            self.pool_in_use
                .get_or_create(&labels)
                .set(i64::from(pool.connections.saturating_sub(pool.idle)));
            // The store keeps totals; the counters move by what they grew since the last
            // scrape.
            let waits = self.pool_waits.get_or_create(&labels);
            waits.inc_by(pool.waits.saturating_sub(waits.get()));
            let waited = self.pool_wait_seconds.get_or_create(&labels);
            let grown = pool.wait_seconds - waited.get();
            if grown > 0.0 {
                waited.inc_by(grown);
            }
        }
        self.event_rows.set(rows.events);
        self.audit_rows.set(rows.audit_records);
        self.webhook_backlog.set(queue.backlog);
        self.webhook_oldest_age.set(queue.oldest_age_s);
        self.webhook_dead_letters.set(queue.dead_letters);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The dialect a request belongs to, for the `dialect` label: eds-user is the RPC at
/// `POST /`; the browsable pages are the other requests that `browse` routes.
pub fn dialect_of(is_post: bool, route: &str) -> &'static str {
    if route.starts_with("/v2/") {
        "pds"
    } else if route.starts_with("/koodrive/") {
        "koodrive"
    } else if route == "/" && is_post {
        "eds"
    } else if route == "/" || route.starts_with("/docs") || route.starts_with("/assets/") {
        "browse"
    } else {
        "roster"
    }
}

/// Shared handle.
pub type SharedMetrics = Arc<Metrics>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_template_is_one_label_string_for_every_request() {
        let metrics = Metrics::new();
        let first = metrics.route_label("/v2/user/get");
        let again = metrics.route_label(&String::from("/v2/user/get"));
        assert_eq!(first, "/v2/user/get");
        assert!(
            std::ptr::eq(first, again),
            "kept once, not made per request"
        );
        let other = metrics.route_label("/v2/user/list");
        assert_eq!(other, "/v2/user/list");
        assert!(!std::ptr::eq(first, other));
    }

    #[test]
    fn the_text_format_names_every_family_and_moves() {
        let metrics = Metrics::new();
        metrics.observe_request("pds", "/v2/user/get", 200, 0.01);
        metrics.sign_in(SignIn::Success);
        metrics.token_issued("password");
        let text = metrics.encode(
            &[PoolState {
                pool: "main",
                connections: 3,
                idle: 1,
                waits: 4,
                wait_seconds: 0.5,
            }],
            RowCounts {
                events: 7,
                audit_records: 9,
            },
            WebhookQueueState::default(),
        );
        assert!(text.contains("roster_store_pool_waits_total{pool=\"main\"} 4"));
        assert!(text.contains("roster_event_rows 7"));
        assert!(text.contains("roster_audit_rows 9"));
        assert!(text.contains(
            "roster_http_requests_total{dialect=\"pds\",route=\"/v2/user/get\",status=\"200\"} 1"
        ));
        assert!(text.contains("roster_sign_ins_total{outcome=\"success\"} 1"));
        assert!(text.contains("roster_store_pool_connections_in_use{pool=\"main\"} 2"));
        assert!(text.ends_with("# EOF\n"));
    }
}
