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
    /// `--metrics-listen`: its own listener and router.
    metrics: Option<(TcpListener, axum::Router)>,
    services: Services,
    drain_grace: Duration,
    store: Arc<SqlStore>,
    bootstrap: Bootstrap,
    audit_retention: Option<Duration>,
    event_retention: Option<Duration>,
    lockout: LockoutSettings,
    clock: Clock,
    /// The LDAP gateway, when `--ldap-listen` or `--ldaps-listen` is given.
    ldap: Option<crate::ldap::LdapServer>,
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
        metrics: Arc::default(),
        draining: Arc::default(),
        webhooks: config.webhooks.clone(),
        webhook_seal: webhook_seal(config)?,
    };
    Ok((services, store))
}

/// The key that seals webhook secrets: `--webhook-key-file`, or the one in the data
/// directory (made on first start).
fn webhook_seal(config: &Config) -> anyhow::Result<crate::service::webhooks::seal::SecretSeal> {
    use crate::service::webhooks::seal::{SecretSeal, KEY_FILE};
    let path = config
        .webhooks
        .key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join(KEY_FILE));
    SecretSeal::load_or_create(&path)
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
        let metrics_listener = match config.metrics_listen.as_deref() {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("listening for metrics on {address}"))?,
            ),
            None => None,
        };
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
        let metrics =
            metrics_listener.map(|listener| (listener, http::metrics_router(services.clone())));
        let ldap = crate::ldap::LdapServer::bind(&config.ldap, services.clone(), &config.domain_id)
            .await?;
        let mut router = http::router(AppState {
            services: std::sync::Arc::new(services.clone()),
            metrics_here: metrics.is_none(),
            default_domain: config.domain_id.as_str().into(),
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
            metrics,
            services,
            drain_grace: config.drain_grace,
            store,
            bootstrap,
            audit_retention: config.audit_retention,
            event_retention: config.event_retention,
            lockout: config.tokens.lockout,
            clock: config.clock,
            ldap,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The address of `--metrics-listen`, when configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// The LDAP gateway's plain address, when it serves.
    pub fn ldap_addr(&self) -> Option<SocketAddr> {
        self.ldap.as_ref().and_then(|l| l.local_addr())
    }

    /// The LDAP gateway's LDAPS address, when it serves.
    pub fn ldaps_addr(&self) -> Option<SocketAddr> {
        self.ldap.as_ref().and_then(|l| l.ldaps_addr())
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
        let audit_store = self.store.clone();
        let sweeper = self.audit_retention.map(|keep| {
            tokio::spawn(sweep_past_retention(
                "audit records",
                keep,
                self.clock.clone(),
                move |before| {
                    use crate::store::AuditStore;
                    let store = audit_store.clone();
                    async move { store.purge_audit(before).await }
                },
            ))
        });
        let event_store = self.store.clone();
        let event_sweeper = self.event_retention.map(|keep| {
            tokio::spawn(sweep_past_retention(
                "events",
                keep,
                self.clock.clone(),
                move |before| {
                    use crate::store::EventStore;
                    let store = event_store.clone();
                    async move { store.purge_events(before).await }
                },
            ))
        });
        let ldap = self.ldap.map(|server| tokio::spawn(server.run()));
        let login_sweeper = tokio::spawn(sweep_login_failures(
            self.store.clone(),
            self.lockout,
            self.clock.clone(),
        ));
        let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(self.services.clone().run_webhook_worker(worker_stop));
        let metrics_server = self.metrics.map(|(listener, router)| {
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::warn!(error = %e, "the metrics listener stopped");
                }
            })
        });
        // From the shutdown signal on, readiness answers 503; the server keeps serving for
        // the drain grace (so a load balancer notices), then finishes in-flight requests.
        let services = self.services.clone();
        let drain_grace = self.drain_grace;
        let drain = async move {
            shutdown.await;
            services.start_draining();
            tracing::info!(
                grace_s = drain_grace.as_secs(),
                "draining: readiness answers 503"
            );
            tokio::time::sleep(drain_grace).await;
        };
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(drain)
        .await
        .context("serving HTTP");
        if let Some(metrics_server) = metrics_server {
            metrics_server.abort();
        }
        // The worker finishes the deliveries in hand (each bounded by the webhook timeout);
        // whatever it had not marked delivered is sent again by the next worker.
        let _ = stop_worker.send(true);
        let _ = tokio::time::timeout(
            self.services.webhooks.timeout + Duration::from_secs(2),
            worker,
        )
        .await;
        for sweeper in [sweeper, event_sweeper].into_iter().flatten() {
            sweeper.abort();
        }
        login_sweeper.abort();
        if let Some(ldap) = ldap {
            ldap.abort();
        }
        self.store.close().await;
        served
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Deletes rows older than `keep` (audit records, events) with `purge`, now and then: four
/// times per retention period, at most hourly.
async fn sweep_past_retention<F, Fut>(what: &'static str, keep: Duration, clock: Clock, purge: F)
where
    F: Fn(i64) -> Fut,
    Fut: Future<Output = crate::error::Result<u64>>,
{
    let every = (keep / 4).clamp(Duration::from_millis(250), Duration::from_secs(3600));
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    loop {
        let before = clock.now_ms().saturating_sub(keep_ms);
        match purge(before).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, what, "rows past retention deleted"),
            Err(e) => tracing::warn!(error = %e, what, "retention sweep failed"),
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
