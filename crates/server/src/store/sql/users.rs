//! `UserStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::bulk::fold;
use super::bulk::UserBatch;
use super::drive_totals::{add_space_stmt, take_away_owned_stmt, Space};
use super::drives::insert_drive_stmt;
use super::quotas::{check_quotas, Addition};
use super::{missing_as, text, unique_as, update_stmt, Insert, Tx};
use super::{Arg, Dialect, SqlStore, Stmt};
use crate::error::{Error, Resource, Result};
use crate::model::{DomainId, UserId};
use crate::store::user_query::{
    entries_page_sql, may_walk_users, page_sql, subtree_count_sql, subtree_walk_threshold,
    SubtreePlan, USER_COLUMNS,
};
use crate::store::{
    new_token_stamp, normalize, AccountRow, DirectoryEntryRow, LoginCandidate, NewUser,
    UserChanges, UserPage, UserRow, UserStore,
};

/// Rows a domain's kept count (`user_counts`, migration 0064) and drive totals
/// (`drive_totals`, 0071) are each spread over.
const COUNT_SHARDS: i64 = 8;

/// The row of a domain's kept figure that `key` (a user, drive or owner id) adds to, so
/// concurrent writes in one domain seldom wait on one row.
pub(super) fn count_shard(key: &str) -> i64 {
    key.bytes()
        .fold(0i64, |h, b| (h * 31 + i64::from(b)) % COUNT_SHARDS)
}

/// Adds `delta` users to `domain_id`'s count, on the shard `user_id` picks. Runs in the
/// transaction that creates or deletes the users: the count is exact whenever a reader
/// sees it.
pub(super) fn user_count_stmt(domain_id: &str, user_id: &str, delta: i64) -> Stmt {
    let shard = count_shard(user_id);
    Stmt::new(
        "INSERT INTO user_counts (domain_id, shard, users) VALUES ($1, $2, $3) \
         ON CONFLICT (domain_id, shard) DO UPDATE SET users = user_counts.users + excluded.users",
        vec![text(domain_id), Arg::Int(shard), Arg::Int(delta)],
    )
}

/// Counts new users of one batch, domain by domain.
pub(super) fn user_count_stmts(users: &[NewUser]) -> Vec<Stmt> {
    let mut per_domain: Vec<(&str, &str, i64)> = Vec::new();
    for new in users {
        let u = &new.user;
        match per_domain.iter_mut().find(|(d, _, _)| *d == u.domain_id) {
            Some((_, _, n)) => *n += 1,
            None => per_domain.push((&u.domain_id, &u.user_id, 1)),
        }
    }
    per_domain
        .into_iter()
        .map(|(domain_id, user_id, n)| user_count_stmt(domain_id, user_id, n))
        .collect()
}

pub(super) fn insert_user_stmt(u: &UserRow) -> Stmt {
    Insert::into("users")
        .value("domain_id", text(&u.domain_id))
        .value("user_id", text(&u.user_id))
        .value("user_name", text(&u.user_name))
        .value("nick_name", text(&u.nick_name))
        .value("avatar", text(&u.avatar))
        .value("email", text(&u.email))
        .value("phone", text(&u.phone))
        .value("role", text(&u.role))
        .value("status", text(&u.status))
        .value("description", text(&u.description))
        .value("user_data", text(&u.user_data))
        .value("creator", text(&u.creator))
        .value("default_drive_id", text(&u.default_drive_id))
        .value(
            "deny_change_password_by_self",
            Arg::Bool(u.deny_change_password_by_self),
        )
        .value(
            "need_change_password_next_login",
            Arg::Bool(u.need_change_password_next_login),
        )
        .value("expired_at", Arg::Int(u.expired_at))
        .value("phone_region", text(&u.phone_region))
        .value("last_login_time", Arg::Int(u.last_login_time))
        .value(
            "last_refresh_token_time",
            Arg::Int(u.last_refresh_token_time),
        )
        .value("created_at", Arg::Int(u.created_at))
        .value("updated_at", Arg::Int(u.updated_at))
        .value("punishments", text(&u.punishments))
        .value("owner_type", text(&u.owner_type))
        .value("token_stamp", text(&u.token_stamp))
        .value("user_name_norm", Arg::Text(normalize(&u.user_name)))
        .value("nick_name_norm", Arg::Text(normalize(&u.nick_name)))
        .value("email_norm", Arg::Text(normalize(&u.email)))
        .value("phone_norm", Arg::Text(normalize(&u.phone)))
        // Unique per domain: ids differing only in case are one id.
        .value("user_id_norm", Arg::Text(normalize(&u.user_id)))
        .stmt()
}

pub(super) fn insert_account_stmt(a: &AccountRow) -> Stmt {
    Stmt::new(
        "INSERT INTO accounts (domain_id, authentication_type, identity, user_id, display_name, \
         extra, status, created_at, last_login_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            Arg::Text(a.domain_id.clone()),
            Arg::Text(a.authentication_type.clone()),
            Arg::Text(a.identity.clone()),
            Arg::Text(a.user_id.clone()),
            Arg::Text(a.display_name.clone()),
            Arg::Text(a.extra.clone()),
            Arg::Text(a.status.clone()),
            Arg::Int(a.created_at),
            Arg::Int(a.last_login_time),
        ],
    )
}

/// Deletes one account of one user (none if the identity is another user's).
fn delete_account_stmt(a: &AccountRow) -> Stmt {
    Stmt::new(
        "DELETE FROM accounts WHERE domain_id = $1 AND authentication_type = $2 \
         AND identity = $3 AND user_id = $4",
        vec![
            Arg::Text(a.domain_id.clone()),
            Arg::Text(a.authentication_type.clone()),
            Arg::Text(a.identity.clone()),
            Arg::Text(a.user_id.clone()),
        ],
    )
}

