//! `/v2/group/*`, `/v2/user/list_group_user` and the group-admin `/v2/role/*`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use roster_api::{
    AssignRoleRequest, Assignment, CreateGroupRequest, ErrorBody, Group, GroupIdRequest,
    GroupMemberRequest, Identity, ListAssignmentRequest, ListAssignmentResponse,
    ListGroupMemberRequest, ListGroupMemberResponse, ListGroupRequest, ListGroupResponse,
    ListGroupUserRequest, ListIdentityRoleRequest, ListIdentityRoleResponse, MemberType,
    SearchGroupRequest, UpdateGroupNameRequest, UpdateGroupRequest,
};
use utoipa::OpenApi;

use super::extract::{Caller, PdsJson};
use super::{translate, PdsError};
use crate::error::Error;
use crate::http::AppState;
use crate::model::{GroupChanges, GroupSearch};

#[derive(OpenApi)]
#[openapi(
    paths(
        create_group,
        get_group,
        update_group,
        update_group_name,
        delete_group,
        list_groups,
        search_groups,
        add_member,
        remove_member,
        list_members,
        list_group_users,
        assign_role,
        cancel_role,
        list_assignments,
        list_identity_roles
    ),
    components(schemas(
        Group,
        CreateGroupRequest,
        GroupIdRequest,
        UpdateGroupRequest,
        UpdateGroupNameRequest,
        ListGroupRequest,
        SearchGroupRequest,
        ListGroupResponse,
        MemberType,
        GroupMemberRequest,
        ListGroupMemberRequest,
        ListGroupMemberResponse,
        ListGroupUserRequest,
        Identity,
        AssignRoleRequest,
        Assignment,
        ListAssignmentRequest,
        ListAssignmentResponse,
        ListIdentityRoleRequest,
        ListIdentityRoleResponse,
        ErrorBody
    ))
)]
pub struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/group/create", post(create_group))
        .route("/v2/group/get", post(get_group))
        .route("/v2/group/update", post(update_group))
        .route("/v2/group/update_name", post(update_group_name))
        .route("/v2/group/delete", post(delete_group))
        .route("/v2/group/list", post(list_groups))
        .route("/v2/group/search", post(search_groups))
        .route("/v2/group/add_member", post(add_member))
        .route("/v2/group/remove_member", post(remove_member))
        .route("/v2/group/list_member", post(list_members))
        .route("/v2/user/list_group_user", post(list_group_users))
        .route("/v2/role/assign", post(assign_role))
        .route("/v2/role/cancel_assign", post(cancel_role))
        .route("/v2/role/list_assignment", post(list_assignments))
        .route("/v2/role/list_identity_role", post(list_identity_roles))
}

type Answer<T> = Result<Json<T>, PdsError>;

