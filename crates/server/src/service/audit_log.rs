//! Reading the audit log: pages with filters, and CSV exports (an export is a task whose id
//! carries the request; the file is read a page at a time as it is downloaded). Records are
//! written by the changes themselves (`crate::audit`); only admins read them, each its own
//! domain's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::pagination::{encode_marker, finish_page, Page};
use super::{validate, Actor, Services};
use crate::error::{Error, ParamProblem, Resource, Result};
use crate::model::{AuditEntry, AuditExportSpec, AuditSearch, Listed};
use crate::store::audit_log::{AuditQuery, AuditRow};
use crate::time_format::{iso8601_ms, parse_utc_ms};

const MAX_QUERY: usize = 4096;
const MAX_FILE_NAME: usize = 1024;
const ASYNC_TASK_PREFIX: &str = "audit-export-";
/// Rows read per page while an export streams.
const EXPORT_PAGE: u32 = 1000;
/// The header line of an exported file.
pub const CSV_HEADER: &str = "log_id,acted_at,domain_id,actor_type,actor_id,action_type,\
                              action_category,object_id,outcome,error_code,client_ip,request_id,detail\n";

impl Services {
    pub async fn list_audit_log(
        &self,
        actor: &Actor,
        req: AuditSearch,
    ) -> Result<Listed<AuditEntry>> {
        actor.require_admin()?;
        let mut query = filter_of(&req.query, req.order_by.as_deref())?;
        let page = Page::parse(&actor.domain_id, req.limit, req.marker.as_deref())?;
        if let Some((at, id)) = page.after_for(order_tag(query.ascending))? {
            query.after = Some((at.parse().map_err(|_| bad_marker())?, id));
        }
        let rows = self
            .store
            .audit_log(&actor.domain_id, &query, page.limit + 1)
            .await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |last| {
            let tag = order_tag(query.ascending);
            encode_marker(
                &actor.domain_id,
                tag,
                &last.acted_at.to_string(),
                &last.log_id,
            )
        });
        Ok(Listed {
            items: rows,
            next_marker,
        })
    }

    /// Checks an export request and answers the id of its task. The id carries the request
    /// (it is not a secret: downloading still needs an admin of the domain).
    pub async fn export_audit_log(&self, actor: &Actor, req: AuditExportSpec) -> Result<String> {
        actor.require_admin()?;
        let task = ExportTask {
            domain_id: actor.domain_id.to_string(),
            query: req.query.unwrap_or_default(),
            order_by: req.order_by.unwrap_or_default(),
            file_name: req.file_name.unwrap_or_else(|| "audit_log.csv".into()),
        };
        task.filter()?;
        Ok(task.encode())
    }

    /// Checks that an export task is the caller's domain's; such a task is always finished
    /// (its file is made as it is downloaded).
    pub async fn check_audit_export(&self, actor: &Actor, async_task_id: &str) -> Result<()> {
        actor.require_admin()?;
        ExportTask::decode(&actor.domain_id, async_task_id)?;
        Ok(())
    }

    /// Opens an export for download: its file name, and the reader of its CSV.
    pub async fn open_audit_export(
        &self,
        actor: &Actor,
        async_task_id: &str,
    ) -> Result<(String, AuditExport)> {
        actor.require_admin()?;
        let (task, query) = ExportTask::decode(&actor.domain_id, async_task_id)?;
        let export = AuditExport {
            services: self.clone(),
            domain_id: actor.domain_id.to_string(),
            query,
            header_sent: false,
            done: false,
        };
        Ok((task.file_name, export))
    }
}

/// An export being read, a page at a time, as CSV text.
pub struct AuditExport {
    services: Services,
    domain_id: String,
    query: AuditQuery,
    header_sent: bool,
    done: bool,
}

impl AuditExport {
    /// The next piece of the file; `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        let mut chunk = String::new();
        if !self.header_sent {
            self.header_sent = true;
            chunk.push_str(CSV_HEADER);
        }
        let rows = self
            .services
            .store
            .audit_log(&self.domain_id, &self.query, EXPORT_PAGE)
            .await?;
        match rows.last() {
            Some(last) if rows.len() == EXPORT_PAGE as usize => {
                self.query.after = Some((last.acted_at, last.log_id.clone()));
            }
            _ => self.done = true,
        }
        for row in rows {
            push_csv_line(&mut chunk, &row);
        }
        Ok(Some(chunk))
    }
}

