//! `/v2/event/list`: the change-event feed (admin; Roster's own, not a PDS call).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::events::{Event, ListEventsRequest, ListEventsResponse};
use roster_api::ErrorBody;
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::PdsError;
use crate::http::AppState;
use crate::service::events::{ChangeEvent, EventQuery};

#[derive(OpenApi)]
#[openapi(
    paths(list_events),
    components(schemas(Event, ListEventsRequest, ListEventsResponse, ErrorBody))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/event/list", post(list_events))
}

/// The domain's change events in the order their changes committed, from a marker (admin).
/// A consumer that always continues from the `next_marker` it was given sees every event
/// kept, once, even while several servers write.
#[utoipa::path(post, path = "/v2/event/list", tag = "event", security(("bearer" = [])),
    request_body = ListEventsRequest,
    responses(
        (status = 200, description = "One page of events", body = ListEventsResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_events(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListEventsRequest>,
) -> Result<Json<EventPage>, PdsError> {
    let query = EventQuery {
        marker: req.marker,
        limit: req.limit,
        event_types: req.event_types,
    };
    let page = app.services.list_events(&actor, query).await?;
    Ok(Json(EventPage {
        items: page.items,
        next_marker: page.next_marker,
    }))
}

/// [`ListEventsResponse`] as it goes out: the same fields, with the service's events
/// ([`ChangeEvent`] serializes exactly as [`Event`], its stored JSON written as it is rather
/// than parsed into [`Event`]'s trees and written out again). `the_feed_answers_the_api_types`
/// checks that the two agree.
#[derive(serde::Serialize)]
struct EventPage {
    items: Vec<ChangeEvent>,
    next_marker: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_answers_the_api_types() {
        let raw = |text: &str| serde_json::value::RawValue::from_string(text.into()).unwrap();
        let event = ChangeEvent {
            event_id: "evt_1".into(),
            event_type: "user.updated".into(),
            time: "2023-11-14T22:13:20.123Z".into(),
            domain_id: "d".into(),
            actor: raw(r#"{"type":"user","id":"admin"}"#),
            data: raw(r#"{"user_id" : "u1", "n": 2, "ok": true, "none": null}"#),
            changed_fields: vec!["nick_name".into()],
        };
        let page = EventPage {
            items: vec![event],
            next_marker: "m".into(),
        };
        let text = serde_json::to_string(&page).unwrap();
        let parsed: ListEventsResponse = serde_json::from_str(&text).unwrap();
        let expected = ListEventsResponse {
            items: vec![Event {
                event_id: "evt_1".into(),
                event_type: "user.updated".into(),
                time: "2023-11-14T22:13:20.123Z".into(),
                domain_id: "d".into(),
                actor: serde_json::json!({"type": "user", "id": "admin"}),
                data: serde_json::json!({"user_id": "u1", "n": 2, "ok": true, "none": null}),
                changed_fields: vec!["nick_name".into()],
            }],
            next_marker: "m".into(),
        };
        assert_eq!(parsed, expected);
    }
}
