//! SCIM ↔ Roster, in one place: resource JSON to and from the services' types, a filter to
//! the directory's query, PATCH operations applied to a resource. Everything the face sends
//! to a service is built here, so porting to new service signatures touches this file only.
//!
//! The mapping: `id` = `userName` = the user id (the user's `custom` logon identity, and its
//! PDS `user_name`); `displayName` = `nick_name`; the primary e-mail and phone = `email` and
//! `phone` (each also a logon identity, as in the directory dialects); `active` = not locked;
//! everything else SCIM keeps (`externalId`, `name`, `nickName`, `title`, the Enterprise
//! extension...) is what the provisioning service keeps on the user ([`Provisioned`]).
//! Groups are Roster user groups, with their `externalId` kept the same way; their members
//! are users and the user groups nested under them (a group member = a child in the tree).

use serde_json::{json, Map, Value};

use super::error::ScimError;
use super::filter::{
    attr_path, element_matches, parse_patch_path, AttrPath, CompareOp, Filter, PatchPath,
    ENTERPRISE_URN,
};
use crate::model::{NewUserSpec, User, UserChanges, UserStatus};
use crate::service::directory::{DirectoryQuery, EqualField, TimeColumn, TimeRange};
use crate::service::provisioning::{Provisioned, MAX_DATA, MAX_EXTERNAL_ID};
use crate::time_format::iso8601_ms;
pub use roster_api::MemberType;

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Core User attributes Roster keeps as provisioned attributes, as lower-cased names.
const KEPT_USER_ATTRS: [&str; 10] = [
    "externalid",
    "name",
    "nickname",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "profileurl",
    "addresses",
];
/// Enterprise extension attributes Roster keeps, lower-cased.
const ENTERPRISE_ATTRS: [&str; 6] = [
    "employeenumber",
    "department",
    "manager",
    "costcenter",
    "organization",
    "division",
];
/// Attributes a client may send but never set.
const READ_ONLY: [&str; 3] = ["id", "meta", "groups"];
/// Core User attributes Roster accepts and ignores (they have no place in Roster).
const IGNORED_USER_ATTRS: [&str; 6] = [
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509certificates",
    "schemas",
];

fn lower(value: &str) -> String {
    value.to_ascii_lowercase()
}

/// The JSON with every object key lower-cased (SCIM attribute names are case-insensitive).
pub fn lower_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (lower(&k), lower_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lower_keys).collect()),
        other => other,
    }
}

fn enterprise_key() -> String {
    lower(ENTERPRISE_URN)
}

/// A weak ETag of a resource's last change.
pub fn version(updated_at: i64) -> String {
    format!("W/\"{updated_at}\"")
}

fn meta(kind: &str, location: String, created: i64, updated: i64) -> Value {
    json!({
        "resourceType": kind,
        "created": iso8601_ms(created),
        "lastModified": iso8601_ms(updated),
        "location": location,
        "version": version(updated),
    })
}

/// What a SCIM user says, in Roster's terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScimUser {
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub email_type: String,
    pub phone: String,
    pub phone_type: String,
    pub active: bool,
    pub password: Option<String>,
    /// What Roster keeps as provisioned attributes (lower-cased core names, and the
    /// extension's attributes under `enterprise`), `externalid` among them.
    pub extras: Map<String, Value>,
}

impl ScimUser {
    /// What the provisioning service keeps of this user.
    pub fn provisioned(&self) -> Provisioned {
        let mut data = self.extras.clone();
        let external_id = match data.remove("externalid") {
            Some(Value::String(id)) => id,
            _ => String::new(),
        };
        Provisioned { external_id, data }
    }
}

/// Refuses provisioned attributes Roster would not store, before anything is written.
pub fn check_provisioned(provisioned: &Provisioned) -> Result<(), ScimError> {
    if provisioned.external_id.len() > MAX_EXTERNAL_ID {
        return Err(ScimError::invalid_value(format!(
            "externalId is at most {MAX_EXTERNAL_ID} bytes"
        )));
    }
    if Value::Object(provisioned.data.clone()).to_string().len() > MAX_DATA {
        return Err(ScimError::invalid_value(format!(
            "the attributes Roster keeps take at most {MAX_DATA} bytes"
        )));
    }
    Ok(())
}

fn text_of(value: &Value, name: &str) -> Result<String, ScimError> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.trim().to_owned()),
        _ => Err(ScimError::invalid_value(format!("{name} must be a string"))),
    }
}

fn bool_of(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        // Entra ID sends `"False"` and `"True"` in PATCH values.
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!(
            "{name} must be a boolean"
        ))),
    }
}

/// The primary element of a multi-valued attribute (else the first): `(value, type)`.
fn primary_of(value: Option<&Value>, name: &str) -> Result<(String, String), ScimError> {
    let items = match value {
        None | Some(Value::Null) => return Ok((String::new(), String::new())),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ScimError::invalid_value(format!("{name} must be a list"))),
    };
    let primaries = items
        .iter()
        .filter(|item| item.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "at most one of {name} is primary"
        )));
    }
    let chosen = items
        .iter()
        .find(|item| item.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| items.first());
    let Some(item) = chosen else {
        return Ok((String::new(), String::new()));
    };
    let Some(item) = item.as_object() else {
        return Err(ScimError::invalid_value(format!(
            "each of {name} must be an object"
        )));
    };
    let value = text_of(item.get("value").unwrap_or(&Value::Null), name)?;
    let kind = text_of(item.get("type").unwrap_or(&Value::Null), name)?;
    Ok((value, kind))
}

/// How many e-mails, or phone numbers, one user may have.
const MAX_CONTACTS: usize = 10;

/// Keeps every element of a multi-valued `emails` or `phoneNumbers` that has more than one:
/// Roster's user has one e-mail and one phone (the primary), so the others live with the
/// provisioned attributes, and [`contacts_json`] shows them all again. Each element keeps
/// `value`, `type`, `primary` and `display`.
fn keep_all_contacts(
    extras: &mut Map<String, Value>,
    key: &str,
    value: &Value,
) -> Result<(), ScimError> {
    let Some(items) = value.as_array().filter(|items| items.len() > 1) else {
        return Ok(());
    };
    if items.len() > MAX_CONTACTS {
        return Err(ScimError::invalid_value(format!(
            "a user has at most {MAX_CONTACTS} {key}"
        )));
    }
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        let mut element = Map::new();
        for sub in ["value", "type", "display"] {
            let text = text_of(item.get(sub).unwrap_or(&Value::Null), key)?;
            if !text.is_empty() {
                element.insert(sub.into(), Value::String(text));
            }
        }
        if !element.contains_key("value") {
            return Err(ScimError::invalid_value(format!(
                "each of {key} needs a value"
            )));
        }
        let primary = item.get("primary").map_or(Ok(false), |v| match v {
            Value::Null => Ok(false),
            v => bool_of(v, "primary"),
        })?;
        element.insert("primary".into(), Value::Bool(primary));
        kept.push(Value::Object(element));
    }
    extras.insert(key.into(), Value::Array(kept));
    Ok(())
}

