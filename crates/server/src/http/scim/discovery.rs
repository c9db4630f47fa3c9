//! The discovery endpoints (RFC 7644 §4): what Roster's SCIM supports, its resource types
//! and the schemas of the attributes it keeps. Public, as they say nothing of a domain.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::ScimError;
use super::filter::ENTERPRISE_URN;
use super::translate::{GROUP_URN, LIST_URN, USER_URN};
use super::{base_url, scim_json, MAX_COUNT, MAX_USER_COUNT};

const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn meta(kind: &str, location: String) -> Value {
    json!({"resourceType": kind, "location": location})
}

pub async fn service_provider_config(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let body = json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://github.com/roster/roster/blob/main/docs/scim.md",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_USER_COUNT},
        "changePassword": {"supported": true},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": MAX_COUNT,
            // Users' pages reach it; groups' (each with its members) stop at 100, which
            // RFC 9865 allows ("may be further restricted by other criteria").
            "maxPageSize": MAX_USER_COUNT,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An admin's Roster access token",
            "primary": true,
        }],
        "meta": meta("ServiceProviderConfig", format!("{base}/ServiceProviderConfig")),
    });
    scim_json(body).into_response()
}

fn resource_type_list(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_URN],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A Roster user",
            "schema": USER_URN,
            "schemaExtensions": [{"schema": ENTERPRISE_URN, "required": false}],
            "meta": meta("ResourceType", format!("{base}/ResourceTypes/User")),
        }),
        json!({
            "schemas": [RESOURCE_TYPE_URN],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A Roster user group",
            "schema": GROUP_URN,
            "schemaExtensions": [],
            "meta": meta("ResourceType", format!("{base}/ResourceTypes/Group")),
        }),
    ]
}

fn list(resources: Vec<Value>) -> Response {
    let body = json!({
        "schemas": [LIST_URN],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    });
    scim_json(body).into_response()
}

pub async fn resource_types(headers: HeaderMap) -> Response {
    list(resource_type_list(&base_url(&headers)))
}

pub async fn resource_type(headers: HeaderMap, Path(name): Path<String>) -> Response {
    resource_type_list(&base_url(&headers))
        .into_iter()
        .find(|r| r["id"] == name.as_str())
        .map_or_else(
            || ScimError::not_found("no such resource type").into_response(),
            |r| (StatusCode::OK, scim_json(r)).into_response(),
        )
}

/// One attribute definition.
fn attr(name: &str, kind: &str, mutability: &str, extra: Value) -> Value {
    let mut out = json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": name,
        "required": false,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    });
    if let (Value::Object(out), Value::Object(extra)) = (&mut out, extra) {
        out.extend(extra);
    }
    out
}

fn string(name: &str) -> Value {
    attr(name, "string", "readWrite", json!({}))
}

fn multi(name: &str, subs: Vec<Value>, mutability: &str) -> Value {
    attr(
        name,
        "complex",
        mutability,
        json!({"multiValued": true, "subAttributes": subs}),
    )
}

fn schema_list(base: &str) -> Vec<Value> {
    let typed = |types: &[&str]| {
        vec![
            string("value"),
            attr(
                "type",
                "string",
                "readWrite",
                json!({"canonicalValues": types}),
            ),
            attr("primary", "boolean", "readWrite", json!({})),
        ]
    };
    let user = json!({
        "schemas": [SCHEMA_URN],
        "id": USER_URN,
        "name": "User",
        "description": "A Roster user; userName is its id",
        "attributes": [
            attr("userName", "string", "readWrite",
                 json!({"required": true, "uniqueness": "server", "caseExact": true})),
            string("displayName"),
            string("nickName"),
            string("title"),
            string("userType"),
            string("preferredLanguage"),
            string("locale"),
            string("timezone"),
            attr("profileUrl", "reference", "readWrite", json!({"referenceTypes": ["external"]})),
            attr("name", "complex", "readWrite", json!({"subAttributes": [
                string("formatted"), string("familyName"), string("givenName"),
                string("middleName"), string("honorificPrefix"), string("honorificSuffix"),
            ]})),
            attr("active", "boolean", "readWrite", json!({})),
            attr("password", "string", "writeOnly", json!({"returned": "never"})),
            attr("emails", "complex", "readWrite", json!({
                "multiValued": true, "subAttributes": typed(&["work", "home", "other"])})),
            attr("phoneNumbers", "complex", "readWrite", json!({
                "multiValued": true, "subAttributes": typed(&["work", "home", "mobile", "other"])})),
            multi("groups", vec![
                attr("value", "string", "readOnly", json!({})),
                attr("display", "string", "readOnly", json!({})),
                attr("type", "string", "readOnly", json!({})),
                attr("$ref", "reference", "readOnly", json!({"referenceTypes": ["Group"]})),
            ], "readOnly"),
            attr("externalId", "string", "readWrite", json!({"caseExact": true})),
        ],
        "meta": meta("Schema", format!("{base}/Schemas/{USER_URN}")),
    });
    let enterprise = json!({
        "schemas": [SCHEMA_URN],
        "id": ENTERPRISE_URN,
        "name": "EnterpriseUser",
        "description": "Enterprise User",
        "attributes": [
            string("employeeNumber"),
            string("costCenter"),
            string("organization"),
            string("division"),
            string("department"),
            attr("manager", "complex", "readWrite", json!({"subAttributes": [
                attr("value", "string", "readWrite", json!({})),
                attr("displayName", "string", "readOnly", json!({})),
            ]})),
        ],
        "meta": meta("Schema", format!("{base}/Schemas/{ENTERPRISE_URN}")),
    });
    let group = json!({
        "schemas": [SCHEMA_URN],
        "id": GROUP_URN,
        "name": "Group",
        "description": "A Roster user group; members are users",
        "attributes": [
            attr("displayName", "string", "readWrite", json!({"required": true})),
            multi("members", vec![
                attr("value", "string", "immutable", json!({})),
                attr("display", "string", "readOnly", json!({})),
                attr("type", "string", "immutable", json!({"canonicalValues": ["User"]})),
                attr("$ref", "reference", "immutable", json!({"referenceTypes": ["User"]})),
            ], "readWrite"),
        ],
        "meta": meta("Schema", format!("{base}/Schemas/{GROUP_URN}")),
    });
    vec![user, enterprise, group]
}

pub async fn schemas(headers: HeaderMap) -> Response {
    list(schema_list(&base_url(&headers)))
}

pub async fn schema(headers: HeaderMap, Path(urn): Path<String>) -> Response {
    schema_list(&base_url(&headers))
        .into_iter()
        .find(|s| s["id"] == urn.as_str())
        .map_or_else(
            || ScimError::not_found("no such schema").into_response(),
            |s| (StatusCode::OK, scim_json(s)).into_response(),
        )
}
