//! The eds-user dialect (Elastic Desktop Service `eds-user` 2021-03-08): RPC calls on `/`
//! with the action in `x-acs-action` (ACS3) or `Action=` (legacy RPC), parameters in the
//! query and a form body, PascalCase answers with a `RequestId`. Each action translates to
//! service calls; no rule lives here.

mod auth;
mod error;
mod groups;
pub mod openapi;
mod orgs;
pub(crate) mod params;
mod properties;
mod resource_groups;
pub mod signature;
mod users;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use roster_api::eds::EDS_USER_VERSION;
use serde_json::{Map, Value};

pub use error::EdsError;
use params::Params;

use super::{current_request_id, AppState, MAX_BODY_BYTES};
use crate::error::{Error, ParamProblem, Result};
use crate::service::{Actor, Page, Services};
use crate::time_format::BadTime;

/// Every action of eds-user 2021-03-08, as Roster serves it.
pub const ACTIONS: [&str; 36] = [
    "InitTenantAlias",
    "CreateUsers",
    "RemoveUsers",
    "ModifyUser",
    "ResetUserPassword",
    "LockUsers",
    "UnlockUsers",
    "DescribeUsers",
    "FilterUsers",
    "GetManagerInfoByAuthCode",
    "CreateProperty",
    "RemoveProperty",
    "DeleteUserPropertyValue",
    "UpdateProperty",
    "SetUserPropertyValue",
    "ListProperty",
    "ListPropertyValue",
    "CheckUsedProperty",
    "CheckUsedPropertyValue",
    "CreateOrg",
    "DescribeOrgs",
    "DescribeOrgByLayer",
    "RemoveOrg",
    "MoveOrg",
    "ModifyOrg",
    "MoveUserOrg",
    "CreateGroup",
    "DescribeGroups",
    "UserBatchQuitGroup",
    "UserBatchJoinGroup",
    "RemoveGroup",
    "ModifyGroup",
    "DescribeGroupUser",
    "CreateResourceGroup",
    "DeleteResourceGroup",
    "DescribeResourceGroups",
];

/// `POST /`. eds-user takes `GET /` too: [`names_action`] tells such a call from a person's
/// browser asking for the home page, which shares the path.
pub fn router() -> Router<AppState> {
    Router::new().route("/", post(rpc))
}

/// Whether a request names an eds-user action (`Action=` in the query, even empty, or the
/// `x-acs-action` header): then it is an eds-user call, whatever its method.
pub(crate) fn names_action(request: &Request) -> bool {
    let in_query = request
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .is_some_and(|pairs| pairs.iter().any(|(k, _)| k == "Action"));
    in_query || request.headers().contains_key("x-acs-action")
}

/// What one RPC call brought, read once.
pub(crate) struct Call {
    method: String,
    path: String,
    header_map: HeaderMap,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    body: Bytes,
}

impl Call {
    async fn read(request: Request) -> Result<Call, EdsError> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| Error::PayloadTooLarge)?;
        let malformed = || Error::param(ParamProblem::MalformedBody, "body");
        let query: Vec<(String, String)> = match parts.uri.query() {
            Some(q) => serde_urlencoded::from_str(q).map_err(|_| malformed())?,
            None => Vec::new(),
        };
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.starts_with("application/x-www-form-urlencoded"));
        let form: Vec<(String, String)> = if is_form && !body.is_empty() {
            let text = std::str::from_utf8(&body).map_err(|_| malformed())?;
            serde_urlencoded::from_str(text).map_err(|_| malformed())?
        } else {
            Vec::new()
        };
        let headers = super::header_pairs(&parts.headers);
        Ok(Call {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            header_map: parts.headers,
            headers,
            query,
            form,
            body,
        })
    }

    fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The action named by `x-acs-action`, else by `Action=`, if eds-user has it.
    fn action(&self) -> Result<&'static str, EdsError> {
        let named = self
            .header_value("x-acs-action")
            .or_else(|| self.query_value("Action"))
            .filter(|a| !a.is_empty())
            .ok_or(EdsError::MissingAction)?;
        ACTIONS
            .iter()
            .find(|a| **a == named)
            .copied()
            .ok_or_else(|| EdsError::UnknownAction(named.to_owned()))
    }

    fn check_version(&self) -> Result<(), EdsError> {
        let version = self
            .header_value("x-acs-version")
            .or_else(|| self.query_value("Version"));
        match version {
            Some(EDS_USER_VERSION) => Ok(()),
            Some(_) => Err(EdsError::WrongVersion),
            None => Err(Error::missing("Version").into()),
        }
    }

    fn params(&self) -> Result<Params> {
        Params::from_pairs(self.query.iter().chain(&self.form))
    }
}

