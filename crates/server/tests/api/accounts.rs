//! `/v2/account/*` and `/v2/access_key/*` over bearer tokens.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    assert_error, read, spawn_app, NewUser, UserChange, ADMIN_PASSWORD, USER_PASSWORD,
};

#[tokio::test]
async fn accounts_are_linked_found_and_unlinked() {
    let app = spawn_app().await;
    app.by_admin()
        .user(NewUser::new("linda").password(USER_PASSWORD))
        .await;
    let link = json!({"type": "mobile", "identity": "13900001111", "user_id": "linda"});
    let (status, token) = app.admin("/v2/account/link", link.clone()).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["user_id"], "linda");
    assert_eq!(token["token_type"], "Bearer");
    let answer = app.admin("/v2/account/link", link.clone()).await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.Account");

    let (status, info) = app
        .admin(
            "/v2/account/get_link_info",
            json!({"type": "mobile", "identity": "13900001111"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["user_id"], "linda");
    assert_eq!(info["extra"], "86");
    // The linked identity logs in.
    let linda = app.login("13900001111", USER_PASSWORD).await;
    let (status, mine) = app
        .call(
            "/v2/account/get_link_info_by_user_id",
            &linda,
            json!({"user_id": "linda"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let answer = app
        .call(
            "/v2/account/get_link_info_by_user_id",
            &linda,
            json!({"user_id": "admin"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app.call("/v2/account/link", &linda, link.clone()).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");

    let (status, token) = app
        .admin(
            "/v2/account/get_access_token_by_link_info",
            json!({"type": "mobile", "identity": "13900001111"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(token["user_id"], "linda");

    let (status, _) = app.admin("/v2/account/unlink", link.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app.admin("/v2/account/unlink", link).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Account");
    for (body, code) in [
        (
            json!({"type": "pigeon", "identity": "x", "user_id": "linda"}),
            "InvalidParameter",
        ),
        (
            json!({"type": "email", "identity": "not-an-email", "user_id": "linda"}),
            "InvalidParameterWrongFormat",
        ),
        (
            json!({"type": "custom", "user_id": "linda"}),
            "InvalidParameterMissing",
        ),
    ] {
        let answer = app.admin("/v2/account/link", body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    let answer = app
        .admin(
            "/v2/account/link",
            json!({"type": "custom", "identity": "ghost", "user_id": "nobody"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");
}

#[tokio::test]
async fn users_change_their_own_password_with_the_current_one() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("changer", "user").await;
    let answer = app
        .call(
            "/v2/account/change_password",
            &token,
            json!({"old_password": "wrong-password", "new_password": "brand-new-pass"}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterNotMatch");
    let answer = app
        .call(
            "/v2/account/change_password",
            &token,
            json!({"old_password": USER_PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
    let (status, _) = app
        .call(
            "/v2/account/change_password",
            &token,
            json!({"old_password": USER_PASSWORD, "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The change ended the session it was made with.
    let answer = app.call("/v2/user/get", &token, json!({})).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    let token = app.login("changer", "brand-new-pass").await;
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "changer"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An admin may forbid it.
    app.by_admin()
        .update_user(&user_id, UserChange::new().deny_password_change())
        .await;
    let answer = app
        .call(
            "/v2/account/change_password",
            &token,
            json!({"old_password": "brand-new-pass", "new_password": "another-pass-1"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
}

#[tokio::test]
async fn access_keys_are_issued_listed_disabled_and_deleted() {
    let app = spawn_app().await;
    let (status, key) = app
        .admin("/v2/access_key/create", json!({"description": "ci"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let id = key["access_key_id"].as_str().unwrap().to_owned();
    assert_eq!(key["user_id"], "admin");
    assert!(key["access_key_secret"].as_str().unwrap().len() >= 30);
    let (_, got) = app
        .admin("/v2/access_key/get", json!({"access_key_id": id}))
        .await;
    assert!(
        got.get("access_key_secret").is_none(),
        "the secret is shown once"
    );
    let (_, list) = app.admin("/v2/access_key/list", json!({})).await;
    assert_eq!(list["items"][0]["access_key_id"], json!(id));
    let (status, disabled) = app
        .admin(
            "/v2/access_key/update",
            json!({"access_key_id": id, "status": "disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(disabled["status"], "disabled");

    let (_, plain) = app.user_with_role("pat", "user").await;
    let answer = app.call("/v2/access_key/create", &plain, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let (_, admin2) = app.user_with_role("ada", "admin").await;
    let answer = app
        .call(
            "/v2/access_key/create",
            &admin2,
            json!({"user_id": "admin"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .admin("/v2/access_key/create", json!({"user_id": "nobody"}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");

    let (status, _) = app
        .admin("/v2/access_key/delete", json!({"access_key_id": id}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app
        .admin("/v2/access_key/get", json!({"access_key_id": id}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.AccessKey");
    let answer = read(app.post("/v2/access_key/list", None, &json!({})).await).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
}

#[tokio::test]
async fn a_punishment_in_force_blocks_logins_until_it_ends_or_is_cleared() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("rascal", "user").await;
    let set =
        |punishments: serde_json::Value| json!({"user_id": user_id, "punishments": punishments});
    let answer = app.call("/v2/user/update", &token, set(json!([]))).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .admin(
            "/v2/user/update",
            set(
                json!([{"punish_flag": 1, "starts_at": "yesterday", "ends_at": "",
                        "impermanent": false}]),
            ),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterWrongFormat",
    );

    let (status, user) = app
        .admin(
            "/v2/user/update",
            set(
                json!([{"punish_flag": 1, "starts_at": "2020-01-01T00:00:00Z",
                        "ends_at": "2999-01-01T00:00:00Z", "impermanent": true}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["punishments"][0]["punish_flag"], 1);
    let login = [
        ("grant_type", "password"),
        ("username", "rascal"),
        ("password", USER_PASSWORD),
    ];
    let answer = app.token_grant(&login).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");

    // One that has ended no longer blocks; clearing leaves the neutral entry.
    app.admin(
        "/v2/user/update",
        set(
            json!([{"punish_flag": 1, "starts_at": "2020-01-01T00:00:00Z",
                    "ends_at": "2021-01-01T00:00:00Z", "impermanent": true}]),
        ),
    )
    .await;
    let (status, _) = app.token_grant(&login).await;
    assert_eq!(status, StatusCode::OK);
    let (_, user) = app.admin("/v2/user/update", set(json!([]))).await;
    assert_eq!(user["punishments"][0]["punish_flag"], 0);
}

#[tokio::test]
async fn a_user_who_must_change_its_password_can_do_only_that_first() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("newbie", "user").await;
    app.by_admin()
        .update_user(&user_id, UserChange::new().must_change_password())
        .await;
    let token = app.login("newbie", USER_PASSWORD).await;
    let (status, me) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["need_change_password_next_login"], true);
    let answer = app
        .call(
            "/v2/user/update",
            &token,
            json!({"user_id": user_id, "nick_name": "x"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let (status, _) = app
        .call(
            "/v2/account/change_password",
            &token,
            json!({"old_password": USER_PASSWORD, "new_password": "my-own-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A new session, with the new password, may do everything again.
    let token = app.login("newbie", "my-own-password").await;
    let (status, _) = app
        .call(
            "/v2/user/update",
            &token,
            json!({"user_id": user_id, "nick_name": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_admin_cannot_take_a_superadmins_logon_or_keys_away() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role("ada", "admin").await;
    // The superadmin's own key, issued by itself.
    let key_id = app.by_admin().access_key(None).await.id;
    for (path, body) in [
        (
            "/v2/account/unlink",
            json!({"type": "custom", "identity": "admin", "user_id": "admin"}),
        ),
        (
            "/v2/access_key/update",
            json!({"access_key_id": key_id, "status": "disabled"}),
        ),
        ("/v2/access_key/delete", json!({"access_key_id": key_id})),
    ] {
        let answer = app.call(path, &admin, body.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    // All still there: the superadmin logs in, its key is enabled.
    app.login("admin", ADMIN_PASSWORD).await;
    let (_, got) = app
        .admin("/v2/access_key/get", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(got["status"], "enabled", "{got}");
    // Unknown users and keys still answer NotFound.
    let answer = app
        .call(
            "/v2/account/unlink",
            &admin,
            json!({"type": "custom", "identity": "nobody", "user_id": "nobody"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Account");
    let answer = app
        .call(
            "/v2/access_key/delete",
            &admin,
            json!({"access_key_id": "RKNONE"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.AccessKey");
    // The superadmin itself does both.
    let (status, _) = app
        .admin("/v2/access_key/delete", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
