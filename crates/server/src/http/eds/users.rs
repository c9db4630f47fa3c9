//! eds-user's user actions: batch create, remove, lock and unlock with per-user failures in
//! a 200 answer, contact changes, password resets, and the two user listings.

use std::collections::BTreeMap;

use roster_api::eds::{
    CreatedUser, EdsUser, FailedUser, FilteredUser, GroupRef, KeyValue, OrgRef, PropertyValue,
    UserSetProperty, ROOT_ORG_ID, STATUS_LOCKED, STATUS_NORMAL,
};
use serde_json::{json, Value};

use super::error::item_failure;
use super::params::Params;
use super::{answer, format_time, json, parse_time, token_page, Answer, Ctx};
use crate::error::{Error, Result};
use crate::model::User as UserRow;
use crate::service::directory::DirectoryQuery;
use crate::service::directory::{wildcard_pattern, DirectoryUser, UserDetails};
use crate::service::org_tree::Org;
use crate::service::{attempt, Page};

/// Most users one batch names.
const MAX_BATCH: usize = 100;

/// Per-user outcomes of a batch action.
#[derive(Default)]
struct Batch {
    done: Vec<String>,
    failed: Vec<FailedUser>,
}

impl Batch {
    /// Notes how one user went; a failure of the server itself ends the batch.
    fn record(&mut self, user_id: &str, outcome: Result<()>) -> Result<()> {
        match outcome {
            Ok(()) => self.done.push(user_id.to_owned()),
            Err(e @ Error::Internal(_)) => return Err(e),
            Err(e) => {
                let (error_code, error_message) = item_failure(&e, user_id);
                self.failed.push(FailedUser {
                    end_user_id: user_id.to_owned(),
                    email: None,
                    phone: None,
                    error_code,
                    error_message,
                });
            }
        }
        Ok(())
    }

    /// `{<result>: {<done>: [...], FailedUsers: [...]}}`.
    fn answer(self, result: &str, done: &str) -> Answer {
        answer(vec![(
            result,
            json!({ done: self.done, "FailedUsers": json(self.failed) }),
        )])
    }
}

/// The `Users.N` list of end-user ids of a batch action: 1..=100. A caller who may not run
/// batches at all gets one `Forbidden`, not one per user; what is refused for one user (a
/// superadmin, the caller itself) is that user's failure.
fn batch_users(ctx: &Ctx<'_>, p: &Params) -> Result<Vec<String>> {
    ctx.actor.require_admin()?;
    let users = p.list("Users", MAX_BATCH)?;
    if users.is_empty() {
        return Err(Error::missing("Users"));
    }
    Ok(users)
}

pub async fn init_tenant_alias(ctx: &Ctx<'_>) -> Answer {
    let domain = ctx.services.tenant_alias(&ctx.actor).await?;
    answer(vec![
        ("Data", Value::String(domain.domain_id)),
        (
            "AliasInfo",
            json!({
                "AliasSourceType": "Generated",
                "AliasEditable": false,
                "AliasEditDisabledReason": "The alias is the domain id, which never changes.",
            }),
        ),
    ])
}

