//! Drives by what owns them: an organization, a user or a user group (KooDrive calls them
//! department, personal and group drives; the face keeps those names). Being drives, they
//! count against the domain's `size_quota` like any other, whichever face made them.

use std::collections::{HashMap, HashSet};

use super::{validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::model::GroupId;
use crate::model::UserId;
use crate::model::{Drive, DriveChanges, DriveOwnerType, DriveStatus, NewDriveSpec};
use crate::store::drives::{DriveFilter, DrivePage, DriveRow};
use crate::store::groups::{GroupRow, KIND_ORG, KIND_USER_GROUP};
use crate::store::normalize;

/// What owns a drive: an organization (KooDrive's department drive), a user (a personal
/// drive) or a user group (a group drive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriveOwnerKind {
    Org,
    User,
    UserGroup,
}

impl DriveOwnerKind {
    fn owner_type(self) -> DriveOwnerType {
        match self {
            DriveOwnerKind::User => DriveOwnerType::User,
            DriveOwnerKind::Org | DriveOwnerKind::UserGroup => DriveOwnerType::Group,
        }
    }
}

/// A change to an owned drive: its capacity (bytes, -1 unlimited) and whether it is enabled.
#[derive(Debug, Clone, Default)]
pub struct OwnedDriveChanges {
    pub capacity: Option<i64>,
    pub enabled: Option<bool>,
}

impl Services {
    /// Checks that the owner exists and is of the kind the drive needs; answers its name.
    async fn owner_name(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
    ) -> Result<String> {
        validate::required("ownerId", owner_id, validate::MAX_ID)?;
        match kind {
            DriveOwnerKind::User => {
                let user = self
                    .store
                    .user(&actor.domain_id, &UserId::from(owner_id))
                    .await?
                    .ok_or(Error::NotFound(Resource::User))?;
                Ok(user.user_id)
            }
            DriveOwnerKind::Org => Ok(self.existing_org(actor, owner_id).await?.group_name),
            DriveOwnerKind::UserGroup => {
                let group = self
                    .store
                    .group(&actor.domain_id, &GroupId::from(owner_id))
                    .await?;
                group
                    .filter(|g| g.kind == KIND_USER_GROUP)
                    .map(|g| g.group_name)
                    .ok_or(Error::NotFound(Resource::Group))
            }
        }
    }

    /// Creates a drive of `capacity` bytes for its owner (admin). An org unit or a user
    /// group owns one drive at most; a user may own several.
    pub async fn create_owned_drive(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        capacity: i64,
    ) -> Result<Drive> {
        actor.require_admin()?;
        let name = self.owner_name(actor, owner_id, kind).await?;
        if kind != DriveOwnerKind::User
            && !self
                .drives_owned_by(actor, owner_id, kind)
                .await?
                .is_empty()
        {
            return Err(Error::AlreadyExists(Resource::Drive));
        }
        self.create_drive(
            actor,
            NewDriveSpec {
                drive_name: name,
                owner: owner_id.to_owned(),
                owner_type: kind.owner_type(),
                total_size: Some(capacity),
                is_default: None,
                description: None,
                status: None,
                subdomain_id: None,
            },
        )
        .await
    }

    /// The drives of one owner: admins read anyone's, a user its own.
    pub async fn drives_owned_by(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
    ) -> Result<Vec<Drive>> {
        let own = kind == DriveOwnerKind::User && owner_id == actor.user_id;
        if !own {
            actor.require_admin()?;
        }
        validate::required("ownerId", owner_id, validate::MAX_ID)?;
        let mut drives = self
            .store
            .drives_of_owner(&actor.domain_id, kind.owner_type().as_str(), owner_id)
            .await?;
        // A group-owned drive is an org unit's or a user group's by its owner's kind.
        if kind != DriveOwnerKind::User && !drives.is_empty() {
            let wanted = if kind == DriveOwnerKind::Org {
                KIND_ORG
            } else {
                KIND_USER_GROUP
            };
            let group = self
                .store
                .group(&actor.domain_id, &GroupId::from(owner_id))
                .await?;
            if group.is_none_or(|g| g.kind != wanted) {
                drives.clear();
            }
        }
        Ok(drives)
    }

    /// Every drive of an owner that exists: an owner unknown in the
    /// caller's domain, another domain's among them, answers `NotFound` rather than an
    /// empty list.
    pub async fn existing_owner_drives(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
    ) -> Result<Vec<Drive>> {
        let drives = self.drives_owned_by(actor, owner_id, kind).await?;
        if drives.is_empty() {
            self.owner_name(actor, owner_id, kind).await?;
        }
        Ok(drives)
    }

    /// One drive of an owner: the one `container_id` names, else its first.
    /// `NotFound(Drive)` when there is none.
    pub async fn owned_drive(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        container_id: Option<&str>,
    ) -> Result<Drive> {
        self.drives_owned_by(actor, owner_id, kind)
            .await?
            .into_iter()
            .find(|d| container_id.is_none_or(|c| c.is_empty() || d.drive_id == c))
            .ok_or(Error::NotFound(Resource::Drive))
    }

    /// Changes an owned drive's capacity or status (admin).
    pub async fn update_owned_drive(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        container_id: Option<&str>,
        changes: OwnedDriveChanges,
    ) -> Result<Drive> {
        actor.require_admin()?;
        let drive = self
            .owned_drive(actor, owner_id, kind, container_id)
            .await?;
        let status = changes.enabled.map(|enabled| {
            if enabled {
                DriveStatus::Enabled
            } else {
                DriveStatus::Disabled
            }
        });
        let changes = DriveChanges {
            total_size: changes.capacity,
            status,
            ..DriveChanges::default()
        };
        self.update_drive(actor, &drive.drive_id, changes).await
    }