pub(super) fn upsert_password_stmt(domain_id: &str, user_id: &str, hash: &str, at: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO user_passwords (domain_id, user_id, password_hash, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (domain_id, user_id) \
         DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(user_id.to_owned()),
            Arg::Text(hash.to_owned()),
            Arg::Int(at),
        ],
    )
}

pub(super) fn user_stmt(domain_id: &str, user_id: &str) -> Stmt {
    Stmt::new(
        format!("SELECT {USER_COLUMNS} FROM users WHERE domain_id = $1 AND user_id = $2"),
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(user_id.to_owned()),
        ],
    )
}

/// `UPDATE users SET ... RETURNING ...` for the columns `changes` sets, and a new token
/// generation when `new_token_stamp` is given.
pub(super) fn update_user_stmt(
    domain_id: &str,
    user_id: &str,
    c: &UserChanges,
    new_token_stamp: Option<String>,
) -> Stmt {
    let mut sets: Vec<(&str, Arg)> = Vec::new();
    if let Some(stamp) = new_token_stamp {
        sets.push(("token_stamp", Arg::Text(stamp)));
    }
    let texts = [
        ("user_name", &c.user_name, Some("user_name_norm")),
        ("nick_name", &c.nick_name, Some("nick_name_norm")),
        ("avatar", &c.avatar, None),
        ("email", &c.email, Some("email_norm")),
        ("phone", &c.phone, Some("phone_norm")),
        ("role", &c.role, None),
        ("status", &c.status, None),
        ("description", &c.description, None),
        ("user_data", &c.user_data, None),
        ("phone_region", &c.phone_region, None),
        ("punishments", &c.punishments, None),
    ];
    for (column, value, normalized) in texts {
        if let Some(v) = value {
            sets.push((column, Arg::Text(v.clone())));
            if let Some(norm) = normalized {
                sets.push((norm, Arg::Text(normalize(v))));
            }
        }
    }
    if let Some(v) = c.deny_change_password_by_self {
        sets.push(("deny_change_password_by_self", Arg::Bool(v)));
    }
    if let Some(v) = c.need_change_password_next_login {
        sets.push(("need_change_password_next_login", Arg::Bool(v)));
    }
    if let Some(v) = c.expired_at {
        sets.push(("expired_at", Arg::Int(v)));
    }
    if let Some(v) = &c.owner_type {
        sets.push(("owner_type", Arg::Text(v.clone())));
    }
    sets.push(("updated_at", Arg::Int(c.updated_at)));
    update_stmt("users", sets, "user_id", domain_id, user_id, USER_COLUMNS)
}

/// `$2, $3, ...` for the ids, and the arguments `[domain_id, ids...]` that go with it.
pub(super) fn user_id_list(domain_id: &str, user_ids: &[String]) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Text(domain_id.to_owned())];
    let placeholders: Vec<String> = user_ids
        .iter()
        .map(|id| {
            args.push(Arg::Text(id.clone()));
            format!("${}", args.len())
        })
        .collect();
    (placeholders.join(", "), args)
}

pub(super) fn insert_membership_stmt(
    domain_id: &str,
    group_id: &str,
    user_id: &str,
    at: i64,
) -> Stmt {
    Stmt::new(
        "INSERT INTO group_members (domain_id, group_id, user_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (domain_id, group_id, user_id) DO NOTHING",
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(group_id.to_owned()),
            Arg::Text(user_id.to_owned()),
            Arg::Int(at),
        ],
    )
    .adding_membership_or_drive()
}

pub(super) fn delete_refresh_tokens_stmt(domain_id: &str, user_id: &str) -> Stmt {
    Stmt::new(
        "DELETE FROM refresh_tokens WHERE domain_id = $1 AND user_id = $2",
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(user_id.to_owned()),
        ],
    )
}

/// Deletes the user's pending password resets issued for another role or address than it
/// has now: a reset mailed before a promotion or to a former address must not take over
/// the account as it is now.
fn delete_outdated_reset_tokens_stmt(user: &UserRow) -> Stmt {
    Stmt::new(
        "DELETE FROM password_reset_tokens WHERE domain_id = $1 AND user_id = $2 \
         AND (role <> $3 OR email <> $4)",
        vec![
            Arg::Text(user.domain_id.clone()),
            Arg::Text(user.user_id.clone()),
            Arg::Text(user.role.clone()),
            Arg::Text(user.email.clone()),
        ],
    )
}

/// Writes a `NewUser` (user, then accounts, memberships, password): what every path that
/// makes a user writes, quotas aside.
pub(super) async fn insert_new_user(tx: &mut Tx<'_>, new: &NewUser) -> Result<()> {
    let user = &new.user;
    tx.execute(insert_user_stmt(user))
        .await
        .map_err(unique_as(Resource::User))?;
    tx.execute(user_count_stmt(&user.domain_id, &user.user_id, 1))
        .await?;
    for account in &new.accounts {
        tx.execute(insert_account_stmt(account))
            .await
            .map_err(unique_as(Resource::Account))?;
    }
    for group_id in &new.group_ids {
        let membership =
            insert_membership_stmt(&user.domain_id, group_id, &user.user_id, user.created_at);
        tx.execute(membership)
            .await
            .map_err(missing_as(Resource::Group))?;
    }
    if let Some(hash) = &new.password_hash {
        let password = upsert_password_stmt(&user.domain_id, &user.user_id, hash, user.created_at);
        tx.execute(password).await?;
    }
    Ok(())
}

