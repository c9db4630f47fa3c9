//! `/v2/batch`: up to 100 user or group calls in one request, answered in order, each on its
//! own. Consecutive user creations (`/user/create`, `/user/import`) are written in one store
//! transaction, which is what makes bulk import fast; every other call runs as it would alone.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::batch::{
    BatchRequest, BatchResponse, BatchSubRequest, BatchSubResponse, MAX_BATCH_REQUESTS,
};
use roster_api::{DeleteUserRequest, ErrorBody, GroupMemberRequest, UpdateUserRequest, User};
use serde::Serialize;
use serde_json::Value;
use utoipa::OpenApi;

use super::error::error_answer;
use super::extract::{from_json_object, Caller, PdsJson};
use super::{translate, PdsError};
use crate::error::{Error, Resource, Result};
use crate::http::AppState;
use crate::service::users::UserCreation;
use crate::service::{attempt, Actor};

#[derive(OpenApi)]
#[openapi(
    paths(batch),
    components(schemas(BatchRequest, BatchSubRequest, BatchResponse, BatchSubResponse))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/batch", post(batch))
}

/// Run up to 100 calls of one resource. `resource: user` takes `/user/create`,
/// `/user/import`, `/user/update` and `/user/delete`; `resource: group` takes
/// `/group/add_member` and `/group/remove_member`. Each answer has the status and body the
/// call would have had alone; a call that fails changes nothing and stops no other.
#[utoipa::path(post, path = "/v2/batch", tag = "batch", security(("bearer" = [])),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One answer per call, in order", body = BatchResponse),
        (status = "4XX", description = "The batch itself is refused", body = ErrorBody),
    ))]
async fn batch(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<BatchRequest>,
) -> Result<Json<BatchResponse>, PdsError> {
    if req.resource != "user" && req.resource != "group" {
        return Err(Error::invalid("resource").into());
    }
    if req.requests.is_empty() || req.requests.len() > MAX_BATCH_REQUESTS {
        return Err(Error::out_of_range("requests").into());
    }
    let mut responses = Vec::with_capacity(req.requests.len());
    let mut creations: Vec<(String, UserCreation)> = Vec::new();
    for sub in req.requests {
        let id = sub.id.clone();
        let call = match parse_call(&req.resource, sub) {
            Ok(Call::Create(creation)) => {
                creations.push((id, creation));
                continue;
            }
            Ok(Call::Alone(call)) => Ok(call),
            Err(e) => Err(e),
        };
        responses.extend(create_users(&app, &actor, std::mem::take(&mut creations)).await?);
        responses.push(match call {
            Ok(call) => run_alone(&app, &actor, id, call).await,
            Err(e) => failed(id, &e),
        });
    }
    responses.extend(create_users(&app, &actor, creations).await?);
    Ok(Json(BatchResponse { responses }))
}

/// A call a batch can hold: user creations are written in runs, the others one by one.
// At most 100 of these live for one request; boxing them would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Call {
    Create(UserCreation),
    Alone(SingleCall),
}

#[allow(clippy::large_enum_variant)]
enum SingleCall {
    UpdateUser(UpdateUserRequest),
    DeleteUser(DeleteUserRequest),
    AddMember(GroupMemberRequest),
    RemoveMember(GroupMemberRequest),
}

/// Reads one call: an unknown method or path, or one outside the batch's resource, is
/// `NotFound` as it would be alone; its body is checked as the call's own body would be.
fn parse_call(resource: &str, sub: BatchSubRequest) -> Result<Call> {
    let path = sub.url.strip_prefix("/v2").unwrap_or(&sub.url);
    let in_resource = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(resource))
        .is_some_and(|rest| rest.starts_with('/'));
    if !sub.method.eq_ignore_ascii_case("POST") || !in_resource {
        return Err(Error::NotFound(Resource::Route));
    }
    let body = sub
        .body
        .unwrap_or_else(|| Value::Object(Default::default()));
    Ok(match path {
        "/user/create" => Call::Create(UserCreation::Create(translate::new_user_spec(
            from_json_object(body)?,
        ))),
        "/user/import" => Call::Create(UserCreation::Import(translate::imported_user(
            from_json_object(body)?,
        ))),
        "/user/update" => Call::Alone(SingleCall::UpdateUser(from_json_object(body)?)),
        "/user/delete" => Call::Alone(SingleCall::DeleteUser(from_json_object(body)?)),
        "/group/add_member" => Call::Alone(SingleCall::AddMember(from_json_object(body)?)),
        "/group/remove_member" => Call::Alone(SingleCall::RemoveMember(from_json_object(body)?)),
        _ => return Err(Error::NotFound(Resource::Route)),
    })
}

