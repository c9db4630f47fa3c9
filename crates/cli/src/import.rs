//! `roster import users.csv`: bulk import of users with their logon accounts, through
//! `/v2/batch` (consecutive creations are written in one transaction on the server).
//!
//! Idempotent and resumable: a row whose user (by `user_id`, or by account identity when the
//! row names no `user_id`) exists already is counted as skipped, so running the same file again
//! after an interruption creates only what is missing. A malformed row never stops the import:
//! it goes to the reject file with its line number, as do rows the server refused and rows
//! that repeat the `user_id` or identity of an earlier row of the same file (`DuplicateRow`).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use roster_client::api::batch::{BatchRequest, BatchSubRequest, MAX_BATCH_REQUESTS};
use roster_client::api::{AuthenticationType, ImportUserRequest};
use roster_client::Client;
use tokio::task::JoinSet;

use crate::remote::parse_size;

/// The columns a file may have, in any order; only `identity` is required.
pub const COLUMNS: [&str; 9] = [
    "user_id",
    "nick_name",
    "authentication_type",
    "identity",
    "email",
    "phone",
    "password",
    "group_id",
    "drive_size",
];

/// The code a reject file gives rows that could not be read.
const MALFORMED: &str = "MalformedRow";
/// The code a reject file gives a row that names a user or identity an earlier row of the same
/// file named already (not "skipped as existing": the file contradicts itself).
const DUPLICATE: &str = "DuplicateRow";

pub struct Options {
    pub file: PathBuf,
    pub concurrency: usize,
    pub batch_size: usize,
    pub rejects: Option<PathBuf>,
}

/// What happened to the rows of a file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub created: u64,
    pub existing: u64,
    pub failed: u64,
    pub rejects: Option<PathBuf>,
}

/// One data row of the file: where it is, what it said, and the call it makes.
struct Row {
    line: u64,
    fields: Vec<String>,
    request: ImportUserRequest,
}

/// A row that failed, for the reject file.
struct Reject {
    line: u64,
    fields: Vec<String>,
    code: String,
    message: String,
}

/// The fate of one row.
enum Outcome {
    Created,
    Existing,
    Failed(Reject),
}

/// Imports the file; the summary says how many rows were created, skipped and refused.
pub async fn import(client: &Client, options: &Options) -> anyhow::Result<Summary> {
    let batch_size = options.batch_size.clamp(1, MAX_BATCH_REQUESTS);
    let total = count_records(&options.file)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&options.file)
        .with_context(|| format!("opening {}", options.file.display()))?;
    let header = reader
        .byte_headers()
        .context("reading the header row")?
        .clone();
    let columns = column_positions(&header)?;
    let progress = Progress::new(total);

    let mut rejects = Vec::new();
    let mut summary = Summary::default();
    let mut in_flight = JoinSet::new();
    let mut first_rows = FirstRows::default();
    let mut batch = Vec::with_capacity(batch_size);
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() + 1;
        let more = match reader.read_byte_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                // The reader resynchronises on the next line.
                rejects.push(malformed(line, Vec::new(), &e.to_string()));
                progress.advance(1);
                continue;
            }
        };
        if !more {
            break;
        }
        let line = record.position().map_or(line, |p| p.line());
        match read_row(line, &record, header.len(), &columns).and_then(|row| first_rows.check(row))
        {
            Ok(row) => batch.push(row),
            Err(reject) => {
                rejects.push(reject);
                progress.advance(1);
            }
        }
        if batch.len() == batch_size {
            if in_flight.len() >= options.concurrency.max(1) {
                tally(join_next(&mut in_flight).await?, &mut summary, &mut rejects);
            }
            let rows = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            in_flight.spawn(send_batch(client.clone(), rows, progress.clone()));
        }
    }
    if !batch.is_empty() {
        in_flight.spawn(send_batch(client.clone(), batch, progress.clone()));
    }
    while !in_flight.is_empty() {
        tally(join_next(&mut in_flight).await?, &mut summary, &mut rejects);
    }
    progress.finish();

    summary.failed = rejects.len() as u64;
    let rejects_path = options
        .rejects
        .clone()
        .unwrap_or_else(|| default_rejects_path(&options.file));
    if rejects.is_empty() {
        // Left over from an earlier run whose failures are now fixed.
        let _ = std::fs::remove_file(&rejects_path);
    } else {
        rejects.sort_by_key(|r| r.line);
        write_rejects(&rejects_path, &header, &rejects)?;
        summary.rejects = Some(rejects_path);
    }
    Ok(summary)
}

async fn join_next(set: &mut JoinSet<Vec<Outcome>>) -> anyhow::Result<Vec<Outcome>> {
    match set.join_next().await {
        Some(done) => done.map_err(|e| anyhow!("an import task failed: {e}")),
        None => Ok(Vec::new()),
    }
}

