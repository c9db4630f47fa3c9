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
use crate::model::{ImportedUserSpec, LogonKind, UserSearch};
use crate::service::users::UserCreation;

/// The largest file the import form takes (bigger files: `roster import`, which resumes).
pub const MAX_UPLOAD: usize = 16 << 20;
/// Rows sent to the service's bulk creation at once (one store transaction each).
const BATCH: usize = 100;
/// Rejected rows listed on the result page (all of them are in the download).
const SHOWN_REJECTS: usize = 100;
/// Users read per page while exporting.
const EXPORT_PAGE: i64 = 100;

/// The columns a file may have, in any order; only `identity` is required (as the CLI's).
const COLUMNS: [&str; 9] = [
    "user_id",
    "nick_name",
    "authentication_type",
    "identity",
    "email",
    "phone",
    "password",
    "group_id",
    "drive_size",
];

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
    rejects: Vec<Reject>,
    /// The reject file (the file's columns plus `error_line`, `error_code`,
    /// `error_message`), carried by the download form.
    rejects_csv: String,
}

/// A rejected row.
struct Reject {
    line: u64,
    fields: Vec<String>,
    code: String,
    message: String,
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

/// A row read into its import call.
struct Row {
    line: u64,
    fields: Vec<String>,
    spec: ImportedUserSpec,
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
    let columns = column_positions(&header)?;
    let mut result = ImportResult::default();
    let mut first_rows: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
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
                    .push(malformed(line, Vec::new(), &e.to_string()));
                continue;
            }
        }
        result.rows += 1;
        let line = record.position().map_or(line, |p| p.line());
        match read_row(line, &record, header.len(), &columns)
            .and_then(|row| first_of_file(&mut first_rows, row))
        {
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
    rows: Vec<Row>,
    result: &mut ImportResult,
) -> crate::error::Result<()> {
    let (specs, rows): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .map(|row| {
            let spec = UserCreation::Import(row.spec.clone());
            (spec, (row.line, row.fields, row.spec.user_id.is_some()))
        })
        .unzip();
    let outcomes = app.services.create_users(&op.actor, specs).await?;
    for (outcome, (line, fields, named)) in outcomes.into_iter().zip(rows) {
        match outcome {
            Ok(_) => result.created += 1,
            // Imported already: its user id exists, or (a row naming none) its identity.
            Err(Error::AlreadyExists(Resource::User)) if named => result.existing += 1,
            Err(Error::AlreadyExists(Resource::Account)) if !named => result.existing += 1,
            Err(e) => result.rejects.push(Reject {
                line,
                fields,
                code: e.audit_code(),
                message: op.ct.sentence(&e),
            }),
        }
    }
    Ok(())
}

fn malformed(line: u64, fields: Vec<String>, why: &str) -> Reject {
    Reject {
        line,
        fields,
        code: "MalformedRow".into(),
        message: why.to_owned(),
    }
}

/// Where each known column is; an unknown column refuses the file (a typo would lose data).
/// `error_*` columns (a reject file's) are ignored, so a fixed reject file imports as it is.
fn column_positions(
    header: &csv::ByteRecord,
) -> crate::error::Result<HashMap<&'static str, usize>> {
    let mut positions = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
        let name = name.trim_start_matches('\u{feff}');
        if name.starts_with("error_") {
            continue;
        }
        let known = COLUMNS.iter().find(|c| **c == name).ok_or_else(|| {
            Error::param(ParamProblem::Invalid, "file").with_rule(format!(
                "unknown column {name:?}; the columns are {}",
                COLUMNS.join(", ")
            ))
        })?;
        positions.insert(*known, index);
    }
    if !positions.contains_key("identity") {
        return Err(Error::param(ParamProblem::Missing, "file")
            .with_rule("the header row has no identity column"));
    }
    Ok(positions)
}

/// A size such as `1073741824`, `10G`, `5 MiB` or `-1` (unlimited), as the CLI reads it.
fn parse_size(text: &str) -> Result<i64, String> {
    let upper = text.trim().to_ascii_uppercase();
    let digits = upper.trim_end_matches(['B', 'I']);
    let (number, shift) = match digits.chars().last() {
        Some('K') => (&digits[..digits.len() - 1], 10),
        Some('M') => (&digits[..digits.len() - 1], 20),
        Some('G') => (&digits[..digits.len() - 1], 30),
        Some('T') => (&digits[..digits.len() - 1], 40),
        _ => (digits, 0),
    };
    let bad = || format!("drive_size {text:?} is not a size such as 1073741824, 10G or -1");
    let number: i64 = number.trim().parse().map_err(|_| bad())?;
    if number == -1 && shift == 0 {
        return Ok(-1);
    }
    if number < 0 {
        return Err(bad());
    }
    number.checked_mul(1i64 << shift).ok_or_else(bad)
}

