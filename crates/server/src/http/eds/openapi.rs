//! `/openapi/eds-user.json`: eds-user's RPC actions as an OpenAPI document of their own.
//!
//! Every action is `POST /` (or `GET /`) told apart by `Action=`, which OpenAPI cannot key
//! paths by: `/?Action=X` is not a path. Each action is one operation under the path
//! `/#Action=X` (the fragment never reaches the server, so the key stays unique and reads as
//! the call it is), with `Action` and `Version` as fixed query parameters, then the action's
//! own. One operation per action, grouped by area, is what the reference page shows best: an
//! action is found by name, with its parameters and nothing else. The page offers no "Try it
//! out" for this document: the browser would drop the fragment's path and every call needs a
//! signature; the SDKs make the calls (`docs/eds-user.md`).

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use roster_api::eds::EDS_USER_VERSION;

/// A parameter: name (lists as `Key.N`, lists of objects as `Key.N.Field`), kind, required,
/// meaning.
type Param = (&'static str, Kind, bool, &'static str);

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    Boolean,
    /// A JSON object sent as a string ("shrunk" parameters).
    Json,
}

/// One action: name, area (the tag), what it does, its parameters.
type Action = (&'static str, &'static str, &'static str, &'static [Param]);

use Kind::{Boolean, Integer, Json, Text};

const PAGE: [Param; 2] = [
    ("MaxResults", Integer, false, "Rows per page."),
    (
        "NextToken",
        Text,
        false,
        "The `NextToken` of the previous page; absent: the first.",
    ),
];
const USERS: Param = ("Users.N", Text, true, "EndUserIds, at most 100.");

