//! HTTP: the router, per-request middleware (request id, access log, body limit), and the
//! dialects. Handlers parse, call one service function, and shape the answer.

pub mod browse;
pub mod console;
pub mod eds;
pub mod koodrive;
pub mod oidc;
pub mod openapi;
pub mod pds;
pub mod scim;
pub mod signin;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::audit::Trail;
use crate::service::{Actor, Services};

/// Largest request body accepted; larger ones are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub const REQUEST_ID_HEADER: &str = "x-ca-request-id";

tokio::task_local! {
    /// The id of the request being served, for error bodies and logs.
    pub static REQUEST_ID: String;
}

tokio::task_local! {
    /// Who the request turned out to be from, once a dialect authenticated it, for its
    /// access-log line.
    static CALLER: std::sync::OnceLock<String>;
}

/// The current request's id, or `""` outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Notes who the current request is from (`user@domain`), for its access-log line. Every
/// dialect calls it where it has authenticated the caller.
pub(crate) fn note_caller(actor: &crate::service::Actor) {
    let _ = CALLER.try_with(|caller| caller.set(format!("{}@{}", actor.user_id, actor.domain_id)));
}

/// The audit trail of a request, which [`request_context`] puts in its extensions.
pub(crate) fn request_trail(extensions: &axum::http::Extensions) -> Trail {
    extensions.get::<Trail>().cloned().unwrap_or_default()
}

/// `actor` making the request whose extensions these are: every dialect calls this where it
/// has authenticated the caller, so the services note its changes on the request's trail.
pub(crate) fn in_request(actor: Actor, extensions: &axum::http::Extensions) -> Actor {
    actor.in_request(request_trail(extensions))
}

/// The request's audit trail, for handlers of anonymous flows (logins, password resets).
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Trail {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(request_trail(&parts.extensions))
    }
}

/// The error a response answers, carried on it to the request middleware; never sent.
#[derive(Debug, Clone)]
pub(crate) struct AnsweredError {
    /// The code in the dialect's words (PDS `NotFound.User`, eds `EntityNotExist.User`,
    /// KooDrive `13000309`), for the access log.
    code: String,
    /// The failure in the audit log's dialect-neutral words (`NotFound.User`), when a core
    /// error is answered: the request's records still unwritten when it ends failed with it.
    audit_code: Option<String>,
}

/// Marks `response` as answering the dialect's error `code`, and the core error `e` behind
/// it if there is one. Every dialect's error answer calls this once.
pub(crate) fn note_error(
    response: &mut Response,
    code: impl Into<String>,
    e: Option<&crate::error::Error>,
) {
    response.extensions_mut().insert(AnsweredError {
        code: code.into(),
        audit_code: e.map(crate::error::Error::audit_code),
    });
}

#[derive(Clone)]
pub struct AppState {
    /// Shared, not copied: axum clones the state for every request (and for each extractor
    /// that takes it), and a copy of `Services` was a dozen reference counts and strings
    /// cloned and dropped each time (~10% of a `/healthz`'s server CPU).
    pub services: Arc<Services>,
    /// The operator domain (readiness reads it; routing is `services.routing`).
    pub default_domain: Arc<str>,
    /// How many of the operator's proxies append to `X-Forwarded-For` (0: the header is not
    /// trusted, and audit records take the connection's peer address).
    pub trusted_proxy_hops: usize,
    /// Serve `/metrics` on the main address (off when `--metrics-listen` names another).
    pub metrics_here: bool,
}

impl AppState {
    /// The domain a request names through `Host`, by the operator's routing
    /// ([`crate::service::tenancy`]): `<label>.<base-domain>` names `<label>`, known or not;
    /// anything else names none (the caller's credential decides, or, to log in, the
    /// `domain_id` field or the operator domain). Asks no store, so it tells nothing about
    /// which domains exist.
    pub async fn host_domain(&self, headers: &HeaderMap) -> crate::error::Result<Option<String>> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        Ok(self.services.routing.domain_of_host(host))
    }
}

