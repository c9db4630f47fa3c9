//! `SqlStore`: the `Store` on SQLite or PostgreSQL through sqlx. This module holds the
//! connection handling and the statement machinery; one submodule per aggregate holds its SQL.
//!
//! Each statement is written once, with `$n` placeholders that both backends accept, as a
//! `(sql, args)` pair; `tx` runs it on whichever backend this store holds, through a
//! [`tx::Reader`] or inside the write transaction [`SqlStore::write`] hands out. Where the
//! dialects differ (migrations, trigram search) the difference is named by `Dialect` and kept
//! to the statement text.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{Error, Resource};
use pg_connections::PgConnections;

/// What to do with the PostgreSQL migrations when connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// Apply pending ones, serialised across processes by a database lock.
    Apply,
    /// Apply pending ones without the lock (engines without advisory locks; run once).
    ApplyWithoutLock,
    /// Leave the schema alone.
    Skip,
}

/// Which SQL dialect a statement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// A text argument.
fn text(s: &str) -> Arg {
    Arg::Text(s.to_owned())
}

/// The SQL expression of one row as a JSON object (of its `columns`, each under its own
/// name), `booleans` as JSON booleans: SQLite keeps them as 0/1. PostgreSQL's is `json`, to
/// cast to text or to aggregate. One place for both the events' objects and the user pages.
pub(crate) fn json_object_sql(dialect: Dialect, columns: &[&str], booleans: &[&str]) -> String {
    let pairs: Vec<String> = columns
        .iter()
        .map(|c| match dialect {
            Dialect::Sqlite if booleans.contains(c) => format!(
                "'{c}', json(CASE WHEN {c} IS NULL THEN 'null' WHEN {c} THEN 'true' \
                 ELSE 'false' END)"
            ),
            _ => format!("'{c}', {c}"),
        })
        .collect();
    match dialect {
        Dialect::Sqlite => format!("json_object({})", pairs.join(", ")),
        Dialect::Postgres => format!("json_build_object({})", pairs.join(", ")),
    }
}

/// The most bound parameters one statement may carry: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
/// (32766 since 3.32) and PostgreSQL's wire limit (65535).
const MAX_PARAMS_SQLITE: usize = 32_766;
const MAX_PARAMS_POSTGRES: usize = 65_535;

impl Dialect {
    /// How many rows of `params_per_row` parameters one multi-row statement may carry.
    pub(crate) fn rows_per_statement(self, params_per_row: usize) -> usize {
        (self.max_params() / params_per_row.max(1)).max(1)
    }

    /// The most bound parameters one statement (or one [`Stmt::chain`]) may carry.
    pub(crate) fn max_params(self) -> usize {
        match self {
            Dialect::Sqlite => MAX_PARAMS_SQLITE,
            Dialect::Postgres => MAX_PARAMS_POSTGRES,
        }
    }
}

/// What separates the statements of a SQLite [`Stmt::chain`].
const CHAINED: &str = ";\n";

/// A statement and its arguments.
#[derive(Clone)]
pub struct Stmt {
    sql: String,
    args: Vec<Arg>,
    /// It inserts into `group_members` or `drives` (set by the builders of those inserts,
    /// [`Stmt::adding_membership_or_drive`]): the transaction notes it for the events of the
    /// users it creates (`Tx::wrote_memberships_or_drives`).
    adds_membership_or_drive: bool,
    /// Kept prepared on its connection (sqlx's statement cache): parsed once per connection,
    /// and on PostgreSQL planned with generic parameters once it has run five times, if
    /// that plan looks no dearer. `false` for a statement whose plan must follow its values
    /// and the table's state ([`Stmt::planned_each_time`]).
    prepared: bool,
    /// Where each statement of a SQLite [`Stmt::chain`] but the last ends in `sql` (empty for
    /// one statement): SQLite's C API prepares one statement at a time (`direct.rs`).
    ends: Vec<usize>,
}

impl Stmt {
    fn new(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Stmt {
            sql: sql.into(),
            args,
            adds_membership_or_drive: false,
            prepared: true,
            ends: Vec::new(),
        }
    }

