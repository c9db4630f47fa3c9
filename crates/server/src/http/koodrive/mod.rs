//! The KooDrive OSE dialect (`/koodrive/ose/v1/...`): users, departments, user groups and
//! spaces of Huawei KooDrive's organization API, over Roster's core. Answers are
//! `{code, msg, data}` envelopes (or the payload at the top level, where the vendor's pages
//! show it there). Each handler translates to service calls; no rule lives here.
//! `docs/koodrive.md` maps every endpoint and lists the readings chosen where the vendor's
//! documentation contradicts itself.

mod auth;
mod departments;
mod error;
pub mod openapi;
pub mod signature;
mod spaces;
mod user_groups;
mod users;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

pub use error::KdError;

use super::{AppState, MAX_BODY_BYTES};
use crate::error::{Error, ParamProblem};
use crate::service::Actor;

/// The language of `msg`, from the `language` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
}

tokio::task_local! {
    static LANGUAGE: Language;
}

/// The current request's language (English outside a KooDrive request).
pub fn current_language() -> Language {
    LANGUAGE.try_with(|l| *l).unwrap_or(Language::English)
}

/// `zh-CN`, `zh_cn`, `zh` → Chinese; anything else (the default `en-US`) → English.
fn language_of(headers: &HeaderMap) -> Language {
    let tag = headers
        .get("language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if tag.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("zh")) {
        Language::Chinese
    } else {
        Language::English
    }
}

const V1: &str = "/koodrive/ose/v1";

/// A path under `/koodrive/ose/v1`.
fn v1(path: &str) -> String {
    format!("{V1}{path}")
}

/// Unknown KooDrive paths, and known ones called with another method: KooDrive's envelope.
pub async fn not_found() -> axum::response::Response {
    use axum::response::IntoResponse;
    KdError::from(crate::error::Error::NotFound(crate::error::Resource::Route)).into_response()
}

pub fn router() -> Router<AppState> {
    // Full paths rather than `nest`: a nested router sees the path without its prefix, and
    // the app signature covers the full one.
    Router::new()
        .route(&v1("/users"), post(users::create))
        .route(&v1("/users/count"), get(users::count))
        .route(
            &v1("/users/{user_id}"),
            get(users::get).put(users::update).delete(users::delete),
        )
        .route(&v1("/userList"), get(users::list))
        .route(&v1("/departments"), post(departments::create))
        .route(
            &v1("/departments/{id}"),
            get(departments::get)
                .put(departments::update)
                .delete(departments::delete),
        )
        .route(&v1("/departmentList"), get(departments::list))
        .route(
            &v1("/usergroups"),
            post(user_groups::create).get(user_groups::list),
        )
        .route(
            &v1("/usergroups/{id}"),
            get(user_groups::get)
                .put(user_groups::update)
                .delete(user_groups::delete),
        )
        // The vendor's DeleteUserGroup example has this typo; clients copy examples.
        .route(&v1("/usergroup/{id}"), delete(user_groups::delete))
        .route(&v1("/usergroups/{id}/members"), get(user_groups::members))
        .route(
            &v1("/usergroups/{id}/members/batchAdd"),
            post(user_groups::batch_add),
        )
        .route(
            &v1("/usergroups/{id}/members/batchDelete"),
            post(user_groups::batch_delete),
        )
        .route(&v1("/space/userList"), get(spaces::user_list))
        .route(&v1("/space/departmentList"), get(spaces::department_list))
        .route(&v1("/space/teamList"), get(spaces::team_list))
        .route(&v1("/space/group"), post(spaces::create_group))
        .route(&v1("/space/groupList"), get(spaces::group_list))
        .route(
            &v1("/space/{owner_id}"),
            post(spaces::create)
                .get(spaces::get)
                .put(spaces::update)
                .delete(spaces::delete),
        )
        .route("/koodrive/ose/v2/space/{owner_id}", get(spaces::list_v2))
        .layer(middleware::from_fn(context))
}

