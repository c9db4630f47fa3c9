//! The eds-user dialect over the wire: the RPC front (actions, versions, errors), its three
//! ways to authenticate (ACS3-HMAC-SHA256, legacy RPC HMAC-SHA1, bearer token) with replay
//! and clock rules, permissions, and the user actions. Organizations, user groups,
//! properties and resource groups are in `eds_directory`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::helpers::{read, spawn_app, AccessKey as Key, TestApp, USER_PASSWORD};

pub const VERSION: &str = "2021-03-08";
pub const ROOT: &str = "org-aliyun-wy-org-id";
pub const STRONG: &str = "Str0ng!Passw0rd";

/// An access key pair of the admin.
pub async fn admin_key(app: &TestApp) -> Key {
    app.by_admin().access_key(None).await
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `action` with `form` parameters (in the body), as the holder of `token`.
pub async fn call(
    app: &TestApp,
    token: &str,
    action: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/?SignatureType=BEARERTOKEN"))
        .header("x-acs-action", action)
        .header("x-acs-version", VERSION)
        .header("x-acs-bearer-token", token)
        .form(&pairs(form))
        .send()
        .await
        .expect("request sent");
    read(response).await
}

/// `action` as the admin (bearer).
pub async fn admin(app: &TestApp, action: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    call(app, &app.admin_token, action, form).await
}

/// As [`admin`], asserting a 200 with a `RequestId`.
pub async fn ok(app: &TestApp, action: &str, form: &[(&str, &str)]) -> Value {
    let (status, body) = admin(app, action, form).await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    assert!(
        body["RequestId"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    body
}

/// Asserts an eds-user error: status, exact `Code`, and the rest of the error body.
pub fn assert_eds_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["Code"], code, "{body}");
    for field in ["Message", "RequestId", "HostId"] {
        assert!(
            body[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {body}"
        );
    }
}

/// Creates directory users (each with an email) through CreateUsers; asserts all succeed.
pub async fn create_users(app: &TestApp, ids: &[&str]) {
    let mut form = vec![("Password".to_owned(), STRONG.to_owned())];
    for (i, id) in ids.iter().enumerate() {
        form.push((format!("Users.{}.EndUserId", i + 1), (*id).to_owned()));
        form.push((
            format!("Users.{}.Email", i + 1),
            format!("{id}@example.com"),
        ));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body = ok(app, "CreateUsers", &form).await;
    assert_eq!(body["AllSucceed"], true, "{body}");
}

fn now_iso(offset_secs: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs))
        .replace_nanosecond(0)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An ACS3-HMAC-SHA256 call as the SDK signs it, with this date and nonce.
async fn acs3(
    app: &TestApp,
    key: &Key,
    secret: &str,
    action: &str,
    query: &[(&str, &str)],
    date: &str,
    nonce: &str,
) -> (StatusCode, Value) {
    let host = app.address.trim_start_matches("http://").to_owned();
    let body = "";
    let body_hash = hex::encode(Sha256::digest(body.as_bytes()));
    let mut sorted = pairs(query);
    sorted.sort();
    let canonical_query: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{k}={}", pct(v)))
        .collect();
    let headers = [
        ("host", host.as_str()),
        ("x-acs-action", action),
        ("x-acs-content-sha256", body_hash.as_str()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-version", VERSION),
    ];
    let signed: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!(
        "POST\n/\n{}\n{canonical_headers}\n{}\n{body_hash}",
        canonical_query.join("&"),
        signed.join(";")
    );
    let to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let mut request = app
        .http
        .post(app.url(&format!("/?{}", query_string(&sorted))));
    for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
        request = request.header(*k, *v);
    }
    let response = request
        .header(
            "authorization",
            format!(
                "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={signature}",
                key.id,
                signed.join(";")
            ),
        )
        .send()
        .await
        .expect("request sent");
    read(response).await
}

/// A legacy RPC call signed with HMAC-SHA1 over every parameter.
async fn rpc(
    app: &TestApp,
    key: &Key,
    secret: &str,
    action: &str,
    params: &[(&str, &str)],
    timestamp: &str,
    nonce: &str,
) -> (StatusCode, Value) {
    let mut all = pairs(params);
    all.extend(pairs(&[
        ("Action", action),
        ("Version", VERSION),
        ("Format", "JSON"),
        ("AccessKeyId", &key.id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp),
    ]));
    let mut encoded: Vec<(String, String)> = all.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    encoded.sort();
    let query: Vec<String> = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!("POST&%2F&{}", pct(&query.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    all.push((
        "Signature".into(),
        STANDARD.encode(mac.finalize().into_bytes()),
    ));
    let response = app
        .http
        .post(app.url(&format!("/?{}", query_string(&all))))
        .send()
        .await
        .expect("request sent");
    read(response).await
}

fn nonce() -> String {
    roster_server::service::random_hex(16)
}

#[tokio::test]
async fn the_rpc_front_names_what_is_wrong() {
    let app = spawn_app().await;
    let no_action = read(
        app.http
            .post(app.url("/"))
            .header("x-acs-version", VERSION)
            .header("x-acs-bearer-token", &app.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eds_error(&no_action, StatusCode::BAD_REQUEST, "MissingParameter");
    let unknown = admin(&app, "DescribeEverything", &[]).await;
    assert_eds_error(&unknown, StatusCode::NOT_FOUND, "InvalidAction.NotFound");
    let wrong_version = read(
        app.http
            .post(app.url("/?Action=DescribeOrgs&Version=2020-01-01"))
            .header("x-acs-bearer-token", &app.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eds_error(&wrong_version, StatusCode::BAD_REQUEST, "InvalidVersion");
    let anonymous = read(
        app.http
            .post(app.url("/?Action=DescribeOrgs&Version=2021-03-08"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eds_error(&anonymous, StatusCode::BAD_REQUEST, "MissingParameter");
    let bad_token = call(&app, "not-a-token", "DescribeOrgs", &[]).await;
    assert_eds_error(&bad_token, StatusCode::UNAUTHORIZED, "InvalidBearerToken");
    // The PDS routes are untouched: `/v2/...` still answers in PDS form.
    let (status, body) = app.admin("/v2/user/get", json!({})).await;
    assert_eq!(
        (status, body["user_id"].as_str()),
        (StatusCode::OK, Some("admin"))
    );
}

#[tokio::test]
async fn bad_parameters_get_documented_codes() {
    let app = spawn_app().await;
    for (action, form) in [
        ("DescribeUsers", vec![("MaxResults", "0")]),
        ("DescribeUsers", vec![("MaxResults", "many")]),
        (
            "DescribeUsers",
            vec![("IsQueryAllSubOrgs", "maybe"), ("OrgId", ROOT)],
        ),
        ("DescribeUsers", vec![("ShowExtras", "{not json")]),
        ("DescribeUsers", vec![("NextToken", "garbage")]),
        ("LockUsers", vec![("Users.x", "a")]),
        (
            "FilterUsers",
            vec![("OrderParam", r#"{"OrderType":"SIDEWAYS"}"#)],
        ),
        ("DescribeGroups", vec![("PageSize", "101")]),
        (
            "CreateUsers",
            vec![("Users.1.EndUserId", "abc"), ("PasswordExpireDays", "10")],
        ),
        // PostgreSQL cannot store a NUL: refused before it gets there.
        (
            "CreateOrg",
            vec![("OrgName", "a\0b"), ("ParentOrgId", ROOT)],
        ),
        ("DescribeUsers", vec![("Filter", "\0")]),
    ] {
        let answer = admin(&app, action, &form).await;
        assert_eds_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
    }
    for (action, form) in [
        ("CreateUsers", vec![]),
        ("LockUsers", vec![]),
        ("ModifyUser", vec![("Email", "a@example.com")]),
        ("CreateOrg", vec![("OrgName", "x")]),
        ("GetManagerInfoByAuthCode", vec![]),
        ("SetUserPropertyValue", vec![("UserId", "1")]),
    ] {
        let answer = admin(&app, action, &form).await;
        assert_eds_error(&answer, StatusCode::BAD_REQUEST, "MissingParameter");
    }
    let too_many: Vec<(String, String)> = (1..=101)
        .map(|i| (format!("Users.{i}"), format!("u{i}")))
        .collect();
    let too_many: Vec<(&str, &str)> = too_many
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = admin(&app, "LockUsers", &too_many).await;
    assert_eds_error(&answer, StatusCode::BAD_REQUEST, "InvalidParameter");
}

#[tokio::test]
async fn acs3_signatures_work_once_within_fifteen_minutes() {
    let app = spawn_app().await;
    let key = admin_key(&app).await;
    let date = now_iso(0);
    let n = nonce();
    let query = [("OrgName", "R&D 部门"), ("ParentOrgId", ROOT)];
    let (status, body) = acs3(&app, &key, &key.secret, "CreateOrg", &query, &date, &n).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["OrgId"].as_str().is_some_and(|o| !o.is_empty()),
        "{body}"
    );
    let replay = acs3(&app, &key, &key.secret, "CreateOrg", &query, &date, &n).await;
    assert_eds_error(&replay, StatusCode::BAD_REQUEST, "SignatureNonceUsed");
    let stale = acs3(
        &app,
        &key,
        &key.secret,
        "DescribeOrgs",
        &[],
        &now_iso(-16 * 60),
        &nonce(),
    )
    .await;
    assert_eds_error(&stale, StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired");
    let early = acs3(
        &app,
        &key,
        &key.secret,
        "DescribeOrgs",
        &[],
        &now_iso(16 * 60),
        &nonce(),
    )
    .await;
    assert_eds_error(&early, StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired");
    let forged = acs3(
        &app,
        &key,
        "wrong-secret",
        "DescribeOrgs",
        &[],
        &now_iso(0),
        &nonce(),
    )
    .await;
    assert_eds_error(&forged, StatusCode::BAD_REQUEST, "SignatureDoesNotMatch");
    let stranger = Key {
        id: "nosuchkey".into(),
        secret: "x".into(),
    };
    let unknown = acs3(
        &app,
        &stranger,
        "x",
        "DescribeOrgs",
        &[],
        &now_iso(0),
        &nonce(),
    )
    .await;
    assert_eds_error(
        &unknown,
        StatusCode::NOT_FOUND,
        "InvalidAccessKeyId.NotFound",
    );
    // The key's user is the caller: what it made is there for the bearer admin too.
    let orgs = ok(&app, "DescribeOrgs", &[]).await;
    assert_eq!(orgs["Orgs"][0]["OrgName"], "R&D 部门", "{orgs}");
}

#[tokio::test]
async fn rpc_hmac_sha1_signatures_cover_query_and_body() {
    let app = spawn_app().await;
    let key = admin_key(&app).await;
    let ts = now_iso(0);
    let n = nonce();
    let params = [("OrgName", "Ops"), ("ParentOrgId", ROOT)];
    let (status, body) = rpc(&app, &key, &key.secret, "CreateOrg", &params, &ts, &n).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let replay = rpc(&app, &key, &key.secret, "CreateOrg", &params, &ts, &n).await;
    assert_eds_error(&replay, StatusCode::BAD_REQUEST, "SignatureNonceUsed");
    let forged = rpc(
        &app,
        &key,
        "nope",
        "DescribeOrgs",
        &[],
        &now_iso(0),
        &nonce(),
    )
    .await;
    assert_eds_error(&forged, StatusCode::BAD_REQUEST, "SignatureDoesNotMatch");
    let stale = rpc(
        &app,
        &key,
        &key.secret,
        "DescribeOrgs",
        &[],
        &now_iso(-3600),
        &nonce(),
    )
    .await;
    assert_eds_error(&stale, StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired");
}

#[tokio::test]
async fn plain_users_and_other_domains_are_refused() {
    // `acme.roster.test` names Acme under the operator's base domain.
    let app = crate::helpers::spawn_with_base_domain("roster.test").await;
    let (_, user_token) = app.user_with_role("plain", "user").await;
    for (action, form) in [
        (
            "CreateUsers",
            vec![("Users.1.EndUserId", "abc"), ("Users.1.Email", "a@b.c")],
        ),
        ("DescribeUsers", vec![]),
        ("CreateOrg", vec![("OrgName", "x"), ("ParentOrgId", ROOT)]),
        ("CreateGroup", vec![("GroupName", "x")]),
        ("LockUsers", vec![("Users.1", "admin")]),
        ("CreateProperty", vec![("PropertyKey", "k")]),
        ("DescribeResourceGroups", vec![]),
        ("InitTenantAlias", vec![]),
    ] {
        let answer = call(&app, &user_token, action, &form).await;
        assert_eds_error(&answer, StatusCode::FORBIDDEN, "Forbidden");
    }
    // An admin may do it all; its token is refused where the request names another domain.
    // Organizations and property definitions are directory structure: any user reads them.
    for action in ["DescribeOrgs", "DescribeOrgByLayer", "ListProperty"] {
        let (status, body) = call(&app, &user_token, action, &[]).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    // Per user, what may not be done to that user fails alone.
    let (superadmin_id, _) = app.user_with_role("boss", "superadmin").await;
    let (admin_id, admin_token) = app.user_with_role("second", "admin").await;
    let locked = call(
        &app,
        &admin_token,
        "LockUsers",
        &[("Users.1", &superadmin_id), ("Users.2", &admin_id)],
    )
    .await;
    assert_eq!(locked.0, StatusCode::OK, "{}", locked.1);
    let failed = &locked.1["LockUsersResult"]["FailedUsers"];
    assert_eq!(
        (
            failed[0]["ErrorCode"].as_str(),
            failed[1]["ErrorCode"].as_str()
        ),
        (Some("Forbidden"), Some("OperationDenied")),
        "{failed}"
    );

    let (status, _) = app
        .call(
            "/v2/domain/create",
            &app.admin_token,
            json!({"domain_id": "acme", "domain_name": "Acme", "admin_password": "acme-password-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let port = app.address.rsplit(':').next().unwrap();
    let elsewhere = read(
        app.http
            .post(app.url("/?Action=DescribeOrgs&Version=2021-03-08"))
            .header("host", format!("acme.roster.test:{port}"))
            .header("x-acs-bearer-token", &app.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eds_error(&elsewhere, StatusCode::UNAUTHORIZED, "InvalidBearerToken");
    // Acme's admin sees only Acme's directory.
    ok(
        &app,
        "CreateOrg",
        &[("OrgName", "Default R&D"), ("ParentOrgId", ROOT)],
    )
    .await;
    let (status, acme) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "acme-password-1"),
            ("domain_id", "acme"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{acme}");
    let acme_token = acme["access_token"].as_str().unwrap();
    let orgs = call(&app, acme_token, "DescribeOrgs", &[]).await;
    assert_eq!(orgs.1["Orgs"], json!([]), "{}", orgs.1);
    let alias = call(&app, acme_token, "InitTenantAlias", &[]).await;
    assert_eq!(alias.1["Data"], "acme");
}

#[tokio::test]
async fn create_users_reports_each_failure_inside_a_200() {
    let app = spawn_app().await;
    let body = ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "alice"),
            ("Users.1.Email", "alice@example.com"),
            ("Users.1.RealNickName", "Alice Z"),
            ("Users.1.Remark", "first"),
            ("Users.1.OwnerType", "CreateFromManager"),
            ("Users.1.Password", STRONG),
            ("Users.2.EndUserId", "Bad Name"),
            ("Users.2.Email", "b@example.com"),
            ("Users.3.EndUserId", "carl"),
            ("Users.3.Email", "c@example.com"),
            ("Users.3.Password", "weakweakweak"),
            ("Users.4.EndUserId", "dora"),
            ("Users.5.EndUserId", "eve"),
            ("Users.5.Phone", "13900001111"),
            ("Users.5.OwnerType", "Boss"),
        ],
    )
    .await;
    assert_eq!(body["AllSucceed"], false);
    assert_eq!(
        body["CreateResult"]["CreatedUsers"][0]["EndUserId"],
        "alice"
    );
    assert_eq!(
        body["CreateResult"]["CreatedUsers"][0]["RealNickName"],
        "Alice Z"
    );
    let failed: Vec<(String, String)> = body["CreateResult"]["FailedUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["EndUserId"].as_str().unwrap().to_owned(),
                f["ErrorCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("Bad Name".to_owned(), "InvalidUsername".to_owned()),
            ("carl".to_owned(), "InvalidParameter".to_owned()),
            ("dora".to_owned(), "MissingParameter".to_owned()),
            ("eve".to_owned(), "InvalidParameter".to_owned()),
        ]
    );
    let again = ok(
        &app,
        "CreateUsers",
        &[("Users.1.EndUserId", "alice"), ("Users.1.Email", "a@x.y")],
    )
    .await;
    assert_eq!(
        again["CreateResult"]["FailedUsers"][0]["ErrorCode"],
        "ExistedEndUserId"
    );
    // The user is a PDS user too.
    let (status, user) = app.admin("/v2/user/get", json!({"user_id": "alice"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (user["nick_name"].as_str(), user["description"].as_str()),
        (Some("Alice Z"), Some("first"))
    );
}

#[tokio::test]
async fn describe_users_filters_and_pages() {
    let app = spawn_app().await;
    create_users(&app, &["amy", "ann", "bob", "abe_m"]).await;
    let page = ok(
        &app,
        "DescribeUsers",
        &[("Filter", "a*m"), ("MaxResults", "10")],
    )
    .await;
    let ids: Vec<&str> = page["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["EndUserId"].as_str().unwrap())
        .collect();
    // `*` anchors nothing else: the pattern matches the whole id or email.
    assert_eq!(ids, ["abe_m", "amy", "ann"]);
    assert_eq!(page["Count"], 3);
    let user = &page["Users"][1];
    assert_eq!(user["Email"], "amy@example.com");
    assert_eq!(user["NickName"], "amy");
    assert_eq!(user["Status"], 0);
    assert!(user["Id"].as_i64().is_some_and(|id| id > 0), "{user}");
    let excluded = ok(
        &app,
        "DescribeUsers",
        &[
            ("EndUserIds.1", "amy"),
            ("EndUserIds.2", "bob"),
            ("ExcludeEndUserIds.1", "bob"),
        ],
    )
    .await;
    assert_eq!(excluded["Users"].as_array().unwrap().len(), 1);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let body = ok(
            &app,
            "DescribeUsers",
            &[("MaxResults", "2"), ("NextToken", &token)],
        )
        .await;
        for u in body["Users"].as_array().unwrap() {
            seen.push(u["EndUserId"].as_str().unwrap().to_owned());
        }
        token = body["NextToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["abe_m", "admin", "amy", "ann", "bob"]);
    let locked = ok(&app, "DescribeUsers", &[("Status", "9")]).await;
    assert_eq!(locked["Users"], json!([]));
}

#[tokio::test]
async fn modify_and_remove_users() {
    let app = spawn_app().await;
    create_users(&app, &["fay"]).await;
    ok(
        &app,
        "ModifyUser",
        &[
            ("EndUserId", "fay"),
            ("Email", "fay@new.example"),
            ("Phone", "123"),
        ],
    )
    .await;
    let user = ok(&app, "DescribeUsers", &[("EndUserIds.1", "fay")]).await;
    assert_eq!(
        (
            user["Users"][0]["Email"].as_str(),
            user["Users"][0]["Phone"].as_str()
        ),
        (Some("fay@new.example"), Some("123"))
    );
    let missing = admin(
        &app,
        "ModifyUser",
        &[("EndUserId", "ghost"), ("Email", "g@x.y")],
    )
    .await;
    assert_eds_error(&missing, StatusCode::NOT_FOUND, "EntityNotExist.User");
    let removed = ok(
        &app,
        "RemoveUsers",
        &[
            ("Users.1", "fay"),
            ("Users.2", "ghost"),
            ("Users.3", "admin"),
        ],
    )
    .await;
    assert_eq!(removed["RemoveUsersResult"]["RemovedUsers"], json!(["fay"]));
    let failed = &removed["RemoveUsersResult"]["FailedUsers"];
    assert_eq!(failed[0]["ErrorCode"], "InvalidEndUserId.NotFound");
    assert_eq!(failed[1]["EndUserId"], "admin");
    assert_eq!(failed[1]["ErrorCode"], "OperationDenied");
}

#[tokio::test]
async fn locking_ends_sessions_and_auto_lock_time_locks_when_due() {
    let app = spawn_app().await;
    let (user_id, token) = app.user_with_role("gus", "user").await;
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let locked = ok(
        &app,
        "LockUsers",
        &[
            ("Users.1", &user_id),
            ("Users.2", "ghost"),
            ("LogoutSession", "True"),
        ],
    )
    .await;
    assert_eq!(locked["LockUsersResult"]["LockedUsers"], json!([user_id]));
    assert_eq!(
        locked["LockUsersResult"]["FailedUsers"][0]["ErrorCode"],
        "InvalidEndUserId.NotFound"
    );
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a locked user's token stops working"
    );
    let described = ok(&app, "DescribeUsers", &[("EndUserIds.1", &user_id)]).await;
    assert_eq!(described["Users"][0]["Status"], 9);

    let past = admin(
        &app,
        "UnlockUsers",
        &[
            ("Users.1", &user_id),
            ("AutoLockTime", "2000-01-01 00:00:00"),
        ],
    )
    .await;
    assert_eq!(
        past.1["UnlockUsersResult"]["FailedUsers"][0]["ErrorCode"], "InvalidParameter",
        "{}",
        past.1
    );
    let unlocked = ok(
        &app,
        "UnlockUsers",
        &[
            ("Users.1", &user_id),
            ("AutoLockTime", "2099-12-31 23:59:59"),
        ],
    )
    .await;
    assert_eq!(
        unlocked["UnlockUsersResult"]["UnlockedUsers"],
        json!([user_id])
    );
    let token = app.login("gus", USER_PASSWORD).await;
    let (status, _) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let filtered = ok(&app, "FilterUsers", &[("IncludeEndUserIds.1", &user_id)]).await;
    assert_eq!(filtered["Users"][0]["AutoLockTime"], "2099-12-31 23:59:59");

    // A user created to lock at a time already past is locked from the start.
    ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "hal"),
            ("Users.1.Email", "h@x.y"),
            ("AutoLockTime", "2001-01-01"),
        ],
    )
    .await;
    let hal = ok(&app, "DescribeUsers", &[("EndUserIds.1", "hal")]).await;
    assert_eq!(hal["Users"][0]["Status"], 9);
    let locked = ok(&app, "DescribeUsers", &[("Status", "9")]).await;
    let locked: Vec<&str> = locked["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["EndUserId"].as_str().unwrap())
        .collect();
    assert_eq!(locked, ["hal"]);
    let normal = ok(
        &app,
        "FilterUsers",
        &[("Status", "0"), ("OrderParam", r#"{"OrderType":"ASC"}"#)],
    )
    .await;
    let normal: Vec<&str> = normal["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["EndUserId"].as_str().unwrap())
        .collect();
    let mut expected = ["admin", user_id.as_str()];
    expected.sort_unstable();
    assert_eq!(normal, expected, "ascending by EndUserId, without hal");
}

#[tokio::test]
async fn a_password_reset_token_goes_to_the_outbox_and_works_once() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("ida", "user").await;
    let no_email = ok(&app, "ResetUserPassword", &[("Users.1", &user_id)]).await;
    assert_eq!(
        no_email["ResetUsersResult"]["FailedUsers"][0]["ErrorCode"],
        "MissingParameter"
    );
    ok(
        &app,
        "ModifyUser",
        &[("EndUserId", &user_id), ("Email", "ida@example.com")],
    )
    .await;
    let sms = admin(
        &app,
        "ResetUserPassword",
        &[("Users.1", &user_id), ("NotifyType", "2")],
    )
    .await;
    assert_eds_error(&sms, StatusCode::BAD_REQUEST, "InvalidParameter");
    let reset = ok(
        &app,
        "ResetUserPassword",
        &[("Users.1", &user_id), ("NotifyType", "1")],
    )
    .await;
    assert_eq!(reset["ResetUsersResult"]["ResetUsers"], json!([user_id]));

    let (status, outbox) = app.admin("/v2/outbox/list", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    let message = &outbox["items"][0];
    assert_eq!(message["recipient"], "ida@example.com");
    let body = message["body"].as_str().unwrap();
    let token = body
        .split_whitespace()
        .find(|w| w.len() == 48 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a token in the mail");
    let (_, plain_token) = app.user_with_role("jon", "user").await;
    let (status, _) = app.call("/v2/outbox/list", &plain_token, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins read the outbox");

    // A user created without a password is mailed a reset.
    ok(
        &app,
        "CreateUsers",
        &[
            ("Users.1.EndUserId", "uma"),
            ("Users.1.Email", "uma@example.com"),
        ],
    )
    .await;
    let (_, outbox) = app.admin("/v2/outbox/list", json!({"limit": 1})).await;
    assert_eq!(outbox["items"][0]["recipient"], "uma@example.com");
    assert!(!outbox["next_marker"].as_str().unwrap().is_empty());

    let new_password = "brand-new-password-1";
    let (status, body) = read(
        app.post(
            "/v2/account/reset_password",
            None,
            &json!({"token": token, "new_password": new_password}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.login("ida", new_password).await;
    let (status, body) = read(
        app.post(
            "/v2/account/reset_password",
            None,
            &json!({"token": token, "new_password": new_password}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound.ResetToken"))
    );
}

#[tokio::test]
async fn tenant_alias_and_manager_info() {
    let app = spawn_app().await;
    let alias = ok(&app, "InitTenantAlias", &[]).await;
    assert_eq!(alias["Data"], "default");
    assert_eq!(alias["AliasInfo"]["AliasEditable"], false);
    let info = ok(
        &app,
        "GetManagerInfoByAuthCode",
        &[("AuthCode", &app.admin_token)],
    )
    .await;
    assert_eq!(info["UserName"], "admin");
    assert_eq!(info["OrgId"], ROOT);
    assert!(info["WaId"].as_i64().is_some_and(|n| n > 0));
    let (_, user_token) = app.user_with_role("kim", "user").await;
    let not_manager = admin(
        &app,
        "GetManagerInfoByAuthCode",
        &[("AuthCode", &user_token)],
    )
    .await;
    assert_eds_error(&not_manager, StatusCode::FORBIDDEN, "Forbidden");
    // The caller must be an admin too, even with an admin's code in hand.
    let not_admin = call(
        &app,
        &user_token,
        "GetManagerInfoByAuthCode",
        &[("AuthCode", &app.admin_token)],
    )
    .await;
    assert_eds_error(&not_admin, StatusCode::FORBIDDEN, "Forbidden");
    let bad = admin(&app, "GetManagerInfoByAuthCode", &[("AuthCode", "nope")]).await;
    assert_eds_error(&bad, StatusCode::BAD_REQUEST, "InvalidParameter");
}

/// A one-message SMTP server on a random port: answers the dialogue, hands over the DATA.
async fn fake_smtp() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 fake\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go on\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        let _ = tx.send(data);
    });
    (port, rx)
}

#[tokio::test]
async fn with_smtp_configured_resets_are_mailed_not_kept() {
    let (port, mail) = fake_smtp().await;
    let store = crate::helpers::TestStore::fresh().await;
    let mut config = store.config();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    config.smtp_from = Some("Roster <roster@example.com>".into());
    let app = crate::helpers::spawn_with(store, config, crate::helpers::ADMIN_PASSWORD).await;
    create_users(&app, &["lou"]).await;
    let reset = ok(&app, "ResetUserPassword", &[("Users.1", "lou")]).await;
    assert_eq!(reset["ResetUsersResult"]["ResetUsers"], json!(["lou"]));
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), mail)
        .await
        .expect("mail within 10 s")
        .unwrap();
    assert!(message.contains("lou@example.com"), "{message}");
    assert!(message.contains("reset_password"), "{message}");
    let (_, outbox) = app.admin("/v2/outbox/list", json!({})).await;
    assert_eq!(outbox["items"], json!([]), "nothing kept when SMTP took it");
}

/// Every action of eds-user 2021-03-08.
const ACTIONS: [&str; 36] = [
    "InitTenantAlias",
    "CreateUsers",
    "RemoveUsers",
    "ModifyUser",
    "ResetUserPassword",
    "LockUsers",
    "UnlockUsers",
    "DescribeUsers",
    "FilterUsers",
    "GetManagerInfoByAuthCode",
    "CreateProperty",
    "RemoveProperty",
    "DeleteUserPropertyValue",
    "UpdateProperty",
    "SetUserPropertyValue",
    "ListProperty",
    "ListPropertyValue",
    "CheckUsedProperty",
    "CheckUsedPropertyValue",
    "CreateOrg",
    "DescribeOrgs",
    "DescribeOrgByLayer",
    "RemoveOrg",
    "MoveOrg",
    "ModifyOrg",
    "MoveUserOrg",
    "CreateGroup",
    "DescribeGroups",
    "UserBatchQuitGroup",
    "UserBatchJoinGroup",
    "RemoveGroup",
    "ModifyGroup",
    "DescribeGroupUser",
    "CreateResourceGroup",
    "DeleteResourceGroup",
    "DescribeResourceGroups",
];

#[tokio::test]
async fn every_action_needs_credentials_and_all_but_directory_reads_an_admin() {
    let app = spawn_app().await;
    for action in ACTIONS {
        let anonymous = read(
            app.http
                .post(app.url(&format!("/?Action={action}&Version={VERSION}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eds_error(&anonymous, StatusCode::BAD_REQUEST, "MissingParameter");
    }
    // Real objects, so that each call gets as far as its permission check.
    create_users(&app, &["vic"]).await;
    let number = ok(&app, "DescribeUsers", &[("EndUserIds.1", "vic")]).await["Users"][0]["Id"]
        .as_i64()
        .unwrap()
        .to_string();
    let org = ok(
        &app,
        "CreateOrg",
        &[("OrgName", "o"), ("ParentOrgId", ROOT)],
    )
    .await["OrgId"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = ok(&app, "CreateGroup", &[("GroupName", "g")]).await["GroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    let property = ok(
        &app,
        "CreateProperty",
        &[("PropertyKey", "k"), ("PropertyValues.1", "v")],
    )
    .await;
    let pid = property["CreateResult"]["PropertyId"]
        .as_i64()
        .unwrap()
        .to_string();
    let vid = property["CreateResult"]["SavePropertyValueModel"]["SavePropertyValues"][0]
        ["PropertyValueId"]
        .as_i64()
        .unwrap()
        .to_string();
    let rg = ok(&app, "CreateResourceGroup", &[("ResourceGroupName", "r")]).await
        ["ResourceGroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, user_token) = app.user_with_role("wes", "user").await;
    let admin_only: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("InitTenantAlias", vec![]),
        (
            "CreateUsers",
            vec![("Users.1.EndUserId", "xyz"), ("Users.1.Email", "x@y.z")],
        ),
        ("RemoveUsers", vec![("Users.1", "vic")]),
        ("ModifyUser", vec![("EndUserId", "vic"), ("Email", "v@x.y")]),
        ("ResetUserPassword", vec![("Users.1", "vic")]),
        ("LockUsers", vec![("Users.1", "vic")]),
        ("UnlockUsers", vec![("Users.1", "vic")]),
        ("DescribeUsers", vec![]),
        ("FilterUsers", vec![]),
        ("GetManagerInfoByAuthCode", vec![("AuthCode", &user_token)]),
        ("CreateProperty", vec![("PropertyKey", "k2")]),
        ("RemoveProperty", vec![("PropertyId", &pid)]),
        (
            "UpdateProperty",
            vec![("PropertyId", &pid), ("PropertyKey", "k3")],
        ),
        (
            "SetUserPropertyValue",
            vec![
                ("UserId", &number),
                ("UserName", "vic"),
                ("PropertyId", &pid),
                ("PropertyValueId", &vid),
            ],
        ),
        (
            "DeleteUserPropertyValue",
            vec![
                ("UserId", &number),
                ("PropertyId", &pid),
                ("PropertyValueId", &vid),
            ],
        ),
        ("CreateOrg", vec![("OrgName", "x"), ("ParentOrgId", ROOT)]),
        ("RemoveOrg", vec![("OrgId", &org)]),
        ("MoveOrg", vec![("OrgId", &org), ("NewParentOrgId", ROOT)]),
        ("ModifyOrg", vec![("OrgId", &org), ("OrgName", "y")]),
        (
            "MoveUserOrg",
            vec![("EndUserIds.1", "vic"), ("OrgId", &org)],
        ),
        ("CreateGroup", vec![("GroupName", "x")]),
        ("DescribeGroups", vec![]),
        (
            "UserBatchJoinGroup",
            vec![("GroupId", &group), ("EndUserIds.1", "vic")],
        ),
        (
            "UserBatchQuitGroup",
            vec![("GroupId", &group), ("EndUserIds.1", "vic")],
        ),
        ("RemoveGroup", vec![("GroupId", &group)]),
        (
            "ModifyGroup",
            vec![("GroupId", &group), ("NewGroupName", "x")],
        ),
        ("DescribeGroupUser", vec![("GroupId", &group)]),
        ("CreateResourceGroup", vec![("ResourceGroupName", "x")]),
        ("DeleteResourceGroup", vec![("ResourceGroupId", &rg)]),
        ("DescribeResourceGroups", vec![]),
    ];
    for (action, form) in &admin_only {
        let answer = call(&app, &user_token, action, form).await;
        assert_eds_error(&answer, StatusCode::FORBIDDEN, "Forbidden");
    }
    let reads: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("ListProperty", vec![]),
        ("ListPropertyValue", vec![("PropertyId", &pid)]),
        ("CheckUsedProperty", vec![("PropertyId", &pid)]),
        (
            "CheckUsedPropertyValue",
            vec![("PropertyId", &pid), ("PropertyValueId", &vid)],
        ),
        ("DescribeOrgs", vec![]),
        ("DescribeOrgByLayer", vec![("ParentOrgId", &org)]),
    ];
    assert_eq!(admin_only.len() + reads.len(), ACTIONS.len());
    for (action, form) in &reads {
        let (status, body) = call(&app, &user_token, action, form).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
}

#[tokio::test]
async fn an_admin_cannot_reset_a_superadmins_password() {
    let app = spawn_app().await;
    let (admin_id, admin_token) = app.user_with_role("ada", "admin").await;
    let (boss_id, _) = app.user_with_role("boss", "superadmin").await;
    for user in [&admin_id, &boss_id] {
        ok(
            &app,
            "ModifyUser",
            &[
                ("EndUserId", user),
                ("Email", &format!("{user}@example.com")),
            ],
        )
        .await;
    }
    // The token would land in the outbox, which admins read: refused for a superadmin.
    let (status, refused) = call(
        &app,
        &admin_token,
        "ResetUserPassword",
        &[("Users.1", &boss_id)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(
        refused["ResetUsersResult"]["FailedUsers"][0]["ErrorCode"], "Forbidden",
        "{refused}"
    );
    let (_, outbox) = app.call("/v2/outbox/list", &admin_token, json!({})).await;
    assert_eq!(outbox["items"], json!([]));
    // An admin still resets itself and other users; a superadmin resets a superadmin.
    let (_, mine) = call(
        &app,
        &admin_token,
        "ResetUserPassword",
        &[("Users.1", &admin_id)],
    )
    .await;
    assert_eq!(
        mine["ResetUsersResult"]["ResetUsers"],
        json!([admin_id]),
        "{mine}"
    );
    let reset = ok(&app, "ResetUserPassword", &[("Users.1", &boss_id)]).await;
    assert_eq!(reset["ResetUsersResult"]["ResetUsers"], json!([boss_id]));
    // That token is in the outbox too: its body is for superadmins' eyes only.
    let token_in = |outbox: &Value, recipient: &str| {
        outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["recipient"] == recipient)
            .map(|m| {
                m["body"]
                    .as_str()
                    .unwrap()
                    .contains("/v2/account/reset_password")
            })
    };
    let boss_mail = format!("{boss_id}@example.com");
    let admin_mail = format!("{admin_id}@example.com");
    let (_, seen_by_admin) = app.call("/v2/outbox/list", &admin_token, json!({})).await;
    assert_eq!(
        token_in(&seen_by_admin, &boss_mail),
        Some(false),
        "{seen_by_admin}"
    );
    assert_eq!(
        token_in(&seen_by_admin, &admin_mail),
        Some(true),
        "{seen_by_admin}"
    );
    let (_, seen_by_superadmin) = app.admin("/v2/outbox/list", json!({})).await;
    assert_eq!(token_in(&seen_by_superadmin, &boss_mail), Some(true));
}
