//! Password resets: an admin asks for one (eds-user ResetUserPassword); the user gets a
//! single-use token by mail, valid for [`RESET_TOKEN_TTL_MS`], and sets a new password with
//! it (`/v2/account/reset_password`). Only the token's hash is stored.

use crate::audit::Trail;
use crate::model::{DomainId, UserId};
use sha2::{Digest, Sha256};

use super::pagination::{encode_marker, finish_page, Page};
use super::{random_hex, validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::store::mail::{OutboxRow, ResetTokenRow};
use crate::store::{UserChanges, UserRow};

pub const RESET_TOKEN_TTL_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;
/// Reset requests are counted in the failed-login table under keys no identity can have
/// (identities hold no control character).
const RATE_KEY_PREFIX: &str = "\u{1}reset-";
/// The body of mail to a superadmin, as an admin who is not one reads the outbox.
pub const WITHHELD: &str = "(withheld: mail to a superadmin is shown to superadmins only)";

/// Who asked for a reset: what its mail says.
#[derive(Clone, Copy)]
enum MailedBy {
    Admin,
    Owner,
}

/// The reset mail: the link when the server knows its public URL (`--public-url`; never
/// the request's `Host`, which whoever sends the request chooses), else the token and the
/// API call.
fn reset_mail_body(user_id: &str, token: &str, link: Option<&str>, by: MailedBy) -> String {
    let why = match by {
        MailedBy::Admin => "an administrator has reset your password.",
        MailedBy::Owner => {
            "someone (we hope you) asked to reset your password. If it was not \
                            you, ignore this mail: your password stays as it is."
        }
    };
    match link {
        Some(link) => format!(
            "Hello {user_id},\n\n{why} Set a new one within 24 hours on this page:\n\n    \
             {link}\n\nThe link works once.\n"
        ),
        None => format!(
            "Hello {user_id},\n\n{why} Set a new one within 24 hours with this token:\n\n    \
             {token}\n\nfor example with\n\n    POST /v2/account/reset_password \
             {{\"token\": \"{token}\", \"new_password\": \"...\"}}\n"
        ),
    }
}

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
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        // The token lands in an outbox admins read: an admin must not reset its way into a
        // superadmin's account.
        super::users::require_reach(actor, &user)?;
        if user.email.is_empty() {
            return Err(Error::missing("Email"));
        }
        self.mail_reset_token(&actor.trail, &user, MailedBy::Admin)
            .await
    }

    /// A person asks for a reset link by an account identity, from the forgot-password page.
    /// The answer is the same whether the identity exists or not; only asking too often for
    /// one identity is refused (429 with the wait, which tells nothing of the account). A
    /// link is mailed only to a user with an address, at most `self_resets_per_hour`
    /// (`--self-resets-per-hour`) an hour per address (silently: a refusal there would tell that the account exists).
    pub async fn request_own_password_reset(
        &self,
        trail: &Trail,
        domain_id: &str,
        identity: &str,
    ) -> Result<()> {
        let identity = identity.trim();
        validate::required("identity", identity, validate::MAX_IDENTITY)?;
        trail.record(crate::audit::Event {
            domain_id,
            actor_id: "",
            action: "password.reset_request",
            target_type: "account",
            target_id: identity,
            detail: serde_json::json!({ "self_service": true }),
        });
        let per_identity = format!("{RATE_KEY_PREFIX}identity:{}", identity.to_lowercase());
        self.count_reset_request(trail, domain_id, &per_identity)
            .await?;
        let candidates = self
            .store
            .login_candidates(&DomainId::from(domain_id), identity)
            .await?;
        let [only] = candidates.as_slice() else {
            // None, or an identity shared by several users: nobody gets mail.
            return Ok(());
        };
        let Some(user) = self
            .store
            .user(&DomainId::from(domain_id), &UserId::from(&only.user_id))
            .await?
        else {
            return Ok(());
        };
        if user.email.is_empty() || user.status != "enabled" || user.deny_change_password_by_self {
            return Ok(());
        }
        let per_address = format!("{RATE_KEY_PREFIX}address:{}", user.email.to_lowercase());
        if self
            .count_reset_request(trail, domain_id, &per_address)
            .await
            .is_err()
        {
            return Ok(());
        }
        self.mail_reset_token(trail, &user, MailedBy::Owner).await
    }

    /// Counts one reset request under `key` in the failed-login table (so every replica
    /// counts alike): past `self_resets_per_hour` an hour, 429 until the hour is over.
    async fn count_reset_request(&self, trail: &Trail, domain_id: &str, key: &str) -> Result<()> {
        let now = self.clock.now_ms();
        let (_, locked_until) = self
            .store
            .login_failures(&DomainId::from(domain_id), key)
            .await?;
        if locked_until > now {
            return Err(super::tokens::too_many(locked_until, now));
        }
        self.store
            .record_login_failure(
                trail,
                &DomainId::from(domain_id),
                key,
                now,
                i64::from(self.token_settings.self_resets_per_hour),
                HOUR_MS,
            )
            .await?;
        Ok(())
    }

    /// Makes a reset token for `user` (which has an address) and mails the link.
    async fn mail_reset_token(&self, trail: &Trail, user: &UserRow, by: MailedBy) -> Result<()> {
        let token = random_hex(24);
        let now = self.clock.now_ms();
        self.store
            .insert_reset_token(
                trail,
                ResetTokenRow {
                    token_hash: token_hash(&token),
                    domain_id: user.domain_id.clone(),
                    user_id: user.user_id.clone(),
                    expires_at: now + RESET_TOKEN_TTL_MS,
                    created_at: now,
                    role: user.role.clone(),
                    email: user.email.clone(),
                },
            )
            .await?;
        let link = self.public_base_of(&user.domain_id).map(|base| {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("token", &token)
                .finish();
            format!("{base}/reset?{query}")
        });
        let body = reset_mail_body(&user.user_id, &token, link.as_deref(), by);
        self.mailer
            .send(
                self.store.as_ref(),
                &user.domain_id,
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
            .user(&DomainId::from(&row.domain_id), &UserId::from(&row.user_id))
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
            .update_user(
                trail,
                &DomainId::from(&row.domain_id),
                &UserId::from(&row.user_id),
                changes,
            )
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
