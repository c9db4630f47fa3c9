//! The audit trail of the request being served.
//!
//! Each request (an HTTP request, an LDAP operation) gets a [`Trail`]: a handle, cheap to
//! clone, that the face creates and hands on explicitly — inside the caller's `Actor` for
//! authenticated calls, as an argument to the anonymous flows (logins, password resets). The
//! services note each change they are about to make on it; the store's write methods take it
//! and write its records inside the transaction that makes the change, just before it commits
//! (so a change and its record land together or not at all). Whatever is still pending when
//! the request ends — an attempt that was refused or failed before anything was written — is
//! written by [`write_leftovers`], the one place both faces call, marked as a failure.
//!
//! Outside a request (bootstrap, the CLI, the store's import path) the trail is
//! [`Trail::none`], and nothing is recorded.

use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::error::Error;
use crate::store::audit_log::AuditRow;

pub const SUCCESS: &str = "success";
pub const FAILURE: &str = "failure";

/// Where a request came from, and the records it has noted but not yet written.
#[derive(Debug, Default)]
struct Pending {
    request_id: String,
    client_ip: String,
    /// The services' clock, which dates the records.
    clock: Clock,
    records: Vec<AuditRow>,
}

/// The audit records of one request, noted and not yet written. Clones share the records.
#[derive(Clone, Default)]
pub struct Trail(Option<Arc<Mutex<Pending>>>);

impl std::fmt::Debug for Trail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let request_id = self.with(|pending| pending.request_id.clone());
        f.debug_tuple("Trail").field(&request_id).finish()
    }
}

impl Trail {
    /// The trail of a request from `client_ip`, its records dated by `clock`.
    pub fn new(request_id: String, client_ip: String, clock: Clock) -> Trail {
        Trail(Some(Arc::new(Mutex::new(Pending {
            request_id,
            client_ip,
            clock,
            records: Vec::new(),
        }))))
    }

    /// The trail of work outside any request: it records nothing.
    pub fn none() -> Trail {
        Trail(None)
    }

    /// A new, empty trail of the same request (one item of a batch, whose records fail or
    /// succeed on their own until they join the request's with [`Trail::absorb`]).
    pub fn fork(&self) -> Trail {
        let Some(pending) = &self.0 else {
            return Trail::none();
        };
        let pending = lock(pending);
        Trail::new(
            pending.request_id.clone(),
            pending.client_ip.clone(),
            pending.clock.clone(),
        )
    }

    fn with<T>(&self, f: impl FnOnce(&mut Pending) -> T) -> Option<T> {
        self.0.as_ref().map(|pending| f(&mut lock(pending)))
    }

    /// Notes an event of this request, as a success until something says otherwise.
    pub fn record(&self, event: Event<'_>) {
        self.with(|pending| {
            let row = AuditRow {
                log_id: next_log_id(),
                domain_id: event.domain_id.to_owned(),
                acted_at: pending.clock.now_ms(),
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
                request_id: pending.request_id.clone(),
                client_ip: pending.client_ip.clone(),
                outcome: SUCCESS.to_owned(),
                error_code: String::new(),
                detail: detail_text(event.detail),
            };
            pending.records.push(row);
        });
    }

    /// Names the target of the records noted with an empty one, once a create has made its id.
    pub fn name_target(&self, target_id: &str) {
        self.with(|pending| {
            for row in pending
                .records
                .iter_mut()
                .filter(|r| r.target_id.is_empty())
            {
                row.target_id = clipped(target_id);
            }
        });
    }

    /// Whether records wait for a transaction.
    pub fn has_pending(&self) -> bool {
        self.with(|pending| !pending.records.is_empty())
            .unwrap_or(false)
    }

    /// Copies of the pending records that `keep` selects (the deletions a transaction about to
    /// begin must read objects of before it changes them).
    pub fn pending_where(&self, keep: impl Fn(&AuditRow) -> bool) -> Vec<AuditRow> {
        self.with(|pending| {
            pending
                .records
                .iter()
                .filter(|r| keep(r))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
    }

    /// Takes the pending records, for the transaction about to commit (or, at the end of the
    /// request, to be written on their own).
    pub fn take_pending(&self) -> Vec<AuditRow> {
        self.with(|pending| std::mem::take(&mut pending.records))
            .unwrap_or_default()
    }

    /// Puts back, before any noted since, records whose transaction did not commit.
    pub fn restore(&self, mut records: Vec<AuditRow>) {
        if records.is_empty() {
            return;
        }
        self.with(|pending| {
            records.append(&mut pending.records);
            pending.records = records;
        });
    }

    /// Moves the records of `other` (a fork of this trail) to the end of this one.
    pub fn absorb(&self, other: &Trail) {
        let records = other.take_pending();
        if !records.is_empty() {
            self.with(|pending| pending.records.extend(records));
        }
    }

    /// Forgets the record noted last: the change it announced was found, in its transaction,
    /// not to happen (a refresh token consumed by a concurrent request).
    pub fn forget_last(&self) {
        self.with(|pending| {
            pending.records.pop();
        });
    }

    /// Marks every pending record as failed with `error`: the operation they belong to
    /// (a request, a batch item) is answering it.
    pub fn fail_pending(&self, error: &Error) {
        self.fail_with(&error.audit_code());
    }

    /// Marks every pending record as failed with the audit code `code`.
    fn fail_with(&self, code: &str) {
        self.with(|pending| {
            for row in pending.records.iter_mut() {
                mark_failed(row, code.to_owned());
            }
        });
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    pending
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes the records a request leaves pending when it ends — changes refused or failed
/// before they reached a transaction — marked as failed with `failure` (the audit code of
/// what the request answered) when it failed. The one place a failed request's records are
/// written, for every face.
pub async fn write_leftovers(
    store: &dyn crate::store::Store,
    trail: &Trail,
    failure: Option<&str>,
) {
    if let Some(code) = failure {
        trail.fail_with(code);
    }
    let leftover = trail.take_pending();
    if leftover.is_empty() {
        return;
    }
    if let Err(e) = store.append_audit(leftover).await {
        let request_id = trail.with(|pending| pending.request_id.clone());
        tracing::error!(error = %e, request_id, "could not write audit records");
    }
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
/// detail): every face's records pass through [`Trail::record`], so none can fill the log.
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

fn mark_failed(row: &mut AuditRow, code: String) {
    if row.outcome == SUCCESS {
        row.outcome = FAILURE.to_owned();
        row.error_code = code;
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
