//! The only place errors become eds-user HTTP answers: `{RequestId, HostId, Code, Message}`
//! with the gateway's codes, and the codes of failed items inside batch answers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_api::eds::EdsErrorBody;

use crate::error::{AuthProblem, Error, ParamProblem, Resource};
use crate::http::current_request_id;

/// The `HostId` of error bodies: what the vendor's gateway names itself.
const HOST_ID: &str = "roster";

/// Why an eds-user call failed: a core error, or a problem of the RPC protocol itself.
#[derive(Debug)]
pub enum EdsError {
    Core(Error),
    /// `Action` (header or parameter) missing.
    MissingAction,
    /// The action is not an eds-user action.
    UnknownAction(String),
    /// `Version` is not 2021-03-08.
    WrongVersion,
    /// No signature, access key or bearer token at all.
    MissingCredentials,
    /// An RPC signature without `SignatureMethod=HMAC-SHA1`.
    UnsupportedSignatureMethod,
}

impl From<Error> for EdsError {
    fn from(e: Error) -> Self {
        EdsError::Core(e)
    }
}

/// HTTP status, code and message of a core error in this dialect.
fn describe(e: &Error) -> (StatusCode, String, String) {
    match e {
        Error::NotFound(r) => (
            StatusCode::NOT_FOUND,
            format!("EntityNotExist.{}", r.name()),
            format!("The specified {} does not exist.", r.name()),
        ),
        Error::AlreadyExists(Resource::Account) => (
            StatusCode::BAD_REQUEST,
            "EntityAlreadyExist.Account".into(),
            "The specified Email, Phone or EndUserId is already another user's logon account."
                .into(),
        ),
        Error::AlreadyExists(r) => (
            StatusCode::BAD_REQUEST,
            format!("EntityAlreadyExist.{}", r.name()),
            format!("The specified {} already exists.", r.name()),
        ),
        Error::InvalidParameter { problem, name, .. } => {
            let (code, message) = match problem {
                ParamProblem::Missing => (
                    "MissingParameter",
                    format!(
                        "The input parameter {name} that is mandatory for processing this \
                         request is not supplied."
                    ),
                ),
                ParamProblem::OutOfRange => (
                    "InvalidParameter",
                    format!("The input parameter {name} is out of its allowed range."),
                ),
                ParamProblem::WrongFormat => (
                    "InvalidParameter",
                    format!("The input parameter {name} is not in the required format."),
                ),
                _ => (
                    "InvalidParameter",
                    format!("The input parameter {name} is not valid."),
                ),
            };
            let rule = e.rule_suffix();
            let message = if rule.is_empty() {
                message
            } else {
                format!("{}{rule}.", message.trim_end_matches('.'))
            };
            (StatusCode::BAD_REQUEST, code.into(), message)
        }
        Error::Forbidden(why) => (
            StatusCode::FORBIDDEN,
            "Forbidden".into(),
            format!("You are not authorized to perform this operation: {why}."),
        ),
        Error::Unauthorized(problem) => {
            let (status, code, message) = match problem {
                AuthProblem::AccessKeyInvalid => (
                    StatusCode::NOT_FOUND,
                    "InvalidAccessKeyId.NotFound",
                    "Specified access key is not found.",
                ),
                AuthProblem::SignatureMismatch => (
                    StatusCode::BAD_REQUEST,
                    "SignatureDoesNotMatch",
                    "Specified signature is not matched with our calculation.",
                ),
                AuthProblem::RequestExpired => (
                    StatusCode::BAD_REQUEST,
                    "InvalidTimeStamp.Expired",
                    "Specified time stamp or date value is expired: it must be within 15 \
                     minutes of the server's time.",
                ),
                AuthProblem::NonceUsed => (
                    StatusCode::BAD_REQUEST,
                    "SignatureNonceUsed",
                    "Specified signature nonce was used already.",
                ),
                _ => (
                    StatusCode::UNAUTHORIZED,
                    "InvalidBearerToken",
                    "The bearer token is invalid or expired, or its user is locked.",
                ),
            };
            (status, code.into(), message.into())
        }
        Error::Conflict(why) => (
            StatusCode::BAD_REQUEST,
            "OperationDenied".into(),
            format!("The operation is not allowed: {why}."),
        ),
        Error::TooManyRequests(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            "Throttling.User".into(),
            "Request was denied due to user flow control.".into(),
        ),
        Error::QuotaExhausted(what) => (
            StatusCode::BAD_REQUEST,
            "QuotaExceed".into(),
            format!("The quota is exceeded: {what}."),
        ),
        Error::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "InvalidParameter.BodyTooLarge".into(),
            format!(
                "The request body is larger than {} bytes.",
                crate::http::MAX_BODY_BYTES
            ),
        ),
        Error::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError".into(),
            "The request processing has failed due to some unknown error.".into(),
        ),
    }
}

