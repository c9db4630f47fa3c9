//! `WebhookStore` on SQL. The worker's statements are upkeep (no audit journal); claims take
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL so that replicas never hold the same delivery, and
//! run under SQLite's single writer there.

use crate::audit::Trail;
use async_trait::async_trait;

use super::tx::Row;
use super::{text, Arg, Dialect, SqlStore, Stmt};
use crate::error::Result;
use crate::model::DomainId;
use crate::store::events::EventRow;
use crate::store::webhooks::{
    AttemptEnd, AttemptRow, DeliveryRow, FinishedAttempt, QueueState, WebhookRow, WebhookStore,
};

const HOOK_COLUMNS: &str = "domain_id, webhook_id, url, description, event_types, secret, \
                            enabled, disabled_reason, cursor_seq, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "domain_id, webhook_id, event_seq, event_id, object_id, state, \
                                attempts, next_attempt_at, last_status, last_error, event_at, \
                                queued_at";
const ATTEMPT_COLUMNS: &str =
    "domain_id, webhook_id, event_id, attempt, status_code, latency_ms, error, at";

impl SqlStore {
    /// Runs the worker's statements in one transaction of their own (no request's records).
    async fn run_upkeep(&self, stmts: Vec<Stmt>) -> Result<()> {
        let stmts = &stmts;
        self.write(&Trail::none(), |tx| {
            Box::pin(async move {
                for stmt in stmts {
                    tx.execute(stmt.clone()).await?;
                }
                Ok(())
            })
        })
        .await
    }
}

impl SqlStore {
    /// Runs the claim (or, in a test, its `EXPLAIN`). PostgreSQL's estimates of a queue just
    /// filled (no statistics yet) are a few rows, for which it read every due delivery, looked
    /// up each one's earlier delivery of its object and sorted them all, every round: about
    /// 100 ms a round with 10,000 queued (issue 21). Without sorts and hash joins it walks
    /// `webhook_deliveries_pending` in the claim's order and stops at the batch, whatever the
    /// statistics say. SQLite walks that index as it is.
    async fn claim_in_order<R: Row + serde::de::DeserializeOwned>(
        &self,
        stmt: Stmt,
    ) -> Result<Vec<R>> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(self.upkeep_returning_all(stmt).await?);
        }
        let stmt = &stmt;
        self.write(&Trail::none(), |tx| {
            Box::pin(async move {
                tx.execute(Stmt::new(CLAIM_PLANNER, vec![])).await?;
                Ok(tx.fetch_all(stmt.clone()).await?)
            })
        })
        .await
    }
}

/// The claim of up to `limit` due deliveries until `claim_until`: the first in the order
/// they are due whose object has no earlier pending delivery to the same webhook.
/// The hold-back check (an earlier pending delivery of the same object) can only be served
/// by the pending deliveries by object, `(object_id, ...)`: its other columns are compared
/// as expressions (`|| ''`, `+ 0`) no index serves, so the primary key `(domain_id,
/// webhook_id, event_seq)` offers no path. PostgreSQL took the key during a drain (the
/// statistics of the queue before it filled) and read every earlier delivery of the
/// webhook for each candidate, 6,000–10,000 rows each, 150–250 ms a claim of 100
/// (`auto_explain`, issue 21).
fn claim_stmt(dialect: Dialect, now: i64, claim_until: i64, limit: u32) -> Stmt {
    let due = "FROM webhook_deliveries d \
               JOIN webhooks w ON w.domain_id = d.domain_id AND w.webhook_id = d.webhook_id \
               WHERE d.state = 'pending' AND d.next_attempt_at <= $2 \
                 AND d.claimed_until <= $2 AND w.enabled = TRUE \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                   WHERE e.object_id = d.object_id AND e.domain_id || '' = d.domain_id \
                     AND e.webhook_id || '' = d.webhook_id AND e.state = 'pending' \
                     AND e.event_seq + 0 < d.event_seq) \
               ORDER BY d.next_attempt_at, d.event_seq LIMIT $3";
    let args = vec![int(claim_until), int(now), int(i64::from(limit))];
    match dialect {
        // A materialized CTE runs once: as an `IN (subquery)` PostgreSQL may run the claim
        // again for each row it updates (a nested loop), each run skipping the rows the
        // last locked, so a round claimed more than its batch and read the queue once per
        // row (72 s for one claim of 2,400 queued).
        //
        // Planned at each run (unprepared): prepared, the statement got PostgreSQL's generic
        // plan from its sixth run on, made once per connection with the statistics of the
        // queue as it was then and kept while the queue grew (issue 21).
        Dialect::Postgres => Stmt::new(
            format!(
                "WITH c AS MATERIALIZED (SELECT d.domain_id AS c_domain, \
                   d.webhook_id AS c_webhook, d.event_seq AS c_seq {due} \
                   FOR UPDATE OF d SKIP LOCKED) \
                 UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1 \
                 FROM c WHERE domain_id = c_domain AND webhook_id = c_webhook \
                   AND event_seq = c_seq \
                 RETURNING {DELIVERY_COLUMNS}"
            ),
            args,
        )
        .planned_each_time(),
        // SQLite runs the subquery once, under its single writer.
        Dialect::Sqlite => Stmt::new(
            format!(
                "UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE (domain_id, webhook_id, event_seq) IN ( \
                   SELECT d.domain_id, d.webhook_id, d.event_seq {due}) \
                 RETURNING {DELIVERY_COLUMNS}"
            ),
            args,
        ),
    }
}

