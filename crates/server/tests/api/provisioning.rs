//! Where users, groups, drives and domain settings meet: default drives made with a user in
//! one transaction, quotas that refuse and leave nothing behind, drives that go with owners.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, NewUser, TestApp};

async fn set_domain(app: &TestApp, settings: Value) {
    let mut body = settings;
    body["domain_id"] = json!("default");
    let (status, answer) = app.admin("/v2/domain/update", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn user_count(app: &TestApp) -> usize {
    let (_, list) = app.admin("/v2/user/list", json!({})).await;
    list["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn import_with_auto_create_drive_makes_the_default_drive() {
    let app = spawn_app().await;
    let (status, user) = app
        .admin(
            "/v2/user/import",
            json!({"authentication_type": "email", "identity": "d@example.com",
                   "nick_name": "D", "auto_create_drive": true,
                   "drive_total_size": 1_073_741_824i64}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let drive_id = user["default_drive_id"].as_str().unwrap();
    assert_eq!(drive_id.len(), 32);
    let (status, drive) = app
        .admin(
            "/v2/drive/get_default_drive",
            json!({"user_id": user["user_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{drive}");
    assert_eq!(drive["drive_id"], drive_id);
    assert_eq!(drive["total_size"], 1_073_741_824i64);
    assert_eq!(drive["owner"], user["user_id"]);
    let (_, extra) = app
        .admin(
            "/v2/user/general_get",
            json!({"user_id": user["user_id"], "extra_return_info": ["drive"]}),
        )
        .await;
    assert_eq!(extra["default_drive"]["drive_id"], drive_id);

    // Deleting the default drive clears the user's default_drive_id.
    let (status, _) = app
        .admin("/v2/drive/delete", json!({"drive_id": drive_id}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, user) = app
        .admin("/v2/user/get", json!({"user_id": user["user_id"]}))
        .await;
    assert_eq!(user["default_drive_id"], "");
}

#[tokio::test]
async fn init_drive_enable_gives_every_new_user_a_default_drive() {
    let app = spawn_app().await;
    set_domain(
        &app,
        json!({"init_drive_enable": true, "init_drive_size": 5000}),
    )
    .await;
    let (status, user) = app
        .admin("/v2/user/create", json!({"user_id": "with-drive"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (_, drive) = app
        .admin(
            "/v2/drive/get",
            json!({"drive_id": user["default_drive_id"]}),
        )
        .await;
    assert_eq!(drive["total_size"], 5000);
    assert_eq!(drive["owner"], "with-drive");
    // An imported user gets one too, and reads it as its own.
    let (_, token) = app.user_with_role("own-drive", "user").await;
    let (status, mine) = app
        .call("/v2/drive/get_default_drive", &token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["total_size"], 5000);
}

#[tokio::test]
async fn user_count_quota_refuses_create_and_import_and_writes_nothing() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("one")).await;
    set_domain(&app, json!({"user_count_quota": 2})).await;
    let answer = app
        .admin("/v2/user/create", json!({"user_id": "two"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    let answer = app
        .admin(
            "/v2/user/import",
            json!({"authentication_type": "custom", "identity": "three", "nick_name": "3"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    assert_eq!(user_count(&app).await, 2);
    // The account of the refused import was not kept either.
    set_domain(&app, json!({"user_count_quota": 0})).await;
    let (status, body) = app
        .admin(
            "/v2/user/import",
            json!({"authentication_type": "custom", "identity": "three", "nick_name": "3"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn size_quota_refuses_a_users_drive_and_the_user_with_it() {
    let app = spawn_app().await;
    set_domain(&app, json!({"size_quota": 1000})).await;
    let answer = app
        .admin(
            "/v2/user/import",
            json!({"authentication_type": "custom", "identity": "big", "nick_name": "Big",
                   "auto_create_drive": true, "drive_total_size": 2000}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    assert_eq!(user_count(&app).await, 1, "no half-made user");
    let (status, _) = app
        .admin(
            "/v2/user/import",
            json!({"authentication_type": "custom", "identity": "big", "nick_name": "Big",
                   "auto_create_drive": true, "drive_total_size": 1000}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn drives_go_with_their_user_or_group() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("leaver")).await;
    let (_, group) = app
        .admin("/v2/group/create", json!({"group_name": "gone"}))
        .await;
    let mut drives = Vec::new();
    for (owner, owner_type) in [
        ("leaver", "user"),
        (group["group_id"].as_str().unwrap(), "group"),
    ] {
        let (status, drive) = app
            .admin(
                "/v2/drive/create",
                json!({"drive_name": "d", "owner": owner, "owner_type": owner_type}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{drive}");
        drives.push(drive["drive_id"].clone());
    }
    app.admin("/v2/user/delete", json!({"user_id": "leaver"}))
        .await;
    app.admin("/v2/group/delete", json!({"group_id": group["group_id"]}))
        .await;
    for drive_id in drives {
        let answer = app
            .admin("/v2/drive/get", json!({"drive_id": drive_id}))
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Drive");
    }
}
