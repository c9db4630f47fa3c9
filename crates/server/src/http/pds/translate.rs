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
    Account, AccountLink, AppChanges, AppInfo, AuditEntry, AuditExportSpec, AuditSearch,
    CreatedDomain, Domain, DomainChanges, DomainSearch, Drive, DriveChanges, DriveOwnerType,
    DriveSearch, DriveStatus, DriveUsage, Group, GroupAdminGrant, GroupAdminRole, GroupChanges,
    GroupMembers, GroupSearch, HolderKind, ImportedUserSpec, IssuedScimToken, IssuedToken, Listed,
    LogonIdentity, LogonKind, Member, MemberKind, MemberListing, NewAppSpec, NewDomainSpec,
    NewDriveSpec, NewGroupSpec, NewUserSpec, Punishment, QuotaUse, Role, ScimTokenInfo,
    TokenHolder, User, UserChanges, UserExtras, UserSearch, UserStatus, UserWithExtras,
};
use crate::time_format::{iso8601_ms, rfc3339_s};

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
        ..UserSearch::default()
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
        default_drive: item.default_drive.map(|d| d.map(drive)),
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

fn drive_owner_type(wire: roster_api::drives::OwnerType) -> DriveOwnerType {
    match wire {
        roster_api::drives::OwnerType::User => DriveOwnerType::User,
        roster_api::drives::OwnerType::Group => DriveOwnerType::Group,
    }
}

fn drive_status(wire: roster_api::drives::DriveStatus) -> DriveStatus {
    match wire {
        roster_api::drives::DriveStatus::Enabled => DriveStatus::Enabled,
        roster_api::drives::DriveStatus::Disabled => DriveStatus::Disabled,
    }
}

/// A drive as PDS answers it.
pub(crate) fn drive(drive: Drive) -> roster_api::drives::Drive {
    roster_api::drives::Drive {
        domain_id: drive.domain_id,
        drive_id: drive.drive_id,
        drive_name: drive.drive_name,
        drive_type: drive.drive_type,
        description: drive.description,
        owner: drive.owner,
        owner_type: drive.owner_type,
        status: drive.status,
        total_size: drive.total_size,
        used_size: drive.used_size,
        creator: drive.creator,
        created_at: iso8601_ms(drive.created_at),
        updated_at: iso8601_ms(drive.updated_at),
        default: drive.is_default,
    }
}

/// A page of drives as `/v2/drive/list*` and `/v2/drive/search` answer it.
pub(crate) fn drive_list(listed: Listed<Drive>) -> roster_api::drives::ListDriveResponse {
    roster_api::drives::ListDriveResponse {
        items: listed.items.into_iter().map(drive).collect(),
        next_marker: listed.next_marker,
    }
}

/// `/v2/drive/create`. `drive_type` can only be `normal`: serde refused anything else.
pub(crate) fn new_drive(req: roster_api::drives::CreateDriveRequest) -> NewDriveSpec {
    NewDriveSpec {
        drive_name: req.drive_name,
        owner: req.owner,
        owner_type: drive_owner_type(req.owner_type),
        is_default: req.default,
        description: req.description,
        status: req.status.map(drive_status),
        total_size: req.total_size,
        subdomain_id: req.subdomain_id,
    }
}

/// `/v2/drive/update`: the drive's id and the change.
pub(crate) fn drive_changes(req: roster_api::drives::UpdateDriveRequest) -> (String, DriveChanges) {
    let changes = DriveChanges {
        drive_name: req.drive_name,
        description: req.description,
        status: req.status.map(drive_status),
        total_size: req.total_size,
        owner: req.owner,
    };
    (req.drive_id, changes)
}

/// `/v2/drive/list`: the domain's (or a subdomain's) drives, or one owner's.
pub(crate) fn drive_listing(req: roster_api::drives::ListDriveRequest) -> DriveSearch {
    DriveSearch {
        owner_type: req.owner_type.map(drive_owner_type),
        owner: req.owner,
        name_contains: None,
        subdomain_id: req.subdomain_id,
        limit: req.limit,
        marker: req.marker,
    }
}

