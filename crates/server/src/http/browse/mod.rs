//! What a person finds with a browser: the home page at `GET /` (a plain GET; one that names
//! an eds-user action is eds-user's call) and the API reference pages (Swagger UI, its files
//! embedded in the binary by `utoipa-swagger-ui`'s `vendored` feature: no CDN, no download).
//!
//! Every answer carries the security headers of [`super::add_security_headers`]; a page sets
//! its own `content-security-policy` first, allowing exactly what it loads, all from this
//! server.

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa_swagger_ui::{Config, Url};

use super::AppState;
use crate::error::{Error, Resource};

/// Where the API reference pages live; `{DOCS}/eds-user/` is eds-user's.
pub const DOCS: &str = "/docs";
/// The OpenAPI document of eds-user's RPC actions.
pub const EDS_USER_OPENAPI: &str = "/openapi/eds-user.json";

/// The home page and its stylesheet: nothing but files of this server, no script.
const HOME_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Swagger UI: its scripts and styles from this server, plus the one `<style>` element it
/// writes (the colours of its logo, allowed by hash); `data:` images (the icons its
/// stylesheet inlines); requests to this server only (the documents, "Try it out"). No
/// `unsafe-eval` and no `unsafe-inline`: the bundle runs without them.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'none'";

/// Swagger UI's files change only with Roster's version; a browser may keep them an hour.
const ASSET_CACHE: &str = "public, max-age=3600";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/assets/site.css", get(stylesheet))
        .route(EDS_USER_OPENAPI, get(eds_user_openapi))
        .route(DOCS, get(|| async { Redirect::permanent("/docs/") }))
        .route("/docs/", get(|| docs_file(String::new())))
        .route(
            "/docs/{*file}",
            get(|Path(file): Path<String>| docs_file(file)),
        )
}

/// `GET /`: eds-user's when the request names an action (eds-user takes GET as well as POST),
/// else the home page.
async fn root(State(app): State<AppState>, request: Request) -> Response {
    if super::eds::names_action(&request) {
        return super::eds::rpc(State(app), request).await;
    }
    page(home_page(), HOME_CSP)
}

/// The home page, with the version filled in (HTML-safe: digits, dots and letters).
fn home_page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| include_str!("home.html").replace("{version}", env!("CARGO_PKG_VERSION")))
}

fn page(html: &'static str, csp: &'static str) -> Response {
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, ASSET_CACHE),
        ],
        include_str!("site.css"),
    )
        .into_response()
}

async fn eds_user_openapi() -> impl IntoResponse {
    Json(super::eds::openapi::document())
}

/// One reference page: which document it opens first.
#[derive(Clone, Copy)]
enum Reference {
    Main,
    EdsUser,
}

/// Swagger UI's configuration for a page: both documents in its selector, the page's own
/// first; no validator (Swagger UI would send the document to swagger.io's); "Try it out"
/// sends requests to this server only.
fn swagger_config(reference: Reference) -> Arc<Config<'static>> {
    static CONFIGS: OnceLock<[Arc<Config<'static>>; 2]> = OnceLock::new();
    let configs = CONFIGS.get_or_init(|| {
        let make = |eds_first: bool| {
            let urls = [
                Url::with_primary("PDS and KooDrive", "/openapi.json", !eds_first),
                Url::with_primary("eds-user", EDS_USER_OPENAPI, eds_first),
            ];
            let config = Config::new(urls)
                .validator_url("none")
                .filter(true)
                .display_request_duration(true)
                .persist_authorization(false);
            // eds-user's page is a reference: its calls need the SDK (see eds::openapi).
            let config = if eds_first {
                config.supported_submit_methods(Vec::<String>::new())
            } else {
                config
            };
            Arc::new(config)
        };
        [make(false), make(true)]
    });
    match reference {
        Reference::Main => configs[0].clone(),
        Reference::EdsUser => configs[1].clone(),
    }
}

/// A file of a reference page: `""` is its `index.html`; `eds-user/...` the same files for
/// the eds-user page.
async fn docs_file(file: String) -> Response {
    let (reference, file) = match file.strip_prefix("eds-user") {
        Some("") => return Redirect::permanent("/docs/eds-user/").into_response(),
        Some(rest) if rest.starts_with('/') => (Reference::EdsUser, rest[1..].to_owned()),
        _ => (Reference::Main, file),
    };
    // (The library's error is not `Send`: keep it out of the awaiting code.)
    let served =
        utoipa_swagger_ui::serve(&file, swagger_config(reference)).map_err(|e| e.to_string());
    let served = match served {
        Ok(Some(served)) => served,
        Ok(None) => {
            return super::pds::PdsError::from(Error::NotFound(Resource::Route)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, file, "could not serve a Swagger UI file");
            return super::pds::PdsError::from(Error::Internal(anyhow::anyhow!(e))).into_response();
        }
    };
    let is_page = file.is_empty() || file == "index.html" || file == "swagger-initializer.js";
    let mut response = (
        [(header::CONTENT_TYPE, served.content_type)],
        served.bytes.into_owned(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    if !is_page {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE));
    }
    response
}
