//! The console signs operators in as a first-party app of the hosted sign-in (issue 20):
//! authorization code + PKCE through `/v2/oauth/authorize` and `/console/callback`, its
//! tokens kept in HttpOnly cookies and admitted as the API admits bearer tokens.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Answer, Browser};
use crate::helpers::{spawn_app, spawn_with_manual_clock, TestApp, ADMIN_PASSWORD, USER_PASSWORD};

/// The query parameter `name` of a URL or path.
fn param(url: &str, name: &str) -> Option<String> {
    let full = if url.starts_with('/') {
        format!("http://x{url}")
    } else {
        url.to_owned()
    };
    reqwest::Url::parse(&full)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `path` of a redirect to this server (absolute or not).
fn on_site(browser: &Browser, location: &str) -> String {
    location
        .strip_prefix(&browser.base)
        .unwrap_or(location)
        .to_owned()
}

/// From `asked` (a console page, no session yet) through the sign-in page as `username`:
/// answers the redirect the sign-in form's post answered (to the console's callback).
async fn to_callback(browser: &mut Browser, asked: &str, username: &str, password: &str) -> Answer {
    let first = browser.get(asked).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let authorize = first.location();
    assert!(
        authorize.starts_with("/v2/oauth/authorize?client_id=roster-console&"),
        "{authorize}"
    );
    let signin = browser.get(&authorize).await;
    assert_eq!(signin.status, StatusCode::OK, "{}", signin.body);
    let done = browser.sign_in(&signin, username, password).await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    done
}

/// A browser signed in to the console as `username`, on `/console/users`.
async fn in_console(app: &TestApp, username: &str, password: &str) -> Browser {
    let mut browser = Browser::new(app);
    let done = to_callback(&mut browser, "/console/users", username, password).await;
    let path = on_site(&browser, &done.location());
    let back = browser.get(&path).await;
    assert_eq!(back.location(), "/console/users");
    browser
}

#[tokio::test]
async fn an_operator_signs_in_through_the_code_flow_and_lands_on_the_page_asked_for() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let first = browser.get("/console/users?q=adm&field=name").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let authorize = first.location();
    // The console's own app, PKCE (S256), a state, no consent page.
    assert_eq!(
        param(&authorize, "redirect_uri").unwrap(),
        format!("{}/console/callback", app.address)
    );
    assert_eq!(param(&authorize, "code_challenge_method").unwrap(), "S256");
    assert_eq!(param(&authorize, "hide_consent").unwrap(), "true");
    let state = param(&authorize, "state").unwrap();
    let flow_cookie = format!("roster_console_flow_{state}");
    let set: Vec<&str> = first
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let flow = set.iter().find(|c| c.starts_with(&flow_cookie)).unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console", "Max-Age=600"] {
        assert!(flow.contains(attribute), "{flow}");
    }
    assert!(!flow.contains("Secure"), "plain http: {flow}");

    let signin = browser.get(&authorize).await;
    assert_eq!(signin.status, StatusCode::OK);
    assert!(signin.body.contains("name=\"password\""), "{}", signin.body);
    let done = browser.sign_in(&signin, "admin", ADMIN_PASSWORD).await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    let callback = done.location();
    assert!(
        callback.starts_with(&format!("{}/console/callback?code=", app.address)),
        "{callback}"
    );
    assert_eq!(param(&callback, "state").unwrap(), state);
    assert_eq!(param(&callback, "iss").unwrap(), app.address);

    let back = browser.get(&on_site(&browser, &callback)).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location(), "/console/users?q=adm&field=name");
    assert!(
        !browser.cookies.contains_key(&flow_cookie),
        "a state is used once"
    );
    let kept: Vec<&str> = back
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .filter(|c| c.starts_with("roster_console"))
        .collect();
    assert!(kept.len() >= 2, "{kept:?}");
    for cookie in kept {
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("Path=/console"),
            "{cookie}"
        );
    }
    // The console's access token is an access token of the API, admitted the same way.
    let access = browser.cookies["roster_console"].clone();
    let (status, me) = app.call("/v2/user/get", &access, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], "admin");

    let page = browser.get(&back.location()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("data-user-id=\"admin\""),
        "{}",
        page.body
    );

    // The callback came once: used again, it is refused (state and code are spent).
    let again = browser.get(&on_site(&browser, &callback)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    // A browser signed in already goes straight through (no sign-in page, no consent).
    let mut other = Browser::new(&app);
    let page = other.get("/signin").await;
    other.sign_in(&page, "admin", ADMIN_PASSWORD).await;
    let landed = other.enter_console().await;
    assert_eq!(landed.status, StatusCode::OK, "{}", landed.body);
    // The console's first page: the overview.
    assert!(
        landed.body.contains("id=\"users-quota\""),
        "{}",
        landed.body
    );

    // A form post without a session comes back to the console's first page.
    let mut poster = Browser::new(&app);
    let first = poster
        .post("/console/users/new", &[("csrf", "x"), ("user_id", "eve")])
        .await;
    assert!(first.status.is_redirection());
    let signin = poster.get(&first.location()).await;
    let done = poster.sign_in(&signin, "admin", ADMIN_PASSWORD).await;
    let back = poster.get(&on_site(&poster, &done.location())).await;
    assert_eq!(back.location(), "/console");
    let (status, _) = app.admin("/v2/user/get", json!({"user_id": "eve"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_callback_with_another_state_or_without_its_cookie_is_refused() {
    let app = spawn_app().await;

    // Another state than the one this browser started with.
    let mut browser = Browser::new(&app);
    let done = to_callback(&mut browser, "/console", "admin", ADMIN_PASSWORD).await;
    let callback = on_site(&browser, &done.location());
    let state = param(&callback, "state").unwrap();
    let forged = callback.replace(&state, &"0".repeat(32));
    let refused = browser.get(&forged).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("not started in this browser"),
        "{}",
        refused.body
    );
    assert!(!browser.cookies.contains_key("roster_console"));

    // The right state but no flow cookie (another browser, or the cookie gone): refused,
    // and the code is not spent on it.
    let mut thief = Browser::new(&app);
    let refused = thief.get(&callback).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(!thief.cookies.contains_key("roster_console"));

    // The flow cookie with another PKCE verifier: the exchange refuses the code.
    let flow = format!("roster_console_flow_{state}");
    let kept = browser.cookies[&flow].clone();
    let (_, back) = kept.split_once('.').unwrap();
    browser
        .cookies
        .insert(flow.clone(), format!("{}.{back}", "a".repeat(64)));
    let refused = browser.get(&callback).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(!browser.cookies.contains_key("roster_console"));

    // Sign-ins begun and never finished do not pile up cookies.
    let mut idle = Browser::new(&app);
    for _ in 0..12 {
        idle.get("/console").await;
    }
    let flows = idle
        .cookies
        .keys()
        .filter(|k| k.starts_with("roster_console_flow_"))
        .count();
    assert!((1..=5).contains(&flows), "{flows}");

    // An error from the authorization server, and an answer from another issuer.
    let mut browser = Browser::new(&app);
    let first = browser.get("/console").await;
    let state = param(&first.location(), "state").unwrap();
    let refused = browser
        .get(&format!(
            "/console/callback?error=access_denied&state={state}"
        ))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let first = browser.get("/console").await;
    let state = param(&first.location(), "state").unwrap();
    let refused = browser
        .get(&format!(
            "/console/callback?code=abc&state={state}&iss=https%3A%2F%2Fevil.example"
        ))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(!browser.cookies.contains_key("roster_console"));

    // A return page of another site in the flow cookie is not followed.
    let mut browser = Browser::new(&app);
    let done = to_callback(&mut browser, "/console", "admin", ADMIN_PASSWORD).await;
    let callback = on_site(&browser, &done.location());
    let state = param(&callback, "state").unwrap();
    let flow = format!("roster_console_flow_{state}");
    let verifier = browser.cookies[&flow].split_once('.').unwrap().0.to_owned();
    browser
        .cookies
        .insert(flow, format!("{verifier}.%2F%2Fevil.example%2Fconsole"));
    let back = browser.get(&callback).await;
    assert_eq!(back.location(), "/console");
}

#[tokio::test]
async fn a_forged_host_does_not_change_the_console_redirect_uri() {
    let store = crate::helpers::TestStore::fresh().await;
    let mut config = store.config();
    config.public_url = Some("https://roster.example.test".into());
    let app = crate::helpers::spawn_with(store, config, ADMIN_PASSWORD).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = http
        .get(format!("{}/console/users", app.address))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        param(&location, "redirect_uri").unwrap(),
        "https://roster.example.test/console/callback"
    );
    let flow = first.headers()["set-cookie"].to_str().unwrap();
    assert!(flow.contains("; Secure"), "https public URL: {flow}");

    // Asking for a code for the forged host's callback: an error page, never a redirect.
    let forged = location.replace(
        "https%3A%2F%2Froster.example.test",
        "http%3A%2F%2Fevil.example",
    );
    assert_ne!(forged, location);
    for host in ["evil.example", "roster.example.test"] {
        let answer = http
            .get(format!("{}{forged}", app.address))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{host}");
        assert!(answer.headers().get("location").is_none());
    }
    // And the console's app cannot be registered by a tenant.
    let (status, body) = app
        .admin(
            "/v2/app/create",
            json!({"client_id": "roster-console", "app_name": "mine", "app_type": "WebServer",
                   "redirect_uris": ["https://evil.example/cb"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn a_locked_or_demoted_operator_is_refused_on_the_next_request() {
    let app = spawn_app().await;
    let (ada_id, _) = app.user_with_role("ada", "admin").await;
    let (abe_id, _) = app.user_with_role("abe", "admin").await;
    let mut ada = in_console(&app, "ada", USER_PASSWORD).await;
    let mut abe = in_console(&app, "abe", USER_PASSWORD).await;
    assert_eq!(ada.get("/console/users").await.status, StatusCode::OK);
    assert_eq!(abe.get("/console/users").await.status, StatusCode::OK);

    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": ada_id, "status": "disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refused = ada.get("/console/users").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(refused.location().starts_with("/v2/oauth/authorize?"));
    // Its sign-in session ended too: the sign-in page, not the console.
    let landed = ada.follow(refused).await;
    assert!(landed.body.contains("name=\"password\""), "{}", landed.body);
    assert!(!landed.body.contains("data-user-id"));

    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": abe_id, "role": "user"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refused = abe.get("/console/users").await;
    assert_ne!(refused.status, StatusCode::OK);
    assert!(!refused.body.contains("data-user-id"));
}

#[tokio::test]
async fn signing_out_ends_the_console_session_and_its_cookies_open_nothing() {
    let app = spawn_app().await;
    let mut browser = in_console(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console/users").await;
    let csrf = page.field("csrf");
    let old = browser.cookies.clone();

    // A cross-site post, and the sign-in session's form token, are refused.
    let refused = browser
        .post_from(
            "/console/signout",
            &[("csrf", &csrf)],
            "http://evil.example",
            "cross-site",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let account = browser.get("/account").await;
    let session_token = account.field("csrf");
    assert_ne!(session_token, csrf);
    let refused = browser
        .post("/console/signout", &[("csrf", &session_token)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = browser
        .post(
            "/console/users/new",
            &[("csrf", &session_token), ("user_id", "mallory")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let out = browser.post("/console/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(out.location(), "/signin");
    assert!(!browser.cookies.contains_key("roster_console"));
    assert!(!browser.cookies.contains_key("roster_session"));
    let again = browser.get("/console/users").await;
    assert!(again.location().starts_with("/v2/oauth/authorize?"));
    let landed = browser.follow(again).await;
    assert!(
        landed.body.contains("name=\"password\""),
        "signed out of Roster too"
    );

    // The cookies kept from before: refused, the refresh grant too.
    let mut replay = Browser::new(&app);
    replay.cookies = old.clone();
    let refused = replay.get("/console/users").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(refused.location().starts_with("/v2/oauth/authorize?"));
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &old["roster_console_refresh"]),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .admin("/v2/audit_log/list", json!({"action": "token.revoke"}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_plain_user_signs_in_and_gets_the_admins_only_page() {
    let app = spawn_app().await;
    app.user_with_role("pat", "user").await;
    let mut browser = Browser::new(&app);
    let done = to_callback(&mut browser, "/console/users", "pat", USER_PASSWORD).await;
    let landed = browser.follow(done).await;
    assert_eq!(landed.status, StatusCode::FORBIDDEN, "{}", landed.body);
    assert!(
        landed.body.contains("for administrators"),
        "{}",
        landed.body
    );
    assert!(!landed.body.contains("data-user-id"));
}

#[tokio::test]
async fn an_expired_access_token_is_renewed_through_the_refresh_grant() {
    // Sign-in sessions long enough for the access token to expire while unused.
    let (app, clock) = spawn_with_manual_clock(|c| {
        c.tokens.session_idle = Duration::from_secs(24 * 3600);
        c.tokens.session_max = Duration::from_secs(48 * 3600);
    })
    .await;
    let mut browser = in_console(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console/users").await;
    let csrf = page.field("csrf");
    let before = browser.cookies["roster_console_refresh"].clone();
    clock.advance(Duration::from_secs(3 * 3600));
    let renewed = browser.get("/console/users?q=adm").await;
    assert_eq!(renewed.status, StatusCode::SEE_OTHER, "{}", renewed.body);
    assert_eq!(renewed.location(), "/console/users?q=adm");
    assert_ne!(browser.cookies["roster_console_refresh"], before);
    let page = browser.get("/console/users?q=adm").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.field("csrf"),
        csrf,
        "the form token outlives a renewal"
    );

    // A form post on an expired token is repeated with its body (307).
    clock.advance(Duration::from_secs(3 * 3600));
    let posted = browser
        .post(
            "/console/users/new",
            &[("csrf", &csrf), ("user_id", "carol")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::TEMPORARY_REDIRECT);
    let posted = browser
        .post(&posted.location(), &[("csrf", &csrf), ("user_id", "carol")])
        .await;
    assert!(posted.status.is_redirection(), "{}", posted.body);
    // (The harness's admin token has expired by now: the console's renewed one asks.)
    let access = browser.cookies["roster_console"].clone();
    let (status, body) = app
        .call("/v2/user/get", &access, json!({"user_id": "carol"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// `path` on the console: the page, after a renewal's redirect to itself if there was one;
/// or the redirect to sign in.
async fn visit(browser: &mut Browser, path: &str) -> Answer {
    let answer = browser.get(path).await;
    if answer.status == StatusCode::SEE_OTHER && answer.location() == path {
        return browser.get(path).await;
    }
    answer
}

/// Asserts that the console sent `browser` to sign in again, its console cookies cleared,
/// and that the sign-in page asks for a password (no sign-in session signs it back in).
async fn assert_signed_out(app: &TestApp, browser: &mut Browser, answer: Answer, refresh: &str) {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(
        answer.location().starts_with("/v2/oauth/authorize?"),
        "{}",
        answer.location()
    );
    assert!(!browser.cookies.contains_key("roster_console"));
    assert!(!browser.cookies.contains_key("roster_console_refresh"));
    let landed = browser.follow(answer).await;
    assert!(landed.body.contains("name=\"password\""), "{}", landed.body);
    // The session's refresh token was revoked, not just forgotten by the browser.
    let (status, _) = app
        .token_grant(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_console_session_ends_past_the_idle_timeout_and_its_cookies_open_nothing() {
    // Defaults: 60 minutes idle, 12 hours at most; the access token lives 2 hours.
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    let mut browser = in_console(&app, "admin", ADMIN_PASSWORD).await;
    let kept = browser.cookies.clone();
    clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(
        visit(&mut browser, "/console/users").await.status,
        StatusCode::OK
    );

    clock.advance(Duration::from_secs(61 * 60));
    let refresh = browser.cookies["roster_console_refresh"].clone();
    let answer = browser.get("/console/users").await;
    assert_signed_out(&app, &mut browser, answer, &refresh).await;

    // Cookies kept from before (a copy, or a browser that ignores the clearing): refused.
    let mut replay = Browser::new(&app);
    replay.cookies = kept;
    let refused = replay.get("/console/users").await;
    assert!(refused.location().starts_with("/v2/oauth/authorize?"));
    let (status, body) = app
        .admin("/v2/audit_log/list", json!({"action": "token.revoke"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.to_string().contains("console session timed out"),
        "{body}"
    );
}

#[tokio::test]
async fn a_request_inside_the_idle_window_extends_the_console_session() {
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    let mut browser = in_console(&app, "admin", ADMIN_PASSWORD).await;
    // Every 50 minutes, well past one idle timeout in all (and past the access token's
    // 2 hours, renewed on the way): each request keeps the session.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(50 * 60));
        let page = visit(&mut browser, "/console/users").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }
    clock.advance(Duration::from_secs(61 * 60));
    let refresh = browser.cookies["roster_console_refresh"].clone();
    let answer = browser.get("/console/users").await;
    assert_signed_out(&app, &mut browser, answer, &refresh).await;
}

#[tokio::test]
async fn a_console_session_ends_at_the_absolute_lifetime_however_used() {
    let (app, clock) = spawn_with_manual_clock(|c| {
        c.tokens.session_max = Duration::from_secs(3 * 3600);
    })
    .await;
    let mut browser = in_console(&app, "admin", ADMIN_PASSWORD).await;
    // Used every 50 minutes: alive at 2 h 30 min...
    for _ in 0..3 {
        clock.advance(Duration::from_secs(50 * 60));
        let page = visit(&mut browser, "/console/users").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }
    // ...and over at 3 h 20 min, used or not.
    clock.advance(Duration::from_secs(50 * 60));
    let refresh = browser.cookies["roster_console_refresh"].clone();
    let answer = browser.get("/console/users").await;
    assert_signed_out(&app, &mut browser, answer, &refresh).await;
}

#[tokio::test]
async fn two_tabs_renewing_at_once_keep_the_console_session() {
    let (app, clock) = spawn_with_manual_clock(|c| {
        c.tokens.session_idle = Duration::from_secs(24 * 3600);
    })
    .await;
    let mut first = in_console(&app, "admin", ADMIN_PASSWORD).await;
    clock.advance(Duration::from_secs(3 * 3600));
    // Both tabs send the expired access token and the same refresh token.
    let mut second = Browser::new(&app);
    second.cookies = first.cookies.clone();
    let mut late = Browser::new(&app);
    late.cookies = first.cookies.clone();
    for tab in [&mut first, &mut second] {
        let renewed = tab.get("/console/users").await;
        assert_eq!(renewed.status, StatusCode::SEE_OTHER, "{}", renewed.body);
        assert_eq!(renewed.location(), "/console/users");
        let page = tab.get("/console/users").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }
    assert_ne!(
        first.cookies["roster_console_refresh"],
        second.cookies["roster_console_refresh"]
    );

    // Past the grace, the same token again is a reuse: the whole session ends.
    clock.advance(Duration::from_secs(11));
    let refused = late.get("/console/users").await;
    assert!(refused.location().starts_with("/v2/oauth/authorize?"));
    let refused = first.get("/console/users").await;
    assert!(refused.location().starts_with("/v2/oauth/authorize?"));
}
