//! Races: concurrent writes that could corrupt the directory if the store did not serialise
//! them. Each runs many times over; on PostgreSQL they are real races between connections.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, NewUser, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_members_while_the_group_is_deleted_leaves_no_orphan_membership() {
    let app = spawn_app().await;
    for i in 0..10 {
        app.by_admin().user(NewUser::new(&format!("m{i}"))).await;
    }
    for round in 0..5 {
        let group_id = app.create_group(&format!("doomed {round}"), None).await;
        let adds = (0..10).map(|i| {
            app.admin(
                "/v2/group/add_member",
                json!({"group_id": group_id, "member_type": "user", "member_id": format!("m{i}")}),
            )
        });
        let delete = app.admin("/v2/group/delete", json!({"group_id": group_id}));
        let (added, (deleted, _)) = tokio::join!(join_all(adds), delete);
        assert_eq!(deleted, StatusCode::NO_CONTENT);
        for (status, body) in added {
            assert!(
                status == StatusCode::NO_CONTENT || status == StatusCode::NOT_FOUND,
                "{status} {body}"
            );
        }
        for i in 0..10 {
            let (_, user) = app
                .admin(
                    "/v2/user/general_get",
                    json!({"user_id": format!("m{i}"), "extra_return_info": ["group"]}),
                )
                .await;
            let groups = user["parent_group"].as_array().cloned().unwrap_or_default();
            assert!(groups.is_empty(), "a membership outlived its group: {user}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_of_different_fields_both_stay() {
    let app = spawn_app().await;
    app.by_admin().user(NewUser::new("pat")).await;
    for round in 0..10 {
        let nick = format!("Pat {round}");
        let email = format!("pat{round}@example.com");
        let phone = format!("1380000{round:04}");
        let updates = [
            json!({"user_id": "pat", "nick_name": nick}),
            json!({"user_id": "pat", "email": email}),
            json!({"user_id": "pat", "phone": phone}),
            json!({"user_id": "pat", "description": format!("round {round}")}),
        ];
        let answers = join_all(updates.into_iter().map(|u| app.admin("/v2/user/update", u))).await;
        assert!(
            answers.iter().all(|(s, _)| *s == StatusCode::OK),
            "{answers:?}"
        );
        let (_, pat) = app.admin("/v2/user/get", json!({"user_id": "pat"})).await;
        assert_eq!(pat["nick_name"], nick);
        assert_eq!(pat["email"], email);
        assert_eq!(pat["phone"], phone);
        assert_eq!(pat["description"], format!("round {round}"));
    }
}

async fn parent_of(app: &TestApp, group_id: &str) -> String {
    let (_, group) = app
        .admin("/v2/group/get", json!({"group_id": group_id}))
        .await;
    group["parent_group_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_moves_never_make_a_cycle() {
    let app = spawn_app().await;
    for round in 0..10 {
        // Three top-level groups, each moved under the next at the same moment.
        let mut ids = Vec::new();
        for name in ["a", "b", "c"] {
            ids.push(app.create_group(&format!("{name}{round}"), None).await);
        }
        let moves = (0..3).map(|i| {
            app.admin(
                "/v2/group/update",
                json!({"group_id": ids[i], "parent_group_id": ids[(i + 1) % 3]}),
            )
        });
        let answers: Vec<(StatusCode, Value)> = join_all(moves).await;
        let moved = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert!((1..=2).contains(&moved), "{answers:?}");
        // Walking up from any group reaches the top within three steps.
        for start in &ids {
            let mut at = start.clone();
            let mut steps = 0;
            while !at.is_empty() {
                at = parent_of(&app, &at).await;
                steps += 1;
                assert!(steps <= 3, "a cycle through {start}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_user_id_or_identity_let_exactly_one_through() {
    let app = spawn_app().await;
    for round in 0..3 {
        let user_id = format!("contested{round}");
        let creates = (0..20).map(|i| {
            app.admin(
                "/v2/user/create",
                json!({"user_id": user_id, "nick_name": format!("try {i}")}),
            )
        });
        let answers = join_all(creates).await;
        let created = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["code"], "AlreadyExist.User", "{body}");
        }

        // Different users, one logon identity.
        let identity = format!("shared{round}@example.com");
        let imports = (0..20).map(|i| {
            app.admin(
                "/v2/user/import",
                json!({"user_id": format!("claimant{round}x{i}"), "authentication_type": "email",
                       "identity": identity, "nick_name": "Claimant"}),
            )
        });
        let answers = join_all(imports).await;
        let winners: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| s.is_success())
            .map(|(_, body)| body)
            .collect();
        assert_eq!(winners.len(), 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| !s.is_success()) {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["code"], "AlreadyExist.Account", "{body}");
        }
        // Only the winner exists: no user of a losing import was left behind without its account.
        let (_, found) = app
            .admin(
                "/v2/user/search",
                json!({"nick_name": "Claimant", "limit": 100}),
            )
            .await;
        let claimants = found["items"].as_array().unwrap().len();
        assert_eq!(claimants, round + 1, "{found}");
    }
}
