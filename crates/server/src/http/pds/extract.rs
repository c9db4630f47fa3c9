//! Request extractors of the PDS dialect: the JSON body with PDS error codes for every way it
//! can be wrong, and the authenticated caller.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::PdsError;
use crate::error::{AuthProblem, Error, ParamProblem};
use crate::http::AppState;
use crate::service::tokens::CallKind;
use crate::service::Actor;

/// A JSON request body. An empty body reads as `{}` (PDS SDKs send `{}` for no parameters,
/// other clients nothing at all); anything else must be JSON (a body of only whitespace is
/// not). The content type is not checked, as PDS does not.
pub struct PdsJson<T>(pub T);

impl<T: DeserializeOwned + Serialize> FromRequest<AppState> for PdsJson<T> {
    type Rejection = PdsError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        parse_json(bytes).map(PdsJson).map_err(PdsError)
    }
}

pub(super) async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, PdsError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PdsError(Error::PayloadTooLarge)
        } else {
            PdsError(Error::param(ParamProblem::MalformedBody, "body"))
        }
    })
}

/// Deserialises a JSON body, naming the offending field in the error.
pub(crate) fn parse_json<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, Error> {
    // Syntax first: a body that is not a JSON object is malformed, whatever its fields.
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(object) => from_json_object(object),
        _ => Err(Error::param(ParamProblem::MalformedBody, "body")),
    }
}

/// Deserialises a JSON object already parsed (a body, or the body of a batch's call).
///
/// Fields the type does not know are ignored, whatever they hold (SDKs send extras). A number
/// with no fraction is an integer, whatever its notation (`5.0` is `5`): JSON does not tell
/// them apart, and JavaScript clients cannot.
pub(super) fn from_json_object<T: DeserializeOwned + Serialize>(
    mut object: serde_json::Value,
) -> Result<T, Error> {
    if !object.is_object() {
        return Err(Error::param(ParamProblem::MalformedBody, "body"));
    }
    integral_numbers_as_integers(&mut object);
    let request: T = serde_path_to_error::deserialize(object).map_err(|e| {
        let path = e.path().to_string();
        classify(e.into_inner(), &path)
    })?;
    // PostgreSQL text cannot hold NUL, and no field of this API needs one. Only what was read
    // is checked: ignored extras may hold anything.
    if let Some(path) = serde_json::to_value(&request)
        .ok()
        .and_then(|read| nul_at(&read, ""))
    {
        return Err(Error::invalid(path));
    }
    Ok(request)
}

/// Rewrites every number that has no fraction and fits an `i64` as that integer.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                // Strictly inside ±2^63: -2^63 itself is also what integers below i64::MIN
                // round to, so it stays a float (and out of range).
                const BOUND: f64 = 9_223_372_036_854_775_808.0;
                if f.fract() == 0.0 && f > -BOUND && f < BOUND {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// Fields holding free-form JSON that is stored as JSON text (where a NUL is escaped), or
/// checked again on its own (the body of a batch's call).
const FREE_FORM: [&str; 2] = ["user_data", "body"];

/// Where a JSON value holds a NUL character (in a string or a key), as a field path.
fn nul_at(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let here = || {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(here()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, v)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                return Some(here());
            }
            if FREE_FORM.contains(&key.as_str()) {
                return None;
            }
            nul_at(v, &path)
        }),
        _ => None,
    }
}

/// Maps a serde_json error to the PDS parameter problem it is.
fn classify(e: serde_json::Error, path: &str) -> Error {
    let message = e.to_string();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let name = if path.is_empty() || path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return Error::missing(name);
    }
    Error::invalid(if path == "." { "body" } else { path })
}