fn tally(outcomes: Vec<Outcome>, summary: &mut Summary, rejects: &mut Vec<Reject>) {
    for outcome in outcomes {
        match outcome {
            Outcome::Created => summary.created += 1,
            Outcome::Existing => summary.existing += 1,
            Outcome::Failed(reject) => rejects.push(reject),
        }
    }
}

/// Sends one batch of rows; a batch the server could not take fails all its rows (a later
/// run retries them).
async fn send_batch(client: Client, rows: Vec<Row>, progress: Progress) -> Vec<Outcome> {
    let request = BatchRequest {
        resource: "user".into(),
        requests: rows
            .iter()
            .map(|row| BatchSubRequest {
                id: row.line.to_string(),
                method: "POST".into(),
                url: "/user/import".into(),
                body: serde_json::to_value(&row.request).ok(),
            })
            .collect(),
    };
    let answer = client.batch(&request).await;
    progress.advance(rows.len() as u64);
    let answers: HashMap<String, (u16, String, String)> = match answer {
        Ok(answer) => answer
            .responses
            .into_iter()
            .map(|r| {
                let field = |name: &str| {
                    r.body
                        .as_ref()
                        .and_then(|b| b.get(name))
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                (r.id.clone(), (r.status, field("code"), field("message")))
            })
            .collect(),
        Err(e) => {
            let code = e.code().unwrap_or("RequestFailed").to_owned();
            let message = e.to_string();
            return rows
                .into_iter()
                .map(|row| Outcome::Failed(reject(row, &code, &message)))
                .collect();
        }
    };
    rows.into_iter()
        .map(|row| match answers.get(&row.line.to_string()) {
            Some((status, _, _)) if *status < 300 => Outcome::Created,
            Some((_, code, _)) if is_existing(&row, code) => Outcome::Existing,
            Some((_, code, message)) => Outcome::Failed(reject(row, code, message)),
            None => Outcome::Failed(reject(row, "RequestFailed", "no answer for this row")),
        })
        .collect()
}

/// Whether a refusal means the row was imported already: its `user_id` exists, or, for a
/// row without one, its account identity does. (An identity taken by another `user_id` is a
/// real conflict.)
fn is_existing(row: &Row, code: &str) -> bool {
    match row.request.user_id {
        Some(_) => code == "AlreadyExist.User",
        None => code == "AlreadyExist.Account",
    }
}

fn reject(row: Row, code: &str, message: &str) -> Reject {
    Reject {
        line: row.line,
        fields: row.fields,
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

fn malformed(line: u64, fields: Vec<String>, why: &str) -> Reject {
    Reject {
        line,
        fields,
        code: MALFORMED.into(),
        message: why.to_owned(),
    }
}

/// The first line of the file that named each user id and each logon identity, so that a
/// later row naming one again is refused with the line it repeats. Keys are 64-bit hashes:
/// a million rows cost 32 MiB, not the strings.
#[derive(Default)]
struct FirstRows {
    lines: HashMap<u64, u64>,
}

impl FirstRows {
    fn check(&mut self, row: Row) -> Result<Row, Reject> {
        let identity = format!(
            "{:?}:{}",
            row.request.authentication_type,
            row.request.identity.to_lowercase()
        );
        let user_id = row.request.user_id.clone();
        if let Some(user_id) = &user_id {
            if let Some(first) = self.first_line(&("user_id", user_id), row.line) {
                let why = format!("user_id {user_id} is on line {first} of this file already");
                return Err(duplicate(row, &why));
            }
        }
        if let Some(first) = self.first_line(&("identity", &identity), row.line) {
            let why = format!(
                "identity {} is on line {first} of this file already",
                row.request.identity
            );
            return Err(duplicate(row, &why));
        }
        Ok(row)
    }

    /// The line that named `key` before `line`, or none (and `line` becomes its first).
    fn first_line(&mut self, key: &impl std::hash::Hash, line: u64) -> Option<u64> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        match self.lines.entry(hash) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(line);
                None
            }
        }
    }
}

fn duplicate(row: Row, why: &str) -> Reject {
    reject(row, DUPLICATE, why)
}

/// Where each known column is; an unknown column is an error (a typo would lose data).
/// Columns named `error_*` (those a reject file adds) are ignored, so a fixed reject file
/// can be imported as it is.
fn column_positions(header: &csv::ByteRecord) -> anyhow::Result<HashMap<&'static str, usize>> {
    let mut positions = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
        if name.starts_with("error_") {
            continue;
        }
        let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
            bail!(
                "unknown column {name:?} in the header row; the columns are: {}",
                COLUMNS.join(", ")
            );
        };
        positions.insert(*known, index);
    }
    if !positions.contains_key("identity") {
        bail!("the header row has no `identity` column");
    }
    Ok(positions)
}

