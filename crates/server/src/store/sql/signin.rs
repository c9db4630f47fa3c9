//! `SigninStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::{text, Arg, SqlStore, Stmt};
use crate::error::Result;
use crate::model::{DomainId, UserId};
use crate::store::signin::{
    AuthorizationCodeRow, ClaimFacts, ConsoleSessionRow, SigninSessionRow, SigninStore,
};
use crate::store::RefreshTokenRow;

const CODE_COLUMNS: &str = "code_hash, domain_id, client_id, user_id, redirect_uri, scope, \
     code_challenge, nonce, auth_time, family_id, expires_at, consumed_at";

const SESSION_COLUMNS: &str =
    "session_hash, domain_id, user_id, token_stamp, form_token, created_at, last_seen_at";

const CONSOLE_SESSION_COLUMNS: &str = "family_id, domain_id, user_id, signed_in_at, last_seen_at";

/// Marks an unused code used.
fn consume_code_stmt(code_hash: &str, now: i64) -> Stmt {
    Stmt::new(
        "UPDATE authorization_codes SET consumed_at = $2 \
         WHERE code_hash = $1 AND consumed_at = 0",
        vec![text(code_hash), Arg::Int(now)],
    )
}

/// One row per group of the user (one row with no group if it has none), each with the
/// default drive's size: the claims' two reads in one statement.
#[derive(sqlx::FromRow)]
struct ClaimFactRow {
    group_id: Option<String>,
    default_drive_size: Option<i64>,
}

