//! SCIM 2.0 (RFC 7643, RFC 7644) at `/scim/v2`, per domain (the request's `Host`, as every
//! face): Users, Groups, and the discovery endpoints. Callers are admins with a bearer
//! access token. Handlers parse, call services through [`translate`], and answer SCIM JSON
//! (`application/scim+json`); errors are SCIM error bodies ([`error`]). `docs/scim.md` has
//! the attribute mapping and how to connect Entra ID, Okta and authentik.

mod discovery;
mod error;
pub mod filter;
mod translate;

use crate::audit::Trail;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use error::ScimError;
use filter::{attr_path, parse_filter, AttrPath};
use translate::{lower_keys, MemberRef, MemberType, ShownMember, LIST_URN};

use super::AppState;
use crate::error::{Error, Resource};
use crate::model::{Group, GroupKind, MemberListing, User, UserChanges, UserStatus};
use crate::service::directory::DirectoryQuery;
use crate::service::provisioning::{Provisioned, ProvisionedKind};
use crate::service::scim_tokens::is_scim_token;
use crate::service::tokens::CallKind;
use crate::service::{Actor, Page};

pub const SCIM_PREFIX: &str = "/scim/v2";
/// Operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 100;
/// The page (`count`) a list answers when none is asked, the largest page of groups (each
/// answered with its members) and of the reads behind a page; and the furthest `startIndex`
/// reaches (beyond it, cursors).
const MAX_COUNT: i64 = 100;
/// The largest page of users (`maxPageSize`): a page is read in one statement and built in
/// memory, a few hundred KiB of JSON at most.
const MAX_USER_COUNT: i64 = 1000;
const MAX_START_INDEX: i64 = 10_000;
/// How many members a group answer lists at most (more: read them through PDS).
const MAX_MEMBERS_SHOWN: usize = 10_000;

const SCIM_JSON: &str = "application/scim+json";

/// A JSON body answered as `application/scim+json`.
pub(crate) fn scim_json(body: Value) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))],
        body.to_string(),
    )
}

pub fn router() -> Router<AppState> {
    let at = |p: &str| format!("{SCIM_PREFIX}{p}");
    use axum::routing::post;
    let no = method_not_allowed;
    Router::new()
        .route(
            &at("/ServiceProviderConfig"),
            get(discovery::service_provider_config).fallback(no),
        )
        .route(
            &at("/ResourceTypes"),
            get(discovery::resource_types).fallback(no),
        )
        .route(
            &at("/ResourceTypes/{name}"),
            get(discovery::resource_type).fallback(no),
        )
        .route(&at("/Schemas"), get(discovery::schemas).fallback(no))
        .route(&at("/Schemas/{urn}"), get(discovery::schema).fallback(no))
        .route(
            &at("/Users"),
            get(list_users).post(create_user).fallback(no),
        )
        .route(&at("/Users/.search"), post(search_users).fallback(no))
        .route(
            &at("/Users/{id}"),
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user)
                .fallback(no),
        )
        .route(
            &at("/Groups"),
            get(list_groups).post(create_group).fallback(no),
        )
        .route(&at("/Groups/.search"), post(search_groups).fallback(no))
        .route(
            &at("/Groups/{id}"),
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group)
                .fallback(no),
        )
        .route(&at("/Bulk"), post(bulk).fallback(no))
}

/// Unknown paths under `/scim/`: a SCIM 404.
pub async fn not_found() -> Response {
    ScimError::Core(Error::NotFound(Resource::Route)).into_response()
}

/// A known SCIM path called with a method it does not take.
async fn method_not_allowed() -> Response {
    ScimError::Scim(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "this endpoint does not take this method".into(),
    )
    .into_response()
}

/// `/Bulk` is declared unsupported in `ServiceProviderConfig`.
async fn bulk() -> Response {
    ScimError::Scim(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "bulk operations are not supported".into(),
    )
    .into_response()
}

/// The admin a request is from: `Authorization: Bearer <access token>`, or a provisioning
/// token of the domain (`/v2/scim_token/create`).
async fn caller(app: &AppState, headers: &HeaderMap, trail: Trail) -> Result<Actor, ScimError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(ScimError::Scim(
            StatusCode::UNAUTHORIZED,
            None,
            "a bearer token is required".into(),
        ))?;
    let domain = app.host_domain(headers).await?;
    let actor = if is_scim_token(token) {
        app.services
            .authenticate_scim_token(domain.as_deref(), token)
            .await?
    } else {
        app.services
            .authenticate(domain.as_deref(), token, CallKind::Ordinary)
            .await?
    }
    .in_request(trail);
    super::note_caller(&actor);
    actor.require_admin()?;
    Ok(actor)
}

/// `http(s)://<host>/scim/v2`, for `meta.location`.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{SCIM_PREFIX}")
}

