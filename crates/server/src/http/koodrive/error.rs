//! Every KooDrive error answer, in one place: `{code, msg}` with a numeric `code`, HTTP 400
//! for business errors and 401 for authentication, `msg` in the request's language.
//!
//! KooDrive publishes codes for parameters and spaces only; the user, department and group
//! errors it never published use Roster's own range `139xxxxx` (`docs/koodrive.md`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{current_language, Language};
use crate::error::{AuthProblem, Error, Resource};
use crate::http::current_request_id;

pub const PARAMETER_INVALID: i64 = 13_000_102;
pub const INNER_INVOKE_FAILURE: i64 = 13_000_201;
pub const SPACE_NOT_FOUND: i64 = 13_000_301;
pub const RESOURCE_NOT_FOUND: i64 = 13_000_309;
pub const INSUFFICIENT_SPACE: i64 = 13_000_311;
pub const NO_PERMISSION: i64 = 13_000_410;
// Roster's range for what KooDrive never published.
pub const AUTHENTICATION_FAILED: i64 = 13_900_001;
pub const SIGNATURE_MISMATCH: i64 = 13_900_002;
pub const REQUEST_EXPIRED: i64 = 13_900_003;
pub const USER_EXISTS: i64 = 13_901_001;
/// The user id or mobile is already another user's logon account.
pub const ACCOUNT_EXISTS: i64 = 13_901_002;
pub const DEPARTMENT_EXISTS: i64 = 13_902_001;
pub const GROUP_EXISTS: i64 = 13_903_001;
pub const SPACE_EXISTS: i64 = 13_904_001;
pub const OPERATION_DENIED: i64 = 13_900_409;
pub const TOO_MANY_REQUESTS: i64 = 13_900_429;
pub const BODY_TOO_LARGE: i64 = 13_900_413;

/// Why a KooDrive call failed.
#[derive(Debug)]
pub enum KdError {
    Core(Error),
    /// No `Authorization` at all, or one of no known scheme.
    MissingCredentials,
}

impl From<Error> for KdError {
    fn from(e: Error) -> Self {
        KdError::Core(e)
    }
}

/// One answer: HTTP status, code, and the message in English and Chinese.
struct Described {
    status: StatusCode,
    code: i64,
    en: String,
    zh: &'static str,
}

fn business(code: i64, en: impl Into<String>, zh: &'static str) -> Described {
    Described {
        status: StatusCode::BAD_REQUEST,
        code,
        en: en.into(),
        zh,
    }
}

fn unauthorized(code: i64, en: &str, zh: &'static str) -> Described {
    Described {
        status: StatusCode::UNAUTHORIZED,
        code,
        en: en.into(),
        zh,
    }
}

