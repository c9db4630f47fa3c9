//! Drives: who may create, read, change and delete them, one default drive per user, and the
//! domain's size quota, checked by the store in the same transaction as the write.

use super::pagination::{encode_marker, finish_page, Page};
use super::{random_hex, validate, Actor, Services};
use crate::audit::Trail;
use crate::error::{Error, Resource, Result};
use crate::model::UserId;
use crate::model::{
    Drive, DriveChanges, DriveOwnerType, DriveSearch, DriveStatus, Listed, NewDriveSpec,
};
use crate::store::drives::{DriveChanges as StoredDriveChanges, DriveFilter, DrivePage, DriveRow};
use crate::store::normalize;

/// Longest owner id accepted (user ids are ≤64; group ids are at most as long).
const MAX_OWNER: usize = 64;
/// Drive ids are random hex of this many bytes.
const DRIVE_ID_BYTES: usize = 16;
/// The order tag of drive markers: pages follow `drive_id`.
const ORDER_TAG: &str = "drive";
/// The only kind of drive Roster has.
const DRIVE_TYPE_NORMAL: &str = "normal";

fn total_size(value: Option<i64>) -> Result<()> {
    validate::size("total_size", value, UNLIMITED_SIZE)
}

/// `total_size` of a drive without limit.
const UNLIMITED_SIZE: i64 = -1;

fn drive_id(value: &str) -> Result<()> {
    validate::required("drive_id", value, validate::MAX_USER_ID)
}

/// Is this drive its caller's own (a user drive owned by the caller)?
fn owns(actor: &Actor, row: &DriveRow) -> bool {
    row.owner_type == DriveOwnerType::User.as_str() && row.owner == actor.user_id
}

/// A drive about to be created, with defaults filled in.
struct NewDrive {
    owner_type: DriveOwnerType,
    owner: String,
    drive_name: String,
    description: String,
    status: DriveStatus,
    total_size: i64,
    is_default: bool,
}

fn new_drive_row(domain_id: &str, creator: &str, new: NewDrive, now: i64) -> DriveRow {
    DriveRow {
        domain_id: domain_id.to_owned(),
        drive_id: random_hex(DRIVE_ID_BYTES),
        owner: new.owner,
        owner_type: new.owner_type.as_str().into(),
        drive_name: new.drive_name,
        description: new.description,
        drive_type: DRIVE_TYPE_NORMAL.into(),
        status: new.status.as_str().into(),
        is_default: new.is_default,
        total_size: new.total_size,
        used_size: 0,
        creator: creator.to_owned(),
        created_at: now,
        updated_at: now,
    }
}

impl Services {
    /// Creates a drive (admin). A user owner must exist; a group owner is not checked yet.
    pub async fn create_drive(&self, actor: &Actor, req: NewDriveSpec) -> Result<Drive> {
        actor.audit_with(
            "drive.create",
            "drive",
            "",
            super::subdomain_detail(req.subdomain_id.as_deref()),
        );
        actor.require_admin()?;
        let scoped = self
            .in_subdomain(actor, req.subdomain_id.as_deref())
            .await?;
        let actor = &scoped;
        validate::required("drive_name", &req.drive_name, validate::MAX_NAME)?;
        validate::required("owner", &req.owner, MAX_OWNER)?;
        validate::optional(
            "description",
            req.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        total_size(req.total_size)?;
        let is_default = req.is_default.unwrap_or(false);
        if is_default && req.owner_type != DriveOwnerType::User {
            return Err(Error::invalid("default"));
        }
        self.insert_drive(
            &actor.trail,
            &actor.domain_id,
            &actor.user_id,
            NewDrive {
                owner_type: req.owner_type,
                owner: req.owner,
                drive_name: req.drive_name,
                description: req.description.unwrap_or_default(),
                status: req.status.unwrap_or(DriveStatus::Enabled),
                total_size: req.total_size.unwrap_or(-1),
                is_default,
            },
        )
        .await
    }

    /// The default drive a new user gets (`auto_create_drive`, the domain's
    /// `init_drive_enable`); the users service writes it in the user's own transaction.
    pub(crate) fn default_drive_row(
        domain_id: &str,
        user_id: &str,
        creator: &str,
        total_size: i64,
        now: i64,
    ) -> Result<DriveRow> {
        validate::size("drive_total_size", Some(total_size), UNLIMITED_SIZE)?;
        Ok(new_drive_row(
            domain_id,
            creator,
            NewDrive {
                owner_type: DriveOwnerType::User,
                owner: user_id.to_owned(),
                drive_name: "Default".into(),
                description: String::new(),
                status: DriveStatus::Enabled,
                total_size,
                is_default: true,
            },
            now,
        ))
    }

    async fn insert_drive(
        &self,
        trail: &Trail,
        domain_id: &str,
        creator: &str,
        new: NewDrive,
    ) -> Result<Drive> {
        let row = new_drive_row(domain_id, creator, new, self.clock.now_ms());
        trail.name_target(&row.drive_id);
        self.store.create_drive(trail, row).await
    }

    /// Reads a drive: admins any, a user its own.
    pub async fn get_drive(&self, actor: &Actor, id: &str) -> Result<Drive> {
        drive_id(id)?;
        let row = self
            .store
            .drive(&actor.domain_id, id)
            .await?
            .ok_or(Error::NotFound(Resource::Drive))?;
        if !actor.is_admin() && !owns(actor, &row) {
            return Err(Error::forbidden("a user may read only its own drives"));
        }
        Ok(row)
    }

    /// A user's default drive: the caller's (`user_id` omitted or its own), or, for admins,
    /// anyone's. `NotFound(Drive)` if it has none.
    pub async fn get_default_drive(&self, actor: &Actor, user_id: Option<&str>) -> Result<Drive> {
        let user_id = match user_id {
            None | Some("") => actor.user_id.as_str(),
            Some(id) => id,
        };
        if user_id != actor.user_id {
            actor.require_admin()?;
        }
        validate::max_len("user_id", user_id, validate::MAX_USER_ID)?;
        self.store
            .default_drive_of(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::Drive))
    }

