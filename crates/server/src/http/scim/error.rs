//! Every SCIM error answer, in one place (RFC 7644 §3.12): HTTP status, `scimType` where the
//! RFC names one, and a `detail` safe to show (never a value the caller sent as a secret).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{AuthProblem, Error, ParamProblem, Resource};

pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Why a SCIM call failed.
#[derive(Debug)]
pub enum ScimError {
    Core(Error),
    /// A SCIM-level refusal: status, `scimType` (if any), detail.
    Scim(StatusCode, Option<&'static str>, String),
}

impl From<Error> for ScimError {
    fn from(e: Error) -> Self {
        ScimError::Core(e)
    }
}

impl ScimError {
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError::Scim(StatusCode::BAD_REQUEST, Some(scim_type), detail.into())
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad("invalidFilter", detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad("invalidValue", detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad("invalidPath", detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad("mutability", detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad("invalidSyntax", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::Scim(StatusCode::NOT_FOUND, None, detail.into())
    }

    pub fn precondition_failed() -> Self {
        ScimError::Scim(
            StatusCode::PRECONDITION_FAILED,
            None,
            "the resource changed: its version no longer matches If-Match".into(),
        )
    }

    fn describe(&self) -> (StatusCode, Option<&'static str>, String) {
        match self {
            ScimError::Scim(status, scim_type, detail) => (*status, *scim_type, detail.clone()),
            ScimError::Core(e) => describe_core(e),
        }
    }
}

fn resource_name(resource: &Resource) -> &'static str {
    match resource {
        Resource::Group => "group",
        Resource::Account => "logon identity (user name, e-mail or phone)",
        _ => "user",
    }
}

fn describe_core(e: &Error) -> (StatusCode, Option<&'static str>, String) {
    let bad = |scim_type, detail: String| (StatusCode::BAD_REQUEST, Some(scim_type), detail);
    match e {
        Error::NotFound(Resource::Route) => {
            (StatusCode::NOT_FOUND, None, "no such endpoint".into())
        }
        Error::NotFound(resource) => (
            StatusCode::NOT_FOUND,
            None,
            format!("no such {}", resource_name(resource)),
        ),
        Error::AlreadyExists(resource) => (
            StatusCode::CONFLICT,
            Some("uniqueness"),
            format!("this {} is taken", resource_name(resource)),
        ),
        Error::InvalidParameter {
            problem: ParamProblem::MalformedBody,
            ..
        } => bad("invalidSyntax", "the body is not a JSON object".into()),
        Error::InvalidParameter {
            problem: ParamProblem::OutOfRange,
            name,
            ..
        } => bad(
            "invalidValue",
            format!("{name} is too long or out of range{}", e.rule_suffix()),
        ),
        Error::InvalidParameter { name, .. } => bad(
            "invalidValue",
            format!("{name} is not acceptable{}", e.rule_suffix()),
        ),
        Error::Forbidden(why) => (StatusCode::FORBIDDEN, None, why.clone()),
        Error::Unauthorized(problem) => (
            StatusCode::UNAUTHORIZED,
            None,
            match problem {
                AuthProblem::AccessTokenInvalid => "the bearer token is not valid".into(),
                _ => "authentication failed".into(),
            },
        ),
        Error::Conflict(why) => (StatusCode::CONFLICT, None, why.clone()),
        Error::TooManyRequests(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            None,
            "too many requests".into(),
        ),
        Error::QuotaExhausted(why) => (StatusCode::FORBIDDEN, None, why.clone()),
        Error::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            "the request body is too large".into(),
        ),
        Error::Internal(cause) => {
            tracing::error!(error = %cause, request_id = %crate::http::current_request_id(), "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                "internal error".into(),
            )
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let (status, scim_type, detail) = self.describe();
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": status.as_u16().to_string(),
            "detail": detail,
        });
        if let Some(scim_type) = scim_type {
            body["scimType"] = json!(scim_type);
        }
        let mut response = (status, super::scim_json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        let code = scim_type.unwrap_or_else(|| status.canonical_reason().unwrap_or("error"));
        let core = match &self {
            ScimError::Core(e) => Some(e),
            ScimError::Scim(..) => None,
        };
        crate::http::note_error(&mut response, code, core);
        response
    }
}
