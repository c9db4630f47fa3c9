//! Reads on the calling thread (SQLite only).
//!
//! sqlx runs every SQLite connection on a thread of its own and hands it each statement over
//! a channel, and each row of the answer back as a message of its own: a point read is two
//! thread switches and their futex calls, which profiles showed to be more than half of
//! `user/get`'s server CPU (docs/performance.md, "What bounds the SQLite figures"). The hot
//! reads instead run here, on the thread that asks, through SQLite's C API (`rusqlite`, over
//! the same `libsqlite3-sys` sqlx links): a statement taken from the connection's cache of
//! prepared statements, bound, stepped, and each row decoded straight into the row type by
//! [`RowDeserializer`].
//!
//! A read blocks its async worker thread for as long as SQLite takes, which for these reads
//! (an index look-up, a page of a keyset) is microseconds to a millisecond — less than the
//! two hand-offs it replaces. The connections are read-only and see, like the read pool's,
//! every transaction committed before the statement starts, in this process or another.
//! Whatever goes wrong here (a connection that cannot be opened, a busy WAL index, a row that
//! does not decode) is not answered as an error: the caller reads through the pool instead,
//! which answers the same rows or the error as before.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::{Arg, Stmt};

/// How many connections are kept between reads. Reads run on the async runtime's worker
/// threads, one at a time each, so as many as there are workers are in use at once; more
/// are opened when needed and closed after.
const IDLE_CONNECTIONS: usize = 8;

/// Prepared statements kept per connection (the users' pages have a statement per shape).
const PREPARED_STATEMENTS: usize = 64;

/// How long a read waits on a locked WAL index (rare: a checkpoint resetting the WAL) before
/// it gives up here and the pool reads instead.
const BUSY_TIMEOUT: Duration = Duration::from_millis(20);

/// Read-only connections to one SQLite file, used on the calling thread.
pub(super) struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Set by [`DirectReads::close`]: no connection is opened or kept any more.
    closed: AtomicBool,
}

/// Why a read did not happen here (the pool then reads).
#[derive(Debug)]
pub(super) enum NotRead {
    /// The store is closing: the pool answers that.
    Closed,
    Failed(String),
}

impl NotRead {
    /// Says why in the log, except for a closing store. (SQLite's messages name statements
    /// and columns, never bound values.)
    pub(super) fn log(self) {
        if let NotRead::Failed(why) = self {
            tracing::warn!(%why, "a read on the calling thread failed; reading through the pool");
        }
    }
}

impl From<Failure> for NotRead {
    fn from(e: Failure) -> Self {
        NotRead::Failed(e.to_string())
    }
}

impl From<rusqlite::Error> for NotRead {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sqlite(e).into()
    }
}

/// What went wrong running a statement on the calling thread.
#[derive(Debug)]
pub(super) enum Failure {
    /// SQLite's own error (its extended result code tells the kind).
    Sqlite(rusqlite::Error),
    /// A row that does not fit its type.
    Decode(String),
    /// A statement whose `$n` has no argument.
    Bind(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Sqlite(e) => e.fmt(f),
            Failure::Decode(why) | Failure::Bind(why) => f.write_str(why),
        }
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sqlite(e)
    }
}

impl DirectReads {
    pub(super) fn new(path: &Path) -> Self {
        DirectReads {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// Every row `stmt` answers, decoded as `R`.
    pub(super) fn fetch_all<R: DeserializeOwned>(&self, stmt: &Stmt) -> Result<Vec<R>, NotRead> {
        self.with_connection(|conn| fetch_all(conn, stmt))
    }

    /// The first row `stmt` answers, decoded as `R`.
    pub(super) fn fetch_optional<R: DeserializeOwned>(
        &self,
        stmt: &Stmt,
    ) -> Result<Option<R>, NotRead> {
        self.with_connection(|conn| fetch_optional(conn, stmt))
    }

    /// Closes the kept connections; later reads go to the pool (which is closed too).
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.idle_connections().clear();
    }

    fn idle_connections(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `read` on a kept (or new) connection.
    fn with_connection<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, NotRead> {
        let conn = self.take()?;
        let answer = read(&conn);
        self.give_back(conn);
        Ok(answer?)
    }

    fn take(&self) -> Result<Connection, NotRead> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(NotRead::Closed);
        }
        if let Some(conn) = self.idle_connections().pop() {
            return Ok(conn);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
        keep_plans(&conn)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let mut idle = self.idle_connections();
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(conn);
        }
    }
}

/// Keeps each cached statement's plan whatever its arguments (SQLite's query planner
/// stability guarantee). Without it, a statement whose `$n` bounds a range on an index
/// (`nick_name_norm >= $2 AND nick_name_norm < $3`) was parsed and planned again at every
/// run for its new values, as the statistics `ANALYZE` keeps (STAT4) might plan them
/// otherwise: 4–5% of a prefix search's CPU (docs/performance.md, "Writes on the calling
/// thread"). The plans these statements need do not depend on the values.
pub(super) fn keep_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Every row `stmt` answers on `conn`, decoded as `R`.
pub(super) fn fetch_all<R: DeserializeOwned>(
    conn: &Connection,
    stmt: &Stmt,
) -> Result<Vec<R>, Failure> {
    run(conn, stmt, |rows, names| {
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(decode(row, names)?);
        }
        Ok(out)
    })
}

