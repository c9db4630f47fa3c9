//! `DirectoryStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::groups::GROUP_COLUMNS;
use super::users::{insert_membership_stmt, user_id_list};
use super::{missing_as, text, Arg, SqlStore, Stmt};
use crate::error::{Error, Resource, Result};
use crate::store::directory::GroupNumberedQuery;
use crate::store::groups::GroupRow;
use crate::store::user_query::{count_sql, escape_like};
use crate::store::{DirectoryStore, UserFilter};

impl SqlStore {
    /// `(id, number)` of the given rows of `table` (users or groups), keyed by `id_column`.
    async fn numbers_of(
        &self,
        table: &'static str,
        id_column: &'static str,
        domain_id: &str,
        ids: &[String],
    ) -> Result<Vec<(String, i64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (list, args) = user_id_list(domain_id, ids);
        let stmt = Stmt::new(
            format!(
                "SELECT {id_column}, CAST(number AS BIGINT) FROM {table} \
                 WHERE domain_id = $1 AND {id_column} IN ({list})"
            ),
            args,
        );
        Ok(self.reader().fetch_all::<(String, i64)>(stmt).await?)
    }
}

#[async_trait]
impl DirectoryStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn user_numbers(
        &self,
        domain_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<(String, i64)>> {
        self.numbers_of("users", "user_id", domain_id, user_ids)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn group_numbers(
        &self,
        domain_id: &str,
        group_ids: &[String],
    ) -> Result<Vec<(String, i64)>> {
        self.numbers_of("org_groups", "group_id", domain_id, group_ids)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn count_matching_users(&self, domain_id: &str, filter: &UserFilter) -> Result<i64> {
        let (sql, args) = count_sql(self.dialect(), domain_id, filter);
        let stmt = Stmt::new(sql, args);
        let row = self.reader().fetch_optional::<(i64,)>(stmt).await?;
        Ok(row.map_or(0, |(n,)| n))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn user_id_by_number(&self, domain_id: &str, number: i64) -> Result<Option<String>> {
        let stmt = Stmt::new(
            "SELECT user_id FROM users WHERE domain_id = $1 AND number = $2",
            vec![text(domain_id), Arg::Int(number)],
        );
        let row = self.reader().fetch_optional::<(String,)>(stmt).await?;
        Ok(row.map(|(id,)| id))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn group_name_paths(
        &self,
        domain_id: &str,
        group_ids: &[String],
    ) -> Result<Vec<(String, String)>> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (list, args) = user_id_list(domain_id, group_ids);
        // The deepest ancestor first in the closure is the top; order by depth descending.
        let stmt = Stmt::new(
            format!(
                "SELECT c.descendant_id, g.group_name FROM group_closure c JOIN org_groups g \
                 ON g.domain_id = c.domain_id AND g.group_id = c.ancestor_id \
                 WHERE c.domain_id = $1 AND c.descendant_id IN ({list}) \
                 ORDER BY c.descendant_id, c.depth DESC"
            ),
            args,
        );
        Ok(self.reader().fetch_all::<(String, String)>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn groups_by_number(
        &self,
        domain_id: &str,
        query: &GroupNumberedQuery,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<GroupRow>)> {
        let mut args = vec![text(domain_id), text(&query.kind)];
        let mut conditions = "domain_id = $1 AND kind = $2".to_owned();
        if let Some(id) = &query.group_id {
            args.push(text(id));
            conditions.push_str(&format!(" AND group_id = ${}", args.len()));
        }
        if let Some(name) = &query.name_contains {
            args.push(Arg::Text(format!("%{}%", escape_like(name))));
            conditions.push_str(&format!(
                " AND group_name_norm LIKE ${} ESCAPE '\\'",
                args.len()
            ));
        }
        let count = Stmt::new(
            format!("SELECT COUNT(*) FROM org_groups WHERE {conditions}"),
            args.clone(),
        );
        let (total,) = self
            .reader()
            .fetch_optional::<(i64,)>(count)
            .await?
            .unwrap_or((0,));
        args.push(Arg::Int(limit));
        args.push(Arg::Int(offset));
        let n = args.len();
        let page = Stmt::new(
            format!(
                "SELECT {GROUP_COLUMNS} FROM org_groups WHERE {conditions} \
                 ORDER BY created_at, group_id LIMIT ${} OFFSET ${n}",
                n - 1
            ),
            args,
        );
        let rows = self.reader().fetch_all::<GroupRow>(page).await?;
        Ok((total, rows))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn joined_at(
        &self,
        domain_id: &str,
        group_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<(String, i64)>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (list, mut args) = user_id_list(domain_id, user_ids);
        args.push(text(group_id));
        let stmt = Stmt::new(
            format!(
                "SELECT user_id, created_at FROM group_members \
                 WHERE domain_id = $1 AND user_id IN ({list}) AND group_id = ${}",
                args.len()
            ),
            args,
        );
        Ok(self.reader().fetch_all::<(String, i64)>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_empty_group(
        &self,
        trail: &Trail,
        domain_id: &str,
        group_id: &str,
    ) -> Result<()> {
        self.delete_group_checked(trail, domain_id, group_id, true)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn member_counts(
        &self,
        domain_id: &str,
        group_ids: &[String],
    ) -> Result<Vec<(String, i64)>> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (list, args) = user_id_list(domain_id, group_ids);
        let stmt = Stmt::new(
            format!(
                "SELECT group_id, COUNT(*) FROM group_members \
                 WHERE domain_id = $1 AND group_id IN ({list}) GROUP BY group_id"
            ),
            args,
        );
        Ok(self.reader().fetch_all::<(String, i64)>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn replace_membership_of_kind(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        kind: &str,
        group_id: &str,
        at: i64,
    ) -> Result<()> {
        self.write(trail, |tx| {
            Box::pin(async move {
                let user = tx
                    .fetch_optional::<(String,)>(Stmt::new(
                        "SELECT user_id FROM users WHERE domain_id = $1 AND user_id = $2",
                        vec![text(domain_id), text(user_id)],
                    ))
                    .await?;
                if user.is_none() {
                    return Err(Error::NotFound(Resource::User));
                }
                tx.execute(Stmt::new(
                    "DELETE FROM group_members WHERE domain_id = $1 AND user_id = $2 \
                         AND group_id IN (SELECT group_id FROM org_groups \
                                          WHERE domain_id = $1 AND kind = $3)",
                    vec![text(domain_id), text(user_id), text(kind)],
                ))
                .await?;
                if !group_id.is_empty() {
                    tx.execute(insert_membership_stmt(domain_id, group_id, user_id, at))
                        .await
                        .map_err(missing_as(Resource::Group))?;
                }
                Ok(())
            })
        })
        .await
    }
}