/// The planner settings of the claim's transaction on PostgreSQL (see `claim_in_order`):
/// `SET LOCAL` both, in one round trip.
const CLAIM_PLANNER: &str =
    "SELECT set_config('enable_sort', 'off', true), set_config('enable_hashjoin', 'off', true)";

fn int(v: i64) -> Arg {
    Arg::Int(v)
}

/// Deliveries a round claims on PostgreSQL, where each of a round's three commits waits for
/// its WAL flush (about 4 ms on the benchmark's machine: at 100 a round the commits alone
/// held a drain near 2,000 a second, issue 21).
const POSTGRES_DELIVERY_BATCH: u32 = 500;
/// On SQLite a commit flushes nothing (WAL, `synchronous = NORMAL`) and 100 a round drained
/// faster than 500 (9,000 a second against 4,000, the server's CPU per delivery doubled).
const SQLITE_DELIVERY_BATCH: u32 = 100;

#[async_trait]
impl WebhookStore for SqlStore {
    fn delivery_batch(&self) -> u32 {
        match self.dialect() {
            Dialect::Postgres => POSTGRES_DELIVERY_BATCH,
            Dialect::Sqlite => SQLITE_DELIVERY_BATCH,
        }
    }

    async fn create_webhook(&self, trail: &Trail, r: &WebhookRow) -> Result<()> {
        let stmt = Stmt::new(
            format!(
                "INSERT INTO webhooks ({HOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 COALESCE((SELECT last_seq FROM event_sequences WHERE domain_id = $1), 0), \
                 $9, $10)"
            ),
            vec![
                text(&r.domain_id),
                text(&r.webhook_id),
                text(&r.url),
                text(&r.description),
                text(&r.event_types),
                text(&r.secret),
                Arg::Bool(r.enabled),
                text(&r.disabled_reason),
                int(r.created_at),
                int(r.updated_at),
            ],
        );
        self.write_statement(trail, stmt).await?;
        Ok(())
    }

    async fn webhook(&self, domain_id: &DomainId, webhook_id: &str) -> Result<Option<WebhookRow>> {
        let stmt = Stmt::new(
            format!("SELECT {HOOK_COLUMNS} FROM webhooks WHERE domain_id = $1 AND webhook_id = $2"),
            vec![text(domain_id), text(webhook_id)],
        );
        Ok(self.reader().fetch_optional(stmt).await?)
    }

    async fn webhooks(&self, domain_id: &str) -> Result<Vec<WebhookRow>> {
        let stmt = Stmt::new(
            format!("SELECT {HOOK_COLUMNS} FROM webhooks WHERE domain_id = $1 ORDER BY webhook_id"),
            vec![text(domain_id)],
        );
        Ok(self.reader().fetch_all(stmt).await?)
    }

