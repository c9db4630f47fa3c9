//! Server settings. The binary fills them from flags and `ROSTER_*` variables; tests build
//! them directly.

use std::fmt;
use std::path::PathBuf;

use crate::clock::Clock;
use crate::service::tokens::{LockoutSettings, TokenSettings};
use crate::store::Migrations;

#[derive(Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// Where the SQLite database and the generated admin credentials live.
    pub data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL, `sqlite://path` for another SQLite file; `None`
    /// for `<data_dir>/roster.db`.
    pub database_url: Option<String>,
    /// The domain created on first start and used when `Host` names no other.
    pub domain_id: String,
    /// The first superadmin's password; generated (and written to a 0600 file) when unset.
    pub admin_password: Option<String>,
    pub tokens: TokenSettings,
    /// What to do with PostgreSQL migrations at start (SQLite always applies its own).
    pub migrations: Migrations,
    /// Browser origins allowed cross-origin calls (`https://app.example.com`); none: CORS off.
    pub cors_origins: Vec<String>,
    /// `smtp://[user:password@]host[:port]` to send mail (password resets); without it mail
    /// goes to the outbox table.
    pub smtp_url: Option<String>,
    /// The sender of that mail.
    pub smtp_from: Option<String>,
    /// How long audit records are kept; `None` keeps them for ever.
    pub audit_retention: Option<std::time::Duration>,
    /// How long change events (the `/v2/event/list` feed) are kept; `None` keeps them for ever.
    pub event_retention: Option<std::time::Duration>,
    /// Take the client address of audit records from `X-Forwarded-For` (set when a trusted
    /// proxy stands in front); otherwise it is the peer address of the connection.
    pub trust_forwarded_for: bool,
    /// With `trust_forwarded_for`: how many proxies of the operator's stand in front, each
    /// appending the address it saw to `X-Forwarded-For`. The client address is the entry this
    /// many places from the right; entries further left are the client's own words.
    pub trusted_proxy_hops: usize,
    /// The operator's base domain (`api.example.com`): only `<label>.api.example.com` routes a
    /// request to domain `<label>`. `None`: `Host` never selects a domain.
    pub base_domain: Option<String>,
    /// The LDAP gateway (`ldap/`): off unless a listen address is set.
    pub ldap: LdapSettings,
    /// The public base URL people reach Roster at (`https://roster.example.com`): the
    /// OpenID issuer and the origin of mailed links. `None`: taken from each request's `Host`.
    pub public_url: Option<String>,
    /// The time the server reads: the system clock, or a manual one tests move.
    pub clock: Clock,
    /// A separate address for `/metrics` (then not served on `listen`); `None`: on `listen`.
    pub metrics_listen: Option<String>,
    /// How long, after SIGTERM, the server keeps serving while `/readyz` answers 503 (so a
    /// load balancer stops sending traffic) before it stops accepting connections.
    pub drain_grace: std::time::Duration,
    /// Webhook delivery: the SSRF guard's exception, timeouts, retry window.
    pub webhooks: crate::service::webhooks::WebhookSettings,
}

/// Where and how the LDAP gateway serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapSettings {
    /// Plain LDAP (with StartTLS when a certificate is set); `None`: no LDAP.
    pub listen: Option<String>,
    /// LDAPS (TLS from the first byte); needs the certificate.
    pub ldaps_listen: Option<String>,
    /// The base DN of the default domain; other domains are `dc=<domain_id>`.
    pub base_dn: Option<String>,
    /// PEM certificate chain and private key for LDAPS and StartTLS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Users are also `posixAccount`s (uidNumber from the user's number), groups
    /// `posixGroup`s (gidNumber from the group's number).
    pub posix: bool,
    /// Most connections served at once (LDAP and LDAPS together); more are refused.
    pub max_connections: usize,
    /// How long a connection may stay silent before it is closed.
    pub idle_timeout: std::time::Duration,
}

impl Default for LdapSettings {
    fn default() -> Self {
        LdapSettings {
            listen: None,
            ldaps_listen: None,
            base_dn: None,
            tls_cert: None,
            tls_key: None,
            posix: false,
            max_connections: DEFAULT_LDAP_MAX_CONNECTIONS as usize,
            idle_timeout: std::time::Duration::from_secs(DEFAULT_LDAP_IDLE_SECONDS),
        }
    }
}

