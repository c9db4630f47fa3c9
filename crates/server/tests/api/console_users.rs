//! The console's user tasks (logon accounts, access keys, sign-in sessions, auto-lock) and
//! users as CSV (import with rejects, export of a search), driven like a browser; outcomes
//! checked through the API.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Answer, Browser};
use crate::helpers::{spawn_app, Member, TestApp, ADMIN_PASSWORD, USER_PASSWORD};

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
    browser.enter_console().await;
    assert!(browser.cookies.contains_key("roster_console"));
    browser
}

/// Posts one task of a user's page from this site.
async fn task(browser: &mut Browser, user_id: &str, csrf: &str, fields: &[(&str, &str)]) -> Answer {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    browser
        .post(&format!("/console/users/{user_id}/task"), &form)
        .await
}

/// The text of the element with `id` (up to its first `<`), if the page has it.
fn text_of(page: &Answer, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = page.body.find(&marker)? + marker.len();
    let end = start + page.body[start..].find('<')?;
    Some(crate::browser::unescape(&page.body[start..end]))
}

#[tokio::test]
async fn logon_accounts_are_linked_and_unlinked_from_a_users_page() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("lena", "user").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get(&format!("/console/users/{user_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("data-identity=\"lena\""),
        "{}",
        page.body
    );
    let csrf = page.field("csrf");

    let linked = task(
        &mut browser,
        &user_id,
        &csrf,
        &[
            ("task", "link"),
            ("kind", "email"),
            ("identity", "lena@example.org"),
        ],
    )
    .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert!(linked.body.contains("data-identity=\"lena@example.org\""));
    let (status, info) = app
        .admin(
            "/v2/account/get_link_info",
            json!({"type": "email", "identity": "lena@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["user_id"], json!(user_id));
    app.login("lena@example.org", USER_PASSWORD).await;

    // Bad inputs come back as sentences, next to their field; nothing is linked.
    let taken = task(
        &mut browser,
        "admin",
        &csrf,
        &[
            ("task", "link"),
            ("kind", "email"),
            ("identity", "lena@example.org"),
        ],
    )
    .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(
        taken.body.contains("That already exists."),
        "{}",
        taken.body
    );
    let bad_kind = task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "link"), ("kind", "pigeon"), ("identity", "x")],
    )
    .await;
    assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_kind.body.contains("kind is not valid."),
        "{}",
        bad_kind.body
    );
    let bad_mail = task(
        &mut browser,
        &user_id,
        &csrf,
        &[
            ("task", "link"),
            ("kind", "email"),
            ("identity", "not-mail"),
        ],
    )
    .await;
    assert_eq!(bad_mail.status, StatusCode::BAD_REQUEST);
    assert!(!bad_mail.body.contains('{'), "no JSON: {}", bad_mail.body);

    // Unlinking asks to confirm.
    let unconfirmed = task(
        &mut browser,
        &user_id,
        &csrf,
        &[
            ("task", "unlink"),
            ("kind", "email"),
            ("identity", "lena@example.org"),
        ],
    )
    .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(unconfirmed.body.contains("confirm is required"));
    let unlinked = task(
        &mut browser,
        &user_id,
        &csrf,
        &[
            ("task", "unlink"),
            ("kind", "email"),
            ("identity", "lena@example.org"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.body);
    let (status, _) = app
        .admin(
            "/v2/account/get_link_info",
            json!({"type": "email", "identity": "lena@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unknown_task = task(&mut browser, &user_id, &csrf, &[("task", "explode")]).await;
    assert_eq!(unknown_task.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn access_keys_are_created_once_disabled_and_deleted_from_a_users_page() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("kai", "user").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get(&format!("/console/users/{user_id}")).await;
    let csrf = page.field("csrf");

    let created = task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "key_create"), ("key_description", "backup job")],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let key_id = text_of(&created, "issued-key-id").expect("the new key's id");
    let secret = text_of(&created, "issued-key-secret").expect("its secret, once");
    assert!(!secret.is_empty());
    let (_, list) = app
        .admin("/v2/access_key/list", json!({"user_id": user_id}))
        .await;
    assert_eq!(list["items"][0]["access_key_id"], json!(key_id));
    assert_eq!(list["items"][0]["description"], "backup job");
    // Shown once: the page read again has the key, not its secret.
    let again = browser.get(&format!("/console/users/{user_id}")).await;
    assert!(again.body.contains(&format!("data-key-id=\"{key_id}\"")));
    assert!(!again.body.contains(&secret));

    let disabled = task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "key_disable"), ("access_key_id", &key_id)],
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    let (_, got) = app
        .admin("/v2/access_key/get", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(got["status"], "disabled");
    task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "key_enable"), ("access_key_id", &key_id)],
    )
    .await;
    let (_, got) = app
        .admin("/v2/access_key/get", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(got["status"], "enabled");

    // A key of another user is not this page's to change.
    let elsewhere = task(
        &mut browser,
        "admin",
        &csrf,
        &[("task", "key_disable"), ("access_key_id", &key_id)],
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let unconfirmed = task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "key_delete"), ("access_key_id", &key_id)],
    )
    .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    let deleted = task(
        &mut browser,
        &user_id,
        &csrf,
        &[
            ("task", "key_delete"),
            ("access_key_id", &key_id),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let (status, _) = app
        .admin("/v2/access_key/get", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let missing = task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "key_disable"), ("access_key_id", "")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sessions_are_listed_and_ended_and_the_auto_lock_time_set_and_cleared() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("sam", "user").await;
    let _sams_browser = signed_in(&app, "sam", USER_PASSWORD).await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get(&format!("/console/users/{user_id}")).await;
    assert!(
        page.body.contains("<ul id=\"sessions\"><li>"),
        "{}",
        page.body
    );
    let csrf = page.field("csrf");

    let unconfirmed = task(&mut browser, &user_id, &csrf, &[("task", "end_sessions")]).await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let ended = task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "end_sessions"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert!(
        !ended.body.contains("<ul id=\"sessions\">"),
        "{}",
        ended.body
    );
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, user) = app.admin("/v2/user/get", json!({"user_id": user_id})).await;
    assert_eq!(user["status"], "enabled", "ending sessions does not lock");

    let set = task(
        &mut browser,
        &user_id,
        &csrf,
        &[
            ("task", "autolock_set"),
            ("auto_lock_at", "2099-01-31T18:00"),
        ],
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert!(
        set.body.contains("value=\"2099-01-31T18:00\""),
        "{}",
        set.body
    );
    let (_, user) = app.admin("/v2/user/get", json!({"user_id": user_id})).await;
    assert_eq!(user["expired_at"], json!(4_073_565_600_000_i64));
    let bad = task(
        &mut browser,
        &user_id,
        &csrf,
        &[("task", "autolock_set"), ("auto_lock_at", "tomorrow")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("auto_lock_at is not valid."),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("aria-invalid=\"true\""));
    let cleared = task(&mut browser, &user_id, &csrf, &[("task", "autolock_clear")]).await;
    assert_eq!(cleared.status, StatusCode::OK);
    let (_, user) = app.admin("/v2/user/get", json!({"user_id": user_id})).await;
    assert_eq!(user["expired_at"], json!(0));
}

#[tokio::test]
async fn user_tasks_keep_the_apis_permission_rules_and_refuse_cross_site_posts() {
    let app = spawn_app().await;
    let setup = app.by_admin();
    let (user_id, token) = app.user_with_role("tess", "user").await;
    let group = app.create_group("team", None).await;
    setup.add_member(&group, Member::User(&user_id)).await;
    let (gadmin_id, _) = app.user_with_role("gina", "user").await;
    setup
        .make_group_admin(&group, Member::User(&gadmin_id))
        .await;
    app.user_with_role("adam", "admin").await;
    let tasks: [&[(&str, &str)]; 3] = [
        &[("task", "end_sessions"), ("confirm", "yes")],
        &[("task", "key_create")],
        &[("task", "link"), ("kind", "custom"), ("identity", "tess2")],
    ];

    // Anonymous: sent to sign in, nothing done.
    let mut anonymous = Browser::new(&app);
    for fields in tasks {
        let answer = task(&mut anonymous, &user_id, "x", fields).await;
        assert!(answer.status.is_redirection(), "{}", answer.status);
    }
    // A plain user: the console is for administrators.
    let mut plain = signed_in(&app, "tess", USER_PASSWORD).await;
    for fields in tasks {
        let answer = task(&mut plain, &user_id, "x", fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
    }
    // A group admin, even over this user's group: users are the admins' to change; and
    // a user outside its subtree does not exist for it.
    let mut gadmin = signed_in(&app, "gina", USER_PASSWORD).await;
    let page = gadmin.get(&format!("/console/users/{user_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("name=\"task\""),
        "read only: {}",
        page.body
    );
    let csrf = page.field("csrf");
    for fields in tasks {
        let answer = task(&mut gadmin, &user_id, &csrf, fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{fields:?}");
    }
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "its sessions live on");
    // An admin does not reach a superadmin's sessions or keys.
    let mut adam = signed_in(&app, "adam", USER_PASSWORD).await;
    let page = adam.get("/console/users/admin").await;
    let csrf = page.field("csrf");
    for fields in &tasks[..2] {
        let answer = task(&mut adam, "admin", &csrf, fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{fields:?}");
    }
    // Another domain's user is not found from this one.
    let mut admin = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = admin.get(&format!("/console/users/{user_id}")).await;
    let csrf = page.field("csrf");
    let elsewhere = task(&mut admin, "someone-elsewhere", &csrf, tasks[0]).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    // CSRF: no token, a wrong one, another site.
    for (token_sent, origin, site) in [
        ("", admin.base.clone(), "same-origin"),
        ("wrong", admin.base.clone(), "same-origin"),
        (
            csrf.as_str(),
            "http://evil.example".to_owned(),
            "cross-site",
        ),
    ] {
        let refused = admin
            .post_from(
                &format!("/console/users/{user_id}/task"),
                &[
                    ("csrf", token_sent),
                    ("task", "end_sessions"),
                    ("confirm", "yes"),
                ],
                &origin,
                site,
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "nothing was ended");
    // The admin's own post goes through.
    let ended = task(&mut admin, &user_id, &csrf, tasks[0]).await;
    assert_eq!(ended.status, StatusCode::OK);
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Uploads `csv` to the import form from this site.
async fn upload(browser: &mut Browser, csrf: &str, csv: &str) -> Answer {
    let origin = browser.base.clone();
    browser
        .post_multipart(
            "/console/users/import",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("users.csv"), csv.as_bytes()),
            ],
            &origin,
            "same-origin",
        )
        .await
}

#[tokio::test]
async fn a_csv_import_counts_rows_and_its_rejects_download_with_reasons() {
    let app = spawn_app().await;
    app.create_user("old", "Old").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let form = browser.get("/console/users/import").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf");
    let csv = "user_id,nick_name,identity,email,drive_size\n\
               ann,Ann,ann@example.org,ann@example.org,10M\n\
               bob,Bob,bob@example.org,,\n\
               old,Old,old@example.org,,\n\
               bob,Bob again,bob2@example.org,,\n\
               cat,Cat,cat@example.org,not-mail,\n\
               dan,Dan,,,\n\
               eve,Eve,eve@example.org,,lots\n\
               fay,Fay\n";
    let result = upload(&mut browser, &csrf, csv).await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.body);
    assert_eq!(text_of(&result, "rows-read").as_deref(), Some("8"));
    assert_eq!(text_of(&result, "rows-created").as_deref(), Some("2"));
    assert_eq!(text_of(&result, "rows-existing").as_deref(), Some("1"));
    assert_eq!(text_of(&result, "rows-rejected").as_deref(), Some("5"));
    for user in ["ann", "bob"] {
        let (status, _) = app.admin("/v2/user/get", json!({"user_id": user})).await;
        assert_eq!(status, StatusCode::OK, "{user}");
    }
    for user in ["cat", "dan", "eve", "fay"] {
        let (status, _) = app.admin("/v2/user/get", json!({"user_id": user})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{user}");
    }

    let rejects = result.field("rejects");
    let download = browser
        .post(
            "/console/users/import/rejects",
            &[("csrf", &csrf), ("rejects", &rejects)],
        )
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.headers["cache-control"], "no-store");
    assert!(download.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let mut reader = csv::Reader::from_reader(download.body.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "user_id",
            "nick_name",
            "identity",
            "email",
            "drive_size",
            "error_line",
            "error_code",
            "error_message"
        ]
    );
    let rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[5].to_owned(), r[6].to_owned())
        })
        .collect();
    let lines: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(u, l, c)| (u.as_str(), l.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            ("bob", "5", "DuplicateRow"),
            ("cat", "6", "InvalidParameter.email"),
            ("dan", "7", "MalformedRow"),
            ("eve", "8", "MalformedRow"),
            ("fay", "9", "MalformedRow"),
        ]
    );

    // The same file again: nothing new, the good rows counted as existing.
    let again = upload(&mut browser, &csrf, csv).await;
    assert_eq!(text_of(&again, "rows-created").as_deref(), Some("0"));
    assert_eq!(text_of(&again, "rows-existing").as_deref(), Some("3"));
}

