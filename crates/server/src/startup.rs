//! Building and running the server: open the store, bootstrap, bind, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, StoreLocation};
use crate::http::{self, AppState};
use crate::service::bootstrap::Bootstrap;
use crate::service::mail::Mailer;
use crate::service::passwords::Passwords;
use crate::service::tenancy::{self, Routing};
use crate::service::tokens::{LockoutSettings, TokenKeys};
use crate::service::Services;
use crate::store::{SqlStore, Store};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Arc<SqlStore>,
    bootstrap: Bootstrap,
    audit_retention: Option<Duration>,
    lockout: LockoutSettings,
    clock: Clock,
}

/// Opens the configured store, applying its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    match config.store_location() {
        StoreLocation::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            SqlStore::open_sqlite(&path).await
        }
        StoreLocation::Postgres(url) => SqlStore::open_postgres(&url, config.migrations).await,
    }
}

/// Opens the store and builds the services over it, as the server and the admin commands
/// of the CLI both need them.
pub async fn open_services(config: &Config) -> anyhow::Result<(Services, Arc<SqlStore>)> {
    ensure_data_dir(&config.data_dir)?;
    if let Some(base) = config.base_domain.as_deref() {
        anyhow::ensure!(
            tenancy::is_base_domain(base),
            "ROSTER_BASE_DOMAIN must be a host name such as api.example.com"
        );
    }
    let store = Arc::new(open_store(config).await?);
    let tokens = TokenKeys::load_or_create(store.as_ref(), &config.clock).await?;
    let services = Services {
        store: store.clone() as Arc<dyn Store>,
        passwords: Passwords::new()?,
        tokens: Arc::new(tokens),
        token_settings: config.tokens,
        login_gates: Arc::default(),
        mailer: Mailer::new(
            config.smtp_url.as_deref(),
            config.smtp_from.as_deref(),
            config.clock.clone(),
        )?,
        routing: Routing::new(config.base_domain.as_deref(), &config.domain_id),
        public_url: config.public_url.clone(),
        id_token_key: Arc::default(),
        clock: config.clock.clone(),
    };
    Ok((services, store))
}

/// Creates the data directory if it is missing; a path that names something else is an
/// error that says so.
pub fn ensure_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "the data directory {} is not a directory (--data-dir, ROSTER_DATA_DIR)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        // Bind first: a server that cannot listen must leave nothing behind (no data
        // directory, no database, no generated credentials).
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let (services, store) = open_services(&config).await?;
        let bootstrap = services
            .bootstrap(
                &config.domain_id,
                config.admin_password.as_deref(),
                &config.data_dir,
            )
            .await?;
        match &bootstrap {
            Bootstrap::AlreadyDone if config.admin_password.is_some() => tracing::warn!(
                domain = config.domain_id,
                "ROSTER_ADMIN_PASSWORD is ignored: it sets the first superadmin's password on \
                 the first start only; to reset a password use `roster admin reset-password`"
            ),
            Bootstrap::AlreadyDone => tracing::info!(domain = config.domain_id, "store ready"),
            Bootstrap::Created => {
                tracing::info!(domain = config.domain_id, "created domain and user admin")
            }
            Bootstrap::CreatedWithGeneratedPassword(path) => tracing::info!(
                domain = config.domain_id,
                credentials = %path.display(),
                "created domain and user admin; its generated password is in the credentials file"
            ),
        }
        let mut router = http::router(AppState {
            services,
            default_domain: config.domain_id.clone(),
            trusted_proxy_hops: if config.trust_forwarded_for {
                config.trusted_proxy_hops
            } else {
                0
            },
        });
        if let Some(cors) = http::cors(&config.cors_origins) {
            router = router.layer(cors);
        }
        Ok(Application {
            listener,
            router,
            store,
            bootstrap,
            audit_retention: config.audit_retention,
            lockout: config.tokens.lockout,
            clock: config.clock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// What the first-start bootstrap did on this start.
    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and closes the
    /// store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.local_addr(), "listening");
        let sweeper = self.audit_retention.map(|keep| {
            tokio::spawn(sweep_audit_log(
                self.store.clone(),
                keep,
                self.clock.clone(),
            ))
        });
        let login_sweeper = tokio::spawn(sweep_login_failures(
            self.store.clone(),
            self.lockout,
            self.clock.clone(),
        ));
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        login_sweeper.abort();
        self.store.close().await;
        served
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Deletes audit records older than `keep`, now and then: four times per retention period,
/// at most hourly.
async fn sweep_audit_log(store: Arc<SqlStore>, keep: Duration, clock: Clock) {
    use crate::store::AuditStore;
    let every = (keep / 4).clamp(Duration::from_millis(250), Duration::from_secs(3600));
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    loop {
        let before = clock.now_ms().saturating_sub(keep_ms);
        match store.purge_audit(before).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "audit records past retention deleted"),
            Err(e) => tracing::warn!(error = %e, "audit retention sweep failed"),
        }
        clock.sleep(every).await;
    }
}

/// Deletes failed-login rows once they neither count nor lock (a lock window after their
/// last failure), so that guessed names, known or not, do not pile up: every lock window, at
/// least every second and at most every ten minutes.
async fn sweep_login_failures(store: Arc<SqlStore>, lockout: LockoutSettings, clock: Clock) {
    use crate::store::TokenStore;
    let every = lockout
        .lock_for
        .clamp(Duration::from_secs(1), Duration::from_secs(600));
    let window_ms = i64::try_from(lockout.lock_for.as_millis()).unwrap_or(i64::MAX);
    loop {
        clock.sleep(every).await;
        let now = clock.now_ms();
        match store
            .purge_login_failures(now.saturating_sub(window_ms), now)
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired failed-login rows deleted"),
            Err(e) => tracing::warn!(error = %e, "failed-login sweep failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
