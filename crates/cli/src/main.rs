//! `roster`: the one binary. `roster serve` runs the server; the other commands operate on a
//! store directly (migrations, moving a domain between stores).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use roster_server::service::transfer::copy_domain;
use roster_server::store::Migrations;
use roster_server::{Application, Config};

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "User and organization directory (PDS /v2 API)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on.
        #[arg(long, env = "ROSTER_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Do not touch the PostgreSQL schema at start (it was migrated with `roster migrate`).
        #[arg(long, env = "ROSTER_SKIP_MIGRATIONS")]
        skip_migrations: bool,
    },
    /// Apply the store's migrations, then exit.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
        /// Do not take PostgreSQL's advisory lock (CockroachDB has none; run this once).
        #[arg(long)]
        no_lock: bool,
    },
    /// Copy a whole domain (users, accounts, passwords) from one store to another, e.g.
    /// from the embedded SQLite file to PostgreSQL. The target must not have the domain yet.
    MigrateStore {
        /// Source: `sqlite://path/to/roster.db` or `postgres://...`.
        #[arg(long)]
        from: String,
        /// Target: `sqlite://...` or `postgres://...`; migrated first.
        #[arg(long)]
        to: String,
        /// The domain to copy.
        #[arg(long, default_value = "default")]
        domain: String,
    },
}

#[derive(Args)]
struct StoreArgs {
    /// Directory of the SQLite database and the generated admin credentials.
    #[arg(long, env = "ROSTER_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// `postgres://...` for PostgreSQL; default: SQLite at `<data-dir>/roster.db`.
    #[arg(long, env = "ROSTER_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The domain created on first start.
    #[arg(long, env = "ROSTER_DOMAIN_ID", default_value = "default")]
    domain_id: String,
}

impl StoreArgs {
    fn into_config(self) -> Config {
        Config {
            data_dir: self.data_dir,
            database_url: self.database_url,
            domain_id: self.domain_id,
            // Only from the environment: a flag would show the password in `ps`.
            admin_password: std::env::var("ROSTER_ADMIN_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty()),
            ..Config::default()
        }
    }
}

/// A configuration that opens the store at `url` and nothing else.
fn store_config(url: &str) -> Config {
    Config {
        database_url: Some(url.to_owned()),
        ..Config::default()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    roster_server::init_tracing();
    match Cli::parse().command {
        Command::Serve {
            store,
            listen,
            skip_migrations,
        } => {
            let mut config = store.into_config();
            config.listen = listen;
            if skip_migrations {
                config.migrations = Migrations::Skip;
            }
            Application::build(config).await?.run_until_stopped().await
        }
        Command::Migrate { store, no_lock } => {
            let mut config = store.into_config();
            if no_lock {
                config.migrations = Migrations::ApplyWithoutLock;
            }
            std::fs::create_dir_all(&config.data_dir)?;
            let store = roster_server::startup::open_store(&config).await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::MigrateStore { from, to, domain } => {
            let source = roster_server::startup::open_store(&store_config(&from))
                .await
                .context("opening the source store")?;
            let target = roster_server::startup::open_store(&store_config(&to))
                .await
                .context("opening the target store")?;
            let report = copy_domain(&source, &target, &domain)
                .await
                .with_context(|| format!("copying domain {domain}"))?;
            source.close().await;
            target.close().await;
            println!(
                "copied domain {domain}: {} groups, {} users, {} accounts, {} passwords, {} drives",
                report.groups, report.users, report.accounts, report.passwords, report.drives
            );
            Ok(())
        }
    }
}