/// `/v2/drive/search`.
pub(crate) fn drive_search(req: roster_api::drives::SearchDriveRequest) -> DriveSearch {
    DriveSearch {
        owner_type: req.owner_type.map(drive_owner_type),
        owner: req.owner,
        name_contains: req.drive_name,
        subdomain_id: None,
        limit: req.limit,
        marker: req.marker,
    }
}

/// A domain as PDS answers it, with what its drives use (zero unless asked for). The
/// fields Roster has no use for answer PDS's fixed values.
pub(crate) fn domain(domain: Domain, usage: DriveUsage) -> roster_api::domains::Domain {
    roster_api::domains::Domain {
        domain_id: domain.domain_id,
        domain_name: domain.domain_name,
        description: domain.description,
        parent_domain_id: domain.parent_domain_id,
        status: 1,
        init_drive_enable: domain.init_drive_enable,
        init_drive_size: domain.init_drive_size,
        size_quota: domain.size_quota,
        size_quota_used: usage.allocated,
        used_size: usage.used,
        user_count_quota: domain.user_count_quota,
        data_hash_name: "sha1".into(),
        store_redundancy_type: "LRS".into(),
        sharable: false,
        published_app_access_strategy: roster_api::domains::AppAccessStrategy {
            effect: "allow".into(),
            except_app_id_list: Vec::new(),
        },
        created_at: iso8601_ms(domain.created_at),
        updated_at: iso8601_ms(domain.updated_at),
    }
}

/// `/v2/domain/create`.
pub fn new_domain(req: roster_api::domains::CreateDomainRequest) -> NewDomainSpec {
    NewDomainSpec {
        domain_id: req.domain_id,
        domain_name: req.domain_name,
        description: req.description,
        parent_domain_id: req.parent_domain_id,
        init_drive_enable: req.init_drive_enable,
        init_drive_size: req.init_drive_size,
        size_quota: req.size_quota,
        user_count_quota: req.user_count_quota,
        admin_user_id: req.admin_user_id,
        admin_password: req.admin_password,
    }
}

/// The answer of `/v2/domain/create`.
pub fn created_domain(created: CreatedDomain) -> roster_api::domains::CreateDomainResponse {
    roster_api::domains::CreateDomainResponse {
        domain: domain(created.domain, DriveUsage::default()),
        admin_user_id: created.admin_user_id,
        admin_password: created.admin_password,
    }
}

/// `/v2/domain/list` and `/v2/domain/search` (`name` is how the 2022-03-01 SDK sends the
/// prefix).
pub(crate) fn domain_search(req: roster_api::domains::ListDomainRequest) -> DomainSearch {
    DomainSearch {
        name_prefix: req.domain_name,
        alt_name_prefix: req.name,
        limit: req.limit,
        marker: req.marker,
    }
}

/// A page of domains (their usage is not read in a listing).
pub(crate) fn domain_list(listed: Listed<Domain>) -> roster_api::domains::ListDomainResponse {
    roster_api::domains::ListDomainResponse {
        items: listed
            .items
            .into_iter()
            .map(|d| domain(d, DriveUsage::default()))
            .collect(),
        next_marker: listed.next_marker,
    }
}

/// `/v2/domain/update`: the domain's id and the change.
pub(crate) fn domain_changes(
    req: roster_api::domains::UpdateDomainRequest,
) -> (String, DomainChanges) {
    let changes = DomainChanges {
        domain_name: req.domain_name,
        description: req.description,
        init_drive_enable: req.init_drive_enable,
        init_drive_size: req.init_drive_size,
        size_quota: req.size_quota,
        user_count_quota: req.user_count_quota,
        app_access_strategy: req.published_app_access_strategy.is_some(),
    };
    (req.domain_id, changes)
}

/// `/v2/domain/get_quota`.
pub(crate) fn quota(quota: QuotaUse) -> roster_api::domains::DomainQuota {
    roster_api::domains::DomainQuota {
        size_quota: quota.size_quota,
        size_used: quota.size_used,
        user_count_quota: quota.user_count_quota,
        user_count_used: quota.user_count_used,
    }
}

