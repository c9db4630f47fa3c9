//! Change events: one row per change to a directory object, written by the change's own
//! transaction (`store/sql/events.rs` derives them from the change's audit records), read in
//! commit order by the pull feed and the webhook delivery.

use async_trait::async_trait;

use crate::error::Result;

/// One stored event. `seq` orders a domain's events as their transactions committed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub domain_id: String,
    pub seq: i64,
    pub event_id: String,
    /// `user.created`, `membership.added`, ... (see [`EVENT_TYPES`]).
    pub event_type: String,
    /// The id of the object the event is about (events of one object keep their order).
    pub object_id: String,
    /// Milliseconds since the UNIX epoch.
    pub created_at: i64,
    /// JSON object: `{"type": "user" | "anonymous", "id": ...}`.
    pub actor: String,
    /// JSON object: the object after the change (for a deletion, as it was).
    pub data: String,
    /// JSON array of the names of the changed fields.
    pub changed_fields: String,
}

/// Every event type Roster writes.
pub const EVENT_TYPES: &[&str] = &[
    "user.created",
    "user.updated",
    "user.locked",
    "user.unlocked",
    "user.deleted",
    "user.password_changed",
    "account.linked",
    "account.unlinked",
    "group.created",
    "group.updated",
    "group.moved",
    "group.deleted",
    "membership.added",
    "membership.removed",
    "membership.moved",
    "role.assigned",
    "role.removed",
    "drive.created",
    "drive.updated",
    "drive.deleted",
    "domain.created",
    "domain.updated",
    "domain.deleted",
    "property.created",
    "property.updated",
    "property.deleted",
    "resource_group.created",
    "resource_group.deleted",
    "app.created",
    "app.updated",
    "app.deleted",
];

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Up to `limit` events of a domain with `seq` above `after`, in `seq` order; only those
    /// of `types` unless it is empty.
    async fn events(
        &self,
        domain_id: &str,
        after: i64,
        types: &[String],
        limit: u32,
    ) -> Result<Vec<EventRow>>;

    /// Deletes the events older than `before` (ms), across domains; answers how many. The
    /// domains' sequences stay, so numbering never restarts.
    async fn purge_events(&self, before: i64) -> Result<u64>;
}