fn read_row(
    line: u64,
    record: &csv::ByteRecord,
    width: usize,
    columns: &HashMap<&'static str, usize>,
) -> Result<Row, Reject> {
    let fields: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if record.iter().any(|f| std::str::from_utf8(f).is_err()) {
        return Err(malformed(line, fields, "not valid UTF-8"));
    }
    if fields.len() != width {
        let why = format!("{} fields, the header has {width}", fields.len());
        return Err(malformed(line, fields, &why));
    }
    let field = |name: &str| {
        columns
            .get(name)
            .map(|&i| fields[i].trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some(identity) = field("identity") else {
        return Err(malformed(line, fields, "identity is empty"));
    };
    let kind = match field("authentication_type").as_deref() {
        None | Some("email") => LogonKind::Email,
        Some("mobile") => LogonKind::Mobile,
        Some("ldap") => LogonKind::Ldap,
        Some("custom") => LogonKind::Custom,
        Some(other) => {
            let why =
                format!("authentication_type {other:?} is not one of email, mobile, ldap, custom");
            return Err(malformed(line, fields, &why));
        }
    };
    let drive_total_size = match field("drive_size").map(|s| parse_size(&s)) {
        None => None,
        Some(Ok(size)) => Some(size),
        Some(Err(why)) => return Err(malformed(line, fields, &why)),
    };
    let spec = ImportedUserSpec {
        user_id: field("user_id"),
        kind,
        nick_name: field("nick_name").unwrap_or_else(|| identity.clone()),
        identity,
        email: field("email"),
        phone: field("phone"),
        plain_password: field("password"),
        parent_group_id: field("group_id"),
        auto_create_drive: drive_total_size.map(|_| true),
        drive_total_size,
        display_name: None,
        extra: None,
        deny_change_password_by_self: None,
        need_change_password_next_login: None,
        expired_at: None,
        phone_region: None,
    };
    Ok(Row { line, fields, spec })
}

/// Refuses a row naming a user id or identity an earlier row of the file named.
fn first_of_file(first_rows: &mut HashMap<String, u64>, row: Row) -> Result<Row, Reject> {
    let mut keys = vec![(
        format!(
            "identity:{}:{}",
            row.spec.kind.as_str(),
            row.spec.identity.to_lowercase()
        ),
        format!("identity {}", row.spec.identity),
    )];
    if let Some(user_id) = &row.spec.user_id {
        keys.insert(
            0,
            (format!("user_id:{user_id}"), format!("user_id {user_id}")),
        );
    }
    for (key, what) in keys {
        if let Some(first) = first_rows.get(&key) {
            let why = format!("{what} is on line {first} of this file already");
            return Err(Reject {
                line: row.line,
                fields: row.fields,
                code: "DuplicateRow".into(),
                message: why,
            });
        }
    }
    if let Some(user_id) = &row.spec.user_id {
        first_rows.insert(format!("user_id:{user_id}"), row.line);
    }
    first_rows.insert(
        format!(
            "identity:{}:{}",
            row.spec.kind.as_str(),
            row.spec.identity.to_lowercase()
        ),
        row.line,
    );
    Ok(row)
}

/// The reject file: the file's own columns, then `error_line`, `error_code`, `error_message`
/// (as `roster import` writes it).
fn rejects_file(header: &csv::ByteRecord, rejects: &[Reject]) -> String {
    if rejects.is_empty() {
        return String::new();
    }
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let mut columns: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .filter(|h| !h.trim().to_ascii_lowercase().starts_with("error_"))
        .collect();
    let width = columns.len();
    columns.extend(["error_line", "error_code", "error_message"].map(String::from));
    let _ = writer.write_record(&columns);
    for reject in rejects {
        let mut record: Vec<String> = reject.fields.iter().take(width).cloned().collect();
        record.resize(width, String::new());
        record.extend([
            reject.line.to_string(),
            reject.code.clone(),
            reject.message.clone(),
        ]);
        let _ = writer.write_record(&record);
    }
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
    pending: Option<crate::model::Listed<crate::model::UserWithExtras>>,
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

    #[test]
    fn sizes_read_as_the_cli_reads_them() {
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size("-1"), Ok(-1));
        assert!(parse_size("ten").is_err());
    }
}