pub(crate) async fn rpc(State(app): State<AppState>, request: Request) -> Response {
    match serve(&app, request).await {
        Ok(answer) => Json(Value::Object(answer)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn serve(app: &AppState, request: Request) -> Result<Map<String, Value>, EdsError> {
    let trail = crate::http::request_trail(request.extensions());
    let call = Call::read(request).await?;
    let action = call.action()?;
    call.check_version()?;
    let actor = auth::authenticate(app, &call).await?.in_request(trail);
    crate::http::note_caller(&actor);
    let ctx = Ctx {
        services: &app.services,
        actor,
    };
    let mut answer = dispatch(&ctx, action, &call.params()?).await?;
    answer.insert("RequestId".into(), Value::String(current_request_id()));
    Ok(answer)
}

/// The caller and the services an action runs with.
pub(crate) struct Ctx<'a> {
    services: &'a Services,
    actor: Actor,
}

/// An action's answer, without its `RequestId`.
type Answer = Result<Map<String, Value>, EdsError>;

async fn dispatch(ctx: &Ctx<'_>, action: &str, p: &Params) -> Answer {
    match action {
        "InitTenantAlias" => users::init_tenant_alias(ctx).await,
        "CreateUsers" => users::create_users(ctx, p).await,
        "RemoveUsers" => users::remove_users(ctx, p).await,
        "ModifyUser" => users::modify_user(ctx, p).await,
        "ResetUserPassword" => users::reset_user_password(ctx, p).await,
        "LockUsers" => users::lock_users(ctx, p).await,
        "UnlockUsers" => users::unlock_users(ctx, p).await,
        "DescribeUsers" => users::describe_users(ctx, p).await,
        "FilterUsers" => users::filter_users(ctx, p).await,
        "GetManagerInfoByAuthCode" => users::manager_info(ctx, p).await,
        "CreateProperty" => properties::create(ctx, p).await,
        "RemoveProperty" => properties::remove(ctx, p).await,
        "UpdateProperty" => properties::update(ctx, p).await,
        "ListProperty" => properties::list(ctx).await,
        "ListPropertyValue" => properties::list_values(ctx, p).await,
        "SetUserPropertyValue" => properties::set_user_value(ctx, p).await,
        "DeleteUserPropertyValue" => properties::delete_user_value(ctx, p).await,
        "CheckUsedProperty" => properties::check_used(ctx, p).await,
        "CheckUsedPropertyValue" => properties::check_used_value(ctx, p).await,
        "CreateOrg" => orgs::create(ctx, p).await,
        "DescribeOrgs" => orgs::describe(ctx, p).await,
        "DescribeOrgByLayer" => orgs::describe_by_layer(ctx, p).await,
        "RemoveOrg" => orgs::remove(ctx, p).await,
        "MoveOrg" => orgs::move_org(ctx, p).await,
        "ModifyOrg" => orgs::modify(ctx, p).await,
        "MoveUserOrg" => orgs::move_users(ctx, p).await,
        "CreateGroup" => groups::create(ctx, p).await,
        "DescribeGroups" => groups::describe(ctx, p).await,
        "ModifyGroup" => groups::modify(ctx, p).await,
        "RemoveGroup" => groups::remove(ctx, p).await,
        "UserBatchJoinGroup" => groups::join(ctx, p, true).await,
        "UserBatchQuitGroup" => groups::join(ctx, p, false).await,
        "DescribeGroupUser" => groups::describe_users(ctx, p).await,
        "CreateResourceGroup" => resource_groups::create(ctx, p).await,
        "DeleteResourceGroup" => resource_groups::delete(ctx, p).await,
        "DescribeResourceGroups" => resource_groups::describe(ctx, p).await,
        other => Err(EdsError::UnknownAction(other.to_owned())),
    }
}

/// The `NextToken`/`MaxResults` page a listing asks for: at most `max` rows, `default` when
/// `MaxResults` is not given.
fn token_page(ctx: &Ctx<'_>, p: &Params, max: u32, default: u32) -> Result<Page> {
    Page::parse_limited(
        &ctx.actor.domain_id,
        p.int("MaxResults")?,
        p.get("NextToken"),
        ("MaxResults", max, default),
    )
}

/// An answer of these fields (each a serialisable value).
fn answer(fields: Vec<(&str, Value)>) -> Answer {
    Ok(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The JSON of a wire value.
fn json<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `yyyy-MM-dd HH:mm:ss` UTC, as eds-user writes times.
fn format_time(ms: i64) -> String {
    crate::time_format::eds_datetime(ms)
}

/// A time parameter, `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-dd` (UTC), as milliseconds.
fn parse_time(p: &Params, name: &str) -> Result<Option<i64>> {
    let Some(value) = p.get(name) else {
        return Ok(None);
    };
    match crate::time_format::parse_eds_datetime(value) {
        Ok(ms) => Ok(Some(ms)),
        Err(BadTime::WrongFormat) => Err(Error::param(ParamProblem::WrongFormat, name)),
        Err(BadTime::OutOfRange) => Err(Error::out_of_range(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let owned = vec![("T".to_owned(), "2030-01-02 03:04:05".to_owned())];
        let p = Params::from_pairs(&owned).unwrap();
        let ms = parse_time(&p, "T").unwrap().unwrap();
        assert_eq!(format_time(ms), "2030-01-02 03:04:05");
        let owned = vec![("T".to_owned(), "2030-01-02".to_owned())];
        let p = Params::from_pairs(&owned).unwrap();
        assert_eq!(
            format_time(parse_time(&p, "T").unwrap().unwrap()),
            "2030-01-02 00:00:00"
        );
        let owned = vec![("T".to_owned(), "soon".to_owned())];
        assert!(parse_time(&Params::from_pairs(&owned).unwrap(), "T").is_err());
    }

    #[test]
    fn every_action_is_listed_once() {
        let mut sorted = ACTIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ACTIONS.len());
    }
}
