//! The groups page: the tree opened one level at a time (a level is one marker-paged
//! `list_group_users` call, so a 10,000-group tree never loads at once); create a subgroup,
//! rename, move (the service refuses a move into the group's own subtree), delete (confirmed);
//! add and remove user members.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::forms::{GroupAction, GroupsQuery, PAGE_SIZE};
use super::texts::ConsoleTexts;
use super::Operator;
use crate::error::{Error, Result};
use crate::http::signin::html;
use crate::http::AppState;
use crate::model::{Group, GroupMembers, MemberKind, MemberListing, UserExtras, UserWithExtras};
use crate::service::console::ConsoleScope;

#[derive(Template)]
#[template(path = "console/groups.html")]
struct GroupsPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    /// The opened group (none: the top of the tree).
    group: Option<Group>,
    groups: Vec<Group>,
    users: Vec<UserWithExtras>,
    next: Option<String>,
    error: String,
}

/// `GET /console/groups?group_id=...`: one level of the tree.
pub async fn level(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<GroupsQuery>,
) -> Response {
    show(&app, &op, &query, StatusCode::OK, None).await
}

async fn show(
    app: &AppState,
    op: &Operator,
    query: &GroupsQuery,
    status: StatusCode,
    error: Option<&Error>,
) -> Response {
    let opened = async {
        let group = match query.group() {
            Some(id) => Some(app.services.console_group(&op.actor, &op.scope, id).await?),
            None => None,
        };
        // A group admin's top level is the groups it administers.
        if let (None, ConsoleScope::Subtrees(roots)) = (&group, &op.scope) {
            let mut groups = Vec::with_capacity(roots.len());
            for id in roots {
                groups.push(app.services.get_group(&op.actor, id).await?);
            }
            let members = GroupMembers {
                groups,
                users: Vec::new(),
                next_marker: String::new(),
            };
            return Ok((group, members));
        }
        // The top of the tree shows its groups only: the users in no group are not listed
        // there, and finding them reads every user (a million rows at a million users).
        let req = MemberListing {
            group_id: query.group().unwrap_or_default().to_owned(),
            kind: query.group().is_none().then_some(MemberKind::Group),
            limit: Some(PAGE_SIZE),
            marker: query.marker(),
        };
        let members = app
            .services
            .list_group_users(&op.actor, req, UserExtras::default())
            .await?;
        Ok::<_, Error>((group, members))
    };
    let (group, members) = match opened.await {
        Ok(found) => found,
        Err(e) => return op.failed(&e),
    };
    html(
        status,
        GroupsPage {
            op,
            ct: op.ct,
            group,
            groups: members.groups,
            users: members.users,
            next: query.next_link(&members.next_marker),
            error: error.map(|e| op.ct.sentence(e)).unwrap_or_default(),
        },
    )
}

/// `POST /console/groups/action`: one change, then the level it concerns.
pub async fn action(
    State(app): State<AppState>,
    op: Operator,
    Form(form): Form<GroupAction>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let s = &app.services;
    let done: Result<Option<String>> = async {
        Ok(match form.action.as_str() {
            "create" => Some(s.create_group(&op.actor, form.create()).await?.group_id),
            "rename" | "move" => Some(
                s.update_group(&op.actor, &form.group_id, form.update()?)
                    .await?
                    .group_id,
            ),
            "delete" if form.confirm != "yes" => return Err(Error::missing("confirm")),
            "delete" => {
                let parent = s
                    .get_group(&op.actor, &form.group_id)
                    .await?
                    .parent_group_id;
                s.delete_group(&op.actor, &form.group_id).await?;
                Some(parent)
            }
            "add_user" => {
                s.add_member(&op.actor, &form.group_id, form.member())
                    .await?;
                Some(form.group_id.clone())
            }
            "remove_user" => {
                s.remove_member(&op.actor, &form.group_id, form.member())
                    .await?;
                Some(form.group_id.clone())
            }
            _ => return Err(Error::param(crate::error::ParamProblem::Invalid, "action")),
        })
    }
    .await;
    match done {
        Ok(at) => {
            Redirect::to(&super::forms::group_url(at.as_deref().unwrap_or(""))).into_response()
        }
        Err(
            e @ (Error::InvalidParameter { .. } | Error::AlreadyExists(_) | Error::Conflict(_)),
        ) => {
            let query = GroupsQuery {
                group_id: form.group_id.clone(),
                marker: String::new(),
            };
            show(&app, &op, &query, StatusCode::BAD_REQUEST, Some(&e)).await
        }
        Err(e) => op.failed(&e),
    }
}
