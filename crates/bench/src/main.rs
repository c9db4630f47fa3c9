//! `roster-bench`: seeds a store with N users (default a million), starts Roster over it in a
//! child process, and measures the PDS API under a closed-loop load from this process at
//! several concurrencies. Prints a table, or JSON with `--json`. Exits non-zero if any request
//! failed, which is all the smoke run in CI checks (never a timing).

mod load;
mod report;
mod scenarios;
mod seed;
mod server;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use roster_server::store::SqlStore;

use crate::report::{Report, ScenarioResult};
use crate::scenarios::{ApiWorker, Scenario, Target};
use crate::seed::{SeedReport, Shape};
use crate::server::ServerProcess;

/// The bootstrapped admin's password in the benchmark's throwaway store.
const ADMIN_PASSWORD: &str = "bench-Admin-Passw0rd";

#[derive(Parser, Debug)]
#[command(name = "roster-bench", about)]
struct Args {
    /// Users to seed.
    #[arg(long, default_value_t = 1_000_000)]
    users: u64,
    /// `postgres://...` (an empty database) or `sqlite://path`; default: a new SQLite file
    /// in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// 10,000 users and short runs: a few seconds, to check that everything works.
    #[arg(long)]
    smoke: bool,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Seconds each scenario runs at each concurrency.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of untimed load before each scenario's runs.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Concurrent closed-loop clients.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Run only these scenarios (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// Internal: run the server (the benchmark starts itself with this).
    #[arg(long, hide = true)]
    serve_child: bool,
    /// Internal: the server's data directory.
    #[arg(long, hide = true)]
    data_dir: Option<PathBuf>,
}

