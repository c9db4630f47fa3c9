//! Change events on SQL. A change's events are derived from its audit records, in the
//! change's own transaction, by [`event_rows`] and written by [`journal_stmts`] (both called
//! by the write machinery of `tx.rs` just before COMMIT): one place turns every face's changes
//! into the same events. The object an event carries is read in that transaction: after the
//! change, by the subqueries of the events' own multi-row `INSERT` (no statement of its own),
//! or, for a deletion, before it ([`snapshot_deletions`], run when the transaction begins).
//! What a change costs is its statements (each a round trip; on SQLite two thread
//! hand-offs): its audit records, its domain's sequence take and its events are one
//! statement ([`journal_stmts`]; more only past the bound-parameter limits or for events of
//! several domains), plus one read of the first memberships and drives of the users it
//! creates, when it inserted any.
//!
//! Order: a domain's events are numbered from its row of `event_sequences`, updated inside
//! the writing transaction just before COMMIT, by the statement that writes them. The update holds the row until COMMIT, so two
//! writers of one domain commit in the order of their numbers, and a reader that follows
//! `seq` never passes a number whose event could still appear.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{text, Arg, Dialect, SqlStore, Stmt, Tx};
use crate::audit::SUCCESS;
use crate::error::Result;
use crate::store::audit_log::AuditRow;
use crate::store::events::{EventRow, EventStore};
use crate::store::user_query::USER_BOOLEANS;

const COLUMNS: &str =
    "domain_id, seq, event_id, event_type, object_id, created_at, actor, data, changed_fields";

/// A table an event's object is read from, and which of its columns the event shows (never a
/// secret, a hash or an internal column).
struct Table {
    name: &'static str,
    key: &'static str,
    /// The key is a number (`user_properties.property_id`).
    numeric_key: bool,
    /// Rows are found by `domain_id` and key; `false` for `domains`, found by key alone.
    in_domain: bool,
    columns: &'static [&'static str],
    /// Columns SQLite answers as 0/1 that the event shows as booleans.
    booleans: &'static [&'static str],
}

const USERS: Table = Table {
    name: "users",
    key: "user_id",
    numeric_key: false,
    in_domain: true,
    columns: &[
        "domain_id",
        "user_id",
        "user_name",
        "nick_name",
        "avatar",
        "email",
        "phone",
        "phone_region",
        "role",
        "status",
        "description",
        "user_data",
        "creator",
        "default_drive_id",
        "owner_type",
        "deny_change_password_by_self",
        "need_change_password_next_login",
        "expired_at",
        "created_at",
        "updated_at",
    ],
    booleans: USER_BOOLEANS,
};

const GROUPS: Table = Table {
    name: "org_groups",
    key: "group_id",
    numeric_key: false,
    in_domain: true,
    columns: &[
        "domain_id",
        "group_id",
        "group_name",
        "description",
        "kind",
        "is_root",
        "parent_group_id",
        "creator",
        "created_at",
        "updated_at",
    ],
    booleans: &["is_root"],
};

const DRIVES: Table = Table {
    name: "drives",
    key: "drive_id",
    numeric_key: false,
    in_domain: true,
    columns: &[
        "domain_id",
        "drive_id",
        "drive_name",
        "description",
        "owner",
        "owner_type",
        "drive_type",
        "status",
        "is_default",
        "total_size",
        "used_size",
        "creator",
        "created_at",
        "updated_at",
    ],
    booleans: &["is_default"],
};

const DOMAINS: Table = Table {
    name: "domains",
    key: "domain_id",
    numeric_key: false,
    in_domain: false,
    columns: &[
        "domain_id",
        "domain_name",
        "description",
        "parent_domain_id",
        "init_drive_enable",
        "init_drive_size",
        "size_quota",
        "user_count_quota",
        "created_at",
        "updated_at",
    ],
    booleans: &["init_drive_enable"],
};

const PROPERTIES: Table = Table {
    name: "user_properties",
    key: "property_id",
    numeric_key: true,
    in_domain: true,
    columns: &["domain_id", "property_id", "property_key", "created_at"],
    booleans: &[],
};

const RESOURCE_GROUPS: Table = Table {
    name: "resource_groups",
    key: "resource_group_id",
    numeric_key: false,
    in_domain: true,
    columns: &[
        "domain_id",
        "resource_group_id",
        "resource_group_name",
        "platform",
        "creator",
        "created_at",
    ],
    booleans: &[],
};

const APPS: Table = Table {
    name: "apps",
    key: "client_id",
    numeric_key: false,
    in_domain: true,
    columns: &[
        "domain_id",
        "client_id",
        "app_name",
        "algorithm",
        "status",
        "creator",
        "created_at",
        "updated_at",
    ],
    booleans: &[],
};

