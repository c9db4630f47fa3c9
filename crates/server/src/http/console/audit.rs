//! The audit log page (filters by actor, action, object, outcome and time; marker pages both
//! ways; CSV export of the same filters) and the outbox page (mail not sent). Both are the
//! API's `audit_log/list`, `audit_log/export` and `outbox/list` with the operator as caller.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::forms::{AuditQuery, PageQuery, Paged, PAGE_SIZE};
use super::texts::ConsoleTexts;
use super::Operator;
use crate::error::Error;
use crate::http::signin::html;
use crate::http::AppState;
use crate::model::{AuditEntry, AuditExportSpec, AuditSearch};
use crate::time_format::iso8601_ms;

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    query: &'a AuditQuery,
    records: Vec<ShownRecord>,
    next: Option<String>,
    previous: Option<String>,
    export: String,
    error: String,
    error_field: String,
}

/// An audit record as the pages show it (the time in ISO 8601, the API's names).
pub(super) struct ShownRecord {
    pub log_id: String,
    pub acted_at: String,
    pub actor_id: String,
    pub action_type: String,
    pub action_category: String,
    pub object_id: String,
    pub outcome: String,
    pub error_code: String,
    pub client_ip: String,
}

impl From<AuditEntry> for ShownRecord {
    fn from(entry: AuditEntry) -> Self {
        ShownRecord {
            log_id: entry.log_id,
            acted_at: iso8601_ms(entry.acted_at),
            actor_id: entry.actor_id,
            action_type: entry.action,
            action_category: entry.target_type,
            object_id: entry.target_id,
            outcome: entry.outcome,
            error_code: entry.error_code,
            client_ip: entry.client_ip,
        }
    }
}

/// `GET /console/audit`: one page of the log, newest first.
pub async fn list(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<AuditQuery>,
) -> Response {
    let found = match query.query() {
        Ok(text) => {
            let req = AuditSearch {
                query: text,
                limit: Some(PAGE_SIZE),
                marker: (!query.marker.is_empty()).then(|| query.marker.clone()),
                ..AuditSearch::default()
            };
            app.services.list_audit_log(&op.actor, req).await
        }
        Err(e) => Err(e),
    };
    let (records, next, error, status) = match found {
        Ok(page) => (
            page.items.into_iter().map(ShownRecord::from).collect(),
            query.next_link(&page.next_marker),
            None,
            StatusCode::OK,
        ),
        Err(e @ Error::InvalidParameter { .. }) => {
            (Vec::new(), None, Some(e), StatusCode::BAD_REQUEST)
        }
        Err(e) => return op.failed(&e),
    };
    html(
        status,
        AuditPage {
            op: &op,
            ct: op.ct,
            query: &query,
            records,
            next,
            previous: query.previous_link(),
            export: query.filters_only(),
            error: error
                .as_ref()
                .map(|e| op.ct.sentence(e))
                .unwrap_or_default(),
            error_field: error
                .as_ref()
                .and_then(ConsoleTexts::field_of)
                .unwrap_or("")
                .to_owned(),
        },
    )
}

/// `GET /console/audit/export`: the records of the same filters as a CSV file.
pub async fn export(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<AuditQuery>,
) -> Response {
    let s = &app.services;
    let opened = async {
        let req = AuditExportSpec {
            query: Some(query.query()?),
            file_name: Some("audit_log.csv".into()),
            ..AuditExportSpec::default()
        };
        let task_id = s.export_audit_log(&op.actor, req).await?;
        s.open_audit_export(&op.actor, &task_id).await
    };
    match opened.await {
        Ok((file_name, export)) => crate::http::csv_download(&file_name, export),
        Err(e) => op.failed(&e),
    }
}

/// A message of the outbox, as the page shows it.
struct Mail {
    recipient: String,
    subject: String,
    body: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "console/outbox.html")]
struct OutboxPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    mails: Vec<Mail>,
    next: Option<String>,
    previous: Option<String>,
}

/// `GET /console/outbox`: mail kept because it was not sent, newest first.
pub async fn outbox(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<PageQuery>,
) -> Response {
    let marker = (!query.marker.is_empty()).then_some(query.marker.as_str());
    let (rows, next_marker) = match app
        .services
        .outbox(&op.actor, Some(PAGE_SIZE), marker)
        .await
    {
        Ok(page) => page,
        Err(e) => return op.failed(&e),
    };
    let mails = rows
        .into_iter()
        .map(|m| Mail {
            recipient: m.recipient,
            subject: m.subject,
            body: m.body,
            created_at: iso8601_ms(m.created_at),
        })
        .collect();
    html(
        StatusCode::OK,
        OutboxPage {
            op: &op,
            ct: op.ct,
            mails,
            next: query.next_link(&next_marker),
            previous: query.previous_link(),
        },
    )
}
