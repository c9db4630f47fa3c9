//! Users as CSV on the console: import a file in the CLI's format (`roster import`, the same
//! columns and rules: `identity` required, users that exist already skipped, rows repeating an
//! earlier row's user or identity rejected) through the service's bulk creation, with a result
//! page of counts and the rejected rows downloadable with the reason for each; and export of
//! the users page's current search, streamed page by page (never the whole list in memory).

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::forms::UsersQuery;
use super::texts::ConsoleTexts;
use super::Operator;
use crate::error::{Error, ParamProblem, Resource};
use crate::http::signin::html;
use crate::http::AppState;
use crate::model::{ImportedUserSpec, PageDirection, UserSearch};
use crate::service::users::UserCreation;
use crate::users_csv::{
    read_row, write_rejects, Columns, CsvReject, CsvRow, CsvUser, FirstRows, HeaderProblem,
};

/// The largest file the import form takes (bigger files: `roster import`, which resumes).
pub const MAX_UPLOAD: usize = 16 << 20;
/// Rows sent to the service's bulk creation at once (one store transaction each).
const BATCH: usize = 100;
/// Rejected rows listed on the result page (all of them are in the download).
const SHOWN_REJECTS: usize = 100;
/// Users read per page while exporting.
const EXPORT_PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    error: String,
    result: Option<ImportResult>,
    /// Rejected rows listed on the page.
    shown: usize,
}

/// What an import did.
#[derive(Default)]
struct ImportResult {
    rows: usize,
    created: usize,
    existing: usize,
    rejects: Vec<CsvReject>,
    /// The reject file (the file's columns plus `error_line`, `error_code`,
    /// `error_message`), carried by the download form.
    rejects_csv: String,
}

/// `GET /console/users/import`: the upload form (admins).
pub async fn import_form(op: Operator) -> Response {
    if let Err(e) = op.actor.require_admin() {
        return op.failed(&e);
    }
    page(&op, StatusCode::OK, String::new(), None)
}

fn page(
    op: &Operator,
    status: StatusCode,
    error: String,
    result: Option<ImportResult>,
) -> Response {
    html(
        status,
        ImportPage {
            op,
            ct: op.ct,
            error,
            result,
            shown: SHOWN_REJECTS,
        },
    )
}

/// `POST /console/users/import` (`multipart/form-data`: `csrf`, `file`): imports the file.
pub async fn import(
    State(app): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parts = match multipart_fields(&headers, &body) {
        Some(parts) => parts,
        None => {
            let e = Error::param(ParamProblem::MalformedBody, "file");
            return page(&op, StatusCode::BAD_REQUEST, op.ct.sentence(&e), None);
        }
    };
    let csrf = parts
        .get("csrf")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    if let Some(refused) = op.page.check_form(&csrf) {
        return refused;
    }
    if let Err(e) = op.actor.require_admin() {
        return op.failed(&e);
    }
    let file = match parts.get("file") {
        Some(file) if !file.is_empty() => file,
        _ => {
            let e = Error::missing("file");
            return page(&op, StatusCode::BAD_REQUEST, op.ct.sentence(&e), None);
        }
    };
    match import_file(&app, &op, file).await {
        Ok(result) => page(&op, StatusCode::OK, String::new(), Some(result)),
        Err(e @ Error::InvalidParameter { .. }) => {
            page(&op, StatusCode::BAD_REQUEST, op.ct.sentence(&e), None)
        }
        Err(e) => op.failed(&e),
    }
}