/// A user's `emails` or `phoneNumbers` from the ones kept by [`keep_all_contacts`]: the
/// primary's value is the user's field as it is now (another face may have changed it;
/// cleared, the primary goes). `None` when none were kept.
fn contacts_json(kept: Option<&Value>, current: &str) -> Option<Value> {
    let items = kept?.as_array()?;
    let primary_at = items
        .iter()
        .position(|item| item.get("primary") == Some(&Value::Bool(true)))
        .unwrap_or(0);
    let mut shown = Vec::with_capacity(items.len());
    for (at, item) in items.iter().enumerate() {
        let mut item = item.clone();
        if at == primary_at {
            if current.is_empty() {
                continue;
            }
            item["value"] = json!(current);
        }
        if item.get("type").is_none() {
            item["type"] = json!("work");
        }
        shown.push(item);
    }
    Some(Value::Array(shown))
}

/// Reads a user resource (keys lower-cased by [`lower_keys`]): checks every attribute is one
/// SCIM's User schema or the Enterprise extension defines.
pub fn user_from_json(body: &Value) -> Result<ScimUser, ScimError> {
    let Some(map) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    let mut user = ScimUser {
        active: true,
        ..ScimUser::default()
    };
    let enterprise = enterprise_key();
    for (key, value) in map {
        match key.as_str() {
            "username" => user.user_id = text_of(value, "userName")?,
            "displayname" => user.display_name = text_of(value, "displayName")?,
            "active" => {
                user.active = match value {
                    Value::Null => true,
                    v => bool_of(v, "active")?,
                }
            }
            "password" => {
                let password = text_of(value, "password")?;
                user.password = Some(password).filter(|p| !p.is_empty());
            }
            "emails" => {
                (user.email, user.email_type) = primary_of(Some(value), "emails")?;
                keep_all_contacts(&mut user.extras, "emails", value)?;
            }
            "phonenumbers" => {
                (user.phone, user.phone_type) = primary_of(Some(value), "phoneNumbers")?;
                keep_all_contacts(&mut user.extras, "phonenumbers", value)?;
            }
            "externalid" if !value.is_string() && !value.is_null() => {
                return Err(ScimError::invalid_value("externalId must be a string"))
            }
            k if KEPT_USER_ATTRS.contains(&k) => {
                if !value.is_null() {
                    user.extras.insert(k.to_owned(), value.clone());
                }
            }
            k if k == enterprise => {
                let Some(ext) = value.as_object() else {
                    return Err(ScimError::invalid_value(
                        "the Enterprise User extension must be an object",
                    ));
                };
                let mut kept = Map::new();
                for (name, v) in ext {
                    if name == "schemas" {
                        continue;
                    }
                    if !ENTERPRISE_ATTRS.contains(&name.as_str()) {
                        return Err(ScimError::invalid_value(format!(
                            "the Enterprise User extension has no attribute {name:?}"
                        )));
                    }
                    if !v.is_null() {
                        kept.insert(name.clone(), v.clone());
                    }
                }
                if !kept.is_empty() {
                    user.extras.insert("enterprise".into(), Value::Object(kept));
                }
            }
            k if READ_ONLY.contains(&k) || IGNORED_USER_ATTRS.contains(&k) => {}
            k => {
                return Err(ScimError::invalid_value(format!(
                    "the User schema has no attribute {k:?}"
                )))
            }
        }
    }
    if user.user_id.is_empty() {
        return Err(ScimError::invalid_value("userName is required"));
    }
    if let Some(id) = map.get("id").and_then(Value::as_str) {
        if id != user.user_id {
            return Err(ScimError::mutability(
                "id is the userName in Roster and cannot be chosen",
            ));
        }
    }
    for (key, flag) in [
        ("emails", "emailnotprimary"),
        ("phonenumbers", "phonenotprimary"),
    ] {
        let not_primary = map.get(key).and_then(Value::as_array).is_some_and(|items| {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.get("primary") == Some(&Value::Bool(false)))
        });
        if not_primary {
            user.extras.insert(flag.into(), Value::Bool(true));
        }
    }
    if !user.email_type.is_empty() && user.email_type != "work" {
        user.extras
            .insert("emailtype".into(), Value::String(user.email_type.clone()));
    }
    if !user.phone_type.is_empty() && user.phone_type != "work" {
        user.extras
            .insert("phonetype".into(), Value::String(user.phone_type.clone()));
    }
    Ok(user)
}

fn status_of(active: bool) -> UserStatus {
    if active {
        UserStatus::Enabled
    } else {
        UserStatus::Disabled
    }
}

/// The user to create.
pub fn new_user(user: ScimUser) -> NewUserSpec {
    let non_empty = |s: String| Some(s).filter(|s| !s.is_empty());
    NewUserSpec {
        user_name: Some(user.user_id.clone()),
        user_id: user.user_id,
        nick_name: non_empty(user.display_name),
        email: non_empty(user.email),
        phone: non_empty(user.phone),
        status: Some(status_of(user.active)),
        plain_password: user.password,
        ..NewUserSpec::default()
    }
}

/// The change that makes `current` what `wanted` says (a PUT, or a PATCH's result): only
/// the fields that differ, so a lock is asked for only when `active` changes.
pub fn user_update(current: &User, wanted: ScimUser) -> Result<UserChanges, ScimError> {
    if wanted.user_id != current.user_id {
        return Err(ScimError::mutability(
            "userName is the user's id in Roster and cannot change",
        ));
    }
    let changed = |old: &str, new: String| (old != new).then_some(new);
    let now_active = current.status == UserStatus::Enabled.as_str();
    Ok(UserChanges {
        nick_name: changed(&current.nick_name, wanted.display_name),
        email: changed(&current.email, wanted.email),
        phone: changed(&current.phone, wanted.phone),
        status: (now_active != wanted.active).then_some(status_of(wanted.active)),
        plain_password: wanted.password,
        ..UserChanges::default()
    })
}