/// The JSON object of a request body, keys lower-cased.
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ScimError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimError::Core(Error::PayloadTooLarge)
        } else {
            ScimError::invalid_syntax("the body could not be read")
        }
    })?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| ScimError::invalid_syntax("the body is not JSON"))?;
    if !value.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    Ok(lower_keys(value))
}

/// The group as SCIM shows it, refused unless `If-Match` (when sent) names its version.
async fn group_matching_if_match(
    app: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    id: &str,
) -> Result<Value, ScimError> {
    let current = one_group(app, actor, headers, id, false).await?;
    check_if_match(
        headers,
        current["meta"]["version"].as_str().unwrap_or_default(),
    )?;
    Ok(current)
}

/// Refuses a change when `If-Match` names another version (`*` matches any).
fn check_if_match(headers: &HeaderMap, current: &str) -> Result<(), ScimError> {
    let Some(wanted) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let wanted = wanted.to_str().unwrap_or_default();
    let strip = |v: &str| v.trim().trim_start_matches("W/").to_owned();
    let matches = wanted
        .split(',')
        .any(|v| v.trim() == "*" || strip(v) == strip(current));
    if matches {
        Ok(())
    } else {
        Err(ScimError::precondition_failed())
    }
}

fn with_version(status: StatusCode, body: Value, location: bool) -> Response {
    let version = body["meta"]["version"].as_str().map(str::to_owned);
    let place = body["meta"]["location"].as_str().map(str::to_owned);
    let mut response = (status, scim_json(body)).into_response();
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::ETAG, v);
    }
    if location {
        if let Some(p) = place.and_then(|p| HeaderValue::from_str(&p).ok()) {
            response.headers_mut().insert(header::LOCATION, p);
        }
    }
    response
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    cursor: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// `attributes` / `excludedAttributes`: comma-separated attribute paths.
fn attr_list(value: Option<&str>) -> Result<Vec<AttrPath>, ScimError> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| attr_path(a).map_err(ScimError::invalid_value))
        .collect()
}

struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

impl Projection {
    fn read(attributes: Option<&str>, excluded: Option<&str>) -> Result<Self, ScimError> {
        Ok(Projection {
            attributes: attr_list(attributes)?,
            excluded: attr_list(excluded)?,
        })
    }

    fn apply(&self, mut resource: Value) -> Value {
        translate::project(&mut resource, &self.attributes, &self.excluded);
        resource
    }

    /// Whether the answer shows an attribute (so it is worth reading).
    fn shows(&self, name: &str) -> bool {
        let named = |list: &[AttrPath]| list.iter().any(|a| !a.enterprise && a.name == name);
        (self.attributes.is_empty() || named(&self.attributes)) && !named(&self.excluded)
    }
}

/// How a list is paged: by index (`startIndex`, from 1) or by cursor (RFC 9865).
enum Paging {
    Index(i64),
    Cursor(String),
}

fn number(value: Option<&str>, name: &str) -> Result<Option<i64>, ScimError> {
    value
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
        })
        .transpose()
}

/// The paging asked for, and the page size: `count` (default [`MAX_COUNT`]) up to `max`.
fn paging(params: &ListParams, max: i64) -> Result<(Paging, i64), ScimError> {
    // RFC 7644 §3.4.2.4: a count below 0 is 0; above the maximum, the maximum.
    let count = number(params.count.as_deref(), "count")?
        .unwrap_or(MAX_COUNT)
        .clamp(0, max);
    let start = number(params.start_index.as_deref(), "startIndex")?;
    match (&params.cursor, start) {
        (Some(_), Some(_)) => Err(ScimError::invalid_value(
            "startIndex and cursor cannot be combined",
        )),
        (Some(cursor), None) => Ok((Paging::Cursor(cursor.clone()), count)),
        (None, start) => {
            // Below 1 is 1 (RFC 7644 §3.4.2.4).
            let start = start.unwrap_or(1).max(1);
            if start > MAX_START_INDEX {
                return Err(ScimError::bad(
                    "tooMany",
                    format!("startIndex reaches {MAX_START_INDEX} at most; page with cursor"),
                ));
            }
            Ok((Paging::Index(start), count))
        }
    }
}

