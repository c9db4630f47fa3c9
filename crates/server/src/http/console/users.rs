//! The users pages: the list (one search box, filters, marker paging both ways, no count), a
//! user (profile, lock and unlock, role, password reset, groups, drives), a new user.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::forms::{ActionForm, EditUserForm, NewUserForm, UsersQuery};
use super::texts::ConsoleTexts;
use super::Operator;
use crate::error::Error;
use crate::http::signin::html;
use crate::http::AppState;

/// Audit records shown on a user's page.
const HISTORY: i64 = 10;

use crate::model::{
    AccessKey, Account, Drive, DriveSearch, IssuedAccessKey, User, UserChanges, UserExtras,
    UserWithExtras,
};

/// What a user's page shows once, after a task: a new access key with its secret.
#[derive(Default)]
pub struct Shown {
    pub issued: Option<IssuedAccessKey>,
}

/// A sign-in session as the user's page lists it.
pub struct ShownSession {
    pub created_at: String,
    pub last_seen_at: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    query: &'a UsersQuery,
    field: &'a str,
    /// Each user and its page.
    users: Vec<(User, String)>,
    next: Option<String>,
    previous: Option<String>,
    error: String,
    /// This search as a CSV download.
    export_url: String,
}

/// `GET /console/users`: one page of the search.
pub async fn list(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<UsersQuery>,
) -> Response {
    let found = match query.search() {
        Ok(req) => app.services.console_users(&op.actor, &op.scope, req).await,
        Err(e) => Err(e),
    };
    let (users, (previous, next), error, status) = match found {
        Ok(page) => (
            page.items
                .into_iter()
                .map(|item| {
                    let href = user_url(&item.user.user_id);
                    (item.user, href)
                })
                .collect(),
            (
                query.previous_link(&page.previous_marker),
                query.next_link(&page.next_marker),
            ),
            String::new(),
            StatusCode::OK,
        ),
        Err(e @ Error::InvalidParameter { .. }) => (
            Vec::new(),
            (None, None),
            op.ct.sentence(&e),
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => return op.failed(&e),
    };
    let field = if query.field.is_empty() {
        super::forms::guessed_field(query.q.trim())
    } else {
        query.field.as_str()
    };
    html(
        status,
        UsersPage {
            op: &op,
            ct: op.ct,
            query: &query,
            field,
            users,
            previous,
            next,
            error,
            export_url: format!("/console/users/export?{}", query.filters_only()),
        },
    )
}

#[derive(Template)]
#[template(path = "console/new_user.html")]
struct NewUserPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    fields: Vec<Field<'a>>,
    error: String,
    error_field: String,
}

/// `GET /console/users/new`.
pub async fn new_form(op: Operator) -> Response {
    html(
        StatusCode::OK,
        NewUserPage {
            op: &op,
            ct: op.ct,
            fields: new_user_fields(op.ct, &NewUserForm::default()),
            error: String::new(),
            error_field: String::new(),
        },
    )
}

/// `POST /console/users/new`: `user/create`; a refusal is shown next to its field.
pub async fn create(
    State(app): State<AppState>,
    op: Operator,
    Form(form): Form<NewUserForm>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    match app.services.create_user(&op.actor, form.spec()).await {
        Ok(user) => Redirect::to(&user_url(&user.user_id)).into_response(),
        Err(
            e @ (Error::InvalidParameter { .. } | Error::AlreadyExists(_) | Error::Conflict(_)),
        ) => html(
            StatusCode::BAD_REQUEST,
            NewUserPage {
                op: &op,
                ct: op.ct,
                fields: new_user_fields(op.ct, &form),
                error: op.ct.sentence(&e),
                error_field: ConsoleTexts::field_of(&e).unwrap_or("user_id").to_owned(),
            },
        ),
        Err(e) => op.failed(&e),
    }
}

/// A labelled input of a form.
struct Field<'a> {
    name: &'static str,
    label: &'static str,
    value: &'a str,
    kind: &'static str,
}

impl<'a> Field<'a> {
    fn new(name: &'static str, label: &'static str, value: &'a str, kind: &'static str) -> Self {
        Field {
            name,
            label,
            value,
            kind,
        }
    }
}

