//! OpenID Connect: discovery (`/.well-known/openid-configuration`), `userinfo` and
//! RP-initiated logout. The authorization endpoint is PDS's `/v2/oauth/authorize`
//! (`http/signin`), the token endpoint PDS's `/v2/oauth/token` (`http/pds/oauth.rs`), the keys
//! `/.well-known/jwks.json`. The issuer is the public base URL (`--public-url`, else the
//! request's `Host`: with `Host` routing, each domain has its own).

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::signin::PageContext;
use super::AppState;
use crate::error::{AuthProblem, Error};
use crate::service::apps::KNOWN_SCOPES;

pub const USERINFO: &str = "/oidc/userinfo";
pub const END_SESSION: &str = "/oidc/logout";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(USERINFO, get(userinfo).post(userinfo))
        .route(END_SESSION, get(end_session))
}

/// The provider's metadata (OpenID Connect Discovery 1.0).
async fn discovery(State(app): State<AppState>, request: Request) -> Response {
    let issuer = app.public_base(request.headers());
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/v2/oauth/authorize"),
        "token_endpoint": format!("{issuer}/v2/oauth/token"),
        "userinfo_endpoint": format!("{issuer}{USERINFO}"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{issuer}{END_SESSION}"),
        "scopes_supported": KNOWN_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "password",
                                  "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr",
                             "azp", "name", "preferred_username", "picture", "updated_at", "email",
                             "email_verified", "groups", "quota"],
        "acr_values_supported": [crate::service::oidc::ACR_PASSWORD],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
    }))
    .into_response()
}

/// An OAuth bearer-token error (RFC 6750 §3).
fn bearer_error(e: &Error) -> Response {
    let (status, value) = match e {
        Error::Unauthorized(_) | Error::Forbidden(_) => {
            (StatusCode::UNAUTHORIZED, "Bearer error=\"invalid_token\"")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "Bearer"),
    };
    let code = if status == StatusCode::UNAUTHORIZED {
        "invalid_token"
    } else {
        "server_error"
    };
    let mut response = (
        status,
        [(header::WWW_AUTHENTICATE, HeaderValue::from_static(value))],
        Json(json!({ "error": code })),
    )
        .into_response();
    super::note_error(&mut response, code, Some(e));
    response
}

/// `userinfo` (GET or POST) with `Authorization: Bearer`.
async fn userinfo(State(app): State<AppState>, request: Request) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if token.is_empty() {
        return bearer_error(&Error::Unauthorized(AuthProblem::AccessTokenInvalid));
    }
    let domain = match app.host_domain(request.headers()).await {
        Ok(domain) => domain,
        Err(e) => return bearer_error(&e),
    };
    match app.services.userinfo(domain.as_deref(), &token).await {
        Ok(claims) => Json(claims).into_response(),
        Err(e) => bearer_error(&e),
    }
}

#[derive(Deserialize)]
struct EndSessionQuery {
    #[serde(default)]
    id_token_hint: Option<String>,
    #[serde(default)]
    post_logout_redirect_uri: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

/// RP-initiated logout: with an `id_token_hint` of the signed-in user, the browser's sign-in
/// session ends and the browser goes back to `post_logout_redirect_uri` when it is one of
/// the hinted app's redirect URIs. Without one, the person is sent to the account page,
/// where signing out is a button (a link alone cannot end a session).
async fn end_session(
    State(app): State<AppState>,
    page: PageContext,
    Query(q): Query<EndSessionQuery>,
) -> Response {
    let hint = match q.id_token_hint.as_deref().filter(|h| h.len() <= 16 * 1024) {
        Some(hint) => app.services.id_token_hint(hint).await,
        None => None,
    };
    let Some((sub, client_id)) = hint else {
        return Redirect::to("/account").into_response();
    };
    let mut response = None;
    if let Some(session) = page.session.as_ref().filter(|s| s.user_id == sub) {
        if let Err(e) = app.services.sign_out(&page.trail, session).await {
            return bearer_error(&e);
        }
    }
    if let Some(uri) = q.post_logout_redirect_uri.as_deref() {
        let registered = app
            .services
            .is_registered_redirect(&page.domain_id, &client_id, uri)
            .await
            .unwrap_or(false);
        if registered {
            let mut to = url::Url::parse(uri).ok();
            if let (Some(url), Some(state)) = (to.as_mut(), q.state.as_deref()) {
                url.query_pairs_mut().append_pair("state", state);
            }
            if let Some(to) = to {
                response = Some(Redirect::to(to.as_str()).into_response());
            }
        }
    }
    let mut response = response.unwrap_or_else(|| Redirect::to("/signin").into_response());
    response
        .headers_mut()
        .append(header::SET_COOKIE, page.session_cookie(None));
    response
}