/// What an event carries as its object.
#[derive(Debug)]
enum Object {
    /// A row of a table, read in the writing transaction.
    Row(&'static Table),
    /// Made from the audit record itself (a link or a membership has no row of its own
    /// worth showing).
    Inline(Value),
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// One event an audit record stands for.
#[derive(Debug)]
struct Spec {
    event_type: &'static str,
    object: Object,
    object_id: String,
    changed_fields: Vec<String>,
    /// The object is gone after the change: it is read before.
    deletion: bool,
}

fn detail_of(record: &AuditRow) -> Value {
    serde_json::from_str(&record.detail).unwrap_or(Value::Null)
}

/// The `fields` list of an update's detail.
fn fields_of(detail: &Value) -> Vec<String> {
    detail["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The events a successful audit record stands for (none for records of things that change
/// no directory object: logins, tokens, access keys, reset requests).
fn specs_of(record: &AuditRow) -> Vec<Spec> {
    if record.outcome != SUCCESS {
        return Vec::new();
    }
    let target = record.target_id.clone();
    let spec = |event_type, object, changed_fields: Vec<String>, deletion| Spec {
        event_type,
        object,
        object_id: target.clone(),
        changed_fields,
        deletion,
    };
    let row = Object::Row;
    let detail = detail_of(record);
    match record.action.as_str() {
        "user.create" | "user.import" => vec![spec("user.created", row(&USERS), vec![], false)],
        "user.update" => {
            // A lock, an unlock and a password set are events of their own.
            let fields: Vec<String> = fields_of(&detail)
                .into_iter()
                .filter(|f| f != "status" && f != "password")
                .collect();
            if fields.is_empty() {
                return Vec::new();
            }
            vec![spec("user.updated", row(&USERS), fields, false)]
        }
        "user.lock" => vec![spec(
            "user.locked",
            row(&USERS),
            strings(&["status"]),
            false,
        )],
        "user.unlock" => vec![spec(
            "user.unlocked",
            row(&USERS),
            strings(&["status"]),
            false,
        )],
        "user.delete" => vec![spec("user.deleted", row(&USERS), vec![], true)],
        "password.change" | "password.reset" => vec![spec(
            "user.password_changed",
            row(&USERS),
            strings(&["password"]),
            false,
        )],
        "property.assign" | "property.unassign" => vec![spec(
            "user.updated",
            row(&USERS),
            strings(&["properties"]),
            false,
        )],
        "account.link" | "account.unlink" => {
            let (kind, identity) = target.split_once(':').unwrap_or(("", target.as_str()));
            let data = json!({
                "authentication_type": kind,
                "identity": identity,
                "user_id": detail["user_id"].as_str().unwrap_or_default(),
            });
            let event_type = if record.action == "account.link" {
                "account.linked"
            } else {
                "account.unlinked"
            };
            vec![spec(event_type, Object::Inline(data), vec![], false)]
        }
        "group.create" => vec![spec("group.created", row(&GROUPS), vec![], false)],
        "group.update" => {
            let (moved, fields): (Vec<String>, Vec<String>) = fields_of(&detail)
                .into_iter()
                .partition(|f| f == "parent_group_id");
            let mut specs = Vec::new();
            if !fields.is_empty() {
                specs.push(spec("group.updated", row(&GROUPS), fields, false));
            }
            if !moved.is_empty() {
                specs.push(spec("group.moved", row(&GROUPS), moved, false));
            }
            specs
        }
        "group.delete" => vec![spec("group.deleted", row(&GROUPS), vec![], true)],
        action @ ("membership.add" | "membership.remove" | "membership.move") => {
            let data = json!({
                "group_id": &target,
                "member_type": detail["member_type"].as_str().unwrap_or_default(),
                "member_id": detail["member_id"].as_str().unwrap_or_default(),
            });
            let event_type = match action {
                "membership.add" => "membership.added",
                "membership.remove" => "membership.removed",
                _ => "membership.moved",
            };
            vec![spec(event_type, Object::Inline(data), vec![], false)]
        }
        action @ ("role.assign" | "role.cancel") => {
            let data = json!({
                "group_id": &target,
                "identity_type": detail["identity_type"].as_str().unwrap_or_default(),
                "identity_id": detail["identity_id"].as_str().unwrap_or_default(),
                "role_id": detail["role_id"].as_str().unwrap_or_default(),
            });
            let event_type = if action == "role.assign" {
                "role.assigned"
            } else {
                "role.removed"
            };
            vec![spec(event_type, Object::Inline(data), vec![], false)]
        }
        action => {
            let Some((kind, verb)) = action.split_once('.') else {
                return Vec::new();
            };
            let (table, types): (&'static Table, [&'static str; 3]) = match kind {
                "drive" => (&DRIVES, ["drive.created", "drive.updated", "drive.deleted"]),
                "domain" => (
                    &DOMAINS,
                    ["domain.created", "domain.updated", "domain.deleted"],
                ),
                "property" => (
                    &PROPERTIES,
                    ["property.created", "property.updated", "property.deleted"],
                ),
                "resource_group" => (
                    &RESOURCE_GROUPS,
                    ["resource_group.created", "", "resource_group.deleted"],
                ),
                "app" => (&APPS, ["app.created", "app.updated", "app.deleted"]),
                _ => return Vec::new(),
            };
            let (event_type, fields, deletion) = match verb {
                "create" => (types[0], vec![], false),
                "update" => (types[1], fields_of(&detail), false),
                "delete" => (types[2], vec![], true),
                _ => return Vec::new(),
            };
            if event_type.is_empty() {
                return Vec::new();
            }
            vec![spec(event_type, row(table), fields, deletion)]
        }
    }
}

/// The domain an event is filed under: the changed object's. A top-level domain's admin
/// creating a user or a drive in a subdomain notes the record in its own domain with the
/// subdomain in the detail (`subdomain_id`); the event belongs to the subdomain, whose
/// admins and webhooks follow it.
fn event_domain(record: &AuditRow) -> String {
    match detail_of(record)["subdomain_id"].as_str() {
        Some(subdomain) if !subdomain.is_empty() => subdomain.to_owned(),
        _ => record.domain_id.clone(),
    }
}

/// A user's creation also makes its first memberships and its drive in the same
/// transaction; each is an event of its own (`membership.added`, `drive.created`), after
/// `user.created`, as if made one by one.
fn creates_user(record: &AuditRow) -> bool {
    record.outcome == SUCCESS && matches!(record.action.as_str(), "user.create" | "user.import")
}

/// The events of new users' first memberships and drives, read in their creating
/// transaction (every such row is new) with one statement for all the users of a domain (a
/// batch creates many): by user, memberships first, then drives, each in id order.
async fn initial_parts(
    tx: &mut Tx<'_>,
    domain_id: &str,
    user_ids: &[&str],
) -> sqlx::Result<HashMap<String, Vec<Spec>>> {
    let mut parts_of: HashMap<String, Vec<Spec>> = HashMap::new();
    let per_statement = tx.dialect().rows_per_statement(1) - 1;
    for chunk in user_ids.chunks(per_statement) {
        let mut args = vec![text(domain_id)];
        let places: Vec<String> = chunk
            .iter()
            .map(|user_id| {
                args.push(text(user_id));
                format!("${}", args.len())
            })
            .collect();
        let places = places.join(", ");
        let stmt = Stmt::new(
            format!(
                "SELECT user_id AS owner, CAST(0 AS BIGINT) AS part, group_id AS id \
                 FROM group_members WHERE domain_id = $1 AND user_id IN ({places}) \
                 UNION ALL \
                 SELECT owner, CAST(1 AS BIGINT) AS part, drive_id AS id FROM drives \
                 WHERE domain_id = $1 AND owner IN ({places}) AND owner_type = 'user' \
                 ORDER BY part, id"
            ),
            args,
        );
        let found: Vec<(String, i64, String)> = tx.fetch_all(stmt).await?;
        for (user_id, part, id) in found {
            let spec = if part == 0 {
                Spec {
                    event_type: "membership.added",
                    object: Object::Inline(json!({
                        "group_id": &id,
                        "member_type": "user",
                        "member_id": &user_id,
                    })),
                    object_id: id,
                    changed_fields: Vec::new(),
                    deletion: false,
                }
            } else {
                Spec {
                    event_type: "drive.created",
                    object: Object::Row(&DRIVES),
                    object_id: id,
                    changed_fields: Vec::new(),
                    deletion: false,
                }
            };
            parts_of.entry(user_id).or_default().push(spec);
        }
    }
    Ok(parts_of)
}

/// The SQL expression of one row of `table` as a JSON object text, booleans as JSON
/// booleans (SQLite keeps them as 0/1).
fn object_expr(dialect: Dialect, table: &Table) -> String {
    let object = super::json_object_sql(dialect, table.columns, table.booleans);
    match dialect {
        Dialect::Sqlite => object,
        Dialect::Postgres => format!("{object}::text"),
    }
}

/// The argument of a table's key.
fn key_arg(table: &Table, key: &str) -> Arg {
    if table.numeric_key {
        Arg::Int(key.parse().unwrap_or(-1))
    } else {
        text(key)
    }
}

/// `SELECT` of one row of `table` as a JSON object text.
fn object_stmt(dialect: Dialect, table: &Table, domain_id: &str, key: &str) -> Stmt {
    let object = object_expr(dialect, table);
    let (condition, args) = if table.in_domain {
        (
            format!("domain_id = $1 AND {} = $2", table.key),
            vec![text(domain_id), key_arg(table, key)],
        )
    } else {
        (format!("{} = $1", table.key), vec![key_arg(table, key)])
    };
    Stmt::new(
        format!(
            "SELECT {object} AS data FROM {} WHERE {condition}",
            table.name
        ),
        args,
    )
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct ObjectText {
    data: String,
}

/// The object as the transaction sees it now; `None` when the row is not there.
async fn read_object(
    tx: &mut Tx<'_>,
    table: &Table,
    domain_id: &str,
    key: &str,
) -> sqlx::Result<Option<Value>> {
    let stmt = object_stmt(tx.dialect(), table, domain_id, key);
    let Some(row) = tx.fetch_optional::<ObjectText>(stmt).await? else {
        return Ok(None);
    };
    let mut object: Map<String, Value> = serde_json::from_str(&row.data).unwrap_or_default();
    for column in table.booleans {
        if let Some(Value::Number(n)) = object.get(*column) {
            let truth = n.as_i64().unwrap_or(0) != 0;
            object.insert((*column).to_owned(), Value::Bool(truth));
        }
    }
    Ok(Some(Value::Object(object)))
}

/// The objects `records` delete, read before the change deletes them: by the log id of the
/// record that names each.
pub(super) async fn snapshot_deletions(
    tx: &mut Tx<'_>,
    records: &[AuditRow],
) -> sqlx::Result<HashMap<String, Value>> {
    let mut before = HashMap::new();
    for record in records {
        for spec in specs_of(record) {
            if let (true, Object::Row(table)) = (spec.deletion, &spec.object) {
                let domain_id = event_domain(record);
                if let Some(object) = read_object(tx, table, &domain_id, &spec.object_id).await? {
                    before.insert(record.log_id.clone(), object);
                }
            }
        }
    }
    Ok(before)
}

/// Whether a record names a deletion, whose object an event must read before the change.
pub(crate) fn is_deletion(record: &AuditRow) -> bool {
    record.outcome == SUCCESS && record.action.ends_with(".delete")
}

/// An event to write: its row, and the table its object is read from inside the `INSERT`
/// (`None`: the row's `data` is the object).
pub(super) struct NewEvent {
    row: EventRow,
    read_from: Option<&'static Table>,
}

/// The object of an event whose row is not there (it should be): its key alone.
fn missing_object(table: &Table, key: &str) -> Value {
    json!({ table.key: key })
}

/// The events of `records` (the change's audit records), by domain, each domain's in the
/// order they are numbered. An event whose object is still there (created or updated) is
/// read by its own `INSERT` ([`insert_stmts`]), so no object costs a statement of its own;
/// the first memberships and drives of new users cost one read per domain.
pub(super) async fn event_rows(
    tx: &mut Tx<'_>,
    records: &[AuditRow],
    before: &HashMap<String, Value>,
) -> sqlx::Result<BTreeMap<String, Vec<NewEvent>>> {
    // New users' first memberships and drives: one read per domain.
    let mut created: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for record in records.iter().filter(|r| creates_user(r)) {
        created
            .entry(event_domain(record))
            .or_default()
            .push(record.target_id.as_str());
    }
    let mut parts: HashMap<(String, String), Vec<Spec>> = HashMap::new();
    if !tx.wrote_memberships_or_drives() {
        // A user created alone, with no group and no drive: nothing to look for.
        created.clear();
    }
    for (domain_id, user_ids) in &created {
        for (user_id, specs) in initial_parts(tx, domain_id, user_ids).await? {
            parts.insert((domain_id.clone(), user_id), specs);
        }
    }
    let mut by_domain: BTreeMap<String, Vec<NewEvent>> = BTreeMap::new();
    for record in records {
        let domain_id = event_domain(record);
        let mut specs = specs_of(record);
        if creates_user(record) {
            let key = (domain_id.clone(), record.target_id.clone());
            specs.extend(parts.remove(&key).unwrap_or_default());
        }
        if specs.is_empty() {
            continue;
        }
        let rows: Vec<NewEvent> = specs
            .into_iter()
            .map(|spec| new_event(&domain_id, record, spec, before))
            .collect();
        by_domain.entry(domain_id).or_default().extend(rows);
    }
    Ok(by_domain)
}

/// The row of one event of `record` (its `seq` is given by the statement that writes it).
fn new_event(
    domain_id: &str,
    record: &AuditRow,
    spec: Spec,
    before: &HashMap<String, Value>,
) -> NewEvent {
    let (data, read_from) = match &spec.object {
        Object::Inline(data) => (data.to_string(), None),
        Object::Row(table) if spec.deletion => {
            let object = before
                .get(&record.log_id)
                .cloned()
                .unwrap_or_else(|| missing_object(table, &spec.object_id));
            (object.to_string(), None)
        }
        // Read by the INSERT; this is what it writes if the row is not there.
        Object::Row(table) => (
            missing_object(table, &spec.object_id).to_string(),
            Some(*table),
        ),
    };
    let actor = if record.actor_id.is_empty() {
        json!({ "type": &record.actor_type, "id": null })
    } else {
        json!({ "type": &record.actor_type, "id": &record.actor_id })
    };
    NewEvent {
        row: EventRow {
            domain_id: domain_id.to_owned(),
            seq: 0,
            event_id: format!("evt_{}", crate::ids::random_hex(12)),
            event_type: spec.event_type.to_owned(),
            object_id: spec.object_id,
            created_at: record.acted_at,
            actor: actor.to_string(),
            data,
            changed_fields: json!(spec.changed_fields).to_string(),
        },
        read_from,
    }
}

/// The name, in the statement that takes a domain's sequence, of what the take returns.
const TAKEN: &str = "taken";

/// The parameters of [`take_sequence_stmt`].
const TAKE_PARAMS: usize = 2;

/// Moves a domain's sequence past `count` new events (creating its row at the first). It
/// holds the row until COMMIT. On PostgreSQL it returns the last number taken, for the
/// events' `INSERT` that runs on the statement's snapshot; on SQLite that `INSERT` reads
/// the row itself, and a returned row would only be one more message from sqlx's worker
/// thread, built and thrown away.
fn take_sequence_stmt(dialect: Dialect, domain_id: &str, count: usize) -> Stmt {
    let returning = match dialect {
        Dialect::Postgres => " RETURNING last_seq",
        Dialect::Sqlite => "",
    };
    Stmt::new(
        format!(
            "INSERT INTO event_sequences (domain_id, last_seq) VALUES ($1, $2) \
             ON CONFLICT (domain_id) \
             DO UPDATE SET last_seq = event_sequences.last_seq + excluded.last_seq{returning}"
        ),
        vec![text(domain_id), Arg::Int(count as i64)],
    )
}

/// The statements that write a change's journal, in order: `audit` (its audit records'
/// statements), then each domain's `events`. Each domain's events are numbered from its
/// sequence, taken by the statement that writes its first events ([`Stmt::chain`]), so the
/// sequence row is still taken last before COMMIT and events add no round trip of their
/// own; the last audit statement rides in that statement too when they fit in one. A
/// change's journal is then one statement (more only past the bound-parameter limits or
/// for events of several domains).
pub(super) fn journal_stmts(
    dialect: Dialect,
    mut audit: Vec<Stmt>,
    events: BTreeMap<String, Vec<NewEvent>>,
) -> Vec<Stmt> {
    let mut ahead = audit.pop();
    let mut out = audit;
    // The first statement of a domain also carries the sequence take.
    let per_statement = (dialect.max_params() - TAKE_PARAMS) / MAX_PARAMS_PER_EVENT;
    for (domain_id, rows) in events {
        let mut inserts = insert_stmts(dialect, &rows, per_statement).into_iter();
        let Some(first) = inserts.next() else {
            continue;
        };
        let mut before = Vec::with_capacity(2);
        if let Some(audit) = ahead.take() {
            if audit.args.len() + TAKE_PARAMS + first.args.len() <= dialect.max_params() {
                before.push(("journal_audit", audit));
            } else {
                out.push(audit);
            }
        }
        before.push((TAKEN, take_sequence_stmt(dialect, &domain_id, rows.len())));
        out.push(Stmt::chain(dialect, before, first));
        out.extend(inserts);
    }
    out.extend(ahead);
    out
}

/// The most parameters one event takes in [`insert_stmts`]: its eight columns other than
/// `seq`, and the key of an object read by number.
const MAX_PARAMS_PER_EVENT: usize = 9;

/// Multi-row `INSERT`s of one domain's `events`, in their order, at most `per_statement`
/// rows each. An event whose object is read from a table takes it from a subquery of the
/// statement, or the row's `data` when that finds nothing.
///
/// The events are numbered back from the last number of the domain's sequence, which the
/// first statement takes ([`journal_stmts`]): on PostgreSQL that statement reads it from
/// what the take returned (a CTE sees the table as it was before the statement), every
/// other one from the sequence's row, which this transaction has updated.
fn insert_stmts(dialect: Dialect, events: &[NewEvent], per_statement: usize) -> Vec<Stmt> {
    let count = events.len();
    events
        .chunks(per_statement.max(1))
        .enumerate()
        .map(|(chunk_index, chunk)| {
            let first_row = chunk_index * per_statement.max(1);
            let last_taken = |domain: &str| match (dialect, chunk_index) {
                (Dialect::Postgres, 0) => format!("(SELECT last_seq FROM {TAKEN})"),
                _ => format!("(SELECT last_seq FROM event_sequences WHERE domain_id = {domain})"),
            };
            let mut sql = format!("INSERT INTO events ({COLUMNS}) VALUES ");
            let mut args = Vec::with_capacity(chunk.len() * MAX_PARAMS_PER_EVENT);
            for (i, NewEvent { row: r, read_from }) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let n = args.len();
                let place = |k: usize| format!("${}", n + k);
                args.extend([
                    text(&r.domain_id),
                    text(&r.event_id),
                    text(&r.event_type),
                    text(&r.object_id),
                    Arg::Int(r.created_at),
                    text(&r.actor),
                    text(&r.data),
                    text(&r.changed_fields),
                ]);
                let data = match read_from {
                    None => place(7),
                    Some(table) => {
                        let key = if table.numeric_key {
                            args.push(key_arg(table, &r.object_id));
                            place(9)
                        } else {
                            place(4)
                        };
                        let condition = if table.in_domain {
                            format!("domain_id = {} AND {} = {key}", place(1), table.key)
                        } else {
                            format!("{} = {key}", table.key)
                        };
                        format!(
                            "COALESCE((SELECT {} FROM {} WHERE {condition}), {})",
                            object_expr(dialect, table),
                            table.name,
                            place(7)
                        )
                    }
                };
                // The last event takes the last number.
                let back = count - 1 - (first_row + i);
                sql.push_str(&format!(
                    "({}, {} - {back}, {}, {}, {}, {}, {}, {data}, {})",
                    place(1),
                    last_taken(&place(1)),
                    place(2),
                    place(3),
                    place(4),
                    place(5),
                    place(6),
                    place(8)
                ));
            }
            Stmt::new(sql, args)
        })
        .collect()
}

/// Events the retention sweep deletes per statement, so that a large backlog never holds the
/// (SQLite) writer for long.
const PURGE_SLICE: i64 = 5_000;

/// Deletes, of a domain's [`PURGE_SLICE`] oldest events by number, those older than
/// `before`, through the events' key (their only index). Numbers follow commit order and
/// times the requests', so the old events are the first numbers, but for a few at the edge
/// that commit after a younger one: a slice that deletes fewer than it read has reached
/// the young ones, and the sweep stops there (one slice read per domain and sweep, whatever
/// the domain keeps); what it leaves at the edge goes at the next sweep. It never deletes
/// an event younger than `before`.
fn purge_slice_stmt(domain_id: &str, before: i64) -> Stmt {
    Stmt::new(
        "DELETE FROM events WHERE domain_id = $1 AND created_at < $2 AND seq IN \
         (SELECT seq FROM events WHERE domain_id = $1 ORDER BY seq LIMIT $3)",
        vec![text(domain_id), Arg::Int(before), Arg::Int(PURGE_SLICE)],
    )
}

#[async_trait]
impl EventStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn events(
        &self,
        domain_id: &str,
        after: i64,
        types: &[String],
        limit: u32,
    ) -> Result<Vec<EventRow>> {
        let mut args = vec![text(domain_id), Arg::Int(after)];
        let mut sql = format!("SELECT {COLUMNS} FROM events WHERE domain_id = $1 AND seq > $2");
        if !types.is_empty() {
            let mut places = Vec::with_capacity(types.len());
            for t in types {
                args.push(text(t));
                places.push(format!("${}", args.len()));
            }
            sql.push_str(&format!(" AND event_type IN ({})", places.join(", ")));
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY seq LIMIT ${}", args.len()));
        Ok(self
            .reader()
            .fetch_all::<EventRow>(Stmt::new(sql, args))
            .await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_events(&self, before: i64) -> Result<u64> {
        let domains: Vec<(String,)> = self
            .reader()
            .fetch_all(Stmt::new("SELECT domain_id FROM event_sequences", vec![]))
            .await?;
        let mut purged = 0;
        for (domain_id,) in domains {
            loop {
                let deleted = self.upkeep(purge_slice_stmt(&domain_id, before)).await?;
                purged += deleted;
                if deleted < PURGE_SLICE as u64 {
                    break;
                }
            }
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn blank_record() -> AuditRow {
        AuditRow {
            log_id: String::new(),
            domain_id: String::new(),
            acted_at: 0,
            actor_id: String::new(),
            actor_type: String::new(),
            action: String::new(),
            target_type: String::new(),
            target_id: String::new(),
            request_id: String::new(),
            client_ip: String::new(),
            outcome: String::new(),
            error_code: String::new(),
            detail: String::new(),
        }
    }

    fn record(action: &str, target: &str, detail: Value) -> AuditRow {
        AuditRow {
            log_id: "l1".into(),
            domain_id: "d".into(),
            action: action.into(),
            target_id: target.into(),
            outcome: SUCCESS.into(),
            detail: detail.to_string(),
            ..blank_record()
        }
    }

    fn types(r: &AuditRow) -> Vec<&'static str> {
        specs_of(r).iter().map(|s| s.event_type).collect()
    }

    #[test]
    fn records_stand_for_the_agreed_events() {
        let none = Value::Null;
        assert_eq!(
            types(&record("user.create", "u", none.clone())),
            ["user.created"]
        );
        assert_eq!(
            types(&record("user.import", "u", none.clone())),
            ["user.created"]
        );
        assert_eq!(
            types(&record("user.lock", "u", none.clone())),
            ["user.locked"]
        );
        assert_eq!(
            types(&record("password.reset", "u", none.clone())),
            ["user.password_changed"]
        );
        // A status or password change is its own event, not an update.
        let only_status = json!({ "fields": ["status"] });
        assert!(types(&record("user.update", "u", only_status)).is_empty());
        let both = json!({ "fields": ["nick_name", "status"] });
        let specs = specs_of(&record("user.update", "u", both));
        assert_eq!(specs[0].event_type, "user.updated");
        assert_eq!(specs[0].changed_fields, ["nick_name"]);
        let moved = json!({ "fields": ["parent_group_id", "group_name"] });
        assert_eq!(
            types(&record("group.update", "g", moved)),
            ["group.updated", "group.moved"]
        );
        assert_eq!(
            types(&record("drive.delete", "1", none.clone())),
            ["drive.deleted"]
        );
        assert!(specs_of(&record("drive.delete", "1", none.clone()))[0].deletion);
        assert_eq!(
            types(&record("resource_group.create", "r", none.clone())),
            ["resource_group.created"]
        );
        // Sign-ins, tokens and keys change no directory object.
        for action in [
            "account.login",
            "token.issue",
            "access_key.create",
            "user.role",
        ] {
            assert!(
                types(&record(action, "x", none.clone())).is_empty(),
                "{action}"
            );
        }
        // A failed attempt is no event.
        let mut failed = record("user.create", "u", none);
        failed.outcome = crate::audit::FAILURE.into();
        assert!(types(&failed).is_empty());
        // Every type written is a listed one.
        for action in [
            "user.create",
            "user.lock",
            "user.unlock",
            "user.delete",
            "password.change",
            "account.link",
            "account.unlink",
            "group.create",
            "group.delete",
            "membership.add",
            "membership.remove",
            "membership.move",
            "role.assign",
            "role.cancel",
            "drive.create",
            "drive.update",
            "domain.create",
            "domain.update",
            "domain.delete",
            "property.create",
            "property.update",
            "property.delete",
            "resource_group.delete",
            "app.create",
            "app.update",
            "app.delete",
        ] {
            for t in types(&record(action, "x", json!({ "fields": ["a"] }))) {
                assert!(crate::store::events::EVENT_TYPES.contains(&t), "{t}");
            }
            assert!(!types(&record(action, "x", json!({ "fields": ["a"] }))).is_empty());
        }
    }

    /// A change with more events (and audit records) than one statement's parameters can
    /// carry writes them in several statements, numbered and ordered as they were noted, each
    /// with its contents; an object read in the `INSERT` is the row after the change.
    #[tokio::test]
    async fn a_change_with_more_events_than_one_statement_carries_keeps_order_and_contents() {
        for (_dir, store) in super::super::tests::stores_with_domain_on_each_backend().await {
            more_events_than_one_statement_carries(&store).await;
        }
    }

    /// Notes on `trail` an update of the domain `d`'s description.
    fn note_domain_update(trail: &crate::audit::Trail) {
        trail.record(crate::audit::Event {
            domain_id: "d",
            actor_id: "admin",
            action: "domain.update",
            target_type: "domain",
            target_id: "d",
            detail: json!({ "fields": ["description"] }),
        });
    }

    async fn more_events_than_one_statement_carries(store: &SqlStore) {
        use crate::audit::{Event, Trail};
        let trail = Trail::new("r".into(), "127.0.0.1".into(), Default::default());
        let per_statement = store.dialect().rows_per_statement(MAX_PARAMS_PER_EVENT);
        let members: Vec<String> = (0..per_statement + 7).map(|i| format!("u{i:05}")).collect();
        for member in &members {
            trail.record(Event {
                domain_id: "d",
                actor_id: "admin",
                action: "membership.add",
                target_type: "group",
                target_id: "g",
                detail: json!({ "member_type": "user", "member_id": member }),
            });
        }
        note_domain_update(&trail);
        let changed = store
            .write_statement(
                &trail,
                Stmt::new(
                    "UPDATE domains SET description = 'changed' WHERE domain_id = $1",
                    vec![text("d")],
                ),
            )
            .await
            .unwrap();
        assert_eq!(changed, 1);
        let events = store.events("d", 0, &[], 1_000_000).await.unwrap();
        assert_eq!(events.len(), members.len() + 1);
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event.seq, i as i64 + 1);
        }
        for (event, member) in events.iter().zip(&members) {
            assert_eq!(event.event_type, "membership.added");
            let data: Value = serde_json::from_str(&event.data).unwrap();
            assert_eq!(
                data,
                json!({ "group_id": "g", "member_type": "user", "member_id": member })
            );
            let actor: Value = serde_json::from_str(&event.actor).unwrap();
            assert_eq!(actor, json!({ "type": "user", "id": "admin" }));
        }
        let last = events.last().unwrap();
        assert_eq!(last.event_type, "domain.updated");
        assert_eq!(last.changed_fields, r#"["description"]"#);
        let data: Value = serde_json::from_str(&last.data).unwrap();
        assert_eq!(data["domain_id"], "d");
        assert_eq!(data["description"], "changed");
        assert_eq!(data["init_drive_enable"], json!(false));
        let ids: HashSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len(), events.len());
        let audited: Option<(i64,)> = store
            .reader()
            .fetch_optional(Stmt::new(
                "SELECT COUNT(*) FROM audit_log WHERE request_id = 'r'",
                vec![],
            ))
            .await
            .unwrap();
        assert_eq!(audited, Some((members.len() as i64 + 1,)));

        // The next change's event takes the next number.
        note_domain_update(&trail);
        let again = Stmt::new(
            "UPDATE domains SET description = 'again' WHERE domain_id = $1",
            vec![text("d")],
        );
        assert_eq!(store.write_statement(&trail, again).await.unwrap(), 1);
        let next = store.events("d", last.seq, &[], 10).await.unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].seq, last.seq + 1);
        let data: Value = serde_json::from_str(&next[0].data).unwrap();
        assert_eq!(data["description"], "again");
    }

    #[test]
    fn events_are_split_into_statements_of_at_most_the_rows_asked() {
        let event = |key: &str, read_from| NewEvent {
            row: EventRow {
                domain_id: "d".into(),
                seq: 1,
                event_id: "e".into(),
                event_type: "t".into(),
                object_id: key.into(),
                created_at: 0,
                actor: "{}".into(),
                data: "{}".into(),
                changed_fields: "[]".into(),
            },
            read_from,
        };
        let events = vec![
            event("u", Some(&USERS)),
            event("7", Some(&PROPERTIES)),
            event("x", None),
        ];
        let stmts = insert_stmts(Dialect::Postgres, &events, 2);
        assert_eq!(stmts.len(), 2);
        // Eight parameters an event, and the numeric key of a property.
        assert_eq!(stmts[0].args.len(), 17);
        assert!(stmts[0].sql.contains("property_id = $17"));
        assert!(stmts[0].sql.contains("user_id = $4"));
        assert_eq!(stmts[1].args.len(), 8);
        assert!(!stmts[1].sql.contains("COALESCE"));
        // Numbered back from the last number taken: from what the take returned in the
        // first statement, from the sequence's row after it.
        assert!(stmts[0].sql.contains("(SELECT last_seq FROM taken) - 2"));
        assert!(stmts[0].sql.contains("(SELECT last_seq FROM taken) - 1"));
        let after = "(SELECT last_seq FROM event_sequences WHERE domain_id = $1) - 0";
        assert!(stmts[1].sql.contains(after));
        let on_sqlite = insert_stmts(Dialect::Sqlite, &events, 2);
        assert!(!on_sqlite[0].sql.contains("taken"));
    }

    fn one_event(domain_id: &str) -> NewEvent {
        NewEvent {
            row: EventRow {
                domain_id: domain_id.into(),
                seq: 0,
                event_id: "e".into(),
                event_type: "user.created".into(),
                object_id: "u".into(),
                created_at: 0,
                actor: "{}".into(),
                data: "{}".into(),
                changed_fields: "[]".into(),
            },
            read_from: Some(&USERS),
        }
    }

    /// A change's audit record, its domain's sequence and its event are one statement (one
    /// round trip), in that order, on both backends.
    #[test]
    fn a_changes_journal_is_one_statement() {
        let audit = super::super::audit_log::insert_stmts(
            Dialect::Sqlite,
            &[record("user.create", "u", Value::Null)],
        );
        let events = BTreeMap::from([("d".to_owned(), vec![one_event("d")])]);
        let stmts = journal_stmts(Dialect::Sqlite, audit.clone(), events);
        assert_eq!(stmts.len(), 1);
        let sql = &stmts[0].sql;
        let audit_at = sql.find("INSERT INTO audit_log").unwrap();
        let take_at = sql.find("INSERT INTO event_sequences").unwrap();
        let events_at = sql.find("INSERT INTO events").unwrap();
        assert!(audit_at < take_at && take_at < events_at);
        // Thirteen parameters of the record, two of the take, eight of the event.
        assert_eq!(stmts[0].args.len(), 23);
        assert!(sql.contains("VALUES ($14, $15)"));
        assert!(sql.contains("(SELECT last_seq FROM event_sequences WHERE domain_id = $16) - 0"));
        // SQLite's events read the sequence's row: the take returns nothing.
        assert!(!sql.contains("RETURNING"), "{sql}");

        let events = BTreeMap::from([("d".to_owned(), vec![one_event("d")])]);
        let stmts = journal_stmts(Dialect::Postgres, audit, events);
        assert_eq!(stmts.len(), 1);
        assert!(stmts[0]
            .sql
            .starts_with("WITH journal_audit AS (INSERT INTO audit_log"));
        assert!(stmts[0]
            .sql
            .contains("), taken AS (INSERT INTO event_sequences"));
        assert!(stmts[0].sql.contains("(SELECT last_seq FROM taken) - 0"));
        assert!(stmts[0].sql.contains("RETURNING last_seq"));
    }

    /// Records with no event are written alone; events of two domains take each its own
    /// sequence, the audit records riding with the first.
    #[test]
    fn a_journal_without_events_or_with_two_domains() {
        let audit = || {
            super::super::audit_log::insert_stmts(
                Dialect::Sqlite,
                &[record("account.login", "u", Value::Null)],
            )
        };
        let alone = journal_stmts(Dialect::Sqlite, audit(), BTreeMap::new());
        assert_eq!(alone.len(), 1);
        assert!(!alone[0].sql.contains("events"));
        let two = BTreeMap::from([
            ("a".to_owned(), vec![one_event("a")]),
            ("b".to_owned(), vec![one_event("b"), one_event("b")]),
        ]);
        let stmts = journal_stmts(Dialect::Postgres, audit(), two);
        assert_eq!(stmts.len(), 2);
        assert!(stmts[0].sql.contains("INSERT INTO audit_log"));
        assert!(!stmts[1].sql.contains("INSERT INTO audit_log"));
        assert!(stmts[1]
            .sql
            .starts_with("WITH taken AS (INSERT INTO event_sequences"));
        assert_eq!(stmts[1].args[..2], [text("b"), Arg::Int(2)]);
    }

    /// The events table has one index, its key, and the retention sweep reads through it:
    /// every other index was a page more in every change's write (issue 21).
    #[tokio::test]
    async fn events_keep_only_their_key_and_the_sweep_reads_it() {
        for (_dir, store) in super::super::tests::stores_with_domain_on_each_backend().await {
            let indexes: Vec<(String,)> = store
                .reader()
                .fetch_all(Stmt::new(
                    match store.dialect() {
                        Dialect::Sqlite => {
                            "SELECT name FROM sqlite_master \
                             WHERE type = 'index' AND tbl_name = 'events'"
                        }
                        Dialect::Postgres => {
                            "SELECT CAST(indexname AS TEXT) FROM pg_indexes \
                             WHERE tablename = 'events'"
                        }
                    },
                    vec![],
                ))
                .await
                .unwrap();
            assert_eq!(indexes.len(), 1, "{:?}: {indexes:?}", store.dialect());
        }
        let (_dir, store) = super::super::tests::store_with_domain().await;
        let mut stmt = purge_slice_stmt("d", 0);
        stmt.sql = format!("EXPLAIN QUERY PLAN {}", stmt.sql);
        let plan: Vec<(i64, i64, i64, String)> = store.reader().fetch_all(stmt).await.unwrap();
        for (.., step) in &plan {
            assert!(
                !step.starts_with("SCAN") && !step.contains("TEMP B-TREE"),
                "{plan:?}"
            );
        }
    }

    /// The sweep deletes each domain's events older than its bound and no younger one, the
    /// oldest first, in slices.
    #[tokio::test]
    async fn the_sweep_deletes_each_domains_old_events_only() {
        for (_dir, store) in super::super::tests::stores_with_domain_on_each_backend().await {
            // Domain d: PURGE_SLICE + 3 old events (two slices) then 2 young; domain e: an
            // old one, a young one, and an old one numbered after it (committed later).
            let old = PURGE_SLICE + 3;
            let fill = format!(
                "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {}) \
                 INSERT INTO events ({COLUMNS}) SELECT 'd', k, 'e' || CAST(k AS TEXT), \
                 'user.created', 'u', CASE WHEN k <= {old} THEN 100 ELSE 200 END, '{{}}', \
                 '{{}}', '[]' FROM n",
                old + 2
            );
            store.upkeep(Stmt::new(fill, vec![])).await.unwrap();
            let others = format!(
                "INSERT INTO events ({COLUMNS}) VALUES \
                 ('e', 1, 'x1', 't', 'o', 100, '{{}}', '{{}}', '[]'), \
                 ('e', 2, 'x2', 't', 'o', 200, '{{}}', '{{}}', '[]'), \
                 ('e', 3, 'x3', 't', 'o', 100, '{{}}', '{{}}', '[]')"
            );
            store.upkeep(Stmt::new(others, vec![])).await.unwrap();
            store
                .upkeep(Stmt::new(
                    "INSERT INTO event_sequences (domain_id, last_seq) \
                     VALUES ('d', $1), ('e', 3)",
                    vec![Arg::Int(old + 2)],
                ))
                .await
                .unwrap();
            let purged = store.purge_events(150).await.unwrap();
            assert_eq!(purged, old as u64 + 2, "{:?}", store.dialect());
            let left = |domain: &'static str| {
                let store = &store;
                async move {
                    store
                        .events(domain, 0, &[], 100)
                        .await
                        .unwrap()
                        .iter()
                        .map(|e| e.seq)
                        .collect::<Vec<i64>>()
                }
            };
            assert_eq!(left("d").await, [old + 1, old + 2]);
            assert_eq!(left("e").await, [2]);
        }
    }

    #[test]
    fn a_link_names_its_account_and_user() {
        let specs = specs_of(&record(
            "account.link",
            "email:a@b.c",
            json!({ "user_id": "u1" }),
        ));
        let Object::Inline(data) = &specs[0].object else {
            panic!("inline data expected");
        };
        assert_eq!(data["authentication_type"], "email");
        assert_eq!(data["identity"], "a@b.c");
        assert_eq!(data["user_id"], "u1");
    }
}
