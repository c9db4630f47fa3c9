//! SCIM 2.0 at `/scim/v2`: the request sequences Entra ID and Okta send, checked through
//! the PDS API; each caller; bad input answered as SCIM errors with nothing half-written.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{read, spawn_app, spawn_with_base_domain, TestApp};

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn scim(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = app.url(&format!("/scim/v2{path}"));
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    read(request.send().await.unwrap()).await
}

async fn admin(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    scim(app, method, path, Some(&app.admin_token), body).await
}

fn assert_scim_error(answer: &(StatusCode, Value), status: StatusCode, scim_type: Option<&str>) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(
        body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{body}"
    );
    assert_eq!(body["status"], status.as_u16().to_string(), "{body}");
    if let Some(scim_type) = scim_type {
        assert_eq!(body["scimType"], scim_type, "{body}");
    }
    assert!(body.get("code").is_none(), "a PDS body: {body}");
}

fn entra_user(user_name: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": true,
        "displayName": "Barbara Jensen",
        "emails": [{"primary": true, "type": "work", "value": "bjensen@example.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Barbara Jensen", "familyName": "Jensen", "givenName": "Barbara"},
        "title": "Tour Guide",
        ENTERPRISE: {"department": "Tour Operations", "employeeNumber": "701984",
                     "manager": {"value": "boss"}}
    })
}

/// `GET /Users?filter=...` as the admin.
async fn filtered(app: &TestApp, filter: &str) -> Value {
    let mut url = reqwest::Url::parse(&app.url("/scim/v2/Users")).unwrap();
    url.query_pairs_mut().append_pair("filter", filter);
    let request = app.http.get(url).bearer_auth(&app.admin_token);
    read(request.send().await.unwrap()).await.1
}

async fn count_users(app: &TestApp) -> Value {
    admin(app, "GET", "/Users?count=0", None).await.1["totalResults"].clone()
}

async fn pds_user(app: &TestApp, user_id: &str) -> (StatusCode, Value) {
    app.admin("/v2/user/get", json!({"user_id": user_id})).await
}

