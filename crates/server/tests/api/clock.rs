//! Rules that depend on time, driven by a manual clock instead of waiting: the end of a
//! login lockout, the 24-hour life of a password-reset token, audit retention, eds-user's
//! `AutoLockTime`, and the expiry of a JWT app's assertion. Each boundary is checked from
//! both sides, a millisecond (or second) apart.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use roster_server::time_format::{eds_datetime, iso8601_ms};
use serde_json::{json, Value};

use crate::apps::{assertion, exchange, EC_PRIVATE, EC_PUBLIC};
use crate::eds;
use crate::helpers::{
    assert_error, read, spawn_with_manual_clock, NewUser, TestApp, ADMIN_PASSWORD, USER_PASSWORD,
};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

async fn password_login(app: &TestApp, username: &str, password: &str) -> (StatusCode, Value) {
    app.token_grant(&[
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ])
    .await
}

#[tokio::test]
async fn a_login_lockout_ends_when_its_time_is_up() {
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    app.user_with_role("gus", "user").await;
    for _ in 0..5 {
        let (status, body) = password_login(&app, "gus", "a-wrong-guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // The default lock lasts five minutes from the fifth failure.
    let (status, body) = password_login(&app, "gus", USER_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    clock.advance(Duration::from_secs(300) - MS);
    let (status, body) = password_login(&app, "gus", USER_PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a millisecond early: {body}"
    );
    clock.advance(MS);
    let (status, body) = password_login(&app, "gus", USER_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the lock is over: {body}");
}

/// Has a reset mailed to `user_id` (eds-user `ResetUserPassword`) and reads its token from
/// the outbox.
async fn mailed_reset_token(app: &TestApp, user_id: &str) -> String {
    let reset = eds::ok(
        app,
        "ResetUserPassword",
        &[("Users.1", user_id), ("NotifyType", "1")],
    )
    .await;
    assert_eq!(reset["ResetUsersResult"]["ResetUsers"], json!([user_id]));
    let (status, outbox) = app.admin("/v2/outbox/list", json!({"limit": 1})).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    outbox["items"][0]["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.len() == 48 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a token in the mail")
        .to_owned()
}

async fn reset_password(app: &TestApp, token: &str, new_password: &str) -> (StatusCode, Value) {
    read(
        app.post(
            "/v2/account/reset_password",
            None,
            &json!({"token": token, "new_password": new_password}),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn a_password_reset_token_stops_working_after_24_hours() {
    let (mut app, clock) = spawn_with_manual_clock(|_| {}).await;
    let (user_id, _) = app.user_with_role("ida", "user").await;
    eds::ok(
        &app,
        "ModifyUser",
        &[("EndUserId", &user_id), ("Email", "ida@example.com")],
    )
    .await;

    let stale = mailed_reset_token(&app, &user_id).await;
    clock.advance(DAY);
    let answer = reset_password(&app, &stale, "brand-new-password-1").await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.ResetToken");

    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    let fresh = mailed_reset_token(&app, &user_id).await;
    clock.advance(DAY - MS);
    let (status, body) = reset_password(&app, &fresh, "brand-new-password-2").await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "a millisecond before its end: {body}"
    );
    app.login("ida", "brand-new-password-2").await;
}

/// The `object_id`s and times of the audit log's `user.create` records, and the earliest
/// time of any record.
async fn audit_records(app: &TestApp) -> (Vec<String>, String) {
    let (status, page) = app.admin("/v2/audit_log/list", json!({"limit": 100})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    let created = items
        .iter()
        .filter(|r| r["action_type"] == "user.create")
        .map(|r| r["object_id"].as_str().unwrap().to_owned())
        .collect();
    let earliest = items
        .iter()
        .map(|r| r["acted_at"].as_str().unwrap().to_owned())
        .min()
        .unwrap_or_default();
    (created, earliest)
}

#[tokio::test]
async fn audit_retention_removes_exactly_the_records_past_the_limit() {
    let (mut app, clock) = spawn_with_manual_clock(|config| {
        config.audit_retention = Some(DAY);
    })
    .await;
    let start = clock.now_ms();
    // At the start: the admin's login (by the harness) and this user.
    app.by_admin().user(NewUser::new("old")).await;
    clock.advance(MS);
    app.by_admin().user(NewUser::new("new")).await;

    // A day and a millisecond on, the sweep (every hour of the clock) deletes what was done
    // at the start and keeps what is exactly a day old.
    clock.advance(DAY);
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    let mut waited = Duration::ZERO;
    let (created, earliest) = loop {
        let (created, earliest) = audit_records(&app).await;
        if !created.iter().any(|id| id == "old") || waited > Duration::from_secs(20) {
            break (created, earliest);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    };
    assert_eq!(created, ["new"], "only the record within the limit is kept");
    assert_eq!(
        earliest,
        iso8601_ms(start + 1),
        "nothing older than the limit is kept"
    );

    // The next sweep, an hour later, takes the rest of the first day.
    clock.advance(HOUR);
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    let mut waited = Duration::ZERO;
    while !audit_records(&app).await.0.is_empty() {
        assert!(waited < Duration::from_secs(20), "the next sweep ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
}

#[tokio::test]
async fn eds_auto_lock_time_locks_the_user_at_that_time() {
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    let (user_id, _) = app.user_with_role("gus", "user").await;
    // An hour on, in whole seconds as eds-user writes times.
    let lock_at = (clock.now_ms() / 1000 + 3600) * 1000;
    let unlocked = eds::ok(
        &app,
        "UnlockUsers",
        &[
            ("Users.1", &user_id),
            ("AutoLockTime", &eds_datetime(lock_at)),
        ],
    )
    .await;
    assert_eq!(
        unlocked["UnlockUsersResult"]["UnlockedUsers"],
        json!([user_id])
    );
    let token = app.login("gus", USER_PASSWORD).await;
    let status_of = || async {
        let users = eds::ok(&app, "DescribeUsers", &[("EndUserIds.1", &user_id)]).await;
        users["Users"][0]["Status"].clone()
    };

    clock.set_ms(lock_at - 1);
    assert_eq!(status_of().await, 0, "a millisecond before the lock");
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);

    clock.set_ms(lock_at);
    assert_eq!(status_of().await, 9, "locked at the set time");
    let (status, body) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = password_login(&app, "gus", USER_PASSWORD).await;
    assert_ne!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_jwt_app_assertion_expires_a_minute_after_its_exp() {
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    let client_id = app.by_admin().app("sync", EC_PUBLIC, "ES256").await;
    app.by_admin().user(NewUser::new("jwt-user")).await;
    let now_s = clock.now_ms() / 1000;
    let signed = || {
        assertion(
            &client_id,
            json!({"sub": "jwt-user", "sub_type": "user", "iat": now_s, "exp": now_s + 60}),
            Algorithm::ES256,
            EC_PRIVATE,
        )
    };
    // Assertions are taken up to a minute past their `exp`, for clocks a little apart.
    clock.set_ms((now_s + 120) * 1000 + 999);
    let (status, body) = exchange(&app, &client_id, &signed()).await;
    assert_eq!(status, StatusCode::OK, "within the leeway: {body}");
    clock.set_ms((now_s + 121) * 1000);
    assert_error(
        &exchange(&app, &client_id, &signed()).await,
        StatusCode::UNAUTHORIZED,
        "AssertionExpired",
    );
}
