//! `GroupStore` on SQL. The tree is kept as a closure table maintained on every write, so
//! subtree questions are single indexed joins.

use crate::audit::Trail;
use async_trait::async_trait;

use super::quotas::lock_domain_stmt;
use super::{text, unique_as, update_stmt};
use super::{Arg, SqlStore, Stmt};
use crate::error::{Error, Resource, Result};
use crate::model::{DomainId, GroupId, HolderKind, UserId};
use crate::store::groups::{AssignmentRow, GroupPage, GroupRow};
use crate::store::user_query::{escape_like, USER_COLUMNS};
use crate::store::{normalize, GroupStore, UserRow};

pub(super) const GROUP_COLUMNS: &str = "domain_id, group_id, group_name, description, is_root, \
     parent_group_id, creator, created_at, updated_at, kind";

const ASSIGNMENT_COLUMNS: &str =
    "domain_id, group_id, identity_type, identity_id, creator, created_at";

fn group_stmt(domain_id: &str, group_id: &str) -> Stmt {
    Stmt::new(
        format!("SELECT {GROUP_COLUMNS} FROM org_groups WHERE domain_id = $1 AND group_id = $2"),
        vec![text(domain_id), text(group_id)],
    )
}

/// `(ancestor, descendant)` exists: is `descendant` in the subtree of `ancestor`?
fn in_subtree_stmt(domain_id: &str, ancestor: &str, descendant: &str) -> Stmt {
    Stmt::new(
        "SELECT depth FROM group_closure \
         WHERE domain_id = $1 AND ancestor_id = $2 AND descendant_id = $3",
        vec![text(domain_id), text(ancestor), text(descendant)],
    )
}

/// The closure rows of a new group: one per ancestor of its parent, and itself at depth 0.
fn closure_rows_stmts(domain_id: &str, group_id: &str, parent: &str) -> Vec<Stmt> {
    let mut stmts = vec![Stmt::new(
        "INSERT INTO group_closure (domain_id, ancestor_id, descendant_id, depth) \
         VALUES ($1, $2, $2, 0)",
        vec![text(domain_id), text(group_id)],
    )];
    if !parent.is_empty() {
        stmts.push(Stmt::new(
            "INSERT INTO group_closure (domain_id, ancestor_id, descendant_id, depth) \
             SELECT domain_id, ancestor_id, $2, depth + 1 FROM group_closure \
             WHERE domain_id = $1 AND descendant_id = $3",
            vec![text(domain_id), text(group_id), text(parent)],
        ));
    }
    stmts
}

/// Statements that re-hang the subtree of `group_id` under `new_parent` in the closure.
fn move_closure_stmts(domain_id: &str, group_id: &str, new_parent: &str) -> Vec<Stmt> {
    let mut stmts = vec![Stmt::new(
        // Cut every link from an ancestor outside the subtree to a node inside it.
        "DELETE FROM group_closure WHERE domain_id = $1 \
         AND descendant_id IN (SELECT descendant_id FROM group_closure \
                               WHERE domain_id = $1 AND ancestor_id = $2) \
         AND ancestor_id NOT IN (SELECT descendant_id FROM group_closure \
                                 WHERE domain_id = $1 AND ancestor_id = $2)",
        vec![text(domain_id), text(group_id)],
    )];
    if !new_parent.is_empty() {
        stmts.push(Stmt::new(
            // Link every ancestor of the new parent (itself included) to every subtree node.
            "INSERT INTO group_closure (domain_id, ancestor_id, descendant_id, depth) \
             SELECT a.domain_id, a.ancestor_id, d.descendant_id, a.depth + d.depth + 1 \
             FROM group_closure a, group_closure d \
             WHERE a.domain_id = $1 AND a.descendant_id = $3 \
             AND d.domain_id = $1 AND d.ancestor_id = $2",
            vec![text(domain_id), text(group_id), text(new_parent)],
        ));
    }
    stmts
}

/// A group with the user it was found for.
#[derive(sqlx::FromRow)]
struct MemberGroup {
    member_user_id: String,
    #[sqlx(flatten)]
    group: GroupRow,
}

