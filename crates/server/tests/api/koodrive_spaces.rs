//! KooDrive spaces (drives by owner, under the domain's size quota) and the app-signature
//! mode (`HMAC-SHA256 AppId=...`, `X-Date`, `X-User-Id`).

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::helpers::{spawn_app, AccessKey as AppKey, Quotas, TestApp};
use crate::koodrive::{assert_kd_error, create_department, create_user, kd, ok, V1};

const BAD: StatusCode = StatusCode::BAD_REQUEST;

async fn set_size_quota(app: &TestApp, bytes: i64) {
    let quotas = Quotas {
        size: Some(bytes),
        users: None,
    };
    app.by_admin().set_quotas(Some("default"), quotas).await;
}

#[tokio::test]
async fn department_and_personal_spaces_are_drives_under_the_quota() {
    let app = spawn_app().await;
    set_size_quota(&app, 1000).await;
    let sales = create_department(&app, "Sales", "0").await;
    create_user(&app, "u1", &sales, 1).await;

    let created = ok(
        &app,
        Method::POST,
        &format!("/space/{sales}"),
        Some(json!({"capacity": "600", "type": 0, "capabilities": {"uploadPermission": true}})),
    )
    .await;
    let space = &created["data"];
    assert_eq!(space["type"], 0);
    assert_eq!(space["status"], 0);
    assert_eq!(space["ownerId"], sales.as_str());
    assert_eq!(space["capacity"], 600);
    assert_eq!(space["spaceUsed"], 0);
    let container = space["containerId"].as_str().unwrap().to_owned();

    // The department space is a group drive, counted against size_quota.
    let (_, drive) = app
        .admin("/v2/drive/get", json!({"drive_id": container}))
        .await;
    assert_eq!(drive["owner_type"], "group");
    assert_eq!(drive["owner"], sales.as_str());
    let (_, quota) = app.admin("/v2/domain/get_quota", json!({})).await;
    assert_eq!(quota["size_used"], 600, "{quota}");
    let admin = app.admin_token.clone();
    let answer = kd(
        &app,
        Method::POST,
        "/space/u1",
        &admin,
        Some(json!({"capacity": 401, "type": 1})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_311);
    let personal = ok(
        &app,
        Method::POST,
        "/space/u1",
        Some(json!({"capacity": 400, "type": 1})),
    )
    .await;
    assert_eq!(personal["data"]["type"], 1);
    // /space/userList: users with their personal space, by offset pages.
    create_user(&app, "u2", &sales, 1).await;
    let mut seen = Vec::new();
    for offset in [0, 1] {
        let page = ok(
            &app,
            Method::GET,
            &format!("/space/userList?deptId={sales}&offset={offset}&limit=1"),
            None,
        )
        .await;
        assert_eq!(page["total"], "2", "{page}");
        seen.push(page["users"][0].clone());
    }
    assert_eq!(seen[0]["userId"], "u1");
    assert_eq!(seen[0]["capacity"], 400);
    assert_eq!(seen[0]["spaceStatus"], 0);
    assert_eq!(seen[0]["containerId"], personal["data"]["containerId"]);
    assert_eq!(seen[1]["userId"], "u2");
    assert_eq!(seen[1]["containerId"], "");
    let answer = kd(&app, Method::GET, "/space/userList?offset=0", &admin, None).await;
    assert_kd_error(&answer, BAD, 13_000_102);

    // /space/departmentList: departments with their space, by offset pages.
    create_department(&app, "Support", "0").await;
    let first = ok(
        &app,
        Method::GET,
        "/space/departmentList?offset=0&limit=1&keyWord=s",
        None,
    )
    .await;
    let second = ok(
        &app,
        Method::GET,
        "/space/departmentList?offset=1&limit=1&keyWord=s",
        None,
    )
    .await;
    assert_eq!(first["total"], "2", "{first}");
    let mut names = vec![
        first["departments"][0]["name"].clone(),
        second["departments"][0]["name"].clone(),
    ];
    names.sort_by_key(|n| n.to_string());
    assert_eq!(names, [json!("Sales"), json!("Support")]);
    let sales_row = [&first, &second]
        .into_iter()
        .map(|p| p["departments"][0].clone())
        .find(|d| d["name"] == "Sales")
        .unwrap();
    assert_eq!(sales_row["containerId"], container.as_str());
    assert_eq!(sales_row["capacity"], 600);

    // Growing the department space no longer fits.
    let answer = kd(
        &app,
        Method::PUT,
        &format!("/space/{sales}"),
        &admin,
        Some(json!({"capacity": "601", "type": 0})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_311);

    let got = ok(&app, Method::GET, &format!("/space/{sales}?type=0"), None).await;
    assert_eq!(got["data"]["containerId"], container.as_str());
    ok(
        &app,
        Method::PUT,
        &format!("/space/{sales}"),
        Some(json!({"capacity": "500", "status": "1", "type": 0})),
    )
    .await;
    let got = ok(&app, Method::GET, &format!("/space/{sales}?type=0"), None).await;
    assert_eq!(
        (
            got["data"]["capacity"].clone(),
            got["data"]["status"].clone()
        ),
        (json!(500), json!(1))
    );
    let listed: Value = app
        .http
        .get(app.url("/koodrive/ose/v2/space/u1?type=1"))
        .header("Authorization", format!("Bearer+{admin}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    // An owner with no space lists none; an owner that does not exist is not found.
    kd(
        &app,
        Method::POST,
        "/users",
        &admin,
        Some(json!({"userId": "u9"})),
    )
    .await;
    for (owner, status, code) in [
        ("u9", StatusCode::OK, 0),
        ("nobody", StatusCode::BAD_REQUEST, 13_000_309),
    ] {
        let response = app
            .http
            .get(app.url(&format!("/koodrive/ose/v2/space/{owner}?type=1")))
            .header("Authorization", format!("Bearer+{admin}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        let listed: Value = response.json().await.unwrap();
        assert_eq!(listed["code"], code, "{listed}");
        if code == 0 {
            assert_eq!(listed["data"], json!([]));
        }
    }

    // Bad input and unknown spaces.
    for (body, code) in [
        (json!({"capacity": 1, "type": 7}), 13_000_102),
        (json!({"capacity": 1}), 13_000_102),
        (json!({"type": 0}), 13_000_102),
        (json!({"capacity": -5, "type": 0}), 13_000_102),
        (json!({"capacity": 1, "type": 0}), 13_904_001),
    ] {
        let answer = kd(
            &app,
            Method::POST,
            &format!("/space/{sales}"),
            &admin,
            Some(body),
        )
        .await;
        assert_kd_error(&answer, BAD, code);
    }
    let answer = kd(
        &app,
        Method::POST,
        "/space/ghost",
        &admin,
        Some(json!({"capacity": 1, "type": 1})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_309);
    let answer = kd(&app, Method::GET, "/space/u1?type=0", &admin, None).await;
    assert_kd_error(&answer, BAD, 13_000_301);

    // A common user reads its own personal space only, and changes none.
    let (carol, token) = app.user_with_role("carol", "user").await;
    ok(
        &app,
        Method::POST,
        &format!("/space/{carol}"),
        Some(json!({"capacity": 0, "type": 1})),
    )
    .await;
    let (status, own) = kd(
        &app,
        Method::GET,
        &format!("/space/{carol}?type=1"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let answer = kd(
        &app,
        Method::GET,
        &format!("/space/{sales}?type=0"),
        &token,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);
    let answer = kd(
        &app,
        Method::DELETE,
        &format!("/space/{carol}?type=1"),
        &token,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);

    ok(
        &app,
        Method::DELETE,
        &format!("/space/{sales}?type=0"),
        None,
    )
    .await;
    let answer = kd(
        &app,
        Method::GET,
        &format!("/space/{sales}?type=0"),
        &admin,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_301);
    let (_, quota) = app.admin("/v2/domain/get_quota", json!({})).await;
    assert_eq!(quota["size_used"], 400, "{quota}");
}

fn x_date(offset_seconds: i64) -> String {
    let t = OffsetDateTime::now_utc() + time::Duration::seconds(offset_seconds);
    t.format(format_description!(
        "[year][month][day]T[hour][minute][second]Z"
    ))
    .unwrap()
}

/// RFC 3986 encoding of one path segment or query part.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs as the vendor's app-signature pages describe; answers the Authorization value.
fn sign(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: &[u8],
    app_id: &str,
    secret: &str,
) -> String {
    let uri = path.split('/').map(pct).collect::<Vec<_>>().join("/") + "/";
    let mut q: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect();
    q.sort();
    let mut canonical = format!("{method}\n{uri}\n{}\n", q.join("&"));
    for (name, value) in headers {
        canonical.push_str(&format!("{name}:{}\n", value.trim()));
    }
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    canonical.push_str(&format!(
        "\n{}\n{}",
        names.join(";"),
        hex::encode(Sha256::digest(body))
    ));
    let to_sign = format!(
        "HMAC-SHA256\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    format!(
        "HMAC-SHA256 AppId={app_id},SignedHeaders={},Signature={}",
        names.join(";"),
        hex::encode(mac.finalize().into_bytes())
    )
}

/// An app id/secret pair: an access key of `user_id`, issued by the admin.
async fn app_key(app: &TestApp, user_id: &str) -> AppKey {
    app.by_admin().access_key(Some(user_id)).await
}

/// A signed POST of `body` to `path` acting as `user`; `tamper` changes the body sent.
async fn signed_post(
    app: &TestApp,
    key: &AppKey,
    user: &str,
    date: &str,
    path: &str,
    body: &Value,
    tamper: bool,
) -> (StatusCode, Value) {
    let host = app.address.trim_start_matches("http://").to_owned();
    let full = format!("{V1}{path}");
    let bytes = serde_json::to_vec(body).unwrap();
    let headers = [
        ("host", host.as_str()),
        ("x-date", date),
        ("x-user-id", user),
    ];
    let authorization = sign("POST", &full, &[], &headers, &bytes, &key.id, &key.secret);
    let sent = if tamper {
        let mut changed = body.clone();
        changed["name"] = json!("Mallory");
        serde_json::to_vec(&changed).unwrap()
    } else {
        bytes
    };
    let response = app
        .http
        .post(app.url(&full))
        .header("Authorization", authorization)
        .header("X-Date", date)
        .header("X-User-Id", user)
        .header("Content-Type", "application/json")
        .body(sent)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn app_signatures_are_verified_with_their_date_and_acting_user() {
    let app = spawn_app().await;
    let key = app_key(&app, "admin").await;
    let dept = |name: &str| json!({"name": name, "parentId": "0"});

    // Valid, acting as the admin itself; then a GET with a query.
    let (status, body) = signed_post(
        &app,
        &key,
        "admin",
        &x_date(0),
        "/departments",
        &dept("Signed"),
        false,
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::OK, json!(0)),
        "{body}"
    );
    let host = app.address.trim_start_matches("http://").to_owned();
    let date = x_date(-60);
    let full = format!("{V1}/userList");
    let query = [("offset", "0"), ("limit", "5"), ("keyWord", "a b")];
    let headers = [
        ("host", host.as_str()),
        ("x-date", date.as_str()),
        ("x-user-id", "admin"),
    ];
    let authorization = sign("GET", &full, &query, &headers, b"", &key.id, &key.secret);
    let response = app
        .http
        .get(app.url(&format!("{full}?offset=0&limit=5&keyWord=a%20b")))
        .header("Authorization", authorization)
        .header("X-Date", &date)
        .header("X-User-Id", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Tampered body, stale, future and malformed dates, unknown app; then X-User-Id: the
    // admin's app acts for a common user (whose role then decides) but not for an unknown
    // one; a common user's app acts only as itself; an admin's not for the superadmin.
    let (carol, _) = app.user_with_role("carol", "user").await;
    let (dave, _) = app.user_with_role("dave", "admin").await;
    let carol_key = app_key(&app, &carol).await;
    let dave_key = app_key(&app, &dave).await;
    let unknown = AppKey {
        id: "nobody".into(),
        secret: key.secret.clone(),
    };
    let now = x_date(0);
    let unauthorized = StatusCode::UNAUTHORIZED;
    let refused = [
        (&key, "admin", now.clone(), true, unauthorized, 13_900_002),
        (
            &key,
            "admin",
            x_date(-16 * 60),
            false,
            unauthorized,
            13_900_003,
        ),
        (
            &key,
            "admin",
            x_date(10 * 60),
            false,
            unauthorized,
            13_900_003,
        ),
        (
            &key,
            "admin",
            "2024-08-31".into(),
            false,
            unauthorized,
            13_900_003,
        ),
        (
            &unknown,
            "admin",
            now.clone(),
            false,
            unauthorized,
            13_900_001,
        ),
        (&key, carol.as_str(), now.clone(), false, BAD, 13_000_410),
        (&key, "ghost", now.clone(), false, unauthorized, 13_900_001),
        (&carol_key, "admin", now.clone(), false, BAD, 13_000_410),
        (&dave_key, "admin", now.clone(), false, BAD, 13_000_410),
    ];
    for (i, (key, user, date, tamper, status, code)) in refused.into_iter().enumerate() {
        let body = dept(&format!("R{i}"));
        let answer = signed_post(&app, key, user, &date, "/departments", &body, tamper).await;
        assert_kd_error(&answer, status, code);
    }
    let (status, body) = signed_post(
        &app,
        &dave_key,
        &dave,
        &now,
        "/departments",
        &dept("D"),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn group_spaces_are_user_groups_with_a_space() {
    let app = spawn_app().await;
    for i in 0..3 {
        create_user(&app, &format!("g{i}"), "0", 1).await;
    }
    let mut ids = Vec::new();
    for (name, capacity) in [("Alpha", 100), ("Beta", 200), ("Gamma", 300)] {
        let made = ok(
            &app,
            Method::POST,
            "/space/group",
            Some(json!({"name": name, "capacity": capacity,
                        "addGroupUsers": [{"userId": "g0", "template": -1}, {"userId": "g1", "template": -1}]})),
        )
        .await;
        assert_eq!(made["data"]["space"]["type"], 2);
        assert_eq!(made["data"]["space"]["capacity"], capacity);
        ids.push(made["data"]["id"].as_str().unwrap().to_owned());
    }
    // The group is a user group with the members; its space answers to type 2.
    let members = ok(
        &app,
        Method::GET,
        &format!("/usergroups/{}/members?offset=0&limit=10", ids[0]),
        None,
    )
    .await;
    assert_eq!(members["total"], 2);
    let space = ok(
        &app,
        Method::GET,
        &format!("/space/{}?type=2", ids[1]),
        None,
    )
    .await;
    assert_eq!(space["data"]["capacity"], 200);

    let mut seen = Vec::new();
    for offset in [0, 2] {
        let page = ok(
            &app,
            Method::GET,
            &format!("/space/groupList?offset={offset}&limit=2"),
            None,
        )
        .await;
        assert_eq!(page["total"], 3, "{page}");
        for g in page["groups"].as_array().unwrap() {
            seen.push((
                g["name"].as_str().unwrap().to_owned(),
                g["capacity"].clone(),
            ));
        }
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        [
            ("Alpha".to_owned(), json!(100)),
            ("Beta".to_owned(), json!(200)),
            ("Gamma".to_owned(), json!(300))
        ]
    );

    // An unknown member or a space over the quota leaves nothing behind.
    let admin = app.admin_token.clone();
    let answer = kd(
        &app,
        Method::POST,
        "/space/group",
        &admin,
        Some(json!({"name": "Ghosts", "capacity": 1, "addGroupUsers": [{"userId": "ghost"}]})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_309);
    set_size_quota(&app, 1000).await;
    let answer = kd(
        &app,
        Method::POST,
        "/space/group",
        &admin,
        Some(json!({"name": "Huge", "capacity": 5000, "addGroupUsers": [{"userId": "g2"}]})),
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_311);
    let groups = ok(&app, Method::GET, "/usergroups", None).await;
    assert_eq!(groups["total"], 3, "{groups}");
    for body in [
        json!({"capacity": 1, "addGroupUsers": []}),
        json!({"name": "NoUsers"}),
    ] {
        let answer = kd(&app, Method::POST, "/space/group", &admin, Some(body)).await;
        assert_kd_error(&answer, BAD, 13_000_102);
    }
    // Deleting a department deletes its department space.
    let dept = create_department(&app, "Temp", "0").await;
    ok(
        &app,
        Method::POST,
        &format!("/space/{dept}"),
        Some(json!({"capacity": 50, "type": 0})),
    )
    .await;
    // /space/teamList: department spaces (admins), groups made by or joined by the caller.
    let teams = ok(&app, Method::GET, "/space/teamList?offset=0&limit=10", None).await;
    assert_eq!(teams["total"], "1", "{teams}");
    assert_eq!(teams["teams"][0]["ownerName"], "Temp");
    assert_eq!(teams["teams"][0]["capacity"], 50);
    let mut owned = Vec::new();
    for offset in [0, 2] {
        let page = ok(
            &app,
            Method::GET,
            &format!("/space/teamList?teamType=1&offset={offset}&limit=2"),
            None,
        )
        .await;
        assert_eq!(page["total"], "3", "{page}");
        for team in page["teams"].as_array().unwrap() {
            assert_eq!(team["userNum"], 2);
            owned.push(team["ownerId"].as_str().unwrap().to_owned());
        }
    }
    owned.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(owned, expected);
    let named = ok(
        &app,
        Method::GET,
        "/space/teamList?teamType=1&offset=0&limit=10&keyWord=BET",
        None,
    )
    .await;
    assert_eq!(named["teams"][0]["ownerName"], "Beta", "{named}");
    let (carol, carol_token) = app.user_with_role("carol", "user").await;
    ok(
        &app,
        Method::POST,
        &format!("/usergroups/{}/members/batchAdd", ids[2]),
        Some(json!({"userIds": [carol]})),
    )
    .await;
    let (status, joined) = kd(
        &app,
        Method::GET,
        "/space/teamList?teamType=2&offset=0&limit=10",
        &carol_token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["total"], "1");
    assert_eq!(joined["teams"][0]["ownerName"], "Gamma");
    assert_eq!(joined["teams"][0]["userNum"], 3);
    for (query, token) in [
        ("teamType=0&offset=0&limit=10", carol_token.as_str()),
        ("teamType=9&offset=0&limit=10", admin.as_str()),
    ] {
        let answer = kd(
            &app,
            Method::GET,
            &format!("/space/teamList?{query}"),
            token,
            None,
        )
        .await;
        let code = if token == admin {
            13_000_102
        } else {
            13_000_410
        };
        assert_kd_error(&answer, BAD, code);
    }

    let (_, before) = app.admin("/v2/domain/get_quota", json!({})).await;
    ok(&app, Method::DELETE, &format!("/departments/{dept}"), None).await;
    let (_, after) = app.admin("/v2/domain/get_quota", json!({})).await;
    assert_eq!(
        before["size_used"].as_i64().unwrap() - after["size_used"].as_i64().unwrap(),
        50
    );

    let answer = kd(
        &app,
        Method::GET,
        "/space/groupList?offset=0&limit=10",
        &carol_token,
        None,
    )
    .await;
    assert_kd_error(&answer, BAD, 13_000_410);
}
