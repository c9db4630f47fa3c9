//! The only place a service `Error` becomes a PDS HTTP answer.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_api::ErrorBody;

use crate::error::{AuthProblem, Error, ParamProblem, Resource};
use crate::http::current_request_id;

/// A service error on its way to a PDS client.
#[derive(Debug)]
pub struct PdsError(pub Error);

impl From<Error> for PdsError {
    fn from(e: Error) -> Self {
        PdsError(e)
    }
}

/// PDS's sentence for a parameter, with the broken rule after a colon when the service named
/// it: "The input parameter limit doesn't match the limitation: limit must be between 1 and
/// 100."
fn with_rule(message: String, e: &Error) -> String {
    let rule = e.rule_suffix();
    if rule.is_empty() {
        return message;
    }
    format!("{}{rule}.", message.trim_end_matches('.'))
}

/// HTTP status, code and message of an error, as PDS documents them.
fn describe(e: &Error) -> (StatusCode, String, String) {
    match e {
        Error::NotFound(Resource::Route) => (
            StatusCode::NOT_FOUND,
            "NotFound".into(),
            "The requested API cannot be found. Please check the method and path.".into(),
        ),
        Error::NotFound(r) => (
            StatusCode::NOT_FOUND,
            format!("NotFound.{}", r.name()),
            format!("The resource {} cannot be found. Please check.", r.name()),
        ),
        Error::AlreadyExists(r) => (
            StatusCode::CONFLICT,
            format!("AlreadyExist.{}", r.name()),
            format!("{} has already exists.", r.name()),
        ),
        Error::InvalidParameter { problem, name, .. } => {
            let (code, message) = match problem {
                ParamProblem::MalformedBody => (
                    "InvalidRequestJSONFormat",
                    format!("The input parameter {name} is invalid Json format."),
                ),
                ParamProblem::Missing => (
                    "InvalidParameterMissing",
                    format!("The input parameter {name} is missing."),
                ),
                ParamProblem::Empty => (
                    "InvalidParameterEmpty",
                    format!("The input parameter {name} is empty."),
                ),
                ParamProblem::Invalid => (
                    "InvalidParameter",
                    format!("The input parameter {name} is not valid."),
                ),
                ParamProblem::WrongFormat => (
                    "InvalidParameterWrongFormat",
                    format!("The input parameter {name} has invalid format."),
                ),
                ParamProblem::OutOfRange => (
                    "InvalidParameterOutOfRange",
                    format!("The input parameter {name} doesn't match the limitation."),
                ),
                ParamProblem::NotMatch => (
                    "InvalidParameterNotMatch",
                    format!("The input parameter {name} doesn't match."),
                ),
                ParamProblem::NotSupported => (
                    "InvalidParameterNotSupported",
                    format!("The input parameter {name} is not supported."),
                ),
            };
            let message = with_rule(message, e);
            (StatusCode::BAD_REQUEST, code.into(), message)
        }
        Error::Forbidden(why) => (
            StatusCode::FORBIDDEN,
            "ForbiddenNoPermission".into(),
            format!("No Permission to access resource: {why}."),
        ),
        Error::Unauthorized(problem) => {
            let (code, message) = match problem {
                AuthProblem::AccessTokenInvalid => {
                    ("AccessTokenInvalid", "AccessToken is invalid.")
                }
                AuthProblem::InvalidCredentials => (
                    "InvalidCredentials",
                    "The account or password is incorrect, or the user is disabled.",
                ),
                AuthProblem::RefreshTokenInvalid => (
                    "RefreshTokenInvalid",
                    "The refresh token is invalid, used or expired.",
                ),
                AuthProblem::AccessKeyInvalid => (
                    "InvalidAccessKeyId.NotFound",
                    "The access key does not exist or is disabled.",
                ),
                AuthProblem::SignatureMismatch => (
                    "SignatureDoesNotMatch",
                    "The request signature does not match.",
                ),
                AuthProblem::RequestExpired => (
                    "InvalidTimeStamp.Expired",
                    "The request time is more than 15 minutes from the server's.",
                ),
                AuthProblem::NonceUsed => {
                    ("SignatureNonceUsed", "The signature nonce has been used.")
                }
                AuthProblem::AppUnknown => (
                    "InvalidClient",
                    "The client_id names no enabled JWT app of this domain.",
                ),
                AuthProblem::AssertionInvalid => (
                    "InvalidAssertion",
                    "The assertion is malformed, badly signed, or its claims are not valid.",
                ),
                AuthProblem::AssertionExpired => ("AssertionExpired", "The assertion has expired."),
                AuthProblem::AssertionReplayed => (
                    "AssertionReplayed",
                    "The assertion's jti has been used already.",
                ),
                AuthProblem::AssertionAudience => {
                    ("InvalidAudience", "The assertion is for another domain.")
                }
                AuthProblem::ClientInvalid => (
                    "InvalidClient",
                    "The client_id names no enabled app of this domain, or its client \
                     authentication failed.",
                ),
                AuthProblem::GrantInvalid => (
                    "InvalidGrant",
                    "The authorization code is invalid, used or expired, was issued to \
                     another client or redirect URI, or the code_verifier does not match.",
                ),
            };
            (StatusCode::UNAUTHORIZED, code.into(), message.into())
        }
        Error::Conflict(why) => (
            StatusCode::CONFLICT,
            "StateConflict".into(),
            format!("User operation is not valid: {why}."),
        ),
        Error::TooManyRequests(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests".into(),
            format!(
                "Too many failed logins; try again in {}.",
                crate::error::wait_phrase(*seconds)
            ),
        ),
        Error::QuotaExhausted(what) => (
            StatusCode::FORBIDDEN,
            "QuotaExhausted".into(),
            format!("The quota of {what} is exhausted."),
        ),
        Error::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge".into(),
            format!(
                "The request body is larger than {} bytes.",
                crate::http::MAX_BODY_BYTES
            ),
        ),
        Error::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError".into(),
            "The request has been failed due to some unknown error.".into(),
        ),
    }
}

/// The status and body a PDS client gets for `e` (a failed call, or one call of a batch).
pub(super) fn error_answer(e: &Error) -> (StatusCode, ErrorBody) {
    let request_id = current_request_id();
    if let Error::Internal(cause) = e {
        tracing::error!(request_id, error = format!("{cause:#}"), "internal error");
    }
    let (status, code, message) = describe(e);
    let body = ErrorBody {
        code,
        message,
        request_id,
    };
    (status, body)
}

impl IntoResponse for PdsError {
    fn into_response(self) -> Response {
        let (status, body) = error_answer(&self.0);
        let code = body.code.clone();
        let mut response = (status, Json(body)).into_response();
        crate::http::note_error(&mut response, code, Some(&self.0));
        let headers = response.headers_mut();
        match self.0 {
            Error::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::TooManyRequests(seconds) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Error::NotFound(Resource::Route) => {
                // What the PDS gateway sends for an unknown route or method.
                headers.insert("x-ca-error-code", HeaderValue::from_static("I404NF"));
            }
            _ => {}
        }
        response
    }
}