pub async fn create_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    ctx.actor.require_admin()?;
    let users = p.objects("Users", MAX_BATCH)?;
    if users.is_empty() {
        return Err(Error::missing("Users").into());
    }
    let default_password = p.string("Password");
    let auto_lock_at = parse_time(p, "AutoLockTime")?;
    p.bool("IsLocalAdmin")?;
    if p.int("PasswordExpireDays")?
        .is_some_and(|days| !(30..=365).contains(&days))
    {
        return Err(Error::out_of_range("PasswordExpireDays").into());
    }
    let mut created = Vec::new();
    let mut failed = Vec::new();
    for user in users {
        let wanted = DirectoryUser {
            user_id: user.string("EndUserId").unwrap_or_default(),
            email: user.string("Email"),
            phone: user.string("Phone"),
            nick_name: user.string("RealNickName"),
            description: user.string("Remark"),
            password: user.string("Password").or_else(|| default_password.clone()),
            owner_type: user.string("OwnerType"),
            org_id: user.string("OrgId").filter(|o| o != ROOT_ORG_ID),
            user_group_ids: user.list("GroupIdList", MAX_BATCH)?,
            auto_lock_at,
        };
        let done = attempt(
            &ctx.actor.trail,
            ctx.services
                .create_directory_user(&ctx.actor, wanted.clone()),
        )
        .await;
        match done {
            Ok(()) => created.push(CreatedUser {
                end_user_id: wanted.user_id,
                email: wanted.email.unwrap_or_default(),
                phone: wanted.phone.unwrap_or_default(),
                real_nick_name: wanted.nick_name.unwrap_or_default(),
                remark: wanted.description.unwrap_or_default(),
            }),
            Err(e @ Error::Internal(_)) => return Err(e.into()),
            Err(e) => {
                let (error_code, error_message) = item_failure(&e, &wanted.user_id);
                failed.push(FailedUser {
                    end_user_id: wanted.user_id,
                    email: wanted.email,
                    phone: wanted.phone,
                    error_code,
                    error_message,
                });
            }
        }
    }
    let all_succeed = failed.is_empty();
    answer(vec![
        (
            "CreateResult",
            json!({ "CreatedUsers": json(created), "FailedUsers": json(failed) }),
        ),
        ("AllSucceed", Value::Bool(all_succeed)),
    ])
}

pub async fn remove_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let mut batch = Batch::default();
    for user_id in batch_users(ctx, p)? {
        let outcome = attempt(
            &ctx.actor.trail,
            ctx.services.delete_user(&ctx.actor, &user_id),
        )
        .await;
        batch.record(&user_id, outcome)?;
    }
    batch.answer("RemoveUsersResult", "RemovedUsers")
}

pub async fn modify_user(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let user_id = p.required("EndUserId")?;
    ctx.services
        .modify_user_contact(&ctx.actor, user_id, p.string("Email"), p.string("Phone"))
        .await?;
    answer(vec![])
}

pub async fn reset_user_password(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let users = batch_users(ctx, p)?;
    match p.int("NotifyType")? {
        None | Some(1) | Some(3) => {}
        Some(2) => return Err(Error::not_supported("NotifyType").into()),
        Some(_) => return Err(Error::invalid("NotifyType").into()),
    }
    let mut batch = Batch::default();
    for user_id in users {
        let outcome = attempt(
            &ctx.actor.trail,
            ctx.services.request_password_reset(&ctx.actor, &user_id),
        )
        .await;
        batch.record(&user_id, outcome)?;
    }
    batch.answer("ResetUsersResult", "ResetUsers")
}

pub async fn lock_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let users = batch_users(ctx, p)?;
    // Locking always ends the user's sessions: a locked user's tokens stop working.
    p.bool("LogoutSession")?;
    let mut batch = Batch::default();
    for user_id in users {
        let outcome = attempt(
            &ctx.actor.trail,
            ctx.services.lock_user(&ctx.actor, &user_id),
        )
        .await;
        batch.record(&user_id, outcome)?;
    }
    batch.answer("LockUsersResult", "LockedUsers")
}

pub async fn unlock_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let users = batch_users(ctx, p)?;
    let auto_lock_at = parse_time(p, "AutoLockTime")?;
    let mut batch = Batch::default();
    for user_id in users {
        let outcome = attempt(
            &ctx.actor.trail,
            ctx.services.unlock_user(&ctx.actor, &user_id, auto_lock_at),
        )
        .await;
        batch.record(&user_id, outcome)?;
    }
    batch.answer("UnlockUsersResult", "UnlockedUsers")
}

