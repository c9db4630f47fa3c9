//! `/v2/user/*`: who may call what, the field rules and their error codes, the search filters,
//! marker pagination, and what survives a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::helpers::{
    assert_error, read, spawn_app, spawn_on, NewUser, Role, TestApp, UserChange, USER_PASSWORD,
};

const CREATE: &str = "/v2/user/create";
const GET: &str = "/v2/user/get";
const UPDATE: &str = "/v2/user/update";
const DELETE: &str = "/v2/user/delete";
const LIST: &str = "/v2/user/list";
const SEARCH: &str = "/v2/user/search";
const IMPORT: &str = "/v2/user/import";
const GENERAL_GET: &str = "/v2/user/general_get";
const GENERAL_SEARCH: &str = "/v2/user/general_search";

const ENDPOINTS: [&str; 9] = [
    CREATE,
    GET,
    UPDATE,
    DELETE,
    LIST,
    SEARCH,
    IMPORT,
    GENERAL_GET,
    GENERAL_SEARCH,
];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Asserts `user` carries every field of the PDS `User` object, each with its JSON type.
fn assert_user_shape(user: &Value) {
    for key in [
        "domain_id",
        "user_id",
        "user_name",
        "nick_name",
        "avatar",
        "email",
        "phone",
        "role",
        "status",
        "description",
        "default_drive_id",
        "creator",
    ] {
        assert!(user[key].is_string(), "{key} in {user}");
    }
    for key in [
        "created_at",
        "updated_at",
        "last_login_time",
        "last_refresh_token_time",
    ] {
        assert!(user[key].is_i64(), "{key} in {user}");
    }
    assert!(user["user_data"].is_object(), "{user}");
    assert!(user["punishments"].is_array(), "{user}");
    assert!(user["is_sync"].is_boolean(), "{user}");
}

/// Creates a user as the superadmin; panics unless 201.
async fn create(app: &TestApp, body: Value) -> Value {
    let (status, user) = app.admin(CREATE, body).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    user
}

/// Imports a user as the superadmin; panics unless 200.
async fn import(app: &TestApp, body: Value) -> Value {
    let (status, user) = app.admin(IMPORT, body).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    user
}