/// Writes a new user: quotas checked first, then the user with its accounts, password,
/// memberships and default drive.
/// Applies `changes` to a user inside `tx`; `None` (and nothing written) when the user does
/// not exist. Shared by `update_user` and the provisioning store, which writes the
/// provider's attributes in the same transaction.
pub(super) async fn update_user_in(
    tx: &mut Tx<'_>,
    domain_id: &str,
    user_id: &str,
    changes: &UserChanges,
) -> Result<Option<UserRow>> {
    let ends_sessions = if changes.may_end_sessions() {
        let current = tx
            .fetch_optional::<UserRow>(user_stmt(domain_id, user_id))
            .await?;
        let Some(current) = current else {
            tx.discard();
            return Ok(None);
        };
        changes.ends_sessions_of(&current)
    } else {
        false
    };
    let new_stamp = ends_sessions.then(new_token_stamp);
    let updated = tx
        .fetch_optional::<UserRow>(update_user_stmt(domain_id, user_id, changes, new_stamp))
        .await?;
    let Some(updated) = updated else {
        tx.discard();
        return Ok(None);
    };
    if let Some(hash) = &changes.password_hash {
        tx.execute(upsert_password_stmt(
            domain_id,
            user_id,
            hash,
            changes.updated_at,
        ))
        .await?;
    }
    if let Some(group_ids) = &changes.group_ids {
        tx.execute(Stmt::new(
            "DELETE FROM group_members WHERE domain_id = $1 AND user_id = $2",
            vec![
                Arg::Text(domain_id.to_owned()),
                Arg::Text(user_id.to_owned()),
            ],
        ))
        .await?;
        for group_id in group_ids {
            tx.execute(insert_membership_stmt(
                domain_id,
                group_id,
                user_id,
                changes.updated_at,
            ))
            .await
            .map_err(missing_as(Resource::Group))?;
        }
    }
    for account in &changes.accounts_removed {
        tx.execute(delete_account_stmt(account)).await?;
    }
    for account in &changes.accounts_added {
        tx.execute(insert_account_stmt(account))
            .await
            .map_err(unique_as(Resource::Account))?;
    }
    if ends_sessions {
        tx.execute(delete_refresh_tokens_stmt(domain_id, user_id))
            .await?;
    }
    if changes.role.is_some() || changes.email.is_some() {
        tx.execute(delete_outdated_reset_tokens_stmt(&updated))
            .await?;
    }
    Ok(Some(updated))
}

pub(super) async fn create_new_user(tx: &mut Tx<'_>, new: &NewUser) -> Result<()> {
    let addition = Addition {
        new_users: 1,
        drive_id: "",
        total_size: new.drive.as_ref().map(|d| d.total_size),
    };
    check_quotas(tx, &new.user.domain_id, addition).await?;
    insert_new_user(tx, new).await?;
    if let Some(drive) = &new.drive {
        tx.execute(insert_drive_stmt(drive))
            .await
            .map_err(unique_as(Resource::Drive))?;
        tx.execute(add_space_stmt(
            &drive.domain_id,
            &drive.drive_id,
            Space::of(drive),
        ))
        .await?;
    }
    Ok(())
}

/// Writes new users of one domain with one statement per table, quotas checked for all of
/// them together. Any broken rule fails the lot (the caller then writes them one by one).
async fn create_new_users_at_once(tx: &mut Tx<'_>, batch: &[NewUser]) -> Result<()> {
    let Some(first) = batch.first() else {
        return Ok(());
    };
    let domain_id = first.user.domain_id.as_str();
    if batch.iter().any(|new| new.user.domain_id != domain_id) {
        return Err(Error::Conflict("users of several domains".into()));
    }
    let drives: Vec<&crate::store::drives::DriveRow> =
        batch.iter().filter_map(|new| new.drive.as_ref()).collect();
    // An unlimited drive counts as one over any size quota, as it does alone.
    let total_size = (!drives.is_empty()).then(|| {
        drives
            .iter()
            .try_fold(0i64, |sum, d| {
                (d.total_size >= 0).then(|| sum.saturating_add(d.total_size))
            })
            .unwrap_or(-1)
    });
    let addition = Addition {
        new_users: i64::try_from(batch.len()).unwrap_or(i64::MAX),
        drive_id: "",
        total_size,
    };
    check_quotas(tx, domain_id, addition).await?;
    let dialect = tx.dialect();
    let rows = UserBatch::new(batch, dialect);
    for stmt in rows.users {
        tx.execute(stmt).await.map_err(unique_as(Resource::User))?;
    }
    for stmt in user_count_stmts(batch) {
        tx.execute(stmt).await?;
    }
    for stmt in rows.accounts {
        tx.execute(stmt)
            .await
            .map_err(unique_as(Resource::Account))?;
    }
    for stmt in rows.memberships {
        tx.execute(stmt)
            .await
            .map_err(missing_as(Resource::Group))?;
    }
    for stmt in rows.passwords {
        tx.execute(stmt).await?;
    }
    let space = Space::of_all(drives.iter().copied());
    if let Some(first) = drives.first() {
        tx.execute(add_space_stmt(domain_id, &first.drive_id, space))
            .await?;
    }
    for stmt in fold(drives.into_iter().map(insert_drive_stmt), dialect) {
        tx.execute(stmt).await.map_err(unique_as(Resource::Drive))?;
    }
    Ok(())
}

impl SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_users_with(
        &self,
        domain_id: &str,
        page: &UserPage,
        plan: SubtreePlan,
    ) -> Result<Vec<UserRow>> {
        // A row a user on both backends. (Read as one JSON array the database builds, a
        // 100-row page cost PostgreSQL about twice the CPU: docs/performance.md, "Writes on
        // the calling thread", item 3.)
        let (sql, args) = page_sql(self.dialect(), domain_id, page, plan);
        Ok(self
            .reader()
            .fetch_all_inline::<UserRow>(Stmt::new(sql, args))
            .await?)
    }

    /// How a page restricted to subtrees finds their members (see `SubtreePlan`): from a
    /// count of their memberships that stops at the walk's threshold for this domain's size.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn subtree_plan(&self, domain_id: &str, page: &UserPage) -> Result<SubtreePlan> {
        if !may_walk_users(page) {
            return Ok(SubtreePlan::CollectMembers);
        }
        let reader = self.reader();
        let (domain_users,) = reader
            .fetch_optional_inline::<(i64,)>(super::drives::user_count_stmt(domain_id))
            .await?
            .unwrap_or((0,));
        let threshold = subtree_walk_threshold(domain_users, page.limit);
        let (sql, args) = subtree_count_sql(domain_id, page, threshold);
        let (count,) = reader
            .fetch_optional_inline::<(i64,)>(Stmt::new(sql, args))
            .await?
            .unwrap_or((0,));
        Ok(if count >= threshold {
            SubtreePlan::WalkUsers
        } else {
            SubtreePlan::CollectMembers
        })
    }
}

