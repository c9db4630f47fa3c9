//! OpenAPI schemas of the request fields whose rules a plain type does not say: the limits
//! and formats the server enforces, written once so `/openapi.json` states them exactly.
//!
//! Patterns use only `\uHHHH` escapes and explicit character classes, which ECMA-262 (the
//! validators), Python (schemathesis) and Rust's `regex` read alike; `\s` is avoided because
//! the three disagree on what whitespace is. Lengths count Unicode scalar values, as both
//! JSON Schema and the server do.

use serde_json::{json, Value};
use utoipa::openapi::Schema;

/// Largest `user_id` (characters).
pub const MAX_USER_ID: usize = 64;
/// Largest id given by a client (group, drive, client id...): Roster makes 32-character ones.
pub const MAX_ID: usize = 128;
/// Largest name (`nick_name`, `group_name`, `drive_name`...).
pub const MAX_NAME: usize = 128;
pub const MAX_DESCRIPTION: usize = 1024;
/// Largest `user_data`, serialised as JSON.
pub const MAX_USER_DATA: usize = 1024;
pub const MAX_EMAIL: usize = 256;
/// Largest `phone`, `phone_region` and mobile `extra`.
pub const MAX_PHONE: usize = 32;
pub const MAX_IDENTITY: usize = 256;
/// Largest `http(s)://` avatar (characters).
pub const MAX_AVATAR_URL: usize = 4 * 1024;
/// Largest `data:` avatar (characters).
pub const MAX_AVATAR_DATA: usize = 300 * 1024;
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 256;
/// Largest size in bytes (a drive's `total_size`, a domain's `size_quota`): 2^53 - 1, the
/// largest integer every JSON reader holds exactly (8 PiB). The request types state it as
/// the literal `maximum = 9007199254740991`.
pub const MAX_SIZE: i64 = (1 << 53) - 1;
/// Largest opaque token a client hands back (refresh token, reset token): Roster makes
/// 64- and 48-character ones.
pub const MAX_TOKEN: usize = 128;

/// What `char::is_whitespace` calls whitespace, as a character-class body.
pub const WHITESPACE: &str =
    r"\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Any text without NUL (no string of the PDS dialect may hold one).
pub const NO_NUL: &str = r"^[^\u0000]*$";
/// A `user_id`: no `#`; nothing invisible: no control (Cc) or format (Cf) character, no line
/// or paragraph separator (Zl, Zp), no whitespace at either end. (The server also refuses the
/// few format characters outside the BMP, which `\uHHHH` patterns cannot name.)
pub const USER_ID_PATTERN: &str = concat!(
    r"^([^#",
    r"\u0000-\u0020\u007F-\u00A0\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2",
    r"\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u3000\uFEFF",
    r"\uFFF9-\uFFFB",
    r"]([^#",
    r"\u0000-\u001F\u007F-\u009F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2",
    r"\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB",
    r"]*[^#",
    r"\u0000-\u0020\u007F-\u00A0\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2",
    r"\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u3000\uFEFF",
    r"\uFFF9-\uFFFB",
    r"])?)?$"
);
/// A logon identity as it is created (`account/link`, `user/import`): nothing invisible, as
/// [`USER_ID_PATTERN`], but `#` is allowed.
pub const IDENTITY_PATTERN: &str = concat!(
    r"^([^",
    r"\u0000-\u0020\u007F-\u00A0\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2",
    r"\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u3000\uFEFF",
    r"\uFFF9-\uFFFB",
    r"]([^",
    r"\u0000-\u001F\u007F-\u009F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2",
    r"\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB",
    r"]*[^",
    r"\u0000-\u0020\u007F-\u00A0\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2",
    r"\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u3000\uFEFF",
    r"\uFFF9-\uFFFB",
    r"])?)?$"
);
/// A phone number: digits, `+`, `-`, `*`, `(`, `)` and spaces.
pub const PHONE_PATTERN: &str = r"^[0-9+*() \-]*$";

/// The schema a JSON literal of this file spells; the unit test below reads every one, so a
/// malformed literal fails it rather than leaving an empty schema unnoticed.
fn schema(value: Value) -> Schema {
    serde_json::from_value(value).unwrap_or_default()
}

