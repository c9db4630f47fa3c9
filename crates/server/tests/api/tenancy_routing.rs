//! Issue 17, tenancy and id reuse: only the operator's base domain makes `Host` route; no
//! `Host` overrides the domain a credential names, and an unknown label answers as a foreign
//! one; tenants cannot take each other's ids or the deployment's names; a domain's or a
//! user's id that comes back inherits nothing; password resets do not outlive the role and
//! address they were issued for; the audit log's client address and signature nonces cannot
//! be chosen across trust boundaries.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::eds;
use crate::helpers::{
    assert_error, read, spawn_app, spawn_with, spawn_with_base_domain, Member, NewUser, Role,
    TestApp, TestStore, UserChange, ADMIN_PASSWORD, USER_PASSWORD,
};
use crate::signed::{http_date, signed_get};

const BASE: &str = "roster.test";
const PASSWORD: &str = "tenant-password-1";

/// `Host: <label>.roster.test:<port>` (or the bare base domain for `""`).
fn host(app: &TestApp, label: &str) -> String {
    let port = app.address.rsplit(':').next().unwrap();
    if label.is_empty() {
        format!("{BASE}:{port}")
    } else {
        format!("{label}.{BASE}:{port}")
    }
}

/// `POST /v2/user/get {}` with `token`, sent with `Host: <label>.roster.test`.
async fn get_self_at(app: &TestApp, label: &str, token: &str) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/v2/user/get"))
        .header("host", host(app, label))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    read(response).await
}

/// `POST path` with a form (`/v2/oauth/token`) or JSON, sent with `Host: <label>.roster.test`.
async fn form_at(
    app: &TestApp,
    label: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .header("host", host(app, label))
        .form(form)
        .send()
        .await
        .unwrap();
    read(response).await
}

async fn json_at(app: &TestApp, label: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .header("host", host(app, label))
        .json(&body)
        .send()
        .await
        .unwrap();
    read(response).await
}

/// Creates domain `id` (under `parent`) as `token`'s holder; answers status and body.
async fn create_domain(
    app: &TestApp,
    token: &str,
    id: &str,
    parent: Option<&str>,
) -> (StatusCode, Value) {
    let mut body = json!({"domain_id": id, "domain_name": format!("Domain {id}"),
                          "admin_password": PASSWORD});
    if let Some(parent) = parent {
        body["parent_domain_id"] = json!(parent);
    }
    app.call("/v2/domain/create", token, body).await
}

/// The password grant of `user` in `domain` (named by the `domain_id` field).
async fn login_in(app: &TestApp, domain: &str, user: &str) -> Value {
    let (status, body) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", PASSWORD),
            ("domain_id", domain),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{domain}/{user}: {body}");
    body
}

