//! `/openapi.json`, generated from the handlers' annotations and the wire types' schemas, then
//! completed with what applies to every request alike (see [`tighten`]).

use std::sync::OnceLock;

use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::InfoBuilder;
use utoipa::OpenApi;

/// The whole API description (built once): the PDS dialect, the KooDrive routes, the
/// operational endpoints, and how each is authenticated. eds-user's RPC actions share one
/// path, so they have a document of their own ([`super::eds::openapi`]).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = super::pds::openapi();
        doc.merge(super::koodrive::openapi::Schemas::openapi());
        doc.info = InfoBuilder::new()
            .title("Roster")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "User and organization directory with the Alibaba Cloud PDS /v2 API and the \
                 KooDrive OSE API. eds-user's actions: `/openapi/eds-user.json`.",
            ))
            .build();
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A Roster access token (`/v2/oauth/token`). KooDrive also takes the \
                         vendor's `Bearer+<token>`.",
                    ))
                    .build(),
            ),
        );
        // The document is plain data: serialising it cannot fail (and the tests read it).
        let mut doc = serde_json::to_value(doc).unwrap_or_default();
        tighten(&mut doc);
        add_signature_schemes(&mut doc);
        add_paths(&mut doc, super::koodrive::openapi::paths());
        add_paths(&mut doc, operational_paths());
        add_paths(&mut doc, super::signin::openapi_paths());
        add_tags(&mut doc, super::koodrive::openapi::tags());
        doc
    })
}

/// Merges `paths` into the document's.
fn add_paths(doc: &mut Value, paths: Map<String, Value>) {
    if let Some(all) = doc["paths"].as_object_mut() {
        all.extend(paths);
    }
}

fn add_tags(doc: &mut Value, tags: Value) {
    let list = doc
        .as_object_mut()
        .map(|d| d.entry("tags").or_insert_with(|| json!([])));
    if let (Some(Value::Array(list)), Value::Array(tags)) = (list, tags) {
        list.extend(tags);
    }
}

/// The access-key signatures, as `apiKey` schemes (OpenAPI has no HMAC scheme), and the PDS
/// one offered beside the bearer token on every PDS operation that takes a caller: the
/// signature middleware accepts it wherever a token is accepted.
fn add_signature_schemes(doc: &mut Value) {
    if let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        schemes.insert(
            "pds_signature".into(),
            json!({
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "A request signed with an access key (`/v2/access_key/create`), \
                    as Alibaba's PDS SDK signs it, acting as the key's user: \
                    `acs <AccessKeyId>:<base64 HMAC-SHA1>` over the method, `content-md5`, \
                    `content-type`, `date`, the `x-acs-*` headers and the path (the SDK's \
                    default), or `ACS4-HMAC-SHA256 Credential=...,SignedHeaders=...,\
                    Signature=...` (`signature_version='v4'`, which covers the body through \
                    `x-acs-content-sha256`). `date` within 15 minutes; each \
                    `x-acs-signature-nonce` works once. See docs/auth.md."
            }),
        );
        schemes.insert(
            "koodrive_app".into(),
            json!({
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "KooDrive's app signature: `HMAC-SHA256 AppId=<access key id>,\
                    SignedHeaders=host;x-date;x-user-id,Signature=<hex>`, an HMAC-SHA256 with \
                    the access key's secret of `HMAC-SHA256\\n` + hex(SHA-256(canonical \
                    request: method, path with a trailing `/`, sorted query, the signed headers, \
                    SHA-256 of the body)). `X-Date` (`yyyyMMddTHHmmssZ`) at most 15 minutes old; \
                    `X-User-Id` names the acting user. See docs/koodrive.md."
            }),
        );
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (_, item) in paths.iter_mut().filter(|(p, _)| p.starts_with("/v2/")) {
        let operations = item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut());
        for security in operations.filter_map(|op| op.get_mut("security")?.as_array_mut()) {
            if security.contains(&json!({ "bearer": [] })) {
                security.push(json!({ "pds_signature": [] }));
            }
        }
    }
}

/// The public `GET` endpoints every server has, beside the dialects.
pub const OPERATIONAL_PATHS: [&str; 5] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/.well-known/jwks.json",
    "/openapi.json",
];

/// `/healthz`, `/readyz`, `/.well-known/jwks.json`, `/openapi.json`: public, no caller.
fn operational_paths() -> Map<String, Value> {
    let status = json!({
        "type": "object",
        "required": ["status"],
        "properties": { "status": { "type": "string", "enum": ["ok"] } }
    });
    let json_answer = |description: &str, schema: &Value| {
        json!({ "description": description,
                "content": { "application/json": { "schema": schema } } })
    };
    let public_get = |summary: &str, responses: Value| {
        json!({ "get": { "tags": ["server"], "summary": summary, "security": [],
                         "responses": responses } })
    };
    let jwks = json!({
        "type": "object",
        "required": ["keys"],
        "properties": { "keys": { "type": "array", "items": {
            "type": "object",
            "required": ["kty", "kid"],
            "properties": {
                "kty": { "type": "string" }, "crv": { "type": "string" },
                "alg": { "type": "string" }, "use": { "type": "string" },
                "kid": { "type": "string" }, "x": { "type": "string" }
            }
        } } }
    });
    let error = json!({ "$ref": "#/components/schemas/ErrorBody" });
    let mut paths = Map::new();
    paths.insert(
        "/healthz".into(),
        public_get(
            "Liveness: the process answers.",
            json!({ "200": json_answer("Alive", &status) }),
        ),
    );
    paths.insert(
        "/readyz".into(),
        public_get(
            "Readiness: the store answers, its schema is current, the server is not draining.",
            json!({
                "200": json_answer("Ready", &status),
                "503": json_answer(
                    "Not ready: the message names why (`draining` after SIGTERM, \
                     `store_unreachable`, `migrations_pending`)",
                    &error
                ),
            }),
        ),
    );
    paths.insert(
        "/metrics".into(),
        public_get(
            "Prometheus metrics (text exposition format); 404 when `--metrics-listen` \
             serves them on another address.",
            json!({
                "200": { "description": "The metrics",
                         "content": { "text/plain": { "schema": { "type": "string" } } } },
                "404": json_answer("Served on the metrics address instead", &error),
            }),
        ),
    );
    paths.insert(
        "/.well-known/jwks.json".into(),
        public_get(
            "The public keys that verify Roster's access tokens (JWK Set).",
            json!({ "200": json_answer("The key set", &jwks) }),
        ),
    );
    paths.insert(
        "/openapi.json".into(),
        public_get(
            "This document.",
            json!({ "200": json_answer("OpenAPI 3.1", &json!({ "type": "object" })) }),
        ),
    );
    paths
}

