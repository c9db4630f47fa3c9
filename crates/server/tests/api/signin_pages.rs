//! The self-service pages of issue 19, driven like a browser: forgot password → the mailed
//! link → reset; the change-password page and the forced change an admin asks for before
//! any code; the profile form; who may use each page; what the pages show (described
//! scopes, readable times, the domain's name); per-domain issuers.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::{Answer, Browser};
use crate::helpers::{
    spawn_app, spawn_with, spawn_with_manual_clock, TestApp, TestStore, USER_PASSWORD,
};

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const PUBLIC: &str = "https://roster.example.test";
const NEW_PASSWORD: &str = "a-new-secret-77";

/// A user with an address: its id.
async fn user_with_mail(app: &TestApp, identity: &str) -> String {
    let (user_id, _) = app.user_with_role(identity, "user").await;
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": user_id, "email": format!("{identity}@example.test")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    user_id
}

/// The newest mail of the outbox: `(to, body)`; `None` when there is none.
async fn newest_mail(app: &TestApp) -> Option<(String, String)> {
    let (status, outbox) = app.admin("/v2/outbox/list", json!({"limit": 1})).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    let mail = outbox["items"].get(0)?;
    Some((
        mail["recipient"].as_str().unwrap_or_default().to_owned(),
        mail["body"].as_str().unwrap().to_owned(),
    ))
}

fn mail_count_of(outbox: &Value) -> usize {
    outbox["items"].as_array().unwrap().len()
}

/// The reset link of a mail body.
fn link_in(body: &str) -> String {
    body.split_whitespace()
        .find(|w| w.contains("/reset?token="))
        .unwrap_or_else(|| panic!("no link in {body}"))
        .to_owned()
}

/// A form post with the origin of `--public-url` (the pages' own origin there).
async fn post_public(browser: &mut Browser, path: &str, form: &[(&str, &str)]) -> Answer {
    browser.post_from(path, form, PUBLIC, "same-origin").await
}