impl AppState {
    /// The public base URL of this server for a request: the request's domain's, from
    /// `--public-url` (with `Host` routing, each domain has its own), else `http://<Host>`.
    /// The OpenID Connect issuer and the origin of the pages.
    pub fn public_base(&self, headers: &HeaderMap) -> String {
        if self.services.public_url.is_some() {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            let routing = &self.services.routing;
            let domain = routing
                .domain_of_host(host)
                .unwrap_or_else(|| routing.default_domain().to_owned());
            if let Some(base) = self.services.public_base_of(&domain) {
                return base;
            }
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }
}

/// An audit log export as a CSV download (the API's `/v2/audit_log/download` and the
/// console's export). Pages are read as the client takes them, so an export of any size
/// holds one page.
pub(crate) fn csv_download(
    file_name: &str,
    export: crate::service::audit_log::AuditExport,
) -> Response {
    let chunks = futures_util::stream::try_unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Ok(Some((chunk, export))),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "audit export failed while streaming");
                Err(std::io::Error::other("audit export failed"))
            }
        }
    });
    let disposition = format!("attachment; filename=\"{file_name}\"");
    let mut response = axum::body::Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Every header whose value is text, names lower-cased, for the signature verifiers (which
/// compare names case-insensitively anyway and need the exact values).
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_owned(),
            ))
        })
        .collect()
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::serve))
        .route("/.well-known/jwks.json", get(jwks))
        .merge(pds::router())
        .merge(eds::router())
        .merge(koodrive::router())
        .merge(browse::router())
        .merge(signin::router())
        .merge(console::router())
        .merge(oidc::router())
        .merge(scim::router())
        .fallback(fallback)
        .method_not_allowed_fallback(pds::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            pds::auth::signed_requests,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .with_state(state)
}

/// What a failed request's unwritten audit records fail with: the error the response
/// answers, or, for a failure no service error explains, its HTTP status. `None` for a
/// request that did not fail.
fn audit_failure(response: &Response) -> Option<String> {
    let status = response.status();
    let answered = response
        .extensions()
        .get::<AnsweredError>()
        .and_then(|answered| answered.audit_code.clone());
    match answered {
        Some(code) => Some(code),
        None if status.is_client_error() || status.is_server_error() => {
            Some(format!("HTTP{}", status.as_u16()))
        }
        None => None,
    }
}

/// Unknown paths: in KooDrive's envelope under `/koodrive/`, else PDS's JSON 404.
async fn fallback(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/koodrive/") {
        koodrive::not_found().await
    } else if uri.path().starts_with("/scim/") {
        scim::not_found().await
    } else {
        pds::not_found(uri).await.into_response()
    }
}

/// Gives each request an id (header `x-ca-request-id`, error bodies, logs) and an audit
/// trail, writes the audit records its changes did not write, and writes one access-log line
/// when it is answered.
async fn request_context(
    State(app): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = format!("{:032X}", rand::random::<u128>());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // The route template, never the path itself: a metric label takes a bounded set of values.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| {
            app.services.metrics.route_label(m.as_str())
        });
    let client_ip = client_address(&request, app.trusted_proxy_hops);
    let trail = Trail::new(request_id.clone(), client_ip, app.services.clock.clone());
    request.extensions_mut().insert(trail.clone());
    let serve = CALLER.scope(
        std::sync::OnceLock::new(),
        REQUEST_ID.scope(request_id.clone(), async move {
            let response = next.run(request).await;
            let caller = CALLER.with(|caller| caller.get().cloned());
            (response, caller)
        }),
    );
    let (mut response, caller) = serve.await;
    let failure = audit_failure(&response);
    crate::audit::write_leftovers(app.services.store.as_ref(), &trail, failure.as_deref()).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    add_security_headers(response.headers_mut());
    let error_code = response
        .extensions()
        .get::<AnsweredError>()
        .map(|answered| answered.code.as_str())
        .filter(|_| response.status().is_client_error() || response.status().is_server_error());
    app.services.metrics.observe_request(
        crate::metrics::dialect_of(method == axum::http::Method::POST, route),
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    tracing::info!(
        target: "roster::access",
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = rounded_ms(started.elapsed()),
        caller = caller.as_deref().unwrap_or("-"),
        error_code = error_code.unwrap_or("-"),
        request_id,
        "request"
    );
    response
}

