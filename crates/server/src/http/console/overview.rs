//! The overview at `/console`: the domain's users and storage against its quotas (the users
//! a kept count, never a scan), the last day's sign-ins and failed sign-ins (bounded counts
//! over an index of the audit log), the latest audit records. The services'
//! `console_overview`, admins only as the quota call and the audit log are; a group admin
//! goes on to its users page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::audit::ShownRecord;
use super::texts::ConsoleTexts;
use super::Operator;
use crate::http::signin::html;
use crate::http::AppState;

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    users_used: i64,
    users_quota: String,
    storage_used: String,
    storage_quota: String,
    /// `<meter>` values: what is used and the maximum (0 when unlimited: no meter).
    users_meter: (i64, i64),
    storage_meter: (i64, i64),
    signins: String,
    failed_signins: String,
    records: Vec<ShownRecord>,
}

/// A size in bytes as people read it (binary units).
pub(super) fn size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A count, or "at least" it when counting stopped at its cap.
fn count(ct: &ConsoleTexts, n: i64, capped: bool) -> String {
    if capped {
        format!("{} {n}", ct.at_least)
    } else {
        n.to_string()
    }
}

/// `GET /console`.
pub async fn show(State(app): State<AppState>, op: Operator) -> Response {
    if !op.scope.is_domain() {
        return Redirect::to("/console/users").into_response();
    }
    let overview = match app.services.console_overview(&op.actor).await {
        Ok(overview) => overview,
        Err(e) => return op.failed(&e),
    };
    let ct = op.ct;
    let q = overview.quota;
    let limit = |quota: i64, shown: String| {
        if quota > 0 {
            shown
        } else {
            ct.unlimited.to_owned()
        }
    };
    html(
        StatusCode::OK,
        OverviewPage {
            op: &op,
            ct,
            users_used: q.user_count_used,
            users_quota: limit(q.user_count_quota, q.user_count_quota.to_string()),
            storage_used: size(q.size_used),
            storage_quota: limit(q.size_quota, size(q.size_quota)),
            users_meter: (q.user_count_used, q.user_count_quota.max(0)),
            storage_meter: (q.size_used, q.size_quota.max(0)),
            signins: count(ct, overview.signins, overview.signins_capped),
            failed_signins: count(ct, overview.failed_signins, overview.failed_capped),
            records: overview.latest.into_iter().map(ShownRecord::from).collect(),
        },
    )
}
