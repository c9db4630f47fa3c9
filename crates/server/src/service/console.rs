//! What the admin console needs beyond the API's operations: who a browser's sign-in session
//! acts as on the console (an ordinary call, so a user that must change its password first,
//! or is locked, is refused like any API caller), and what part of the directory an operator
//! sees there: the whole domain for admins, the subtrees of the groups it administers for a
//! group admin. Changes go through the API's own service calls, which enforce the same rules.

use super::sessions::SigninSession;
use super::tokens::CallKind;
use super::{Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::model::{Group, Listed, UserExtras, UserSearch, UserWithExtras};

/// The part of the directory a console operator sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleScope {
    /// An admin: the whole domain.
    Domain,
    /// A group admin: the groups it administers (the roots), the groups below them and
    /// their users.
    Subtrees(Vec<String>),
}

impl ConsoleScope {
    pub fn is_domain(&self) -> bool {
        matches!(self, ConsoleScope::Domain)
    }
}

/// An object outside a group admin's subtrees answers as one that does not exist.
fn outside(resource: Resource) -> Error {
    Error::NotFound(resource)
}

impl Services {
    /// The caller a console page acts as: the session's user, admitted as any API call is.
    pub async fn session_operator(&self, session: &SigninSession) -> Result<Actor> {
        self.session_caller(session, CallKind::Ordinary).await
    }

    /// What `actor` sees on the console; `Forbidden` for a user that neither has admin
    /// permission nor administers a group.
    pub async fn console_scope(&self, actor: &Actor) -> Result<ConsoleScope> {
        if actor.is_admin() {
            return Ok(ConsoleScope::Domain);
        }
        let roots = self.groups_administered_by(actor, &actor.user_id).await?;
        if roots.is_empty() {
            return Err(Error::forbidden("the console is for administrators"));
        }
        Ok(ConsoleScope::Subtrees(roots))
    }

    /// The users page: `user/search` for admins; for a group admin the same search, narrowed
    /// to the users of its subtrees.
    pub async fn console_users(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        search: UserSearch,
    ) -> Result<Listed<UserWithExtras>> {
        match scope {
            ConsoleScope::Domain => {
                self.search_users_with(actor, search, &[], None, UserExtras::default())
                    .await
            }
            ConsoleScope::Subtrees(roots) => {
                if search.subdomain_id.is_some() {
                    return Err(Error::forbidden(
                        "only a parent domain's admins reach subdomains",
                    ));
                }
                self.find_users_in(actor, search, roots, None, UserExtras::default())
                    .await
            }
        }
    }

    /// A user's page: any user of the domain for admins; for a group admin only a user of
    /// its subtrees (any other answers as not found).
    pub async fn console_user(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        user_id: &str,
        extras: UserExtras,
    ) -> Result<UserWithExtras> {
        if let ConsoleScope::Subtrees(roots) = scope {
            super::validate::max_len("user_id", user_id, super::validate::MAX_USER_ID)?;
            if !self
                .user_in_subtrees(&actor.domain_id, user_id, roots)
                .await?
            {
                return Err(outside(Resource::User));
            }
            let row = self
                .store
                .user(&actor.domain_id, user_id)
                .await?
                .ok_or(Error::NotFound(Resource::User))?;
            let mut items = self
                .with_extras(&actor.domain_id, vec![row], extras)
                .await?;
            return items.pop().ok_or(Error::NotFound(Resource::User));
        }
        self.get_user_with(actor, Some(user_id), extras).await
    }

    /// A group on the groups page: any group for admins; for a group admin only one at or
    /// below a group it administers (any other answers as not found).
    pub async fn console_group(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
        group_id: &str,
    ) -> Result<Group> {
        let group = self.get_group(actor, group_id).await?;
        if !scope.is_domain() && !self.may_manage(actor, group_id, true).await? {
            return Err(outside(Resource::Group));
        }
        Ok(group)
    }
}