impl Args {
    /// Smoke mode overrides the sizes and durations.
    fn effective(mut self) -> Self {
        if self.smoke {
            self.users = 10_000;
            self.duration = 0.2;
            self.warmup = 0.0;
        }
        self
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse().effective();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.serve_child {
        let url = args.database_url.context("--database-url")?;
        let dir = args.data_dir.context("--data-dir")?;
        return runtime.block_on(server::serve_child(&url, &dir));
    }
    let report = runtime.block_on(benchmark(&args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    let errors = report.errors();
    anyhow::ensure!(errors == 0, "{errors} requests failed");
    Ok(())
}

async fn benchmark(args: &Args) -> anyhow::Result<Report> {
    anyhow::ensure!(args.users >= 1_000, "--users must be at least 1000");
    let temp = tempfile::tempdir().context("creating a temporary directory")?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", temp.path().join("roster.db").display()));
    let shape = Shape::for_users(args.users);
    let seeded = seed_store(&database_url, temp.path(), shape, !args.json).await?;
    note(&format!("seeded: {seeded:?}"));

    let server = ServerProcess::start(&database_url, temp.path(), ADMIN_PASSWORD)?;
    let target = Arc::new(connect(&server.base_url, shape).await?);
    scenarios::check_deep_page(&target).await?;
    let mut results = Vec::new();
    for scenario in chosen(args) {
        note(&format!("running {}", scenario.label()));
        results.push(measure(args, &target, scenario, &server).await?);
    }
    let memory = server.memory();
    server.stop()?;
    Ok(Report::new(
        &database_url,
        seeded,
        memory,
        args.duration,
        results,
    ))
}

fn chosen(args: &Args) -> Vec<Scenario> {
    Scenario::ALL
        .into_iter()
        .filter(|s| args.only.is_empty() || args.only.contains(s))
        .collect()
}

/// Progress goes to stderr, so that stdout holds only the table or the JSON.
fn note(message: &str) {
    eprintln!("{message}");
}

/// Creates the store (bootstrapping the admin, as `roster serve` would), then writes the
/// groups and the users, timing each.
async fn seed_store(
    database_url: &str,
    data_dir: &std::path::Path,
    shape: Shape,
    progress: bool,
) -> anyhow::Result<SeedReport> {
    let config = server::config(database_url, data_dir, ADMIN_PASSWORD);
    let (services, store) = roster_server::startup::open_services(&config).await?;
    services
        .bootstrap(seed::DOMAIN, Some(ADMIN_PASSWORD), data_dir)
        .await?;
    // Every seeded user gets this one hash: hashing a million passwords with argon2id would
    // take hours, and a login costs the same whichever salt the hash has.
    let hash = services.passwords.hash(seed::USER_PASSWORD).await?;
    let started = Instant::now();
    seed::seed_groups(&store, &shape).await?;
    let groups_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    seed::seed_users(store.clone(), shape, hash, progress).await?;
    let users_seconds = started.elapsed().as_secs_f64();
    store.analyze().await?;
    close(services, store).await;
    Ok(SeedReport {
        users: shape.users,
        groups: shape.groups(),
        group_levels: shape.levels(),
        memberships: shape.users,
        groups_seconds,
        users_seconds,
        users_per_second: shape.users as f64 / users_seconds.max(f64::EPSILON),
    })
}

async fn close(services: roster_server::service::Services, store: Arc<SqlStore>) {
    drop(services);
    store.close().await;
}

/// The HTTP client, and the admin's token.
async fn connect(base_url: &str, shape: Shape) -> anyhow::Result<Target> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .build()?;
    let deep_page = scenarios::deep_page(shape.users);
    let mut target = Target {
        client,
        base_url: base_url.to_owned(),
        admin_authorization: String::new(),
        shape,
        deep_page,
        deep_marker: scenarios::marker_after_row((deep_page - 1) * scenarios::PAGE_LIMIT - 1),
        created: AtomicU64::new(0),
    };
    let token = target
        .login("admin", ADMIN_PASSWORD)
        .await
        .map_err(anyhow::Error::msg)
        .context("logging in as admin")?;
    let access = token["access_token"].as_str().unwrap_or_default();
    target.admin_authorization = format!("Bearer {access}");
    Ok(target)
}

/// Warms the scenario up, then runs it at each concurrency.
async fn measure(
    args: &Args,
    target: &Arc<Target>,
    scenario: Scenario,
    server: &ServerProcess,
) -> anyhow::Result<ScenarioResult> {
    let most = args.concurrency.iter().copied().max().unwrap_or(1);
    let mut workers = workers(target, scenario, most).await?;
    if args.warmup > 0.0 {
        let (_, back) = load::run(workers, Duration::from_secs_f64(args.warmup)).await;
        workers = back;
    }
    let mut runs = Vec::new();
    for &concurrency in &args.concurrency {
        let rest = workers.split_off(concurrency.min(workers.len()));
        let (measurement, back) = load::run(workers, Duration::from_secs_f64(args.duration)).await;
        if let Some(e) = &measurement.first_error {
            eprintln!("{} at {concurrency}: {e}", scenario.label());
        }
        workers = back;
        workers.extend(rest);
        runs.push(measurement);
    }
    Ok(ScenarioResult {
        scenario,
        label: scenario.label(),
        runs,
        server_memory_after: server.memory(),
    })
}

/// `count` workers; for the refresh grant each starts its own chain with a password login.
async fn workers(
    target: &Arc<Target>,
    scenario: Scenario,
    count: usize,
) -> anyhow::Result<Vec<ApiWorker>> {
    let mut workers: Vec<ApiWorker> = (0..count)
        .map(|i| ApiWorker::new(target.clone(), scenario, i as u64 * 7919 + scenario as u64))
        .collect();
    if scenario == Scenario::RefreshGrant {
        for (i, worker) in workers.iter_mut().enumerate() {
            let token = target
                .login(&seed::user_name(i as u64), seed::USER_PASSWORD)
                .await
                .map_err(anyhow::Error::msg)
                .context("logging in to start a refresh chain")?;
            worker.refresh_token = token["refresh_token"].as_str().map(str::to_owned);
        }
    }
    Ok(workers)
}
