//! `TokenStore` on SQL.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::{with_retries, Arg, BeginWrite, Db, SqlStore, Stmt};
use crate::error::{Error, Result};
use crate::store::{RefreshTokenRow, SigningKeyRow, TokenStore};

#[async_trait]
impl TokenStore for SqlStore {
    async fn signing_key_or_insert(&self, candidate: SigningKeyRow) -> Result<SigningKeyRow> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                execute!(
                    pool,
                    Stmt::new(
                        "INSERT INTO signing_keys (slot, kid, algorithm, private_key, public_key, \
                         created_at) VALUES ('active', $1, $2, $3, $4, $5) \
                         ON CONFLICT (slot) DO NOTHING",
                        vec![
                            Arg::Text(candidate.kid.clone()),
                            Arg::Text(candidate.algorithm.clone()),
                            Arg::Text(candidate.private_key.clone()),
                            Arg::Text(candidate.public_key.clone()),
                            Arg::Int(candidate.created_at),
                        ],
                    )
                )?;
                let active = fetch_optional!(
                    pool,
                    SigningKeyRow,
                    Stmt::new(
                        "SELECT kid, algorithm, private_key, public_key, created_at \
                         FROM signing_keys WHERE slot = 'active'",
                        vec![],
                    )
                )?;
                active.ok_or_else(|| Error::internal(anyhow::anyhow!("no active signing key")))
            })
        })
        .await
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRow) -> Result<()> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                execute!(
                    &mut *tx,
                    Stmt::new(
                        "INSERT INTO refresh_tokens (token_hash, domain_id, user_id, expires_at, \
                         created_at) VALUES ($1, $2, $3, $4, $5)",
                        vec![
                            Arg::Text(token.token_hash.clone()),
                            Arg::Text(token.domain_id.clone()),
                            Arg::Text(token.user_id.clone()),
                            Arg::Int(token.expires_at),
                            Arg::Int(token.created_at),
                        ],
                    )
                )?;
                execute!(
                    &mut *tx,
                    Stmt::new(
                        "UPDATE users SET last_refresh_token_time = $1 \
                         WHERE domain_id = $2 AND user_id = $3",
                        vec![
                            Arg::Int(token.created_at),
                            Arg::Text(token.domain_id.clone()),
                            Arg::Text(token.user_id.clone()),
                        ],
                    )
                )?;
                commit!(tx);
                Ok(())
            })
        })
        .await
    }

    async fn take_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
        with_retries(|| async {
            let stmt = Stmt::new(
                "DELETE FROM refresh_tokens WHERE token_hash = $1 \
                 RETURNING token_hash, domain_id, user_id, expires_at, created_at",
                vec![Arg::Text(token_hash.to_owned())],
            );
            Ok(on_writer!(self, |pool| fetch_optional_audited!(
                pool,
                RefreshTokenRow,
                stmt
            ))?)
        })
        .await
    }

    async fn login_failures(&self, domain_id: &str, identity: &str) -> Result<(i64, i64)> {
        let stmt = Stmt::new(
            "SELECT failures, locked_until FROM login_failures \
             WHERE domain_id = $1 AND identity = $2",
            vec![
                Arg::Text(domain_id.to_owned()),
                Arg::Text(identity.to_owned()),
            ],
        );
        let row = on_reader!(self, |pool| fetch_optional!(pool, (i64, i64), stmt))?;
        Ok(row.unwrap_or((0, 0)))
    }

    async fn record_login_failure(
        &self,
        domain_id: &str,
        identity: &str,
        now: i64,
        max_failures: i64,
        lock_ms: i64,
    ) -> Result<(i64, i64)> {
        with_retries(|| async {
            // One statement: concurrent failures each count, on every backend.
            let stmt = Stmt::new(
                format!(
                    "INSERT INTO login_failures (domain_id, identity, failures, last_failed_at, \
                     locked_until) VALUES ($1, $2, 1, $3, CASE WHEN $4 <= 1 THEN $3 + $5 ELSE 0 END) \
                     ON CONFLICT (domain_id, identity) DO UPDATE SET \
                     failures = CASE WHEN {counted} + 1 >= $4 THEN 0 ELSE {counted} + 1 END, \
                     locked_until = CASE WHEN {counted} + 1 >= $4 THEN $3 + $5 \
                                    ELSE login_failures.locked_until END, \
                     last_failed_at = $3 \
                     RETURNING failures, locked_until",
                    counted = "(CASE WHEN login_failures.last_failed_at < $3 - $5 THEN 0 \
                               ELSE login_failures.failures END)"
                ),
                vec![
                    Arg::Text(domain_id.to_owned()),
                    Arg::Text(identity.to_owned()),
                    Arg::Int(now),
                    Arg::Int(max_failures),
                    Arg::Int(lock_ms),
                ],
            );
            let row = on_writer!(self, |pool| fetch_optional_audited!(pool, (i64, i64), stmt))?;
            Ok(row.unwrap_or((0, 0)))
        })
        .await
    }

    async fn purge_login_failures(&self, stale_before: i64, now: i64) -> Result<u64> {
        with_retries(|| async {
            let stmt = Stmt::new(
                "DELETE FROM login_failures WHERE last_failed_at < $1 AND locked_until <= $2",
                vec![Arg::Int(stale_before), Arg::Int(now)],
            );
            Ok(on_writer!(self, |pool| execute!(pool, stmt))?)
        })
        .await
    }

    async fn clear_login_failures(&self, domain_id: &str, identity: &str) -> Result<()> {
        with_retries(|| async {
            let stmt = Stmt::new(
                "DELETE FROM login_failures WHERE domain_id = $1 AND identity = $2",
                vec![
                    Arg::Text(domain_id.to_owned()),
                    Arg::Text(identity.to_owned()),
                ],
            );
            on_writer!(self, |pool| execute_audited!(pool, stmt))?;
            Ok(())
        })
        .await
    }
}