const CATALOG: &[Action] = &[
    ("InitTenantAlias", "Login", "The domain's alias: `Data` is the domain id.", &[]),
    ("CreateUsers", "User", "Create up to 100 users; failures are listed per user.", &[
        ("Users.N.EndUserId", Text, true, "3–24 of `[a-z0-9_]`."),
        ("Users.N.Email", Text, false, "Email or Phone is required."),
        ("Users.N.Phone", Text, false, "Email or Phone is required."),
        ("Users.N.Password", Text, false, "At least 10 characters, 3 of 4 kinds, no spaces."),
        ("Users.N.OwnerType", Text, false, "`Normal` or `CreateFromManager`."),
        ("Users.N.OrgId", Text, false, "The user's organization."),
        ("Users.N.GroupIdList.M", Text, false, "User groups to join."),
        ("Users.N.RealNickName", Text, false, "Display name."),
        ("Users.N.Remark", Text, false, "A note."),
        ("AutoLockTime", Text, false, "`yyyy-MM-dd HH:mm:ss` (UTC): lock the users then."),
        ("IsLocalAdmin", Boolean, false, "Accepted, not kept."),
        ("PasswordExpireDays", Integer, false, "Accepted, not kept."),
    ]),
    ("RemoveUsers", "User", "Remove up to 100 users.", &[USERS]),
    ("ModifyUser", "User", "Change a user's e-mail or phone.", &[
        ("EndUserId", Text, true, "The user."),
        ("Email", Text, false, "New e-mail."),
        ("Phone", Text, false, "New phone."),
    ]),
    ("ResetUserPassword", "User", "Send up to 100 users a password-reset mail.", &[
        USERS,
        ("NotifyType", Integer, false, "1 or 3 (e-mail); 2 (SMS) is not supported."),
    ]),
    ("LockUsers", "User", "Lock up to 100 users (status 9); their sessions end.", &[
        USERS,
        ("LogoutSession", Boolean, false, "Sessions end whatever it says."),
    ]),
    ("UnlockUsers", "User", "Unlock up to 100 users.", &[
        USERS,
        ("AutoLockTime", Text, false, "`yyyy-MM-dd HH:mm:ss` or `yyyy-MM-dd` (UTC, future): lock again then."),
    ]),
    ("DescribeUsers", "User", "A page of users, filtered.", &[
        ("MaxResults", Integer, false, "1–500, default 200."),
        PAGE[1],
        ("Filter", Text, false, "EndUserId or Email, whole value; `*` is a wildcard."),
        ("EndUserIds.N", Text, false, "Only these users."),
        ("ExcludeEndUserIds.N", Text, false, "Not these users."),
        ("OrgId", Text, false, "Users of this organization."),
        ("IsQueryAllSubOrgs", Boolean, false, "With OrgId: its sub-organizations too."),
        ("GroupId", Text, false, "Members of this user group."),
        ("ExcludeGroupId", Text, false, "Not members of this user group."),
        ("Status", Integer, false, "0 normal, 9 locked."),
        ("ShowExtras", Json, false, "`{\"Properties\": true}` adds the users' properties."),
        ("FilterMap", Json, false, "Accepted, ignored."),
    ]),
    ("FilterUsers", "User", "A page of users by owner type, properties and order.", &[
        ("MaxResults", Integer, false, "1–100 (more reads as 100)."),
        PAGE[1],
        ("Filter", Text, false, "EndUserId or Email, whole value; `*` is a wildcard."),
        ("OwnerType", Text, false, "`Normal` or `CreateFromManager`."),
        ("IncludeEndUserIds.N", Text, false, "Only these users."),
        ("ExcludeEndUserIds.N", Text, false, "Not these users."),
        ("PropertyFilterParam.N.PropertyId", Integer, false, "A property..."),
        ("PropertyFilterParam.N.PropertyValueIds", Text, false, "...and its values, comma-separated."),
        ("PropertyKeyValueFilterParam.N.PropertyKey", Text, false, "A property by name..."),
        ("PropertyKeyValueFilterParam.N.PropertyValues", Text, false, "...and its values."),
        ("OrderParam", Json, false, "`{\"OrderField\": ..., \"OrderType\": \"ASC\"|\"DESC\"}` (by EndUserId; default DESC)."),
    ]),
    ("GetManagerInfoByAuthCode", "User", "The admin an authorization code (a Roster access token of an admin) names.", &[
        ("AuthCode", Text, true, "A Roster access token of an admin of the domain."),
    ]),
    ("CreateProperty", "User property", "Create a property with values (at most 10 properties, 50 values each).", &[
        ("PropertyKey", Text, true, "The property's name."),
        ("PropertyValues.N", Text, false, "Its values."),
    ]),
    ("RemoveProperty", "User property", "Remove a property, its values and the users' holds.", &[
        ("PropertyId", Integer, true, "The property."),
    ]),
    ("DeleteUserPropertyValue", "User property", "Take a property value from a user.", &[
        ("UserId", Integer, true, "The user's `Id`."),
        ("PropertyId", Integer, true, "The property."),
        ("PropertyValueId", Integer, true, "The value."),
    ]),
    ("UpdateProperty", "User property", "Rename a property; change values with an id, add those without.", &[
        ("PropertyId", Integer, true, "The property."),
        ("PropertyKey", Text, true, "Its (new) name."),
        ("PropertyValues.N.PropertyValueId", Integer, false, "A value to change (absent: a new value)."),
        ("PropertyValues.N.PropertyValue", Text, false, "The value's text."),
    ]),
    ("SetUserPropertyValue", "User property", "Give a user a property value.", &[
        ("UserId", Integer, true, "The user's `Id`."),
        ("UserName", Text, true, "The user's EndUserId."),
        ("PropertyId", Integer, true, "The property."),
        ("PropertyValueId", Integer, true, "The value."),
    ]),
    ("ListProperty", "User property", "Every property of the domain, with its values.", &[]),
    ("ListPropertyValue", "User property", "The values of a property.", &[
        ("PropertyId", Integer, true, "The property."),
    ]),
    ("CheckUsedProperty", "User property", "How many users hold a property.", &[
        ("PropertyId", Integer, true, "The property."),
    ]),
    ("CheckUsedPropertyValue", "User property", "How many users hold a property value.", &[
        ("PropertyId", Integer, true, "The property."),
        ("PropertyValueId", Integer, true, "The value."),
    ]),
    ("CreateOrg", "Organization", "Create an organization.", &[
        ("OrgName", Text, true, "Its name."),
        ("ParentOrgId", Text, true, "Its parent; `org-aliyun-wy-org-id` is the root."),
    ]),
    ("DescribeOrgs", "Organization", "A page of organizations, with their name paths.", &[
        ("MaxResults", Integer, false, "1–100."),
        PAGE[1],
        ("ParentOrgId", Text, false, "Children of this organization."),
        ("OrgName", Text, false, "A substring of the name."),
        ("IncludeOrgIds.N", Text, false, "Only these organizations."),
        ("ShowExtras", Json, false, "Accepted."),
    ]),
    ("DescribeOrgByLayer", "Organization", "The direct children of an organization, unpaged.", &[
        ("ParentOrgId", Text, false, "The parent; absent: the root."),
        ("OrgName", Text, false, "A substring of the name."),
    ]),
    ("RemoveOrg", "Organization", "Remove an organization without users or children.", &[
        ("OrgId", Text, true, "The organization."),
    ]),
    ("MoveOrg", "Organization", "Move an organization under another (not into its own subtree).", &[
        ("OrgId", Text, true, "The organization."),
        ("NewParentOrgId", Text, true, "Its new parent."),
    ]),
    ("ModifyOrg", "Organization", "Rename an organization.", &[
        ("OrgId", Text, true, "The organization."),
        ("OrgName", Text, true, "Its new name."),
    ]),
    ("MoveUserOrg", "Organization", "Move users into an organization (the root: out of every one).", &[
        ("EndUserIds.N", Text, true, "The users, at most 100."),
        ("OrgId", Text, true, "The organization."),
    ]),
    ("CreateGroup", "User group", "Create a user group.", &[
        ("GroupName", Text, true, "Its name."),
        ("Description", Text, false, "A description."),
        ("ParentGroupId", Text, false, "Refused: user groups are flat."),
    ]),
    ("DescribeGroups", "User group", "A numbered page of user groups.", &[
        ("PageNumber", Integer, false, "From 1."),
        ("PageSize", Integer, false, "At most 100, default 10."),
        ("GroupId", Text, false, "This group."),
        ("GroupName", Text, false, "A substring of the name."),
        ("ExcludeAttachedLoginPolicyGroups", Boolean, false, "Ignored."),
        ("TransferFileNeedApproval", Boolean, false, "Ignored."),
    ]),
    ("UserBatchQuitGroup", "User group", "Take users out of a user group.", &[
        ("GroupId", Text, true, "The group."),
        ("EndUserIds.N", Text, true, "The users."),
    ]),
    ("UserBatchJoinGroup", "User group", "Put users in a user group (all must exist, else nothing changes).", &[
        ("GroupId", Text, true, "The group."),
        ("EndUserIds.N", Text, true, "The users."),
    ]),
    ("RemoveGroup", "User group", "Remove user groups.", &[
        ("GroupId", Text, false, "A group."),
        ("GroupIds.N", Text, false, "More groups."),
    ]),
    ("ModifyGroup", "User group", "Rename a user group.", &[
        ("GroupId", Text, true, "The group."),
        ("NewGroupName", Text, true, "Its new name."),
        ("Description", Text, false, "A description."),
    ]),
    ("DescribeGroupUser", "User group", "A page of a user group's members.", &[
        ("GroupId", Text, true, "The group."),
        ("Filter", Text, false, "A filter on the members."),
        PAGE[0],
        PAGE[1],
    ]),
    ("CreateResourceGroup", "Resource group", "Create a resource group (stored only).", &[
        ("ResourceGroupName", Text, true, "Its name."),
        ("Platform", Text, false, "Kept as given."),
        ("EnableAliyunResourceGroup", Boolean, false, "Accepted."),
    ]),
    ("DeleteResourceGroup", "Resource group", "Delete resource groups: all named, or none.", &[
        ("ResourceGroupId", Text, false, "A resource group."),
        ("ResourceGroupIds.N", Text, false, "More resource groups."),
    ]),
    ("DescribeResourceGroups", "Resource group", "A numbered page of resource groups.", &[
        ("PageNumber", Integer, false, "From 1."),
        ("PageSize", Integer, false, "Rows per page."),
        ("ResourceGroupName", Text, false, "A substring of the name."),
        ("ResourceGroupIds.N", Text, false, "Only these."),
        ("Platform", Text, false, "Only of this platform."),
    ]),
];