fn push_csv_line(out: &mut String, row: &AuditRow) {
    let acted_at = iso8601_ms(row.acted_at);
    let fields = [
        &row.log_id,
        &acted_at,
        &row.domain_id,
        &row.actor_type,
        &row.actor_id,
        &row.action,
        &row.target_type,
        &row.target_id,
        &row.outcome,
        &row.error_code,
        &row.client_ip,
        &row.request_id,
        &row.detail,
    ];
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = inert_in_spreadsheets(field);
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push('\n');
}

/// A cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return) gets a leading `'`, which spreadsheets take as "this is text" (the
/// OWASP advice against CSV injection). Ids, names and details are chosen by clients.
fn inert_in_spreadsheets(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{field}"))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

/// What an export asked for, carried in its task id.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ExportTask {
    domain_id: String,
    query: String,
    order_by: String,
    file_name: String,
}

impl ExportTask {
    /// Checks the task and answers the records it exports.
    fn filter(&self) -> Result<AuditQuery> {
        let query = filter_of(&self.query, Some(&self.order_by))?;
        validate::required("file_name", &self.file_name, MAX_FILE_NAME)?;
        // The name goes into a Content-Disposition header: keep it to one plain line.
        if self.file_name.contains(['"', '\\', '\r', '\n', '/']) || self.file_name.contains('\0') {
            return Err(Error::param(ParamProblem::Invalid, "file_name"));
        }
        Ok(query)
    }

    fn encode(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{ASYNC_TASK_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// The task of this id and the records it exports, if it was made in `domain_id`
    /// (others are not found).
    fn decode(domain_id: &str, id: &str) -> Result<(ExportTask, AuditQuery)> {
        let task = id
            .strip_prefix(ASYNC_TASK_PREFIX)
            .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
            .and_then(|json| serde_json::from_slice::<ExportTask>(&json).ok())
            .filter(|task| task.domain_id == domain_id);
        let task = task.ok_or(Error::NotFound(Resource::AsyncTask))?;
        let query = task
            .filter()
            .map_err(|_| Error::NotFound(Resource::AsyncTask))?;
        Ok((task, query))
    }
}

/// The records a query and sort order select.
fn filter_of(query: &str, order_by: Option<&str>) -> Result<AuditQuery> {
    let mut filter = parse_query(query)?;
    filter.ascending = parse_order(order_by)?;
    Ok(filter)
}

fn order_tag(ascending: bool) -> &'static str {
    if ascending {
        "audit_asc"
    } else {
        "audit_desc"
    }
}

fn bad_marker() -> Error {
    Error::param(ParamProblem::Invalid, "marker")
}

/// `acted_at DESC` (also the default, as `""`) or `acted_at ASC`: exactly PDS's values.
pub(crate) fn parse_order(order_by: Option<&str>) -> Result<bool> {
    match order_by.unwrap_or("") {
        "" | "acted_at DESC" => Ok(false),
        "acted_at ASC" => Ok(true),
        _ => Err(Error::param(ParamProblem::Invalid, "order_by")),
    }
}

/// Parses PDS's query language, restricted to what an audit log is filtered by: conditions
/// `field op 'value'` joined by `and`.
pub(crate) fn parse_query(text: &str) -> Result<AuditQuery> {
    validate::max_len("query", text, MAX_QUERY)?;
    let bad = || Error::param(ParamProblem::Invalid, "query");
    let mut query = AuditQuery::default();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (field, after_field) = take_word(rest).ok_or_else(bad)?;
        let (op, after_op) = take_operator(after_field.trim_start()).ok_or_else(bad)?;
        let (value, after_value) = take_quoted(after_op.trim_start()).ok_or_else(bad)?;
        apply_condition(&mut query, field, op, value).ok_or_else(bad)?;
        rest = after_value.trim_start();
        if !rest.is_empty() {
            let (joiner, after_and) = take_word(rest).ok_or_else(bad)?;
            if !joiner.eq_ignore_ascii_case("and") {
                return Err(bad());
            }
            rest = after_and.trim_start();
            if rest.is_empty() {
                return Err(bad());
            }
        }
    }
    Ok(query)
}

fn take_word(s: &str) -> Option<(&str, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| s.split_at(end))
}

