//! The audit log: every change (and every refused attempt at one) is recorded with who, what,
//! where from and how it went; admins read their own domain's log, page by page, filter it,
//! export it as CSV; old records go after the retention period.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, read, spawn_app, spawn_with, Member, NewDomain, NewDrive, NewUser, TestApp,
    TestStore, ADMIN_PASSWORD, USER_PASSWORD,
};

/// `/v2/audit_log/list` as the holder of `token`.
async fn audit_page(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.call("/v2/audit_log/list", token, body).await
}

/// Every record matching `query` (all pages, newest first), as the admin.
async fn records(app: &TestApp, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut marker = String::new();
    loop {
        let body = json!({"query": query, "marker": marker, "limit": 50});
        let (status, page) = audit_page(app, &app.admin_token, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        marker = page["next_marker"]
            .as_str()
            .expect("next_marker")
            .to_owned();
        if marker.is_empty() {
            return all;
        }
    }
}

/// `(action_type, outcome)` of each record, oldest first.
fn actions(records: &[Value]) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["action_type"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    list.reverse();
    list
}

fn pair(action: &str, outcome: &str) -> (String, String) {
    (action.to_owned(), outcome.to_owned())
}

#[tokio::test]
async fn changes_are_recorded_with_actor_target_request_and_address() {
    let app = spawn_app().await;
    let secret = "Alice-secret-77";
    let response = app
        .post(
            "/v2/user/create",
            Some(&app.admin_token),
            &json!({"user_id": "alice", "nick_name": "Alice", "plain_password": secret}),
        )
        .await;
    let request_id = response.headers()["x-ca-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(read(response).await.0, StatusCode::CREATED);
    let update = json!({"user_id": "alice", "role": "admin", "status": "disabled",
                        "nick_name": "Al", "plain_password": "Another-secret-88"});
    assert_eq!(app.admin("/v2/user/update", update).await.0, StatusCode::OK);

    let about_alice = records(&app, "object_id = 'alice'").await;
    assert_eq!(
        actions(&about_alice),
        [
            pair("user.create", "success"),
            pair("user.update", "success"),
            pair("user.role", "success"),
            pair("user.lock", "success"),
            pair("password.reset", "success"),
        ]
    );
    let created = about_alice.last().unwrap();
    assert_eq!(created["actor_id"], "admin");
    assert_eq!(created["actor_type"], "user");
    assert_eq!(created["action_category"], "user");
    assert_eq!(created["client_ip"], "127.0.0.1");
    assert_eq!(created["request_id"], request_id.as_str());
    assert_eq!(created["error_code"], "");
    assert!(created["acted_at"].as_str().unwrap().ends_with('Z'));
    let updated = &about_alice[about_alice.len() - 2];
    let mut fields: Vec<&str> = updated["detail"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["nick_name", "password", "role", "status"]);

    // Logins, good and bad, and the tokens they issue and revoke.
    app.user_with_role("bob", "user").await;
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", "not-the-password"),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let logins = records(&app, "action_type = 'account.login' and object_id = 'bob'").await;
    assert_eq!(
        actions(&logins),
        [
            pair("account.login", "success"),
            pair("account.login", "failure")
        ]
    );
    assert_eq!(logins[0]["actor_type"], "anonymous");
    assert_eq!(logins[0]["error_code"], "Unauthorized.InvalidCredentials");
    let (status, body) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
    let refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    let revoke = app
        .post(
            "/v2/account/revoke",
            None,
            &json!({"refresh_token": refresh_token}),
        )
        .await;
    assert!(revoke.status().is_success());
    let bob_id = body["user_id"].as_str().unwrap();
    let tokens = records(&app, &format!("object_id = '{bob_id}'")).await;
    let token_actions: Vec<_> = actions(&tokens)
        .into_iter()
        .filter(|(a, _)| a.starts_with("token."))
        .collect();
    assert_eq!(
        token_actions,
        [
            pair("token.issue", "success"),
            pair("token.issue", "success"),
            pair("token.revoke", "success"),
        ]
    );

    // No password, token or secret anywhere in the log.
    let everything = serde_json::to_string(&records(&app, "").await).unwrap();
    for secret in [
        secret,
        "Another-secret-88",
        USER_PASSWORD,
        "not-the-password",
        refresh_token.as_str(),
        access_token.as_str(),
        app.admin_token.as_str(),
    ] {
        assert!(!everything.contains(secret), "a secret leaked into the log");
    }
}

#[tokio::test]
async fn refused_and_failed_attempts_are_recorded_as_failures() {
    let app = spawn_app().await;
    let (carol_id, carol) = app.user_with_role("carol", "user").await;
    let answer = app
        .call("/v2/user/delete", &carol, json!({"user_id": "admin"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let refused = records(
        &app,
        &format!("actor_id = '{carol_id}' and action_type = 'user.delete'"),
    )
    .await;
    assert_eq!(actions(&refused), [pair("user.delete", "failure")]);
    assert_eq!(refused[0]["error_code"], "Forbidden");
    assert_eq!(refused[0]["object_id"], "admin");

    // A create of a taken id: the first is recorded as done, the second as failed.
    let body = json!({"user_id": "dup", "nick_name": "Dup"});
    assert_eq!(
        app.admin("/v2/user/create", body.clone()).await.0,
        StatusCode::CREATED
    );
    let answer = app.admin("/v2/user/create", body).await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.User");
    let dup = records(&app, "object_id = 'dup'").await;
    assert_eq!(
        actions(&dup),
        [
            pair("user.create", "success"),
            pair("user.create", "failure")
        ]
    );
    assert_eq!(dup[0]["error_code"], "AlreadyExists.User");

    // In a batch, each call's record has that call's outcome, though they commit together.
    let batch = json!({"resource": "user", "requests": [
        {"id": "1", "method": "POST", "url": "/user/create", "body": {"user_id": "b1", "nick_name": "B1"}},
        {"id": "2", "method": "POST", "url": "/user/create", "body": {"user_id": "dup", "nick_name": "Again"}},
        {"id": "3", "method": "POST", "url": "/user/create", "body": {"user_id": "b3", "nick_name": "B3"}},
        {"id": "4", "method": "POST", "url": "/user/create", "body": {"user_id": "b4", "nick_name": "Bad mail", "email": "not-an-email"}}
    ]});
    let (status, answer) = app.admin("/v2/batch", batch).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let statuses: Vec<u64> = answer["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 409, 201, 400]);
    for (user_id, expected) in [("b1", "success"), ("b3", "success"), ("b4", "failure")] {
        let about = records(&app, &format!("object_id = '{user_id}'")).await;
        assert_eq!(
            actions(&about),
            [pair("user.create", expected)],
            "{user_id}"
        );
    }
    let dup = records(&app, "object_id = 'dup'").await;
    assert_eq!(
        actions(&dup).last().unwrap(),
        &pair("user.create", "failure")
    );
}

#[tokio::test]
async fn memberships_roles_groups_and_drives_are_recorded() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("dan", "user").await;
    let admin = app.by_admin();
    let group_id = admin.group("Audited", None).await;
    admin.add_member(&group_id, Member::User(&user_id)).await;
    admin.remove_member(&group_id, Member::User(&user_id)).await;
    admin
        .make_group_admin(&group_id, Member::User(&user_id))
        .await;
    let drive_id = admin
        .drive(NewDrive::of_user(&user_id, "D").size(1024))
        .await;
    admin.delete_group(&group_id, false).await;

    let about_group = records(&app, &format!("object_id = '{group_id}'")).await;
    assert_eq!(
        actions(&about_group),
        [
            pair("group.create", "success"),
            pair("membership.add", "success"),
            pair("membership.remove", "success"),
            pair("role.assign", "success"),
            pair("group.delete", "success"),
        ]
    );
    assert_eq!(about_group[3]["detail"]["member_id"], user_id.as_str());
    assert_eq!(about_group[1]["detail"]["identity_id"], user_id.as_str());
    let about_drive = records(&app, &format!("drive_id = '{drive_id}'")).await;
    assert_eq!(actions(&about_drive), [pair("drive.create", "success")]);

    // A refused assignment's record names the role the request asked for.
    let other_group = admin.group("Other", None).await;
    let (status, body) = app
        .admin(
            "/v2/role/assign",
            json!({"role_id": "SystemOwner", "manage_resource_type": "RT_Group",
                   "manage_resource_id": other_group,
                   "identity": {"identity_type": "IT_User", "identity_id": user_id}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let refused = records(&app, &format!("object_id = '{other_group}'")).await;
    assert_eq!(
        actions(&refused),
        [
            pair("group.create", "success"),
            pair("role.assign", "failure")
        ]
    );
    let assign = refused
        .iter()
        .find(|r| r["action_type"] == "role.assign")
        .unwrap();
    assert_eq!(assign["detail"]["role_id"], "SystemOwner", "{assign}");
    assert_eq!(assign["detail"]["identity_id"], user_id.as_str());
}

#[tokio::test]
async fn only_admins_read_the_log_and_only_their_own_domain() {
    let app = spawn_app().await;
    let (_, plain) = app.user_with_role("erin", "user").await;
    let answer = audit_page(&app, &plain, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .send("post", "/v2/audit_log/list", None, &json!({}))
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");

    // An admin of another domain sees its own records only, never this domain's.
    app.by_admin()
        .user(NewUser::new("home-marker-user").nick("M"))
        .await;
    let elsewhere = NewDomain::new("elsewhere").password(ADMIN_PASSWORD);
    app.by_admin().domain(elsewhere).await;
    let other_admin = app.login_in("elsewhere", "admin", ADMIN_PASSWORD).await;
    app.by(&other_admin).group("Theirs", None).await;
    let (status, page) = audit_page(&app, &other_admin, json!({"limit": 100})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|r| r["domain_id"] == "elsewhere"),
        "{page}"
    );
    assert!(!page.to_string().contains("home-marker-user"), "{page}");
    // This domain's export task is not theirs.
    let (status, task) = app.admin("/v2/audit_log/export", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{task}");
    let task_id = task["async_task_id"].as_str().unwrap();
    let answer = app
        .call(
            "/v2/async_task/get",
            &other_admin,
            json!({"async_task_id": task_id}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.AsyncTask");
    let download = format!("/v2/audit_log/download?async_task_id={task_id}");
    let answer = app
        .send("get", &download, Some(&other_admin), &Value::Null)
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.AsyncTask");
    let answer = app.send("get", &download, Some(&plain), &Value::Null).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
}

#[tokio::test]
async fn bad_list_and_export_requests_are_refused_with_their_codes() {
    let app = spawn_app().await;
    let cases = [
        (json!({"limit": 0}), "InvalidParameterOutOfRange"),
        (json!({"limit": 101}), "InvalidParameterOutOfRange"),
        (json!({"limit": "many"}), "InvalidParameter"),
        (json!({"query": 7}), "InvalidParameter"),
        (json!({"query": "actor_id = admin"}), "InvalidParameter"),
        (json!({"query": "password = 'x'"}), "InvalidParameter"),
        (json!({"query": "actor_id > 'a'"}), "InvalidParameter"),
        (
            json!({"query": "acted_at > 'last week'"}),
            "InvalidParameter",
        ),
        (
            json!({"query": "x".repeat(5000)}),
            "InvalidParameterOutOfRange",
        ),
        (json!({"order_by": "log_id"}), "InvalidParameter"),
        (json!({"marker": "not-a-marker"}), "InvalidParameter"),
    ];
    for (body, code) in cases {
        let answer = audit_page(&app, &app.admin_token, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    for body in [
        json!({"file_name": "a\"b.csv"}),
        json!({"file_name": ""}),
        json!({"file_name": "x".repeat(1025)}),
        json!({"query": "nonsense"}),
    ] {
        let answer = app.admin("/v2/audit_log/export", body.clone()).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{body}: {}", answer.1);
    }
    for id in ["", "audit-export-!!", "unknown"] {
        let answer = app
            .admin("/v2/async_task/get", json!({"async_task_id": id}))
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.AsyncTask");
    }
    let answer = app.admin("/v2/async_task/get", json!({})).await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
}

#[tokio::test]
async fn pages_follow_markers_in_either_order_and_filters_narrow_them() {
    let app = spawn_app().await;
    for i in 0..7 {
        app.by_admin().group(&format!("Paged {i}"), None).await;
    }
    let query = "action_type = 'group.create'";
    let mut seen = Vec::new();
    let mut marker = String::new();
    let mut pages = 0;
    loop {
        let body = json!({"query": query, "limit": 3, "marker": marker});
        let (status, page) = audit_page(&app, &app.admin_token, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["object_id"].as_str().unwrap().to_owned());
        }
        marker = page["next_marker"].as_str().unwrap().to_owned();
        if marker.is_empty() {
            break;
        }
    }
    assert_eq!((pages, seen.len()), (3, 7));
    let body = json!({"query": query, "order_by": "acted_at ASC", "limit": 100});
    let (_, ascending) = audit_page(&app, &app.admin_token, body).await;
    let mut oldest_first: Vec<String> = ascending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["object_id"].as_str().unwrap().to_owned())
        .collect();
    oldest_first.reverse();
    assert_eq!(oldest_first, seen, "ASC is DESC reversed");
    // A marker of one order is not one of the other.
    let body = json!({"query": query, "limit": 3});
    let (_, first) = audit_page(&app, &app.admin_token, body).await;
    let body = json!({"query": query, "order_by": "acted_at ASC", "marker": first["next_marker"]});
    let answer = audit_page(&app, &app.admin_token, body).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    // Time bounds.
    let future = format!("{query} and acted_at > '2100-01-01T00:00:00'");
    assert!(records(&app, &future).await.is_empty());
    let past = format!(
        "{query} and acted_at >= '2000-01-01T00:00:00Z' and acted_at < '2100-01-01T00:00:00'"
    );
    assert_eq!(records(&app, &past).await.len(), 7);
}

#[tokio::test]
async fn the_export_downloads_every_matching_record_as_csv() {
    let app = spawn_app().await;
    for i in 0..3 {
        let name = format!("Exported, \"{i}\"");
        app.by_admin().group(&name, None).await;
    }
    let body = json!({"query": "action_type = 'group.create'", "order_by": "acted_at ASC",
                      "file_name": "groups.csv", "language": "en_US"});
    let (status, task) = app.admin("/v2/audit_log/export", body).await;
    assert_eq!(status, StatusCode::OK, "{task}");
    let task_id = task["async_task_id"].as_str().unwrap();
    let (status, state) = app
        .admin("/v2/async_task/get", json!({"async_task_id": task_id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(state["state"], "Succeed");
    let url = state["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let response = app
        .http
        .get(url)
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"groups.csv\""));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("log_id,acted_at,"), "{csv}");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains(",group.create,group,")),
        "{csv}"
    );
    let listed = records(&app, "action_type = 'group.create'").await;
    let first_id = listed.last().unwrap()["log_id"].as_str().unwrap();
    assert!(lines[1].starts_with(first_id), "oldest first: {csv}");
    // Anonymous callers get nothing.
    let answer = app
        .send(
            "get",
            &format!("/v2/audit_log/download?async_task_id={task_id}"),
            None,
            &Value::Null,
        )
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
}

#[tokio::test]
async fn records_older_than_the_retention_period_are_deleted() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.audit_retention = Some(Duration::from_millis(1500));
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    app.by_admin().group("Short-lived", None).await;
    let query = "action_type = 'group.create'";
    assert_eq!(records(&app, query).await.len(), 1);
    let mut waited = Duration::ZERO;
    while !records(&app, query).await.is_empty() {
        assert!(
            waited < Duration::from_secs(20),
            "the record outlived its retention"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    assert!(
        waited >= Duration::from_millis(500),
        "deleted before its time: {waited:?}"
    );
}

#[tokio::test]
async fn the_client_address_comes_from_x_forwarded_for_only_when_trusted() {
    for trusted in [false, true] {
        let store = TestStore::fresh().await;
        let mut config = store.config();
        config.trust_forwarded_for = trusted;
        let app = spawn_with(store, config, ADMIN_PASSWORD).await;
        let response = app
            .http
            .post(app.url("/v2/group/create"))
            .bearer_auth(&app.admin_token)
            .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
            .json(&json!({"group_name": "Proxied"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let created = records(&app, "action_type = 'group.create'").await;
        // One trusted proxy: its entry, the rightmost, is the client's address.
        let expected = if trusted { "10.0.0.1" } else { "127.0.0.1" };
        assert_eq!(created[0]["client_ip"], expected, "trusted: {trusted}");
    }
}

#[tokio::test]
async fn an_admin_taking_a_users_token_is_recorded_as_the_admins_act() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("fay", "user").await;
    let body = json!({"type": "custom", "identity": "fay"});
    let (status, token) = app
        .admin("/v2/account/get_access_token_by_link_info", body)
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let query = format!("object_id = '{user_id}' and action_type = 'token.issue_for'");
    let taken = records(&app, &query).await;
    assert_eq!(actions(&taken), [pair("token.issue_for", "success")]);
    assert_eq!(taken[0]["actor_id"], "admin");
    assert_eq!(taken[0]["detail"]["identity"], "fay");
}
