//! The PDS error body.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every PDS error answer: HTTP status plus this body. `code` is a base code, optionally with a
/// `.Resource` suffix (`NotFound.User`); clients match the base by prefix.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// Same value as the `x-ca-request-id` response header.
    #[serde(default)]
    pub request_id: String,
}
