//! An admin's view of another user's sign-in sessions: list them and end them all (its
//! sign-in sessions and every token, as a lock does, without locking it). The console's
//! user page calls these; the rules are an admin's reach over a user (a superadmin's
//! sessions are a superadmin's to end).

use super::sessions::SessionSummary;
use super::users::require_reach;
use super::{validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::model::UserId;

impl Services {
    /// The live sign-in sessions of `user_id`, newest first (admins).
    pub async fn user_signin_sessions(
        &self,
        actor: &Actor,
        user_id: &str,
    ) -> Result<Vec<SessionSummary>> {
        actor.require_admin()?;
        validate::required("user_id", user_id, validate::MAX_USER_ID)?;
        let user = self
            .store
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        let rows = self
            .store
            .signin_sessions_of(&actor.domain_id, &UserId::from(user_id))
            .await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.token_stamp == user.token_stamp)
            .map(|r| SessionSummary {
                current: false,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
            })
            .collect())
    }

    /// Ends every session of `user_id`: its sign-in sessions and its tokens (a new token
    /// generation; refresh tokens go). The user stays enabled and may sign in again.
    pub async fn end_user_sessions(&self, actor: &Actor, user_id: &str) -> Result<()> {
        actor.audit_with(
            "token.revoke",
            "user",
            user_id,
            serde_json::json!({ "reason": "sessions ended by an admin" }),
        );
        actor.require_admin()?;
        validate::required("user_id", user_id, validate::MAX_USER_ID)?;
        let user = self
            .store
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        require_reach(actor, &user)?;
        self.end_sessions(&actor.trail, &actor.domain_id, user_id)
            .await?;
        self.store
            .delete_signin_sessions_of(&actor.trail, &actor.domain_id, &UserId::from(user_id))
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::model::Role;
    use crate::service::testing::{scratch_services, superadmin, user_with_role};

    #[tokio::test]
    async fn admins_list_and_end_a_users_sessions_plain_users_do_not() {
        let (_dir, s) = scratch_services().await;
        let admin = superadmin();
        let plain = user_with_role(&s, "plain", Role::User).await;
        let other_admin = user_with_role(&s, "admin2", Role::Admin).await;
        assert!(matches!(
            s.user_signin_sessions(&plain, "admin").await,
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            s.end_user_sessions(&plain, "admin2").await,
            Err(Error::Forbidden(_))
        ));
        // An admin does not end a superadmin's sessions.
        assert!(matches!(
            s.end_user_sessions(&other_admin, "admin").await,
            Err(Error::Forbidden(_))
        ));
        assert!(s.user_signin_sessions(&admin, "plain").await.is_ok());
        s.end_user_sessions(&admin, "plain").await.unwrap();
        assert!(matches!(
            s.end_user_sessions(&admin, "nobody").await,
            Err(Error::NotFound(_))
        ));
    }
}
