//! `DomainStore` on SQL.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;

use super::missing_as;
use super::unique_as;
use super::users::{
    insert_account_stmt, insert_membership_stmt, insert_user_stmt, upsert_password_stmt,
};
use super::{with_retries, Arg, BeginWrite, Db, SqlStore, Stmt};
use crate::error::{Resource, Result};
use crate::store::{DomainRow, DomainStore, NewUser};

#[async_trait]
impl DomainStore for SqlStore {
    async fn domain(&self, domain_id: &str) -> Result<Option<DomainRow>> {
        let stmt = Stmt::new(
            "SELECT domain_id, domain_name, description, created_at, updated_at FROM domains \
             WHERE domain_id = $1",
            vec![Arg::Text(domain_id.to_owned())],
        );
        Ok(on_reader!(self, |pool| fetch_optional!(
            pool, DomainRow, stmt
        ))?)
    }

    async fn bootstrap_domain(&self, domain: DomainRow, admin: NewUser) -> Result<bool> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                let inserted = execute!(
                    &mut *tx,
                    Stmt::new(
                        "INSERT INTO domains (domain_id, domain_name, description, created_at, \
                         updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain_id) DO NOTHING",
                        vec![
                            Arg::Text(domain.domain_id.clone()),
                            Arg::Text(domain.domain_name.clone()),
                            Arg::Text(domain.description.clone()),
                            Arg::Int(domain.created_at),
                            Arg::Int(domain.updated_at),
                        ],
                    )
                )?;
                if inserted == 0 {
                    return Ok(false);
                }
                insert_new_user!(&mut *tx, &admin);
                tx.commit().await?;
                Ok(true)
            })
        })
        .await
    }

    async fn restore_domain(&self, domain: DomainRow) -> Result<()> {
        with_retries(|| async {
            let stmt = Stmt::new(
                "INSERT INTO domains (domain_id, domain_name, description, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    Arg::Text(domain.domain_id.clone()),
                    Arg::Text(domain.domain_name.clone()),
                    Arg::Text(domain.description.clone()),
                    Arg::Int(domain.created_at),
                    Arg::Int(domain.updated_at),
                ],
            );
            on_writer!(self, |pool| execute!(pool, stmt)).map_err(unique_as(Resource::Domain))?;
            Ok(())
        })
        .await
    }
}