/// The OpenAPI path of an action.
pub fn path_of(action: &str) -> String {
    format!("/#Action={action}")
}

fn parameter((name, kind, required, description): &Param) -> Value {
    let schema = match kind {
        Text => json!({ "type": "string" }),
        Integer => json!({ "type": "integer" }),
        Boolean => json!({ "type": "boolean" }),
        Json => json!({ "type": "string", "contentMediaType": "application/json" }),
    };
    let description = if name.contains(".N") {
        format!("{description} A list: `.N` counts from 1.")
    } else {
        (*description).to_owned()
    };
    json!({ "name": name, "in": "query", "required": required,
            "description": description, "schema": schema })
}

fn operation((action, area, summary, params): &Action) -> Value {
    let mut parameters = vec![
        json!({ "name": "Action", "in": "query", "required": true,
                "schema": { "type": "string", "enum": [action], "default": action } }),
        json!({ "name": "Version", "in": "query", "required": true,
                "schema": { "type": "string", "enum": [EDS_USER_VERSION], "default": EDS_USER_VERSION } }),
    ];
    parameters.extend(params.iter().map(parameter));
    let error = json!({ "description": "Refused: `Code` says why (see docs/eds-user.md)",
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/EdsError" } } } });
    json!({ "post": {
        "tags": [area],
        "operationId": action,
        "summary": summary,
        "description": format!("`POST /?Action={action}&Version={EDS_USER_VERSION}&...` (or GET); parameters in the query or a form body."),
        "parameters": parameters,
        "security": [{ "acs_signature": [] }, { "bearer": [] }],
        "responses": {
            "200": { "description": "Done (batch actions list failed users in the answer)",
                     "content": { "application/json": { "schema": { "$ref": "#/components/schemas/EdsAnswer" } } } },
            "4XX": error,
        }
    } })
}

/// The document (built once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let paths: Map<String, Value> = CATALOG
            .iter()
            .map(|action| (path_of(action.0), operation(action)))
            .collect();
        let mut areas: Vec<&str> = CATALOG.iter().map(|a| a.1).collect();
        areas.dedup();
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Roster: eds-user 2021-03-08",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Elastic Desktop Service's user API (`eds-user` 2021-03-08) as Roster serves it: RPC calls on `/`, the action in `Action=` (or `x-acs-action`), PascalCase answers with a `RequestId`. Alibaba's SDK `alibabacloud-eds-user20210308` works unmodified. Each action's path is `/#Action=<name>`: the call is `POST /?Action=<name>&Version=2021-03-08&...`."
            },
            "tags": areas.iter().map(|a| json!({ "name": a })).collect::<Vec<_>>(),
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "acs_signature": {
                        "type": "apiKey", "in": "header", "name": "Authorization",
                        "description": "Signed with an access key (`/v2/access_key/create`), as the SDK signs: `ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=...,Signature=...` (`host` and every `x-acs-*` header signed, `x-acs-content-sha256` the body's), or the legacy RPC signature (`AccessKeyId`, `SignatureMethod=HMAC-SHA1`, `SignatureNonce`, `Timestamp`, `Signature` parameters over all query and form parameters). The signed time within 15 minutes; a nonce works once."
                    },
                    "bearer": {
                        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                        "description": "A Roster access token (`/v2/oauth/token`), as the SDK's `bearer_token` sends it."
                    }
                },
                "schemas": {
                    "EdsAnswer": {
                        "type": "object", "required": ["RequestId"],
                        "properties": { "RequestId": { "type": "string" } },
                        "additionalProperties": true
                    },
                    "EdsError": {
                        "type": "object", "required": ["RequestId", "Code", "Message"],
                        "properties": {
                            "RequestId": { "type": "string" }, "HostId": { "type": "string" },
                            "Code": { "type": "string" }, "Message": { "type": "string" }
                        }
                    }
                }
            }
        })
    })
}

/// The actions the document describes, in its order.
pub fn documented_actions() -> impl Iterator<Item = &'static str> {
    CATALOG.iter().map(|a| a.0)
}

#[cfg(test)]
mod tests {
    use super::super::ACTIONS;
    use super::*;

    #[test]
    fn every_action_served_is_documented_once() {
        let mut documented: Vec<&str> = documented_actions().collect();
        let mut served = ACTIONS.to_vec();
        documented.sort_unstable();
        served.sort_unstable();
        assert_eq!(documented, served);
    }
}
