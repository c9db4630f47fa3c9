//! HTTP: the router, per-request middleware (request id, access log, body limit), and the
//! dialects. Handlers parse, call one service function, and shape the answer.

pub mod browse;
pub mod eds;
pub mod koodrive;
pub mod openapi;
pub mod pds;

use std::net::IpAddr;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::service::{random_hex, Services};

/// Largest request body accepted; larger ones are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub const REQUEST_ID_HEADER: &str = "x-ca-request-id";

tokio::task_local! {
    /// The id of the request being served, for error bodies and logs.
    pub static REQUEST_ID: String;
}

/// The current request's id, or `""` outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    /// The domain of requests whose `Host` names no known domain.
    pub default_domain: String,
    /// Whether audit records take the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

impl AppState {
    /// The domain a request names: the first label of `Host` when it is a known domain
    /// (`acme.api.example.com` → `acme`), else none (the caller's token decides, or, to log
    /// in, the default domain).
    pub async fn host_domain(&self, headers: &HeaderMap) -> crate::error::Result<Option<String>> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let Some(label) = domain_label(host) else {
            return Ok(None);
        };
        if label == self.default_domain {
            return Ok(Some(label.to_owned()));
        }
        Ok(self
            .services
            .store
            .domain(label)
            .await?
            .map(|domain| domain.domain_id))
    }
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

/// The first label of a host name that could name a domain; `None` for IP addresses,
/// `localhost` and single-label hosts.
fn domain_label(host: &str) -> Option<&str> {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let (first, rest) = name.split_once('.')?;
    (!first.is_empty() && !rest.is_empty() && rest != "localhost").then_some(first)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi::serve))
        .route("/.well-known/jwks.json", get(jwks))
        .merge(pds::router())
        .merge(eds::router())
        .merge(koodrive::router())
        .merge(browse::router())
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

/// Unknown paths: in KooDrive's envelope under `/koodrive/`, else PDS's JSON 404.
async fn fallback(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/koodrive/") {
        koodrive::not_found().await
    } else {
        pds::not_found(uri).await.into_response()
    }
}

/// Gives each request an id (header `x-ca-request-id`, error bodies, logs) and an audit
/// trail, writes the audit records its changes did not write, and writes one access-log line
/// when it is answered.
async fn request_context(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = random_hex(16).to_uppercase();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let client_ip = client_address(&request, app.trust_forwarded_for);
    let (mut response, mut unwritten) = crate::audit::scope(
        request_id.clone(),
        client_ip,
        REQUEST_ID.scope(request_id.clone(), next.run(request)),
    )
    .await;
    if !unwritten.is_empty() {
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            crate::audit::fail_unexplained(&mut unwritten, status.as_u16());
        }
        if let Err(e) = app.services.store.append_audit(unwritten).await {
            tracing::error!(error = %e, request_id, "could not write audit records");
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    add_security_headers(response.headers_mut());
    tracing::info!(
        target: "roster::access",
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id,
        "request"
    );
    response
}

/// The address a request came from: the connection's peer, or the first `X-Forwarded-For`
/// entry when a trusted proxy sets it. `""` when unknown.
fn client_address(request: &Request, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .and_then(|v| v.parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_default()
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
async fn jwks(State(app): State<AppState>) -> impl IntoResponse {
    Json(app.services.tokens.jwks())
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the store answers.
async fn readyz(State(app): State<AppState>) -> Response {
    match app.services.store.domain(&app.default_domain).await {
        Ok(_) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => pds::PdsError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::domain_label;

    #[test]
    fn domain_comes_from_the_first_label_of_a_name() {
        assert_eq!(domain_label("acme.api.example.com"), Some("acme"));
        assert_eq!(domain_label("acme.api.example.com:8080"), Some("acme"));
        assert_eq!(domain_label("127.0.0.1:8080"), None);
        assert_eq!(domain_label("[::1]:8080"), None);
        assert_eq!(domain_label("localhost:8080"), None);
        assert_eq!(domain_label("acme.localhost"), None);
    }
}