/// A user as SCIM answers it; `groups` are `(id, name)` of its user groups, `kept` what the
/// provisioning service keeps on it, `now` tells whether an automatic lock has struck.
pub fn user_json(
    user: &User,
    groups: &[(String, String)],
    kept: Option<&Provisioned>,
    base: &str,
    now: i64,
) -> Value {
    let mut extras = kept.map(|k| k.data.clone()).unwrap_or_default();
    if let Some(kept) = kept.filter(|k| !k.external_id.is_empty()) {
        extras.insert("externalid".into(), json!(kept.external_id));
    }
    let locked = user.locked_at(now);
    let mut out = Map::new();
    let mut schemas = vec![json!(USER_URN)];
    out.insert("id".into(), json!(user.user_id));
    out.insert("userName".into(), json!(user.user_id));
    if !user.nick_name.is_empty() {
        out.insert("displayName".into(), json!(user.nick_name));
    }
    let kind_of = |key: &str| {
        extras
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("work")
            .to_owned()
    };
    if let Some(emails) = contacts_json(extras.get("emails"), &user.email) {
        out.insert("emails".into(), emails);
    } else if !user.email.is_empty() {
        out.insert(
            "emails".into(),
            json!([{"value": user.email, "type": kind_of("emailtype"),
                    "primary": !extras.contains_key("emailnotprimary")}]),
        );
    }
    if let Some(phones) = contacts_json(extras.get("phonenumbers"), &user.phone) {
        out.insert("phoneNumbers".into(), phones);
    } else if !user.phone.is_empty() {
        out.insert(
            "phoneNumbers".into(),
            json!([{"value": user.phone, "type": kind_of("phonetype"),
                    "primary": !extras.contains_key("phonenotprimary")}]),
        );
    }
    out.insert("active".into(), json!(!locked));
    for (name, canonical) in [
        ("externalid", "externalId"),
        ("name", "name"),
        ("nickname", "nickName"),
        ("title", "title"),
        ("usertype", "userType"),
        ("preferredlanguage", "preferredLanguage"),
        ("locale", "locale"),
        ("timezone", "timezone"),
        ("profileurl", "profileUrl"),
        ("addresses", "addresses"),
    ] {
        if let Some(value) = extras.get(name) {
            out.insert(canonical.into(), camel_case(value.clone()));
        }
    }
    if let Some(Value::Object(ext)) = extras.get("enterprise") {
        let mut shown = Map::new();
        for (name, canonical) in [
            ("employeenumber", "employeeNumber"),
            ("department", "department"),
            ("manager", "manager"),
            ("costcenter", "costCenter"),
            ("organization", "organization"),
            ("division", "division"),
        ] {
            if let Some(value) = ext.get(name) {
                shown.insert(canonical.into(), camel_case(value.clone()));
            }
        }
        schemas.push(json!(ENTERPRISE_URN));
        out.insert(ENTERPRISE_URN.into(), Value::Object(shown));
    }
    if !groups.is_empty() {
        let groups: Vec<Value> = groups
            .iter()
            .map(|(id, name)| {
                json!({"value": id, "display": name, "type": "direct",
                       "$ref": format!("{base}/Groups/{id}")})
            })
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert(
        "meta".into(),
        meta(
            "User",
            format!("{base}/Users/{}", user.user_id),
            user.created_at,
            user.updated_at,
        ),
    );
    Value::Object(out)
}

/// The canonical camelCase of the sub-attribute names Roster stores lower-cased.
fn camel_case(value: Value) -> Value {
    const NAMES: [&str; 14] = [
        "formatted",
        "familyName",
        "givenName",
        "middleName",
        "honorificPrefix",
        "honorificSuffix",
        "streetAddress",
        "locality",
        "region",
        "postalCode",
        "country",
        "displayName",
        "value",
        "$ref",
    ];
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let name = NAMES
                        .iter()
                        .find(|n| n.eq_ignore_ascii_case(&k))
                        .map_or(k, |n| (*n).to_owned());
                    (name, camel_case(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case).collect()),
        other => other,
    }
}

/// A group as SCIM answers it.
pub struct ScimGroupView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
    /// Its members (child groups, then users), when asked for.
    pub members: Option<Vec<ShownMember>>,
    pub external_id: &'a str,
}

pub fn group_json(group: &ScimGroupView<'_>, base: &str) -> Value {
    let mut out = json!({
        "schemas": [GROUP_URN],
        "id": group.id,
        "displayName": group.name,
        "meta": meta(
            "Group",
            format!("{base}/Groups/{}", group.id),
            group.created_at,
            group.updated_at,
        ),
    });
    if !group.external_id.is_empty() {
        out["externalId"] = json!(group.external_id);
    }
    if let Some(members) = &group.members {
        out["members"] = members
            .iter()
            .map(|shown| {
                let (kind, endpoint) = match shown.kind {
                    MemberType::User => ("User", "Users"),
                    MemberType::Group => ("Group", "Groups"),
                };
                let mut member = json!({"value": shown.id, "type": kind,
                                        "$ref": format!("{base}/{endpoint}/{}", shown.id)});
                if !shown.display.is_empty() {
                    member["display"] = json!(shown.display);
                }
                member
            })
            .collect();
    }
    out
}

/// A member of a group as shown: a user (display: its nick name) or a nested group (its name).
#[derive(Debug, Clone, PartialEq)]
pub struct ShownMember {
    pub id: String,
    pub display: String,
    pub kind: MemberType,
}

/// A member a request names: its `value`, and its `type` when the request says (`None`: the
/// face looks the id up, a user first).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRef {
    pub id: String,
    pub kind: Option<MemberType>,
}

impl MemberRef {
    pub fn untyped(id: impl Into<String>) -> Self {
        MemberRef {
            id: id.into(),
            kind: None,
        }
    }
}

/// What a group resource says: its name and its members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScimGroup {
    pub display_name: String,
    pub members: Option<Vec<MemberRef>>,
    pub external_id: String,
}

fn member_ids(value: &Value) -> Result<Vec<MemberRef>, ScimError> {
    let items: Vec<&Value> = match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().collect(),
        single @ Value::Object(_) => vec![single],
        _ => return Err(ScimError::invalid_value("members must be a list")),
    };
    let mut ids: Vec<MemberRef> = Vec::new();
    for item in items {
        let kind = match item.get("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) if t.eq_ignore_ascii_case("user") => Some(MemberType::User),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("group") => Some(MemberType::Group),
            Some(_) => {
                return Err(ScimError::invalid_value(
                    "a member's type is \"User\" or \"Group\"",
                ))
            }
        };
        let id = item
            .get("value")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ScimError::invalid_value("each member needs a value"))?;
        if !ids.iter().any(|known| known.id == id) {
            ids.push(MemberRef {
                id: id.to_owned(),
                kind,
            });
        }
    }
    Ok(ids)
}

/// Reads a group resource (keys lower-cased).
pub fn group_from_json(body: &Value, path_id: Option<&str>) -> Result<ScimGroup, ScimError> {
    let Some(map) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    let mut group = ScimGroup::default();
    for (key, value) in map {
        match key.as_str() {
            "displayname" => group.display_name = text_of(value, "displayName")?,
            "members" => group.members = Some(member_ids(value)?),
            "id" => {
                if path_id.is_some_and(|id| Some(id) != value.as_str()) {
                    return Err(ScimError::mutability("id cannot change"));
                }
            }
            "externalid" => group.external_id = text_of(value, "externalId")?,
            "schemas" | "meta" => {}
            k => {
                return Err(ScimError::invalid_value(format!(
                    "the Group schema has no attribute {k:?}"
                )))
            }
        }
    }
    if group.display_name.is_empty() {
        return Err(ScimError::invalid_value("displayName is required"));
    }
    if group.external_id.len() > MAX_EXTERNAL_ID {
        return Err(ScimError::invalid_value(format!(
            "externalId is at most {MAX_EXTERNAL_ID} bytes"
        )));
    }
    Ok(group)
}