fn list_response(
    total: i64,
    start: Option<i64>,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Response {
    let mut body = json!({
        "schemas": [LIST_URN],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(start) = start {
        body["startIndex"] = json!(start);
    }
    if let Some(next) = next_cursor.filter(|c| !c.is_empty()) {
        body["nextCursor"] = json!(next);
    }
    (StatusCode::OK, scim_json(body)).into_response()
}

/// A user with its user groups `(id, name)` and what the provisioning service keeps on it.
type ShownUser = (User, Vec<(String, String)>, Option<Provisioned>);

/// A page of users at `marker` (a Roster marker), as many as `limit`.
fn users_page(actor: &Actor, marker: &str, limit: i64) -> Result<Page, ScimError> {
    let max = MAX_USER_COUNT as u32;
    Ok(Page::parse_limited(
        &actor.domain_id,
        Some(limit.max(1)),
        Some(marker),
        ("count", max, max),
    )?)
}

/// A page of users answered, each with what SCIM shows of it: the users with their groups
/// (one statement, the directory entries the LDAP gateway reads too), then what providers
/// keep on them (one more).
async fn user_page(
    app: &AppState,
    actor: &Actor,
    query: DirectoryQuery,
    marker: &str,
    limit: i64,
) -> Result<(Vec<ShownUser>, String), ScimError> {
    let page = users_page(actor, marker, limit)?;
    let (entries, next) = app
        .services
        .search_directory_entries(actor, query, &page)
        .await?;
    let objects: Vec<(String, i64)> = entries
        .iter()
        .map(|e| (e.user.user_id.clone(), e.user.created_at))
        .collect();
    let mut kept = app
        .services
        .provisioned(actor, ProvisionedKind::User, &objects)
        .await?;
    let users = entries
        .into_iter()
        .map(|entry| {
            let extras = kept.remove(&entry.user.user_id);
            let groups = entry
                .groups
                .into_iter()
                .filter(|g| g.kind == GroupKind::UserGroup)
                .map(|g| (g.group_id, g.group_name))
                .collect();
            (entry.user, groups, extras)
        })
        .collect();
    Ok((users, next))
}

/// A cursor (RFC 9865): the number of matching users counted when the walk began, then the
/// Roster marker to continue at, `<total>.<marker>` (unreserved characters only). Counting
/// once a walk, not once a page, keeps a walk's pages at the cost of their own rows: a
/// count is a read of every matching user (a million rows a page, before).
fn user_cursor(total: i64, marker: &str) -> String {
    format!("{total}.{marker}")
}

/// `(total, marker)` of a cursor Roster made; `None` for the first page (empty).
fn read_user_cursor(cursor: &str) -> Result<Option<(i64, String)>, ScimError> {
    if cursor.is_empty() {
        return Ok(None);
    }
    cursor
        .split_once('.')
        .and_then(|(total, marker)| {
            let total = total.parse::<i64>().ok().filter(|t| *t >= 0)?;
            (!marker.is_empty()).then(|| (total, marker.to_owned()))
        })
        .map(Some)
        .ok_or_else(|| ScimError::bad("invalidCursor", "the cursor is not one Roster made"))
}

/// The current state of one user, or SCIM's 404.
async fn one_user(app: &AppState, actor: &Actor, id: &str) -> Result<ShownUser, ScimError> {
    let query = DirectoryQuery {
        user_ids: vec![id.to_owned()],
        ..DirectoryQuery::default()
    };
    let (mut users, _) = user_page(app, actor, query, "", 1).await?;
    users
        .pop()
        .ok_or_else(|| ScimError::not_found(format!("no user {id:?}")))
}

async fn list_users(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    users_listing(&app, &headers, params).await
}

async fn search_users(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let params = search_params(body)?;
    users_listing(&app, &headers, params).await
}

async fn search_groups(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let params = search_params(body)?;
    groups_listing(&app, &headers, params).await
}

/// The parameters of a `POST .search` (RFC 7644 §3.4.3), as the query would carry them.
fn search_params(body: Result<Bytes, BytesRejection>) -> Result<ListParams, ScimError> {
    let body = json_body(body)?;
    let text = |key: &str| -> Result<Option<String>, ScimError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Array(items)) => Ok(Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{key} has the wrong type"
            ))),
        }
    };
    Ok(ListParams {
        filter: text("filter")?,
        start_index: text("startindex")?,
        count: text("count")?,
        cursor: text("cursor")?,
        attributes: text("attributes")?,
        excluded_attributes: text("excludedattributes")?,
    })
}

