//! `DomainStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::unique_as;
use super::users::insert_new_user;
use super::{text, update_stmt, Arg, SqlStore, Stmt, Tx};
use crate::error::{Error, Resource, Result};
use crate::store::{DomainChanges, DomainRow, DomainStore, NewUser};

const DOMAIN_COLUMNS: &str = "domain_id, domain_name, description, parent_domain_id, \
     is_operator, init_drive_enable, init_drive_size, size_quota, user_count_quota, \
     created_at, updated_at";

/// `INSERT INTO domains`, optionally ignoring an existing id. `is_operator` is kept only if
/// the store has no operator domain yet, so there is never more than one.
fn insert_domain_stmt(d: &DomainRow, if_absent: bool) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO domains ({DOMAIN_COLUMNS}) SELECT $1, $2, $3, $4, \
             $5 AND NOT EXISTS (SELECT 1 FROM domains WHERE is_operator), \
             $6, $7, $8, $9, $10, $11{}",
            if if_absent {
                " ON CONFLICT (domain_id) DO NOTHING"
            } else {
                ""
            }
        ),
        vec![
            text(&d.domain_id),
            text(&d.domain_name),
            text(&d.description),
            text(&d.parent_domain_id),
            Arg::Bool(d.is_operator),
            Arg::Bool(d.init_drive_enable),
            Arg::Int(d.init_drive_size),
            Arg::Int(d.size_quota),
            Arg::Int(d.user_count_quota),
            Arg::Int(d.created_at),
            Arg::Int(d.updated_at),
        ],
    )
}

fn domain_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE domain_id = $1"),
        vec![text(domain_id)],
    )
}

/// Deletes what a domain id collected without a foreign key to the domain: failed-login
/// counts and audit records.
async fn forget_domain_history(tx: &mut Tx<'_>, domain_id: &str) -> Result<()> {
    for table in ["login_failures", "audit_log"] {
        tx.execute(Stmt::new(
            format!("DELETE FROM {table} WHERE domain_id = $1"),
            vec![text(domain_id)],
        ))
        .await?;
    }
    Ok(())
}

#[async_trait]
impl DomainStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn domain(&self, domain_id: &str) -> Result<Option<DomainRow>> {
        let stmt = domain_stmt(domain_id);
        Ok(self.reader().fetch_optional::<DomainRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn bootstrap_domain(&self, domain: DomainRow, admin: NewUser) -> Result<bool> {
        let domain = &domain;
        let admin = &admin;
        self.write(&Trail::none(), |tx| {
            Box::pin(async move {
                let inserted = tx.execute(insert_domain_stmt(domain, true)).await?;
                if inserted == 0 {
                    tx.discard();
                    return Ok(false);
                }
                insert_new_user(tx, admin).await?;
                Ok(true)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_domain(
        &self,
        trail: &Trail,
        domain: DomainRow,
        admin: NewUser,
    ) -> Result<DomainRow> {
        let domain = &domain;
        let admin = &admin;
        self.write(trail, |tx| {
            Box::pin(async move {
                // Rows left under this id (attempts against it before it existed) are not the
                // new domain's history.
                forget_domain_history(tx, &domain.domain_id).await?;
                if !domain.parent_domain_id.is_empty() {
                    tx.fetch_optional::<DomainRow>(domain_stmt(&domain.parent_domain_id))
                        .await?
                        .ok_or(Error::NotFound(Resource::Domain))?;
                }
                tx.execute(insert_domain_stmt(domain, false))
                    .await
                    .map_err(unique_as(Resource::Domain))?;
                insert_new_user(tx, admin).await?;
                let created = tx
                    .fetch_optional::<DomainRow>(domain_stmt(&domain.domain_id))
                    .await?
                    .ok_or(Error::NotFound(Resource::Domain))?;
                Ok(created)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn restore_domain(&self, domain: DomainRow) -> Result<()> {
        let stmt = insert_domain_stmt(&domain, false);
        self.write_statement(&Trail::none(), stmt)
            .await
            .map_err(unique_as(Resource::Domain))?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_domain(
        &self,
        trail: &Trail,
        domain_id: &str,
        c: DomainChanges,
    ) -> Result<Option<DomainRow>> {
        let mut sets: Vec<(&str, Arg)> = Vec::new();
        if let Some(v) = &c.domain_name {
            sets.push(("domain_name", text(v)));
        }
        if let Some(v) = &c.description {
            sets.push(("description", text(v)));
        }
        if let Some(v) = c.init_drive_enable {
            sets.push(("init_drive_enable", Arg::Bool(v)));
        }
        for (column, value) in [
            ("init_drive_size", c.init_drive_size),
            ("size_quota", c.size_quota),
            ("user_count_quota", c.user_count_quota),
        ] {
            if let Some(v) = value {
                sets.push((column, Arg::Int(v)));
            }
        }
        sets.push(("updated_at", Arg::Int(c.updated_at)));
        let update = update_stmt("domains", sets, "", domain_id, "", DOMAIN_COLUMNS);
        Ok(self.write_returning::<DomainRow>(trail, update).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_domains(
        &self,
        parent: &str,
        name_prefix: Option<&str>,
        after: Option<(String, String)>,
        limit: u32,
    ) -> Result<Vec<DomainRow>> {
        let mut args = vec![text(parent)];
        let mut sql = format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE parent_domain_id = $1");
        let order = match name_prefix {
            Some(prefix) => {
                args.push(text(prefix));
                args.push(Arg::Text(format!("{prefix}\u{10FFFF}")));
                sql.push_str(" AND domain_name >= $2 AND domain_name < $3");
                if let Some((name, id)) = after {
                    args.push(Arg::Text(name));
                    args.push(Arg::Text(id));
                    sql.push_str(" AND (domain_name, domain_id) > ($4, $5)");
                }
                "domain_name, domain_id"
            }
            None => {
                if let Some((_, id)) = after {
                    args.push(Arg::Text(id));
                    sql.push_str(" AND domain_id > $2");
                }
                "domain_id"
            }
        };
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY {order} LIMIT ${}", args.len()));
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<DomainRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_domain(&self, trail: &Trail, domain_id: &str) -> Result<()> {
        self.write(trail, |tx| {
            Box::pin(async move {
                let child = tx
                    .fetch_optional::<(String,)>(Stmt::new(
                        "SELECT domain_id FROM domains WHERE parent_domain_id = $1 LIMIT 1",
                        vec![text(domain_id)],
                    ))
                    .await?;
                if child.is_some() {
                    return Err(Error::Conflict(
                        "the domain still has subdomains; delete them first".into(),
                    ));
                }
                // Users, groups, drives, keys, apps and everything hanging from them go
                // through ON DELETE CASCADE, all in this transaction; failed-login counts and
                // the audit log have no foreign key and go here, so that whoever claims the
                // id next inherits none of it.
                forget_domain_history(tx, domain_id).await?;
                let deleted = tx
                    .execute(Stmt::new(
                        "DELETE FROM domains WHERE domain_id = $1",
                        vec![text(domain_id)],
                    ))
                    .await?;
                if deleted == 0 {
                    return Err(Error::NotFound(Resource::Domain));
                }
                Ok(())
            })
        })
        .await
    }
}
