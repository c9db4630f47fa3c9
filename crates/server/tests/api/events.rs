//! Change events: every change writes its events in its own transaction, whichever face made
//! it; `/v2/event/list` follows a domain's events in commit order with a marker, for its
//! admins; events past retention go.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_on, spawn_with_manual_clock, TestApp, TestStore, ADMIN_PASSWORD,
};

/// One page of the feed as the holder of `token`.
async fn page(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.call("/v2/event/list", token, body).await
}

/// Every event after `marker`, following `next_marker` until a page comes back empty; answers
/// them and the marker to continue from.
async fn follow(app: &TestApp, marker: &str, body: Value) -> (Vec<Value>, String) {
    let mut all = Vec::new();
    let mut marker = marker.to_owned();
    loop {
        let mut request = body.clone();
        request["marker"] = json!(marker);
        let (status, answer) = page(app, &app.admin_token, request).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let items = answer["items"].as_array().expect("items").clone();
        marker = answer["next_marker"].as_str().expect("marker").to_owned();
        if items.is_empty() {
            return (all, marker);
        }
        all.extend(items);
    }
}

async fn all_events(app: &TestApp) -> Vec<Value> {
    follow(app, "", json!({"limit": 7})).await.0
}

/// The types of the `user.*` events about `user_id`, in feed order.
fn user_event_types(events: &[Value], user_id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("user."))
        .filter(|e| e["data"]["user_id"] == user_id)
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

