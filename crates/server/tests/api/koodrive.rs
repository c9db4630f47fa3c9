//! The KooDrive OSE dialect: users, departments, user groups, the envelope, both auth modes
//! and the cross-dialect view. Spaces are in `koodrive_spaces.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

pub const V1: &str = "/koodrive/ose/v1";

/// A KooDrive call with `Authorization: Bearer+{token}` and extra headers.
pub async fn kd_with(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = app
        .http
        .request(method, app.url(&format!("{V1}{path}")))
        .header("Authorization", format!("Bearer+{token}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("JSON body");
    (status, body, headers)
}

pub async fn kd(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, body, _) = kd_with(app, method, path, token, body, &[]).await;
    (status, body)
}

/// A call as the admin that must succeed (`code` 0); answers the whole body.
pub async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, body) = kd(app, method, path, &app.admin_token, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code"], 0, "{body}");
    body
}

/// Asserts a KooDrive error: HTTP status and numeric code, with a message.
pub fn assert_kd_error(answer: &(StatusCode, Value), status: StatusCode, code: i64) {
    let (got_status, body) = answer;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

pub async fn create_department(app: &TestApp, name: &str, parent: &str) -> String {
    let body = ok(
        app,
        Method::POST,
        "/departments",
        Some(json!({"name": name, "parentId": parent})),
    )
    .await;
    body["data"]["id"].as_str().unwrap().to_owned()
}

pub async fn create_user(app: &TestApp, user_id: &str, dept: &str, role: i64) {
    ok(
        app,
        Method::POST,
        "/users",
        Some(json!({"userId": user_id, "name": format!("Name {user_id}"),
                    "modifyUserInfoReq": {"deptId": dept, "role": role.to_string()}})),
    )
    .await;
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;

#[tokio::test]
async fn users_are_created_read_changed_and_deleted() {
    let app = spawn_app().await;
    let sales = create_department(&app, "Sales", "0").await;
    let created = ok(
        &app,
        Method::POST,
        "/users",
        Some(
            json!({"userId": "1008600000029937613", "name": "Alice", "mobile": "13800000000",
                    "modifyUserInfoReq": {"deptId": sales, "role": 0}}),
        ),
    )
    .await;
    let number = created["data"]["id"].as_str().unwrap().to_owned();
    assert!(!number.is_empty());

    let got = ok(&app, Method::GET, "/users/1008600000029937613", None).await;
    assert_eq!(
        got["data"],
        json!({"id": number, "userId": "1008600000029937613", "name": "Alice",
               "deptId": sales, "deptName": "Sales", "mobile": "13800000000", "role": 0,
               "status": 0, "orgId": "default"})
    );

    // The same user through PDS, with the department as its group.
    let (status, pds) = app
        .admin("/v2/user/get", json!({"user_id": "1008600000029937613"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{pds}");
    assert_eq!(pds["nick_name"], "Alice");
    assert_eq!(pds["phone"], "13800000000");
    assert_eq!(pds["role"], "user");
    assert_eq!(pds["status"], "enabled");
    let (_, groups) = app
        .admin(
            "/v2/group/list_member",
            json!({"group_id": sales, "member_type": "user"}),
        )
        .await;
    assert_eq!(
        groups["user_items"][0]["user_id"], "1008600000029937613",
        "{groups}"
    );

    // A department admin moved to another department administers that one.
    let west = create_department(&app, "West", "0").await;
    ok(
        &app,
        Method::PUT,
        "/users/1008600000029937613",
        Some(json!({"deptId": west})),
    )
    .await;
    let got = ok(&app, Method::GET, "/users/1008600000029937613", None).await;
    assert_eq!(
        (got["data"]["deptName"].clone(), got["data"]["role"].clone()),
        (json!("West"), json!(0))
    );
    let (_, roles) = app
        .admin(
            "/v2/role/list_identity_role",
            json!({"identity": {"identity_type": "IT_User", "identity_id": "1008600000029937613"}}),
        )
        .await;
    let administered: Vec<&Value> = roles["assignment_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["manage_resource_id"])
        .collect();
    assert_eq!(administered, [&json!(west)], "{roles}");

    // Role 3 (drive admin) is Roster's admin; status 1 disables.
    ok(
        &app,
        Method::PUT,
        "/users/1008600000029937613",
        Some(json!({"role": 3, "status": "1", "name": "Alice B"})),
    )
    .await;
    let got = ok(&app, Method::GET, "/users/1008600000029937613", None).await;
    assert_eq!(got["data"]["role"], 3);
    assert_eq!(got["data"]["status"], 1);
    assert_eq!(got["data"]["name"], "Alice B");
    let (_, pds) = app
        .admin("/v2/user/get", json!({"user_id": "1008600000029937613"}))
        .await;
    assert_eq!(pds["role"], "admin");
    assert_eq!(pds["status"], "disabled");

    // Moving departments (deptId as a Long) and back to common user.
    let ops = create_department(&app, "Ops", "0").await;
    ok(
        &app,
        Method::PUT,
        "/users/1008600000029937613",
        Some(json!({"deptId": ops, "role": 1, "status": 0})),
    )
    .await;
    let got = ok(&app, Method::GET, "/users/1008600000029937613", None).await;
    assert_eq!(got["data"]["deptId"], ops.as_str());
    assert_eq!(got["data"]["role"], 1);
    assert_eq!(got["data"]["status"], 0);

    ok(&app, Method::DELETE, "/users/1008600000029937613", None).await;
    let answer = kd(
        &app,
        Method::GET,
        "/users/1008600000029937613",
        &app.admin_token,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_309);
}

#[tokio::test]
async fn user_calls_refuse_bad_input_and_non_admins() {
    let app = spawn_app().await;
    create_user(&app, "u100", "0", 1).await;
    let admin = app.admin_token.clone();
    let cases = [
        (json!({}), 13_000_102),
        (json!({"userId": ""}), 13_000_102),
        (
            json!({"userId": "u101", "modifyUserInfoReq": {"role": 9}}),
            13_000_102,
        ),
        (
            json!({"userId": "u101", "modifyUserInfoReq": {"role": 0}}),
            13_000_102,
        ),
        (
            json!({"userId": "u101", "modifyUserInfoReq": {"deptId": "nope"}}),
            13_000_309,
        ),
        (json!({"userId": "u100"}), 13_901_001),
        (json!("not an object"), 13_000_102),
    ];
    for (body, code) in cases {
        let answer = kd(&app, Method::POST, "/users", &admin, Some(body.clone())).await;
        assert_kd_error(&answer, BAD, code);
    }
    let answer = kd(
        &app,
        Method::PUT,
        "/users/u100",
        &admin,
        Some(json!({"status": 4})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_102);
    let answer = kd(&app, Method::DELETE, "/users/ghost", &admin, None).await;
    assert_kd_error(&answer, BAD, 13_000_309);

    // A common user may not manage users.
    let (_, token) = app.user_with_role("carol", "user").await;
    let answer = kd(
        &app,
        Method::POST,
        "/users",
        &token,
        Some(json!({"userId": "u102"})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);
    let answer = kd(
        &app,
        Method::GET,
        "/userList?offset=0&limit=10",
        &token,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);
    let answer = kd(&app, Method::DELETE, "/users/u100", &token, None).await;
    assert_kd_error(&answer, BAD, 13_000_410);
    // A drive admin (role 3, Roster admin) may, but may not make a super admin.
    let (_, admin_token) = app.user_with_role("dave", "admin").await;
    let answer = kd(
        &app,
        Method::POST,
        "/users",
        &admin_token,
        Some(json!({"userId": "u103", "modifyUserInfoReq": {"role": 2}})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);
    let (status, body) = kd(
        &app,
        Method::POST,
        "/users",
        &admin_token,
        Some(json!({"userId": "u103", "modifyUserInfoReq": {"role": 1}})),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::OK, json!(0)),
        "{body}"
    );
}

#[tokio::test]
async fn user_list_pages_by_offset_and_counts() {
    let app = spawn_app().await;
    let rd = create_department(&app, "RD", "0").await;
    let backend = create_department(&app, "Backend", &rd).await;
    for i in 0..3 {
        create_user(&app, &format!("rd{i}"), &rd, 1).await;
    }
    for i in 0..2 {
        create_user(&app, &format!("be{i}"), &backend, 1).await;
    }
    // The subtree of RD, by pages of 2.
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = ok(
            &app,
            Method::GET,
            &format!("/userList?deptId={rd}&offset={offset}&limit=2"),
            None,
        )
        .await;
        assert_eq!(page["total"], 5, "{page}");
        for user in page["list"].as_array().unwrap() {
            seen.push(user["userId"].as_str().unwrap().to_owned());
        }
    }
    seen.sort();
    assert_eq!(seen, ["be0", "be1", "rd0", "rd1", "rd2"]);
    let direct = ok(
        &app,
        Method::GET,
        &format!("/userList?deptId={rd}&isDirect=true&offset=0&limit=100"),
        None,
    )
    .await;
    assert_eq!(direct["total"], 3);
    let named = ok(
        &app,
        Method::GET,
        "/userList?keyWord=NAME%20BE&offset=0&limit=10",
        None,
    )
    .await;
    assert_eq!(named["total"], 2, "{named}");
    assert_eq!(named["list"][0]["deptName"], "Backend");

    let count = ok(
        &app,
        Method::GET,
        &format!("/users/count?deptId={rd}"),
        None,
    )
    .await;
    assert_eq!(count["total"], 5);
    let all = ok(&app, Method::GET, "/users/count", None).await;
    assert_eq!(all["total"], 6, "the five and the admin: {all}");

    for query in [
        "offset=0",
        "limit=10",
        "offset=-1&limit=10",
        "offset=0&limit=0",
        "offset=0&limit=101",
        "offset=x&limit=10",
        "offset=0&limit=10&isDirect=maybe",
    ] {
        let answer = kd(
            &app,
            Method::GET,
            &format!("/userList?{query}"),
            &app.admin_token,
            None,
        )
        .await;
        assert_kd_error(&answer, BAD, 13_000_102);
    }
    let answer = kd(
        &app,
        Method::GET,
        "/userList?deptId=nope&offset=0&limit=10",
        &app.admin_token,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_309);
}

#[tokio::test]
async fn departments_are_a_tree_of_five_levels_with_unique_sibling_names() {
    let app = spawn_app().await;
    let mut parent = "0".to_owned();
    let mut chain = Vec::new();
    for level in 1..=5 {
        parent = create_department(&app, &format!("L{level}"), &parent).await;
        chain.push(parent.clone());
    }
    let admin = app.admin_token.clone();
    let too_deep = kd(
        &app,
        Method::POST,
        "/departments",
        &admin,
        Some(json!({"name": "L6", "parentId": parent})),
    )
    .await;
    assert_kd_error(&too_deep, BAD, 13_000_102);
    for (body, code) in [
        (json!({"name": "l1", "parentId": "0"}), 13_902_001),
        (json!({"name": "x".repeat(21), "parentId": "0"}), 13_000_102),
        (json!({"name": " ", "parentId": "0"}), 13_000_102),
        (json!({"name": "NoParent"}), 13_000_102),
        (json!({"name": "Orphan", "parentId": "nope"}), 13_000_309),
    ] {
        let answer = kd(&app, Method::POST, "/departments", &admin, Some(body)).await;
        assert_kd_error(&answer, BAD, code);
    }
    // Twenty characters (not bytes) are fine.
    create_department(&app, &"部".repeat(20), "0").await;

    // GetDepartment answers flat; the list gives the root, then direct children.
    let got = ok(
        &app,
        Method::GET,
        &format!("/departments/{}", chain[1]),
        None,
    )
    .await;
    assert_eq!(got["id"], chain[1].as_str());
    assert_eq!(got["parentId"], chain[0].as_str());
    assert_eq!(got["name"], "L2");
    assert_eq!(got["tenantId"], "default");
    let root = ok(&app, Method::GET, "/departmentList", None).await;
    assert_eq!(root["list"][0]["id"], "0");
    let top = ok(&app, Method::GET, "/departmentList?departmentId=0", None).await;
    assert_eq!(top["list"].as_array().unwrap().len(), 2, "{top}");
    let named = ok(
        &app,
        Method::GET,
        "/departmentList?departmentId=0&keyWord=l1",
        None,
    )
    .await;
    assert_eq!(named["list"][0]["id"], chain[0].as_str());

    // Rename and move; a sibling's name is refused.
    let other = create_department(&app, "Other", "0").await;
    let answer = kd(
        &app,
        Method::PUT,
        &format!("/departments/{other}"),
        &admin,
        Some(json!({"name": "L1", "parentId": "0"})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_902_001);
    ok(
        &app,
        Method::PUT,
        &format!("/departments/{other}"),
        Some(json!({"name": "Moved", "parentId": chain[0]})),
    )
    .await;
    let got = ok(&app, Method::GET, &format!("/departments/{other}"), None).await;
    assert_eq!(
        (got["name"].clone(), got["parentId"].clone()),
        (json!("Moved"), json!(chain[0]))
    );
    // A move is refused when the subtree would end deeper than level 5.
    let deep = create_department(&app, "Deep", &chain[2]).await;
    create_department(&app, "Deeper", &deep).await;
    let answer = kd(
        &app,
        Method::PUT,
        &format!("/departments/{deep}"),
        &admin,
        Some(json!({"name": "Deep", "parentId": chain[3]})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_102);
    // The same department through PDS.
    let (_, pds) = app.admin("/v2/group/get", json!({"group_id": other})).await;
    assert_eq!(pds["group_name"], "Moved");

    // Deleting: refused while it has children; a leaf goes.
    let answer = kd(
        &app,
        Method::DELETE,
        &format!("/departments/{}", chain[3]),
        &admin,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_900_409);
    ok(
        &app,
        Method::DELETE,
        &format!("/departments/{}", chain[4]),
        None,
    )
    .await;
    let answer = kd(
        &app,
        Method::GET,
        &format!("/departments/{}", chain[4]),
        &admin,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_309);

    // A common user reads the tree but does not change it.
    let (_, token) = app.user_with_role("erin", "user").await;
    let (status, _) = kd(
        &app,
        Method::GET,
        "/departmentList?departmentId=0",
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let answer = kd(
        &app,
        Method::POST,
        "/departments",
        &token,
        Some(json!({"name": "Mine", "parentId": "0"})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);
}

#[tokio::test]
async fn user_groups_page_by_cursor_and_batch_members() {
    let app = spawn_app().await;
    let mut groups = Vec::new();
    for i in 0..5 {
        let body = ok(
            &app,
            Method::POST,
            "/usergroups",
            Some(json!({"groupName": format!("team{i}"), "sourceType": 1})),
        )
        .await;
        groups.push(body["id"].as_str().unwrap().to_owned());
    }
    let admin = app.admin_token.clone();
    for (body, code) in [
        (json!({"groupName": "a"}), 13_000_102),
        (json!({"groupName": "a", "sourceType": 0}), 13_000_102),
        (json!({"groupName": "a/b", "sourceType": 1}), 13_000_102),
        (json!({"groupName": "..", "sourceType": 1}), 13_000_102),
    ] {
        let answer = kd(&app, Method::POST, "/usergroups", &admin, Some(body)).await;
        assert_kd_error(&answer, BAD, code);
    }

    // pageSize 2 over five groups: three pages, the last without nextCursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => "/usergroups?pageSize=2&sourceType=1".to_owned(),
            Some(c) => format!("/usergroups?pageSize=2&sourceType=1&pageCursor={c}"),
        };
        let page = ok(&app, Method::GET, &path, None).await;
        pages += 1;
        assert_eq!(page["total"], 5);
        for g in page["userGroupList"].as_array().unwrap() {
            seen.push(g["id"].as_str().unwrap().to_owned());
        }
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    seen.sort();
    let mut expected = groups.clone();
    expected.sort();
    assert_eq!(seen, expected);
    for query in ["pageSize=0", "pageSize=101", "pageCursor=zz"] {
        let answer = kd(
            &app,
            Method::GET,
            &format!("/usergroups?{query}"),
            &admin,
            None,
        )
        .await;
        assert_kd_error(&answer, BAD, 13_000_102);
    }

    let group = &groups[0];
    let got = ok(
        &app,
        Method::GET,
        &format!("/usergroups/{group}?sourceType=1"),
        None,
    )
    .await;
    assert_eq!(got["userGroup"]["groupName"], "team0");
    ok(
        &app,
        Method::PUT,
        &format!("/usergroups/{group}"),
        Some(json!({"groupName": "renamed"})),
    )
    .await;

    // batchAdd: each user on its own; one unknown user makes a partial success.
    for i in 0..4 {
        create_user(&app, &format!("m{i}"), "0", 1).await;
    }
    let added = ok(
        &app,
        Method::POST,
        &format!("/usergroups/{group}/members/batchAdd"),
        Some(json!({"amendModRoles": [
            {"userId": "m0", "template": -1}, {"userId": "m1"}, {"userId": "m2"},
            {"userId": "m3"}, {"userId": "ghost"}]})),
    )
    .await;
    assert_eq!(added["status"], 1, "{added}");
    assert_eq!(
        added["failedList"],
        json!([{"userId": "ghost", "code": 13_000_309}])
    );
    let mut members = Vec::new();
    for offset in [0, 3] {
        let page = ok(
            &app,
            Method::GET,
            &format!("/usergroups/{group}/members?offset={offset}&limit=3"),
            None,
        )
        .await;
        assert_eq!(page["total"], 4);
        for m in page["userGroupMemberInfos"].as_array().unwrap() {
            members.push(m["userId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(members, ["m0", "m1", "m2", "m3"]);
    // batchDelete with the examples' `userIds`.
    let removed = ok(
        &app,
        Method::POST,
        &format!("/usergroups/{group}/members/batchDelete"),
        Some(json!({"userIds": ["m0", "m1"]})),
    )
    .await;
    assert_eq!(removed["status"], 0, "{removed}");
    let page = ok(
        &app,
        Method::GET,
        &format!("/usergroups/{group}/members?offset=0&limit=10"),
        None,
    )
    .await;
    assert_eq!(page["total"], 2);
    let failed = ok(
        &app,
        Method::POST,
        &format!("/usergroups/{group}/members/batchAdd"),
        Some(json!({"userIds": ["ghost1", "ghost2"]})),
    )
    .await;
    assert_eq!(failed["status"], 2);
    let answer = kd(
        &app,
        Method::POST,
        &format!("/usergroups/{group}/members/batchAdd"),
        &admin,
        Some(json!({})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_102);

    // Non-admins are refused; deletion (also at the examples' typo path).
    let (_, token) = app.user_with_role("frank", "user").await;
    let answer = kd(&app, Method::GET, "/usergroups", &token, None).await;
    assert_kd_error(&answer, BAD, 13_000_410);
    let answer = kd(
        &app,
        Method::DELETE,
        &format!("/usergroups/{group}"),
        &token,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);
    ok(&app, Method::DELETE, &format!("/usergroups/{group}"), None).await;
    ok(
        &app,
        Method::DELETE,
        &format!("/usergroup/{}", groups[1]),
        None,
    )
    .await;
    let answer = kd(
        &app,
        Method::GET,
        &format!("/usergroups/{group}"),
        &admin,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_309);
}

#[tokio::test]
async fn envelope_language_trace_id_and_bearer_forms() {
    let app = spawn_app().await;
    let (status, body, headers) = kd_with(
        &app,
        Method::GET,
        "/users/count",
        &app.admin_token,
        None,
        &[("language", "zh-CN"), ("X-Traceid", "trace-123")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["msg"], "成功");
    assert_eq!(headers["x-traceid"], "trace-123");
    let (_, body, headers) = kd_with(
        &app,
        Method::GET,
        "/users/ghost",
        &app.admin_token,
        None,
        &[("language", "zh_cn"), ("X-Traceid", "t2")],
    )
    .await;
    assert_eq!(body["code"], 13_000_309);
    assert_eq!(body["msg"], "资源不存在");
    assert_eq!(headers["x-traceid"], "t2");

    // `Bearer {token}` too; no token or a bad one is a 401.
    let response = app
        .http
        .get(app.url(&format!("{V1}/users/count")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .http
        .get(app.url(&format!("{V1}/users/count")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 13_900_001);
    let answer = kd(&app, Method::GET, "/users/count", "not-a-token", None).await;
    assert_kd_error(&answer, StatusCode::UNAUTHORIZED, 13_900_001);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_koodrive_envelope() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/no/such/api"),
        (Method::POST, "/users/batchAdd/extra"),
        (Method::PATCH, "/usergroups/x/members/batchAdd"),
    ] {
        let (status, body) = kd(&app, method.clone(), path, &app.admin_token, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert_eq!(body["code"], 13000309, "{method} {path}: {body}");
        assert!(
            body["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
}
