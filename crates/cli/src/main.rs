//! `roster`: the one binary. `roster serve` runs the server; `migrate`, `domain`,
//! `access-key` and `migrate-store` operate on a store directly; `login`, `user`, `group`,
//! `member`, `drive` and `import` talk to a running server through `roster-client`.

mod audit;
mod drives;
mod groups;
mod import;
mod remote;
mod users;
mod webhooks;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use roster_api::domains::CreateDomainRequest;
use roster_server::config::{ServeSettings, StoreSettings};
use roster_server::http::pds::translate;
use roster_server::model::{AccessKeyStatus, DomainSearch, Role};
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
    /// JSON instead of a table: one document, or one a line for lists.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    #[command(
        after_help = "Examples:\n  roster serve\n  ROSTER_DATABASE_URL=postgres://roster@db/roster roster serve --listen 0.0.0.0:8080"
    )]
    Serve {
        // Boxed: the server's settings dwarf every other command's arguments.
        #[command(flatten)]
        settings: Box<ServeSettings>,
    },
    /// Apply the store's migrations, then exit.
    #[command(
        after_help = "Examples:\n  roster migrate\n  roster migrate --database-url postgres://roster@db/roster --no-lock"
    )]
    Migrate {
        #[command(flatten)]
        store: StoreSettings,
        /// Do not take PostgreSQL's advisory lock (CockroachDB has none; run this once).
        #[arg(long)]
        no_lock: bool,
    },
    /// Manage domains (tenants) on the store directly, as the deployment's operator.
    #[command(
        after_help = "Examples:\n  roster domain create --name Acme --id acme\n  roster domain list"
    )]
    Domain {
        #[command(flatten)]
        store: StoreSettings,
        #[command(subcommand)]
        command: DomainCommand,
    },
    /// Manage access keys on the store directly, as the domain's superadmin.
    #[command(
        after_help = "Examples:\n  roster access-key create --user admin --description ci\n  roster access-key list"
    )]
    AccessKey {
        #[command(flatten)]
        store: StoreSettings,
        #[command(subcommand)]
        command: AccessKeyCommand,
    },
    /// Recover an account on the store directly, as the deployment's operator: when the
    /// admin's password is lost, or an identity is locked after failed logins. Works with the
    /// server stopped or running.
    #[command(
        after_help = "Examples:\n  roster admin reset-password\n  ROSTER_NEW_PASSWORD=... roster admin reset-password --user alice\n  roster admin unlock --user admin"
    )]
    Admin {
        #[command(flatten)]
        store: StoreSettings,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Show the domain's outbox: mail kept because no SMTP server is configured (password
    /// reset tokens among it), newest first, one JSON document a line.
    #[command(after_help = "Examples:\n  roster outbox\n  roster outbox --limit 10 | jq .subject")]
    Outbox {
        #[command(flatten)]
        store: StoreSettings,
        /// How many messages at most.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Log in to a server and keep the session (password from `ROSTER_PASSWORD` or asked).
    #[command(
        after_help = "Examples:\n  roster login --server http://127.0.0.1:8080\n  ROSTER_PASSWORD=... roster login --server https://roster.example.com --username ops@example.com"
    )]
    Login {
        /// The server, e.g. `http://127.0.0.1:8080`.
        #[arg(long, env = "ROSTER_SERVER")]
        server: String,
        #[arg(long, default_value = "admin")]
        username: String,
    },
    /// Revoke the saved session and forget it.
    #[command(after_help = "Example:\n  roster logout")]
    Logout,
    /// Users of the server you are logged in to.
    #[command(
        after_help = "Examples:\n  roster user list\n  roster user create bob --email bob@example.com"
    )]
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// Groups (departments) of the server you are logged in to.
    #[command(after_help = "Examples:\n  roster group create Engineering\n  roster group list")]
    Group {
        #[command(subcommand)]
        command: groups::GroupCommand,
    },
    /// Members of a group.
    #[command(
        after_help = "Examples:\n  roster member add <group_id> bob\n  roster member list <group_id>"
    )]
    Member {
        #[command(subcommand)]
        command: groups::MemberCommand,
    },
    /// The audit log of your domain (admin): who changed what, from where, and how it went.
    #[command(
        after_help = "Examples:\n  roster audit\n  roster audit --actor bob --since 2026-11-01T00:00:00\n  roster audit --action account.login --outcome failure --json\n  roster audit --export audit.csv"
    )]
    Audit(audit::AuditArgs),
    /// Drives and their quotas.
    #[command(
        after_help = "Examples:\n  roster drive list --owner bob\n  roster drive update <drive_id> --size 20G"
    )]
    Drive {
        #[command(subcommand)]
        command: drives::DriveCommand,
    },
    /// Webhooks of your domain (admin): endpoints that receive its change events, signed
    /// (Standard Webhooks); their test call, dead letters, redelivery and delivery log.
    #[command(
        after_help = "Examples:\n  roster webhook create --url https://drive.example.com/roster-events\n  roster webhook list\n  roster webhook redeliver <webhook_id>"
    )]
    Webhook {
        #[command(subcommand)]
        command: webhooks::WebhookCommand,
    },
    /// Import users with their logon accounts from a CSV file (UTF-8, a header row, quoted
    /// fields allowed). Columns, in any order: user_id, nick_name, authentication_type
    /// (email, mobile, ldap, custom; default email), identity (required), email, phone,
    /// password, group_id, drive_size (bytes, or 10G; gives the user a default drive).
    /// Rows whose user exists already are skipped, so an interrupted import is resumed by
    /// running it again. Rows that fail go to a reject file with their line and error code,
    /// as do rows repeating the user_id or identity of an earlier row of the file.
    /// Exits with status 3 when some rows failed.
    #[command(after_help = IMPORT_EXAMPLES)]
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Batches of rows in flight at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Rows per `/v2/batch` request (1..100).
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
        /// Where failed rows go; default `<file stem>.rejects.csv` beside the file.
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  roster completions bash > ~/.local/share/bash-completion/completions/roster\n  roster completions zsh > ~/.zfunc/_roster\n  roster completions fish > ~/.config/fish/completions/roster.fish"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write a consistent copy of the SQLite store to a new file while the server runs (to
    /// restore: stop the server and put the copy in place of `<data-dir>/roster.db`). For
    /// PostgreSQL use pg_dump; see docs/operations.md.
    #[command(
        after_help = "Examples:\n  roster backup --to /backups/roster-$(date +%F).db\n  roster backup --data-dir /var/lib/roster --to /backups/roster.db"
    )]
    Backup {
        #[command(flatten)]
        store: StoreSettings,
        /// The new backup file (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Copy a whole domain (users, accounts, passwords) from one store to another, e.g.
    /// from the embedded SQLite file to PostgreSQL. The target must not have the domain yet.
    #[command(
        after_help = "Example:\n  roster migrate-store --from sqlite://data/roster.db --to postgres://roster@db/roster --domain default"
    )]
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
    #[command(
        after_help = "Examples:\n  roster domain create --name Acme --id acme\n  ROSTER_NEW_ADMIN_PASSWORD=... roster domain create --name Sales --parent acme"
    )]
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
    #[command(after_help = "Examples:\n  roster domain list\n  roster domain list --parent acme")]
    List {
        #[arg(long)]
        parent: Option<String>,
    },
    /// Delete a domain with everything in it.
    #[command(after_help = "Example:\n  roster domain delete acme --force")]
    Delete {
        id: String,
        /// Required: everything in the domain is deleted.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set a new password for a user of `--domain-id` (from `ROSTER_NEW_PASSWORD`, or
    /// generated and printed once) and lift the lock of its logon identities.
    #[command(
        after_help = "Examples:\n  roster admin reset-password\n  ROSTER_NEW_PASSWORD=... roster admin reset-password --user alice"
    )]
    ResetPassword {
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// Lift the failed-login lock of every logon identity of a user of `--domain-id`.
    #[command(after_help = "Examples:\n  roster admin unlock\n  roster admin unlock --user alice")]
    Unlock {
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

#[derive(Subcommand)]
enum AccessKeyCommand {
    /// Issue a key pair for a user of `--domain-id`; prints it as JSON, secret included (the
    /// only time it is shown).
    #[command(after_help = "Example:\n  roster access-key create --user admin --description ci")]
    Create {
        /// The user whose rights the key carries.
        #[arg(long, default_value = "admin")]
        user: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the domain's keys (without secrets), one JSON document a line.
    #[command(after_help = "Example:\n  roster access-key list")]
    List,
    /// Disable a key: requests signed with it are refused.
    #[command(after_help = "Example:\n  roster access-key disable <access_key_id>")]
    Disable { access_key_id: String },
    /// Enable a disabled key again.
    #[command(after_help = "Example:\n  roster access-key enable <access_key_id>")]
    Enable { access_key_id: String },
    /// Delete a key.
    #[command(after_help = "Example:\n  roster access-key delete <access_key_id>")]
    Delete { access_key_id: String },
}

/// The server's configuration for these settings, with the first superadmin's password
/// from the environment only: a flag would show the password in `ps`.
fn with_admin_password(mut config: Config) -> Config {
    config.admin_password = std::env::var("ROSTER_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    config
}

/// A configuration that opens the store at `url` and nothing else.
fn store_config(url: &str) -> Config {
    Config {
        database_url: Some(url.to_owned()),
        ..Config::default()
    }
}

/// Parses the command line and runs the command. An ordinary error is one line on stderr
/// (its causes after colons, never a backtrace) and exit status 1.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. }) {
        die_quietly_on_closed_pipe();
    }
    roster_server::init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&anyhow::Error::new(e).context("starting the async runtime")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(error: &anyhow::Error) -> std::process::ExitCode {
    eprintln!("error: {error:#}");
    std::process::ExitCode::FAILURE
}

/// `roster user list | head` must end like any Unix filter when `head` stops reading: by
/// SIGPIPE, silently, instead of a panic in the middle of a `println!`. (Rust ignores SIGPIPE
/// by default; the server keeps that, so a closed log pipe never kills it.)
fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; restores the default disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Serve { settings } => {
            let config = with_admin_password((*settings).into_config());
            Application::build(config).await?.run_until_stopped().await
        }
        Command::Migrate { store, no_lock } => {
            let mut config = with_admin_password(store.into_config());
            if no_lock {
                config.migrations = Migrations::ApplyWithoutLock;
            }
            roster_server::startup::ensure_data_dir(&config.data_dir)?;
            let store = roster_server::startup::open_store(&config).await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Outbox { store, limit } => {
            outbox_command(with_admin_password(store.into_config()), limit).await
        }
        Command::Admin { store, command } => {
            admin_command(with_admin_password(store.into_config()), command).await
        }
        Command::Login { server, username } => remote::login(server, username).await,
        Command::Logout => remote::logout().await,
        Command::User { command } => users::user(command, json).await,
        Command::Group { command } => groups::group(command, json).await,
        Command::Member { command } => groups::member(command, json).await,
        Command::Drive { command } => drives::drive(command, json).await,
        Command::Webhook { command } => webhooks::webhook(command, json).await,
        Command::Audit(args) => audit::audit(args, json).await,
        Command::Import {
            file,
            concurrency,
            batch_size,
            rejects,
        } => {
            let options = import::Options {
                file,
                concurrency,
                batch_size,
                rejects,
            };
            run_import(&options).await
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "roster", &mut std::io::stdout());
            Ok(())
        }
        Command::Domain { store, command } => {
            domain_command(with_admin_password(store.into_config()), command).await
        }
        Command::AccessKey { store, command } => {
            access_key_command(with_admin_password(store.into_config()), command).await
        }
        Command::Backup { store, to } => {
            let store =
                roster_server::startup::open_store(&with_admin_password(store.into_config()))
                    .await?;
            let done = store.backup_sqlite(&to).await;
            store.close().await;
            done?;
            println!("backed up to {}", to.display());
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

const IMPORT_EXAMPLES: &str = "Example file:
  user_id,nick_name,identity,password,group_id,drive_size
  ann,Ann Lee,ann@example.com,,,10G
  bob,\"Tables, Bobby\",bob@example.com,S3cret-pass,<group_id>,

Examples:
  roster import users.csv
  roster import users.csv --concurrency 8 --rejects failed.csv";

/// Runs `roster import` with the saved session and prints its summary.
async fn run_import(options: &import::Options) -> anyhow::Result<()> {
    let (client, session) = remote::client()?;
    let summary = import::import(&client, options).await;
    remote::keep_renewed(&client, session)?;
    let summary = summary?;
    println!(
        "created {}, skipped as existing {}, failed {}",
        summary.created, summary.existing, summary.failed
    );
    if let Some(path) = &summary.rejects {
        println!("failed rows written to {}", path.display());
        std::process::exit(3);
    }
    Ok(())
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
        domain_id: config.domain_id.clone().into(),
        user_id: "roster-cli".into(),
        role: Role::Superadmin,
        // Outside any request: the CLI's changes are not in the audit log.
        trail: roster_server::audit::Trail::none(),
    };
    let acting = |parent: &Option<String>| Actor {
        domain_id: parent
            .as_deref()
            .map_or_else(|| operator.domain_id.clone(), Into::into),
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
                .create_domain(&creator, translate::new_domain(request))
                .await
                .map(|created| {
                    let created = translate::created_domain(created);
                    println!("{}", serde_json::json!(created))
                })
        }
        DomainCommand::List { parent } => {
            let mut request = DomainSearch::default();
            loop {
                let page = match services
                    .list_domains(&acting(&parent), request.clone(), false)
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
            services
                .delete_domain(&acting(&parent), &id, force)
                .await
                .map(|()| println!("deleted domain {id}"))
        }
    };
    store.close().await;
    outcome.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs a `roster admin` command on the store directly.
async fn admin_command(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    let (services, store) = bootstrapped_services(&config).await?;
    let domain_id = config.domain_id.as_str();
    let outcome = match command {
        AdminCommand::ResetPassword { user } => {
            let given = std::env::var("ROSTER_NEW_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty());
            let generated = given
                .is_none()
                .then(|| roster_server::service::random_hex(12));
            let password = given.or_else(|| generated.clone());
            services
                .recover_account(domain_id, &user, password)
                .await
                .map(|_| match generated {
                    Some(password) => {
                        println!("new password of {user} in domain {domain_id}: {password}")
                    }
                    None => println!("password of {user} in domain {domain_id} replaced"),
                })
        }
        AdminCommand::Unlock { user } => services
            .recover_account(domain_id, &user, None)
            .await
            .map(|done| {
                println!(
                    "unlocked {user} in domain {domain_id} ({} logon identities)",
                    done.identities.len()
                )
            }),
    };
    store.close().await;
    outcome.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs a `roster access-key` command as a superadmin of `--domain-id`, on the store directly.
async fn access_key_command(config: Config, command: AccessKeyCommand) -> anyhow::Result<()> {
    let (services, store) = bootstrapped_services(&config).await?;
    let superadmin = Actor {
        domain_id: config.domain_id.clone().into(),
        user_id: "roster-cli".into(),
        role: Role::Superadmin,
        // Outside any request: the CLI's changes are not in the audit log.
        trail: roster_server::audit::Trail::none(),
    };
    let outcome = match command {
        AccessKeyCommand::Create { user, description } => services
            .create_access_key(&superadmin, Some(user), description)
            .await
            .map(|issued| {
                let created = translate::issued_access_key(issued);
                println!("{}", serde_json::json!(created))
            }),
        AccessKeyCommand::List => {
            let mut marker: Option<String> = None;
            loop {
                match services
                    .list_access_keys(&superadmin, None, None, marker.as_deref())
                    .await
                {
                    Ok(page) => {
                        for key in page.items {
                            println!("{}", serde_json::json!(translate::access_key(key)));
                        }
                        if page.next_marker.is_empty() {
                            break Ok(());
                        }
                        marker = Some(page.next_marker);
                    }
                    Err(e) => break Err(e),
                }
            }
        }
        AccessKeyCommand::Disable { access_key_id } => services
            .update_access_key(&superadmin, &access_key_id, AccessKeyStatus::Disabled)
            .await
            .map(|key| println!("{}", serde_json::json!(translate::access_key(key)))),
        AccessKeyCommand::Enable { access_key_id } => services
            .update_access_key(&superadmin, &access_key_id, AccessKeyStatus::Enabled)
            .await
            .map(|key| println!("{}", serde_json::json!(translate::access_key(key)))),
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
        domain_id: config.domain_id.clone().into(),
        user_id: "roster-cli".into(),
        role: Role::Superadmin,
        // Outside any request: the CLI's changes are not in the audit log.
        trail: roster_server::audit::Trail::none(),
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