fn types_of(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_user_changed_through_any_face_makes_the_same_events() {
    let app = spawn_app().await;
    let expected = [
        "user.created",
        "user.updated",
        "user.locked",
        "user.deleted",
    ];

    // PDS.
    let (status, _) = app
        .admin(
            "/v2/user/create",
            json!({"user_id": "pds-user", "nick_name": "P"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for change in [
        json!({"user_id": "pds-user", "nick_name": "Pat"}),
        json!({"user_id": "pds-user", "status": "disabled"}),
    ] {
        assert_eq!(app.admin("/v2/user/update", change).await.0, StatusCode::OK);
    }
    let (status, _) = app
        .admin("/v2/user/delete", json!({"user_id": "pds-user"}))
        .await;
    assert!(status.is_success(), "{status}");

    // eds-user.
    crate::eds::create_users(&app, &["edsuser"]).await;
    crate::eds::ok(
        &app,
        "ModifyUser",
        &[("EndUserId", "edsuser"), ("Email", "e@new.example")],
    )
    .await;
    crate::eds::ok(&app, "LockUsers", &[("Users.1", "edsuser")]).await;
    crate::eds::ok(&app, "RemoveUsers", &[("Users.1", "edsuser")]).await;

    // KooDrive.
    let dept = crate::koodrive::create_department(&app, "Sales", "0").await;
    crate::koodrive::create_user(&app, "kd-user", &dept, 1).await;
    let path = "/users/kd-user";
    crate::koodrive::ok(&app, Method::PUT, path, Some(json!({"name": "Kay"}))).await;
    crate::koodrive::ok(&app, Method::PUT, path, Some(json!({"status": "1"}))).await;
    crate::koodrive::ok(&app, Method::DELETE, path, None).await;

    let events = all_events(&app).await;
    for user in ["pds-user", "edsuser", "kd-user"] {
        assert_eq!(user_event_types(&events, user), expected, "{user}");
    }
    let of = |user: &str, kind: &str| {
        events
            .iter()
            .find(|e| e["type"] == kind && e["data"]["user_id"] == user)
            .unwrap()
            .clone()
    };
    // The object after the change; a deletion shows it as it was.
    assert_eq!(of("pds-user", "user.updated")["data"]["nick_name"], "Pat");
    assert_eq!(
        of("pds-user", "user.updated")["changed_fields"],
        json!(["nick_name"])
    );
    assert_eq!(of("pds-user", "user.locked")["data"]["status"], "disabled");
    let deleted = of("pds-user", "user.deleted");
    assert_eq!(deleted["data"]["nick_name"], "Pat");
    assert_eq!(deleted["data"]["status"], "disabled");
    assert_eq!(
        of("edsuser", "user.updated")["data"]["email"],
        "e@new.example"
    );
    assert_eq!(of("kd-user", "user.updated")["data"]["nick_name"], "Kay");
    // Every event carries its id, time, domain and actor; ids are unique.
    let mut ids = HashSet::new();
    for e in &events {
        assert!(
            ids.insert(e["event_id"].as_str().unwrap().to_owned()),
            "{e}"
        );
        assert_eq!(e["domain_id"], "default");
        assert_eq!(e["actor"], json!({"type": "user", "id": "admin"}), "{e}");
        let time = e["time"].as_str().unwrap();
        assert!(time.ends_with('Z') && time.len() == 24, "{time}");
        assert!(e.get("seq").is_none(), "{e}");
    }
}

#[tokio::test]
async fn groups_memberships_drives_and_apps_have_events_with_their_objects() {
    let app = spawn_app().await;
    let (_, parent) = app
        .admin("/v2/group/create", json!({"group_name": "Parent"}))
        .await;
    let (_, child) = app
        .admin("/v2/group/create", json!({"group_name": "Child"}))
        .await;
    let (parent, child) = (
        parent["group_id"].as_str().unwrap().to_owned(),
        child["group_id"].as_str().unwrap().to_owned(),
    );
    app.admin(
        "/v2/group/update",
        json!({"group_id": child, "group_name": "Kid", "parent_group_id": parent}),
    )
    .await;
    app.admin("/v2/user/create", json!({"user_id": "mem"}))
        .await;
    let member = json!({"group_id": child, "member_type": "user", "member_id": "mem"});
    assert!(app
        .admin("/v2/group/add_member", member.clone())
        .await
        .0
        .is_success());
    assert!(app
        .admin("/v2/group/remove_member", member)
        .await
        .0
        .is_success());
    let (status, _) = app
        .admin("/v2/group/delete", json!({"group_id": child}))
        .await;
    assert!(status.is_success());

    let events = all_events(&app).await;
    let about_child: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["group_id"] == child.as_str())
        .collect();
    let kinds: Vec<&str> = about_child
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "group.created",
            "group.updated",
            "group.moved",
            "membership.added",
            "membership.removed",
            "group.deleted"
        ]
    );
    assert_eq!(about_child[1]["changed_fields"], json!(["group_name"]));
    assert_eq!(about_child[2]["data"]["parent_group_id"], parent.as_str());
    assert_eq!(about_child[3]["data"]["member_id"], "mem");
    assert_eq!(about_child[5]["data"]["group_name"], "Kid", "as it was");
}

#[tokio::test]
async fn a_refused_or_failed_change_leaves_no_event() {
    let app = spawn_app().await;
    let (plain, user_token) = app.user_with_role("plain", "user").await;
    let before = all_events(&app).await.len();
    // Refused, conflicting, missing, invalid: nothing changes, nothing is published.
    let (status, _) = app
        .call("/v2/user/create", &user_token, json!({"user_id": "nope"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .admin("/v2/user/create", json!({"user_id": plain}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .admin("/v2/user/delete", json!({"user_id": "ghost"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": plain, "email": "not an email"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .admin("/v2/app/delete", json!({"client_id": "no-such-app"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unlink = json!({"type": "custom", "identity": "nobody", "user_id": plain});
    let (status, _) = app.admin("/v2/account/unlink", unlink).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events = all_events(&app).await;
    assert_eq!(events.len(), before, "{events:?}");
    // Reads and sign-ins are no changes either.
    app.login("admin", ADMIN_PASSWORD).await;
    app.admin("/v2/user/get", json!({"user_id": plain})).await;
    assert_eq!(all_events(&app).await.len(), before);
}

#[tokio::test]
async fn the_feed_pages_with_markers_and_filters_by_type() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.admin("/v2/user/create", json!({"user_id": format!("u{i}")}))
            .await;
    }
    app.admin(
        "/v2/user/update",
        json!({"user_id": "u0", "nick_name": "Zero"}),
    )
    .await;
    let (_, first) = page(&app, &app.admin_token, json!({"limit": 2})).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let (rest, caught_up) = follow(&app, first["next_marker"].as_str().unwrap(), json!({})).await;
    let mut everything = first["items"].as_array().unwrap().clone();
    everything.extend(rest);
    assert_eq!(everything, all_events(&app).await, "pages join up");
    let created: Vec<&str> = everything
        .iter()
        .filter(|e| e["type"] == "user.created")
        .map(|e| e["data"]["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["u0", "u1", "u2", "u3", "u4"], "commit order");
    assert_eq!(types_of(&everything).last(), Some(&"user.updated"));

    // Caught up: the same marker again, until something happens.
    let (status, empty) = page(&app, &app.admin_token, json!({"marker": caught_up})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty, json!({"items": [], "next_marker": caught_up}));
    app.admin("/v2/user/delete", json!({"user_id": "u1"})).await;
    let (after, _) = follow(&app, &caught_up, json!({})).await;
    assert_eq!(types_of(&after), ["user.deleted"]);

    let (only, _) = follow(
        &app,
        "",
        json!({"event_types": ["user.updated", "user.deleted"]}),
    )
    .await;
    assert_eq!(types_of(&only), ["user.updated", "user.deleted"]);
    let (none, _) = follow(&app, "", json!({"event_types": ["app.created"]})).await;
    assert!(none.is_empty());
    let (all, _) = follow(&app, "", json!({"event_types": []})).await;
    assert_eq!(all.len(), everything.len() + 1);
}

#[tokio::test]
async fn only_admins_read_the_feed_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let (_, user_token) = app.user_with_role("plain", "user").await;
    let (_, admin_token) = app.user_with_role("boss", "admin").await;
    let (status, body) = page(&app, &user_token, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let response = app.post("/v2/event/list", None, &json!({})).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = page(&app, &admin_token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body["items"].as_array().unwrap().is_empty());
    let (status, _) = page(&app, &app.admin_token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "the superadmin reads it too");

    for bad in [
        json!({"limit": 0}),
        json!({"limit": 101}),
        json!({"limit": "many"}),
        json!({"marker": "not-a-marker"}),
        json!({"marker": 7}),
        json!({"event_types": ["user.exploded"]}),
        json!({"event_types": "user.created"}),
        json!({"event_types": vec!["user.created"; 65]}),
        json!({"event_types": ["x".repeat(100_000)]}),
    ] {
        let (status, body) = page(&app, &app.admin_token, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["code"]
                .as_str()
                .unwrap()
                .starts_with("InvalidParameter")
                || body["code"] == "MalformedJSON",
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().len() < 1000, "{body}");
    }

    // A marker of another domain names nothing here.
    let (status, sub) = app
        .admin("/v2/domain/create", json!({"domain_name": "sub"}))
        .await;
    assert!(status.is_success(), "{sub}");
    let foreign = roster_marker(sub["domain_id"].as_str().unwrap(), 1);
    let (status, _) = page(&app, &app.admin_token, json!({"marker": foreign})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A marker as the server makes them (opaque to clients; the test knows the format only to
/// forge one of another domain).
fn roster_marker(domain_id: &str, seq: i64) -> String {
    use base64::Engine;
    let key = json!([domain_id, "seq", seq.to_string(), seq.to_string()]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_string())
}

#[tokio::test]
async fn events_past_retention_are_swept() {
    const DAY: Duration = Duration::from_secs(24 * 3600);
    let (mut app, clock) = spawn_with_manual_clock(|config| {
        config.event_retention = Some(DAY);
    })
    .await;
    app.admin("/v2/user/create", json!({"user_id": "old"}))
        .await;
    clock.advance(Duration::from_millis(1));
    app.admin("/v2/user/create", json!({"user_id": "new"}))
        .await;
    clock.advance(DAY);
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    let mut waited = Duration::ZERO;
    loop {
        let created: Vec<String> = all_events(&app)
            .await
            .iter()
            .filter(|e| e["type"] == "user.created")
            .map(|e| e["data"]["user_id"].as_str().unwrap().to_owned())
            .collect();
        if created == ["new"] {
            break;
        }
        assert!(waited < Duration::from_secs(20), "swept: {created:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    // Numbering goes on after a sweep: a consumer's marker stays valid.
    app.admin("/v2/user/create", json!({"user_id": "later"}))
        .await;
    let events = all_events(&app).await;
    assert_eq!(user_event_types(&events, "later"), ["user.created"]);
}

/// Two servers on one store create users at once while a consumer follows the feed through
/// one of them: it sees every event exactly once (on PostgreSQL, commit order is not the
/// order in which transactions began).
#[tokio::test]
async fn concurrent_writers_never_make_the_feed_skip_or_repeat() {
    let store = TestStore::fresh().await;
    let a = spawn_on(store.clone()).await;
    let b = spawn_on(store).await;
    const PER_WRITER: usize = 25;
    let start = follow(&a, "", json!({})).await.1;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    let consumer = {
        let (address, token, done) = (a.address.clone(), a.admin_token.clone(), done.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut seen: Vec<Value> = Vec::new();
            let mut marker = start;
            let mut quiet_after_done = 0;
            loop {
                let answer: Value = http
                    .post(format!("{address}/v2/event/list"))
                    .bearer_auth(&token)
                    .json(&json!({"marker": marker, "limit": 5}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let items = answer["items"].as_array().unwrap().clone();
                marker = answer["next_marker"].as_str().unwrap().to_owned();
                if items.is_empty() {
                    if done.load(std::sync::atomic::Ordering::SeqCst) {
                        quiet_after_done += 1;
                        if quiet_after_done > 2 {
                            return seen;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                seen.extend(items);
            }
        })
    };

    let writer = |app: &TestApp, prefix: &'static str| {
        let (address, token) = (app.address.clone(), app.admin_token.clone());
        async move {
            let http = reqwest::Client::new();
            // A few at a time from each server.
            for first in (0..PER_WRITER).step_by(4) {
                let mut calls = tokio::task::JoinSet::new();
                for i in first..(first + 4).min(PER_WRITER) {
                    let request = http
                        .post(format!("{address}/v2/user/create"))
                        .bearer_auth(&token)
                        .json(&json!({"user_id": format!("{prefix}{i}")}));
                    calls.spawn(async move { request.send().await.unwrap().status() });
                }
                while let Some(status) = calls.join_next().await {
                    assert_eq!(status.unwrap(), StatusCode::CREATED);
                }
            }
        }
    };
    tokio::join!(writer(&a, "a-"), writer(&b, "b-"));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = consumer.await.unwrap();

    let ids: Vec<&str> = seen
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no event twice");
    let created: HashSet<String> = seen
        .iter()
        .filter(|e| e["type"] == "user.created")
        .map(|e| e["data"]["user_id"].as_str().unwrap().to_owned())
        .collect();
    let expected: HashSet<String> = ["a-", "b-"]
        .iter()
        .flat_map(|p| (0..PER_WRITER).map(move |i| format!("{p}{i}")))
        .collect();
    assert_eq!(created, expected, "no event skipped");
    // And what the consumer saw live is what a reader sees afterwards, in the same order.
    let after: Vec<Value> = all_events(&b)
        .await
        .into_iter()
        .filter(|e| e["type"] == "user.created" && e["data"]["user_id"] != "admin")
        .collect();
    let live: Vec<&Value> = seen
        .iter()
        .filter(|e| e["type"] == "user.created")
        .collect();
    assert_eq!(after.iter().collect::<Vec<_>>(), live);
}

#[tokio::test]
async fn the_client_follows_the_feed() {
    use roster_client::api::events::ListEventsRequest;
    let app = spawn_app().await;
    app.admin("/v2/user/create", json!({"user_id": "cli"}))
        .await;
    let client = roster_client::Client::with_token(&app.address, &app.admin_token);
    let first = client
        .list_events(&ListEventsRequest {
            event_types: Some(vec!["user.created".into()]),
            ..ListEventsRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].event_type, "user.created");
    assert_eq!(first.items[0].data["user_id"], "cli");
    let next = client
        .list_events(&ListEventsRequest {
            marker: Some(first.next_marker.clone()),
            ..ListEventsRequest::default()
        })
        .await
        .unwrap();
    assert!(next.items.is_empty());
    assert_eq!(next.next_marker, first.next_marker);
}

#[tokio::test]
async fn a_new_users_first_memberships_and_drive_are_events_of_their_own() {
    let app = spawn_app().await;
    let (status, domain) = app
        .admin(
            "/v2/domain/update",
            json!({"domain_id": "default", "init_drive_enable": true, "init_drive_size": -1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    let (_, group) = app
        .admin("/v2/group/create", json!({"group_name": "Team"}))
        .await;
    let group_id = group["group_id"].as_str().unwrap().to_owned();
    let (status, user) = app
        .admin(
            "/v2/user/create",
            json!({"user_id": "newbie", "group_info_list": [{"group_id": &group_id}]}),
        )
        .await;
    assert!(status.is_success(), "{user}");
    let (status, drive) = app
        .admin("/v2/drive/get_default_drive", json!({"user_id": "newbie"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{drive}");
    let drive_id = drive["drive_id"].as_str().unwrap().to_owned();

    let events = all_events(&app).await;
    let created = events
        .iter()
        .position(|e| e["type"] == "user.created" && e["data"]["user_id"] == "newbie")
        .expect("user.created");
    // Right after the user: its membership, then its drive, each with its own object.
    let next: Vec<&Value> = events[created + 1..].iter().take(2).collect();
    assert_eq!(
        types_of(&events[created..(created + 3).min(events.len())]),
        ["user.created", "membership.added", "drive.created"]
    );
    assert_eq!(
        next[0]["data"],
        json!({"group_id": &group_id, "member_type": "user", "member_id": "newbie"})
    );
    assert_eq!(next[1]["data"]["drive_id"], drive_id.as_str());
    assert_eq!(next[1]["data"]["owner"], "newbie");
    // One transaction, one event each: nothing repeated.
    let memberships = events
        .iter()
        .filter(|e| e["type"] == "membership.added" && e["data"]["member_id"] == "newbie")
        .count();
    assert_eq!(memberships, 1);
    let drives = events
        .iter()
        .filter(|e| e["type"] == "drive.created" && e["data"]["drive_id"] == drive_id.as_str())
        .count();
    assert_eq!(drives, 1);
}

/// A batch creates its users in one transaction; each user's events still come as if it
/// were made alone: `user.created`, then its memberships (by group id), then its drive.
#[tokio::test]
async fn a_batch_of_new_users_makes_each_users_events_in_order() {
    let app = spawn_app().await;
    let (status, domain) = app
        .admin(
            "/v2/domain/update",
            json!({"domain_id": "default", "init_drive_enable": true, "init_drive_size": -1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    let mut groups = Vec::new();
    for name in ["One", "Two"] {
        let (_, group) = app
            .admin("/v2/group/create", json!({"group_name": name}))
            .await;
        groups.push(group["group_id"].as_str().unwrap().to_owned());
    }
    let users = ["bat1", "bat2", "bat3"];
    let requests: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({"id": u, "method": "POST", "url": "/user/create",
                   "body": {"user_id": u, "group_info_list": [
                       {"group_id": &groups[1]}, {"group_id": &groups[0]}]}})
        })
        .collect();
    let (status, answer) = app
        .admin(
            "/v2/batch",
            json!({"resource": "user", "requests": requests}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let mut sorted = groups.clone();
    sorted.sort();
    let events = all_events(&app).await;
    let first = events
        .iter()
        .position(|e| e["type"] == "user.created" && e["data"]["user_id"] == "bat1")
        .expect("user.created");
    let ours = &events[first..];
    assert_eq!(ours.len(), users.len() * 4, "{ours:?}");
    for (i, user) in users.iter().enumerate() {
        let four = &ours[i * 4..i * 4 + 4];
        assert_eq!(
            types_of(four),
            [
                "user.created",
                "membership.added",
                "membership.added",
                "drive.created"
            ]
        );
        assert_eq!(four[0]["data"]["user_id"], *user);
        for (event, group_id) in four[1..3].iter().zip(&sorted) {
            assert_eq!(
                event["data"],
                json!({"group_id": group_id, "member_type": "user", "member_id": user})
            );
        }
        assert_eq!(four[3]["data"]["owner"], *user);
    }
}

#[tokio::test]
async fn a_parent_admins_change_in_a_subdomain_is_filed_under_the_subdomain() {
    let app = spawn_app().await;
    let alpha = crate::tenancy::domain(&app, &app.admin_token, "alpha", None).await;
    let sub = crate::tenancy::domain(&app, &alpha, "alpha-sub", Some("alpha")).await;
    let (status, body) = app
        .call(
            "/v2/user/create",
            &alpha,
            json!({"user_id": "sub-user", "subdomain_id": "alpha-sub"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, drive) = app
        .call(
            "/v2/drive/create",
            &alpha,
            json!({"drive_name": "extra", "owner": "sub-user", "owner_type": "user",
                   "subdomain_id": "alpha-sub"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{drive}");

    let feed = |token: String| {
        let app = &app;
        async move {
            let (status, page) = page(app, &token, json!({"limit": 100})).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            page["items"].as_array().unwrap().clone()
        }
    };
    let in_sub = feed(sub).await;
    let user = in_sub
        .iter()
        .find(|e| e["type"] == "user.created" && e["data"]["user_id"] == "sub-user")
        .expect("the subdomain's feed has the user");
    assert_eq!(user["domain_id"], "alpha-sub");
    assert_eq!(
        user["data"]["domain_id"], "alpha-sub",
        "the object as stored"
    );
    assert_eq!(user["actor"]["id"], "admin");
    assert!(in_sub
        .iter()
        .any(|e| e["type"] == "drive.created" && e["data"]["drive_id"] == drive["drive_id"]));
    let in_alpha = feed(alpha).await;
    assert!(
        !in_alpha
            .iter()
            .any(|e| e["data"]["user_id"] == "sub-user" || e["data"]["owner"] == "sub-user"),
        "{in_alpha:?}"
    );
}