async fn import_file(
    app: &AppState,
    op: &Operator,
    file: &[u8],
) -> crate::error::Result<ImportResult> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|_| Error::param(ParamProblem::Invalid, "file"))?
        .clone();
    let columns = Columns::of_header(&header).map_err(|problem| {
        let kind = match problem {
            HeaderProblem::NoIdentity => ParamProblem::Missing,
            HeaderProblem::UnknownColumn(_) => ParamProblem::Invalid,
        };
        Error::param(kind, "file").with_rule(problem.to_string())
    })?;
    let mut result = ImportResult::default();
    let mut first_rows = FirstRows::default();
    let mut batch: Vec<CsvRow> = Vec::with_capacity(BATCH);
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                result.rows += 1;
                result
                    .rejects
                    .push(CsvReject::malformed(line, Vec::new(), &e.to_string()));
                continue;
            }
        }
        result.rows += 1;
        let line = record.position().map_or(line, |p| p.line());
        match read_row(line, &record, &columns).and_then(|row| first_rows.check(row)) {
            Ok(row) => batch.push(row),
            Err(reject) => result.rejects.push(reject),
        }
        if batch.len() == BATCH {
            send(app, op, std::mem::take(&mut batch), &mut result).await?;
        }
    }
    if !batch.is_empty() {
        send(app, op, batch, &mut result).await?;
    }
    result.rejects.sort_by_key(|r| r.line);
    result.rejects_csv = rejects_file(&header, &result.rejects);
    Ok(result)
}

/// One batch through `Services::create_users` (as `/v2/batch` of `/user/import` calls).
async fn send(
    app: &AppState,
    op: &Operator,
    rows: Vec<CsvRow>,
    result: &mut ImportResult,
) -> crate::error::Result<()> {
    let (specs, rows): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .map(|row| {
            let named = row.user.user_id.is_some();
            let spec = UserCreation::Import(import_spec(row.user));
            (spec, (row.line, row.fields, named))
        })
        .unzip();
    let outcomes = app.services.create_users(&op.actor, specs).await?;
    for (outcome, (line, fields, named)) in outcomes.into_iter().zip(rows) {
        match outcome {
            Ok(_) => result.created += 1,
            // Imported already: its user id exists, or (a row naming none) its identity.
            Err(Error::AlreadyExists(Resource::User)) if named => result.existing += 1,
            Err(Error::AlreadyExists(Resource::Account)) if !named => result.existing += 1,
            Err(e) => result.rejects.push(CsvReject {
                line,
                fields,
                code: e.audit_code(),
                message: op.ct.sentence(&e),
            }),
        }
    }
    Ok(())
}

/// The user a row names, as the import call the service takes.
fn import_spec(user: CsvUser) -> ImportedUserSpec {
    ImportedUserSpec {
        user_id: user.user_id,
        kind: user.kind,
        nick_name: user.nick_name,
        identity: user.identity,
        email: user.email,
        phone: user.phone,
        plain_password: user.password,
        parent_group_id: user.group_id,
        auto_create_drive: user.drive_size.map(|_| true),
        drive_total_size: user.drive_size,
        display_name: None,
        extra: None,
        deny_change_password_by_self: None,
        need_change_password_next_login: None,
        expired_at: None,
        phone_region: None,
    }
}

/// The reject file (`roster import`'s format), carried by the download form.
fn rejects_file(header: &csv::ByteRecord, rejects: &[CsvReject]) -> String {
    if rejects.is_empty() {
        return String::new();
    }
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let _ = write_rejects(&mut writer, header, rejects);
    writer
        .into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The fields of a `multipart/form-data` body by name (the import form's `csrf` and `file`);
/// none when the body is not one.
fn multipart_fields<'a>(headers: &HeaderMap, body: &'a [u8]) -> Option<HashMap<String, &'a [u8]>> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params.split(';').find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.eq_ignore_ascii_case("boundary")
            .then(|| value.trim_matches('"').to_owned())
    })?;
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let mut fields = HashMap::new();
    let mut rest = body;
    // Up to the first delimiter (a preamble), then part after part.
    let start = find(rest, delimiter.as_bytes())?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(fields);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let content = &rest[head_end + 4..];
        let next = find(content, format!("\r\n{delimiter}").as_bytes())?;
        let name = head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            value.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k == "name").then(|| v.trim_matches('"').to_owned())
            })
        })?;
        fields.insert(name, &content[..next]);
        rest = &content[next + 2 + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The reject file the result page carries back.
#[derive(Debug, Default, Deserialize)]
pub struct RejectsForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub rejects: String,
}

