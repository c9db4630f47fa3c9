//! `/v2/audit_log/*` and `/v2/async_task/get`: the audit log, with the field names of PDS's
//! `AuditLog` and `AuditLogExport` where they exist.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::users::int_or_numeric_string;

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditLog {
    pub log_id: String,
    /// When it happened, ISO-8601 UTC with milliseconds (`2026-11-24T03:15:00.123Z`).
    pub acted_at: String,
    /// The kind of object acted on (`user`, `group`, `account`, `drive`, `domain`, ...).
    pub action_category: String,
    /// What was done: `<object>.<verb>`, e.g. `user.create`, `account.login`.
    pub action_type: String,
    /// The user who acted; `""` when nobody was signed in (a failed login).
    pub actor_id: String,
    /// `user`, `anonymous`, or `scim_token` (a SCIM provisioning token, `actor_id`
    /// `scim:<token_id>`).
    pub actor_type: String,
    pub client_ip: String,
    /// The object acted on.
    pub object_id: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Why it failed (`NotFound.User`, `Forbidden`, ...); `""` on success.
    pub error_code: String,
    /// The `x-ca-request-id` of the request that did it.
    pub request_id: String,
    pub domain_id: String,
    /// More about the change: names of changed fields, a new role. Never a secret.
    #[schema(value_type = Object)]
    pub detail: Map<String, Value>,
}

/// `/v2/audit_log/list`: one page of the caller's domain's log (admin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListAuditLogRequest {
    /// Conditions joined by `and`, PDS style: `actor_id = 'u1' and acted_at > '2026-11-01T00:00:00'`.
    /// Fields: `actor_id`, `action_type`, `action_category`, `object_id`, `drive_id`,
    /// `outcome`, `acted_at` (which also takes `>`, `>=`, `<`, `<=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4096)]
    pub query: Option<String>,
    /// `acted_at DESC` (default) or `acted_at ASC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::audit_order)]
    pub order_by: Option<String>,
    /// 1..100, default 100.
    #[serde(
        default,
        deserialize_with = "int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::limit)]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::marker)]
    pub marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListAuditLogResponse {
    pub items: Vec<AuditLog>,
    pub next_marker: String,
}

/// `/v2/audit_log/export`: the whole matching log as a CSV file, prepared as an asynchronous
/// task (admin).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AuditLogExportRequest {
    /// As in `/v2/audit_log/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4096)]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::audit_order)]
    pub order_by: Option<String>,
    /// The name of the file (default `audit_log.csv`), 1..1,024 characters, one line, without
    /// `"`, `\` or `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::file_name)]
    pub file_name: Option<String>,
    /// Accepted for PDS compatibility; the file's header is always in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditLogExportResponse {
    pub async_task_id: String,
}

/// `/v2/async_task/get`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetAsyncTaskRequest {
    pub async_task_id: String,
}

/// An asynchronous task. Roster's exports are ready at once: `state` is `Succeed` and `url`
/// downloads the file (with the caller's token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AsyncTask {
    pub async_task_id: String,
    /// `Succeed`.
    pub state: String,
    /// `Succeed`.
    pub status: String,
    pub task_type: String,
    /// Where to download the result (`GET`, with the same `Authorization`).
    pub url: String,
}