/// Create a group, top-level (admin) or under a parent (admin or its group admin).
#[utoipa::path(post, path = "/v2/group/create", tag = "group", security(("bearer" = [])),
    request_body = CreateGroupRequest,
    responses(
        (status = 201, description = "Created", body = Group),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn create_group(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<CreateGroupRequest>,
) -> Result<(StatusCode, Json<Group>), PdsError> {
    let group = app
        .services
        .create_group(&actor, translate::new_group_spec(req))
        .await?;
    Ok((StatusCode::CREATED, Json(translate::group(group))))
}

/// Read a group (any user of the domain).
#[utoipa::path(post, path = "/v2/group/get", tag = "group", security(("bearer" = [])),
    request_body = GroupIdRequest,
    responses(
        (status = 200, description = "The group", body = Group),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn get_group(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GroupIdRequest>,
) -> Answer<Group> {
    let group = app.services.get_group(&actor, &req.group_id).await?;
    Ok(Json(translate::group(group)))
}

/// Rename, describe or move a group (`parent_group_id`; never into its own subtree).
#[utoipa::path(post, path = "/v2/group/update", tag = "group", security(("bearer" = [])),
    request_body = UpdateGroupRequest,
    responses(
        (status = 200, description = "The changed group", body = Group),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update_group(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateGroupRequest>,
) -> Answer<Group> {
    let (group_id, changes) = translate::group_changes(req);
    let group = app
        .services
        .update_group(&actor, &group_id, changes)
        .await?;
    Ok(Json(translate::group(group)))
}

/// Rename a group (deprecated PDS form of `update`).
#[utoipa::path(post, path = "/v2/group/update_name", tag = "group", security(("bearer" = [])),
    request_body = UpdateGroupNameRequest,
    responses(
        (status = 204, description = "Renamed"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn update_group_name(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<UpdateGroupNameRequest>,
) -> Result<StatusCode, PdsError> {
    let rename = GroupChanges {
        name: Some(req.name),
        ..GroupChanges::default()
    };
    app.services
        .update_group(&actor, &req.group_id, rename)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a group with its memberships; refused while it has subgroups.
#[utoipa::path(post, path = "/v2/group/delete", tag = "group", security(("bearer" = [])),
    request_body = GroupIdRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn delete_group(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GroupIdRequest>,
) -> Result<StatusCode, PdsError> {
    app.services.delete_group(&actor, &req.group_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List every group by `group_id`, by marker.
#[utoipa::path(post, path = "/v2/group/list", tag = "group", security(("bearer" = [])),
    request_body = ListGroupRequest,
    responses(
        (status = 200, description = "One page", body = ListGroupResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_groups(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListGroupRequest>,
) -> Answer<ListGroupResponse> {
    let search = GroupSearch {
        limit: req.limit,
        marker: req.marker,
        ..GroupSearch::default()
    };
    let listed = app.services.search_groups(&actor, search).await?;
    Ok(Json(translate::group_list(listed)))
}

/// Search groups by name prefix (`group_name`) or substring (`group_name_for_fuzzy`).
#[utoipa::path(post, path = "/v2/group/search", tag = "group", security(("bearer" = [])),
    request_body = SearchGroupRequest,
    responses(
        (status = 200, description = "One page", body = ListGroupResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn search_groups(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<SearchGroupRequest>,
) -> Answer<ListGroupResponse> {
    let listed = app
        .services
        .search_groups(&actor, translate::group_search(req))
        .await?;
    Ok(Json(translate::group_list(listed)))
}

/// Add a user to a group (idempotent), or move a group (`member_type: group`) under it.
#[utoipa::path(post, path = "/v2/group/add_member", tag = "group", security(("bearer" = [])),
    request_body = GroupMemberRequest,
    responses(
        (status = 204, description = "Added"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn add_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GroupMemberRequest>,
) -> Result<StatusCode, PdsError> {
    let (group_id, member) = translate::member(req);
    app.services.add_member(&actor, &group_id, member).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user from a group, or take a subgroup out (it becomes top-level).
#[utoipa::path(post, path = "/v2/group/remove_member", tag = "group", security(("bearer" = [])),
    request_body = GroupMemberRequest,
    responses(
        (status = 204, description = "Removed"),
        (status = "4XX", description = "Refused; NotFound.Membership for a non-member", body = ErrorBody),
    ))]
async fn remove_member(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<GroupMemberRequest>,
) -> Result<StatusCode, PdsError> {
    let (group_id, member) = translate::member(req);
    app.services
        .remove_member(&actor, &group_id, member)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Direct members of a group: subgroups first, then users.
#[utoipa::path(post, path = "/v2/group/list_member", tag = "group", security(("bearer" = [])),
    request_body = ListGroupMemberRequest,
    responses(
        (status = 200, description = "One page", body = ListGroupMemberResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_members(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListGroupMemberRequest>,
) -> Answer<ListGroupMemberResponse> {
    let listing = translate::member_listing(req);
    let members = app.services.list_members(&actor, listing).await?;
    Ok(Json(translate::group_members(members)?))
}

/// Direct members of a group (or of the top of the tree), with extras for admins.
#[utoipa::path(post, path = "/v2/user/list_group_user", tag = "user", security(("bearer" = [])),
    request_body = ListGroupUserRequest,
    responses(
        (status = 200, description = "One page", body = ListGroupMemberResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_group_users(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListGroupUserRequest>,
) -> Answer<ListGroupMemberResponse> {
    let extras = translate::extras(req.extra_return_info.as_deref());
    let listing = translate::group_user_listing(req);
    let members = app
        .services
        .list_group_users(&actor, listing, extras)
        .await?;
    Ok(Json(translate::group_members(members)?))
}

/// Make a user (or a group's members) admin of a group and its subtree (admin).
#[utoipa::path(post, path = "/v2/role/assign", tag = "role", security(("bearer" = [])),
    request_body = AssignRoleRequest,
    responses(
        (status = 204, description = "Assigned"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn assign_role(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<AssignRoleRequest>,
) -> Result<StatusCode, PdsError> {
    let grant = translate::group_admin_grant(req);
    app.services.assign_group_admin(&actor, grant).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraw a group-admin assignment (admin).
#[utoipa::path(post, path = "/v2/role/cancel_assign", tag = "role", security(("bearer" = [])),
    request_body = AssignRoleRequest,
    responses(
        (status = 204, description = "Withdrawn"),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn cancel_role(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<AssignRoleRequest>,
) -> Result<StatusCode, PdsError> {
    let grant = translate::group_admin_grant(req);
    app.services.cancel_group_admin(&actor, grant).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The admins of a group.
#[utoipa::path(post, path = "/v2/role/list_assignment", tag = "role", security(("bearer" = [])),
    request_body = ListAssignmentRequest,
    responses(
        (status = 200, description = "One page", body = ListAssignmentResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_assignments(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListAssignmentRequest>,
) -> Answer<ListAssignmentResponse> {
    // PDS's only resource type with roles is the group.
    if req.manage_resource_type != translate::GROUP_RESOURCE {
        return Err(Error::invalid("manage_resource_type").into());
    }
    let listed = app
        .services
        .group_admins(
            &actor,
            &req.manage_resource_id,
            req.limit,
            req.marker.as_deref(),
        )
        .await?;
    Ok(Json(ListAssignmentResponse {
        assignment_list: listed
            .items
            .into_iter()
            .map(translate::assignment)
            .collect(),
        next_marker: listed.next_marker,
    }))
}

/// The group-admin roles of a user or group.
#[utoipa::path(post, path = "/v2/role/list_identity_role", tag = "role", security(("bearer" = [])),
    request_body = ListIdentityRoleRequest,
    responses(
        (status = 200, description = "Its roles", body = ListIdentityRoleResponse),
        (status = "4XX", description = "Refused", body = ErrorBody),
    ))]
async fn list_identity_roles(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PdsJson(req): PdsJson<ListIdentityRoleRequest>,
) -> Answer<ListIdentityRoleResponse> {
    let identity = req.identity;
    let kind = translate::holder_kind(&identity.identity_type);
    let roles = app
        .services
        .holder_roles(&actor, &identity.identity_id, kind)
        .await?;
    Ok(Json(ListIdentityRoleResponse {
        domain_id: actor.domain_id.to_string(),
        identity,
        is_admin: roles.is_admin,
        assignment_list: roles.roles.into_iter().map(translate::assignment).collect(),
    }))
}
