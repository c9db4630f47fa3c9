//! Users of the directory dialects sign in: an eds-user or KooDrive user gets the logon
//! accounts its id, e-mail and phone imply, at `/v2/oauth/token`, with the one password it
//! was given or set through the reset mail; contact changes move them; an identity another
//! user holds fails the call and writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::eds::{admin as eds_admin, assert_eds_error, ok as eds_ok, STRONG};
use crate::helpers::{spawn_app, TestApp, USER_PASSWORD};
use crate::koodrive::{assert_kd_error, kd, ok as kd_ok};

/// The user id a password grant of `username` signs in as, or the refusal.
async fn signs_in_as(app: &TestApp, username: &str, password: &str) -> Result<String, Value> {
    let (status, body) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .await;
    if status != StatusCode::OK {
        return Err(body);
    }
    Ok(body["user_id"].as_str().expect("user_id").to_owned())
}

async fn assert_signs_in(app: &TestApp, username: &str, password: &str, user_id: &str) {
    let signed = signs_in_as(app, username, password).await;
    assert_eq!(
        signed.as_deref().ok(),
        Some(user_id),
        "{username}: {signed:?}"
    );
}

async fn assert_refused(app: &TestApp, username: &str, password: &str) {
    let signed = signs_in_as(app, username, password).await;
    let refusal = signed.expect_err(username);
    assert_eq!(refusal["code"], "InvalidCredentials", "{refusal}");
}

/// The user's accounts as `(type, identity)`, sorted.
async fn accounts_of(app: &TestApp, user_id: &str) -> Vec<(String, String)> {
    let (status, body) = app
        .admin(
            "/v2/account/get_link_info_by_user_id",
            json!({ "user_id": user_id }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut accounts: Vec<(String, String)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["authentication_type"].as_str().unwrap().to_owned(),
                a["identity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    accounts.sort();
    accounts
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(t, i)| ((*t).to_owned(), (*i).to_owned()))
        .collect()
}

#[tokio::test]
async fn an_eds_created_user_signs_in_with_its_end_user_id_email_and_phone() {
    let app = spawn_app().await;
    let body = eds_ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "ann"),
            ("Users.1.Email", "ann@example.com"),
            ("Users.1.Phone", "13900001111"),
            ("Users.1.Password", STRONG),
            // The call's own `Password` serves the users that name none.
            ("Users.2.EndUserId", "ben"),
            ("Users.2.Email", "ben@example.com"),
            ("Password", "0ther!Passw0rd"),
        ],
    )
    .await;
    assert_eq!(body["AllSucceed"], true, "{body}");
    for username in ["ann", "ann@example.com", "13900001111"] {
        assert_signs_in(&app, username, STRONG, "ann").await;
    }
    assert_refused(&app, "ann@example.com", "0ther!Passw0rd").await;
    assert_signs_in(&app, "ben", "0ther!Passw0rd", "ben").await;
    assert_signs_in(&app, "ben@example.com", "0ther!Passw0rd", "ben").await;
    assert_eq!(
        accounts_of(&app, "ann").await,
        pairs(&[
            ("custom", "ann"),
            ("email", "ann@example.com"),
            ("mobile", "13900001111")
        ])
    );
    // One password for all of them: a change through one identity's token serves the rest.
    let token = app.login("ann", STRONG).await;
    let (status, body) = app
        .call(
            "/v2/account/change_password",
            &token,
            json!({"old_password": STRONG, "new_password": "N3w!Passw0rd"}),
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    assert_signs_in(&app, "ann@example.com", "N3w!Passw0rd", "ann").await;
    assert_refused(&app, "13900001111", STRONG).await;
}

