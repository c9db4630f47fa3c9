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

use crate::error::Error;
use crate::store::audit_log::AuditRow;

pub const SUCCESS: &str = "success";
pub const FAILURE: &str = "failure";

/// Where a request came from, and the records it has noted but not yet written.
#[derive(Debug, Default)]
struct Trail {
    request_id: String,
    client_ip: String,
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
    request: F,
) -> (F::Output, Vec<AuditRow>) {
    let trail = Arc::new(Mutex::new(Trail {
        request_id,
        client_ip,
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
fn next_log_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("{n:016x}{}", crate::service::random_hex(6))
}

/// Notes an event of the current request, as a success until something says otherwise.
pub fn record(event: Event<'_>) {
    with_trail(|trail| {
        let detail = match event.detail {
            serde_json::Value::Null => "{}".to_owned(),
            value => value.to_string(),
        };
        let row = AuditRow {
            log_id: next_log_id(),
            domain_id: event.domain_id.to_owned(),
            acted_at: crate::service::now_ms(),
            actor_id: event.actor_id.to_owned(),
            actor_type: if event.actor_id.is_empty() {
                "anonymous"
            } else {
                "user"
            }
            .to_owned(),
            action: event.action.to_owned(),
            target_type: event.target_type.to_owned(),
            target_id: event.target_id.to_owned(),
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
            row.target_id = target_id.to_owned();
        }
    });
}

/// Whether the current request has records waiting for a transaction.
pub fn has_pending() -> bool {
    with_trail(|trail| !trail.pending.is_empty()).unwrap_or(false)
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
            .filter(|r| r.target_id == target_id)
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

/// Marks records that reach the end of a failed request without a reason of their own.
pub fn fail_unexplained(records: &mut [AuditRow], status: u16) {
    for row in records {
        mark_failed(row, format!("HTTP{status}"));
    }
}
