//! `AuditStore` on SQL. Records of changes are written by `SqlStore::write`, inside the change's own
//! transaction; this module holds that statement and the queries over the log.

use crate::audit::Trail;
use async_trait::async_trait;

use super::{text, Arg, SqlStore, Stmt};
use crate::error::Result;
use crate::store::audit_log::{AuditQuery, AuditRow, AuditStore};

const COLUMNS: &str = "log_id, domain_id, acted_at, actor_id, actor_type, action, target_type, \
                       target_id, request_id, client_ip, outcome, error_code, detail";

/// Parameters of one audit row.
const PARAMS_PER_ROW: usize = 13;

/// `INSERT`s of `records` as multi-row statements, in their order: one statement unless
/// there are more rows than one statement's parameters can carry (`rows_per_statement`).
pub(crate) fn insert_stmts(dialect: super::Dialect, records: &[AuditRow]) -> Vec<Stmt> {
    insert_stmts_of(records, dialect.rows_per_statement(PARAMS_PER_ROW))
}

fn insert_stmts_of(records: &[AuditRow], rows_per_statement: usize) -> Vec<Stmt> {
    records
        .chunks(rows_per_statement.max(1))
        .map(|chunk| {
            let mut sql = format!("INSERT INTO audit_log ({COLUMNS}) VALUES ");
            let mut args = Vec::with_capacity(chunk.len() * PARAMS_PER_ROW);
            for (i, r) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let first = args.len() + 1;
                let places: Vec<String> = (first..first + PARAMS_PER_ROW)
                    .map(|n| format!("${n}"))
                    .collect();
                sql.push_str(&format!("({})", places.join(", ")));
                args.extend([
                    text(&r.log_id),
                    text(&r.domain_id),
                    Arg::Int(r.acted_at),
                    text(&r.actor_id),
                    text(&r.actor_type),
                    text(&r.action),
                    text(&r.target_type),
                    text(&r.target_id),
                    text(&r.request_id),
                    text(&r.client_ip),
                    text(&r.outcome),
                    text(&r.error_code),
                    text(&r.detail),
                ]);
            }
            Stmt::new(sql, args)
        })
        .collect()
}

/// `SELECT ... WHERE ... ORDER BY ... LIMIT` for one page of a domain's log.
fn page_stmt(domain_id: &str, q: &AuditQuery, limit: u32) -> Stmt {
    let mut args = vec![text(domain_id)];
    let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE domain_id = $1");
    let equal_to = [
        ("actor_id", &q.actor_id),
        ("action", &q.action),
        ("target_type", &q.target_type),
        ("target_id", &q.target_id),
        ("outcome", &q.outcome),
    ];
    for (column, value) in equal_to {
        if let Some(value) = value {
            args.push(text(value));
            sql.push_str(&format!(" AND {column} = ${}", args.len()));
        }
    }
    if let Some(from) = q.acted_from {
        args.push(Arg::Int(from));
        sql.push_str(&format!(" AND acted_at >= ${}", args.len()));
    }
    if let Some(to) = q.acted_to {
        args.push(Arg::Int(to));
        sql.push_str(&format!(" AND acted_at <= ${}", args.len()));
    }
    let (direction, beyond) = if q.ascending {
        ("ASC", ">")
    } else {
        ("DESC", "<")
    };
    if let Some((at, log_id)) = &q.after {
        args.push(Arg::Int(*at));
        let at_p = args.len();
        args.push(text(log_id));
        let id_p = args.len();
        sql.push_str(&format!(
            " AND (acted_at {beyond} ${at_p} OR (acted_at = ${at_p} AND log_id {beyond} ${id_p}))"
        ));
    }
    args.push(Arg::Int(i64::from(limit)));
    sql.push_str(&format!(
        " ORDER BY acted_at {direction}, log_id {direction} LIMIT ${}",
        args.len()
    ));
    Stmt::new(sql, args)
}

#[async_trait]
impl AuditStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn append_audit(&self, records: Vec<AuditRow>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        // The records given are the only ones this write commits: no request's trail.
        let records = &records;
        self.write(&Trail::none(), |tx| {
            Box::pin(async move {
                for stmt in insert_stmts(tx.dialect(), records) {
                    tx.execute(stmt).await?;
                }
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn audit_log(
        &self,
        domain_id: &str,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<AuditRow>> {
        let stmt = page_stmt(domain_id, query, limit);
        Ok(self.reader().fetch_all::<AuditRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn count_audit(
        &self,
        domain_id: &str,
        action: &str,
        outcome: &str,
        since: i64,
        cap: i64,
    ) -> Result<i64> {
        // A range of `audit_log_by_action` (migration 0065), read no further than the cap.
        let stmt = Stmt::new(
            "SELECT COUNT(*) FROM (SELECT 1 FROM audit_log WHERE domain_id = $1 AND action = $2 \
             AND outcome = $3 AND acted_at >= $4 LIMIT $5) AS counted",
            vec![
                text(domain_id),
                text(action),
                text(outcome),
                Arg::Int(since),
                Arg::Int(cap),
            ],
        );
        let count = self.reader().fetch_optional::<(i64,)>(stmt).await?;
        Ok(count.map_or(0, |(n,)| n))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_audit(&self, before: i64) -> Result<u64> {
        // In slices, so that a large backlog never holds the (SQLite) writer for long.
        const SLICE: i64 = 5_000;
        let mut purged = 0;
        loop {
            let stmt = Stmt::new(
                "DELETE FROM audit_log WHERE log_id IN \
                 (SELECT log_id FROM audit_log WHERE acted_at < $1 LIMIT $2)",
                vec![Arg::Int(before), Arg::Int(SLICE)],
            );
            let deleted = self.upkeep(stmt).await?;
            purged += deleted;
            if deleted < SLICE as u64 {
                return Ok(purged);
            }
        }
    }
}
