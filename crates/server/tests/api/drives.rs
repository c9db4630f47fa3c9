//! `/v2/drive/*`: who may call what, the field rules and their error codes, one default drive
//! per user, marker pagination, search, and the domain's size quota.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::helpers::{assert_error, spawn_app, NewDrive, Quotas, TestApp};

const CREATE: &str = "/v2/drive/create";
const GET: &str = "/v2/drive/get";
const GET_DEFAULT: &str = "/v2/drive/get_default_drive";
const UPDATE: &str = "/v2/drive/update";
const DELETE: &str = "/v2/drive/delete";
const LIST: &str = "/v2/drive/list";
const LIST_MINE: &str = "/v2/drive/list_my_drives";
const SEARCH: &str = "/v2/drive/search";

const ENDPOINTS: [&str; 8] = [
    CREATE,
    GET,
    GET_DEFAULT,
    UPDATE,
    DELETE,
    LIST,
    LIST_MINE,
    SEARCH,
];

/// Creates a drive as the admin; panics unless it is created. Returns the drive.
async fn create(app: &TestApp, body: Value) -> Value {
    let (status, drive) = app.admin(CREATE, body).await;
    assert_eq!(status, StatusCode::CREATED, "{drive}");
    drive
}

/// Creates a drive named `name` owned by user `owner`.
async fn create_for(app: &TestApp, owner: &str, name: &str) -> String {
    app.by_admin().drive(NewDrive::of_user(owner, name)).await
}

/// Sets the default domain's size quota.
async fn size_quota(app: &TestApp, size: i64) {
    let quotas = Quotas {
        size: Some(size),
        users: None,
    };
    app.by_admin().set_quotas(Some("default"), quotas).await;
}

/// Every page of `path` for `query` as `token`, following `next_marker`.
async fn all_pages(app: &TestApp, token: &str, path: &str, query: Value) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut marker = String::new();
    loop {
        let mut body = query.clone();
        body["marker"] = json!(marker);
        let (status, page) = app.call(path, token, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages.push(page["items"].as_array().unwrap().clone());
        marker = page["next_marker"]
            .as_str()
            .expect("next_marker")
            .to_owned();
        if marker.is_empty() {
            return pages;
        }
        assert!(pages.len() < 100, "pagination does not end");
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|d| d["drive_id"].as_str().unwrap().to_owned())
        .collect()
}

/// `2019-08-20T06:51:27.292Z`.
fn assert_iso_ms(value: &Value) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    let b = s.as_bytes();
    assert_eq!(s.len(), 24, "{s}");
    assert!(
        b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && s.ends_with('Z'),
        "{s}"
    );
}