/// Audit records are kept for a year unless configured otherwise.
pub const DEFAULT_AUDIT_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(DEFAULT_AUDIT_RETENTION_DAYS * 24 * 3600);

// Each default is defined once, here: the flags of `roster serve` name them, and
// `Config::default()` is what no flags give.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// LDAP connections served at once: enough for every app of a large site with room to
/// spare, few enough that a flood of idle connections cannot exhaust file descriptors.
pub const DEFAULT_LDAP_MAX_CONNECTIONS: u32 = 1024;
/// Seconds an LDAP connection may stay silent (apps reconnect when they need to).
pub const DEFAULT_LDAP_IDLE_SECONDS: u64 = 900;
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_DOMAIN_ID: &str = "default";
pub const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 365;
pub const DEFAULT_EVENT_RETENTION_DAYS: u64 = 30;
pub const DEFAULT_TRUSTED_PROXY_HOPS: u16 = 1;
pub const DEFAULT_LOGIN_MAX_FAILURES: u32 = 5;
pub const DEFAULT_LOGIN_LOCK_SECONDS: u64 = 300;
pub const DEFAULT_DRAIN_SECONDS: u64 = 0;
pub const DEFAULT_SESSION_IDLE_MINUTES: u64 = 60;
pub const DEFAULT_SESSION_MAX_HOURS: u64 = 12;
/// Days one RS256 key signs ID tokens before the next takes over.
pub const DEFAULT_ID_TOKEN_KEY_DAYS: u64 = 30;
/// Self-service reset requests taken per identity, and reset mails sent per address, an hour.
pub const DEFAULT_SELF_RESETS_PER_HOUR: u32 = 5;

/// Where the store is: the flags of `roster serve` and of every command that opens the
/// store itself.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// Directory of the SQLite database and the generated admin credentials.
    #[arg(long, env = "ROSTER_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// `postgres://...` for PostgreSQL; default: SQLite at `<data-dir>/roster.db`.
    #[arg(long, env = "ROSTER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The domain created on first start.
    #[arg(long, env = "ROSTER_DOMAIN_ID", default_value = DEFAULT_DOMAIN_ID)]
    pub domain_id: String,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            domain_id: DEFAULT_DOMAIN_ID.into(),
        }
    }
}

impl StoreSettings {
    /// A configuration with these store settings and every other default.
    pub fn into_config(self) -> Config {
        ServeSettings {
            store: self,
            ..ServeSettings::default()
        }
        .into_config()
    }
}

