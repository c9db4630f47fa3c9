//! Editing after creation in the console (issue 20): an app's settings, a webhook, a
//! subdomain's settings and quotas, and deleting a subdomain. Driven like a browser (signed in
//! through the hosted sign-in, forms posted with the page's token); every outcome is checked
//! through the API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::apps::EC_PUBLIC;
use crate::browser::{Answer, Browser};
use crate::console_pages::{attrs, plain_and_group_admin, receiver, signed_in};
use crate::helpers::{spawn_app, spawn_with, TestApp, TestStore};
use crate::helpers::{ADMIN_PASSWORD, USER_PASSWORD};

/// Posts `pairs` to `path` with the page's form token `csrf`.
async fn post(b: &mut Browser, path: &str, csrf: &str, pairs: &[(&str, &str)]) -> Answer {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(pairs);
    b.post(path, &all).await
}

/// The form token of the console page at `path`.
async fn token(b: &mut Browser, path: &str) -> String {
    let page = b.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    page.field("csrf")
}

/// A refused form: a sentence (never the wire's JSON) next to the field `id`.
fn refused_at(answer: &Answer, status: StatusCode, id: &str) {
    assert_eq!(answer.status, status, "{id}: {}", answer.body);
    assert!(
        answer.body.contains(&format!("id=\"{id}-error\"")),
        "{id}: {}",
        answer.body
    );
    assert!(!answer.body.contains("\"code\""), "{}", answer.body);
}

/// Another top-level domain with its superadmin's token.
async fn other_tenant(app: &TestApp, id: &str) -> String {
    let (status, domain) = app
        .admin(
            "/v2/domain/create",
            json!({"domain_id": id, "domain_name": id, "admin_password": ADMIN_PASSWORD}),
        )
        .await;
    assert!(status.is_success(), "{domain}");
    app.login_in(id, "admin", ADMIN_PASSWORD).await
}

/// The audit records of `action` on `object`, as the admin reads them.
async fn audited(app: &TestApp, action: &str, object: &str) -> Vec<Value> {
    let query = format!("action_type = '{action}' and object_id = '{object}'");
    let (status, page) = app
        .admin("/v2/audit_log/list", json!({"query": query, "limit": 50}))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

/// The edit form of a JWT app.
fn jwt_form<'a>(id: &'a str, name: &'a str, key: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("action", "app_update"),
        ("client_id", id),
        ("app_type", "ServerSide"),
        ("app_name", name),
        ("public_key", key),
        ("algorithm", "ES256"),
    ]
}