/// The authenticated caller: `Authorization: Bearer <access token>` (or the SDK's
/// `x-acs-bearer-token` header), valid in the request's domain, of an enabled user.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = PdsError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PdsError> {
        if let Some(super::auth::SignedActor(actor)) = parts.extensions.get() {
            return Ok(Caller(actor.clone()));
        }
        let token = bearer_token(parts).ok_or(PdsError(Error::Unauthorized(
            AuthProblem::AccessTokenInvalid,
        )))?;
        let domain = state.host_domain(&parts.headers).await?;
        let actor = state
            .services
            .authenticate(domain.as_deref(), &token, call_kind(parts.uri.path()))
            .await?;
        let actor = crate::http::in_request(actor, &parts.extensions);
        crate::http::note_caller(&actor);
        Ok(Caller(actor))
    }
}

/// The PDS calls a user whose admin set `need_change_password_next_login` may still make
/// (`CallKind::PasswordChange`) until it has changed its password; every other is `Ordinary`.
pub(super) fn call_kind(path: &str) -> CallKind {
    match path {
        "/v2/account/change_password" | "/v2/user/get" => CallKind::PasswordChange,
        _ => CallKind::Ordinary,
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let from_authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    from_authorization
        .or_else(|| {
            parts
                .headers
                .get("x-acs-bearer-token")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
        })
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_api::CreateUserRequest;

    fn problem(body: &str) -> (ParamProblem, String) {
        match parse_json::<CreateUserRequest>(body.as_bytes()) {
            Err(Error::InvalidParameter { problem, name, .. }) => (problem, name),
            other => panic!("expected a parameter error, got {other:?}"),
        }
    }

    #[test]
    fn a_nul_anywhere_in_a_body_is_refused_by_its_path() {
        let refused = |body: &str| match super::parse_json::<serde_json::Value>(body.as_bytes()) {
            Err(crate::error::Error::InvalidParameter { name, .. }) => name,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(refused(r#"{"group_name": "a\u0000b"}"#), "group_name");
        assert_eq!(
            refused(r#"{"list": [{"id": "x"}, {"id": "\u0000"}]}"#),
            "list[1].id"
        );
        assert_eq!(refused(r#"{"a\u0000": 1}"#), "body");
        assert!(super::parse_json::<serde_json::Value>(br#"{"ok": "fine"}"#).is_ok());
    }

    #[test]
    fn numbers_without_a_fraction_are_integers() {
        let list = |body: &str| parse_json::<roster_api::ListUserRequest>(body.as_bytes());
        assert_eq!(list(r#"{"limit": 5.0}"#).unwrap().limit, Some(5));
        assert_eq!(list(r#"{"limit": 5e1}"#).unwrap().limit, Some(50));
        assert!(list(r#"{"limit": 5.5}"#).is_err());
        // Below i64::MIN rounds to -2^63 as a float: still out of range, not i64::MIN.
        assert!(list(r#"{"limit": -9223372036854775809}"#).is_err());
        assert!(list(r#"{"limit": 1e300}"#).is_err());
    }

    #[test]
    fn a_limit_string_is_a_plain_decimal() {
        let list = |body: &str| parse_json::<roster_api::ListUserRequest>(body.as_bytes());
        assert_eq!(list(r#"{"limit": "7"}"#).unwrap().limit, Some(7));
        for refused in [
            r#""07""#, r#"" 7""#, r#""+7""#, r#""-7""#, r#""""#, r#""7.0""#,
        ] {
            assert!(
                list(&format!(r#"{{"limit": {refused}}}"#)).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn body_errors_name_their_field() {
        assert_eq!(problem("{"), (ParamProblem::MalformedBody, "body".into()));
        assert_eq!(problem("[]"), (ParamProblem::MalformedBody, "body".into()));
        assert_eq!(problem("{}"), (ParamProblem::Missing, "user_id".into()));
        assert_eq!(
            problem(r#"{"user_id": 5}"#),
            (ParamProblem::Invalid, "user_id".into())
        );
        assert_eq!(
            problem(r#"{"user_id": "a", "role": "king"}"#),
            (ParamProblem::Invalid, "role".into())
        );
        assert_eq!(
            problem(r#"{"user_id": "a"} x"#),
            (ParamProblem::MalformedBody, "body".into())
        );
    }
}
