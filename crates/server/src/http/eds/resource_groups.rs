//! eds-user's resource-group actions, over the core's resource groups.

use roster_api::eds::ResourceGroup;
use serde_json::Value;

use super::params::Params;
use super::{answer, format_time, json, Answer, Ctx};
use crate::service::resource_groups::ResourceGroupQuery;

pub async fn create(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let name = p.required("ResourceGroupName")?;
    p.bool("EnableAliyunResourceGroup")?;
    let id = ctx
        .services
        .create_resource_group(&ctx.actor, name, p.get("Platform"))
        .await?;
    answer(vec![("ResourceGroupId", Value::String(id))])
}

pub async fn delete(ctx: &Ctx<'_>, p: &Params) -> Answer {
    // Both the single id and the list take effect, as the vendor documents.
    let mut ids = p.list("ResourceGroupIds", 100)?;
    ids.extend(p.string("ResourceGroupId"));
    ctx.services
        .delete_resource_groups(&ctx.actor, &ids)
        .await?;
    answer(vec![])
}

pub async fn describe(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let query = ResourceGroupQuery {
        ids: p.list("ResourceGroupIds", 100)?,
        name_contains: p.get("ResourceGroupName").map(str::to_lowercase),
        platform: p.string("Platform"),
    };
    let number = p.int("PageNumber")?.unwrap_or(1);
    let size = p.int("PageSize")?.unwrap_or(10);
    let (total, rows) = ctx
        .services
        .resource_groups(&ctx.actor, query, number, size)
        .await?;
    let groups: Vec<ResourceGroup> = rows
        .into_iter()
        .map(|g| ResourceGroup {
            resource_group_id: g.resource_group_id,
            resource_group_name: g.resource_group_name,
            aliyun_resource_group_id: String::new(),
            create_time: format_time(g.created_at),
            auth_count: g.auth_count.to_string(),
            resource_count: "0".into(),
        })
        .collect();
    // TotalCount is a string in the vendor's answer.
    answer(vec![
        ("TotalCount", Value::String(total.to_string())),
        ("ResourceGroup", json(groups)),
    ])
}