pub async fn serve() -> impl IntoResponse {
    Json(document())
}

/// Schemas of JSON request bodies, whose strings the server checks for NUL.
fn is_json_request_schema(name: &str) -> bool {
    (name.ends_with("Request") && name != "TokenRequest")
        || matches!(name, "GroupInfo" | "Identity" | "Punishment")
}

/// What the server enforces on every request, added to the generated schemas:
/// - no string of a JSON body may hold NUL (`InvalidParameter`), so every request string
///   without a pattern of its own gets one that says so;
/// - integers are 64-bit, so unbounded integer fields get the bounds of `i64`;
/// - the rules between fields ([`roster_api::schema::cross_field_rules`]);
/// - a body whose fields are all optional may be left out (it reads as `{}`);
/// - `/v2/oauth/token` is a form, whose fields are strings (a form has no null), and it is
///   the token URL of the OAuth2 password flow.
fn tighten(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        if is_json_request_schema(name) {
            forbid_nul(schema);
            bound_integers(schema);
        }
    }
    if let Some(token) = schemas
        .get_mut("TokenRequest")
        .and_then(Value::as_object_mut)
    {
        if let Some(fields) = token.get_mut("properties").and_then(Value::as_object_mut) {
            for field in fields.values_mut() {
                field["type"] = json!("string");
            }
            fields["grant_type"]["enum"] = json!([
                "password",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:jwt-bearer"
            ]);
        }
        token.insert("required".into(), json!(["grant_type"]));
    }
    for (name, rule) in roster_api::schema::cross_field_rules() {
        if let Some(schema) = schemas.get_mut(name).and_then(Value::as_object_mut) {
            let all_of = schema.entry("allOf").or_insert_with(|| json!([]));
            if let Some(list) = all_of.as_array_mut() {
                list.push(rule);
            }
        }
    }
    let schemas = schemas.clone();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(|p| p.get_mut("post")) {
            optional_body_if_nothing_required(operation, &schemas);
        }
    }
    if let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        schemes.insert(
            "password".into(),
            json!({
                "type": "oauth2",
                "description": "Log in at `/v2/oauth/token`; send the access token as a bearer token.",
                "flows": { "password": { "tokenUrl": "/v2/oauth/token", "scopes": {} } }
            }),
        );
    }
}

fn types_of(schema: &Map<String, Value>) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Adds the no-NUL pattern to every string schema in `schema` that has no pattern, enum,
/// const or format of its own (those exclude NUL already).
fn forbid_nul(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let open_string = types_of(object).contains(&"string")
        && !["pattern", "enum", "const", "format"]
            .iter()
            .any(|k| object.contains_key(*k));
    if open_string {
        object.insert("pattern".into(), json!(roster_api::schema::NO_NUL));
    }
    for key in ["properties"] {
        if let Some(fields) = object.get_mut(key).and_then(Value::as_object_mut) {
            fields.values_mut().for_each(forbid_nul);
        }
    }
    for key in ["items"] {
        if let Some(items) = object.get_mut(key) {
            forbid_nul(items);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = object.get_mut(key).and_then(Value::as_array_mut) {
            list.iter_mut().for_each(forbid_nul);
        }
    }
}

/// Gives every integer schema without bounds those of `i64`.
fn bound_integers(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if types_of(object).contains(&"integer") {
        object.entry("minimum").or_insert(json!(i64::MIN));
        object.entry("maximum").or_insert(json!(i64::MAX));
    }
    if let Some(fields) = object.get_mut("properties").and_then(Value::as_object_mut) {
        fields.values_mut().for_each(bound_integers);
    }
    if let Some(items) = object.get_mut("items") {
        bound_integers(items);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = object.get_mut(key).and_then(Value::as_array_mut) {
            list.iter_mut().for_each(bound_integers);
        }
    }
}

/// The server reads a missing JSON body as `{}`: where that is a valid request, the body is
/// optional.
fn optional_body_if_nothing_required(operation: &mut Value, schemas: &Map<String, Value>) {
    let Some(name) = operation
        .pointer("/requestBody/content/application~1json/schema/$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.rsplit('/').next())
        .map(str::to_owned)
    else {
        return;
    };
    let Some(body) = operation
        .get_mut("requestBody")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let nothing_required = schemas
        .get(&name)
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    body.insert("required".into(), json!(!nothing_required));
}
