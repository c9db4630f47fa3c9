//! Wire types of Roster's API dialects: what travels over HTTP, with the exact field names of
//! the vendor APIs. No I/O and no rules here; the server validates, the client only carries.
//!
//! The PDS dialect (`/v2/...`) is snake_case JSON. Every request struct ignores unknown fields
//! (vendor SDKs send more than we read) and every optional field accepts `null`.

pub mod access_keys;
pub mod accounts;
pub mod apps;
pub mod audit_log;
pub mod batch;
pub mod domains;
pub mod drives;
pub mod eds;
pub mod error;
pub mod events;
pub mod groups;
pub mod koodrive;
pub mod schema;
pub mod scim_tokens;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use error::ErrorBody;
pub use groups::*;
pub use tokens::{AccountTokenRequest, RevokeRequest, Token, TokenRequest};
pub use users::*;

/// Largest accepted `limit` of a list or search call, and its default.
pub const MAX_LIMIT: u32 = 100;
