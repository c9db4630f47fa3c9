//! The typed Rust client against the real server.

use roster_client::api::accounts::{LinkAccountRequest, LinkInfoByUserIdRequest, LinkInfoRequest};
use roster_client::api::domains::{GetDomainQuotaRequest, GetDomainRequest};
use roster_client::api::drives::{
    CreateDriveRequest, DeleteDriveRequest, GetDefaultDriveRequest, GetDriveRequest,
    ListDriveRequest, OwnerType, SearchDriveRequest,
};
use roster_client::{api, Client, Error};

use crate::helpers::{spawn_app, ADMIN_PASSWORD};

#[tokio::test]
async fn the_client_creates_finds_and_deletes_users_and_reports_errors() {
    let app = spawn_app().await;
    let client = Client::new(&app.address);
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

fn user(id: &str) -> api::CreateUserRequest {
    api::CreateUserRequest {
        user_id: id.into(),
        nick_name: Some(format!("Nick {id}")),
        ..Default::default()
    }
}

async fn admin_client(app: &crate::helpers::TestApp) -> Client {
    let client = Client::new(&app.address);
    client.login("admin", ADMIN_PASSWORD).await.unwrap();
    client
}

fn drive(name: &str, owner: &str) -> CreateDriveRequest {
    CreateDriveRequest {
        drive_name: name.into(),
        owner: owner.into(),
        owner_type: OwnerType::User,
        default: None,
        description: None,
        drive_type: None,
        status: None,
        total_size: Some(1 << 20),
        subdomain_id: None,
    }
}

#[tokio::test]
async fn the_client_manages_groups_and_their_members() {
    let app = spawn_app().await;
    let client = admin_client(&app).await;
    for id in ["m0", "m1", "m2", "m3", "m4"] {
        client.create_user(&user(id)).await.unwrap();
    }
    let before = client.all_groups(&Default::default()).await.unwrap().len();

    let team = client
        .create_group(&api::CreateGroupRequest {
            group_name: "Team".into(),
            description: Some("the team".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let got = client
        .get_group(&api::GroupIdRequest {
            group_id: team.group_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(got, team);
    let renamed = client
        .update_group(&api::UpdateGroupRequest {
            group_id: team.group_id.clone(),
            group_name: Some("Crew".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(renamed.group_name, "Crew");

    for i in 0..4 {
        client
            .create_group(&api::CreateGroupRequest {
                group_name: format!("Sub {i}"),
                parent_group_id: Some(team.group_id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    for id in ["m0", "m1", "m2", "m3", "m4"] {
        client
            .add_group_member(&api::GroupMemberRequest {
                group_id: team.group_id.clone(),
                member_type: api::MemberType::User,
                member_id: id.into(),
            })
            .await
            .unwrap();
    }

    // One page of 2, then every page of 2.
    let first = client
        .list_group_members(&api::ListGroupMemberRequest {
            group_id: team.group_id.clone(),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.user_items.len() + first.group_items.len(), 2);
    assert!(!first.next_marker.is_empty());
    let members = client
        .all_group_members(&api::ListGroupMemberRequest {
            group_id: team.group_id.clone(),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(members.groups.len(), 4);
    let mut ids: Vec<_> = members
        .users
        .iter()
        .map(|u| u.user.user_id.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["m0", "m1", "m2", "m3", "m4"]);
    let users_only = client
        .all_group_users(&api::ListGroupUserRequest {
            group_id: Some(team.group_id.clone()),
            member_type: Some(api::MemberType::User),
            limit: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(users_only.users.len(), 5);
    assert!(users_only.groups.is_empty());

    client
        .remove_group_member(&api::GroupMemberRequest {
            group_id: team.group_id.clone(),
            member_type: api::MemberType::User,
            member_id: "m2".into(),
        })
        .await
        .unwrap();
    let members = client
        .all_group_members(&api::ListGroupMemberRequest {
            group_id: team.group_id.clone(),
            member_type: Some(api::MemberType::User),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(members.users.len(), 4);
    assert!(members.users.iter().all(|u| u.user.user_id != "m2"));

    let all = client
        .all_groups(&api::ListGroupRequest {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), before + 5);
    let subs = client
        .search_all_groups(&api::SearchGroupRequest {
            group_name: Some("sub".into()),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(subs.len(), 4);

    // The users collector pages too.
    let users = client
        .all_users(&api::ListUserRequest {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(users.len(), 6);

    let sub = subs[0].group_id.clone();
    client
        .delete_group(&api::GroupIdRequest {
            group_id: sub.clone(),
        })
        .await
        .unwrap();
    let err = client
        .get_group(&api::GroupIdRequest { group_id: sub })
        .await
        .unwrap_err();
    match err {
        Error::Api {
            status,
            ref code,
            ref request_id,
            ..
        } => {
            assert_eq!(status, 404);
            assert!(code.starts_with("NotFound"), "{code}");
            assert!(!request_id.is_empty());
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn the_client_manages_drives_and_reads_the_domain() {
    let app = spawn_app().await;
    let client = admin_client(&app).await;
    client.create_user(&user("dora")).await.unwrap();
    let before = client.all_drives(&Default::default()).await.unwrap().len();

    let main = client
        .create_drive(&CreateDriveRequest {
            default: Some(true),
            ..drive("Dora main", "dora")
        })
        .await
        .unwrap();
    assert_eq!(main.owner, "dora");
    assert!(main.default);
    for i in 0..4 {
        client
            .create_drive(&drive(&format!("Dora extra {i}"), "dora"))
            .await
            .unwrap();
    }
    let got = client
        .get_drive(&GetDriveRequest {
            drive_id: main.drive_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(got, main);
    let default = client
        .get_default_drive(&GetDefaultDriveRequest {
            user_id: Some("dora".into()),
        })
        .await
        .unwrap();
    assert_eq!(default.drive_id, main.drive_id);

    let page = client
        .list_drives(&ListDriveRequest {
            owner: Some("dora".into()),
            owner_type: Some(OwnerType::User),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(!page.next_marker.is_empty());
    let all = client
        .all_drives(&ListDriveRequest {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), before + 5);
    let extras = client
        .search_all_drives(&SearchDriveRequest {
            drive_name: Some("extra".into()),
            limit: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(extras.len(), 4);

    client
        .delete_drive(&DeleteDriveRequest {
            drive_id: extras[0].drive_id.clone(),
            force: None,
        })
        .await
        .unwrap();
    let err = client
        .get_drive(&GetDriveRequest {
            drive_id: extras[0].drive_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let dora_drives = client
        .all_drives(&ListDriveRequest {
            owner: Some("dora".into()),
            owner_type: Some(OwnerType::User),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dora_drives.len(), 4);

    let domain = client
        .get_domain(&GetDomainRequest {
            domain_id: "default".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(domain.domain_id, "default");
    let quota = client
        .get_domain_quota(&GetDomainQuotaRequest {})
        .await
        .unwrap();
    assert_eq!(quota.user_count_used, 2);
}

#[tokio::test]
async fn the_client_links_and_unlinks_accounts() {
    let app = spawn_app().await;
    let client = admin_client(&app).await;
    client.create_user(&user("linus")).await.unwrap();
    let link = LinkAccountRequest {
        kind: api::AuthenticationType::Email,
        identity: "linus@example.com".into(),
        user_id: "linus".into(),
        extra: None,
    };
    let token = client.link_account(&link).await.unwrap();
    assert_eq!(token.user_id, "linus");
    // The admin's session is not replaced by the linked user's token.
    let me = client.get_user(&Default::default()).await.unwrap();
    assert_eq!(me.user_id, "admin");

    let info = client
        .get_link_info(&LinkInfoRequest {
            kind: api::AuthenticationType::Email,
            identity: "linus@example.com".into(),
            extra: None,
        })
        .await
        .unwrap();
    assert_eq!(info.user_id, "linus");
    let infos = client
        .get_link_info_by_user_id(&LinkInfoByUserIdRequest {
            user_id: "linus".into(),
        })
        .await
        .unwrap();
    assert!(infos
        .items
        .iter()
        .any(|i| i.identity == "linus@example.com"));

    client.unlink_account(&link).await.unwrap();
    let err = client
        .get_link_info(&LinkInfoRequest {
            kind: api::AuthenticationType::Email,
            identity: "linus@example.com".into(),
            extra: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.code().unwrap().starts_with("NotFound"));
}

#[tokio::test]
async fn the_client_refreshes_a_refused_access_token_by_itself() {
    let app = spawn_app().await;
    let login = admin_client(&app).await;
    let refresh = login.refresh_token().unwrap();

    // A refused token and no refresh token: the error comes back as is.
    let stale = Client::with_token(&app.address, "garbage");
    let err = stale.get_user(&Default::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("AccessTokenInvalid"));

    // With a refresh token: refreshed once, then the call succeeds.
    stale.set_refresh_token(Some(refresh.clone()));
    let me = stale.get_user(&Default::default()).await.unwrap();
    assert_eq!(me.user_id, "admin");
    let renewed = stale.access_token().unwrap();
    assert_ne!(renewed, "garbage");
    assert_ne!(stale.refresh_token().unwrap(), refresh);
    // A clone shares the renewed session.
    let clone = stale.clone();
    assert_eq!(clone.access_token().as_deref(), Some(renewed.as_str()));
    clone.get_user(&Default::default()).await.unwrap();

    // An unusable refresh token: the refresh's own error comes back, and only once.
    let hopeless = Client::with_token(&app.address, "garbage");
    hopeless.set_refresh_token(Some("not-a-refresh-token".into()));
    let err = hopeless.get_user(&Default::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("RefreshTokenInvalid"));
}

#[tokio::test]
async fn streams_fetch_pages_as_they_are_read_and_batches_answer_each_call() {
    use futures_util::{StreamExt, TryStreamExt};
    use roster_client::api::batch::{BatchRequest, BatchSubRequest};

    let app = spawn_app().await;
    let client = admin_client(&app).await;
    let requests = (0..7)
        .map(|i| BatchSubRequest {
            id: format!("row{i}"),
            method: "POST".into(),
            url: "/user/create".into(),
            body: Some(serde_json::json!({"user_id": format!("s{i}"), "nick_name": format!("Streamed {i}")})),
        })
        .chain([BatchSubRequest {
            id: "dup".into(),
            method: "POST".into(),
            url: "/user/create".into(),
            body: Some(serde_json::json!({"user_id": "s0"})),
        }])
        .collect();
    let answer = client
        .batch(&BatchRequest {
            resource: "user".into(),
            requests,
        })
        .await
        .unwrap();
    let statuses: Vec<(String, u16)> = answer
        .responses
        .iter()
        .map(|r| (r.id.clone(), r.status))
        .collect();
    let mut expected: Vec<(String, u16)> = (0..7).map(|i| (format!("row{i}"), 201)).collect();
    expected.push(("dup".into(), 409));
    assert_eq!(statuses, expected);

    // Two users a page: the stream follows next_marker through every page, in order.
    let by_two = api::ListUserRequest {
        limit: Some(2),
        ..Default::default()
    };
    let ids: Vec<String> = client
        .users_stream(&by_two)
        .map_ok(|u| u.user_id)
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<String> = (0..7).map(|i| format!("s{i}")).collect();
    expected.insert(0, "admin".into());
    assert_eq!(ids, expected);
    // Read lazily: the first three need only two pages.
    let first: Vec<_> = client.users_stream(&by_two).take(3).collect().await;
    assert_eq!(first.len(), 3);
    let found: Vec<api::User> = client
        .search_users_stream(&api::SearchUserRequest {
            nick_name: Some("Streamed".into()),
            limit: Some(3),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 7);
    // An error ends the stream with that error.
    let refused: Vec<_> = Client::new(&app.address)
        .users_stream(&by_two)
        .collect()
        .await;
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0].as_ref().unwrap_err().code(),
        Some("AccessTokenInvalid")
    );
}
