//! Roster's server: a user and organization directory serving the Alibaba Cloud PDS `/v2`
//! user API. Data flows one way: `http` (parse, answer) → `service` (rules) → `store` (SQL).

pub mod audit;
pub mod clock;
pub mod config;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod ids;
pub mod ldap;
pub mod metrics;
pub mod model;
pub mod service;
pub mod signing;
pub mod startup;
pub mod store;
pub mod time_format;
pub mod users_csv;

pub use config::Config;
pub use startup::Application;

/// Installs the global log subscriber: `ROSTER_LOG` filters (default `info`),
/// `ROSTER_LOG_FORMAT=json` writes JSON lines. Safe to call more than once.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ROSTER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if std::env::var("ROSTER_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
