//! Issue 17, input bounds and escalation: what anonymous callers can make the server store,
//! sizes and their sums, who lifts a quota, how far a group admin reaches, and what ids,
//! identities and exported cells may hold.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::{AssertSqlSafe, Connection};

use crate::helpers::{
    assert_error, spawn_app, spawn_with, Member, NewDomain, NewDrive, NewUser, Quotas, TestApp,
    TestStore, ADMIN_PASSWORD, USER_PASSWORD,
};
use crate::koodrive::{create_department, create_user, kd, ok};

/// Runs one statement on the test's own database: a count, or (`write`) a change.
pub(crate) async fn on_database(store: &TestStore, sql: &str) -> i64 {
    let sql = AssertSqlSafe(sql.to_owned());
    if let Some(url) = &store.database_url {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        if sql.0.starts_with("SELECT") {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut conn)
                .await
                .expect("count")
        } else {
            sqlx::query(sql).execute(&mut conn).await.expect("write");
            0
        }
    } else {
        let url = format!("sqlite://{}", store.data_path().join("roster.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("connect");
        if sql.0.starts_with("SELECT") {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut conn)
                .await
                .expect("count")
        } else {
            sqlx::query(sql).execute(&mut conn).await.expect("write");
            0
        }
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    on_database(&app.store, sql).await
}

/// The audit records of one action, newest first, as the admin reads them.
async fn audit_records(app: &TestApp, action: &str) -> Vec<Value> {
    let body = json!({"query": format!("action_type = '{action}'"), "limit": 100});
    let (status, page) = app.admin("/v2/audit_log/list", body).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn the_password_grant_bounds_its_fields_before_storing_anything() {
    let app = spawn_app().await;
    let huge = "u".repeat(200_000);
    for (username, password) in [(huge.as_str(), "x"), ("someone", huge.as_str())] {
        let answer = app
            .token_grant(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "InvalidParameterOutOfRange",
        );
    }
    let refresh = app
        .token_grant(&[("grant_type", "refresh_token"), ("refresh_token", &huge)])
        .await;
    assert_error(
        &refresh,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM login_failures").await, 0);
    let longest =
        "SELECT CAST(COALESCE(MAX(LENGTH(target_id) + LENGTH(detail)), 0) AS BIGINT) FROM audit_log";
    assert!(count(&app, longest).await < 1024);
    assert!(audit_records(&app, "account.login").await.len() <= 1);
}

#[tokio::test]
async fn logins_to_a_domain_that_does_not_exist_leave_nothing_behind() {
    let app = spawn_app().await;
    for i in 0..3 {
        let answer = app
            .token_grant(&[
                ("grant_type", "password"),
                ("username", &format!("guess-{i}")),
                ("password", "not-the-password"),
                ("domain_id", "no-such-tenant"),
            ])
            .await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");
    }
    let stored = "SELECT (SELECT COUNT(*) FROM login_failures) + \
                  (SELECT COUNT(*) FROM audit_log WHERE domain_id = 'no-such-tenant')";
    assert_eq!(count(&app, stored).await, 0);
    // In a domain that exists, the same failure is counted and recorded as before.
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "guess"),
            ("password", "not-the-password"),
        ])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM login_failures").await, 1);
}

