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
#[cfg(test)]
mod rules_tests;
pub mod scim_tokens;
pub mod sessions;
pub mod tenancy;
#[cfg(test)]
pub(crate) mod testing;
pub mod tokens;
pub mod transfer;
pub mod tree_rules;
pub mod user_sessions;
pub mod users;
#[cfg(test)]
mod users_paging_tests;
mod validate;
pub mod webhooks;

use std::sync::Arc;

/// Runs one operation — one item of a batch whose other items go on, or a step whose failure
/// is itself recorded — and, if it fails, marks the audit records it noted on `trail` and left
/// unwritten as failed with the error's audit code. The one way a service error marks records
/// before the request ends; error conversions and answers never touch the records.
pub async fn attempt<T>(
    trail: &crate::audit::Trail,
    operation: impl std::future::Future<Output = crate::error::Result<T>>,
) -> crate::error::Result<T> {
    let outcome = operation.await;
    if let Err(e) = &outcome {
        trail.fail_pending(e);
    }
    outcome
}

pub use crate::ids::random_hex;
pub use pagination::Page;
pub use users::directory;

use crate::audit::Trail;
use crate::clock::Clock;
use crate::model::{DomainId, Role, UserId};
use crate::store::Store;

/// The audit detail of a change a parent domain's admin makes in `subdomain_id`: the record
/// stays in the caller's domain, and the change's event is filed under the subdomain
/// (`store/sql/events.rs`). `Null` for a change in the caller's own domain.
pub(crate) fn subdomain_detail(subdomain_id: Option<&str>) -> serde_json::Value {
    match subdomain_id.filter(|s| !s.is_empty()) {
        Some(id) => serde_json::json!({ "subdomain_id": id }),
        None => serde_json::Value::Null,
    }
}

/// Who is calling: the authenticated user, in its domain, with its current role; and the
/// audit trail of the request it makes, where the services note its changes.
#[derive(Debug, Clone)]
pub struct Actor {
    pub domain_id: DomainId,
    pub user_id: UserId,
    pub role: Role,
    /// [`Trail::none`] until the face serving the request hands its trail over
    /// ([`Actor::in_request`]), and for work outside any request.
    pub trail: Trail,
}

/// The same caller, whatever request it makes.
impl PartialEq for Actor {
    fn eq(&self, other: &Self) -> bool {
        self.domain_id == other.domain_id
            && self.user_id == other.user_id
            && self.role == other.role
    }
}

impl Eq for Actor {}

impl Actor {
    /// This caller making the request whose audit trail is `trail`.
    pub fn in_request(self, trail: Trail) -> Actor {
        Actor { trail, ..self }
    }

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
    /// to the `target_type` object `target_id`, on the request's trail; the store writes it
    /// with the change.
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
        self.trail.record(crate::audit::Event {
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
    pub id_token_key: Arc<oidc::IdTokenKeys>,
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
    /// Seals webhook secrets at rest (its key lives outside the database).
    pub webhook_seal: webhooks::seal::SecretSeal,
}

#[cfg(test)]
mod attempt_tests {
    use super::attempt;
    use crate::audit::{Event, Trail, FAILURE, SUCCESS};
    use crate::error::{Error, Resource, Result};

    /// Notes a record about `target_id` on `trail`, then answers `outcome`.
    async fn item(trail: &Trail, target_id: &str, outcome: Result<()>) -> Result<()> {
        trail.record(Event {
            domain_id: "d",
            actor_id: "u",
            action: "user.delete",
            target_type: "user",
            target_id,
            detail: serde_json::Value::Null,
        });
        outcome
    }

    fn request_trail() -> Trail {
        Trail::new("r".into(), "ip".into(), Default::default())
    }

    #[tokio::test]
    async fn a_failed_operation_marks_its_records_failed_and_a_successful_one_does_not() {
        let run = |fail: bool| async move {
            let trail = request_trail();
            assert!(attempt(&trail, item(&trail, "kept", Ok(()))).await.is_ok());
            if fail {
                let refused = Err(Error::NotFound(Resource::User));
                assert!(attempt(&trail, item(&trail, "gone", refused))
                    .await
                    .is_err());
            }
            trail.take_pending()
        };
        let untouched = run(false).await;
        assert_eq!(untouched.len(), 1);
        assert_eq!(untouched[0].outcome, SUCCESS);
        assert!(untouched[0].error_code.is_empty());
        assert_eq!(untouched[0].request_id, "r");
        assert_eq!(untouched[0].client_ip, "ip");
        let pending = run(true).await;
        assert_eq!(pending.len(), 2);
        // The error marks every record still unwritten: the one noted before it too.
        for row in &pending {
            assert_eq!(row.outcome, FAILURE);
            assert_eq!(row.error_code, "NotFound.User");
        }
    }

    #[tokio::test]
    async fn a_failed_batch_item_marks_only_its_own_fork_of_the_trail() {
        let trail = request_trail();
        item(&trail, "before", Ok(())).await.unwrap();
        let kept = trail.fork();
        let refused = trail.fork();
        attempt(&kept, item(&kept, "kept", Ok(()))).await.unwrap();
        let gone = Err(Error::NotFound(Resource::User));
        assert!(attempt(&refused, item(&refused, "gone", gone))
            .await
            .is_err());
        trail.absorb(&kept);
        trail.absorb(&refused);
        let records = trail.take_pending();
        let outcomes: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.target_id.as_str(), r.outcome.as_str()))
            .collect();
        assert_eq!(
            outcomes,
            [("before", SUCCESS), ("kept", SUCCESS), ("gone", FAILURE)]
        );
        assert!(records.iter().all(|r| r.request_id == "r"));
        assert!(!trail.has_pending());
    }

    #[tokio::test]
    async fn outside_a_request_nothing_is_recorded() {
        let trail = Trail::none();
        item(&trail, "x", Ok(())).await.unwrap();
        assert!(!trail.has_pending());
        assert!(trail.fork().take_pending().is_empty());
    }

    #[tokio::test]
    async fn records_of_a_transaction_that_did_not_commit_go_back_before_later_ones() {
        let trail = request_trail();
        item(&trail, "first", Ok(())).await.unwrap();
        let taken = trail.take_pending();
        item(&trail, "second", Ok(())).await.unwrap();
        trail.restore(taken);
        let order: Vec<String> = trail
            .take_pending()
            .into_iter()
            .map(|r| r.target_id)
            .collect();
        assert_eq!(order, ["first", "second"]);
    }
}
