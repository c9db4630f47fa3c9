//! Requests signed with an access key, as Alibaba's SDKs sign them (`acs AK:signature`,
//! HMAC-SHA1, and `ACS4-HMAC-SHA256`). A middleware checks the signature, the request's time
//! and its nonce, and leaves the key's user in the request for `Caller`. Requests with any
//! other `Authorization` pass through untouched (and unbuffered).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::signature::{self, RequestParts, SignedRequest};
use super::PdsError;
use crate::error::{AuthProblem, Error};
use crate::http::{AppState, MAX_BODY_BYTES};
use crate::service::Actor;

/// The user a verified signature acts as.
#[derive(Clone)]
pub struct SignedActor(pub Actor);

pub async fn signed_requests(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let signed = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(signature::parse_authorization);
    let Some(signed) = signed else {
        return next.run(request).await;
    };
    match verified(&app, signed, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => PdsError(e).into_response(),
    }
}

/// Checks the signature of a request; answers it, body restored, with its `SignedActor`.
async fn verified(
    app: &AppState,
    signed: SignedRequest,
    request: Request,
) -> Result<Request, Error> {
    let (mut parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| Error::PayloadTooLarge)?;
    let headers = crate::http::header_pairs(&parts.headers);
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let host_domain = app.host_domain(&parts.headers).await?;
    let (actor, secret) = app
        .services
        .access_key_signer(
            host_domain.as_deref(),
            signed.access_key_id(),
            super::extract::call_kind(parts.uri.path()),
        )
        .await?;
    let request_parts = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: &query,
        headers: &headers,
        body: &body,
    };
    if !signature::verify(&request_parts, &signed, &secret) {
        return Err(Error::Unauthorized(AuthProblem::SignatureMismatch));
    }
    let signed_at = signature::request_time(&headers)
        .ok_or(Error::Unauthorized(AuthProblem::RequestExpired))?;
    let nonce = signature::nonce(&headers).ok_or(Error::Unauthorized(AuthProblem::NonceUsed))?;
    let signed_at_ms = i64::try_from(signed_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    app.services
        .accept_signature_freshness(signed.access_key_id(), signed_at_ms, nonce)
        .await?;
    let actor = crate::http::in_request(actor, &parts.extensions);
    crate::http::note_caller(&actor);
    parts.extensions.insert(SignedActor(actor));
    Ok(Request::from_parts(parts, Body::from(body)))
}