    /// The statements `sql` holds, in order: one, or each of a SQLite chain.
    fn statements(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|end| end + CHAINED.len()));
        let ends = self
            .ends
            .iter()
            .copied()
            .chain(std::iter::once(self.sql.len()));
        starts.zip(ends).map(|(start, end)| &self.sql[start..end])
    }

    /// Sends the statement unprepared (PostgreSQL's unnamed statement): planned at each run
    /// for its arguments, never with a generic plan cached on the connection.
    fn planned_each_time(mut self) -> Self {
        self.prepared = false;
        self
    }

    /// Marks a statement that inserts a membership or a drive.
    fn adding_membership_or_drive(mut self) -> Self {
        self.adds_membership_or_drive = true;
        self
    }

    /// One statement, one round trip, that runs `before` in order and then `last` (each
    /// statement is otherwise a round trip of its own: on SQLite two thread hand-offs, on
    /// PostgreSQL a socket round trip). Every statement keeps its own `$n` placeholders
    /// (numbered from `$1`, never anonymous `?`); they are shifted past the ones before it.
    ///
    /// On SQLite the statements are `;`-separated in one execution (sqlx binds `$n` by its
    /// number across them), each seeing what the ones before wrote. On PostgreSQL each of
    /// `before` is a data-modifying CTE of `last`, named by its name: all of them run on the
    /// statement's snapshot, so `last` sees what they wrote only through what they return
    /// (`SELECT ... FROM name`).
    fn chain(dialect: Dialect, before: Vec<(&str, Stmt)>, last: Stmt) -> Stmt {
        let mut sql = String::new();
        let mut args = Vec::new();
        let mut adds_membership_or_drive = last.adds_membership_or_drive;
        let mut ends = Vec::new();
        for (i, (name, stmt)) in before.into_iter().enumerate() {
            let shifted = shift_placeholders(&stmt.sql, args.len());
            match dialect {
                Dialect::Sqlite => {
                    sql.push_str(&shifted);
                    ends.push(sql.len());
                    sql.push_str(CHAINED);
                }
                Dialect::Postgres => {
                    sql.push_str(if i == 0 { "WITH " } else { ", " });
                    sql.push_str(&format!("{name} AS ({shifted})"));
                }
            }
            adds_membership_or_drive |= stmt.adds_membership_or_drive;
            args.extend(stmt.args);
        }
        if dialect == Dialect::Postgres && !sql.is_empty() {
            sql.push(' ');
        }
        sql.push_str(&shift_placeholders(&last.sql, args.len()));
        args.extend(last.args);
        Stmt {
            sql,
            args,
            adds_membership_or_drive,
            prepared: true,
            ends,
        }
    }
}

/// `sql` with each placeholder `$n` outside quoted text made `$(n + by)`.
fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut quoted = false;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        match c {
            '\'' => quoted = !quoted,
            '$' if !quoted => {
                let mut n = 0usize;
                let mut digits = 0;
                while let Some(&(_, d)) = chars.peek() {
                    let Some(v) = d.to_digit(10) else { break };
                    n = n * 10 + v as usize;
                    digits += 1;
                    chars.next();
                }
                if digits > 0 {
                    out.push_str(&(n + by).to_string());
                }
            }
            _ => {}
        }
    }
    out
}

/// A sum that cannot overflow on either backend (SQLite fails with "integer overflow",
/// PostgreSQL's `SUM(bigint)` is a `numeric` that no longer fits a `BIGINT`): each value is
/// split at 2^31 and the two halves summed apart, which would take 2^31 rows to overflow.
/// `split_sum("x")` selects the halves of `SUM(x)` as `hi` and `lo`; [`SplitSum::total`]
/// puts them together, saturating at `i64::MAX`.
pub(crate) fn split_sum(column: &str) -> String {
    format!(
        "CAST(COALESCE(SUM({column} / 2147483648), 0) AS BIGINT) AS {column}_hi, \
         CAST(COALESCE(SUM({column} % 2147483648), 0) AS BIGINT) AS {column}_lo"
    )
}

/// The halves of a [`split_sum`] of one column, in the order it selects them.
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(crate) struct SplitSum {
    #[sqlx(rename = "total_size_hi")]
    #[serde(rename = "total_size_hi")]
    hi: i64,
    #[sqlx(rename = "total_size_lo")]
    #[serde(rename = "total_size_lo")]
    lo: i64,
}

impl SplitSum {
    pub(crate) fn total(self) -> i64 {
        combine_split_sum(self.hi, self.lo)
    }
}