/// eds-user status of a user: locked when disabled or past its auto-lock time.
fn status_of(user: &UserRow, details: &UserDetails) -> i64 {
    if details.locked.contains(&user.user_id) {
        STATUS_LOCKED
    } else {
        STATUS_NORMAL
    }
}

/// The status filter: 0 normal, 9 locked (disabled, or past the auto-lock time).
fn status_filter(p: &Params) -> Result<Option<bool>> {
    match p.int("Status")? {
        None => Ok(None),
        Some(STATUS_NORMAL) => Ok(Some(false)),
        Some(STATUS_LOCKED) => Ok(Some(true)),
        Some(_) => Err(Error::invalid("Status")),
    }
}

/// Adds the organization filter: `OrgId` with or without its sub-organizations.
async fn org_filter(ctx: &Ctx<'_>, p: &Params, filter: &mut DirectoryQuery) -> Result<()> {
    let Some(org_id) = p.get("OrgId") else {
        return Ok(());
    };
    let with_subs = p.bool("IsQueryAllSubOrgs")?.unwrap_or(false);
    if org_id == ROOT_ORG_ID {
        if !with_subs {
            filter.outside_every_org = true;
        }
        return Ok(());
    }
    ctx.services.existing_org(&ctx.actor, org_id).await?;
    if with_subs {
        filter.in_subtrees_of.push(org_id.to_owned());
    } else {
        filter.direct_member_of_each.push(org_id.to_owned());
    }
    Ok(())
}

fn org_refs(orgs: Option<&Vec<Org>>) -> Vec<OrgRef> {
    orgs.into_iter()
        .flatten()
        .map(|o| OrgRef {
            org_id: o.group.group_id.clone(),
            org_name: o.group.group_name.clone(),
            org_name_path: o.name_path.clone(),
        })
        .collect()
}

fn group_refs(details: &UserDetails, user_id: &str) -> Vec<GroupRef> {
    details
        .user_groups
        .get(user_id)
        .into_iter()
        .flatten()
        .map(|g| GroupRef {
            group_id: g.group_id.clone(),
            group_name: g.group_name.clone(),
        })
        .collect()
}