/// An app as `/v2/app/*` answers it.
pub(crate) fn app(info: AppInfo) -> roster_api::apps::App {
    let app = info.app;
    roster_api::apps::App {
        app_type: info.kind.as_str().into(),
        redirect_uris: info.redirect_uris,
        scopes: info.scopes,
        trusted: app.trusted,
        client_secret: info.client_secret,
        domain_id: app.domain_id,
        client_id: app.client_id,
        app_name: app.app_name,
        algorithm: app.algorithm,
        public_key: app.public_key,
        status: app.status,
        creator: app.creator,
        created_at: app.created_at,
        updated_at: app.updated_at,
    }
}

/// A page of apps.
pub(crate) fn app_list(listed: Listed<AppInfo>) -> roster_api::apps::ListAppResponse {
    roster_api::apps::ListAppResponse {
        items: listed.items.into_iter().map(app).collect(),
        next_marker: listed.next_marker,
    }
}

/// `/v2/app/create`.
pub(crate) fn new_app(req: roster_api::apps::CreateAppRequest) -> NewAppSpec {
    NewAppSpec {
        client_id: req.client_id,
        app_name: req.app_name,
        app_type: req.app_type,
        algorithm: req.algorithm,
        public_key: req.public_key,
        redirect_uris: req.redirect_uris,
        scopes: req.scopes,
        trusted: req.trusted,
    }
}

/// `/v2/app/update`: the app's client id and the change.
pub(crate) fn app_changes(req: roster_api::apps::UpdateAppRequest) -> (String, AppChanges) {
    let changes = AppChanges {
        app_name: req.app_name,
        public_key: req.public_key,
        algorithm: req.algorithm,
        status: req.status,
        redirect_uris: req.redirect_uris,
        scopes: req.scopes,
        trusted: req.trusted,
        rotate_secret: req.rotate_secret,
    };
    (req.client_id, changes)
}

/// A key as PDS answers it (never with its secret).
pub fn access_key(key: crate::model::AccessKey) -> roster_api::access_keys::AccessKey {
    roster_api::access_keys::AccessKey {
        access_key_id: key.access_key_id,
        domain_id: key.domain_id,
        user_id: key.user_id,
        status: key.status,
        description: key.description,
        creator: key.creator,
        created_at: key.created_at,
    }
}

/// A logon kind as Roster knows it.
pub(crate) fn logon_kind(wire: roster_api::AuthenticationType) -> LogonKind {
    match wire {
        roster_api::AuthenticationType::Mobile => LogonKind::Mobile,
        roster_api::AuthenticationType::Email => LogonKind::Email,
        roster_api::AuthenticationType::Ldap => LogonKind::Ldap,
        roster_api::AuthenticationType::Custom => LogonKind::Custom,
    }
}

/// A logon account as PDS answers it.
pub(crate) fn account_to_api(row: Account) -> roster_api::AccountLinkInfo {
    roster_api::AccountLinkInfo {
        authentication_type: row.authentication_type,
        identity: row.identity,
        user_id: row.user_id,
        domain_id: row.domain_id,
        display_name: row.display_name,
        extra: row.extra,
        created_at: row.created_at,
        last_login_time: row.last_login_time,
        status: row.status,
    }
}

/// `/v2/account/link` and `/v2/account/unlink`.
pub(crate) fn account_link(req: roster_api::accounts::LinkAccountRequest) -> AccountLink {
    AccountLink {
        user_id: req.user_id,
        kind: logon_kind(req.kind),
        identity: req.identity,
        extra: req.extra,
    }
}

/// The account `/v2/account/get_link_info*` name (`extra` plays no part in a lookup).
pub(crate) fn logon_identity(req: roster_api::accounts::LinkInfoRequest) -> LogonIdentity {
    LogonIdentity {
        kind: logon_kind(req.kind),
        identity: req.identity,
    }
}

/// `/v2/user/import`.
pub(crate) fn imported_user(req: roster_api::ImportUserRequest) -> ImportedUserSpec {
    ImportedUserSpec {
        user_id: req.user_id,
        kind: logon_kind(req.authentication_type),
        identity: req.identity,
        nick_name: req.nick_name,
        display_name: req.authentication_display_name,
        extra: req.extra,
        auto_create_drive: req.auto_create_drive,
        drive_total_size: req.drive_total_size,
        parent_group_id: req.parent_group_id,
        plain_password: req.plain_password,
        email: req.email,
        phone: req.phone,
        deny_change_password_by_self: req.deny_change_password_by_self,
        need_change_password_next_login: req.need_change_password_next_login,
        expired_at: req.expired_at,
        phone_region: req.phone_region,
    }
}