async fn actions_about(app: &TestApp, object: &str) -> Vec<String> {
    let (status, page) = app
        .admin(
            "/v2/audit_log/list",
            json!({"query": format!("object_id = '{object}'"), "limit": 100}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action_type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn forgot_password_mails_a_link_from_the_public_url_that_resets_once() {
    let (app, _clock) = spawn_with_manual_clock(|c| c.public_url = Some(PUBLIC.into())).await;
    let user_id = user_with_mail(&app, "fay").await;
    let mut browser = Browser::new(&app);

    let sign_in = browser.get("/signin").await;
    assert!(
        sign_in.body.contains("href=\"/forgot\""),
        "a link to the page"
    );
    let forgot = browser.get("/forgot").await;
    assert_eq!(forgot.status, StatusCode::OK);
    assert!(forgot.body.contains("autocomplete=\"username\""));
    let csrf = forgot.field("csrf");

    // Without the form token, or from another site: refused, nothing mailed.
    let (_, before) = app.admin("/v2/outbox/list", json!({})).await;
    let no_token = post_public(&mut browser, "/forgot", &[("username", "fay")]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let cross = browser
        .post_from(
            "/forgot",
            &[("csrf", &csrf), ("username", "fay")],
            "https://evil.example",
            "cross-site",
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let (_, after) = app.admin("/v2/outbox/list", json!({})).await;
    assert_eq!(mail_count_of(&before), mail_count_of(&after));

    // Known and unknown identities read the same; only the known one gets mail.
    let unknown = post_public(
        &mut browser,
        "/forgot",
        &[("csrf", &csrf), ("username", "nobody-here")],
    )
    .await;
    let known = post_public(
        &mut browser,
        "/forgot",
        &[("csrf", &csrf), ("username", "fay")],
    )
    .await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.body);
    assert_eq!(unknown.status, known.status);
    assert_eq!(
        unknown.body, known.body,
        "the page says the same either way"
    );
    let (to, body) = newest_mail(&app).await.expect("a mail");
    assert_eq!(to, "fay@example.test");
    let link = link_in(&body);
    assert!(
        link.starts_with(&format!("{PUBLIC}/reset?token=")),
        "built from --public-url, never the request's Host: {link}"
    );

    // The link's page; the token is taken when the form comes back.
    let path = link.strip_prefix(PUBLIC).unwrap();
    let reset = browser.get(path).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert!(reset.body.contains("autocomplete=\"new-password\""));
    let (csrf, token) = (reset.field("csrf"), reset.field("token"));
    let differ = post_public(
        &mut browser,
        "/reset",
        &[
            ("csrf", &csrf),
            ("token", &token),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", "something-else-1"),
        ],
    )
    .await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    assert!(differ.body.contains("not the same"), "{}", differ.body);
    let short = post_public(
        &mut browser,
        "/reset",
        &[
            ("csrf", &csrf),
            ("token", &token),
            ("new_password", "short"),
            ("confirm_password", "short"),
        ],
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("8 to 256"), "{}", short.body);
    let form = [
        ("csrf", csrf.as_str()),
        ("token", token.as_str()),
        ("new_password", NEW_PASSWORD),
        ("confirm_password", NEW_PASSWORD),
    ];
    let done = post_public(&mut browser, "/reset", &form).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Your new password is set"));
    let again = post_public(&mut browser, "/reset", &form).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "single use");
    assert!(again.body.contains("expired or has been used"));

    // The new password signs in; the old one no longer does.
    let page = browser.get("/signin").await;
    let old = post_public(
        &mut browser,
        "/signin",
        &[
            ("csrf", &page.field("csrf")),
            ("q", ""),
            ("username", "fay"),
            ("password", USER_PASSWORD),
        ],
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = post_public(
        &mut browser,
        "/signin",
        &[
            ("csrf", &page.field("csrf")),
            ("q", ""),
            ("username", "fay"),
            ("password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);

    let actions = actions_about(&app, &user_id).await;
    assert!(actions.iter().any(|a| a == "password.reset"), "{actions:?}");
    let requested = actions_about(&app, "fay").await;
    assert!(
        requested.iter().any(|a| a == "password.reset_request"),
        "{requested:?}"
    );
}

#[tokio::test]
async fn reset_requests_are_limited_per_identity_and_admin_resets_mail_the_link() {
    let (app, clock) = spawn_with_manual_clock(|c| c.public_url = Some(PUBLIC.into())).await;
    let user_id = user_with_mail(&app, "hal").await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/forgot").await.field("csrf");
    for _ in 0..5 {
        let ok = post_public(
            &mut browser,
            "/forgot",
            &[("csrf", &csrf), ("username", "hal")],
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    let limited = post_public(
        &mut browser,
        "/forgot",
        &[("csrf", &csrf), ("username", "hal")],
    )
    .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.contains("Try again in"), "{}", limited.body);
    // Another identity is not held up by this one.
    let other = post_public(
        &mut browser,
        "/forgot",
        &[("csrf", &csrf), ("username", "someone-else")],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    clock.advance(std::time::Duration::from_secs(3601));
    let later = post_public(
        &mut browser,
        "/forgot",
        &[("csrf", &csrf), ("username", "hal")],
    )
    .await;
    assert_eq!(later.status, StatusCode::OK, "an hour later");

    // The admin-initiated reset (eds-user's, the console's) mails the same kind of link.
    clock.advance(std::time::Duration::from_secs(1));
    crate::eds::ok(
        &app,
        "ResetUserPassword",
        &[("Users.1", user_id.as_str()), ("NotifyType", "1")],
    )
    .await;
    let (_, mail) = newest_mail(&app).await.unwrap();
    assert!(mail.contains("an administrator has reset your password"));
    assert!(link_in(&mail).starts_with(&format!("{PUBLIC}/reset?token=")));
}

#[tokio::test]
async fn without_a_public_url_the_mail_carries_the_token_not_a_link_from_host() {
    let app = spawn_app().await;
    user_with_mail(&app, "ivy").await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/forgot").await.field("csrf");
    let ok = browser
        .post("/forgot", &[("csrf", &csrf), ("username", "ivy")])
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let (_, body) = newest_mail(&app).await.unwrap();
    assert!(!body.contains("/reset?token="), "{body}");
    assert!(
        !body.contains("127.0.0.1"),
        "no address from the request: {body}"
    );
    assert!(body.contains("/v2/account/reset_password"));
}

/// `/v2/oauth/authorize` for a SinglePageApp with PKCE.
fn authorize_path(client_id: &str, extra: &str) -> String {
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    format!(
        "/v2/oauth/authorize?client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb\
         &response_type=code&scope=openid%20email%20groups&state=s-2&code_challenge={challenge}\
         &code_challenge_method=S256{extra}"
    )
}

async fn spa(app: &TestApp) -> String {
    let (status, created) = app
        .admin(
            "/v2/app/create",
            json!({"app_name": "Photos", "app_type": "SinglePageApp",
                   "redirect_uris": [REDIRECT], "scopes": ["openid", "email", "groups"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["client_id"].as_str().unwrap().to_owned()
}

/// Sends the change-password form: `[csrf, q, old, new, confirm]`.
async fn change(browser: &mut Browser, fields: [&str; 5]) -> Answer {
    let names = [
        "csrf",
        "q",
        "old_password",
        "new_password",
        "confirm_password",
    ];
    let form: Vec<(&str, &str)> = names.into_iter().zip(fields).collect();
    browser.post("/password", &form).await
}

#[tokio::test]
async fn a_user_told_to_change_its_password_changes_it_before_any_code() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("jay", "user").await;
    let (status, body) = app
        .admin(
            "/v2/user/update",
            json!({"user_id": user_id, "need_change_password_next_login": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let client_id = spa(&app).await;
    let mut browser = Browser::new(&app);

    let page = browser.get(&authorize_path(&client_id, "")).await;
    let forced = browser.sign_in(&page, "jay", USER_PASSWORD).await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.body);
    assert!(
        forced.body.contains("asks you to set a new password"),
        "the forced-change page, not consent: {}",
        forced.body
    );
    assert!(!forced.body.contains("decision"));
    // No code while the flag stands: prompt=none says so, the account page sends back here.
    let none = browser
        .get(&authorize_path(&client_id, "&prompt=none"))
        .await;
    assert_eq!(
        none.redirect_param("error").as_deref(),
        Some("interaction_required")
    );
    assert_eq!(browser.get("/account").await.location(), "/password");

    let (csrf, q) = (forced.field("csrf"), forced.field("q"));
    let wrong = change(
        &mut browser,
        [&csrf, &q, "not-the-password", NEW_PASSWORD, NEW_PASSWORD],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    assert!(wrong.body.contains("current password is incorrect"));
    let differ = change(
        &mut browser,
        [&csrf, &q, USER_PASSWORD, NEW_PASSWORD, "other-secret-99"],
    )
    .await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    let consent = change(
        &mut browser,
        [&csrf, &q, USER_PASSWORD, NEW_PASSWORD, NEW_PASSWORD],
    )
    .await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(consent.body.contains("name=\"decision\""), "on to consent");
    let done = browser.consent(&consent, "allow").await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    assert!(done.redirect_param("code").is_some());
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    assert!(actions_about(&app, &user_id)
        .await
        .iter()
        .any(|a| a == "password.change"));
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_this_one() {
    let app = spawn_app().await;
    app.user_with_role("kim", "user").await;
    let mut here = Browser::new(&app);
    let mut there = Browser::new(&app);
    for browser in [&mut here, &mut there] {
        let page = browser.get("/signin").await;
        let signed_in = browser.sign_in(&page, "kim", USER_PASSWORD).await;
        assert_eq!(signed_in.location(), "/account");
    }
    // Anonymous: sent to sign in.
    let mut nobody = Browser::new(&app);
    assert_eq!(nobody.get("/password").await.location(), "/signin");
    let refused = nobody
        .post("/password", &[("csrf", "x"), ("old_password", "a")])
        .await;
    assert_eq!(refused.location(), "/signin");

    let page = here.get("/password").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("autocomplete=\"current-password\""));
    assert!(!page.body.contains("asks you to set a new password"));
    let no_token = here
        .post(
            "/password",
            &[
                ("old_password", USER_PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "CSRF");
    let changed = here
        .post(
            "/password",
            &[
                ("csrf", &page.field("csrf")),
                ("q", ""),
                ("old_password", USER_PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body.contains("Your password has been changed"));
    assert_eq!(here.get("/account").await.status, StatusCode::OK, "kept");
    assert_eq!(
        there.get("/account").await.location(),
        "/signin",
        "the other browser is signed out"
    );
}

#[tokio::test]
async fn the_profile_form_changes_the_own_nick_name_and_avatar_only() {
    let app = spawn_app().await;
    let (user_id, _) = app.user_with_role("lea", "user").await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/signin").await;
    browser.sign_in(&page, "lea", USER_PASSWORD).await;
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("autocomplete=\"nickname\""));
    assert!(
        account
            .body
            .contains("lea <span class=\"note\">(custom)</span>"),
        "{}",
        account.body
    );
    let csrf = account.field("csrf");

    let bad = browser
        .post(
            "/account/profile",
            &[
                ("csrf", &csrf),
                ("nick_name", "Lea"),
                ("avatar", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("https:// address"), "{}", bad.body);
    let cross = browser
        .post_from(
            "/account/profile",
            &[("csrf", &csrf), ("nick_name", "Pwned"), ("avatar", "")],
            "https://evil.example",
            "cross-site",
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let saved = browser
        .post(
            "/account/profile",
            &[
                ("csrf", &csrf),
                ("nick_name", "Léa Martin"),
                ("avatar", "https://img.example/lea.png"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(saved.body.contains("Your profile has been saved"));
    let (_, me) = app.admin("/v2/user/get", json!({"user_id": user_id})).await;
    assert_eq!(me["nick_name"], "Léa Martin");
    assert_eq!(me["avatar"], "https://img.example/lea.png");
    assert!(actions_about(&app, &user_id)
        .await
        .iter()
        .any(|a| a == "user.update"));

    let anonymous = Browser::new(&app)
        .post("/account/profile", &[("csrf", &csrf), ("nick_name", "x")])
        .await;
    assert_eq!(anonymous.location(), "/signin");
}

#[tokio::test]
async fn pages_show_described_scopes_readable_times_and_the_domains_name() {
    let app = spawn_app().await;
    app.user_with_role("max", "user").await;
    let client_id = spa(&app).await;
    for (language, scope_line, name) in [
        ("en", "see the groups you are in", "Roster"),
        ("zh-CN", "查看您所在的群组", "Roster"),
    ] {
        let mut browser = Browser::new(&app);
        browser.language = if language == "en" { "en" } else { "zh-CN" };
        let page = browser.get(&authorize_path(&client_id, "")).await;
        let consent = browser.sign_in(&page, "max", USER_PASSWORD).await;
        assert!(consent.body.contains(scope_line), "{}", consent.body);
        assert!(
            !consent.body.contains("<li>groups</li>"),
            "no raw scope names"
        );
        let account = browser.get("/account").await;
        let year = time_year();
        assert!(account.body.contains(&year), "{}", account.body);
        assert!(
            !account.body.contains(&format!("{year}-")),
            "no RFC 3339 times: {}",
            account.body
        );
        assert!(
            account
                .body
                .contains(&format!("<p class=\"domain\">{name}")),
            "{}",
            account.body
        );
    }
}

fn time_year() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Good for this century: the year of `now`.
    (1970 + (now as f64 / 31_556_952.0) as i64).to_string()
}

#[tokio::test]
async fn each_routed_domain_has_its_own_issuer_under_the_public_url() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.base_domain = Some("roster.example.test".into());
    config.public_url = Some(PUBLIC.into());
    let app = spawn_with(store, config, crate::helpers::ADMIN_PASSWORD).await;
    let http = reqwest::Client::new();
    for (host, issuer) in [
        ("roster.example.test", PUBLIC.to_owned()),
        (
            "acme.roster.example.test",
            "https://acme.roster.example.test".to_owned(),
        ),
    ] {
        let discovery: Value = http
            .get(format!("{}/.well-known/openid-configuration", app.address))
            .header("host", host)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], issuer.as_str());
        assert_eq!(
            discovery["authorization_endpoint"],
            format!("{issuer}/v2/oauth/authorize")
        );
    }
}

/// The kids of the RS256 keys of the JWKS, in order.
async fn rsa_kids(app: &TestApp) -> Vec<String> {
    let (status, jwks) = app.get("/.well-known/jwks.json").await;
    assert_eq!(status, StatusCode::OK, "{jwks}");
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Moves `clock` just past the next switch of `period_ms` periods; answers the RS256 kids
/// published then (the new key's, then the old one's), checked to be a new key beside `old`.
async fn past_the_next_switch(
    app: &TestApp,
    clock: &roster_server::clock::Clock,
    period_ms: i64,
    old: &str,
) -> Vec<String> {
    let to_switch = period_ms - clock.now_ms().rem_euclid(period_ms) + 1_000;
    clock.advance(std::time::Duration::from_millis(to_switch as u64));
    let both = rsa_kids(app).await;
    assert_eq!(both.len(), 2, "{both:?}");
    assert_ne!(both[0], old, "a new key");
    assert_eq!(both[1], old, "the old key stays");
    both
}

#[tokio::test]
async fn the_id_token_key_rotates_and_the_old_one_stays_while_its_tokens_live() {
    const PERIOD_MS: i64 = 30 * 24 * 60 * 60 * 1000;
    let (app, clock) = spawn_with_manual_clock(|_| {}).await;
    let first = rsa_kids(&app).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(rsa_kids(&app).await, first, "stable within a period");

    // Just past the next switch: the new key signs, the old one is still published.
    let both = past_the_next_switch(&app, &clock, PERIOD_MS, &first[0]).await;

    // Once the old key's last ID token (1 h) has expired, it goes.
    clock.advance(std::time::Duration::from_secs(3600));
    assert_eq!(rsa_kids(&app).await, vec![both[0].clone()]);
}

#[tokio::test]
async fn the_id_token_key_period_is_a_setting() {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let (app, clock) = spawn_with_manual_clock(|c| {
        c.tokens.id_token_key_period = std::time::Duration::from_secs(2 * 24 * 3600);
    })
    .await;
    let first = rsa_kids(&app).await;
    assert_eq!(first.len(), 1, "{first:?}");
    // Two switches two days apart (30 days would give at most one).
    let second = past_the_next_switch(&app, &clock, 2 * DAY_MS, &first[0]).await;
    let third = past_the_next_switch(&app, &clock, 2 * DAY_MS, &second[0]).await;
    assert_ne!(third[0], first[0]);
    clock.advance(std::time::Duration::from_secs(3600));
    assert_eq!(rsa_kids(&app).await, vec![third[0].clone()]);
}

#[tokio::test]
async fn the_reset_request_limit_is_a_setting() {
    let (app, clock) = spawn_with_manual_clock(|c| {
        c.public_url = Some(PUBLIC.into());
        c.tokens.self_resets_per_hour = 2;
    })
    .await;
    user_with_mail(&app, "kim").await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/forgot").await.field("csrf");
    let form = [("csrf", csrf.as_str()), ("username", "kim")];
    for _ in 0..2 {
        let ok = post_public(&mut browser, "/forgot", &form).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    let limited = post_public(&mut browser, "/forgot", &form).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.contains("Try again in"), "{}", limited.body);
    let (status, outbox) = app.admin("/v2/outbox/list", json!({"limit": 10})).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    assert_eq!(mail_count_of(&outbox), 2, "one mail a request taken");
    clock.advance(std::time::Duration::from_secs(3601));
    let later = post_public(&mut browser, "/forgot", &form).await;
    assert_eq!(later.status, StatusCode::OK, "an hour later");
}