/// The code and message of one failed item of a batch (`FailedUsers[]`), as the vendor
/// names them where it documents them.
pub fn item_failure(e: &Error, end_user_id: &str) -> (String, String) {
    match e {
        Error::AlreadyExists(Resource::User) => (
            "ExistedEndUserId".into(),
            format!("The username {end_user_id} is used by another user."),
        ),
        Error::InvalidParameter { name, .. } if name == "EndUserId" || name == "user_id" => (
            "InvalidUsername".into(),
            format!("{end_user_id} is an invalid username."),
        ),
        Error::NotFound(Resource::User) => (
            "InvalidEndUserId.NotFound".into(),
            format!("The user {end_user_id} does not exist."),
        ),
        Error::AlreadyExists(Resource::PropertyValue) => (
            "ExistedPropertyValue".into(),
            "The property value is used by another property.".into(),
        ),
        other => {
            let (_, code, message) = describe(other);
            (code, message)
        }
    }
}

impl EdsError {
    fn describe(&self) -> (StatusCode, String, String) {
        match self {
            EdsError::Core(e) => describe(e),
            EdsError::MissingAction => (
                StatusCode::BAD_REQUEST,
                "MissingParameter".into(),
                "The input parameter Action that is mandatory for processing this request is \
                 not supplied."
                    .into(),
            ),
            EdsError::UnknownAction(action) => (
                StatusCode::NOT_FOUND,
                "InvalidAction.NotFound".into(),
                format!(
                    "Specified api {} is not found, please check your url and method.",
                    printable(action)
                ),
            ),
            EdsError::WrongVersion => (
                StatusCode::BAD_REQUEST,
                "InvalidVersion".into(),
                "Specified parameter Version is not valid: eds-user speaks 2021-03-08.".into(),
            ),
            EdsError::MissingCredentials => (
                StatusCode::BAD_REQUEST,
                "MissingParameter".into(),
                "The input parameter AccessKeyId that is mandatory for processing this request \
                 is not supplied (nor a signature or a bearer token)."
                    .into(),
            ),
            EdsError::UnsupportedSignatureMethod => (
                StatusCode::BAD_REQUEST,
                "InvalidParameter".into(),
                "Specified SignatureMethod is not supported: use HMAC-SHA1.".into(),
            ),
        }
    }
}

/// An action name as it may appear in a message: at most 64 plain characters.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .take(64)
        .collect()
}

impl IntoResponse for EdsError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        if let EdsError::Core(Error::Internal(cause)) = &self {
            tracing::error!(request_id, error = format!("{cause:#}"), "internal error");
        }
        let (status, code, message) = self.describe();
        let body = EdsErrorBody {
            request_id,
            host_id: HOST_ID.into(),
            code: code.clone(),
            message,
        };
        let mut response = (status, Json(body)).into_response();
        let core = match &self {
            EdsError::Core(e) => Some(e),
            _ => None,
        };
        crate::http::note_error(&mut response, code, core);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: Error) -> (StatusCode, String) {
        let (status, code, message) = describe(&e);
        assert!(!message.is_empty());
        (status, code)
    }

    #[test]
    fn gateway_codes_of_authentication_problems() {
        let cases = [
            (
                AuthProblem::AccessKeyInvalid,
                404,
                "InvalidAccessKeyId.NotFound",
            ),
            (AuthProblem::SignatureMismatch, 400, "SignatureDoesNotMatch"),
            (AuthProblem::RequestExpired, 400, "InvalidTimeStamp.Expired"),
            (AuthProblem::NonceUsed, 400, "SignatureNonceUsed"),
            (AuthProblem::AccessTokenInvalid, 401, "InvalidBearerToken"),
        ];
        for (problem, status, expected) in cases {
            let (got_status, got) = code(Error::Unauthorized(problem));
            assert_eq!((got_status.as_u16(), got.as_str()), (status, expected));
        }
    }

    #[test]
    fn parameter_and_resource_codes() {
        assert_eq!(code(Error::missing("OrgId")).1, "MissingParameter");
        assert_eq!(
            code(Error::out_of_range("MaxResults")).1,
            "InvalidParameter"
        );
        assert_eq!(
            code(Error::NotFound(Resource::Org)),
            (StatusCode::NOT_FOUND, "EntityNotExist.Org".into())
        );
        assert_eq!(
            code(Error::Internal(anyhow::anyhow!("db password is hunter2"))).1,
            "InternalError"
        );
        let (_, _, message) = describe(&Error::Internal(anyhow::anyhow!("hunter2")));
        assert!(!message.contains("hunter2"), "causes are never sent");
    }

    #[test]
    fn batch_items_use_the_documented_codes() {
        let item = |e: Error| item_failure(&e, "alice").0;
        assert_eq!(
            item(Error::AlreadyExists(Resource::User)),
            "ExistedEndUserId"
        );
        assert_eq!(
            item(Error::param(ParamProblem::WrongFormat, "EndUserId")),
            "InvalidUsername"
        );
        assert_eq!(
            item(Error::NotFound(Resource::User)),
            "InvalidEndUserId.NotFound"
        );
        assert_eq!(
            item(Error::AlreadyExists(Resource::PropertyValue)),
            "ExistedPropertyValue"
        );
        assert_eq!(item(Error::forbidden("superadmin")), "Forbidden");
    }

    #[test]
    fn unknown_actions_are_named_safely() {
        let (_, _, message) = EdsError::UnknownAction("<script>Drop\nTable".into()).describe();
        assert!(message.contains("scriptDropTable"), "{message}");
    }
}
