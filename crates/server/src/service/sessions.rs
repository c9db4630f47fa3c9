//! Browser sign-in sessions: a random id in a cookie, its SHA-256 in the store (so every
//! replica sees it), ended by an idle and an absolute timeout, by sign-out, and at once when
//! the user's token generation changes (password change or reset, lock, disable, punishment,
//! role change, "sign out everywhere") or the user is deleted.

use crate::audit::Trail;
use crate::model::{DomainId, UserId};
use sha2::{Digest, Sha256};

use super::tokens::{admit, require_good_standing, CallKind};
use super::{random_hex, Actor, Services};
use crate::error::{AuthProblem, Error, Resource, Result};
use crate::model::UserChanges;
use crate::store::signin::SigninSessionRow;
use crate::store::UserRow;

/// What the pages call the operator domain when it has no name of its own.
const OPERATOR_DOMAIN_NAME: &str = "Roster";

/// A session's last use is written at most this often (ms); the console's too.
pub(super) const TOUCH_EVERY_MS: i64 = 60_000;

/// A live sign-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninSession {
    pub domain_id: String,
    pub user_id: String,
    /// The token its forms carry (CSRF).
    pub form_token: String,
    /// When the person signed in (ms since the epoch).
    pub created_at: i64,
    session_hash: String,
}

/// The outcome of a successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The cookie's value: the session's id, never stored.
    pub cookie: String,
    pub session: SigninSession,
    /// The user's admin requires a new password before anything else.
    pub must_change_password: bool,
}

/// One of a user's sessions, for its profile page.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The session the list is shown in.
    pub current: bool,
}

