//! The audit trail of the request being served.
//!
//! Services note each change they are about to make with [`record`]; the store writes the
//! noted records inside the transaction that makes the change, just before it commits (so a
//! change and its record land together or not at all). Whatever is still pending when the
//! request ends — an attempt that was refused or failed before anything was written — is
//! written on its own by the HTTP layer, marked as a failure.
//!
//! Outside a request (bootstrap, the store's import path) nothing is recorded.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::error::Error;
use crate::store::audit_log::AuditRow;

pub const SUCCESS: &str = "success";
pub const FAILURE: &str = "failure";

/// Where a request came from, and the records it has noted but not yet written.
#[derive(Debug, Default)]
struct Trail {
    request_id: String,
    client_ip: String,
    /// The services' clock, which dates the records.
    clock: Clock,
    pending: Vec<AuditRow>,
}

tokio::task_local! {
    static TRAIL: Arc<Mutex<Trail>>;
}

fn with_trail<T>(f: impl FnOnce(&mut Trail) -> T) -> Option<T> {
    TRAIL
        .try_with(|trail| {
            let mut trail = trail
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut trail)
        })
        .ok()
}

/// Runs a request with a trail; answers its output and the records still pending at its end.
pub async fn scope<F: Future>(
    request_id: String,
    client_ip: String,
    clock: Clock,
    request: F,
) -> (F::Output, Vec<AuditRow>) {
    let trail = Arc::new(Mutex::new(Trail {
        request_id,
        client_ip,
        clock,
        pending: Vec::new(),
    }));
    let output = TRAIL.scope(trail.clone(), request).await;
    let leftover = std::mem::take(
        &mut trail
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pending,
    );
    (output, leftover)
}

/// What a service is about to do, to whom.
pub struct Event<'a> {
    pub domain_id: &'a str,
    /// `""` for a caller not signed in.
    pub actor_id: &'a str,
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: &'a str,
    /// A JSON object; `Value::Null` for none.
    pub detail: serde_json::Value,
}

/// A unique id that sorts records of one process made in the same millisecond in the order
/// they were noted: a sequence number, then randomness against other processes.
pub(crate) fn next_log_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("{n:016x}{}", crate::ids::random_hex(6))
}

/// Most characters a record keeps of one string a client chose (a target id, a value in the
/// detail): every face's records pass through [`record`], so none can fill the log.
pub const MAX_KEPT_CHARS: usize = 256;
/// Most items a record keeps of one list in its detail.
const MAX_KEPT_ITEMS: usize = 64;
/// Most characters of a record's serialised detail; a longer one is replaced by a marker.
const MAX_DETAIL_CHARS: usize = 8 * 1024;

/// `text` cut to [`MAX_KEPT_CHARS`], with `…` where it was cut.
pub fn clipped(text: &str) -> String {
    match text.char_indices().nth(MAX_KEPT_CHARS - 1) {
        Some((end, _)) if text[end..].chars().nth(1).is_some() => format!("{}…", &text[..end]),
        _ => text.to_owned(),
    }
}

/// A detail with every string clipped and every list shortened.
fn clipped_detail(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(clipped(&s)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .take(MAX_KEPT_ITEMS)
                .map(clipped_detail)
                .collect(),
        ),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .take(MAX_KEPT_ITEMS)
                .map(|(k, v)| (clipped(&k), clipped_detail(v)))
                .collect(),
        ),
        other => other,
    }
}

fn detail_text(detail: serde_json::Value) -> String {
    if detail.is_null() {
        return "{}".to_owned();
    }
    let text = clipped_detail(detail).to_string();
    if text.chars().count() > MAX_DETAIL_CHARS {
        return r#"{"truncated":true}"#.to_owned();
    }
    text
}

/// Notes an event of the current request, as a success until something says otherwise.
pub fn record(event: Event<'_>) {
    with_trail(|trail| {
        let detail = detail_text(event.detail);
        let row = AuditRow {
            log_id: next_log_id(),
            domain_id: event.domain_id.to_owned(),
            acted_at: trail.clock.now_ms(),
            actor_id: clipped(event.actor_id),
            actor_type: if event.actor_id.is_empty() {
                "anonymous"
            } else if event.actor_id.starts_with("scim:") {
                // A SCIM provisioning token (`scim:<token_id>`).
                "scim_token"
            } else {
                "user"
            }
            .to_owned(),
            action: event.action.to_owned(),
            target_type: event.target_type.to_owned(),
            target_id: clipped(event.target_id),
            request_id: trail.request_id.clone(),
            client_ip: trail.client_ip.clone(),
            outcome: SUCCESS.to_owned(),
            error_code: String::new(),
            detail,
        };
        trail.pending.push(row);
    });
}

