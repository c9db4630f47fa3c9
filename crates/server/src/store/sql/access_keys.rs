//! `KeyStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::{missing_as, text, Arg, SqlStore, Stmt};
use crate::error::{Resource, Result};
use crate::store::access_keys::{AccessKeyRow, KeyStore};

const KEY_COLUMNS: &str =
    "access_key_id, domain_id, user_id, secret, status, description, creator, created_at";

#[async_trait]
impl KeyStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_access_key(&self, trail: &Trail, k: AccessKeyRow) -> Result<()> {
        let stmt = Stmt::new(
            format!(
                "INSERT INTO access_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            vec![
                text(&k.access_key_id),
                text(&k.domain_id),
                text(&k.user_id),
                text(&k.secret),
                text(&k.status),
                text(&k.description),
                text(&k.creator),
                Arg::Int(k.created_at),
            ],
        );
        self.write_statement(trail, stmt)
            .await
            .map_err(missing_as(Resource::User))?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRow>> {
        let stmt = Stmt::new(
            format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE access_key_id = $1"),
            vec![text(access_key_id)],
        );
        Ok(self.reader().fetch_optional::<AccessKeyRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn access_keys(
        &self,
        domain_id: &str,
        user_id: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessKeyRow>> {
        let mut args = vec![text(domain_id)];
        let mut sql = format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE domain_id = $1");
        if let Some(user_id) = user_id {
            args.push(text(user_id));
            sql.push_str(&format!(" AND user_id = ${}", args.len()));
        }
        if let Some(after) = after {
            args.push(text(after));
            sql.push_str(&format!(" AND access_key_id > ${}", args.len()));
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY access_key_id LIMIT ${}", args.len()));
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<AccessKeyRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn set_access_key_status(
        &self,
        trail: &Trail,
        domain_id: &str,
        access_key_id: &str,
        status: &str,
    ) -> Result<Option<AccessKeyRow>> {
        let stmt = Stmt::new(
            format!(
                "UPDATE access_keys SET status = $1 WHERE domain_id = $2 \
                 AND access_key_id = $3 RETURNING {KEY_COLUMNS}"
            ),
            vec![text(status), text(domain_id), text(access_key_id)],
        );
        Ok(self.write_returning::<AccessKeyRow>(trail, stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_access_key(
        &self,
        trail: &Trail,
        domain_id: &str,
        access_key_id: &str,
    ) -> Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM access_keys WHERE domain_id = $1 AND access_key_id = $2",
            vec![text(domain_id), text(access_key_id)],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn use_nonce(&self, nonce: &str, expires_at: i64, now: i64) -> Result<bool> {
        // A replay guard of the store's own, never a request's change: no records with it.
        self.write(&Trail::none(), |tx| {
            Box::pin(async move {
                tx.execute(Stmt::new(
                    "DELETE FROM used_nonces WHERE expires_at < $1",
                    vec![Arg::Int(now)],
                ))
                .await?;
                let inserted = tx
                    .execute(Stmt::new(
                        "INSERT INTO used_nonces (nonce, expires_at) VALUES ($1, $2) \
                         ON CONFLICT (nonce) DO NOTHING",
                        vec![text(nonce), Arg::Int(expires_at)],
                    ))
                    .await?;
                Ok(inserted == 1)
            })
        })
        .await
    }
}
