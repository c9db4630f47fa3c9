//! Moving a whole domain from one store to another (SQLite → PostgreSQL, or back), through the
//! `Store` trait only, so it works between any two backends.

use std::collections::HashMap;

use crate::audit::Trail;
use crate::error::{Error, Resource, Result};
use crate::model::DomainId;
use crate::store::drives::{DriveFilter, DrivePage};
use crate::store::groups::GroupPage;
use crate::store::{NewUser, Store, UserFilter, UserOrder, UserPage};

/// Users copied per transaction on the target.
const BATCH: u32 = 500;

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferReport {
    pub groups: usize,
    pub drives: usize,
    pub users: usize,
    pub accounts: usize,
    pub passwords: usize,
}

/// Copies the domain (with its settings), its group tree, users (with their accounts, password
/// hashes and memberships) and drives from `from` to `to`.
/// The target must not have the domain yet. Each batch of users is one transaction; a copy
/// that fails part-way can be resumed by dropping the target domain and starting again.
pub async fn copy_domain(
    from: &dyn Store,
    to: &dyn Store,
    domain_id: &str,
) -> Result<TransferReport> {
    let domain = from
        .domain(domain_id)
        .await?
        .ok_or(Error::NotFound(Resource::Domain))?;
    to.restore_domain(domain).await?;
    let mut report = TransferReport {
        groups: copy_groups(from, to, domain_id).await?,
        ..TransferReport::default()
    };
    let mut after = None;
    loop {
        let page = UserPage {
            filter: UserFilter::default(),
            order: UserOrder::UserId,
            after: after.take(),
            limit: BATCH,
            descending: false,
        };
        let users = from.find_users(domain_id, &page).await?;
        let Some(last) = users.last() else {
            break;
        };
        after = Some((String::new(), last.user_id.clone()));
        let ids: Vec<String> = users.iter().map(|u| u.user_id.clone()).collect();
        let mut accounts: HashMap<String, Vec<_>> = HashMap::new();
        for account in from.accounts_of(&DomainId::from(domain_id), &ids).await? {
            accounts
                .entry(account.user_id.clone())
                .or_default()
                .push(account);
        }
        let mut memberships: HashMap<String, Vec<String>> = HashMap::new();
        for (user_id, group) in from.groups_of_users(domain_id, &ids).await? {
            memberships.entry(user_id).or_default().push(group.group_id);
        }
        let mut passwords: HashMap<String, String> = from
            .password_hashes_of(&DomainId::from(domain_id), &ids)
            .await?
            .into_iter()
            .collect();
        let batch: Vec<NewUser> = users
            .into_iter()
            .map(|user| NewUser {
                accounts: accounts.remove(&user.user_id).unwrap_or_default(),
                password_hash: passwords.remove(&user.user_id),
                group_ids: memberships.remove(&user.user_id).unwrap_or_default(),
                // Drives are copied after the users, with their own ids.
                drive: None,
                user,
            })
            .collect();
        report.users += batch.len();
        report.accounts += batch.iter().map(|u| u.accounts.len()).sum::<usize>();
        report.passwords += batch.iter().filter(|u| u.password_hash.is_some()).count();
        to.restore_users(batch).await?;
    }
    report.drives = copy_drives(from, to, domain_id).await?;
    Ok(report)
}

/// Copies every drive, keeping its id (so users' `default_drive_id`s stay right).
async fn copy_drives(from: &dyn Store, to: &dyn Store, domain_id: &str) -> Result<usize> {
    let mut copied = 0;
    let mut after = None;
    loop {
        let page = DrivePage {
            filter: DriveFilter::default(),
            after_drive_id: after.take(),
            limit: BATCH,
        };
        let drives = from.find_drives(domain_id, &page).await?;
        let Some(last) = drives.last() else {
            return Ok(copied);
        };
        after = Some(last.drive_id.clone());
        for drive in drives {
            to.create_drive(&Trail::none(), drive).await?;
            copied += 1;
        }
    }
}

/// Copies the group tree top down, so every parent exists before its children; the target
/// rebuilds its closure table as it inserts.
async fn copy_groups(from: &dyn Store, to: &dyn Store, domain_id: &str) -> Result<usize> {
    let mut copied = 0;
    let mut level = vec![String::new()];
    while !level.is_empty() {
        let mut next = Vec::new();
        for parent in level {
            let mut after = None;
            loop {
                let page = GroupPage {
                    parent: Some(parent.clone()),
                    after: after.take(),
                    limit: BATCH,
                    ..GroupPage::default()
                };
                let groups = from.find_groups(domain_id, &page).await?;
                let Some(last) = groups.last() else {
                    break;
                };
                after = Some((String::new(), last.group_id.clone()));
                for group in groups {
                    next.push(group.group_id.clone());
                    to.create_group(&Trail::none(), group).await?;
                    copied += 1;
                }
            }
        }
        level = next;
    }
    Ok(copied)
}