/// The flags (and `ROSTER_*` variables) of `roster serve`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    #[command(flatten)]
    pub store: StoreSettings,
    /// Address to listen on.
    #[arg(long, env = "ROSTER_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// Do not touch the PostgreSQL schema at start (it was migrated with `roster migrate`).
    #[arg(long, env = "ROSTER_SKIP_MIGRATIONS")]
    pub skip_migrations: bool,
    /// Failed password logins in a row that lock an account identity (0: never).
    #[arg(long, env = "ROSTER_LOGIN_MAX_FAILURES", default_value_t = DEFAULT_LOGIN_MAX_FAILURES)]
    pub login_max_failures: u32,
    /// Seconds a locked identity waits (and a failure counts).
    #[arg(long, env = "ROSTER_LOGIN_LOCK_SECONDS", default_value_t = DEFAULT_LOGIN_LOCK_SECONDS)]
    pub login_lock_seconds: u64,
    /// Browser origins allowed cross-origin calls, comma-separated (default: none, CORS
    /// off).
    #[arg(long, env = "ROSTER_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// `smtp://[user:password@]host[:port]` (or `smtps://`) for mail such as password
    /// resets; without it mail goes to the outbox (`roster outbox`).
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of that mail, e.g. `Roster <roster@example.com>`.
    #[arg(long, env = "ROSTER_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Days audit records are kept (0: for ever).
    #[arg(long, env = "ROSTER_AUDIT_RETENTION_DAYS", default_value_t = DEFAULT_AUDIT_RETENTION_DAYS)]
    pub audit_retention_days: u64,
    /// Days change events are kept for the event feed (0: for ever).
    #[arg(long, env = "ROSTER_EVENT_RETENTION_DAYS", default_value_t = DEFAULT_EVENT_RETENTION_DAYS)]
    pub event_retention_days: u64,
    /// Take audit records' client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it).
    #[arg(long, env = "ROSTER_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// With --trust-forwarded-for: how many proxies of yours append to `X-Forwarded-For`;
    /// the client address is the entry this many places from the right.
    #[arg(long, env = "ROSTER_TRUSTED_PROXY_HOPS", default_value_t = DEFAULT_TRUSTED_PROXY_HOPS,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub trusted_proxy_hops: u16,
    /// The base domain under which `<domain_id>.<base-domain>` names a domain in `Host`
    /// (e.g. `api.example.com`); without it, `Host` never selects a domain.
    #[arg(long, env = "ROSTER_BASE_DOMAIN")]
    pub base_domain: Option<String>,
    /// Serve Prometheus metrics (`/metrics`) on this address instead of the main one.
    #[arg(long, env = "ROSTER_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Seconds to keep serving after SIGTERM with `/readyz` answering 503, before new
    /// connections are refused (give the load balancer time to notice).
    #[arg(long, env = "ROSTER_DRAIN_SECONDS", default_value_t = DEFAULT_DRAIN_SECONDS)]
    pub drain_seconds: u64,
    /// Let webhooks call loopback, private, link-local and metadata addresses (tests, or a
    /// receiver inside your own network). Off: such URLs are refused.
    #[arg(long, env = "ROSTER_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// A PEM file of root certificates that https webhook deliveries trust besides the
    /// built-in Mozilla roots (a private CA of your receivers).
    #[arg(long, env = "ROSTER_WEBHOOK_CA_FILE")]
    pub webhook_ca_file: Option<PathBuf>,
    /// The key that seals webhook secrets in the database (base64 of 32 bytes; made, mode
    /// 0600, when missing). Default: `<data-dir>/webhook-secrets.key`. Replicas sharing a
    /// database must share this file.
    #[arg(long, env = "ROSTER_WEBHOOK_KEY_FILE")]
    pub webhook_key_file: Option<PathBuf>,
    /// Serve LDAP on this address (e.g. `127.0.0.1:3890`); off without it.
    #[arg(long, env = "ROSTER_LDAP_LISTEN")]
    pub ldap_listen: Option<String>,
    /// Serve LDAPS on this address (e.g. `127.0.0.1:6360`); needs --ldap-tls-cert/-key.
    #[arg(long, env = "ROSTER_LDAPS_LISTEN")]
    pub ldaps_listen: Option<String>,
    /// The default domain's LDAP base DN (default: `dc=<domain_id>`).
    #[arg(long, env = "ROSTER_LDAP_BASE_DN")]
    pub ldap_base_dn: Option<String>,
    /// PEM certificate chain for LDAPS and StartTLS.
    #[arg(long, env = "ROSTER_LDAP_TLS_CERT")]
    pub ldap_tls_cert: Option<PathBuf>,
    /// PEM private key of that certificate.
    #[arg(long, env = "ROSTER_LDAP_TLS_KEY")]
    pub ldap_tls_key: Option<PathBuf>,
    /// LDAP users are also `posixAccount`s: `uidNumber`/`gidNumber` 10000 + the user's
    /// number, `homeDirectory` `/home/<uid>`, `loginShell` `/bin/sh`; groups are also
    /// `posixGroup`s: `gidNumber` 1000000000 + the group's number, `memberUid`.
    #[arg(long, env = "ROSTER_LDAP_POSIX")]
    pub ldap_posix: bool,
    /// Most LDAP connections served at once (LDAP and LDAPS together); an extra one is told
    /// `busy` and closed.
    #[arg(long, env = "ROSTER_LDAP_MAX_CONNECTIONS", default_value_t = DEFAULT_LDAP_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub ldap_max_connections: u32,
    /// Seconds an LDAP connection may stay silent before it is closed.
    #[arg(long, env = "ROSTER_LDAP_IDLE_SECONDS", default_value_t = DEFAULT_LDAP_IDLE_SECONDS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ldap_idle_seconds: u64,
    /// The public base URL people reach Roster at (`https://roster.example.com`): the
    /// OpenID Connect issuer, and the origin of links in mail. Default: each request's `Host`.
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Minutes a browser sign-in session lasts unused.
    #[arg(long, env = "ROSTER_SESSION_IDLE_MINUTES", default_value_t = DEFAULT_SESSION_IDLE_MINUTES,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub session_idle_minutes: u64,
    /// Hours a browser sign-in session lasts at most.
    #[arg(long, env = "ROSTER_SESSION_MAX_HOURS", default_value_t = DEFAULT_SESSION_MAX_HOURS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub session_max_hours: u64,
    /// Days one RS256 key signs OpenID Connect ID tokens before the next one takes over
    /// (periods counted from the epoch, so every replica switches at the same instant).
    #[arg(long, env = "ROSTER_ID_TOKEN_KEY_DAYS", default_value_t = DEFAULT_ID_TOKEN_KEY_DAYS,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub id_token_key_days: u64,
    /// Self-service password reset requests (the forgot-password page) taken per account
    /// identity an hour, and reset mails sent per address an hour.
    #[arg(long, env = "ROSTER_SELF_RESETS_PER_HOUR", default_value_t = DEFAULT_SELF_RESETS_PER_HOUR,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub self_resets_per_hour: u32,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            store: StoreSettings::default(),
            listen: DEFAULT_LISTEN.into(),
            skip_migrations: false,
            login_max_failures: DEFAULT_LOGIN_MAX_FAILURES,
            login_lock_seconds: DEFAULT_LOGIN_LOCK_SECONDS,
            cors_origins: Vec::new(),
            smtp_url: None,
            smtp_from: None,
            audit_retention_days: DEFAULT_AUDIT_RETENTION_DAYS,
            event_retention_days: DEFAULT_EVENT_RETENTION_DAYS,
            trust_forwarded_for: false,
            trusted_proxy_hops: DEFAULT_TRUSTED_PROXY_HOPS,
            base_domain: None,
            metrics_listen: None,
            drain_seconds: DEFAULT_DRAIN_SECONDS,
            webhook_allow_private: false,
            webhook_ca_file: None,
            webhook_key_file: None,
            ldap_listen: None,
            ldaps_listen: None,
            ldap_base_dn: None,
            ldap_tls_cert: None,
            ldap_tls_key: None,
            ldap_posix: false,
            ldap_max_connections: DEFAULT_LDAP_MAX_CONNECTIONS,
            ldap_idle_seconds: DEFAULT_LDAP_IDLE_SECONDS,
            public_url: None,
            session_idle_minutes: DEFAULT_SESSION_IDLE_MINUTES,
            session_max_hours: DEFAULT_SESSION_MAX_HOURS,
            id_token_key_days: DEFAULT_ID_TOKEN_KEY_DAYS,
            self_resets_per_hour: DEFAULT_SELF_RESETS_PER_HOUR,
        }
    }
}

