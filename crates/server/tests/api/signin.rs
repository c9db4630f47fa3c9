//! Sign-in for people (issue 19): code-flow apps, `/v2/oauth/authorize` through the sign-in
//! and consent pages (driven like a browser: cookies kept, forms parsed), the
//! `authorization_code` grant with PKCE and client authentication, and the refusals.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::browser::Browser;
use crate::helpers::{
    assert_error, spawn_app, spawn_with_manual_clock, TestApp, ADMIN_PASSWORD, USER_PASSWORD,
};

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Registers a code-flow app; answers its client id and secret (WebServer only).
async fn register(app: &TestApp, body: Value) -> (String, Option<String>) {
    let (status, created) = app.admin("/v2/app/create", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["client_id"].as_str().unwrap().to_owned(),
        created["client_secret"].as_str().map(str::to_owned),
    )
}

async fn spa(app: &TestApp) -> String {
    register(
        app,
        json!({"app_name": "Photos", "app_type": "SinglePageApp",
               "redirect_uris": [REDIRECT], "scopes": ["openid", "profile"]}),
    )
    .await
    .0
}

fn authorize_path(client_id: &str, extra: &str) -> String {
    format!(
        "/v2/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code\
         &login_type=default&scope=openid&state=s-1&code_challenge={}\
         &code_challenge_method=S256{extra}",
        urlencode(REDIRECT),
        challenge(VERIFIER)
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn exchange(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut all = vec![("grant_type", "authorization_code")];
    all.extend_from_slice(form);
    app.token_grant(&all).await
}

/// Through sign-in and consent to the redirect with a code; answers the code.
async fn code_for(app: &TestApp, browser: &mut Browser, client_id: &str, user: &str) -> String {
    let page = browser.get(&authorize_path(client_id, "")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let consent = if page.body.contains("name=\"password\"") {
        browser.sign_in(&page, user, USER_PASSWORD).await
    } else {
        page
    };
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    let done = browser.consent(&consent, "allow").await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    let _ = app;
    done.redirect_param("code").expect("a code")
}

#[tokio::test]
async fn a_person_signs_in_consents_and_the_app_exchanges_the_code_once() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("alice", "user").await;
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);

    let page = browser.get(&authorize_path(&client_id, "")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("autocomplete=\"username\""));
    assert!(page.body.contains("autocomplete=\"current-password\""));
    assert!(page.body.contains("Photos"), "the app's name is shown");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"));

    let consent = browser.sign_in(&page, "alice", USER_PASSWORD).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(browser.cookies.contains_key("roster_session"));
    let done = browser.consent(&consent, "allow").await;
    assert_eq!(done.status, StatusCode::FOUND);
    assert!(done.location().starts_with(REDIRECT));
    assert_eq!(done.redirect_param("state").as_deref(), Some("s-1"));
    assert_eq!(
        done.redirect_param("iss").as_deref(),
        Some(app.address.as_str())
    );
    let code = done.redirect_param("code").unwrap();

    let form = [
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, token) = exchange(&app, &form).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["user_id"], user_id.as_str());
    assert_eq!(token["scope"], "openid");
    let access = token["access_token"].as_str().unwrap();
    let (status, me) = app.call("/v2/user/get", access, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], user_id.as_str());

    // The second use is refused and revokes what the first issued.
    assert_error(
        &exchange(&app, &form).await,
        StatusCode::UNAUTHORIZED,
        "InvalidGrant",
    );
    let refresh = token["refresh_token"].as_str().unwrap();
    let answer = app
        .token_grant(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "RefreshTokenInvalid");

    // The browser's session stands: the next authorization asks only for consent.
    let again = browser.get(&authorize_path(&client_id, "")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!again.body.contains("name=\"password\""), "{}", again.body);
    assert!(again.body.contains("decision"));
    // Denied: the app hears access_denied with its state.
    let denied = browser.consent(&again, "deny").await;
    assert_eq!(denied.status, StatusCode::FOUND);
    assert_eq!(
        denied.redirect_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(denied.redirect_param("state").as_deref(), Some("s-1"));
}

