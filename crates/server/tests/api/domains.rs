//! `/v2/domain/*`: the caller's own domain, its settings and quotas, and who may see or
//! change them.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, read, spawn_app, NewDrive, Quotas};

const GET: &str = "/v2/domain/get";
const UPDATE: &str = "/v2/domain/update";
const GET_QUOTA: &str = "/v2/domain/get_quota";

#[tokio::test]
async fn get_answers_the_pds_domain_object() {
    let app = spawn_app().await;
    let (status, domain) = app.admin(GET, json!({"domain_id": "default"})).await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    assert_eq!(domain["domain_id"], "default");
    assert!(domain["domain_name"].is_string(), "{domain}");
    assert_eq!(domain["description"], "");
    assert_eq!(domain["parent_domain_id"], "");
    assert_eq!(domain["status"], 1);
    assert_eq!(domain["init_drive_enable"], false);
    assert_eq!(domain["init_drive_size"], 0);
    assert_eq!(domain["size_quota"], 0);
    assert_eq!(domain["size_quota_used"], 0);
    assert_eq!(domain["used_size"], 0);
    assert_eq!(domain["user_count_quota"], 0);
    assert_eq!(domain["data_hash_name"], "sha1");
    assert!(domain["store_redundancy_type"].is_string());
    assert!(domain["sharable"].is_boolean());
    assert!(domain["published_app_access_strategy"]["effect"].is_string());
    for key in ["created_at", "updated_at"] {
        let t = domain[key].as_str().unwrap();
        assert!(t.len() == 24 && t.ends_with('Z') && t.contains('T'), "{t}");
    }
    // `fields` is accepted.
    let (status, _) = app
        .admin(GET, json!({"domain_id": "default", "fields": "*"}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_endpoint_needs_a_valid_token() {
    let app = spawn_app().await;
    for path in [GET, UPDATE, GET_QUOTA] {
        let body = json!({"domain_id": "default"});
        let answer = read(app.post(path, None, &body).await).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
        let answer = app.call(path, "bogus", body).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    }
}

#[tokio::test]
async fn users_read_nothing_admins_read_and_only_superadmins_change() {
    let app = spawn_app().await;
    let (_, user) = app.user_with_role("jo", "user").await;
    let (_, admin) = app.user_with_role("kim", "admin").await;
    let get = json!({"domain_id": "default"});
    let update = json!({"domain_id": "default", "description": "x"});
    for (path, body) in [(GET, &get), (UPDATE, &update), (GET_QUOTA, &get)] {
        let answer = app.call(path, &user, body.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    let (status, body) = app.call(GET, &admin, get.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.call(GET_QUOTA, &admin, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = app.call(UPDATE, &admin, update.clone()).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");

    // A domain the caller does not manage is not found, whether or not it exists.
    for path in [GET, UPDATE] {
        let answer = app.admin(path, json!({"domain_id": "elsewhere"})).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Domain");
        let answer = app.admin(path, json!({})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterMissing");
        let answer = app.admin(path, json!({"domain_id": 7})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    }
}

#[tokio::test]
async fn update_changes_the_settings_given_and_checks_them() {
    let app = spawn_app().await;
    let (status, before) = app.admin(GET, json!({"domain_id": "default"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, updated) = app
        .admin(
            UPDATE,
            json!({"domain_id": "default", "domain_name": "Acme", "description": "our files",
                   "init_drive_enable": true, "init_drive_size": -1, "size_quota": 1_000_000,
                   "user_count_quota": 50}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["domain_name"], "Acme");
    assert_eq!(updated["description"], "our files");
    assert_eq!(updated["init_drive_enable"], true);
    assert_eq!(updated["init_drive_size"], -1);
    assert_eq!(updated["size_quota"], 1_000_000);
    assert_eq!(updated["user_count_quota"], 50);
    assert_eq!(updated["created_at"], before["created_at"]);
    let (_, got) = app.admin(GET, json!({"domain_id": "default"})).await;
    assert_eq!(got, updated);

    // Only what is given changes.
    let (status, updated) = app
        .admin(
            UPDATE,
            json!({"domain_id": "default", "init_drive_size": 4096}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["domain_name"], "Acme");
    assert_eq!(updated["init_drive_size"], 4096);
    assert_eq!(updated["size_quota"], 1_000_000);

    for (field, value, code) in [
        (
            "domain_name",
            json!("n".repeat(129)),
            "InvalidParameterOutOfRange",
        ),
        ("domain_name", json!(""), "InvalidParameterEmpty"),
        (
            "description",
            json!("d".repeat(1025)),
            "InvalidParameterOutOfRange",
        ),
        ("init_drive_size", json!(-2), "InvalidParameterOutOfRange"),
        ("size_quota", json!(-1), "InvalidParameterOutOfRange"),
        ("user_count_quota", json!(-1), "InvalidParameterOutOfRange"),
        ("size_quota", json!("lots"), "InvalidParameter"),
        ("init_drive_enable", json!("yes"), "InvalidParameter"),
        (
            "published_app_access_strategy",
            json!({"effect": "deny"}),
            "InvalidParameterNotSupported",
        ),
    ] {
        let mut body = json!({"domain_id": "default"});
        body[field] = value;
        let answer = app.admin(UPDATE, body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    let (_, got) = app.admin(GET, json!({"domain_id": "default"})).await;
    assert_eq!(got["init_drive_size"], 4096);
}

#[tokio::test]
async fn quota_usage_counts_limited_drives_and_users() {
    let app = spawn_app().await;
    app.user_with_role("lee", "user").await;
    app.user_with_role("max", "user").await;
    for (name, size) in [("a", 100), ("b", 250), ("c", -1)] {
        app.by_admin()
            .drive(NewDrive::of_user("admin", name).size(size))
            .await;
    }
    let (status, quota) = app.admin(GET_QUOTA, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{quota}");
    assert_eq!(
        quota,
        json!({"size_quota": 0, "size_used": 350, "user_count_quota": 0, "user_count_used": 3})
    );
    let (_, domain) = app
        .admin(GET, json!({"domain_id": "default", "get_quota_used": true}))
        .await;
    assert_eq!(domain["size_quota_used"], 350);
    assert_eq!(domain["used_size"], 0);
    let (_, domain) = app.admin(GET, json!({"domain_id": "default"})).await;
    assert_eq!(domain["size_quota_used"], 0);

    let quotas = Quotas {
        size: Some(5000),
        users: Some(10),
    };
    app.by_admin().set_quotas(Some("default"), quotas).await;
    let (_, quota) = app.admin(GET_QUOTA, json!({})).await;
    assert_eq!(quota["size_quota"], 5000);
    assert_eq!(quota["user_count_quota"], 10);
}
