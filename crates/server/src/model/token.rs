//! Tokens as the services issue them, before any face shapes its answer.

use super::{Account, User};

/// Who a token acts for: a user (with the logon accounts it has), or a JWT app acting with
/// superadmin rights in its domain (a service token: no user, no refresh token).
#[derive(Debug, Clone, PartialEq)]
pub enum TokenHolder {
    User {
        user: Box<User>,
        logons: Vec<Account>,
    },
    App {
        domain_id: String,
    },
}

/// An access token (and its refresh token, `""` for none) just issued.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedToken {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// When the access token expires (seconds since the epoch).
    pub expires_at_s: i64,
    pub holder: TokenHolder,
    /// This is the user's first sign-in.
    pub is_first_login: bool,
    /// The OpenID Connect ID token of a code exchange that asked for one.
    pub id_token: Option<String>,
    /// The scopes a code exchange granted.
    pub scope: Option<String>,
}