fn new_user_fields<'a>(ct: &'static ConsoleTexts, form: &'a NewUserForm) -> Vec<Field<'a>> {
    vec![
        Field::new("user_id", ct.user_id, &form.user_id, "text"),
        Field::new("nick_name", ct.nick_name, &form.nick_name, "text"),
        Field::new("email", ct.email, &form.email, "email"),
        Field::new("phone", ct.phone, &form.phone, "text"),
        Field::new("password", ct.password, "", "password"),
    ]
}

fn user_url(user_id: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(user_id.as_bytes()).collect();
    format!("/console/users/{id}")
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    item: &'a UserWithExtras,
    u: &'a User,
    fields: Vec<Field<'a>>,
    drives: Vec<Drive>,
    /// Its latest audit records, and the audit page of all of them.
    history: Vec<super::audit::ShownRecord>,
    history_url: String,
    /// The drives page, searching this user's drives.
    drives_url: String,
    url: String,
    error: String,
    error_field: String,
    notice: &'a str,
    /// Its logon accounts, access keys and live sign-in sessions (admins' console only).
    accounts: Vec<Account>,
    keys: Vec<AccessKey>,
    sessions: Vec<ShownSession>,
    /// Its auto-lock time (UTC, `datetime-local`), empty when none.
    auto_lock_at: String,
    /// A key just created, its secret shown this once.
    issued: Option<IssuedAccessKey>,
}

/// The user's page with what a task shows once.
pub(super) async fn user_page(
    app: &AppState,
    op: &Operator,
    user_id: &str,
    status: StatusCode,
    error: Option<&Error>,
    notice: &str,
) -> Response {
    user_page_with(app, op, user_id, status, error, notice, Shown::default()).await
}

