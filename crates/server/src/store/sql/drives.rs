//! `DriveStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::drive_totals::{
    add_space_stmt, take_away_drive_stmt, take_away_owned_stmt, usage_of, usage_stmt, Space,
};
use super::quotas::{check_quotas, Addition};
use super::unique_as;
use super::{text, update_stmt, Arg, SqlStore, Stmt};
use crate::error::{Error, Resource, Result};
use crate::model::{DomainId, UserId};
use crate::store::drives::{DriveChanges, DrivePage, DriveRow, DriveUsage};
use crate::store::user_query::escape_like;
use crate::store::{normalize, DriveStore};

const DRIVE_COLUMNS: &str = "domain_id, drive_id, owner, owner_type, drive_name, description, \
     drive_type, status, is_default, total_size, used_size, creator, created_at, updated_at";

/// Points the owner of a default drive at `drive_id` (`""`: at none).
fn set_default_drive_stmt(drive: &DriveRow, drive_id: &str) -> Stmt {
    Stmt::new(
        "UPDATE users SET default_drive_id = $1 WHERE domain_id = $2 AND user_id = $3",
        vec![text(drive_id), text(&drive.domain_id), text(&drive.owner)],
    )
}

pub(super) fn insert_drive_stmt(d: &DriveRow) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO drives ({DRIVE_COLUMNS}, drive_name_norm) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ),
        vec![
            text(&d.domain_id),
            text(&d.drive_id),
            text(&d.owner),
            text(&d.owner_type),
            text(&d.drive_name),
            text(&d.description),
            text(&d.drive_type),
            text(&d.status),
            Arg::Bool(d.is_default),
            Arg::Int(d.total_size),
            Arg::Int(d.used_size),
            text(&d.creator),
            Arg::Int(d.created_at),
            Arg::Int(d.updated_at),
            Arg::Text(normalize(&d.drive_name)),
        ],
    )
    .adding_membership_or_drive()
}

fn drive_stmt(domain_id: &str, drive_id: &str) -> Stmt {
    Stmt::new(
        format!("SELECT {DRIVE_COLUMNS} FROM drives WHERE domain_id = $1 AND drive_id = $2"),
        vec![text(domain_id), text(drive_id)],
    )
}

fn update_drive_stmt(domain_id: &str, drive_id: &str, c: &DriveChanges) -> Stmt {
    let mut sets: Vec<(&str, Arg)> = Vec::new();
    if let Some(name) = &c.drive_name {
        sets.push(("drive_name", Arg::Text(name.clone())));
        sets.push(("drive_name_norm", Arg::Text(normalize(name))));
    }
    if let Some(v) = &c.description {
        sets.push(("description", Arg::Text(v.clone())));
    }
    if let Some(v) = &c.status {
        sets.push(("status", Arg::Text(v.clone())));
    }
    if let Some(v) = c.total_size {
        sets.push(("total_size", Arg::Int(v)));
    }
    sets.push(("updated_at", Arg::Int(c.updated_at)));
    update_stmt(
        "drives",
        sets,
        "drive_id",
        domain_id,
        drive_id,
        DRIVE_COLUMNS,
    )
}

fn find_drives_stmt(domain_id: &str, page: &DrivePage) -> Stmt {
    let mut args = vec![text(domain_id)];
    let mut sql = format!("SELECT {DRIVE_COLUMNS} FROM drives WHERE domain_id = $1");
    let mut bind = |sql: &mut String, condition: &str, arg: Arg| {
        args.push(arg);
        sql.push_str(&format!(" AND {condition} ${}", args.len()));
    };
    let f = &page.filter;
    if let Some(v) = &f.owner_type {
        bind(&mut sql, "owner_type =", text(v));
    }
    if let Some(v) = &f.owner {
        bind(&mut sql, "owner =", text(v));
    }
    if let Some(needle) = &f.name_contains {
        bind(
            &mut sql,
            "drive_name_norm LIKE",
            Arg::Text(format!("%{}%", escape_like(needle))),
        );
        sql.push_str(" ESCAPE '\\'");
    }
    if let Some(after) = &page.after_drive_id {
        bind(&mut sql, "drive_id >", text(after));
    }
    args.push(Arg::Int(i64::from(page.limit)));
    sql.push_str(&format!(" ORDER BY drive_id LIMIT ${}", args.len()));
    Stmt::new(sql, args)
}

