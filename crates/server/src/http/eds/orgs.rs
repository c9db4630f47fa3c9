//! eds-user's organization actions, over the core's organization tree. The vendor's root
//! organization id (`org-aliyun-wy-org-id`) names the top of the tree.

use roster_api::eds::{Org as WireOrg, ROOT_ORG_ID};
use serde_json::Value;

use super::params::Params;
use super::{answer, json, token_page, Answer, Ctx};
use crate::error::Result;
use crate::service::org_tree::{Org, OrgQuery};

/// The core's parent id of an eds-user org id: the root is the top (`""`).
fn parent_id(org_id: &str) -> &str {
    if org_id == ROOT_ORG_ID {
        ""
    } else {
        org_id
    }
}

fn wire(org: Org) -> WireOrg {
    let parent = org.group.parent_group_id;
    WireOrg {
        org_id: org.group.group_id,
        org_name: org.group.group_name,
        parent_org_id: if parent.is_empty() {
            ROOT_ORG_ID.to_owned()
        } else {
            parent
        },
        org_name_path: org.name_path,
    }
}

fn required_org<'p>(p: &'p Params, name: &str) -> Result<&'p str> {
    p.required(name).map(parent_id)
}

pub async fn create(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let name = p.required("OrgName")?;
    let parent = required_org(p, "ParentOrgId")?;
    let org_id = ctx.services.create_org(&ctx.actor, name, parent).await?;
    answer(vec![("OrgId", Value::String(org_id))])
}

pub async fn describe(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let page = token_page(ctx, p, 100, 100)?;
    let _: Option<Value> = p.json("ShowExtras")?;
    let query = OrgQuery {
        parent: p.get("ParentOrgId").map(|o| parent_id(o).to_owned()),
        name_contains: p.string("OrgName"),
        ids: p.list("IncludeOrgIds", 100)?,
    };
    let (orgs, next_token) = ctx.services.orgs(&ctx.actor, query, &page).await?;
    let orgs: Vec<WireOrg> = orgs.into_iter().map(wire).collect();
    answer(vec![
        ("NextToken", Value::String(next_token)),
        ("Orgs", json(orgs)),
    ])
}

pub async fn describe_by_layer(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let parent = p.get("ParentOrgId").map_or("", parent_id);
    let orgs = ctx
        .services
        .org_children(&ctx.actor, parent, p.get("OrgName"))
        .await?;
    let orgs: Vec<WireOrg> = orgs.into_iter().map(wire).collect();
    answer(vec![("Orgs", json(orgs))])
}

pub async fn remove(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let org_id = p.required("OrgId")?;
    ctx.services.remove_org(&ctx.actor, org_id).await?;
    answer(vec![])
}

pub async fn move_org(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let org_id = p.required("OrgId")?;
    let new_parent = required_org(p, "NewParentOrgId")?;
    ctx.services
        .move_org(&ctx.actor, org_id, new_parent)
        .await?;
    answer(vec![])
}

pub async fn modify(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let org_id = p.required("OrgId")?;
    let name = p.required("OrgName")?;
    ctx.services.rename_org(&ctx.actor, org_id, name).await?;
    answer(vec![])
}

pub async fn move_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let users = p.list("EndUserIds", 100)?;
    if users.is_empty() {
        return Err(crate::error::Error::missing("EndUserIds").into());
    }
    let org_id = required_org(p, "OrgId")?;
    ctx.services
        .move_users_to_org(&ctx.actor, &users, org_id)
        .await?;
    answer(vec![])
}