/// `hi * 2^31 + lo`, saturating at the ends of `i64`.
pub(crate) fn combine_split_sum(hi: i64, lo: i64) -> i64 {
    let total = i128::from(hi) * 2_147_483_648 + i128::from(lo);
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// How long a start waits for PostgreSQL to answer before it says why it cannot.
const POSTGRES_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects once, quickly, so that a server that cannot use its database says why within
/// seconds, naming the address and the cause, instead of a pool's timeout after ten.
async fn probe_postgres(options: &PgConnectOptions) -> anyhow::Result<()> {
    use sqlx::Connection;
    let host = options.get_host();
    let port = options.get_port();
    let attempt = tokio::time::timeout(
        POSTGRES_PROBE_TIMEOUT,
        sqlx::PgConnection::connect_with(options),
    )
    .await;
    let error = match attempt {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            return Ok(());
        }
        Ok(Err(error)) => error,
        Err(_) => anyhow::bail!(
            "PostgreSQL at {host}:{port} did not answer within {} s",
            POSTGRES_PROBE_TIMEOUT.as_secs()
        ),
    };
    if let sqlx::Error::Database(db) = &error {
        if db.code().as_deref() == Some("3D000") {
            let database = options.get_database().unwrap_or_default();
            anyhow::bail!(
                "the PostgreSQL database \"{database}\" does not exist on {host}:{port}; \
                 create it with: createdb -h {host} -p {port} -U {} {database}",
                options.get_username()
            );
        }
    }
    if let sqlx::Error::Io(io) = &error {
        if io.kind() == std::io::ErrorKind::ConnectionRefused {
            anyhow::bail!(
                "cannot reach PostgreSQL at {host}:{port}: connection refused (is it running?)"
            );
        }
    }
    Err(anyhow::Error::new(error).context(format!("connecting to PostgreSQL at {host}:{port}")))
}

impl SqlStore {
    /// Opens (creating if needed) the SQLite database at `path` and applies its migrations.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_sqlite(path: &Path) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL loses nothing when the process dies; only an OS crash can
            // drop the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Processes sharing one file must not create or migrate it at the same time (switching
        // a new file to WAL needs it alone): the first does both under this lock, the others
        // then find nothing to do.
        let lock_path = path.with_extension("migrate-lock");
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        lock.lock().context("locking the migration lock file")?;
        // A pooled SQLite connection is a file handle on a worker thread: it cannot be
        // dropped by a server, so sqlx's check before each use (a hand-off to the worker and
        // back) buys nothing.
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        sqlx::migrate!("../../migrations/sqlite")
            .run(&writer)
            .await
            .context("applying SQLite migrations")?;
        drop(lock);
        let reader = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await
            .context("opening SQLite readers")?;
        let callers = callers::CallerCache::open(path);
        Ok(SqlStore::from_pools(
            Pools::Sqlite {
                reader,
                writer,
                direct: direct::DirectReads::new(path),
                turns: direct_writes::WriteTurns::open(path),
            },
            callers,
        ))
    }

    /// Connects to PostgreSQL and handles its migrations as `migrations` says.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_postgres(url: &str, migrations: Migrations) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
        probe_postgres(&options).await?;
        let connections = PgConnections::connect(options, 16, Duration::from_secs(10))
            .await
            .context("connecting to PostgreSQL")?;
        if migrations != Migrations::Skip {
            let mut migrator = sqlx::migrate!("../../migrations/postgres");
            // sqlx takes a PostgreSQL advisory lock so that replicas starting together apply
            // the migrations once while the others wait. CockroachDB has no advisory locks:
            // there, run `roster migrate --no-lock` once and start replicas with
            // `--skip-migrations`.
            migrator.set_locking(migrations == Migrations::Apply);
            migrator
                .run(connections.pool())
                .await
                .context("applying PostgreSQL migrations")?;
        }
        Ok(SqlStore::from_pools(Pools::Postgres(connections), None))
    }

    /// Refreshes the planner's statistics after a bulk load. PostgreSQL plans from them: until
    /// autovacuum gets round to a freshly imported million users, it estimates a dozen rows
    /// for every filter (measured: a substring search 229 ms before `VACUUM ANALYZE`, 7 ms
    /// after). SQLite's statements are shaped to need no statistics, so it does nothing there.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if self.dialect() == Dialect::Postgres {
            self.reader()
                .execute(Stmt::new("VACUUM ANALYZE", vec![]))
                .await
                .context("VACUUM ANALYZE")?;
        }
        Ok(())
    }

    /// Writes a consistent copy of a SQLite store to `target` (a new file), while it serves:
    /// `VACUUM INTO` reads one snapshot, so writers are not held up. PostgreSQL stores are
    /// backed up with `pg_dump` instead (docs/operations.md).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn backup_sqlite(&self, target: &Path) -> anyhow::Result<()> {
        if self.dialect() != Dialect::Sqlite {
            anyhow::bail!("this store is PostgreSQL: back it up with pg_dump (docs/operations.md)");
        }
        anyhow::ensure!(!target.exists(), "{} exists already", target.display());
        let target = target
            .to_str()
            .context("the backup path is not valid UTF-8")?;
        self.reader()
            .execute(Stmt::new("VACUUM INTO $1", vec![text(target)]))
            .await
            .context("writing the backup")?;
        Ok(())
    }
}

