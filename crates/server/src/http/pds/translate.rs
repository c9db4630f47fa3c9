//! PDS wire types ↔ Roster's own (`crate::model`): the one place the PDS dialect translates.
//! Handlers read a request, translate it here, call one service, and translate the answer
//! back here.

use roster_api::{
    CreateGroupRequest, CreateUserRequest, ExtraReturnInfo, GeneralSearchUserRequest,
    ListGroupMemberResponse, ListGroupResponse, ListUserRequest, SearchGroupRequest,
    SearchUserRequest, UpdateGroupRequest, UpdateUserRequest, UserExtraItem,
};

use crate::error::Result;
use crate::model::{
    Group, GroupChanges, GroupMembers, GroupSearch, Listed, NewGroupSpec, NewUserSpec, Punishment,
    Role, User, UserChanges, UserExtras, UserSearch, UserStatus, UserWithExtras,
};
use crate::service::accounts::account_to_api;
use crate::service::drives::to_api as drive_to_api;

pub(crate) fn role(wire: roster_api::Role) -> Role {
    match wire {
        roster_api::Role::User => Role::User,
        roster_api::Role::Admin => Role::Admin,
        roster_api::Role::Superadmin => Role::Superadmin,
        roster_api::Role::SubdomainAdmin => Role::SubdomainAdmin,
        roster_api::Role::SubdomainSuperAdmin => Role::SubdomainSuperAdmin,
        roster_api::Role::DirectoryReader => Role::DirectoryReader,
    }
}

pub(crate) fn wire_role(role: Role) -> roster_api::Role {
    match role {
        Role::User => roster_api::Role::User,
        Role::Admin => roster_api::Role::Admin,
        Role::Superadmin => roster_api::Role::Superadmin,
        Role::SubdomainAdmin => roster_api::Role::SubdomainAdmin,
        Role::SubdomainSuperAdmin => roster_api::Role::SubdomainSuperAdmin,
        Role::DirectoryReader => roster_api::Role::DirectoryReader,
    }
}

pub(crate) fn status(wire: roster_api::UserStatus) -> UserStatus {
    match wire {
        roster_api::UserStatus::Enabled => UserStatus::Enabled,
        roster_api::UserStatus::Disabled => UserStatus::Disabled,
    }
}

pub(crate) fn wire_status(status: UserStatus) -> roster_api::UserStatus {
    match status {
        UserStatus::Enabled => roster_api::UserStatus::Enabled,
        UserStatus::Disabled => roster_api::UserStatus::Disabled,
    }
}

fn punishment(wire: roster_api::Punishment) -> Punishment {
    Punishment {
        punish_flag: wire.punish_flag,
        starts_at: wire.starts_at,
        ends_at: wire.ends_at,
        impermanent: wire.impermanent,
    }
}

fn wire_punishment(p: Punishment) -> roster_api::Punishment {
    roster_api::Punishment {
        punish_flag: p.punish_flag,
        starts_at: p.starts_at,
        ends_at: p.ends_at,
        impermanent: p.impermanent,
    }
}

/// A user as PDS answers it. Without punishments PDS shows one neutral entry.
pub(crate) fn user(user: User) -> Result<roster_api::User> {
    let mut punishments: Vec<roster_api::Punishment> = user
        .punishment_list()
        .into_iter()
        .map(wire_punishment)
        .collect();
    if punishments.is_empty() {
        punishments.push(roster_api::Punishment {
            punish_flag: 0,
            starts_at: String::new(),
            ends_at: String::new(),
            impermanent: true,
        });
    }
    Ok(roster_api::User {
        role: wire_role(user.role()?),
        status: wire_status(user.status()?),
        user_data: user.user_data_object(),
        punishments,
        domain_id: user.domain_id,
        user_id: user.user_id,
        user_name: user.user_name,
        nick_name: user.nick_name,
        avatar: user.avatar,
        email: user.email,
        phone: user.phone,
        description: user.description,
        default_drive_id: user.default_drive_id,
        creator: user.creator,
        created_at: user.created_at,
        updated_at: user.updated_at,
        last_login_time: user.last_login_time,
        last_refresh_token_time: user.last_refresh_token_time,
        deny_change_password_by_self: user.deny_change_password_by_self,
        need_change_password_next_login: user.need_change_password_next_login,
        expired_at: user.expired_at,
        phone_region: user.phone_region,
        is_sync: false,
    })
}

/// A page of users as `/v2/user/list` and `/v2/user/search` answer it.
pub(crate) fn user_list(listed: Listed<User>) -> Result<roster_api::ListUserResponse> {
    Ok(roster_api::ListUserResponse {
        items: listed.items.into_iter().map(user).collect::<Result<_>>()?,
        next_marker: listed.next_marker,
    })
}

/// The user a `/v2/user/create` request asks for.
pub(crate) fn new_user_spec(req: CreateUserRequest) -> NewUserSpec {
    NewUserSpec {
        user_id: req.user_id,
        user_name: req.user_name,
        nick_name: req.nick_name,
        avatar: req.avatar,
        email: req.email,
        phone: req.phone,
        phone_region: req.phone_region,
        role: req.role.map(role),
        status: req.status.map(status),
        description: req.description,
        user_data: req.user_data,
        group_ids: req
            .group_info_list
            .map(|list| list.into_iter().map(|info| info.group_id).collect()),
        plain_password: req.plain_password,
        deny_change_password_by_self: req.deny_change_password_by_self,
        need_change_password_next_login: req.need_change_password_next_login,
        expired_at: req.expired_at,
        subdomain_id: req.subdomain_id,
    }
}

