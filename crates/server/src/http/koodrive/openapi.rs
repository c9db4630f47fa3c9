//! The KooDrive routes in `/openapi.json`: one row per route of [`super::router`], with the
//! body and answer types of `roster_api::koodrive` and KooDrive's `{code, msg}` envelope
//! (the payload in `data` or beside `code` and `msg`, as each vendor page shows it).
//!
//! A table rather than `#[utoipa::path]` on each handler: every route shares the envelope,
//! the error answers and the two auth schemes, which a table states once.

use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use roster_api::koodrive::*;

/// The wire types these routes take and answer.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Envelope,
    Created,
    CreateUserBody,
    ModifyUserInfo,
    UpdateUserBody,
    UserInfo,
    UserList,
    UserCount,
    DepartmentBody,
    DepartmentInfo,
    DepartmentList,
    UserGroupBody,
    UserGroupInfo,
    UserGroupPage,
    UserGroupAnswer,
    MemberInfo,
    MemberPage,
    AmendModRole,
    BatchMembersBody,
    FailedMember,
    BatchOutcome,
    SpaceBody,
    SpaceInfo,
    UserSpaceInfo,
    UserSpaceList,
    DepartmentSpace,
    DepartmentSpaceList,
    CreateGroupSpaceBody,
    GroupSpaceCreated,
    GroupSpace,
    GroupSpaceList,
    TeamSpace,
    TeamSpaceList
)))]
pub struct Schemas;

