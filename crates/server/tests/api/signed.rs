//! Requests signed with an access key as the PDS SDK signs them (`acs AK:signature`,
//! HMAC-SHA1): accepted once, and refused when stale, replayed, forged, or of a bad key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::json;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::helpers::{assert_error, read, spawn_app, AccessKey as Key, TestApp};

async fn key(app: &TestApp) -> Key {
    app.by_admin().access_key(None).await
}

pub(crate) fn http_date(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(&format).unwrap()
}

/// Sends `POST /v2/user/get {}` signed with v1 as the SDK does.
pub(crate) async fn signed_get(
    app: &TestApp,
    key: &Key,
    secret: &str,
    date: &str,
    nonce: &str,
) -> (StatusCode, serde_json::Value) {
    let accept = "application/json";
    let content_type = "application/json; charset=utf-8";
    let string_to_sign = format!(
        "POST\n{accept}\n\n{content_type}\n{date}\nx-acs-action:GetUser\n\
         x-acs-signature-method:HMAC-SHA1\nx-acs-signature-nonce:{nonce}\n\
         x-acs-signature-version:1.0\nx-acs-version:2022-03-01\n/v2/user/get"
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    let response = app
        .http
        .post(app.url("/v2/user/get"))
        .header("date", date)
        .header("accept", accept)
        .header("content-type", content_type)
        .header("x-acs-action", "GetUser")
        .header("x-acs-version", "2022-03-01")
        .header("x-acs-signature-method", "HMAC-SHA1")
        .header("x-acs-signature-version", "1.0")
        .header("x-acs-signature-nonce", nonce)
        .header("authorization", format!("acs {}:{signature}", key.id))
        .body("{}")
        .send()
        .await
        .unwrap();
    read(response).await
}

#[tokio::test]
async fn signed_requests_work_once_and_only_when_fresh_and_genuine() {
    let app = spawn_app().await;
    let key = key(&app).await;
    let now = http_date(OffsetDateTime::now_utc());
    let (status, me) = signed_get(&app, &key, &key.secret, &now, "nonce-0001").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], "admin");

    let replay = signed_get(&app, &key, &key.secret, &now, "nonce-0001").await;
    assert_error(&replay, StatusCode::UNAUTHORIZED, "SignatureNonceUsed");
    let stale = http_date(OffsetDateTime::now_utc() - time::Duration::minutes(20));
    let answer = signed_get(&app, &key, &key.secret, &stale, "nonce-0002").await;
    assert_error(
        &answer,
        StatusCode::UNAUTHORIZED,
        "InvalidTimeStamp.Expired",
    );
    let answer = signed_get(&app, &key, "not-the-secret", &now, "nonce-0003").await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "SignatureDoesNotMatch");
    let unknown = Key {
        id: "RKUNKNOWN".into(),
        secret: key.secret.clone(),
    };
    let answer = signed_get(&app, &unknown, &key.secret, &now, "nonce-0004").await;
    assert_error(
        &answer,
        StatusCode::UNAUTHORIZED,
        "InvalidAccessKeyId.NotFound",
    );

    app.admin(
        "/v2/access_key/update",
        json!({"access_key_id": key.id, "status": "disabled"}),
    )
    .await;
    let answer = signed_get(&app, &key, &key.secret, &now, "nonce-0005").await;
    assert_error(
        &answer,
        StatusCode::UNAUTHORIZED,
        "InvalidAccessKeyId.NotFound",
    );
}
