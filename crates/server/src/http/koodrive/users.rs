//! Users: `/users`, `/users/{userId}`, `/userList`, `/users/count`.
//!
//! Roles: 2 super admin ↔ `superadmin`, 3 drive admin ↔ `admin`, 1 common user ↔ `user`,
//! 0 department admin and 5 can-manage-members ↔ `user` and group admin of the user's
//! department (read back as 0). Status: 0 enabled ↔ `enabled`, 1 (or the carrier's 7
//! frozen) ↔ `disabled`.

use axum::extract::{Path, State};
use roster_api::koodrive::{
    CreateUserBody, Created, UpdateUserBody, UserCount, UserInfo, UserList,
};

use super::{done, flat, required, with_data, Answer, Call, KdError};
use crate::error::{Error, Resource};
use crate::http::AppState;
use crate::model::{NewUserSpec, Role, User, UserChanges, UserStatus};
use crate::service::directory::DirectoryQuery;
use crate::service::{Actor, Services};

pub const ROLE_DEPT_ADMIN: i64 = 0;
pub const ROLE_COMMON: i64 = 1;
pub const ROLE_SUPER_ADMIN: i64 = 2;
pub const ROLE_DRIVE_ADMIN: i64 = 3;
pub const ROLE_MEMBER_MANAGER: i64 = 5;

/// The Roster role of a KooDrive role, and whether it makes its holder a department admin.
fn roster_role(role: i64) -> Result<(Role, bool), KdError> {
    match role {
        ROLE_DEPT_ADMIN | ROLE_MEMBER_MANAGER => Ok((Role::User, true)),
        ROLE_COMMON => Ok((Role::User, false)),
        ROLE_SUPER_ADMIN => Ok((Role::Superadmin, false)),
        ROLE_DRIVE_ADMIN => Ok((Role::Admin, false)),
        _ => Err(Error::invalid("role").into()),
    }
}

fn roster_status(status: i64) -> Result<UserStatus, KdError> {
    match status {
        0 => Ok(UserStatus::Enabled),
        1 | 7 => Ok(UserStatus::Disabled),
        _ => Err(Error::invalid("status").into()),
    }
}

/// A department id of a request: `""` and `"0"` (the root) mean the top.
pub fn department_param(id: Option<&str>) -> String {
    match id.map(str::trim) {
        None | Some("") | Some(super::departments::ROOT_ID) => String::new(),
        Some(id) => id.to_owned(),
    }
}