/// An e-mail address: something, `@`, something; no whitespace. `""` is none.
pub fn email_pattern() -> String {
    format!(r"^([^@{WHITESPACE}\u0000]+@[^{WHITESPACE}\u0000]+)?$")
}

/// A chosen `user_id` (create).
pub fn user_id() -> Schema {
    schema(json!({
        "type": "string",
        "description": "1..64 characters; no `#`, no invisible character, no space at either end.",
        "minLength": 1,
        "maxLength": MAX_USER_ID,
        "pattern": USER_ID_PATTERN
    }))
}

/// A chosen `user_id` that may be omitted (import, the first admin of a domain).
pub fn optional_user_id() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "description": "1..64 characters; no `#`, no invisible character, no space at either end.",
        "minLength": 1,
        "maxLength": MAX_USER_ID,
        "pattern": USER_ID_PATTERN
    }))
}

/// A logon identity being created: 1..256 visible characters (its format by type is a
/// cross-field rule, [`cross_field_rules`]).
pub fn new_identity() -> Schema {
    schema(json!({
        "type": "string",
        "description": "1..256 characters; no invisible character, no space at either end. \
                        E-mail identities are stored and compared in lower case.",
        "minLength": 1,
        "maxLength": MAX_IDENTITY,
        "pattern": IDENTITY_PATTERN
    }))
}

/// `limit` of list and search calls: 1..100, default 100, as a JSON number or (as PDS's JS SDK
/// sends it) a decimal string.
pub fn limit() -> Schema {
    schema(json!({
        "description": "Page size: 1..100, default 100. A JSON number, or a decimal string.",
        "anyOf": [
            { "type": "integer", "minimum": 1, "maximum": crate::MAX_LIMIT },
            { "type": "string", "pattern": "^(100|[1-9][0-9]?)$" },
            { "type": "null" }
        ]
    }))
}

/// `limit` of domain list and search calls: 1..100, default 50.
pub fn domain_limit() -> Schema {
    schema(json!({
        "description": "Page size: 1..100, default 50. A JSON number, or a decimal string.",
        "anyOf": [
            { "type": "integer", "minimum": 1, "maximum": crate::MAX_LIMIT },
            { "type": "string", "pattern": "^(100|[1-9][0-9]?)$" },
            { "type": "null" }
        ]
    }))
}

/// `marker`: `""` or omitted for the first page, else a `next_marker` answered before.
pub fn marker() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "description": "Empty or omitted for the first page; otherwise the `next_marker` of \
                        the previous page, unchanged (any other value is refused).",
        "pattern": NO_NUL
    }))
}

/// An optional e-mail address.
pub fn email() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "maxLength": MAX_EMAIL,
        "pattern": email_pattern(),
        "description": "≤256 characters, `local@host`, no whitespace; `\"\"` clears it."
    }))
}

/// An optional phone number.
pub fn phone() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "maxLength": MAX_PHONE,
        "pattern": PHONE_PATTERN,
        "description": "≤32 characters: digits, `+`, `-`, `*`, `(`, `)`, spaces."
    }))
}

/// An optional avatar: an `http(s)://` URL up to 4 Ki characters or a `data:` URI up to 300
/// Ki characters; `""` clears it.
pub fn avatar() -> Schema {
    schema(json!({
        "description": "`http(s)://` URL of at most 4096 characters, or `data:` URI of at most \
                        307200 characters; `\"\"` clears it.",
        "anyOf": [
            { "type": "null" },
            { "type": "string", "maxLength": 0 },
            { "type": "string", "pattern": r"^https?://[^\u0000]*$", "maxLength": MAX_AVATAR_URL },
            { "type": "string", "pattern": r"^data:[^\u0000]*$", "maxLength": MAX_AVATAR_DATA }
        ]
    }))
}

/// An optional password: 8..256 characters.
pub fn password() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "minLength": MIN_PASSWORD,
        "maxLength": MAX_PASSWORD,
        "pattern": NO_NUL
    }))
}

/// A required password: 8..256 characters.
pub fn required_password() -> Schema {
    schema(json!({
        "type": "string",
        "minLength": MIN_PASSWORD,
        "maxLength": MAX_PASSWORD,
        "pattern": NO_NUL
    }))
}

/// `user_data`: any JSON object of at most 1024 characters once serialised.
pub fn user_data() -> Schema {
    schema(json!({
        "type": ["object", "null"],
        "description": "Any JSON object of at most 1024 characters once serialised."
    }))
}

