//! Hardening: security headers on every answer, CORS off unless configured, and forged
//! access tokens refused (alg none, another key, algorithm confusion, tampered claims).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, read, spawn_app, spawn_with, TestStore, ADMIN_PASSWORD};

#[tokio::test]
async fn a_pds_path_called_with_another_method_is_a_json_405_naming_post() {
    let app = spawn_app().await;
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        // With or without a token: the method is wrong before anything else is.
        for token in [None, Some(app.admin_token.as_str())] {
            let mut request = app.http.request(method.clone(), app.url("/v2/user/get"));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.headers()["allow"], "POST", "{method}");
            assert!(response.headers().contains_key("x-ca-request-id"));
            let answer = read(response).await;
            assert_error(&answer, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
            assert!(answer.1["request_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty()));
        }
    }
    // HEAD gets the status and headers, without a body.
    let response = app.http.head(app.url("/v2/user/get")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");

    // The other dialects keep their own answers: KooDrive's known paths with another method
    // and the eds-user RPC front are not PDS operations.
    let response = app
        .http
        .patch(app.url("/koodrive/ose/v1/users/count"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.http.delete(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// A key made for this test only: not the server's.
const OTHER_ED25519: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINhoYWGizmr2mqdYdVLPZSe7Nbuefr3nSPPVMoQHaUB0\n-----END PRIVATE KEY-----";

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let answers = [
        app.http.get(app.url("/healthz")).send().await.unwrap(),
        app.post("/v2/user/get", None, &json!({})).await,
        app.post("/v2/nowhere", None, &json!({})).await,
        app.post("/v2/user/create", Some(&app.admin_token), &json!({}))
            .await,
        app.post("/v2/user/get", Some(&app.admin_token), &json!({}))
            .await,
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(statuses, [200, 401, 404, 400, 200]);
    for answer in &answers {
        let headers = answer.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
    }
}

async fn preflight(app: &crate::helpers::TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url("/v2/user/get"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_is_off_by_default_and_allows_only_configured_origins() {
    let app = spawn_app().await;
    let answer = preflight(&app, "https://app.example.com").await;
    assert!(answer
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.cors_origins = vec!["https://app.example.com".into()];
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    let answer = preflight(&app, "https://app.example.com").await;
    assert!(answer.status().is_success(), "{}", answer.status());
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let answer = preflight(&app, "https://evil.example.com").await;
    assert!(answer
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    // Simple calls from the allowed origin see the request id.
    let answer = app
        .http
        .post(app.url("/v2/user/get"))
        .header("origin", "https://app.example.com")
        .bearer_auth(&app.admin_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(exposed.contains("x-ca-request-id"), "{exposed}");
}

fn part(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[tokio::test]
async fn forged_access_tokens_are_refused() {
    let app = spawn_app().await;
    let (_, plain) = app.user_with_role("plain", "user").await;
    let segments: Vec<&str> = plain.split('.').collect();
    let header = part(segments[0]);
    let claims = part(segments[1]);
    assert_eq!(header["alg"], "EdDSA");

    let mut forged = Vec::new();
    // alg none, no signature.
    let none = json!({"alg": "none", "typ": "JWT", "kid": header["kid"]});
    forged.push(format!("{}.{}.", encode_part(&none), segments[1]));
    // The plain user's claims made superadmin, its own signature kept.
    let mut elevated = claims.clone();
    elevated["role"] = json!("superadmin");
    forged.push(format!(
        "{}.{}.{}",
        segments[0],
        encode_part(&elevated),
        segments[2]
    ));
    // Signed with another Ed25519 key under the server's kid.
    let mut other = Header::new(Algorithm::EdDSA);
    other.kid = header["kid"].as_str().map(String::from);
    let key = EncodingKey::from_ed_pem(OTHER_ED25519.as_bytes()).unwrap();
    forged.push(encode(&other, &elevated, &key).unwrap());
    // Algorithm confusion: HS256 keyed with the server's public key.
    let (_, jwks) = app.get("/.well-known/jwks.json").await;
    let public_x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = header["kid"].as_str().map(String::from);
    for secret in [
        public_x.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(&public_x).unwrap(),
        serde_json::to_vec(&jwks["keys"][0]).unwrap(),
    ] {
        forged.push(encode(&hs, &elevated, &EncodingKey::from_secret(&secret)).unwrap());
    }
    // Expired (and signed with the wrong key: the server's private key is not at hand).
    let mut expired = claims.clone();
    expired["exp"] = json!(1);
    forged.push(encode(&other, &expired, &key).unwrap());
    // Not a JWT at all.
    forged.push("garbage".into());
    forged.push(format!("{}.{}", segments[0], segments[1]));

    for token in &forged {
        let answer = app.call("/v2/user/list", token, json!({})).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    }
    // The genuine token still works, and only as a plain user.
    let answer = app.call("/v2/user/list", &plain, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
}

#[tokio::test]
async fn a_nul_character_in_a_body_is_a_bad_parameter_on_every_backend() {
    let app = spawn_app().await;
    let answer = app
        .admin("/v2/group/create", json!({"group_name": "a\u{0}b"}))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    let answer = app
        .admin("/v2/user/search", json!({"nick_name_for_fuzzy": "\u{0}"}))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    // Only what is read counts: fields the operation ignores may hold anything, and
    // `user_data` is free-form JSON, stored as JSON text (where NUL is escaped).
    let (status, user) = app
        .admin(
            "/v2/user/create",
            json!({"user_id": "nul", "x\u{0}": ["\u{0}"], "user_data": {"k\u{0}": "v\u{0}"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["user_data"]["k\u{0}"], "v\u{0}");
}

/// Operations any caller may use without a token: logins, token refresh and revocation, and
/// consuming a password-reset token; and the sign-in page (`/v2/oauth/authorize`).
const PUBLIC_OPERATIONS: [&str; 5] = [
    "/v2/oauth/token",
    "/v2/oauth/authorize",
    "/v2/account/token",
    "/v2/account/revoke",
    "/v2/account/reset_password",
];

#[tokio::test]
async fn every_other_operation_in_the_spec_refuses_anonymous_callers() {
    let app = spawn_app().await;
    let (_, spec) = app.get("/openapi.json").await;
    // The PDS operations (KooDrive answers in its own envelope: the permission matrix checks
    // its anonymous column; the operational endpoints are public).
    let operations: Vec<(String, String)> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, _)| path.starts_with("/v2/"))
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("path item").keys();
            methods.map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    assert!(operations.len() > 50, "{operations:?}");
    for (method, path) in operations
        .iter()
        .filter(|(_, p)| !PUBLIC_OPERATIONS.contains(&p.as_str()))
    {
        let answer = app.send(method, path, None, &json!({})).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
        // A token of no known key, or of another shape, is no better than none.
        let answer = app
            .send(method, path, Some("not-a-token"), &json!({}))
            .await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    }
}
