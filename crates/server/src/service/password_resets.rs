//! Password resets: an admin asks for one (eds-user ResetUserPassword); the user gets a
//! single-use token by mail, valid for [`RESET_TOKEN_TTL_MS`], and sets a new password with
//! it (`/v2/account/reset_password`). Only the token's hash is stored.

use crate::audit::Trail;
use sha2::{Digest, Sha256};

use super::pagination::{encode_marker, finish_page, Page};
use super::{random_hex, validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::store::mail::{OutboxRow, ResetTokenRow};
use crate::store::UserChanges;

pub const RESET_TOKEN_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// The body of mail to a superadmin, as an admin who is not one reads the outbox.
pub const WITHHELD: &str = "(withheld: mail to a superadmin is shown to superadmins only)";

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Services {
    /// Makes a reset token for a user with an email address and mails it to that address.
    pub async fn request_password_reset(&self, actor: &Actor, user_id: &str) -> Result<()> {
        actor.audit("password.reset_request", "user", user_id);
        actor.require_admin()?;
        validate::required("EndUserId", user_id, validate::MAX_USER_ID)?;
        let user = self
            .store
            .user(&actor.domain_id, user_id)
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        // The token lands in an outbox admins read: an admin must not reset its way into a
        // superadmin's account.
        super::users::require_reach(actor, &user)?;
        if user.email.is_empty() {
            return Err(Error::missing("Email"));
        }
        let token = random_hex(24);
        let now = self.clock.now_ms();
        self.store
            .insert_reset_token(
                &actor.trail,
                ResetTokenRow {
                    token_hash: token_hash(&token),
                    domain_id: actor.domain_id.clone(),
                    user_id: user.user_id.clone(),
                    expires_at: now + RESET_TOKEN_TTL_MS,
                    created_at: now,
                    role: user.role.clone(),
                    email: user.email.clone(),
                },
            )
            .await?;
        let body = format!(
            "Hello {},\n\nan administrator has reset your password. Set a new one within 24 \
             hours with this token:\n\n    {token}\n\nfor example with\n\n    POST \
             /v2/account/reset_password {{\"token\": \"{token}\", \"new_password\": \"...\"}}\n",
            user.user_id
        );
        self.mailer
            .send(
                self.store.as_ref(),
                &actor.domain_id,
                &user.email,
                "Reset your Roster password",
                &body,
                // Mail to a superadmin may carry what takes the account over: admins who are
                // not superadmins never read its body.
                user.is_superadmin()?,
            )
            .await
    }

    /// Sets a new password with a reset token, which then no longer works; `domain_id` is
    /// the domain the request named, if any (a token of another domain is refused there).
    pub async fn reset_password_with_token(
        &self,
        trail: &Trail,
        domain_id: Option<&str>,
        token: &str,
        new_password: &str,
    ) -> Result<()> {
        validate::token("token", token)?;
        validate::password(new_password).map_err(|_| Error::out_of_range("new_password"))?;
        let unusable = || Error::NotFound(Resource::ResetToken);
        let row = self
            .store
            .take_reset_token(trail, &token_hash(token))
            .await?
            .filter(|t| {
                t.expires_at > self.clock.now_ms()
                    && super::tenancy::admits(domain_id, &t.domain_id)
            })
            .ok_or_else(unusable)?;
        // Issued for the user as it was: a promotion or a new address since then voids it
        // (the store deletes such tokens when either changes; this holds even if one slips by).
        let user = self
            .store
            .user(&row.domain_id, &row.user_id)
            .await?
            .ok_or_else(unusable)?;
        if user.role != row.role || user.email != row.email {
            return Err(unusable());
        }
        // The token's holder acts on itself; the record lands with the new password.
        trail.record(crate::audit::Event {
            domain_id: &row.domain_id,
            actor_id: &row.user_id,
            action: "password.reset",
            target_type: "user",
            target_id: &row.user_id,
            detail: serde_json::Value::Null,
        });
        let changes = UserChanges {
            password_hash: Some(self.passwords.hash(new_password).await?),
            need_change_password_next_login: Some(false),
            updated_at: self.clock.now_ms(),
            ..UserChanges::default()
        };
        self.store
            .update_user(trail, &row.domain_id, &row.user_id, changes)
            .await?
            .map(|_| ())
            .ok_or(Error::NotFound(Resource::User))
    }

    /// The domain's outbox, newest first (admins only: it holds reset tokens; mail to a
    /// superadmin shows its body to superadmins only).
    pub async fn outbox(
        &self,
        actor: &Actor,
        limit: Option<i64>,
        marker: Option<&str>,
    ) -> Result<(Vec<OutboxRow>, String)> {
        actor.require_admin()?;
        let page = Page::parse(&actor.domain_id, limit, marker)?;
        let before = match page.after_for("ob")? {
            None => None,
            Some((at, id)) => Some((at.parse().map_err(|_| Error::invalid("marker"))?, id)),
        };
        let mut rows = self
            .store
            .outbox(&actor.domain_id, before, page.limit + 1)
            .await?;
        if !actor.is_superadmin() {
            for row in rows.iter_mut().filter(|r| r.superadmins_only) {
                row.body = WITHHELD.to_owned();
            }
        }
        Ok(finish_page(rows, page.limit, |last| {
            encode_marker(
                &actor.domain_id,
                "ob",
                &last.created_at.to_string(),
                &last.message_id,
            )
        }))
    }
}
