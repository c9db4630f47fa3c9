//! The one error type of Roster's core. Services and stores return it; each HTTP dialect maps
//! it to its own wire shape in exactly one place (`http::pds::error` for PDS).

use std::fmt;

/// What kind of object an error is about; becomes the `.Resource` suffix of PDS codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Account,
    Domain,
    Group,
    Membership,
    Drive,
    Assignment,
    AccessKey,
    App,
    /// A department of the organization tree, as the directory dialects name it.
    Org,
    Property,
    PropertyValue,
    ResourceGroup,
    Webhook,
    /// A SCIM provisioning token.
    ScimToken,
    /// A password reset token.
    ResetToken,
    /// An asynchronous task (an audit log export).
    AsyncTask,
    /// An HTTP route: unknown path or method.
    Route,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::User => "User",
            Resource::Account => "Account",
            Resource::Domain => "Domain",
            Resource::Group => "Group",
            Resource::Membership => "Membership",
            Resource::Drive => "Drive",
            Resource::Assignment => "Assignment",
            Resource::AccessKey => "AccessKey",
            Resource::App => "App",
            Resource::Org => "Org",
            Resource::Property => "Property",
            Resource::PropertyValue => "PropertyValue",
            Resource::ResourceGroup => "ResourceGroup",
            Resource::Webhook => "Webhook",
            Resource::ScimToken => "ScimToken",
            Resource::ResetToken => "ResetToken",
            Resource::AsyncTask => "AsyncTask",
            Resource::Route => "Route",
        }
    }
}

/// Why a parameter was refused; each maps to one documented PDS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamProblem {
    /// Not valid JSON (or not a form) at all.
    MalformedBody,
    Missing,
    Empty,
    /// Wrong type, unknown enum value, or otherwise not acceptable.
    Invalid,
    WrongFormat,
    /// Too long, too large, or outside its allowed range.
    OutOfRange,
    /// Does not match what it must (a current password).
    NotMatch,
    /// Understood, but Roster does not (yet) support it.
    NotSupported,
}

/// Why a caller is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProblem {
    /// No access token, or one that is malformed, expired, revoked, or of a disabled user.
    AccessTokenInvalid,
    /// Wrong password, unknown account or disabled user at login: deliberately one answer.
    InvalidCredentials,
    /// Refresh token unknown, already used, or expired.
    RefreshTokenInvalid,
    /// A signed request names no enabled access key (of this domain, of an enabled user).
    AccessKeyInvalid,
    /// The request's signature is not the one its access key makes.
    SignatureMismatch,
    /// The signed request's time is too far from the server's.
    RequestExpired,
    /// The signature nonce was used already.
    NonceUsed,
    /// A JWT assertion names no enabled app of the domain.
    AppUnknown,
    /// A JWT assertion is malformed, badly signed, or its claims are not acceptable.
    AssertionInvalid,
    AssertionExpired,
    /// A JWT assertion's `jti` was used already.
    AssertionReplayed,
    /// A JWT assertion is for another domain (`aud`).
    AssertionAudience,
    /// The code-flow app did not authenticate: unknown or disabled, wrong or missing client
    /// secret (OAuth `invalid_client`).
    ClientInvalid,
    /// An authorization code that is unknown, used, expired, of another app or redirect URI,
    /// or whose PKCE verifier does not match (OAuth `invalid_grant`: one answer for all).
    GrantInvalid,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0:?} not found")]
    NotFound(Resource),
    #[error("{0:?} already exists")]
    AlreadyExists(Resource),
    #[error("parameter {name}: {problem:?}")]
    InvalidParameter {
        problem: ParamProblem,
        name: String,
        /// The rule the value broke, said to a person (`limit must be between 1 and 100`);
        /// dialects add it to their message, never to their code.
        rule: Option<String>,
    },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("unauthorized: {0:?}")]
    Unauthorized(AuthProblem),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed attempts: try again after this many seconds.
    #[error("too many requests; retry after {0} s")]
    TooManyRequests(u64),
    /// A domain quota (users, storage) would be exceeded; nothing was written.
    #[error("quota exhausted: {0}")]
    QuotaExhausted(String),
    /// The request body is larger than the server accepts.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A bug or an infrastructure failure. Its cause is logged, never sent to the client.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn param(problem: ParamProblem, name: impl fmt::Display) -> Self {
        Error::InvalidParameter {
            problem,
            name: name.to_string(),
            rule: None,
        }
    }

    /// This parameter error, saying which rule the value broke.
    pub fn with_rule(mut self, why: impl Into<String>) -> Self {
        if let Error::InvalidParameter { rule, .. } = &mut self {
            *rule = Some(why.into());
        }
        self
    }

    /// The rule a parameter error names, as a sentence's ending (`": limit must be ..."`), or
    /// nothing.
    pub fn rule_suffix(&self) -> String {
        match self {
            Error::InvalidParameter {
                rule: Some(rule), ..
            } => format!(": {rule}"),
            _ => String::new(),
        }
    }

    pub fn missing(name: impl fmt::Display) -> Self {
        Self::param(ParamProblem::Missing, name)
    }

    pub fn invalid(name: impl fmt::Display) -> Self {
        Self::param(ParamProblem::Invalid, name)
    }

    pub fn out_of_range(name: impl fmt::Display) -> Self {
        Self::param(ParamProblem::OutOfRange, name)
    }

    pub fn not_supported(name: impl fmt::Display) -> Self {
        Self::param(ParamProblem::NotSupported, name)
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        Error::Forbidden(why.into())
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Error::Internal(cause.into())
    }

    /// A short, dialect-neutral name of the error for the audit log (`NotFound.User`,
    /// `InvalidParameter.limit`); never carries a value the caller sent.
    pub fn audit_code(&self) -> String {
        match self {
            Error::NotFound(resource) => format!("NotFound.{}", resource.name()),
            Error::AlreadyExists(resource) => format!("AlreadyExists.{}", resource.name()),
            Error::InvalidParameter { name, .. } => format!("InvalidParameter.{name}"),
            Error::Forbidden(_) => "Forbidden".into(),
            Error::Unauthorized(problem) => format!("Unauthorized.{problem:?}"),
            Error::Conflict(_) => "Conflict".into(),
            Error::TooManyRequests(_) => "TooManyRequests".into(),
            Error::QuotaExhausted(_) => "QuotaExhausted".into(),
            Error::PayloadTooLarge => "PayloadTooLarge".into(),
            Error::Internal(_) => "Internal".into(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Internal(e.into())
    }
}

/// How long a wait of `seconds` is, said to a person: "45 seconds", "5 minutes" (rounded up).
pub fn wait_phrase(seconds: u64) -> String {
    match seconds {
        0..=1 => "1 second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        _ => match seconds.div_ceil(60) {
            1 => "1 minute".to_owned(),
            minutes => format!("{minutes} minutes"),
        },
    }
}
