//! Logon accounts and passwords: admins link and unlink accounts and look them up; a user
//! changes its own password with its current one.

use super::{validate, Actor, Services};
use crate::error::{Error, ParamProblem, Resource, Result};
use crate::model::DomainId;
use crate::model::UserId;
use crate::model::{Account, AccountLink, IssuedToken, LogonIdentity, LogonKind};
use crate::store::{AccountRow, UserChanges};

/// Checks an identity for its account type; answers the identity as stored (see
/// [`validate::identity`]) and the `extra` to store (`86` by default for mobile numbers).
fn checked_identity(
    kind: LogonKind,
    identity: &str,
    extra: Option<&str>,
) -> Result<(String, String)> {
    let identity = validate::identity(kind.as_str(), identity)?;
    validate::optional("extra", extra, validate::MAX_PHONE)?;
    let extra = match (kind, extra) {
        (_, Some(extra)) if !extra.is_empty() => extra.to_owned(),
        (LogonKind::Mobile, _) => "86".into(),
        _ => String::new(),
    };
    Ok((identity, extra))
}

/// Notes a link or unlink: the account is named `<type>:<identity>`, its user in the detail.
fn audit_account(actor: &Actor, action: &'static str, req: &AccountLink) {
    let account = format!("{}:{}", req.kind.as_str(), req.identity);
    let detail = serde_json::json!({ "user_id": &req.user_id });
    actor.audit_with(action, "account", &account, detail);
}

impl Services {
    /// Refuses an identity another user already logs on with, under any account type: a
    /// password login matches the identity string whatever its type, so `ADAM@x` as one
    /// user's e-mail and another's custom id would be one name for two people. E-mail
    /// identities compare case-insensitively (they are stored in lower case).
    pub(crate) async fn require_identity_free(
        &self,
        domain_id: &str,
        identity: &str,
        user_id: &str,
    ) -> Result<()> {
        let folded = identity.to_ascii_lowercase();
        for spelling in [identity, folded.as_str()] {
            let holders = self
                .store
                .login_candidates(&DomainId::from(domain_id), spelling)
                .await?;
            if holders.iter().any(|h| h.user_id != user_id) {
                return Err(Error::AlreadyExists(Resource::Account));
            }
        }
        Ok(())
    }

    /// Links an account to a user and answers a token for that user, as PDS does.
    pub async fn link_account(&self, actor: &Actor, req: AccountLink) -> Result<IssuedToken> {
        audit_account(actor, "account.link", &req);
        actor.require_admin()?;
        validate::required("user_id", &req.user_id, validate::MAX_USER_ID)?;
        let (identity, extra) = checked_identity(req.kind, &req.identity, req.extra.as_deref())?;
        self.require_reach_user(actor, &req.user_id).await?;
        self.require_identity_free(&actor.domain_id, &req.identity, &req.user_id)
            .await?;
        let account = AccountRow {
            domain_id: actor.domain_id.to_string(),
            authentication_type: req.kind.as_str().into(),
            identity,
            user_id: req.user_id.clone(),
            display_name: req.identity,
            extra,
            status: "normal".into(),
            created_at: self.clock.now_ms(),
            last_login_time: 0,
        };
        self.store.link_account(&actor.trail, account).await?;
        self.issue_delegated_token(actor, &req.user_id).await
    }