/// Creates top-level domain `id` as the operator; answers its superadmin's token grant.
async fn tenant(app: &TestApp, id: &str) -> Value {
    let (status, body) = create_domain(app, &app.admin_token, id, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    login_in(app, id, "admin").await
}

fn access(grant: &Value) -> String {
    grant["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn only_a_label_under_the_operators_base_domain_routes_and_tenants_cannot_squat() {
    let app = spawn_with_base_domain(BASE).await;
    let alpha = access(&tenant(&app, "alpha").await);

    // A tenant cannot take the deployment's own names, nor an id outside its own.
    for squat in ["roster", "www", "api", "beta"] {
        let answer = create_domain(&app, &alpha, squat, Some("alpha")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    }
    for (label, status) in [("alpha-roster", StatusCode::CREATED)] {
        let (got, body) = create_domain(&app, &alpha, label, Some("alpha")).await;
        assert_eq!(got, status, "{body}");
    }
    // A generated subdomain id is inside the parent's too.
    let (status, generated) = app
        .call(
            "/v2/domain/create",
            &alpha,
            json!({"domain_name": "anonymous", "parent_domain_id": "alpha"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{generated}");
    assert!(
        generated["domain_id"]
            .as_str()
            .unwrap()
            .starts_with("alpha-"),
        "{generated}"
    );
    // Not even the operator gives a tenant a reserved name.
    for reserved in ["roster", "test", "www"] {
        let answer = create_domain(&app, &app.admin_token, reserved, None).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    }

    // The bare public name selects no domain: every tenant's token works through it...
    assert_eq!(get_self_at(&app, "", &alpha).await.0, StatusCode::OK);
    assert_eq!(
        get_self_at(&app, "", &app.admin_token).await.0,
        StatusCode::OK
    );
    // ... and its logins go where their `domain_id` says.
    let (status, body) = form_at(
        &app,
        "",
        "/v2/oauth/token",
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["domain_id"], "default");
    // A label under the base domain names its domain.
    assert_eq!(get_self_at(&app, "alpha", &alpha).await.0, StatusCode::OK);
    assert_eq!(
        get_self_at(&app, "default", &app.admin_token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_a_base_domain_host_selects_no_domain() {
    let app = spawn_app().await;
    let alpha = access(&tenant(&app, "alpha").await);
    // `alpha.roster.test` would name alpha if Host routed: the operator's token still works.
    assert_eq!(
        get_self_at(&app, "alpha", &app.admin_token).await.0,
        StatusCode::OK
    );
    assert_eq!(get_self_at(&app, "default", &alpha).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_host_label_answers_exactly_as_a_foreign_one() {
    let app = spawn_with_base_domain(BASE).await;
    tenant(&app, "alpha").await;
    let foreign = get_self_at(&app, "alpha", &app.admin_token).await;
    let unknown = get_self_at(&app, "nosuch", &app.admin_token).await;
    assert_error(&foreign, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    assert_eq!(foreign.1["message"], unknown.1["message"]);

    // The operator's credentials log in to neither.
    let form = [
        ("grant_type", "password"),
        ("username", "admin"),
        ("password", ADMIN_PASSWORD),
    ];
    for label in ["alpha", "nosuch"] {
        let answer = form_at(&app, label, "/v2/oauth/token", &form).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");
    }
}

#[tokio::test]
async fn a_host_domain_never_overrides_the_domain_a_credential_names() {
    let app = spawn_with_base_domain(BASE).await;
    let alpha = tenant(&app, "alpha").await;
    tenant(&app, "beta").await;

    // The login names alpha; beta's Host does not move it to beta's same-named admin.
    let login = [
        ("grant_type", "password"),
        ("username", "admin"),
        ("password", PASSWORD),
        ("domain_id", "alpha"),
    ];
    let answer = form_at(&app, "beta", "/v2/oauth/token", &login).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "InvalidCredentials");
    let (status, body) = form_at(&app, "alpha", "/v2/oauth/token", &login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["domain_id"], "alpha");

    // A refresh token of alpha is refused in beta, and not used up there.
    let refresh = alpha["refresh_token"].as_str().unwrap();
    let grant = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let answer = form_at(&app, "beta", "/v2/oauth/token", &grant).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "RefreshTokenInvalid");
    let answer = json_at(
        &app,
        "beta",
        "/v2/account/token",
        json!({"grant_type": "refresh_token", "refresh_token": refresh}),
    )
    .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "RefreshTokenInvalid");
    let (status, _) = json_at(
        &app,
        "beta",
        "/v2/account/revoke",
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, renewed) = form_at(&app, "alpha", "/v2/oauth/token", &grant).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_eq!(renewed["domain_id"], "alpha");

    // Alpha's access token is refused through beta's name too.
    let answer = get_self_at(&app, "beta", &access(&renewed)).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
}

#[tokio::test]
async fn a_deleted_domains_history_does_not_pass_to_the_next_owner_of_its_id() {
    let app = spawn_app().await;
    // Attempts against an id nobody holds yet are not its future owner's history either.
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "planted-by-a-stranger"),
            ("password", "whatever-it-is-1"),
            ("domain_id", "gone"),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let first = access(&tenant(&app, "gone").await);
    app.by(&first).user(NewUser::new("first-owners-user")).await;
    assert!(!audit_targets(&app, &first).await.is_empty());
    app.by_admin().delete_domain("gone").await;

    let second = access(&tenant(&app, "gone").await);
    let seen = audit_targets(&app, &second).await;
    for earlier in ["first-owners-user", "planted-by-a-stranger"] {
        assert!(!seen.iter().any(|t| t == earlier), "{earlier} in {seen:?}");
    }
}

/// The target ids of the audit records `token`'s holder reads in its domain.
async fn audit_targets(app: &TestApp, token: &str) -> Vec<String> {
    let (status, page) = app
        .call("/v2/audit_log/list", token, json!({"limit": 100}))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["object_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn group_admin_assignments_go_with_their_user_or_group() {
    let app = spawn_app().await;
    let admin = app.by_admin();
    let group_id = admin.group("Finance", None).await;
    admin.user(NewUser::new("gina")).await;
    admin
        .make_group_admin(&group_id, Member::User("gina"))
        .await;
    admin.delete_user("gina").await;
    // A new user of the same id administers nothing.
    app.by_admin()
        .user(NewUser::new("gina").password(USER_PASSWORD))
        .await;
    let (status, list) = app
        .admin(
            "/v2/role/list_assignment",
            json!({"manage_resource_type": "RT_Group", "manage_resource_id": group_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["assignment_list"], json!([]), "{list}");

    // What a group administers as an identity goes with the group.
    let auditors = admin.group("Auditors", None).await;
    admin
        .make_group_admin(&group_id, Member::Group(&auditors))
        .await;
    admin.delete_group(&auditors, false).await;
    let (_, list) = app
        .admin(
            "/v2/role/list_assignment",
            json!({"manage_resource_type": "RT_Group", "manage_resource_id": group_id}),
        )
        .await;
    assert_eq!(list["assignment_list"], json!([]), "{list}");
}

/// Resets `user_id`'s password as the operator (eds-user ResetUserPassword); answers the
/// newest outbox message as `token`'s holder reads it.
async fn reset_and_read_outbox(app: &TestApp, user_id: &str, token: &str) -> Value {
    let reset = eds::ok(app, "ResetUserPassword", &[("Users.1", user_id)]).await;
    assert_eq!(reset["ResetUsersResult"]["ResetUsers"], json!([user_id]));
    let (status, outbox) = app.call("/v2/outbox/list", token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    outbox["items"][0].clone()
}

fn reset_token_in(message: &Value) -> String {
    message["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.len() == 48 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a token in the mail")
        .to_owned()
}

async fn reset_with(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let body = json!({"token": token, "new_password": "taken-over-password-1"});
    read(app.post("/v2/account/reset_password", None, &body).await).await
}

/// Sets `user_id`'s mail address as the operator.
async fn set_email(app: &TestApp, user_id: &str, email: &str) {
    app.by_admin()
        .update_user(user_id, UserChange::new().email(email))
        .await;
}

#[tokio::test]
async fn a_reset_mailed_to_a_superadmin_stays_hidden_after_its_address_changes() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role("adele", "admin").await;
    let (sue, _) = app.user_with_role("sue", "superadmin").await;
    set_email(&app, &sue, "sue@example.com").await;
    let as_superadmin = reset_and_read_outbox(&app, &sue, &app.admin_token).await;
    let token = reset_token_in(&as_superadmin);

    // The address changes: the mail stays hidden from admins, and the token is void.
    set_email(&app, &sue, "sue@elsewhere.example").await;
    let (_, outbox) = app.call("/v2/outbox/list", &admin, json!({})).await;
    let mail = &outbox["items"][0];
    assert_eq!(mail["recipient"], "sue@example.com");
    assert!(
        !mail["body"].as_str().unwrap().contains(&token),
        "an admin reads a superadmin's reset: {mail}"
    );
    let answer = reset_with(&app, &token).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.ResetToken");
}

#[tokio::test]
async fn a_reset_issued_before_a_promotion_does_not_take_the_promoted_account() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role("adele", "admin").await;
    let (ivy, _) = app.user_with_role("ivy", "user").await;
    set_email(&app, &ivy, "ivy@example.com").await;
    // Mail to a plain user: an admin may read it (and pass the token on).
    let message = reset_and_read_outbox(&app, &ivy, &admin).await;
    let token = reset_token_in(&message);

    app.by_admin().set_role(&ivy, Role::Superadmin).await;
    let answer = reset_with(&app, &token).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.ResetToken");
    app.login("ivy", USER_PASSWORD).await;

    // A reset issued for the role the user has now works.
    let message = reset_and_read_outbox(&app, &ivy, &app.admin_token).await;
    let (status, body) = reset_with(&app, &reset_token_in(&message)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn the_client_address_is_counted_from_the_right_of_x_forwarded_for() {
    for (hops, expected) in [(1, "10.0.0.1"), (2, "203.0.113.9")] {
        let store = TestStore::fresh().await;
        let mut config = store.config();
        config.trust_forwarded_for = true;
        config.trusted_proxy_hops = hops;
        let app = spawn_with(store, config, ADMIN_PASSWORD).await;
        // The client wrote the leftmost entry; the proxies appended the others.
        let response = app
            .http
            .post(app.url("/v2/group/create"))
            .bearer_auth(&app.admin_token)
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.1")
            .json(&json!({"group_name": "Proxied"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let (status, page) = app
            .admin(
                "/v2/audit_log/list",
                json!({"query": "action_type = 'group.create'"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["items"][0]["client_ip"], expected, "hops {hops}");
    }
}

#[tokio::test]
async fn signature_nonces_are_kept_per_access_key() {
    let app = spawn_app().await;
    let alpha = access(&tenant(&app, "alpha").await);
    let mut keys = Vec::new();
    for token in [&app.admin_token, &alpha] {
        keys.push(app.by(token).access_key(None).await);
    }
    let now = http_date(time::OffsetDateTime::now_utc());
    // One tenant's signed call does not use up the nonce another tenant's key sends.
    for key in &keys {
        let (status, body) = signed_get(&app, key, &key.secret, &now, "shared-nonce-1").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Within one key, a nonce still works once.
    let replay = signed_get(&app, &keys[0], &keys[0].secret, &now, "shared-nonce-1").await;
    assert_error(&replay, StatusCode::UNAUTHORIZED, "SignatureNonceUsed");
}
