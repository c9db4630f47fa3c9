//! Spaces: `/space/{ownerId}` (create, get, update, delete) and `/ose/v2/space/{owner_id}`.
//! A space is a drive: `containerId` is its drive id, `capacity` its `total_size` and
//! `spaceUsed` its `used_size`, both in bytes.

use crate::model::Drive;
use axum::extract::{Path, State};
use roster_api::koodrive::{
    CreateGroupSpaceBody, DepartmentSpace, DepartmentSpaceList, GroupSpace, GroupSpaceCreated,
    GroupSpaceList, SpaceBody, SpaceInfo, TeamSpace, TeamSpaceList, UserSpaceInfo, UserSpaceList,
};

use super::{done, flat, required, with_data, Answer, Call, KdError};
use crate::error::Error;
use crate::http::AppState;
use crate::model::GroupKind;
use crate::service::owned_drives::{DriveOwnerKind, OwnedDriveChanges, SharedDriveFilter};
use crate::service::{Actor, Services};

/// KooDrive's space (and owner) types.
const TYPE_DEPARTMENT: i64 = 0;
const TYPE_PERSONAL: i64 = 1;
const TYPE_GROUP: i64 = 2;

fn kind(space_type: Option<i64>) -> Result<DriveOwnerKind, KdError> {
    match space_type {
        Some(TYPE_DEPARTMENT) => Ok(DriveOwnerKind::Org),
        Some(TYPE_PERSONAL) => Ok(DriveOwnerKind::User),
        Some(TYPE_GROUP) => Ok(DriveOwnerKind::UserGroup),
        Some(_) => Err(Error::invalid("type").into()),
        None => Err(Error::missing("type").into()),
    }
}

fn type_of(kind: DriveOwnerKind) -> i64 {
    match kind {
        DriveOwnerKind::Org => TYPE_DEPARTMENT,
        DriveOwnerKind::User => TYPE_PERSONAL,
        DriveOwnerKind::UserGroup => TYPE_GROUP,
    }
}

fn info(kind: DriveOwnerKind, drive: Drive) -> SpaceInfo {
    SpaceInfo {
        space_type: type_of(kind),
        status: i64::from(drive.status != "enabled"),
        owner_id: drive.owner,
        biz_root_file_id: String::new(),
        biz_sbox_file_id: String::new(),
        capacity: drive.total_size,
        space_used: drive.used_size,
        tenant_id: drive.domain_id,
        modifier: drive.creator.clone(),
        operator_id: drive.creator.clone(),
        creator: drive.creator,
        root_file_id: String::new(),
        container_id: drive.drive_id,
    }
}

/// A capacity in bytes: at least 0, or -1 for unlimited.
fn capacity(value: Option<i64>) -> Result<Option<i64>, KdError> {
    match value {
        Some(c) if c < -1 => Err(Error::out_of_range("capacity").into()),
        other => Ok(other),
    }
}

pub async fn create(
    State(app): State<AppState>,
    Path(owner_id): Path<String>,
    call: Call,
) -> Answer {
    let body: SpaceBody = call.body()?;
    let kind = kind(body.space_type)?;
    let capacity = capacity(body.capacity)?.ok_or(Error::missing("capacity"))?;
    let drive = app
        .services
        .create_owned_drive(&call.actor, &owner_id, kind, capacity)
        .await?;
    with_data(info(kind, drive))
}

pub async fn get(State(app): State<AppState>, Path(owner_id): Path<String>, call: Call) -> Answer {
    let kind = kind(call.int_param("type")?)?;
    let drive = app
        .services
        .owned_drive(&call.actor, &owner_id, kind, call.param("containerId"))
        .await?;
    with_data(info(kind, drive))
}

pub async fn update(
    State(app): State<AppState>,
    Path(owner_id): Path<String>,
    call: Call,
) -> Answer {
    let body: SpaceBody = call.body()?;
    let kind = kind(body.space_type)?;
    let enabled = match body.status {
        None => None,
        Some(0) => Some(true),
        Some(1) => Some(false),
        Some(_) => return Err(Error::invalid("status").into()),
    };
    let changes = OwnedDriveChanges {
        capacity: capacity(body.capacity)?,
        enabled,
    };
    app.services
        .update_owned_drive(
            &call.actor,
            &owner_id,
            kind,
            body.container_id.as_deref(),
            changes,
        )
        .await?;
    done()
}

pub async fn delete(
    State(app): State<AppState>,
    Path(owner_id): Path<String>,
    call: Call,
) -> Answer {
    let kind = kind(call.int_param("type")?)?;
    app.services
        .delete_owned_drive(&call.actor, &owner_id, kind, call.param("containerId"))
        .await?;
    done()
}

/// Every space of an owner (`type` defaults to personal).
pub async fn list_v2(
    State(app): State<AppState>,
    Path(owner_id): Path<String>,
    call: Call,
) -> Answer {
    let kind = kind(Some(call.int_param("type")?.unwrap_or(TYPE_PERSONAL)))?;
    let drives = app
        .services
        .existing_owner_drives(&call.actor, &owner_id, kind)
        .await?;
    let spaces: Vec<SpaceInfo> = drives.into_iter().map(|d| info(kind, d)).collect();
    with_data(spaces)
}

/// The first space of an owner, if any.
async fn first_space(
    services: &Services,
    actor: &Actor,
    owner_id: &str,
    kind: DriveOwnerKind,
) -> Result<Option<Drive>, KdError> {
    Ok(services
        .drives_owned_by(actor, owner_id, kind)
        .await?
        .into_iter()
        .next())
}