/// What every list starts from: the caller, the base URL, the projection and the paging.
/// (A listing notes no audit records: its caller needs no request's trail.)
async fn listing_context(
    app: &AppState,
    headers: &HeaderMap,
    trail: Trail,
    params: &ListParams,
    max_count: i64,
) -> Result<(Actor, String, Projection, (Paging, i64)), ScimError> {
    let actor = caller(app, headers, trail).await?;
    let projection = Projection::read(
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    Ok((
        actor,
        base_url(headers),
        projection,
        paging(params, max_count)?,
    ))
}

async fn users_listing(
    app: &AppState,
    headers: &HeaderMap,
    params: ListParams,
) -> Result<Response, ScimError> {
    let (app, headers) = (app.clone(), headers.clone());
    let (actor, base, projection, (paging, count)) =
        listing_context(&app, &headers, Trail::none(), &params, MAX_USER_COUNT).await?;
    let query = match params.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        None => DirectoryQuery::default(),
        Some(text) => {
            let filter = parse_filter(text).map_err(ScimError::invalid_filter)?;
            let listing = translate::user_listing(&filter)?;
            let mut query = listing.query;
            if !listing.external_ids.is_empty() {
                let mut ids = Vec::new();
                for external_id in &listing.external_ids {
                    ids.extend(
                        app.services
                            .provisioned_ids(&actor, ProvisionedKind::User, external_id)
                            .await?,
                    );
                }
                if !query.user_ids.is_empty() {
                    query.user_ids.retain(|id| ids.contains(id));
                } else {
                    query.user_ids = ids;
                }
                if query.user_ids.is_empty() {
                    // No user holds it: an id no user can have ('#' is refused in ids).
                    query.user_ids.push("#".into());
                }
            }
            query
        }
    };
    let now = app.services.clock.now_ms();
    let (mut marker, start, counted) = match &paging {
        Paging::Cursor(cursor) => match read_user_cursor(cursor)? {
            Some((total, marker)) => (marker, None, Some(total)),
            None => (String::new(), None, None),
        },
        Paging::Index(start) => (String::new(), Some(*start), None),
    };
    // An index past the first: walk the markers to it (bounded by MAX_START_INDEX).
    let mut skip = start.map_or(0, |s| s - 1);
    let mut ended = false;
    while skip > 0 {
        let (skipped, next) =
            user_page(&app, &actor, query.clone(), &marker, skip.min(MAX_COUNT)).await?;
        skip -= skipped.len() as i64;
        marker = next;
        if marker.is_empty() {
            ended = true;
            break;
        }
    }
    let (users, next) = if ended || count == 0 {
        (Vec::new(), marker.clone())
    } else {
        user_page(&app, &actor, query.clone(), &marker, count).await?
    };
    let total = if let Some(total) = counted {
        // A cursor's later pages answer the count made when the walk began.
        total
    } else if query.equals.is_some() {
        // Served by a prefix scan: count by reading the equal rows (few by nature).
        count_equal(&app, &actor, &query).await?
    } else {
        app.services
            .count_directory_users(&actor, query.clone())
            .await?
    };
    let resources = users
        .iter()
        .map(|(user, groups, kept)| {
            projection.apply(translate::user_json(
                user,
                groups,
                kept.as_ref(),
                &base,
                now,
            ))
        })
        .collect();
    let next_cursor = (!next.is_empty() && count > 0).then(|| match &paging {
        Paging::Cursor(_) => user_cursor(total, &next),
        Paging::Index(_) => next,
    });
    Ok(list_response(
        total,
        start.or(Some(1)),
        resources,
        next_cursor,
    ))
}

/// How many users a query with an exact match finds, reading them (at most 10,000).
async fn count_equal(
    app: &AppState,
    actor: &Actor,
    query: &DirectoryQuery,
) -> Result<i64, ScimError> {
    let mut total = 0;
    let mut marker = String::new();
    loop {
        let page = users_page(actor, &marker, MAX_COUNT)?;
        let (rows, next) = app
            .services
            .search_directory_entries(actor, query.clone(), &page)
            .await?;
        total += rows.len() as i64;
        if next.is_empty() {
            return Ok(total);
        }
        if total >= MAX_START_INDEX {
            return Err(ScimError::bad(
                "tooMany",
                "the filter matches too many users",
            ));
        }
        marker = next;
    }
}

