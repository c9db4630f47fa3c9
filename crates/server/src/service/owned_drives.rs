//! Drives by what owns them: an organization, a user or a user group (KooDrive calls them
//! department, personal and group spaces; the face keeps those names). Being drives, they
//! count against the domain's `size_quota` like any other, whichever face made them.

use roster_api::drives::{
    CreateDriveRequest, DeleteDriveRequest, Drive, DriveStatus, OwnerType, UpdateDriveRequest,
};

use std::collections::{HashMap, HashSet};

use super::{validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::store::drives::{DriveFilter, DrivePage, DriveRow};
use crate::store::groups::{GroupRow, KIND_ORG, KIND_USER_GROUP};
use crate::store::normalize;

/// What owns a drive: an organization (KooDrive's department space), a user (a personal
/// space) or a user group (a group space).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriveOwnerKind {
    Org,
    User,
    UserGroup,
}

impl DriveOwnerKind {
    fn owner_type(self) -> OwnerType {
        match self {
            DriveOwnerKind::User => OwnerType::User,
            DriveOwnerKind::Org | DriveOwnerKind::UserGroup => OwnerType::Group,
        }
    }
}

/// A change to a space: its capacity (bytes, -1 unlimited) and whether it is enabled.
#[derive(Debug, Clone, Default)]
pub struct OwnedDriveChanges {
    pub capacity: Option<i64>,
    pub enabled: Option<bool>,
}

impl Services {
    /// Checks that the owner exists and is of the kind the space needs; answers its name.
    async fn space_owner(
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
                    .user(&actor.domain_id, owner_id)
                    .await?
                    .ok_or(Error::NotFound(Resource::User))?;
                Ok(user.user_id)
            }
            DriveOwnerKind::Org => Ok(self.existing_org(actor, owner_id).await?.group_name),
            DriveOwnerKind::UserGroup => {
                let group = self.store.group(&actor.domain_id, owner_id).await?;
                group
                    .filter(|g| g.kind == KIND_USER_GROUP)
                    .map(|g| g.group_name)
                    .ok_or(Error::NotFound(Resource::Group))
            }
        }
    }

    /// Creates a space of `capacity` bytes for its owner (admin). A department or group has
    /// one space at most; a user may have several.
    pub async fn create_space(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        capacity: i64,
    ) -> Result<Drive> {
        actor.require_admin()?;
        let name = self.space_owner(actor, owner_id, kind).await?;
        if kind != DriveOwnerKind::User && !self.spaces_of(actor, owner_id, kind).await?.is_empty()
        {
            return Err(Error::AlreadyExists(Resource::Drive));
        }
        self.create_drive(
            actor,
            CreateDriveRequest {
                drive_name: name,
                owner: owner_id.to_owned(),
                owner_type: kind.owner_type(),
                total_size: Some(capacity),
                default: None,
                description: None,
                drive_type: None,
                status: None,
                subdomain_id: None,
            },
        )
        .await
    }

    /// The spaces of one owner: admins read anyone's, a user its own personal ones.
    pub async fn spaces_of(
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
        let rows = self
            .store
            .drives_of_owner(&actor.domain_id, kind.owner_type().as_str(), owner_id)
            .await?;
        let mut spaces = Vec::with_capacity(rows.len());
        for row in rows {
            spaces.push(super::drives::to_api(row));
        }
        // A group-owned drive is a department or a group space by its owner's kind.
        if kind != DriveOwnerKind::User && !spaces.is_empty() {
            let wanted = if kind == DriveOwnerKind::Org {
                KIND_ORG
            } else {
                KIND_USER_GROUP
            };
            let group = self.store.group(&actor.domain_id, owner_id).await?;
            if group.is_none_or(|g| g.kind != wanted) {
                spaces.clear();
            }
        }
        Ok(spaces)
    }

    /// Every space of an owner that exists (KooDrive's v2 listing): an owner unknown in the
    /// caller's domain, another domain's among them, answers `NotFound` rather than an
    /// empty list.
    pub async fn owner_spaces(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
    ) -> Result<Vec<Drive>> {
        let spaces = self.spaces_of(actor, owner_id, kind).await?;
        if spaces.is_empty() {
            self.space_owner(actor, owner_id, kind).await?;
        }
        Ok(spaces)
    }

    /// One space of an owner: the one `container_id` names, else its first.
    /// `NotFound(Drive)` when there is none.
    pub async fn space(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        container_id: Option<&str>,
    ) -> Result<Drive> {
        self.spaces_of(actor, owner_id, kind)
            .await?
            .into_iter()
            .find(|d| container_id.is_none_or(|c| c.is_empty() || d.drive_id == c))
            .ok_or(Error::NotFound(Resource::Drive))
    }

    /// Changes a space's capacity or status (admin).
    pub async fn update_space(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        container_id: Option<&str>,
        changes: OwnedDriveChanges,
    ) -> Result<Drive> {
        actor.require_admin()?;
        let space = self.space(actor, owner_id, kind, container_id).await?;
        let status = changes.enabled.map(|enabled| {
            if enabled {
                DriveStatus::Enabled
            } else {
                DriveStatus::Disabled
            }
        });
        self.update_drive(
            actor,
            UpdateDriveRequest {
                drive_id: space.drive_id,
                total_size: changes.capacity,
                status,
                ..UpdateDriveRequest::default()
            },
        )
        .await
    }

    /// Deletes a space (admin).
    pub async fn delete_space(
        &self,
        actor: &Actor,
        owner_id: &str,
        kind: DriveOwnerKind,
        container_id: Option<&str>,
    ) -> Result<()> {
        actor.require_admin()?;
        let space = self.space(actor, owner_id, kind, container_id).await?;
        self.delete_drive(
            actor,
            DeleteDriveRequest {
                drive_id: space.drive_id,
                force: None,
            },
        )
        .await
    }
}

