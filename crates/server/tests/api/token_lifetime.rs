//! Token lifetime (issue 17): what ends a user's sessions (access and refresh tokens alike),
//! refresh-token families, tokens taken for someone else, tokens of deleted users and apps,
//! the must-change-password flag in every dialect, and one lockout for every password check.

use base64::Engine;
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::apps::{assertion, exchange, EC_PRIVATE, EC_PUBLIC};
use crate::eds::assert_eds_error;
use crate::helpers::{
    assert_error, read, spawn_app, NewDomain, NewUser, Role, TestApp, UserChange, USER_PASSWORD,
};
use crate::koodrive::{assert_kd_error, kd};

/// KooDrive's "no permission" code.
const KD_NO_PERMISSION: i64 = 13_000_410;

/// A password login: `(access_token, refresh_token)`.
async fn session(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let (status, body) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "login of {username}: {body}");
    let field = |name: &str| body[name].as_str().unwrap().to_owned();
    (field("access_token"), field("refresh_token"))
}

/// Whether an access token is accepted (`false` on 401; anything else is a failure).
async fn works(app: &TestApp, access_token: &str) -> bool {
    let (status, body) = app.call("/v2/user/get", access_token, json!({})).await;
    match status {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("{other}: {body}"),
    }
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    app.token_grant(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ])
    .await
}

/// Neither the access token nor the refresh token of any of `sessions` works any more.
async fn assert_ended(app: &TestApp, sessions: &[(String, String)]) {
    for (access, refresh_token) in sessions {
        assert!(!works(app, access).await, "the access token still works");
        assert_error(
            &refresh(app, refresh_token).await,
            StatusCode::UNAUTHORIZED,
            "RefreshTokenInvalid",
        );
    }
}

