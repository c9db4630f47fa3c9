//! `roster-bench`: seeds a store with N users (default a million), starts Roster over it in a
//! child process, and measures the PDS API under a closed-loop load from this process at
//! several concurrencies, with the server's CPU time per request. With `--against OTHER`, two
//! builds serve identical copies of the store and are measured alternately, and the table
//! gives their ratios. Prints a table, or JSON with `--json`. Exits non-zero if any request
//! failed, which is all the smoke run in CI checks (never a timing).

mod events;
mod http;
mod ldap;
mod load;
mod report;
mod scenarios;
mod seed;
mod server;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use roster_server::store::SqlStore;

use crate::report::{Comparison, Report, ScenarioResult};
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
    /// Another `roster-bench` build (e.g. `main`'s, built in a second worktree) to compare
    /// with this one: both serve a copy of one seeded SQLite store and are measured
    /// alternately, OTHER first (A) then this build (B); the table gives B/A.
    #[arg(long, value_name = "OTHER_BINARY")]
    against: Option<PathBuf>,
    /// With `--against`: how many A, B pairs per scenario and concurrency.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Internal: run the server (the benchmark starts itself with this).
    #[arg(long, hide = true)]
    serve_child: bool,
    /// Internal: seed the store at --database-url and --data-dir, then exit (`--against`
    /// asks the other build to seed its own store when it cannot open this build's).
    #[arg(long, hide = true)]
    seed_child: bool,
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
    if args.serve_child {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let url = args.database_url.context("--database-url")?;
        let dir = args.data_dir.context("--data-dir")?;
        return runtime.block_on(server::serve_child(&url, &dir));
    }
    // The generator runs on one thread, like one `wrk` thread: its tasks never wake one
    // another across threads (each such wake-up is a futex call and a context switch), and
    // on a machine shared with the server one busy thread is what it can have anyway.
    let runtime = if std::env::var_os("ROSTER_BENCH_MULTI_THREAD").is_some() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()?;
    if args.seed_child {
        let url = args.database_url.context("--database-url")?;
        let dir = args.data_dir.context("--data-dir")?;
        let shape = Shape::for_users(args.users);
        let seeded = runtime.block_on(seed_store(&url, &dir, shape, false))?;
        note(&format!("seeded: {seeded:?}"));
        return Ok(());
    }
    let errors = if args.against.is_some() {
        let comparison = runtime.block_on(compare(&args))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&comparison)?);
        } else {
            print!("{}", comparison.table());
        }
        comparison.errors()
    } else {
        let report = runtime.block_on(benchmark(&args))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.table());
        }
        report.errors()
    };
    anyhow::ensure!(errors == 0, "{errors} requests failed");
    Ok(())
}

/// A server under test: its process and how to address it.
struct Side {
    server: ServerProcess,
    target: Arc<Target>,
}

impl Side {
    async fn start(
        exe: &Path,
        database_url: &str,
        data_dir: &Path,
        shape: Shape,
    ) -> anyhow::Result<Side> {
        let server = ServerProcess::start(exe, database_url, data_dir, ADMIN_PASSWORD)?;
        let mut target = connect(&server.base_url, shape).await?;
        target.ldap_address = server.ldap_address.clone();
        let target = Arc::new(target);
        scenarios::check_deep_page(&target).await?;
        Ok(Side { server, target })
    }
}

async fn benchmark(args: &Args) -> anyhow::Result<Report> {
    anyhow::ensure!(args.users >= 1_000, "--users must be at least 1000");
    let temp = tempfile::tempdir().context("creating a temporary directory")?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(temp.path()));
    let shape = Shape::for_users(args.users);
    let seeded = seed_store(&database_url, temp.path(), shape, !args.json).await?;
    note(&format!("seeded: {seeded:?}"));

    let side = Side::start(&server::this_binary()?, &database_url, temp.path(), shape).await?;
    let sides = [side];
    let mut results = Vec::new();
    for scenario in chosen(args) {
        note(&format!("running {}", scenario.label()));
        let [result] = measure(args, &sides, scenario, 1).await?;
        results.push(result);
    }
    let [side] = sides;
    let memory = side.server.memory();
    side.server.stop()?;
    Ok(Report::new(
        &database_url,
        seeded,
        memory,
        args.duration,
        results,
    ))
}