fn describe_core(e: &Error) -> Described {
    match e {
        Error::InvalidParameter { name, .. } => business(
            PARAMETER_INVALID,
            format!("Verify parameters failed: {}.", printable(name)),
            "参数校验失败",
        ),
        Error::NotFound(Resource::Route) => Described {
            status: StatusCode::NOT_FOUND,
            code: RESOURCE_NOT_FOUND,
            en: "No such API: check the method and path.".into(),
            zh: "接口不存在",
        },
        Error::NotFound(Resource::Drive) => {
            business(SPACE_NOT_FOUND, "Space not found.", "空间不存在或状态异常")
        }
        Error::NotFound(_) => business(RESOURCE_NOT_FOUND, "Resource not found.", "资源不存在"),
        Error::AlreadyExists(Resource::Account) => business(
            ACCOUNT_EXISTS,
            "The user id or mobile is already another user's logon account.",
            "用户ID或手机号已被其他用户用作登录帐号",
        ),
        Error::AlreadyExists(resource) => {
            let code = match resource {
                Resource::User => USER_EXISTS,
                Resource::Org => DEPARTMENT_EXISTS,
                Resource::Drive => SPACE_EXISTS,
                _ => GROUP_EXISTS,
            };
            business(
                code,
                format!("The {} already exists.", resource.name().to_lowercase()),
                "资源已存在",
            )
        }
        Error::Forbidden(_) => business(NO_PERMISSION, "No permission.", "没有权限"),
        Error::QuotaExhausted(_) => business(INSUFFICIENT_SPACE, "Insufficient space.", "空间不足"),
        Error::Conflict(why) => business(
            OPERATION_DENIED,
            format!("The operation is not allowed: {why}."),
            "不允许该操作",
        ),
        Error::Unauthorized(AuthProblem::SignatureMismatch) => unauthorized(
            SIGNATURE_MISMATCH,
            "Authentication failed: the signature does not match.",
            "认证失败：签名不匹配",
        ),
        Error::Unauthorized(AuthProblem::RequestExpired) => unauthorized(
            REQUEST_EXPIRED,
            "Authentication failed: X-Date must be within 15 minutes before now.",
            "认证失败：X-Date 已过期",
        ),
        Error::Unauthorized(_) => {
            unauthorized(AUTHENTICATION_FAILED, "Authentication failed.", "认证失败")
        }
        Error::TooManyRequests(_) => Described {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: TOO_MANY_REQUESTS,
            en: "Too many requests.".into(),
            zh: "请求过多",
        },
        Error::PayloadTooLarge => business(BODY_TOO_LARGE, "The body is too large.", "请求体过大"),
        Error::Internal(_) => Described {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: INNER_INVOKE_FAILURE,
            en: "Internal error.".into(),
            zh: "内部错误",
        },
    }
}

/// A parameter name as it may appear in a message: at most 64 plain characters.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
        .take(64)
        .collect()
}

impl KdError {
    fn describe(&self) -> Described {
        match self {
            KdError::Core(e) => describe_core(e),
            KdError::MissingCredentials => unauthorized(
                AUTHENTICATION_FAILED,
                "Authentication failed: no Authorization header.",
                "认证失败：缺少 Authorization",
            ),
        }
    }

    /// The numeric code (for batch items).
    pub fn code(&self) -> i64 {
        self.describe().code
    }
}

impl IntoResponse for KdError {
    fn into_response(self) -> Response {
        if let KdError::Core(Error::Internal(cause)) = &self {
            tracing::error!(
                request_id = current_request_id(),
                error = format!("{cause:#}"),
                "internal error"
            );
        }
        let described = self.describe();
        let msg = match current_language() {
            Language::Chinese => described.zh.to_owned(),
            Language::English => described.en,
        };
        let mut response = (
            described.status,
            Json(json!({ "code": described.code, "msg": msg })),
        )
            .into_response();
        let core = match &self {
            KdError::Core(e) => Some(e),
            _ => None,
        };
        crate::http::note_error(&mut response, described.code.to_string(), core);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ParamProblem;

    fn code(e: Error) -> (u16, i64) {
        let d = describe_core(&e);
        (d.status.as_u16(), d.code)
    }

    #[test]
    fn published_codes() {
        assert_eq!(code(Error::missing("userId")), (400, PARAMETER_INVALID));
        assert_eq!(
            code(Error::NotFound(Resource::Drive)),
            (400, SPACE_NOT_FOUND)
        );
        assert_eq!(
            code(Error::NotFound(Resource::User)),
            (400, RESOURCE_NOT_FOUND)
        );
        assert_eq!(code(Error::forbidden("x")), (400, NO_PERMISSION));
        assert_eq!(
            code(Error::QuotaExhausted("size".into())),
            (400, INSUFFICIENT_SPACE)
        );
        assert_eq!(
            code(Error::Unauthorized(AuthProblem::AccessTokenInvalid)),
            (401, AUTHENTICATION_FAILED)
        );
        assert_eq!(
            code(Error::param(ParamProblem::OutOfRange, "limit")),
            (400, PARAMETER_INVALID)
        );
    }

    #[test]
    fn causes_are_never_sent() {
        let d = describe_core(&Error::Internal(anyhow::anyhow!("db password hunter2")));
        assert!(!d.en.contains("hunter2"));
        assert_eq!(d.code, INNER_INVOKE_FAILURE);
    }
}
