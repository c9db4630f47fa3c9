//! Server settings. The binary fills them from flags and `ROSTER_*` variables; tests build
//! them directly.

use std::fmt;
use std::path::PathBuf;

use crate::clock::Clock;
use crate::service::tokens::TokenSettings;
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
    /// The time the server reads: the system clock, or a manual one tests move.
    pub clock: Clock,
}

/// Audit records are kept for a year unless configured otherwise.
pub const DEFAULT_AUDIT_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(365 * 24 * 3600);

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            domain_id: "default".into(),
            admin_password: None,
            tokens: TokenSettings::default(),
            migrations: Migrations::Apply,
            cors_origins: Vec::new(),
            smtp_url: None,
            smtp_from: None,
            audit_retention: Some(DEFAULT_AUDIT_RETENTION),
            trust_forwarded_for: false,
            trusted_proxy_hops: 1,
            base_domain: None,
            clock: Clock::system(),
        }
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
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("trusted_proxy_hops", &self.trusted_proxy_hops)
            .field("base_domain", &self.base_domain)
            .field("clock", &self.clock)
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