/// `--against`: seeds one SQLite store, copies it for each build, starts both servers and
/// measures them alternately (A, B, A, B, ...) so that both see the same machine state.
async fn compare(args: &Args) -> anyhow::Result<Comparison> {
    let other = args.against.clone().context("--against")?;
    let other =
        std::fs::canonicalize(&other).with_context(|| format!("finding {}", other.display()))?;
    anyhow::ensure!(
        args.database_url.is_none(),
        "--against seeds its own SQLite store and copies it for each build; \
         drop --database-url (PostgreSQL is not supported in this mode yet)"
    );
    anyhow::ensure!(args.users >= 1_000, "--users must be at least 1000");
    anyhow::ensure!(args.rounds >= 1, "--rounds must be at least 1");
    let temp = tempfile::tempdir().context("creating a temporary directory")?;
    let shape = Shape::for_users(args.users);
    let seed_dir = temp.path().join("seed");
    std::fs::create_dir(&seed_dir)?;
    let seeded = seed_store(&sqlite_url(&seed_dir), &seed_dir, shape, !args.json).await?;
    note(&format!("seeded: {seeded:?}"));

    let binaries = [other, server::this_binary()?];
    note(&format!("A: {}", binaries[0].display()));
    let a = start_on_copy(
        &binaries[0],
        &seed_dir,
        &temp.path().join("a"),
        args.users,
        shape,
    )
    .await?;
    note(&format!("B: {}", binaries[1].display()));
    let b_dir = temp.path().join("b");
    copy_dir(&seed_dir, &b_dir)?;
    let b = Side::start(&binaries[1], &sqlite_url(&b_dir), &b_dir, shape).await?;
    let sides = [a, b];
    let (mut a_results, mut b_results) = (Vec::new(), Vec::new());
    for scenario in chosen(args) {
        note(&format!("running {}", scenario.label()));
        let [a, b] = measure(args, &sides, scenario, args.rounds).await?;
        a_results.push(a);
        b_results.push(b);
    }
    let mut reports = Vec::new();
    for (side, results) in sides.into_iter().zip([a_results, b_results]) {
        let memory = side.server.memory();
        side.server.stop()?;
        let report = Report::new("sqlite", seeded.clone(), memory, args.duration, results);
        reports.push(report);
    }
    let [a, b]: [Report; 2] = reports
        .try_into()
        .map_err(|_| anyhow::anyhow!("two reports"))?;
    Ok(Comparison::new(binaries, args.rounds, a, b))
}

/// Starts `exe` on a copy of the store this build seeded; if it cannot open it (a build whose
/// migrations differ refuses a store migrated by another), it seeds a store of its own with
/// the same data (`--seed-child`) and starts on that.
async fn start_on_copy(
    exe: &Path,
    seed_dir: &Path,
    dir: &Path,
    users: u64,
    shape: Shape,
) -> anyhow::Result<Side> {
    copy_dir(seed_dir, dir)?;
    let refused = match Side::start(exe, &sqlite_url(dir), dir, shape).await {
        Ok(side) => return Ok(side),
        Err(e) => e,
    };
    note(&format!(
        "{} cannot serve the store this build seeded ({refused:#}); it seeds its own",
        exe.display()
    ));
    std::fs::remove_dir_all(dir)?;
    std::fs::create_dir_all(dir)?;
    let status = std::process::Command::new(exe)
        .arg("--seed-child")
        .arg("--users")
        .arg(users.to_string())
        .arg("--database-url")
        .arg(sqlite_url(dir))
        .arg("--data-dir")
        .arg(dir)
        .status()
        .with_context(|| format!("running {} --seed-child", exe.display()))?;
    anyhow::ensure!(
        status.success(),
        "{} could not seed its own store (a build older than `--seed-child`?); \
         compare builds with the same migrations, or rebuild it from a newer commit",
        exe.display()
    );
    Side::start(exe, &sqlite_url(dir), dir, shape).await
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("roster.db").display())
}

/// Copies the seeded data directory (the database and the keys the bootstrap wrote).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
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