/// Reads one data row into its import call, or says why it cannot be one.
fn read_row(
    line: u64,
    record: &csv::ByteRecord,
    width: usize,
    columns: &HashMap<&'static str, usize>,
) -> Result<Row, Reject> {
    let fields: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if record.iter().any(|f| std::str::from_utf8(f).is_err()) {
        return Err(malformed(line, fields, "not valid UTF-8"));
    }
    if fields.len() != width {
        let why = format!("{} fields, the header has {width}", fields.len());
        return Err(malformed(line, fields, &why));
    }
    let field = |name: &str| {
        columns
            .get(name)
            .map(|&i| fields[i].trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let identity = match field("identity") {
        Some(identity) => identity,
        None => return Err(malformed(line, fields, "identity is empty")),
    };
    let authentication_type = match field("authentication_type") {
        None => AuthenticationType::Email,
        Some(kind) => match serde_json::from_value(serde_json::Value::String(kind.clone())) {
            Ok(kind) => kind,
            Err(_) => {
                let why = format!(
                    "authentication_type {kind:?} is not one of email, mobile, ldap, custom"
                );
                return Err(malformed(line, fields, &why));
            }
        },
    };
    let drive_total_size = match field("drive_size").map(|s| parse_size(&s)) {
        None => None,
        Some(Ok(size)) => Some(size),
        Some(Err(why)) => return Err(malformed(line, fields, &why)),
    };
    let request = ImportUserRequest {
        user_id: field("user_id"),
        nick_name: field("nick_name").unwrap_or_else(|| identity.clone()),
        authentication_type,
        identity,
        email: field("email"),
        phone: field("phone"),
        plain_password: field("password"),
        parent_group_id: field("group_id"),
        auto_create_drive: drive_total_size.map(|_| true),
        drive_total_size,
        authentication_display_name: None,
        extra: None,
        deny_change_password_by_self: None,
        need_change_password_next_login: None,
        expired_at: None,
        phone_region: None,
    };
    Ok(Row {
        line,
        fields,
        request,
    })
}

/// Data rows in the file (for the progress bar's length and ETA).
fn count_records(path: &Path) -> anyhow::Result<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut record = csv::ByteRecord::new();
    let mut count = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) | Err(_) => count += 1,
            Ok(false) => return Ok(count),
        }
    }
}

/// `users.csv` → `users.rejects.csv`, beside it.
pub fn default_rejects_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    file.with_file_name(format!("{stem}.rejects.csv"))
}

/// The failed rows, as in the file plus `error_line`, `error_code`, `error_message`.
fn write_rejects(path: &Path, header: &csv::ByteRecord, rejects: &[Reject]) -> anyhow::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("writing {}", path.display()))?;
    let mut columns: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .filter(|h| !h.trim().to_ascii_lowercase().starts_with("error_"))
        .collect();
    let width = columns.len();
    columns.extend(["error_line", "error_code", "error_message"].map(String::from));
    writer.write_record(&columns)?;
    for reject in rejects {
        let mut record: Vec<String> = reject.fields.iter().take(width).cloned().collect();
        record.resize(width, String::new());
        record.extend([
            reject.line.to_string(),
            reject.code.clone(),
            reject.message.clone(),
        ]);
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

/// A progress bar with rate and ETA on a terminal; a plain line every few seconds otherwise.
#[derive(Clone)]
struct Progress {
    bar: Option<ProgressBar>,
    plain: std::sync::Arc<std::sync::Mutex<PlainProgress>>,
}

struct PlainProgress {
    done: u64,
    total: u64,
    started: Instant,
    last_line: Instant,
}

const PLAIN_EVERY: Duration = Duration::from_secs(2);

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} rows  {rate}  ETA {eta}",
            )
            .map(|s| {
                s.progress_chars("=> ").with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0} rows/s", state.per_sec());
                    },
                )
            });
            if let Ok(style) = style {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            plain: std::sync::Arc::new(std::sync::Mutex::new(PlainProgress {
                done: 0,
                total,
                started: now,
                last_line: now,
            })),
        }
    }

    fn advance(&self, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(rows);
            return;
        }
        let mut plain = self.plain.lock().unwrap_or_else(|e| e.into_inner());
        plain.done += rows;
        if plain.last_line.elapsed() >= PLAIN_EVERY {
            plain.last_line = Instant::now();
            plain.print();
        }
    }

    fn finish(&self) {
        match &self.bar {
            Some(bar) => bar.finish(),
            None => self.plain.lock().unwrap_or_else(|e| e.into_inner()).print(),
        }
    }
}

impl PlainProgress {
    fn print(&self) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        eprintln!(
            "progress: {}/{} rows, {:.0} rows/s",
            self.done,
            self.total,
            self.done as f64 / seconds
        );
    }
}