/// A time of a punishment: ISO-8601 (RFC 3339) with its offset, or `""` for open-ended.
pub fn time_or_empty() -> Schema {
    schema(json!({
        "description": "RFC 3339 date-time (`2024-05-01T00:00:00Z`), or `\"\"` for open-ended.",
        "anyOf": [
            { "type": "string", "maxLength": 0 },
            { "type": "string", "format": "date-time" }
        ]
    }))
}

/// A list of ids (group ids), each 1..128 characters.
pub fn id_list() -> Schema {
    schema(json!({
        "type": ["array", "null"],
        "items": { "type": "string", "minLength": 1, "maxLength": MAX_ID, "pattern": NO_NUL }
    }))
}

/// `identity_type` of a role holder.
pub fn identity_type() -> Schema {
    schema(json!({
        "type": "string",
        "enum": ["IT_User", "IT_Group"],
        "description": "`IT_User` (a user id) or `IT_Group` (every member of a group)."
    }))
}

/// `role_id`: PDS defines one role.
pub fn group_admin_role() -> Schema {
    schema(json!({ "type": "string", "enum": ["SystemGroupAdmin"] }))
}

/// `manage_resource_type`: roles manage groups.
pub fn group_resource() -> Schema {
    schema(json!({ "type": "string", "enum": ["RT_Group"] }))
}

/// A field PDS defines that Roster does not support: only `null` (or leaving it out) is
/// accepted.
pub fn not_supported() -> Schema {
    schema(json!({
        "type": "null",
        "description": "Not supported: any value other than null is refused."
    }))
}

/// The signing algorithm of a JWT app.
pub fn algorithm() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "enum": ["RS256", "ES256", null],
        "description": "`RS256` (default) or `ES256`."
    }))
}

/// An optional app type.
pub fn app_type() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "enum": ["ServerSide", "WebServer", "SinglePageApp", "NativeApp", null],
        "description": "`ServerSide` (default: a JWT app), `WebServer`, `SinglePageApp` or `NativeApp`."
    }))
}

/// An optional `enabled` / `disabled`.
pub fn enabled_or_disabled() -> Schema {
    schema(json!({ "type": ["string", "null"], "enum": ["enabled", "disabled", null] }))
}

/// The area of a batch's calls.
pub fn batch_resource() -> Schema {
    schema(json!({
        "type": "string",
        "enum": ["user", "group"],
        "description": "`user` or `group`: the area every sub-request's `url` is in."
    }))
}

/// `grant_type` of the legacy JSON refresh.
pub fn refresh_grant() -> Schema {
    schema(json!({ "type": "string", "enum": ["refresh_token"] }))
}

/// The rules between fields of one request that no field's own schema can say, as
/// `(schema name, rule)`: each rule is added to the `allOf` of that request's schema.
pub fn cross_field_rules() -> Vec<(&'static str, Value)> {
    let identity_by_kind = |kind: &str| {
        json!({
            "description": "An `email` identity is an e-mail address; a `mobile` one a phone \
                            number of at most 32 characters.",
            "anyOf": [
                { "properties": {
                    kind: { "const": "email" },
                    "identity": { "type": "string", "pattern": email_pattern() } } },
                { "properties": {
                    kind: { "const": "mobile" },
                    "identity": { "type": "string", "maxLength": MAX_PHONE, "pattern": PHONE_PATTERN } } },
                { "properties": { kind: { "enum": ["ldap", "custom"] } } }
            ]
        })
    };
    let absent = json!({ "anyOf": [{ "type": "null" }, { "type": "string", "maxLength": 0 }] });
    vec![
        ("ImportUserRequest", identity_by_kind("authentication_type")),
        ("LinkAccountRequest", identity_by_kind("type")),
        ("LinkInfoRequest", identity_by_kind("type")),
        (
            "CreateGroupRequest",
            json!({
                "description": "A root group has no parent.",
                "anyOf": [
                    { "properties": { "is_root": { "enum": [false, null] } } },
                    { "properties": { "parent_group_id": absent } }
                ]
            }),
        ),
        (
            "CreateDriveRequest",
            json!({
                "description": "Only a user-owned drive can be a default drive.",
                "anyOf": [
                    { "properties": { "default": { "enum": [false, null] } } },
                    { "properties": { "owner_type": { "const": "user" } } }
                ]
            }),
        ),
        (
            "ListGroupUserRequest",
            json!({
                "description": "With `group` in `extra_return_info`, `limit` is at most 30 (the \
                                default then).",
                "anyOf": [
                    { "properties": { "extra_return_info": { "anyOf": [
                        { "type": "null" },
                        { "type": "array", "items": { "enum": ["account", "drive"] } }
                    ] } } },
                    { "properties": { "limit": { "anyOf": [
                        { "type": "integer", "minimum": 1, "maximum": 30 },
                        { "type": "string", "pattern": "^(30|[12][0-9]|[1-9])$" },
                        { "type": "null" }
                    ] } } }
                ]
            }),
        ),
        (
            "TokenRequest",
            json!({
                "description": "Each grant with the fields it needs.",
                "anyOf": [
                    { "required": ["username", "password"], "properties": {
                        "grant_type": { "const": "password" },
                        "username": { "minLength": 1 },
                        "password": { "minLength": 1 } } },
                    { "required": ["client_id", "assertion"], "properties": {
                        "grant_type": { "const": "urn:ietf:params:oauth:grant-type:jwt-bearer" },
                        "client_id": { "minLength": 1 },
                        "assertion": { "minLength": 1 } } },
                    { "required": ["refresh_token"], "properties": {
                        "grant_type": { "const": "refresh_token" },
                        "refresh_token": { "minLength": 1 } } }
                ]
            }),
        ),
    ]
}