/// The first row `stmt` answers on `conn`, decoded as `R`.
pub(super) fn fetch_optional<R: DeserializeOwned>(
    conn: &Connection,
    stmt: &Stmt,
) -> Result<Option<R>, Failure> {
    run(conn, stmt, |rows, names| match rows.next()? {
        Some(row) => Ok(Some(decode(row, names)?)),
        None => Ok(None),
    })
}

/// Runs `stmt` on `conn` to its end; answers the rows its statements inserted, updated or
/// deleted (as sqlx counts them: SQLite's `changes()` after each).
pub(super) fn execute(conn: &Connection, stmt: &Stmt) -> Result<u64, Failure> {
    let mut changed = 0;
    for sql in stmt.statements() {
        let mut prepared = prepare(conn, sql, stmt.prepared)?;
        bind(&mut prepared, &stmt.args)?;
        let read_only = prepared.readonly();
        let mut rows = prepared.raw_query();
        while rows.next()?.is_some() {}
        if !read_only {
            changed += conn.changes();
        }
    }
    Ok(changed)
}

/// Runs `stmt` on `conn`: each statement of a chain but the last to its end, then the last,
/// whose rows and columns' names (taken once, not per row) go to `read`.
fn run<T>(
    conn: &Connection,
    stmt: &Stmt,
    read: impl FnOnce(&mut rusqlite::Rows<'_>, &[String]) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let mut statements = stmt.statements().peekable();
    while let Some(sql) = statements.next() {
        let mut prepared = prepare(conn, sql, stmt.prepared)?;
        bind(&mut prepared, &stmt.args)?;
        if statements.peek().is_some() {
            let mut rows = prepared.raw_query();
            while rows.next()?.is_some() {}
            continue;
        }
        let names: Vec<String> = prepared
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut rows = prepared.raw_query();
        return read(&mut rows, &names);
    }
    Err(Failure::Bind("an empty statement".into()))
}

/// A statement prepared on a connection: kept in its cache, or (for a statement to be
/// planned each time) prepared for this run only.
enum Prepared<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Once(rusqlite::Statement<'c>),
}

impl<'c> std::ops::Deref for Prepared<'c> {
    type Target = rusqlite::Statement<'c>;

    fn deref(&self) -> &Self::Target {
        match self {
            Prepared::Cached(s) => s,
            Prepared::Once(s) => s,
        }
    }
}

impl std::ops::DerefMut for Prepared<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Prepared::Cached(s) => s,
            Prepared::Once(s) => s,
        }
    }
}

fn prepare<'c>(conn: &'c Connection, sql: &str, cached: bool) -> rusqlite::Result<Prepared<'c>> {
    Ok(if cached {
        Prepared::Cached(conn.prepare_cached(sql)?)
    } else {
        Prepared::Once(conn.prepare(sql)?)
    })
}

/// Binds each `$n` (or `?n`) of the statement to the n-th argument, and anonymous `?`s to
/// the arguments in order, as sqlx does. (SQLite numbers parameters by their first
/// appearance, not by the digits after `$`, so numbered ones are bound by name.)
fn bind(prepared: &mut rusqlite::Statement<'_>, args: &[Arg]) -> Result<(), Failure> {
    for index in 1..=prepared.parameter_count() {
        let position = match prepared.parameter_name(index) {
            None => Some(index),
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok()),
        };
        let arg = position
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| args.get(n))
            .ok_or_else(|| Failure::Bind(format!("no argument for parameter {index}")))?;
        match arg {
            Arg::Text(v) => prepared.raw_bind_parameter(index, v.as_str())?,
            Arg::Int(v) => prepared.raw_bind_parameter(index, v)?,
            Arg::Bool(v) => prepared.raw_bind_parameter(index, v)?,
        }
    }
    Ok(())
}

fn decode<R: DeserializeOwned>(row: &rusqlite::Row<'_>, names: &[String]) -> Result<R, Failure> {
    R::deserialize(RowDeserializer { row, names })
        .map_err(|e| Failure::Decode(format!("decoding a row: {e}")))
}

/// A decoding failure.
#[derive(Debug)]
struct DecodeError(String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DecodeError(msg.to_string())
    }
}

/// One row as serde sees it: a map from column names to values for a struct, a sequence of
/// the values for a tuple. The column names are the ones the SQL gives (`AS` renames).
struct RowDeserializer<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: &'a [String],
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'_, '_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(Columns::of(self.row, self.names))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_seq(Columns::of(self.row, self.names))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple_struct map struct enum identifier
        ignored_any
    }
}