impl SqlStore {
    /// Deletes a group that has no subgroups and, when `without_members`, no direct
    /// members, checked in the deleting transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub(super) async fn delete_group_checked(
        &self,
        trail: &Trail,
        domain_id: &str,
        group_id: &str,
        without_members: bool,
    ) -> Result<()> {
        self.write(trail, |tx| {
            Box::pin(async move {
                let member = if without_members {
                    tx.fetch_optional::<(String,)>(Stmt::new(
                        "SELECT user_id FROM group_members \
                             WHERE domain_id = $1 AND group_id = $2 LIMIT 1",
                        vec![text(domain_id), text(group_id)],
                    ))
                    .await?
                } else {
                    None
                };
                if member.is_some() {
                    return Err(Error::Conflict(
                        "the group still has users: move them out first".into(),
                    ));
                }
                let child = tx
                    .fetch_optional::<(String,)>(Stmt::new(
                        "SELECT group_id FROM org_groups \
                         WHERE domain_id = $1 AND parent_group_id = $2 LIMIT 1",
                        vec![text(domain_id), text(group_id)],
                    ))
                    .await?;
                if child.is_some() {
                    return Err(Error::Conflict(
                        "the group still has subgroups; delete or move them first".into(),
                    ));
                }
                // Closure rows, memberships and assignments of the group go through ON
                // DELETE CASCADE; the group's drives, and what it administers as an
                // identity (`IT_Group`), name it without a foreign key and go here.
                tx.execute(super::drive_totals::take_away_owned_stmt(
                    domain_id, "group", group_id,
                ))
                .await?;
                tx.execute(Stmt::new(
                    "DELETE FROM drives WHERE domain_id = $1 AND owner_type = 'group' \
                         AND owner = $2",
                    vec![text(domain_id), text(group_id)],
                ))
                .await?;
                tx.execute(delete_assignments_of_stmt(
                    domain_id,
                    IDENTITY_GROUP,
                    group_id,
                ))
                .await?;
                let deleted = tx
                    .execute(Stmt::new(
                        "DELETE FROM org_groups WHERE domain_id = $1 AND group_id = $2",
                        vec![text(domain_id), text(group_id)],
                    ))
                    .await?;
                if deleted == 0 {
                    return Err(Error::NotFound(Resource::Group));
                }
                Ok(())
            })
        })
        .await
    }
}

/// Deletes what an identity administers: run in the transaction deleting the identity, so
/// that no later namesake inherits it.
pub(super) fn delete_assignments_of_stmt(
    domain_id: &str,
    identity_type: &str,
    identity_id: &str,
) -> Stmt {
    Stmt::new(
        "DELETE FROM group_admins WHERE domain_id = $1 AND identity_type = $2 \
         AND identity_id = $3",
        vec![text(domain_id), text(identity_type), text(identity_id)],
    )
}

pub(super) const IDENTITY_USER: &str = HolderKind::User.as_str();
pub(super) const IDENTITY_GROUP: &str = HolderKind::Group.as_str();