/// A user signs in to the app at `redirect_uri` (trusted: no consent) and the app exchanges
/// the code with its client secret.
async fn code_flow_works(app: &TestApp, client_id: &str, secret: &str, redirect_uri: &str) {
    let query = serde_urlencoded::to_string([
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("hide_consent", "true"),
        ("state", "xyz"),
    ])
    .unwrap();
    let mut browser = Browser::new(app);
    let page = browser.get(&format!("/v2/oauth/authorize?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let done = browser.sign_in(&page, "admin", ADMIN_PASSWORD).await;
    assert!(
        done.location().starts_with(redirect_uri),
        "{}",
        done.location()
    );
    let code = done.redirect_param("code").unwrap();
    let (status, token) = app
        .token_grant(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("code", &code),
            ("redirect_uri", redirect_uri),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
}

async fn app_get(app: &TestApp, client_id: &str) -> (StatusCode, Value) {
    app.admin("/v2/app/get", json!({"client_id": client_id}))
        .await
}

#[tokio::test]
async fn apps_are_edited_through_app_update() {
    let app = spawn_app().await;
    let (status, made) = app
        .admin(
            "/v2/app/create",
            json!({"app_name": "Photos", "app_type": "WebServer", "trusted": true,
                   "redirect_uris": ["https://photos.example.com/cb"], "scopes": ["openid"]}),
        )
        .await;
    assert!(status.is_success(), "{made}");
    let client_id = made["client_id"].as_str().unwrap().to_owned();
    let secret = made["client_secret"].as_str().unwrap().to_owned();
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console/apps").await;
    let edit = format!("/console/apps?edit_app={client_id}");
    assert!(
        page.body.contains(&format!("href=\"{edit}#edit-app\"")),
        "{}",
        page.body
    );

    // The edit form shows the app as it is, and never a secret.
    let form = browser.get(&edit).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("id=\"edit-app-form\""));
    assert!(form
        .body
        .contains(">https://photos.example.com/cb</textarea>"));
    assert!(form
        .body
        .contains("name=\"scope_openid\" value=\"yes\" checked"));
    assert!(!form.body.contains(&secret));
    let csrf = form.field("csrf");
    let path = "/console/apps/action";
    let edited = [
        ("action", "app_update"),
        ("client_id", client_id.as_str()),
        ("app_type", "WebServer"),
        ("app_name", "Photos and videos"),
        (
            "redirect_uris",
            "https://photos.example.com/cb\r\nhttps://videos.example.com/cb",
        ),
        ("scope_openid", "yes"),
        ("scope_email", "yes"),
        ("trusted", "yes"),
    ];
    let done = post(&mut browser, path, &csrf, &edited).await;
    assert_eq!(done.location(), "/console/apps", "{}", done.body);
    let (_, got) = app_get(&app, &client_id).await;
    assert_eq!(got["app_name"], "Photos and videos", "{got}");
    assert_eq!(
        got["redirect_uris"],
        json!([
            "https://photos.example.com/cb",
            "https://videos.example.com/cb"
        ])
    );
    assert_eq!(got["scopes"], json!(["openid", "email"]));
    assert_eq!(got["trusted"], true);
    assert!(!browser.get("/console/apps").await.body.contains(&secret));
    let records = audited(&app, "app.update", &client_id).await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["actor_id"], "admin");
    // The new redirect URI works, and the client secret is the one shown at creation.
    code_flow_works(&app, &client_id, &secret, "https://videos.example.com/cb").await;

    // Bad inputs: the service's sentence next to the field, the values kept, nothing changed.
    for (uris, name, field) in [
        ("ftp://photos.example.com/cb", "X", "edit-app-redirect_uris"),
        ("", "X", "edit-app-redirect_uris"),
        ("https://a.example/cb#frag", "X", "edit-app-redirect_uris"),
        ("https://a.example/cb", "", "edit-app-app_name"),
    ] {
        let mut bad = edited.to_vec();
        bad[3] = ("app_name", name);
        bad[4] = ("redirect_uris", uris);
        let answer = post(&mut browser, path, &csrf, &bad).await;
        refused_at(&answer, StatusCode::BAD_REQUEST, field);
        assert!(answer.body.contains("id=\"edit-app-form\""));
        assert!(
            answer.body.contains(&format!(">{uris}</textarea>")),
            "{}",
            answer.body
        );
    }
    let mut bad = edited.to_vec();
    bad[4] = ("redirect_uris", "ftp://x");
    let answer = post(&mut browser, path, &csrf, &bad).await;
    assert!(
        answer.body.contains(
            "redirect_uris is not valid (redirect URIs are https, http on loopback, or an app"
        ),
        "{}",
        answer.body
    );
    let (_, got) = app_get(&app, &client_id).await;
    assert_eq!(got["app_name"], "Photos and videos");
    assert_eq!(got["redirect_uris"].as_array().map(Vec::len), Some(2));

    // A JWT app: its name and key; a key that is not one is refused next to it.
    let (_, jwt) = app
        .admin(
            "/v2/app/create",
            json!({"app_name": "Sync", "public_key": EC_PUBLIC, "algorithm": "ES256"}),
        )
        .await;
    let jwt_id = jwt["client_id"].as_str().unwrap().to_owned();
    let form = browser
        .get(&format!("/console/apps?edit_app={jwt_id}"))
        .await;
    assert!(form.body.contains("id=\"edit-app-public_key\""));
    assert!(!form.body.contains("id=\"edit-app-redirect_uris\""));
    let done = post(
        &mut browser,
        path,
        &csrf,
        &jwt_form(&jwt_id, "Sync 2", EC_PUBLIC),
    )
    .await;
    assert_eq!(done.location(), "/console/apps", "{}", done.body);
    let (_, got) = app_get(&app, &jwt_id).await;
    assert_eq!(got["app_name"], "Sync 2", "{got}");
    let bad = post(
        &mut browser,
        path,
        &csrf,
        &jwt_form(&jwt_id, "Sync 3", "not a key"),
    )
    .await;
    refused_at(&bad, StatusCode::BAD_REQUEST, "edit-app-public_key");
    let (_, got) = app_get(&app, &jwt_id).await;
    assert_eq!(got["app_name"], "Sync 2");

    // Without the page's token, or from another site: refused, nothing changed.
    let mut renamed = edited.to_vec();
    renamed[3] = ("app_name", "Forged");
    for forged in [
        browser.post(path, &renamed).await,
        post(&mut browser, path, "forged", &renamed).await,
    ] {
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
    }
    let mut with_token = vec![("csrf", csrf.as_str())];
    with_token.extend_from_slice(&renamed);
    let cross = browser
        .post_from(path, &with_token, "http://evil.example", "cross-site")
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let (_, got) = app_get(&app, &client_id).await;
    assert_eq!(got["app_name"], "Photos and videos");

    // Another tenant's app: not found, and unchanged.
    let other = other_tenant(&app, "other").await;
    let (_, theirs) = app
        .call(
            "/v2/app/create",
            &other,
            json!({"app_name": "Theirs", "app_type": "SinglePageApp",
                   "redirect_uris": ["https://theirs.example/cb"]}),
        )
        .await;
    let their_id = theirs["client_id"].as_str().unwrap().to_owned();
    let mut at_theirs = edited.to_vec();
    at_theirs[1] = ("client_id", &their_id);
    let refused = post(&mut browser, path, &csrf, &at_theirs).await;
    refused_at(&refused, StatusCode::BAD_REQUEST, "page");
    assert!(refused.body.contains("Not found."), "{}", refused.body);
    let page = browser
        .get(&format!("/console/apps?edit_app={their_id}"))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let (_, still) = app
        .call("/v2/app/get", &other, json!({"client_id": their_id}))
        .await;
    assert_eq!(still["app_name"], "Theirs", "{still}");

    // An admin manages webhooks and keys, not apps (as app/update allows); group admins and
    // plain users are refused the page.
    app.user_with_role("ada", "admin").await;
    let mut ada = signed_in(&app, "ada", USER_PASSWORD).await;
    assert_eq!(ada.get(&edit).await.status, StatusCode::FORBIDDEN);
    let ada_csrf = token(&mut ada, "/console/apps").await;
    let refused = post(&mut ada, path, &ada_csrf, &renamed).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let (mut plain, mut gadmin) = plain_and_group_admin(&app).await;
    for browser in [&mut plain, &mut gadmin] {
        assert_eq!(browser.get(&edit).await.status, StatusCode::FORBIDDEN);
    }
    let (_, got) = app_get(&app, &client_id).await;
    assert_eq!(got["app_name"], "Photos and videos");

    // An unticked box is a change: no longer trusted.
    let untrusted: Vec<_> = edited
        .iter()
        .copied()
        .filter(|(k, _)| *k != "trusted")
        .collect();
    let done = post(&mut browser, path, &csrf, &untrusted).await;
    assert_eq!(done.location(), "/console/apps", "{}", done.body);
    let (_, got) = app_get(&app, &client_id).await;
    assert_eq!(got["trusted"], false, "{got}");

    // Simplified Chinese.
    browser.language = "zh-CN";
    let page = browser.get(&edit).await;
    assert!(page.body.contains("编辑应用"), "{}", page.body);
}

/// The webhook edit form of `id`: its URL, its delivery box `(ticked, as shown)`, and more
/// fields (ticked event types, description).
fn webhook_form<'a>(
    id: &'a str,
    url: &'a str,
    (enabled, was_enabled): (&'a str, &'a str),
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("action", "webhook_update"),
        ("webhook_id", id),
        ("was_enabled", was_enabled),
        ("enabled", enabled),
        ("url", url),
    ];
    form.extend_from_slice(more);
    form
}

