//! `SqlStore`: the `Store` on SQLite or PostgreSQL through sqlx.
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
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::AssertSqlSafe;

use super::user_query::{page_sql, USER_COLUMNS};
use super::{
    normalize, AccountRow, DomainRow, LoginCandidate, NewUser, RefreshTokenRow, SigningKeyRow,
    Store, UserChanges, UserPage, UserRow,
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

/// A statement and its arguments.
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

/// Writes a `NewUser` (user, then accounts, then password) inside a transaction.
macro_rules! insert_new_user {
    ($conn:expr, $new:expr) => {{
        let new: &NewUser = $new;
        execute!($conn, insert_user_stmt(&new.user)).map_err(unique_as(Resource::User))?;
        for account in &new.accounts {
            execute!($conn, insert_account_stmt(account)).map_err(unique_as(Resource::Account))?;
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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        {
            // Processes sharing one file must not migrate it at the same time: the first
            // applies the migrations under this lock, the others then find nothing to do.
            let lock_path = path.with_extension("migrate-lock");
            let lock = std::fs::File::create(&lock_path)
                .with_context(|| format!("creating {}", lock_path.display()))?;
            lock.lock().context("locking the migration lock file")?;
            sqlx::migrate!("../../migrations/sqlite")
                .run(&writer)
                .await
                .context("applying SQLite migrations")?;
        }
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

/// Maps a unique-constraint violation to `AlreadyExists(resource)`; other errors pass.
fn unique_as(resource: Resource) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::AlreadyExists(resource),
        _ => Error::from(e),
    }
}

fn insert_user_stmt(u: &UserRow) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO users ({USER_COLUMNS}, user_name_norm, nick_name_norm, email_norm, \
             phone_norm) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
        ),
        vec![
            Arg::Text(u.domain_id.clone()),
            Arg::Text(u.user_id.clone()),
            Arg::Text(u.user_name.clone()),
            Arg::Text(u.nick_name.clone()),
            Arg::Text(u.avatar.clone()),
            Arg::Text(u.email.clone()),
            Arg::Text(u.phone.clone()),
            Arg::Text(u.role.clone()),
            Arg::Text(u.status.clone()),
            Arg::Text(u.description.clone()),
            Arg::Text(u.user_data.clone()),
            Arg::Text(u.creator.clone()),
            Arg::Text(u.default_drive_id.clone()),
            Arg::Bool(u.deny_change_password_by_self),
            Arg::Bool(u.need_change_password_next_login),
            Arg::Int(u.expired_at),
            Arg::Text(u.phone_region.clone()),
            Arg::Int(u.last_login_time),
            Arg::Int(u.last_refresh_token_time),
            Arg::Int(u.created_at),
            Arg::Int(u.updated_at),
            Arg::Text(normalize(&u.user_name)),
            Arg::Text(normalize(&u.nick_name)),
            Arg::Text(normalize(&u.email)),
            Arg::Text(normalize(&u.phone)),
        ],
    )
}

