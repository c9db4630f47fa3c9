//! Domains as tenants: created by the operator, isolated from each other, subdomains managed
//! from their parent, quotas rolled up, deletion only with `force`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, read, spawn_app, spawn_with_base_domain, NewDrive, NewUser, Quotas, Role, TestApp,
};

const PASSWORD: &str = "tenant-password-1";

/// Creates a domain as `token`'s holder; returns its first superadmin's token.
pub(crate) async fn domain(app: &TestApp, token: &str, id: &str, parent: Option<&str>) -> String {
    let mut body = json!({"domain_id": id, "domain_name": format!("Domain {id}"),
                          "admin_password": PASSWORD});
    if let Some(parent) = parent {
        body["parent_domain_id"] = json!(parent);
    }
    // The answer's shape is checked here, so this set-up sends its body itself.
    let (status, created) = app.call("/v2/domain/create", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["admin_user_id"], "admin");
    assert!(
        created.get("admin_password").is_none(),
        "a given password is not echoed"
    );
    app.login_in(id, "admin", PASSWORD).await
}

async fn user_ids(app: &TestApp, token: &str, body: Value) -> Vec<String> {
    let (status, page) = app.call("/v2/user/list", token, body).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn two_domains_hold_the_same_user_id_and_see_only_their_own() {
    let app = spawn_app().await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    let beta = domain(&app, &app.admin_token, "beta", None).await;
    for (token, nick) in [(&alpha, "Sam of alpha"), (&beta, "Sam of beta")] {
        app.by(token).user(NewUser::new("sam").nick(nick)).await;
    }
    app.by(&beta).user(NewUser::new("only-beta")).await;
    assert_eq!(user_ids(&app, &alpha, json!({})).await, ["admin", "sam"]);
    assert_eq!(
        user_ids(&app, &beta, json!({})).await,
        ["admin", "only-beta", "sam"]
    );
    let (_, sam) = app
        .call("/v2/user/get", &alpha, json!({"user_id": "sam"}))
        .await;
    assert_eq!(sam["nick_name"], "Sam of alpha");
    assert_eq!(sam["domain_id"], "alpha");
    // The default domain's list is unchanged.
    assert_eq!(user_ids(&app, &app.admin_token, json!({})).await, ["admin"]);
}

#[tokio::test]
async fn nothing_of_one_domain_is_reachable_from_another() {
    let app = spawn_with_base_domain("roster.test").await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    let beta = domain(&app, &app.admin_token, "beta", None).await;
    let in_beta = app.by(&beta);
    in_beta.user(NewUser::new("secret-user")).await;
    let group_id = in_beta.group("secret-group", None).await;
    let drive_id = in_beta
        .drive(NewDrive::of_user("secret-user", "secret-drive"))
        .await;
    let own_group = app.by(&alpha).group("mine", None).await;

    let cases = [
        (
            "/v2/user/get",
            json!({"user_id": "secret-user"}),
            "NotFound.User",
        ),
        (
            "/v2/user/update",
            json!({"user_id": "secret-user", "nick_name": "x"}),
            "NotFound.User",
        ),
        (
            "/v2/user/delete",
            json!({"user_id": "secret-user"}),
            "NotFound.User",
        ),
        (
            "/v2/user/general_get",
            json!({"user_id": "secret-user"}),
            "NotFound.User",
        ),
        (
            "/v2/group/get",
            json!({"group_id": group_id}),
            "NotFound.Group",
        ),
        (
            "/v2/group/delete",
            json!({"group_id": group_id}),
            "NotFound.Group",
        ),
        (
            "/v2/group/list_member",
            json!({"group_id": group_id}),
            "NotFound.Group",
        ),
        (
            "/v2/group/add_member",
            json!({"group_id": own_group, "member_type": "user",
                   "member_id": "secret-user"}),
            "NotFound.User",
        ),
        (
            "/v2/role/list_identity_role",
            json!({"identity": {"identity_type": "IT_User", "identity_id": "secret-user"}}),
            "NotFound.User",
        ),
        (
            "/v2/role/list_identity_role",
            json!({"identity": {"identity_type": "IT_Group", "identity_id": group_id}}),
            "NotFound.Group",
        ),
        (
            "/v2/drive/get",
            json!({"drive_id": drive_id}),
            "NotFound.Drive",
        ),
        (
            "/v2/drive/delete",
            json!({"drive_id": drive_id}),
            "NotFound.Drive",
        ),
        (
            "/v2/domain/get",
            json!({"domain_id": "beta"}),
            "NotFound.Domain",
        ),
        (
            "/v2/domain/update",
            json!({"domain_id": "beta", "description": "x"}),
            "NotFound.Domain",
        ),
        (
            "/v2/domain/delete",
            json!({"domain_id": "beta", "force": true}),
            "NotFound.Domain",
        ),
        (
            "/v2/user/list",
            json!({"subdomain_id": "beta"}),
            "NotFound.Domain",
        ),
    ];
    for (path, body, code) in cases {
        let answer = app.call(path, &alpha, body.clone()).await;
        assert_error(&answer, StatusCode::NOT_FOUND, code);
        let message = answer.1["message"].as_str().unwrap();
        for secret in ["secret", "beta", &group_id, &drive_id] {
            assert!(!message.contains(secret), "{path} {body}: {message}");
        }
    }
    // Searches and lists see none of it.
    let (_, found) = app
        .call(
            "/v2/user/search",
            &alpha,
            json!({"nick_name_for_fuzzy": "secret"}),
        )
        .await;
    assert_eq!(found["items"], json!([]));
    let (_, groups) = app.call("/v2/group/list", &alpha, json!({})).await;
    assert_eq!(groups["items"].as_array().unwrap().len(), 1);
    let (_, drives) = app.call("/v2/drive/list", &alpha, json!({})).await;
    assert_eq!(drives["items"], json!([]));
    let (_, everyone) = app
        .call(
            "/v2/user/general_search",
            &alpha,
            json!({"parent_group_id_list": [group_id]}),
        )
        .await;
    assert_eq!(everyone["items"], json!([]));

    // A token is refused in a domain its request names through Host (under the base domain).
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let response = app
        .http
        .post(app.url("/v2/user/get"))
        .header("host", format!("beta.roster.test:{port}"))
        .bearer_auth(&alpha)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(
        &read(response).await,
        StatusCode::UNAUTHORIZED,
        "AccessTokenInvalid",
    );
    // ... and accepted in its own.
    let response = app
        .http
        .post(app.url("/v2/user/get"))
        .header("host", format!("alpha.roster.test:{port}"))
        .bearer_auth(&alpha)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn markers_do_not_cross_domains() {
    let app = spawn_app().await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    let beta = domain(&app, &app.admin_token, "beta", None).await;
    for token in [&alpha, &beta] {
        for id in ["a1", "a2"] {
            app.by(token).user(NewUser::new(id)).await;
        }
    }
    let (_, page) = app.call("/v2/user/list", &alpha, json!({"limit": 1})).await;
    let marker = page["next_marker"].as_str().unwrap();
    assert!(!marker.is_empty());
    let (status, _) = app
        .call(
            "/v2/user/list",
            &alpha,
            json!({"limit": 1, "marker": marker}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer = app
        .call(
            "/v2/user/list",
            &beta,
            json!({"limit": 1, "marker": marker}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
}

#[tokio::test]
async fn only_the_operator_creates_top_level_domains_and_a_password_is_shown_once() {
    let app = spawn_app().await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    let answer = app
        .call("/v2/domain/create", &alpha, json!({"domain_name": "rogue"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let (_, plain) = app.user_with_role("pat", "user").await;
    let answer = app
        .call("/v2/domain/create", &plain, json!({"domain_name": "rogue"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    for (body, code) in [
        (json!({}), "InvalidParameterMissing"),
        (
            json!({"domain_name": "x", "domain_id": "Not A Label"}),
            "InvalidParameterWrongFormat",
        ),
        (
            json!({"domain_name": "x", "admin_password": "short"}),
            "InvalidParameterOutOfRange",
        ),
        (
            json!({"domain_name": "x".repeat(129)}),
            "InvalidParameterOutOfRange",
        ),
    ] {
        let answer = app.admin("/v2/domain/create", body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
    }
    let answer = app
        .admin(
            "/v2/domain/create",
            json!({"domain_name": "again", "domain_id": "alpha"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "AlreadyExist.Domain");

    let (status, created) = app
        .admin(
            "/v2/domain/create",
            json!({"domain_name": "Generated", "admin_user_id": "boss"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["domain_id"].as_str().unwrap();
    let password = created["admin_password"].as_str().unwrap();
    let (status, token) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "boss"),
            ("password", password),
            ("domain_id", id),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["role"], "superadmin");
    assert_eq!(token["domain_id"], id);

    let (status, list) = app.admin("/v2/domain/list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"alpha") && ids.contains(&id), "{ids:?}");
    let (_, found) = app
        .admin("/v2/domain/search", json!({"domain_name": "Gen"}))
        .await;
    assert_eq!(found["items"][0]["domain_id"], id);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn subdomains_are_managed_from_their_parent_and_their_admins_stay_inside() {
    let app = spawn_app().await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    let sub = domain(&app, &alpha, "alpha-sub", Some("alpha")).await;
    let (_, me) = app.call("/v2/user/get", &sub, json!({})).await;
    assert_eq!(me["role"], "subdomain_super_admin");
    assert_eq!(me["domain_id"], "alpha-sub");

    // The parent's admin creates and lists users of the subdomain.
    let (status, body) = app
        .call(
            "/v2/user/create",
            &alpha,
            json!({"user_id": "sub-user", "subdomain_id": "alpha-sub"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["domain_id"], "alpha-sub");
    assert_eq!(
        user_ids(&app, &alpha, json!({"subdomain_id": "alpha-sub"})).await,
        ["admin", "sub-user"]
    );
    assert_eq!(user_ids(&app, &alpha, json!({})).await, ["admin"]);
    let (status, drive) = app
        .call(
            "/v2/drive/create",
            &alpha,
            json!({"drive_name": "d", "owner": "sub-user", "owner_type": "user",
                   "subdomain_id": "alpha-sub"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{drive}");
    let (_, sub_drives) = app.call("/v2/drive/list", &sub, json!({})).await;
    assert_eq!(sub_drives["items"][0]["drive_id"], drive["drive_id"]);
    let (status, got) = app
        .call("/v2/domain/get", &alpha, json!({"domain_id": "alpha-sub"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["parent_domain_id"], "alpha");

    // The subdomain's own admin manages it, and nothing above or beside it.
    assert_eq!(user_ids(&app, &sub, json!({})).await, ["admin", "sub-user"]);
    app.by(&sub).user(NewUser::new("made-inside")).await;
    let answer = app
        .call("/v2/user/list", &sub, json!({"subdomain_id": "alpha"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app
        .call("/v2/domain/get", &sub, json!({"domain_id": "alpha"}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Domain");
    let answer = app
        .call(
            "/v2/domain/create",
            &sub,
            json!({"domain_name": "nested", "parent_domain_id": "alpha-sub"}),
        )
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    // Roles fit their domain: admin roles of a top-level domain are not given in a subdomain.
    let answer = app
        .call(
            "/v2/user/create",
            &sub,
            json!({"user_id": "x", "role": "superadmin"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    app.by(&sub)
        .user(NewUser::new("helper").role(Role::SubdomainAdmin))
        .await;
    let answer = app
        .call(
            "/v2/user/create",
            &alpha,
            json!({"user_id": "x", "role": "subdomain_admin"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
}

#[tokio::test]
async fn a_subdomain_counts_toward_its_parents_quotas() {
    let app = spawn_app().await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    domain(&app, &alpha, "alpha-sub", Some("alpha")).await;
    // alpha holds its admin, the subdomain its admin: 2 of 3.
    let quotas = Quotas {
        size: Some(100),
        users: Some(3),
    };
    app.by(&alpha).set_quotas(Some("alpha"), quotas).await;
    let in_sub = |id: &str| json!({"user_id": id, "subdomain_id": "alpha-sub"});
    app.by(&alpha)
        .user(NewUser::new("third").subdomain("alpha-sub"))
        .await;
    let answer = app.call("/v2/user/create", &alpha, in_sub("fourth")).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    let answer = app
        .call("/v2/user/create", &alpha, json!({"user_id": "fourth"}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");

    let drive = |size: i64| {
        json!({"drive_name": "d", "owner": "third", "owner_type": "user", "total_size": size,
               "subdomain_id": "alpha-sub"})
    };
    app.by(&alpha)
        .drive(
            NewDrive::of_user("third", "d")
                .size(60)
                .subdomain("alpha-sub"),
        )
        .await;
    let answer = app.call("/v2/drive/create", &alpha, drive(60)).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "QuotaExhausted");
    let (_, drives) = app
        .call(
            "/v2/drive/list",
            &alpha,
            json!({"subdomain_id": "alpha-sub"}),
        )
        .await;
    assert_eq!(
        drives["items"].as_array().unwrap().len(),
        1,
        "nothing half-made"
    );
}

#[tokio::test]
async fn deleting_a_domain_needs_force_and_no_subdomains_and_takes_everything() {
    let app = spawn_app().await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    domain(&app, &alpha, "alpha-sub", Some("alpha")).await;
    app.by(&alpha)
        .user(NewUser::new("gone").password(PASSWORD))
        .await;
    let answer = app
        .admin("/v2/domain/delete", json!({"domain_id": "alpha"}))
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    let answer = app
        .admin(
            "/v2/domain/delete",
            json!({"domain_id": "alpha", "force": true}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "StateConflict");
    // The operator's own domain is not deletable from here.
    let answer = app
        .admin(
            "/v2/domain/delete",
            json!({"domain_id": "default", "force": true}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Domain");

    let (status, _) = app
        .call(
            "/v2/domain/delete",
            &alpha,
            json!({"domain_id": "alpha-sub", "force": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .admin(
            "/v2/domain/delete",
            json!({"domain_id": "alpha", "force": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Its users and tokens are gone with it.
    let answer = app.call("/v2/user/get", &alpha, json!({})).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    let answer = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", PASSWORD),
            ("domain_id", "alpha"),
        ])
        .await;
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED);
    let answer = app
        .admin("/v2/domain/get", json!({"domain_id": "alpha"}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Domain");
}

#[tokio::test]
async fn a_subdomain_admin_cannot_change_its_subdomain_superadmin() {
    let app = spawn_app().await;
    let alpha = domain(&app, &app.admin_token, "alpha", None).await;
    let sub = domain(&app, &alpha, "alpha-sub", Some("alpha")).await;
    let in_sub = app.by(&sub);
    let helper = in_sub.imported_user("helper", PASSWORD).await;
    in_sub.set_role(&helper, Role::SubdomainAdmin).await;
    let helper = app.login_in("alpha-sub", "helper", PASSWORD).await;
    for (path, body) in [
        (
            "/v2/user/update",
            json!({"user_id": "admin", "nick_name": "x"}),
        ),
        (
            "/v2/user/update",
            json!({"user_id": "admin", "plain_password": "taken-over-1"}),
        ),
        ("/v2/user/delete", json!({"user_id": "admin"})),
    ] {
        let answer = app.call(path, &helper, body.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    }
    // The subdomain's superadmin is untouched and still logs in.
    app.login_in("alpha-sub", "admin", PASSWORD).await;
    let (_, me) = app.call("/v2/user/get", &sub, json!({})).await;
    assert_eq!(me["nick_name"], "admin");
}
