//! The LDAP gateway: a read-mostly LDAPv3 view of each domain's directory (`docs/ldap.md`),
//! served by `roster serve --ldap-listen` (and `--ldaps-listen`).
//!
//! A face like the HTTP dialects: it authenticates through `service::tokens`
//! (`authenticate_with_password`, the password grant's check, lockout and audit records),
//! reads through services, and keeps its translation between LDAP entries and Roster's
//! types in `entries.rs`. Searches stream: every list is read page by page with Roster's
//! markers, and the Simple Paged Results cookie is such a marker, so no search holds a
//! whole result set.

mod entries;
mod filter;
mod search;
mod session;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::LdapSettings;
use crate::service::Services;

pub use entries::Tree;

pub const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";
pub const WHOAMI_OID: &str = "1.3.6.1.4.1.4203.1.11.3";
pub const PASSWORD_MODIFY_OID: &str = "1.3.6.1.4.1.4203.1.11.1";
pub const START_TLS_OID: &str = "1.3.6.1.4.1.1466.20037";

/// Largest LDAP message the gateway reads (a bind, a search with its filter).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Deepest BER nesting the gateway decodes.
pub const MAX_BER_DEPTH: usize = 64;

/// What every connection shares.
pub(crate) struct Shared {
    pub services: Services,
    pub tree: Tree,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// One permit per connection served (`--ldap-max-connections`).
    pub connections: Arc<tokio::sync::Semaphore>,
    /// How long a connection may stay silent (`--ldap-idle-seconds`).
    pub idle_timeout: std::time::Duration,
}

/// The gateway's listeners, bound at start (so a bad address fails `roster serve` at once).
pub struct LdapServer {
    plain: Option<TcpListener>,
    ldaps: Option<TcpListener>,
    shared: Arc<Shared>,
}

impl LdapServer {
    /// Binds the configured listeners; `None` when LDAP is off.
    pub async fn bind(
        settings: &LdapSettings,
        services: Services,
        default_domain: &str,
    ) -> anyhow::Result<Option<LdapServer>> {
        if settings.listen.is_none() && settings.ldaps_listen.is_none() {
            return Ok(None);
        }
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            (None, None) => None,
            _ => anyhow::bail!("--ldap-tls-cert and --ldap-tls-key go together"),
        };
        if settings.ldaps_listen.is_some() && tls.is_none() {
            anyhow::bail!("--ldaps-listen needs --ldap-tls-cert and --ldap-tls-key");
        }
        let listen = |address: &Option<String>| {
            let address = address.clone();
            async move {
                match address {
                    None => Ok(None),
                    Some(a) => TcpListener::bind(&a)
                        .await
                        .map(Some)
                        .with_context(|| format!("LDAP listening on {a}")),
                }
            }
        };
        Ok(Some(LdapServer {
            plain: listen(&settings.listen).await?,
            ldaps: listen(&settings.ldaps_listen).await?,
            shared: Arc::new(Shared {
                services,
                tree: Tree::new(default_domain, settings.base_dn.as_deref(), settings.posix),
                tls,
                connections: Arc::new(tokio::sync::Semaphore::new(settings.max_connections)),
                idle_timeout: settings.idle_timeout,
            }),
        }))
    }

    /// The plain LDAP address, if served.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.plain.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The LDAPS address, if served.
    pub fn ldaps_addr(&self) -> Option<SocketAddr> {
        self.ldaps.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Accepts connections until the task is dropped.
    pub async fn run(self) {
        let plain = self.plain.map(|l| {
            tracing::info!(address = ?l.local_addr().ok(), "LDAP listening");
            tokio::spawn(accept(l, self.shared.clone(), false))
        });
        let ldaps = self.ldaps.map(|l| {
            tracing::info!(address = ?l.local_addr().ok(), "LDAPS listening");
            tokio::spawn(accept(l, self.shared.clone(), true))
        });
        // Ends the accept loops when this task ends.
        let _guards = (plain.map(AbortOnDrop), ldaps.map(AbortOnDrop));
        std::future::pending::<()>().await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, ldaps: bool) {
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                // An answer is several messages (entries, then the result): without this,
                // Nagle's algorithm holds the last one back until the client's delayed ACK,
                // some 40 ms per search.
                let _ = socket.set_nodelay(true);
                let shared = shared.clone();
                let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
                    tracing::warn!(peer = %peer.ip(), "LDAP connection refused: too many connections");
                    tokio::spawn(session::refuse_busy(socket, ldaps));
                    continue;
                };
                tokio::spawn(async move {
                    session::serve_connection(socket, peer, shared, ldaps).await;
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "LDAP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