fn hash_session(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

fn from_row(row: SigninSessionRow) -> SigninSession {
    SigninSession {
        domain_id: row.domain_id,
        user_id: row.user_id,
        form_token: row.form_token,
        created_at: row.created_at,
        session_hash: row.session_hash,
    }
}

/// The audit record of a sign-out.
fn note_logout(trail: &Trail, session: &SigninSession, detail: serde_json::Value) {
    trail.record(crate::audit::Event {
        domain_id: &session.domain_id,
        actor_id: &session.user_id,
        action: "signin.logout",
        target_type: "user",
        target_id: &session.user_id,
        detail,
    });
}

impl Services {
    /// Signs a person in with an account identity and password: the same check, lockout
    /// and audit as the password grant. Starts a session.
    pub async fn sign_in(
        &self,
        trail: &Trail,
        domain_id: &str,
        username: &str,
        password: &str,
    ) -> Result<SignedIn> {
        let (user, _) = self
            .check_password_login(trail, domain_id, username, password, "signin.login")
            .await?;
        self.start_session(trail, user).await
    }

    /// A new session for `user` (who just proved who it is).
    async fn start_session(&self, trail: &Trail, user: UserRow) -> Result<SignedIn> {
        let now = self.clock.now_ms();
        let cookie = random_hex(32);
        let row = SigninSessionRow {
            session_hash: hash_session(&cookie),
            domain_id: user.domain_id.clone(),
            user_id: user.user_id.clone(),
            token_stamp: user.token_stamp.clone(),
            form_token: random_hex(16),
            created_at: now,
            last_seen_at: now,
        };
        let stale_before = now - self.token_settings.session_idle.as_millis() as i64;
        self.store
            .insert_signin_session(trail, row.clone(), stale_before)
            .await?;
        Ok(SignedIn {
            cookie,
            session: from_row(row),
            must_change_password: user.need_change_password_next_login,
        })
    }

    /// The live session a cookie names, if any: not idle or old past its timeouts, its user
    /// still of the same token generation and in good standing.
    pub async fn signin_session(&self, cookie: &str) -> Result<Option<SigninSession>> {
        if cookie.len() != 64 || !cookie.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = hash_session(cookie);
        let Some(row) = self.store.signin_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        let fresh = self
            .token_settings
            .session_live(row.created_at, row.last_seen_at, now);
        let user = self
            .store
            .user(&DomainId::from(&row.domain_id), &UserId::from(&row.user_id))
            .await?;
        let live = fresh
            && user.is_some_and(|u| {
                u.token_stamp == row.token_stamp
                    && require_good_standing(
                        &u,
                        now,
                        Error::Unauthorized(AuthProblem::InvalidCredentials),
                    )
                    .is_ok()
            });
        if !live {
            self.store
                .delete_signin_session(&Trail::none(), &hash)
                .await?;
            return Ok(None);
        }
        if now - row.last_seen_at >= TOUCH_EVERY_MS {
            self.store.touch_signin_session(&hash, now).await?;
        }
        Ok(Some(from_row(row)))
    }

    /// Signs out of this browser.
    pub async fn sign_out(&self, trail: &Trail, session: &SigninSession) -> Result<()> {
        note_logout(trail, session, serde_json::Value::Null);
        self.store
            .delete_signin_session(trail, &session.session_hash)
            .await
    }

    /// Signs out everywhere: every sign-in session of the user and every token ends.
    pub async fn sign_out_everywhere(&self, trail: &Trail, session: &SigninSession) -> Result<()> {
        note_logout(trail, session, serde_json::json!({ "everywhere": true }));
        self.end_sessions(trail, &session.domain_id, &session.user_id)
            .await?;
        self.store
            .delete_signin_sessions_of(
                trail,
                &DomainId::from(&session.domain_id),
                &UserId::from(&session.user_id),
            )
            .await
    }

    /// Whether the session's user must set a new password before going on (its admin's
    /// `need_change_password_next_login`).
    pub async fn must_change_password(&self, session: &SigninSession) -> Result<bool> {
        Ok(self
            .store
            .user(
                &DomainId::from(&session.domain_id),
                &UserId::from(&session.user_id),
            )
            .await?
            .is_some_and(|u| u.need_change_password_next_login))
    }

    /// The change-password page: the same rules and audit as `/v2/account/change_password`.
    /// The change ends every session and token of the user (its token generation changes),
    /// this browser's too, so the browser gets a new session.
    pub async fn change_password_in_session(
        &self,
        trail: &Trail,
        session: &SigninSession,
        old_password: &str,
        new_password: &str,
    ) -> Result<SignedIn> {
        let actor = self.session_actor(session).await?.in_request(trail.clone());
        self.change_password(&actor, Some(old_password), new_password)
            .await?;
        let user = self
            .store
            .user(
                &DomainId::from(&session.domain_id),
                &UserId::from(&session.user_id),
            )
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        self.start_session(trail, user).await
    }

    /// The profile page: what a user may change of itself there (nick name and avatar), by
    /// the users service's rules and audit (`user.update`).
    pub async fn update_profile_in_session(
        &self,
        trail: &Trail,
        session: &SigninSession,
        nick_name: &str,
        avatar: &str,
    ) -> Result<()> {
        let actor = self
            .session_caller(session, CallKind::Ordinary)
            .await?
            .in_request(trail.clone());
        let changes = UserChanges {
            nick_name: Some(nick_name.trim().to_owned()),
            avatar: Some(avatar.trim().to_owned()),
            ..UserChanges::default()
        };
        self.update_user(&actor, &session.user_id, changes)
            .await
            .map(|_| ())
    }

    /// The logon accounts of the session's user, for its profile page: `(type, identity)`.
    pub async fn linked_accounts(&self, session: &SigninSession) -> Result<Vec<(String, String)>> {
        let actor = self.session_actor(session).await?;
        let accounts = self.link_info_of_user(&actor, &session.user_id).await?;
        Ok(accounts
            .into_iter()
            .map(|a| (a.authentication_type.to_string(), a.identity))
            .collect())
    }

    /// Who a session acts as, for what its pages show and change (one's own profile and
    /// password: open even when the password must be changed first).
    pub async fn session_actor(&self, session: &SigninSession) -> Result<Actor> {
        self.session_caller(session, CallKind::PasswordChange).await
    }

    /// Who a session acts as, admitted for calls of `kind`.
    pub(crate) async fn session_caller(
        &self,
        session: &SigninSession,
        kind: CallKind,
    ) -> Result<Actor> {
        let invalid = || Error::Unauthorized(AuthProblem::AccessTokenInvalid);
        let user = self
            .store
            .user(
                &DomainId::from(&session.domain_id),
                &UserId::from(&session.user_id),
            )
            .await?
            .ok_or_else(invalid)?;
        admit(user, kind, invalid(), self.clock.now_ms())
    }

    /// A domain's public base URL from `--public-url` (none without it); see
    /// [`super::tenancy::Routing::public_base`].
    pub fn public_base_of(&self, domain_id: &str) -> Option<String> {
        let url = self.public_url.as_deref()?;
        Some(self.routing.public_base(url, domain_id))
    }

    /// The name a domain's pages show: its `domain_name` (one that is just its id is no
    /// name); without one, "Roster" for the operator domain (whose id, `default`, means
    /// nothing to a person), else the id.
    pub async fn domain_display_name(&self, domain_id: &str) -> Result<String> {
        let named = self
            .store
            .domain(domain_id)
            .await?
            .map(|d| d.domain_name)
            .filter(|n| !n.trim().is_empty() && n != domain_id);
        Ok(match named {
            Some(name) => name,
            None if domain_id == self.routing.default_domain() => OPERATOR_DOMAIN_NAME.to_owned(),
            None => domain_id.to_owned(),
        })
    }

    /// The user's live sign-in sessions, newest first (rows of an earlier token generation,
    /// ended by a password change and not yet swept, are not shown).
    pub async fn signin_sessions(&self, session: &SigninSession) -> Result<Vec<SessionSummary>> {
        let rows = self
            .store
            .signin_sessions_of(
                &DomainId::from(&session.domain_id),
                &UserId::from(&session.user_id),
            )
            .await?;
        let stamp = self
            .store
            .user(
                &DomainId::from(&session.domain_id),
                &UserId::from(&session.user_id),
            )
            .await?
            .map(|u| u.token_stamp)
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|r| r.token_stamp == stamp)
            .map(|r| SessionSummary {
                current: r.session_hash == session.session_hash,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
            })
            .collect())
    }
}
