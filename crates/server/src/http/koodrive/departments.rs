//! Departments: `/departments`, `/departments/{id}`, `/departmentList`. A department is an
//! organization (a group of kind `org`); the root, id `"0"`, is the domain itself.

use axum::extract::{Path, State};
use roster_api::koodrive::{Created, DepartmentBody, DepartmentInfo, DepartmentList};

use super::users::department_param;
use super::{done, flat, required, with_data, Answer, Call};
use crate::error::Error;
use crate::http::AppState;
use crate::model::Group;
use crate::service::Actor;

/// The id of the root department: the domain's top level.
pub const ROOT_ID: &str = "0";

fn root(actor: &Actor) -> DepartmentInfo {
    DepartmentInfo {
        id: ROOT_ID.into(),
        org_id: actor.domain_id.to_string(),
        dept_id: ROOT_ID.into(),
        parent_id: String::new(),
        name: actor.domain_id.to_string(),
        tenant_id: actor.domain_id.to_string(),
    }
}

pub fn info(actor: &Actor, group: Group) -> DepartmentInfo {
    let parent_id = if group.parent_group_id.is_empty() {
        ROOT_ID.to_owned()
    } else {
        group.parent_group_id
    };
    DepartmentInfo {
        dept_id: group.group_id.clone(),
        id: group.group_id,
        org_id: actor.domain_id.to_string(),
        parent_id,
        name: group.group_name,
        tenant_id: actor.domain_id.to_string(),
    }
}

/// `name` and `parentId` of a body, both required; the root parent is `""`.
fn name_and_parent(body: &DepartmentBody) -> Result<(String, String), super::KdError> {
    let name = required("name", &body.name)?.to_owned();
    let parent = body
        .parent_id
        .as_deref()
        .ok_or(Error::missing("parentId"))?;
    Ok((name, department_param(Some(parent))))
}

pub async fn create(State(app): State<AppState>, call: Call) -> Answer {
    let (name, parent) = name_and_parent(&call.body()?)?;
    let id = app
        .services
        .create_org_unit(&call.actor, &name, &parent)
        .await?;
    with_data(Created { id })
}

pub async fn get(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    if id == ROOT_ID {
        return flat(root(&call.actor));
    }
    let group = app.services.existing_org(&call.actor, &id).await?;
    flat(info(&call.actor, group))
}

pub async fn update(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    if id == ROOT_ID {
        return Err(Error::invalid("department_id").into());
    }
    let (name, parent) = name_and_parent(&call.body()?)?;
    app.services
        .update_org_unit(&call.actor, &id, &name, &parent)
        .await?;
    done()
}

pub async fn delete(State(app): State<AppState>, Path(id): Path<String>, call: Call) -> Answer {
    if id == ROOT_ID {
        return Err(Error::invalid("department_id").into());
    }
    app.services.remove_org_unit(&call.actor, &id).await?;
    done()
}

/// The root alone without `departmentId`, else the direct children of that department.
pub async fn list(State(app): State<AppState>, call: Call) -> Answer {
    let Some(parent) = call.param("departmentId") else {
        return flat(DepartmentList {
            list: vec![root(&call.actor)],
        });
    };
    let children = app
        .services
        .org_children(
            &call.actor,
            &department_param(Some(parent)),
            call.param("keyWord"),
        )
        .await?;
    let list: Vec<DepartmentInfo> = children
        .into_iter()
        .map(|org| info(&call.actor, org.group))
        .collect();
    flat(DepartmentList { list })
}
