//! `roster`: the one binary. `roster serve` runs the server; the other commands operate on a
//! store directly (migrations, moving a domain between stores).

mod remote;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use roster_api::access_keys::{
    AccessKeyStatus, CreateAccessKeyRequest, ListAccessKeyRequest, UpdateAccessKeyRequest,
};
use roster_api::domains::{CreateDomainRequest, DeleteDomainRequest, ListDomainRequest};
use roster_api::Role;
use roster_server::service::tokens::LockoutSettings;
use roster_server::service::transfer::copy_domain;
use roster_server::service::Actor;
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
        /// Failed password logins in a row that lock an account identity (0: never).
        #[arg(long, env = "ROSTER_LOGIN_MAX_FAILURES", default_value_t = 5)]
        login_max_failures: u32,
        /// Seconds a locked identity waits (and a failure counts).
        #[arg(long, env = "ROSTER_LOGIN_LOCK_SECONDS", default_value_t = 300)]
        login_lock_seconds: u64,
        /// `smtp://[user:password@]host[:port]` (or `smtps://`) for mail such as password
        /// resets; without it mail goes to the outbox (`roster outbox`).
        #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The sender of that mail, e.g. `Roster <roster@example.com>`.
        #[arg(long, env = "ROSTER_SMTP_FROM")]
        smtp_from: Option<String>,
    },
    /// Apply the store's migrations, then exit.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
        /// Do not take PostgreSQL's advisory lock (CockroachDB has none; run this once).
        #[arg(long)]
        no_lock: bool,
    },
    /// Manage domains (tenants) on the store directly, as the deployment's operator.
    Domain {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: DomainCommand,
    },
    /// Manage access keys on the store directly, as the domain's superadmin.
    AccessKey {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: AccessKeyCommand,
    },
    /// Show the domain's outbox: mail kept because no SMTP server is configured (password
    /// reset tokens among it), newest first, one JSON document a line.
    Outbox {
        #[command(flatten)]
        store: StoreArgs,
        /// How many messages at most.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Log in to a server and keep the session (password from `ROSTER_PASSWORD` or asked).
    Login {
        /// The server, e.g. `http://127.0.0.1:8080`.
        #[arg(long, env = "ROSTER_SERVER")]
        server: String,
        #[arg(long, default_value = "admin")]
        username: String,
    },
    /// Revoke the saved session and forget it.
    Logout,
    /// Users of the server you are logged in to.
    User {
        #[command(subcommand)]
        command: remote::UserCommand,
        /// JSON instead of a table (one document a line).
        #[arg(long, global = true)]
        json: bool,
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

#[derive(Subcommand)]
enum DomainCommand {
    /// Create a domain and its first superadmin. Its password comes from
    /// `ROSTER_NEW_ADMIN_PASSWORD`, or is generated and printed once.
    Create {
        /// The domain's name.
        #[arg(long)]
        name: String,
        /// Its id (the first label of its host name); generated when omitted.
        #[arg(long)]
        id: Option<String>,
        /// Make it a subdomain of this top-level domain.
        #[arg(long)]
        parent: Option<String>,
        /// The first superadmin's user id.
        #[arg(long, default_value = "admin")]
        admin_user_id: String,
    },
    /// List the top-level domains, or the subdomains of `--parent`.
    List {
        #[arg(long)]
        parent: Option<String>,
    },
    /// Delete a domain with everything in it.
    Delete {
        id: String,
        /// Required: everything in the domain is deleted.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum AccessKeyCommand {
    /// Issue a key pair for a user of `--domain-id`; prints it as JSON, secret included (the
    /// only time it is shown).
    Create {
        /// The user whose rights the key carries.
        #[arg(long, default_value = "admin")]
        user: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the domain's keys (without secrets), one JSON document a line.
    List,
    /// Disable a key: requests signed with it are refused.
    Disable { access_key_id: String },
    /// Enable a disabled key again.
    Enable { access_key_id: String },
    /// Delete a key.
    Delete { access_key_id: String },
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
            login_max_failures,
            login_lock_seconds,
            smtp_url,
            smtp_from,
        } => {
            let mut config = store.into_config();
            config.listen = listen;
            config.smtp_url = smtp_url;
            config.smtp_from = smtp_from;
            config.tokens.lockout = LockoutSettings {
                max_failures: login_max_failures,
                lock_for: std::time::Duration::from_secs(login_lock_seconds),
            };
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
        Command::Outbox { store, limit } => outbox_command(store.into_config(), limit).await,
        Command::Login { server, username } => remote::login(server, username).await,
        Command::Logout => remote::logout().await,
        Command::User { command, json } => remote::user(command, json).await,
        Command::Domain { store, command } => domain_command(store.into_config(), command).await,
        Command::AccessKey { store, command } => {
            access_key_command(store.into_config(), command).await
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

/// The services over the configured store, bootstrapped as at the server's first start, so
/// that admin commands work on a new store too.
async fn bootstrapped_services(
    config: &Config,
) -> anyhow::Result<(
    roster_server::service::Services,
    std::sync::Arc<roster_server::store::SqlStore>,
)> {
    let (services, store) = roster_server::startup::open_services(config).await?;
    services
        .bootstrap(
            &config.domain_id,
            config.admin_password.as_deref(),
            &config.data_dir,
        )
        .await?;
    Ok((services, store))
}

/// Runs a `roster domain` command as the operator: a superadmin of the operator domain (the
/// one named by `--domain-id`, created on first start), on the store directly.
async fn domain_command(config: Config, command: DomainCommand) -> anyhow::Result<()> {
    let (services, store) = bootstrapped_services(&config).await?;
    let operator = Actor {
        domain_id: config.domain_id.clone(),
        user_id: "roster-cli".into(),
        role: Role::Superadmin,
    };
    let acting = |parent: &Option<String>| Actor {
        domain_id: parent.clone().unwrap_or_else(|| operator.domain_id.clone()),
        ..operator.clone()
    };
    let outcome = match command {
        DomainCommand::Create {
            name,
            id,
            parent,
            admin_user_id,
        } => {
            let request = CreateDomainRequest {
                domain_name: name,
                domain_id: id,
                parent_domain_id: parent.clone(),
                admin_user_id: Some(admin_user_id),
                admin_password: std::env::var("ROSTER_NEW_ADMIN_PASSWORD")
                    .ok()
                    .filter(|p| !p.is_empty()),
                ..CreateDomainRequest::default()
            };
            // A subdomain is created by its parent's superadmin.
            let creator = if parent.is_some() {
                acting(&parent)
            } else {
                operator.clone()
            };
            services
                .create_domain(&creator, request)
                .await
                .map(|created| println!("{}", serde_json::json!(created)))
        }
        DomainCommand::List { parent } => {
            let mut request = ListDomainRequest::default();
            loop {
                let page = match services
                    .list_domains(&acting(&parent), request.clone())
                    .await
                {
                    Ok(page) => page,
                    Err(e) => break Err(e),
                };
                for domain in &page.items {
                    println!(
                        "{}\t{}\t{}",
                        domain.domain_id, domain.domain_name, domain.parent_domain_id
                    );
                }
                if page.next_marker.is_empty() {
                    break Ok(());
                }
                request.marker = Some(page.next_marker);
            }
        }
        DomainCommand::Delete { id, force } => {
            let parent = services
                .store
                .domain(&id)
                .await?
                .map(|d| d.parent_domain_id);
            let parent = parent.filter(|p| !p.is_empty());
            let request = DeleteDomainRequest {
                domain_id: id.clone(),
                force: Some(force),
            };
            services
                .delete_domain(&acting(&parent), request)
                .await
                .map(|()| println!("deleted domain {id}"))
        }
    };
    store.close().await;
    outcome.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs a `roster access-key` command as a superadmin of `--domain-id`, on the store directly.
async fn access_key_command(config: Config, command: AccessKeyCommand) -> anyhow::Result<()> {
    let (services, store) = bootstrapped_services(&config).await?;
    let superadmin = Actor {
        domain_id: config.domain_id.clone(),
        user_id: "roster-cli".into(),
        role: Role::Superadmin,
    };
    let status = |access_key_id: String, status: AccessKeyStatus| UpdateAccessKeyRequest {
        access_key_id,
        status,
    };
    let outcome = match command {
        AccessKeyCommand::Create { user, description } => services
            .create_access_key(
                &superadmin,
                CreateAccessKeyRequest {
                    user_id: Some(user),
                    description,
                },
            )
            .await
            .map(|key| println!("{}", serde_json::json!(key))),
        AccessKeyCommand::List => {
            let mut request = ListAccessKeyRequest::default();
            loop {
                match services
                    .list_access_keys(&superadmin, request.clone())
                    .await
                {
                    Ok(page) => {
                        for key in &page.items {
                            println!("{}", serde_json::json!(key));
                        }
                        if page.next_marker.is_empty() {
                            break Ok(());
                        }
                        request.marker = Some(page.next_marker);
                    }
                    Err(e) => break Err(e),
                }
            }
        }
        AccessKeyCommand::Disable { access_key_id } => services
            .update_access_key(
                &superadmin,
                status(access_key_id, AccessKeyStatus::Disabled),
            )
            .await
            .map(|key| println!("{}", serde_json::json!(key))),
        AccessKeyCommand::Enable { access_key_id } => services
            .update_access_key(&superadmin, status(access_key_id, AccessKeyStatus::Enabled))
            .await
            .map(|key| println!("{}", serde_json::json!(key))),
        AccessKeyCommand::Delete { access_key_id } => services
            .delete_access_key(&superadmin, &access_key_id)
            .await
            .map(|()| println!("deleted access key {access_key_id}")),
    };
    store.close().await;
    outcome.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Prints the newest `limit` messages of the outbox of `--domain-id`, as its superadmin.
async fn outbox_command(config: Config, limit: i64) -> anyhow::Result<()> {
    let (services, store) = bootstrapped_services(&config).await?;
    let superadmin = Actor {
        domain_id: config.domain_id.clone(),
        user_id: "roster-cli".into(),
        role: Role::Superadmin,
    };
    let mut remaining = limit.max(0);
    let mut marker = String::new();
    let outcome = loop {
        if remaining == 0 {
            break Ok(());
        }
        let page = services
            .outbox(&superadmin, Some(remaining.min(100)), Some(&marker))
            .await;
        match page {
            Ok((messages, next)) => {
                for m in &messages {
                    println!(
                        "{}",
                        serde_json::json!({
                            "message_id": m.message_id,
                            "recipient": m.recipient,
                            "subject": m.subject,
                            "body": m.body,
                            "created_at": m.created_at,
                        })
                    );
                }
                remaining -= messages.len() as i64;
                if next.is_empty() {
                    break Ok(());
                }
                marker = next;
            }
            Err(e) => break Err(e),
        }
    };
    store.close().await;
    outcome.map_err(|e| anyhow::anyhow!("{e}"))
}
