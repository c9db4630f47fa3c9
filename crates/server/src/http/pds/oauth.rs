//! `/v2/oauth/token`: the OAuth2 password and refresh-token grants, form-urlencoded as PDS.

use crate::audit::Trail;
use axum::extract::{Request, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::{AccountTokenRequest, ErrorBody, RevokeRequest, Token, TokenRequest};
use utoipa::OpenApi;

use super::extract::{body_bytes, parse_json};
use super::{translate, PdsError};
use crate::error::{Error, ParamProblem};
use crate::http::AppState;
use crate::service::authorization::CodeExchange;

#[derive(OpenApi)]
#[openapi(
    paths(token, account_token, revoke),
    components(schemas(Token, TokenRequest, AccountTokenRequest, RevokeRequest, ErrorBody))
)]
pub struct Api;

/// The grant of JWT apps (RFC 7523), as PDS names it.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/oauth/token", post(token))
        .route("/v2/account/token", post(account_token))
        .route("/v2/account/revoke", post(revoke))
}

/// Log in (`grant_type=password`), renew tokens (`grant_type=refresh_token`), exchange a JWT
/// app's signed assertion (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, with
/// `client_id` and `assertion`), or exchange an authorization code of `/v2/oauth/authorize`
/// (`grant_type=authorization_code` with `code`, `redirect_uri`, `code_verifier`; a
/// `WebServer` app authenticates with `client_secret` or HTTP Basic). A code works once;
/// a second use revokes the tokens of the first.
#[utoipa::path(
    post,
    path = "/v2/oauth/token",
    tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued", body = Token),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "Wrong credentials or refresh token", body = ErrorBody),
        (status = 429, description = "Too many failed logins of this account; `Retry-After` says when to try again", body = ErrorBody),
    )
)]
async fn token(
    State(app): State<AppState>,
    trail: Trail,
    request: Request,
) -> Result<Json<Token>, PdsError> {
    let host_domain = app.host_domain(request.headers()).await?;
    let basic = basic_credentials(request.headers());
    let issuer = app.public_base(request.headers());
    let form = token_form(request, &app).await?;
    let grant = required(form.grant_type.as_deref(), "grant_type")?;
    let token = match grant {
        "password" => {
            let username = required(form.username.as_deref(), "username")?;
            let password = required(form.password.as_deref(), "password")?;
            // Without a domain in `Host`, a `domain_id` form field (a Roster extension) names
            // it, else the operator domain; a field naming another domain is refused.
            let domain = app
                .services
                .routing
                .login_domain(host_domain.as_deref(), form.domain_id.as_deref())?;
            app.services
                .login_with_password(&trail, &domain, username, password)
                .await?
        }
        JWT_BEARER => {
            let client_id = required(form.client_id.as_deref(), "client_id")?;
            let assertion = required(form.assertion.as_deref(), "assertion")?;
            app.services
                .login_with_assertion(&trail, host_domain.as_deref(), client_id, assertion)
                .await?
        }
        "refresh_token" => {
            let refresh = required(form.refresh_token.as_deref(), "refresh_token")?;
            app.services
                .refresh(&trail, host_domain.as_deref(), refresh)
                .await?
        }
        "authorization_code" => {
            // client_secret_basic, else client_secret_post (and client_id in the form).
            let (client_id, client_secret) = match &basic {
                Some((id, secret)) => (id.as_str(), Some(secret.as_str())),
                None => (
                    required(form.client_id.as_deref(), "client_id")?,
                    form.client_secret.as_deref(),
                ),
            };
            let domain = app
                .services
                .routing
                .login_domain(host_domain.as_deref(), form.domain_id.as_deref())?;
            let exchange = CodeExchange {
                client_id,
                client_secret,
                code: required(form.code.as_deref(), "code")?,
                redirect_uri: form.redirect_uri.as_deref(),
                code_verifier: form.code_verifier.as_deref(),
                issuer: &issuer,
            };
            app.services
                .exchange_code(&trail, &domain, exchange)
                .await?
        }
        _ => return Err(Error::not_supported("grant_type").into()),
    };
    Ok(Json(translate::token(token)?))
}

/// Renew tokens with a refresh token (the legacy JSON form of the refresh grant).
#[utoipa::path(
    post,
    path = "/v2/account/token",
    tag = "oauth",
    request_body = AccountTokenRequest,
    responses(
        (status = 200, description = "Tokens issued", body = Token),
        (status = "4XX", description = "Refused", body = ErrorBody),
    )
)]
async fn account_token(
    State(app): State<AppState>,
    trail: Trail,
    request: Request,
) -> Result<Json<Token>, PdsError> {
    let host_domain = app.host_domain(request.headers()).await?;
    let bytes = body_bytes(request, &app).await?;
    let req: AccountTokenRequest = parse_json(&bytes)?;
    if req.grant_type != "refresh_token" {
        return Err(Error::not_supported("grant_type").into());
    }
    let refresh = required(Some(req.refresh_token.as_str()), "refresh_token")?;
    let token = app
        .services
        .refresh(&trail, host_domain.as_deref(), refresh)
        .await?;
    Ok(Json(translate::token(token)?))
}

/// Log out: the refresh token stops working (legacy PDS).
#[utoipa::path(
    post,
    path = "/v2/account/revoke",
    tag = "oauth",
    request_body = RevokeRequest,
    responses(
        (status = 204, description = "Revoked"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    )
)]
async fn revoke(
    State(app): State<AppState>,
    trail: Trail,
    request: Request,
) -> Result<StatusCode, PdsError> {
    let host_domain = app.host_domain(request.headers()).await?;
    let bytes = body_bytes(request, &app).await?;
    let req: RevokeRequest = parse_json(&bytes)?;
    let refresh = required(Some(req.refresh_token.as_str()), "refresh_token")?;
    app.services
        .revoke_refresh_token(&trail, host_domain.as_deref(), refresh)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: each part form-urlencoded).
fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// The token form, as `application/x-www-form-urlencoded` (PDS) or JSON (for convenience).
async fn token_form(request: Request, app: &AppState) -> Result<TokenRequest, PdsError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bytes = body_bytes(request, app).await?;
    if is_json {
        return Ok(parse_json(&bytes)?);
    }
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| PdsError(Error::param(ParamProblem::WrongFormat, "body")))
}

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, PdsError> {
    match value {
        None => Err(Error::missing(name).into()),
        Some("") => Err(Error::param(ParamProblem::Empty, name).into()),
        Some(v) => Ok(v),
    }
}
