//! The admin console (issue 20), driven like a browser: signed in through the hosted sign-in,
//! pages parsed, outcomes checked through the API.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Answer, Browser};
use crate::helpers::{spawn_app, TestApp, ADMIN_PASSWORD, USER_PASSWORD};
use crate::helpers::{Member, NewDrive};

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
    browser.enter_console().await;
    assert!(browser.cookies.contains_key("roster_console"));
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
        assert!(
            page.location()
                .starts_with("/v2/oauth/authorize?client_id=roster-console&"),
            "{path}: {}",
            page.location()
        );
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

/// Creates `count` users `pg000`... through `/v2/batch`: names that sort unlike their ids,
/// nick names that repeat, every fourth disabled; the first `in_group` members of `group`.
async fn paging_users(app: &TestApp, count: usize, group: &str, in_group: usize) {
    let users: Vec<_> = (0..count)
        .map(|i| {
            let groups = if i < in_group {
                json!([{"group_id": group}])
            } else {
                json!([])
            };
            let status = if i % 4 == 0 { "disabled" } else { "enabled" };
            json!({"id": format!("{i}"), "method": "POST", "url": "/user/create",
                   "body": {"user_id": format!("pg{i:03}"),
                            "user_name": format!("pn{:03}", (i * 37) % count),
                            "nick_name": format!("Paged {}", i % 3), "status": status,
                            "group_info_list": groups}})
        })
        .collect();
    for chunk in users.chunks(100) {
        let (status, answer) = app
            .admin("/v2/batch", json!({"resource": "user", "requests": chunk}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

/// Pages 1, 2, 3 of `search` forward, then "previous" from page 3 and again from what it
/// shows: page 2's rows, then page 1's with no previous link. Each link carries the search
/// and one marker, never the pages before it. Answers the three pages' rows.
async fn three_pages_and_back(browser: &mut Browser, search: &str) -> Vec<Vec<String>> {
    let first = browser.get(&format!("/console/users?{search}")).await;
    assert_eq!(first.status, StatusCode::OK, "{search}: {}", first.body);
    assert!(link(&first, "prev").is_none(), "{search}: page 1");
    let second = browser.get(&link(&first, "next").unwrap()).await;
    let to_third = link(&second, "next").unwrap();
    let third = browser.get(&to_third).await;
    let pages = [&first, &second, &third].map(rows);
    assert_eq!(pages[0].len(), 50, "{search}");
    assert_eq!(pages[1].len(), 50, "{search}");
    assert!(!pages[2].is_empty(), "{search}");
    let to_second = link(&third, "prev").unwrap();
    for to in [&to_third, &to_second] {
        assert!(
            to.starts_with(&format!("/console/users?{search}&marker=")),
            "{to}"
        );
        assert_eq!(to.matches("marker=").count(), 1, "{to}");
        assert!(!to.contains("back="), "{to}");
    }
    assert!(to_second.ends_with("&dir=before"), "{to_second}");
    let back = browser.get(&to_second).await;
    assert_eq!(back.status, StatusCode::OK, "{search}: {}", back.body);
    assert_eq!(rows(&back), pages[1], "{search}: previous from page 3");
    assert_eq!(link(&back, "next"), Some(to_third.clone()), "{search}");
    let back = browser.get(&link(&back, "prev").unwrap()).await;
    assert_eq!(rows(&back), pages[0], "{search}: previous from page 2");
    assert!(link(&back, "prev").is_none(), "{search}: page 1 read back");
    pages.into()
}

#[tokio::test]
async fn previous_reads_back_from_one_marker_for_each_search_and_a_group_admin() {
    let app = spawn_app().await;
    let setup = app.by_admin();
    let [top, team] = setup.group_path(["top", "team"]).await;
    paging_users(&app, 160, &team, 130).await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    // A name prefix (read in name order), a nick-name substring (in id order), filters.
    for search in ["q=pn", "q=aged&field=nick", "role=user&status=enabled"] {
        let pages = three_pages_and_back(&mut browser, search).await;
        let flat = pages.concat();
        let mut distinct = flat.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), flat.len(), "{search}: no row twice");
    }
    // A bad direction is a sentence on the page.
    let page = browser.get("/console/users?q=pn&dir=sideways").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("dir is not valid."), "{}", page.body);
    assert!(!page.body.contains("\"code\""));
    assert!(rows(&page).is_empty());

    // A group admin pages its subtree's 130 users both ways, and no one else.
    let (gadmin_id, _) = app.user_with_role("gadmin", "user").await;
    setup.make_group_admin(&top, Member::User(&gadmin_id)).await;
    let mut gadmin = signed_in(&app, "gadmin", USER_PASSWORD).await;
    let pages = three_pages_and_back(&mut gadmin, "role=user").await;
    let expected: Vec<String> = (0..130).map(|i| format!("pg{i:03}")).collect();
    assert_eq!(pages.concat(), expected);
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

/// The group ids of a groups page's subgroup rows.
fn subgroups(page: &Answer) -> Vec<String> {
    page.body
        .split("data-group-id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn groups_open_level_by_level_and_change_through_the_services() {
    let app = spawn_app().await;
    app.create_user("gus", "Gus").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let top = browser.get("/console/groups").await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.body);
    let csrf = top.field("csrf");
    let act = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(fields);
        form
    };
    let post = |browser: &mut Browser, form: Vec<(&'static str, String)>| {
        let form: Vec<(&str, String)> = form;
        let pairs: Vec<(String, String)> =
            form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let base = browser.base.clone();
        let http = browser.http.clone();
        let cookie = browser.cookie_header();
        async move {
            http.post(format!("{base}/console/groups/action"))
                .header("cookie", cookie)
                .header("origin", base.clone())
                .header("sec-fetch-site", "same-origin")
                .form(&pairs)
                .send()
                .await
                .unwrap()
        }
    };

    // Create "eng" at the top, "web" under it.
    let made = post(
        &mut browser,
        act(vec![
            ("action", "create".into()),
            ("group_name", "eng".into()),
        ]),
    )
    .await;
    assert!(made.status().is_redirection(), "{}", made.status());
    let top = browser.get("/console/groups").await;
    let eng = subgroups(&top)[0].clone();
    let made = post(
        &mut browser,
        act(vec![
            ("action", "create".into()),
            ("group_id", eng.clone()),
            ("group_name", "web".into()),
        ]),
    )
    .await;
    assert!(made.status().is_redirection());
    let level = browser
        .get(&format!("/console/groups?group_id={eng}"))
        .await;
    let web = subgroups(&level);
    assert_eq!(web.len(), 1, "{}", level.body);
    let web = web[0].clone();
    // The top level shows only "eng", not its child.
    assert_eq!(
        subgroups(&browser.get("/console/groups").await),
        [eng.as_str()]
    );

    // Never into its own subtree: a sentence on the page, nothing moved.
    let refused = post(
        &mut browser,
        act(vec![
            ("action", "move".into()),
            ("group_id", eng.clone()),
            ("parent_group_id", web.clone()),
        ]),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains("id=\"action-error\""), "{body}");
    // Move "web" to the top, rename it, add a member, see it in general_search.
    let moved = post(
        &mut browser,
        act(vec![
            ("action", "move".into()),
            ("group_id", web.clone()),
            ("parent_group_id", String::new()),
        ]),
    )
    .await;
    assert!(moved.status().is_redirection());
    let mut top_ids = subgroups(&browser.get("/console/groups").await);
    top_ids.sort();
    let mut want = vec![eng.clone(), web.clone()];
    want.sort();
    assert_eq!(top_ids, want);
    post(
        &mut browser,
        act(vec![
            ("action", "rename".into()),
            ("group_id", web.clone()),
            ("group_name", "www".into()),
        ]),
    )
    .await;
    let (_, group) = app.admin("/v2/group/get", json!({"group_id": web})).await;
    assert_eq!(group["group_name"], "www");
    let added = post(
        &mut browser,
        act(vec![
            ("action", "add_user".into()),
            ("group_id", web.clone()),
            ("user_id", "gus".into()),
        ]),
    )
    .await;
    assert!(added.status().is_redirection());
    let (_, found) = app
        .admin(
            "/v2/user/general_search",
            json!({"parent_group_id_list": [web]}),
        )
        .await;
    assert_eq!(found["items"][0]["user_id"], "gus", "{found}");
    let level = browser
        .get(&format!("/console/groups?group_id={web}"))
        .await;
    assert!(level.body.contains("data-user-id=\"gus\""));
    post(
        &mut browser,
        act(vec![
            ("action", "remove_user".into()),
            ("group_id", web.clone()),
            ("user_id", "gus".into()),
        ]),
    )
    .await;
    let (_, found) = app
        .admin(
            "/v2/user/general_search",
            json!({"parent_group_id_list": [web]}),
        )
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 0);

    // Delete asks to confirm.
    let unconfirmed = post(
        &mut browser,
        act(vec![("action", "delete".into()), ("group_id", web.clone())]),
    )
    .await;
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    let deleted = post(
        &mut browser,
        act(vec![
            ("action", "delete".into()),
            ("group_id", web.clone()),
            ("confirm", "yes".into()),
        ]),
    )
    .await;
    assert!(deleted.status().is_redirection());
    let (status, _) = app.admin("/v2/group/get", json!({"group_id": web})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bad inputs and CSRF.
    let empty = post(
        &mut browser,
        act(vec![
            ("action", "create".into()),
            ("group_name", String::new()),
        ]),
    )
    .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let missing = browser.get("/console/groups?group_id=nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let forged = browser
        .post_from(
            "/console/groups/action",
            &[
                ("csrf", "forged"),
                ("action", "create"),
                ("group_name", "x"),
            ],
            &browser.base.clone(),
            "same-origin",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // A plain user is refused here too.
    app.user_with_role("pia", "user").await;
    let mut plain = signed_in(&app, "pia", USER_PASSWORD).await;
    assert_eq!(
        plain.get("/console/groups").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_group_admin_sees_and_changes_only_its_subtree() {
    let app = spawn_app().await;
    let setup = app.by_admin();
    let [a, b, c] = setup.group_path(["a", "b", "c"]).await;
    let other = app.create_group("other", None).await;
    app.create_user("insider", "In").await;
    app.create_user("outsider", "Out").await;
    app.create_user("loose", "Loose").await;
    setup.add_member(&c, Member::User("insider")).await;
    setup.add_member(&other, Member::User("outsider")).await;
    let (gadmin_id, _) = app.user_with_role("gadmin", "user").await;
    setup.make_group_admin(&b, Member::User(&gadmin_id)).await;
    let mut browser = signed_in(&app, "gadmin", USER_PASSWORD).await;

    // Users: only those of its subtree, in the list, in a search and by address.
    let page = browser.get("/console/users").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(rows(&page), ["insider"]);
    assert!(!page.body.contains("/console/users/new"));
    let page = browser.get("/console/users?q=out").await;
    assert!(rows(&page).is_empty(), "{}", page.body);
    let page = browser.get("/console/users?q=ou&field=nick").await;
    assert!(rows(&page).is_empty(), "{}", page.body);
    for outside in ["outsider", "loose", "admin"] {
        let page = browser.get(&format!("/console/users/{outside}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{outside}");
        assert!(!page.body.contains(outside), "{}", page.body);
    }
    let page = browser.get("/console/users/insider").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("value=\"lock\""), "{}", page.body);

    // Users stay the admins' to change: the service refuses, nothing changes.
    let csrf = page.field("csrf");
    for user in ["insider", "outsider"] {
        let refused = browser
            .post(
                &format!("/console/users/{user}/action"),
                &[("csrf", &csrf), ("action", "lock"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{user}");
        let (_, got) = app.admin("/v2/user/get", json!({"user_id": user})).await;
        assert_eq!(got["status"], "enabled", "{user}");
    }

    // Groups: its top level is the group it administers; nothing above or beside it opens.
    let top = browser.get("/console/groups").await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.body);
    assert_eq!(subgroups(&top), [b.as_str()]);
    assert!(!top.body.contains("value=\"create\""));
    for outside in [&a, &other] {
        let page = browser
            .get(&format!("/console/groups?group_id={outside}"))
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
        assert!(!page.body.contains("data-user-id"), "{}", page.body);
    }
    let level = browser.get(&format!("/console/groups?group_id={c}")).await;
    assert_eq!(level.status, StatusCode::OK);
    assert!(level.body.contains("data-user-id=\"insider\""));

    // Changes inside its subtree go through; outside it the service refuses.
    let added = browser
        .post(
            "/console/groups/action",
            &[
                ("csrf", &csrf),
                ("action", "add_user"),
                ("group_id", &c),
                ("user_id", "loose"),
            ],
        )
        .await;
    assert!(added.status.is_redirection(), "{}", added.body);
    for (action, group, extra) in [
        ("add_user", &other, ("user_id", "insider")),
        ("add_user", &a, ("user_id", "insider")),
        ("rename", &other, ("group_name", "mine")),
        ("delete", &b, ("confirm", "yes")),
        ("create", &other, ("group_name", "sneaky")),
        ("move", &c, ("parent_group_id", other.as_str())),
    ] {
        let refused = browser
            .post(
                "/console/groups/action",
                &[
                    ("csrf", &csrf),
                    ("action", action),
                    ("group_id", group),
                    extra,
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{action} {group}");
    }
    let (_, found) = app
        .admin(
            "/v2/user/general_search",
            json!({"parent_group_id_list": [other]}),
        )
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    let (_, got) = app.admin("/v2/group/get", json!({"group_id": other})).await;
    assert_eq!(got["group_name"], "other");
    let (_, got) = app.admin("/v2/group/get", json!({"group_id": c})).await;
    assert_eq!(got["parent_group_id"], json!(b));

    // The user it just added is now one of its users.
    let page = browser.get("/console/users").await;
    assert_eq!(rows(&page), ["insider", "loose"]);

    // Once its assignment ends, it is a plain user again.
    let body = json!({"identity": {"identity_type": "IT_User", "identity_id": gadmin_id},
                      "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
                      "manage_resource_id": b});
    let (status, _) = app.admin("/v2/role/cancel_assign", body).await;
    assert!(status.is_success(), "{status}");
    let page = browser.get("/console/users").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("for administrators"));
}

/// The log ids of an audit page's rows.
fn records(page: &Answer) -> Vec<String> {
    page.body
        .split("data-log-id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports_what_the_api_lists() {
    let app = spawn_app().await;
    for i in 0..55 {
        app.create_user(&format!("a{i:02}"), "A").await;
    }
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let first = browser.get("/console/audit?action=user.create").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let first_rows = records(&first);
    assert_eq!(first_rows.len(), 50);
    assert!(link(&first, "prev").is_none());
    let second = browser.get(&link(&first, "next").unwrap()).await;
    let second_rows = records(&second);
    assert!(second_rows.len() >= 5, "{}", second.body);
    assert!(second_rows.iter().all(|id| !first_rows.contains(id)));
    let back = browser.get(&link(&second, "prev").unwrap()).await;
    assert_eq!(records(&back), first_rows);

    // The same filters through the API give the same records.
    let (_, listed) = app
        .admin(
            "/v2/audit_log/list",
            json!({"query": "action_type = 'user.create'", "limit": 50}),
        )
        .await;
    let api_ids: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["log_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(api_ids, first_rows);

    // Filters combine: an actor and outcome that match nothing.
    let none = browser
        .get("/console/audit?action=user.create&outcome=failure")
        .await;
    assert!(records(&none).is_empty());
    let mine = browser
        .get("/console/audit?actor=nobody-at-all&action=user.create")
        .await;
    assert!(records(&mine).is_empty());
    let after = browser
        .get("/console/audit?action=user.create&from=2999-01-01T00:00")
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(records(&after).is_empty());

    // CSV export of the same filters: a header and one line a record.
    let export = browser
        .get("/console/audit/export?action=user.create")
        .await;
    assert_eq!(export.status, StatusCode::OK);
    let lines: Vec<&str> = export.body.lines().collect();
    assert!(lines[0].starts_with("log_id,acted_at"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + first_rows.len() + second_rows.len());
    assert!(lines[1..].iter().all(|l| l.contains(",user.create,")));

    // Bad inputs: a sentence next to the field, never JSON.
    let bad = browser.get("/console/audit?to=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"to-error\""), "{}", bad.body);
    assert!(bad.body.contains("to is not valid"));
    let bad = browser.get("/console/audit?marker=junk").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!bad.body.contains("\"code\""));
    let bad = browser.get("/console/audit/export?from=soon").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_outbox_shows_mail_not_sent() {
    let app = spawn_app().await;
    let body = json!({"user_id": "mia", "user_name": "mia", "email": "mia@example.com"});
    let (status, _) = app.admin("/v2/user/create", body).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let empty = browser.get("/console/outbox").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(!empty.body.contains("mia@example.com"));
    let user = browser.get("/console/users/mia").await;
    let csrf = user.field("csrf");
    let sent = browser
        .post(
            "/console/users/mia/action",
            &[("csrf", &csrf), ("action", "reset")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let (_, listed) = app.admin("/v2/outbox/list", json!({})).await;
    assert_eq!(listed["items"][0]["recipient"], "mia@example.com");
    let page = browser.get("/console/outbox").await;
    assert!(page.body.contains("mia@example.com"), "{}", page.body);
    let bad = browser.get("/console/outbox?marker=junk").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_audit_log_and_outbox_are_for_admins_only() {
    let app = spawn_app().await;
    let mut anonymous = Browser::new(&app);
    for path in ["/console/audit", "/console/audit/export", "/console/outbox"] {
        let page = anonymous.get(path).await;
        assert!(
            page.location()
                .starts_with("/v2/oauth/authorize?client_id=roster-console&"),
            "{path}: {}",
            page.location()
        );
    }
    app.user_with_role("pat", "user").await;
    let mut plain = signed_in(&app, "pat", USER_PASSWORD).await;
    let g = app.create_group("g", None).await;
    let (gadmin_id, _) = app.user_with_role("gadmin", "user").await;
    app.by_admin()
        .make_group_admin(&g, Member::User(&gadmin_id))
        .await;
    let mut gadmin = signed_in(&app, "gadmin", USER_PASSWORD).await;
    for path in ["/console/audit", "/console/audit/export", "/console/outbox"] {
        let page = plain.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("for administrators"));
        let page = gadmin.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!page.body.contains("log_id"), "{path}");
        assert!(!page.body.contains("data-log-id"), "{path}");
    }
}

/// The drive ids of a drives page's rows.
fn drive_rows(page: &Answer) -> Vec<String> {
    page.body
        .split("data-drive-id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn drives_are_found_requoted_and_deleted_through_the_services() {
    let app = spawn_app().await;
    app.create_user("dora", "Dora").await;
    app.create_user("ed", "Ed").await;
    let setup = app.by_admin();
    let photos = setup.drive(NewDrive::of_user("dora", "Photos")).await;
    let music = setup.drive(NewDrive::of_user("dora", "Music")).await;
    let eds = setup.drive(NewDrive::of_user("ed", "Photos of Ed")).await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;

    let user = browser.get("/console/users/dora").await;
    assert!(user.body.contains("href=\"/console/drives?owner=dora\""));
    // Its audit history: what was done to it, newest first, linked to the audit page.
    let history: Vec<String> = user
        .body
        .split("<li data-log-id=\"")
        .skip(1)
        .map(|s| s.to_owned())
        .collect();
    assert_eq!(history.len(), 1, "{}", user.body);
    assert!(history[0].contains("user.create"));
    assert!(user.body.contains("href=\"/console/audit?object=dora\""));
    let page = browser.get("/console/drives?owner=dora").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut found = drive_rows(&page);
    found.sort();
    let mut want = vec![photos.clone(), music.clone()];
    want.sort();
    assert_eq!(found, want);
    let page = browser.get("/console/drives?name=photo").await;
    let mut found = drive_rows(&page);
    found.sort();
    let mut want = vec![photos.clone(), eds.clone()];
    want.sort();
    assert_eq!(found, want);
    let csrf = page.field("csrf");

    // A new quota, in MiB; then the API reads it in bytes.
    let set = browser
        .post(
            "/console/drives/action",
            &[
                ("csrf", &csrf),
                ("action", "quota"),
                ("drive_id", &photos),
                ("total_mib", "5"),
                ("owner", "dora"),
            ],
        )
        .await;
    assert!(set.status.is_redirection(), "{}", set.body);
    assert_eq!(set.location(), "/console/drives?owner=dora");
    let (_, drive) = app
        .admin("/v2/drive/get", json!({"drive_id": photos}))
        .await;
    assert_eq!(drive["total_size"], 5 << 20);
    // Bad quotas: a sentence next to the drive's field, nothing changed.
    for bad in ["lots", "-7", ""] {
        let refused = browser
            .post(
                "/console/drives/action",
                &[
                    ("csrf", &csrf),
                    ("action", "quota"),
                    ("drive_id", &photos),
                    ("total_mib", bad),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            refused.body.contains("id=\"drive-error\""),
            "{}",
            refused.body
        );
    }
    let (_, drive) = app
        .admin("/v2/drive/get", json!({"drive_id": photos}))
        .await;
    assert_eq!(drive["total_size"], 5 << 20);

    // Delete asks to confirm.
    let unconfirmed = browser
        .post(
            "/console/drives/action",
            &[("csrf", &csrf), ("action", "delete"), ("drive_id", &music)],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(unconfirmed.body.contains("confirm is required"));
    let (status, _) = app.admin("/v2/drive/get", json!({"drive_id": music})).await;
    assert_eq!(status, StatusCode::OK);
    let deleted = browser
        .post(
            "/console/drives/action",
            &[
                ("csrf", &csrf),
                ("action", "delete"),
                ("drive_id", &music),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert!(deleted.status.is_redirection());
    let (status, _) = app.admin("/v2/drive/get", json!({"drive_id": music})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // CSRF: a post from another site changes nothing.
    let refused = browser
        .post_from(
            "/console/drives/action",
            &[
                ("csrf", &csrf),
                ("action", "delete"),
                ("drive_id", &eds),
                ("confirm", "yes"),
            ],
            "http://evil.example",
            "cross-site",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (status, _) = app.admin("/v2/drive/get", json!({"drive_id": eds})).await;
    assert_eq!(status, StatusCode::OK);

    // Plain users and group admins: refused, nothing listed or deleted.
    app.user_with_role("pat", "user").await;
    let g = app.create_group("g", None).await;
    let (gadmin_id, _) = app.user_with_role("gadmin", "user").await;
    setup.make_group_admin(&g, Member::User(&gadmin_id)).await;
    for who in ["pat", "gadmin"] {
        let mut other = signed_in(&app, who, USER_PASSWORD).await;
        let page = other.get("/console/drives").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{who}");
        assert!(drive_rows(&page).is_empty());
        let token = if who == "gadmin" {
            other.get("/console/users").await.field("csrf")
        } else {
            "x".to_owned()
        };
        let refused = other
            .post(
                "/console/drives/action",
                &[
                    ("csrf", &token),
                    ("action", "delete"),
                    ("drive_id", &eds),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{who}");
    }
    let (status, _) = app.admin("/v2/drive/get", json!({"drive_id": eds})).await;
    assert_eq!(status, StatusCode::OK);
}

/// A user who administers a group through a group it is a member of (a role held by the
/// group, as `/v2/role/assign` with `IT_Group` gives it) is a group admin in the console
/// too, with the same subtree the API lets it manage.
#[tokio::test]
async fn a_group_admin_through_its_group_sees_that_subtree() {
    let app = spawn_app().await;
    let setup = app.by_admin();
    let [_, b, c] = setup.group_path(["a", "b", "c"]).await;
    let holders = app.create_group("b-admins", None).await;
    app.create_user("insider", "In").await;
    app.create_user("outsider", "Out").await;
    setup.add_member(&c, Member::User("insider")).await;
    let (member_id, _) = app.user_with_role("gm", "user").await;
    setup.add_member(&holders, Member::User(&member_id)).await;

    // Not yet a group admin: the admins-only page.
    let mut browser = signed_in(&app, "gm", USER_PASSWORD).await;
    assert_eq!(
        browser.get("/console/users").await.status,
        StatusCode::FORBIDDEN
    );

    setup.make_group_admin(&b, Member::Group(&holders)).await;
    let page = browser.get("/console/users").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(rows(&page), ["insider"]);
    let top = browser.get("/console/groups").await;
    assert_eq!(subgroups(&top), [b.as_str()]);
    let page = browser.get("/console/users/outsider").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}
