//! `ResourceGroupStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::users::user_id_list;
use super::{text, unique_as, Arg, SqlStore, Stmt};
use crate::error::{Resource, Result};
use crate::store::resource_groups::{ResourceGroupQuery, ResourceGroupRow, ResourceGroupStore};
use crate::store::user_query::escape_like;

/// `WHERE ...` of a query over `resource_groups r`, and its arguments.
fn conditions(domain_id: &str, q: &ResourceGroupQuery) -> (String, Vec<Arg>) {
    let (list, mut args) = user_id_list(domain_id, &q.ids);
    let mut sql = "r.domain_id = $1".to_owned();
    if !q.ids.is_empty() {
        sql.push_str(&format!(" AND r.resource_group_id IN ({list})"));
    }
    if let Some(name) = &q.name_contains {
        args.push(Arg::Text(format!("%{}%", escape_like(name))));
        sql.push_str(&format!(
            " AND r.name_norm LIKE ${} ESCAPE '\\'",
            args.len()
        ));
    }
    if let Some(platform) = &q.platform {
        args.push(text(platform));
        sql.push_str(&format!(" AND r.platform = ${}", args.len()));
    }
    (sql, args)
}

#[async_trait]
impl ResourceGroupStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_resource_group(&self, trail: &Trail, g: ResourceGroupRow) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO resource_groups (domain_id, resource_group_id, resource_group_name, \
             name_norm, platform, creator, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                text(&g.domain_id),
                text(&g.resource_group_id),
                text(&g.resource_group_name),
                Arg::Text(g.resource_group_name.to_lowercase()),
                text(&g.platform),
                text(&g.creator),
                Arg::Int(g.created_at),
            ],
        );
        self.write_statement(trail, stmt)
            .await
            .map_err(unique_as(Resource::ResourceGroup))?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_resource_groups(
        &self,
        trail: &Trail,
        domain_id: &str,
        ids: &[String],
    ) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let (list, args) = user_id_list(domain_id, ids);
        let stmt = Stmt::new(
            format!(
                "DELETE FROM resource_groups WHERE domain_id = $1 \
                 AND resource_group_id IN ({list})"
            ),
            args,
        );
        Ok(self.write_statement(trail, stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_resource_groups(
        &self,
        domain_id: &str,
        query: &ResourceGroupQuery,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<ResourceGroupRow>)> {
        let (where_sql, args) = conditions(domain_id, query);
        let count = Stmt::new(
            format!("SELECT COUNT(*) FROM resource_groups r WHERE {where_sql}"),
            args.clone(),
        );
        let (total,) = self
            .reader()
            .fetch_optional::<(i64,)>(count)
            .await?
            .unwrap_or((0,));
        let mut args = args;
        args.push(Arg::Int(limit));
        let limit_p = args.len();
        args.push(Arg::Int(offset));
        let offset_p = args.len();
        let page = Stmt::new(
            format!(
                "SELECT r.domain_id, r.resource_group_id, r.resource_group_name, r.platform, \
                 r.creator, r.created_at, (SELECT COUNT(*) FROM resource_group_users u \
                 WHERE u.domain_id = r.domain_id AND u.resource_group_id = r.resource_group_id) \
                 AS auth_count FROM resource_groups r WHERE {where_sql} \
                 ORDER BY r.created_at DESC, r.resource_group_id LIMIT ${limit_p} OFFSET ${offset_p}"
            ),
            args,
        );
        let rows = self.reader().fetch_all::<ResourceGroupRow>(page).await?;
        Ok((total, rows))
    }
}
