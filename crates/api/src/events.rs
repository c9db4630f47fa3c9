//! `/v2/event/list`: the change-event feed (Roster's own; no vendor has it). An event is the
//! same object in the feed and in a webhook's payload.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

/// Most event types one `/v2/event/list` request may name.
pub const MAX_EVENT_TYPES: usize = 64;

/// One change to a directory object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Unique; a consumer that sees it twice has seen the same change twice.
    pub event_id: String,
    /// `user.created`, `user.updated`, `user.locked`, `user.unlocked`, `user.deleted`,
    /// `user.password_changed`, `account.linked`, `account.unlinked`, `group.created`,
    /// `group.updated`, `group.moved`, `group.deleted`, `membership.added`,
    /// `membership.removed`, `membership.moved`, `role.assigned`, `role.removed`,
    /// `drive.created|updated|deleted`, `domain.created|updated|deleted`,
    /// `property.created|updated|deleted`, `resource_group.created|deleted`,
    /// `app.created|updated|deleted`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the change was made, RFC 3339 UTC with milliseconds.
    pub time: String,
    pub domain_id: String,
    /// Who made it: `{"type": "user" | "anonymous", "id": ...}`.
    #[schema(value_type = Object)]
    pub actor: Value,
    /// The object after the change (for a deletion, as it was).
    #[schema(value_type = Object)]
    pub data: Value,
    /// Names of the fields the change set (empty for creations and deletions).
    pub changed_fields: Vec<String>,
}

/// `/v2/event/list`: the caller's domain's events in the order their changes committed
/// (admin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListEventsRequest {
    /// Empty or omitted: from the oldest event kept; otherwise a `next_marker` answered before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::marker)]
    pub marker: Option<String>,
    /// 1..100, default 100.
    #[serde(
        default,
        deserialize_with = "int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::limit)]
    pub limit: Option<i64>,
    /// Only events of these types (omitted or empty: every type); at most 64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 64)]
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListEventsResponse {
    pub items: Vec<Event>,
    /// Continues after the last item (or where the request started, when there was none):
    /// always poll again with it; an empty page means the consumer has caught up.
    pub next_marker: String,
}