/// Makes (or unmakes) a user the admin of its department.
async fn set_department_admin(
    services: &Services,
    actor: &Actor,
    user_id: &str,
    department_id: &str,
    admin: bool,
) -> Result<(), KdError> {
    let result = if admin {
        services
            .add_group_admin(actor, user_id, department_id)
            .await
    } else {
        services
            .remove_group_admin(actor, user_id, department_id)
            .await
    };
    match result {
        Ok(()) | Err(Error::NotFound(Resource::Assignment)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The KooDrive view of users: department, role (with department admins) and number.
pub async fn user_infos(
    services: &Services,
    actor: &Actor,
    rows: Vec<User>,
) -> Result<Vec<UserInfo>, KdError> {
    let details = services.user_details(actor, &rows).await?;
    let mut infos = Vec::with_capacity(rows.len());
    for row in rows {
        let department = details
            .orgs
            .get(&row.user_id)
            .and_then(|orgs| orgs.first())
            .map(|org| org.group.clone());
        let role = match row.role()? {
            Role::Superadmin | Role::SubdomainSuperAdmin => ROLE_SUPER_ADMIN,
            Role::Admin | Role::SubdomainAdmin => ROLE_DRIVE_ADMIN,
            // KooDrive has no read-only administrator: an application account is common.
            Role::DirectoryReader => ROLE_COMMON,
            Role::User => {
                let administered = services.groups_administered_by(actor, &row.user_id).await?;
                let administers = department
                    .as_ref()
                    .is_some_and(|d| administered.contains(&d.group_id));
                if administers {
                    ROLE_DEPT_ADMIN
                } else {
                    ROLE_COMMON
                }
            }
        };
        let status = i64::from(row.status()? != UserStatus::Enabled);
        infos.push(UserInfo {
            id: details
                .numbers
                .get(&row.user_id)
                .map(i64::to_string)
                .unwrap_or_default(),
            name: row.nick_name,
            dept_id: department
                .as_ref()
                .map(|d| d.group_id.clone())
                .unwrap_or_else(|| super::departments::ROOT_ID.into()),
            dept_name: department.map(|d| d.group_name).unwrap_or_default(),
            mobile: row.phone,
            role,
            status,
            org_id: row.domain_id,
            user_id: row.user_id,
        });
    }
    Ok(infos)
}

/// One user, as an admin reads it.
async fn user_info(services: &Services, actor: &Actor, user_id: &str) -> Result<UserInfo, KdError> {
    let query = DirectoryQuery {
        user_ids: vec![user_id.to_owned()],
        ..DirectoryQuery::default()
    };
    let (_, rows) = services.users_at_offset(actor, query, 0, 1).await?;
    user_infos(services, actor, rows)
        .await?
        .pop()
        .ok_or_else(|| Error::NotFound(Resource::User).into())
}

pub async fn create(State(app): State<AppState>, call: Call) -> Answer {
    let body: CreateUserBody = call.body()?;
    let user_id = required("userId", &body.user_id)?.to_owned();
    let info = body.modify_user_info_req.unwrap_or_default();
    let (role, department_admin) = roster_role(info.role.unwrap_or(ROLE_COMMON))?;
    let department = department_param(info.dept_id.as_deref());
    if department_admin && department.is_empty() {
        return Err(Error::missing("deptId").into());
    }
    let services = &app.services;
    let actor = &call.actor;
    if !department.is_empty() {
        services.existing_org(actor, &department).await?;
    }
    let request = NewUserSpec {
        user_id: user_id.clone(),
        nick_name: body.name,
        phone: body.mobile,
        role: Some(role),
        group_ids: (!department.is_empty()).then(|| vec![department.clone()]),
        ..NewUserSpec::default()
    };
    services.create_user_with_logons(actor, request, "").await?;
    if department_admin {
        set_department_admin(services, actor, &user_id, &department, true).await?;
    }
    let info = user_info(services, actor, &user_id).await?;
    with_data(Created { id: info.id })
}

pub async fn get(State(app): State<AppState>, Path(user_id): Path<String>, call: Call) -> Answer {
    with_data(user_info(&app.services, &call.actor, &user_id).await?)
}

pub async fn update(
    State(app): State<AppState>,
    Path(user_id): Path<String>,
    call: Call,
) -> Answer {
    let body: UpdateUserBody = call.body()?;
    let services = &app.services;
    let actor = &call.actor;
    let current = user_info(services, actor, &user_id).await?;
    let role = body.role.map(roster_role).transpose()?;
    let status = body.status.map(roster_status).transpose()?;
    let department = match body.dept_id.as_deref() {
        Some(id) => department_param(Some(id)),
        None => department_param(Some(&current.dept_id)),
    };
    if role.is_some_and(|(_, admin)| admin) && department.is_empty() {
        return Err(Error::missing("deptId").into());
    }
    let new_department = (body.dept_id.is_some()
        && department != department_param(Some(&current.dept_id)))
    .then_some(department.as_str());
    let changes = UserChanges {
        nick_name: body.name,
        phone: body.mobile,
        // Restating the current role is no role change (which only a superadmin makes).
        role: role
            .map(|(r, _)| r)
            .filter(|r| roster_role(current.role).ok().map(|(now, _)| now) != Some(*r)),
        status,
        ..UserChanges::default()
    };
    services
        .update_user_and_move(actor, &user_id, changes, new_department)
        .await?;
    // A department admin administers its current department only: a move takes the role
    // along, a new role drops it.
    let was_admin = current.role == ROLE_DEPT_ADMIN;
    // Moved to the top without a new role, it has no department left to administer.
    let admin = role.map_or(was_admin, |(_, admin)| admin) && !department.is_empty();
    let old_department = department_param(Some(&current.dept_id));
    let moved = old_department != department;
    if was_admin && (!admin || moved) {
        set_department_admin(services, actor, &user_id, &old_department, false).await?;
    }
    if admin && (!was_admin || moved) {
        set_department_admin(services, actor, &user_id, &department, true).await?;
    }
    done()
}

pub async fn delete(
    State(app): State<AppState>,
    Path(user_id): Path<String>,
    call: Call,
) -> Answer {
    app.services.delete_user(&call.actor, &user_id).await?;
    done()
}

/// The users of a department (`deptId`; its subtree unless `isDirect`), or of the whole
/// domain, with a name substring.
pub fn user_filter(call: &Call) -> Result<DirectoryQuery, KdError> {
    let department = department_param(call.param("deptId").or(call.param("departmentId")));
    let direct = call.bool_param("isDirect")?.unwrap_or(false);
    let mut filter = DirectoryQuery {
        nick_name_contains: call.param("keyWord").map(str::to_owned),
        ..DirectoryQuery::default()
    };
    if !department.is_empty() {
        if direct {
            filter.direct_member_of = Some(department);
        } else {
            filter.in_subtrees_of = vec![department];
        }
    } else if direct {
        filter.outside_every_org = true;
    }
    Ok(filter)
}

pub async fn list(State(app): State<AppState>, call: Call) -> Answer {
    let (offset, limit) = call.offset_limit()?;
    let filter = user_filter(&call)?;
    if let Some(department) = filter
        .direct_member_of
        .as_ref()
        .or(filter.in_subtrees_of.first())
    {
        app.services.existing_org(&call.actor, department).await?;
    }
    let (total, rows) = app
        .services
        .users_at_offset(&call.actor, filter, offset, limit)
        .await?;
    let list = user_infos(&app.services, &call.actor, rows).await?;
    flat(UserList { list, total })
}

pub async fn count(State(app): State<AppState>, call: Call) -> Answer {
    let filter = user_filter(&call)?;
    if let Some(department) = filter.in_subtrees_of.first() {
        app.services.existing_org(&call.actor, department).await?;
    }
    let total = app
        .services
        .count_directory_users(&call.actor, filter)
        .await?;
    flat(UserCount { total })
}