#[tokio::test]
async fn entra_id_provisioning_sequence() {
    let app = spawn_app().await;
    let name = "bjensen@example.com";
    // Entra ID first asks whether the user exists.
    let (status, list) = admin(
        &app,
        "GET",
        &format!("/Users?filter=userName+eq+%22{name}%22"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], 0);
    assert_eq!(list["Resources"], json!([]));

    let (status, created) = admin(&app, "POST", "/Users", Some(entra_user(name))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["userName"], name);
    assert_eq!(
        created["externalId"],
        "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    );
    assert_eq!(created[ENTERPRISE]["department"], "Tour Operations");
    assert_eq!(created["name"]["givenName"], "Barbara");
    assert!(created["meta"]["version"]
        .as_str()
        .unwrap()
        .starts_with("W/"));
    assert!(created["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Users/{id}")));
    assert!(created.get("password").is_none());

    // Visible at once through PDS.
    let (status, user) = pds_user(&app, &id).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["nick_name"], "Barbara Jensen");
    assert_eq!(user["email"], "bjensen@example.com");
    assert_eq!(user["status"], "enabled");

    // Found by the filter now, by userName and by externalId; a filter on type is refused.
    for filter in [
        format!("userName eq \"{name}\""),
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"".to_owned(),
    ] {
        let list = filtered(&app, &filter).await;
        assert_eq!(list["totalResults"], 1, "{filter}: {list}");
        assert_eq!(list["Resources"][0]["id"], id.as_str());
    }
    let none = filtered(&app, "externalId eq \"other\"").await;
    assert_eq!(none["totalResults"], 0, "{none}");
    let list = filtered(&app, "emails[type eq \"work\"]").await;
    assert_eq!(
        list["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );

    // Attribute update, as Entra ID sends it (capitalised ops, "False" as a string).
    let patch = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Babs Jensen"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "babs@example.com"},
        {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Sales"},
    ]});
    let (status, patched) = admin(&app, "PATCH", &format!("/Users/{id}"), Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["displayName"], "Babs Jensen");
    assert_eq!(patched[ENTERPRISE]["department"], "Sales");
    let (_, user) = pds_user(&app, &id).await;
    assert_eq!(user["nick_name"], "Babs Jensen");
    assert_eq!(user["email"], "babs@example.com");

    // Group push: create, add the member, remove it.
    let (status, group) = admin(
        &app,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Tour Guides", "members": []})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().unwrap().to_owned();
    let (_, found) = admin(
        &app,
        "GET",
        "/Groups?filter=displayName%20eq%20%22Tour%20Guides%22&excludedAttributes=members",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], 1, "{found}");
    assert!(found["Resources"][0].get("members").is_none());
    let add = json!({"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": id}]}]});
    let (status, group) = admin(&app, "PATCH", &format!("/Groups/{gid}"), Some(add)).await;
    assert_eq!(status, StatusCode::OK, "{group}");
    assert_eq!(group["members"][0]["value"], id.as_str());
    let (_, members) = app
        .admin(
            "/v2/group/list_member",
            json!({"group_id": gid, "member_type": "user"}),
        )
        .await;
    assert_eq!(
        members["user_items"][0]["user_id"],
        id.as_str(),
        "{members}"
    );
    let (_, shown) = admin(&app, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(shown["groups"][0]["value"], gid.as_str(), "{shown}");
    let remove = json!({"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": format!("members[value eq \"{id}\"]")}]});
    let (status, group) = admin(
        &app,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(remove.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{group}");
    assert_eq!(group["members"], json!([]));
    // Removing a member already gone is no error (Entra ID retries).
    let (status, _) = admin(&app, "PATCH", &format!("/Groups/{gid}"), Some(remove)).await;
    assert_eq!(status, StatusCode::OK);

    // Deprovisioning: active false locks, then delete.
    let lock = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"}]});
    let (status, locked) = admin(&app, "PATCH", &format!("/Users/{id}"), Some(lock)).await;
    assert_eq!(status, StatusCode::OK, "{locked}");
    assert_eq!(locked["active"], false);
    let (_, user) = pds_user(&app, &id).await;
    assert_eq!(user["status"], "disabled");
    let (_, inactive) = admin(&app, "GET", "/Users?filter=active%20eq%20false", None).await;
    assert_eq!(inactive["totalResults"], 1, "{inactive}");
    let (status, _) = admin(&app, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = pds_user(&app, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let gone = admin(&app, "GET", &format!("/Users/{id}"), None).await;
    assert_scim_error(&gone, StatusCode::NOT_FOUND, None);
    let (status, _) = admin(&app, "DELETE", &format!("/Groups/{gid}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn okta_provisioning_sequence() {
    let app = spawn_app().await;
    // Okta creates with a password, reads back, replaces with PUT, deactivates with PUT.
    let body = json!({"schemas": [USER], "userName": "okta.user@example.com",
        "name": {"givenName": "Okta", "familyName": "User"},
        "emails": [{"primary": true, "value": "okta.user@example.com", "type": "work"}],
        "displayName": "Okta User", "password": "Strong-Passw0rd!", "active": true});
    let (status, created) = admin(&app, "POST", "/Users", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    // The user signs in with its userName and password.
    app.login("okta.user@example.com", "Strong-Passw0rd!").await;

    let mut replaced = body.clone();
    replaced["id"] = json!(id);
    replaced["displayName"] = json!("Renamed");
    replaced.as_object_mut().unwrap().remove("password");
    let (status, put) = admin(&app, "PUT", &format!("/Users/{id}"), Some(replaced.clone())).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["displayName"], "Renamed");
    replaced["active"] = json!(false);
    let (status, put) = admin(&app, "PUT", &format!("/Users/{id}"), Some(replaced)).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["active"], false);
    let (_, user) = pds_user(&app, &id).await;
    assert_eq!(user["status"], "disabled");
    assert_eq!(user["nick_name"], "Renamed");
}

#[tokio::test]
async fn callers_other_than_admins_are_refused() {
    let app = spawn_with_base_domain("roster.test").await;
    let anonymous = scim(&app, "GET", "/Users", None, None).await;
    assert_scim_error(&anonymous, StatusCode::UNAUTHORIZED, None);
    let garbage = scim(&app, "GET", "/Users", Some("not-a-token"), None).await;
    assert_scim_error(&garbage, StatusCode::UNAUTHORIZED, None);
    let (_, user) = app.user_with_role("plain", "user").await;
    assert_scim_error(
        &scim(&app, "GET", "/Users", Some(&user), None).await,
        StatusCode::FORBIDDEN,
        None,
    );
    // A group admin administers members through PDS, not SCIM: still a user.
    let (gadmin_id, gadmin) = app.user_with_role("gadmin", "user").await;
    let (_, group) = app
        .admin("/v2/group/create", json!({"group_name": "team"}))
        .await;
    let (status, body) = app
        .admin(
            "/v2/role/assign",
            json!({"identity": {"identity_type": "IT_User", "identity_id": gadmin_id},
                   "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
                   "manage_resource_id": group["group_id"]}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    assert_scim_error(
        &scim(
            &app,
            "POST",
            "/Groups",
            Some(&gadmin),
            Some(json!({"displayName": "x"})),
        )
        .await,
        StatusCode::FORBIDDEN,
        None,
    );
    let (_, admin_token) = app.user_with_role("second-admin", "admin").await;
    let (status, list) = scim(&app, "GET", "/Users", Some(&admin_token), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(list["totalResults"].as_i64().unwrap() >= 3);
    // The superadmin's token named in another tenant's host is refused there.
    let port = app.address.rsplit(':').next().unwrap();
    let response = app
        .http
        .get(app.url("/scim/v2/Users"))
        .header("host", format!("beta.roster.test:{port}"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_scim_error(&read(response).await, StatusCode::UNAUTHORIZED, None);
    // Discovery is public.
    let (status, config) = scim(&app, "GET", "/ServiceProviderConfig", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    let (_, types) = scim(&app, "GET", "/ResourceTypes", None, None).await;
    assert_eq!(types["totalResults"], 2);
    let (_, schemas) = scim(&app, "GET", "/Schemas", None, None).await;
    assert_eq!(schemas["totalResults"], 3);
}

#[tokio::test]
async fn bad_input_answers_scim_errors_and_writes_nothing() {
    let app = spawn_app().await;
    let (status, created) = admin(&app, "POST", "/Users", Some(entra_user("alice"))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let version = created["meta"]["version"].as_str().unwrap().to_owned();
    let before = count_users(&app).await;

    for filter in [
        "userName%20eq",
        "userName%20zz%20%22a%22",
        "(userName%20eq%20%22a%22",
        "userName%20eq%20%22a%22%20or%20displayName%20eq%20%22b%22",
        "meta.lastModified%20gt%20%22not-a-date%22",
        "shoeSize%20eq%20%229%22",
    ] {
        let answer = admin(&app, "GET", &format!("/Users?filter={filter}"), None).await;
        assert_scim_error(&answer, StatusCode::BAD_REQUEST, Some("invalidFilter"));
    }
    let unknown = json!({"schemas": [USER], "userName": "bob", "shoeSize": 9});
    assert_scim_error(
        &admin(&app, "POST", "/Users", Some(unknown)).await,
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
    );
    assert_scim_error(
        &admin(&app, "POST", "/Users", Some(entra_user("alice"))).await,
        StatusCode::CONFLICT,
        Some("uniqueness"),
    );
    // A second user claiming alice's e-mail as its logon: refused whole.
    let mut taken = entra_user("carol");
    taken["emails"] = created["emails"].clone();
    let answer = admin(&app, "POST", "/Users", Some(taken)).await;
    assert_scim_error(&answer, StatusCode::CONFLICT, Some("uniqueness"));
    let read_only = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "id", "value": "other"}]});
    assert_scim_error(
        &admin(&app, "PATCH", "/Users/alice", Some(read_only)).await,
        StatusCode::BAD_REQUEST,
        Some("mutability"),
    );
    let bad_path = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "emails[type eq", "value": "x"}]});
    assert_scim_error(
        &admin(&app, "PATCH", "/Users/alice", Some(bad_path)).await,
        StatusCode::BAD_REQUEST,
        Some("invalidPath"),
    );
    let mut moved = entra_user("alice");
    moved["id"] = json!("someone-else");
    assert_scim_error(
        &admin(&app, "PUT", "/Users/alice", Some(moved)).await,
        StatusCode::BAD_REQUEST,
        Some("mutability"),
    );
    let renamed = entra_user("alice2");
    assert_scim_error(
        &admin(&app, "PUT", "/Users/alice", Some(renamed)).await,
        StatusCode::BAD_REQUEST,
        Some("mutability"),
    );
    // If-Match: a stale version is refused, the current one accepted.
    let stale = app
        .http
        .patch(app.url("/scim/v2/Users/alice"))
        .bearer_auth(&app.admin_token)
        .header("if-match", "W/\"1\"")
        .body(
            json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "displayName", "value": "x"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_scim_error(&read(stale).await, StatusCode::PRECONDITION_FAILED, None);
    let fresh = app
        .http
        .patch(app.url("/scim/v2/Users/alice"))
        .bearer_auth(&app.admin_token)
        .header("if-match", &version)
        .body(
            json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "displayName", "value": "x"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::OK);
    let (_, user) = pds_user(&app, "alice").await;
    assert_eq!(user["nick_name"], "x");
    // Oversized and malformed bodies.
    let huge = json!({"schemas": [USER], "userName": "big", "title": "x".repeat(2 * 1024 * 1024)});
    assert_scim_error(
        &admin(&app, "POST", "/Users", Some(huge)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
    );
    let response = app
        .http
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&app.admin_token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_scim_error(
        &read(response).await,
        StatusCode::BAD_REQUEST,
        Some("invalidSyntax"),
    );
    // A group with an unknown member is not created.
    let group =
        json!({"schemas": [GROUP], "displayName": "ghosts", "members": [{"value": "nobody"}]});
    assert_scim_error(
        &admin(&app, "POST", "/Groups", Some(group)).await,
        StatusCode::NOT_FOUND,
        None,
    );
    let (_, groups) = admin(&app, "GET", "/Groups", None).await;
    assert_eq!(groups["totalResults"], 0, "{groups}");
    assert_eq!(count_users(&app).await, before);
    assert_scim_error(
        &admin(&app, "GET", "/Nope", None).await,
        StatusCode::NOT_FOUND,
        None,
    );
}

#[tokio::test]
async fn lists_page_by_index_and_by_cursor() {
    let app = spawn_app().await;
    for i in 0..5 {
        let body = json!({"schemas": [USER], "userName": format!("pager{i}"),
                          "displayName": format!("Pager {i}")});
        let (status, created) = admin(&app, "POST", "/Users", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    let filter = "filter=userName%20sw%20%22pager%22";
    let (_, page) = admin(
        &app,
        "GET",
        &format!("/Users?{filter}&startIndex=3&count=2"),
        None,
    )
    .await;
    assert_eq!(page["totalResults"], 5, "{page}");
    assert_eq!(page["startIndex"], 3);
    assert_eq!(page["Resources"][0]["userName"], "pager2");
    assert_eq!(page["Resources"][1]["userName"], "pager3");
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = admin(
            &app,
            "GET",
            &format!("/Users?{filter}&count=2&cursor={cursor}&attributes=userName"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for r in page["Resources"].as_array().unwrap() {
            assert!(r.get("displayName").is_none(), "{r}");
            seen.push(r["userName"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("pager{i}")).collect::<Vec<_>>()
    );
    let (_, found) = admin(
        &app,
        "GET",
        "/Users?filter=displayName%20co%20%22ger%203%22",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], 1, "{found}");
    let (_, exact) = admin(
        &app,
        "GET",
        "/Users?filter=displayName%20eq%20%22pager%201%22",
        None,
    )
    .await;
    assert_eq!(exact["totalResults"], 1, "{exact}");
    assert_eq!(exact["Resources"][0]["userName"], "pager1");
    let bad = admin(&app, "GET", "/Users?cursor=garbage", None).await;
    assert_scim_error(&bad, StatusCode::BAD_REQUEST, None);
}

/// A cursor walk in pages of up to 1,000 users (the users' `maxPageSize`; a larger `count` is
/// served at it) answers every user exactly once; every page's `totalResults` is the count
/// made on the first page, carried by the cursor (a user created mid-walk changes a new
/// count, not the walk's); cursors Roster did not make are `invalidCursor`.
#[tokio::test]
async fn a_cursor_walk_in_pages_of_a_thousand_sees_every_user_once() {
    let app = spawn_app().await;
    app.store.seed_users("default", "walker", 2_345).await;
    let (_, config) = admin(&app, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(config["pagination"]["maxPageSize"], 1000, "{config}");
    assert_eq!(config["pagination"]["defaultPageSize"], 100, "{config}");
    let total = count_users(&app).await.as_i64().unwrap();
    assert!(total > 2_345, "{total}");
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (status, page) = admin(
            &app,
            "GET",
            &format!("/Users?count=5000&cursor={cursor}&attributes=userName"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        assert_eq!(page["totalResults"], total, "page {pages}");
        let resources = page["Resources"].as_array().unwrap();
        assert_eq!(page["itemsPerPage"], resources.len());
        assert!(resources.len() <= 1000);
        for r in resources {
            let id = r["id"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone()), "{id} twice");
        }
        if pages == 1 {
            assert_eq!(resources.len(), 1000);
            let body = json!({"schemas": [USER], "userName": "late-comer"});
            let (status, created) = admin(&app, "POST", "/Users", Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
        }
        match page["nextCursor"].as_str() {
            Some(next) => {
                // RFC 9865: unreserved characters only.
                assert!(
                    next.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
                    "{next}"
                );
                cursor = next.to_owned();
            }
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert!(seen.len() as i64 >= total, "{} of {total}", seen.len());
    for i in [0, 1_000, 2_344] {
        assert!(seen.contains(&format!("walker{i:05}")), "walker{i:05}");
    }
    assert_eq!(count_users(&app).await, total + 1);
    for bad in ["garbage", "12.", "-1.abc", ".abc", "x.abc"] {
        let answer = admin(&app, "GET", &format!("/Users?cursor={bad}"), None).await;
        assert_scim_error(&answer, StatusCode::BAD_REQUEST, Some("invalidCursor"));
    }
    let forged = admin(&app, "GET", "/Users?cursor=12.garbage", None).await;
    assert_scim_error(&forged, StatusCode::BAD_REQUEST, None);
}

/// A provisioning token created by the superadmin: `(token_id, token)`.
async fn provisioning_token(app: &TestApp) -> (String, String) {
    let (status, created) = app
        .admin("/v2/scim_token/create", json!({"description": "Entra ID"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["token_id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn provisioning_tokens_are_the_superadmins_shown_once_and_revocable() {
    let app = spawn_with_base_domain("roster.test").await;
    // Only a superadmin manages them: not anonymous, a user, an admin.
    let (_, user) = app.user_with_role("plain", "user").await;
    let (_, admin_token) = app.user_with_role("an-admin", "admin").await;
    for token in [user.as_str(), admin_token.as_str()] {
        for path in ["/v2/scim_token/create", "/v2/scim_token/list"] {
            let answer = app.call(path, token, json!({})).await;
            crate::helpers::assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
        }
    }
    let anonymous = app
        .send("post", "/v2/scim_token/list", None, &json!({}))
        .await;
    crate::helpers::assert_error(&anonymous, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
    let long = "d".repeat(1025);
    let answer = app
        .admin("/v2/scim_token/create", json!({"description": long}))
        .await;
    crate::helpers::assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );

    let (token_id, token) = provisioning_token(&app).await;
    assert!(token.starts_with("rscim_"), "{token}");
    // The list shows the token's facts, never the token.
    let (status, list) = app.admin("/v2/scim_token/list", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["token_id"], token_id.as_str());
    assert_eq!(list["items"][0]["description"], "Entra ID");
    assert_eq!(list["items"][0]["creator"], "admin");
    assert!(!list.to_string().contains(&token));

    // It provisions; the audit log names it as the actor.
    let (status, created) = scim(
        &app,
        "POST",
        "/Users",
        Some(&token),
        Some(entra_user("via-token")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let query = json!({"query": "object_id = 'via-token' and action_type = 'user.create'"});
    let (status, log) = app.admin("/v2/audit_log/list", query).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert_eq!(log["items"][0]["actor_id"], format!("scim:{token_id}"));
    assert_eq!(log["items"][0]["actor_type"], "scim_token");
    // It is a SCIM credential only: PDS refuses it.
    let answer = app.call("/v2/user/list", &token, json!({})).await;
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{}", answer.1);

    // A tampered token, and the token in another domain's host, are refused.
    let tampered = format!("{}x", &token[..token.len() - 1]);
    assert_scim_error(
        &scim(&app, "GET", "/Users", Some(&tampered), None).await,
        StatusCode::UNAUTHORIZED,
        None,
    );
    let port = app.address.rsplit(':').next().unwrap();
    let response = app
        .http
        .get(app.url("/scim/v2/Users"))
        .header("host", format!("beta.roster.test:{port}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_scim_error(&read(response).await, StatusCode::UNAUTHORIZED, None);

    // Deleted, it stops at once; deleting again is NotFound.
    let (status, _) = app
        .admin("/v2/scim_token/delete", json!({"token_id": token_id}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_scim_error(
        &scim(&app, "GET", "/Users", Some(&token), None).await,
        StatusCode::UNAUTHORIZED,
        None,
    );
    let answer = app
        .admin("/v2/scim_token/delete", json!({"token_id": token_id}))
        .await;
    crate::helpers::assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.ScimToken");
}

#[tokio::test]
async fn several_emails_and_phones_round_trip_with_the_primary_as_the_users() {
    let app = spawn_app().await;
    let body = json!({
        "schemas": [USER],
        "userName": "multi",
        "emails": [
            {"value": "home@example.com", "type": "home"},
            {"value": "work@example.com", "type": "work", "primary": true}
        ],
        "phoneNumbers": [
            {"value": "+1 555 0100", "type": "work", "primary": true},
            {"value": "+1 555 0101", "type": "mobile"}
        ]
    });
    let (status, created) = admin(&app, "POST", "/Users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["emails"].as_array().unwrap().len(), 2, "{created}");
    // PDS sees the primary as the user's e-mail and phone.
    let (_, user) = pds_user(&app, "multi").await;
    assert_eq!(user["email"], "work@example.com", "{user}");
    assert_eq!(user["phone"], "+1 555 0100", "{user}");
    // A PATCH on a non-primary element keeps the primary.
    let patch = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "new-home@example.com"}
    ]});
    let (status, patched) = admin(&app, "PATCH", "/Users/multi", Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let values: Vec<&str> = patched["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["new-home@example.com", "work@example.com"]);
    // An e-mail changed through PDS is the primary SCIM shows.
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": "multi", "email": "moved@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, read_back) = admin(&app, "GET", "/Users/multi", None).await;
    let primary: Vec<&Value> = read_back["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["primary"] == true)
        .collect();
    assert_eq!(primary.len(), 1, "{read_back}");
    assert_eq!(primary[0]["value"], "moved@example.com");
    assert_eq!(read_back["phoneNumbers"].as_array().unwrap().len(), 2);
    // Two primaries are refused, and nothing is written.
    let two = json!({"schemas": [USER], "userName": "two-primaries", "emails": [
        {"value": "a@example.com", "primary": true},
        {"value": "b@example.com", "primary": true}
    ]});
    assert_scim_error(
        &admin(&app, "POST", "/Users", Some(two)).await,
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
    );
    assert_eq!(
        pds_user(&app, "two-primaries").await.0,
        StatusCode::NOT_FOUND
    );
}

/// `GET /scim/v2<path>?<pairs>` as the admin.
async fn get_with(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut url = reqwest::Url::parse(&app.url(&format!("/scim/v2{path}"))).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    let request = app.http.get(url).bearer_auth(&app.admin_token);
    read(request.send().await.unwrap()).await
}

/// `GET /Groups?filter=...` as the admin.
async fn filtered_groups(app: &TestApp, filter: &str) -> (StatusCode, Value) {
    get_with(app, "/Groups", &[("filter", filter)]).await
}

fn ids_of(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn or_not_ne_pr_and_group_filters_are_served_from_indexes() {
    let app = spawn_app().await;
    for (name, external) in [("ann", "ext-a"), ("bob", "ext-b"), ("cid", "ext-c")] {
        let body = json!({"schemas": [USER], "userName": name, "externalId": external});
        assert_eq!(
            admin(&app, "POST", "/Users", Some(body)).await.0,
            StatusCode::CREATED
        );
    }
    let lock = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(
        admin(&app, "PATCH", "/Users/cid", Some(lock)).await.0,
        StatusCode::OK
    );

    let list = filtered(
        &app,
        r#"userName eq "ann" or userName eq "cid" or id eq "nobody""#,
    )
    .await;
    assert_eq!(ids_of(&list), ["ann", "cid"]);
    assert_eq!(list["totalResults"], 2);
    let list = filtered(&app, r#"externalId eq "ext-b" or externalId eq "ext-c""#).await;
    assert_eq!(ids_of(&list), ["bob", "cid"]);
    let list = filtered(
        &app,
        r#"(userName eq "ann" or userName eq "cid") and active eq true"#,
    )
    .await;
    assert_eq!(ids_of(&list), ["ann"]);
    let list = filtered(&app, "not (active eq true)").await;
    assert_eq!(ids_of(&list), ["cid"]);
    let list = filtered(&app, "active ne true").await;
    assert_eq!(ids_of(&list), ["cid"]);
    let list = filtered(&app, r#"userName pr and active eq false"#).await;
    assert_eq!(ids_of(&list), ["cid"]);
    // What no index serves is refused, not scanned.
    for bad in [
        r#"userName eq "ann" or displayName eq "x""#,
        r#"userName ew "n""#,
        r#"not (userName eq "ann")"#,
        r#"userName ne "ann""#,
        r#"title pr"#,
    ] {
        let answer = get_with(&app, "/Users", &[("filter", bad)]).await;
        assert_scim_error(&answer, StatusCode::BAD_REQUEST, Some("invalidFilter"));
    }
    let many = (0..101)
        .map(|i| format!("userName eq \"u{i}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    let answer = get_with(&app, "/Users", &[("filter", &many)]).await;
    assert_scim_error(&answer, StatusCode::BAD_REQUEST, Some("tooMany"));

    // Groups by externalId and by member.
    let body = json!({"schemas": [GROUP], "displayName": "Sales", "externalId": "g-ext-1",
                      "members": [{"value": "ann"}, {"value": "bob"}]});
    let (status, sales) = admin(&app, "POST", "/Groups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{sales}");
    let body = json!({"schemas": [GROUP], "displayName": "Ops", "members": [{"value": "bob"}]});
    let (status, ops) = admin(&app, "POST", "/Groups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{ops}");
    let (sales_id, ops_id) = (sales["id"].as_str().unwrap(), ops["id"].as_str().unwrap());

    let (status, list) = filtered_groups(&app, r#"externalId eq "g-ext-1""#).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(ids_of(&list), [sales_id]);
    let (_, list) = filtered_groups(&app, r#"members.value eq "bob""#).await;
    let mut both = vec![sales_id.to_owned(), ops_id.to_owned()];
    both.sort();
    assert_eq!(ids_of(&list), both);
    assert_eq!(list["totalResults"], 2);
    let (_, list) = filtered_groups(&app, r#"members[value eq "ann"]"#).await;
    assert_eq!(ids_of(&list), [sales_id]);
    let (_, list) =
        filtered_groups(&app, r#"members.value eq "bob" and displayName eq "ops""#).await;
    assert_eq!(ids_of(&list), [ops_id]);
    let (_, list) = filtered_groups(&app, r#"members.value eq "nobody""#).await;
    assert_eq!(list["totalResults"], 0);
    let (_, list) = filtered_groups(&app, &format!("id eq \"{ops_id}\"")).await;
    assert_eq!(ids_of(&list), [ops_id]);
    let answer = filtered_groups(&app, r#"displayName co "a""#).await;
    assert_scim_error(&answer, StatusCode::BAD_REQUEST, Some("invalidFilter"));
}

#[tokio::test]
async fn date_ranges_on_meta_are_served_and_paged_by_cursor() {
    let (app, clock) = crate::helpers::spawn_with_manual_clock(|_| {}).await;
    let step = std::time::Duration::from_secs(60);
    for name in ["early-1", "early-2"] {
        let body = json!({"schemas": [USER], "userName": name});
        assert_eq!(
            admin(&app, "POST", "/Users", Some(body)).await.0,
            StatusCode::CREATED
        );
    }
    clock.advance(step);
    let (_, early) = admin(&app, "GET", "/Users/early-1", None).await;
    let created = early["meta"]["created"].as_str().unwrap().to_owned();
    clock.advance(step);
    let (_, later) = admin(
        &app,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "later"})),
    )
    .await;
    clock.advance(step);
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Changed"}]});
    assert_eq!(
        admin(&app, "PATCH", "/Users/early-2", Some(patch)).await.0,
        StatusCode::OK
    );
    let since = format!("meta.lastModified gt \"{created}\"");
    let list = filtered(&app, &since).await;
    assert_eq!(ids_of(&list), ["early-2", "later"], "{list}");
    assert_eq!(list["totalResults"], 2);
    let list = filtered(&app, &format!("meta.created gt \"{created}\"")).await;
    assert_eq!(ids_of(&list), ["later"]);
    let list = filtered(
        &app,
        &format!("meta.created le \"{created}\" and userName sw \"early\""),
    )
    .await;
    assert_eq!(ids_of(&list), ["early-1", "early-2"]);
    let until = later["meta"]["created"].as_str().unwrap();
    let list = filtered(
        &app,
        &format!("meta.created gt \"{created}\" and meta.created lt \"{until}\""),
    )
    .await;
    assert_eq!(list["totalResults"], 0, "{list}");
    // A cursor walk of the range, one per page, in the order of the time.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let pairs = [
            ("filter", since.as_str()),
            ("count", "1"),
            ("cursor", &cursor),
        ];
        let (status, page) = get_with(&app, "/Users", &pairs).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(ids_of(&page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
        assert!(seen.len() <= 2, "{seen:?}");
    }
    assert_eq!(seen, ["later", "early-2"]);
}

/// The parent of a group as the PDS API answers it.
async fn pds_parent(app: &TestApp, group_id: &str) -> String {
    let (status, group) = app
        .admin("/v2/group/get", json!({"group_id": group_id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{group}");
    group["parent_group_id"].as_str().unwrap().to_owned()
}

async fn scim_group(app: &TestApp, body: Value) -> String {
    let (status, created) = admin(app, "POST", "/Groups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

/// `(value, type)` of a group's members, sorted.
fn members_shown(group: &Value) -> Vec<(String, String)> {
    let mut members: Vec<(String, String)> = group["members"]
        .as_array()
        .unwrap_or_else(|| panic!("{group}"))
        .iter()
        .map(|m| {
            let (id, kind) = (m["value"].as_str().unwrap(), m["type"].as_str().unwrap());
            let endpoint = if kind == "Group" { "Groups" } else { "Users" };
            assert!(
                m["$ref"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{endpoint}/{id}")),
                "{m}"
            );
            (id.to_owned(), kind.to_owned())
        })
        .collect();
    members.sort();
    members
}

/// `PATCH /Groups/<group>` with one members operation, as the admin.
async fn patch_group_members(
    app: &TestApp,
    group: &str,
    op: &str,
    path: &str,
    value: Value,
) -> (StatusCode, Value) {
    let body = patch_members(op, path, value);
    admin(app, "PATCH", &format!("/Groups/{group}"), Some(body)).await
}

fn patch_members(op: &str, path: &str, value: Value) -> Value {
    let mut operation = json!({"op": op, "path": path});
    if !value.is_null() {
        operation["value"] = value;
    }
    json!({"schemas": [PATCH], "Operations": [operation]})
}

/// A group created with several nested groups, one of them refused, leaves nothing behind:
/// neither the new group nor the nestings made before the refusal.
#[tokio::test]
async fn a_group_whose_nested_member_is_refused_is_not_half_made() {
    let app = spawn_app().await;
    let free = scim_group(&app, json!({"schemas": [GROUP], "displayName": "Free"})).await;
    let parent = scim_group(&app, json!({"schemas": [GROUP], "displayName": "Parent"})).await;
    let (status, taken) = admin(
        &app,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Taken", "members": []})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    let taken = taken["id"].as_str().unwrap().to_owned();
    let (status, _) = patch_group_members(
        &app,
        &parent,
        "add",
        "members",
        json!([{"value": &taken, "type": "Group"}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let refused = admin(
        &app,
        "POST",
        "/Groups",
        Some(
            json!({"schemas": [GROUP], "displayName": "New", "members": [
            {"value": &free, "type": "Group"}, {"value": &taken, "type": "Group"}]}),
        ),
    )
    .await;
    assert_scim_error(&refused, StatusCode::CONFLICT, None);
    assert_eq!(pds_parent(&app, &free).await, "");
    assert_eq!(pds_parent(&app, &taken).await, parent);
    let (status, found) = filtered_groups(&app, "displayName eq \"New\"").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(ids_of(&found).is_empty(), "{found}");
}

#[tokio::test]
async fn groups_as_members_nest_in_the_group_tree() {
    let app = spawn_app().await;
    let (status, _) = admin(
        &app,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "ann"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let a = scim_group(&app, json!({"schemas": [GROUP], "displayName": "A"})).await;
    let c = scim_group(&app, json!({"schemas": [GROUP], "displayName": "C"})).await;
    let (status, b) = admin(
        &app,
        "POST",
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "B", "members": [
            {"value": "ann"}, {"value": &a, "type": "Group"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let b = b["id"].as_str().unwrap().to_owned();
    assert_eq!(pds_parent(&app, &a).await, b);

    // A member without a type is a group when no user has its id.
    let (status, patched) =
        patch_group_members(&app, &b, "add", "members", json!([{"value": &c}])).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(pds_parent(&app, &c).await, b);
    let (status, shown) = admin(&app, "GET", &format!("/Groups/{b}"), None).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let mut expected = vec![
        (a.clone(), "Group".to_owned()),
        (c.clone(), "Group".to_owned()),
        ("ann".to_owned(), "User".to_owned()),
    ];
    expected.sort();
    assert_eq!(members_shown(&shown), expected);
    // `members.value eq` finds the parent of a nested group, as it finds a user's groups.
    let (status, found) = filtered_groups(&app, &format!("members.value eq \"{a}\"")).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(ids_of(&found), vec![b.clone()]);
    let (_, found) = filtered_groups(&app, "members.value eq \"ann\"").await;
    assert_eq!(ids_of(&found), vec![b.clone()]);

    // Never into its own subtree: B under A (its child), B under itself.
    for (target, member) in [(&a, &b), (&b, &b)] {
        let refused = patch_group_members(
            &app,
            target,
            "add",
            "members",
            json!([{"value": member, "type": "Group"}]),
        )
        .await;
        assert_scim_error(&refused, StatusCode::BAD_REQUEST, Some("invalidValue"));
    }
    assert_eq!(pds_parent(&app, &b).await, "");
    // A group under another group is not moved silently: its provider removes it there first.
    let d = scim_group(&app, json!({"schemas": [GROUP], "displayName": "D"})).await;
    let refused = patch_group_members(
        &app,
        &d,
        "add",
        "members",
        json!([{"value": &a, "type": "Group"}]),
    )
    .await;
    assert_scim_error(&refused, StatusCode::CONFLICT, None);
    assert_eq!(pds_parent(&app, &a).await, b);
    let missing = patch_group_members(
        &app,
        &d,
        "add",
        "members",
        json!([{"value": "0123456789abcdef0123456789abcdef", "type": "Group"}]),
    )
    .await;
    assert_scim_error(&missing, StatusCode::BAD_REQUEST, Some("invalidValue"));
    let bad_type = patch_group_members(
        &app,
        &d,
        "add",
        "members",
        json!([{"value": &a, "type": "Robot"}]),
    )
    .await;
    assert_scim_error(&bad_type, StatusCode::BAD_REQUEST, Some("invalidValue"));

    // A group with nested groups is not deleted under them.
    let refused = admin(&app, "DELETE", &format!("/Groups/{b}"), None).await;
    assert_scim_error(&refused, StatusCode::CONFLICT, None);

    // Removed from B's members, A goes to the top of the tree; a removal of a group that is
    // not nested there changes nothing (Entra ID removes members already gone).
    let (status, _) = patch_group_members(
        &app,
        &b,
        "remove",
        &format!("members[value eq \"{a}\"]"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pds_parent(&app, &a).await, "");
    let (status, _) = patch_group_members(
        &app,
        &b,
        "remove",
        &format!("members[value eq \"{d}\"]"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pds_parent(&app, &d).await, "");
    assert_eq!(pds_parent(&app, &c).await, b);

    // PUT replaces the members: C leaves, then comes back with A.
    let put = |members: Value| json!({"schemas": [GROUP], "displayName": "B", "members": members});
    let (status, replaced) = admin(
        &app,
        "PUT",
        &format!("/Groups/{b}"),
        Some(put(json!([{"value": "ann"}]))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(
        members_shown(&replaced),
        vec![("ann".to_owned(), "User".to_owned())]
    );
    assert_eq!(pds_parent(&app, &c).await, "");
    let (status, replaced) = admin(
        &app,
        "PUT",
        &format!("/Groups/{b}"),
        Some(put(json!([{"value": &c, "type": "Group"}, {"value": &a}]))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(members_shown(&replaced).len(), 2, "{replaced}");
    assert_eq!(pds_parent(&app, &a).await, b);
    assert_eq!(pds_parent(&app, &c).await, b);

    // Each move is the API's group move: a `group.moved` event about the group.
    let (status, feed) = app.admin("/v2/event/list", json!({"limit": 100})).await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    let moves = |group: &str| {
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "group.moved" && e["data"]["group_id"] == group)
            .count()
    };
    // A: into B, out, back in; C: into B, out, back in.
    assert_eq!(moves(&a), 3, "{feed}");
    assert_eq!(moves(&c), 3, "{feed}");
}
