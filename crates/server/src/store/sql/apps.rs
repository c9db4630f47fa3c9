//! `AppStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::{text, unique_as, update_stmt, Arg, SqlStore, Stmt};
use crate::error::{Resource, Result};
use crate::model::DomainId;
use crate::store::apps::{AppChanges, AppRow, AppStore};

const APP_COLUMNS: &str = "domain_id, client_id, app_name, algorithm, public_key, status, \
     creator, created_at, updated_at, instance_stamp, app_type, redirect_uris, scopes, trusted, \
     client_secret_hash";

#[async_trait]
impl AppStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_app(&self, trail: &Trail, a: AppRow) -> Result<()> {
        let stmt = Stmt::new(
            format!(
                "INSERT INTO apps ({APP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                 $14, $15)"
            ),
            vec![
                text(&a.domain_id),
                text(&a.client_id),
                text(&a.app_name),
                text(&a.algorithm),
                text(&a.public_key),
                text(&a.status),
                text(&a.creator),
                Arg::Int(a.created_at),
                Arg::Int(a.updated_at),
                text(&a.instance_stamp),
                text(&a.app_type),
                text(&a.redirect_uris),
                text(&a.scopes),
                Arg::Bool(a.trusted),
                text(&a.client_secret_hash),
            ],
        );
        self.write_statement(trail, stmt)
            .await
            .map_err(unique_as(Resource::App))?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn app(&self, domain_id: &DomainId, client_id: &str) -> Result<Option<AppRow>> {
        let stmt = Stmt::new(
            format!("SELECT {APP_COLUMNS} FROM apps WHERE domain_id = $1 AND client_id = $2"),
            vec![text(domain_id), text(client_id)],
        );
        Ok(self.reader().fetch_optional::<AppRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn apps(&self, domain_id: &str, after: Option<&str>, limit: u32) -> Result<Vec<AppRow>> {
        let mut args = vec![text(domain_id)];
        let mut sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE domain_id = $1");
        if let Some(after) = after {
            args.push(text(after));
            sql.push_str(" AND client_id > $2");
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY client_id LIMIT ${}", args.len()));
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<AppRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_app(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        client_id: &str,
        c: AppChanges,
    ) -> Result<Option<AppRow>> {
        let mut sets = vec![("updated_at", Arg::Int(c.updated_at))];
        for (column, value) in [
            ("app_name", &c.app_name),
            ("algorithm", &c.algorithm),
            ("public_key", &c.public_key),
            ("status", &c.status),
            ("redirect_uris", &c.redirect_uris),
            ("scopes", &c.scopes),
            ("client_secret_hash", &c.client_secret_hash),
        ] {
            if let Some(v) = value {
                sets.push((column, text(v)));
            }
        }
        if let Some(trusted) = c.trusted {
            sets.push(("trusted", Arg::Bool(trusted)));
        }
        let update = update_stmt("apps", sets, "client_id", domain_id, client_id, APP_COLUMNS);
        Ok(self.write_returning::<AppRow>(trail, update).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_app(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        client_id: &str,
    ) -> Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM apps WHERE domain_id = $1 AND client_id = $2",
            vec![text(domain_id), text(client_id)],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }
}