/// How a user list is read: the directory query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserListing {
    pub query: DirectoryQuery,
    /// `externalId eq` (one, or several joined by `or`): the face narrows `query.user_ids`
    /// to the users holding any of them.
    pub external_ids: Vec<String>,
}

/// The most conditions one `or` may join (each is an index lookup).
const MAX_OR_BRANCHES: usize = 100;

/// Attributes every user has: `pr` on them holds for all, and needs no index.
const ALWAYS_PRESENT: [&str; 5] = [
    "username",
    "id",
    "active",
    "meta.created",
    "meta.lastmodified",
];

fn unindexed(what: &str) -> ScimError {
    ScimError::invalid_filter(format!(
        "{what}: Roster serves filters from its indexes only (userName eq/sw, displayName \
         eq/sw/co, emails.value eq/sw, externalId eq, active eq/ne, meta.created or \
         meta.lastModified gt/ge/lt/le, an or of userName, id or externalId eq, and their and)"
    ))
}

fn string_value(value: &Value, path: &AttrPath) -> Result<String, ScimError> {
    value
        .as_str()
        .map(str::to_owned)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ScimError::invalid_filter(format!("{} needs a string", path.dotted())))
}

/// The directory query a user filter asks for, or `invalidFilter` when no index serves it.
pub fn user_listing(filter: &Filter) -> Result<UserListing, ScimError> {
    let mut listing = UserListing::default();
    add_condition(&mut listing, filter)?;
    Ok(listing)
}

fn add_condition(listing: &mut UserListing, filter: &Filter) -> Result<(), ScimError> {
    let taken = || ScimError::invalid_filter("one condition per attribute");
    match filter {
        Filter::And(a, b) => {
            add_condition(listing, a)?;
            add_condition(listing, b)
        }
        Filter::Or(..) => add_or_of_exact_ids(listing, filter),
        // `not (active eq x)`: the other value, from the same index.
        Filter::Not(inner) => match inner.as_ref() {
            Filter::Compare(path, CompareOp::Eq, Value::Bool(active))
                if path.dotted() == "active" && !path.enterprise =>
            {
                set_locked(&mut listing.query, *active)
            }
            _ => Err(unindexed("not, but on active eq,")),
        },
        Filter::Present(path)
            if !path.enterprise && ALWAYS_PRESENT.contains(&path.dotted().as_str()) =>
        {
            Ok(())
        }
        Filter::ValuePath(path, inner) if path.dotted() == "emails" => match inner.as_ref() {
            Filter::Compare(sub, op, value) if sub.dotted() == "value" => {
                let rewritten = AttrPath {
                    enterprise: false,
                    name: "emails".into(),
                    sub: Some("value".into()),
                };
                add_condition(listing, &Filter::Compare(rewritten, *op, value.clone()))
            }
            _ => Err(unindexed("this emails filter")),
        },
        Filter::ValuePath(..) | Filter::Present(_) => Err(unindexed("this filter")),
        Filter::Compare(path, op, value) => {
            let known = [
                "username",
                "displayname",
                "emails",
                "emails.value",
                "active",
                "externalid",
                "name.givenname",
                "name.familyname",
                "name.formatted",
                "nickname",
                "meta.lastmodified",
                "meta.created",
                "id",
            ];
            let dotted = path.dotted();
            if path.enterprise || !known.contains(&dotted.as_str()) {
                return Err(ScimError::invalid_filter(format!(
                    "unknown attribute {dotted}"
                )));
            }
            let q = &mut listing.query;
            match (dotted.as_str(), op) {
                ("username" | "id", CompareOp::Eq) => {
                    if !q.user_ids.is_empty() {
                        return Err(taken());
                    }
                    q.user_ids.push(string_value(value, path)?);
                }
                ("username", CompareOp::Sw) => {
                    set_once(&mut q.user_name_prefix, string_value(value, path)?)?;
                }
                ("displayname", CompareOp::Eq | CompareOp::Sw) => {
                    let v = string_value(value, path)?;
                    if *op == CompareOp::Eq {
                        set_exact(q, EqualField::NickName, v)?;
                    } else {
                        set_once(&mut q.nick_name_prefix, v)?;
                    }
                }
                ("displayname", CompareOp::Co) => {
                    set_once(&mut q.nick_name_contains, string_value(value, path)?)?;
                }
                ("emails" | "emails.value", CompareOp::Eq | CompareOp::Sw) => {
                    let v = string_value(value, path)?;
                    if *op == CompareOp::Eq {
                        set_exact(q, EqualField::Email, v)?;
                    } else {
                        set_once(&mut q.email_prefix, v)?;
                    }
                }
                ("externalid", CompareOp::Eq) => {
                    if !listing.external_ids.is_empty() {
                        return Err(taken());
                    }
                    listing.external_ids.push(string_value(value, path)?);
                }
                ("active", CompareOp::Eq | CompareOp::Ne) => {
                    let active = value
                        .as_bool()
                        .ok_or_else(|| ScimError::invalid_filter("active needs true or false"))?;
                    // `active ne x` is `active eq !x`: a boolean has two values.
                    set_locked(
                        q,
                        if *op == CompareOp::Eq {
                            !active
                        } else {
                            active
                        },
                    )?;
                }
                (
                    "meta.created" | "meta.lastmodified",
                    CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le | CompareOp::Eq,
                ) => {
                    let column = if dotted == "meta.created" {
                        TimeColumn::CreatedAt
                    } else {
                        TimeColumn::UpdatedAt
                    };
                    narrow_time(q, column, *op, time_value(value, path)?)?;
                }
                (attr, _) => return Err(unindexed(attr)),
            }
            Ok(())
        }
    }
}

/// A `dateTime` value (RFC 3339) as milliseconds.
fn time_value(value: &Value, path: &AttrPath) -> Result<i64, ScimError> {
    value
        .as_str()
        .and_then(crate::time_format::parse_rfc3339_ms)
        .ok_or_else(|| {
            ScimError::invalid_filter(format!("{} needs an RFC 3339 date", path.dotted()))
        })
}

/// Narrows the query's time range (one time attribute per filter; its bounds may come from
/// several conditions, as `ge` and `lt`). Times are whole milliseconds, so `gt t` is
/// `>= t + 1`.
fn narrow_time(
    q: &mut DirectoryQuery,
    column: TimeColumn,
    op: CompareOp,
    at: i64,
) -> Result<(), ScimError> {
    let range = q.time_range.get_or_insert(TimeRange {
        column,
        from: None,
        until: None,
    });
    if range.column != column {
        return Err(ScimError::invalid_filter(
            "one of meta.created and meta.lastModified per filter",
        ));
    }
    let (from, until) = match op {
        CompareOp::Gt => (Some(at.saturating_add(1)), None),
        CompareOp::Ge => (Some(at), None),
        CompareOp::Lt => (None, Some(at.saturating_sub(1))),
        CompareOp::Le => (None, Some(at)),
        _ => (Some(at), Some(at)),
    };
    if let Some(from) = from {
        range.from = Some(range.from.map_or(from, |had| had.max(from)));
    }
    if let Some(until) = until {
        range.until = Some(range.until.map_or(until, |had| had.min(until)));
    }
    Ok(())
}

