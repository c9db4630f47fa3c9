//! The drives page: search by owner and by name (marker pages both ways), change a drive's
//! quota, delete a drive (confirmed). The API's `drive/search`, `drive/update` and
//! `drive/delete` with the operator as caller (admins only, as there).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::forms::{DriveAction, DrivesQuery, Paged};
use super::texts::ConsoleTexts;
use super::Operator;
use crate::error::Error;
use crate::http::signin::html;
use crate::http::AppState;
use crate::model::Drive;

#[derive(Template)]
#[template(path = "console/drives.html")]
struct DrivesPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    query: &'a DrivesQuery,
    /// Each drive and its quota in MiB (`-1`: unlimited).
    drives: Vec<(Drive, i64)>,
    next: Option<String>,
    previous: Option<String>,
    error: String,
    /// The drive the error concerns.
    error_drive: String,
}

/// `GET /console/drives`.
pub async fn list(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<DrivesQuery>,
) -> Response {
    show(&app, &op, &query, None, "").await
}

async fn show(
    app: &AppState,
    op: &Operator,
    query: &DrivesQuery,
    error: Option<&Error>,
    error_drive: &str,
) -> Response {
    let (drives, next, status, error) =
        match app.services.search_drives(&op.actor, query.search()).await {
            Ok(page) => (
                page.items,
                query.next_link(&page.next_marker),
                error.map_or(StatusCode::OK, |_| StatusCode::BAD_REQUEST),
                error.map(|e| op.ct.sentence(e)),
            ),
            Err(e @ Error::InvalidParameter { .. }) => (
                Vec::new(),
                None,
                StatusCode::BAD_REQUEST,
                Some(op.ct.sentence(&e)),
            ),
            Err(e) => return op.failed(&e),
        };
    let drives = drives
        .into_iter()
        .map(|d| {
            let mib = if d.total_size < 0 {
                -1
            } else {
                d.total_size >> 20
            };
            (d, mib)
        })
        .collect();
    html(
        status,
        DrivesPage {
            op,
            ct: op.ct,
            query,
            drives,
            next,
            previous: query.previous_link(),
            error: error.unwrap_or_default(),
            error_drive: error_drive.to_owned(),
        },
    )
}

/// `POST /console/drives/action`: a new quota, or a delete (confirmed).
pub async fn action(
    State(app): State<AppState>,
    op: Operator,
    Form(form): Form<DriveAction>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let s = &app.services;
    let done = match form.action.as_str() {
        "quota" => match form.quota() {
            Ok(change) => s
                .update_drive(&op.actor, &form.drive_id, change)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "delete" if form.confirm != "yes" => Err(Error::missing("confirm")),
        "delete" => s.delete_drive(&op.actor, &form.drive_id).await,
        _ => Err(Error::param(crate::error::ParamProblem::Invalid, "action")),
    };
    let query = form.query();
    match done {
        Ok(()) => {
            let at = super::forms::query_string(&[
                ("owner", query.owner.as_str()),
                ("name", query.name.as_str()),
            ]);
            let url = if at.is_empty() {
                "/console/drives".to_owned()
            } else {
                format!("/console/drives?{at}")
            };
            Redirect::to(&url).into_response()
        }
        Err(
            e @ (Error::InvalidParameter { .. } | Error::Conflict(_) | Error::QuotaExhausted(_)),
        ) => show(&app, &op, &query, Some(&e), &form.drive_id).await,
        Err(e) => op.failed(&e),
    }
}