    /// Deletes an owned drive (admin).
    pub async fn delete_owned_drive(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        container_id: Option<&str>,
    ) -> Result<()> {
        actor.require_admin()?;
        let drive = self
            .owned_drive(actor, owner_id, kind, container_id)
            .await?;
        self.delete_drive(actor, &drive.drive_id).await
    }
}

impl Services {
    /// Creates a user group of these members with a drive of `capacity` bytes (admin).
    /// Nothing is left behind when a member is unknown or the drive does not fit the quota.
    /// Answers the group's id and its drive.
    pub async fn create_group_with_drive(
        &self,
        actor: &Actor,
        name: &str,
        capacity: i64,
        member_ids: &[String],
    ) -> Result<(String, Drive)> {
        actor.require_admin()?;
        for user_id in member_ids {
            validate::required("userId", user_id, validate::MAX_USER_ID)?;
            self.store
                .user(&actor.domain_id, &UserId::from(user_id))
                .await?
                .ok_or(Error::NotFound(Resource::User))?;
        }
        let group_id = self.create_user_group(actor, name, None).await?;
        let made = async {
            self.set_user_group_membership(actor, &group_id, member_ids, true)
                .await?;
            self.create_owned_drive(actor, &group_id, DriveOwnerKind::UserGroup, capacity)
                .await
        }
        .await;
        match made {
            Ok(drive) => Ok((group_id, drive)),
            Err(e) => {
                // Undo the group (its memberships go with it) rather than leave half of it.
                self.remove_user_groups(actor, std::slice::from_ref(&group_id))
                    .await?;
                Err(e)
            }
        }
    }
}

/// Which shared drives (those of org units and of user groups) a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDriveFilter {
    /// Every org unit's drive (admins).
    Orgs,
    /// The drives of user groups the caller made.
    OwnedByMe,
    /// The drives of user groups the caller is a member of.
    Joined,
}

/// A shared drive with its owning group and the group's number of direct members.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedDrive {
    pub drive: Drive,
    pub group: GroupRow,
    pub members: i64,
}

/// Group-owned drives read per batch when scanning for shared drives.
const TEAM_SCAN_BATCH: u32 = 500;

impl Services {
    /// `(total, page)` of shared drives, `limit` from `offset`, in drive-id order, with a
    /// substring of the group's name. Reads every group-owned drive of the domain to count them: fine for a
    /// directory's departments and groups, not for millions.
    pub async fn shared_drives(
        &self,
        actor: &Actor,
        filter: SharedDriveFilter,
        name_contains: Option<&str>,
        offset: i64,
        limit: u32,
    ) -> Result<(i64, Vec<SharedDrive>)> {
        if filter == SharedDriveFilter::Orgs {
            actor.require_admin()?;
        }
        if !(0..=super::tree_rules::MAX_OFFSET).contains(&offset) {
            return Err(Error::out_of_range("offset"));
        }
        let drives = self.group_drives(&actor.domain_id).await?;
        let needle = name_contains.map(normalize);
        let joined: HashSet<String> = if filter == SharedDriveFilter::Joined {
            self.store
                .groups_of_users(&actor.domain_id, &[actor.user_id.to_string()])
                .await?
                .into_iter()
                .map(|(_, g)| g.group_id)
                .collect()
        } else {
            HashSet::new()
        };
        let mut matching = Vec::new();
        for drive in drives {
            let Some(group) = self
                .store
                .group(&actor.domain_id, &GroupId::from(&drive.owner))
                .await?
            else {
                continue;
            };
            let wanted = match filter {
                SharedDriveFilter::Orgs => group.kind == KIND_ORG,
                SharedDriveFilter::OwnedByMe => {
                    group.kind == KIND_USER_GROUP && group.creator == actor.user_id
                }
                SharedDriveFilter::Joined => {
                    group.kind == KIND_USER_GROUP && joined.contains(&group.group_id)
                }
            };
            // The group's name, not the drive's: a renamed group keeps its drive's old name.
            let named = needle
                .as_ref()
                .is_none_or(|n| normalize(&group.group_name).contains(n));
            if wanted && named {
                matching.push((drive, group));
            }
        }
        let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
        let skip = usize::try_from(offset).map_err(|_| Error::out_of_range("offset"))?;
        let page: Vec<(DriveRow, GroupRow)> = matching
            .into_iter()
            .skip(skip)
            .take(limit as usize)
            .collect();
        let ids: Vec<String> = page.iter().map(|(_, g)| g.group_id.clone()).collect();
        let counts: HashMap<String, i64> = self
            .store
            .member_counts(&actor.domain_id, &ids)
            .await?
            .into_iter()
            .collect();
        let drives = page
            .into_iter()
            .map(|(drive, group)| SharedDrive {
                members: counts.get(&group.group_id).copied().unwrap_or(0),
                drive,
                group,
            })
            .collect();
        Ok((total, drives))
    }

    /// Every group-owned drive of a domain, by drive id.
    async fn group_drives(&self, domain_id: &str) -> Result<Vec<DriveRow>> {
        let mut drives: Vec<DriveRow> = Vec::new();
        loop {
            let page = DrivePage {
                filter: DriveFilter {
                    owner_type: Some(DriveOwnerType::Group.as_str().into()),
                    owner: None,
                    name_contains: None,
                },
                after_drive_id: drives.last().map(|d| d.drive_id.clone()),
                limit: TEAM_SCAN_BATCH,
            };
            let batch = self.store.find_drives(domain_id, &page).await?;
            let done = batch.len() < TEAM_SCAN_BATCH as usize;
            drives.extend(batch);
            if done {
                return Ok(drives);
            }
        }
    }
}