/// The server's address, and the admin's token.
async fn connect(base_url: &str, shape: Shape) -> anyhow::Result<Target> {
    let deep_page = scenarios::deep_page(shape.users);
    let mut target = Target {
        endpoint: http::Endpoint::parse(base_url)?,
        paths: scenarios::Paths::default(),
        admin_authorization: hyper::header::HeaderValue::from_static(""),
        shape,
        deep_page,
        deep_marker: scenarios::marker_after_row((deep_page - 1) * scenarios::PAGE_LIMIT - 1),
        created: AtomicU64::new(0),
        signin: None,
        ldap_address: None,
        feed_events: AtomicU64::new(0),
        console_deep: scenarios::ConsoleDeepPage::for_users(shape.users)
            .map_err(anyhow::Error::msg)?,
    };
    let mut connection = target.connect().await.map_err(anyhow::Error::msg)?;
    let token = target
        .login(&mut connection, "admin", ADMIN_PASSWORD)
        .await
        .map_err(anyhow::Error::msg)
        .context("logging in as admin")?;
    let access = token["access_token"].as_str().unwrap_or_default();
    target.admin_authorization = format!("Bearer {access}").parse()?;
    // A build older than the hosted sign-in (issue 19) has no sign-in page: it can still be
    // measured under `--against` on every other scenario, and its sign-in scenarios fail
    // with "no sign-in setup".
    if let Err(refused) = target.set_up_signin(ADMIN_PASSWORD).await {
        note(&format!(
            "no sign-in setup: signing in on the sign-in page: {refused}"
        ));
    }
    Ok(target)
}

/// Warms the scenario up on every side, then runs it at each concurrency: `rounds` times on
/// each side in turn (A, B, A, B, ...). Each run's CPU figures are the server's and this
/// process's `/proc` counters before and after it.
async fn measure<const N: usize>(
    args: &Args,
    sides: &[Side; N],
    scenario: Scenario,
    rounds: usize,
) -> anyhow::Result<[ScenarioResult; N]> {
    if scenario == Scenario::WebhookDelivery {
        return measure_delivery(args, sides, rounds).await;
    }
    if scenario == Scenario::ConsoleUsersDeep {
        for side in sides {
            scenarios::check_console_deep_page(&side.target).await?;
        }
    }
    if scenario == Scenario::EventList {
        for side in sides {
            events::prepare_feed(&side.target, events::feed_users(side.target.shape.users)).await?;
        }
    }
    let most = args.concurrency.iter().copied().max().unwrap_or(1);
    let mut pools = Vec::new();
    for side in sides {
        let mut pool = workers(&side.target, scenario, most).await?;
        if args.warmup > 0.0 {
            let warmup = Duration::from_secs_f64(args.warmup);
            pool = load::prepare(pool, preparation(warmup))
                .await
                .map_err(anyhow::Error::msg)?;
            let (_, back) = load::run(pool, warmup).await;
            pool = back;
        }
        pools.push(pool);
    }
    let mut runs: Vec<Vec<load::Measurement>> = sides.iter().map(|_| Vec::new()).collect();
    for &concurrency in &args.concurrency {
        for _ in 0..rounds {
            for (i, side) in sides.iter().enumerate() {
                let mut workers = std::mem::take(&mut pools[i]);
                let rest = workers.split_off(concurrency.min(workers.len()));
                let duration = Duration::from_secs_f64(args.duration);
                let workers = load::prepare(workers, preparation(duration))
                    .await
                    .map_err(anyhow::Error::msg)?;
                let got_before: u64 = workers.iter().map(|w| w.codes_got_during_runs).sum();
                let server_before = side.server.cpu_time();
                let own_before = server::process_cpu_time("self");
                let (measurement, back) = load::run(workers, duration).await;
                let measurement = measurement.with_cpu(
                    side.server.cpu_time().saturating_sub(server_before),
                    server::process_cpu_time("self").saturating_sub(own_before),
                );
                if let Some(e) = &measurement.first_error {
                    eprintln!("{} at {concurrency}: {e}", scenario.label());
                }
                let got: u64 = back.iter().map(|w| w.codes_got_during_runs).sum();
                if got > got_before {
                    eprintln!(
                        "{} at {concurrency}: {} codes got during the run (their redirects \
                         are in its server CPU); prepare longer",
                        scenario.label(),
                        got - got_before
                    );
                }
                pools[i] = back;
                pools[i].extend(rest);
                runs[i].push(measurement);
            }
        }
    }
    results(sides, scenario, runs)
}

