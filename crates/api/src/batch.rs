//! `/v2/batch`: several calls in one request, in PDS's shape.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Largest number of sub-requests in one batch.
pub const MAX_BATCH_REQUESTS: usize = 100;

/// `/v2/batch`: up to 100 calls of one resource, answered in order, each on its own.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// `user` or `group`: the area every sub-request's `url` is in.
    #[schema(schema_with = crate::schema::batch_resource)]
    pub resource: String,
    #[schema(min_items = 1, max_items = 100)]
    pub requests: Vec<BatchSubRequest>,
}

/// One call of a batch: `url` is the path after `/v2` (`/user/create`), `method` `POST`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct BatchSubRequest {
    /// The caller's name for this call; its answer carries it back.
    pub id: String,
    pub method: String,
    pub url: String,
    /// The call's JSON object; anything else is refused as that call's own answer
    /// (`InvalidRequestJSONFormat`), not as the batch's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    pub body: Option<Value>,
}

/// The answers of a batch, in the order of its requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub responses: Vec<BatchSubResponse>,
}

/// One answer: the HTTP status and body the call would have had on its own (an error body
/// `{code, message}` when it failed; no body for `204`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchSubResponse {
    pub id: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
}