#[tokio::test]
async fn failed_login_rows_are_deleted_once_the_lock_window_has_passed() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.tokens.lockout = roster_server::service::tokens::LockoutSettings {
        max_failures: 5,
        lock_for: Duration::from_secs(1),
    };
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    for name in ["nobody-1", "nobody-2", "admin"] {
        let answer = app
            .token_grant(&[
                ("grant_type", "password"),
                ("username", name),
                ("password", "wrong-password"),
            ])
            .await;
        assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{}", answer.1);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM login_failures").await, 3);
    let mut waited = Duration::ZERO;
    while count(&app, "SELECT COUNT(*) FROM login_failures").await > 0 {
        assert!(
            waited < Duration::from_secs(10),
            "failed-login rows were never swept"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
}

#[tokio::test]
async fn audit_records_keep_a_bounded_part_of_client_chosen_strings() {
    let app = spawn_app().await;
    let long_id = "x".repeat(100_000);
    let answer = app
        .admin(
            "/v2/user/update",
            json!({"user_id": long_id, "nick_name": "N"}),
        )
        .await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    let records = audit_records(&app, "user.update").await;
    assert_eq!(records.len(), 1, "{records:?}");
    let kept = records[0]["object_id"].as_str().unwrap();
    assert!(
        kept.chars().count() <= 256,
        "{} characters kept",
        kept.len()
    );
    assert!(kept.starts_with("xxxx"));
}

/// The domain `acme` with a size quota of 10¹² bytes.
async fn acme_with_a_terabyte(app: &TestApp) {
    let quotas = Quotas {
        size: Some(1_000_000_000_000),
        users: None,
    };
    let acme = NewDomain::new("acme")
        .password(ADMIN_PASSWORD)
        .quotas(quotas);
    app.by_admin().domain(acme).await;
}

#[tokio::test]
async fn sizes_are_bounded() {
    let app = spawn_app().await;
    acme_with_a_terabyte(&app).await;
    let acme = domain_admin_token(&app, "acme").await;
    let drive = |size: i64| {
        json!({"drive_name": "D", "owner": "admin", "owner_type": "user",
                                    "total_size": size})
    };
    // A size near i64::MAX is refused outright.
    let answer = app
        .call("/v2/drive/create", &acme, drive(i64::MAX - 10))
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
    let answer = app
        .admin(
            "/v2/domain/update",
            json!({"domain_id": "acme", "size_quota": i64::MAX}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
}

#[tokio::test]
async fn quota_sums_of_huge_drives_do_not_overflow() {
    let app = spawn_app().await;
    acme_with_a_terabyte(&app).await;
    let acme = domain_admin_token(&app, "acme").await;
    let drive = |size: i64| {
        json!({"drive_name": "D", "owner": "admin", "owner_type": "user",
                                    "total_size": size})
    };
    // Drives written before sizes were bounded may hold anything: their sum must not
    // overflow the quota check, on either backend.
    for _ in 0..2 {
        app.by(&acme)
            .drive(NewDrive::of_user("admin", "D").size(1))
            .await;
    }
    on_database(
        &app.store,
        "UPDATE drives SET total_size = 9223372036854775000 WHERE domain_id = 'acme'",
    )
    .await;
    // Such drives are in the domain's kept totals as migration 0071 filled them in.
    on_database(
        &app.store,
        "DELETE FROM drive_totals WHERE domain_id = 'acme'",
    )
    .await;
    on_database(
        &app.store,
        "INSERT INTO drive_totals (domain_id, shard, allocated_hi, allocated_lo, used_hi, \
         used_lo) SELECT domain_id, 0, SUM(total_size / 2147483648), \
         SUM(total_size % 2147483648), SUM(used_size / 2147483648), \
         SUM(used_size % 2147483648) FROM drives WHERE domain_id = 'acme' GROUP BY domain_id",
    )
    .await;
    let answer = app.call("/v2/drive/create", &acme, drive(1)).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    let (status, quota) = app.call("/v2/domain/get_quota", &acme, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{quota}");
    assert_eq!(quota["size_used"], i64::MAX, "{quota}");
    let (status, domain) = app
        .admin(
            "/v2/domain/get",
            json!({"domain_id": "acme", "get_quota_used": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    assert_eq!(domain["size_quota_used"], i64::MAX, "{domain}");
}

/// Logs in to `domain_id` as its `admin`.
async fn domain_admin_token(app: &TestApp, domain_id: &str) -> String {
    app.login_in(domain_id, "admin", ADMIN_PASSWORD).await
}

#[tokio::test]
async fn a_domain_lowers_its_own_quotas_and_only_the_level_above_raises_them() {
    let app = spawn_app().await;
    let quotas = Quotas {
        size: Some(1000),
        users: Some(10),
    };
    let acme = NewDomain::new("acme")
        .password(ADMIN_PASSWORD)
        .quotas(quotas);
    app.by_admin().domain(acme).await;
    let acme = domain_admin_token(&app, "acme").await;
    let update = |fields: Value| {
        let mut body = fields;
        body["domain_id"] = json!("acme");
        body
    };
    // Its own superadmin: raising or lifting is refused, lowering is fine.
    for raise in [
        json!({"size_quota": 2000}),
        json!({"size_quota": 0}),
        json!({"user_count_quota": 11}),
        json!({"user_count_quota": 0}),
    ] {
        let answer = app.call("/v2/domain/update", &acme, update(raise)).await;
        assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    }
    let (status, body) = app
        .call(
            "/v2/domain/update",
            &acme,
            update(json!({"size_quota": 500, "user_count_quota": 10, "domain_name": "Acme"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["size_quota"], 500);
    // The operator raises and lifts it.
    let (status, body) = app
        .admin("/v2/domain/update", update(json!({"size_quota": 0})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A subdomain: its parent's superadmin sets its quota, its own superadmin only lowers it.
    let labs = NewDomain::new("acme-labs")
        .under("acme")
        .password(ADMIN_PASSWORD)
        .quotas(Quotas {
            size: None,
            users: Some(5),
        });
    app.by(&acme).domain(labs).await;
    let labs = domain_admin_token(&app, "acme-labs").await;
    let labs_update = |fields: Value| {
        let mut body = fields;
        body["domain_id"] = json!("acme-labs");
        body
    };
    let answer = app
        .call(
            "/v2/domain/update",
            &labs,
            labs_update(json!({"user_count_quota": 50})),
        )
        .await;
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    let answer = app
        .call(
            "/v2/domain/update",
            &labs,
            labs_update(json!({"user_count_quota": 4})),
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    let answer = app
        .call(
            "/v2/domain/update",
            &acme,
            labs_update(json!({"user_count_quota": 50})),
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
}

#[tokio::test]
async fn a_group_admin_cannot_join_a_group_that_administers_outside_its_subtree() {
    let app = spawn_app().await;
    let admin = app.by_admin();
    let sales = admin.group("Sales", None).await;
    let finance = admin.group("Finance", None).await;
    // Inside Sales, a group whose members administer Finance.
    let keys = admin.group("Finance keys", Some(&sales)).await;
    admin.make_group_admin(&finance, Member::Group(&keys)).await;
    let plain = admin.group("Sales team", Some(&sales)).await;
    let (mallory, token) = app.user_with_role("mallory", "user").await;
    let (bob, _) = app.user_with_role("bob", "user").await;
    admin.make_group_admin(&sales, Member::User(&mallory)).await;

    for member in [&mallory, &bob] {
        let answer = app
            .call(
                "/v2/group/add_member",
                &token,
                json!({"group_id": keys, "member_type": "user", "member_id": member}),
            )
            .await;
        assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    }
    // Finance stays out of reach.
    let answer = app
        .call(
            "/v2/group/create",
            &token,
            json!({"group_name": "Mine", "parent_group_id": finance}),
        )
        .await;
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    // Groups that administer nothing outside its subtree are still its to manage.
    let (status, body) = app
        .call(
            "/v2/group/add_member",
            &token,
            json!({"group_id": plain, "member_type": "user", "member_id": bob}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    // An admin may put someone in the key group; then the group admin may not take them out.
    admin.add_member(&keys, Member::User(&bob)).await;
    let answer = app
        .call(
            "/v2/group/remove_member",
            &token,
            json!({"group_id": keys, "member_type": "user", "member_id": bob}),
        )
        .await;
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
}

#[tokio::test]
async fn user_ids_refuse_invisible_characters_and_spaces_at_the_edges() {
    let app = spawn_app().await;
    for bad in [
        "ali\u{200B}ce",
        "\u{202E}ecila",
        "\u{FEFF}alice",
        "ali\u{2028}ce",
        " alice",
        "alice ",
        "ali\u{00AD}ce",
        "ali\u{E0041}ce",
    ] {
        let answer = app.admin("/v2/user/create", json!({"user_id": bad})).await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "InvalidParameterWrongFormat",
        );
        let answer = app
            .admin(
                "/v2/user/import",
                json!({"user_id": bad, "authentication_type": "custom",
                       "identity": format!("id-{}", bad.len()), "nick_name": "N"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "InvalidParameterWrongFormat",
        );
        let answer = app
            .admin(
                "/v2/user/import",
                json!({"authentication_type": "custom", "identity": bad, "nick_name": "N"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "InvalidParameterWrongFormat",
        );
    }
    // eds-user and KooDrive create users through the same rule.
    let answer = kd(
        &app,
        Method::POST,
        "/users",
        &app.admin_token,
        Some(json!({"userId": "bob\u{200D}", "name": "Bob",
                    "modifyUserInfoReq": {"deptId": "0", "role": "1"}})),
    )
    .await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    let (status, body) = app
        .admin("/v2/user/create", json!({"user_id": "Alice Liddell"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn user_ids_that_differ_only_in_case_are_one_id() {
    let app = spawn_app().await;
    let (status, body) = app
        .admin("/v2/user/create", json!({"user_id": "Alice"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer = app
        .admin("/v2/user/create", json!({"user_id": "alice"}))
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.User");
    let answer = app
        .admin(
            "/v2/user/import",
            json!({"user_id": "ALICE", "authentication_type": "custom",
                   "identity": "alice-2", "nick_name": "N"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.User");
}

async fn import(app: &TestApp, user_id: &str, kind: &str, identity: &str) -> (StatusCode, Value) {
    app.admin(
        "/v2/user/import",
        json!({"user_id": user_id, "authentication_type": kind, "identity": identity,
               "nick_name": user_id, "plain_password": USER_PASSWORD}),
    )
    .await
}

#[tokio::test]
async fn an_identity_names_one_user_whatever_its_case_or_account_type() {
    let app = spawn_app().await;
    let (status, body) = import(&app, "adam", "email", "ADAM@Example.org").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Stored in lower case, and logged in with in any case.
    let (status, info) = app
        .admin(
            "/v2/account/get_link_info",
            json!({"type": "email", "identity": "Adam@EXAMPLE.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["identity"], "adam@example.org");
    app.login("adam@example.org", USER_PASSWORD).await;
    app.login("ADAM@EXAMPLE.ORG", USER_PASSWORD).await;
    // Nobody else gets it, in another case or as another account type.
    for (kind, identity) in [
        ("email", "adam@example.org"),
        ("custom", "ADAM@Example.org"),
        ("custom", "adam@example.org"),
    ] {
        let answer = import(&app, "eve", kind, identity).await;
        assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.Account");
    }
    app.by_admin().user(NewUser::new("eve")).await;
    let answer = app
        .admin(
            "/v2/account/link",
            json!({"user_id": "eve", "type": "custom", "identity": "ADAM@example.org"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.Account");
    // Its own user may hold it under another type.
    let (status, body) = app
        .admin(
            "/v2/account/link",
            json!({"user_id": "adam", "type": "custom", "identity": "adam@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn exported_audit_cells_that_look_like_formulas_stay_text() {
    let app = spawn_app().await;
    let formula = "=HYPERLINK(\"http://evil\",\"x\")";
    let (status, body) = app
        .admin(
            "/v2/group/create",
            json!({"group_name": "G", "description": formula}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer = app
        .admin(
            "/v2/user/update",
            json!({"user_id": "-1+cmd", "nick_name": "N"}),
        )
        .await;
    assert_eq!(answer.0, StatusCode::NOT_FOUND, "{}", answer.1);
    let body = json!({"query": "action_type = 'user.update'", "language": "en_US"});
    let (status, task) = app.admin("/v2/audit_log/export", body).await;
    assert_eq!(status, StatusCode::OK, "{task}");
    let task_id = task["async_task_id"].as_str().unwrap();
    let csv = app
        .http
        .get(app.url(&format!("/v2/audit_log/download?async_task_id={task_id}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cells: Vec<&str> = csv.lines().skip(1).flat_map(|l| l.split(',')).collect();
    assert!(cells.contains(&"'-1+cmd"), "{csv}");
    assert!(
        cells
            .iter()
            .all(|c| !c.trim_start_matches('"').starts_with(['=', '+', '-', '@'])),
        "{csv}"
    );
}

#[tokio::test]
async fn a_refused_koodrive_user_change_moves_nobody() {
    let app = spawn_app().await;
    let sales = create_department(&app, "Sales", "0").await;
    let west = create_department(&app, "West", "0").await;
    create_user(&app, "1008600000000000001", &sales, 1).await;
    // A malformed mobile number is refused, and the department stays as it was.
    let answer = kd(
        &app,
        Method::PUT,
        "/users/1008600000000000001",
        &app.admin_token,
        Some(json!({"deptId": west, "mobile": "not a number"})),
    )
    .await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    let got = ok(&app, Method::GET, "/users/1008600000000000001", None).await;
    assert_eq!(got["data"]["deptId"], sales.as_str(), "{got}");
}

#[tokio::test]
async fn a_body_of_only_whitespace_is_not_an_empty_body() {
    let app = spawn_app().await;
    for body in ["\t", " \n"] {
        let response = app
            .http
            .post(app.url("/v2/outbox/list"))
            .bearer_auth(&app.admin_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let answer = crate::helpers::read(response).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidRequestJSONFormat");
    }
    let (status, body) = app.admin("/v2/outbox/list", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