/// `webhook-delivery`: a receiver and a webhook per side, then `rounds` runs on each side in
/// turn (no warm-up, one worker per server whatever `--concurrency` says): each writes a
/// backlog of [`events::BACKLOG`] events with the webhook disabled (a tenth in the smoke
/// run), then enables it and times the drain; the server CPU is the drain's.
async fn measure_delivery<const N: usize>(
    args: &Args,
    sides: &[Side; N],
    rounds: usize,
) -> anyhow::Result<[ScenarioResult; N]> {
    let scenario = Scenario::WebhookDelivery;
    let mut hooks = Vec::new();
    for side in sides {
        hooks.push(events::set_up_hook(&side.target).await?);
    }
    let backlog = if args.smoke {
        events::BACKLOG / 10
    } else {
        events::BACKLOG
    };
    let mut runs: Vec<Vec<load::Measurement>> = sides.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (i, side) in sides.iter().enumerate() {
            let expected = events::write_backlog(&side.target, &hooks[i], backlog).await?;
            let server_before = side.server.cpu_time();
            let own_before = server::process_cpu_time("self");
            let measurement = events::drain_run(&side.target, &hooks[i], expected).await?;
            let measurement = measurement.with_cpu(
                side.server.cpu_time().saturating_sub(server_before),
                server::process_cpu_time("self").saturating_sub(own_before),
            );
            if let Some(e) = &measurement.first_error {
                eprintln!("{}: {e}", scenario.label());
            }
            runs[i].push(measurement);
        }
    }
    results(sides, scenario, runs)
}

/// One result per side, from its runs.
fn results<const N: usize>(
    sides: &[Side; N],
    scenario: Scenario,
    runs: Vec<Vec<load::Measurement>>,
) -> anyhow::Result<[ScenarioResult; N]> {
    let results: Vec<ScenarioResult> = sides
        .iter()
        .zip(runs)
        .map(|(side, runs)| ScenarioResult {
            scenario,
            label: scenario.label(),
            runs,
            server_memory_after: side.server.memory(),
        })
        .collect();
    results
        .try_into()
        .map_err(|_| anyhow::anyhow!("one result per side"))
}

/// How long workers prepare before a run of `run` (the code exchange gets its codes, each
/// about as costly as an exchange, so half as long again leaves enough; codes live 60 s, so
/// never more than 30 s).
fn preparation(run: Duration) -> Duration {
    (run * 3 / 2).min(Duration::from_secs(30))
}

/// An LDAP connection for a worker: bound as the admin, except for the bind scenario.
async fn ldap_worker_connection(
    target: &Target,
    scenario: Scenario,
) -> anyhow::Result<ldap::LdapClient> {
    let address = target
        .ldap_address
        .as_deref()
        .context("this server build serves no LDAP")?;
    let mut client = ldap::LdapClient::connect(address)
        .await
        .map_err(anyhow::Error::msg)?;
    if scenario != Scenario::LdapBind {
        client
            .bind(&ldap::user_dn("admin"), ADMIN_PASSWORD)
            .await
            .map_err(anyhow::Error::msg)
            .context("binding as the admin")?;
    }
    Ok(client)
}

/// `count` workers, each with its own connection; for the refresh grant each starts its own
/// chain with a password login.
async fn workers(
    target: &Arc<Target>,
    scenario: Scenario,
    count: usize,
) -> anyhow::Result<Vec<ApiWorker>> {
    let mut workers = Vec::with_capacity(count);
    for i in 0..count {
        let mut connection = target.connect().await.map_err(anyhow::Error::msg)?;
        let worker_seed = i as u64 * 7919 + scenario as u64;
        let mut refresh_token = None;
        if scenario == Scenario::RefreshGrant {
            let token = target
                .login(
                    &mut connection,
                    &seed::user_name(i as u64),
                    seed::USER_PASSWORD,
                )
                .await
                .map_err(anyhow::Error::msg)
                .context("logging in to start a refresh chain")?;
            refresh_token = token["refresh_token"].as_str().map(str::to_owned);
        }
        let mut worker = ApiWorker::new(target.clone(), scenario, connection, worker_seed);
        worker.refresh_token = refresh_token;
        if scenario.is_ldap() {
            worker.ldap = Some(ldap_worker_connection(target, scenario).await?);
        }
        workers.push(worker);
    }
    Ok(workers)
}