#[async_trait]
impl GroupStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_group(&self, trail: &Trail, group: GroupRow) -> Result<GroupRow> {
        let group = &group;
        self.write(trail, |tx| {
            Box::pin(async move {
                let parent = &group.parent_group_id;
                if !parent.is_empty() {
                    if group.is_root {
                        return Err(Error::invalid("parent_group_id"));
                    }
                    tx.fetch_optional::<GroupRow>(group_stmt(&group.domain_id, parent))
                        .await?
                        .ok_or(Error::NotFound(Resource::Group))?;
                }
                tx.execute(Stmt::new(
                    format!(
                        "INSERT INTO org_groups ({GROUP_COLUMNS}, group_name_norm) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    ),
                    vec![
                        text(&group.domain_id),
                        text(&group.group_id),
                        text(&group.group_name),
                        text(&group.description),
                        Arg::Bool(group.is_root),
                        text(parent),
                        text(&group.creator),
                        Arg::Int(group.created_at),
                        Arg::Int(group.updated_at),
                        text(&group.kind),
                        Arg::Text(normalize(&group.group_name)),
                    ],
                ))
                .await
                .map_err(unique_as(Resource::Group))?;
                for stmt in closure_rows_stmts(&group.domain_id, &group.group_id, parent) {
                    tx.execute(stmt).await?;
                }
                Ok(group.clone())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn group(&self, domain_id: &DomainId, group_id: &GroupId) -> Result<Option<GroupRow>> {
        let stmt = group_stmt(domain_id, group_id);
        Ok(self.reader().fetch_optional::<GroupRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_group(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        name: Option<&str>,
        description: Option<&str>,
        at: i64,
    ) -> Result<Option<GroupRow>> {
        let mut sets = vec![("updated_at", Arg::Int(at))];
        if let Some(name) = name {
            sets.push(("group_name", text(name)));
            sets.push(("group_name_norm", Arg::Text(normalize(name))));
        }
        if let Some(description) = description {
            sets.push(("description", text(description)));
        }
        let update = update_stmt(
            "org_groups",
            sets,
            "group_id",
            domain_id,
            group_id,
            GROUP_COLUMNS,
        );
        Ok(self.write_returning::<GroupRow>(trail, update).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn move_group(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        new_parent: &str,
        at: i64,
    ) -> Result<()> {
        self.write(trail, |tx| {
            Box::pin(async move {
                // Moves in one domain queue on its row: two moves each checked alone (A under
                // B, B under A) would together close a cycle.
                tx.execute(lock_domain_stmt(domain_id)).await?;
                let group = tx
                    .fetch_optional::<GroupRow>(group_stmt(domain_id, group_id))
                    .await?
                    .ok_or(Error::NotFound(Resource::Group))?;
                if group.parent_group_id == new_parent {
                    tx.discard();
                    return Ok(());
                }
                if !new_parent.is_empty() {
                    if group.is_root {
                        return Err(Error::invalid("parent_group_id"));
                    }
                    tx.fetch_optional::<GroupRow>(group_stmt(domain_id, new_parent))
                        .await?
                        .ok_or(Error::NotFound(Resource::Group))?;
                    let cycle = tx
                        .fetch_optional::<(i64,)>(in_subtree_stmt(domain_id, group_id, new_parent))
                        .await?;
                    if cycle.is_some() {
                        return Err(Error::invalid("parent_group_id"));
                    }
                }
                for stmt in move_closure_stmts(domain_id, group_id, new_parent) {
                    tx.execute(stmt).await?;
                }
                tx.execute(Stmt::new(
                    "UPDATE org_groups SET parent_group_id = $1, updated_at = $2 \
                         WHERE domain_id = $3 AND group_id = $4",
                    vec![
                        text(new_parent),
                        Arg::Int(at),
                        text(domain_id),
                        text(group_id),
                    ],
                ))
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_group(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
    ) -> Result<()> {
        self.delete_group_checked(trail, domain_id, group_id, false)
            .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_groups(&self, domain_id: &str, page: &GroupPage) -> Result<Vec<GroupRow>> {
        let mut args = vec![text(domain_id)];
        let mut sql = format!("SELECT {GROUP_COLUMNS} FROM org_groups WHERE domain_id = $1");
        let bind = |args: &mut Vec<Arg>, arg: Arg| {
            args.push(arg);
            format!("${}", args.len())
        };
        if let Some(parent) = &page.parent {
            let p = bind(&mut args, text(parent));
            sql.push_str(&format!(" AND parent_group_id = {p}"));
        }
        if let Some(kind) = &page.kind {
            let k = bind(&mut args, text(kind));
            sql.push_str(&format!(" AND kind = {k}"));
        }
        if let Some(prefix) = &page.name_prefix {
            let low = bind(&mut args, text(prefix));
            let high = bind(&mut args, Arg::Text(format!("{prefix}\u{10FFFF}")));
            sql.push_str(&format!(
                " AND group_name_norm >= {low} AND group_name_norm < {high}"
            ));
        }
        if let Some(needle) = &page.name_contains {
            let p = bind(&mut args, Arg::Text(format!("%{}%", escape_like(needle))));
            sql.push_str(&format!(" AND group_name_norm LIKE {p} ESCAPE '\\'"));
        }
        let order = if page.name_prefix.is_some() {
            if let Some((value, id)) = &page.after {
                let v = bind(&mut args, text(value));
                let i = bind(&mut args, text(id));
                sql.push_str(&format!(" AND (group_name_norm, group_id) > ({v}, {i})"));
            }
            "group_name_norm, group_id"
        } else {
            if let Some((_, id)) = &page.after {
                let i = bind(&mut args, text(id));
                sql.push_str(&format!(" AND group_id > {i}"));
            }
            "group_id"
        };
        let limit = bind(&mut args, Arg::Int(i64::from(page.limit)));
        sql.push_str(&format!(" ORDER BY {order} LIMIT {limit}"));
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<GroupRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn add_member(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        user_id: &UserId,
        at: i64,
    ) -> Result<()> {
        let stmt = super::users::insert_membership_stmt(domain_id, group_id, user_id, at);
        self.write_statement(trail, stmt)
            .await
            .map_err(|e| match &e {
                // The service checked both; one vanished in between.
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    Error::NotFound(Resource::Group)
                }
                _ => Error::from(e),
            })?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn remove_member(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM group_members WHERE domain_id = $1 AND group_id = $2 AND user_id = $3",
            vec![text(domain_id), text(group_id), text(user_id)],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn member_users(
        &self,
        domain_id: &DomainId,
        group_id: &GroupId,
        after_user_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UserRow>> {
        let mut args = vec![text(domain_id)];
        let membership = if group_id.is_empty() {
            "user_id NOT IN (SELECT user_id FROM group_members WHERE domain_id = $1)".to_owned()
        } else {
            args.push(text(group_id));
            "user_id IN (SELECT user_id FROM group_members \
             WHERE domain_id = $1 AND group_id = $2)"
                .to_owned()
        };
        let mut sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE domain_id = $1 AND {membership}");
        if let Some(after) = after_user_id {
            args.push(text(after));
            sql.push_str(&format!(" AND user_id > ${}", args.len()));
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY user_id LIMIT ${}", args.len()));
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<UserRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn groups_of_users(
        &self,
        domain_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<(String, GroupRow)>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (in_list, args) = super::users::user_id_list(domain_id, user_ids);
        let stmt = Stmt::new(
            format!(
                "SELECT m.user_id AS member_user_id, g.domain_id, g.group_id, g.group_name, \
                 g.description, g.is_root, g.parent_group_id, g.creator, g.created_at, \
                 g.updated_at, g.kind FROM group_members m JOIN org_groups g \
                 ON g.domain_id = m.domain_id AND g.group_id = m.group_id \
                 WHERE m.domain_id = $1 AND m.user_id IN ({in_list}) \
                 ORDER BY m.user_id, g.group_id"
            ),
            args,
        );
        let rows = self.reader().fetch_all::<MemberGroup>(stmt).await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.member_user_id, r.group))
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn administers(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
        group_id: &GroupId,
        inclusive: bool,
    ) -> Result<bool> {
        let stmt = Stmt::new(
            "SELECT c.depth FROM group_closure c JOIN group_admins a \
             ON a.domain_id = c.domain_id AND a.group_id = c.ancestor_id \
             WHERE c.domain_id = $1 AND c.descendant_id = $2 AND c.depth >= $3 \
             AND ((a.identity_type = 'IT_User' AND a.identity_id = $4) \
               OR (a.identity_type = 'IT_Group' AND a.identity_id IN \
                   (SELECT group_id FROM group_members WHERE domain_id = $1 AND user_id = $4))) \
             LIMIT 1",
            vec![
                text(domain_id),
                text(group_id),
                Arg::Int(if inclusive { 0 } else { 1 }),
                text(user_id),
            ],
        );
        let found = self.reader().fetch_optional::<(i64,)>(stmt).await?;
        Ok(found.is_some())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn administered_among(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
        group_ids: &[String],
    ) -> Result<Vec<String>> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![text(domain_id), text(user_id)];
        let placeholders: Vec<String> = group_ids
            .iter()
            .map(|id| {
                args.push(text(id));
                format!("${}", args.len())
            })
            .collect();
        let stmt = Stmt::new(
            format!(
                "SELECT DISTINCT c.descendant_id FROM group_closure c JOIN group_admins a \
                 ON a.domain_id = c.domain_id AND a.group_id = c.ancestor_id \
                 WHERE c.domain_id = $1 AND c.descendant_id IN ({}) \
                 AND ((a.identity_type = 'IT_User' AND a.identity_id = $2) \
                   OR (a.identity_type = 'IT_Group' AND a.identity_id IN \
                       (SELECT group_id FROM group_members WHERE domain_id = $1 AND user_id = $2)))",
                placeholders.join(", ")
            ),
            args,
        );
        let rows = self.reader().fetch_all::<(String,)>(stmt).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn administered_groups(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<Vec<String>> {
        let stmt = Stmt::new(
            "SELECT DISTINCT a.group_id FROM group_admins a \
             WHERE a.domain_id = $1 \
             AND ((a.identity_type = 'IT_User' AND a.identity_id = $2) \
               OR (a.identity_type = 'IT_Group' AND a.identity_id IN \
                   (SELECT group_id FROM group_members WHERE domain_id = $1 AND user_id = $2))) \
             ORDER BY a.group_id",
            vec![text(domain_id), text(user_id)],
        );
        let rows = self.reader().fetch_all::<(String,)>(stmt).await?;
        Ok(rows.into_iter().map(|(group_id,)| group_id).collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn assign(&self, trail: &Trail, a: AssignmentRow) -> Result<()> {
        let stmt = Stmt::new(
            format!(
                "INSERT INTO group_admins ({ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (domain_id, group_id, identity_type, identity_id) DO NOTHING"
            ),
            vec![
                text(&a.domain_id),
                text(&a.group_id),
                text(&a.identity_type),
                text(&a.identity_id),
                text(&a.creator),
                Arg::Int(a.created_at),
            ],
        );
        self.write_statement(trail, stmt)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    Error::NotFound(Resource::Group)
                }
                _ => Error::from(e),
            })?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn cancel_assignment(&self, trail: &Trail, a: &AssignmentRow) -> Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM group_admins WHERE domain_id = $1 AND group_id = $2 \
             AND identity_type = $3 AND identity_id = $4",
            vec![
                text(&a.domain_id),
                text(&a.group_id),
                text(&a.identity_type),
                text(&a.identity_id),
            ],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn assignments_on(
        &self,
        domain_id: &DomainId,
        group_id: &GroupId,
        after: Option<(String, String)>,
        limit: u32,
    ) -> Result<Vec<AssignmentRow>> {
        let mut args = vec![text(domain_id), text(group_id)];
        let mut sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM group_admins WHERE domain_id = $1 AND group_id = $2"
        );
        if let Some((kind, id)) = after {
            args.push(Arg::Text(kind));
            args.push(Arg::Text(id));
            sql.push_str(" AND (identity_type, identity_id) > ($3, $4)");
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(
            " ORDER BY identity_type, identity_id LIMIT ${}",
            args.len()
        ));
        let stmt = Stmt::new(sql, args);
        Ok(self.reader().fetch_all::<AssignmentRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn assignments_of(
        &self,
        domain_id: &DomainId,
        identity_type: &str,
        identity_id: &str,
    ) -> Result<Vec<AssignmentRow>> {
        let stmt = Stmt::new(
            format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM group_admins WHERE domain_id = $1 \
                 AND identity_type = $2 AND identity_id = $3 ORDER BY group_id"
            ),
            vec![text(domain_id), text(identity_type), text(identity_id)],
        );
        Ok(self.reader().fetch_all::<AssignmentRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn subtree_height(&self, domain_id: &DomainId, group_id: &GroupId) -> Result<i64> {
        let stmt = Stmt::new(
            "SELECT COALESCE(MAX(depth), 0) FROM group_closure \
             WHERE domain_id = $1 AND ancestor_id = $2",
            vec![text(domain_id), text(group_id)],
        );
        let row = self.reader().fetch_optional::<(i64,)>(stmt).await?;
        Ok(row.map_or(0, |(height,)| height))
    }
}
