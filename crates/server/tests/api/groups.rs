//! `/v2/group/*`, memberships, subtree search, `/v2/user/list_group_user` and group admins.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, read, spawn_app, Member, TestApp};

async fn add(app: &TestApp, token: &str, group_id: &str, user_id: &str) -> (StatusCode, Value) {
    app.call(
        "/v2/group/add_member",
        token,
        json!({"group_id": group_id, "member_type": "user", "member_id": user_id}),
    )
    .await
}

fn ids(items: &Value, key: &str) -> BTreeSet<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

/// User ids matching a general_search, across all its pages.
async fn search_all(app: &TestApp, query: Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut marker = String::new();
    loop {
        let mut q = query.clone();
        q["marker"] = json!(marker);
        q["limit"] = json!(100);
        let (status, page) = app.admin("/v2/user/general_search", q).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        found.extend(ids(&page["items"], "user_id"));
        marker = page["next_marker"].as_str().unwrap().to_owned();
        if marker.is_empty() {
            return found;
        }
    }
}

#[tokio::test]
async fn groups_are_created_read_changed_and_deleted() {
    let app = spawn_app().await;
    let (status, g) = app
        .admin(
            "/v2/group/create",
            json!({"group_name": "Engineering", "description": "builders"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    assert_eq!(g["creator"], "admin");
    assert_eq!(g["domain_id"], "default");
    assert!(g["created_at"].as_i64().unwrap() > 1_600_000_000_000);
    let id = g["group_id"].as_str().unwrap();

    let (_, plain) = app.user_with_role("pat", "user").await;
    let (status, got) = app
        .call("/v2/group/get", &plain, json!({"group_id": id}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "any user of the domain reads groups"
    );
    assert_eq!(got, g);

    let (status, changed) = app
        .admin(
            "/v2/group/update",
            json!({"group_id": id, "group_name": "Eng"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["group_name"], "Eng");
    assert_eq!(changed["description"], "builders");
    let (status, body) = app
        .admin(
            "/v2/group/update_name",
            json!({"group_id": id, "name": "R&D"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, got) = app.admin("/v2/group/get", json!({"group_id": id})).await;
    assert_eq!(got["group_name"], "R&D");

    let (status, _) = app.admin("/v2/group/delete", json!({"group_id": id})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app.admin("/v2/group/get", json!({"group_id": id})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Group");
    let answer = app.admin("/v2/group/delete", json!({"group_id": id})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Group");
}

#[tokio::test]
async fn group_calls_check_tokens_roles_and_inputs() {
    let app = spawn_app().await;
    let id = app.create_group("g", None).await;
    let (_, plain) = app.user_with_role("pat", "user").await;
    for (path, body) in [
        ("/v2/group/create", json!({"group_name": "x"})),
        ("/v2/group/get", json!({"group_id": id})),
        ("/v2/group/list", json!({})),
        ("/v2/group/list_member", json!({"group_id": id})),
    ] {
        let answer = read(app.post(path, None, &body).await).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    }
    for (path, body) in [
        ("/v2/group/create", json!({"group_name": "x"})),
        (
            "/v2/group/update",
            json!({"group_id": id, "group_name": "y"}),
        ),
        ("/v2/group/delete", json!({"group_id": id})),
        (
            "/v2/group/add_member",
            json!({"group_id": id, "member_type": "user", "member_id": "admin"}),
        ),
        (
            "/v2/role/assign",
            json!({"identity": {"identity_type": "IT_User", "identity_id": "admin"},
                   "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
                   "manage_resource_id": id}),
        ),
    ] {
        let answer = app.call(path, &plain, body).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    let bad = [
        ("/v2/group/create", json!({}), "InvalidParameterMissing"),
        (
            "/v2/group/create",
            json!({"group_name": ""}),
            "InvalidParameterEmpty",
        ),
        (
            "/v2/group/create",
            json!({"group_name": "x".repeat(129)}),
            "InvalidParameterOutOfRange",
        ),
        (
            "/v2/group/create",
            json!({"group_name": "x", "description": "d".repeat(1025)}),
            "InvalidParameterOutOfRange",
        ),
        (
            "/v2/group/create",
            json!({"group_name": 7}),
            "InvalidParameter",
        ),
        (
            "/v2/group/list",
            json!({"limit": 0}),
            "InvalidParameterOutOfRange",
        ),
        (
            "/v2/group/list",
            json!({"limit": 101}),
            "InvalidParameterOutOfRange",
        ),
        (
            "/v2/group/add_member",
            json!({"group_id": id, "member_type": "robot", "member_id": "admin"}),
            "InvalidParameter",
        ),
        (
            "/v2/group/list_member",
            json!({}),
            "InvalidParameterMissing",
        ),
    ];
    for (path, body, code) in bad {
        let answer = app.admin(path, body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    let answer = app
        .admin(
            "/v2/group/create",
            json!({"group_name": "x", "parent_group_id": "nope"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Group");
    let answer = add(&app, &app.admin_token, &id, "nobody").await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");
}

#[tokio::test]
async fn the_tree_never_gets_a_cycle_and_root_groups_stay_on_top() {
    let app = spawn_app().await;
    let [a, b, c] = app.by_admin().group_path(["a", "b", "c"]).await;
    for (moved, under) in [(&a, &c), (&a, &a), (&b, &c)] {
        let answer = app
            .admin(
                "/v2/group/update",
                json!({"group_id": moved, "parent_group_id": under}),
            )
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    }
    let (_, got) = app.admin("/v2/group/get", json!({"group_id": a})).await;
    assert_eq!(got["parent_group_id"], "", "a failed move changed nothing");

    // A root group is never placed under another.
    let answer = app
        .admin(
            "/v2/group/create",
            json!({"group_name": "r", "is_root": true, "parent_group_id": a}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    let (_, root) = app
        .admin(
            "/v2/group/create",
            json!({"group_name": "r", "is_root": true}),
        )
        .await;
    let answer = app
        .admin(
            "/v2/group/add_member",
            json!({"group_id": a, "member_type": "group", "member_id": root["group_id"]}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");

    // A legal move carries the subtree: users under c are then found under the new parent.
    let x = app.create_group("x", None).await;
    app.create_user("u-c", "under c").await;
    app.by_admin().add_member(&c, Member::User("u-c")).await;
    let (status, _) = app
        .admin(
            "/v2/group/add_member",
            json!({"group_id": x, "member_type": "group", "member_id": b}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        search_all(&app, json!({"parent_group_id_list": [x]})).await,
        BTreeSet::from(["u-c".to_owned()])
    );
    assert!(search_all(&app, json!({"parent_group_id_list": [a]}))
        .await
        .is_empty());

    // Taking b out of x makes it top-level.
    let (status, _) = app
        .admin(
            "/v2/group/remove_member",
            json!({"group_id": x, "member_type": "group", "member_id": b}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.admin("/v2/group/get", json!({"group_id": b})).await;
    assert_eq!(got["parent_group_id"], "");
}

#[tokio::test]
async fn a_group_with_subgroups_is_not_deleted_and_deleting_removes_memberships() {
    let app = spawn_app().await;
    let a = app.create_group("a", None).await;
    let b = app.create_group("b", Some(&a)).await;
    app.create_user("u1", "one").await;
    app.by_admin().add_member(&b, Member::User("u1")).await;
    let answer = app.admin("/v2/group/delete", json!({"group_id": a})).await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    let (status, _) = app.admin("/v2/group/delete", json!({"group_id": b})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, me) = app
        .admin(
            "/v2/user/general_get",
            json!({"user_id": "u1", "extra_return_info": ["group"]}),
        )
        .await;
    assert_eq!(me["parent_group"], json!([]));
    let (status, _) = app.admin("/v2/group/delete", json!({"group_id": a})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn memberships_are_idempotent_and_listed_by_marker() {
    let app = spawn_app().await;
    let g = app.create_group("team", None).await;
    let mut subgroups = BTreeSet::new();
    for i in 0..4 {
        subgroups.insert(app.create_group(&format!("sub{i}"), Some(&g)).await);
    }
    let mut users = BTreeSet::new();
    for i in 0..5 {
        let id = format!("m{i}");
        app.create_user(&id, &id).await;
        assert_eq!(
            add(&app, &app.admin_token, &g, &id).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            add(&app, &app.admin_token, &g, &id).await.0,
            StatusCode::NO_CONTENT
        );
        users.insert(id);
    }
    // 4 groups then 5 users, 3 at a time: 3 pages of 3 (the second mixes both kinds).
    let (mut seen_groups, mut seen_users) = (Vec::new(), Vec::new());
    let mut marker = String::new();
    let mut pages = 0;
    loop {
        let (status, page) = app
            .admin(
                "/v2/group/list_member",
                json!({"group_id": g, "limit": 3, "marker": marker}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let n = page["group_items"].as_array().unwrap().len()
            + page["user_items"].as_array().unwrap().len();
        assert_eq!(n, 3, "{page}");
        seen_groups.extend(ids(&page["group_items"], "group_id"));
        seen_users.extend(ids(&page["user_items"], "user_id"));
        marker = page["next_marker"].as_str().unwrap().to_owned();
        if marker.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen_groups.iter().cloned().collect::<BTreeSet<_>>(),
        subgroups
    );
    assert_eq!(seen_users.len(), 5);
    assert_eq!(seen_users.iter().cloned().collect::<BTreeSet<_>>(), users);

    let (_, only_users) = app
        .admin(
            "/v2/group/list_member",
            json!({"group_id": g, "member_type": "user"}),
        )
        .await;
    assert_eq!(ids(&only_users["user_items"], "user_id"), users);
    assert_eq!(only_users["group_items"], json!([]));

    let (status, _) = app
        .admin(
            "/v2/group/remove_member",
            json!({"group_id": g, "member_type": "user", "member_id": "m0"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app
        .admin(
            "/v2/group/remove_member",
            json!({"group_id": g, "member_type": "user", "member_id": "m0"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Membership");
}

#[tokio::test]
async fn user_groups_are_set_on_create_and_update_and_shown_as_extras() {
    let app = spawn_app().await;
    let a = app.create_group("a", None).await;
    let b = app.create_group("b", None).await;
    let (status, body) = app
        .admin(
            "/v2/user/create",
            json!({"user_id": "g-user", "group_info_list": [{"group_id": a}, {"group_id": b}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, got) = app
        .admin(
            "/v2/user/general_get",
            json!({"user_id": "g-user", "extra_return_info": ["group"]}),
        )
        .await;
    assert_eq!(
        ids(&got["parent_group"], "group_id"),
        BTreeSet::from([a.clone(), b.clone()])
    );
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": "g-user", "group_info_list": [{"group_id": b}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, got) = app
        .admin(
            "/v2/user/general_get",
            json!({"user_id": "g-user", "extra_return_info": ["group"]}),
        )
        .await;
    assert_eq!(
        ids(&got["parent_group"], "group_id"),
        BTreeSet::from([b.clone()])
    );

    // import with parent_group_id joins that group.
    let (status, imported) = app
        .admin(
            "/v2/user/import",
            json!({"authentication_type": "custom", "identity": "imp", "nick_name": "Imp",
                   "parent_group_id": a}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(
        search_all(&app, json!({"direct_parent_group_id": a})).await,
        BTreeSet::from([imported["user_id"].as_str().unwrap().to_owned()])
    );
}

#[tokio::test]
async fn list_group_user_shows_the_top_of_the_tree_and_extras_only_to_admins() {
    let app = spawn_app().await;
    let top = app.create_group("top", None).await;
    app.create_group("inner", Some(&top)).await;
    app.create_user("loner", "no group").await;
    app.create_user("member", "in top").await;
    app.by_admin()
        .add_member(&top, Member::User("member"))
        .await;
    let (status, page) = app.admin("/v2/user/list_group_user", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        ids(&page["group_items"], "group_id"),
        BTreeSet::from([top.clone()])
    );
    let users = ids(&page["user_items"], "user_id");
    assert!(
        users.contains("loner") && !users.contains("member"),
        "{users:?}"
    );

    let (status, page) = app
        .admin(
            "/v2/user/list_group_user",
            json!({"group_id": top, "member_type": "user", "extra_return_info": ["group"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["user_items"][0]["user_id"], "member");
    assert_eq!(
        page["user_items"][0]["parent_group"][0]["group_id"],
        json!(top)
    );

    let (_, plain) = app.user_with_role("pat", "user").await;
    let (status, _) = app
        .call("/v2/user/list_group_user", &plain, json!({"group_id": top}))
        .await;
    assert_eq!(status, StatusCode::OK, "plain users list members");
    let answer = app
        .call(
            "/v2/user/list_group_user",
            &plain,
            json!({"group_id": top, "extra_return_info": ["group"]}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .admin(
            "/v2/user/list_group_user",
            json!({"group_id": top, "extra_return_info": ["group"], "limit": 31}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
}

#[tokio::test]
async fn group_admins_manage_their_subtree_and_nothing_else() {
    let app = spawn_app().await;
    let [a, b, c] = app.by_admin().group_path(["a", "b", "c"]).await;
    let other = app.create_group("other", None).await;
    app.create_user("someone", "someone").await;
    let (gadmin_id, gadmin) = app.user_with_role("gadmin", "user").await;
    let assignment = json!({"identity": {"identity_type": "IT_User", "identity_id": gadmin_id},
                            "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
                            "manage_resource_id": b});
    let (status, body) = app.admin("/v2/role/assign", assignment.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Inside its subtree: members and subgroups.
    assert_eq!(
        add(&app, &gadmin, &b, "someone").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        add(&app, &gadmin, &c, "someone").await.0,
        StatusCode::NO_CONTENT
    );
    let (status, sub) = app
        .call(
            "/v2/group/create",
            &gadmin,
            json!({"group_name": "d", "parent_group_id": c}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let (status, _) = app
        .call(
            "/v2/group/delete",
            &gadmin,
            json!({"group_id": sub["group_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Outside it, or the administered group itself: refused.
    for (path, body) in [
        (
            "/v2/group/add_member",
            json!({"group_id": a, "member_type": "user", "member_id": "someone"}),
        ),
        (
            "/v2/group/add_member",
            json!({"group_id": other, "member_type": "user", "member_id": "someone"}),
        ),
        ("/v2/group/delete", json!({"group_id": b})),
        ("/v2/group/create", json!({"group_name": "top"})),
        (
            "/v2/group/update",
            json!({"group_id": b, "parent_group_id": other}),
        ),
        (
            "/v2/user/update",
            json!({"user_id": "someone", "status": "disabled"}),
        ),
    ] {
        let answer = app.call(path, &gadmin, body).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }

    let (status, list) = app
        .admin(
            "/v2/role/list_assignment",
            json!({"manage_resource_type": "RT_Group", "manage_resource_id": b}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list["assignment_list"][0]["identity"]["identity_id"],
        json!(gadmin_id)
    );
    let (status, roles) = app
        .call(
            "/v2/role/list_identity_role",
            &gadmin,
            json!({"identity": {"identity_type": "IT_User", "identity_id": gadmin_id}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roles["assignment_list"][0]["manage_resource_id"], json!(b));
    assert_eq!(roles["is_admin"], false);

    let (status, _) = app
        .admin("/v2/role/cancel_assign", assignment.clone())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app.admin("/v2/role/cancel_assign", assignment).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Assignment");
    let answer = add(&app, &gadmin, &c, "someone").await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
}

#[tokio::test]
async fn subtree_search_on_a_tree_10_deep_with_10000_groups() {
    let app = spawn_app().await;
    // A spine of 10 levels, each spine group with 999 leaf children: 10 + 9,990 groups.
    let mut spine = Vec::new();
    for level in 0..10 {
        let parent = spine.last().cloned();
        spine.push(
            app.create_group(&format!("level{level}"), parent.as_deref())
                .await,
        );
    }
    let mut leaves_of_level = Vec::new();
    for (level, parent) in spine.iter().enumerate() {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..999 {
            let (url, token, parent) = (
                app.url("/v2/group/create"),
                app.admin_token.clone(),
                parent.clone(),
            );
            let http = app.http.clone();
            tasks.spawn(async move {
                let response = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"group_name": format!("leaf-{level}-{i}"),
                                  "parent_group_id": parent}))
                    .send()
                    .await
                    .unwrap();
                let (status, body) = read(response).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                body["group_id"].as_str().unwrap().to_owned()
            });
            if tasks.len() >= 16 {
                let _ = tasks.join_next().await;
            }
        }
        let mut last = String::new();
        while let Some(id) = tasks.join_next().await {
            last = id.unwrap();
        }
        leaves_of_level.push(last);
    }
    // One user in a leaf at every level, and one directly in each spine group.
    for level in 0..10 {
        let leaf_user = format!("leaf-user-{level}");
        let spine_user = format!("spine-user-{level}");
        app.create_user(&leaf_user, "deep").await;
        app.create_user(&spine_user, "spine").await;
        add(&app, &app.admin_token, &leaves_of_level[level], &leaf_user).await;
        add(&app, &app.admin_token, &spine[level], &spine_user).await;
    }
    let expected_below = |from: usize| -> BTreeSet<String> {
        (from..10)
            .flat_map(|l| [format!("leaf-user-{l}"), format!("spine-user-{l}")])
            .collect()
    };
    assert_eq!(
        search_all(&app, json!({"parent_group_id_list": [spine[0]]})).await,
        expected_below(0)
    );
    assert_eq!(
        search_all(&app, json!({"parent_group_id_list": [spine[6]]})).await,
        expected_below(6)
    );
    assert_eq!(
        search_all(&app, json!({"direct_parent_group_id": spine[6]})).await,
        BTreeSet::from(["spine-user-6".to_owned()])
    );
    // Combined with another filter.
    assert_eq!(
        search_all(
            &app,
            json!({"parent_group_id_list": [spine[3]], "nick_name": "SPI"})
        )
        .await,
        (3..10).map(|l| format!("spine-user-{l}")).collect()
    );
    let (_, listed) = app.admin("/v2/group/list", json!({"limit": 100})).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 100);
}