/// Names the target of the records noted with an empty one, once a create has made its id.
pub fn name_target(target_id: &str) {
    with_trail(|trail| {
        for row in trail.pending.iter_mut().filter(|r| r.target_id.is_empty()) {
            row.target_id = clipped(target_id);
        }
    });
}

/// Whether the current request has records waiting for a transaction.
pub fn has_pending() -> bool {
    with_trail(|trail| !trail.pending.is_empty()).unwrap_or(false)
}

/// Copies of the pending records that `keep` selects (the deletions a transaction about to
/// begin must read objects of before it changes them).
pub fn pending_where(keep: impl Fn(&AuditRow) -> bool) -> Vec<AuditRow> {
    with_trail(|trail| trail.pending.iter().filter(|r| keep(r)).cloned().collect())
        .unwrap_or_default()
}

/// Takes the pending records, for the transaction about to commit.
pub fn take_pending() -> Vec<AuditRow> {
    with_trail(|trail| std::mem::take(&mut trail.pending)).unwrap_or_default()
}

/// Puts back records whose transaction did not commit.
pub fn restore(mut records: Vec<AuditRow>) {
    if records.is_empty() {
        return;
    }
    with_trail(|trail| {
        records.append(&mut trail.pending);
        trail.pending = records;
    });
}

/// Marks the pending records about `target_id` as failed with `error` (an item of a batch
/// whose own change was undone while the others commit).
pub fn fail_target(target_id: &str, error: &Error) {
    with_trail(|trail| {
        for row in trail
            .pending
            .iter_mut()
            .filter(|r| r.target_id == clipped(target_id))
        {
            mark_failed(row, error.audit_code());
        }
    });
}

/// Marks the record noted last as failed with `error` (a batch item refused before it
/// reached the store).
pub fn fail_last(error: &Error) {
    with_trail(|trail| {
        if let Some(row) = trail.pending.last_mut() {
            mark_failed(row, error.audit_code());
        }
    });
}

/// Forgets the record noted last: the change it announced was found, in its transaction,
/// not to happen (a refresh token consumed by a concurrent request).
pub fn forget_last() {
    with_trail(|trail| {
        trail.pending.pop();
    });
}

/// Marks every pending record as failed with `error`: the request (or batch item) they
/// belong to is answering it.
pub fn fail_pending(error: &Error) {
    with_trail(|trail| {
        for row in trail.pending.iter_mut() {
            mark_failed(row, error.audit_code());
        }
    });
}

fn mark_failed(row: &mut AuditRow, code: String) {
    if row.outcome == SUCCESS {
        row.outcome = FAILURE.to_owned();
        row.error_code = code;
    }
}

/// Marks records that reach the end of a request answering an error with `code`.
pub fn fail_all(records: &mut [AuditRow], code: &str) {
    for row in records {
        mark_failed(row, code.to_owned());
    }
}

/// Marks records that reach the end of a failed request without a reason of their own.
pub fn fail_unexplained(records: &mut [AuditRow], status: u16) {
    for row in records {
        mark_failed(row, format!("HTTP{status}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_client_strings_are_clipped() {
        assert_eq!(clipped("alice"), "alice");
        let exact = "x".repeat(MAX_KEPT_CHARS);
        assert_eq!(clipped(&exact), exact);
        let long = "é".repeat(MAX_KEPT_CHARS * 10);
        let kept = clipped(&long);
        assert_eq!(kept.chars().count(), MAX_KEPT_CHARS);
        assert!(kept.ends_with('…'));
        let detail = detail_text(serde_json::json!({ "identity": long, "list": vec![1; 1000] }));
        assert!(detail.chars().count() < 2 * MAX_KEPT_CHARS + 4 * MAX_KEPT_ITEMS);
    }
}
