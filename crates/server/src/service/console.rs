//! What the admin console needs beyond the API's operations: who a browser's sign-in session
//! acts as on the console (an ordinary call, so a user that must change its password first,
//! or is locked, is refused like any API caller).

use super::sessions::SigninSession;
use super::tokens::{admit, CallKind};
use super::{Actor, Services};
use crate::error::{AuthProblem, Error, Result};

impl Services {
    /// The caller a console page acts as: the session's user, admitted as any API call is.
    pub async fn session_operator(&self, session: &SigninSession) -> Result<Actor> {
        let invalid = || Error::Unauthorized(AuthProblem::AccessTokenInvalid);
        let user = self
            .store
            .user(&session.domain_id, &session.user_id)
            .await?
            .ok_or_else(invalid)?;
        admit(user, CallKind::Ordinary, invalid(), self.clock.now_ms())
    }
}