impl Services {
    /// Creates a group space: a user group of these members with a space of `capacity`
    /// bytes (admin). Nothing is left behind when a member is unknown or the space does not
    /// fit the quota. Answers the group's id and its space.
    pub async fn create_group_space(
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
                .user(&actor.domain_id, user_id)
                .await?
                .ok_or(Error::NotFound(Resource::User))?;
        }
        let group_id = self.create_user_group(actor, name, None).await?;
        let made = async {
            self.set_user_group_membership(actor, &group_id, member_ids, true)
                .await?;
            self.create_space(actor, &group_id, DriveOwnerKind::UserGroup, capacity)
                .await
        }
        .await;
        match made {
            Ok(space) => Ok((group_id, space)),
            Err(e) => {
                // Undo the group (its memberships go with it) rather than leave half a space.
                self.remove_user_groups(actor, std::slice::from_ref(&group_id))
                    .await?;
                Err(e)
            }
        }
    }
}

/// Which team spaces (department and group spaces) a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDriveFilter {
    /// Every department space (admins).
    Departments,
    /// The group spaces of groups the caller made.
    OwnedByMe,
    /// The group spaces of groups the caller is a member of.
    Joined,
}

/// A team space with its owning group and the group's number of direct members.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedDrive {
    pub space: Drive,
    pub group: GroupRow,
    pub members: i64,
}

/// Group-owned drives read per batch when scanning for team spaces.
const TEAM_SCAN_BATCH: u32 = 500;

impl Services {
    /// `(total, page)` of team spaces, `limit` from `offset`, in drive-id order, with a
    /// substring of the group's name. Reads every group-owned drive of the domain to count them: fine for a
    /// directory's departments and groups, not for millions.
    pub async fn team_spaces(
        &self,
        actor: &Actor,
        filter: SharedDriveFilter,
        name_contains: Option<&str>,
        offset: i64,
        limit: u32,
    ) -> Result<(i64, Vec<SharedDrive>)> {
        if filter == SharedDriveFilter::Departments {
            actor.require_admin()?;
        }
        if !(0..=super::tree_rules::MAX_OFFSET).contains(&offset) {
            return Err(Error::out_of_range("offset"));
        }
        let drives = self.group_drives(&actor.domain_id).await?;
        let needle = name_contains.map(normalize);
        let joined: HashSet<String> = if filter == SharedDriveFilter::Joined {
            self.store
                .groups_of_users(&actor.domain_id, std::slice::from_ref(&actor.user_id))
                .await?
                .into_iter()
                .map(|(_, g)| g.group_id)
                .collect()
        } else {
            HashSet::new()
        };
        let mut matching = Vec::new();
        for drive in drives {
            let Some(group) = self.store.group(&actor.domain_id, &drive.owner).await? else {
                continue;
            };
            let wanted = match filter {
                SharedDriveFilter::Departments => group.kind == KIND_ORG,
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
        let spaces = page
            .into_iter()
            .map(|(drive, group)| SharedDrive {
                members: counts.get(&group.group_id).copied().unwrap_or(0),
                space: super::drives::to_api(drive),
                group,
            })
            .collect();
        Ok((total, spaces))
    }

    /// Every group-owned drive of a domain, by drive id.
    async fn group_drives(&self, domain_id: &str) -> Result<Vec<DriveRow>> {
        let mut drives: Vec<DriveRow> = Vec::new();
        loop {
            let page = DrivePage {
                filter: DriveFilter {
                    owner_type: Some(OwnerType::Group.as_str().into()),
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
