//! `/v2/batch`: calls answered in order and each on its own, creations written together,
//! the batch's own limits, and who may send one.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, read, spawn_app, TestApp};

fn import_call(id: &str, user_id: &str, identity: &str) -> Value {
    json!({"id": id, "method": "POST", "url": "/user/import",
           "body": {"user_id": user_id, "authentication_type": "email",
                    "identity": identity, "nick_name": user_id}})
}

async fn batch(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.call("/v2/batch", token, body).await
}

/// `(id, status, code)` of each answer.
fn outcomes(answer: &Value) -> Vec<(String, u64, String)> {
    answer["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["status"].as_u64().unwrap(),
                r["body"]["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_call_is_answered_in_order_and_a_failure_stops_no_other() {
    let app = spawn_app().await;
    let token = app.admin_token.clone();
    let (_, group) = app
        .admin("/v2/group/create", json!({"group_name": "Sales"}))
        .await;
    let group_id = group["group_id"].as_str().unwrap();
    let body = json!({"resource": "user", "requests": [
        import_call("a", "ann", "ann@example.com"),
        import_call("b", "ann", "other@example.com"),
        import_call("c", "bob", "ann@example.com"),
        {"id": "d", "method": "POST", "url": "/user/create",
         "body": {"user_id": "cat", "group_info_list": [{"group_id": group_id}]}},
        {"id": "e", "method": "POST", "url": "/user/create", "body": {"nick_name": "no id"}},
        {"id": "f", "method": "POST", "url": "/user/update",
         "body": {"user_id": "ann", "nick_name": "Ann Lee"}},
        {"id": "g", "method": "GET", "url": "/user/get", "body": {}},
        {"id": "h", "method": "POST", "url": "/group/add_member", "body": {}},
        {"id": "i", "method": "POST", "url": "/user/create",
         "body": {"user_id": "dan", "group_info_list": [{"group_id": "nope"}]}},
        {"id": "j", "method": "POST", "url": "/user/delete", "body": {"user_id": "cat"}},
        {"id": "k", "method": "POST", "url": "/user/import",
         "body": {"authentication_type": "email", "identity": "x@example.com",
                  "nick_name": "X", "drive_total_size": "big"}},
    ]});
    let (status, answer) = batch(&app, &token, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let expected = [
        ("a", 200, ""),
        ("b", 409, "AlreadyExist.User"),
        ("c", 409, "AlreadyExist.Account"),
        ("d", 201, ""),
        ("e", 400, "InvalidParameterMissing"),
        ("f", 200, ""),
        ("g", 404, "NotFound"),
        ("h", 404, "NotFound"),
        ("i", 404, "NotFound.Group"),
        ("j", 204, ""),
        ("k", 400, "InvalidParameter"),
    ];
    let got = outcomes(&answer);
    let got: Vec<(&str, u64, &str)> = got
        .iter()
        .map(|(id, s, c)| (id.as_str(), *s, c.as_str()))
        .collect();
    assert_eq!(got, expected, "{answer}");
    let responses = &answer["responses"];
    assert_eq!(responses[0]["body"]["user_id"], "ann");
    assert_eq!(responses[5]["body"]["nick_name"], "Ann Lee");
    assert!(responses[9].get("body").is_none(), "204 has no body");

    // What was written is there; what failed left nothing behind.
    let (status, ann) = app
        .admin(
            "/v2/user/general_get",
            json!({"user_id": "ann", "extra_return_info": ["account"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ann}");
    assert_eq!(ann["account"][0]["identity"], "ann@example.com");
    for absent in ["bob", "cat", "dan"] {
        let answer = app.admin("/v2/user/get", json!({"user_id": absent})).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");
    }
    let answer = app
        .admin(
            "/v2/account/get_link_info",
            json!({"type": "email", "identity": "other@example.com"}),
        )
        .await;
    assert_eq!(answer.0, StatusCode::NOT_FOUND, "{}", answer.1);
}

#[tokio::test]
async fn an_imported_drive_counts_against_the_domain_quota_item_by_item() {
    let app = spawn_app().await;
    let (status, body) = app
        .admin(
            "/v2/domain/update",
            json!({"domain_id": "default", "size_quota": 3000}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let call = |id: &str, size: i64| {
        json!({"id": id, "method": "POST", "url": "/user/import",
               "body": {"authentication_type": "email", "identity": format!("{id}@example.com"),
                        "nick_name": id, "auto_create_drive": true, "drive_total_size": size}})
    };
    let body = json!({"resource": "user",
                      "requests": [call("a", 1000), call("b", 1500), call("c", 1000)]});
    let (status, answer) = batch(&app, &app.admin_token, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let codes: Vec<(u64, String)> = outcomes(&answer)
        .into_iter()
        .map(|(_, s, c)| (s, c))
        .collect();
    assert_eq!(
        codes,
        [
            (200, String::new()),
            (200, String::new()),
            (403, "QuotaExhausted".to_owned())
        ],
        "{answer}"
    );
}

#[tokio::test]
async fn the_batch_itself_is_checked() {
    let app = spawn_app().await;
    let token = app.admin_token.clone();
    let one = || import_call("1", "ann", "ann@example.com");
    let cases = [
        (json!({"requests": [one()]}), "InvalidParameterMissing"),
        (
            json!({"resource": "file", "requests": [one()]}),
            "InvalidParameter",
        ),
        (json!({"resource": "user"}), "InvalidParameterMissing"),
        (
            json!({"resource": "user", "requests": []}),
            "InvalidParameter",
        ),
        (
            json!({"resource": "user", "requests": "all"}),
            "InvalidParameter",
        ),
        (
            json!({"resource": "user", "requests": [{"id": "1"}]}),
            "InvalidParameterMissing",
        ),
        (
            json!({"resource": 7, "requests": [one()]}),
            "InvalidParameter",
        ),
    ];
    for (body, code) in cases {
        let answer = batch(&app, &token, body.clone()).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{body}: {}", answer.1);
        assert!(
            answer.1["code"].as_str().unwrap().starts_with(code),
            "{body}: {}",
            answer.1
        );
    }
    let too_many: Vec<Value> = (0..101)
        .map(|i| {
            import_call(
                &i.to_string(),
                &format!("u{i}"),
                &format!("u{i}@example.com"),
            )
        })
        .collect();
    let answer = batch(
        &app,
        &token,
        json!({"resource": "user", "requests": too_many}),
    )
    .await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    // A call outside the batch's resource is not found, as alone under another path.
    let body = json!({"resource": "group", "requests": [one()]});
    let (status, answer) = batch(&app, &token, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcomes(&answer)[0].1, 404, "{answer}");
    let answer = batch(
        &app,
        &token,
        json!({"resource": "user", "requests": [one()]}),
    )
    .await;
    assert_eq!(outcomes(&answer.1)[0].1, 200);
}

#[tokio::test]
async fn only_admins_create_and_each_in_its_own_domain() {
    let app = spawn_app().await;
    let body = json!({"resource": "user",
                      "requests": [import_call("1", "eve", "eve@example.com")]});
    let anonymous = read(app.post("/v2/batch", None, &body).await).await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");

    let (_, plain) = app.user_with_role("plain", "user").await;
    let (status, answer) = batch(&app, &plain, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(outcomes(&answer)[0].1, 403, "{answer}");
    assert_eq!(outcomes(&answer)[0].2, "ForbiddenNoPermission", "{answer}");
    // A plain user may still change itself in a batch, as alone.
    let me = app.call("/v2/user/get", &plain, json!({})).await.1;
    let own = json!({"resource": "user", "requests": [{"id": "me", "method": "POST",
        "url": "/user/update", "body": {"user_id": me["user_id"], "nick_name": "Me"}}]});
    let (_, answer) = batch(&app, &plain, own).await;
    assert_eq!(outcomes(&answer)[0].1, 200, "{answer}");

    // An admin of another domain creates in that domain only.
    let (status, created) = app
        .admin(
            "/v2/domain/create",
            json!({"domain_id": "other", "domain_name": "Other",
                   "admin_password": "other-password-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, login) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "other-password-1"),
            ("domain_id", "other"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let other = login["access_token"].as_str().unwrap();
    let (_, answer) = batch(&app, other, body).await;
    assert_eq!(outcomes(&answer)[0].1, 200, "{answer}");
    let answer = app.admin("/v2/user/get", json!({"user_id": "eve"})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.User");
    let (status, _) = app
        .call("/v2/user/get", other, json!({"user_id": "eve"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // And cannot touch this domain's users through a batch.
    let cross = json!({"resource": "user", "requests": [{"id": "x", "method": "POST",
        "url": "/user/delete", "body": {"user_id": me["user_id"]}}]});
    let (_, answer) = batch(&app, other, cross).await;
    assert_eq!(outcomes(&answer)[0].1, 404, "{answer}");
}

#[tokio::test]
async fn a_batch_without_failures_writes_everything_each_call_asked_for() {
    let app = spawn_app().await;
    let (_, group) = app
        .admin("/v2/group/create", json!({"group_name": "Ops"}))
        .await;
    let group_id = group["group_id"].as_str().unwrap();
    let requests: Vec<Value> = (0..3)
        .map(|i| {
            json!({"id": i.to_string(), "method": "POST", "url": "/user/import",
                   "body": {"user_id": format!("u{i}"), "authentication_type": "custom",
                            "identity": format!("login{i}"), "nick_name": format!("U {i}"),
                            "parent_group_id": group_id, "plain_password": "batch-password-1",
                            "auto_create_drive": true, "drive_total_size": 1000 + i}})
        })
        .collect();
    let (status, answer) = batch(
        &app,
        &app.admin_token,
        json!({"resource": "user", "requests": requests}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        outcomes(&answer).iter().all(|(_, s, _)| *s == 200),
        "{answer}"
    );
    for i in 0..3 {
        let (status, user) = app
            .admin(
                "/v2/user/general_get",
                json!({"user_id": format!("u{i}"),
                       "extra_return_info": ["account", "drive", "group"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_eq!(user["account"][0]["identity"], format!("login{i}"));
        assert_eq!(user["default_drive"]["total_size"], 1000 + i);
        assert_eq!(user["parent_group"][0]["group_id"], group_id);
        app.login(&format!("login{i}"), "batch-password-1").await;
    }
}
