//! What the admin console needs beyond the API's operations: who a browser's sign-in session
//! acts as on the console (an ordinary call, so a user that must change its password first,
//! or is locked, is refused like any API caller).

use super::sessions::SigninSession;
use super::tokens::CallKind;
use super::{Actor, Services};
use crate::error::Result;

impl Services {
    /// The caller a console page acts as: the session's user, admitted as any API call is.
    pub async fn session_operator(&self, session: &SigninSession) -> Result<Actor> {
        self.session_caller(session, CallKind::Ordinary).await
    }
}
