//! `MailStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::{missing_as, text, Arg, SqlStore, Stmt};
use crate::error::{Resource, Result};
use crate::store::mail::{MailStore, OutboxRow, ResetTokenRow};

const RESET_COLUMNS: &str = "token_hash, domain_id, user_id, expires_at, created_at, role, email";
const OUTBOX_COLUMNS: &str =
    "domain_id, message_id, recipient, subject, body, created_at, superadmins_only";

#[async_trait]
impl MailStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_reset_token(&self, trail: &Trail, t: ResetTokenRow) -> Result<()> {
        let t = &t;
        self.write(trail, |tx| {
            Box::pin(async move {
                tx.execute(Stmt::new(
                    "DELETE FROM password_reset_tokens WHERE domain_id = $1 AND user_id = $2",
                    vec![text(&t.domain_id), text(&t.user_id)],
                ))
                .await?;
                tx.execute(Stmt::new(
                    format!(
                        "INSERT INTO password_reset_tokens ({RESET_COLUMNS}) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    ),
                    vec![
                        text(&t.token_hash),
                        text(&t.domain_id),
                        text(&t.user_id),
                        Arg::Int(t.expires_at),
                        Arg::Int(t.created_at),
                        text(&t.role),
                        text(&t.email),
                    ],
                ))
                .await
                .map_err(missing_as(Resource::User))?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn take_reset_token(
        &self,
        trail: &Trail,
        token_hash: &str,
    ) -> Result<Option<ResetTokenRow>> {
        let stmt = Stmt::new(
            format!(
                "DELETE FROM password_reset_tokens WHERE token_hash = $1 \
                 RETURNING {RESET_COLUMNS}"
            ),
            vec![text(token_hash)],
        );
        Ok(self.write_returning::<ResetTokenRow>(trail, stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn push_outbox(&self, m: OutboxRow) -> Result<()> {
        let stmt = Stmt::new(
            format!("INSERT INTO outbox ({OUTBOX_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            vec![
                text(&m.domain_id),
                text(&m.message_id),
                text(&m.recipient),
                text(&m.subject),
                text(&m.body),
                Arg::Int(m.created_at),
                Arg::Bool(m.superadmins_only),
            ],
        );
        self.upkeep(stmt)
            .await
            .map_err(missing_as(Resource::Domain))?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn outbox(
        &self,
        domain_id: &str,
        before: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let mut args = vec![text(domain_id)];
        let mut sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE domain_id = $1");
        if let Some((at, id)) = before {
            args.push(Arg::Int(at));
            args.push(Arg::Text(id));
            sql.push_str(" AND (created_at, message_id) < ($2, $3)");
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(
            " ORDER BY created_at DESC, message_id DESC LIMIT ${}",
            args.len()
        ));
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<OutboxRow>(stmt).await?)
    }
}