/// `POST /console/users/import/rejects`: the rejected rows of the import just shown, as a
/// download (the page carries them; the server keeps nothing between the two requests).
pub async fn rejects(op: Operator, Form(form): Form<RejectsForm>) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    if let Err(e) = op.actor.require_admin() {
        return op.failed(&e);
    }
    csv_attachment("users.rejects.csv", form.rejects)
}

fn csv_attachment(name: &str, body: impl Into<axum::body::Body>) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // Directory data (and a reject file's rows as the operator wrote them): never cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `GET /console/users/export?<the users page's query>`: the users of that search as CSV,
/// read a page at a time as the browser takes them (the same search as the page: a group
/// admin's export holds its subtrees' users only).
pub async fn export(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<UsersQuery>,
) -> Response {
    let search = match query.search() {
        Ok(search) => UserSearch {
            limit: Some(EXPORT_PAGE),
            marker: None,
            direction: PageDirection::Forward,
            ..search
        },
        Err(e) => return op.failed(&e),
    };
    // The first page now, so a refused search is a page, not a broken download.
    let first = match app
        .services
        .console_users(&op.actor, &op.scope, search.clone())
        .await
    {
        Ok(first) => first,
        Err(e) => return op.failed(&e),
    };
    let header = "user_id,nick_name,email,phone,role,status,created_at\n".to_owned();
    let state = Export {
        app,
        op_actor: op.actor.clone(),
        scope: op.scope.clone(),
        search,
        pending: Some(first),
        done: false,
    };
    let header_chunk = futures_util::stream::once(async move { Ok::<_, std::io::Error>(header) });
    let rows = futures_util::stream::try_unfold(state, |mut state| async move {
        match state.next_chunk().await {
            Ok(Some(chunk)) => Ok(Some((chunk, state))),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "users export failed while streaming");
                Err(std::io::Error::other("users export failed"))
            }
        }
    });
    use futures_util::StreamExt;
    let body = axum::body::Body::from_stream(header_chunk.chain(rows));
    csv_attachment("users.csv", body)
}

/// An export in progress: the search, and the page read but not yet written.
struct Export {
    app: AppState,
    op_actor: crate::service::Actor,
    scope: crate::service::console::ConsoleScope,
    search: UserSearch,
    pending: Option<crate::model::ListedBothWays<crate::model::UserWithExtras>>,
    done: bool,
}

impl Export {
    async fn next_chunk(&mut self) -> crate::error::Result<Option<String>> {
        let page = match self.pending.take() {
            Some(page) => page,
            None if self.done => return Ok(None),
            None => {
                self.app
                    .services
                    .console_users(&self.op_actor, &self.scope, self.search.clone())
                    .await?
            }
        };
        if page.next_marker.is_empty() {
            self.done = true;
        } else {
            self.search.marker = Some(page.next_marker.clone());
        }
        let mut writer = csv::Writer::from_writer(Vec::new());
        for item in &page.items {
            let u = &item.user;
            let created = crate::time_format::iso8601_ms(u.created_at);
            writer
                .write_record([
                    u.user_id.as_str(),
                    u.nick_name.as_str(),
                    u.email.as_str(),
                    u.phone.as_str(),
                    u.role.as_str(),
                    u.status.as_str(),
                    created.as_str(),
                ])
                .map_err(|e| Error::internal(anyhow::anyhow!("writing CSV: {e}")))?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| Error::internal(anyhow::anyhow!("writing CSV: {e}")))?;
        if bytes.is_empty() && self.done {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u.csv\"\r\nContent-Type: text/csv\r\n\r\nidentity\r\na@x.org\r\n\r\n--XyZ--\r\n";
        let fields = multipart_fields(&headers, body).unwrap();
        assert_eq!(fields["csrf"], b"tok");
        assert_eq!(fields["file"], b"identity\r\na@x.org\r\n");
        let mut plain = HeaderMap::new();
        plain.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert!(multipart_fields(&plain, b"a=b").is_none());
        assert!(multipart_fields(&headers, b"--XyZ\r\nbroken").is_none());
    }
}