fn set_locked(q: &mut DirectoryQuery, locked: bool) -> Result<(), ScimError> {
    if q.locked.replace(locked).is_some() {
        return Err(ScimError::invalid_filter("one condition per attribute"));
    }
    Ok(())
}

/// An `or` Roster serves: of exact ids (`userName eq`, `id eq`) only, or of `externalId eq`
/// only, each an index lookup, at most [`MAX_OR_BRANCHES`]. Anything else would need a
/// scan.
fn add_or_of_exact_ids(listing: &mut UserListing, filter: &Filter) -> Result<(), ScimError> {
    let mut branches = Vec::new();
    or_branches(filter, &mut branches);
    if branches.len() > MAX_OR_BRANCHES {
        return Err(ScimError::bad(
            "tooMany",
            format!("an or joins at most {MAX_OR_BRANCHES} conditions"),
        ));
    }
    let mut ids = Vec::new();
    let mut external_ids = Vec::new();
    for branch in branches {
        match branch {
            Filter::Compare(path, CompareOp::Eq, value) if !path.enterprise => {
                match path.dotted().as_str() {
                    "username" | "id" => ids.push(string_value(value, path)?),
                    "externalid" => external_ids.push(string_value(value, path)?),
                    _ => return Err(unindexed("or, but of userName, id or externalId eq,")),
                }
            }
            _ => return Err(unindexed("or, but of userName, id or externalId eq,")),
        }
    }
    if !ids.is_empty() && !external_ids.is_empty() {
        return Err(unindexed("or mixing ids and externalId"));
    }
    if !listing.query.user_ids.is_empty() || !listing.external_ids.is_empty() {
        return Err(ScimError::invalid_filter("one condition per attribute"));
    }
    ids.sort();
    ids.dedup();
    listing.query.user_ids = ids;
    listing.external_ids = external_ids;
    Ok(())
}

/// The conditions an `or` tree joins.
fn or_branches<'a>(filter: &'a Filter, into: &mut Vec<&'a Filter>) {
    match filter {
        Filter::Or(a, b) => {
            or_branches(a, into);
            or_branches(b, into);
        }
        other => into.push(other),
    }
}

fn set_once(slot: &mut Option<String>, value: String) -> Result<(), ScimError> {
    if slot.replace(value).is_some() {
        return Err(ScimError::invalid_filter("one condition per attribute"));
    }
    Ok(())
}

fn set_exact(q: &mut DirectoryQuery, on: EqualField, value: String) -> Result<(), ScimError> {
    // The page is read in the order of the column matched exactly; another prefix or a
    // second equality would need another order.
    if q.equals.replace((on, value)).is_some() {
        return Err(ScimError::invalid_filter(
            "at most one eq on displayName or emails.value",
        ));
    }
    Ok(())
}

/// What a group filter asks for: `eq` on `displayName` (exact, any case), `id`,
/// `externalId` or `members.value` (also `members[value eq "..."]`), one each, joined by
/// `and`. Each is served by an index: the name's, the id's, the external id's, the member's
/// memberships.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupListing {
    pub name: Option<String>,
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub member: Option<String>,
}

pub fn group_listing(filter: &Filter) -> Result<GroupListing, ScimError> {
    let mut listing = GroupListing::default();
    add_group_condition(&mut listing, filter)?;
    Ok(listing)
}

fn add_group_condition(listing: &mut GroupListing, filter: &Filter) -> Result<(), ScimError> {
    match filter {
        Filter::And(a, b) => {
            add_group_condition(listing, a)?;
            add_group_condition(listing, b)
        }
        Filter::ValuePath(path, inner) if path.dotted() == "members" => match inner.as_ref() {
            Filter::Compare(sub, CompareOp::Eq, value) if sub.dotted() == "value" => {
                let path = AttrPath {
                    enterprise: false,
                    name: "members".into(),
                    sub: Some("value".into()),
                };
                set_once(&mut listing.member, string_value(value, &path)?)
            }
            _ => Err(unindexed_group()),
        },
        Filter::Compare(path, CompareOp::Eq, value) if !path.enterprise => {
            let slot = match path.dotted().as_str() {
                "displayname" => &mut listing.name,
                "id" => &mut listing.id,
                "externalid" => &mut listing.external_id,
                "members.value" | "members" => &mut listing.member,
                other => {
                    return Err(ScimError::invalid_filter(format!(
                        "unknown attribute {other}"
                    )))
                }
            };
            set_once(slot, string_value(value, path)?)
        }
        Filter::Compare(path, ..)
            if ![
                "displayname",
                "members.value",
                "members",
                "externalid",
                "id",
            ]
            .contains(&path.dotted().as_str()) =>
        {
            Err(ScimError::invalid_filter(format!(
                "unknown attribute {}",
                path.dotted()
            )))
        }
        _ => Err(unindexed_group()),
    }
}

fn unindexed_group() -> ScimError {
    ScimError::invalid_filter(
        "Roster serves group filters of eq on displayName, id, externalId and members.value, \
         and their and",
    )
}

/// One PATCH operation, read.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOp,
    pub path: Option<PatchPath>,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Replace,
    Remove,
}

/// Reads a PatchOp request (keys lower-cased).
pub fn patch_operations(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(PATCH_URN))
            })
        });
    if !schemas_ok {
        return Err(ScimError::invalid_value(format!(
            "a PATCH names the schema {PATCH_URN}"
        )));
    }
    let Some(ops) = body.get("operations").and_then(Value::as_array) else {
        return Err(ScimError::invalid_value("Operations must be a list"));
    };
    if ops.is_empty() || ops.len() > super::MAX_OPERATIONS {
        return Err(ScimError::invalid_value(format!(
            "Operations must hold 1 to {} operations",
            super::MAX_OPERATIONS
        )));
    }
    ops.iter()
        .map(|op| {
            let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
            let kind = match lower(name).as_str() {
                "add" => PatchOp::Add,
                "replace" => PatchOp::Replace,
                "remove" => PatchOp::Remove,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "op must be add, replace or remove, not {name:?}"
                    )))
                }
            };
            let mut value = op.get("value").cloned().unwrap_or(Value::Null);
            let path = match op.get("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.is_empty() => None,
                // The extension's whole object: as an operation without a path.
                Some(Value::String(p))
                    if p.eq_ignore_ascii_case(ENTERPRISE_URN) && kind == PatchOp::Remove =>
                {
                    Some(PatchPath {
                        attr: AttrPath {
                            enterprise: false,
                            name: enterprise_key(),
                            sub: None,
                        },
                        filter: None,
                        sub: None,
                    })
                }
                Some(Value::String(p)) if p.eq_ignore_ascii_case(ENTERPRISE_URN) => {
                    let mut object = Map::new();
                    object.insert(enterprise_key(), value);
                    value = Value::Object(object);
                    None
                }
                Some(Value::String(p)) => {
                    Some(parse_patch_path(p).map_err(ScimError::invalid_path)?)
                }
                Some(_) => return Err(ScimError::invalid_path("path must be a string")),
            };
            if path.is_none() && kind == PatchOp::Remove {
                return Err(ScimError::bad("noTarget", "remove needs a path"));
            }
            if path.is_none() && !value.is_object() {
                return Err(ScimError::invalid_value(
                    "an operation without a path takes an object",
                ));
            }
            if kind != PatchOp::Remove && value.is_null() {
                return Err(ScimError::invalid_value("add and replace need a value"));
            }
            Ok(PatchOperation {
                op: kind,
                path,
                value,
            })
        })
        .collect()
}