/// `containerId`, `capacity` and `spaceUsed` of a listed owner (`""`, 0, 0 without a space).
fn space_fields(space: Option<&Drive>) -> (String, i64, i64) {
    space.map_or((String::new(), 0, 0), |s| {
        (s.drive_id.clone(), s.total_size, s.used_size)
    })
}

/// `/space/userList`: a page of users (as `/userList` filters them) with their first
/// personal space; `total` is a String there.
pub async fn user_list(State(app): State<AppState>, call: Call) -> Answer {
    let (offset, limit) = call.offset_limit()?;
    let filter = super::users::user_filter(&call)?;
    let services = &app.services;
    let actor = &call.actor;
    let (total, rows) = services
        .users_at_offset(actor, filter, offset, limit)
        .await?;
    let mut users = Vec::with_capacity(rows.len());
    for user in super::users::user_infos(services, actor, rows).await? {
        let space = services
            .drives_owned_by(actor, &user.user_id, DriveOwnerKind::User)
            .await?
            .into_iter()
            .next();
        users.push(UserSpaceInfo {
            container_id: space
                .as_ref()
                .map(|s| s.drive_id.clone())
                .unwrap_or_default(),
            capacity: space.as_ref().map_or(0, |s| s.total_size),
            space_used: space.as_ref().map_or(0, |s| s.used_size),
            space_status: space.map_or(1, |s| i64::from(s.status != "enabled")),
            tenant_id: actor.domain_id.to_string(),
            user,
        });
    }
    flat(UserSpaceList {
        total: total.to_string(),
        users,
    })
}

/// `/space/departmentList`: a page of departments with their department space; `total` is
/// a String there.
pub async fn department_list(State(app): State<AppState>, call: Call) -> Answer {
    let (offset, limit) = call.offset_limit()?;
    let services = &app.services;
    let actor = &call.actor;
    let (total, groups) = services
        .groups_at_offset(actor, GroupKind::Org, call.param("keyWord"), offset, limit)
        .await?;
    let mut departments = Vec::with_capacity(groups.len());
    for group in groups {
        let space = first_space(services, actor, &group.group_id, DriveOwnerKind::Org).await?;
        let (container_id, capacity, space_used) = space_fields(space.as_ref());
        let department = super::departments::info(actor, group);
        departments.push(DepartmentSpace {
            id: department.id,
            parent_id: department.parent_id,
            name: department.name,
            tenant_id: department.tenant_id,
            container_id,
            capacity,
            space_used,
        });
    }
    flat(DepartmentSpaceList {
        total: total.to_string(),
        departments,
    })
}

/// `POST /space/group`: a user group of `addGroupUsers` with a space (`capacity` bytes,
/// -1 unlimited when absent).
pub async fn create_group(State(app): State<AppState>, call: Call) -> Answer {
    let body: CreateGroupSpaceBody = call.body()?;
    let name = required("name", &body.name)?;
    let capacity = capacity(body.capacity)?.unwrap_or(-1);
    let members: Vec<String> = body
        .add_group_users
        .ok_or(Error::missing("addGroupUsers"))?
        .into_iter()
        .map(|u| u.user_id.unwrap_or_default())
        .collect();
    let (group_id, space) = app
        .services
        .create_group_with_drive(&call.actor, name, capacity, &members)
        .await?;
    with_data(GroupSpaceCreated {
        id: group_id,
        space: info(DriveOwnerKind::UserGroup, space),
    })
}

/// `/space/groupList`: a page of user groups with their group space.
pub async fn group_list(State(app): State<AppState>, call: Call) -> Answer {
    let (offset, limit) = call.offset_limit()?;
    let services = &app.services;
    let actor = &call.actor;
    let (total, groups) = services
        .groups_at_offset(
            actor,
            GroupKind::UserGroup,
            call.param("keyWord"),
            offset,
            limit,
        )
        .await?;
    let mut answered = Vec::with_capacity(groups.len());
    for group in groups {
        let space =
            first_space(services, actor, &group.group_id, DriveOwnerKind::UserGroup).await?;
        let (container_id, capacity, space_used) = space_fields(space.as_ref());
        answered.push(GroupSpace {
            id: group.group_id,
            name: group.group_name,
            owner_id: group.creator,
            tenant_id: actor.domain_id.to_string(),
            container_id,
            capacity,
            space_used,
        });
    }
    flat(GroupSpaceList {
        total,
        groups_total: total,
        groups: answered,
    })
}

/// `/space/teamList`: department spaces (`teamType` 0, the default, admins), group spaces
/// of groups the caller made (1) or joined (2); `total` is a String there.
pub async fn team_list(State(app): State<AppState>, call: Call) -> Answer {
    let (offset, limit) = call.offset_limit()?;
    let filter = match call.int_param("teamType")? {
        None | Some(0) => SharedDriveFilter::Orgs,
        Some(1) => SharedDriveFilter::OwnedByMe,
        Some(2) => SharedDriveFilter::Joined,
        Some(_) => return Err(Error::invalid("teamType").into()),
    };
    let (total, spaces) = app
        .services
        .shared_drives(&call.actor, filter, call.param("keyWord"), offset, limit)
        .await?;
    let teams: Vec<_> = spaces
        .into_iter()
        .map(|team| TeamSpace {
            id: team.drive.drive_id.clone(),
            container_id: team.drive.drive_id,
            status: i64::from(team.drive.status != "enabled"),
            capacity: team.drive.total_size,
            space_used: team.drive.used_size,
            user_num: team.members,
            owner_id: team.group.group_id,
            owner_name: team.group.group_name,
            tenant_id: team.drive.domain_id,
        })
        .collect();
    flat(TeamSpaceList {
        total: total.to_string(),
        teams,
    })
}
