//! `SqlStore`: the `Store` on SQLite or PostgreSQL through sqlx. This module holds the
//! connection handling and the statement machinery; one submodule per aggregate holds its SQL.
//!
//! Each statement is written once, with `$n` placeholders that both backends accept, as a
//! `(sql, args)` pair; the `on_reader!`/`on_writer!` macros run the same code against whichever
//! pool this store holds. Where the dialects differ (migrations, trigram search) the difference
//! is named by `Dialect` and kept to the statement text.

use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Error, Resource, Result};

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

/// A statement and its arguments.
#[derive(Clone)]
pub struct Stmt {
    sql: String,
    args: Vec<Arg>,
}

impl Stmt {
    fn new(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Stmt {
            sql: sql.into(),
            args,
        }
    }
}

enum Db {
    /// SQLite allows one writer at a time: writes go through a single-connection pool, so
    /// they queue in the process instead of failing with SQLITE_BUSY; reads run in parallel.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

pub struct SqlStore {
    db: Db,
}

/// Starts a write transaction.
trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, Self::Db>>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    /// Takes SQLite's write lock up front, so that processes sharing the file queue on the
    /// busy timeout instead of failing when a deferred transaction tries to upgrade.
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
}

/// Runs `$body` with `$pool` bound to the pool to read from.
macro_rules! on_reader {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            Db::Sqlite { reader: $pool, .. } => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool to write through.
macro_rules! on_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            Db::Sqlite { writer: $pool, .. } => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Binds a statement's arguments onto a sqlx query (of either backend).
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Executes a `Stmt`; evaluates to the number of rows affected.
macro_rules! execute {
    ($conn:expr, $stmt:expr) => {{
        let stmt: Stmt = $stmt;
        bind_all!(sqlx::query(AssertSqlSafe(stmt.sql)), stmt.args)
            .execute($conn)
            .await
            .map(|done| done.rows_affected())
    }};
}

/// Runs a `Stmt` and decodes its rows as `$row`.
macro_rules! fetch_all {
    ($conn:expr, $row:ty, $stmt:expr) => {{
        let stmt: Stmt = $stmt;
        bind_all!(
            sqlx::query_as::<_, $row>(AssertSqlSafe(stmt.sql)),
            stmt.args
        )
        .fetch_all($conn)
        .await
    }};
}

macro_rules! fetch_optional {
    ($conn:expr, $row:ty, $stmt:expr) => {{
        let stmt: Stmt = $stmt;
        bind_all!(
            sqlx::query_as::<_, $row>(AssertSqlSafe(stmt.sql)),
            stmt.args
        )
        .fetch_optional($conn)
        .await
    }};
}

/// Commits a write transaction, writing the current request's pending audit records in it
/// first, so that a change and its record land together. Records of a transaction that does
/// not commit stay pending (for a retry, or to be written as failures).
macro_rules! commit {
    ($tx:ident) => {{
        let records = crate::audit::take_pending();
        let mut written: sqlx::Result<()> = Ok(());
        for record in &records {
            if let Err(e) = execute!(&mut *$tx, crate::store::sql::audit_log::insert_stmt(record)) {
                written = Err(e);
                break;
            }
        }
        let committed = match written {
            Ok(()) => $tx.commit().await,
            Err(e) => Err(e),
        };
        if committed.is_err() {
            crate::audit::restore(records);
        }
        committed?
    }};
}

/// Runs one writing statement (`$body`, on the connection `$conn`) in a write transaction of
/// its own with the request's audit records, or on the pool when there are none (a
/// transaction costs two more round trips); evaluates to `$body`'s result.
macro_rules! write_audited {
    ($pool:expr, |$conn:ident| $body:expr) => {{
        if crate::audit::has_pending() {
            let mut tx = crate::store::sql::BeginWrite::begin_write($pool).await?;
            let done = {
                let $conn = &mut *tx;
                $body
            };
            if done.is_ok() {
                commit!(tx);
            }
            done
        } else {
            let $conn = $pool;
            $body
        }
    }};
}

/// `execute!` of a writing statement, as `write_audited!` runs it.
macro_rules! execute_audited {
    ($pool:expr, $stmt:expr) => {
        write_audited!($pool, |conn| execute!(conn, $stmt))
    };
}

/// `fetch_optional!` of a writing statement (`UPDATE ... RETURNING`), as `write_audited!`
/// runs it.
macro_rules! fetch_optional_audited {
    ($pool:expr, $row:ty, $stmt:expr) => {
        write_audited!($pool, |conn| fetch_optional!(conn, $row, $stmt))
    };
}

/// Writes a `NewUser` (user, then accounts, then password) inside a transaction.
macro_rules! insert_new_user {
    ($conn:expr, $new:expr) => {{
        let new: &NewUser = $new;
        execute!($conn, insert_user_stmt(&new.user)).map_err(unique_as(Resource::User))?;
        for account in &new.accounts {
            execute!($conn, insert_account_stmt(account)).map_err(unique_as(Resource::Account))?;
        }
        for group_id in &new.group_ids {
            execute!(
                $conn,
                insert_membership_stmt(
                    &new.user.domain_id,
                    group_id,
                    &new.user.user_id,
                    new.user.created_at
                )
            )
            .map_err(missing_as(Resource::Group))?;
        }
        if let Some(hash) = &new.password_hash {
            execute!(
                $conn,
                upsert_password_stmt(
                    &new.user.domain_id,
                    &new.user.user_id,
                    hash,
                    new.user.created_at
                )
            )?;
        }
    }};
}

/// Refuses what would exceed a quota of the domain or of its parent (whose quotas count
/// its subdomains too): `$new_users` more users, and a drive (`$drive_id`, `""` for a new one)
/// of `$total_size` bytes (`None`: no drive). Each limited domain's row is locked first, so
/// concurrent writers in one domain queue and each sees the others' rows when it counts.
macro_rules! check_quotas {
    ($conn:expr, $domain_id:expr, $new_users:expr, $drive_id:expr, $total_size:expr) => {{
        let new_users: i64 = $new_users;
        let total_size: Option<i64> = $total_size;
        let mut level: String = ($domain_id).to_owned();
        loop {
            let Some(quota) = fetch_optional!($conn, QuotaRow, quota_stmt(&level))? else {
                return Err(Error::NotFound(Resource::Domain));
            };
            let users_limited = new_users > 0 && quota.user_count_quota > 0;
            let size_limited = total_size.is_some() && quota.size_quota > 0;
            if users_limited || size_limited {
                execute!($conn, lock_domain_stmt(&level))?;
            }
            if users_limited {
                let (users,) =
                    fetch_optional!($conn, (i64,), family_users_stmt(&level))?.unwrap_or((0,));
                if users + new_users > quota.user_count_quota {
                    return Err(Error::QuotaExhausted("users".into()));
                }
            }
            if let (true, Some(size)) = (size_limited, total_size) {
                if size < 0 {
                    return Err(Error::QuotaExhausted(
                        "domain size (an unlimited drive)".into(),
                    ));
                }
                let allocated =
                    fetch_optional!($conn, SplitSum, family_allocated_stmt(&level, $drive_id))?
                        .map_or(0, SplitSum::total);
                if allocated.saturating_add(size) > quota.size_quota {
                    return Err(Error::QuotaExhausted("domain size".into()));
                }
            }
            if quota.parent_domain_id.is_empty() {
                break;
            }
            level = quota.parent_domain_id;
        }
    }};
}

/// A domain's quotas and where they roll up to.
#[derive(sqlx::FromRow)]
struct QuotaRow {
    user_count_quota: i64,
    size_quota: i64,
    parent_domain_id: String,
}

fn quota_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        "SELECT user_count_quota, size_quota, parent_domain_id FROM domains WHERE domain_id = $1",
        vec![Arg::Text(domain_id.to_owned())],
    )
}

