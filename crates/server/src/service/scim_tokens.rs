//! SCIM provisioning tokens: a superadmin creates one per identity provider; the provider
//! sends it as the bearer token of SCIM requests, which then act with admin rights in the
//! token's domain, as the actor `scim:<token_id>` in the audit log. The token is answered
//! once; only its SHA-256 is stored (it carries 256 random bits, so a fast hash is enough
//! and every SCIM request stays cheap). Deleting a token stops it at once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::authorization::same_bytes;
use super::pagination::{encode_marker, finish_page, Page};
use super::{random_hex, tenancy, validate, Actor, Services};
use crate::audit::Trail;
use crate::error::{AuthProblem, Error, Resource, Result};
use crate::model::{IssuedScimToken, Listed, Role, ScimTokenInfo};
use crate::store::scim_tokens::ScimTokenRow;

/// What every provisioning token starts with: tells it from an access token (a JWT).
pub const TOKEN_PREFIX: &str = "rscim_";
/// The actor id of a token's requests: `scim:<token_id>`.
const ACTOR_PREFIX: &str = "scim:";

fn info_of(row: ScimTokenRow) -> ScimTokenInfo {
    ScimTokenInfo {
        token_id: row.token_id,
        domain_id: row.domain_id,
        description: row.description,
        creator: row.creator,
        created_at: row.created_at,
    }
}

fn hash_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Only a superadmin of the domain itself (not of a subdomain, nor an admin): a token
/// acts with admin rights over the whole domain.
fn require_domain_superadmin(actor: &Actor) -> Result<()> {
    if actor.role == Role::Superadmin {
        Ok(())
    } else {
        Err(Error::forbidden("a superadmin manages SCIM tokens"))
    }
}

/// `rscim_<token_id>_<secret>`: the id, for the lookup, and the secret.
fn token_id_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && id.len() <= 32 && !secret.is_empty()).then_some(id)
}

/// Whether a bearer token is a provisioning token (else it is an access token).
pub fn is_scim_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

impl Services {
    pub async fn create_scim_token(
        &self,
        actor: &Actor,
        description: Option<String>,
    ) -> Result<IssuedScimToken> {
        actor.audit("scim_token.create", "scim_token", "");
        require_domain_superadmin(actor)?;
        validate::optional(
            "description",
            description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        let token_id = random_hex(8);
        let secret: [u8; 32] = rand::random();
        let token = format!(
            "{TOKEN_PREFIX}{token_id}_{}",
            URL_SAFE_NO_PAD.encode(secret)
        );
        let row = ScimTokenRow {
            token_id,
            domain_id: actor.domain_id.to_string(),
            secret_hash: hash_of(&token),
            description: description.unwrap_or_default(),
            creator: actor.user_id.to_string(),
            created_at: self.clock.now_ms(),
        };
        actor.trail.name_target(&row.token_id);
        self.store
            .create_scim_token(&actor.trail, row.clone())
            .await?;
        Ok(IssuedScimToken {
            info: info_of(row),
            token,
        })
    }

    pub async fn list_scim_tokens(
        &self,
        actor: &Actor,
        limit: Option<i64>,
        marker: Option<&str>,
    ) -> Result<Listed<ScimTokenInfo>> {
        require_domain_superadmin(actor)?;
        let page = Page::parse(&actor.domain_id, limit, marker)?;
        let after = page.after_for("st")?.map(|(_, id)| id);
        let rows = self
            .store
            .scim_tokens(&actor.domain_id, after.as_deref(), page.limit + 1)
            .await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |t| {
            encode_marker(&actor.domain_id, "st", "", &t.token_id)
        });
        Ok(Listed {
            items: rows.into_iter().map(info_of).collect(),
            next_marker,
        })
    }

    pub async fn delete_scim_token(&self, actor: &Actor, token_id: &str) -> Result<()> {
        actor.audit("scim_token.delete", "scim_token", token_id);
        require_domain_superadmin(actor)?;
        validate::required("token_id", token_id, validate::MAX_ID)?;
        if self
            .store
            .delete_scim_token(&actor.trail, &actor.domain_id, token_id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::ScimToken))
        }
    }

    /// The caller a provisioning token stands for: admin rights in its domain, which must be
    /// the request's (`None`: any). Every refusal is the same `AccessTokenInvalid`.
    pub async fn authenticate_scim_token(
        &self,
        domain_id: Option<&str>,
        token: &str,
    ) -> Result<Actor> {
        let invalid = || Error::Unauthorized(AuthProblem::AccessTokenInvalid);
        let token_id = token_id_of(token).ok_or_else(invalid)?;
        let row = self.store.scim_token(token_id).await?.ok_or_else(invalid)?;
        let matches = same_bytes(row.secret_hash.as_bytes(), hash_of(token).as_bytes());
        if !matches || !tenancy::admits(domain_id, &row.domain_id) {
            return Err(invalid());
        }
        Ok(Actor {
            domain_id: row.domain_id.into(),
            user_id: format!("{ACTOR_PREFIX}{}", row.token_id).into(),
            role: Role::Admin,
            trail: Trail::none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_are_read_from_well_formed_tokens_only() {
        assert_eq!(token_id_of("rscim_0a1b_secret"), Some("0a1b"));
        assert_eq!(token_id_of("rscim__secret"), None);
        assert_eq!(token_id_of("rscim_0a1b_"), None);
        assert_eq!(token_id_of("rscim_0a1b"), None);
        assert_eq!(token_id_of("eyJhbGciOi.x.y"), None);
        assert!(!is_scim_token("eyJhbGciOi.x.y"));
    }
}
