//! What an identity provider keeps on the users and groups it provisions (through SCIM):
//! the external id it knows them by, and attributes Roster has no column for. Admins only;
//! a change is audited as `<kind>.provisioning`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::users::logons::ContactLogons;
use super::{Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::model::{NewUserSpec, User, UserChanges};
use crate::store::provisioning::ProvisionedRow;

/// The longest external id, and the largest attribute object (JSON text).
pub const MAX_EXTERNAL_ID: usize = 256;
pub const MAX_DATA: usize = 16 * 1024;

/// A user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionedKind {
    User,
    Group,
}

impl ProvisionedKind {
    fn as_str(self) -> &'static str {
        match self {
            ProvisionedKind::User => "user",
            ProvisionedKind::Group => "group",
        }
    }
}

/// What a provider keeps on one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provisioned {
    pub external_id: String,
    pub data: Map<String, Value>,
}

impl Services {
    /// What providers keep on these objects, `(id, created_at)` each, by id; a row left by
    /// an earlier object of the same id is not this one's.
    pub async fn provisioned(
        &self,
        actor: &Actor,
        kind: ProvisionedKind,
        objects: &[(String, i64)],
    ) -> Result<HashMap<String, Provisioned>> {
        actor.require_admin()?;
        let ids: Vec<String> = objects.iter().map(|(id, _)| id.clone()).collect();
        let created: HashMap<&str, i64> =
            objects.iter().map(|(id, at)| (id.as_str(), *at)).collect();
        let rows = self
            .store
            .provisioned(&actor.domain_id, kind.as_str(), &ids)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|row| created.get(row.object_id.as_str()) == Some(&row.object_created_at))
            .map(|row| {
                let data = serde_json::from_str(&row.data).unwrap_or_default();
                (
                    row.object_id,
                    Provisioned {
                        external_id: row.external_id,
                        data,
                    },
                )
            })
            .collect())
    }

    /// The ids of the objects a provider knows by `external_id` (at most 100).
    pub async fn provisioned_ids(
        &self,
        actor: &Actor,
        kind: ProvisionedKind,
        external_id: &str,
    ) -> Result<Vec<String>> {
        actor.require_admin()?;
        if external_id.len() > MAX_EXTERNAL_ID {
            return Err(Error::out_of_range("externalId"));
        }
        let rows = self
            .store
            .provisioned_by_external_id(&actor.domain_id, kind.as_str(), external_id)
            .await?;
        Ok(rows.into_iter().map(|row| row.object_id).collect())
    }

    /// Stores what a provider keeps on an object (`created_at`: the object's).
    pub async fn set_provisioned(
        &self,
        actor: &Actor,
        kind: ProvisionedKind,
        (object_id, created_at): (&str, i64),
        provisioned: Provisioned,
    ) -> Result<()> {
        let action = match kind {
            ProvisionedKind::User => "user.provisioning",
            ProvisionedKind::Group => "group.provisioning",
        };
        actor.audit(action, kind.as_str(), object_id);
        actor.require_admin()?;
        let row = provisioned_row(actor, kind, (object_id, created_at), provisioned)?;
        self.store.put_provisioned(&actor.trail, row).await
    }

    /// Creates a user as `create_user_with_logons` does, with what its provider keeps on it,
    /// in one transaction: either both are written or neither.
    pub async fn create_provisioned_user(
        &self,
        actor: &Actor,
        spec: NewUserSpec,
        provisioned: Provisioned,
    ) -> Result<User> {
        let new = self.user_with_logons_to_create(actor, spec, "").await?;
        actor.audit("user.provisioning", "user", &new.user.user_id);
        let object = (new.user.user_id.as_str(), new.user.created_at);
        let row = provisioned_row(actor, ProvisionedKind::User, object, provisioned)?;
        self.store
            .create_provisioned_user(&actor.trail, new, row)
            .await
    }

    /// Updates a user as `update_directory_user` does and, when given, replaces what its
    /// provider keeps on it, in one transaction. `created_at` is the user's. An update that
    /// changes only the kept attributes still moves the user's `updated_at` (its version).
    pub async fn update_provisioned_user(
        &self,
        actor: &Actor,
        (user_id, created_at): (&str, i64),
        changes: UserChanges,
        provisioned: Option<Provisioned>,
    ) -> Result<User> {
        let changes = self
            .stored_user_changes(actor, user_id, changes, ContactLogons::Imply)
            .await?;
        let row = match provisioned {
            Some(kept) => {
                actor.audit("user.provisioning", "user", user_id);
                let object = (user_id, created_at);
                Some(provisioned_row(actor, ProvisionedKind::User, object, kept)?)
            }
            None => None,
        };
        self.store
            .update_provisioned_user(&actor.trail, &actor.domain_id, user_id, changes, row)
            .await?
            .ok_or(Error::NotFound(Resource::User))
    }
}

/// The store's row for what a provider keeps on an object, within its bounds.
fn provisioned_row(
    actor: &Actor,
    kind: ProvisionedKind,
    (object_id, created_at): (&str, i64),
    provisioned: Provisioned,
) -> Result<ProvisionedRow> {
    if provisioned.external_id.len() > MAX_EXTERNAL_ID {
        return Err(Error::out_of_range("externalId")
            .with_rule(format!("externalId is at most {MAX_EXTERNAL_ID} bytes")));
    }
    let data = Value::Object(provisioned.data).to_string();
    if data.len() > MAX_DATA {
        return Err(Error::out_of_range("attributes").with_rule(format!(
            "the attributes take at most {MAX_DATA} bytes of JSON"
        )));
    }
    Ok(ProvisionedRow {
        domain_id: actor.domain_id.to_string(),
        object_kind: kind.as_str().into(),
        object_id: object_id.to_owned(),
        object_created_at: created_at,
        external_id: provisioned.external_id,
        data,
    })
}
