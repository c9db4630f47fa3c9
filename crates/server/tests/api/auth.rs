//! Login, refresh, and what a token is good for.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app, ADMIN_PASSWORD, USER_PASSWORD};

#[tokio::test]
async fn password_grant_answers_the_pds_token_object() {
    let app = spawn_app().await;
    let (status, token) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["user_id"], "admin");
    assert_eq!(token["role"], "superadmin");
    assert_eq!(token["domain_id"], "default");
    assert_eq!(token["expires_in"], 7200);
    assert!(token["expire_time"].as_str().unwrap().ends_with('Z'));
    assert!(token["refresh_token"].as_str().unwrap().len() >= 32);
    assert_eq!(token["exist_link"][0]["type"], "custom");
    assert_eq!(token["exist_link"][0]["identity"], "admin");
    // An EdDSA JWT.
    let header = token["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let header = String::from_utf8(base64_url_decode(header)).unwrap();
    assert!(header.contains("\"EdDSA\""), "{header}");
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

#[tokio::test]
async fn wrong_password_unknown_account_and_disabled_user_look_the_same() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("carol", "user").await;
    let (status, _) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": user_id, "status": "disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut bodies = Vec::new();
    for (username, password) in [
        ("admin", "wrong-password"),
        ("nobody", "whatever-pass"),
        ("carol", USER_PASSWORD),
    ] {
        let answer = app
            .token_grant(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");
        bodies.push(answer.1["message"].clone());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn token_form_errors_have_their_codes() {
    let app = spawn_app().await;
    let answer = app.token_grant(&[("username", "admin")]).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterMissing");
    let answer = app
        .token_grant(&[("grant_type", "password"), ("password", "x")])
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterMissing");
    // The code grant (issue 19) names its client.
    let answer = app
        .token_grant(&[("grant_type", "authorization_code"), ("code", "x")])
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterMissing");
    let answer = app
        .token_grant(&[("grant_type", "implicit"), ("code", "x")])
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterNotSupported",
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_work_once() {
    let app = spawn_app().await;
    let (_, first) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = app
        .token_grant(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let (status, _) = app
        .call(
            "/v2/user/get",
            second["access_token"].as_str().unwrap(),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The used one is gone.
    let answer = app
        .token_grant(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "RefreshTokenInvalid");
    let answer = app
        .token_grant(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "made-up"),
        ])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "RefreshTokenInvalid");
}

#[tokio::test]
async fn calls_without_a_valid_token_are_401() {
    let app = spawn_app().await;
    let answer = crate::helpers::read(app.post("/v2/user/get", None, &json!({})).await).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    for bad in ["garbage", "a.b.c", &format!("{}x", app.admin_token)] {
        let answer = app.call("/v2/user/get", bad, json!({})).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    }
    // The SDK's bearer header works alone too.
    let response = app
        .http
        .post(app.url("/v2/user/get"))
        .header("x-acs-bearer-token", &app.admin_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn disabling_a_user_stops_its_tokens_at_once() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("dave", "user").await;
    let (_, refresh_answer) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "dave"),
            ("password", USER_PASSWORD),
        ])
        .await;
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    app.admin(
        "/v2/user/update",
        json!({"user_id": user_id, "status": "disabled"}),
    )
    .await;
    let answer = app.call("/v2/user/get", &token, json!({})).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    let answer = app
        .token_grant(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                refresh_answer["refresh_token"].as_str().unwrap(),
            ),
        ])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "RefreshTokenInvalid");
    // Enabled again, the user logs in again; deleted, its token is refused.
    app.admin(
        "/v2/user/update",
        json!({"user_id": user_id, "status": "enabled"}),
    )
    .await;
    let token = app.login("dave", USER_PASSWORD).await;
    let (status, _) = app
        .admin("/v2/user/delete", json!({"user_id": user_id}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app.call("/v2/user/get", &token, json!({})).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
}

#[tokio::test]
async fn a_token_of_one_domain_is_refused_in_another() {
    // Under the operator's base domain, `default.<base>` names the domain `default`.
    let app = crate::helpers::spawn_with_base_domain("api.example.com").await;
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let response = app
        .http
        .post(app.url("/v2/user/get"))
        .header("host", format!("default.api.example.com:{port}"))
        .bearer_auth(&app.admin_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn jwks_publishes_the_key_that_signs_access_tokens() {
    let app = spawn_app().await;
    let (status, jwks) = app.get("/.well-known/jwks.json").await;
    assert_eq!(status, StatusCode::OK);
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(base64_url_decode(key["x"].as_str().unwrap()).len(), 32);
    let header = app.admin_token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(&base64_url_decode(header)).unwrap();
    assert_eq!(header["kid"], key["kid"]);
}

#[tokio::test]
async fn legacy_account_token_refreshes_and_revoke_logs_out() {
    let app = spawn_app().await;
    let (_, first) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let (status, second) = crate::helpers::read(
        app.post(
            "/v2/account/token",
            None,
            &json!({"app_id": "x", "grant_type": "refresh_token",
                    "refresh_token": first["refresh_token"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let (status, _) = crate::helpers::read(
        app.post(
            "/v2/account/revoke",
            None,
            &json!({"app_id": "x", "refresh_token": second["refresh_token"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app
        .token_grant(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", second["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "RefreshTokenInvalid");
    let answer = crate::helpers::read(
        app.post(
            "/v2/account/token",
            None,
            &json!({"grant_type": "password", "refresh_token": "x"}),
        )
        .await,
    )
    .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterNotSupported",
    );
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_identity_for_a_while() {
    let store = crate::helpers::TestStore::fresh().await;
    let mut config = store.config();
    config.tokens.lockout = roster_server::service::tokens::LockoutSettings {
        max_failures: 3,
        lock_for: std::time::Duration::from_secs(60),
    };
    let app = crate::helpers::spawn_with(store, config, ADMIN_PASSWORD).await;
    app.user_with_role("victim", "user").await;
    let attempt = |password: &'static str| {
        let app = &app;
        async move {
            app.token_grant(&[
                ("grant_type", "password"),
                ("username", "victim"),
                ("password", password),
            ])
            .await
        }
    };
    for _ in 0..3 {
        let answer = attempt("wrong-password").await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");
    }
    // Locked: even the right password is refused, with the time to wait.
    let response = app
        .http
        .post(app.url("/v2/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "victim"),
            ("password", USER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_error(
        &crate::helpers::read(response).await,
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
    );
    // Unknown identities lock the same way, and other identities are not affected.
    for _ in 0..3 {
        app.token_grant(&[
            ("grant_type", "password"),
            ("username", "ghost"),
            ("password", "whatever-pass"),
        ])
        .await;
    }
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "ghost"),
            ("password", "whatever-pass"),
        ])
        .await;
    assert_error(&answer, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    app.login("admin", ADMIN_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_failed_logins_check_no_more_passwords_than_the_lockout_allows() {
    let store = crate::helpers::TestStore::fresh().await;
    let mut config = store.config();
    config.tokens.lockout = roster_server::service::tokens::LockoutSettings {
        max_failures: 5,
        lock_for: std::time::Duration::from_secs(60),
    };
    let app = crate::helpers::spawn_with(store, config, ADMIN_PASSWORD).await;
    app.user_with_role("target", "user").await;
    // Parallel logins with the right password all succeed: turns, not refusals.
    let logins = (0..8).map(|_| {
        app.token_grant(&[
            ("grant_type", "password"),
            ("username", "target"),
            ("password", USER_PASSWORD),
        ])
    });
    for (status, body) in futures_util::future::join_all(logins).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let attempts = (0..30).map(|i| {
        let app = &app;
        async move {
            let password = format!("guess-number-{i}");
            let form = [
                ("grant_type", "password"),
                ("username", "target"),
                ("password", password.as_str()),
            ];
            app.token_grant(&form).await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let checked = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, throttled), (5, 25), "{answers:?}");
    // Locked now, even for the right password.
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "target"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_error(&answer, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    // Every attempt is in the audit log as a failed login.
    let query = json!({"query": "action_type = 'account.login' and object_id = 'target' and outcome = 'failure'"});
    let (status, page) = app.admin("/v2/audit_log/list", query).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 31, "{page}");
}
