//! The typed Rust client against the real server.

use roster_client::{api, Client};

use crate::helpers::{spawn_app, ADMIN_PASSWORD};

#[tokio::test]
async fn the_client_creates_finds_and_deletes_users_and_reports_errors() {
    let app = spawn_app().await;
    let mut client = Client::new(&app.address);
    let token = client.login("admin", ADMIN_PASSWORD).await.unwrap();
    assert_eq!(token.role, "superadmin");

    for i in 0..5 {
        client
            .create_user(&api::CreateUserRequest {
                user_id: format!("c{i}"),
                nick_name: Some(format!("Client {i}")),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let all = client.list_all_users().await.unwrap();
    assert_eq!(all.len(), 6);

    let found = client
        .search_users(&api::SearchUserRequest {
            nick_name_for_fuzzy: Some("ient 3".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].user_id, "c3");

    client
        .delete_user(&api::DeleteUserRequest {
            user_id: "c3".into(),
        })
        .await
        .unwrap();
    let err = client
        .get_user(&api::GetUserRequest {
            user_id: Some("c3".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NotFound.User"));
    match err {
        roster_client::Error::Api {
            status, request_id, ..
        } => {
            assert_eq!(status, 404);
            assert!(!request_id.is_empty());
        }
        other => panic!("{other}"),
    }

    let renewed = client.refresh().await.unwrap();
    assert_ne!(renewed.access_token, token.access_token);
}