/// Milliseconds with two decimals (`0.47`): what a person reads in a log line.
fn rounded_ms(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 100_000.0).round() / 100.0
}

/// The address a request came from: the connection's peer, or, behind `hops` trusted
/// proxies, the `X-Forwarded-For` entry `hops` places from the right (the address the
/// outermost trusted proxy saw; entries left of it are whatever the client sent). `""` when
/// unknown.
fn client_address(request: &Request, hops: usize) -> String {
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if let Some(ip) = forwarded_client(&forwarded, hops) {
        return ip.to_string();
    }
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_default()
}

/// The entry `hops` places from the right of an `X-Forwarded-For` list, if there is one and
/// it is an address (none when `hops` is 0: the header is not trusted).
fn forwarded_client(forwarded: &str, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return None;
    }
    let entries: Vec<&str> = forwarded.split(',').map(str::trim).collect();
    let index = entries.len().checked_sub(hops)?;
    entries[index].parse().ok()
}

/// Headers every answer carries: an API answer is never sniffed, framed, cached or given a
/// referrer, whatever a browser makes of it. (HSTS belongs to the TLS terminator in front.)
fn add_security_headers(headers: &mut HeaderMap) {
    const SECURITY_HEADERS: [(&str, &str); 5] = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("cache-control", "no-store"),
    ];
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
}

/// Cross-origin access for browsers: off unless origins are configured, then allowed only
/// for those origins, with the headers PDS clients send.
pub fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::Method;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("x-acs-bearer-token"),
            ])
            .expose_headers([header::HeaderName::from_static(REQUEST_ID_HEADER)]),
    )
}

/// The public keys of Roster's token signing key, for services that verify its tokens.
async fn jwks(State(app): State<AppState>) -> Response {
    match app.services.jwks().await {
        Ok(set) => Json(set).into_response(),
        Err(e) => pds::PdsError(e).into_response(),
    }
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the store answers with a current schema and the server is not draining;
/// otherwise 503 with the reason (`draining`, `store_unreachable`, `migrations_pending`).
async fn readyz(State(app): State<AppState>) -> Response {
    let readiness = app.services.readiness().await;
    if readiness == crate::service::operations::Readiness::Ready {
        return Json(serde_json::json!({ "status": "ok" })).into_response();
    }
    let body = roster_api::ErrorBody {
        code: "ServiceUnavailable".into(),
        message: format!("not ready: {}", readiness.reason()),
        request_id: current_request_id(),
    };
    (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// The metrics in Prometheus's text format (on the main address unless `--metrics-listen`
/// names another).
async fn metrics(State(app): State<AppState>) -> Response {
    if !app.metrics_here {
        return pds::not_found(axum::http::Uri::from_static("/metrics"))
            .await
            .into_response();
    }
    metrics_answer(&app.services).await
}

async fn metrics_answer(services: &Services) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        services.metrics_text().await,
    )
        .into_response()
}

/// The router of the `--metrics-listen` address: `/metrics` alone.
pub fn metrics_router(services: Services) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(services): State<Services>| async move { metrics_answer(&services).await }),
        )
        .with_state(services)
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;

    #[test]
    fn the_client_address_is_counted_from_the_right() {
        let ip = |s: &str| Some(s.parse().unwrap());
        // The client wrote the first entry; the one trusted proxy appended the second.
        assert_eq!(forwarded_client("6.6.6.6, 1.2.3.4", 1), ip("1.2.3.4"));
        assert_eq!(
            forwarded_client("6.6.6.6, 1.2.3.4, 10.0.0.1", 2),
            ip("1.2.3.4")
        );
        assert_eq!(forwarded_client("1.2.3.4", 1), ip("1.2.3.4"));
        // Fewer entries than proxies, an empty header, no trust, or garbage: no address.
        assert_eq!(forwarded_client("1.2.3.4", 2), None);
        assert_eq!(forwarded_client("", 1), None);
        assert_eq!(forwarded_client("1.2.3.4", 0), None);
        assert_eq!(forwarded_client("1.2.3.4, nonsense", 1), None);
    }
}