/// The claims of an access token (its signature is the server's business).
fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn update_user(app: &TestApp, body: Value) {
    let (status, answer) = app.admin("/v2/user/update", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn a_password_change_by_the_user_an_admin_or_a_reset_token_ends_every_session() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("pat", "user").await;
    let phone = session(&app, "pat", USER_PASSWORD).await;
    let laptop = session(&app, "pat", USER_PASSWORD).await;
    let (status, body) = app
        .call(
            "/v2/account/change_password",
            &phone.0,
            json!({"old_password": USER_PASSWORD, "new_password": "pat-new-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_ended(&app, &[phone, laptop]).await;

    // An admin setting the password (`plain_password`).
    let tablet = session(&app, "pat", "pat-new-password").await;
    app.by_admin()
        .set_password(&user_id, "set-by-admin-1")
        .await;
    assert_ended(&app, &[tablet]).await;

    // A reset token (mailed by eds-user's ResetUserPassword).
    let desk = session(&app, "pat", "set-by-admin-1").await;
    app.by_admin()
        .update_user(&user_id, UserChange::new().email("pat@example.com"))
        .await;
    assert!(works(&app, &desk.0).await, "a profile change ends nothing");
    crate::eds::ok(
        &app,
        "ResetUserPassword",
        &[("Users.1", &user_id), ("NotifyType", "1")],
    )
    .await;
    let (_, outbox) = app.admin("/v2/outbox/list", json!({})).await;
    let reset_token = outbox["items"][0]["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.len() == 48 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a token in the mail")
        .to_owned();
    let (status, body) = read(
        app.post(
            "/v2/account/reset_password",
            None,
            &json!({"token": reset_token, "new_password": "reset-password-1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_ended(&app, &[desk]).await;

    let fresh = session(&app, "pat", "reset-password-1").await;
    assert!(works(&app, &fresh.0).await);
}

#[tokio::test]
async fn lock_unlock_punishment_and_role_change_end_sessions_for_good() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("lee", "user").await;

    // Unlocking does not revive the tokens from before the lock.
    let before_lock = session(&app, "lee", USER_PASSWORD).await;
    app.by_admin().lock(&user_id).await;
    app.by_admin()
        .update_user(&user_id, UserChange::new().unlocked())
        .await;
    assert_ended(&app, &[before_lock]).await;

    // A punishment ends them, and lifting it does not bring them back.
    let before_punishment = session(&app, "lee", USER_PASSWORD).await;
    update_user(
        &app,
        json!({"user_id": user_id, "punishments": [{"punish_flag": 1, "starts_at": "",
               "ends_at": "2999-01-01T00:00:00Z", "impermanent": true}]}),
    )
    .await;
    assert!(!works(&app, &before_punishment.0).await);
    update_user(&app, json!({"user_id": user_id, "punishments": []})).await;
    assert_ended(&app, &[before_punishment]).await;

    // A role change ends them; naming the role the user already has does not.
    let before_role = session(&app, "lee", USER_PASSWORD).await;
    app.by_admin().set_role(&user_id, Role::User).await;
    assert!(works(&app, &before_role.0).await);
    app.by_admin().set_role(&user_id, Role::Admin).await;
    assert_ended(&app, &[before_role]).await;
}

#[tokio::test]
async fn a_punishment_that_starts_later_stops_existing_tokens_when_it_starts() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("max", "user").await;
    let starts_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let starts_at = starts_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    update_user(
        &app,
        json!({"user_id": user_id, "punishments": [{"punish_flag": 1,
               "starts_at": starts_at, "ends_at": "", "impermanent": true}]}),
    )
    .await;
    let (access, _) = session(&app, "max", USER_PASSWORD).await;
    assert!(works(&app, &access).await);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(!works(&app, &access).await, "a punished user's token works");
}

#[tokio::test]
async fn revoke_ends_the_access_token_too() {
    let app = spawn_app().await;
    app.user_with_role("rob", "user").await;
    let (access, refresh_token) = session(&app, "rob", USER_PASSWORD).await;
    let (status, _) = read(
        app.post(
            "/v2/account/revoke",
            None,
            &json!({"refresh_token": refresh_token}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ended(&app, &[(access, refresh_token)]).await;
}

#[tokio::test]
async fn reusing_a_used_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    app.user_with_role("fay", "user").await;
    let (_, first) = session(&app, "fay", USER_PASSWORD).await;
    let (_, other_login) = session(&app, "fay", USER_PASSWORD).await;
    let (status, second) = refresh(&app, &first).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second = second["refresh_token"].as_str().unwrap().to_owned();

    // The first one comes back (a stolen copy): refused, and its descendants go with it.
    assert_error(
        &refresh(&app, &first).await,
        StatusCode::UNAUTHORIZED,
        "RefreshTokenInvalid",
    );
    assert_error(
        &refresh(&app, &second).await,
        StatusCode::UNAUTHORIZED,
        "RefreshTokenInvalid",
    );
    // Another login is another family.
    let (status, body) = refresh(&app, &other_login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_token_taken_for_someone_else_names_its_issuer_is_short_and_ends_on_promotion() {
    let app = spawn_app().await;
    let (ada_id, ada) = app.user_with_role("ada", "admin").await;
    let (uma_id, _) = app.user_with_role("uma", "user").await;
    let (status, token) = app
        .call(
            "/v2/account/get_access_token_by_link_info",
            &ada,
            json!({"type": "custom", "identity": "uma"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["user_id"], uma_id.as_str());
    assert_eq!(token["refresh_token"], "", "no refresh token");
    let expires_in = token["expires_in"].as_i64().unwrap();
    assert!(0 < expires_in && expires_in <= 900, "{expires_in}");
    let access = token["access_token"].as_str().unwrap().to_owned();
    let issued = claims(&access);
    assert_eq!(issued["act"]["sub"], ada_id.as_str(), "{issued}");
    assert!(issued["exp"].as_i64().unwrap() - issued["iat"].as_i64().unwrap() <= 900);
    assert!(works(&app, &access).await);

    // The user is promoted above the admin who took the token: it stops working.
    app.by_admin().set_role(&uma_id, Role::Superadmin).await;
    assert!(!works(&app, &access).await);

    // `account/link` answers the same kind of token.
    let (ulf_id, _) = app.user_with_role("ulf", "user").await;
    let (status, linked) = app
        .call(
            "/v2/account/link",
            &ada,
            json!({"type": "custom", "identity": "ulf-2", "user_id": ulf_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    assert_eq!(linked["refresh_token"], "");
    let linked = linked["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&linked)["act"]["sub"], ada_id.as_str());
    assert!(works(&app, &linked).await);
    // It also ends with its issuer's sessions (here: the admin is demoted).
    app.by_admin().set_role(&ada_id, Role::User).await;
    assert!(!works(&app, &linked).await);
}

#[tokio::test]
async fn a_deleted_users_token_does_not_work_for_a_later_namesake() {
    let app = spawn_app().await;
    let create_sam = || async {
        let admin = app.by_admin();
        admin
            .user(NewUser::new("sam").password(USER_PASSWORD))
            .await;
        admin.link_account("sam", "custom", "sam").await;
    };
    create_sam().await;
    let (old_access, _) = session(&app, "sam", USER_PASSWORD).await;
    app.by_admin().delete_user("sam").await;
    create_sam().await;
    assert!(!works(&app, &old_access).await, "the namesake inherits it");
    let (new_access, _) = session(&app, "sam", USER_PASSWORD).await;
    assert!(works(&app, &new_access).await);
}

#[tokio::test]
async fn a_service_token_does_not_work_for_an_app_recreated_with_the_same_client_id() {
    let app = spawn_app().await;
    let register = || async {
        let (status, created) = app
            .admin(
                "/v2/app/create",
                json!({"app_name": "sync", "public_key": EC_PUBLIC, "algorithm": "ES256",
                       "client_id": "sync-app"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    };
    let service_token = || async {
        let signed = assertion(
            "sync-app",
            json!({"sub": "default", "sub_type": "service"}),
            Algorithm::ES256,
            EC_PRIVATE,
        );
        let (status, token) = exchange(&app, "sync-app", &signed).await;
        assert_eq!(status, StatusCode::OK, "{token}");
        token["access_token"].as_str().unwrap().to_owned()
    };
    register().await;
    let old = service_token().await;
    let (status, _) = app.call("/v2/user/list", &old, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .admin("/v2/app/delete", json!({"client_id": "sync-app"}))
        .await;
    assert!(status.is_success(), "{status}");
    register().await;
    let answer = app.call("/v2/user/list", &old, json!({})).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    let new = service_token().await;
    let (status, _) = app.call("/v2/user/list", &new, json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn must_change_password_holds_back_every_dialect() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("nora", "admin").await;
    app.by_admin()
        .update_user(&user_id, UserChange::new().must_change_password())
        .await;
    let token = app.login("nora", USER_PASSWORD).await;
    let kd_read = format!("/users/{user_id}");

    let answer = app.call("/v2/user/list", &token, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = kd(&app, Method::GET, &kd_read, &token, None).await;
    assert_kd_error(&answer, StatusCode::BAD_REQUEST, KD_NO_PERMISSION);
    let answer = crate::eds::call(&app, &token, "DescribeUsers", &[]).await;
    assert_eds_error(&answer, StatusCode::FORBIDDEN, "Forbidden");

    // Changed: every dialect answers again (after a new login: the change ended the session).
    let (status, body) = app
        .call(
            "/v2/account/change_password",
            &token,
            json!({"old_password": USER_PASSWORD, "new_password": "nora-own-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let token = app.login("nora", "nora-own-password").await;
    let (status, body) = app.call("/v2/user/list", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = kd(&app, Method::GET, &kd_read, &token, None).await;
    assert_ne!(body["code"], KD_NO_PERMISSION, "{status}: {body}");
    let (status, body) = crate::eds::call(&app, &token, "DescribeUsers", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn wrong_old_passwords_in_change_password_count_against_the_lockout() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_role("gus", "user").await;
    let change = |old: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.call(
                "/v2/account/change_password",
                &token,
                json!({"old_password": old, "new_password": "gus-new-password"}),
            )
            .await
        }
    };
    for _ in 0..5 {
        let answer = change("not-my-password").await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterNotMatch");
    }
    // Locked: the right old password, and a login with it, wait out the lock.
    assert_error(
        &change(USER_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
    );
    let (status, body) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "gus"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn failed_logins_count_per_user_across_its_identities() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("ivy", "user").await;
    app.by_admin()
        .link_account(&user_id, "email", "ivy@example.com")
        .await;
    let login = |username: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.token_grant(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .await
        }
    };
    for username in ["ivy", "ivy", "ivy", "ivy@example.com", "ivy@example.com"] {
        let (status, body) = login(username, "a-wrong-guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Five guesses at one user, under two identities: the user is locked under both.
    for username in ["ivy", "ivy@example.com"] {
        let (status, body) = login(username, USER_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{username}: {body}");
    }
}

#[tokio::test]
async fn a_deleted_domains_token_does_not_work_for_a_domain_created_again_under_its_id() {
    let app = spawn_app().await;
    let create = || async {
        let phoenix = NewDomain::new("phoenix")
            .admin("boss")
            .password(USER_PASSWORD);
        app.by_admin().domain(phoenix).await;
    };
    let login = || app.login_in("phoenix", "boss", USER_PASSWORD);
    create().await;
    let old = login().await;
    assert!(works(&app, &old).await);
    app.by_admin().delete_domain("phoenix").await;
    create().await;
    assert!(
        !works(&app, &old).await,
        "the new domain's superadmin inherits it"
    );
    assert!(works(&app, &login().await).await);
}