/// The SQLite page cache of a connection that restores users: 128 MiB.
const RESTORE_CACHE_PRAGMA: &str = "PRAGMA cache_size = -131072";

#[async_trait]
impl UserStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_user(&self, trail: &Trail, new: NewUser) -> Result<UserRow> {
        let new = &new;
        self.write(trail, |tx| {
            Box::pin(async move {
                create_new_user(tx, new).await?;
                Ok(new.user.clone())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_users(
        &self,
        trail: &Trail,
        batch: Vec<NewUser>,
        item_trails: Vec<Trail>,
    ) -> Result<Vec<Result<UserRow>>> {
        let batch = &batch;
        let item_trails = &item_trails;
        self.write(trail, |tx| {
            Box::pin(async move {
                // First all at once, with a few multi-row statements; if any row breaks a rule,
                // that is undone and each row is written on its own to see which.
                if batch.len() > 1 {
                    let at_once = tx
                        .attempt("batch_all", |tx| {
                            Box::pin(create_new_users_at_once(tx, batch))
                        })
                        .await?;
                    if at_once.is_ok() {
                        item_trails.iter().for_each(|records| trail.absorb(records));
                        return Ok(batch.iter().map(|new| Ok(new.user.clone())).collect());
                    }
                }
                let mut outcomes = Vec::with_capacity(batch.len());
                let none = Trail::none();
                for (i, new) in batch.iter().enumerate() {
                    let records = item_trails.get(i).unwrap_or(&none);
                    // A broken rule fails its item alone (and its records, which this
                    // transaction writes as failures); anything else fails the batch.
                    let created = tx
                        .attempt("batch_item", |tx| Box::pin(create_new_user(tx, new)))
                        .await?;
                    if let Err(e) = &created {
                        records.fail_pending(e);
                    }
                    trail.absorb(records);
                    outcomes.push(created.map(|()| new.user.clone()));
                }
                Ok(outcomes)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn user(&self, domain_id: &DomainId, user_id: &UserId) -> Result<Option<UserRow>> {
        let stmt = user_stmt(domain_id, user_id);
        Ok(self.reader().fetch_optional_inline::<UserRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn caller(&self, domain_id: &DomainId, user_id: &UserId) -> Result<Option<UserRow>> {
        let Some(cache) = &self.callers else {
            return self.user(domain_id, user_id).await;
        };
        let version = match cache.lookup(domain_id, user_id) {
            super::callers::Lookup::Hit(row) => return Ok(Some(*row)),
            super::callers::Lookup::Miss(version) => version,
        };
        let row = self.user(domain_id, user_id).await?;
        if let (Some(version), Some(row)) = (version, &row) {
            cache.offer(version, row);
        }
        Ok(row)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_user(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
        changes: UserChanges,
    ) -> Result<Option<UserRow>> {
        let changes = &changes;
        self.write(trail, |tx| {
            Box::pin(update_user_in(tx, domain_id, user_id, changes))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_user(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<bool> {
        self.write(trail, |tx| {
            Box::pin(async move {
                let key = || {
                    vec![
                        Arg::Text(domain_id.to_string()),
                        Arg::Text(user_id.to_string()),
                    ]
                };
                // Accounts, password, memberships and refresh tokens go through ON DELETE
                // CASCADE; the user's personal drives and what it administers name it
                // without a foreign key and go here.
                let deleted = tx
                    .execute(Stmt::new(
                        "DELETE FROM users WHERE domain_id = $1 AND user_id = $2",
                        key(),
                    ))
                    .await?;
                if deleted == 0 {
                    tx.discard();
                    return Ok(false);
                }
                tx.execute(user_count_stmt(domain_id, user_id, -1)).await?;
                tx.execute(take_away_owned_stmt(domain_id, "user", user_id))
                    .await?;
                tx.execute(Stmt::new(
                    "DELETE FROM drives WHERE domain_id = $1 AND owner_type = 'user' \
                         AND owner = $2",
                    key(),
                ))
                .await?;
                tx.execute(super::groups::delete_assignments_of_stmt(
                    domain_id,
                    super::groups::IDENTITY_USER,
                    user_id,
                ))
                .await?;
                Ok(true)
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_users(&self, domain_id: &str, page: &UserPage) -> Result<Vec<UserRow>> {
        let plan = self.subtree_plan(domain_id, page).await?;
        self.find_users_with(domain_id, page, plan).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_directory_entries(
        &self,
        domain_id: &str,
        page: &UserPage,
    ) -> Result<Vec<DirectoryEntryRow>> {
        let plan = self.subtree_plan(domain_id, page).await?;
        let (sql, args) = entries_page_sql(self.dialect(), domain_id, page, plan);
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<DirectoryEntryRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn accounts_of(
        &self,
        domain_id: &DomainId,
        user_ids: &[String],
    ) -> Result<Vec<AccountRow>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (in_list, args) = user_id_list(domain_id, user_ids);
        let stmt = Stmt::new(
            format!(
                "SELECT domain_id, authentication_type, identity, user_id, display_name, extra, \
                 status, created_at, last_login_time FROM accounts \
                 WHERE domain_id = $1 AND user_id IN ({in_list}) \
                 ORDER BY user_id, authentication_type, identity"
            ),
            args,
        );
        Ok(self.reader().fetch_all_inline::<AccountRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn login_candidates(
        &self,
        domain_id: &DomainId,
        identity: &str,
    ) -> Result<Vec<LoginCandidate>> {
        let stmt = login_candidates_stmt(domain_id, identity);
        Ok(self.reader().fetch_all::<LoginCandidate>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn record_login(
        &self,
        trail: &Trail,
        account: &LoginCandidate,
        domain_id: &str,
        at: i64,
    ) -> Result<()> {
        self.write(trail, |tx| {
            Box::pin(async move {
                tx.execute(Stmt::new(
                    "UPDATE users SET last_login_time = $1 WHERE domain_id = $2 AND user_id = $3",
                    vec![
                        Arg::Int(at),
                        Arg::Text(domain_id.to_owned()),
                        Arg::Text(account.user_id.clone()),
                    ],
                ))
                .await?;
                tx.execute(Stmt::new(
                    "UPDATE accounts SET last_login_time = $1 WHERE domain_id = $2 \
                         AND authentication_type = $3 AND identity = $4",
                    vec![
                        Arg::Int(at),
                        Arg::Text(domain_id.to_owned()),
                        Arg::Text(account.authentication_type.clone()),
                        Arg::Text(account.identity.clone()),
                    ],
                ))
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn password_hashes_of(
        &self,
        domain_id: &DomainId,
        user_ids: &[String],
    ) -> Result<Vec<(String, String)>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (in_list, args) = user_id_list(domain_id, user_ids);
        let stmt = Stmt::new(
            format!(
                "SELECT user_id, password_hash FROM user_passwords \
                 WHERE domain_id = $1 AND user_id IN ({in_list})"
            ),
            args,
        );
        Ok(self.reader().fetch_all::<(String, String)>(stmt).await?)
    }

    /// Many rows per statement (see `bulk`): a batch of users costs a few statements, not
    /// four per user.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn restore_users(&self, users: Vec<NewUser>) -> Result<()> {
        let batch = UserBatch::new(&users, self.dialect());
        let batch = &batch;
        let users = &users;
        self.write(&Trail::none(), |tx| {
            Box::pin(async move {
                if self.dialect() == Dialect::Sqlite {
                    // Random keys (nick names, trigrams) touch pages all over the indexes;
                    // with the default 2 MiB cache SQLite spills and re-reads them per batch.
                    // Restoring is the work of an import process, so it keeps the larger
                    // cache on its writer connection.
                    tx.execute(Stmt::new(RESTORE_CACHE_PRAGMA, Vec::new()))
                        .await?;
                }
                for stmt in batch.users.iter().cloned() {
                    tx.execute(stmt).await.map_err(unique_as(Resource::User))?;
                }
                for stmt in user_count_stmts(users) {
                    tx.execute(stmt).await?;
                }
                for stmt in batch.accounts.iter().cloned() {
                    tx.execute(stmt)
                        .await
                        .map_err(unique_as(Resource::Account))?;
                }
                for stmt in batch.memberships.iter().cloned() {
                    tx.execute(stmt)
                        .await
                        .map_err(missing_as(Resource::Group))?;
                }
                for stmt in batch.passwords.iter().cloned() {
                    tx.execute(stmt).await?;
                }
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn link_account(&self, trail: &Trail, account: AccountRow) -> Result<()> {
        let stmt = insert_account_stmt(&account);
        self.write_statement(trail, stmt)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    Error::NotFound(Resource::User)
                }
                _ => unique_as(Resource::Account)(e),
            })?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn unlink_account(&self, trail: &Trail, a: &AccountRow) -> Result<bool> {
        let stmt = delete_account_stmt(a);
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn account(
        &self,
        domain_id: &DomainId,
        authentication_type: &str,
        identity: &str,
    ) -> Result<Option<AccountRow>> {
        let stmt = Stmt::new(
            "SELECT domain_id, authentication_type, identity, user_id, display_name, extra, \
             status, created_at, last_login_time FROM accounts \
             WHERE domain_id = $1 AND authentication_type = $2 AND identity = $3",
            vec![
                Arg::Text(domain_id.to_string()),
                Arg::Text(authentication_type.to_owned()),
                Arg::Text(identity.to_owned()),
            ],
        );
        Ok(self.reader().fetch_optional::<AccountRow>(stmt).await?)
    }
}

/// The accounts a login name can be: its identity of any kind, or an e-mail identity in any
/// case. Two indexed lookups joined by UNION, not one WHERE with OR: with the OR (and its
/// ORDER BY), SQLite walked the whole domain's accounts in primary-key order, which cost
/// ~80 ms of every password login at a million users.
fn login_candidates_stmt(domain_id: &str, identity: &str) -> Stmt {
    const CANDIDATE: &str = "SELECT a.authentication_type, a.identity, a.user_id, \
         u.status AS user_status, p.password_hash FROM accounts a \
         JOIN users u ON u.domain_id = a.domain_id AND u.user_id = a.user_id \
         LEFT JOIN user_passwords p ON p.domain_id = a.domain_id AND p.user_id = a.user_id";
    Stmt::new(
        format!(
            "{CANDIDATE} WHERE a.domain_id = $1 AND a.identity = $2 \
             UNION {CANDIDATE} WHERE a.domain_id = $1 AND a.authentication_type = 'email' \
             AND a.identity = $3 ORDER BY 1"
        ),
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(identity.to_owned()),
            // E-mail identities are stored in lower case and match in any case.
            Arg::Text(identity.to_ascii_lowercase()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::users::new_user_row;
    use crate::store::groups::GroupRow;
    use crate::store::{DomainRow, DomainStore, GroupStore, UserFilter, UserOrder};

    /// A page of the members of `root`'s subtree in `user_id` order, after `after`.
    fn subtree_page(root: &str, after: Option<&str>, limit: u32) -> UserPage {
        UserPage {
            filter: UserFilter {
                in_subtrees_of: vec![root.into()],
                ..UserFilter::default()
            },
            order: UserOrder::UserId,
            after: after.map(|a| (String::new(), a.to_owned())),
            limit,
            descending: false,
        }
    }

    fn group(id: &str, parent: &str) -> GroupRow {
        GroupRow {
            domain_id: "d".into(),
            group_id: id.into(),
            group_name: id.into(),
            description: String::new(),
            is_root: false,
            parent_group_id: parent.into(),
            creator: String::new(),
            created_at: 0,
            updated_at: 0,
            kind: "org".into(),
        }
    }

    /// Both subtree plans answer the same pages: users u00..u29, user i in group g{i % 3};
    /// g1 and g2 hang under g0, g3 apart.
    #[tokio::test]
    async fn both_subtree_plans_read_the_same_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open_sqlite(&dir.path().join("t.db"))
            .await
            .unwrap();
        store
            .restore_domain(DomainRow::new("d", "d", "", 0))
            .await
            .unwrap();
        for (id, parent) in [("g0", ""), ("g1", "g0"), ("g2", "g1"), ("g3", "")] {
            store
                .create_group(&Trail::none(), group(id, parent))
                .await
                .unwrap();
        }
        let users = (0..30)
            .map(|i| NewUser {
                user: new_user_row("d", format!("u{i:02}"), "t", 0),
                accounts: Vec::new(),
                password_hash: None,
                group_ids: vec![format!("g{}", if i % 4 == 3 { 3 } else { i % 3 })],
                drive: None,
            })
            .collect();
        store.restore_users(users).await.unwrap();
        for (root, after) in [("g1", None), ("g0", Some("u05")), ("g3", None)] {
            let page = subtree_page(root, after, 5);
            let ids = |rows: Vec<UserRow>| rows.into_iter().map(|u| u.user_id).collect::<Vec<_>>();
            let collected = store
                .find_users_with("d", &page, SubtreePlan::CollectMembers)
                .await
                .unwrap();
            let walked = store
                .find_users_with("d", &page, SubtreePlan::WalkUsers)
                .await
                .unwrap();
            assert!(!collected.is_empty(), "{root}");
            assert_eq!(ids(collected), ids(walked), "{root} after {after:?}");
        }
        // 30 users and 5-row pages: the walk pays from ceil(√(30 × 5 × 2)) = 18 members on.
        // g0's subtree holds 23 of the 30, g3 7.
        for (root, plan) in [
            ("g0", SubtreePlan::WalkUsers),
            ("g3", SubtreePlan::CollectMembers),
        ] {
            let page = subtree_page(root, None, 5);
            assert_eq!(
                store.subtree_plan("d", &page).await.unwrap(),
                plan,
                "{root}"
            );
        }
    }

    /// On PostgreSQL, the walk stays a walk in a prepared statement's generic plan (the one
    /// PostgreSQL keeps from a statement's sixth run on): the users in order, each checked
    /// by point lookups, never a join that collects the whole subtree's members first (it
    /// did: 220–300 ms a page for a 10,000-member subtree). Runs when
    /// `ROSTER_TEST_DATABASE_URL` is set.
    #[tokio::test]
    async fn the_subtree_walk_stays_a_walk_in_postgres_generic_plans() {
        let Some(store) = crate::store::scratch_postgres_store().await else {
            return;
        };
        store
            .restore_domain(DomainRow::new("d", "d", "", 0))
            .await
            .unwrap();
        let page = subtree_page("g0", None, 5);
        let (sql, args) = page_sql(Dialect::Postgres, "d", &page, SubtreePlan::WalkUsers);
        let literals: Vec<String> = args
            .iter()
            .map(|arg| match arg {
                Arg::Text(text) => format!("'{}'", text.replace('\'', "''")),
                Arg::Int(n) => n.to_string(),
                other => panic!("an argument of the page: {other:?}"),
            })
            .collect();
        let plan = store
            .write(&Trail::none(), |tx| {
                let (sql, literals) = (sql.clone(), literals.join(", "));
                Box::pin(async move {
                    let generic = "SET LOCAL plan_cache_mode = force_generic_plan";
                    tx.execute(Stmt::new(generic, vec![])).await?;
                    tx.execute(Stmt::new(format!("PREPARE walk AS {sql}"), vec![]))
                        .await?;
                    let explain = Stmt::new(format!("EXPLAIN EXECUTE walk({literals})"), vec![]);
                    let plan: Vec<crate::store::sql::tests::PgPlanLine> =
                        tx.fetch_all(explain).await?;
                    tx.execute(Stmt::new("DEALLOCATE walk", vec![])).await?;
                    Ok(plan)
                })
            })
            .await
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|p| p.line).collect();
        let plan = plan.join("\n");
        assert!(
            plan.contains("Index Scan using users_pkey on users"),
            "{plan}"
        );
        assert_eq!(plan.matches("SubPlan").count(), 4, "{plan}");
        assert!(!plan.contains("Join") && !plan.contains("Sort"), "{plan}");
    }

    /// A page of directory entries is the same page as `find_users` (by id, descending, by
    /// a prefix's order, within a subtree), each user with its number and every direct
    /// membership (several, of both kinds, or none), as `user_numbers` and `groups_of_users`
    /// answer them apart.
    #[tokio::test]
    async fn directory_entries_are_the_users_page_with_numbers_and_memberships() {
        use crate::store::DirectoryStore;
        let (_dir, store) = super::super::tests::store_with_domain().await;
        let mut team = group("team", "");
        team.kind = "user_group".into();
        team.group_name = "Team \"quoted\" ,|name".into();
        for g in [group("g0", ""), group("g1", "g0"), team] {
            store.create_group(&Trail::none(), g).await.unwrap();
        }
        let users = (0..12)
            .map(|i| {
                let mut user = new_user_row("d", format!("u{i:02}"), "t", 0);
                user.nick_name = format!("Nick {}", 11 - i);
                let group_ids = match i % 3 {
                    0 => vec![],
                    1 => vec!["g1".to_owned(), "team".to_owned()],
                    _ => vec!["team".to_owned(), "g0".to_owned()],
                };
                NewUser {
                    user,
                    accounts: Vec::new(),
                    password_hash: None,
                    group_ids,
                    drive: None,
                }
            })
            .collect();
        store.restore_users(users).await.unwrap();
        let pages = [
            (UserFilter::default(), UserOrder::UserId, None, false),
            (UserFilter::default(), UserOrder::UserId, Some("u07"), true),
            (
                UserFilter {
                    nick_name_prefix: Some("nick".into()),
                    ..UserFilter::default()
                },
                UserOrder::NickName,
                None,
                false,
            ),
            (
                UserFilter {
                    in_subtrees_of: vec!["g0".into()],
                    ..UserFilter::default()
                },
                UserOrder::UserId,
                Some("u01"),
                false,
            ),
        ];
        for (filter, order, after, descending) in pages {
            let page = UserPage {
                filter,
                order,
                after: after.map(|a| (String::new(), a.to_owned())),
                limit: 5,
                descending,
            };
            let users = store.find_users("d", &page).await.unwrap();
            let entries = store.find_directory_entries("d", &page).await.unwrap();
            assert!(!users.is_empty());
            let entry_users: Vec<UserRow> = entries.iter().map(|e| e.user.clone()).collect();
            assert_eq!(entry_users, users, "{page:?}");
            let ids: Vec<String> = users.iter().map(|u| u.user_id.clone()).collect();
            let numbers: std::collections::HashMap<String, i64> = store
                .user_numbers("d", &ids)
                .await
                .unwrap()
                .into_iter()
                .collect();
            let memberships = store.groups_of_users("d", &ids).await.unwrap();
            for entry in &entries {
                assert_eq!(Some(&entry.number), numbers.get(&entry.user.user_id));
                let mut listed: Vec<(String, String, String)> =
                    serde_json::from_str(&entry.memberships).unwrap();
                listed.sort();
                let mut expected: Vec<(String, String, String)> = memberships
                    .iter()
                    .filter(|(user_id, _)| *user_id == entry.user.user_id)
                    .map(|(_, g)| (g.kind.clone(), g.group_id.clone(), g.group_name.clone()))
                    .collect();
                expected.sort();
                assert_eq!(listed, expected, "{}", entry.user.user_id);
            }
        }
    }

    /// Users whose strings hold what JSON must escape (quotes, backslashes, control
    /// characters, non-ASCII) or nothing at all, booleans both ways and large numbers.
    fn awkward_users() -> Vec<NewUser> {
        (0..9)
            .map(|i| {
                let mut user = new_user_row("d", format!("u{i}\"'\\é"), "t", i);
                user.user_name = ["", "Zoë \"Q\"", "a\\b", "名字", "\n\t"][i as usize % 5].into();
                user.nick_name = format!("{}\u{1F600}", 9 - i);
                user.email = if i % 2 == 0 {
                    String::new()
                } else {
                    format!("E{i}@x.cn")
                };
                user.phone = format!("+86 1{}", i % 3);
                user.description = "line\u{1}\u{1f}\\\"end".into();
                user.user_data = r#"{"k":"v \"q\""}"#.into();
                user.deny_change_password_by_self = i % 2 == 0;
                user.need_change_password_next_login = i % 3 == 0;
                user.expired_at = if i == 4 { i64::MAX } else { -i };
                user.created_at = 1_700_000_000_000 + i % 4;
                user.updated_at = 1_800_000_000_000 - i % 3;
                NewUser {
                    user,
                    accounts: Vec::new(),
                    password_hash: None,
                    group_ids: Vec::new(),
                    drive: None,
                }
            })
            .collect()
    }

    /// Pages and users read on the calling thread (SQLite's direct reads) are the ones the
    /// pool reads, field for field, for every order both ways; and the direct reads happen
    /// (they would otherwise fall back to the pool unseen).
    #[tokio::test]
    async fn rows_read_on_the_calling_thread_are_the_rows_the_pool_reads() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        let direct = store.direct_reads().expect("a SQLite store reads directly");
        store.restore_users(awkward_users()).await.unwrap();
        for order in UserOrder::ALL {
            for descending in [false, true] {
                let page = UserPage {
                    filter: UserFilter::default(),
                    order,
                    after: None,
                    limit: 100,
                    descending,
                };
                let (sql, args) = page_sql(store.dialect(), "d", &page, SubtreePlan::WalkUsers);
                let stmt = Stmt::new(sql, args);
                let pooled: Vec<UserRow> = store.reader().fetch_all(stmt.clone()).await.unwrap();
                let here: Vec<UserRow> = direct.fetch_all(&stmt).expect("read directly");
                assert_eq!(here, pooled, "{order:?} {descending}");
                assert_eq!(here.len(), 9);
            }
        }
        for user in awkward_users() {
            let stmt = user_stmt("d", &user.user.user_id);
            let pooled: Option<UserRow> =
                store.reader().fetch_optional(stmt.clone()).await.unwrap();
            let here: Option<UserRow> = direct.fetch_optional(&stmt).expect("read directly");
            assert_eq!(here, pooled);
            assert!(here.is_some());
        }
        let missing: Option<UserRow> = direct.fetch_optional(&user_stmt("d", "nobody")).unwrap();
        assert_eq!(missing, None);
    }

    /// A direct read sees every commit made before it: through this store's writer, and
    /// through another process's (another store on the same file), with no delay.
    #[tokio::test]
    async fn a_direct_read_sees_what_any_writer_committed_before_it() {
        let (dir, store) = super::super::tests::store_with_domain().await;
        let other = SqlStore::open_sqlite(&dir.path().join("t.db"))
            .await
            .unwrap();
        let users = awkward_users();
        let read = |user_id: &str| {
            store
                .direct_reads()
                .unwrap()
                .fetch_optional::<UserRow>(&user_stmt("d", user_id))
                .expect("read directly")
        };
        assert!(read(&users[0].user.user_id).is_none());
        store.restore_users(vec![users[0].clone()]).await.unwrap();
        assert!(read(&users[0].user.user_id).is_some());
        other.restore_users(vec![users[1].clone()]).await.unwrap();
        assert!(read(&users[1].user.user_id).is_some());
        other.close().await;
        store.close().await;
        assert!(matches!(
            store
                .direct_reads()
                .unwrap()
                .fetch_optional::<UserRow>(&user_stmt("d", "u")),
            Err(super::super::direct::NotRead::Closed)
        ));
    }

    #[derive(sqlx::FromRow)]
    struct PlanStep {
        detail: String,
    }

    /// A login looks its accounts up by identity through an index, never by walking the
    /// domain's accounts (which SQLite did for the OR form of the query: ~80 ms a login at a
    /// million users). Checked on SQLite's query plan, which does not depend on timing.
    #[tokio::test]
    async fn login_candidates_are_found_through_an_index() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        let mut stmt = login_candidates_stmt("d", "Alice@Example.com");
        stmt.sql = format!("EXPLAIN QUERY PLAN {}", stmt.sql);
        let plan: Vec<PlanStep> = store.reader().fetch_all(stmt).await.unwrap();
        let reads_of_accounts: Vec<&str> = plan
            .iter()
            .map(|step| step.detail.as_str())
            .filter(|detail| detail.contains(" a "))
            .collect();
        assert_eq!(reads_of_accounts.len(), 2, "{reads_of_accounts:?}");
        for read in reads_of_accounts {
            assert!(
                read.starts_with("SEARCH a") && read.contains("identity=?"),
                "{read}"
            );
        }
    }

    fn account(user_id: &str, identity: &str) -> AccountRow {
        AccountRow {
            domain_id: "d".into(),
            authentication_type: "email".into(),
            identity: identity.into(),
            user_id: user_id.into(),
            display_name: String::new(),
            extra: String::new(),
            status: "enabled".into(),
            created_at: 0,
            last_login_time: 0,
        }
    }

    fn new_user(user_id: &str) -> NewUser {
        NewUser {
            user: new_user_row("d", user_id.to_owned(), "t", 0),
            accounts: vec![account(user_id, &format!("{user_id}@example.com"))],
            password_hash: Some(format!("hash-of-{user_id}")),
            group_ids: Vec::new(),
            drive: None,
        }
    }

    async fn insert(store: &SqlStore, new: &NewUser) -> Result<()> {
        store
            .write(&Trail::none(), |tx| Box::pin(insert_new_user(tx, new)))
            .await
    }

    #[tokio::test]
    async fn a_new_user_is_written_with_its_accounts_memberships_and_password() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        store
            .create_group(&Trail::none(), group("g", ""))
            .await
            .unwrap();
        let mut alice = new_user("alice");
        alice.group_ids = vec!["g".into()];
        insert(&store, &alice).await.unwrap();
        let ids = ["alice".to_owned()];
        let accounts = store.accounts_of(&DomainId::from("d"), &ids).await.unwrap();
        assert_eq!(accounts, alice.accounts);
        let hashes = store
            .password_hashes_of(&DomainId::from("d"), &ids)
            .await
            .unwrap();
        assert_eq!(hashes, vec![("alice".into(), "hash-of-alice".into())]);
        let page = subtree_page("g", None, 10);
        let members = store.find_users("d", &page).await.unwrap();
        assert_eq!(members, vec![alice.user]);
    }

    #[tokio::test]
    async fn a_user_whose_identity_or_group_fails_writes_nothing() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        insert(&store, &new_user("alice")).await.unwrap();
        let mut bob = new_user("bob");
        bob.accounts = vec![account("bob", "alice@example.com")];
        let taken = insert(&store, &bob).await;
        assert!(matches!(
            taken,
            Err(Error::AlreadyExists(Resource::Account))
        ));
        let mut carol = new_user("carol");
        carol.group_ids = vec!["no-such-group".into()];
        let missing = insert(&store, &carol).await;
        assert!(matches!(missing, Err(Error::NotFound(Resource::Group))));
        for user_id in ["bob", "carol"] {
            assert_eq!(
                store
                    .user(&DomainId::from("d"), &UserId::from(user_id))
                    .await
                    .unwrap(),
                None
            );
        }
        let again = insert(&store, &new_user("alice")).await;
        assert!(matches!(again, Err(Error::AlreadyExists(Resource::User))));
    }

    #[tokio::test]
    async fn a_batch_item_that_breaks_a_rule_fails_alone() {
        let (_dir, store) = super::super::tests::store_with_domain().await;
        insert(&store, &new_user("taken")).await.unwrap();
        let batch = vec![new_user("a"), new_user("taken"), new_user("b")];
        let outcomes = store
            .create_users(&Trail::none(), batch, Vec::new())
            .await
            .unwrap();
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
        assert!(matches!(
            outcomes[1],
            Err(Error::AlreadyExists(Resource::User))
        ));
        for user_id in ["a", "b"] {
            assert!(store
                .user(&DomainId::from("d"), &UserId::from(user_id))
                .await
                .unwrap()
                .is_some());
        }
    }
}