async fn get_user(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let projection = Projection::read(
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let (user, groups, kept) = one_user(&app, &actor, &id).await?;
    let groups = if projection.shows("groups") {
        groups
    } else {
        Vec::new()
    };
    let now = app.services.clock.now_ms();
    let body = translate::user_json(&user, &groups, kept.as_ref(), &base_url(&headers), now);
    Ok(with_version(StatusCode::OK, projection.apply(body), false))
}

async fn create_user(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let body = json_body(body)?;
    let user = translate::user_from_json(&body)?;
    let kept = user.provisioned();
    translate::check_provisioned(&kept)?;
    let spec = translate::new_user(user);
    // The user and what is kept on it in one transaction: never one without the other.
    let created = if kept == Provisioned::default() {
        app.services
            .create_user_with_logons(&actor, spec, "")
            .await?
    } else {
        app.services
            .create_provisioned_user(&actor, spec, kept.clone())
            .await?
    };
    let now = app.services.clock.now_ms();
    let body = translate::user_json(&created, &[], Some(&kept), &base_url(&headers), now);
    Ok(with_version(StatusCode::CREATED, body, true))
}

/// Makes a user what `wanted` says, in one service update; answers it as it is then.
async fn update_to(
    app: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    (current, kept): (&User, Option<&Provisioned>),
    wanted: translate::ScimUser,
) -> Result<Response, ScimError> {
    let wanted_kept = wanted.provisioned();
    translate::check_provisioned(&wanted_kept)?;
    let update = translate::user_update(current, wanted)?;
    let kept_changes =
        Some(&wanted_kept) != kept && !(kept.is_none() && wanted_kept == Provisioned::default());
    // A change that sets nothing changes nothing: no update is asked for. Otherwise the user
    // and what is kept on it change in one transaction.
    if update != UserChanges::default() || kept_changes {
        let object = (current.user_id.as_str(), current.created_at);
        app.services
            .update_provisioned_user(actor, object, update, kept_changes.then_some(wanted_kept))
            .await?;
    }
    let (user, groups, kept) = one_user(app, actor, &current.user_id).await?;
    let now = app.services.clock.now_ms();
    let body = translate::user_json(&user, &groups, kept.as_ref(), &base_url(headers), now);
    Ok(with_version(StatusCode::OK, body, false))
}

async fn replace_user(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let body = json_body(body)?;
    let (current, _, kept) = one_user(&app, &actor, &id).await?;
    check_if_match(&headers, &translate::version(current.updated_at))?;
    if body
        .get("id")
        .is_some_and(|v| v.as_str() != Some(id.as_str()))
    {
        return Err(ScimError::mutability("id cannot change"));
    }
    let wanted = translate::user_from_json(&body)?;
    update_to(&app, &actor, &headers, (&current, kept.as_ref()), wanted).await
}

async fn patch_user(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let body = json_body(body)?;
    let operations = translate::patch_operations(&body)?;
    let (current, _, kept) = one_user(&app, &actor, &id).await?;
    check_if_match(&headers, &translate::version(current.updated_at))?;
    let now = app.services.clock.now_ms();
    let shown = translate::user_json(&current, &[], kept.as_ref(), "", now);
    let mut wanted = translate::patched_user(shown, &operations)?;
    // `active` as shown folds in an automatic lock; unchanged by the PATCH, keep the status.
    if !operations.iter().any(touches_active) {
        wanted.active = current.status == UserStatus::Enabled.as_str();
    }
    update_to(&app, &actor, &headers, (&current, kept.as_ref()), wanted).await
}

fn touches_active(op: &translate::PatchOperation) -> bool {
    match &op.path {
        Some(path) => path.attr.name == "active",
        None => op.value.get("active").is_some(),
    }
}

async fn delete_user(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    if headers.contains_key(header::IF_MATCH) {
        let (current, _, _) = one_user(&app, &actor, &id).await?;
        check_if_match(&headers, &translate::version(current.updated_at))?;
    }
    app.services.delete_user(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The members of a group: the groups nested under it, then its users, up to
/// [`MAX_MEMBERS_SHOWN`].
async fn members_of(
    app: &AppState,
    actor: &Actor,
    group_id: &str,
) -> Result<Vec<ShownMember>, ScimError> {
    let mut members = Vec::new();
    let mut marker = String::new();
    loop {
        let page = app
            .services
            .list_members(
                actor,
                MemberListing {
                    group_id: group_id.to_owned(),
                    kind: None,
                    limit: Some(MAX_COUNT),
                    marker: Some(marker),
                },
            )
            .await?;
        members.extend(page.groups.into_iter().map(|group| ShownMember {
            id: group.group_id,
            display: group.group_name,
            kind: MemberType::Group,
        }));
        members.extend(page.users.into_iter().map(|item| ShownMember {
            id: item.user.user_id,
            display: item.user.nick_name,
            kind: MemberType::User,
        }));
        if page.next_marker.is_empty() || members.len() >= MAX_MEMBERS_SHOWN {
            return Ok(members);
        }
        marker = page.next_marker;
    }
}

/// Whether a member a request names is a user or a group: its `type` when it says, else a
/// user when a user has that id, else a group when a user group has it, else a user (whose
/// absence the membership change then answers).
async fn member_kind(
    app: &AppState,
    actor: &Actor,
    member: &MemberRef,
) -> Result<MemberType, ScimError> {
    if let Some(kind) = member.kind {
        return Ok(kind);
    }
    match app.services.get_user(actor, Some(&member.id)).await {
        Ok(_) => return Ok(MemberType::User),
        Err(Error::NotFound(_) | Error::InvalidParameter { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    match app.services.existing_user_group(actor, &member.id).await {
        Ok(_) => Ok(MemberType::Group),
        Err(Error::NotFound(_) | Error::InvalidParameter { .. }) => Ok(MemberType::User),
        Err(e) => Err(e.into()),
    }
}

/// The members a request names, split into user ids and group ids.
async fn split_members(
    app: &AppState,
    actor: &Actor,
    members: &[MemberRef],
) -> Result<(Vec<String>, Vec<String>), ScimError> {
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    for member in members {
        match member_kind(app, actor, member).await? {
            MemberType::User => users.push(member.id.clone()),
            MemberType::Group => groups.push(member.id.clone()),
        }
    }
    Ok((users, groups))
}

/// One group as SCIM shows it (with its members when `with_members`), or SCIM's 404.
async fn one_group(
    app: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    id: &str,
    with_members: bool,
) -> Result<Value, ScimError> {
    let group = match app.services.existing_user_group(actor, id).await {
        Err(Error::NotFound(_) | Error::InvalidParameter { .. }) => {
            return Err(ScimError::not_found(format!("no group {id:?}")))
        }
        other => other?,
    };
    let members = if with_members {
        Some(members_of(app, actor, id).await?)
    } else {
        None
    };
    let object = [(group.group_id.clone(), group.created_at)];
    let kept = app
        .services
        .provisioned(actor, ProvisionedKind::Group, &object)
        .await?
        .remove(&group.group_id)
        .unwrap_or_default();
    let view = translate::ScimGroupView {
        id: &group.group_id,
        name: &group.group_name,
        created_at: group.created_at,
        updated_at: group.updated_at,
        members,
        external_id: &kept.external_id,
    };
    Ok(translate::group_json(&view, &base_url(headers)))
}

/// A cursor over groups: the offset it continues at.
fn group_cursor(offset: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("g{offset}"))
}

fn group_offset(cursor: &str) -> Result<i64, ScimError> {
    if cursor.is_empty() {
        return Ok(0);
    }
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix('g')?.parse::<i64>().ok())
        .filter(|offset| (0..=MAX_START_INDEX).contains(offset))
        .ok_or_else(|| ScimError::bad("invalidCursor", "the cursor is not one Roster made"))
}

async fn list_groups(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    groups_listing(&app, &headers, params).await
}

async fn groups_listing(
    app: &AppState,
    headers: &HeaderMap,
    params: ListParams,
) -> Result<Response, ScimError> {
    let (app, headers) = (app.clone(), headers.clone());
    let (actor, base, projection, (paging, count)) =
        listing_context(&app, &headers, Trail::none(), &params, MAX_COUNT).await?;
    let listing = match params.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        None => translate::GroupListing::default(),
        Some(text) => {
            let filter = parse_filter(text).map_err(ScimError::invalid_filter)?;
            translate::group_listing(&filter)?
        }
    };
    let (offset, start) = match &paging {
        Paging::Cursor(cursor) => (group_offset(cursor)?, None),
        Paging::Index(start) => (start - 1, Some(*start)),
    };
    let by_id = listing.id.is_some() || listing.external_id.is_some() || listing.member.is_some();
    let (groups, total) = if by_id {
        // A few groups, found by id: paged here.
        let found = groups_by_id(&app, &actor, &listing).await?;
        let total = found.len() as i64;
        let page = found
            .into_iter()
            .skip(offset as usize)
            .take(count as usize)
            .collect();
        (page, total)
    } else {
        groups_by_name(&app, &actor, listing.name.as_deref(), offset, count).await?
    };
    let with_members = projection.shows("members");
    let objects: Vec<(String, i64)> = groups
        .iter()
        .map(|g| (g.group_id.clone(), g.created_at))
        .collect();
    let kept = app
        .services
        .provisioned(&actor, ProvisionedKind::Group, &objects)
        .await?;
    let mut resources = Vec::with_capacity(groups.len());
    for g in &groups {
        let members = if with_members {
            Some(members_of(&app, &actor, &g.group_id).await?)
        } else {
            None
        };
        let view = translate::ScimGroupView {
            id: &g.group_id,
            name: &g.group_name,
            created_at: g.created_at,
            updated_at: g.updated_at,
            members,
            external_id: kept.get(&g.group_id).map_or("", |k| k.external_id.as_str()),
        };
        resources.push(projection.apply(translate::group_json(&view, &base)));
    }
    let next_offset = offset + resources.len() as i64;
    let next_cursor = (listing.name.is_none() && !by_id && count > 0 && next_offset < total)
        .then(|| group_cursor(next_offset));
    Ok(list_response(
        total,
        start.or(Some(1)),
        resources,
        next_cursor,
    ))
}

/// The groups from `offset` on (at most `count`), all or those named `name` (any case), and
/// how many there are.
async fn groups_by_name(
    app: &AppState,
    actor: &Actor,
    name: Option<&str>,
    offset: i64,
    count: i64,
) -> Result<(Vec<Group>, i64), ScimError> {
    // Pages of 100 by number; the rows from `offset` on.
    let mut groups = Vec::new();
    let mut total;
    let mut number = offset / MAX_COUNT + 1;
    let mut skip = (offset % MAX_COUNT) as usize;
    loop {
        let (all, page) = app
            .services
            .user_groups(actor, None, name, number, MAX_COUNT)
            .await?;
        total = all;
        let read = page.len();
        groups.extend(page.into_iter().skip(skip).map(|g| g.group));
        skip = 0;
        if groups.len() as i64 >= count || read < MAX_COUNT as usize {
            break;
        }
        number += 1;
    }
    groups.truncate(count as usize);
    if let Some(name) = name {
        // `contains` served the read; the filter asks for equality (any case).
        groups.retain(|g| g.group_name.to_lowercase() == name.to_lowercase());
        total = groups.len() as i64;
    }
    Ok((groups, total))
}

/// The groups a filter names by id, external id or member (each condition narrows the
/// others), checked against the name when it names one too.
async fn groups_by_id(
    app: &AppState,
    actor: &Actor,
    listing: &translate::GroupListing,
) -> Result<Vec<Group>, ScimError> {
    let mut candidates: Option<Vec<String>> = listing.id.clone().map(|id| vec![id]);
    let mut narrow = |ids: Vec<String>| {
        candidates = Some(match candidates.take() {
            None => ids,
            Some(had) => had.into_iter().filter(|id| ids.contains(id)).collect(),
        });
    };
    if let Some(external_id) = &listing.external_id {
        narrow(
            app.services
                .provisioned_ids(actor, ProvisionedKind::Group, external_id)
                .await?,
        );
    }
    if let Some(member) = &listing.member {
        let groups = match one_user(app, actor, member).await {
            Ok((_, groups, _)) => groups.into_iter().map(|(id, _)| id).collect(),
            // Not a user: a nested group is a member of its parent.
            Err(ScimError::Scim(StatusCode::NOT_FOUND, ..)) => {
                match app.services.existing_user_group(actor, member).await {
                    Ok(group) => vec![group.parent_group_id].into_iter().collect(),
                    Err(Error::NotFound(_) | Error::InvalidParameter { .. }) => Vec::new(),
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e),
        };
        narrow(groups);
    }
    let mut found = Vec::new();
    for id in candidates.unwrap_or_default() {
        let group = match app.services.existing_user_group(actor, &id).await {
            Err(Error::NotFound(_) | Error::InvalidParameter { .. }) => continue,
            other => other?,
        };
        let named = listing
            .name
            .as_ref()
            .is_none_or(|name| group.group_name.to_lowercase() == name.to_lowercase());
        if named {
            found.push(group);
        }
    }
    if let Some(external_id) = &listing.external_id {
        // A row left by an earlier group of the same id is not this one's.
        let objects: Vec<(String, i64)> = found
            .iter()
            .map(|g| (g.group_id.clone(), g.created_at))
            .collect();
        let kept = app
            .services
            .provisioned(actor, ProvisionedKind::Group, &objects)
            .await?;
        found.retain(|g| {
            kept.get(&g.group_id)
                .is_some_and(|k| &k.external_id == external_id)
        });
    }
    Ok(found)
}

async fn get_group(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let projection = Projection::read(
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let body = one_group(&app, &actor, &headers, &id, projection.shows("members")).await?;
    Ok(with_version(StatusCode::OK, projection.apply(body), false))
}

/// Keeps a group's external id (`""`: none).
async fn keep_group_external_id(
    app: &AppState,
    actor: &Actor,
    group_id: &str,
    external_id: String,
) -> Result<(), ScimError> {
    let group = app.services.existing_user_group(actor, group_id).await?;
    let kept = Provisioned {
        external_id,
        data: Default::default(),
    };
    let object = (group_id, group.created_at);
    app.services
        .set_provisioned(actor, ProvisionedKind::Group, object, kept)
        .await?;
    Ok(())
}

/// Adds and removes members (each list of users checked whole before it changes anything):
/// users join and leave; a group added is nested under this one, a group removed goes back
/// to the top level of the tree (see docs/scim.md).
async fn change_members(
    app: &AppState,
    actor: &Actor,
    group_id: &str,
    added: &[MemberRef],
    removed: &[MemberRef],
) -> Result<(), ScimError> {
    let (added_users, added_groups) = split_members(app, actor, added).await?;
    let (removed_users, removed_groups) = split_members(app, actor, removed).await?;
    if !added_users.is_empty() {
        app.services
            .set_user_group_membership(actor, group_id, &added_users, true)
            .await?;
    }
    if !removed_users.is_empty() {
        app.services
            .set_user_group_membership(actor, group_id, &removed_users, false)
            .await?;
    }
    for child in &removed_groups {
        app.services
            .unnest_user_group(actor, group_id, child)
            .await?;
    }
    for child in &added_groups {
        match app.services.nest_user_group(actor, group_id, child).await {
            Err(Error::InvalidParameter { .. }) => {
                return Err(ScimError::invalid_value(format!(
                    "group {child} cannot be a member of itself or of a group nested under it"
                )))
            }
            Err(Error::NotFound(_)) => {
                return Err(ScimError::invalid_value(format!("no group {child:?}")))
            }
            other => other?,
        }
    }
    Ok(())
}

/// The members to add and remove to go from `current` to `wanted`.
fn member_diff(current: &[ShownMember], wanted: &[MemberRef]) -> (Vec<MemberRef>, Vec<MemberRef>) {
    let added = wanted
        .iter()
        .filter(|w| !current.iter().any(|c| c.id == w.id))
        .cloned()
        .collect();
    let removed = current
        .iter()
        .filter(|c| !wanted.iter().any(|w| w.id == c.id))
        .map(|c| MemberRef {
            id: c.id.clone(),
            kind: Some(c.kind),
        })
        .collect();
    (added, removed)
}

async fn create_group(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let body = json_body(body)?;
    let group = translate::group_from_json(&body, None)?;
    let group_id = app
        .services
        .create_user_group(&actor, &group.display_name, None)
        .await?;
    let members = group.members.unwrap_or_default();
    let mut made = change_members(&app, &actor, &group_id, &members, &[]).await;
    if made.is_ok() && !group.external_id.is_empty() {
        made = keep_group_external_id(&app, &actor, &group_id, group.external_id).await;
    }
    if let Err(e) = made {
        // Nothing half-made: a group whose members were refused goes again, after the groups
        // already nested under it go back to the top level, where they were (a group under
        // another parent is refused, never moved here).
        let (_, nested) = split_members(&app, &actor, &members)
            .await
            .unwrap_or_default();
        for child in &nested {
            let _ = app
                .services
                .unnest_user_group(&actor, &group_id, child)
                .await;
        }
        app.services
            .remove_user_groups(&actor, std::slice::from_ref(&group_id))
            .await?;
        return Err(e);
    }
    let body = one_group(&app, &actor, &headers, &group_id, true).await?;
    Ok(with_version(StatusCode::CREATED, body, true))
}

async fn replace_group(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let body = json_body(body)?;
    let current = group_matching_if_match(&app, &actor, &headers, &id).await?;
    let group = translate::group_from_json(&body, Some(&id))?;
    let members = members_of(&app, &actor, &id).await?;
    let (added, removed) = member_diff(&members, &group.members.unwrap_or_default());
    if current["displayName"].as_str() != Some(group.display_name.as_str()) {
        app.services
            .modify_user_group(&actor, &id, &group.display_name, None)
            .await?;
    }
    change_members(&app, &actor, &id, &added, &removed).await?;
    if current["externalId"].as_str().unwrap_or_default() != group.external_id {
        keep_group_external_id(&app, &actor, &id, group.external_id).await?;
    }
    let body = one_group(&app, &actor, &headers, &id, true).await?;
    Ok(with_version(StatusCode::OK, body, false))
}

async fn patch_group(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    let body = json_body(body)?;
    let operations = translate::patch_operations(&body)?;
    let changes = translate::group_changes(&operations)?;
    let current = group_matching_if_match(&app, &actor, &headers, &id).await?;
    let (added, removed) = if changes.replaced.is_some() || changes.remove_all {
        let members = members_of(&app, &actor, &id).await?;
        let mut wanted = changes.replaced.clone().unwrap_or_default();
        wanted.extend(changes.added.iter().cloned());
        wanted.retain(|w| !changes.removed.contains(w));
        member_diff(&members, &wanted)
    } else {
        // Entra ID removes members that are already gone: only current members go (a
        // group that is not nested here is left alone by `unnest_user_group`).
        let removed = if changes.removed.is_empty() {
            Vec::new()
        } else {
            let ids: Vec<String> = changes.removed.iter().map(|r| r.id.clone()).collect();
            let joined = app.services.joined_user_group_at(&actor, &id, &ids).await?;
            let mut current = Vec::new();
            for member in &changes.removed {
                let is_member = joined.contains_key(&member.id);
                let kind = if is_member && member.kind.is_none() {
                    MemberType::User
                } else {
                    member_kind(&app, &actor, member).await?
                };
                if kind == MemberType::Group || is_member {
                    current.push(MemberRef {
                        id: member.id.clone(),
                        kind: Some(kind),
                    });
                }
            }
            current
        };
        (changes.added.clone(), removed)
    };
    if let Some(name) = &changes.display_name {
        if current["displayName"].as_str() != Some(name.as_str()) {
            app.services
                .modify_user_group(&actor, &id, name, None)
                .await?;
        }
    }
    change_members(&app, &actor, &id, &added, &removed).await?;
    if let Some(external_id) = changes.external_id {
        keep_group_external_id(&app, &actor, &id, external_id).await?;
    }
    let body = one_group(&app, &actor, &headers, &id, true).await?;
    Ok(with_version(StatusCode::OK, body, false))
}

async fn delete_group(
    State(app): State<AppState>,
    trail: Trail,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let actor = caller(&app, &headers, trail).await?;
    group_matching_if_match(&app, &actor, &headers, &id).await?;
    app.services
        .remove_user_groups(&actor, std::slice::from_ref(&id))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
