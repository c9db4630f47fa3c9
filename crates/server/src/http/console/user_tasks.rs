//! The user page's tasks beyond its profile and status: its logon accounts (link, unlink), its
//! access keys (create, shown once; disable, enable, delete), its sign-in sessions (end
//! them), eds's auto-lock time (set, clear). Each is the API's service call with the
//! operator as the caller; destructive ones need a ticked confirmation.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::users::Shown;
use super::Operator;
use crate::error::{Error, ParamProblem};
use crate::http::AppState;
use crate::model::{AccessKeyStatus, AccountLink, LogonKind, UserChanges};

/// One of the task forms of a user's page; which fields count depends on `task`.
#[derive(Debug, Default, Deserialize)]
pub struct TaskForm {
    #[serde(default)]
    pub csrf: String,
    /// `link`, `unlink`, `key_create`, `key_disable`, `key_enable`, `key_delete`,
    /// `end_sessions`, `autolock_set`, `autolock_clear`.
    #[serde(default)]
    pub task: String,
    /// The ticked confirmation of a destructive task.
    #[serde(default)]
    pub confirm: String,
    /// An account's kind (`email`, `mobile`, `ldap`, `custom`) and identity.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub identity: String,
    /// An access key's id, or a new key's description.
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub key_description: String,
    /// The auto-lock time, `datetime-local` in UTC (`2027-01-31T18:00`).
    #[serde(default)]
    pub auto_lock_at: String,
}

fn logon_kind(kind: &str) -> Result<LogonKind, Error> {
    match kind {
        "email" => Ok(LogonKind::Email),
        "mobile" => Ok(LogonKind::Mobile),
        "ldap" => Ok(LogonKind::Ldap),
        "custom" => Ok(LogonKind::Custom),
        "" => Err(Error::missing("kind")),
        _ => Err(Error::param(ParamProblem::Invalid, "kind")),
    }
}

impl TaskForm {
    fn account(&self, user_id: &str) -> Result<AccountLink, Error> {
        Ok(AccountLink {
            user_id: user_id.to_owned(),
            kind: logon_kind(&self.kind)?,
            identity: self.identity.trim().to_owned(),
            extra: None,
        })
    }

    fn confirmed(&self) -> Result<(), Error> {
        if self.confirm == "yes" {
            Ok(())
        } else {
            Err(Error::missing("confirm"))
        }
    }

    /// The auto-lock time in ms since the epoch.
    fn auto_lock_ms(&self) -> Result<i64, Error> {
        let value = self.auto_lock_at.trim();
        if value.is_empty() {
            return Err(Error::missing("auto_lock_at"));
        }
        let value = if value.len() == 16 {
            format!("{value}:00Z")
        } else {
            value.to_owned()
        };
        crate::time_format::parse_utc_ms(&value)
            .ok_or_else(|| Error::param(ParamProblem::Invalid, "auto_lock_at"))
    }
}

/// `POST /console/users/{user_id}/task`: one of the tasks, then the user's page again with
/// "done" (and a new key's secret, once) or the refusal as a sentence.
pub async fn task(
    State(app): State<AppState>,
    op: Operator,
    Path(user_id): Path<String>,
    Form(form): Form<TaskForm>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let s = &app.services;
    let mut shown = Shown::default();
    let done: crate::error::Result<()> = async {
        match form.task.as_str() {
            "link" => s
                .link_account(&op.actor, form.account(&user_id)?)
                .await
                .map(|_| ()),
            "unlink" => {
                form.confirmed()?;
                s.unlink_account(&op.actor, form.account(&user_id)?).await
            }
            "key_create" => {
                let description =
                    Some(form.key_description.trim().to_owned()).filter(|d| !d.is_empty());
                let issued = s
                    .create_access_key(&op.actor, Some(user_id.clone()), description)
                    .await?;
                shown.issued = Some(issued);
                Ok(())
            }
            "key_disable" | "key_enable" => {
                let status = if form.task == "key_disable" {
                    AccessKeyStatus::Disabled
                } else {
                    AccessKeyStatus::Enabled
                };
                own_key(s, &op, &user_id, &form.access_key_id).await?;
                s.update_access_key(&op.actor, &form.access_key_id, status)
                    .await
                    .map(|_| ())
            }
            "key_delete" => {
                form.confirmed()?;
                own_key(s, &op, &user_id, &form.access_key_id).await?;
                s.delete_access_key(&op.actor, &form.access_key_id).await
            }
            "end_sessions" => {
                form.confirmed()?;
                s.end_user_sessions(&op.actor, &user_id).await
            }
            "autolock_set" => {
                let req = UserChanges {
                    expired_at: Some(form.auto_lock_ms()?),
                    ..UserChanges::default()
                };
                s.update_user(&op.actor, &user_id, req).await.map(|_| ())
            }
            "autolock_clear" => {
                let req = UserChanges {
                    expired_at: Some(0),
                    ..UserChanges::default()
                };
                s.update_user(&op.actor, &user_id, req).await.map(|_| ())
            }
            _ => Err(Error::param(ParamProblem::Invalid, "task")),
        }
    }
    .await;
    super::users::after_task(&app, &op, &user_id, done, shown).await
}

/// A key changed from a user's page must be that user's: a key id of another user answers
/// as not found there (the API's own calls take any key of the domain).
async fn own_key(
    s: &crate::service::Services,
    op: &Operator,
    user_id: &str,
    access_key_id: &str,
) -> crate::error::Result<()> {
    if access_key_id.trim().is_empty() {
        return Err(Error::missing("access_key_id"));
    }
    let key = s.get_access_key(&op.actor, access_key_id).await?;
    if key.user_id == user_id {
        Ok(())
    } else {
        Err(Error::NotFound(crate::error::Resource::AccessKey))
    }
}
