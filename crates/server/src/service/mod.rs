//! The core: one module per concept. Each function takes the calling `Actor`, checks
//! permissions and invariants, and calls the store. Dialects only translate to and from here.

pub mod access_keys;
pub mod accounts;
pub mod apps;
pub mod audit_log;
pub mod authorization;
pub mod bootstrap;
pub mod console;
pub mod delegation;
pub mod domains;
pub mod drives;
pub mod events;
pub mod groups;
pub mod mail;
pub mod oidc;
pub mod operations;
pub mod org_tree;
pub mod owned_drives;
pub(crate) mod pagination;
pub mod password_resets;
pub mod passwords;
pub mod properties;
pub mod provisioning;
pub mod resource_groups;
pub mod sessions;
pub mod tenancy;
#[cfg(test)]
pub(crate) mod testing;
pub mod tokens;
pub mod transfer;
pub mod tree_rules;
pub mod users;
mod validate;
pub mod webhooks;

use std::sync::Arc;

/// Runs one operation — one item of a batch whose other items go on, or a step whose failure
/// is itself recorded — and, if it fails, marks the audit records it noted and left unwritten
/// as failed with the error's audit code. The one way a service error marks records before
/// the request ends; error conversions and answers never touch the records.
pub async fn attempt<T>(
    operation: impl std::future::Future<Output = crate::error::Result<T>>,
) -> crate::error::Result<T> {
    let outcome = operation.await;
    if let Err(e) = &outcome {
        crate::audit::fail_pending(e);
    }
    outcome
}

pub use crate::ids::random_hex;
pub use pagination::Page;
pub use users::directory;

use crate::clock::Clock;
use crate::model::Role;
use crate::store::Store;

/// Who is calling: the authenticated user, in its domain, with its current role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub domain_id: String,
    pub user_id: String,
    pub role: Role,
}

impl Actor {
    /// "Admin permission" in PDS terms: role `admin` or `superadmin`, or their subdomain
    /// forms (held by users of a subdomain, so they act only inside it).
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }

    pub fn is_superadmin(&self) -> bool {
        self.role.is_superadmin()
    }

    /// Reads the whole directory: admin permission or the read-only directory role.
    pub fn reads_directory(&self) -> bool {
        self.role.reads_directory()
    }

    /// Notes for the audit log that this caller is about to do `action` (`<object>.<verb>`)
    /// to the `target_type` object `target_id`; the store writes it with the change.
    pub(crate) fn audit(&self, action: &'static str, target_type: &'static str, target_id: &str) {
        self.audit_with(action, target_type, target_id, serde_json::Value::Null);
    }

    /// `audit` with a detail object (names of changed fields, a new role; never a secret).
    pub(crate) fn audit_with(
        &self,
        action: &'static str,
        target_type: &'static str,
        target_id: &str,
        detail: serde_json::Value,
    ) {
        crate::audit::record(crate::audit::Event {
            domain_id: &self.domain_id,
            actor_id: &self.user_id,
            action,
            target_type,
            target_id,
            detail,
        });
    }

    /// `Forbidden` unless the caller has admin permission.
    pub fn require_admin(&self) -> crate::error::Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(crate::error::Error::forbidden("admin permission required"))
        }
    }

    /// `Forbidden` unless the caller reads the whole directory (see [`Actor::reads_directory`]).
    pub fn require_directory_reader(&self) -> crate::error::Result<()> {
        if self.reads_directory() {
            Ok(())
        } else {
            Err(crate::error::Error::forbidden("admin permission required"))
        }
    }
}

/// Everything the services share; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub passwords: passwords::Passwords,
    pub tokens: Arc<tokens::TokenKeys>,
    pub token_settings: tokens::TokenSettings,
    /// Turns of password logins per account identity (login throttling under parallel
    /// attempts).
    pub login_gates: Arc<tokens::LoginGates>,
    pub mailer: mail::Mailer,
    /// Which domain a request's `Host` names, and where logins go without one.
    pub routing: tenancy::Routing,
    /// The RS256 key of ID tokens, made or loaded on first use.
    pub id_token_key: Arc<tokio::sync::OnceCell<oidc::IdTokenKey>>,
    /// The public base URL (`--public-url`): the OpenID issuer, the origin of mailed links.
    pub public_url: Option<String>,
    /// The time every rule reads: the system clock, or a manual one in tests.
    pub clock: Clock,
    /// This server's metrics (one registry per server).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Set when the server starts to drain (SIGTERM): readiness answers 503 from then on.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Webhook delivery settings (the SSRF guard's exception, timeouts, retry window).
    pub webhooks: webhooks::WebhookSettings,
}

#[cfg(test)]
mod attempt_tests {
    use super::attempt;
    use crate::audit::{self, Event, FAILURE, SUCCESS};
    use crate::error::{Error, Resource, Result};

    /// Notes a record about `target_id`, then answers `outcome`.
    async fn item(target_id: &str, outcome: Result<()>) -> Result<()> {
        audit::record(Event {
            domain_id: "d",
            actor_id: "u",
            action: "user.delete",
            target_type: "user",
            target_id,
            detail: serde_json::Value::Null,
        });
        outcome
    }

    #[tokio::test]
    async fn a_failed_operation_marks_its_records_failed_and_a_successful_one_does_not() {
        let scope = |fail: bool| {
            audit::scope("r".into(), "ip".into(), Default::default(), async move {
                assert!(attempt(item("kept", Ok(()))).await.is_ok());
                if fail {
                    let refused = Err(Error::NotFound(Resource::User));
                    assert!(attempt(item("gone", refused)).await.is_err());
                }
            })
        };
        let ((), untouched) = scope(false).await;
        assert_eq!(untouched.len(), 1);
        assert_eq!(untouched[0].outcome, SUCCESS);
        assert!(untouched[0].error_code.is_empty());
        let ((), pending) = scope(true).await;
        assert_eq!(pending.len(), 2);
        // The error marks every record still unwritten: the one noted before it too.
        for row in &pending {
            assert_eq!(row.outcome, FAILURE);
            assert_eq!(row.error_code, "NotFound.User");
        }
    }
}
