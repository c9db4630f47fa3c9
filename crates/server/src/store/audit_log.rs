//! The audit log: what was changed (or refused), by whom, from where, when.

use async_trait::async_trait;

use crate::error::Result;

/// One audit record. Never holds a secret: no password, token or key material, only ids.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRow {
    pub log_id: String,
    pub domain_id: String,
    /// Milliseconds since the UNIX epoch.
    pub acted_at: i64,
    /// The user who acted; `""` when nobody was signed in (a failed login).
    pub actor_id: String,
    /// `user`, or `anonymous` for calls made before authentication (logins, resets).
    pub actor_type: String,
    /// `<object>.<verb>`, e.g. `user.create`, `account.login`, `membership.add`.
    pub action: String,
    /// The kind of object acted on: `user`, `group`, `account`, `drive`, `domain`, ...
    pub target_type: String,
    pub target_id: String,
    pub request_id: String,
    pub client_ip: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Why it failed (`NotFound.User`, `Forbidden`, ...); `""` on success.
    pub error_code: String,
    /// A JSON object with what else is worth knowing (names of changed fields, a new role).
    pub detail: String,
}

/// Which records a page reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Option<String>,
    /// Inclusive bounds on `acted_at` (ms).
    pub acted_from: Option<i64>,
    pub acted_to: Option<i64>,
    /// Oldest first when true; newest first otherwise.
    pub ascending: bool,
    /// The `(acted_at, log_id)` of the last record of the previous page.
    pub after: Option<(i64, String)>,
}

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Writes records on their own, for attempts that changed nothing (refused or failed
    /// requests); records of changes are written by the change's own transaction.
    async fn append_audit(&self, records: Vec<AuditRow>) -> Result<()>;

    /// One page of a domain's records.
    async fn audit_log(
        &self,
        domain_id: &str,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<AuditRow>>;

    /// How many of a domain's records of `action` with `outcome` are dated at or after
    /// `since` (ms), counting no further than `cap` (an index range, never the whole log).
    async fn count_audit(
        &self,
        domain_id: &str,
        action: &str,
        outcome: &str,
        since: i64,
        cap: i64,
    ) -> Result<i64>;

    /// Deletes the records older than `before` (ms), across domains; answers how many.
    async fn purge_audit(&self, before: i64) -> Result<u64>;
}
