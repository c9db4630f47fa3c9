//! `roster audit`: the audit log of the domain you are logged in to (admin).

use clap::Args;
use futures_util::{StreamExt, TryStreamExt};
use roster_client::api::audit_log::{AuditLog, AuditLogExportRequest, ListAuditLogRequest};

use crate::remote::{client, keep_renewed, print_items};

#[derive(Args)]
pub struct AuditArgs {
    /// Only what this user did.
    #[arg(long)]
    actor: Option<String>,
    /// Only this action, e.g. `user.create`, `account.login`, `membership.add`.
    #[arg(long)]
    action: Option<String>,
    /// Only about this object (a user, group, drive, ... id).
    #[arg(long)]
    object: Option<String>,
    /// Only `success` or `failure`.
    #[arg(long)]
    outcome: Option<String>,
    /// From this time on (UTC, `2026-11-24T00:00:00`).
    #[arg(long)]
    since: Option<String>,
    /// Up to this time (UTC).
    #[arg(long)]
    until: Option<String>,
    /// Oldest first (default: newest first).
    #[arg(long)]
    oldest_first: bool,
    /// How many records at most.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// Write every matching record to this CSV file instead (the server's export).
    #[arg(long, value_name = "FILE")]
    export: Option<std::path::PathBuf>,
}

/// The filters as PDS's query language: `field = 'value' and ...`.
fn query_of(args: &AuditArgs) -> Option<String> {
    let quoted = |v: &str| format!("'{}'", v.replace('\'', "''"));
    let conditions: Vec<String> = [
        ("actor_id", "=", &args.actor),
        ("action_type", "=", &args.action),
        ("object_id", "=", &args.object),
        ("outcome", "=", &args.outcome),
        ("acted_at", ">=", &args.since),
        ("acted_at", "<=", &args.until),
    ]
    .into_iter()
    .filter_map(|(field, op, value)| Some(format!("{field} {op} {}", quoted(value.as_ref()?))))
    .collect();
    (!conditions.is_empty()).then(|| conditions.join(" and "))
}

/// Runs `roster audit`.
pub async fn audit(args: AuditArgs, json: bool) -> anyhow::Result<()> {
    let (client, session) = client()?;
    let order_by = args.oldest_first.then(|| "acted_at ASC".to_owned());
    if let Some(path) = &args.export {
        let request = AuditLogExportRequest {
            query: query_of(&args),
            order_by,
            ..AuditLogExportRequest::default()
        };
        let csv = client.download_audit_log(&request).await?;
        std::fs::write(path, &csv)?;
        eprintln!(
            "wrote {} records to {}",
            csv.lines().count().saturating_sub(1),
            path.display()
        );
    } else {
        let request = ListAuditLogRequest {
            query: query_of(&args),
            order_by,
            limit: Some(args.limit.clamp(1, 100) as i64),
            marker: None,
        };
        let records: Vec<AuditLog> = client
            .audit_log_stream(&request)
            .take(args.limit)
            .try_collect()
            .await?;
        print_items(
            &records,
            json,
            &[
                "ACTED_AT",
                "ACTOR",
                "ACTION",
                "OBJECT",
                "OUTCOME",
                "CLIENT_IP",
            ],
            |r| {
                let outcome = if r.error_code.is_empty() {
                    r.outcome.clone()
                } else {
                    format!("{} ({})", r.outcome, r.error_code)
                };
                vec![
                    r.acted_at.clone(),
                    r.actor_id.clone(),
                    r.action_type.clone(),
                    r.object_id.clone(),
                    outcome,
                    r.client_ip.clone(),
                ]
            },
        )?;
    }
    keep_renewed(&client, session)
}