async fn webhook_get(app: &TestApp, id: &str) -> Value {
    let (status, hook) = app
        .admin("/v2/webhook/get", json!({"webhook_id": id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{hook}");
    hook
}

#[tokio::test]
async fn webhooks_are_edited_through_webhook_update() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.webhooks.allow_private = true;
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    let url = receiver().await;
    let (status, made) = app
        .admin(
            "/v2/webhook/create",
            json!({"url": url, "event_types": ["user.created"], "description": "sync"}),
        )
        .await;
    assert!(status.is_success(), "{made}");
    let id = made["webhook_id"].as_str().unwrap().to_owned();
    // An admin (not only a superadmin) edits webhooks.
    app.user_with_role("ada", "admin").await;
    let mut ada = signed_in(&app, "ada", USER_PASSWORD).await;
    let page = ada.get("/console/apps").await;
    let edit = format!("/console/apps?edit_webhook={id}");
    assert!(page.body.contains(&format!("href=\"{edit}#edit-webhook\"")));
    let form = ada.get(&edit).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form
        .body
        .contains("name=\"type_user.created\" value=\"yes\" checked"));
    assert!(form
        .body
        .contains("name=\"type_user.deleted\" value=\"yes\">"));
    assert!(form.body.contains("name=\"enabled\" value=\"yes\" checked"));
    let csrf = form.field("csrf");
    let path = "/console/apps/action";
    let other_url = receiver().await;
    let done = post(
        &mut ada,
        path,
        &csrf,
        &webhook_form(
            &id,
            &other_url,
            ("yes", "yes"),
            &[
                ("type_user.deleted", "yes"),
                ("type_group.created", "yes"),
                ("description", "nightly sync"),
            ],
        ),
    )
    .await;
    assert_eq!(done.location(), "/console/apps", "{}", done.body);
    let hook = webhook_get(&app, &id).await;
    assert_eq!(hook["url"], other_url.as_str(), "{hook}");
    assert_eq!(
        hook["event_types"],
        json!(["group.created", "user.deleted"])
    );
    assert_eq!(hook["description"], "nightly sync");
    assert_eq!(hook["enabled"], true);
    assert_eq!(audited(&app, "webhook.update", &id).await.len(), 1);

    // None ticked: every type; the box unticked: disabled; ticked again: enabled.
    for (enabled, was, expected) in [("", "yes", false), ("yes", "", true)] {
        let done = post(
            &mut ada,
            path,
            &csrf,
            &webhook_form(
                &id,
                &other_url,
                (enabled, was),
                &[("description", "nightly sync")],
            ),
        )
        .await;
        assert_eq!(done.location(), "/console/apps", "{}", done.body);
        let hook = webhook_get(&app, &id).await;
        assert_eq!(hook["event_types"], json!([]), "{hook}");
        assert_eq!(hook["enabled"], expected, "{hook}");
    }
    let page = ada.get("/console/apps").await;
    let row = &page.body[page
        .body
        .find(&format!("data-webhook-id=\"{id}\""))
        .unwrap()..];
    assert!(row.contains("<td>all</td>"), "{row}");

    // Bad inputs next to their fields, the values kept; nothing changed.
    for (url, ty, field) in [
        ("not a url", "user.created", "edit-webhook-url"),
        ("ftp://example.com/hook", "user.created", "edit-webhook-url"),
        (
            other_url.as_str(),
            "user.exploded",
            "edit-webhook-event_types",
        ),
    ] {
        let type_field = format!("type_{ty}");
        let bad = post(
            &mut ada,
            path,
            &csrf,
            &webhook_form(&id, url, ("yes", "yes"), &[(&type_field, "yes")]),
        )
        .await;
        refused_at(&bad, StatusCode::BAD_REQUEST, field);
        assert!(bad.body.contains("id=\"edit-webhook-form\""));
    }
    assert_eq!(webhook_get(&app, &id).await["url"], other_url.as_str());

    // Without the page's token: refused.
    let forged = ada
        .post(
            path,
            &[
                ("action", "webhook_update"),
                ("webhook_id", &id),
                ("url", "http://127.0.0.1:9/forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Another tenant's webhook: not found, unchanged.
    let other = other_tenant(&app, "other").await;
    let (_, theirs) = app
        .call(
            "/v2/webhook/create",
            &other,
            json!({"url": "http://127.0.0.1:9/theirs"}),
        )
        .await;
    let their_id = theirs["webhook_id"].as_str().unwrap().to_owned();
    let refused = post(
        &mut ada,
        path,
        &csrf,
        &[
            ("action", "webhook_update"),
            ("webhook_id", &their_id),
            ("url", "http://127.0.0.1:9/mine"),
        ],
    )
    .await;
    refused_at(&refused, StatusCode::BAD_REQUEST, "page");
    let (_, still) = app
        .call("/v2/webhook/get", &other, json!({"webhook_id": their_id}))
        .await;
    assert_eq!(still["url"], "http://127.0.0.1:9/theirs", "{still}");

    // Group admins and plain users are refused the page and the form.
    let (mut plain, mut gadmin) = plain_and_group_admin(&app).await;
    for browser in [&mut plain, &mut gadmin] {
        assert_eq!(browser.get(&edit).await.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn webhook_edits_refuse_private_urls_as_the_api_does() {
    let app = spawn_app().await;
    let (status, made) = app
        .admin(
            "/v2/webhook/create",
            json!({"url": "https://93.184.215.14/hook"}),
        )
        .await;
    assert!(status.is_success(), "{made}");
    let id = made["webhook_id"].as_str().unwrap().to_owned();
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let csrf = token(&mut browser, &format!("/console/apps?edit_webhook={id}")).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/hook",
    ] {
        let bad = post(
            &mut browser,
            "/console/apps/action",
            &csrf,
            &webhook_form(&id, url, ("yes", "yes"), &[]),
        )
        .await;
        refused_at(&bad, StatusCode::BAD_REQUEST, "edit-webhook-url");
        assert!(bad.body.contains("internal address"), "{url}: {}", bad.body);
    }
    let hook = webhook_get(&app, &id).await;
    assert_eq!(hook["url"], "https://93.184.215.14/hook");
}

async fn domain_get(app: &TestApp, id: &str) -> (StatusCode, Value) {
    app.admin("/v2/domain/get", json!({"domain_id": id})).await
}

/// The subdomain form's fields with `users` and `size` (MiB) as its quotas.
fn quotas<'a>(
    id: &'a str,
    name: &'a str,
    users: &'a str,
    size: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("action", "subdomain_update"),
        ("domain_id", id),
        ("domain_name", name),
        ("description", "A tenant"),
        ("init_drive_mib", "0"),
        ("size_quota_mib", size),
        ("user_count_quota", users),
    ]
}

/// A domain's row's **Delete**, its box ticked or not.
async fn delete_below(b: &mut Browser, csrf: &str, id: &str, confirmed: bool) -> Answer {
    let confirm = if confirmed { "yes" } else { "" };
    let form = [
        ("action", "subdomain_delete"),
        ("domain_id", id),
        ("confirm", confirm),
    ];
    post(b, "/console/domain", csrf, &form).await
}

#[tokio::test]
async fn superadmins_edit_and_delete_the_domains_below_them() {
    let app = spawn_app().await;
    let acme = other_tenant(&app, "acme").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console/domain").await;
    assert_eq!(attrs(&page, "data-domain-id"), ["acme"]);
    assert!(page
        .body
        .contains("href=\"/console/domain?edit=acme#edit-domain\""));
    let form = browser.get("/console/domain?edit=acme").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("id=\"edit-domain-form\""));
    assert!(form
        .body
        .contains("id=\"edit-domain_name\" name=\"domain_name\" value=\"acme\""));
    let csrf = form.field("csrf");
    let path = "/console/domain";
    let done = post(
        &mut browser,
        path,
        &csrf,
        &quotas("acme", "Acme", "20", "2048"),
    )
    .await;
    assert_eq!(done.location(), "/console/domain", "{}", done.body);
    let (_, domain) = domain_get(&app, "acme").await;
    assert_eq!(domain["domain_name"], "Acme", "{domain}");
    assert_eq!(domain["user_count_quota"], 20);
    assert_eq!(domain["size_quota"], 2048u64 << 20);
    assert_eq!(domain["description"], "A tenant");
    assert_eq!(audited(&app, "domain.update", "acme").await.len(), 1);

    // Bad inputs next to their fields, the typed values kept; nothing changed.
    for (form, field) in [
        (
            quotas("acme", "Acme", "many", "2048"),
            "edit-user_count_quota",
        ),
        (
            quotas("acme", "Acme", "-3", "2048"),
            "edit-user_count_quota",
        ),
        (quotas("acme", "Acme", "20", "-5"), "edit-size_quota_mib"),
        (quotas("acme", "", "20", "2048"), "edit-domain_name"),
    ] {
        let bad = post(&mut browser, path, &csrf, &form).await;
        refused_at(&bad, StatusCode::BAD_REQUEST, field);
        assert!(bad.body.contains("id=\"edit-domain-form\""));
    }
    let bad = post(
        &mut browser,
        path,
        &csrf,
        &quotas("acme", "Acme", "many", "2048"),
    )
    .await;
    assert!(bad.body.contains("value=\"many\""), "{}", bad.body);
    let (_, domain) = domain_get(&app, "acme").await;
    assert_eq!(domain["user_count_quota"], 20);

    // Without the page's token: refused.
    let forged = browser
        .post(path, &quotas("acme", "Forged", "1", "1"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // A domain it does not manage: its own, or a subdomain of another tenant's.
    let (status, sub) = app
        .call(
            "/v2/domain/create",
            &acme,
            json!({"domain_id": "acme-labs", "domain_name": "Labs",
                   "parent_domain_id": "acme", "admin_password": ADMIN_PASSWORD}),
        )
        .await;
    assert!(status.is_success(), "{sub}");
    // (Its own domain's settings are the settings form's, as domain/update allows.)
    let refused = post(
        &mut browser,
        path,
        &csrf,
        &quotas("acme-labs", "Mine", "1", "1"),
    )
    .await;
    refused_at(&refused, StatusCode::NOT_FOUND, "page");
    assert!(refused.body.contains("Not found."), "{}", refused.body);
    for id in ["acme-labs", "default"] {
        let gone = delete_below(&mut browser, &csrf, id, true).await;
        refused_at(&gone, StatusCode::NOT_FOUND, "page");
    }
    let (_, labs) = app
        .call("/v2/domain/get", &acme, json!({"domain_id": "acme-labs"}))
        .await;
    assert_eq!(labs["domain_name"], "Labs", "{labs}");
    assert_eq!(
        browser.get("/console/domain?edit=acme-labs").await.status,
        StatusCode::NOT_FOUND
    );

    // An admin reads its domain but neither edits nor deletes the domains below it.
    app.user_with_role("ada", "admin").await;
    let mut ada = signed_in(&app, "ada", USER_PASSWORD).await;
    let ada_csrf = token(&mut ada, "/console/domain").await;
    assert_eq!(
        ada.get("/console/domain?edit=acme").await.status,
        StatusCode::NOT_FOUND
    );
    let refused = post(
        &mut ada,
        path,
        &ada_csrf,
        &quotas("acme", "Ada's", "1", "1"),
    )
    .await;
    refused_at(&refused, StatusCode::NOT_FOUND, "page");
    let refused = delete_below(&mut ada, &ada_csrf, "acme", true).await;
    refused_at(&refused, StatusCode::NOT_FOUND, "page");
    let (status, domain) = domain_get(&app, "acme").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(domain["domain_name"], "Acme");
    let (mut plain, mut gadmin) = plain_and_group_admin(&app).await;
    for browser in [&mut plain, &mut gadmin] {
        let page = browser.get("/console/domain?edit=acme").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }

    // Deleting: unconfirmed, the API's rule (force) as a sentence on its row; confirmed, gone
    // with everything in it.
    let unconfirmed = delete_below(&mut browser, &csrf, "acme", false).await;
    refused_at(&unconfirmed, StatusCode::BAD_REQUEST, "row");
    assert!(
        unconfirmed
            .body
            .contains("Not done: deleting a domain deletes everything in it"),
        "{}",
        unconfirmed.body
    );
    assert_eq!(domain_get(&app, "acme").await.0, StatusCode::OK);
    // A domain with subdomains of its own: the store's rule, said on its row.
    let nested = delete_below(&mut browser, &csrf, "acme", true).await;
    refused_at(&nested, StatusCode::BAD_REQUEST, "row");
    assert!(
        nested
            .body
            .contains("Not done: the domain still has subdomains"),
        "{}",
        nested.body
    );
    let (status, body) = app
        .call(
            "/v2/domain/delete",
            &acme,
            json!({"domain_id": "acme-labs", "force": true}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let gone = delete_below(&mut browser, &csrf, "acme", true).await;
    assert_eq!(gone.location(), "/console/domain", "{}", gone.body);
    assert_eq!(domain_get(&app, "acme").await.0, StatusCode::NOT_FOUND);
    let page = browser.get("/console/domain").await;
    assert!(attrs(&page, "data-domain-id").is_empty(), "{}", page.body);
    // Each attempt is on the audit log as the API's would be: the refused ones too.
    let records = audited(&app, "domain.delete", "acme").await;
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(records[0]["outcome"], "success", "{records:?}");

    // Simplified Chinese.
    other_tenant(&app, "zeta").await;
    browser.language = "zh-CN";
    let page = browser.get("/console/domain?edit=zeta").await;
    assert!(page.body.contains("编辑域"), "{}", page.body);
    assert!(page.body.contains("确认删除该域及其中的全部内容"));
}