#[tokio::test]
async fn a_bad_upload_is_a_sentence_and_the_import_is_for_admins() {
    let app = spawn_app().await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let csrf = browser.get("/console/users/import").await.field("csrf");
    let unknown = upload(
        &mut browser,
        &csrf,
        "identity,shoe_size\na@example.org,42\n",
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("unknown column"), "{}", unknown.body);
    let no_identity = upload(&mut browser, &csrf, "user_id\nann\n").await;
    assert_eq!(no_identity.status, StatusCode::BAD_REQUEST);
    assert!(no_identity.body.contains("no identity column"));
    let empty = upload(&mut browser, &csrf, "").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("file is required"), "{}", empty.body);
    let not_multipart = browser
        .post("/console/users/import", &[("csrf", &csrf)])
        .await;
    assert_eq!(not_multipart.status, StatusCode::BAD_REQUEST);
    assert!(!not_multipart.body.contains('{'));

    // CSRF: a wrong token, another site.
    let good = "identity\nzed@example.org\n";
    let base = browser.base.clone();
    for (token, origin, site) in [
        ("wrong", base.as_str(), "same-origin"),
        (csrf.as_str(), "http://evil.example", "cross-site"),
    ] {
        let refused = browser
            .post_multipart(
                "/console/users/import",
                &[
                    ("csrf", None, token.as_bytes()),
                    ("file", Some("u.csv"), good.as_bytes()),
                ],
                origin,
                site,
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let refused = browser
        .post_from(
            "/console/users/import/rejects",
            &[("csrf", "wrong"), ("rejects", "a,b\n")],
            &base,
            "same-origin",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // A plain user and a group admin: refused, nothing imported.
    app.user_with_role("pat", "user").await;
    let (gadmin_id, _) = app.user_with_role("gil", "user").await;
    let group = app.create_group("g", None).await;
    app.by_admin()
        .make_group_admin(&group, Member::User(&gadmin_id))
        .await;
    let mut plain = signed_in(&app, "pat", USER_PASSWORD).await;
    assert_eq!(
        plain.get("/console/users/import").await.status,
        StatusCode::FORBIDDEN
    );
    let mut gadmin = signed_in(&app, "gil", USER_PASSWORD).await;
    let page = gadmin.get("/console/users/import").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let csrf = gadmin.get("/console/users").await.field("csrf");
    let refused = upload(&mut gadmin, &csrf, good).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (_, found) = app.admin("/v2/user/search", json!({"email": "zed@"})).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_export_is_the_current_search_read_page_by_page() {
    let app = spawn_app().await;
    for chunk in [0..65, 65..130] {
        let users: Vec<_> = chunk
            .map(|i| json!({"id": format!("{i}"), "method": "POST", "url": "/user/create",
                            "body": {"user_id": format!("exp{i:03}"), "user_name": format!("exp{i:03}"), "nick_name": format!("Export {i}")}}))
            .collect();
        let (status, answer) = app
            .admin("/v2/batch", json!({"resource": "user", "requests": users}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    app.create_user("other", "Other").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console/users?q=exp").await;
    assert!(
        page.body.contains("/console/users/export?q=exp"),
        "{}",
        page.body
    );
    let export = browser.get("/console/users/export?q=exp").await;
    assert_eq!(export.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(export.body.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "user_id",
            "nick_name",
            "email",
            "phone",
            "role",
            "status",
            "created_at"
        ]
    );
    let ids: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    let expected: Vec<String> = (0..130).map(|i| format!("exp{i:03}")).collect();
    assert_eq!(ids, expected);
    let bad = browser.get("/console/users/export?role=king").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // A group admin's export holds its subtree's users only.
    let group = app.create_group("g", None).await;
    let setup = app.by_admin();
    setup.add_member(&group, Member::User("exp007")).await;
    let (gadmin_id, _) = app.user_with_role("gus", "user").await;
    setup
        .make_group_admin(&group, Member::User(&gadmin_id))
        .await;
    let mut gadmin = signed_in(&app, "gus", USER_PASSWORD).await;
    let export = gadmin.get("/console/users/export").await;
    assert_eq!(export.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(export.body.as_bytes());
    let ids: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(ids, ["exp007"]);
    app.user_with_role("pia", "user").await;
    let mut plain = signed_in(&app, "pia", USER_PASSWORD).await;
    assert_eq!(
        plain.get("/console/users/export").await.status,
        StatusCode::FORBIDDEN
    );
}