/// `order_by` of the audit log: PDS's two values, or `""`/omitted for the default (newest
/// first).
pub fn audit_order() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "enum": ["acted_at DESC", "acted_at ASC", "", null]
    }))
}

/// The name of an exported file: one line, 1..1024 characters, no `"`, `\\` or `/` (it goes
/// into a `Content-Disposition` header).
pub fn file_name() -> Schema {
    schema(json!({
        "type": ["string", "null"],
        "minLength": 1,
        "maxLength": 1024,
        "pattern": r#"^[^"\\/\u0000\u000A\u000D]*$"#
    }))
}

/// A KooDrive id: its pages send ids as strings or as numbers alike.
pub fn koodrive_id() -> Schema {
    schema(json!({
        "description": "An id, as a string or a number.",
        "anyOf": [ { "type": "string" }, { "type": "integer" }, { "type": "null" } ]
    }))
}

/// A KooDrive number: an integer or a decimal string.
pub fn koodrive_integer() -> Schema {
    schema(json!({
        "description": "An integer, or a decimal string (digits, no sign, no leading zero).",
        "anyOf": [
            { "type": "integer" },
            { "type": "string", "pattern": "^(0|[1-9][0-9]*)$" },
            { "type": "null" }
        ]
    }))
}

/// `userIds` of the batch calls: ids as strings or numbers.
pub fn koodrive_ids() -> Schema {
    schema(json!({
        "type": ["array", "null"],
        "items": { "anyOf": [ { "type": "string" }, { "type": "integer" } ] }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_literal_is_a_schema() {
        let all = [
            ("user_id", user_id()),
            ("optional_user_id", optional_user_id()),
            ("new_identity", new_identity()),
            ("limit", limit()),
            ("domain_limit", domain_limit()),
            ("marker", marker()),
            ("email", email()),
            ("phone", phone()),
            ("avatar", avatar()),
            ("password", password()),
            ("required_password", required_password()),
            ("user_data", user_data()),
            ("time_or_empty", time_or_empty()),
            ("id_list", id_list()),
            ("identity_type", identity_type()),
            ("group_admin_role", group_admin_role()),
            ("group_resource", group_resource()),
            ("not_supported", not_supported()),
            ("algorithm", algorithm()),
            ("enabled_or_disabled", enabled_or_disabled()),
            ("batch_resource", batch_resource()),
            ("refresh_grant", refresh_grant()),
            ("audit_order", audit_order()),
            ("file_name", file_name()),
            ("koodrive_id", koodrive_id()),
            ("koodrive_integer", koodrive_integer()),
            ("koodrive_ids", koodrive_ids()),
        ];
        for (name, schema) in all {
            assert!(schema != Schema::default(), "{name} is not a valid schema");
        }
    }
}
