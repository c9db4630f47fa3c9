//! The quota rule every write that adds users or drive space runs inside its transaction.

use super::{split_sum, Arg, SplitSum, Stmt, Tx};
use crate::error::{Error, Result};

/// What a write is about to add to a domain: users, and a drive's size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Addition<'a> {
    pub new_users: i64,
    /// The drive being written (`""` for a new one): its current size is not counted.
    pub drive_id: &'a str,
    /// The drive's size in bytes (negative: unlimited); `None`: no drive.
    pub total_size: Option<i64>,
}

/// Refuses what would exceed a quota of the domain or of its parent (whose quotas count its
/// subdomains too). Each limited domain's row is locked first, so concurrent writers in one
/// domain queue and each sees the others' rows when it counts.
pub(crate) async fn check_quotas(
    tx: &mut Tx<'_>,
    domain_id: &str,
    add: Addition<'_>,
) -> Result<()> {
    let mut level = domain_id.to_owned();
    loop {
        let Some(quota) = tx.fetch_optional::<QuotaRow>(quota_stmt(&level)).await? else {
            return Err(Error::NotFound(crate::error::Resource::Domain));
        };
        let users_limited = add.new_users > 0 && quota.user_count_quota > 0;
        let size_limited = add.total_size.is_some() && quota.size_quota > 0;
        if users_limited || size_limited {
            tx.execute(lock_domain_stmt(&level)).await?;
        }
        if users_limited {
            check_user_count(tx, &level, add.new_users, quota.user_count_quota).await?;
        }
        if let (true, Some(size)) = (size_limited, add.total_size) {
            check_size(tx, &level, add.drive_id, size, quota.size_quota).await?;
        }
        if quota.parent_domain_id.is_empty() {
            return Ok(());
        }
        level = quota.parent_domain_id;
    }
}

async fn check_user_count(tx: &mut Tx<'_>, level: &str, new_users: i64, quota: i64) -> Result<()> {
    let (users,) = tx
        .fetch_optional::<(i64,)>(family_users_stmt(level))
        .await?
        .unwrap_or((0,));
    if users + new_users > quota {
        return Err(Error::QuotaExhausted("users".into()));
    }
    Ok(())
}

async fn check_size(
    tx: &mut Tx<'_>,
    level: &str,
    drive_id: &str,
    size: i64,
    quota: i64,
) -> Result<()> {
    if size < 0 {
        return Err(Error::QuotaExhausted(
            "domain size (an unlimited drive)".into(),
        ));
    }
    let allocated = tx
        .fetch_optional::<SplitSum>(family_allocated_stmt(level, drive_id))
        .await?
        .map_or(0, SplitSum::total);
    if allocated.saturating_add(size) > quota {
        return Err(Error::QuotaExhausted("domain size".into()));
    }
    Ok(())
}

/// A domain's quotas and where they roll up to.
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(super) struct QuotaRow {
    pub(super) user_count_quota: i64,
    pub(super) size_quota: i64,
    pub(super) parent_domain_id: String,
}

pub(super) fn quota_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        "SELECT user_count_quota, size_quota, parent_domain_id FROM domains WHERE domain_id = $1",
        vec![Arg::Text(domain_id.to_owned())],
    )
}

/// Locks a domain's row until the transaction ends.
pub(super) fn lock_domain_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        "UPDATE domains SET updated_at = updated_at WHERE domain_id = $1",
        vec![Arg::Text(domain_id.to_owned())],
    )
}

/// `domain_id IN (the domain and its subdomains)`, with the domain as `$1`.
const FAMILY: &str =
    "domain_id IN (SELECT domain_id FROM domains WHERE domain_id = $1 OR parent_domain_id = $1)";

pub(super) fn family_users_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        format!("SELECT COUNT(*) FROM users WHERE {FAMILY}"),
        vec![Arg::Text(domain_id.to_owned())],
    )
}