/// Whether the superadmin can read `user_id` (200) or not (404); anything else panics.
async fn exists(app: &TestApp, user_id: &str) -> bool {
    let (status, body) = app.admin(GET, json!({ "user_id": user_id })).await;
    match status {
        StatusCode::OK => true,
        StatusCode::NOT_FOUND => false,
        _ => panic!("get {user_id}: {status} {body}"),
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|u| u["user_id"].as_str().expect("user_id").to_owned())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// The user ids one search finds, as the superadmin; asserts it fits on one page.
async fn found(app: &TestApp, query: Value) -> BTreeSet<String> {
    let (status, page) = app.admin(SEARCH, query.clone()).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    assert_eq!(page["next_marker"], "", "{query}: {page}");
    ids(page["items"].as_array().expect("items"))
        .into_iter()
        .collect()
}

/// Every page of `path` for `query`, following `next_marker` from the first page.
async fn all_pages(app: &TestApp, token: &str, path: &str, query: Value) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut marker = String::new();
    loop {
        let mut body = query.clone();
        body["marker"] = json!(marker);
        let (status, page) = app.call(path, token, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages.push(page["items"].as_array().expect("items").clone());
        marker = page["next_marker"]
            .as_str()
            .expect("next_marker")
            .to_owned();
        if marker.is_empty() {
            return pages;
        }
        assert!(pages.len() < 50, "pagination does not end");
    }
}

/// Creates users concurrently as the superadmin, 25 requests at a time.
async fn create_many(app: &TestApp, bodies: Vec<Value>) {
    for batch in bodies.chunks(25) {
        let mut tasks = JoinSet::new();
        for body in batch {
            let request = app
                .http
                .post(app.url(CREATE))
                .bearer_auth(&app.admin_token)
                .json(body);
            let body = body.to_string();
            tasks.spawn(async move {
                let (status, user) = read(request.send().await.expect("sent")).await;
                assert_eq!(status, StatusCode::CREATED, "{body}: {user}");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("create task");
        }
    }
}

/// No token and a made-up token are both 401 `AccessTokenInvalid`.
async fn assert_needs_a_token(app: &TestApp, path: &str, body: Value) {
    let answer = read(app.post(path, None, &body).await).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    let answer = app.call(path, "not-a-token", body).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
}

/// Sends each `(path, body)` as the superadmin and checks the answer is the error `code` (with
/// its message and request id); panics listing every case that got something else.
async fn expect_errors(app: &TestApp, cases: &[(&str, Value)], status: StatusCode, code: &str) {
    let mut wrong = Vec::new();
    for (path, body) in cases {
        let answer = app.admin(path, body.clone()).await;
        if answer.0 == status && answer.1["code"] == code {
            assert_error(&answer, status, code);
        } else {
            wrong.push(format!("{path} {body} -> {} {}", answer.0, answer.1));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected {status} {code}:\n{}",
        wrong.join("\n")
    );
}

/// `POST path` as the superadmin with `body` sent as it is.
async fn raw(app: &TestApp, path: &str, body: &'static str) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent");
    read(response).await
}

// ---------------------------------------------------------------------------------------------
// create

#[tokio::test]
async fn create_answers_201_with_the_whole_user() {
    let app = spawn_app().await;
    let before = now_ms();
    let user = create(
        &app,
        json!({
            "user_id": "alice", "user_name": "alice.w", "nick_name": "Alice",
            "avatar": "https://example.com/a.png", "email": "alice@example.com",
            "phone": "13900001111", "description": "the first one",
            "user_data": {"team": "blue", "level": 3}, "status": "disabled"
        }),
    )
    .await;
    let after = now_ms();
    assert_user_shape(&user);
    assert_eq!(user["domain_id"], "default");
    assert_eq!(user["user_id"], "alice");
    assert_eq!(user["user_name"], "alice.w");
    assert_eq!(user["nick_name"], "Alice");
    assert_eq!(user["avatar"], "https://example.com/a.png");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["phone"], "13900001111");
    assert_eq!(user["description"], "the first one");
    assert_eq!(user["user_data"], json!({"team": "blue", "level": 3}));
    assert_eq!(user["status"], "disabled");
    assert_eq!(user["role"], "user");
    assert_eq!(user["creator"], "admin");
    let created_at = user["created_at"].as_i64().unwrap();
    assert!(
        (before..=after).contains(&created_at),
        "{before} {created_at} {after}"
    );
    assert_eq!(user["updated_at"], user["created_at"]);
    assert_eq!(user["last_login_time"], 0);
    // What create answered is what get reads back.
    let (status, got) = app.admin(GET, json!({"user_id": "alice"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, user);

    // Defaults: role user, enabled, empty strings, empty user_data.
    let bare = create(&app, json!({"user_id": "bare"})).await;
    assert_user_shape(&bare);
    assert_eq!(bare["role"], "user");
    assert_eq!(bare["status"], "enabled");
    assert_eq!(bare["nick_name"], "");
    assert_eq!(bare["email"], "");
    assert_eq!(bare["user_data"], json!({}));
}

#[tokio::test]
async fn create_is_for_admins_and_other_roles_for_superadmins() {
    let app = spawn_app().await;
    assert_needs_a_token(&app, CREATE, json!({"user_id": "ghost"})).await;
    let (_, plain) = app.user_with_role("plain", "user").await;
    let (ops_id, ops) = app.user_with_role("ops", "admin").await;

    let answer = app
        .call(CREATE, &plain, json!({"user_id": "by-user"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");

    // An admin creates plain users, as their creator...
    for body in [
        json!({"user_id": "by-admin"}),
        json!({"user_id": "by-admin-2", "role": "user"}),
    ] {
        let (status, user) = app.call(CREATE, &ops, body).await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        assert_eq!(user["creator"], ops_id.as_str());
        assert_eq!(user["role"], "user");
    }
    // ...but no admins or superadmins.
    for role in ["admin", "superadmin"] {
        let answer = app
            .call(
                CREATE,
                &ops,
                json!({"user_id": format!("by-admin-{role}"), "role": role}),
            )
            .await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    // The superadmin creates every role.
    for role in ["user", "admin", "superadmin"] {
        let user = create(
            &app,
            json!({"user_id": format!("made-{role}"), "role": role}),
        )
        .await;
        assert_eq!(user["role"], role);
        assert_eq!(user["creator"], "admin");
    }
    for refused in ["ghost", "by-user", "by-admin-admin", "by-admin-superadmin"] {
        assert!(!exists(&app, refused).await, "{refused} was created");
    }
}

#[tokio::test]
async fn duplicate_user_ids_and_account_identities_conflict() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("alice")).await;
    let answer = app
        .admin(CREATE, json!({"user_id": "alice", "nick_name": "Second"}))
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.User");
    let (_, alice) = app.admin(GET, json!({"user_id": "alice"})).await;
    assert_eq!(alice["nick_name"], "", "the first alice was overwritten");

    let body = json!({"authentication_type": "custom", "identity": "dup", "nick_name": "Dup"});
    import(&app, body.clone()).await;
    let answer = app.admin(IMPORT, body).await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.Account");
    // Nor for another user under another authentication type: a password login matches the
    // identity whatever its type, so it would name two people (issue 17).
    let answer = app
        .admin(
            IMPORT,
            json!({"authentication_type": "ldap", "identity": "dup", "nick_name": "Dup"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.Account");
    // The refused imports left no user behind: admin, alice and one imported user.
    let (_, list) = app.admin(LIST, json!({})).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
}

// ---------------------------------------------------------------------------------------------
// get

#[tokio::test]
async fn get_answers_oneself_and_admins_anyone() {
    let app = spawn_app().await;
    assert_needs_a_token(&app, GET, json!({})).await;
    let (me, token) = app.user_with_role("plain", "user").await;
    let (other, _) = app.user_with_role("other", "user").await;
    let (ops_id, ops) = app.user_with_role("ops", "admin").await;

    // A user reads itself, with or without naming itself...
    let (status, myself) = app.call(GET, &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{myself}");
    assert_user_shape(&myself);
    assert_eq!(myself["user_id"], me.as_str());
    assert_eq!(myself["nick_name"], "plain");
    let (status, named) = app.call(GET, &token, json!({"user_id": me})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(named, myself);
    // ...and nobody else, not even an id that does not exist.
    for id in [other.as_str(), ops_id.as_str(), "admin", "nobody"] {
        let answer = app.call(GET, &token, json!({"user_id": id})).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }

    // Admins and the superadmin read anyone.
    for (caller, caller_id) in [(&ops, ops_id.as_str()), (&app.admin_token, "admin")] {
        for id in [me.as_str(), other.as_str(), ops_id.as_str(), "admin"] {
            let (status, user) = app.call(GET, caller, json!({"user_id": id})).await;
            assert_eq!(status, StatusCode::OK, "{user}");
            assert_eq!(user["user_id"], id);
        }
        let (_, user) = app.call(GET, caller, json!({})).await;
        assert_eq!(user["user_id"], caller_id);
        let answer = app.call(GET, caller, json!({"user_id": "nobody"})).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");
    }
    let (_, user) = app.admin(GET, json!({})).await;
    assert_eq!(user["role"], "superadmin");
    let (_, user) = app.call(GET, &ops, json!({})).await;
    assert_eq!(user["role"], "admin");
}

// ---------------------------------------------------------------------------------------------
// update

#[tokio::test]
async fn update_changes_only_the_given_fields() {
    let app = spawn_app().await;
    assert_needs_a_token(&app, UPDATE, json!({"user_id": "admin", "nick_name": "x"})).await;
    let (_, root) = app.admin(GET, json!({})).await;
    assert_eq!(root["nick_name"], "admin", "changed without a token");
    let before = create(
        &app,
        json!({
            "user_id": "alice", "user_name": "alice.w", "nick_name": "Alice",
            "avatar": "https://example.com/a.png", "email": "alice@example.com",
            "phone": "13900001111", "description": "first", "user_data": {"k": "v"}
        }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, after) = app
        .admin(UPDATE, json!({"user_id": "alice", "nick_name": "Alicia"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_user_shape(&after);
    assert!(
        after["updated_at"].as_i64() > before["updated_at"].as_i64(),
        "{after}"
    );
    let mut expected = before.clone();
    expected["nick_name"] = json!("Alicia");
    expected["updated_at"] = after["updated_at"].clone();
    assert_eq!(after, expected);
    let (_, stored) = app.admin(GET, json!({"user_id": "alice"})).await;
    assert_eq!(stored, after);

    // Several fields at once; user_data is replaced as a whole.
    let (status, again) = app
        .admin(
            UPDATE,
            json!({"user_id": "alice", "description": "second", "user_data": {"n": 2},
                   "email": "a2@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    expected["description"] = json!("second");
    expected["user_data"] = json!({"n": 2});
    expected["email"] = json!("a2@example.com");
    expected["updated_at"] = again["updated_at"].clone();
    assert_eq!(again, expected);
    assert_eq!(again["created_at"], before["created_at"]);
}

#[tokio::test]
async fn users_change_their_own_profile_and_nothing_else() {
    let app = spawn_app().await;
    let (me, token) = app.user_with_role("plain", "user").await;
    let (other, _) = app.user_with_role("other", "user").await;
    let (status, updated) = app
        .call(
            UPDATE,
            &token,
            json!({"user_id": me, "nick_name": "Plainly",
                   "avatar": "https://example.com/p.png", "description": "about me"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["nick_name"], "Plainly");
    assert_eq!(updated["avatar"], "https://example.com/p.png");
    assert_eq!(updated["description"], "about me");

    for change in [
        json!({"status": "disabled"}),
        json!({"email": "p@example.com"}),
        json!({"phone": "13900009999"}),
        json!({"user_data": {"a": "b"}}),
        json!({"role": "admin"}),
    ] {
        let mut body = change.clone();
        body["user_id"] = json!(me);
        let answer = app.call(UPDATE, &token, body).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    // Not even the nick name of someone else.
    let answer = app
        .call(
            UPDATE,
            &token,
            json!({"user_id": other, "nick_name": "hacked"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");

    // The refusals changed nothing.
    let (_, stored) = app.admin(GET, json!({"user_id": me})).await;
    assert_eq!(stored, updated);
    let (_, stored) = app.admin(GET, json!({"user_id": other})).await;
    assert_eq!(stored["nick_name"], "other");
}

#[tokio::test]
async fn admins_change_status_and_contacts_and_only_superadmins_change_roles() {
    let app = spawn_app().await;
    let (target, _) = app.user_with_role("target", "user").await;
    let (ops_id, ops) = app.user_with_role("ops", "admin").await;

    let (status, changed) = app
        .call(
            UPDATE,
            &ops,
            json!({"user_id": target, "status": "disabled", "email": "t@example.com",
                   "phone": "13900001234", "user_data": {"dept": "qa"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["status"], "disabled");
    assert_eq!(changed["email"], "t@example.com");
    assert_eq!(changed["phone"], "13900001234");
    assert_eq!(changed["user_data"], json!({"dept": "qa"}));

    // Roles are the superadmin's to give.
    let answer = app
        .call(UPDATE, &ops, json!({"user_id": target, "role": "admin"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .call(
            UPDATE,
            &ops,
            json!({"user_id": ops_id, "role": "superadmin"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    // An admin does not touch a superadmin.
    let answer = app
        .call(
            UPDATE,
            &ops,
            json!({"user_id": "admin", "nick_name": "demoted"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    // Nor its own status; its own nick name is fine.
    let answer = app
        .call(
            UPDATE,
            &ops,
            json!({"user_id": ops_id, "status": "disabled"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    let (status, _) = app
        .call(
            UPDATE,
            &ops,
            json!({"user_id": ops_id, "nick_name": "Ops Team"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The superadmin changes roles and the status of admins...
    let (status, user) = app
        .admin(UPDATE, json!({"user_id": target, "role": "admin"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["role"], "admin");
    let (status, user) = app
        .admin(
            UPDATE,
            json!({"user_id": ops_id, "status": "disabled", "role": "user"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        (&user["role"], &user["status"]),
        (&json!("user"), &json!("disabled"))
    );
    // ...but not its own.
    for change in [json!({"role": "user"}), json!({"status": "disabled"})] {
        let mut body = change;
        body["user_id"] = json!("admin");
        let answer = app.admin(UPDATE, body).await;
        assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    }
    let (_, root) = app.admin(GET, json!({})).await;
    assert_eq!(root["role"], "superadmin");
    assert_eq!(root["status"], "enabled");
    assert_eq!(root["nick_name"], "admin");

    let answer = app
        .admin(UPDATE, json!({"user_id": "nobody", "nick_name": "x"}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");
}

// ---------------------------------------------------------------------------------------------
// delete

#[tokio::test]
async fn delete_answers_204_and_takes_the_accounts_along() {
    let app = spawn_app().await;
    let (eve, _) = app.user_with_role("eve", "user").await;
    assert_needs_a_token(&app, DELETE, json!({"user_id": eve})).await;
    let (_, plain) = app.user_with_role("plain", "user").await;
    let (ops_id, ops) = app.user_with_role("ops", "admin").await;

    let answer = app.call(DELETE, &plain, json!({"user_id": eve})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    assert!(exists(&app, &eve).await);

    let response = app.post(DELETE, Some(&ops), &json!({"user_id": eve})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    assert!(!exists(&app, &eve).await);
    // Its account went with it: no login, and the identity is free again.
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "eve"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");
    let again = import(
        &app,
        json!({"authentication_type": "custom", "identity": "eve", "nick_name": "Eve",
               "plain_password": USER_PASSWORD}),
    )
    .await;
    assert_ne!(again["user_id"], eve.as_str());
    app.login("eve", USER_PASSWORD).await;

    let answer = app.call(DELETE, &ops, json!({"user_id": eve})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");

    // Nobody deletes itself.
    let answer = app.call(DELETE, &ops, json!({"user_id": ops_id})).await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    let answer = app.admin(DELETE, json!({"user_id": "admin"})).await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    // An admin does not delete a superadmin; the superadmin deletes anyone else.
    app.by_admin()
        .user(NewUser::new("root2").role(Role::Superadmin))
        .await;
    let answer = app.call(DELETE, &ops, json!({"user_id": "root2"})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    assert!(exists(&app, "root2").await);
    for id in ["root2", ops_id.as_str()] {
        let (status, body) = app.admin(DELETE, json!({"user_id": id})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(body, Value::Null);
        assert!(!exists(&app, id).await);
    }
    assert!(exists(&app, "admin").await);
}

// ---------------------------------------------------------------------------------------------
// list

#[tokio::test]
async fn list_is_for_admins_and_ordered_by_user_id() {
    let app = spawn_app().await;
    assert_needs_a_token(&app, LIST, json!({})).await;
    let (plain_id, plain) = app.user_with_role("plain", "user").await;
    let (ops_id, ops) = app.user_with_role("ops", "admin").await;
    for id in ["m", "b", "zz", "a1", "B2"] {
        app.by_admin().user(NewUser::new(id)).await;
    }
    let answer = app.call(LIST, &plain, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");

    let mut expected: Vec<String> = ["admin", "m", "b", "zz", "a1", "B2"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([plain_id, ops_id])
        .collect();
    expected.sort();
    for token in [&app.admin_token, &ops] {
        let (status, page) = app.call(LIST, token, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["next_marker"], "", "{page}");
        let items = page["items"].as_array().unwrap();
        items.iter().for_each(assert_user_shape);
        assert_eq!(ids(items), expected);
    }
    // A page holding exactly what is left is the last one.
    let (_, page) = app.admin(LIST, json!({"limit": expected.len()})).await;
    assert_eq!(page["next_marker"], "", "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), expected.len());
    let (_, page) = app.admin(LIST, json!({"limit": 1})).await;
    assert_eq!(ids(page["items"].as_array().unwrap()), expected[..1]);
    assert_ne!(page["next_marker"], "");
}

#[tokio::test]
async fn list_pages_through_250_users_in_user_id_order() {
    let app = spawn_app().await;
    // Zero-padded ids, created in a scrambled order.
    let bodies = (0..250)
        .map(|i| json!({ "user_id": format!("u-{:03}", (i * 97) % 250) }))
        .collect();
    create_many(&app, bodies).await;
    let pages = all_pages(&app, &app.admin_token, LIST, json!({"limit": 100})).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 51], "250 users and the admin");
    let seen: Vec<String> = pages.iter().flat_map(|p| ids(p)).collect();
    let mut expected: Vec<String> = (0..250).map(|i| format!("u-{i:03}")).collect();
    expected.push("admin".into());
    expected.sort();
    assert_eq!(seen, expected);
    // The default limit is 100.
    let (_, page) = app.admin(LIST, json!({})).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    assert_ne!(page["next_marker"], "");
}

#[tokio::test]
async fn list_pages_survive_creates_and_deletes_between_pages() {
    let app = spawn_app().await;
    let bodies = (0..40)
        .map(|i| json!({ "user_id": format!("v-{i:02}") }))
        .collect();
    create_many(&app, bodies).await;
    let delete = |id: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app.admin(DELETE, json!({ "user_id": id })).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
    };
    let page_of = |marker: String| {
        let app = &app;
        async move {
            let (status, page) = app
                .admin(LIST, json!({"limit": 10, "marker": marker}))
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            (
                ids(page["items"].as_array().unwrap()),
                page["next_marker"].as_str().unwrap().to_owned(),
            )
        }
    };

    let (first, marker) = page_of(String::new()).await;
    assert_eq!(first.last().map(String::as_str), Some("v-08"));
    // Between pages: one seen user and one unseen user go; two users after the marker come.
    delete("v-03").await;
    delete("v-20").await;
    app.by_admin().user(NewUser::new("v-085")).await;
    app.by_admin().user(NewUser::new("v-99")).await;
    let (second, mut marker) = page_of(marker).await;
    // Then a user before the marker comes, and another seen one goes.
    app.by_admin().user(NewUser::new("v-00a")).await;
    delete("v-10").await;
    let mut seen: Vec<String> = first.into_iter().chain(second).collect();
    while !marker.is_empty() {
        let (items, next) = page_of(marker).await;
        seen.extend(items);
        marker = next;
    }

    // Strictly ascending: no duplicates, no going back.
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    let seen: BTreeSet<String> = seen.into_iter().collect();
    let mut throughout: BTreeSet<String> = (0..40).map(|i| format!("v-{i:02}")).collect();
    throughout.insert("admin".into());
    for gone in ["v-03", "v-10", "v-20"] {
        throughout.remove(gone);
    }
    let missed: Vec<&String> = throughout.difference(&seen).collect();
    assert!(missed.is_empty(), "skipped {missed:?}");
    assert!(
        !seen.contains("v-20"),
        "deleted before its page, still listed"
    );
    assert!(seen.contains("v-085") && seen.contains("v-99"), "{seen:?}");
    assert!(!seen.contains("v-00a"), "{seen:?}");
}

// ---------------------------------------------------------------------------------------------
// search

#[tokio::test]
async fn search_is_for_admins() {
    let app = spawn_app().await;
    assert_needs_a_token(&app, SEARCH, json!({"nick_name": "find"})).await;
    let (_, plain) = app.user_with_role("plain", "user").await;
    let (_, ops) = app.user_with_role("ops", "admin").await;
    app.by_admin()
        .user(NewUser::new("f1").nick("Find me"))
        .await;
    app.by_admin().user(NewUser::new("f2").nick("Lost")).await;
    let answer = app.call(SEARCH, &plain, json!({"nick_name": "find"})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    for token in [&app.admin_token, &ops] {
        let (status, page) = app.call(SEARCH, token, json!({"nick_name": "find"})).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        items.iter().for_each(assert_user_shape);
        assert_eq!(ids(items), ["f1"]);
        assert_eq!(page["next_marker"], "");
    }
}

/// Five users whose fields the filter tests pick apart; with them is `admin` (nick and user
/// name `admin`, no email or phone, superadmin, enabled).
async fn search_fixture(app: &TestApp) {
    for (id, nick, user_name, email, phone, role, status) in [
        (
            "s1",
            "Alice Smith",
            "asmith",
            "alice@corp.com",
            "13900001111",
            "user",
            "enabled",
        ),
        (
            "s2",
            "alina",
            "Alina.K",
            "ALINA@home.org",
            "13900002222",
            "admin",
            "enabled",
        ),
        (
            "s3",
            "Bob",
            "bobby",
            "bob@corp.com",
            "13800003333",
            "user",
            "disabled",
        ),
        (
            "s4",
            "Malice",
            "mal",
            "mal@corp.com",
            "+8613900004444",
            "admin",
            "disabled",
        ),
        (
            "s5",
            "BOBCAT",
            "cat",
            "Cat@Zoo.net",
            "13900005555",
            "user",
            "enabled",
        ),
    ] {
        create(
            app,
            json!({"user_id": id, "nick_name": nick, "user_name": user_name, "email": email,
                   "phone": phone, "role": role, "status": status}),
        )
        .await;
    }
}

#[tokio::test]
async fn search_filters_each_match_as_documented() {
    let app = spawn_app().await;
    search_fixture(&app).await;
    let all = set(&["admin", "s1", "s2", "s3", "s4", "s5"]);
    assert_eq!(found(&app, json!({})).await, all);
    for (query, expected) in [
        // Prefixes, case-insensitive; a prefix is not a substring.
        (json!({"nick_name": "al"}), set(&["s1", "s2"])),
        (json!({"nick_name": "AL"}), set(&["s1", "s2"])),
        (json!({"nick_name": "alice s"}), set(&["s1"])),
        (json!({"nick_name": "lice"}), set(&[])),
        (json!({"user_name": "AL"}), set(&["s2"])),
        (json!({"user_name": "a"}), set(&["admin", "s1", "s2"])),
        (json!({"email": "alina@"}), set(&["s2"])),
        (json!({"email": "CAT@ZOO"}), set(&["s5"])),
        (json!({"email": "corp"}), set(&[])),
        (json!({"phone": "139"}), set(&["s1", "s2", "s5"])),
        (json!({"phone": "+86"}), set(&["s4"])),
        (json!({"phone": "13900002"}), set(&["s2"])),
        // Substrings, case-insensitive, of three characters or more...
        (json!({"nick_name_for_fuzzy": "lic"}), set(&["s1", "s4"])),
        (json!({"nick_name_for_fuzzy": "LICE"}), set(&["s1", "s4"])),
        (json!({"nick_name_for_fuzzy": "smith"}), set(&["s1"])),
        (json!({"nick_name_for_fuzzy": "bca"}), set(&["s5"])),
        (json!({"nick_name_for_fuzzy": "xyz"}), set(&[])),
        // ...and of one or two.
        (
            json!({"nick_name_for_fuzzy": "li"}),
            set(&["s1", "s2", "s4"]),
        ),
        (json!({"nick_name_for_fuzzy": "OB"}), set(&["s3", "s5"])),
        (json!({"nick_name_for_fuzzy": "b"}), set(&["s3", "s5"])),
        (json!({"nick_name_for_fuzzy": "q"}), set(&[])),
        // Exact role and status.
        (json!({"role": "admin"}), set(&["s2", "s4"])),
        (json!({"role": "superadmin"}), set(&["admin"])),
        (json!({"role": "user"}), set(&["s1", "s3", "s5"])),
        (json!({"status": "disabled"}), set(&["s3", "s4"])),
        (
            json!({"status": "enabled"}),
            set(&["admin", "s1", "s2", "s5"]),
        ),
    ] {
        assert_eq!(found(&app, query.clone()).await, expected, "{query}");
    }
}

#[tokio::test]
async fn search_filters_combine_with_and() {
    let app = spawn_app().await;
    search_fixture(&app).await;
    for (query, expected) in [
        (json!({"nick_name": "al", "role": "admin"}), set(&["s2"])),
        (json!({"nick_name": "al", "role": "user"}), set(&["s1"])),
        (json!({"nick_name": "al", "status": "disabled"}), set(&[])),
        (json!({"email": "bob", "status": "disabled"}), set(&["s3"])),
        (json!({"email": "bob", "status": "enabled"}), set(&[])),
        (
            json!({"nick_name_for_fuzzy": "lic", "status": "enabled"}),
            set(&["s1"]),
        ),
        (
            json!({"nick_name_for_fuzzy": "lic", "status": "disabled"}),
            set(&["s4"]),
        ),
        (
            json!({"nick_name_for_fuzzy": "lic", "role": "admin"}),
            set(&["s4"]),
        ),
        (
            json!({"nick_name_for_fuzzy": "lic", "role": "superadmin"}),
            set(&[]),
        ),
        (
            json!({"nick_name_for_fuzzy": "bo", "role": "user", "status": "enabled"}),
            set(&["s5"]),
        ),
        (
            json!({"phone": "139", "role": "admin", "status": "enabled"}),
            set(&["s2"]),
        ),
        (
            json!({"phone": "139", "role": "admin", "status": "disabled"}),
            set(&[]),
        ),
        (
            json!({"nick_name": "b", "nick_name_for_fuzzy": "cat"}),
            set(&["s5"]),
        ),
        (
            json!({"nick_name": "b", "nick_name_for_fuzzy": "lic"}),
            set(&[]),
        ),
        (json!({"user_name": "a", "email": "alina"}), set(&["s2"])),
        (json!({"user_name": "mal", "email": "alice"}), set(&[])),
        (
            json!({"nick_name": "m", "user_name": "mal", "email": "mal@", "phone": "+86"}),
            set(&["s4"]),
        ),
        (
            json!({"nick_name": "m", "user_name": "mal", "email": "mal@", "phone": "139"}),
            set(&[]),
        ),
    ] {
        assert_eq!(found(&app, query.clone()).await, expected, "{query}");
    }
}

#[tokio::test]
async fn fuzzy_search_takes_needles_literally_and_follows_changes() {
    let app = spawn_app().await;
    for (id, nick) in [
        ("w1", "x_y"),
        ("w2", "100% sure"),
        ("w3", "xay"),
        ("w4", "Éclair"),
        ("w5", "plain"),
    ] {
        app.by_admin().user(NewUser::new(id).nick(nick)).await;
    }
    for (needle, expected) in [
        // LIKE wildcards are characters like any other.
        ("_", set(&["w1"])),
        ("x_y", set(&["w1"])),
        ("%", set(&["w2"])),
        ("0%", set(&["w2"])),
        ("0% s", set(&["w2"])),
        // Case folding beyond ASCII.
        ("é", set(&["w4"])),
        ("ÉCL", set(&["w4"])),
    ] {
        let query = json!({ "nick_name_for_fuzzy": needle });
        assert_eq!(found(&app, query).await, expected, "{needle}");
    }
    assert_eq!(found(&app, json!({"nick_name": "éc"})).await, set(&["w4"]));

    // Searches see renames at once, by prefix and by substring of any length...
    let renamed = UserChange::new().nick("Renamed").email("W5@Example.com");
    app.by_admin().update_user("w5", renamed).await;
    for (query, expected) in [
        (json!({"nick_name_for_fuzzy": "ame"}), set(&["w5"])),
        (json!({"nick_name_for_fuzzy": "me"}), set(&["w5"])),
        (json!({"nick_name_for_fuzzy": "lai"}), set(&["w4"])),
        (json!({"nick_name": "ren"}), set(&["w5"])),
        (json!({"nick_name": "pla"}), set(&[])),
        (json!({"email": "w5@ex"}), set(&["w5"])),
    ] {
        assert_eq!(found(&app, query.clone()).await, expected, "{query}");
    }
    // ...and deletions.
    let (status, _) = app.admin(DELETE, json!({"user_id": "w5"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        found(&app, json!({"nick_name_for_fuzzy": "ame"})).await,
        set(&[])
    );
    assert_eq!(found(&app, json!({"nick_name": "ren"})).await, set(&[]));
}

#[tokio::test]
async fn search_pages_by_marker() {
    let app = spawn_app().await;
    // 30 matches of the prefix "team", many sharing one nick name, and 3 near misses.
    let mut bodies: Vec<Value> = (0..30)
        .map(|i| {
            let nick = match i % 3 {
                0 => "Team".to_owned(),
                1 => format!("team-{i}"),
                _ => format!("TEAM {i}"),
            };
            json!({"user_id": format!("t{:02}", (i * 7) % 30), "nick_name": nick})
        })
        .collect();
    for (id, nick) in [("n1", "Tea"), ("n2", "Steam"), ("n3", "te am")] {
        bodies.push(json!({"user_id": id, "nick_name": nick}));
    }
    create_many(&app, bodies).await;

    let pages = all_pages(
        &app,
        &app.admin_token,
        SEARCH,
        json!({"nick_name": "team", "limit": 7}),
    )
    .await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [7, 7, 7, 7, 2]);
    let seen: Vec<String> = pages.iter().flat_map(|p| ids(p)).collect();
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    let expected: BTreeSet<String> = (0..30).map(|i| format!("t{i:02}")).collect();
    assert_eq!(unique, expected);

    // Exactly two full pages: the second is the last.
    let pages = all_pages(
        &app,
        &app.admin_token,
        SEARCH,
        json!({"nick_name": "team", "role": "user", "limit": 15}),
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [15, 15]);
}

// ---------------------------------------------------------------------------------------------
// import

#[tokio::test]
async fn import_creates_a_user_with_its_logon_account() {
    let app = spawn_app().await;
    let carl = json!({"authentication_type": "custom", "identity": "carl", "nick_name": "Carl",
                      "plain_password": USER_PASSWORD});
    assert_needs_a_token(&app, IMPORT, carl.clone()).await;
    let (_, plain) = app.user_with_role("plain", "user").await;
    let answer = app.call(IMPORT, &plain, carl.clone()).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "carl"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");

    let before = now_ms();
    let user = import(&app, carl).await;
    assert_user_shape(&user);
    let carl_id = user["user_id"].as_str().unwrap().to_owned();
    assert!(!carl_id.is_empty() && carl_id != "carl", "{user}");
    assert_eq!(user["nick_name"], "Carl");
    assert_eq!(user["role"], "user");
    assert_eq!(user["status"], "enabled");
    assert_eq!(user["creator"], "admin");
    assert_eq!(user["email"], "");
    assert_eq!(user["phone"], "");
    assert!(user["created_at"].as_i64().unwrap() >= before);
    assert!(exists(&app, &carl_id).await);
    // The password logs in with the identity as user name.
    let (status, token) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "carl"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["user_id"], carl_id.as_str());

    // email: the identity is the user's email; it logs in too.
    let dana = import(
        &app,
        json!({"authentication_type": "email", "identity": "dana@example.com",
               "nick_name": "Dana", "plain_password": USER_PASSWORD}),
    )
    .await;
    assert_eq!(dana["email"], "dana@example.com");
    assert_eq!(dana["phone"], "");
    app.login("dana@example.com", USER_PASSWORD).await;
    // mobile: the identity is the user's phone.
    let mo = import(
        &app,
        json!({"authentication_type": "mobile", "identity": "13912345678", "nick_name": "Mo"}),
    )
    .await;
    assert_eq!(mo["phone"], "13912345678");
    assert_eq!(mo["email"], "");
    // ldap, and no password: no login.
    let lee = import(
        &app,
        json!({"authentication_type": "ldap", "identity": "lee", "nick_name": "Lee",
               "auto_create_drive": false}),
    )
    .await;
    assert_ne!(lee["user_id"], user["user_id"]);
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "lee"),
            ("password", USER_PASSWORD),
        ])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");

    // An admin imports too, as the creator.
    let (ops_id, ops) = app.user_with_role("ops", "admin").await;
    let (status, fay) = app
        .call(
            IMPORT,
            &ops,
            json!({"authentication_type": "custom", "identity": "fay", "nick_name": "Fay"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fay}");
    assert_eq!(fay["creator"], ops_id.as_str());
}

// ---------------------------------------------------------------------------------------------
// general_get / general_search

#[tokio::test]
async fn general_get_adds_the_accounts_when_asked() {
    let app = spawn_app().await;
    assert_needs_a_token(&app, GENERAL_GET, json!({})).await;
    let (me, token) = app.user_with_role("plain", "user").await;
    let (other, _) = app.user_with_role("other", "user").await;
    let (_, ops) = app.user_with_role("ops", "admin").await;

    // Without extras: the user as get answers it, and no account list.
    let (status, item) = app.call(GENERAL_GET, &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert!(item.get("account").is_none(), "{item}");
    let (_, user) = app.call(GET, &token, json!({})).await;
    assert_eq!(item, user);

    let (status, item) = app
        .call(
            GENERAL_GET,
            &token,
            json!({"extra_return_info": ["account"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_user_shape(&item);
    assert_eq!(item["user_id"], me.as_str());
    let accounts = item["account"].as_array().expect("account list");
    assert_eq!(accounts.len(), 1, "{item}");
    let account = &accounts[0];
    assert_eq!(account["authentication_type"], "custom");
    assert_eq!(account["identity"], "plain");
    assert_eq!(account["user_id"], me.as_str());
    assert_eq!(account["domain_id"], "default");
    assert!(account["display_name"].is_string(), "{account}");
    assert_eq!(account["extra"], "");
    let created_at = account["created_at"].as_i64().unwrap();
    assert!(
        (1_000_000_000_000..=now_ms()).contains(&created_at),
        "{account}"
    );
    assert!(
        account["last_login_time"].as_i64().unwrap() > 0,
        "it logged in: {account}"
    );
    assert_eq!(account["status"], "normal");

    // A user reads only itself; admins read anyone.
    for body in [
        json!({"user_id": other}),
        json!({"user_id": other, "extra_return_info": ["account"]}),
        json!({"user_id": "admin"}),
    ] {
        let answer = app.call(GENERAL_GET, &token, body).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    for caller in [&ops, &app.admin_token] {
        let (status, item) = app
            .call(
                GENERAL_GET,
                caller,
                json!({"user_id": other, "extra_return_info": ["account"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{item}");
        assert_eq!(item["user_id"], other.as_str());
        assert_eq!(item["account"][0]["identity"], "other");
        let answer = app
            .call(GENERAL_GET, caller, json!({"user_id": "nobody"}))
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");
    }

    // Mobile accounts carry the country code, 86 unless given; display names as given.
    let mo = import(
        &app,
        json!({"authentication_type": "mobile", "identity": "13912345678", "nick_name": "Mo",
               "authentication_display_name": "Mo's phone"}),
    )
    .await;
    let (_, item) = app
        .admin(
            GENERAL_GET,
            json!({"user_id": mo["user_id"], "extra_return_info": ["account"]}),
        )
        .await;
    let account = &item["account"][0];
    assert_eq!(account["authentication_type"], "mobile");
    assert_eq!(account["identity"], "13912345678");
    assert_eq!(account["extra"], "86");
    assert_eq!(account["display_name"], "Mo's phone");
    assert_eq!(account["last_login_time"], 0);
    // A created user has no account.
    app.by_admin().user(NewUser::new("bare")).await;
    let (_, item) = app
        .admin(
            GENERAL_GET,
            json!({"user_id": "bare", "extra_return_info": ["account"]}),
        )
        .await;
    assert_eq!(item["account"], json!([]));
}

#[tokio::test]
async fn general_search_pages_users_with_their_accounts() {
    let app = spawn_app().await;
    assert_needs_a_token(&app, GENERAL_SEARCH, json!({})).await;
    let (_, plain) = app.user_with_role("plain", "user").await;
    let (_, ops) = app.user_with_role("ops", "admin").await;
    let answer = app.call(GENERAL_SEARCH, &plain, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");

    let mut identity_of = BTreeMap::new();
    for i in 0..5 {
        let user = import(
            &app,
            json!({"authentication_type": "custom", "identity": format!("gs-{i}"),
                   "nick_name": format!("GS {i}")}),
        )
        .await;
        identity_of.insert(
            user["user_id"].as_str().unwrap().to_owned(),
            format!("gs-{i}"),
        );
    }
    app.by_admin()
        .user(NewUser::new("gs-bare").nick("gs bare"))
        .await;
    app.by_admin()
        .user(NewUser::new("other").nick("Other"))
        .await;

    for token in [&app.admin_token, &ops] {
        let query = json!({"nick_name": "gs", "extra_return_info": ["account"], "limit": 2});
        let pages = all_pages(&app, token, GENERAL_SEARCH, query).await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2]);
        let mut seen = BTreeSet::new();
        for item in pages.iter().flatten() {
            assert_user_shape(item);
            let id = item["user_id"].as_str().unwrap();
            assert!(seen.insert(id.to_owned()), "{id} twice");
            let accounts = item["account"].as_array().expect("account list");
            match identity_of.get(id) {
                Some(identity) => {
                    assert_eq!(accounts.len(), 1, "{item}");
                    assert_eq!(accounts[0]["identity"], identity.as_str());
                    assert_eq!(accounts[0]["user_id"], id);
                }
                None => {
                    assert_eq!(id, "gs-bare");
                    assert!(accounts.is_empty(), "{item}");
                }
            }
        }
        assert_eq!(seen.len(), 6);
    }
    // Without extras, no account lists; the filters combine as in search.
    let (status, page) = app.admin(GENERAL_SEARCH, json!({"nick_name": "gs"})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert!(items.iter().all(|i| i.get("account").is_none()), "{page}");
    app.by_admin().lock("gs-bare").await;
    for (query, expected) in [
        (json!({"nick_name_for_fuzzy": "bare"}), vec!["gs-bare"]),
        (
            json!({"nick_name": "gs", "status": "disabled"}),
            vec!["gs-bare"],
        ),
        (json!({"nick_name": "oth", "status": "disabled"}), vec![]),
        (json!({"nick_name": "gs", "role": "admin"}), vec![]),
    ] {
        let (status, page) = app.admin(GENERAL_SEARCH, query.clone()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(ids(page["items"].as_array().unwrap()), expected, "{query}");
    }
}

// ---------------------------------------------------------------------------------------------
// bad input

#[tokio::test]
async fn malformed_json_is_refused_everywhere() {
    let app = spawn_app().await;
    let mut wrong = Vec::new();
    for path in ENDPOINTS {
        for body in [
            "{",
            "{\"user_id\": ",
            "not json",
            // Well-formed up to a point, then not: the syntax error comes first all the same.
            "{\"user_id\": \"a\"} x",
            "{\"user_id\": 5, \"limit\": true, \"role\": \"king\"",
        ] {
            let answer = raw(&app, path, body).await;
            if answer.1["code"] == "InvalidRequestJSONFormat" {
                assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidRequestJSONFormat");
            } else {
                wrong.push(format!("{path} {body:?} -> {} {}", answer.0, answer.1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "not InvalidRequestJSONFormat:\n{}",
        wrong.join("\n")
    );
    let (_, list) = app.admin(LIST, json!({})).await;
    assert_eq!(ids(list["items"].as_array().unwrap()), ["admin"]);
}

#[tokio::test]
async fn missing_required_fields_are_named() {
    let app = spawn_app().await;
    let (target, _) = app.user_with_role("target", "user").await;
    let import_body = json!({"authentication_type": "custom", "identity": "x", "nick_name": "X"});
    let mut cases = vec![
        (CREATE, json!({"nick_name": "no id"}), "user_id"),
        (UPDATE, json!({"nick_name": "no id"}), "user_id"),
        (DELETE, json!({}), "user_id"),
    ];
    for field in ["authentication_type", "identity", "nick_name"] {
        let mut body = import_body.clone();
        body.as_object_mut().unwrap().remove(field);
        cases.push((IMPORT, body, field));
    }
    let mut wrong = Vec::new();
    for (path, body, field) in cases {
        let answer = app.admin(path, body.clone()).await;
        let named = answer.1["message"]
            .as_str()
            .is_some_and(|m| m.contains(field));
        if answer.1["code"] == "InvalidParameterMissing" && named {
            assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterMissing");
        } else {
            wrong.push(format!("{path} {body} -> {} {}", answer.0, answer.1));
        }
    }
    assert!(wrong.is_empty(), "missing fields:\n{}", wrong.join("\n"));
    // Nothing was created, changed or deleted.
    let (_, list) = app.admin(LIST, json!({})).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    assert!(exists(&app, &target).await);
}

#[tokio::test]
async fn empty_required_strings_are_refused() {
    let app = spawn_app().await;
    let cases = [
        (CREATE, json!({"user_id": ""})),
        (UPDATE, json!({"user_id": "", "nick_name": "x"})),
        (DELETE, json!({"user_id": ""})),
        (
            IMPORT,
            json!({"authentication_type": "custom", "identity": "", "nick_name": "X"}),
        ),
        (
            IMPORT,
            json!({"authentication_type": "custom", "identity": "x", "nick_name": ""}),
        ),
    ];
    expect_errors(
        &app,
        &cases,
        StatusCode::BAD_REQUEST,
        "InvalidParameterEmpty",
    )
    .await;
    let (_, list) = app.admin(LIST, json!({})).await;
    assert_eq!(ids(list["items"].as_array().unwrap()), ["admin"]);
}

#[tokio::test]
async fn wrong_types_and_unknown_enum_values_are_invalid() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("alice")).await;
    let cases = [
        (CREATE, json!({"user_id": 5})),
        (CREATE, json!({"user_id": "b", "role": 5})),
        (CREATE, json!({"user_id": "b", "role": "king"})),
        (CREATE, json!({"user_id": "b", "status": "frozen"})),
        (CREATE, json!({"user_id": "b", "user_data": "text"})),
        (CREATE, json!({"user_id": "b", "nick_name": ["B"]})),
        (GET, json!({"user_id": 5})),
        (UPDATE, json!({"user_id": "alice", "nick_name": 5})),
        (UPDATE, json!({"user_id": "alice", "status": "frozen"})),
        (UPDATE, json!({"user_id": "alice", "role": "king"})),
        (DELETE, json!({"user_id": ["alice"]})),
        (LIST, json!({"limit": "ten"})),
        (LIST, json!({"limit": true})),
        (LIST, json!({"limit": 1.5})),
        (LIST, json!({"status": "frozen"})),
        (LIST, json!({"marker": 5})),
        (SEARCH, json!({"role": "king"})),
        (SEARCH, json!({"status": 1})),
        (SEARCH, json!({"nick_name": 5})),
        (SEARCH, json!({"limit": "ten"})),
        (
            IMPORT,
            json!({"authentication_type": "ding", "identity": "x", "nick_name": "X"}),
        ),
        (
            IMPORT,
            json!({"authentication_type": "custom", "identity": 5, "nick_name": "X"}),
        ),
        (GENERAL_GET, json!({"extra_return_info": ["bogus"]})),
        (GENERAL_GET, json!({"extra_return_info": "account"})),
        (GENERAL_GET, json!({"user_id": 5})),
        (GENERAL_SEARCH, json!({"extra_return_info": ["bogus"]})),
        (GENERAL_SEARCH, json!({"role": "king"})),
        (GENERAL_SEARCH, json!({"status": "frozen"})),
        (GENERAL_SEARCH, json!({"limit": "ten"})),
    ];
    expect_errors(&app, &cases, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    let (_, list) = app.admin(LIST, json!({})).await;
    assert_eq!(ids(list["items"].as_array().unwrap()), ["admin", "alice"]);
    // A numeric string is a number, as the JS SDK sends it.
    let (status, page) = app.admin(LIST, json!({"limit": "1"})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn values_over_their_limits_are_out_of_range() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("alice")).await;
    let long = |n: usize| "x".repeat(n);
    // {"k":"…"} is 8 characters around the value.
    let user_data = |n: usize| json!({ "k": "x".repeat(n - 8) });
    let cases = [
        (CREATE, json!({"user_id": long(65)})),
        (CREATE, json!({"user_id": "b", "user_name": long(129)})),
        (CREATE, json!({"user_id": "b", "nick_name": long(129)})),
        (CREATE, json!({"user_id": "b", "description": long(1025)})),
        (
            CREATE,
            json!({"user_id": "b", "user_data": user_data(1025)}),
        ),
        (GET, json!({"user_id": long(65)})),
        (UPDATE, json!({"user_id": "alice", "nick_name": long(129)})),
        (UPDATE, json!({"user_id": "alice", "user_name": long(129)})),
        (
            UPDATE,
            json!({"user_id": "alice", "description": long(1025)}),
        ),
        (
            UPDATE,
            json!({"user_id": "alice", "user_data": user_data(1025)}),
        ),
        (DELETE, json!({"user_id": long(65)})),
        (SEARCH, json!({"nick_name": long(129)})),
        (SEARCH, json!({"nick_name_for_fuzzy": long(129)})),
        (SEARCH, json!({"user_name": long(129)})),
        (
            IMPORT,
            json!({"authentication_type": "custom", "identity": "x", "nick_name": long(129)}),
        ),
        (GENERAL_GET, json!({"user_id": long(65)})),
        (GENERAL_SEARCH, json!({"nick_name_for_fuzzy": long(129)})),
    ];
    expect_errors(
        &app,
        &cases,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    )
    .await;
    let (_, alice) = app.admin(GET, json!({"user_id": "alice"})).await;
    assert_eq!(
        (&alice["nick_name"], &alice["description"]),
        (&json!(""), &json!(""))
    );
    assert_eq!(alice["user_data"], json!({}));

    // Limits count characters, not bytes, and are inclusive.
    let user = create(
        &app,
        json!({"user_id": "é".repeat(64), "user_name": "ü".repeat(128),
               "nick_name": "名".repeat(128), "description": "ö".repeat(1024),
               "user_data": user_data(1024)}),
    )
    .await;
    assert_eq!(user["nick_name"], "名".repeat(128));
    let (status, body) = app
        .admin(
            UPDATE,
            json!({"user_id": "alice", "nick_name": long(128), "description": long(1024),
                   "user_data": user_data(1024)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn limits_outside_1_to_100_are_out_of_range() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("alice")).await;
    let mut cases = Vec::new();
    for path in [LIST, SEARCH, GENERAL_SEARCH] {
        for limit in [json!(0), json!(101), json!(-1), json!(i64::MAX), json!("0")] {
            cases.push((path, json!({ "limit": limit })));
        }
    }
    expect_errors(
        &app,
        &cases,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    )
    .await;
    for path in [LIST, SEARCH, GENERAL_SEARCH] {
        for (limit, n) in [(1, 1), (100, 2)] {
            let (status, page) = app.admin(path, json!({ "limit": limit })).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(page["items"].as_array().unwrap().len(), n, "{path} {limit}");
        }
    }
}

#[tokio::test]
async fn garbage_markers_are_invalid() {
    let app = spawn_app().await;
    let mut cases = Vec::new();
    for path in [LIST, SEARCH, GENERAL_SEARCH] {
        // Not base64; base64 of something that is no marker.
        for marker in ["!!not a marker!!", "bm90LWEtbWFya2Vy"] {
            cases.push((path, json!({ "marker": marker })));
        }
    }
    expect_errors(&app, &cases, StatusCode::BAD_REQUEST, "InvalidParameter").await;
}

#[tokio::test]
async fn malformed_values_are_wrong_format() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("alice")).await;
    let cases = [
        (CREATE, json!({"user_id": "a#b"})),
        (CREATE, json!({"user_id": "b", "email": "not-an-email"})),
        (
            CREATE,
            json!({"user_id": "b", "avatar": "ftp://example.com/a.png"}),
        ),
        (CREATE, json!({"user_id": "b", "avatar": "a.png"})),
        (
            UPDATE,
            json!({"user_id": "alice", "email": "alice.example.com"}),
        ),
        (
            UPDATE,
            json!({"user_id": "alice", "avatar": "file:///etc/passwd"}),
        ),
        (
            IMPORT,
            json!({"authentication_type": "email", "identity": "nobody.example.com",
                   "nick_name": "X"}),
        ),
        (
            IMPORT,
            json!({"authentication_type": "custom", "identity": "x", "nick_name": "X",
                   "email": "x"}),
        ),
    ];
    expect_errors(
        &app,
        &cases,
        StatusCode::BAD_REQUEST,
        "InvalidParameterWrongFormat",
    )
    .await;
    let (_, list) = app.admin(LIST, json!({})).await;
    assert_eq!(ids(list["items"].as_array().unwrap()), ["admin", "alice"]);
    // The formats that are right.
    for (i, avatar) in [
        "http://example.com/a.png",
        "https://example.com/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
    ]
    .into_iter()
    .enumerate()
    {
        let user = create(
            &app,
            json!({"user_id": format!("ok-{i}"), "avatar": avatar, "email": "ok@example.com"}),
        )
        .await;
        assert_eq!(user["avatar"], avatar);
    }
}

#[tokio::test]
async fn unknown_groups_are_not_found_and_nothing_is_written() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("alice")).await;
    let import_with = |extra: Value| {
        let mut body = json!({"authentication_type": "custom", "identity": "x", "nick_name": "X"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    // Groups that do not exist are named as such, and nothing is written.
    let unknown_groups = [
        (IMPORT, import_with(json!({"parent_group_id": "g1"}))),
        (
            CREATE,
            json!({"user_id": "b", "group_info_list": [{"group_id": "g1"}]}),
        ),
        (
            UPDATE,
            json!({"user_id": "alice", "group_info_list": [{"group_id": "g1"}]}),
        ),
    ];
    expect_errors(
        &app,
        &unknown_groups,
        StatusCode::NOT_FOUND,
        "NotFound.Group",
    )
    .await;
    let (_, list) = app.admin(LIST, json!({})).await;
    assert_eq!(ids(list["items"].as_array().unwrap()), ["admin", "alice"]);
    // An empty group list asks for nothing.
    create(&app, json!({"user_id": "b", "group_info_list": []})).await;
}

// ---------------------------------------------------------------------------------------------
// restart

#[tokio::test]
async fn users_and_accounts_survive_a_restart() {
    let app = spawn_app().await;
    let alice = create(
        &app,
        json!({"user_id": "alice", "user_name": "alice.w", "nick_name": "Alice",
               "email": "alice@example.com", "phone": "13900001111", "role": "admin",
               "description": "kept", "user_data": {"k": [1, 2]}}),
    )
    .await;
    let carl = import(
        &app,
        json!({"authentication_type": "email", "identity": "carl@example.com",
               "nick_name": "Carl", "plain_password": USER_PASSWORD}),
    )
    .await;
    let carl_id = carl["user_id"].as_str().unwrap().to_owned();
    let (_, carl_item) = app
        .admin(
            GENERAL_GET,
            json!({"user_id": carl_id, "extra_return_info": ["account"]}),
        )
        .await;
    let store = app.stop().await;

    let app = spawn_on(store).await;
    let (status, got) = app.admin(GET, json!({"user_id": "alice"})).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, alice);
    let (_, item) = app
        .admin(
            GENERAL_GET,
            json!({"user_id": carl_id, "extra_return_info": ["account"]}),
        )
        .await;
    assert_eq!(item, carl_item);
    let token = app.login("carl@example.com", USER_PASSWORD).await;
    let (_, me) = app.call(GET, &token, json!({})).await;
    assert_eq!(me["user_id"], carl_id.as_str());
    assert_eq!(
        found(&app, json!({"nick_name_for_fuzzy": "lic"})).await,
        set(&["alice"])
    );
    app.stop().await;
}