    async fn update_webhook(&self, trail: &Trail, r: &WebhookRow) -> Result<bool> {
        let stmt = Stmt::new(
            "UPDATE webhooks SET url = $1, description = $2, event_types = $3, enabled = $4, \
             disabled_reason = $5, updated_at = $6, secret = $9 \
             WHERE domain_id = $7 AND webhook_id = $8",
            vec![
                text(&r.url),
                text(&r.description),
                text(&r.event_types),
                Arg::Bool(r.enabled),
                text(&r.disabled_reason),
                int(r.updated_at),
                text(&r.domain_id),
                text(&r.webhook_id),
                // The sealed key (sealed now if it was stored before sealing existed).
                text(&r.secret),
            ],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    async fn delete_webhook(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        webhook_id: &str,
    ) -> Result<bool> {
        for table in ["webhook_deliveries", "webhook_attempts"] {
            self.upkeep(Stmt::new(
                format!("DELETE FROM {table} WHERE domain_id = $1 AND webhook_id = $2"),
                vec![text(domain_id), text(webhook_id)],
            ))
            .await?;
        }
        let stmt = Stmt::new(
            "DELETE FROM webhooks WHERE domain_id = $1 AND webhook_id = $2",
            vec![text(domain_id), text(webhook_id)],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    async fn enabled_webhooks(&self) -> Result<Vec<WebhookRow>> {
        let stmt = Stmt::new(
            format!(
                "SELECT {HOOK_COLUMNS} FROM webhooks WHERE enabled = TRUE \
                 ORDER BY domain_id, webhook_id"
            ),
            vec![],
        );
        Ok(self.reader().fetch_all(stmt).await?)
    }

    async fn enqueue_deliveries(&self, hook: &WebhookRow, limit: u32, now: i64) -> Result<usize> {
        // What the queue needs of each event (not its object: a round's events are read
        // again, by number, when they are sent).
        let stmt = Stmt::new(
            "SELECT domain_id, seq, event_id, event_type, object_id, created_at, '' AS actor, \
             '' AS data, '' AS changed_fields FROM events \
             WHERE domain_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            vec![
                text(&hook.domain_id),
                int(hook.cursor_seq),
                int(i64::from(limit)),
            ],
        );
        let events: Vec<EventRow> = self.reader().fetch_all(stmt).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(0);
        };
        let types: Vec<String> = serde_json::from_str(&hook.event_types).unwrap_or_default();
        let wanted: Vec<&EventRow> = events
            .iter()
            .filter(|e| types.is_empty() || types.contains(&e.event_type))
            .collect();
        // The queue rows as multi-row INSERTs and the cursor's move, in one transaction.
        let mut stmts = Vec::new();
        let per_statement = self.dialect().rows_per_statement(7);
        for chunk in wanted.chunks(per_statement) {
            let mut sql = format!(
                "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}, claimed_until) VALUES "
            );
            let mut args = Vec::with_capacity(chunk.len() * 7);
            for (i, event) in chunk.iter().enumerate() {
                let n = args.len();
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, 'pending', 0, ${}, 0, '', ${}, ${}, 0)",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 6,
                    n + 7
                ));
                args.extend([
                    text(&hook.domain_id),
                    text(&hook.webhook_id),
                    int(event.seq),
                    text(&event.event_id),
                    text(&event.object_id),
                    int(event.created_at),
                    int(now),
                ]);
            }
            sql.push_str(" ON CONFLICT DO NOTHING");
            stmts.push(Stmt::new(sql, args));
        }
        stmts.push(Stmt::new(
            "UPDATE webhooks SET cursor_seq = $1 \
             WHERE domain_id = $2 AND webhook_id = $3 AND cursor_seq < $1",
            vec![int(last), text(&hook.domain_id), text(&hook.webhook_id)],
        ));
        self.run_upkeep(stmts).await?;
        Ok(events.len())
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        claim_until: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRow>> {
        let stmt = claim_stmt(self.dialect(), now, claim_until, limit);
        self.claim_in_order(stmt).await
    }

