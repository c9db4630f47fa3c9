//! `TokenStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::{Arg, SqlStore, Stmt, Tx};
use crate::error::{Error, Result};
use crate::model::{DomainId, UserId};
use crate::store::{RefreshTokenRow, SigningKeyRow, TokenStore};

#[async_trait]
impl TokenStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn signing_key(&self, slot: &str) -> Result<Option<SigningKeyRow>> {
        self.upkeep_returning::<SigningKeyRow>(Stmt::new(
            "SELECT kid, algorithm, private_key, public_key, created_at \
             FROM signing_keys WHERE slot = $1",
            vec![Arg::Text(slot.to_owned())],
        ))
        .await
        .map_err(Into::into)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn signing_key_in_slot(
        &self,
        slot: &str,
        candidate: SigningKeyRow,
    ) -> Result<SigningKeyRow> {
        // Two statements on their own (not one transaction): a concurrent start inserts its
        // own candidate or not, and both then read the one that won.
        self.upkeep(Stmt::new(
            "INSERT INTO signing_keys (slot, kid, algorithm, private_key, public_key, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (slot) DO NOTHING",
            vec![
                Arg::Text(slot.to_owned()),
                Arg::Text(candidate.kid.clone()),
                Arg::Text(candidate.algorithm.clone()),
                Arg::Text(candidate.private_key.clone()),
                Arg::Text(candidate.public_key.clone()),
                Arg::Int(candidate.created_at),
            ],
        ))
        .await?;
        let active = self
            .upkeep_returning::<SigningKeyRow>(Stmt::new(
                "SELECT kid, algorithm, private_key, public_key, created_at \
                 FROM signing_keys WHERE slot = $1",
                vec![Arg::Text(slot.to_owned())],
            ))
            .await?;
        active.ok_or_else(|| Error::internal(anyhow::anyhow!("no active signing key")))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_refresh_token(&self, trail: &Trail, token: RefreshTokenRow) -> Result<()> {
        let token = &token;
        self.write(trail, |tx| Box::pin(insert_refresh_token(tx, token)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn rotate_refresh_token(
        &self,
        trail: &Trail,
        used_hash: &str,
        now: i64,
        next: RefreshTokenRow,
    ) -> Result<bool> {
        let next = &next;
        self.write(trail, |tx| {
            Box::pin(async move {
                if tx.execute(consume_stmt(used_hash, now)).await? != 1 {
                    tx.discard();
                    return Ok(false);
                }
                insert_refresh_token(tx, next).await?;
                Ok(true)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
        let stmt = Stmt::new(
            "SELECT token_hash, domain_id, user_id, expires_at, created_at, family_id, \
             token_stamp, consumed_at FROM refresh_tokens WHERE token_hash = $1",
            vec![Arg::Text(token_hash.to_owned())],
        );
        // The read pool sees every commit (SQLite's WAL readers; PostgreSQL's one pool), so a
        // grant need not queue behind the writer's transactions to read its token.
        Ok(self
            .reader()
            .fetch_optional_inline::<RefreshTokenRow>(stmt)
            .await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn consume_refresh_token(
        &self,
        trail: &Trail,
        token_hash: &str,
        now: i64,
    ) -> Result<bool> {
        Ok(self
            .write_statement(trail, consume_stmt(token_hash, now))
            .await?
            == 1)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoke_refresh_family(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        family_id: &str,
    ) -> Result<()> {
        let stmt = Stmt::new(
            "DELETE FROM refresh_tokens WHERE domain_id = $1 AND family_id = $2",
            vec![
                Arg::Text(domain_id.to_string()),
                Arg::Text(family_id.to_owned()),
            ],
        );
        self.write_statement(trail, stmt).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn login_failures(&self, domain_id: &DomainId, identity: &str) -> Result<(i64, i64)> {
        self.failures_of(&IDENTITY_FAILURES, domain_id, identity)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn record_login_failure(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        identity: &str,
        now: i64,
        max_failures: i64,
        lock_ms: i64,
    ) -> Result<(i64, i64)> {
        let count = Count {
            now,
            max_failures,
            lock_ms,
        };
        self.count_failure(trail, &IDENTITY_FAILURES, domain_id, identity, count)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn clear_login_failures(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        identity: &str,
    ) -> Result<()> {
        self.clear_failures(trail, &IDENTITY_FAILURES, domain_id, identity)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn user_login_failures(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<(i64, i64)> {
        self.failures_of(&USER_FAILURES, domain_id, user_id).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn record_user_login_failure(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
        now: i64,
        max_failures: i64,
        lock_ms: i64,
    ) -> Result<(i64, i64)> {
        let count = Count {
            now,
            max_failures,
            lock_ms,
        };
        match self
            .count_failure(trail, &USER_FAILURES, domain_id, user_id, count)
            .await
        {
            // The user was deleted meanwhile: nothing left to lock.
            Err(Error::Internal(_)) if self.user_is_gone(domain_id, user_id).await => Ok((0, 0)),
            other => other,
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn clear_user_login_failures(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<()> {
        self.clear_failures(trail, &USER_FAILURES, domain_id, user_id)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn purge_login_failures(&self, stale_before: i64, now: i64) -> Result<u64> {
        let mut purged = 0;
        for t in [&IDENTITY_FAILURES, &USER_FAILURES] {
            let stmt = Stmt::new(
                format!(
                    "DELETE FROM {} WHERE last_failed_at < $1 AND locked_until <= $2",
                    t.table
                ),
                vec![Arg::Int(stale_before), Arg::Int(now)],
            );
            purged += self.upkeep(stmt).await?;
        }
        Ok(purged)
    }
}

/// A table of failed password checks and the column its subject is named by.
struct FailureTable {
    table: &'static str,
    key: &'static str,
    /// Whether its writes carry the request's pending audit records. The per-identity count
    /// does (a failed login is recorded with the failure it counts); the per-user count is
    /// bookkeeping inside a check whose outcome is not decided yet, so it leaves them.
    writes_audit_records: bool,
}

/// Failures per account identity (known or not).
const IDENTITY_FAILURES: FailureTable = FailureTable {
    table: "login_failures",
    key: "identity",
    writes_audit_records: true,
};

/// Failures per user, whichever identity or path they came through.
const USER_FAILURES: FailureTable = FailureTable {
    table: "user_login_failures",
    key: "user_id",
    writes_audit_records: false,
};

/// One failure to count: when, and the lockout settings it counts under.
#[derive(Clone, Copy)]
struct Count {
    now: i64,
    max_failures: i64,
    lock_ms: i64,
}

impl SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn failures_of(
        &self,
        t: &FailureTable,
        domain_id: &str,
        key: &str,
    ) -> Result<(i64, i64)> {
        let stmt = Stmt::new(
            format!(
                "SELECT failures, locked_until FROM {} WHERE domain_id = $1 AND {} = $2",
                t.table, t.key
            ),
            vec![Arg::Text(domain_id.to_owned()), Arg::Text(key.to_owned())],
        );
        let row = self.reader().fetch_optional::<(i64, i64)>(stmt).await?;
        Ok(row.unwrap_or((0, 0)))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn count_failure(
        &self,
        trail: &Trail,
        t: &FailureTable,
        domain_id: &str,
        key: &str,
        count: Count,
    ) -> Result<(i64, i64)> {
        // One statement: concurrent failures each count, on every backend.
        let stmt = Stmt::new(
            format!(
                "INSERT INTO {table} (domain_id, {key}, failures, last_failed_at, \
                 locked_until) VALUES ($1, $2, 1, $3, CASE WHEN $4 <= 1 THEN $3 + $5 ELSE 0 END) \
                 ON CONFLICT (domain_id, {key}) DO UPDATE SET \
                 failures = CASE WHEN {counted} + 1 >= $4 THEN 0 ELSE {counted} + 1 END, \
                 locked_until = CASE WHEN {counted} + 1 >= $4 THEN $3 + $5 \
                                ELSE {table}.locked_until END, \
                 last_failed_at = $3 \
                 RETURNING failures, locked_until",
                table = t.table,
                key = t.key,
                counted = format!(
                    "(CASE WHEN {table}.last_failed_at < $3 - $5 THEN 0 \
                     ELSE {table}.failures END)",
                    table = t.table
                )
            ),
            vec![
                Arg::Text(domain_id.to_owned()),
                Arg::Text(key.to_owned()),
                Arg::Int(count.now),
                Arg::Int(count.max_failures),
                Arg::Int(count.lock_ms),
            ],
        );
        let row = if t.writes_audit_records {
            self.write_returning::<(i64, i64)>(trail, stmt).await?
        } else {
            self.upkeep_returning::<(i64, i64)>(stmt).await?
        };
        Ok(row.unwrap_or((0, 0)))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn clear_failures(
        &self,
        trail: &Trail,
        t: &FailureTable,
        domain_id: &str,
        key: &str,
    ) -> Result<()> {
        let stmt = Stmt::new(
            format!(
                "DELETE FROM {} WHERE domain_id = $1 AND {} = $2",
                t.table, t.key
            ),
            vec![Arg::Text(domain_id.to_owned()), Arg::Text(key.to_owned())],
        );
        if t.writes_audit_records {
            self.write_statement(trail, stmt).await?;
        } else {
            self.upkeep(stmt).await?;
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn user_is_gone(&self, domain_id: &str, user_id: &str) -> bool {
        use crate::store::UserStore;
        matches!(
            self.user(&DomainId::from(domain_id), &UserId::from(user_id))
                .await,
            Ok(None)
        )
    }
}

/// Marks a refresh token used, if it was not: one row changed, or none.
fn consume_stmt(token_hash: &str, now: i64) -> Stmt {
    Stmt::new(
        "UPDATE refresh_tokens SET consumed_at = $2 WHERE token_hash = $1 AND consumed_at = 0",
        vec![Arg::Text(token_hash.to_owned()), Arg::Int(now)],
    )
}

/// Used tokens are kept until they expire (to recognise reuse): the user's expired ones go
/// when it gets a new one, found through `refresh_tokens_by_user_expiry` (migration 0070).
fn expired_tokens_of_user_stmt(token: &RefreshTokenRow) -> Stmt {
    Stmt::new(
        "DELETE FROM refresh_tokens \
         WHERE domain_id = $1 AND user_id = $2 AND expires_at <= $3",
        vec![
            Arg::Text(token.domain_id.clone()),
            Arg::Text(token.user_id.clone()),
            Arg::Int(token.created_at),
        ],
    )
}

/// Stores a new refresh token, drops its user's expired ones and stamps the user's
/// `last_refresh_token_time`.
pub(super) async fn insert_refresh_token(tx: &mut Tx<'_>, token: &RefreshTokenRow) -> Result<()> {
    tx.execute(Stmt::new(
        "INSERT INTO refresh_tokens (token_hash, domain_id, user_id, expires_at, \
         created_at, family_id, token_stamp, consumed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
        vec![
            Arg::Text(token.token_hash.clone()),
            Arg::Text(token.domain_id.clone()),
            Arg::Text(token.user_id.clone()),
            Arg::Int(token.expires_at),
            Arg::Int(token.created_at),
            Arg::Text(token.family_id.clone()),
            Arg::Text(token.token_stamp.clone()),
        ],
    ))
    .await?;
    tx.execute(expired_tokens_of_user_stmt(token)).await?;
    tx.execute(Stmt::new(
        "UPDATE users SET last_refresh_token_time = $1 WHERE domain_id = $2 AND user_id = $3",
        vec![
            Arg::Int(token.created_at),
            Arg::Text(token.domain_id.clone()),
            Arg::Text(token.user_id.clone()),
        ],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(sqlx::FromRow)]
    struct PlanStep {
        detail: String,
    }

    /// A grant deletes its user's expired refresh tokens by a range of the index with
    /// `expires_at`, never by reading every token the user holds (which grew with each grant
    /// of a user signing in often). Checked on SQLite's query plan.
    #[tokio::test]
    async fn expired_tokens_are_found_by_their_expiry() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        let token = RefreshTokenRow {
            token_hash: "h".into(),
            domain_id: "d".into(),
            user_id: "u".into(),
            expires_at: 2,
            created_at: 1,
            family_id: "f".into(),
            token_stamp: "s".into(),
            consumed_at: 0,
        };
        let mut stmt = expired_tokens_of_user_stmt(&token);
        stmt.sql = format!("EXPLAIN QUERY PLAN {}", stmt.sql);
        let plan: Vec<PlanStep> = store.reader().fetch_all(stmt).await.unwrap();
        let details: Vec<&str> = plan.iter().map(|s| s.detail.as_str()).collect();
        assert!(
            details
                .iter()
                .any(|d| d.contains("refresh_tokens_by_user_expiry") && d.contains("expires_at<?")),
            "{details:?}"
        );
    }
}
