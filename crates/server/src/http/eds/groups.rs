//! eds-user's user-group actions, over the core's user groups.

use roster_api::eds::{GroupMember, GroupSummary, UserGroup};
use serde_json::Value;

use super::params::Params;
use super::{answer, format_time, json, token_page, Answer, Ctx};
use crate::error::Error;
use crate::service::directory::wildcard_pattern;
use crate::service::directory::DirectoryQuery;

pub async fn create(ctx: &Ctx<'_>, p: &Params) -> Answer {
    // The SDK marks nothing required, but a group needs a name.
    let name = p.required("GroupName")?;
    if p.get("ParentGroupId").is_some() {
        return Err(Error::not_supported("ParentGroupId").into());
    }
    let group_id = ctx
        .services
        .create_user_group(&ctx.actor, name, p.get("Description"))
        .await?;
    answer(vec![("GroupId", Value::String(group_id))])
}

pub async fn describe(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let number = p.int("PageNumber")?.unwrap_or(1);
    let size = p.int("PageSize")?.unwrap_or(10);
    p.bool("ExcludeAttachedLoginPolicyGroups")?;
    p.bool("TransferFileNeedApproval")?;
    let (count, groups) = ctx
        .services
        .user_groups(
            &ctx.actor,
            p.get("GroupId"),
            p.get("GroupName"),
            number,
            size,
        )
        .await?;
    let groups: Vec<UserGroup> = groups
        .into_iter()
        .map(|g| UserGroup {
            group_id: g.group.group_id,
            group_name: g.group.group_name,
            description: g.group.description,
            create_time: format_time(g.group.created_at),
            user_count: g.user_count,
        })
        .collect();
    answer(vec![("Count", json(count)), ("Groups", json(groups))])
}

pub async fn modify(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let group_id = p.required("GroupId")?;
    let name = p.required("NewGroupName")?;
    ctx.services
        .modify_user_group(&ctx.actor, group_id, name, p.get("Description"))
        .await?;
    answer(vec![])
}

pub async fn remove(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let mut ids = p.list("GroupIds", 100)?;
    ids.extend(p.string("GroupId"));
    if ids.is_empty() {
        return Err(Error::missing("GroupId").into());
    }
    ctx.services.remove_user_groups(&ctx.actor, &ids).await?;
    answer(vec![])
}

/// UserBatchJoinGroup (`join`) and UserBatchQuitGroup.
pub async fn join(ctx: &Ctx<'_>, p: &Params, join: bool) -> Answer {
    let group_id = p.required("GroupId")?;
    let users = p.list("EndUserIds", 100)?;
    if users.is_empty() {
        return Err(Error::missing("EndUserIds").into());
    }
    ctx.services
        .set_user_group_membership(&ctx.actor, group_id, &users, join)
        .await?;
    answer(vec![])
}

pub async fn describe_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let group_id = p.required("GroupId")?;
    let page = token_page(ctx, p, 100, 100)?;
    let group = ctx
        .services
        .existing_user_group(&ctx.actor, group_id)
        .await?;
    let filter = DirectoryQuery {
        direct_member_of_each: vec![group_id.to_owned()],
        id_or_email_like: p.get("Filter").map(wildcard_pattern),
        ..DirectoryQuery::default()
    };
    let (rows, next_token) = ctx
        .services
        .directory_users(&ctx.actor, filter, &page, false)
        .await?;
    let ids: Vec<String> = rows.iter().map(|u| u.user_id.clone()).collect();
    let joined = ctx
        .services
        .joined_user_group_at(&ctx.actor, group_id, &ids)
        .await?;
    let users: Vec<GroupMember> = rows
        .into_iter()
        .map(|u| GroupMember {
            gmt_join_group: format_time(joined.get(&u.user_id).copied().unwrap_or(0)),
            nick_name: super::users::display_name(&u),
            email: u.email,
            phone: u.phone,
            remark: u.description,
            gmt_created: format_time(u.created_at),
            end_user_id: u.user_id,
        })
        .collect();
    let user_count = ctx
        .services
        .count_directory_users(
            &ctx.actor,
            DirectoryQuery {
                direct_member_of_each: vec![group.group_id.clone()],
                ..DirectoryQuery::default()
            },
        )
        .await?;
    answer(vec![
        ("NextToken", Value::String(next_token)),
        ("Users", json(users)),
        (
            "Groups",
            json(vec![GroupSummary {
                group_id: group.group_id,
                group_name: group.group_name,
                user_count,
            }]),
        ),
    ])
}
