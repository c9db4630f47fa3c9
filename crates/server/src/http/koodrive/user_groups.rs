//! User groups: `/usergroups`, `/usergroups/{id}`, its `/members`, `batchAdd` and
//! `batchDelete`. A KooDrive user group (`sourceType` 1) is a group of kind `user_group`;
//! `sourceType` 0 (a collaboration "group") is not served.

use axum::extract::{Path, State};
use roster_api::koodrive::{
    BatchMembersBody, BatchOutcome, Created, FailedMember, MemberInfo, MemberPage, UserGroupAnswer,
    UserGroupBody, UserGroupInfo, UserGroupPage,
};
use serde_json::Value;

use super::{done, flat, required, Answer, Call, KdError};
use crate::error::Error;
use crate::http::AppState;
use crate::model::Group;
use crate::service::directory::DirectoryQuery;
use crate::service::Actor;

/// The one `sourceType` Roster serves: a user group (用户组).
const SOURCE_USER_GROUP: i64 = 1;
const DEFAULT_PAGE_SIZE: i64 = 100;
const MAX_PAGE_SIZE: i64 = 100;
/// Member roles of a user group.
const MEMBER_OWNER: i64 = 0;
const MEMBER_PLAIN: i64 = 2;

/// `sourceType`, when given, must be 1.
fn check_source_type(source_type: Option<i64>) -> Result<(), KdError> {
    match source_type {
        None | Some(SOURCE_USER_GROUP) => Ok(()),
        Some(_) => Err(Error::not_supported("sourceType").into()),
    }
}

/// KooDrive's group-name rule: none of `<>|:"*?/\`, not `.`, `..` or blank.
fn group_name(body: &UserGroupBody) -> Result<String, KdError> {
    let name = required("groupName", &body.group_name)?;
    let forbidden = name.chars().any(|c| "<>|:\"*?/\\".contains(c));
    if forbidden || name == "." || name == ".." {
        return Err(Error::invalid("groupName").into());
    }
    Ok(name.to_owned())
}

fn info(actor: &Actor, group: Group) -> UserGroupInfo {
    UserGroupInfo {
        id: group.group_id,
        group_name: group.group_name,
        owner_id: group.creator,
        tenant_id: actor.domain_id.to_string(),
        source_type: SOURCE_USER_GROUP,
        icon_url: String::new(),
        created_time: group.created_at,
        updated_time: group.updated_at,
    }
}

pub async fn create(State(app): State<AppState>, call: Call) -> Answer {
    let body: UserGroupBody = call.body()?;
    if body.source_type.is_none() {
        return Err(Error::missing("sourceType").into());
    }
    check_source_type(body.source_type)?;
    let name = group_name(&body)?;
    let id = app
        .services
        .create_user_group(&call.actor, &name, None)
        .await?;
    flat(Created { id })
}

/// Pages by `pageSize` and the opaque `pageCursor` a previous page answered as `nextCursor`
/// (absent on the last page).
pub async fn list(State(app): State<AppState>, call: Call) -> Answer {
    check_source_type(call.int_param("sourceType")?)?;
    let size = call.int_param("pageSize")?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(Error::out_of_range("pageSize").into());
    }
    let number = match call.param("pageCursor") {
        None => 1,
        Some(cursor) => cursor
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or(Error::invalid("pageCursor"))?,
    };
    let (total, groups) = app
        .services
        .user_groups(&call.actor, None, call.param("groupName"), number, size)
        .await?;
    let list: Vec<UserGroupInfo> = groups
        .into_iter()
        .map(|g| info(&call.actor, g.group))
        .collect();
    let next_cursor = (number.saturating_mul(size) < total).then(|| (number + 1).to_string());
    flat(UserGroupPage {
        user_group_list: list,
        total,
        next_cursor,
    })
}