    pub async fn unlink_account(&self, actor: &Actor, req: AccountLink) -> Result<()> {
        audit_account(actor, "account.unlink", &req);
        actor.require_admin()?;
        validate::required("user_id", &req.user_id, validate::MAX_USER_ID)?;
        validate::required("identity", &req.identity, validate::MAX_IDENTITY)?;
        // Taking a superadmin's logon away is a superadmin's call; an unknown user has no
        // such account, answered below.
        if let Some(user) = self
            .store
            .user(&actor.domain_id, &UserId::from(&req.user_id))
            .await?
        {
            super::users::require_reach(actor, &user)?;
        }
        let account = AccountRow {
            domain_id: actor.domain_id.to_string(),
            authentication_type: req.kind.as_str().into(),
            identity: validate::normal_identity(req.kind.as_str(), &req.identity),
            user_id: req.user_id,
            display_name: String::new(),
            extra: String::new(),
            status: String::new(),
            created_at: 0,
            last_login_time: 0,
        };
        if self.store.unlink_account(&actor.trail, &account).await? {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::Account))
        }
    }

    /// The account of an identity (admin).
    pub async fn link_info(&self, actor: &Actor, req: &LogonIdentity) -> Result<Account> {
        actor.require_admin()?;
        validate::required("identity", &req.identity, validate::MAX_IDENTITY)?;
        let identity = validate::normal_identity(req.kind.as_str(), &req.identity);
        self.store
            .account(&actor.domain_id, req.kind.as_str(), &identity)
            .await?
            .ok_or(Error::NotFound(Resource::Account))
    }

    /// A user's accounts: its own to anyone, anybody's to admins.
    pub async fn link_info_of_user(&self, actor: &Actor, user_id: &str) -> Result<Vec<Account>> {
        validate::required("user_id", user_id, validate::MAX_USER_ID)?;
        if user_id != actor.user_id {
            actor.require_admin()?;
        }
        self.store
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        self.store
            .accounts_of(&actor.domain_id, &[user_id.to_owned()])
            .await
    }

    /// A token for the user of an account (admin; a superadmin's only to a superadmin).
    pub async fn access_token_by_link_info(
        &self,
        actor: &Actor,
        req: &LogonIdentity,
    ) -> Result<IssuedToken> {
        let account = self.link_info(actor, req).await?;
        // An admin taking a token of another user: recorded as the admin's act (the issue
        // itself is recorded as the user's).
        let detail = serde_json::json!({ "identity": &req.identity });
        actor.audit_with("token.issue_for", "user", &account.user_id, detail);
        self.require_reach_user(actor, &account.user_id).await?;
        self.issue_delegated_token(actor, &account.user_id).await
    }

    /// Refuses an admin acting on a superadmin; `NotFound(User)` for no such user.
    async fn require_reach_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        let user = self
            .store
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        super::users::require_reach(actor, &user)
    }

    /// The caller changes its own password, proving the current one. Refused when an admin
    /// set `deny_change_password_by_self`; clears `need_change_password_next_login`. Wrong
    /// old passwords count against the user's lockout, as failed logins do; the change ends
    /// every session of the user (this one too: it logs in again with the new password).
    pub async fn change_password(
        &self,
        actor: &Actor,
        old_password: Option<&str>,
        new_password: &str,
    ) -> Result<()> {
        actor.audit("password.change", "user", &actor.user_id);
        validate::password(new_password).map_err(|_| Error::out_of_range("new_password"))?;
        let user = self
            .store
            .user(&actor.domain_id, &actor.user_id)
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        if user.deny_change_password_by_self {
            return Err(Error::forbidden(
                "this user may not change its own password",
            ));
        }
        let current = self
            .store
            .password_hashes_of(&actor.domain_id, &[actor.user_id.to_string()])
            .await?
            .pop()
            .map(|(_, hash)| hash);
        if let Some(hash) = current {
            let old = old_password.ok_or_else(|| Error::missing("old_password"))?;
            if !self
                .check_user_password(
                    &actor.trail,
                    &actor.domain_id,
                    &actor.user_id,
                    old,
                    Some(&hash),
                )
                .await?
            {
                return Err(Error::param(ParamProblem::NotMatch, "old_password"));
            }
        }
        let changes = UserChanges {
            password_hash: Some(self.passwords.hash(new_password).await?),
            need_change_password_next_login: Some(false),
            updated_at: self.clock.now_ms(),
            ..UserChanges::default()
        };
        self.store
            .update_user(&actor.trail, &actor.domain_id, &actor.user_id, changes)
            .await?
            .map(|_| ())
            .ok_or(Error::NotFound(Resource::User))
    }
}