impl ServeSettings {
    /// The server's configuration these settings describe (the first superadmin's password
    /// is not among them: it comes from the environment only).
    pub fn into_config(self) -> Config {
        let days = |n: u64| (n > 0).then(|| std::time::Duration::from_secs(n * 24 * 3600));
        let audit_retention = days(self.audit_retention_days);
        Config {
            listen: self.listen,
            data_dir: self.store.data_dir,
            database_url: self.store.database_url,
            domain_id: self.store.domain_id,
            admin_password: None,
            tokens: TokenSettings {
                lockout: LockoutSettings {
                    max_failures: self.login_max_failures,
                    lock_for: std::time::Duration::from_secs(self.login_lock_seconds),
                },
                session_idle: std::time::Duration::from_secs(self.session_idle_minutes * 60),
                session_max: std::time::Duration::from_secs(self.session_max_hours * 3600),
                id_token_key_period: std::time::Duration::from_secs(
                    self.id_token_key_days * 24 * 3600,
                ),
                self_resets_per_hour: self.self_resets_per_hour,
                ..TokenSettings::default()
            },
            migrations: if self.skip_migrations {
                Migrations::Skip
            } else {
                Migrations::Apply
            },
            cors_origins: self.cors_origins,
            smtp_url: self.smtp_url,
            smtp_from: self.smtp_from,
            audit_retention,
            event_retention: days(self.event_retention_days),
            trust_forwarded_for: self.trust_forwarded_for,
            trusted_proxy_hops: usize::from(self.trusted_proxy_hops),
            base_domain: self.base_domain.filter(|b| !b.trim().is_empty()),
            ldap: LdapSettings {
                listen: self.ldap_listen.filter(|l| !l.trim().is_empty()),
                ldaps_listen: self.ldaps_listen.filter(|l| !l.trim().is_empty()),
                base_dn: self.ldap_base_dn.filter(|b| !b.trim().is_empty()),
                tls_cert: self.ldap_tls_cert,
                tls_key: self.ldap_tls_key,
                posix: self.ldap_posix,
                max_connections: self.ldap_max_connections as usize,
                idle_timeout: std::time::Duration::from_secs(self.ldap_idle_seconds),
            },
            public_url: self
                .public_url
                .map(|u| u.trim().trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            clock: Clock::system(),
            metrics_listen: self.metrics_listen.filter(|m| !m.trim().is_empty()),
            drain_grace: std::time::Duration::from_secs(self.drain_seconds),
            webhooks: crate::service::webhooks::WebhookSettings {
                allow_private: self.webhook_allow_private,
                extra_roots: self.webhook_ca_file,
                key_file: self.webhook_key_file,
                ..Default::default()
            },
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        ServeSettings::default().into_config()
    }
}

/// The password and the database URL (which may hold one) never reach a log.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_url.as_ref().map(|_| "<set>"))
            .field("domain_id", &self.domain_id)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<set>"),
            )
            .field("tokens", &self.tokens)
            .field("migrations", &self.migrations)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("smtp_from", &self.smtp_from)
            .field("audit_retention", &self.audit_retention)
            .field("event_retention", &self.event_retention)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("trusted_proxy_hops", &self.trusted_proxy_hops)
            .field("base_domain", &self.base_domain)
            .field("ldap", &self.ldap)
            .field("public_url", &self.public_url)
            .field("clock", &self.clock)
            .field("metrics_listen", &self.metrics_listen)
            .field("drain_grace", &self.drain_grace)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

/// Which store a configuration selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Config {
    pub fn store_location(&self) -> StoreLocation {
        match self.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                StoreLocation::Postgres(url.to_owned())
            }
            Some(url) => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                let path = path.split('?').next().unwrap_or(path);
                StoreLocation::Sqlite(PathBuf::from(path))
            }
            None => StoreLocation::Sqlite(self.data_dir.join("roster.db")),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    use super::*;

    /// What `roster serve` with no flags and no `ROSTER_*` variables gives.
    fn parsed_from_no_arguments() -> ServeSettings {
        let command =
            ServeSettings::augment_args(clap::Command::new("roster")).mut_args(|arg| arg.env(None));
        let matches = command.try_get_matches_from(["roster"]).unwrap();
        ServeSettings::from_arg_matches(&matches).unwrap()
    }

    #[test]
    fn the_id_token_key_period_and_the_reset_limit_are_flags() {
        let command =
            ServeSettings::augment_args(clap::Command::new("roster")).mut_args(|arg| arg.env(None));
        let parse = |args: &[&str]| {
            let matches = command.clone().try_get_matches_from(args)?;
            ServeSettings::from_arg_matches(&matches)
        };
        let settings = parse(&[
            "roster",
            "--id-token-key-days",
            "7",
            "--self-resets-per-hour",
            "2",
        ])
        .unwrap();
        let config = settings.into_config();
        assert_eq!(
            config.tokens.id_token_key_period,
            std::time::Duration::from_secs(7 * 24 * 3600)
        );
        assert_eq!(config.tokens.self_resets_per_hour, 2);
        let defaults = Config::default().tokens;
        assert_eq!(
            defaults.id_token_key_period,
            std::time::Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(defaults.self_resets_per_hour, 5);
        for bad in [
            ["roster", "--id-token-key-days", "0"],
            ["roster", "--self-resets-per-hour", "0"],
        ] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_defaults_are_what_no_flags_give() {
        assert_eq!(parsed_from_no_arguments(), ServeSettings::default());
    }

    #[test]
    fn the_default_config_keeps_audit_records_a_year_and_locks_after_five_failures() {
        let config = Config::default();
        assert_eq!(config.audit_retention, Some(DEFAULT_AUDIT_RETENTION));
        assert_eq!(config.tokens.lockout.max_failures, 5);
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.migrations, Migrations::Apply);
        assert_eq!(config.trusted_proxy_hops, 1);
    }
}