/// The user a `/v2/user/update` request names, and the change it asks for.
pub(crate) fn user_changes(req: UpdateUserRequest) -> (String, UserChanges) {
    let changes = UserChanges {
        user_name: req.user_name,
        nick_name: req.nick_name,
        avatar: req.avatar,
        email: req.email,
        phone: req.phone,
        phone_region: req.phone_region,
        role: req.role.map(role),
        status: req.status.map(status),
        description: req.description,
        user_data: req.user_data,
        group_ids: req
            .group_info_list
            .map(|list| list.into_iter().map(|info| info.group_id).collect()),
        plain_password: req.plain_password,
        deny_change_password_by_self: req.deny_change_password_by_self,
        need_change_password_next_login: req.need_change_password_next_login,
        expired_at: req.expired_at,
        punishments: req
            .punishments
            .map(|list| list.into_iter().map(punishment).collect()),
    };
    (req.user_id, changes)
}

/// `/v2/user/list`: a search by status only.
pub(crate) fn user_listing(req: ListUserRequest) -> UserSearch {
    UserSearch {
        status: req.status.map(status),
        subdomain_id: req.subdomain_id,
        limit: req.limit,
        marker: req.marker,
        ..UserSearch::default()
    }
}

pub(crate) fn user_search(req: SearchUserRequest) -> UserSearch {
    UserSearch {
        user_name: req.user_name,
        nick_name: req.nick_name,
        nick_name_contains: req.nick_name_for_fuzzy,
        email: req.email,
        phone: req.phone,
        role: req.role.map(role),
        status: req.status.map(status),
        subdomain_id: req.subdomain_id,
        limit: req.limit,
        marker: req.marker,
    }
}

/// `/v2/user/general_search`: the search, the groups it narrows to, the extras it asks for.
pub(crate) fn general_search(
    req: GeneralSearchUserRequest,
) -> (UserSearch, Vec<String>, Option<String>, UserExtras) {
    let extras = extras(req.extra_return_info.as_deref());
    let search = user_search(req.search());
    (
        search,
        req.parent_group_id_list.unwrap_or_default(),
        req.direct_parent_group_id,
        extras,
    )
}

/// The extras `extra_return_info` asks for.
pub(crate) fn extras(asked: Option<&[ExtraReturnInfo]>) -> UserExtras {
    let mut extras = UserExtras::default();
    for item in asked.unwrap_or_default() {
        match item {
            ExtraReturnInfo::Account => extras.accounts = true,
            ExtraReturnInfo::Group => extras.groups = true,
            ExtraReturnInfo::Drive => extras.default_drive = true,
        }
    }
    extras
}

/// A page of a group's members as `/v2/group/list_member` and `/v2/user/list_group_user`
/// answer it.
pub(crate) fn group_members(members: GroupMembers) -> Result<ListGroupMemberResponse> {
    Ok(ListGroupMemberResponse {
        user_items: members
            .users
            .into_iter()
            .map(user_with_extras)
            .collect::<Result<_>>()?,
        group_items: members.groups.into_iter().map(group).collect(),
        next_marker: members.next_marker,
    })
}

/// A user with its extras, as `general_get`, `general_search` and group listings answer it.
pub(crate) fn user_with_extras(item: UserWithExtras) -> Result<UserExtraItem> {
    Ok(UserExtraItem {
        account: item
            .accounts
            .map(|list| list.into_iter().map(account_to_api).collect()),
        default_drive: item.default_drive.map(|drive| drive.map(drive_to_api)),
        parent_group: item
            .groups
            .map(|list| list.into_iter().map(group).collect()),
        user: user(item.user)?,
    })
}

/// A group as PDS answers it.
pub(crate) fn group(group: Group) -> roster_api::Group {
    roster_api::Group {
        domain_id: group.domain_id,
        group_id: group.group_id,
        group_name: group.group_name,
        description: group.description,
        is_root: group.is_root,
        parent_group_id: group.parent_group_id,
        creator: group.creator,
        created_at: group.created_at,
        updated_at: group.updated_at,
    }
}

pub(crate) fn group_list(listed: Listed<Group>) -> ListGroupResponse {
    ListGroupResponse {
        items: listed.items.into_iter().map(group).collect(),
        next_marker: listed.next_marker,
    }
}

pub(crate) fn new_group_spec(req: CreateGroupRequest) -> NewGroupSpec {
    NewGroupSpec {
        name: req.group_name,
        description: req.description,
        parent_group_id: req.parent_group_id,
        is_root: req.is_root,
    }
}

/// The group a `/v2/group/update` request names, and the change it asks for.
pub(crate) fn group_changes(req: UpdateGroupRequest) -> (String, GroupChanges) {
    let changes = GroupChanges {
        name: req.group_name,
        description: req.description,
        parent_group_id: req.parent_group_id,
    };
    (req.group_id, changes)
}

pub(crate) fn group_search(req: SearchGroupRequest) -> GroupSearch {
    GroupSearch {
        name: req.group_name,
        name_contains: req.group_name_for_fuzzy,
        limit: req.limit,
        marker: req.marker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_and_status_crosses_the_wire_both_ways() {
        for r in Role::ALL {
            assert_eq!(role(wire_role(r)), r);
            assert_eq!(wire_role(r).as_str(), r.as_str());
        }
        for s in [UserStatus::Enabled, UserStatus::Disabled] {
            assert_eq!(status(wire_status(s)), s);
            assert_eq!(wire_status(s).as_str(), s.as_str());
        }
    }
}