/// Tokens as PDS answers them: a service token names no user and acts as a superadmin.
pub(crate) fn token(issued: IssuedToken) -> Result<roster_api::Token> {
    let mut token = roster_api::Token {
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        expires_in: issued.expires_in,
        expire_time: rfc3339_s(issued.expires_at_s),
        token_type: "Bearer".into(),
        user_id: String::new(),
        user_name: String::new(),
        nick_name: String::new(),
        avatar: String::new(),
        role: Role::Superadmin.as_str().into(),
        status: UserStatus::Enabled.as_str().into(),
        domain_id: String::new(),
        default_drive_id: String::new(),
        default_sbox_drive_id: String::new(),
        is_first_login: issued.is_first_login,
        need_link: false,
        need_rp_verify: false,
        pin_setup: false,
        state: String::new(),
        exist_link: Vec::new(),
        user_data: serde_json::Map::new(),
        id_token: issued.id_token,
        scope: issued.scope,
    };
    match issued.holder {
        TokenHolder::App { domain_id } => token.domain_id = domain_id,
        TokenHolder::User { user, logons } => {
            token.role = user.role()?.as_str().into();
            token.status = user.status()?.as_str().into();
            token.user_data = user.user_data_object();
            token.exist_link = logons
                .into_iter()
                .map(|a| roster_api::tokens::ExistLink {
                    kind: a.authentication_type,
                    identity: a.identity,
                    extra: a.extra,
                })
                .collect();
            token.user_id = user.user_id;
            token.user_name = user.user_name;
            token.nick_name = user.nick_name;
            token.avatar = user.avatar;
            token.domain_id = user.domain_id;
            token.default_drive_id = user.default_drive_id;
        }
    }
    Ok(token)
}

/// An access key just issued, with its secret (shown this once).
pub fn issued_access_key(
    issued: crate::model::IssuedAccessKey,
) -> roster_api::access_keys::CreateAccessKeyResponse {
    roster_api::access_keys::CreateAccessKeyResponse {
        key: access_key(issued.key),
        access_key_secret: issued.secret,
    }
}

/// PDS's only role: a group admin, on a group and below (`role_id`).
pub(crate) const GROUP_ADMIN_ROLE: &str = "SystemGroupAdmin";
/// The only resource type PDS's roles are held on (`manage_resource_type`).
pub(crate) const GROUP_RESOURCE: &str = "RT_Group";
/// `identity_type` of a user.
pub(crate) const IDENTITY_USER: &str = "IT_User";
/// `identity_type` of a group (whose members hold its roles).
pub(crate) const IDENTITY_GROUP: &str = "IT_Group";

/// A member named by `/v2/group/add_member` or `remove_member`, with its group.
pub(crate) fn member(req: roster_api::GroupMemberRequest) -> (String, Member) {
    let member = match req.member_type {
        roster_api::MemberType::User => Member::User(req.member_id),
        roster_api::MemberType::Group => Member::Group(req.member_id),
    };
    (req.group_id, member)
}

fn member_kind(wire: roster_api::MemberType) -> MemberKind {
    match wire {
        roster_api::MemberType::User => MemberKind::User,
        roster_api::MemberType::Group => MemberKind::Group,
    }
}

pub(crate) fn member_listing(req: roster_api::ListGroupMemberRequest) -> MemberListing {
    MemberListing {
        group_id: req.group_id,
        kind: req.member_type.map(member_kind),
        limit: req.limit,
        marker: req.marker,
    }
}

/// `/v2/user/list_group_user`: no group is the top of the tree (its extras are read apart,
/// by [`extras`]).
pub(crate) fn group_user_listing(req: roster_api::ListGroupUserRequest) -> MemberListing {
    MemberListing {
        group_id: req.group_id.unwrap_or_default(),
        kind: req.member_type.map(member_kind),
        limit: req.limit,
        marker: req.marker,
    }
}

/// The kind of an `identity_type`, or the text of one PDS does not have.
pub(crate) fn holder_kind(identity_type: &str) -> std::result::Result<HolderKind, String> {
    match identity_type {
        IDENTITY_USER => Ok(HolderKind::User),
        IDENTITY_GROUP => Ok(HolderKind::Group),
        other => Err(other.to_owned()),
    }
}

