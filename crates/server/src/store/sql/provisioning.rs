//! `ProvisioningStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::users::{create_new_user, update_user_in};
use super::{text, Arg, SqlStore, Stmt, Tx};
use crate::error::Result;
use crate::store::provisioning::{ProvisionedRow, ProvisioningStore};
use crate::store::{NewUser, UserChanges, UserRow};

const COLUMNS: &str = "domain_id, object_kind, object_id, object_created_at, external_id, data";

#[async_trait]
impl ProvisioningStore for SqlStore {
    async fn provisioned(
        &self,
        domain_id: &str,
        object_kind: &str,
        object_ids: &[String],
    ) -> Result<Vec<ProvisionedRow>> {
        if object_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![text(domain_id), text(object_kind)];
        let placeholders: Vec<String> = object_ids
            .iter()
            .map(|id| {
                args.push(text(id));
                format!("${}", args.len())
            })
            .collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM provisioned_attributes \
             WHERE domain_id = $1 AND object_kind = $2 AND object_id IN ({})",
            placeholders.join(", ")
        );
        Ok(self.reader().fetch_all(Stmt::new(sql, args)).await?)
    }

    async fn provisioned_by_external_id(
        &self,
        domain_id: &str,
        object_kind: &str,
        external_id: &str,
    ) -> Result<Vec<ProvisionedRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM provisioned_attributes \
             WHERE domain_id = $1 AND object_kind = $2 AND external_id = $3 \
             ORDER BY object_id LIMIT 100"
        );
        let args = vec![text(domain_id), text(object_kind), text(external_id)];
        Ok(self.reader().fetch_all(Stmt::new(sql, args)).await?)
    }

    async fn put_provisioned(&self, trail: &Trail, row: ProvisionedRow) -> Result<()> {
        let row = &row;
        self.write(trail, |tx| Box::pin(put_provisioned_in(tx, row)))
            .await
    }

    async fn create_provisioned_user(
        &self,
        trail: &Trail,
        new: NewUser,
        row: ProvisionedRow,
    ) -> Result<UserRow> {
        let (new, row) = (&new, &row);
        self.write(trail, |tx| {
            Box::pin(async move {
                create_new_user(tx, new).await?;
                put_provisioned_in(tx, row).await?;
                Ok(new.user.clone())
            })
        })
        .await
    }

    async fn update_provisioned_user(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        changes: UserChanges,
        row: Option<ProvisionedRow>,
    ) -> Result<Option<UserRow>> {
        let (changes, row) = (&changes, &row);
        self.write(trail, |tx| {
            Box::pin(async move {
                let updated = update_user_in(tx, domain_id, user_id, changes).await?;
                if let (Some(_), Some(row)) = (&updated, row) {
                    put_provisioned_in(tx, row).await?;
                }
                Ok(updated)
            })
        })
        .await
    }
}

/// Replaces an object's row inside `tx`.
async fn put_provisioned_in(tx: &mut Tx<'_>, row: &ProvisionedRow) -> Result<()> {
    tx.execute(Stmt::new(
        "DELETE FROM provisioned_attributes \
         WHERE domain_id = $1 AND object_kind = $2 AND object_id = $3",
        vec![
            text(&row.domain_id),
            text(&row.object_kind),
            text(&row.object_id),
        ],
    ))
    .await?;
    tx.execute(Stmt::new(
        format!(
            "INSERT INTO provisioned_attributes ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        ),
        vec![
            text(&row.domain_id),
            text(&row.object_kind),
            text(&row.object_id),
            Arg::Int(row.object_created_at),
            text(&row.external_id),
            text(&row.data),
        ],
    ))
    .await?;
    Ok(())
}