/// Writes a run of user creations together. Only a failure of the store itself fails the
/// whole batch; a refusal of the caller answers each call of the run.
async fn create_users(
    app: &AppState,
    actor: &Actor,
    run: Vec<(String, UserCreation)>,
) -> Result<Vec<BatchSubResponse>> {
    if run.is_empty() {
        return Ok(Vec::new());
    }
    // `/v2/user/create` answers 201, `/v2/user/import` 200.
    let statuses: Vec<StatusCode> = run
        .iter()
        .map(|(_, c)| match c {
            UserCreation::Create(_) => StatusCode::CREATED,
            UserCreation::Import(_) => StatusCode::OK,
        })
        .collect();
    let (ids, creations): (Vec<String>, Vec<UserCreation>) = run.into_iter().unzip();
    let outcomes = match attempt(&actor.trail, app.services.create_users(actor, creations)).await {
        Ok(outcomes) => outcomes,
        Err(e @ Error::Internal(_)) => return Err(e),
        Err(e) => return Ok(ids.into_iter().map(|id| failed(id, &e)).collect()),
    };
    Ok(ids
        .into_iter()
        .zip(outcomes)
        .zip(statuses)
        .map(|((id, outcome), status)| answer(id, status, outcome.and_then(translate::user)))
        .collect())
}

/// Runs a call that is not a user creation, as its own endpoint would.
async fn run_alone(
    app: &AppState,
    actor: &Actor,
    id: String,
    call: SingleCall,
) -> BatchSubResponse {
    let services = &app.services;
    let done = |outcome: Result<()>| outcome.map(|()| None::<User>);
    match call {
        SingleCall::UpdateUser(req) => {
            let (user_id, changes) = translate::user_changes(req);
            let updated =
                attempt(&actor.trail, services.update_user(actor, &user_id, changes)).await;
            answer(id, StatusCode::OK, updated.and_then(translate::user))
        }
        SingleCall::DeleteUser(req) => answer(
            id,
            StatusCode::NO_CONTENT,
            done(attempt(&actor.trail, services.delete_user(actor, &req.user_id)).await),
        ),
        SingleCall::AddMember(req) => {
            let (group_id, member) = translate::member(req);
            let added = services.add_member(actor, &group_id, member);
            answer(
                id,
                StatusCode::NO_CONTENT,
                done(attempt(&actor.trail, added).await),
            )
        }
        SingleCall::RemoveMember(req) => {
            let (group_id, member) = translate::member(req);
            let removed = services.remove_member(actor, &group_id, member);
            answer(
                id,
                StatusCode::NO_CONTENT,
                done(attempt(&actor.trail, removed).await),
            )
        }
    }
}

/// The answer of a call: `status` and its body on success, the error's otherwise.
fn answer<T: Serialize>(id: String, status: StatusCode, outcome: Result<T>) -> BatchSubResponse {
    match outcome {
        Ok(body) => BatchSubResponse {
            id,
            status: status.as_u16(),
            body: serde_json::to_value(body).ok().filter(|v| !v.is_null()),
        },
        Err(e) => failed(id, &e),
    }
}

fn failed(id: String, e: &Error) -> BatchSubResponse {
    let (status, body) = error_answer(e);
    BatchSubResponse {
        id,
        status: status.as_u16(),
        body: serde_json::to_value(body).ok(),
    }
}