/// The sum of the limited drives' `total_size` in the domain and its subdomains, leaving
/// out `except_drive_id`.
pub(super) fn family_allocated_stmt(domain_id: &str, except_drive_id: &str) -> Stmt {
    Stmt::new(
        format!(
            "SELECT {} FROM drives WHERE {FAMILY} AND total_size >= 0 AND drive_id <> $2",
            split_sum("total_size")
        ),
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(except_drive_id.to_owned()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Trail;
    use crate::service::users::new_user_row;
    use crate::store::drives::DriveRow;
    use crate::store::sql::tests::scratch_store;
    use crate::store::SqlStore;
    use crate::store::{DomainRow, DomainStore, NewUser, UserStore};

    fn user(domain_id: &str, user_id: &str) -> NewUser {
        NewUser {
            user: new_user_row(domain_id, user_id.to_owned(), "t", 0),
            accounts: Vec::new(),
            password_hash: None,
            group_ids: Vec::new(),
            drive: None,
        }
    }

    fn drive(domain_id: &str, drive_id: &str, total_size: i64) -> DriveRow {
        DriveRow {
            domain_id: domain_id.into(),
            drive_id: drive_id.into(),
            owner: "u".into(),
            owner_type: "user".into(),
            drive_name: drive_id.into(),
            description: String::new(),
            drive_type: "normal".into(),
            status: "enabled".into(),
            is_default: false,
            total_size,
            used_size: 0,
            creator: String::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    /// `parent` (quotas as given) with the subdomain `child`, both empty.
    async fn family(store: &SqlStore, user_count_quota: i64, size_quota: i64) {
        let mut parent = DomainRow::new("parent", "parent", "", 0);
        parent.user_count_quota = user_count_quota;
        parent.size_quota = size_quota;
        store.restore_domain(parent).await.unwrap();
        let child = DomainRow::new("child", "child", "parent", 0);
        store.restore_domain(child).await.unwrap();
    }

    async fn check(store: &SqlStore, domain_id: &str, add: Addition<'_>) -> Result<()> {
        store
            .write(&Trail::none(), |tx| {
                Box::pin(check_quotas(tx, domain_id, add))
            })
            .await
    }

    fn users(n: i64) -> Addition<'static> {
        Addition {
            new_users: n,
            drive_id: "",
            total_size: None,
        }
    }

    fn sized(drive_id: &str, total_size: i64) -> Addition<'_> {
        Addition {
            new_users: 0,
            drive_id,
            total_size: Some(total_size),
        }
    }

    #[tokio::test]
    async fn a_parents_user_quota_counts_its_subdomains_users() {
        let (_dir, store) = scratch_store().await;
        family(&store, 3, 0).await;
        store
            .create_user(&Trail::none(), user("parent", "p1"))
            .await
            .unwrap();
        store
            .create_user(&Trail::none(), user("child", "c1"))
            .await
            .unwrap();
        check(&store, "child", users(1)).await.unwrap();
        let refused = check(&store, "child", users(2)).await;
        assert!(matches!(refused, Err(Error::QuotaExhausted(what)) if what == "users"));
        let refused = check(&store, "parent", users(2)).await;
        assert!(matches!(refused, Err(Error::QuotaExhausted(_))));
    }

    #[tokio::test]
    async fn a_size_quota_counts_limited_drives_but_the_one_being_resized() {
        let (_dir, store) = scratch_store().await;
        family(&store, 0, 100).await;
        store
            .create_user(&Trail::none(), user("child", "u"))
            .await
            .unwrap();
        let mut with_drive = user("parent", "v");
        with_drive.drive = Some(drive("parent", "d1", 60));
        store.create_user(&Trail::none(), with_drive).await.unwrap();
        check(&store, "child", sized("", 40)).await.unwrap();
        assert!(check(&store, "child", sized("", 41)).await.is_err());
        // Resizing d1 itself: its 60 bytes are replaced, not added to.
        check(&store, "parent", sized("d1", 100)).await.unwrap();
        assert!(check(&store, "parent", sized("d1", 101)).await.is_err());
    }

    #[tokio::test]
    async fn an_unlimited_drive_exceeds_any_size_quota_and_no_quota_limits_nothing() {
        let (_dir, store) = scratch_store().await;
        family(&store, 0, 100).await;
        let refused = check(&store, "child", sized("", -1)).await;
        assert!(matches!(refused, Err(Error::QuotaExhausted(what)) if what.contains("unlimited")));
        check(&store, "child", users(1_000_000)).await.unwrap();
        let unknown = check(&store, "nowhere", users(1)).await;
        assert!(matches!(
            unknown,
            Err(Error::NotFound(crate::error::Resource::Domain))
        ));
    }
}