    /// Changes a drive's name, description, status or size (admin).
    pub async fn update_drive(&self, actor: &Actor, id: &str, req: DriveChanges) -> Result<Drive> {
        let detail = serde_json::json!({ "fields": req.field_names() });
        actor.audit_with("drive.update", "drive", id, detail);
        actor.require_admin()?;
        drive_id(id)?;
        if let Some(name) = &req.drive_name {
            validate::required("drive_name", name, validate::MAX_NAME)?;
        }
        validate::optional(
            "description",
            req.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        total_size(req.total_size)?;
        if req.owner.as_deref().is_some_and(|o| !o.is_empty()) {
            return Err(Error::not_supported("owner"));
        }
        let current = self
            .store
            .drive(&actor.domain_id, id)
            .await?
            .ok_or(Error::NotFound(Resource::Drive))?;
        let changes = StoredDriveChanges {
            drive_name: req.drive_name,
            description: req.description,
            status: req.status.map(|s| s.as_str().to_owned()),
            // Re-stating the current size checks nothing, even over a lowered quota.
            total_size: req.total_size.filter(|&t| t != current.total_size),
            updated_at: self.clock.now_ms(),
        };
        self.store
            .update_drive(&actor.trail, &actor.domain_id, id, changes)
            .await?
            .ok_or(Error::NotFound(Resource::Drive))
    }

    /// Deletes a drive (admin). Roster's drives hold no files, so nothing else goes.
    pub async fn delete_drive(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.audit("drive.delete", "drive", id);
        actor.require_admin()?;
        drive_id(id)?;
        if self
            .store
            .delete_drive(&actor.trail, &actor.domain_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::Drive))
        }
    }

    /// Finds drives (admin): the domain's, or a subdomain's, by owner and by name
    /// (substring, case-insensitive), in `drive_id` order.
    pub async fn search_drives(&self, actor: &Actor, req: DriveSearch) -> Result<Listed<Drive>> {
        actor.require_admin()?;
        let scoped = self
            .in_subdomain(actor, req.subdomain_id.as_deref())
            .await?;
        let actor = &scoped;
        let page = Page::parse(&actor.domain_id, req.limit, req.marker.as_deref())?;
        let filter = DriveFilter {
            owner_type: req.owner_type.map(|t| t.as_str().to_owned()),
            owner: non_empty("owner", req.owner)?,
            name_contains: non_empty("drive_name", req.name_contains)?.map(|n| normalize(&n)),
        };
        self.drive_page(actor, filter, &page).await
    }

    /// The caller's own drives, by `drive_id`.
    pub async fn list_my_drives(
        &self,
        actor: &Actor,
        limit: Option<i64>,
        marker: Option<&str>,
    ) -> Result<Listed<Drive>> {
        let page = Page::parse(&actor.domain_id, limit, marker)?;
        let filter = DriveFilter {
            owner_type: Some(DriveOwnerType::User.as_str().into()),
            owner: Some(actor.user_id.to_string()),
            name_contains: None,
        };
        self.drive_page(actor, filter, &page).await
    }

    /// One page of drives, and the marker of the next page (`""` if this is the last).
    async fn drive_page(
        &self,
        actor: &Actor,
        filter: DriveFilter,
        page: &Page,
    ) -> Result<Listed<Drive>> {
        let query = DrivePage {
            filter,
            after_drive_id: page.after_for(ORDER_TAG)?.map(|(_, id)| id),
            // One more than asked tells whether another page follows.
            limit: page.limit + 1,
        };
        let rows = self.store.find_drives(&actor.domain_id, &query).await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |last| {
            encode_marker(&actor.domain_id, ORDER_TAG, "", &last.drive_id)
        });
        Ok(Listed {
            items: rows,
            next_marker,
        })
    }
}

/// An optional filter string: `""` filters nothing; longer than a name is out of range.
fn non_empty(name: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            validate::max_len(name, &v, validate::MAX_NAME)?;
            Ok(Some(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ParamProblem;

    #[test]
    fn sizes_below_minus_one_are_out_of_range() {
        assert!(total_size(Some(-1)).is_ok());
        assert!(total_size(None).is_ok());
        assert!(matches!(
            total_size(Some(-2)),
            Err(Error::InvalidParameter {
                problem: ParamProblem::OutOfRange,
                ..
            })
        ));
    }
}
