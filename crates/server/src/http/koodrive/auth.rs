//! Who is calling a KooDrive endpoint: a Roster access token (`Bearer+{token}` as the
//! vendor writes it, or the standard `Bearer {token}`), or an app signature whose app id
//! and secret are a Roster access key's, acting as the user `X-User-Id` names.

use axum::http::{header, request::Parts};

use super::error::KdError;
use super::signature;
use crate::error::{AuthProblem, Error};
use crate::http::{header_pairs, AppState};
use crate::service::tokens::CallKind;
use crate::service::Actor;
use crate::signing::RequestParts;

/// How old an `X-Date` may be.
const MAX_AGE_MS: i64 = 15 * 60 * 1000;
/// How far ahead of the server's clock an `X-Date` may be: "not in the future", with a
/// minute's grace for clocks that drift.
const MAX_AHEAD_MS: i64 = 60 * 1000;

/// The token of `Bearer+{token}` or `Bearer {token}` (scheme case-insensitive).
fn bearer_token(authorization: &str) -> Option<&str> {
    let scheme = authorization.get(..6)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let rest = &authorization[6..];
    let token = rest.strip_prefix('+').or_else(|| rest.strip_prefix(' '))?;
    Some(token.trim()).filter(|t| !t.is_empty())
}

/// Refuses an `X-Date` older than 15 minutes or ahead of now.
fn check_x_date(x_date: Option<&str>, now: i64) -> Result<(), Error> {
    let signed_at = x_date
        .and_then(signature::parse_x_date)
        .ok_or(Error::Unauthorized(AuthProblem::RequestExpired))?;
    if now - signed_at > MAX_AGE_MS || signed_at - now > MAX_AHEAD_MS {
        return Err(Error::Unauthorized(AuthProblem::RequestExpired));
    }
    Ok(())
}

/// The actor of a call, once its credentials are checked.
pub async fn authenticate(
    app: &AppState,
    parts: &Parts,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Actor, KdError> {
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or(KdError::MissingCredentials)?;
    let host_domain = app.host_domain(&parts.headers).await?;
    if authorization.starts_with(signature::ALGORITHM) {
        let auth = signature::parse(authorization)
            .ok_or(Error::Unauthorized(AuthProblem::SignatureMismatch))?;
        let headers = header_pairs(&parts.headers);
        let request = RequestParts {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query,
            headers: &headers,
            body,
        };
        let (signer, secret) = app
            .services
            .access_key_signer(host_domain.as_deref(), &auth.app_id, CallKind::Ordinary)
            .await?;
        if !signature::verify(&request, &auth, &secret) {
            return Err(Error::Unauthorized(AuthProblem::SignatureMismatch).into());
        }
        let header_value = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        check_x_date(header_value("x-date"), app.services.clock.now_ms())?;
        let user_id = header_value("x-user-id").unwrap_or_default();
        return Ok(app.services.act_as(signer, user_id).await?);
    }
    let token = bearer_token(authorization).ok_or(KdError::MissingCredentials)?;
    // KooDrive has no call that changes a password: all are ordinary, so a user who must
    // change its password first is refused here as in every dialect.
    Ok(app
        .services
        .authenticate(host_domain.as_deref(), token, CallKind::Ordinary)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bearer_spellings() {
        assert_eq!(bearer_token("Bearer+abc"), Some("abc"));
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("Bearer+"), None);
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bé"), None);
    }

    #[test]
    fn x_date_window() {
        let now = signature::parse_x_date("20240831T143829Z").unwrap();
        assert!(check_x_date(Some("20240831T143829Z"), now).is_ok());
        assert!(check_x_date(Some("20240831T142900Z"), now).is_ok());
        assert!(check_x_date(Some("20240831T142300Z"), now).is_err());
        assert!(check_x_date(Some("20240831T145000Z"), now).is_err());
        assert!(check_x_date(None, now).is_err());
    }
}