    async fn finish_attempts(&self, finished: &[FinishedAttempt]) -> Result<()> {
        if finished.is_empty() {
            return Ok(());
        }
        let mut stmts = Vec::new();
        // The deliveries' new states: one UPDATE from a VALUES list (SQLite names its
        // columns column1, column2, ... as PostgreSQL does).
        const UPDATE_PARAMS: usize = 7;
        for chunk in finished.chunks(self.dialect().rows_per_statement(UPDATE_PARAMS)) {
            let mut rows = Vec::with_capacity(chunk.len());
            let mut args = Vec::with_capacity(chunk.len() * UPDATE_PARAMS);
            for f in chunk {
                let (d, a) = (&f.delivery, &f.attempt);
                let (state, next) = match f.end {
                    AttemptEnd::Delivered => ("delivered", d.next_attempt_at),
                    AttemptEnd::RetryAt(at) => ("pending", at),
                    AttemptEnd::Dead => ("dead", d.next_attempt_at),
                };
                let n = args.len();
                let places: Vec<String> = (n + 1..=n + UPDATE_PARAMS)
                    .map(|k| format!("${k}"))
                    .collect();
                rows.push(format!("({})", places.join(", ")));
                args.extend([
                    text(state),
                    int(next),
                    int(a.status_code),
                    text(&a.error),
                    text(&d.domain_id),
                    text(&d.webhook_id),
                    int(d.event_seq),
                ]);
            }
            stmts.push(Stmt::new(
                format!(
                    "UPDATE webhook_deliveries SET state = v.column1, \
                     next_attempt_at = v.column2, claimed_until = 0, last_status = v.column3, \
                     last_error = v.column4 FROM (VALUES {}) AS v \
                     WHERE webhook_deliveries.domain_id = v.column5 \
                       AND webhook_deliveries.webhook_id = v.column6 \
                       AND webhook_deliveries.event_seq = v.column7",
                    rows.join(", ")
                ),
                args,
            ));
        }
        const ATTEMPT_PARAMS: usize = 8;
        for chunk in finished.chunks(self.dialect().rows_per_statement(ATTEMPT_PARAMS)) {
            let mut rows = Vec::with_capacity(chunk.len());
            let mut args = Vec::with_capacity(chunk.len() * ATTEMPT_PARAMS);
            for f in chunk {
                let a = &f.attempt;
                let n = args.len();
                let places: Vec<String> = (n + 1..=n + ATTEMPT_PARAMS)
                    .map(|k| format!("${k}"))
                    .collect();
                rows.push(format!("({})", places.join(", ")));
                args.extend([
                    text(&a.domain_id),
                    text(&a.webhook_id),
                    text(&a.event_id),
                    int(a.attempt),
                    int(a.status_code),
                    int(a.latency_ms),
                    text(&a.error),
                    int(a.at),
                ]);
            }
            stmts.push(Stmt::new(
                format!(
                    "INSERT INTO webhook_attempts ({ATTEMPT_COLUMNS}) VALUES {}",
                    rows.join(", ")
                ),
                args,
            ));
        }
        self.run_upkeep(stmts).await
    }