#[tokio::test]
async fn create_answers_201_with_the_pds_drive_object() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("dana", "user").await;
    let drive = create(
        &app,
        json!({"drive_name": "Dana's", "owner": user_id, "owner_type": "user",
               "description": "home", "default": true}),
    )
    .await;
    assert_eq!(drive["domain_id"], "default");
    let drive_id = drive["drive_id"].as_str().unwrap();
    assert!(
        drive_id.len() >= 16 && drive_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{drive}"
    );
    assert_eq!(drive["drive_name"], "Dana's");
    assert_eq!(drive["description"], "home");
    assert_eq!(drive["owner"], user_id.as_str());
    assert_eq!(drive["owner_type"], "user");
    assert_eq!(drive["drive_type"], "normal");
    assert_eq!(drive["status"], "enabled");
    assert_eq!(drive["total_size"], -1);
    assert_eq!(drive["used_size"], 0);
    assert_eq!(drive["creator"], "admin");
    assert_eq!(drive["default"], true);
    assert_iso_ms(&drive["created_at"]);
    assert_iso_ms(&drive["updated_at"]);

    let (status, got) = app.admin(GET, json!({"drive_id": drive_id})).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, drive);

    // Explicit values, and a group owner, which must exist.
    let answer = app
        .admin(
            CREATE,
            json!({"drive_name": "Team", "owner": "no-such-group", "owner_type": "group"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Group");
    let team = app.create_group("Team", None).await;
    let drive = create(
        &app,
        json!({"drive_name": "Team", "owner": team, "owner_type": "group",
               "drive_type": "normal", "status": "disabled", "total_size": 1024}),
    )
    .await;
    assert_eq!(drive["owner_type"], "group");
    assert_eq!(drive["status"], "disabled");
    assert_eq!(drive["total_size"], 1024);
    assert_eq!(drive["default"], false);
}

#[tokio::test]
async fn every_endpoint_needs_a_valid_token() {
    let app = spawn_app().await;
    for path in ENDPOINTS {
        let answer = crate::helpers::read(app.post(path, None, &json!({})).await).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
        let answer = app.call(path, "not-a-token", json!({})).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    }
}

#[tokio::test]
async fn plain_users_reach_only_their_own_drives() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("erin", "user").await;
    let mine = create(
        &app,
        json!({"drive_name": "mine", "owner": user_id, "owner_type": "user", "default": true}),
    )
    .await;
    let mine_id = mine["drive_id"].as_str().unwrap();
    let theirs = create_for(&app, "admin", "admin's").await;

    // Admin-only calls.
    for (path, body) in [
        (
            CREATE,
            json!({"drive_name": "x", "owner": user_id, "owner_type": "user"}),
        ),
        (UPDATE, json!({"drive_id": mine_id, "drive_name": "y"})),
        (DELETE, json!({"drive_id": mine_id})),
        (LIST, json!({})),
        (SEARCH, json!({"drive_name": "mine"})),
        (GET, json!({"drive_id": theirs})),
        (GET_DEFAULT, json!({"user_id": "admin"})),
    ] {
        let answer = app.call(path, &token, body).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }

    // Its own drive, its default drive, and its list.
    let (status, got) = app.call(GET, &token, json!({"drive_id": mine_id})).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, mine);
    for body in [json!({}), json!({"user_id": user_id})] {
        let (status, got) = app.call(GET_DEFAULT, &token, body).await;
        assert_eq!(status, StatusCode::OK, "{got}");
        assert_eq!(got["drive_id"], mine_id);
    }
    let (status, page) = app.call(LIST_MINE, &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(page["items"].as_array().unwrap()), vec![mine_id]);
    assert_eq!(page["next_marker"], "");

    // Admins read anyone's.
    let (status, got) = app.admin(GET_DEFAULT, json!({"user_id": user_id})).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["drive_id"], mine_id);
    let (status, page) = app.admin(LIST_MINE, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(page["items"].as_array().unwrap()), vec![theirs]);
}

