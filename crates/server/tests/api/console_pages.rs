//! The console's overview, domain, and apps and keys pages (issue 20), driven like a
//! browser: signed in through the hosted sign-in, forms posted with the page's token,
//! outcomes checked through the API.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Answer, Browser};
use crate::helpers::{spawn_app, spawn_with, Member, TestApp, TestStore};
use crate::helpers::{ADMIN_PASSWORD, USER_PASSWORD};

pub(crate) async fn signed_in(app: &TestApp, username: &str, password: &str) -> Browser {
    let mut browser = Browser::new(app);
    let page = browser.get("/signin").await;
    let done = browser.sign_in(&page, username, password).await;
    assert!(done.status.is_redirection(), "{}", done.body);
    // Into the console through its code flow (its own session, as an operator's browser).
    browser.enter_console().await;
    browser
}

/// The text of the element with `id` (up to the next tag).
pub(crate) fn text_of(page: &Answer, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("{id}: {}", page.body))
        + marker.len();
    let end = start + page.body[start..].find('<').unwrap();
    crate::browser::unescape(&page.body[start..end])
}

/// The values of `attr="..."` on the page, in order.
pub(crate) fn attrs(page: &Answer, attr: &str) -> Vec<String> {
    page.body
        .split(&format!("{attr}=\""))
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

/// A plain user and a group admin (of a group `g`), both signed in.
pub(crate) async fn plain_and_group_admin(app: &TestApp) -> (Browser, Browser) {
    app.user_with_role("pat", "user").await;
    let g = app.create_group("g", None).await;
    let (gadmin_id, _) = app.user_with_role("gadmin", "user").await;
    app.by_admin()
        .make_group_admin(&g, Member::User(&gadmin_id))
        .await;
    (
        signed_in(app, "pat", USER_PASSWORD).await,
        signed_in(app, "gadmin", USER_PASSWORD).await,
    )
}

async fn failed_login(app: &TestApp) {
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "wrong-password"),
        ])
        .await;
    assert!(status.is_client_error(), "{status}");
}

