//! The server as a whole: health, OpenAPI, unknown routes, body limits, restarts.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    assert_error, read, spawn_app, spawn_with, NewUser, TestStore, ADMIN_PASSWORD,
};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-ca-request-id"));
    let (status, body) = read(app.http.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn openapi_lists_every_user_endpoint() {
    let app = spawn_app().await;
    let (status, doc) = read(app.http.get(app.url("/openapi.json")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/v2/user/create",
        "/v2/user/get",
        "/v2/user/update",
        "/v2/user/delete",
        "/v2/user/list",
        "/v2/user/search",
        "/v2/user/import",
        "/v2/user/general_get",
        "/v2/user/general_search",
        "/v2/oauth/token",
    ] {
        assert!(doc["paths"][path]["post"].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["User"]["properties"]["punishments"].is_object());

    // The limits the server enforces are in the schemas.
    let schemas = &doc["components"]["schemas"];
    let user_id = &schemas["CreateUserRequest"]["properties"]["user_id"];
    assert_eq!(user_id["minLength"], 1);
    assert_eq!(user_id["maxLength"], 64);
    assert!(user_id["pattern"].as_str().unwrap().contains('#'));
    let limit = &schemas["ListUserRequest"]["properties"]["limit"]["anyOf"][0];
    assert_eq!(
        (limit["minimum"].clone(), limit["maximum"].clone()),
        (json!(1), json!(100))
    );
    assert_eq!(
        schemas["GroupIdRequest"]["properties"]["group_id"]["pattern"],
        "^[^\\u0000]*$"
    );
    // A body with nothing required may be left out; one with required fields may not.
    let body_required = |path: &str| doc["paths"][path]["post"]["requestBody"]["required"].clone();
    assert_eq!(body_required("/v2/user/list"), json!(false));
    assert_eq!(body_required("/v2/user/create"), json!(true));
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let app = spawn_app().await;
    let response = app.post("/v2/nothing/here", None, &json!({})).await;
    assert_eq!(response.headers()["x-ca-error-code"], "I404NF");
    assert_error(&read(response).await, StatusCode::NOT_FOUND, "NotFound");
    let response = app
        .http
        .get(app.url("/v2/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_error(&read(response).await, StatusCode::NOT_FOUND, "NotFound");
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused_with_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(1024 * 1024 + 1);
    let answer = app
        .admin(
            "/v2/user/create",
            json!({"user_id": "big", "description": huge}),
        )
        .await;
    assert_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");
}

#[tokio::test]
async fn a_restart_keeps_everything_and_does_not_bootstrap_again() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("kept").nick("Kept")).await;
    let old_token = app.admin_token.clone();
    let store = app.stop().await;

    // Restarted with another admin password in its configuration, which must not be applied:
    // `spawn_with` logs in with the original password, and that must still work.
    let mut config = store.config();
    config.admin_password = Some("another-password".into());
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    let (status, user) = app.admin("/v2/user/get", json!({"user_id": "kept"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["nick_name"], "Kept");
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "another-password"),
        ])
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the admin password was reset"
    );
    // Tokens of the first run still work: the signing key lives in the store.
    let (status, me) = app.call("/v2/user/get", &old_token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], "admin");
    let (_, list) = app.admin("/v2/user/list", json!({})).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    app.stop().await;
}

#[tokio::test]
async fn first_start_without_a_password_writes_a_private_credentials_file() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.admin_password = None;
    let app = roster_server::Application::build(config).await.unwrap();
    let path = store.data_path().join("admin-credentials");
    assert!(matches!(
        app.bootstrap(),
        roster_server::service::bootstrap::Bootstrap::CreatedWithGeneratedPassword(p) if *p == path
    ));
    let text = std::fs::read_to_string(&path).unwrap();
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(app);
    // The generated password logs in; a restart without a password changes nothing.
    let mut config = store.config();
    config.admin_password = None;
    let app = spawn_with(store.clone(), config, &password).await;
    let (status, me) = app.admin("/v2/user/get", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "superadmin");
    app.stop().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}