fn auto_lock_time(user: &UserRow) -> Option<String> {
    (user.expired_at > 0).then(|| format_time(user.expired_at))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// eds-user's `NickName`: RealNickName, else Remark, else EndUserId.
pub(super) fn display_name(user: &UserRow) -> String {
    [&user.nick_name, &user.description, &user.user_id]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default()
}

fn eds_user(user: UserRow, details: &UserDetails, with_properties: bool) -> EdsUser {
    let orgs = org_refs(details.orgs.get(&user.user_id));
    let nick_name = display_name(&user);
    let properties = if with_properties {
        details
            .properties
            .get(&user.user_id)
            .into_iter()
            .flatten()
            .map(|v| KeyValue {
                key: v.property_key.clone(),
                value: v.value.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    EdsUser {
        id: details.numbers.get(&user.user_id).copied().unwrap_or(0),
        status: status_of(&user, details),
        email: non_empty(&user.email),
        phone: non_empty(&user.phone),
        owner_type: user.owner_type.clone(),
        remark: user.description.clone(),
        real_nick_name: user.nick_name.clone(),
        nick_name,
        org_id: orgs.first().map(|o| o.org_id.clone()).unwrap_or_default(),
        orgs,
        groups: group_refs(details, &user.user_id),
        properties,
        is_tenant_manager: matches!(user.role.as_str(), "admin" | "superadmin"),
        enable_admin_access: false,
        auto_lock_time: auto_lock_time(&user),
        end_user_id: user.user_id,
    }
}

pub async fn describe_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let page = token_page(ctx, p, 500, 200)?;
    let mut filter = DirectoryQuery {
        user_ids: p.list("EndUserIds", 200)?,
        excluded_user_ids: p.list("ExcludeEndUserIds", 200)?,
        id_or_email_like: p.get("Filter").map(wildcard_pattern),
        locked: status_filter(p)?,
        not_direct_member_of: p.string("ExcludeGroupId"),
        ..DirectoryQuery::default()
    };
    if let Some(group_id) = p.get("GroupId") {
        ctx.services
            .existing_user_group(&ctx.actor, group_id)
            .await?;
        filter.direct_member_of_each.push(group_id.to_owned());
    }
    org_filter(ctx, p, &mut filter).await?;
    let extras: BTreeMap<String, Value> = p.json("ShowExtras")?.unwrap_or_default();
    let _: Option<Value> = p.json("FilterMap")?;
    let with_properties = extras.get("Properties").is_some_and(truthy);
    let count = ctx
        .services
        .count_directory_users(&ctx.actor, filter.clone())
        .await?;
    let (rows, next_token) = ctx
        .services
        .directory_users(&ctx.actor, filter, &page, false)
        .await?;
    let details = ctx.services.user_details(&ctx.actor, &rows).await?;
    let users: Vec<EdsUser> = rows
        .into_iter()
        .map(|u| eds_user(u, &details, with_properties))
        .collect();
    answer(vec![
        ("Count", json(count)),
        ("NextToken", Value::String(next_token)),
        ("Users", json(users)),
    ])
}

/// `true`, `"true"`, `"True"` or `1` in a JSON map of switches.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// Property filters of FilterUsers: ids (`PropertyFilterParam`) or key and texts
/// (`PropertyKeyValueFilterParam`), each to "holds one of these values". `None` when a
/// filter names nothing that exists: no user can match.
async fn property_filters(ctx: &Ctx<'_>, p: &Params) -> Result<Option<Vec<Vec<i64>>>> {
    let mut filters = Vec::new();
    for f in p.objects("PropertyFilterParam", 100)? {
        let ids: Vec<i64> = f
            .get("PropertyValueIds")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse()
                    .map_err(|_| Error::invalid("PropertyValueIds"))
            })
            .collect::<Result<_>>()?;
        if ids.is_empty() {
            return Err(Error::missing("PropertyValueIds"));
        }
        filters.push(ids);
    }
    let by_key = p.objects("PropertyKeyValueFilterParam", 100)?;
    if !by_key.is_empty() {
        let properties = ctx.services.properties(&ctx.actor).await?;
        for f in by_key {
            let key = f.required("PropertyKey")?;
            let texts: Vec<&str> = f
                .get("PropertyValues")
                .unwrap_or_default()
                .split(',')
                .collect();
            let ids: Vec<i64> = properties
                .iter()
                .filter(|prop| prop.row.property_key == key)
                .flat_map(|prop| &prop.values)
                .filter(|v| texts.contains(&v.value.as_str()))
                .map(|v| v.value_id)
                .collect();
            if ids.is_empty() {
                return Ok(None);
            }
            filters.push(ids);
        }
    }
    Ok(Some(filters))
}

/// `OrderParam`: Roster orders by EndUserId; `OrderType` (default DESC) is honoured.
fn descending(p: &Params) -> Result<bool> {
    let order: BTreeMap<String, String> = p.json("OrderParam")?.unwrap_or_default();
    if let Some(field) = order.get("OrderField") {
        if !["EndUserId", "id", "gmt_created"].contains(&field.as_str()) {
            return Err(Error::invalid("OrderParam.OrderField"));
        }
    }
    match order.get("OrderType").map(String::as_str) {
        None | Some("DESC") => Ok(true),
        Some("ASC") => Ok(false),
        Some(_) => Err(Error::invalid("OrderParam.OrderType")),
    }
}

fn filtered_user(user: UserRow, details: &UserDetails) -> FilteredUser {
    let id = details.numbers.get(&user.user_id).copied().unwrap_or(0);
    let mut by_property: BTreeMap<i64, UserSetProperty> = BTreeMap::new();
    for v in details.properties.get(&user.user_id).into_iter().flatten() {
        by_property
            .entry(v.property_id)
            .or_insert_with(|| UserSetProperty {
                user_id: id,
                user_name: user.user_id.clone(),
                property_id: v.property_id,
                property_key: v.property_key.clone(),
                property_type: 0,
                property_values: Vec::new(),
            })
            .property_values
            .push(PropertyValue {
                property_value_id: v.value_id,
                property_value: v.value.clone(),
            });
    }
    FilteredUser {
        id,
        status: status_of(&user, details),
        email: user.email.clone(),
        phone: user.phone.clone(),
        owner_type: user.owner_type.clone(),
        remark: user.description.clone(),
        real_nick_name: user.nick_name.clone(),
        is_tenant_manager: matches!(user.role.as_str(), "admin" | "superadmin"),
        enable_admin_access: false,
        auto_lock_time: auto_lock_time(&user).unwrap_or_default(),
        org_list: org_refs(details.orgs.get(&user.user_id)),
        groups: group_refs(details, &user.user_id),
        user_set_properties_models: by_property.into_values().collect(),
        end_user_id: user.user_id,
    }
}

pub async fn filter_users(ctx: &Ctx<'_>, p: &Params) -> Answer {
    // Larger MaxResults are read as 100, as the vendor does.
    let limit = p.int("MaxResults")?.map(|n| n.min(100));
    let page = Page::parse_limited(
        &ctx.actor.domain_id,
        limit,
        p.get("NextToken"),
        ("MaxResults", 100, 100),
    )?;
    let owner_type = p.string("OwnerType");
    if let Some(o) = &owner_type {
        if !crate::service::directory::OWNER_TYPES.contains(&o.as_str()) {
            return Err(Error::invalid("OwnerType").into());
        }
    }
    let Some(property_values) = property_filters(ctx, p).await? else {
        return answer(vec![
            ("NextToken", Value::String(String::new())),
            ("Users", json(Vec::<FilteredUser>::new())),
        ]);
    };
    let mut filter = DirectoryQuery {
        user_ids: p.list("IncludeEndUserIds", 2000)?,
        excluded_user_ids: p.list("ExcludeEndUserIds", 2000)?,
        id_or_email_like: p.get("Filter").map(wildcard_pattern),
        locked: status_filter(p)?,
        owner_type,
        property_values,
        ..DirectoryQuery::default()
    };
    org_filter(ctx, p, &mut filter).await?;
    let descending = descending(p)?;
    let (rows, next_token) = ctx
        .services
        .directory_users(&ctx.actor, filter, &page, descending)
        .await?;
    let details = ctx.services.user_details(&ctx.actor, &rows).await?;
    let users: Vec<FilteredUser> = rows
        .into_iter()
        .map(|u| filtered_user(u, &details))
        .collect();
    answer(vec![
        ("NextToken", Value::String(next_token)),
        ("Users", json(users)),
    ])
}

pub async fn manager_info(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let auth_code = p.required("AuthCode")?;
    let manager = ctx
        .services
        .manager_by_auth_code(&ctx.actor, auth_code)
        .await?;
    let details = ctx
        .services
        .user_details(&ctx.actor, std::slice::from_ref(&manager))
        .await?;
    let org_id = org_refs(details.orgs.get(&manager.user_id))
        .first()
        .map(|o| o.org_id.clone())
        .unwrap_or_else(|| ROOT_ORG_ID.to_owned());
    let team = ctx.services.own_domain(&ctx.actor).await?;
    answer(vec![
        (
            "WaId",
            json(details.numbers.get(&manager.user_id).copied().unwrap_or(0)),
        ),
        ("OrgId", Value::String(org_id)),
        ("UserName", Value::String(manager.user_id)),
        ("Phone", Value::String(manager.phone)),
        ("TeamName", Value::String(team.domain_name)),
    ])
}
