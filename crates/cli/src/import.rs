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

use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressStyle};
use roster_client::api::batch::{BatchRequest, BatchSubRequest, MAX_BATCH_REQUESTS};
use roster_client::api::{AuthenticationType, ImportUserRequest};
use roster_client::Client;
use tokio::task::JoinSet;

use roster_server::users_csv::{self, read_row, Columns, CsvReject as Reject, CsvRow, FirstRows};

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

impl From<CsvRow> for Row {
    /// The row's user as the `/user/import` call it makes.
    fn from(row: CsvRow) -> Row {
        let user = row.user;
        let request = ImportUserRequest {
            user_id: user.user_id,
            nick_name: user.nick_name,
            authentication_type: authentication_type(user.kind),
            identity: user.identity,
            email: user.email,
            phone: user.phone,
            plain_password: user.password,
            parent_group_id: user.group_id,
            auto_create_drive: user.drive_size.map(|_| true),
            drive_total_size: user.drive_size,
            authentication_display_name: None,
            extra: None,
            deny_change_password_by_self: None,
            need_change_password_next_login: None,
            expired_at: None,
            phone_region: None,
        };
        Row {
            line: row.line,
            fields: row.fields,
            request,
        }
    }
}

fn authentication_type(kind: roster_server::model::LogonKind) -> AuthenticationType {
    use roster_server::model::LogonKind;
    match kind {
        LogonKind::Email => AuthenticationType::Email,
        LogonKind::Mobile => AuthenticationType::Mobile,
        LogonKind::Ldap => AuthenticationType::Ldap,
        LogonKind::Custom => AuthenticationType::Custom,
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
    let columns = Columns::of_header(&header).map_err(|problem| anyhow!("{problem}"))?;
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
                rejects.push(Reject::malformed(line, Vec::new(), &e.to_string()));
                progress.advance(1);
                continue;
            }
        };
        if !more {
            break;
        }
        let line = record.position().map_or(line, |p| p.line());
        match read_row(line, &record, &columns).and_then(|row| first_rows.check(row)) {
            Ok(row) => batch.push(Row::from(row)),
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
    users_csv::write_rejects(&mut writer, header, rejects)?;
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
