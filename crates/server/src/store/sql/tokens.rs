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
                tx.commit().await?;
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
            Ok(on_writer!(self, |pool| fetch_optional!(
                pool,
                RefreshTokenRow,
                stmt
            ))?)
        })
        .await
    }
}
