//! The change-event feed (`/v2/event/list`): a domain's events in the order their changes
//! committed, for its admins. Events are written by the changes themselves
//! (`store/sql/events.rs`); this module reads them and says how one looks in public.

use serde::Serialize;
use serde_json::value::RawValue;

use super::pagination::{encode_marker, Page};
use super::{Actor, Services};
use crate::error::{Error, ParamProblem, Result};
use crate::store::events::{EventRow, EVENT_TYPES};
use crate::time_format::iso8601_ms;
use roster_api::events::MAX_EVENT_TYPES;

/// The order tag of event markers (they continue after a `seq`).
const ORDER_TAG: &str = "seq";

/// One event as every face shows it (the feed's item, a webhook's payload). The object and
/// the actor are the stored JSON as it is, written into the answer without being parsed
/// into a tree and written out again (what most of a feed page's time went to).
#[derive(Debug, Clone, Serialize)]
pub struct ChangeEvent {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339 UTC with milliseconds.
    pub time: String,
    pub domain_id: String,
    /// `{"type": "user" | "anonymous", "id": ...}`.
    pub actor: Box<RawValue>,
    /// The object after the change (for a deletion, as it was).
    pub data: Box<RawValue>,
    pub changed_fields: Vec<String>,
}

/// Stored JSON as it is (`null` if it is not JSON, which the store never writes).
fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_default()
}

impl From<EventRow> for ChangeEvent {
    fn from(row: EventRow) -> Self {
        ChangeEvent {
            event_id: row.event_id,
            event_type: row.event_type,
            time: iso8601_ms(row.created_at),
            domain_id: row.domain_id,
            actor: raw(row.actor),
            data: raw(row.data),
            changed_fields: serde_json::from_str(&row.changed_fields).unwrap_or_default(),
        }
    }
}

/// What a reader of the feed asks for.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Continue after the event this marker names (`None` or `""`: from the oldest kept).
    pub marker: Option<String>,
    /// 1..=100, default 100.
    pub limit: Option<i64>,
    /// Only these types (`None` or empty: every type).
    pub event_types: Option<Vec<String>>,
}

/// One page of the feed. `next_marker` continues after its last event (or where the request
/// started, when it found none): poll again with it, an empty page means caught up.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub items: Vec<ChangeEvent>,
    pub next_marker: String,
}

fn bad_types(rule: impl Into<String>) -> Error {
    Error::param(ParamProblem::Invalid, "event_types").with_rule(rule)
}

/// The types a query names, each a known one.
fn checked_types(types: Option<Vec<String>>) -> Result<Vec<String>> {
    let types = types.unwrap_or_default();
    if types.len() > MAX_EVENT_TYPES {
        return Err(bad_types(format!("at most {MAX_EVENT_TYPES} event types")));
    }
    if let Some(unknown) = types.iter().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
        let shown = crate::audit::clipped(unknown);
        return Err(bad_types(format!("unknown event type {shown:?}")));
    }
    Ok(types)
}

impl Services {
    /// A page of the caller's domain's events in commit order (admin).
    pub async fn list_events(&self, actor: &Actor, query: EventQuery) -> Result<EventPage> {
        actor.require_admin()?;
        let page = Page::parse(&actor.domain_id, query.limit, query.marker.as_deref())?;
        let after = match page.after_for(ORDER_TAG)? {
            None => 0,
            Some((seq, _)) => seq
                .parse::<i64>()
                .ok()
                .filter(|seq| *seq >= 0)
                .ok_or_else(|| Error::param(ParamProblem::Invalid, "marker"))?,
        };
        let types = checked_types(query.event_types)?;
        let rows = self
            .store
            .events(&actor.domain_id, after, &types, page.limit)
            .await?;
        let next_marker = match rows.last() {
            Some(last) => {
                let seq = last.seq.to_string();
                encode_marker(&actor.domain_id, ORDER_TAG, &seq, &seq)
            }
            None => query.marker.unwrap_or_default(),
        };
        Ok(EventPage {
            items: rows.into_iter().map(ChangeEvent::from).collect(),
            next_marker,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_event_types_are_taken() {
        assert!(checked_types(None).unwrap().is_empty());
        assert_eq!(
            checked_types(Some(vec!["user.created".into()])).unwrap(),
            ["user.created"]
        );
        assert!(checked_types(Some(vec!["user.exploded".into()])).is_err());
        assert!(checked_types(Some(vec!["user.created".into(); MAX_EVENT_TYPES + 1])).is_err());
    }

    #[test]
    fn an_event_shows_its_public_fields() {
        let event = ChangeEvent::from(EventRow {
            domain_id: "d".into(),
            seq: 7,
            event_id: "evt_1".into(),
            event_type: "user.created".into(),
            object_id: "u1".into(),
            created_at: 0,
            actor: r#"{"type":"user","id":"admin"}"#.into(),
            data: r#"{"user_id":"u1"}"#.into(),
            changed_fields: "[]".into(),
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "user.created");
        assert_eq!(json["time"], "1970-01-01T00:00:00.000Z");
        assert_eq!(json["actor"]["id"], "admin");
        assert_eq!(json["data"]["user_id"], "u1");
        assert!(json.get("seq").is_none() && json.get("object_id").is_none());
    }
}