/// Where an answer's payload sits.
#[derive(Clone, Copy)]
enum Payload {
    /// `{code, msg}` alone.
    None,
    /// `{code, msg, data: <schema>}`.
    Data(&'static str),
    /// `{code, msg, data: [<schema>]}`.
    DataList(&'static str),
    /// `{code, msg, ...<schema>}`: the payload's fields beside `code` and `msg`.
    Flat(&'static str),
}

/// A query (or path) parameter: name, JSON type, meaning.
type Param = (&'static str, &'static str, &'static str);

struct Route {
    method: &'static str,
    /// Under `/koodrive/ose/v1` unless it starts with `/koodrive/`.
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    query: &'static [Param],
    payload: Payload,
}

const DEPT_ID: Param = (
    "deptId",
    "string",
    "A department (`0` or empty: the whole domain).",
);
const IS_DIRECT: Param = (
    "isDirect",
    "boolean",
    "Direct members of the department only (default: its whole subtree).",
);
const OFFSET: Param = ("offset", "integer", "Rows to skip (0..=10000). Required.");
const LIMIT: Param = ("limit", "integer", "Rows to answer (1..=100). Required.");
const KEYWORD: Param = ("keyWord", "string", "A substring of the name.");
const SPACE_TYPE: Param = (
    "type",
    "integer",
    "0 department space, 1 personal space, 2 group space.",
);
const CONTAINER_ID: Param = (
    "containerId",
    "string",
    "The space (drive) id; default: the owner's first space of that type.",
);
const SOURCE_TYPE: Param = ("sourceType", "integer", "The user group's source type.");

const ROUTES: &[Route] = &[
    Route {
        method: "post",
        path: "/users",
        tag: "koodrive_user",
        summary: "Create a user (admin), in a department with a KooDrive role.",
        body: Some("CreateUserBody"),
        query: &[],
        payload: Payload::Data("Created"),
    },
    Route {
        method: "get",
        path: "/users/{userId}",
        tag: "koodrive_user",
        summary: "Read a user: department, role, status (admin).",
        body: None,
        query: &[],
        payload: Payload::Data("UserInfo"),
    },
    Route {
        method: "put",
        path: "/users/{userId}",
        tag: "koodrive_user",
        summary: "Move a user to a department, change its role or status (admin).",
        body: Some("UpdateUserBody"),
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "delete",
        path: "/users/{userId}",
        tag: "koodrive_user",
        summary: "Delete a user and its spaces (admin).",
        body: None,
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "get",
        path: "/userList",
        tag: "koodrive_user",
        summary: "A page of the users of a department (admin).",
        body: None,
        query: &[DEPT_ID, IS_DIRECT, OFFSET, LIMIT, KEYWORD],
        payload: Payload::Flat("UserList"),
    },
    Route {
        method: "get",
        path: "/users/count",
        tag: "koodrive_user",
        summary: "How many users a department has (admin).",
        body: None,
        query: &[DEPT_ID, IS_DIRECT, KEYWORD],
        payload: Payload::Flat("UserCount"),
    },
    Route {
        method: "post",
        path: "/departments",
        tag: "koodrive_department",
        summary: "Create a department (admin): at most 20 characters, 5 levels.",
        body: Some("DepartmentBody"),
        query: &[],
        payload: Payload::Data("Created"),
    },
    Route {
        method: "get",
        path: "/departments/{id}",
        tag: "koodrive_department",
        summary: "Read a department (`0` is the root).",
        body: None,
        query: &[],
        payload: Payload::Flat("DepartmentInfo"),
    },
    Route {
        method: "put",
        path: "/departments/{id}",
        tag: "koodrive_department",
        summary: "Rename and/or move a department (admin).",
        body: Some("DepartmentBody"),
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "delete",
        path: "/departments/{id}",
        tag: "koodrive_department",
        summary: "Delete a department without users or children (admin).",
        body: None,
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "get",
        path: "/departmentList",
        tag: "koodrive_department",
        summary: "The root department, or the direct children of `departmentId`.",
        body: None,
        query: &[
            (
                "departmentId",
                "string",
                "The parent; absent: the root only.",
            ),
            KEYWORD,
        ],
        payload: Payload::Flat("DepartmentList"),
    },
    Route {
        method: "post",
        path: "/usergroups",
        tag: "koodrive_user_group",
        summary: "Create a user group (admin).",
        body: Some("UserGroupBody"),
        query: &[],
        payload: Payload::Flat("Created"),
    },
    Route {
        method: "get",
        path: "/usergroups",
        tag: "koodrive_user_group",
        summary: "A page of the domain's user groups (admin).",
        body: None,
        query: &[
            ("pageSize", "integer", "Groups per page."),
            (
                "pageCursor",
                "string",
                "The `nextCursor` of the previous page; absent: the first.",
            ),
            ("groupName", "string", "A substring of the group's name."),
            SOURCE_TYPE,
        ],
        payload: Payload::Flat("UserGroupPage"),
    },
    Route {
        method: "get",
        path: "/usergroups/{id}",
        tag: "koodrive_user_group",
        summary: "Read a user group (admin).",
        body: None,
        query: &[SOURCE_TYPE],
        payload: Payload::Flat("UserGroupAnswer"),
    },
    Route {
        method: "put",
        path: "/usergroups/{id}",
        tag: "koodrive_user_group",
        summary: "Rename a user group (admin).",
        body: Some("UserGroupBody"),
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "delete",
        path: "/usergroups/{id}",
        tag: "koodrive_user_group",
        summary: "Delete a user group (admin).",
        body: None,
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "delete",
        path: "/usergroup/{id}",
        tag: "koodrive_user_group",
        summary: "Delete a user group (admin): the path of the vendor's example, typo included.",
        body: None,
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "get",
        path: "/usergroups/{id}/members",
        tag: "koodrive_user_group",
        summary: "A page of a user group's direct members (admin).",
        body: None,
        query: &[OFFSET, LIMIT, KEYWORD],
        payload: Payload::Flat("MemberPage"),
    },
    Route {
        method: "post",
        path: "/usergroups/{id}/members/batchAdd",
        tag: "koodrive_user_group",
        summary: "Add up to 100 users to a user group (admin).",
        body: Some("BatchMembersBody"),
        query: &[],
        payload: Payload::Flat("BatchOutcome"),
    },
    Route {
        method: "post",
        path: "/usergroups/{id}/members/batchDelete",
        tag: "koodrive_user_group",
        summary: "Remove up to 100 users from a user group (admin).",
        body: Some("BatchMembersBody"),
        query: &[],
        payload: Payload::Flat("BatchOutcome"),
    },
    Route {
        method: "post",
        path: "/space/{ownerId}",
        tag: "koodrive_space",
        summary: "Create a space for a user, department or user group (admin).",
        body: Some("SpaceBody"),
        query: &[],
        payload: Payload::Data("SpaceInfo"),
    },
    Route {
        method: "get",
        path: "/space/{ownerId}",
        tag: "koodrive_space",
        summary: "Read an owner's space (admin, or the owner for its personal space).",
        body: None,
        query: &[SPACE_TYPE, CONTAINER_ID],
        payload: Payload::Data("SpaceInfo"),
    },
    Route {
        method: "put",
        path: "/space/{ownerId}",
        tag: "koodrive_space",
        summary: "Change a space's capacity or status (admin).",
        body: Some("SpaceBody"),
        query: &[],
        payload: Payload::None,
    },
    Route {
        method: "delete",
        path: "/space/{ownerId}",
        tag: "koodrive_space",
        summary: "Delete a space (admin).",
        body: None,
        query: &[SPACE_TYPE, CONTAINER_ID],
        payload: Payload::None,
    },
    Route {
        method: "get",
        path: "/koodrive/ose/v2/space/{owner_id}",
        tag: "koodrive_space",
        summary: "All spaces of an owner of one type (default 1, personal).",
        body: None,
        query: &[SPACE_TYPE],
        payload: Payload::DataList("SpaceInfo"),
    },
    Route {
        method: "get",
        path: "/space/userList",
        tag: "koodrive_space",
        summary: "A page of users, each with its personal space (admin).",
        body: None,
        query: &[DEPT_ID, IS_DIRECT, OFFSET, LIMIT, KEYWORD],
        payload: Payload::Flat("UserSpaceList"),
    },
    Route {
        method: "post",
        path: "/space/group",
        tag: "koodrive_space",
        summary: "Create a user group of these members with a group space (admin).",
        body: Some("CreateGroupSpaceBody"),
        query: &[],
        payload: Payload::Data("GroupSpaceCreated"),
    },
    Route {
        method: "get",
        path: "/space/groupList",
        tag: "koodrive_space",
        summary: "A page of user groups, each with its group space (admin).",
        body: None,
        query: &[OFFSET, LIMIT, KEYWORD],
        payload: Payload::Flat("GroupSpaceList"),
    },
    Route {
        method: "get",
        path: "/space/teamList",
        tag: "koodrive_space",
        summary:
            "A page of team spaces: departments' (0, admins), or groups one made (1) or joined (2).",
        body: None,
        query: &[
            OFFSET,
            LIMIT,
            KEYWORD,
            (
                "teamType",
                "integer",
                "0 (default) departments, 1 groups one made, 2 groups one joined.",
            ),
        ],
        payload: Payload::Flat("TeamSpaceList"),
    },
    Route {
        method: "get",
        path: "/space/departmentList",
        tag: "koodrive_space",
        summary: "A page of departments, each with its department space (admin).",
        body: None,
        query: &[OFFSET, LIMIT, KEYWORD],
        payload: Payload::Flat("DepartmentSpaceList"),
    },
];

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The success answer's schema: the envelope with the payload where the route puts it.
fn answer_schema(payload: Payload) -> Value {
    let with_data = |data: Value| {
        json!({ "allOf": [
            schema_ref("Envelope"),
            { "type": "object", "required": ["data"], "properties": { "data": data } }
        ] })
    };
    match payload {
        Payload::None => schema_ref("Envelope"),
        Payload::Data(name) => with_data(schema_ref(name)),
        Payload::DataList(name) => with_data(json!({ "type": "array", "items": schema_ref(name) })),
        Payload::Flat(name) => json!({ "allOf": [schema_ref("Envelope"), schema_ref(name)] }),
    }
}

fn full_path(path: &str) -> String {
    if path.starts_with("/koodrive/") {
        path.to_owned()
    } else {
        super::v1(path)
    }
}

/// The `{name}` segments of a path, as path parameters.
fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

fn operation(route: &Route) -> Value {
    let mut parameters = path_params(route.path);
    parameters.extend(route.query.iter().map(|(name, kind, description)| {
        json!({ "name": name, "in": "query", "required": false,
                "description": description, "schema": { "type": kind } })
    }));
    let error = |description: &str| {
        json!({ "description": description,
                "content": { "application/json": { "schema": schema_ref("Envelope") } } })
    };
    let mut operation = json!({
        "tags": [route.tag],
        "summary": route.summary,
        "parameters": parameters,
        "security": [{ "bearer": [] }, { "koodrive_app": [] }],
        "responses": {
            "200": { "description": "`code` 0",
                     "content": { "application/json": { "schema": answer_schema(route.payload) } } },
            "400": error("Refused: `code` says why (13000102 invalid parameter, 13000309 not found, 13000410 no permission, ...; see docs/koodrive.md)"),
            "401": error("No or bad credentials (13900001), signature mismatch (13900002), stale `X-Date` (13900003)"),
        }
    });
    if let Some(body) = route.body {
        operation["requestBody"] = json!({
            "required": false,
            "content": { "application/json": { "schema": schema_ref(body) } }
        });
    }
    operation
}

/// The KooDrive paths of `/openapi.json`, keyed by full path, then method.
pub fn paths() -> Map<String, Value> {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths
            .entry(full_path(route.path))
            .or_insert_with(|| json!({}));
        item[route.method] = operation(route);
    }
    paths
}

/// The tags of the KooDrive operations, with what they share.
pub fn tags() -> Value {
    let note = "KooDrive OSE (`docs/koodrive.md`): answers are `{code, msg}` envelopes; \
                `language: zh-CN` answers `msg` in Chinese; `X-Traceid` is echoed.";
    json!([
        { "name": "koodrive_user", "description": format!("Users. {note}") },
        { "name": "koodrive_department", "description": format!("Departments. {note}") },
        { "name": "koodrive_user_group", "description": format!("User groups. {note}") },
        { "name": "koodrive_space", "description": format!("Spaces (drives). {note}") },
    ])
}