#[allow(clippy::too_many_arguments)]
async fn user_page_with(
    app: &AppState,
    op: &Operator,
    user_id: &str,
    status: StatusCode,
    error: Option<&Error>,
    notice: &str,
    shown: Shown,
) -> Response {
    // A group admin sees the user, not the groups and drives outside its subtrees.
    let whole = op.scope.is_domain();
    let extras = UserExtras {
        groups: whole,
        ..UserExtras::default()
    };
    let item = match app
        .services
        .console_user(&op.actor, &op.scope, user_id, extras)
        .await
    {
        Ok(item) => item,
        Err(e) => return op.failed(&e),
    };
    let drives = DriveSearch {
        owner: Some(user_id.to_owned()),
        ..DriveSearch::default()
    };
    let drives = if whole {
        match app.services.search_drives(&op.actor, drives).await {
            Ok(page) => page.items,
            Err(e) => return op.failed(&e),
        }
    } else {
        Vec::new()
    };
    // Its latest audit records (what was done to it), as `audit_log/list` answers them.
    let history = if whole {
        let filters = super::forms::AuditQuery {
            object: user_id.to_owned(),
            ..super::forms::AuditQuery::default()
        };
        let listed = match filters.query() {
            Ok(query) => {
                let req = crate::model::AuditSearch {
                    query,
                    limit: Some(HISTORY),
                    ..crate::model::AuditSearch::default()
                };
                app.services.list_audit_log(&op.actor, req).await
            }
            Err(e) => Err(e),
        };
        match listed {
            Ok(page) => page.items.into_iter().map(Into::into).collect(),
            Err(e) => return op.failed(&e),
        }
    } else {
        Vec::new()
    };
    // Its accounts, keys and sessions: the API's reads (admins only).
    let (accounts, keys, sessions) = if whole {
        let s = &app.services;
        let accounts = match s.link_info_of_user(&op.actor, user_id).await {
            Ok(accounts) => accounts,
            Err(e) => return op.failed(&e),
        };
        let keys = match s
            .list_access_keys(&op.actor, Some(user_id.to_owned()), None, None)
            .await
        {
            Ok(page) => page.items,
            Err(e) => return op.failed(&e),
        };
        let sessions = match s.user_signin_sessions(&op.actor, user_id).await {
            Ok(sessions) => sessions
                .into_iter()
                .map(|s| ShownSession {
                    created_at: crate::time_format::iso8601_ms(s.created_at),
                    last_seen_at: crate::time_format::iso8601_ms(s.last_seen_at),
                })
                .collect(),
            Err(e) => return op.failed(&e),
        };
        (accounts, keys, sessions)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let auto_lock_at = if item.user.expired_at > 0 {
        let iso = crate::time_format::iso8601_ms(item.user.expired_at);
        iso.get(..16).unwrap_or(&iso).to_owned()
    } else {
        String::new()
    };
    html(
        status,
        UserPage {
            op,
            ct: op.ct,
            item: &item,
            u: &item.user,
            fields: vec![
                Field::new("nick_name", op.ct.nick_name, &item.user.nick_name, "text"),
                Field::new("email", op.ct.email, &item.user.email, "email"),
                Field::new("phone", op.ct.phone, &item.user.phone, "text"),
                Field::new(
                    "description",
                    op.ct.description,
                    &item.user.description,
                    "text",
                ),
            ],
            drives,
            history,
            history_url: format!(
                "/console/audit?{}",
                super::forms::query_string(&[("object", user_id)])
            ),
            drives_url: format!(
                "/console/drives?{}",
                super::forms::query_string(&[("owner", user_id)])
            ),
            url: user_url(user_id),
            error: error.map(|e| op.ct.sentence(e)).unwrap_or_default(),
            error_field: error
                .and_then(ConsoleTexts::field_of)
                .unwrap_or("")
                .to_owned(),
            notice,
            accounts,
            keys,
            sessions,
            auto_lock_at,
            issued: shown.issued,
        },
    )
}

/// `GET /console/users/{user_id}`.
pub async fn show(
    State(app): State<AppState>,
    op: Operator,
    Path(user_id): Path<String>,
) -> Response {
    user_page(&app, &op, &user_id, StatusCode::OK, None, "").await
}

/// The page after a change: the user again, with the refusal next to its field, or "done".
async fn after(
    app: &AppState,
    op: &Operator,
    user_id: &str,
    done: crate::error::Result<()>,
) -> Response {
    match done {
        Ok(()) => user_page(app, op, user_id, StatusCode::OK, None, op.ct.done).await,
        Err(
            e @ (Error::InvalidParameter { .. } | Error::AlreadyExists(_) | Error::Conflict(_)),
        ) => user_page(app, op, user_id, StatusCode::BAD_REQUEST, Some(&e), "").await,
        Err(e) => op.failed(&e),
    }
}

/// `POST /console/users/{user_id}`: the profile form (`user/update`).
pub async fn edit(
    State(app): State<AppState>,
    op: Operator,
    Path(user_id): Path<String>,
    Form(form): Form<EditUserForm>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let done = app
        .services
        .update_user(&op.actor, &user_id, form.update())
        .await
        .map(|_| ());
    after(&app, &op, &user_id, done).await
}

/// `POST /console/users/{user_id}/action`: lock (confirmed), unlock, role, password reset,
/// a new password at next sign-in.
pub async fn action(
    State(app): State<AppState>,
    op: Operator,
    Path(user_id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let s = &app.services;
    let done = match form.action.as_str() {
        "lock" if form.confirm != "yes" => Err(Error::missing("confirm")),
        "lock" => s.lock_user(&op.actor, &user_id).await,
        "unlock" => s.unlock_user(&op.actor, &user_id, None).await,
        "reset" => s.request_password_reset(&op.actor, &user_id).await,
        "require_new_password" => {
            let req = UserChanges {
                need_change_password_next_login: Some(true),
                ..UserChanges::default()
            };
            s.update_user(&op.actor, &user_id, req).await.map(|_| ())
        }
        "role" => match form.role() {
            Ok(role) => {
                let req = UserChanges {
                    role: Some(role),
                    ..UserChanges::default()
                };
                s.update_user(&op.actor, &user_id, req).await.map(|_| ())
            }
            Err(e) => Err(e),
        },
        _ => Err(Error::param(crate::error::ParamProblem::Invalid, "action")),
    };
    after(&app, &op, &user_id, done).await
}

/// The page after one of the user page's tasks (`user_tasks`): as [`after`], with what the
/// task shows once.
pub(super) async fn after_task(
    app: &AppState,
    op: &Operator,
    user_id: &str,
    done: crate::error::Result<()>,
    shown: Shown,
) -> Response {
    match done {
        Ok(()) => user_page_with(app, op, user_id, StatusCode::OK, None, op.ct.done, shown).await,
        Err(
            e @ (Error::InvalidParameter { .. } | Error::AlreadyExists(_) | Error::Conflict(_)),
        ) => {
            user_page_with(
                app,
                op,
                user_id,
                StatusCode::BAD_REQUEST,
                Some(&e),
                "",
                shown,
            )
            .await
        }
        Err(e) => op.failed(&e),
    }
}