#[tokio::test]
async fn an_eds_user_who_set_its_password_through_the_reset_mail_signs_in() {
    let app = spawn_app().await;
    let body = eds_ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "cyd"),
            ("Users.1.Email", "cyd@example.com"),
        ],
    )
    .await;
    assert_eq!(body["AllSucceed"], true, "{body}");
    assert_refused(&app, "cyd@example.com", STRONG).await;
    let (_, outbox) = app.admin("/v2/outbox/list", json!({})).await;
    let message = &outbox["items"][0];
    assert_eq!(message["recipient"], "cyd@example.com", "{outbox}");
    let token = message["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.len() == 48 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a token in the mail")
        .to_owned();
    let response = app
        .post(
            "/v2/account/reset_password",
            None,
            &json!({"token": token, "new_password": STRONG}),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_signs_in(&app, "cyd", STRONG, "cyd").await;
    assert_signs_in(&app, "cyd@example.com", STRONG, "cyd").await;
}

#[tokio::test]
async fn modify_user_moves_the_email_and_phone_logons() {
    let app = spawn_app().await;
    eds_ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "dee"),
            ("Users.1.Email", "dee@old.example"),
            ("Users.1.Password", STRONG),
        ],
    )
    .await;
    eds_ok(
        &app,
        "ModifyUser",
        &[
            ("EndUserId", "dee"),
            ("Email", "dee@new.example"),
            ("Phone", "13900002222"),
        ],
    )
    .await;
    assert_signs_in(&app, "dee@new.example", STRONG, "dee").await;
    assert_signs_in(&app, "13900002222", STRONG, "dee").await;
    assert_refused(&app, "dee@old.example", STRONG).await;
    // A removed phone takes its logon with it (eds-user reads an empty Phone as none given;
    // PDS clears it).
    let (status, body) = app
        .admin("/v2/user/update", json!({"user_id": "dee", "phone": ""}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_refused(&app, "13900002222", STRONG).await;
    assert_eq!(
        accounts_of(&app, "dee").await,
        pairs(&[("custom", "dee"), ("email", "dee@new.example")])
    );

    // The same move through PDS: the account mirroring the old address follows it.
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": "dee", "email": "dee@pds.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_signs_in(&app, "dee@pds.example", STRONG, "dee").await;
    assert_refused(&app, "dee@new.example", STRONG).await;
    // A PDS user keeps its linked accounts only: PDS adds no account for a new address.
    let (pds_user, _) = app.user_with_role("pat", "user").await;
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": pds_user, "email": "pat@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_refused(&app, "pat@example.com", USER_PASSWORD).await;
    assert_signs_in(&app, "pat", USER_PASSWORD, &pds_user).await;
    // eds-user's ModifyUser restating the address unchanged gives it its account.
    eds_ok(
        &app,
        "ModifyUser",
        &[("EndUserId", &pds_user), ("Email", "pat@example.com")],
    )
    .await;
    assert_signs_in(&app, "pat@example.com", USER_PASSWORD, &pds_user).await;
}

#[tokio::test]
async fn an_identity_another_user_holds_fails_the_eds_call_and_writes_nothing() {
    let app = spawn_app().await;
    eds_ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "eve"),
            ("Users.1.Email", "eve@example.com"),
            ("Users.1.Phone", "13900003333"),
            ("Users.1.Password", STRONG),
            ("Users.2.EndUserId", "fox"),
            ("Users.2.Email", "fox@example.com"),
            ("Users.2.Password", STRONG),
        ],
    )
    .await;
    // A PDS user whose custom logon is "gil" blocks an eds user of that id.
    app.user_with_role("gil", "user").await;

    let body = eds_ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "eve_two"),
            ("Users.1.Email", "eve@example.com"),
            ("Users.1.Password", STRONG),
            ("Users.2.EndUserId", "phil"),
            ("Users.2.Email", "phil@example.com"),
            ("Users.2.Phone", "13900003333"),
            ("Users.3.EndUserId", "gil"),
            ("Users.3.Email", "gil@example.com"),
        ],
    )
    .await;
    let failed: Vec<(&str, &str)> = body["CreateResult"]["FailedUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["EndUserId"].as_str().unwrap(),
                f["ErrorCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("eve_two", "EntityAlreadyExist.Account"),
            ("phil", "EntityAlreadyExist.Account"),
            ("gil", "EntityAlreadyExist.Account"),
        ],
        "{body}"
    );
    for user_id in ["eve_two", "phil", "gil"] {
        let (status, _) = app
            .admin("/v2/user/get", json!({ "user_id": user_id }))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{user_id} was not created");
    }
    // No reset was mailed for the user that was not created.
    let (_, outbox) = app.admin("/v2/outbox/list", json!({})).await;
    assert_eq!(outbox["items"], json!([]), "{outbox}");

    let taken = eds_admin(
        &app,
        "ModifyUser",
        &[
            ("EndUserId", "fox"),
            ("Email", "eve@example.com"),
            ("Phone", "13900004444"),
        ],
    )
    .await;
    assert_eds_error(
        &taken,
        StatusCode::BAD_REQUEST,
        "EntityAlreadyExist.Account",
    );
    let fox = eds_ok(&app, "DescribeUsers", &[("EndUserIds.1", "fox")]).await;
    assert_eq!(fox["Users"][0]["Email"], "fox@example.com", "{fox}");
    assert_eq!(fox["Users"][0]["Phone"].as_str().unwrap_or(""), "", "{fox}");
    assert_signs_in(&app, "fox@example.com", STRONG, "fox").await;
    assert_signs_in(&app, "eve@example.com", STRONG, "eve").await;
    assert_refused(&app, "13900004444", STRONG).await;
}