fn identity_type(kind: HolderKind) -> &'static str {
    match kind {
        HolderKind::User => IDENTITY_USER,
        HolderKind::Group => IDENTITY_GROUP,
    }
}

/// A `/v2/role/assign` (or `cancel_assign`): a role other than the group admin's, or on
/// another resource type, is left for the service to refuse after the caller's permission.
pub(crate) fn group_admin_grant(req: roster_api::AssignRoleRequest) -> GroupAdminGrant {
    let other_role_field = if req.role_id != GROUP_ADMIN_ROLE {
        Some("role_id")
    } else if req.manage_resource_type != GROUP_RESOURCE {
        Some("manage_resource_type")
    } else {
        None
    };
    GroupAdminGrant {
        group_id: req.manage_resource_id,
        holder_kind: holder_kind(&req.identity.identity_type),
        holder_id: req.identity.identity_id,
        other_role_field,
        role_named: req.role_id,
    }
}

pub(crate) fn assignment(role: GroupAdminRole) -> roster_api::Assignment {
    roster_api::Assignment {
        domain_id: role.domain_id,
        identity: roster_api::Identity {
            identity_type: identity_type(role.holder_kind).into(),
            identity_id: role.holder_id,
        },
        role_id: GROUP_ADMIN_ROLE.into(),
        manage_resource_type: GROUP_RESOURCE.into(),
        manage_resource_id: role.group_id,
        creator: role.creator,
        created_at: role.created_at,
    }
}

/// An audit log page as asked for.
pub(crate) fn audit_search(req: roster_api::audit_log::ListAuditLogRequest) -> AuditSearch {
    AuditSearch {
        query: req.query.unwrap_or_default(),
        order_by: req.order_by,
        limit: req.limit,
        marker: req.marker,
    }
}

pub(crate) fn audit_export_spec(
    req: roster_api::audit_log::AuditLogExportRequest,
) -> AuditExportSpec {
    AuditExportSpec {
        query: req.query,
        order_by: req.order_by,
        file_name: req.file_name,
    }
}

/// An audit record; its detail (stored as a JSON object) as an object, `{}` if unreadable.
pub(crate) fn audit_log(entry: AuditEntry) -> roster_api::audit_log::AuditLog {
    let detail = match serde_json::from_str(&entry.detail) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    roster_api::audit_log::AuditLog {
        log_id: entry.log_id,
        acted_at: iso8601_ms(entry.acted_at),
        action_category: entry.target_type,
        action_type: entry.action,
        actor_id: entry.actor_id,
        actor_type: entry.actor_type,
        client_ip: entry.client_ip,
        object_id: entry.target_id,
        outcome: entry.outcome,
        error_code: entry.error_code,
        request_id: entry.request_id,
        domain_id: entry.domain_id,
        detail,
    }
}

pub(crate) fn audit_log_list(
    listed: Listed<AuditEntry>,
) -> roster_api::audit_log::ListAuditLogResponse {
    roster_api::audit_log::ListAuditLogResponse {
        items: listed.items.into_iter().map(audit_log).collect(),
        next_marker: listed.next_marker,
    }
}

/// A SCIM provisioning token, without the token itself.
pub(crate) fn scim_token(info: ScimTokenInfo) -> roster_api::scim_tokens::ScimToken {
    roster_api::scim_tokens::ScimToken {
        token_id: info.token_id,
        domain_id: info.domain_id,
        description: info.description,
        creator: info.creator,
        created_at: info.created_at,
    }
}

pub(crate) fn issued_scim_token(
    issued: IssuedScimToken,
) -> roster_api::scim_tokens::CreateScimTokenResponse {
    roster_api::scim_tokens::CreateScimTokenResponse {
        info: scim_token(issued.info),
        token: issued.token,
    }
}

pub(crate) fn scim_token_list(
    listed: Listed<ScimTokenInfo>,
) -> roster_api::scim_tokens::ListScimTokenResponse {
    roster_api::scim_tokens::ListScimTokenResponse {
        items: listed.items.into_iter().map(scim_token).collect(),
        next_marker: listed.next_marker,
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
