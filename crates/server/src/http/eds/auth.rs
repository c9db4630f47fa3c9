//! Who is calling an eds-user action: an access key (ACS3-HMAC-SHA256 or the RPC HMAC-SHA1
//! signature, the same keys as the PDS dialect's), or an access token (bearer mode). The
//! signature's time must be within 15 minutes of now and its nonce unused (nonces are kept in
//! the store, so replicas share them).

use super::error::EdsError;
use super::signature::{self, Acs3Authorization};
use super::Call;
use crate::error::{AuthProblem, Error};
use crate::http::AppState;
use crate::service::tokens::CallKind;
use crate::service::Actor;
use crate::signing::{header, RequestParts, NONCE_HEADER};

/// How a call proves who it is.
enum Credentials {
    Acs3(Acs3Authorization),
    Rpc {
        access_key_id: String,
        signature: String,
    },
    Bearer(String),
}

fn credentials(call: &Call) -> Result<Credentials, EdsError> {
    let header_value = |name: &str| header(&call.headers, name).ok().flatten();
    let authorization = header_value("authorization").map(str::trim);
    if let Some(authorization) = authorization {
        if authorization.starts_with(signature::ACS3_ALGORITHM) {
            return signature::parse_acs3(authorization)
                .map(Credentials::Acs3)
                .ok_or(EdsError::Core(Error::Unauthorized(
                    AuthProblem::SignatureMismatch,
                )));
        }
    }
    if let Some(signature) = call.query_value("Signature") {
        let access_key_id = call
            .query_value("AccessKeyId")
            .ok_or(Error::missing("AccessKeyId"))?;
        return Ok(Credentials::Rpc {
            access_key_id: access_key_id.to_owned(),
            signature: signature.to_owned(),
        });
    }
    // The SDK sends its token in x-acs-bearer-token (ACS3) or BearerToken (v2); other
    // clients may use the standard header.
    let standard_bearer = authorization.and_then(|a| {
        let (scheme, token) = a.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token)
    });
    let bearer = header_value("x-acs-bearer-token")
        .or_else(|| call.query_value("BearerToken"))
        .or(standard_bearer);
    match bearer.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => Ok(Credentials::Bearer(token.to_owned())),
        None => Err(EdsError::MissingCredentials),
    }
}

/// The actor of a call, once its credentials are checked.
pub async fn authenticate(app: &AppState, call: &Call) -> Result<Actor, EdsError> {
    let host_domain = app.host_domain(&call.header_map).await?;
    let services = &app.services;
    match credentials(call)? {
        Credentials::Bearer(token) => {
            // eds-user has no call that changes a password: all are ordinary.
            Ok(services
                .authenticate(host_domain.as_deref(), &token, CallKind::Ordinary)
                .await?)
        }
        Credentials::Acs3(auth) => {
            let (actor, secret) = services
                .access_key_signer(
                    host_domain.as_deref(),
                    &auth.access_key_id,
                    CallKind::Ordinary,
                )
                .await?;
            let parts = RequestParts {
                method: &call.method,
                path: &call.path,
                query: &call.query,
                headers: &call.headers,
                body: &call.body,
            };
            if !signature::verify_acs3(&parts, &auth, &secret) {
                return Err(Error::Unauthorized(AuthProblem::SignatureMismatch).into());
            }
            let date = header(&call.headers, "x-acs-date").ok().flatten();
            let nonce = header(&call.headers, NONCE_HEADER).ok().flatten();
            accept_once(app, &auth.access_key_id, date, nonce).await?;
            Ok(actor)
        }
        Credentials::Rpc {
            access_key_id,
            signature: sig,
        } => {
            if call
                .query_value("SignatureMethod")
                .is_some_and(|m| m != "HMAC-SHA1")
            {
                return Err(EdsError::UnsupportedSignatureMethod);
            }
            let timestamp = call
                .query_value("Timestamp")
                .ok_or(Error::missing("Timestamp"))?;
            let nonce = call
                .query_value("SignatureNonce")
                .ok_or(Error::missing("SignatureNonce"))?;
            let (actor, secret) = services
                .access_key_signer(host_domain.as_deref(), &access_key_id, CallKind::Ordinary)
                .await?;
            let all: Vec<(String, String)> = call.query.iter().chain(&call.form).cloned().collect();
            if !signature::verify_rpc(&call.method, &all, &sig, &secret) {
                return Err(Error::Unauthorized(AuthProblem::SignatureMismatch).into());
            }
            accept_once(app, &access_key_id, Some(timestamp), Some(nonce)).await?;
            Ok(actor)
        }
    }
}

/// Refuses a signed call whose time is missing or off by more than 15 minutes, or whose
/// nonce was seen before.
async fn accept_once(
    app: &AppState,
    access_key_id: &str,
    time: Option<&str>,
    nonce: Option<&str>,
) -> Result<(), EdsError> {
    let signed_at = time
        .and_then(signature::parse_acs_time)
        .ok_or(Error::Unauthorized(AuthProblem::RequestExpired))?;
    let nonce = nonce
        .map(str::trim)
        .ok_or(Error::Unauthorized(AuthProblem::NonceUsed))?;
    app.services
        .accept_signature_freshness(access_key_id, signed_at, nonce)
        .await?;
    Ok(())
}
