//! Access keys: admins issue key pairs bound to a user; requests signed with one act as that
//! user. The secret is answered once, at creation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::pagination::{encode_marker, finish_page, Page};
use super::tokens::{admit, CallKind};
use super::{random_hex, validate, Actor, Services};
use crate::error::{AuthProblem, Error, Resource, Result};
use crate::model::{AccessKey, AccessKeyStatus, IssuedAccessKey, Listed};
use crate::model::{DomainId, UserId};
use crate::store::access_keys::AccessKeyRow;

/// How far a signed request's `date` may be from the server's clock, and so how long its
/// nonce is remembered.
pub const MAX_CLOCK_SKEW_MS: i64 = 15 * 60 * 1000;

/// A stored key as answered: without its secret.
fn key_of(row: AccessKeyRow) -> AccessKey {
    AccessKey {
        access_key_id: row.access_key_id,
        domain_id: row.domain_id,
        user_id: row.user_id,
        status: row.status,
        description: row.description,
        creator: row.creator,
        created_at: row.created_at,
    }
}

fn key_id_param(id: &str) -> Result<()> {
    validate::required("access_key_id", id, validate::MAX_ID)
}

impl Services {
    /// Issues a key pair for a user of the caller's domain (default: the caller). Keys of a
    /// superadmin are issued by superadmins only.
    pub async fn create_access_key(
        &self,
        actor: &Actor,
        user_id: Option<String>,
        description: Option<String>,
    ) -> Result<IssuedAccessKey> {
        actor.audit("access_key.create", "access_key", "");
        actor.require_admin()?;
        let user_id = user_id.unwrap_or_else(|| actor.user_id.to_string());
        validate::required("user_id", &user_id, validate::MAX_USER_ID)?;
        validate::optional(
            "description",
            description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        let user = self
            .store
            .user(&actor.domain_id, &UserId::from(&user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        let role = user.role()?;
        let owner = Actor {
            domain_id: actor.domain_id.clone(),
            user_id: user_id.clone().into(),
            role,
            trail: actor.trail.clone(),
        };
        if owner.is_superadmin() && !actor.is_superadmin() {
            return Err(Error::forbidden(
                "only a superadmin issues a superadmin's keys",
            ));
        }
        let secret: [u8; 24] = rand::random();
        let row = AccessKeyRow {
            access_key_id: format!("RK{}", random_hex(11).to_uppercase()),
            domain_id: actor.domain_id.to_string(),
            user_id,
            secret: URL_SAFE_NO_PAD.encode(secret),
            status: "enabled".into(),
            description: description.unwrap_or_default(),
            creator: actor.user_id.to_string(),
            created_at: self.clock.now_ms(),
        };
        actor.trail.name_target(&row.access_key_id);
        self.store
            .create_access_key(&actor.trail, row.clone())
            .await?;
        let secret = row.secret.clone();
        Ok(IssuedAccessKey {
            key: key_of(row),
            secret,
        })
    }

    pub async fn get_access_key(&self, actor: &Actor, id: &str) -> Result<AccessKey> {
        actor.require_admin()?;
        key_id_param(id)?;
        match self.store.access_key(id).await? {
            Some(key) if key.domain_id == actor.domain_id => Ok(key_of(key)),
            _ => Err(Error::NotFound(Resource::AccessKey)),
        }
    }

    /// The domain's keys, or one user's (`user_id`; `""` reads all), by key id.
    pub async fn list_access_keys(
        &self,
        actor: &Actor,
        user_id: Option<String>,
        limit: Option<i64>,
        marker: Option<&str>,
    ) -> Result<Listed<AccessKey>> {
        actor.require_admin()?;
        let page = Page::parse(&actor.domain_id, limit, marker)?;
        let user = user_id.filter(|u| !u.is_empty());
        validate::optional("user_id", user.as_deref(), validate::MAX_USER_ID)?;
        let after = page.after_for("ak")?.map(|(_, id)| id);
        let rows = self
            .store
            .access_keys(
                &actor.domain_id,
                user.as_deref(),
                after.as_deref(),
                page.limit + 1,
            )
            .await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |k| {
            encode_marker(&actor.domain_id, "ak", "", &k.access_key_id)
        });
        Ok(Listed {
            items: rows.into_iter().map(key_of).collect(),
            next_marker,
        })
    }

    /// Refuses an admin changing or deleting a superadmin's key, as it may not issue one.
    /// Keys of other domains, and unknown ones, are left to the store's `NotFound`.
    async fn require_reach_key(&self, actor: &Actor, id: &str) -> Result<()> {
        let Some(key) = self
            .store
            .access_key(id)
            .await?
            .filter(|k| k.domain_id == actor.domain_id)
        else {
            return Ok(());
        };
        match self
            .store
            .user(&actor.domain_id, &UserId::from(&key.user_id))
            .await?
        {
            Some(owner) => super::users::require_reach(actor, &owner),
            None => Ok(()),
        }
    }

    /// Enables or disables a key (admin).
    pub async fn update_access_key(
        &self,
        actor: &Actor,
        id: &str,
        status: AccessKeyStatus,
    ) -> Result<AccessKey> {
        let detail = serde_json::json!({ "status": status.as_str() });
        actor.audit_with("access_key.update", "access_key", id, detail);
        actor.require_admin()?;
        key_id_param(id)?;
        self.require_reach_key(actor, id).await?;
        self.store
            .set_access_key_status(&actor.trail, &actor.domain_id, id, status.as_str())
            .await?
            .map(key_of)
            .ok_or(Error::NotFound(Resource::AccessKey))
    }

    pub async fn delete_access_key(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.audit("access_key.delete", "access_key", id);
        actor.require_admin()?;
        key_id_param(id)?;
        self.require_reach_key(actor, id).await?;
        if self
            .store
            .delete_access_key(&actor.trail, &actor.domain_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::AccessKey))
        }
    }