/// `INSERT INTO table (columns) VALUES ($1, ...)`, built from (column, value) pairs so a
/// column and its value cannot fall out of step.
pub(super) struct Insert {
    table: &'static str,
    columns: Vec<&'static str>,
    args: Vec<Arg>,
}

impl Insert {
    pub(super) fn into(table: &'static str) -> Self {
        Insert {
            table,
            columns: Vec::new(),
            args: Vec::new(),
        }
    }

    pub(super) fn value(mut self, column: &'static str, value: Arg) -> Self {
        self.columns.push(column);
        self.args.push(value);
        self
    }

    pub(super) fn stmt(self) -> Stmt {
        let placeholders: Vec<String> = (1..=self.args.len()).map(|n| format!("${n}")).collect();
        Stmt::new(
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                self.table,
                self.columns.join(", "),
                placeholders.join(", ")
            ),
            self.args,
        )
    }
}

/// `UPDATE table SET ... WHERE domain_id = .. [AND key = ..] RETURNING columns`.
pub(super) fn update_stmt(
    table: &str,
    sets: Vec<(&str, Arg)>,
    key_column: &str,
    domain_id: &str,
    key: &str,
    returning: &str,
) -> Stmt {
    let mut args = Vec::with_capacity(sets.len() + 2);
    let assignments: Vec<String> = sets
        .into_iter()
        .map(|(column, arg)| {
            args.push(arg);
            format!("{column} = ${}", args.len())
        })
        .collect();
    args.push(Arg::Text(domain_id.to_owned()));
    let mut condition = format!("domain_id = ${}", args.len());
    if !key_column.is_empty() {
        args.push(Arg::Text(key.to_owned()));
        condition.push_str(&format!(" AND {key_column} = ${}", args.len()));
    }
    Stmt::new(
        format!(
            "UPDATE {table} SET {} WHERE {condition} RETURNING {returning}",
            assignments.join(", ")
        ),
        args,
    )
}

/// Maps a foreign-key violation (a referenced row is missing) to `NotFound(resource)`.
fn missing_as(resource: Resource) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound(resource),
        _ => Error::from(e),
    }
}

/// Maps a unique-constraint violation to `AlreadyExists(resource)`; other errors pass.
fn unique_as(resource: Resource) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::AlreadyExists(resource),
        _ => Error::from(e),
    }
}

mod access_keys;
mod apps;
mod audit_log;
mod bulk;
mod callers;
mod direct;
mod direct_writes;
mod directory;
mod domains;
mod drive_totals;
mod drives;
mod events;
mod groups;
mod health;
mod mail;
mod pg_connections;
mod properties;
mod provisioning;
mod quotas;
mod resource_groups;
mod scim_tokens;
mod signin;
mod tokens;
mod tx;
mod users;
mod webhooks;

use tx::Pools;
pub use tx::SqlStore;
pub(crate) use tx::Tx;

#[cfg(test)]
pub(crate) mod tests {
    use super::SqlStore;