fn take_operator(s: &str) -> Option<(&str, &str)> {
    [">=", "<=", "=", ">", "<"]
        .into_iter()
        .find(|op| s.starts_with(op))
        .map(|op| s.split_at(op.len()))
}

/// A single-quoted value (`''` or `\'` for a quote inside) and what follows it.
fn take_quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut value = String::new();
    let mut escaped = false;
    while let Some((i, c)) = chars.next() {
        match c {
            _ if escaped => {
                value.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            '\'' if s[i + 1..].starts_with('\'') => {
                value.push('\'');
                chars.next();
            }
            '\'' => return Some((value, &s[i + 1..])),
            '\0' => return None,
            _ => value.push(c),
        }
    }
    None
}

fn apply_condition(query: &mut AuditQuery, field: &str, op: &str, value: String) -> Option<()> {
    if field == "acted_at" {
        let at = parse_utc_ms(&value)?;
        let (from, to) = match op {
            "=" => (Some(at), Some(at)),
            ">" => (Some(at.checked_add(1)?), None),
            ">=" => (Some(at), None),
            "<" => (None, Some(at.checked_sub(1)?)),
            "<=" => (None, Some(at)),
            _ => return None,
        };
        if let Some(from) = from {
            query.acted_from = Some(query.acted_from.map_or(from, |f| f.max(from)));
        }
        if let Some(to) = to {
            query.acted_to = Some(query.acted_to.map_or(to, |t| t.min(to)));
        }
        return Some(());
    }
    if op != "=" {
        return None;
    }
    let slot = match field {
        "actor_id" => &mut query.actor_id,
        "action_type" => &mut query.action,
        "action_category" => &mut query.target_type,
        "object_id" => &mut query.target_id,
        "outcome" => &mut query.outcome,
        "drive_id" => {
            query.target_type = Some("drive".into());
            &mut query.target_id
        }
        _ => return None,
    };
    *slot = Some(value);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pds_style_queries_become_filters() {
        let q = parse_query(
            "actor_id = 'u1' and action_type='user.create' AND acted_at > '2026-01-01T00:00:00' \
             and acted_at <= '2026-01-02T00:00:00Z' and object_id = 'it''s'",
        )
        .unwrap();
        assert_eq!(q.actor_id.as_deref(), Some("u1"));
        assert_eq!(q.action.as_deref(), Some("user.create"));
        assert_eq!(q.target_id.as_deref(), Some("it's"));
        assert_eq!(q.acted_from, Some(1_767_225_600_001));
        assert_eq!(q.acted_to, Some(1_767_312_000_000));
        assert_eq!(parse_query("  ").unwrap(), AuditQuery::default());
        let drive = parse_query("drive_id = 'd1'").unwrap();
        assert_eq!(drive.target_type.as_deref(), Some("drive"));
    }

    #[test]
    fn malformed_queries_are_refused() {
        for bad in [
            "actor_id",
            "actor_id = u1",
            "actor_id = 'u1",
            "actor_id > 'u1'",
            "password = 'x'",
            "actor_id = 'a' or outcome = 'b'",
            "actor_id = 'a' and",
            "acted_at > 'yesterday'",
        ] {
            assert!(parse_query(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn order_is_acted_at_either_way() {
        assert!(!parse_order(None).unwrap());
        assert!(!parse_order(Some("")).unwrap());
        assert!(parse_order(Some("acted_at ASC")).unwrap());
        assert!(!parse_order(Some("acted_at DESC")).unwrap());
        for bad in ["log_id", "acted_at  asc", "ACTED_AT DESC"] {
            assert!(parse_order(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_fields_with_separators_are_quoted() {
        let mut out = String::new();
        let row = AuditRow {
            log_id: "l".into(),
            domain_id: "d".into(),
            acted_at: 0,
            actor_id: "a,b".into(),
            actor_type: "user".into(),
            action: "user.update".into(),
            target_type: "user".into(),
            target_id: "say \"hi\"".into(),
            request_id: String::new(),
            client_ip: String::new(),
            outcome: "success".into(),
            error_code: String::new(),
            detail: "{}".into(),
        };
        push_csv_line(&mut out, &row);
        assert!(out.contains(",\"a,b\",") && out.contains("\"say \"\"hi\"\"\""));
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_text() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert_in_spreadsheets(formula), format!("'{formula}"));
        }
        assert_eq!(inert_in_spreadsheets("alice"), "alice");
    }
}
