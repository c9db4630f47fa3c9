//! `ScimTokenStore` on SQL.

use async_trait::async_trait;

use crate::audit::Trail;

use super::{text, Arg, SqlStore, Stmt};
use crate::error::Result;
use crate::store::scim_tokens::{ScimTokenRow, ScimTokenStore};

const COLUMNS: &str = "token_id, domain_id, secret_hash, description, creator, created_at";

#[async_trait]
impl ScimTokenStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_scim_token(&self, trail: &Trail, row: ScimTokenRow) -> Result<()> {
        let stmt = Stmt::new(
            format!("INSERT INTO scim_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            vec![
                text(&row.token_id),
                text(&row.domain_id),
                text(&row.secret_hash),
                text(&row.description),
                text(&row.creator),
                Arg::Int(row.created_at),
            ],
        );
        self.write_statement(trail, stmt).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn scim_token(&self, token_id: &str) -> Result<Option<ScimTokenRow>> {
        let stmt = Stmt::new(
            format!("SELECT {COLUMNS} FROM scim_tokens WHERE token_id = $1"),
            vec![text(token_id)],
        );
        Ok(self.reader().fetch_optional::<ScimTokenRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn scim_tokens(
        &self,
        domain_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ScimTokenRow>> {
        let mut args = vec![text(domain_id)];
        let mut sql = format!("SELECT {COLUMNS} FROM scim_tokens WHERE domain_id = $1");
        if let Some(after) = after {
            args.push(text(after));
            sql.push_str(&format!(" AND token_id > ${}", args.len()));
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY token_id LIMIT ${}", args.len()));
        Ok(self.reader().fetch_all(Stmt::new(sql, args)).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_scim_token(
        &self,
        trail: &Trail,
        domain_id: &str,
        token_id: &str,
    ) -> Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM scim_tokens WHERE domain_id = $1 AND token_id = $2",
            vec![text(domain_id), text(token_id)],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }
}