/// Whether a multi-valued attribute of the User schema.
fn multi_valued(name: &str) -> bool {
    matches!(name, "emails" | "phonenumbers" | "addresses" | "members")
}

fn refuse_read_only(attr: &AttrPath) -> Result<(), ScimError> {
    if !attr.enterprise && READ_ONLY.contains(&attr.name.as_str()) {
        return Err(ScimError::mutability(format!(
            "{} is read-only",
            attr.dotted()
        )));
    }
    Ok(())
}

fn known_user_attr(attr: &AttrPath) -> bool {
    if attr.enterprise {
        return ENTERPRISE_ATTRS.contains(&attr.name.as_str());
    }
    KEPT_USER_ATTRS.contains(&attr.name.as_str())
        || matches!(
            attr.name.as_str(),
            "username" | "displayname" | "active" | "password" | "emails" | "phonenumbers"
        )
        || READ_ONLY.contains(&attr.name.as_str())
}

/// The object an attribute path starts in: the resource, or its extension's object.
fn container<'a>(
    resource: &'a mut Map<String, Value>,
    attr: &AttrPath,
) -> &'a mut Map<String, Value> {
    if !attr.enterprise {
        return resource;
    }
    let slot = resource
        .entry(enterprise_key())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .unwrap_or_else(|| unreachable!("made an object above"))
}

fn merge_value(target: &mut Value, value: Value, op: PatchOp, multi: bool) {
    match (target, value) {
        (Value::Array(items), Value::Array(new)) if op == PatchOp::Add => {
            for item in new {
                let same = |known: &Value| {
                    known.get("value").is_some() && known.get("value") == item.get("value")
                };
                if !items.iter().any(same) {
                    items.push(item);
                }
            }
        }
        (Value::Array(items), single @ Value::Object(_)) if op == PatchOp::Add && multi => {
            items.push(single);
        }
        (Value::Object(map), Value::Object(new)) if op == PatchOp::Add => {
            for (k, v) in new {
                map.insert(k, v);
            }
        }
        (slot, value) => {
            *slot = if multi && value.is_object() {
                Value::Array(vec![value])
            } else {
                value
            }
        }
    }
}