fn insert_account_stmt(a: &AccountRow) -> Stmt {
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

fn upsert_password_stmt(domain_id: &str, user_id: &str, hash: &str, at: i64) -> Stmt {
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

fn user_stmt(domain_id: &str, user_id: &str) -> Stmt {
    Stmt::new(
        format!("SELECT {USER_COLUMNS} FROM users WHERE domain_id = $1 AND user_id = $2"),
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(user_id.to_owned()),
        ],
    )
}

/// `UPDATE users SET ... RETURNING ...` for the columns `changes` sets.
fn update_user_stmt(domain_id: &str, user_id: &str, c: &UserChanges) -> Stmt {
    let mut sets: Vec<(&str, Arg)> = Vec::new();
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
    sets.push(("updated_at", Arg::Int(c.updated_at)));
    let mut args = Vec::with_capacity(sets.len() + 2);
    let assignments: Vec<String> = sets
        .into_iter()
        .map(|(column, arg)| {
            args.push(arg);
            format!("{column} = ${}", args.len())
        })
        .collect();
    args.push(Arg::Text(domain_id.to_owned()));
    args.push(Arg::Text(user_id.to_owned()));
    let n = args.len();
    Stmt::new(
        format!(
            "UPDATE users SET {} WHERE domain_id = ${} AND user_id = ${n} RETURNING {USER_COLUMNS}",
            assignments.join(", "),
            n - 1
        ),
        args,
    )
}

/// `$2, $3, ...` for the ids, and the arguments `[domain_id, ids...]` that go with it.
fn user_id_list(domain_id: &str, user_ids: &[String]) -> (String, Vec<Arg>) {
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

fn delete_refresh_tokens_stmt(domain_id: &str, user_id: &str) -> Stmt {
    Stmt::new(
        "DELETE FROM refresh_tokens WHERE domain_id = $1 AND user_id = $2",
        vec![
            Arg::Text(domain_id.to_owned()),
            Arg::Text(user_id.to_owned()),
        ],
    )
}

#[async_trait]
impl Store for SqlStore {
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

    async fn signing_key_or_insert(&self, candidate: SigningKeyRow) -> Result<SigningKeyRow> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                execute!(
                    pool,
                    Stmt::new(
                        "INSERT INTO signing_keys (slot, kid, algorithm, private_key, public_key, \
                         created_at) VALUES ('active', $1, $2, $3, $4, $5) \
                         ON CONFLICT (slot) DO NOTHING",
                        vec![
                            Arg::Text(candidate.kid.clone()),
                            Arg::Text(candidate.algorithm.clone()),
                            Arg::Text(candidate.private_key.clone()),
                            Arg::Text(candidate.public_key.clone()),
                            Arg::Int(candidate.created_at),
                        ],
                    )
                )?;
                let active = fetch_optional!(
                    pool,
                    SigningKeyRow,
                    Stmt::new(
                        "SELECT kid, algorithm, private_key, public_key, created_at \
                         FROM signing_keys WHERE slot = 'active'",
                        vec![],
                    )
                )?;
                active.ok_or_else(|| Error::internal(anyhow::anyhow!("no active signing key")))
            })
        })
        .await
    }

    async fn create_user(&self, new: NewUser) -> Result<UserRow> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                insert_new_user!(&mut *tx, &new);
                tx.commit().await?;
                Ok(new.user.clone())
            })
        })
        .await
    }

    async fn user(&self, domain_id: &str, user_id: &str) -> Result<Option<UserRow>> {
        let stmt = user_stmt(domain_id, user_id);
        Ok(on_reader!(self, |pool| fetch_optional!(
            pool, UserRow, stmt
        ))?)
    }

    async fn update_user(
        &self,
        domain_id: &str,
        user_id: &str,
        changes: UserChanges,
    ) -> Result<Option<UserRow>> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                let updated = fetch_optional!(
                    &mut *tx,
                    UserRow,
                    update_user_stmt(domain_id, user_id, &changes)
                )?;
                let Some(updated) = updated else {
                    return Ok(None);
                };
                if let Some(hash) = &changes.password_hash {
                    execute!(
                        &mut *tx,
                        upsert_password_stmt(domain_id, user_id, hash, changes.updated_at)
                    )?;
                }
                if changes.status.as_deref().is_some_and(|s| s != "enabled") {
                    execute!(&mut *tx, delete_refresh_tokens_stmt(domain_id, user_id))?;
                }
                tx.commit().await?;
                Ok(Some(updated))
            })
        })
        .await
    }

    async fn delete_user(&self, domain_id: &str, user_id: &str) -> Result<bool> {
        with_retries(|| async {
            let stmt = Stmt::new(
                "DELETE FROM users WHERE domain_id = $1 AND user_id = $2",
                vec![
                    Arg::Text(domain_id.to_owned()),
                    Arg::Text(user_id.to_owned()),
                ],
            );
            // Accounts, password and refresh tokens go with it through ON DELETE CASCADE.
            let deleted = on_writer!(self, |pool| execute!(pool, stmt))?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn find_users(&self, domain_id: &str, page: &UserPage) -> Result<Vec<UserRow>> {
        let (sql, args) = page_sql(self.dialect(), domain_id, page);
        let stmt = Stmt::new(sql, args);
        Ok(on_reader!(self, |pool| fetch_all!(pool, UserRow, stmt))?)
    }

    async fn accounts_of(&self, domain_id: &str, user_ids: &[String]) -> Result<Vec<AccountRow>> {
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
        Ok(on_reader!(self, |pool| fetch_all!(pool, AccountRow, stmt))?)
    }

    async fn login_candidates(
        &self,
        domain_id: &str,
        identity: &str,
    ) -> Result<Vec<LoginCandidate>> {
        let stmt = Stmt::new(
            "SELECT a.authentication_type, a.identity, a.user_id, u.status AS user_status, \
             p.password_hash FROM accounts a \
             JOIN users u ON u.domain_id = a.domain_id AND u.user_id = a.user_id \
             LEFT JOIN user_passwords p ON p.domain_id = a.domain_id AND p.user_id = a.user_id \
             WHERE a.domain_id = $1 AND a.identity = $2 ORDER BY a.authentication_type",
            vec![
                Arg::Text(domain_id.to_owned()),
                Arg::Text(identity.to_owned()),
            ],
        );
        Ok(on_reader!(self, |pool| fetch_all!(
            pool,
            LoginCandidate,
            stmt
        ))?)
    }

    async fn record_login(&self, account: &LoginCandidate, domain_id: &str, at: i64) -> Result<()> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                execute!(
                    &mut *tx,
                    Stmt::new(
                        "UPDATE users SET last_login_time = $1 WHERE domain_id = $2 AND user_id = $3",
                        vec![
                            Arg::Int(at),
                            Arg::Text(domain_id.to_owned()),
                            Arg::Text(account.user_id.clone()),
                        ],
                    )
                )?;
                execute!(
                    &mut *tx,
                    Stmt::new(
                        "UPDATE accounts SET last_login_time = $1 WHERE domain_id = $2 \
                         AND authentication_type = $3 AND identity = $4",
                        vec![
                            Arg::Int(at),
                            Arg::Text(domain_id.to_owned()),
                            Arg::Text(account.authentication_type.clone()),
                            Arg::Text(account.identity.clone()),
                        ],
                    )
                )?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRow) -> Result<()> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                execute!(
                    &mut *tx,
                    Stmt::new(
                        "INSERT INTO refresh_tokens (token_hash, domain_id, user_id, expires_at, \
                         created_at) VALUES ($1, $2, $3, $4, $5)",
                        vec![
                            Arg::Text(token.token_hash.clone()),
                            Arg::Text(token.domain_id.clone()),
                            Arg::Text(token.user_id.clone()),
                            Arg::Int(token.expires_at),
                            Arg::Int(token.created_at),
                        ],
                    )
                )?;
                execute!(
                    &mut *tx,
                    Stmt::new(
                        "UPDATE users SET last_refresh_token_time = $1 \
                         WHERE domain_id = $2 AND user_id = $3",
                        vec![
                            Arg::Int(token.created_at),
                            Arg::Text(token.domain_id.clone()),
                            Arg::Text(token.user_id.clone()),
                        ],
                    )
                )?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    async fn take_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
        with_retries(|| async {
            let stmt = Stmt::new(
                "DELETE FROM refresh_tokens WHERE token_hash = $1 \
                 RETURNING token_hash, domain_id, user_id, expires_at, created_at",
                vec![Arg::Text(token_hash.to_owned())],
            );
            Ok(on_writer!(self, |pool| fetch_optional!(
                pool,
                RefreshTokenRow,
                stmt
            ))?)
        })
        .await
    }

    async fn password_hashes_of(
        &self,
        domain_id: &str,
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
        Ok(on_reader!(self, |pool| fetch_all!(
            pool,
            (String, String),
            stmt
        ))?)
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

    async fn restore_users(&self, users: Vec<NewUser>) -> Result<()> {
        with_retries(|| async {
            on_writer!(self, |pool| {
                let mut tx = pool.begin_write().await?;
                for new in &users {
                    insert_new_user!(&mut *tx, new);
                }
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }
}