fn owner_stmt(select: &str, domain_id: &str, owner_type: &str, owner: &str) -> Stmt {
    Stmt::new(
        format!("{select} WHERE domain_id = $1 AND owner_type = $2 AND owner = $3"),
        vec![text(domain_id), text(owner_type), text(owner)],
    )
}

#[async_trait]
impl DriveStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_drive(&self, trail: &Trail, drive: DriveRow) -> Result<DriveRow> {
        let drive = &drive;
        self.write(trail, |tx| {
            Box::pin(async move {
                let addition = Addition {
                    new_users: 0,
                    drive_id: "",
                    total_size: Some(drive.total_size),
                };
                check_quotas(tx, &drive.domain_id, addition).await?;
                let (owner_sql, missing) = if drive.owner_type == "group" {
                    (
                        "SELECT group_id FROM org_groups WHERE domain_id = $1 AND group_id = $2",
                        Resource::Group,
                    )
                } else {
                    (
                        "SELECT user_id FROM users WHERE domain_id = $1 AND user_id = $2",
                        Resource::User,
                    )
                };
                let owner = tx
                    .fetch_optional::<(String,)>(Stmt::new(
                        owner_sql,
                        vec![text(&drive.domain_id), text(&drive.owner)],
                    ))
                    .await?;
                if owner.is_none() {
                    return Err(Error::NotFound(missing));
                }
                tx.execute(insert_drive_stmt(drive))
                    .await
                    .map_err(unique_as(Resource::Drive))?;
                tx.execute(add_space_stmt(
                    &drive.domain_id,
                    &drive.drive_id,
                    Space::of(drive),
                ))
                .await?;
                if drive.is_default && drive.owner_type == "user" {
                    tx.execute(set_default_drive_stmt(drive, &drive.drive_id))
                        .await?;
                }
                Ok(drive.clone())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn drive(&self, domain_id: &DomainId, drive_id: &str) -> Result<Option<DriveRow>> {
        let stmt = drive_stmt(domain_id, drive_id);
        Ok(self.reader().fetch_optional::<DriveRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_drive(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        drive_id: &str,
        changes: DriveChanges,
    ) -> Result<Option<DriveRow>> {
        let changes = &changes;
        self.write(trail, |tx| {
            Box::pin(async move {
                if let Some(total_size) = changes.total_size {
                    let addition = Addition {
                        new_users: 0,
                        drive_id,
                        total_size: Some(total_size),
                    };
                    check_quotas(tx, domain_id, addition).await?;
                    // The drive's old size leaves the domain's totals, its new one joins.
                    tx.execute(take_away_drive_stmt(domain_id, drive_id))
                        .await?;
                }
                let updated = tx
                    .fetch_optional::<DriveRow>(update_drive_stmt(domain_id, drive_id, changes))
                    .await?;
                match &updated {
                    None => tx.discard(),
                    Some(drive) if changes.total_size.is_some() => {
                        tx.execute(add_space_stmt(domain_id, drive_id, Space::of(drive)))
                            .await?;
                    }
                    Some(_) => {}
                }
                Ok(updated)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_drive(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        drive_id: &str,
    ) -> Result<bool> {
        self.write(trail, |tx| {
            Box::pin(async move {
                let deleted = tx
                    .fetch_optional::<DriveRow>(Stmt::new(
                        format!(
                            "DELETE FROM drives WHERE domain_id = $1 AND drive_id = $2 \
                             RETURNING {DRIVE_COLUMNS}"
                        ),
                        vec![text(domain_id), text(drive_id)],
                    ))
                    .await?;
                let Some(deleted) = deleted else {
                    tx.discard();
                    return Ok(false);
                };
                let gone = Space::of(&deleted).negated();
                tx.execute(add_space_stmt(domain_id, drive_id, gone))
                    .await?;
                if deleted.is_default && deleted.owner_type == "user" {
                    tx.execute(set_default_drive_stmt(&deleted, "")).await?;
                }
                Ok(true)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn default_drives_of(
        &self,
        domain_id: &DomainId,
        user_ids: &[String],
    ) -> Result<Vec<DriveRow>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (in_list, args) = super::users::user_id_list(domain_id, user_ids);
        let stmt = Stmt::new(
            format!(
                "SELECT {DRIVE_COLUMNS} FROM drives WHERE domain_id = $1 \
                 AND owner_type = 'user' AND is_default AND owner IN ({in_list})"
            ),
            args,
        );
        Ok(self.reader().fetch_all::<DriveRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_drives(&self, domain_id: &str, page: &DrivePage) -> Result<Vec<DriveRow>> {
        let stmt = find_drives_stmt(domain_id, page);
        Ok(self.reader().fetch_all::<DriveRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn default_drive_of(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<Option<DriveRow>> {
        let stmt = owner_stmt(
            &format!("SELECT {DRIVE_COLUMNS} FROM drives"),
            domain_id,
            "user",
            user_id,
        );
        let stmt = Stmt::new(format!("{} AND is_default", stmt.sql), stmt.args);
        Ok(self.reader().fetch_optional::<DriveRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn drives_of_owner(
        &self,
        domain_id: &DomainId,
        owner_type: &str,
        owner: &str,
    ) -> Result<Vec<DriveRow>> {
        let stmt = owner_stmt(
            &format!("SELECT {DRIVE_COLUMNS} FROM drives"),
            domain_id,
            owner_type,
            owner,
        );
        let stmt = Stmt::new(format!("{} ORDER BY drive_id", stmt.sql), stmt.args);
        Ok(self.reader().fetch_all::<DriveRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_drives_of_owner(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        owner_type: &str,
        owner: &str,
    ) -> Result<u64> {
        self.write(trail, |tx| {
            Box::pin(async move {
                tx.execute(take_away_owned_stmt(domain_id, owner_type, owner))
                    .await?;
                let stmt = owner_stmt("DELETE FROM drives", domain_id, owner_type, owner);
                let deleted = tx.execute(stmt).await?;
                if deleted == 0 {
                    tx.discard();
                }
                Ok(deleted)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn drive_usage(&self, domain_id: &str) -> Result<DriveUsage> {
        // The totals kept with every drive write (migration 0071), not a sum over drives.
        let halves = self
            .reader()
            .fetch_optional::<(i64, i64, i64, i64)>(usage_stmt(domain_id))
            .await?;
        Ok(usage_of(halves))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn count_users(&self, domain_id: &str) -> Result<i64> {
        let count = self
            .reader()
            .fetch_optional::<(i64,)>(user_count_stmt(domain_id))
            .await?;
        Ok(count.map_or(0, |(n,)| n))
    }
}

/// How many users a domain holds: the count kept with every user create and delete
/// (migration 0064), not a scan.
pub(super) fn user_count_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        "SELECT CAST(COALESCE(SUM(users), 0) AS BIGINT) FROM user_counts WHERE domain_id = $1",
        vec![text(domain_id)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::drives::DriveFilter;

    #[test]
    fn drive_page_placeholders_follow_bind_order() {
        let page = DrivePage {
            filter: DriveFilter {
                owner_type: Some("user".into()),
                owner: None,
                name_contains: Some("a%b".into()),
            },
            after_drive_id: Some("d1".into()),
            limit: 3,
        };
        let stmt = find_drives_stmt("dom", &page);
        assert_eq!(stmt.args.len(), 5);
        assert!(
            stmt.sql.contains(
                "owner_type = $2 AND drive_name_norm LIKE $3 ESCAPE '\\' AND drive_id > $4"
            ),
            "{}",
            stmt.sql
        );
        assert!(
            stmt.sql.ends_with("ORDER BY drive_id LIMIT $5"),
            "{}",
            stmt.sql
        );
        assert_eq!(stmt.args[2], Arg::Text("%a\\%b%".into()));
    }
}