#[tokio::test]
async fn the_overview_shows_quotas_signins_and_the_latest_records() {
    let app = spawn_app().await;
    let (status, body) = app
        .admin(
            "/v2/domain/update",
            json!({"domain_id": "default", "user_count_quota": 100, "size_quota": 1u64 << 30}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    for i in 0..12 {
        app.create_user(&format!("o{i:02}"), "O").await;
    }
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (_, quota) = app.admin("/v2/domain/get_quota", json!({})).await;
    let users = quota["user_count_used"].as_i64().unwrap();
    assert_eq!(users, 13, "{quota}");
    let row = &page.body[page.body.find("id=\"users-quota\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(">13 <meter") && row.contains(">100<"), "{row}");
    assert!(page.body.contains("1.0 GiB"), "the quota: {}", page.body);
    let row = &page.body[page.body.find("id=\"storage-quota\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(">0 B <meter"), "{row}");
    let (status, drive) = app
        .admin("/v2/drive/create", json!({"drive_name": "D", "owner": "o01", "owner_type": "user", "total_size": 256u64 << 20}))
        .await;
    assert!(status.is_success(), "{drive}");
    let with_storage = browser.get("/console").await;
    let row = &with_storage.body[with_storage.body.find("id=\"storage-quota\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(">256.0 MiB <meter"), "{row}");
    assert_eq!(attrs(&page, "data-log-id").len(), 10);
    assert!(page.body.contains("href=\"/console/audit\""));

    // Sign-ins of the last day: each failed password adds one failure.
    let signins: i64 = text_of(&page, "signins").parse().unwrap();
    assert!(signins >= 1, "the browser's own sign-in");
    let failed: i64 = text_of(&page, "failed-signins").parse().unwrap();
    failed_login(&app).await;
    failed_login(&app).await;
    let page = browser.get("/console").await;
    let now: i64 = text_of(&page, "failed-signins").parse().unwrap();
    assert_eq!(now, failed + 2);

    // The kept count follows imports, batches (one item refused) and deletes at once.
    let (status, body) = app
        .admin(
            "/v2/user/import",
            json!({"user_id": "imp", "authentication_type": "email",
                   "identity": "imp@example.com", "nick_name": "Imp"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let call = |id: &str, user_id: &str| {
        json!({"id": id, "method": "POST", "url": "/user/create",
               "body": {"user_id": user_id}})
    };
    let batch = json!({"resource": "user",
                       "requests": [call("1", "bat1"), call("2", "bat2"), call("3", "o01")]});
    let (status, body) = app.admin("/v2/batch", batch).await;
    assert!(status.is_success(), "{body}");
    app.admin("/v2/user/delete", json!({"user_id": "o00"}))
        .await;
    let (_, quota) = app.admin("/v2/domain/get_quota", json!({})).await;
    assert_eq!(quota["user_count_used"], 13 + 1 + 2 - 1, "{quota}");
    let (_, listed) = app.admin("/v2/user/list", json!({"limit": 100})).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 15);

    // Simplified Chinese.
    browser.language = "zh-CN";
    let page = browser.get("/console").await;
    assert!(page.body.contains("最近 24 小时的登录"), "{}", page.body);

    // A plain user is refused; a group admin goes on to its users.
    let (mut plain, mut gadmin) = plain_and_group_admin(&app).await;
    let page = plain.get("/console").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("data-log-id"));
    let page = gadmin.get("/console").await;
    assert_eq!(page.location(), "/console/users");
    let page = gadmin.get("/console/users").await;
    assert!(
        !page.body.contains("href=\"/console/apps\""),
        "no links it may not follow"
    );
    // Anonymous: to the console's sign-in (the code flow), and nothing done.
    let mut anonymous = Browser::new(&app);
    for path in ["/console", "/console/domain", "/console/apps"] {
        let page = anonymous.get(path).await;
        assert!(
            page.location()
                .starts_with("/v2/oauth/authorize?client_id=roster-console"),
            "{path}: {}",
            page.location()
        );
    }
    for (path, action) in [
        ("/console/domain", "subdomain"),
        ("/console/apps/action", "key_create"),
    ] {
        let posted = anonymous
            .post(
                path,
                &[("csrf", "x"), ("action", action), ("new_domain_id", "anon")],
            )
            .await;
        assert!(
            posted
                .location()
                .starts_with("/v2/oauth/authorize?client_id=roster-console"),
            "{path}: {}",
            posted.location()
        );
    }
    let (status, _) = app
        .admin("/v2/domain/get", json!({"domain_id": "anon"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, keys) = app.admin("/v2/access_key/list", json!({})).await;
    assert_eq!(keys["items"].as_array().map(Vec::len), Some(0), "{keys}");
}

#[tokio::test]
async fn the_domain_page_shows_settings_and_superadmins_change_them() {
    let app = spawn_app().await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console/domain").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(text_of(&page, "domain-id"), "default");
    assert!(page
        .body
        .contains("Failed sign-ins in a row that lock an identity"));
    let csrf = page.field("csrf");
    let settings = |name: &'static str, users: &'static str, size: &'static str| {
        vec![
            ("action", "settings"),
            ("domain_name", name),
            ("description", "Our directory"),
            ("init_drive_enable", "yes"),
            ("init_drive_mib", "64"),
            ("size_quota_mib", size),
            ("user_count_quota", users),
        ]
    };
    let with_csrf = |mut form: Vec<(&'static str, &'static str)>, token: &str| {
        let mut all = vec![("csrf", token.to_owned())];
        all.extend(form.drain(..).map(|(k, v)| (k, v.to_owned())));
        all
    };
    async fn post(b: &mut Browser, form: &[(&'static str, String)]) -> Answer {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/console/domain", &pairs).await
    }
    let done = post(
        &mut browser,
        &with_csrf(settings("Renamed", "50", "1024"), &csrf),
    )
    .await;
    assert_eq!(done.location(), "/console/domain", "{}", done.body);
    let (_, domain) = app
        .admin("/v2/domain/get", json!({"domain_id": "default"}))
        .await;
    assert_eq!(domain["domain_name"], "Renamed");
    assert_eq!(domain["user_count_quota"], 50);
    assert_eq!(domain["size_quota"], 1u64 << 30);
    assert_eq!(domain["init_drive_enable"], true);
    assert_eq!(domain["init_drive_size"], 64u64 << 20);

    // Bad inputs: a sentence next to the field, the typed values kept.
    for (form, field) in [
        (settings("Renamed", "many", "1024"), "user_count_quota"),
        (settings("Renamed", "50", "-5"), "size_quota_mib"),
        (settings("", "50", "1024"), "domain_name"),
    ] {
        let bad = post(&mut browser, &with_csrf(form, &csrf)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{field}: {}", bad.body);
        assert!(
            bad.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            bad.body
        );
        assert!(!bad.body.contains("\"code\""));
    }
    let (_, domain) = app
        .admin("/v2/domain/get", json!({"domain_id": "default"}))
        .await;
    assert_eq!(domain["user_count_quota"], 50);
    // CSRF: a forged token, another site.
    let forged = post(
        &mut browser,
        &with_csrf(settings("Forged", "1", "1"), "forged"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let cross = browser
        .post_from(
            "/console/domain",
            &[
                ("csrf", &csrf),
                ("action", "settings"),
                ("domain_name", "X"),
            ],
            "http://evil.example",
            "cross-site",
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let (_, domain) = app
        .admin("/v2/domain/get", json!({"domain_id": "default"}))
        .await;
    assert_eq!(domain["domain_name"], "Renamed");

    // Domains below: created with a generated first admin password, shown once.
    let made = browser
        .post(
            "/console/domain",
            &[
                ("csrf", &csrf),
                ("action", "subdomain"),
                ("new_domain_id", "acme"),
                ("new_domain_name", "Acme"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let password = text_of(&made, "admin-password");
    assert_eq!(attrs(&made, "data-domain-id"), ["acme"]);
    app.login_in("acme", "admin", &password).await;
    let bad = browser.get("/console/domain?marker=not-a-marker").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!bad.body.contains("\"code\""), "{}", bad.body);
    let again = browser.get("/console/domain").await;
    assert!(!again.body.contains(&password), "shown once");
    for (id, name, field) in [("Bad_Id", "B", "new_domain_id"), ("acme", "Acme", "")] {
        let bad = browser
            .post(
                "/console/domain",
                &[
                    ("csrf", &csrf),
                    ("action", "subdomain"),
                    ("new_domain_id", id),
                    ("new_domain_name", name),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
        if field.is_empty() {
            assert!(bad.body.contains("already exists"), "{}", bad.body);
        } else {
            assert!(
                bad.body.contains(&format!("id=\"{field}-error\"")),
                "{}",
                bad.body
            );
        }
    }

    // An admin reads the settings but does not change them; group admins and plain users
    // are refused.
    app.user_with_role("ada", "admin").await;
    let mut ada = signed_in(&app, "ada", USER_PASSWORD).await;
    let page = ada.get("/console/domain").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Only a superadmin changes"));
    assert!(
        !page.body.contains("data-domain-id"),
        "subdomains are the superadmins'"
    );
    let token = page.field("csrf");
    let refused = post(
        &mut ada,
        &with_csrf(settings("Ada's", "50", "1024"), &token),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"settings-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("You are not allowed to do this."));
    let (_, domain) = app
        .admin("/v2/domain/get", json!({"domain_id": "default"}))
        .await;
    assert_eq!(domain["domain_name"], "Renamed");
    let (mut plain, mut gadmin) = plain_and_group_admin(&app).await;
    assert_eq!(
        plain.get("/console/domain").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        gadmin.get("/console/domain").await.status,
        StatusCode::FORBIDDEN
    );
}

/// A receiver of webhook deliveries that answers 204 to anything.
pub(crate) async fn receiver() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 65536];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    format!("http://{address}/hook")
}

#[tokio::test]
async fn apps_keys_and_webhooks_are_made_and_removed_through_the_services() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.webhooks.allow_private = true;
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    app.create_user("kim", "Kim").await;
    let mut browser = signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = browser.get("/console/apps").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.field("csrf");
    let act = |pairs: &[(&'static str, &str)]| {
        let mut all = vec![("csrf", csrf.clone())];
        all.extend(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())));
        all
    };
    async fn post(b: &mut Browser, form: Vec<(&'static str, String)>) -> Answer {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/console/apps/action", &pairs).await
    }

    // An OAuth app: its secret shown once, in the page, never in a URL.
    let made = post(
        &mut browser,
        act(&[
            ("action", "app_create"),
            ("app_name", "Photos"),
            ("app_type", "WebServer"),
            (
                "redirect_uris",
                "https://photos.example.com/cb\r\nhttp://127.0.0.1:9/cb",
            ),
            ("scope_openid", "yes"),
            ("scope_profile", "yes"),
            ("trusted", "yes"),
        ]),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let client_id = text_of(&made, "shown-id");
    let secret = text_of(&made, "secret");
    assert!(secret.len() >= 32);
    let (_, got) = app
        .admin("/v2/app/get", json!({"client_id": client_id}))
        .await;
    assert_eq!(got["app_type"], "WebServer", "{got}");
    assert_eq!(
        got["redirect_uris"],
        json!(["https://photos.example.com/cb", "http://127.0.0.1:9/cb"])
    );
    assert_eq!(got["scopes"], json!(["openid", "profile"]));
    assert_eq!(got["trusted"], true);
    assert!(!browser.get("/console/apps").await.body.contains(&secret));
    let rotated = post(
        &mut browser,
        act(&[("action", "app_rotate"), ("client_id", &client_id)]),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_ne!(text_of(&rotated, "secret"), secret);
    let off = post(
        &mut browser,
        act(&[("action", "app_disable"), ("client_id", &client_id)]),
    )
    .await;
    assert_eq!(off.location(), "/console/apps");
    let (_, got) = app
        .admin("/v2/app/get", json!({"client_id": client_id}))
        .await;
    assert_eq!(got["status"], "disabled");
    // Bad inputs, each next to its field.
    for (pairs, field) in [
        (
            vec![
                ("action", "app_create"),
                ("app_name", ""),
                ("app_type", "SinglePageApp"),
                ("redirect_uris", "https://a.example/cb"),
            ],
            "app-app_name",
        ),
        (
            vec![
                ("action", "app_create"),
                ("app_name", "X"),
                ("app_type", "WebServer"),
                ("redirect_uris", "ftp://x"),
            ],
            "app-redirect_uris",
        ),
        (
            vec![
                ("action", "app_create"),
                ("app_name", "X"),
                ("app_type", "ServerSide"),
                ("public_key", "not a key"),
            ],
            "app-public_key",
        ),
    ] {
        let bad = post(&mut browser, act(&pairs)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{field}: {}", bad.body);
        assert!(
            bad.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            bad.body
        );
    }
    // Deleting asks to confirm.
    let unconfirmed = post(
        &mut browser,
        act(&[("action", "app_delete"), ("client_id", &client_id)]),
    )
    .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(
        unconfirmed.body.contains("id=\"row-error\""),
        "{}",
        unconfirmed.body
    );
    let (status, _) = app
        .admin("/v2/app/get", json!({"client_id": client_id}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let gone = post(
        &mut browser,
        act(&[
            ("action", "app_delete"),
            ("client_id", &client_id),
            ("confirm", "yes"),
        ]),
    )
    .await;
    assert_eq!(gone.location(), "/console/apps");
    let (status, _) = app
        .admin("/v2/app/get", json!({"client_id": client_id}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Access keys: the secret once; disable; delete.
    let made = post(
        &mut browser,
        act(&[
            ("action", "key_create"),
            ("user_id", "kim"),
            ("description", "sync"),
        ]),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let key_id = text_of(&made, "shown-id");
    let (_, key) = app
        .admin("/v2/access_key/get", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(key["user_id"], "kim", "{key}");
    let off = post(
        &mut browser,
        act(&[("action", "key_disable"), ("access_key_id", &key_id)]),
    )
    .await;
    assert_eq!(off.location(), "/console/apps");
    let (_, key) = app
        .admin("/v2/access_key/get", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(key["status"], "disabled");
    let unknown = post(
        &mut browser,
        act(&[("action", "key_create"), ("user_id", "nobody")]),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body.contains("id=\"key-error\""),
        "{}",
        unknown.body
    );
    let gone = post(
        &mut browser,
        act(&[
            ("action", "key_delete"),
            ("access_key_id", &key_id),
            ("confirm", "yes"),
        ]),
    )
    .await;
    assert_eq!(gone.location(), "/console/apps");
    let (status, _) = app
        .admin("/v2/access_key/get", json!({"access_key_id": key_id}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Webhooks: the secret once; a test event; bad URL next to its field; delete.
    let url = receiver().await;
    let made = post(
        &mut browser,
        act(&[
            ("action", "webhook_create"),
            ("url", &url),
            ("type_user.created", "yes"),
            ("type_user.deleted", "yes"),
        ]),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let hook_id = text_of(&made, "shown-id");
    assert!(text_of(&made, "secret").starts_with("whsec_"));
    let (_, hook) = app
        .admin("/v2/webhook/get", json!({"webhook_id": hook_id}))
        .await;
    assert_eq!(
        hook["event_types"],
        json!(["user.created", "user.deleted"]),
        "{hook}"
    );
    let tested = post(
        &mut browser,
        act(&[("action", "webhook_test"), ("webhook_id", &hook_id)]),
    )
    .await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    assert!(
        text_of(&tested, "test-result") == "The test event was delivered. (HTTP 204)",
        "{}",
        tested.body
    );
    for (pairs, field) in [
        (
            vec![("action", "webhook_create"), ("url", "not a url")],
            "webhook-url",
        ),
        (
            vec![
                ("action", "webhook_create"),
                ("url", url.as_str()),
                ("type_user.exploded", "yes"),
            ],
            "webhook-event_types",
        ),
    ] {
        let bad = post(&mut browser, act(&pairs)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{field}: {}", bad.body);
        assert!(
            bad.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            bad.body
        );
    }
    let gone = post(
        &mut browser,
        act(&[
            ("action", "webhook_delete"),
            ("webhook_id", &hook_id),
            ("confirm", "yes"),
        ]),
    )
    .await;
    assert_eq!(gone.location(), "/console/apps");
    let (status, _) = app
        .admin("/v2/webhook/get", json!({"webhook_id": hook_id}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A marker that is not one: a sentence, never JSON.
    for path in [
        "/console/apps?keys=not-a-marker",
        "/console/apps?apps=not-a-marker",
    ] {
        let bad = browser.get(path).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(!bad.body.contains("\"code\""), "{}", bad.body);
    }

    // CSRF.
    let forged = browser
        .post(
            "/console/apps/action",
            &[("csrf", "forged"), ("action", "key_create")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Another tenant's key is out of reach: not found, and still there.
    let (status, domain) = app
        .admin(
            "/v2/domain/create",
            json!({"domain_id": "other", "domain_name": "Other", "admin_password": ADMIN_PASSWORD}),
        )
        .await;
    assert!(status.is_success(), "{domain}");
    let other_admin = app.login_in("other", "admin", ADMIN_PASSWORD).await;
    let (_, theirs) = app
        .call("/v2/access_key/create", &other_admin, json!({}))
        .await;
    let their_key = theirs["access_key_id"].as_str().unwrap().to_owned();
    let refused = post(
        &mut browser,
        act(&[
            ("action", "key_delete"),
            ("access_key_id", &their_key),
            ("confirm", "yes"),
        ]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("Not found."), "{}", refused.body);
    let (status, _) = app
        .call(
            "/v2/access_key/get",
            &other_admin,
            json!({"access_key_id": their_key}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // An admin manages keys but not apps; group admins and plain users are refused.
    app.user_with_role("ada", "admin").await;
    let mut ada = signed_in(&app, "ada", USER_PASSWORD).await;
    let page = ada.get("/console/apps").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Apps are managed by superadmins."));
    let token = page.field("csrf");
    let refused = ada
        .post(
            "/console/apps/action",
            &[
                ("csrf", &token),
                ("action", "app_create"),
                ("app_name", "Mine"),
                ("app_type", "SinglePageApp"),
                ("redirect_uris", "https://a.example/cb"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (_, apps) = app.admin("/v2/app/list", json!({})).await;
    assert_eq!(apps["items"].as_array().map(Vec::len), Some(0), "{apps}");
    let (mut plain, mut gadmin) = plain_and_group_admin(&app).await;
    assert_eq!(
        plain.get("/console/apps").await.status,
        StatusCode::FORBIDDEN
    );
    let page = gadmin.get("/console/apps").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("data-key-id"));
}