/// Locks a domain's row until the transaction ends.
fn lock_domain_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        "UPDATE domains SET updated_at = updated_at WHERE domain_id = $1",
        vec![Arg::Text(domain_id.to_owned())],
    )
}

/// `domain_id IN (the domain and its subdomains)`, with the domain as `$1`.
const FAMILY: &str =
    "domain_id IN (SELECT domain_id FROM domains WHERE domain_id = $1 OR parent_domain_id = $1)";

fn family_users_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        format!("SELECT COUNT(*) FROM users WHERE {FAMILY}"),
        vec![Arg::Text(domain_id.to_owned())],
    )
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
#[derive(sqlx::FromRow)]
pub(crate) struct SplitSum {
    #[sqlx(rename = "total_size_hi")]
    hi: i64,
    #[sqlx(rename = "total_size_lo")]
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

/// The sum of the limited drives' `total_size` in the domain and its subdomains, leaving
/// out `except_drive_id`.
fn family_allocated_stmt(domain_id: &str, except_drive_id: &str) -> Stmt {
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
        let writer = SqlitePoolOptions::new()
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
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await
            .context("opening SQLite readers")?;
        Ok(SqlStore {
            db: Db::Sqlite { reader, writer },
        })
    }

    /// Connects to PostgreSQL and handles its migrations as `migrations` says.
    pub async fn open_postgres(url: &str, migrations: Migrations) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
        probe_postgres(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
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
                .run(&pool)
                .await
                .context("applying PostgreSQL migrations")?;
        }
        Ok(SqlStore {
            db: Db::Postgres(pool),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.db {
            Db::Sqlite { .. } => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Refreshes the planner's statistics after a bulk load. PostgreSQL plans from them: until
    /// autovacuum gets round to a freshly imported million users, it estimates a dozen rows
    /// for every filter (measured: a substring search 229 ms before `VACUUM ANALYZE`, 7 ms
    /// after). SQLite's statements are shaped to need no statistics, so it does nothing there.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if let Db::Postgres(pool) = &self.db {
            sqlx::query("VACUUM ANALYZE")
                .execute(pool)
                .await
                .context("VACUUM ANALYZE")?;
        }
        Ok(())
    }

    /// Writes a consistent copy of a SQLite store to `target` (a new file), while it serves:
    /// `VACUUM INTO` reads one snapshot, so writers are not held up. PostgreSQL stores are
    /// backed up with `pg_dump` instead (docs/operations.md).
    pub async fn backup_sqlite(&self, target: &Path) -> anyhow::Result<()> {
        let Db::Sqlite { reader, .. } = &self.db else {
            anyhow::bail!("this store is PostgreSQL: back it up with pg_dump (docs/operations.md)");
        };
        anyhow::ensure!(!target.exists(), "{} exists already", target.display());
        let target = target
            .to_str()
            .context("the backup path is not valid UTF-8")?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(reader)
            .await
            .context("writing the backup")?;
        Ok(())
    }

    /// Closes every connection (so a SQLite file is released before a restart).
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// Is this a transaction conflict the database asks us to retry (SQLSTATE 40001)?
fn is_retryable(e: &Error) -> bool {
    let Error::Internal(cause) = e else {
        return false;
    };
    match cause.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(db)) => db.code().as_deref() == Some("40001"),
        _ => false,
    }
}

/// Runs a whole transaction again when the database reports a serialization failure, as
/// CockroachDB and YugabyteDB do under contention. Free on plain PostgreSQL and SQLite.
async fn with_retries<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    const ATTEMPTS: u32 = 6;
    let mut delay = Duration::from_millis(5);
    for _ in 1..ATTEMPTS {
        match attempt().await {
            Err(e) if is_retryable(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            done => return done,
        }
    }
    attempt().await
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
mod directory;
mod domains;
mod drives;
mod groups;
mod mail;
mod properties;
mod resource_groups;
mod tokens;
mod users;