/// Sets the answer's language for the request and echoes `X-Traceid`.
async fn context(request: Request, next: Next) -> Response {
    let language = language_of(request.headers());
    let trace_id = request.headers().get("x-traceid").cloned();
    let mut response = LANGUAGE.scope(language, next.run(request)).await;
    if let Some(trace_id) = trace_id.filter(|t| t.len() <= 128) {
        response.headers_mut().insert("x-traceid", trace_id);
    }
    response
}

/// One KooDrive call: its authenticated actor, query and body.
pub struct Call {
    pub actor: Actor,
    query: Vec<(String, String)>,
    body: Bytes,
}

impl FromRequest<AppState> for Call {
    type Rejection = Response;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, Self::Rejection> {
        Call::read(request, app)
            .await
            .map_err(IntoResponse::into_response)
    }
}

impl Call {
    async fn read(request: Request, app: &AppState) -> Result<Call, KdError> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| Error::PayloadTooLarge)?;
        let query: Vec<(String, String)> = match parts.uri.query() {
            Some(q) => serde_urlencoded::from_str(q).map_err(|_| Error::invalid("query"))?,
            None => Vec::new(),
        };
        let actor = auth::authenticate(app, &parts, &query, &body).await?;
        let actor = crate::http::in_request(actor, &parts.extensions);
        crate::http::note_caller(&actor);
        Ok(Call { actor, query, body })
    }

    /// A query parameter; `""` counts as absent.
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn int_param(&self, name: &str) -> Result<Option<i64>, KdError> {
        self.param(name)
            .map(|v| v.parse().map_err(|_| Error::invalid(name).into()))
            .transpose()
    }

    /// `true`/`false` (also `1`/`0`).
    fn bool_param(&self, name: &str) -> Result<Option<bool>, KdError> {
        match self.param(name) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(Error::invalid(name).into()),
        }
    }

    /// `offset` (≥ 0) and `limit` (1..=100), both required, Strings or Integers alike.
    fn offset_limit(&self) -> Result<(i64, u32), KdError> {
        let offset = self.int_param("offset")?.ok_or(Error::missing("offset"))?;
        let limit = self.int_param("limit")?.ok_or(Error::missing("limit"))?;
        if offset < 0 {
            return Err(Error::out_of_range("offset").into());
        }
        let limit = u32::try_from(limit)
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or(Error::out_of_range("limit"))?;
        Ok((offset, limit))
    }

    /// The JSON body as `T`; an empty body reads as `{}`.
    fn body<T: DeserializeOwned>(&self) -> Result<T, KdError> {
        let bytes: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(bytes)
            .map_err(|_| Error::param(ParamProblem::MalformedBody, "body").into())
    }
}

type Answer = Result<Json<Value>, KdError>;

fn success_msg() -> &'static str {
    match current_language() {
        Language::Chinese => "成功",
        Language::English => "success",
    }
}

/// `{code: 0, msg}`: a plain mutation's answer.
fn done() -> Answer {
    Ok(Json(json!({ "code": 0, "msg": success_msg() })))
}

/// `{code: 0, msg, data}`.
fn with_data(data: impl serde::Serialize) -> Answer {
    let data = serde_json::to_value(data).map_err(|e| Error::Internal(e.into()))?;
    Ok(Json(
        json!({ "code": 0, "msg": success_msg(), "data": data }),
    ))
}

/// `{code: 0, msg, ...fields}`: answers whose payload sits at the top level.
fn flat(fields: impl serde::Serialize) -> Answer {
    let Value::Object(fields) =
        serde_json::to_value(fields).map_err(|e| Error::Internal(e.into()))?
    else {
        return Err(Error::Internal(anyhow::anyhow!("a flat answer must be an object")).into());
    };
    let mut answer = Map::new();
    answer.insert("code".into(), json!(0));
    answer.insert("msg".into(), json!(success_msg()));
    answer.extend(fields);
    Ok(Json(Value::Object(answer)))
}

/// A required text field of a body.
fn required<'a>(name: &str, value: &'a Option<String>) -> Result<&'a str, KdError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::missing(name).into())
}