    async fn disable_webhook(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool> {
        let changed = self
            .upkeep(Stmt::new(
                "UPDATE webhooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2 \
                 WHERE domain_id = $3 AND webhook_id = $4 AND enabled = TRUE",
                vec![text(reason), int(now), text(domain_id), text(webhook_id)],
            ))
            .await?;
        Ok(changed > 0)
    }

    async fn dead_letters(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRow>> {
        let stmt = Stmt::new(
            format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE domain_id = $1 \
                 AND webhook_id = $2 AND state = 'dead' ORDER BY event_seq LIMIT $3"
            ),
            vec![text(domain_id), text(webhook_id), int(i64::from(limit))],
        );
        Ok(self.reader().fetch_all(stmt).await?)
    }

    async fn redeliver(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        event_ids: &[String],
        now: i64,
    ) -> Result<u64> {
        let base = "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, \
                    claimed_until = 0, attempts = 0, queued_at = $1 \
                    WHERE domain_id = $2 AND webhook_id = $3 AND state = 'dead'";
        let common = vec![int(now), text(domain_id), text(webhook_id)];
        if event_ids.is_empty() {
            return Ok(self.upkeep(Stmt::new(base, common)).await?);
        }
        let mut total = 0;
        for event_id in event_ids {
            let mut args = common.clone();
            args.push(text(event_id));
            total += self
                .upkeep(Stmt::new(format!("{base} AND event_id = $4"), args))
                .await?;
        }
        Ok(total)
    }

    async fn delivery_log(
        &self,
        domain_id: &DomainId,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<AttemptRow>> {
        let stmt = Stmt::new(
            format!(
                "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE domain_id = $1 \
                 AND webhook_id = $2 ORDER BY at DESC, attempt DESC LIMIT $3"
            ),
            vec![text(domain_id), text(webhook_id), int(i64::from(limit))],
        );
        Ok(self.reader().fetch_all(stmt).await?)
    }

    async fn events_by_seq(&self, domain_id: &str, seqs: &[i64]) -> Result<Vec<EventRow>> {
        let mut found = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(self.dialect().rows_per_statement(1) - 1) {
            let mut args = vec![text(domain_id)];
            let places: Vec<String> = chunk
                .iter()
                .map(|seq| {
                    args.push(int(*seq));
                    format!("${}", args.len())
                })
                .collect();
            let stmt = Stmt::new(
                format!(
                    "SELECT domain_id, seq, event_id, event_type, object_id, created_at, actor, \
                     data, changed_fields FROM events WHERE domain_id = $1 AND seq IN ({}) \
                     ORDER BY seq",
                    places.join(", ")
                ),
                args,
            );
            found.extend(self.reader().fetch_all::<EventRow>(stmt).await?);
        }
        Ok(found)
    }

    async fn queue_state(&self) -> Result<QueueState> {
        let stmt = Stmt::new(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 AS backlog, \
               CAST(COALESCE(MIN(CASE WHEN state = 'pending' THEN event_at END), 0) AS BIGINT) \
                 AS oldest_event_at, \
               CAST(COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 AS dead \
             FROM webhook_deliveries WHERE state <> 'delivered'",
            vec![],
        );
        Ok(self
            .reader()
            .fetch_optional(stmt)
            .await?
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A webhook of domain `d` and 10,000 deliveries pending to it, 100 due each ms from 1,000
    /// on, after 10,000 delivered ones.
    const QUEUE: [&str; 2] = [
        "INSERT INTO webhooks (domain_id, webhook_id, url, description, event_types, secret, \
         enabled, disabled_reason, cursor_seq, created_at, updated_at) \
         VALUES ('d', 'w', 'http://127.0.0.1/', '', '[]', '', TRUE, '', 0, 0, 0)",
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 20000) \
         INSERT INTO webhook_deliveries (domain_id, webhook_id, event_seq, event_id, object_id, \
           state, attempts, next_attempt_at, claimed_until, last_status, last_error, event_at, \
           queued_at) \
         SELECT 'd', 'w', k, 'e' || CAST(k AS TEXT), 'u' || CAST(k AS TEXT), \
           CASE WHEN k <= 10000 THEN 'delivered' ELSE 'pending' END, 0, 1000 + k / 100, 0, 0, \
           '', 0, 0 FROM n",
    ];

    async fn fill_queue(store: &SqlStore) {
        for sql in QUEUE {
            store.upkeep(Stmt::new(sql, vec![])).await.expect(sql);
        }
    }

    /// PostgreSQL claims a batch by walking the pending deliveries in the claim's order, on
    /// a queue just filled (no statistics: it then sorted every due delivery, issue 21) and
    /// after `ANALYZE` alike. Runs when `ROSTER_TEST_DATABASE_URL` is set.
    #[tokio::test]
    async fn claim_walks_the_pending_index_in_order_on_postgres() {
        let Some(store) = crate::store::scratch_postgres_store().await else {
            return;
        };
        fill_queue(&store).await;
        for analyzed in [false, true] {
            if analyzed {
                store.upkeep(Stmt::new("ANALYZE", vec![])).await.unwrap();
            }
            let mut stmt = claim_stmt(Dialect::Postgres, 2_000, 5_000, 100);
            stmt.sql = format!("EXPLAIN {}", stmt.sql);
            let plan: Vec<crate::store::sql::tests::PgPlanLine> =
                store.claim_in_order(stmt).await.unwrap();
            let plan: Vec<String> = plan.into_iter().map(|p| p.line).collect();
            let plan = plan.join("\n");
            assert!(
                plan.contains(
                    "Index Scan using webhook_deliveries_pending on webhook_deliveries d"
                ) && plan.contains("CTE Scan on c"),
                "analyzed {analyzed}:\n{plan}"
            );
            assert!(
                plan.contains(
                    "Index Scan using webhook_deliveries_pending_by_object on webhook_deliveries e"
                ),
                "the hold-back check looks the object up, analyzed {analyzed}:\n{plan}"
            );
            for slow in [
                "Sort",
                "Hash Join",
                "Seq Scan on webhook_deliveries",
                "Bitmap",
            ] {
                assert!(!plan.contains(slow), "analyzed {analyzed}:\n{plan}");
            }
        }
    }

    /// PostgreSQL plans the claim at each run, never from a generic plan kept on the
    /// connection: one made when the queue was empty (from its sixth run on) seq-scanned the
    /// queue for every candidate, 400 ms a claim once 10,000 were queued (issue 21). Runs
    /// when `ROSTER_TEST_DATABASE_URL` is set.
    #[tokio::test]
    async fn the_claim_is_never_kept_prepared_on_postgres() {
        let Some(store) = crate::store::scratch_postgres_store().await else {
            return;
        };
        fill_queue(&store).await;
        for round in 0..8 {
            let claimed = store
                .claim_deliveries(1_100_000 + round, 2_000_000, 5)
                .await
                .unwrap();
            assert!(!claimed.is_empty());
        }
        for _ in 0..4 {
            let kept: Option<(i64,)> = store
                .reader()
                .fetch_optional(Stmt::new(
                    "SELECT COUNT(*) FROM pg_prepared_statements \
                     WHERE statement LIKE '%SKIP LOCKED%' \
                       AND statement NOT LIKE '%pg_prepared_statements%'",
                    vec![],
                ))
                .await
                .unwrap();
            assert_eq!(kept, Some((0,)));
        }
        assert!(!claim_stmt(Dialect::Postgres, 0, 0, 1).prepared);
    }

    /// PostgreSQL's rounds are larger (their commits are dear), SQLite's stay at 100.
    #[tokio::test]
    async fn a_round_claims_more_where_commits_are_dear() {
        let (_dir, sqlite) = super::super::tests::store_with_domain().await;
        assert_eq!(sqlite.delivery_batch(), 100);
        if let Some(postgres) = crate::store::scratch_postgres_store().await {
            assert_eq!(postgres.delivery_batch(), 500);
        }
    }

    #[derive(sqlx::FromRow)]
    struct SqlitePlanStep {
        detail: String,
    }

    /// SQLite walks the same index in the claim's order (no temporary B-tree sorting the
    /// due deliveries).
    #[tokio::test]
    async fn claim_walks_the_pending_index_in_order_on_sqlite() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        fill_queue(&store).await;
        let mut stmt = claim_stmt(Dialect::Sqlite, 2_000, 5_000, 100);
        stmt.sql = format!("EXPLAIN QUERY PLAN {}", stmt.sql);
        let plan: Vec<SqlitePlanStep> = store.reader().fetch_all(stmt).await.unwrap();
        let plan: Vec<String> = plan.into_iter().map(|p| p.detail).collect();
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH d USING INDEX webhook_deliveries_pending ")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }

    /// The claim takes the first due deliveries in order, and none whose object has an
    /// earlier pending delivery.
    #[tokio::test]
    async fn claim_takes_the_first_due_deliveries_in_order() {
        let (_dir, sqlite) = super::super::tests::store_with_domain().await;
        let postgres = crate::store::scratch_postgres_store().await;
        for store in std::iter::once(&sqlite).chain(postgres.as_ref()) {
            fill_queue(store).await;
            store
                .upkeep(Stmt::new(
                    "UPDATE webhook_deliveries SET object_id = 'u10001' WHERE event_seq = 10002",
                    vec![],
                ))
                .await
                .unwrap();
            let claimed = store
                .claim_deliveries(1_100_000, 2_000_000, 5)
                .await
                .unwrap();
            let mut seqs: Vec<i64> = claimed.iter().map(|d| d.event_seq).collect();
            seqs.sort_unstable();
            assert_eq!(
                seqs,
                vec![10001, 10003, 10004, 10005, 10006],
                "{:?}",
                store.dialect()
            );
        }
    }
}
