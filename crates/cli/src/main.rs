//! `roster`: the one binary. `roster serve` runs the server; `roster migrate` applies the
//! store's migrations and exits.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use roster_server::{Application, Config};

#[derive(Parser)]
#[command(name = "roster", version, about = "User and organization directory (PDS /v2 API)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(StoreArgs),
    /// Apply the store's migrations, then exit (for operators who migrate separately).
    Migrate(StoreArgs),
}

#[derive(Args)]
struct StoreArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
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
            listen: self.listen,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    roster_server::init_tracing();
    match Cli::parse().command {
        Command::Serve(args) => {
            let app = Application::build(args.into_config()).await?;
            app.run_until_stopped().await
        }
        Command::Migrate(args) => {
            let config = args.into_config();
            std::fs::create_dir_all(&config.data_dir)?;
            let store = roster_server::startup::open_store(&config).await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
