//! Roster as stateless replicas: several `roster serve` processes over one store share
//! tokens, see each other's writes at once, and never both win the same id. And a domain moves
//! between stores with `roster migrate-store`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{roster_command, TestStore, ADMIN_PASSWORD, USER_PASSWORD};
use crate::server_process::start_process;

#[tokio::test]
async fn two_replicas_share_tokens_and_see_each_others_changes_at_once() {
    let store = TestStore::fresh().await;
    // Both start at once on an empty store: one bootstraps, both agree on the signing key.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| start_process(&store));
        let b = s.spawn(|| start_process(&store));
        (a.join().unwrap(), b.join().unwrap())
    });
    let admin_a = a.login("admin", ADMIN_PASSWORD).await;
    let (status, _) = b.call("/v2/user/get", &admin_a, json!({})).await;
    assert_eq!(status, StatusCode::OK, "a token of replica A works on B");

    let (status, user) = a
        .call(
            "/v2/user/import",
            &admin_a,
            json!({"authentication_type": "custom", "identity": "erin", "nick_name": "Erin",
                   "plain_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let erin_on_b = b.login("erin", USER_PASSWORD).await;
    let (status, _) = a.call("/v2/user/get", &erin_on_b, json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // Disabled through B: refused by A on the very next request.
    let (status, _) = b
        .call(
            "/v2/user/update",
            &admin_a,
            json!({"user_id": user["user_id"], "status": "disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = a.call("/v2/user/get", &erin_on_b, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "AccessTokenInvalid");
}

#[tokio::test]
async fn an_admin_demoted_through_one_replica_is_refused_by_the_other_at_once() {
    let store = TestStore::fresh().await;
    let a = start_process(&store);
    let b = start_process(&store);
    let admin = a.login("admin", ADMIN_PASSWORD).await;
    let (status, dora) = a
        .call(
            "/v2/user/import",
            &admin,
            json!({"authentication_type": "custom", "identity": "dora", "nick_name": "Dora",
                   "plain_password": USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dora}");
    let (status, body) = b
        .call(
            "/v2/user/update",
            &admin,
            json!({"user_id": dora["user_id"], "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dora_token = a.login("dora", USER_PASSWORD).await;
    // Dora acts as an admin on A, several times (the second and later requests may be
    // answered from A's caches of verified tokens and callers).
    for i in 0..3 {
        let (status, body) = a
            .call(
                "/v2/user/create",
                &dora_token,
                json!({"user_id": format!("made-by-dora-{i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, _) = a.call("/v2/user/get", &dora_token, json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }

    // Demoted through B: A refuses her token on the very next request.
    let (status, body) = b
        .call(
            "/v2/user/update",
            &admin,
            json!({"user_id": dora["user_id"], "role": "user"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = a
        .call(
            "/v2/user/create",
            &dora_token,
            json!({"user_id": "made-after-demotion"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "AccessTokenInvalid");

    // Logged in again, she is a user on both replicas: reads herself, creates no one.
    let dora_token = b.login("dora", USER_PASSWORD).await;
    for replica in [&a, &b] {
        let (status, me) = replica.call("/v2/user/get", &dora_token, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["role"], "user");
        let (status, _) = replica
            .call(
                "/v2/user/create",
                &dora_token,
                json!({"user_id": "made-by-a-user"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // Deleted through A: B refuses her on the next request.
    let (status, _) = b.call("/v2/user/get", &dora_token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = a
        .call(
            "/v2/user/delete",
            &admin,
            json!({"user_id": dora["user_id"]}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body) = b.call("/v2/user/get", &dora_token, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn concurrent_creates_of_one_id_on_two_replicas_have_exactly_one_winner() {
    let store = TestStore::fresh().await;
    let a = start_process(&store);
    let b = start_process(&store);
    let token = a.login("admin", ADMIN_PASSWORD).await;
    for i in 0..15 {
        let id = format!("race-{i}");
        let identity = format!("race-account-{i}");
        let user = json!({"user_id": id});
        let account = json!({"authentication_type": "custom", "identity": identity,
                             "nick_name": "r"});
        let (ua, ub, ia, ib) = tokio::join!(
            a.call("/v2/user/create", &token, user.clone()),
            b.call("/v2/user/create", &token, user),
            a.call("/v2/user/import", &token, account.clone()),
            b.call("/v2/user/import", &token, account),
        );
        let mut creates = [ua.0, ub.0];
        creates.sort();
        assert_eq!(creates, [StatusCode::CREATED, StatusCode::CONFLICT], "{id}");
        let mut imports = [ia.0, ib.0];
        imports.sort();
        assert_eq!(
            imports,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{identity}"
        );
        let loser = if ia.0 == StatusCode::CONFLICT {
            ia.1
        } else {
            ib.1
        };
        assert_eq!(loser["code"], "AlreadyExist.Account");
    }
    let (_, list) = b.call("/v2/user/list", &token, json!({})).await;
    // admin + 15 created + 15 imported, no half-made extra user from a losing import.
    assert_eq!(list["items"].as_array().unwrap().len(), 31);
}

#[tokio::test]
async fn migrate_store_moves_a_domain_without_loss() {
    // The source is always the embedded SQLite store; the target is this run's backend.
    let source = TestStore {
        database_url: None,
        ..TestStore::fresh().await
    };
    let target = TestStore::fresh().await;
    let target_url = target.database_url.clone().unwrap_or_else(|| {
        let path = target.data_path().join("roster.db");
        format!("sqlite://{}", path.display())
    });
    let before = {
        let app = crate::helpers::spawn_on(source.clone()).await;
        for i in 0..120 {
            let (status, body) = app
                .admin(
                    "/v2/user/import",
                    json!({"authentication_type": "email", "identity": format!("u{i}@example.com"),
                           "nick_name": format!("User {i}"), "plain_password": USER_PASSWORD}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // A group tree with members, drives of users and of a group, domain settings.
        let (_, top) = app
            .admin("/v2/group/create", json!({"group_name": "top"}))
            .await;
        let (_, sub) = app
            .admin(
                "/v2/group/create",
                json!({"group_name": "sub", "parent_group_id": top["group_id"]}),
            )
            .await;
        app.admin(
            "/v2/user/create",
            json!({"user_id": "no-account", "user_data": {"k": "v"}, "role": "admin",
                   "group_info_list": [{"group_id": top["group_id"]}, {"group_id": sub["group_id"]}]}),
        )
        .await;
        for (owner, owner_type, default) in [
            ("no-account", "user", true),
            (sub["group_id"].as_str().unwrap(), "group", false),
        ] {
            let (status, drive) = app
                .admin(
                    "/v2/drive/create",
                    json!({"drive_name": "d", "owner": owner, "owner_type": owner_type,
                           "default": default, "total_size": 100}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{drive}");
        }
        app.admin(
            "/v2/domain/update",
            json!({"domain_id": "default", "size_quota": 10000, "user_count_quota": 500}),
        )
        .await;
        let everything = snapshot(&app).await;
        app.stop().await;
        everything
    };
    assert_eq!(before.users.len(), 122);

    let output = roster_command(&source)
        .args([
            "migrate-store",
            "--to",
            &target_url,
            "--domain",
            "default",
            "--from",
        ])
        .arg(format!(
            "sqlite://{}",
            source.data_path().join("roster.db").display()
        ))
        .output()
        .expect("migrate-store runs");
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("2 groups, 122 users, 121 accounts, 121 passwords, 2 drives"),
        "{printed}"
    );

    let app = crate::helpers::spawn_on(target).await;
    let after = snapshot(&app).await;
    assert_eq!(after.groups, before.groups);
    assert_eq!(after.drives, before.drives);
    assert_eq!(after.domain, before.domain);
    assert_eq!(after.users.len(), before.users.len());
    for (moved, original) in after.users.iter().zip(&before.users) {
        if original["user_id"] == "admin" {
            // Logging in on the new store moved the admin's login times; nothing else.
            let strip = |v: &Value| {
                let mut v = v.clone();
                for key in ["last_login_time", "last_refresh_token_time"] {
                    v[key] = json!(0);
                    v["account"][0][key] = json!(0);
                }
                v
            };
            assert_eq!(strip(moved), strip(original));
        } else {
            assert!(
                moved == original,
                "{} changed in the move",
                original["user_id"]
            );
        }
    }
    // Passwords came along: an imported user logs in on the new store.
    app.login("u7@example.com", USER_PASSWORD).await;
    app.stop().await;
}

/// Everything a domain holds, as its API shows it.
struct Snapshot {
    users: Vec<Value>,
    groups: Vec<Value>,
    drives: Vec<Value>,
    domain: Value,
}

async fn snapshot(app: &crate::helpers::TestApp) -> Snapshot {
    let (_, domain) = app
        .admin("/v2/domain/get", json!({"domain_id": "default"}))
        .await;
    Snapshot {
        users: all_items(
            app,
            "/v2/user/general_search",
            json!({"extra_return_info": ["account", "group", "drive"]}),
        )
        .await,
        groups: all_items(app, "/v2/group/list", json!({})).await,
        drives: all_items(app, "/v2/drive/list", json!({})).await,
        domain,
    }
}

/// Every item of a list call, following `next_marker`.
async fn all_items(app: &crate::helpers::TestApp, path: &str, query: Value) -> Vec<Value> {
    let mut items = Vec::new();
    let mut marker = String::new();
    loop {
        let mut body = query.clone();
        body["limit"] = json!(30);
        body["marker"] = json!(marker);
        let (status, page) = app.admin(path, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        marker = page["next_marker"].as_str().unwrap().to_owned();
        if marker.is_empty() {
            return items;
        }
    }
}