#[tokio::test]
async fn a_koodrive_created_user_signs_in_with_its_user_id_and_mobile() {
    let app = spawn_app().await;
    kd_ok(
        &app,
        Method::POST,
        "/users",
        Some(json!({"userId": "1008600000029937613", "name": "Kim", "mobile": "13800000000"})),
    )
    .await;
    assert_eq!(
        accounts_of(&app, "1008600000029937613").await,
        pairs(&[("custom", "1008600000029937613"), ("mobile", "13800000000")])
    );
    // KooDrive sets no password: an admin sets it (or the user, through a reset mail).
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": "1008600000029937613", "plain_password": STRONG}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_signs_in(&app, "1008600000029937613", STRONG, "1008600000029937613").await;
    assert_signs_in(&app, "13800000000", STRONG, "1008600000029937613").await;

    kd_ok(
        &app,
        Method::PUT,
        "/users/1008600000029937613",
        Some(json!({"mobile": "13800001111"})),
    )
    .await;
    assert_signs_in(&app, "13800001111", STRONG, "1008600000029937613").await;
    assert_refused(&app, "13800000000", STRONG).await;

    // Another user may not take that mobile, by creation or by change; nothing is written.
    let taken = kd(
        &app,
        Method::POST,
        "/users",
        &app.admin_token,
        Some(json!({"userId": "2008600000000000001", "mobile": "13800001111"})),
    )
    .await;
    assert_kd_error(&taken, StatusCode::BAD_REQUEST, 13_901_002);
    let missing = kd(
        &app,
        Method::GET,
        "/users/2008600000000000001",
        &app.admin_token,
        None,
    )
    .await;
    assert_kd_error(&missing, StatusCode::BAD_REQUEST, 13_000_309);
    kd_ok(
        &app,
        Method::POST,
        "/users",
        Some(json!({"userId": "3008600000000000001", "mobile": "13800002222"})),
    )
    .await;
    let changed = kd(
        &app,
        Method::PUT,
        "/users/3008600000000000001",
        &app.admin_token,
        Some(json!({"mobile": "13800001111", "name": "Taken"})),
    )
    .await;
    assert_kd_error(&changed, StatusCode::BAD_REQUEST, 13_901_002);
    let kept = kd_ok(&app, Method::GET, "/users/3008600000000000001", None).await;
    assert_eq!(kept["data"]["mobile"], "13800002222", "{kept}");
    assert_ne!(kept["data"]["name"], "Taken", "{kept}");
}