#[async_trait]
impl SigninStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_facts(&self, domain_id: &DomainId, user_id: &UserId) -> Result<ClaimFacts> {
        let stmt = Stmt::new(
            "SELECT (SELECT d.total_size FROM drives d WHERE d.domain_id = $1 \
             AND d.owner_type = 'user' AND d.owner = $2 AND d.is_default) AS default_drive_size, \
             mg.group_id FROM (SELECT 1 AS one) AS x LEFT JOIN \
             (SELECT m.group_id FROM group_members m JOIN org_groups g \
             ON g.domain_id = m.domain_id AND g.group_id = m.group_id \
             WHERE m.domain_id = $1 AND m.user_id = $2) AS mg ON 1 = 1 \
             ORDER BY mg.group_id",
            vec![text(domain_id), text(user_id)],
        );
        let rows = self.reader().fetch_all::<ClaimFactRow>(stmt).await?;
        Ok(ClaimFacts {
            default_drive_size: rows.first().and_then(|r| r.default_drive_size),
            group_ids: rows.into_iter().filter_map(|r| r.group_id).collect(),
        })
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_authorization_code(
        &self,
        trail: &Trail,
        c: AuthorizationCodeRow,
    ) -> Result<()> {
        let c = &c;
        self.write(trail, |tx| {
            Box::pin(async move {
                // A used code stays until it expires, so that its reuse is recognised.
                tx.execute(Stmt::new(
                    "DELETE FROM authorization_codes WHERE expires_at <= $1",
                    vec![Arg::Int(c.expires_at - 3_600_000)],
                ))
                .await?;
                tx.execute(Stmt::new(
                    format!(
                        "INSERT INTO authorization_codes ({CODE_COLUMNS}) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)"
                    ),
                    vec![
                        text(&c.code_hash),
                        text(&c.domain_id),
                        text(&c.client_id),
                        text(&c.user_id),
                        text(&c.redirect_uri),
                        text(&c.scope),
                        text(&c.code_challenge),
                        text(&c.nonce),
                        Arg::Int(c.auth_time),
                        text(&c.family_id),
                        Arg::Int(c.expires_at),
                    ],
                ))
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn authorization_code(&self, code_hash: &str) -> Result<Option<AuthorizationCodeRow>> {
        let stmt = Stmt::new(
            format!("SELECT {CODE_COLUMNS} FROM authorization_codes WHERE code_hash = $1"),
            vec![text(code_hash)],
        );
        Ok(self.reader().fetch_optional(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn consume_authorization_code(
        &self,
        trail: &Trail,
        code_hash: &str,
        now: i64,
    ) -> Result<bool> {
        Ok(self
            .write_statement(trail, consume_code_stmt(code_hash, now))
            .await?
            == 1)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn redeem_authorization_code(
        &self,
        trail: &Trail,
        code_hash: &str,
        now: i64,
        issued: RefreshTokenRow,
    ) -> Result<bool> {
        let issued = &issued;
        self.write(trail, |tx| {
            Box::pin(async move {
                if tx.execute(consume_code_stmt(code_hash, now)).await? != 1 {
                    tx.discard();
                    return Ok(false);
                }
                super::tokens::insert_refresh_token(tx, issued).await?;
                Ok(true)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_signin_session(
        &self,
        trail: &Trail,
        s: SigninSessionRow,
        stale_before: i64,
    ) -> Result<()> {
        let s = &s;
        self.write(trail, |tx| {
            Box::pin(async move {
                tx.execute(Stmt::new(
                    "DELETE FROM signin_sessions WHERE domain_id = $1 AND user_id = $2 \
                     AND last_seen_at < $3",
                    vec![text(&s.domain_id), text(&s.user_id), Arg::Int(stale_before)],
                ))
                .await?;
                tx.execute(Stmt::new(
                    format!(
                        "INSERT INTO signin_sessions ({SESSION_COLUMNS}) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7)"
                    ),
                    vec![
                        text(&s.session_hash),
                        text(&s.domain_id),
                        text(&s.user_id),
                        text(&s.token_stamp),
                        text(&s.form_token),
                        Arg::Int(s.created_at),
                        Arg::Int(s.last_seen_at),
                    ],
                ))
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn signin_session(&self, session_hash: &str) -> Result<Option<SigninSessionRow>> {
        let stmt = Stmt::new(
            format!("SELECT {SESSION_COLUMNS} FROM signin_sessions WHERE session_hash = $1"),
            vec![text(session_hash)],
        );
        Ok(self.reader().fetch_optional(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn touch_signin_session(&self, session_hash: &str, now: i64) -> Result<()> {
        let stmt = Stmt::new(
            "UPDATE signin_sessions SET last_seen_at = $2 WHERE session_hash = $1",
            vec![text(session_hash), Arg::Int(now)],
        );
        self.upkeep(stmt).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_signin_session(&self, trail: &Trail, session_hash: &str) -> Result<()> {
        let stmt = Stmt::new(
            "DELETE FROM signin_sessions WHERE session_hash = $1",
            vec![text(session_hash)],
        );
        self.write_statement(trail, stmt).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_signin_sessions_of(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<()> {
        let stmt = Stmt::new(
            "DELETE FROM signin_sessions WHERE domain_id = $1 AND user_id = $2",
            vec![text(domain_id), text(user_id)],
        );
        self.write_statement(trail, stmt).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn signin_sessions_of(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<Vec<SigninSessionRow>> {
        let stmt = Stmt::new(
            format!(
                "SELECT {SESSION_COLUMNS} FROM signin_sessions \
                 WHERE domain_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 100"
            ),
            vec![text(domain_id), text(user_id)],
        );
        Ok(self.reader().fetch_all(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_console_session(
        &self,
        c: ConsoleSessionRow,
        stale_before: i64,
        born_before: i64,
    ) -> Result<()> {
        let c = &c;
        self.write(&Trail::none(), |tx| {
            Box::pin(async move {
                tx.execute(Stmt::new(
                    "DELETE FROM console_sessions WHERE domain_id = $1 AND user_id = $2 \
                     AND (last_seen_at < $3 OR signed_in_at < $4)",
                    vec![
                        text(&c.domain_id),
                        text(&c.user_id),
                        Arg::Int(stale_before),
                        Arg::Int(born_before),
                    ],
                ))
                .await?;
                tx.execute(Stmt::new(
                    format!(
                        "INSERT INTO console_sessions ({CONSOLE_SESSION_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5)"
                    ),
                    vec![
                        text(&c.family_id),
                        text(&c.domain_id),
                        text(&c.user_id),
                        Arg::Int(c.signed_in_at),
                        Arg::Int(c.last_seen_at),
                    ],
                ))
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn console_session(&self, family_id: &str) -> Result<Option<ConsoleSessionRow>> {
        let stmt = Stmt::new(
            format!("SELECT {CONSOLE_SESSION_COLUMNS} FROM console_sessions WHERE family_id = $1"),
            vec![text(family_id)],
        );
        Ok(self.reader().fetch_optional(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn touch_console_session(&self, family_id: &str, now: i64) -> Result<()> {
        let stmt = Stmt::new(
            "UPDATE console_sessions SET last_seen_at = $2 WHERE family_id = $1",
            vec![text(family_id), Arg::Int(now)],
        );
        self.upkeep(stmt).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_console_session(&self, family_id: &str) -> Result<()> {
        let stmt = Stmt::new(
            "DELETE FROM console_sessions WHERE family_id = $1",
            vec![text(family_id)],
        );
        self.upkeep(stmt).await?;
        Ok(())
    }
}