#[tokio::test]
async fn create_checks_every_field() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("finn", "user").await;
    let base = json!({"drive_name": "d", "owner": user_id, "owner_type": "user"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases = [
        (without("drive_name"), "InvalidParameterMissing"),
        (without("owner"), "InvalidParameterMissing"),
        (without("owner_type"), "InvalidParameterMissing"),
        (with("drive_name", json!("")), "InvalidParameterEmpty"),
        (with("owner", json!("")), "InvalidParameterEmpty"),
        (with("owner_type", json!("robot")), "InvalidParameter"),
        (with("drive_type", json!("large")), "InvalidParameter"),
        (with("status", json!("paused")), "InvalidParameter"),
        (with("total_size", json!("big")), "InvalidParameter"),
        (with("default", json!("yes")), "InvalidParameter"),
        (with("drive_name", json!(5)), "InvalidParameter"),
        (
            with("drive_name", json!("n".repeat(129))),
            "InvalidParameterOutOfRange",
        ),
        (
            with("description", json!("d".repeat(1025))),
            "InvalidParameterOutOfRange",
        ),
        (with("total_size", json!(-2)), "InvalidParameterOutOfRange"),
    ];
    for (body, code) in cases {
        let answer = app.admin(CREATE, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    // A default drive is a user's.
    let answer = app
        .admin(
            CREATE,
            json!({"drive_name": "d", "owner": "g", "owner_type": "group", "default": true}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    let answer = app.admin(CREATE, with("owner", json!("nobody"))).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");

    // The limits themselves are accepted.
    create(
        &app,
        json!({"drive_name": "n".repeat(128), "description": "d".repeat(1024),
               "owner": user_id, "owner_type": "user", "total_size": 0}),
    )
    .await;
    // Nothing else was written.
    let (_, page) = app.admin(LIST, json!({})).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
}

#[tokio::test]
async fn unknown_drives_are_not_found() {
    let app = spawn_app().await;
    for (path, body) in [
        (GET, json!({"drive_id": "nope"})),
        (UPDATE, json!({"drive_id": "nope", "drive_name": "x"})),
        (DELETE, json!({"drive_id": "nope"})),
        (GET_DEFAULT, json!({})),
        (GET_DEFAULT, json!({"user_id": "nobody"})),
    ] {
        let answer = app.admin(path, body).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Drive");
    }
    for path in [GET, UPDATE, DELETE] {
        let answer = app.admin(path, json!({})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterMissing");
        let answer = app.admin(path, json!({"drive_id": ""})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameterEmpty");
    }
}

#[tokio::test]
async fn a_user_has_at_most_one_default_drive() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("gail", "user").await;
    let default = json!({"drive_name": "a", "owner": user_id, "owner_type": "user",
                         "default": true});
    let first = create(&app, default.clone()).await;
    let answer = app.admin(CREATE, default.clone()).await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.Drive");
    // More drives are fine; they are just not the default.
    let other = create_for(&app, &user_id, "b").await;
    let (_, got) = app.admin(GET_DEFAULT, json!({"user_id": user_id})).await;
    assert_eq!(got["drive_id"], first["drive_id"]);
    let (_, page) = app
        .admin(LIST, json!({"owner": user_id, "owner_type": "user"}))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");

    // Once the default is gone, another may take its place.
    let (status, body) = app
        .admin(
            DELETE,
            json!({"drive_id": first["drive_id"], "force": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let answer = app.admin(GET_DEFAULT, json!({"user_id": user_id})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Drive");
    let second = create(&app, default).await;
    let (_, got) = app.admin(GET_DEFAULT, json!({"user_id": user_id})).await;
    assert_eq!(got["drive_id"], second["drive_id"]);
    assert_ne!(got["drive_id"], other.as_str());
}

#[tokio::test]
async fn update_changes_only_the_fields_given() {
    let app = spawn_app().await;
    let drive = create(
        &app,
        json!({"drive_name": "old", "description": "keep", "owner": "admin",
               "owner_type": "user", "total_size": 10}),
    )
    .await;
    let id = drive["drive_id"].as_str().unwrap();
    let (status, updated) = app
        .admin(UPDATE, json!({"drive_id": id, "drive_name": "new"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["drive_name"], "new");
    assert_eq!(updated["description"], "keep");
    assert_eq!(updated["total_size"], 10);
    assert_eq!(updated["created_at"], drive["created_at"]);
    assert_iso_ms(&updated["updated_at"]);

    let (status, updated) = app
        .admin(
            UPDATE,
            json!({"drive_id": id, "description": "", "status": "disabled", "total_size": -1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["drive_name"], "new");
    assert_eq!(updated["description"], "");
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["total_size"], -1);
    let (_, got) = app.admin(GET, json!({"drive_id": id})).await;
    assert_eq!(got, updated);

    for (body, code) in [
        (
            json!({"drive_id": id, "status": "gone"}),
            "InvalidParameter",
        ),
        (
            json!({"drive_id": id, "total_size": "x"}),
            "InvalidParameter",
        ),
        (
            json!({"drive_id": id, "drive_name": ""}),
            "InvalidParameterEmpty",
        ),
        (
            json!({"drive_id": id, "drive_name": "n".repeat(129)}),
            "InvalidParameterOutOfRange",
        ),
        (
            json!({"drive_id": id, "description": "d".repeat(1025)}),
            "InvalidParameterOutOfRange",
        ),
        (
            json!({"drive_id": id, "total_size": -5}),
            "InvalidParameterOutOfRange",
        ),
        (
            json!({"drive_id": id, "owner": "someone"}),
            "InvalidParameterNotSupported",
        ),
    ] {
        let answer = app.admin(UPDATE, body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
}

#[tokio::test]
async fn delete_answers_204_and_the_drive_is_gone() {
    let app = spawn_app().await;
    let id = create_for(&app, "admin", "temp").await;
    let (status, body) = app.admin(DELETE, json!({"drive_id": id})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let answer = app.admin(GET, json!({"drive_id": id})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Drive");
    let answer = app.admin(DELETE, json!({"drive_id": id})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Drive");
}

#[tokio::test]
async fn list_pages_show_every_drive_once_in_drive_id_order() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("hana", "user").await;
    let mut all = BTreeSet::new();
    let mut hers = BTreeSet::new();
    for i in 0..7 {
        hers.insert(create_for(&app, &user_id, &format!("h{i}")).await);
    }
    all.extend(hers.iter().cloned());
    for i in 0..4 {
        all.insert(create_for(&app, "admin", &format!("a{i}")).await);
    }
    let team = app.create_group("team", None).await;
    let group = create(
        &app,
        json!({"drive_name": "g", "owner": team, "owner_type": "group"}),
    )
    .await;
    all.insert(group["drive_id"].as_str().unwrap().to_owned());
    let sorted: Vec<String> = all.iter().cloned().collect();

    for limit in 2..=10 {
        let pages = all_pages(&app, &app.admin_token, LIST, json!({"limit": limit})).await;
        assert!(pages.iter().all(|p| p.len() <= limit), "limit {limit}");
        if limit <= 4 {
            assert!(pages.len() >= 3, "limit {limit}: {} pages", pages.len());
        }
        let seen: Vec<String> = pages.iter().flat_map(|p| ids(p)).collect();
        assert_eq!(seen, sorted, "limit {limit}");
    }
    // A numeric string is a limit too; the default is 100.
    let (_, page) = app.admin(LIST, json!({"limit": "5"})).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    let (_, page) = app.admin(LIST, json!({})).await;
    assert_eq!(ids(page["items"].as_array().unwrap()), sorted);
    assert_eq!(page["next_marker"], "");

    // Filters.
    let pages = all_pages(
        &app,
        &app.admin_token,
        LIST,
        json!({"limit": 3, "owner": user_id, "owner_type": "user"}),
    )
    .await;
    let seen: BTreeSet<String> = pages.iter().flat_map(|p| ids(p)).collect();
    assert_eq!(seen, hers);
    let (_, page) = app.admin(LIST, json!({"owner_type": "group"})).await;
    assert_eq!(
        ids(page["items"].as_array().unwrap()),
        vec![group["drive_id"].as_str().unwrap()]
    );
    let pages = all_pages(&app, &token, LIST_MINE, json!({"limit": 2})).await;
    assert_eq!(pages.len(), 4);
    let seen: BTreeSet<String> = pages.iter().flat_map(|p| ids(p)).collect();
    assert_eq!(seen, hers);

    // Limits and markers.
    for path in [LIST, LIST_MINE, SEARCH] {
        for limit in [json!(0), json!(101), json!(-1)] {
            let answer = app.admin(path, json!({"limit": limit})).await;
            assert_error(
                &answer,
                StatusCode::BAD_REQUEST,
                "InvalidParameterOutOfRange",
            );
        }
        let answer = app.admin(path, json!({"limit": "many"})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
        let answer = app.admin(path, json!({"marker": "!!not-a-marker"})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    }
    let answer = app.admin(LIST, json!({"owner_type": "robot"})).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
}

#[tokio::test]
async fn search_matches_names_by_substring_whatever_their_case() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("ivan", "user").await;
    let alpha = create_for(&app, &user_id, "Team ALPHA").await;
    let backup = create_for(&app, "admin", "alpha-backup").await;
    let _beta = create_for(&app, "admin", "Beta 100%").await;
    let name = |needle: &str| json!({"drive_name": needle});

    let search = |body: Value| {
        let app = &app;
        async move {
            let pages = all_pages(app, &app.admin_token, SEARCH, body).await;
            pages
                .iter()
                .flat_map(|p| ids(p))
                .collect::<BTreeSet<String>>()
        }
    };
    let both: BTreeSet<String> = [alpha.clone(), backup.clone()].into();
    assert_eq!(search(name("Alpha")).await, both);
    assert_eq!(search(name("pha")).await, both);
    assert_eq!(search(name("ALPHA-")).await, [backup.clone()].into());
    // LIKE wildcards are plain characters.
    assert_eq!(search(name("%")).await.len(), 1);
    assert_eq!(search(name("_")).await.len(), 0);
    assert_eq!(search(name("zeta")).await.len(), 0);
    assert_eq!(search(json!({})).await.len(), 3);
    assert_eq!(
        search(json!({"drive_name": "alpha", "owner": user_id})).await,
        [alpha.clone()].into()
    );
    assert_eq!(
        search(json!({"drive_name": "alpha", "owner_type": "group"}))
            .await
            .len(),
        0
    );
    // Pages of one.
    let pages = all_pages(
        &app,
        &app.admin_token,
        SEARCH,
        json!({"drive_name": "a", "limit": 1}),
    )
    .await;
    assert_eq!(pages.len(), 3);

    let answer = app.admin(SEARCH, name(&"n".repeat(129))).await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
}

#[tokio::test]
async fn size_quota_refuses_what_does_not_fit_and_writes_nothing() {
    let app = spawn_app().await;
    size_quota(&app, 1000).await;
    let drive = |name: &str, size: Option<i64>| {
        let mut body = json!({"drive_name": name, "owner": "admin", "owner_type": "user"});
        if let Some(size) = size {
            body["total_size"] = json!(size);
        }
        body
    };
    let first = create(&app, drive("first", Some(600))).await;
    for refused in [
        drive("too-big", Some(401)),
        drive("unlimited", None),
        drive("unlimited", Some(-1)),
    ] {
        let answer = app.admin(CREATE, refused).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    }
    let (_, page) = app.admin(LIST, json!({})).await;
    assert_eq!(
        ids(page["items"].as_array().unwrap()),
        vec![first["drive_id"].as_str().unwrap()],
        "{page}"
    );
    let second = create(&app, drive("second", Some(400))).await;

    // Growing a drive is checked the same way; the drive is left as it was.
    let id = first["drive_id"].as_str().unwrap();
    let answer = app
        .admin(UPDATE, json!({"drive_id": id, "total_size": 601}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    let answer = app
        .admin(UPDATE, json!({"drive_id": id, "total_size": -1}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    let (_, got) = app.admin(GET, json!({"drive_id": id})).await;
    assert_eq!(got["total_size"], 600);
    // Shrinking, or keeping its size, is fine.
    let (status, got) = app
        .admin(
            UPDATE,
            json!({"drive_id": id, "total_size": 600, "drive_name": "1st"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let (status, got) = app
        .admin(UPDATE, json!({"drive_id": id, "total_size": 500}))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let (_, quota) = app.admin("/v2/domain/get_quota", json!({})).await;
    assert_eq!(quota["size_quota"], 1000);
    assert_eq!(quota["size_used"], 900);

    // Deleting frees space.
    let (status, _) = app
        .admin(DELETE, json!({"drive_id": second["drive_id"]}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    create(&app, drive("third", Some(500))).await;

    // With the quota lifted, unlimited drives are allowed again.
    size_quota(&app, 0).await;
    create(&app, drive("unlimited", None)).await;
}

#[tokio::test]
async fn concurrent_creates_cannot_overrun_the_quota_together() {
    let app = spawn_app().await;
    size_quota(&app, 1000).await;
    let mut tasks = JoinSet::new();
    for i in 0..10 {
        let http = app.http.clone();
        let url = app.url(CREATE);
        let token = app.admin_token.clone();
        tasks.spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({"drive_name": format!("d{i}"), "owner": "admin",
                              "owner_type": "user", "total_size": 300}))
                .send()
                .await
                .expect("sent");
            response.status()
        });
    }
    let mut created = 0;
    while let Some(status) = tasks.join_next().await {
        match status.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::FORBIDDEN => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 3);
    let (_, quota) = app.admin("/v2/domain/get_quota", json!({})).await;
    assert_eq!(quota["size_used"], 900);
}