    /// The enabled key a signed request names, with the actor it signs for (its user, as
    /// `tokens::admit` admits it for a call of `kind`: in good standing, and past a required
    /// password change unless the call is one), if it is of the domain the request names
    /// (when it names one). The caller checks the signature with the returned secret.
    pub async fn access_key_signer(
        &self,
        host_domain: Option<&str>,
        access_key_id: &str,
        kind: CallKind,
    ) -> Result<(Actor, String)> {
        let unknown = || Error::Unauthorized(AuthProblem::AccessKeyInvalid);
        let key = self
            .store
            .access_key(access_key_id)
            .await?
            .filter(|k| k.status == "enabled")
            .ok_or_else(unknown)?;
        if !super::tenancy::admits(host_domain, &key.domain_id) {
            return Err(unknown());
        }
        let user = self
            .store
            .user(&DomainId::from(&key.domain_id), &UserId::from(&key.user_id))
            .await?
            .ok_or_else(unknown)?;
        let actor = admit(user, kind, unknown(), self.clock.now_ms())?;
        Ok((actor, key.secret))
    }

    /// Accepts a signed request's time and nonce once: the time within the allowed skew of
    /// now, the nonce never seen with this access key within that window. Nonces are kept
    /// per access key, so no other tenant's key can use up (or learn of) this key's nonces.
    pub async fn accept_signature_freshness(
        &self,
        access_key_id: &str,
        signed_at_ms: i64,
        nonce: &str,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        if (now - signed_at_ms).abs() > MAX_CLOCK_SKEW_MS {
            return Err(Error::Unauthorized(AuthProblem::RequestExpired));
        }
        if nonce.is_empty() || nonce.len() > 128 {
            return Err(Error::Unauthorized(AuthProblem::NonceUsed));
        }
        let fresh = self
            .store
            .use_nonce(
                &format!("sig:{access_key_id}:{nonce}"),
                signed_at_ms + 2 * MAX_CLOCK_SKEW_MS,
                now,
            )
            .await?;
        if fresh {
            Ok(())
        } else {
            Err(Error::Unauthorized(AuthProblem::NonceUsed))
        }
    }
}