/// The columns of a row, visited in order.
struct Columns<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: &'a [String],
    next: usize,
}

impl<'a, 'r> Columns<'a, 'r> {
    fn of(row: &'a rusqlite::Row<'r>, names: &'a [String]) -> Self {
        Columns {
            row,
            names,
            next: 0,
        }
    }

    fn value(&self, index: usize) -> Result<ValueRef<'a>, DecodeError> {
        self.row
            .get_ref(index)
            .map_err(|e| DecodeError(e.to_string()))
    }
}

impl<'de> de::MapAccess<'de> for Columns<'_, '_> {
    type Error = DecodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some(name) = self.names.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize(name.as_str().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let value = self.value(self.next)?;
        self.next += 1;
        seed.deserialize(ValueDeserializer(value))
    }
}

impl<'de> de::SeqAccess<'de> for Columns<'_, '_> {
    type Error = DecodeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        if self.next >= self.names.len() {
            return Ok(None);
        }
        let value = self.value(self.next)?;
        self.next += 1;
        seed.deserialize(ValueDeserializer(value)).map(Some)
    }
}

/// One column's value. SQLite has no booleans: they are integers, read as `!= 0` where the
/// row type asks for a `bool` (as sqlx does).
struct ValueDeserializer<'a>(ValueRef<'a>);

impl<'de> de::Deserializer<'de> for ValueDeserializer<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            ValueRef::Null => visitor.visit_none(),
            ValueRef::Integer(i) => visitor.visit_i64(i),
            ValueRef::Real(f) => visitor.visit_f64(f),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(s) => visitor.visit_str(s),
                Err(e) => Err(DecodeError(format!("text that is not UTF-8: {e}"))),
            },
            ValueRef::Blob(b) => visitor.visit_bytes(b),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            ValueRef::Integer(i) => visitor.visit_bool(i != 0),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            ValueRef::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Thing {
        name: String,
        flag: bool,
        size: i64,
        note: Option<String>,
    }

    fn file_with_things() -> (tempfile::TempDir, DirectReads) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE things (name TEXT NOT NULL, flag INTEGER NOT NULL, size INTEGER, \
             note TEXT);
             INSERT INTO things VALUES ('a', 1, 9223372036854775807, NULL),
                                       ('b', 0, -1, 'é \"q\"');",
        )
        .unwrap();
        (dir, DirectReads::new(&path))
    }

    /// `$n` is bound to the n-th argument wherever it first appears, and a struct is read by
    /// its columns' names, integers as booleans, NULL as `None`.
    #[test]
    fn parameters_are_bound_by_number_and_rows_decoded_by_name() {
        let (_dir, reads) = file_with_things();
        let stmt = Stmt::new(
            "SELECT note, size, flag, name FROM things WHERE size < $2 OR name = $1 \
             ORDER BY name",
            vec![Arg::Text("a".into()), Arg::Int(0)],
        );
        let things: Vec<Thing> = reads.fetch_all(&stmt).unwrap();
        assert_eq!(
            things,
            vec![
                Thing {
                    name: "a".into(),
                    flag: true,
                    size: i64::MAX,
                    note: None
                },
                Thing {
                    name: "b".into(),
                    flag: false,
                    size: -1,
                    note: Some("é \"q\"".into())
                },
            ]
        );
        let count: Option<(i64, String)> = reads
            .fetch_optional(&Stmt::new(
                "SELECT COUNT(*), MAX(name) FROM things WHERE flag = $1",
                vec![Arg::Bool(false)],
            ))
            .unwrap();
        assert_eq!(count, Some((1, "b".into())));
        let anonymous: Vec<(String,)> = reads
            .fetch_all(&Stmt::new(
                "SELECT name FROM things WHERE size = ? OR name = ? ORDER BY name",
                vec![Arg::Int(-1), Arg::Text("a".into())],
            ))
            .unwrap();
        assert_eq!(anonymous, [("a".to_owned(),), ("b".to_owned(),)]);
    }

    /// A statement that cannot run, a row that does not fit the type, or a missing argument
    /// is a `Failed` the caller answers by reading through the pool, never a panic.
    #[test]
    fn what_cannot_be_read_here_is_said_not_panicked() {
        let (_dir, reads) = file_with_things();
        let failed = |r: Result<Vec<Thing>, NotRead>| matches!(r, Err(NotRead::Failed(_)));
        assert!(failed(
            reads.fetch_all(&Stmt::new("SELECT nope FROM things", vec![]))
        ));
        assert!(failed(reads.fetch_all(&Stmt::new(
            "SELECT name, name AS flag, size, note FROM things",
            vec![]
        ))));
        assert!(failed(reads.fetch_all(&Stmt::new(
            "SELECT * FROM things WHERE name = $2",
            vec![Arg::Text("a".into())]
        ))));
        assert!(failed(reads.fetch_all(&Stmt::new(
            "DELETE FROM things RETURNING *",
            vec![]
        ))));
    }
}