pub async fn get(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    check_source_type(call.int_param("sourceType")?)?;
    call.actor.require_admin()?;
    let group = app.services.existing_user_group(&call.actor, &id).await?;
    flat(UserGroupAnswer {
        user_group: info(&call.actor, group),
    })
}

pub async fn update(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    let body: UserGroupBody = call.body()?;
    let name = group_name(&body)?;
    app.services
        .modify_user_group(&call.actor, &id, &name, None)
        .await?;
    done()
}

pub async fn delete(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    app.services
        .remove_user_groups(&call.actor, std::slice::from_ref(&id))
        .await?;
    done()
}

pub async fn members(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    let (offset, limit) = call.offset_limit()?;
    let services = &app.services;
    let actor = &call.actor;
    let group = services.existing_user_group(actor, &id).await?;
    let query = DirectoryQuery {
        direct_member_of: Some(id.clone()),
        nick_name_contains: call.param("keyWord").map(str::to_owned),
        ..DirectoryQuery::default()
    };
    let (total, rows) = services
        .users_at_offset(actor, query, offset, limit)
        .await?;
    let ids: Vec<String> = rows.iter().map(|u| u.user_id.clone()).collect();
    let joined = services.joined_user_group_at(actor, &id, &ids).await?;
    let details = services.user_details(actor, &rows).await?;
    let infos: Vec<MemberInfo> = rows
        .into_iter()
        .map(|user| {
            let department = details
                .orgs
                .get(&user.user_id)
                .and_then(|orgs| orgs.first())
                .map(|org| org.group.clone());
            let joined_at = joined.get(&user.user_id).copied().unwrap_or_default();
            MemberInfo {
                role: if user.user_id == group.creator {
                    MEMBER_OWNER
                } else {
                    MEMBER_PLAIN
                },
                dept_id: department
                    .as_ref()
                    .map(|d| d.group_id.clone())
                    .unwrap_or_default(),
                dept_name: department.map(|d| d.group_name).unwrap_or_default(),
                user_name: user.nick_name,
                mobile: user.phone,
                top: 0,
                created_time: joined_at,
                updated_time: joined_at,
                user_id: user.user_id,
            }
        })
        .collect();
    flat(MemberPage {
        total,
        user_group_member_infos: infos,
    })
}

/// The user ids of a batch: `amendModRoles[].userId`, else `userIds[]`.
fn batch_user_ids(body: BatchMembersBody) -> Result<Vec<String>, KdError> {
    let ids: Vec<String> = match (body.amend_mod_roles, body.user_ids) {
        (Some(roles), _) => roles.into_iter().filter_map(|r| r.user_id).collect(),
        (None, Some(ids)) => ids
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        (None, None) => return Err(Error::missing("amendModRoles").into()),
    };
    if ids.is_empty() || ids.len() > 100 {
        return Err(Error::out_of_range("amendModRoles").into());
    }
    Ok(ids)
}

/// Adds or removes each user on its own: `status` 0 all done, 1 some failed, 2 all failed,
/// and each failure in `failedList` with its code.
async fn batch(app: &AppState, call: &Call, id: &str, join: bool) -> Answer {
    let user_ids = batch_user_ids(call.body()?)?;
    app.services.existing_user_group(&call.actor, id).await?;
    let mut failed = Vec::new();
    for user_id in &user_ids {
        let outcome = app
            .services
            .set_user_group_membership(&call.actor, id, std::slice::from_ref(user_id), join)
            .await;
        if let Err(e) = outcome {
            failed.push(FailedMember {
                user_id: user_id.clone(),
                code: KdError::from(e).code(),
            });
        }
    }
    let status = match failed.len() {
        0 => 0,
        n if n == user_ids.len() => 2,
        _ => 1,
    };
    flat(BatchOutcome {
        status,
        failed_list: failed,
    })
}

pub async fn batch_add(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    batch(&app, &call, &id, true).await
}

pub async fn batch_delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    call: Call,
) -> Answer {
    batch(&app, &call, &id, false).await
}