#[tokio::test]
async fn a_web_server_app_authenticates_with_its_secret_and_a_trusted_one_skips_consent() {
    let app = spawn_app().await;
    app.user_with_role("bob", "user").await;
    let (client_id, secret) = register(
        &app,
        json!({"app_name": "Drive", "app_type": "WebServer", "redirect_uris": [REDIRECT],
               "trusted": true}),
    )
    .await;
    let secret = secret.expect("a WebServer app gets a secret");
    let (_, listed) = app
        .admin("/v2/app/get", json!({"client_id": client_id}))
        .await;
    assert!(
        listed.get("client_secret").is_none(),
        "shown once: {listed}"
    );
    assert_eq!(listed["app_type"], "WebServer");
    assert_eq!(listed["trusted"], true);

    let mut browser = Browser::new(&app);
    let path = format!(
        "/v2/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code\
         &hide_consent=true&state=xyz",
        urlencode(REDIRECT)
    );
    let page = browser.get(&path).await;
    let done = browser.sign_in(&page, "bob", USER_PASSWORD).await;
    assert_eq!(done.status, StatusCode::FOUND, "no consent: {}", done.body);
    let code = done.redirect_param("code").unwrap();
    let base = [
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    assert_error(
        &exchange(&app, &base).await,
        StatusCode::UNAUTHORIZED,
        "InvalidClient",
    );
    let mut wrong = base.to_vec();
    wrong.push(("client_secret", "0123456789abcdef0123456789abcdef"));
    assert_error(
        &exchange(&app, &wrong).await,
        StatusCode::UNAUTHORIZED,
        "InvalidClient",
    );
    // client_secret_basic.
    let basic = STANDARD.encode(format!("{client_id}:{secret}"));
    let response = app
        .http
        .post(app.url("/v2/oauth/token"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    let (status, token) = crate::helpers::read(response).await;
    assert_eq!(status, StatusCode::OK, "{token}");

    // A rotated secret replaces the old one (client_secret_post).
    let (status, rotated) = app
        .admin(
            "/v2/app/update",
            json!({"client_id": client_id, "rotate_secret": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let page = browser.get(&path).await;
    let code = page
        .redirect_param("code")
        .expect("signed in, trusted: a code");
    let mut old = vec![
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_secret", secret.as_str()),
    ];
    assert_error(
        &exchange(&app, &old).await,
        StatusCode::UNAUTHORIZED,
        "InvalidClient",
    );
    old[3] = ("client_secret", new_secret);
    assert_eq!(exchange(&app, &old).await.0, StatusCode::OK);
}

#[tokio::test]
async fn unknown_apps_and_unregistered_redirects_get_a_page_never_a_redirect() {
    let app = spawn_app().await;
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);
    for path in [
        authorize_path("no-such-app", ""),
        authorize_path(&client_id, "").replace("127.0.0.1%3A9", "evil.example"),
        format!("/v2/oauth/authorize?client_id={client_id}&response_type=code"),
        "/v2/oauth/authorize".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.headers.get(LOCATION).is_none(), "{path}");
        assert!(page.body.contains("<html"), "{path}");
    }
}

#[tokio::test]
async fn bad_authorization_requests_go_back_to_the_app_with_an_error() {
    let app = spawn_app().await;
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);
    let base = format!(
        "/v2/oauth/authorize?client_id={client_id}&redirect_uri={}&state=st",
        urlencode(REDIRECT)
    );
    let pkce = format!(
        "&code_challenge={}&code_challenge_method=S256",
        challenge(VERIFIER)
    );
    for (query, error) in [
        (
            format!("&response_type=token{pkce}"),
            "unsupported_response_type",
        ),
        // A public app without PKCE, or with `plain`.
        ("&response_type=code".to_owned(), "invalid_request"),
        (
            format!("&response_type=code&code_challenge={VERIFIER}&code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            format!("&response_type=code&scope=email{pkce}"),
            "invalid_scope",
        ),
        (
            format!("&response_type=code&scope=root{pkce}"),
            "invalid_scope",
        ),
        (
            format!("&response_type=code&prompt=none%20login{pkce}"),
            "invalid_request",
        ),
        (
            format!("&response_type=code&max_age=-1{pkce}"),
            "invalid_request",
        ),
        (
            format!("&response_type=code&login_type=ding{pkce}"),
            "invalid_request",
        ),
        // No sign-in session: prompt=none answers login_required.
        (
            format!("&response_type=code&prompt=none{pkce}"),
            "login_required",
        ),
    ] {
        let answer = browser.get(&format!("{base}{query}")).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{query}: {}", answer.body);
        assert!(answer.location().starts_with(REDIRECT), "{query}");
        assert_eq!(
            answer.redirect_param("error").as_deref(),
            Some(error),
            "{query}"
        );
        assert_eq!(
            answer.redirect_param("state").as_deref(),
            Some("st"),
            "{query}"
        );
        assert!(answer.redirect_param("code").is_none());
    }
}

#[tokio::test]
async fn codes_are_refused_with_a_wrong_verifier_client_or_redirect() {
    let app = spawn_app().await;
    app.user_with_role("carol", "user").await;
    let client_id = spa(&app).await;
    let other = spa(&app).await;
    let mut browser = Browser::new(&app);
    let code = code_for(&app, &mut browser, &client_id, "carol").await;
    let other_verifier = "x".repeat(43);
    for form in [
        // Missing or wrong verifier.
        vec![
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
        ],
        vec![
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", other_verifier.as_str()),
        ],
        // Another client's code.
        vec![
            ("client_id", other.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        // Another redirect URI.
        vec![
            ("client_id", client_id.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", VERIFIER),
        ],
    ] {
        let mut form = form;
        form.push(("code", code.as_str()));
        assert_error(
            &exchange(&app, &form).await,
            StatusCode::UNAUTHORIZED,
            "InvalidGrant",
        );
    }
    // None of those used the code up.
    let (status, token) = exchange(
        &app,
        &[
            ("client_id", client_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    // Missing fields and unknown codes.
    assert_error(
        &exchange(&app, &[("client_id", client_id.as_str())]).await,
        StatusCode::BAD_REQUEST,
        "InvalidParameterMissing",
    );
    assert_error(
        &exchange(&app, &[("client_id", "nope"), ("code", "abc")]).await,
        StatusCode::UNAUTHORIZED,
        "InvalidClient",
    );
    assert_error(
        &exchange(&app, &[("client_id", client_id.as_str()), ("code", "abc")]).await,
        StatusCode::UNAUTHORIZED,
        "InvalidGrant",
    );
}

#[tokio::test]
async fn a_code_expires_after_a_minute() {
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    app.user_with_role("dave", "user").await;
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);
    let code = code_for(&app, &mut browser, &client_id, "dave").await;
    clock.advance(Duration::from_secs(61));
    let form = [
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    assert_error(
        &exchange(&app, &form).await,
        StatusCode::UNAUTHORIZED,
        "InvalidGrant",
    );
}

/// The answer to a form without its token or from another site: 403 and the page's
/// documented sentence.
fn refused_form(answer: &crate::browser::Answer) {
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("This form came from another site or has expired"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn forms_without_their_token_or_from_another_site_are_refused() {
    let app = spawn_app().await;
    app.user_with_role("erin", "user").await;
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);
    let page = browser.get(&authorize_path(&client_id, "")).await;
    let q = page.field("q");
    let csrf = page.field("csrf");
    let missing = [
        ("csrf", ""),
        ("q", q.as_str()),
        ("username", "erin"),
        ("password", USER_PASSWORD),
    ];
    let answer = browser.post("/signin", &missing).await;
    refused_form(&answer);
    let mut good: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("q", &q),
        ("username", "erin"),
        ("password", USER_PASSWORD),
    ];
    let answer = browser
        .post_from("/signin", &good, "https://evil.example", "cross-site")
        .await;
    refused_form(&answer);
    let answer = browser
        .post_from("/signin", &good, "https://evil.example", "same-origin")
        .await;
    refused_form(&answer);
    assert!(!browser.cookies.contains_key("roster_session"));

    // Signed in; the consent form's token is the session's.
    good[0] = ("csrf", &csrf);
    let consent = browser.post("/signin", &good).await;
    assert_eq!(consent.status, StatusCode::OK);
    let q = consent.field("q");
    let answer = browser
        .post(
            "/v2/oauth/authorize",
            &[("csrf", csrf.as_str()), ("q", &q), ("decision", "allow")],
        )
        .await;
    refused_form(&answer);
    let token = consent.field("csrf");
    let answer = browser
        .post_from(
            "/v2/oauth/authorize",
            &[("csrf", token.as_str()), ("q", &q), ("decision", "allow")],
            "https://evil.example",
            "cross-site",
        )
        .await;
    refused_form(&answer);
}

#[tokio::test]
async fn wrong_passwords_are_told_and_lock_out_like_the_api() {
    let app = spawn_app().await;
    app.user_with_role("frank", "user").await;
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);
    let page = browser.get(&authorize_path(&client_id, "")).await;
    let mut last = browser.sign_in(&page, "frank", "wrong-password-1").await;
    assert_eq!(last.status, StatusCode::UNAUTHORIZED);
    assert!(last.body.contains("incorrect"), "{}", last.body);
    assert!(
        last.body.contains("value=\"frank\""),
        "the identity stays filled in"
    );
    for _ in 0..5 {
        last = browser.sign_in(&last, "frank", "wrong-password-1").await;
    }
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(last.body.contains("seconds"), "{}", last.body);
    // The API shares the lock.
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "frank"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_eq!(answer.0, StatusCode::TOO_MANY_REQUESTS);
    // Chinese pages by Accept-Language.
    browser.language = "zh-CN,zh;q=0.9,en;q=0.5";
    let page = browser.get(&authorize_path(&client_id, "")).await;
    assert!(page.body.contains("lang=\"zh-CN\""));
    assert!(page.body.contains("登录"));
}

#[tokio::test]
async fn a_session_ends_when_its_user_is_disabled_and_on_sign_out() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("gina", "user").await;
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);
    code_for(&app, &mut browser, &client_id, "gina").await;
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("gina"));

    // prompt=none with a session and consent still needed: consent_required; once the
    // user is disabled, its session is gone: login_required.
    let prompt_none = authorize_path(&client_id, "&prompt=none");
    for (status, error) in [
        (None, "consent_required"),
        (Some("disabled"), "login_required"),
    ] {
        if let Some(status) = status {
            let (code, body) = app
                .admin(
                    "/v2/user/update",
                    json!({"user_id": user_id, "status": status}),
                )
                .await;
            assert_eq!(code, StatusCode::OK, "{body}");
        }
        let answer = browser.get(&prompt_none).await;
        assert_eq!(answer.redirect_param("error").as_deref(), Some(error));
    }
    let (status, _) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": user_id, "status": "enabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Sign in again, then sign out.
    code_for(&app, &mut browser, &client_id, "gina").await;
    let account = browser.get("/account").await;
    let csrf = account.field("csrf");
    let out = browser.post("/signout", &[("csrf", csrf.as_str())]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!browser.cookies.contains_key("roster_session"));
    assert_eq!(
        browser.get("/account").await.location(),
        "/signin",
        "signed out"
    );
}

#[tokio::test]
async fn a_locked_users_session_ends_at_once_and_so_at_its_auto_lock_time() {
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    let (locked_id, _) = app.user_with_role("lena", "user").await;
    let (timed_id, _) = app.user_with_role("liam", "user").await;
    let client_id = spa(&app).await;
    let prompt_none = authorize_path(&client_id, "&prompt=none");
    let mut lena = Browser::new(&app);
    code_for(&app, &mut lena, &client_id, "lena").await;
    // An admin locks (eds-user LockUsers); the other user gets an auto-lock time an hour
    // ahead, then signs in.
    crate::eds::ok(&app, "LockUsers", &[("Users.1", locked_id.as_str())]).await;
    let lock_at = clock.now_ms() + 3_600_000;
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": timed_id, "expired_at": lock_at}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut liam = Browser::new(&app);
    code_for(&app, &mut liam, &client_id, "liam").await;

    let answer = lena.get(&prompt_none).await;
    assert_eq!(
        answer.redirect_param("error").as_deref(),
        Some("login_required")
    );
    assert_eq!(lena.get("/account").await.location(), "/signin");
    // Signing in again is refused like the password grant's.
    let page = lena.get(&authorize_path(&client_id, "")).await;
    let refused = lena.sign_in(&page, "lena", USER_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(refused.body.contains("incorrect"), "{}", refused.body);

    // Before its auto-lock time the session stands; at it, the session ends.
    let answer = liam.get(&prompt_none).await;
    assert_eq!(
        answer.redirect_param("error").as_deref(),
        Some("consent_required")
    );
    clock.advance(Duration::from_secs(3601));
    let answer = liam.get(&prompt_none).await;
    assert_eq!(
        answer.redirect_param("error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn code_flow_apps_are_checked_when_registered() {
    let app = spawn_app().await;
    let (_, user) = app.user_with_role("hank", "user").await;
    let (_, admin) = app.user_with_role("ivy", "admin").await;
    let good = json!({"app_name": "x", "app_type": "NativeApp",
                      "redirect_uris": ["com.example.app:/cb", "http://127.0.0.1/cb"]});
    for token in [&user, &admin] {
        let answer = app.call("/v2/app/create", token, good.clone()).await;
        assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    }
    let answer = crate::helpers::read(app.post("/v2/app/create", None, &good).await).await;
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED);
    let (status, created) = app.admin("/v2/app/create", good).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(
        created.get("client_secret").is_none(),
        "a public app has none"
    );
    for bad in [
        json!({"app_name": "x", "app_type": "WebServer"}),
        json!({"app_name": "x", "app_type": "WebServer", "redirect_uris": []}),
        json!({"app_name": "x", "app_type": "WebServer", "redirect_uris": ["http://a.example/cb"]}),
        json!({"app_name": "x", "app_type": "WebServer", "redirect_uris": ["https://a.example/cb#f"]}),
        json!({"app_name": "x", "app_type": "WebServer", "redirect_uris": ["com.example.app:/cb"]}),
        json!({"app_name": "x", "app_type": "WebServer", "redirect_uris": ["not a uri"]}),
        json!({"app_name": "x", "app_type": "SinglePageApp", "redirect_uris": [REDIRECT],
               "scopes": ["admin"]}),
        json!({"app_name": "x", "app_type": "WebServer", "redirect_uris": [REDIRECT],
               "public_key": "-----BEGIN PUBLIC KEY-----"}),
        json!({"app_name": "x", "app_type": "Mainframe", "redirect_uris": [REDIRECT]}),
    ] {
        let (status, body) = app.admin("/v2/app/create", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let _ = ADMIN_PASSWORD;
}

#[tokio::test]
async fn an_openid_provider_discovers_signs_id_tokens_and_answers_userinfo() {
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};

    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("olga", "user").await;
    let (status, group) = app
        .admin("/v2/group/create", json!({"group_name": "eng"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group_id = group["group_id"].as_str().unwrap();
    let (status, body) = app
        .admin(
            "/v2/group/add_member",
            json!({"group_id": group_id, "member_id": user_id, "member_type": "user"}),
        )
        .await;
    assert!(status.is_success(), "{body}");

    let (status, config) = app.get("/.well-known/openid-configuration").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["issuer"], app.address.as_str());
    assert_eq!(
        config["authorization_endpoint"],
        format!("{}/v2/oauth/authorize", app.address)
    );
    assert_eq!(
        config["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(config["code_challenge_methods_supported"], json!(["S256"]));

    let (_, jwks) = app.get("/.well-known/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["alg"] == "EdDSA"), "{jwks}");
    let rsa = keys
        .iter()
        .find(|k| k["alg"] == "RS256")
        .expect("an RS256 key");

    let (client_id, _) = register(
        &app,
        json!({"app_name": "Cloud", "app_type": "SinglePageApp", "redirect_uris": [REDIRECT]}),
    )
    .await;
    let mut browser = Browser::new(&app);
    let path = format!(
        "/v2/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code\
         &scope=openid%20profile%20email%20groups%20quota&nonce=n-0S6&state=s\
         &code_challenge={}&code_challenge_method=S256",
        urlencode(REDIRECT),
        challenge(VERIFIER)
    );
    let page = browser.get(&path).await;
    let consent = browser.sign_in(&page, "olga", USER_PASSWORD).await;
    let done = browser.consent(&consent, "allow").await;
    let code = done.redirect_param("code").unwrap();
    let (status, token) = exchange(
        &app,
        &[
            ("client_id", client_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let id_token = token["id_token"].as_str().expect("an id_token");
    let header = decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), rsa["kid"].as_str());
    let key =
        DecodingKey::from_rsa_components(rsa["n"].as_str().unwrap(), rsa["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&client_id]);
    validation.set_issuer(&[&app.address]);
    let claims = decode::<Value>(id_token, &key, &validation).unwrap().claims;
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["name"], "olga");
    assert_eq!(claims["groups"], json!([group_id]));
    assert!(claims["auth_time"].as_i64().unwrap() > 0);
    assert!(claims["quota"].is_string());

    // userinfo, GET and POST; refused without a valid token.
    let access = token["access_token"].as_str().unwrap();
    for post in [false, true] {
        let url = app.url("/oidc/userinfo");
        let request = if post {
            app.http.post(url)
        } else {
            app.http.get(url)
        };
        let (status, info) =
            crate::helpers::read(request.bearer_auth(access).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{info}");
        assert_eq!(info["sub"], user_id.as_str());
        assert_eq!(info["preferred_username"], "olga");
    }
    let response = app
        .http
        .get(app.url("/oidc/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let response = app
        .http
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(id_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "an ID token is no access token"
    );

    // RP-initiated logout ends the sign-in session and returns to a registered URI.
    let logout = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
            urlencode(REDIRECT)
        ))
        .await;
    assert!(
        logout.location().starts_with(REDIRECT),
        "{}",
        logout.location()
    );
    assert_eq!(logout.redirect_param("state").as_deref(), Some("bye"));
    assert_eq!(browser.get("/account").await.location(), "/signin");
    // An unregistered return address is not followed.
    let logout = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={id_token}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"
        ))
        .await;
    assert_eq!(logout.location(), "/signin");
}

/// Through sign-in and consent, for scope `openid groups quota`; answers the code.
async fn claims_code(browser: &mut Browser, client_id: &str, user: &str) -> String {
    let path = format!(
        "/v2/oauth/authorize?client_id={client_id}&redirect_uri={}&response_type=code\
         &scope=openid%20groups%20quota&state=s&code_challenge={}\
         &code_challenge_method=S256",
        urlencode(REDIRECT),
        challenge(VERIFIER)
    );
    let page = browser.get(&path).await;
    let consent = browser.sign_in(&page, user, USER_PASSWORD).await;
    let done = browser.consent(&consent, "allow").await;
    done.redirect_param("code").expect("a code")
}

async fn exchange_with_verifier(app: &TestApp, client_id: &str, code: &str) -> (StatusCode, Value) {
    exchange(
        app,
        &[
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn userinfo(app: &TestApp, access: &str) -> (StatusCode, Value) {
    crate::helpers::read(
        app.http
            .get(app.url("/oidc/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The `groups` and `quota` claims are the user's direct groups and its default drive's size
/// ("none" without a drive), from `userinfo`; a user locked between the authorization and
/// the exchange gets no tokens, and its code is used up by the refusal.
#[tokio::test]
async fn claims_name_the_groups_and_the_default_drive_and_a_locked_users_code_is_spent() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("gwen", "user").await;
    let (locked_id, _) = app.user_with_role("lars", "user").await;
    let mut group_ids = Vec::new();
    for name in ["b-team", "a-team"] {
        let (status, group) = app
            .admin("/v2/group/create", json!({"group_name": name}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{group}");
        let group_id = group["group_id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .admin(
                "/v2/group/add_member",
                json!({"group_id": group_id, "member_id": user_id, "member_type": "user"}),
            )
            .await;
        assert!(status.is_success(), "{body}");
        group_ids.push(group_id);
    }
    group_ids.sort();
    let (client_id, _) = register(
        &app,
        json!({"app_name": "Drive", "app_type": "SinglePageApp", "redirect_uris": [REDIRECT],
               "scopes": ["openid", "groups", "quota"]}),
    )
    .await;

    // No drive yet: quota "none"; both groups, by id.
    let code = claims_code(&mut Browser::new(&app), &client_id, "gwen").await;
    let (status, token) = exchange_with_verifier(&app, &client_id, &code).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let access = token["access_token"].as_str().unwrap();
    let (status, info) = userinfo(&app, access).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["sub"], user_id.as_str());
    assert_eq!(info["groups"], json!(group_ids));
    assert_eq!(info["quota"], "none");

    // A default drive of 5 GiB: its size, in bytes.
    let (status, drive) = app
        .admin(
            "/v2/drive/create",
            json!({"drive_name": "gwen", "owner": user_id, "owner_type": "user",
                   "default": true, "total_size": 5_368_709_120_i64}),
        )
        .await;
    assert!(status.is_success(), "{drive}");
    let (status, info) = userinfo(&app, access).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["quota"], "5368709120");
    assert_eq!(info["groups"], json!(group_ids));

    // A user locked after its code was issued: refused, and the code is spent.
    let code = claims_code(&mut Browser::new(&app), &client_id, "lars").await;
    crate::eds::ok(&app, "LockUsers", &[("Users.1", locked_id.as_str())]).await;
    assert_error(
        &exchange_with_verifier(&app, &client_id, &code).await,
        StatusCode::UNAUTHORIZED,
        "InvalidGrant",
    );
    crate::eds::ok(&app, "UnlockUsers", &[("Users.1", locked_id.as_str())]).await;
    assert_error(
        &exchange_with_verifier(&app, &client_id, &code).await,
        StatusCode::UNAUTHORIZED,
        "InvalidGrant",
    );
    // And a locked user's access token gets no userinfo.
    crate::eds::ok(&app, "LockUsers", &[("Users.1", user_id.as_str())]).await;
    let (status, _) = userinfo(&app, access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