    /// A store of its own in a temporary directory, kept while the directory lives.
    pub(crate) async fn scratch_store() -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqlStore::open_sqlite(&dir.path().join("t.db"))
            .await
            .expect("a SQLite store");
        (dir, store)
    }

    /// A store over a new PostgreSQL database made next to the one
    /// `ROSTER_TEST_DATABASE_URL` names; `None` when it is not set (the run tests SQLite
    /// only).
    pub(crate) async fn scratch_postgres_store() -> Option<SqlStore> {
        use sqlx::{Connection, Executor};
        let admin_url = std::env::var("ROSTER_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("roster_s_{}", crate::ids::random_hex(8));
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("ROSTER_TEST_DATABASE_URL must reach PostgreSQL");
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("a test database");
        conn.close().await.ok();
        let base = admin_url
            .split_once('?')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
        let store = SqlStore::open_postgres(&format!("{prefix}/{name}"), super::Migrations::Apply)
            .await
            .expect("a PostgreSQL store");
        Some(store)
    }

    /// A line of PostgreSQL's `EXPLAIN`.
    #[derive(sqlx::FromRow, serde::Deserialize)]
    pub(crate) struct PgPlanLine {
        #[sqlx(rename = "QUERY PLAN")]
        #[serde(rename = "QUERY PLAN")]
        pub(crate) line: String,
    }

    /// The one number `sql` counts, with `$1` bound to `arg` (0 when it answers no row).
    pub(crate) async fn count(store: &SqlStore, sql: &str, arg: &str) -> i64 {
        let stmt = super::Stmt::new(sql, vec![super::Arg::Text(arg.into())]);
        let counted = store.reader().fetch_optional::<(i64,)>(stmt).await;
        counted.unwrap().map_or(0, |(n,)| n)
    }

    /// A scratch store holding the domain `d`.
    pub(crate) async fn store_with_domain() -> (tempfile::TempDir, SqlStore) {
        let (dir, store) = scratch_store().await;
        (dir, with_domain(store).await)
    }

    /// [`store_with_domain`] on SQLite, and on PostgreSQL when `ROSTER_TEST_DATABASE_URL`
    /// is set (for statements whose text differs by backend).
    pub(crate) async fn stores_with_domain_on_each_backend() -> Vec<(tempfile::TempDir, SqlStore)> {
        let mut all = vec![store_with_domain().await];
        if let Some(store) = scratch_postgres_store().await {
            let dir = tempfile::tempdir().expect("a temporary directory");
            all.push((dir, with_domain(store).await));
        }
        all
    }

    async fn with_domain(store: SqlStore) -> SqlStore {
        use crate::store::{DomainRow, DomainStore};
        store
            .restore_domain(DomainRow::new("d", "d", "", 0))
            .await
            .expect("the domain d");
        store
    }

    #[test]
    fn placeholders_shift_outside_quoted_text() {
        let shifted =
            super::shift_placeholders("SELECT $1, '$2', $10 || '$' FROM t WHERE a = $2", 5);
        assert_eq!(shifted, "SELECT $6, '$2', $15 || '$' FROM t WHERE a = $7");
        assert_eq!(super::shift_placeholders("$1", 0), "$1");
    }

    #[test]
    fn chained_statements_run_as_one_on_each_backend() {
        use super::{Arg, Dialect, Stmt};
        let first = Stmt::new("INSERT INTO a VALUES ($1)", vec![Arg::Int(1)]);
        let take = Stmt::new("INSERT INTO b VALUES ($1) RETURNING n", vec![Arg::Int(2)]);
        let last = Stmt::new(
            "INSERT INTO c VALUES ((SELECT n FROM t), $1)",
            vec![Arg::Int(3)],
        )
        .adding_membership_or_drive();
        let chain = |dialect| {
            Stmt::chain(
                dialect,
                vec![("f", first.clone()), ("t", take.clone())],
                last.clone(),
            )
        };
        let on_sqlite = chain(Dialect::Sqlite);
        assert_eq!(
            on_sqlite.sql,
            "INSERT INTO a VALUES ($1);\nINSERT INTO b VALUES ($2) RETURNING n;\n\
             INSERT INTO c VALUES ((SELECT n FROM t), $3)"
        );
        assert_eq!(on_sqlite.args, [Arg::Int(1), Arg::Int(2), Arg::Int(3)]);
        assert_eq!(
            on_sqlite.statements().collect::<Vec<_>>(),
            [
                "INSERT INTO a VALUES ($1)",
                "INSERT INTO b VALUES ($2) RETURNING n",
                "INSERT INTO c VALUES ((SELECT n FROM t), $3)"
            ]
        );
        assert!(on_sqlite.adds_membership_or_drive);
        assert_eq!(
            chain(Dialect::Postgres).sql,
            "WITH f AS (INSERT INTO a VALUES ($1)), t AS (INSERT INTO b VALUES ($2) RETURNING n) \
             INSERT INTO c VALUES ((SELECT n FROM t), $3)"
        );
        assert_eq!(first.statements().collect::<Vec<_>>(), [first.sql.as_str()]);
    }
}
