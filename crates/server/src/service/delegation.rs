//! Acting for another user: KooDrive's app signature names the acting user in `X-User-Id`.
//! An app key of an admin may act as any enabled user of its domain; any other key only as
//! its own user; nobody's key acts for someone of a higher role.

use super::tokens::require_good_standing;
use super::{validate, Actor, Services};
use crate::error::{AuthProblem, Error, Result};
use crate::model::UserId;

impl Services {
    /// The actor a signed call acts as: `signer` (the key's user) itself, or, when the signer
    /// is an admin, the enabled user `user_id` of its domain.
    pub async fn act_as(&self, signer: Actor, user_id: &str) -> Result<Actor> {
        validate::required("X-User-Id", user_id, validate::MAX_USER_ID)?;
        if user_id == signer.user_id {
            return Ok(signer);
        }
        if !signer.is_admin() {
            return Err(Error::forbidden(
                "only an admin's app key acts for other users",
            ));
        }
        let user = self
            .store
            .user(&signer.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::Unauthorized(AuthProblem::AccessTokenInvalid))?;
        // The user acted for must be in good standing, as for any credential of its own.
        require_good_standing(
            &user,
            self.clock.now_ms(),
            Error::Unauthorized(AuthProblem::AccessTokenInvalid),
        )?;
        let actor = Actor {
            role: user.role()?,
            domain_id: user.domain_id.into(),
            user_id: user.user_id.into(),
            trail: signer.trail.clone(),
        };
        // Acting as someone must never raise the signer's own permissions.
        if actor.is_superadmin() && !signer.is_superadmin() {
            return Err(Error::forbidden(
                "only a superadmin's app key acts for a superadmin",
            ));
        }
        Ok(actor)
    }
}
