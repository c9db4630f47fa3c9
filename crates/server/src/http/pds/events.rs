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
) -> Result<Json<ListEventsResponse>, PdsError> {
    let query = EventQuery {
        marker: req.marker,
        limit: req.limit,
        event_types: req.event_types,
    };
    let page = app.services.list_events(&actor, query).await?;
    Ok(Json(ListEventsResponse {
        items: page.items.into_iter().map(to_api).collect(),
        next_marker: page.next_marker,
    }))
}

fn to_api(e: ChangeEvent) -> Event {
    Event {
        event_id: e.event_id,
        event_type: e.event_type,
        time: e.time,
        domain_id: e.domain_id,
        actor: e.actor,
        data: e.data,
        changed_fields: e.changed_fields,
    }
}
