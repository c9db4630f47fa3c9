//! First start: on an empty store, create the domain and its superadmin `admin`, whose logon
//! account is the custom identity `admin`. Later starts change nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::Role;
use crate::model::{DomainId, UserId};
use anyhow::Context;

use super::users::new_user_row;
use super::{random_hex, Services};
use crate::store::{AccountRow, DomainRow, NewUser};

pub const ADMIN_USER_ID: &str = "admin";
pub const ADMIN_IDENTITY: &str = "admin";
pub const CREDENTIALS_FILE: &str = "admin-credentials";

/// What the bootstrap did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// The domain already existed: nothing was touched.
    AlreadyDone,
    /// Created, with the password given in the environment.
    Created,
    /// Created with a generated password, written to this file (mode 0600).
    CreatedWithGeneratedPassword(PathBuf),
}

impl Services {
    pub async fn bootstrap(
        &self,
        domain_id: &str,
        admin_password: Option<&str>,
        data_dir: &Path,
    ) -> anyhow::Result<Bootstrap> {
        if self.store.domain(domain_id).await?.is_some() {
            return Ok(Bootstrap::AlreadyDone);
        }
        let generated = admin_password.is_none().then(|| random_hex(12));
        let password = admin_password.or(generated.as_deref()).unwrap_or_default();
        let now = self.clock.now_ms();
        let mut domain = DomainRow::new(domain_id, domain_id, "", now);
        // The first domain of a store is the operator's; the store keeps that true of one.
        domain.is_operator = true;
        let mut admin = new_user_row(domain_id, ADMIN_USER_ID.into(), "system", now);
        admin.role = Role::Superadmin.as_str().into();
        admin.nick_name = "admin".into();
        admin.user_name = "admin".into();
        let account = AccountRow {
            domain_id: domain_id.to_owned(),
            authentication_type: "custom".into(),
            identity: ADMIN_IDENTITY.into(),
            user_id: ADMIN_USER_ID.into(),
            display_name: ADMIN_IDENTITY.into(),
            extra: String::new(),
            status: "normal".into(),
            created_at: now,
            last_login_time: 0,
        };
        let new = NewUser {
            user: admin,
            accounts: vec![account],
            password_hash: Some(self.passwords.hash(password).await?),
            group_ids: Vec::new(),
            drive: None,
        };
        if !self.store.bootstrap_domain(domain, new).await? {
            // Another process bootstrapped the same store first.
            return Ok(Bootstrap::AlreadyDone);
        }
        match generated {
            None => Ok(Bootstrap::Created),
            Some(password) => {
                let path = data_dir.join(CREDENTIALS_FILE);
                write_private_file(&path, &format!("user: admin\npassword: {password}\n"))?;
                Ok(Bootstrap::CreatedWithGeneratedPassword(path))
            }
        }
    }
}

/// Writes a file only its owner can read: created with mode 0600, never widened.
fn write_private_file(path: &Path, content: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(content.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// What an operator's account recovery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The logon identities whose failed-login lock was lifted.
    pub identities: Vec<String>,
    /// Whether the password was replaced.
    pub password_set: bool,
}

impl Services {
    /// The operator's way back into an account, on the store directly (`roster admin
    /// reset-password`, `roster admin unlock`): lifts the failed-login lock of the user and of
    /// every logon identity of it and, given one, sets a new password through the same rule as an
    /// administrator's reset (so the user's sessions end as they would then).
    pub async fn recover_account(
        &self,
        domain_id: &str,
        user_id: &str,
        new_password: Option<String>,
    ) -> crate::error::Result<Recovery> {
        let operator = super::Actor {
            domain_id: domain_id.into(),
            user_id: "roster-cli".into(),
            role: Role::Superadmin,
            trail: crate::audit::Trail::none(),
        };
        let password_set = new_password.is_some();
        if let Some(password) = new_password {
            let request = crate::model::UserChanges {
                plain_password: Some(password),
                ..Default::default()
            };
            self.update_user(&operator, user_id, request).await?;
        } else if self
            .store
            .user(&DomainId::from(domain_id), &UserId::from(user_id))
            .await?
            .is_none()
        {
            return Err(crate::error::Error::NotFound(crate::error::Resource::User));
        }
        let accounts = self
            .store
            .accounts_of(&DomainId::from(domain_id), &[user_id.to_owned()])
            .await?;
        self.store
            .clear_user_login_failures(
                &operator.trail,
                &DomainId::from(domain_id),
                &UserId::from(user_id),
            )
            .await?;
        let mut identities = Vec::with_capacity(accounts.len());
        for account in accounts {
            self.store
                .clear_login_failures(
                    &operator.trail,
                    &DomainId::from(domain_id),
                    &account.identity,
                )
                .await?;
            identities.push(account.identity);
        }
        Ok(Recovery {
            identities,
            password_set,
        })
    }
}
