//! Bulk writes: many rows per `INSERT`, for restoring (or seeding) users in large batches.
//!
//! One statement per row costs a round trip to the database (or to sqlx's SQLite worker
//! thread) each; at a million users that overhead, not the database, sets the time. The
//! single-row statements of the other modules stay the one definition of each insert: this
//! module only folds a run of identical ones into `INSERT ... VALUES (..), (..), ...`.

use std::fmt::Write;

use super::users::{
    insert_account_stmt, insert_membership_stmt, insert_user_stmt, upsert_password_stmt,
};
use super::{Arg, Dialect, Stmt};
use crate::store::NewUser;

/// Bound values per statement: under SQLite's limit (32766) and PostgreSQL's (65535).
const MAX_ARGS: usize = 30_000;

/// Rows per statement at most, whatever their width: longer statements gain nothing.
const MAX_ROWS: usize = 500;

/// The statements that write `users`, table by table (users, accounts, memberships,
/// passwords), each table's rows folded into as few statements as the limits allow. Each
/// statement inserts into one table, so a constraint error still names its table.
pub(super) struct UserBatch {
    pub users: Vec<Stmt>,
    pub accounts: Vec<Stmt>,
    pub memberships: Vec<Stmt>,
    pub passwords: Vec<Stmt>,
}

impl UserBatch {
    pub fn new(users: &[NewUser], dialect: Dialect) -> Self {
        let accounts = users
            .iter()
            .flat_map(|n| n.accounts.iter().map(insert_account_stmt));
        let memberships = users.iter().flat_map(|n| {
            n.group_ids.iter().map(|group_id| {
                let u = &n.user;
                insert_membership_stmt(&u.domain_id, group_id, &u.user_id, u.created_at)
            })
        });
        let passwords = users.iter().filter_map(|n| {
            let u = &n.user;
            let hash = n.password_hash.as_deref()?;
            Some(upsert_password_stmt(
                &u.domain_id,
                &u.user_id,
                hash,
                u.created_at,
            ))
        });
        UserBatch {
            users: fold(users.iter().map(|n| insert_user_stmt(&n.user)), dialect),
            accounts: fold(accounts, dialect),
            memberships: fold(memberships, dialect),
            passwords: fold(passwords, dialect),
        }
    }
}

/// Folds single-row `INSERT ... VALUES ($1, .., $n) [tail]` statements, all with the same
/// text, into multi-row ones with the same tail.
pub(super) fn fold(rows: impl Iterator<Item = Stmt>, dialect: Dialect) -> Vec<Stmt> {
    let mut out: Vec<Stmt> = Vec::new();
    let mut current: Option<(String, String, usize, Vec<Arg>)> = None;
    // Every row has the same text, so the same mark; the folded statements keep it.
    let mut adds_membership_or_drive = false;
    for row in rows {
        adds_membership_or_drive |= row.adds_membership_or_drive;
        let (head, tail) = split_values(&row.sql);
        let width = row.args.len().max(1);
        let per_statement = (MAX_ARGS / width).clamp(1, MAX_ROWS);
        let full = current
            .as_ref()
            .is_some_and(|(_, _, rows, _)| *rows >= per_statement);
        if full {
            out.extend(current.take().map(|run| finish(run, dialect)));
        }
        let (_, _, count, args) = current.get_or_insert_with(|| {
            (
                head.to_owned(),
                tail.to_owned(),
                0,
                Vec::with_capacity(width * per_statement),
            )
        });
        *count += 1;
        args.extend(row.args);
    }
    out.extend(current.map(|run| finish(run, dialect)));
    if adds_membership_or_drive {
        out = out
            .into_iter()
            .map(Stmt::adding_membership_or_drive)
            .collect();
    }
    out
}

/// `(head, tail)` of `head VALUES (placeholders) tail`.
fn split_values(sql: &str) -> (&str, &str) {
    let (head, rest) = sql.split_once(" VALUES (").unwrap_or((sql, ""));
    let tail = rest.split_once(')').map_or("", |(_, tail)| tail);
    (head, tail)
}

/// The multi-row statement for `rows` rows of `args.len() / rows` values each.
///
/// On SQLite the placeholders are anonymous (`?`, bound in order): sqlx binds a named one
/// (`$n`) by asking SQLite its name, which SQLite finds by a linear search, so a statement of
/// n named parameters costs n² (`sqlite3_bind_parameter_name` was 22% of a profile of this
/// path with 500 values per statement).
fn finish((head, tail, rows, args): (String, String, usize, Vec<Arg>), dialect: Dialect) -> Stmt {
    let width = args.len() / rows.max(1);
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 7);
    sql.push_str(&head);
    sql.push_str(" VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match dialect {
                Dialect::Sqlite => sql.push('?'),
                Dialect::Postgres => {
                    let _ = write!(sql, "${}", row * width + column + 1);
                }
            }
        }
        sql.push(')');
    }
    sql.push_str(&tail);
    Stmt::new(sql, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &str, b: i64) -> Stmt {
        Stmt::new(
            "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO NOTHING",
            vec![Arg::Text(a.into()), Arg::Int(b)],
        )
    }

    #[test]
    fn rows_fold_into_one_statement_with_renumbered_placeholders() {
        let folded = fold([row("x", 1), row("y", 2)].into_iter(), Dialect::Postgres);
        assert_eq!(folded.len(), 1);
        assert_eq!(
            folded[0].sql,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT (a) DO NOTHING"
        );
        assert_eq!(folded[0].args.len(), 4);
    }

    #[test]
    fn long_runs_split_at_the_argument_limit() {
        let per_statement = (MAX_ARGS / 2).min(MAX_ROWS) as i64;
        let folded = fold(
            (0..per_statement + 1).map(|i| row("x", i)),
            Dialect::Postgres,
        );
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[0].args.len(), 2 * per_statement as usize);
        assert_eq!(
            folded[1].sql,
            "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO NOTHING"
        );
    }

    #[test]
    fn nothing_folds_into_nothing() {
        assert!(fold(std::iter::empty(), Dialect::Sqlite).is_empty());
    }

    #[test]
    fn sqlite_placeholders_are_anonymous() {
        let folded = fold([row("x", 1), row("y", 2)].into_iter(), Dialect::Sqlite);
        assert_eq!(
            folded[0].sql,
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT (a) DO NOTHING"
        );
    }
}
