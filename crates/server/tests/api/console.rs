//! The admin console (issue 20), driven like a browser: signed in through the hosted sign-in,
//! pages parsed, outcomes checked through the API.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Answer, Browser};
use crate::helpers::{spawn_app, TestApp, ADMIN_PASSWORD, USER_PASSWORD};

/// A browser signed in as `username` through `/signin`.
async fn signed_in(app: &TestApp, username: &str, password: &str) -> Browser {
    let mut browser = Browser::new(app);
    let page = browser.get("/signin").await;
    let done = browser.sign_in(&page, username, password).await;
    assert!(
        done.status.is_redirection(),
        "{}: {}",
        done.status,
        done.body
    );
    assert!(browser.cookies.contains_key("roster_session"));
    browser
}

/// The user ids of a users page's rows, in order.
fn rows(page: &Answer) -> Vec<String> {
    page.body
        .split("data-user-id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

/// The `href` of the link with `rel` (entities decoded), if any.
fn link(page: &Answer, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let start = page.body.find(&marker)? + marker.len();
    let end = start + page.body[start..].find('"').unwrap();
    Some(crate::browser::unescape(&page.body[start..end]))
}

#[tokio::test]
async fn anonymous_browsers_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    for path in [
        "/console",
        "/console/users",
        "/console/users/new",
        "/console/users/admin",
    ] {
        let page = browser.get(path).await;
        assert!(page.status.is_redirection(), "{path}: {}", page.status);
        assert_eq!(page.location(), "/signin", "{path}");
    }
    let posted = browser
        .post("/console/users/new", &[("csrf", "x"), ("user_id", "eve")])
        .await;
    assert!(posted.status.is_redirection());
    let (status, _) = app.admin("/v2/user/get", json!({"user_id": "eve"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_plain_user_is_told_the_console_is_for_administrators() {
    let app = spawn_app().await;
    app.user_with_role("pat", "user").await;
    let mut browser = signed_in(&app, "pat", USER_PASSWORD).await;
    let page = browser.get("/console/users").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("for administrators"), "{}", page.body);
    assert!(!page.body.contains("data-user-id"));
    browser.language = "zh-CN";
    let page = browser.get("/console/users").await;
    assert!(page.body.contains("仅限管理员"), "{}", page.body);
}

#[tokio::test]
async fn the_search_box_finds_by_prefix_and_substring_with_filters() {
    let app = spawn_app().await;
    for (id, nick) in [
        ("ann1", "Annie Ray"),
        ("ann2", "Zed"),
        ("bob", "Bobby Rayner"),
    ] {
        let body = json!({"user_id": id, "user_name": id, "nick_name": nick});
        let (status, body) = app.admin("/v2/user/create", body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    app.admin(
        "/v2/user/update",
        json!({"user_id": "bob", "email": "bob@example.com"}),
    )
    .await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;

    let page = browser.get("/console/users?q=ann").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(rows(&page), ["ann1", "ann2"]);
    let page = browser.get("/console/users?q=ray&field=nick").await;
    let mut found = rows(&page);
    found.sort();
    assert_eq!(found, ["ann1", "bob"]);
    let page = browser.get("/console/users?q=bob%40ex").await;
    assert_eq!(rows(&page), ["bob"]);
    let page = browser.get("/console/users?role=superadmin").await;
    assert!(rows(&page).contains(&"admin".to_owned()), "{}", page.body);
    assert!(!rows(&page).contains(&"ann1".to_owned()));
    app.admin(
        "/v2/user/update",
        json!({"user_id": "ann2", "status": "disabled"}),
    )
    .await;
    let page = browser.get("/console/users?q=ann&status=disabled").await;
    assert_eq!(rows(&page), ["ann2"]);
    // No count of all rows anywhere.
    assert!(!page.body.contains("total"), "{}", page.body);

    // Bad inputs: a sentence on the page, never JSON.
    let page = browser.get("/console/users?role=king").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("role is not valid"), "{}", page.body);
    assert!(!page.body.contains("\"code\""));
    let long = "x".repeat(300);
    let page = browser.get(&format!("/console/users?q={long}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("user_name is not valid"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn pages_go_forward_and_back_by_marker() {
    let app = spawn_app().await;
    for i in 0..120 {
        let (status, body) = app
            .admin(
                "/v2/user/create",
                json!({"user_id": format!("p{i:03}"), "user_name": format!("p{i:03}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let first = browser.get("/console/users?q=p").await;
    assert!(link(&first, "prev").is_none());
    let first_rows = rows(&first);
    assert_eq!(first_rows.len(), 50);
    let second = browser.get(&link(&first, "next").unwrap()).await;
    let second_rows = rows(&second);
    assert_eq!(second_rows.len(), 50);
    assert!(second_rows[0] > first_rows[49]);
    let third = browser.get(&link(&second, "next").unwrap()).await;
    assert_eq!(rows(&third).len(), 20);
    assert!(link(&third, "next").is_none());
    let back = browser.get(&link(&third, "prev").unwrap()).await;
    assert_eq!(rows(&back), second_rows);
    let back = browser.get(&link(&back, "prev").unwrap()).await;
    assert_eq!(rows(&back), first_rows);
    assert!(link(&back, "prev").is_none());
    let page = browser.get("/console/users?marker=not-a-marker").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
}

#[tokio::test]
async fn an_admin_creates_a_user_and_refusals_sit_next_to_their_field() {
    let app = spawn_app().await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let form = browser.get("/console/users/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.field("csrf");
    let made = browser
        .post(
            "/console/users/new",
            &[
                ("csrf", &csrf),
                ("user_id", "carol"),
                ("nick_name", "Carol"),
                ("email", "carol@example.com"),
            ],
        )
        .await;
    assert_eq!(made.location(), "/console/users/carol");
    let (status, user) = app.admin("/v2/user/get", json!({"user_id": "carol"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["nick_name"], "Carol");

    let again = browser
        .post(
            "/console/users/new",
            &[("csrf", &csrf), ("user_id", "carol")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already exists"), "{}", again.body);
    let bad = browser
        .post(
            "/console/users/new",
            &[("csrf", &csrf), ("user_id", "dave"), ("email", "not-mail")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"email-error\""), "{}", bad.body);
    assert!(
        bad.body.contains("value=\"dave\""),
        "the form keeps what was typed"
    );

    // CSRF: no token, a wrong token, another site.
    for (token, origin, site) in [
        ("", browser.base.clone(), "same-origin"),
        ("wrong", browser.base.clone(), "same-origin"),
        (
            csrf.as_str(),
            "http://evil.example".to_owned(),
            "cross-site",
        ),
    ] {
        let refused = browser
            .post_from(
                "/console/users/new",
                &[("csrf", token), ("user_id", "mallory")],
                &origin,
                site,
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let (status, _) = app
        .admin("/v2/user/get", json!({"user_id": "mallory"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn locking_a_user_asks_to_confirm_and_its_token_is_refused() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("lou", "user").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get(&format!("/console/users/{user_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.field("csrf");
    let action = format!("/console/users/{user_id}/action");

    let unconfirmed = browser
        .post(&action, &[("csrf", &csrf), ("action", "lock")])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(
        unconfirmed.body.contains("confirm is required"),
        "{}",
        unconfirmed.body
    );
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);

    let locked = browser
        .post(
            &action,
            &[("csrf", &csrf), ("action", "lock"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(locked.status, StatusCode::OK, "{}", locked.body);
    assert!(locked.body.contains("<span id=\"status\">locked</span>"));
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let unlocked = browser
        .post(&action, &[("csrf", &csrf), ("action", "unlock")])
        .await;
    assert!(unlocked.body.contains("<span id=\"status\">enabled</span>"));
    app.login("lou", USER_PASSWORD).await;

    let edited = browser
        .post(
            &format!("/console/users/{user_id}"),
            &[
                ("csrf", &csrf),
                ("nick_name", "Louise"),
                ("email", ""),
                ("phone", ""),
                ("description", "ops"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let (_, user) = app.admin("/v2/user/get", json!({"user_id": user_id})).await;
    assert_eq!(
        (user["nick_name"].as_str(), user["description"].as_str()),
        (Some("Louise"), Some("ops"))
    );

    let bad = browser
        .post(&action, &[("csrf", &csrf), ("action", "explode")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let missing = browser.get("/console/users/nobody").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_superadmins_change_roles() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("rita", "user").await;
    app.user_with_role("adam", "admin").await;

    let mut admin = signed_in(&app, "adam", USER_PASSWORD).await;
    let page = admin.get(&format!("/console/users/{user_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("name=\"role\""),
        "no role form for an admin"
    );
    let csrf = page.field("csrf");
    let action = format!("/console/users/{user_id}/action");
    let refused = admin
        .post(
            &action,
            &[("csrf", &csrf), ("action", "role"), ("role", "admin")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut superadmin = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = superadmin.get(&format!("/console/users/{user_id}")).await;
    assert!(page.body.contains("name=\"role\""));
    let csrf = page.field("csrf");
    let changed = superadmin
        .post(
            &action,
            &[("csrf", &csrf), ("action", "role"), ("role", "admin")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let (_, user) = app.admin("/v2/user/get", json!({"user_id": user_id})).await;
    assert_eq!(user["role"], "admin");
    let bad = superadmin
        .post(
            &action,
            &[("csrf", &csrf), ("action", "role"), ("role", "king")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn another_domains_users_are_out_of_reach() {
    let app = spawn_app().await;
    let (status, domain) = app
        .admin("/v2/domain/create", json!({"domain_name": "other"}))
        .await;
    assert!(status.is_success(), "{domain}");
    let domain_id = domain["domain_id"].as_str().unwrap().to_owned();
    let (_, other_admin) = app
        .admin("/v2/domain/get", json!({"domain_id": domain_id}))
        .await;
    let _ = other_admin;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    // The console only reads the session's own domain: an id from elsewhere is not found.
    let page = browser.get("/console/users/someone-elsewhere").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}