/// Applies one operation to a resource held with lower-cased keys. `known` says which
/// attribute paths the resource has.
pub fn apply_patch(
    resource: &mut Map<String, Value>,
    operation: &PatchOperation,
    known: fn(&AttrPath) -> bool,
) -> Result<(), ScimError> {
    let Some(path) = &operation.path else {
        // No path: each key of the value is an attribute (or the extension's object).
        let Value::Object(values) = &operation.value else {
            return Err(ScimError::invalid_value(
                "an operation without a path takes an object",
            ));
        };
        for (key, value) in values {
            if *key == enterprise_key() {
                let Value::Object(ext) = value else {
                    return Err(ScimError::invalid_value("the extension must be an object"));
                };
                for (name, v) in ext.iter().filter(|(name, _)| *name != "schemas") {
                    let sub = PatchOperation {
                        op: operation.op,
                        path: Some(PatchPath {
                            attr: attr_path(&format!("{ENTERPRISE_URN}:{name}"))
                                .map_err(ScimError::invalid_path)?,
                            filter: None,
                            sub: None,
                        }),
                        value: v.clone(),
                    };
                    apply_patch(resource, &sub, known)?;
                }
                continue;
            }
            let sub = PatchOperation {
                op: operation.op,
                path: Some(parse_patch_path(key).map_err(ScimError::invalid_path)?),
                value: value.clone(),
            };
            apply_patch(resource, &sub, known)?;
        }
        return Ok(());
    };
    let attr = &path.attr;
    if operation.op == PatchOp::Remove && attr.name == enterprise_key() {
        resource.remove(&attr.name);
        return Ok(());
    }
    if !known(attr) {
        return Err(ScimError::invalid_path(format!(
            "no attribute {}",
            attr.dotted()
        )));
    }
    refuse_read_only(attr)?;
    let multi = multi_valued(&attr.name);
    let target = container(resource, attr);
    match (&path.filter, &attr.sub) {
        (None, None) => {
            if operation.op == PatchOp::Remove {
                target.remove(&attr.name);
            } else {
                let slot = target.entry(attr.name.clone()).or_insert(Value::Null);
                if slot.is_null() {
                    *slot = if multi {
                        Value::Array(Vec::new())
                    } else {
                        Value::Null
                    };
                }
                merge_value(slot, operation.value.clone(), operation.op, multi);
            }
        }
        (None, Some(sub)) => {
            if multi {
                return Err(ScimError::invalid_path(format!(
                    "{} is multi-valued: select elements with a filter",
                    attr.name
                )));
            }
            let slot = target
                .entry(attr.name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(object) = slot else {
                return Err(ScimError::invalid_path(format!(
                    "{} has no sub-attributes",
                    attr.name
                )));
            };
            if operation.op == PatchOp::Remove {
                object.remove(sub);
            } else {
                object.insert(sub.clone(), operation.value.clone());
            }
        }
        (Some(filter), _) => {
            if !multi {
                return Err(ScimError::invalid_path(format!(
                    "{} is not multi-valued",
                    attr.name
                )));
            }
            let slot = target
                .entry(attr.name.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(items) = slot else {
                return Err(ScimError::invalid_path(format!(
                    "{} is not a list",
                    attr.name
                )));
            };
            apply_filtered(items, filter, path.sub.as_deref(), operation)?;
        }
    }
    Ok(())
}

fn apply_filtered(
    items: &mut Vec<Value>,
    filter: &Filter,
    sub: Option<&str>,
    operation: &PatchOperation,
) -> Result<(), ScimError> {
    let matched = items.iter().filter(|i| element_matches(i, filter)).count();
    match (operation.op, sub) {
        (PatchOp::Remove, None) => items.retain(|i| !element_matches(i, filter)),
        (PatchOp::Remove, Some(sub)) => {
            for item in items.iter_mut().filter(|i| element_matches(i, filter)) {
                if let Value::Object(map) = item {
                    map.remove(sub);
                }
            }
        }
        (_, Some(sub)) if matched == 0 => {
            // `emails[type eq "work"].value` on a user without one: make the element the
            // filter describes (what Entra ID expects), when the filter is a plain equality.
            let Filter::Compare(key, CompareOp::Eq, wanted) = filter else {
                return Err(ScimError::bad("noTarget", "no element matches the filter"));
            };
            let mut element = Map::new();
            element.insert(key.dotted(), wanted.clone());
            element.insert(sub.to_owned(), operation.value.clone());
            items.push(Value::Object(element));
        }
        (_, Some(sub)) => {
            for item in items.iter_mut().filter(|i| element_matches(i, filter)) {
                if let Value::Object(map) = item {
                    map.insert(sub.to_owned(), operation.value.clone());
                }
            }
        }
        (_, None) if matched == 0 => {
            return Err(ScimError::bad("noTarget", "no element matches the filter"))
        }
        (_, None) => {
            for item in items.iter_mut().filter(|i| element_matches(i, filter)) {
                merge_value(item, operation.value.clone(), PatchOp::Add, false);
            }
        }
    }
    Ok(())
}

/// Applies a PATCH to a user: the user as SCIM shows it, changed, read back.
pub fn patched_user(current: Value, operations: &[PatchOperation]) -> Result<ScimUser, ScimError> {
    let Value::Object(mut resource) = lower_keys(current) else {
        return Err(ScimError::invalid_syntax("not an object"));
    };
    resource.remove("meta");
    resource.remove("groups");
    for operation in operations {
        apply_patch(&mut resource, operation, known_user_attr)?;
    }
    user_from_json(&Value::Object(resource))
}

/// What a PATCH does to a group, in Roster's terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupChanges {
    pub display_name: Option<String>,
    /// Members to add; members to remove.
    pub added: Vec<MemberRef>,
    pub removed: Vec<MemberRef>,
    /// `replace members`: the full new list (the face reads the old one to diff).
    pub replaced: Option<Vec<MemberRef>>,
    /// `remove members` without a filter or a value: every member goes.
    pub remove_all: bool,
    /// A new external id (`""`: removed).
    pub external_id: Option<String>,
}

fn member_value_eq(filter: &Filter) -> Result<MemberRef, ScimError> {
    match filter {
        Filter::Compare(path, CompareOp::Eq, Value::String(id)) if path.dotted() == "value" => {
            Ok(MemberRef::untyped(id.clone()))
        }
        _ => Err(ScimError::invalid_filter(
            "members are selected by value eq \"<user or group id>\"",
        )),
    }
}

/// Reads a group PATCH: renames and member changes (Entra ID and Okta's group push).
pub fn group_changes(operations: &[PatchOperation]) -> Result<GroupChanges, ScimError> {
    let mut changes = GroupChanges::default();
    for operation in operations {
        let Some(path) = &operation.path else {
            let Value::Object(values) = &operation.value else {
                return Err(ScimError::invalid_value(
                    "an operation without a path takes an object",
                ));
            };
            for (key, value) in values {
                let sub = PatchOperation {
                    op: operation.op,
                    path: Some(parse_patch_path(key).map_err(ScimError::invalid_path)?),
                    value: value.clone(),
                };
                let more = group_changes(std::slice::from_ref(&sub))?;
                merge_group_changes(&mut changes, more);
            }
            continue;
        };
        match (path.attr.dotted().as_str(), &path.filter, operation.op) {
            ("displayname", None, PatchOp::Add | PatchOp::Replace) => {
                let name = text_of(&operation.value, "displayName")?;
                if name.is_empty() {
                    return Err(ScimError::invalid_value("displayName cannot be empty"));
                }
                changes.display_name = Some(name);
            }
            ("displayname", _, _) => return Err(ScimError::mutability("displayName is required")),
            ("externalid", None, PatchOp::Remove) => changes.external_id = Some(String::new()),
            ("externalid", None, _) => {
                changes.external_id = Some(text_of(&operation.value, "externalId")?);
            }
            ("members", None, PatchOp::Add) => {
                changes.added.extend(member_ids(&operation.value)?);
            }
            ("members", None, PatchOp::Replace) => {
                changes.replaced = Some(member_ids(&operation.value)?);
                changes.added.clear();
                changes.removed.clear();
                changes.remove_all = false;
            }
            ("members", None, PatchOp::Remove) => {
                if operation.value.is_null() {
                    changes.remove_all = true;
                } else {
                    changes.removed.extend(member_ids(&operation.value)?);
                }
            }
            ("members", Some(filter), PatchOp::Remove) if path.sub.is_none() => {
                changes.removed.push(member_value_eq(filter)?);
            }
            ("members", Some(_), _) => {
                return Err(ScimError::invalid_path(
                    "members[...] takes remove only; add members with path members",
                ))
            }
            ("id" | "meta", _, _) => {
                return Err(ScimError::mutability(format!(
                    "{} is read-only",
                    path.attr.dotted()
                )))
            }
            (other, _, _) => return Err(ScimError::invalid_path(format!("no attribute {other}"))),
        }
    }
    Ok(changes)
}

fn merge_group_changes(into: &mut GroupChanges, more: GroupChanges) {
    if more.display_name.is_some() {
        into.display_name = more.display_name;
    }
    if more.replaced.is_some() {
        into.replaced = more.replaced;
        into.added.clear();
        into.removed.clear();
    }
    into.added.extend(more.added);
    into.removed.extend(more.removed);
    into.remove_all |= more.remove_all;
    if more.external_id.is_some() {
        into.external_id = more.external_id;
    }
}

/// Keeps only the attributes asked for (`attributes`), or drops those not wanted
/// (`excludedAttributes`); `id`, `schemas` and `meta` always stay (RFC 7643 §7 "always").
pub fn project(resource: &mut Value, attributes: &[AttrPath], excluded: &[AttrPath]) {
    let Value::Object(map) = resource else {
        return;
    };
    let always = |key: &str| matches!(key, "id" | "schemas" | "meta");
    let ext = lower(ENTERPRISE_URN);
    if !attributes.is_empty() {
        map.retain(|key, value| {
            let k = lower(key);
            if always(&k) {
                return true;
            }
            if k == ext {
                if let Value::Object(inner) = value {
                    inner.retain(|name, _| {
                        attributes
                            .iter()
                            .any(|a| a.enterprise && a.name == lower(name))
                    });
                    return !inner.is_empty();
                }
            }
            let wanted: Vec<&AttrPath> = attributes
                .iter()
                .filter(|a| !a.enterprise && a.name == k)
                .collect();
            if wanted.is_empty() {
                return false;
            }
            if wanted.iter().all(|a| a.sub.is_some()) {
                keep_subs(value, &wanted);
            }
            true
        });
    }
    for gone in excluded {
        if gone.enterprise {
            if let Some(Value::Object(inner)) = map
                .iter_mut()
                .find(|(k, _)| lower(k) == ext)
                .map(|(_, v)| v)
            {
                inner.retain(|name, _| lower(name) != gone.name);
            }
            continue;
        }
        map.retain(|key, _| always(&lower(key)) || lower(key) != gone.name || gone.sub.is_some());
    }
}

fn keep_subs(value: &mut Value, wanted: &[&AttrPath]) {
    let keep = |map: &mut Map<String, Value>| {
        map.retain(|k, _| wanted.iter().any(|a| a.sub.as_deref() == Some(&lower(k))));
    };
    match value {
        Value::Object(map) => keep(map),
        Value::Array(items) => items.iter_mut().for_each(|i| {
            if let Value::Object(map) = i {
                keep(map);
            }
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::filter::parse_filter;
    use super::*;

    fn listing(text: &str) -> Result<UserListing, ScimError> {
        user_listing(&parse_filter(text).unwrap())
    }

    #[test]
    fn indexed_filters_become_directory_queries() {
        let l = listing(r#"userName eq "bjensen""#).unwrap();
        assert_eq!(l.query.user_ids, vec!["bjensen".to_owned()]);
        let l = listing(r#"displayName co "jen" and active eq false"#).unwrap();
        assert_eq!(l.query.nick_name_contains.as_deref(), Some("jen"));
        assert_eq!(l.query.locked, Some(true));
        let l = listing(r#"emails[value eq "a@b.c"]"#).unwrap();
        assert_eq!(l.query.equals, Some((EqualField::Email, "a@b.c".into())));
        let l = listing(r#"userName eq "b" or (id eq "a" or userName eq "b")"#).unwrap();
        assert_eq!(l.query.user_ids, vec!["a".to_owned(), "b".to_owned()]);
        let l = listing(r#"externalId eq "x" or externalId eq "y""#).unwrap();
        assert_eq!(l.external_ids, vec!["x".to_owned(), "y".to_owned()]);
        assert_eq!(
            listing("not (active eq true)").unwrap().query.locked,
            Some(true)
        );
        assert_eq!(
            listing("active ne false").unwrap().query.locked,
            Some(false)
        );
        assert_eq!(
            listing("userName pr").unwrap().query,
            DirectoryQuery::default()
        );
        let l = listing(
            r#"meta.lastModified gt "2020-01-01T00:00:00Z" and meta.lastModified le "2020-01-01T00:00:01Z""#,
        )
        .unwrap();
        assert_eq!(
            l.query.time_range,
            Some(TimeRange {
                column: TimeColumn::UpdatedAt,
                from: Some(1_577_836_800_001),
                until: Some(1_577_836_801_000),
            })
        );
    }

    #[test]
    fn filters_no_index_serves_are_refused() {
        for text in [
            r#"userName eq "a" or displayName eq "b""#,
            r#"userName eq "a" or externalId eq "b""#,
            r#"not (userName eq "a")"#,
            r#"userName ne "a""#,
            r#"displayName ew "x""#,
            r#"meta.lastModified co "2020""#,
            r#"meta.lastModified gt "yesterday""#,
            r#"meta.lastModified gt "2020-01-01T00:00:00Z" and meta.created lt "2021-01-01T00:00:00Z""#,
            r#"title pr"#,
            r#"userName eq "a" and userName eq "b""#,
        ] {
            assert!(listing(text).is_err(), "{text} was accepted");
        }
        let unknown = listing(r#"shoeSize eq "9""#).unwrap_err();
        assert!(format!("{unknown:?}").contains("unknown attribute"));
    }

    #[test]
    fn patch_sets_value_paths_and_refuses_read_only() {
        let current = json!({"id": "u1", "userName": "u1", "active": true,
            "emails": [{"value": "old@x.org", "type": "work", "primary": true}]});
        let body = lower_keys(json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.org"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "add", "path": "name.givenName", "value": "Barbara"},
            {"op": "add", "value": {format!("{ENTERPRISE_URN}"): {"department": "Tour"}}}
        ]}));
        let ops = patch_operations(&body).unwrap();
        let user = patched_user(current.clone(), &ops).unwrap();
        assert_eq!(user.email, "new@x.org");
        assert!(!user.active);
        assert_eq!(user.extras["name"]["givenname"], "Barbara");
        assert_eq!(user.extras["enterprise"]["department"], "Tour");

        let body = lower_keys(json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": "id", "value": "x"}]}));
        let err = patched_user(current.clone(), &patch_operations(&body).unwrap()).unwrap_err();
        assert!(format!("{err:?}").contains("mutability"));
        let body = lower_keys(json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": "shoeSize", "value": "x"}]}));
        let err = patched_user(current, &patch_operations(&body).unwrap()).unwrap_err();
        assert!(format!("{err:?}").contains("invalidPath"));
    }

    #[test]
    fn group_patches_read_members() {
        let body = lower_keys(json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
            {"op": "Remove", "path": "members[value eq \"u3\"]"},
            {"op": "Replace", "path": "displayName", "value": "Team"}
        ]}));
        let changes = group_changes(&patch_operations(&body).unwrap()).unwrap();
        assert_eq!(
            changes.added,
            vec![MemberRef::untyped("u1"), MemberRef::untyped("u2")]
        );
        assert_eq!(changes.removed, vec![MemberRef::untyped("u3")]);
        assert_eq!(changes.display_name.as_deref(), Some("Team"));
    }

    #[test]
    fn group_members_keep_their_type() {
        let body = lower_keys(json!({"displayName": "B", "members": [
            {"value": "g1", "type": "Group"}, {"value": "u1", "type": "user"}, {"value": "x"}]}));
        let members = group_from_json(&body, None).unwrap().members.unwrap();
        let kinds: Vec<_> = members.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [Some(MemberType::Group), Some(MemberType::User), None]
        );
        let robot = lower_keys(json!({"displayName": "B", "members": [
            {"value": "r", "type": "Robot"}]}));
        let err = group_from_json(&robot, None).unwrap_err();
        assert!(format!("{err:?}").contains("invalidValue"));
    }

    #[test]
    fn unknown_body_attributes_and_id_changes_are_refused() {
        assert!(user_from_json(&lower_keys(json!({"userName": "a", "shoeSize": 9}))).is_err());
        assert!(user_from_json(&lower_keys(json!({"userName": "a", "id": "b"}))).is_err());
        assert!(user_from_json(&lower_keys(json!({"displayName": "a"}))).is_err());
        let ok = user_from_json(&lower_keys(
            json!({"userName": "a", "id": "a", "title": "Boss"}),
        ))
        .unwrap();
        assert_eq!(ok.extras["title"], "Boss");
    }
}
