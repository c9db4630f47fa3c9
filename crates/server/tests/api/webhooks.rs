//! Webhooks: the `/v2/webhook/*` API (permissions, bad input, the SSRF guard) and delivery
//! to a real HTTP receiver that verifies every request with the `standardwebhooks` crate:
//! signatures, per-object order, retries after 500s and timeouts, disabling a failing
//! endpoint, and redelivery from the dead-letter list.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use reqwest::StatusCode;
use roster_server::clock::Clock;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_with, TestApp, TestStore, ADMIN_PASSWORD};

/// What the receiver answers to the next requests: a status, or a stall longer than the
/// webhook timeout. When the script runs out it answers 200.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    Stall,
}

#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<std::collections::VecDeque<Answer>>>,
    /// Answer this to everything once the script is done (default 200).
    otherwise: Arc<Mutex<Option<u16>>>,
}

impl Receiver {
    /// Starts the receiver; answers it and its URL.
    async fn start() -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (receiver, app) = Receiver::router();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (receiver, url)
    }

    /// Starts the receiver behind TLS, with the test certificate of `localhost` that
    /// `fixtures/webhook-ca.pem` issued; answers it and its `https://localhost:<port>` URL.
    async fn start_tls() -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://localhost:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let tls = TlsListener {
            tcp: listener,
            acceptor: tls_acceptor(),
        };
        let (receiver, app) = Receiver::router();
        tokio::spawn(async move {
            axum::serve(tls, app).await.unwrap();
        });
        (receiver, url)
    }

    fn router() -> (Receiver, axum::Router) {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(|headers: HeaderMap, body: String| async move {
                let next = state.script.lock().unwrap().pop_front();
                let otherwise = *state.otherwise.lock().unwrap();
                state
                    .received
                    .lock()
                    .unwrap()
                    .push(Received { headers, body });
                match next {
                    Some(Answer::Stall) => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        StatusCode::OK
                    }
                    Some(Answer::Status(code)) => StatusCode::from_u16(code).unwrap(),
                    None => StatusCode::from_u16(otherwise.unwrap_or(200)).unwrap(),
                }
            }),
        );
        (receiver, app)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until `done` holds of what was received.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..300 {
            let got = self.received();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}: {:?}", self.received());
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/api/fixtures/{name}"))
}

/// The receiver's TLS side: its certificate (issued by the test CA) and key.
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::{self, ServerConfig};
    let chain = CertificateDer::pem_file_iter(fixture("webhook-receiver.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("webhook-receiver.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A TCP listener whose connections are TLS, for `axum::serve`; failed handshakes (a
/// client refusing the certificate) are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, peer)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Verifies a delivery with the `standardwebhooks` crate and answers its payload.
fn verified(secret: &str, r: &Received) -> Value {
    let hook = standardwebhooks::Webhook::new(secret).unwrap();
    hook.verify(r.body.as_bytes(), &r.headers)
        .unwrap_or_else(|e| panic!("signature refused: {e:?}: {r:?}"));
    serde_json::from_str(&r.body).unwrap()
}

/// Verifies a delivery whose timestamp is the server's manual clock (maybe hours ahead):
/// the signature is recomputed with the library for the timestamp the header names.
fn verified_at_any_time(secret: &str, r: &Received) -> Value {
    let hook = standardwebhooks::Webhook::new(secret).unwrap();
    let id = r.headers["webhook-id"].to_str().unwrap();
    let ts: i64 = r.headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = hook.sign(id, ts, r.body.as_bytes()).unwrap();
    assert_eq!(r.headers["webhook-signature"].to_str().unwrap(), expected);
    serde_json::from_str(&r.body).unwrap()
}

fn allowing_private(config: &mut roster_server::Config) {
    config.webhooks.allow_private = true;
    config.webhooks.timeout = Duration::from_secs(1);
    config.webhooks.poll = Duration::from_millis(50);
}

async fn spawn_allowing_private() -> TestApp {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    allowing_private(&mut config);
    spawn_with(store, config, ADMIN_PASSWORD).await
}

async fn spawn_manual_allowing_private() -> (TestApp, Clock) {
    crate::helpers::spawn_with_manual_clock(allowing_private).await
}

/// Creates a webhook as the admin; answers its id and secret.
async fn create_hook(app: &TestApp, url: &str, types: Option<Value>) -> (String, String) {
    let mut body = json!({"url": url, "description": "test receiver"});
    if let Some(types) = types {
        body["event_types"] = types;
    }
    let (status, hook) = app.admin("/v2/webhook/create", body).await;
    assert_eq!(status, StatusCode::OK, "{hook}");
    (
        hook["webhook_id"].as_str().unwrap().to_owned(),
        hook["secret"].as_str().unwrap().to_owned(),
    )
}

async fn create_user(app: &TestApp, name: &str) -> String {
    let (status, user) = app
        .admin(
            "/v2/user/create",
            json!({"user_id": name, "user_name": name, "nick_name": name}),
        )
        .await;
    assert!(status.is_success(), "{user}");
    user["user_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn admins_manage_webhooks_and_the_secret_is_shown_once() {
    let app = spawn_allowing_private().await;
    let (_receiver, url) = Receiver::start().await;
    let (status, created) = app
        .admin(
            "/v2/webhook/create",
            json!({"url": url, "event_types": ["user.created", "user.deleted"],
                   "description": "drives"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["webhook_id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["enabled"], true);
    assert_eq!(
        created["event_types"],
        json!(["user.created", "user.deleted"])
    );

    let (status, got) = app
        .admin("/v2/webhook/get", json!({"webhook_id": id}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(got.get("secret").is_none(), "{got}");
    assert!(!got.to_string().contains(&secret["whsec_".len()..]));
    assert_eq!(got["url"], url);

    let (status, listed) = app.admin("/v2/webhook/list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret["whsec_".len()..]));

    let (status, updated) = app
        .admin(
            "/v2/webhook/update",
            json!({"webhook_id": id, "event_types": [], "description": "all"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["event_types"], json!([]));
    assert_eq!(updated["description"], "all");

    // Users, anonymous callers: refused.
    let (_, user_token) = app.user_with_role("plainuser", "user").await;
    for path in ["/v2/webhook/get", "/v2/webhook/delete", "/v2/webhook/test"] {
        let answer = app.call(path, &user_token, json!({"webhook_id": id})).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
        let answer = app
            .send("post", path, None, &json!({"webhook_id": id}))
            .await;
        assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{path}");
    }
    let answer = app
        .call("/v2/webhook/create", &user_token, json!({"url": url}))
        .await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");
    let answer = app.call("/v2/webhook/list", &user_token, json!({})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "ForbiddenNoPermission");

    let (status, _) = app
        .admin("/v2/webhook/delete", json!({"webhook_id": id}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = app
        .admin("/v2/webhook/get", json!({"webhook_id": id}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Webhook");
    let answer = app
        .admin("/v2/webhook/delete", json!({"webhook_id": id}))
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "NotFound.Webhook");
}

#[tokio::test]
async fn bad_webhook_input_is_refused_with_invalid_parameter() {
    let app = spawn_allowing_private().await;
    for body in [
        json!({"url": ""}),
        json!({"url": "ftp://example.com/hook"}),
        json!({"url": "not a url"}),
        json!({"url": "http://user:secret@example.com/hook"}),
        json!({"url": format!("http://example.com/{}", "a".repeat(3000))}),
        json!({"url": "http://example.com/", "event_types": ["user.exploded"]}),
        json!({"url": "http://example.com/", "description": "d".repeat(2000)}),
    ] {
        let answer = app.admin("/v2/webhook/create", body.clone()).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{body}: {}", answer.1);
        assert!(
            answer.1["code"]
                .as_str()
                .unwrap()
                .starts_with("InvalidParameter"),
            "{body}: {}",
            answer.1
        );
    }
    for body in [json!({}), json!({"webhook_id": 5}), json!("x")] {
        let answer = app.admin("/v2/webhook/get", body.clone()).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{body}: {}", answer.1);
    }
    let answer = app
        .admin(
            "/v2/webhook/list_deliveries",
            json!({"webhook_id": "wh_x", "limit": 0}),
        )
        .await;
    assert_eq!(answer.0.as_u16() / 100, 4, "{}", answer.1);
}

#[tokio::test]
async fn internal_addresses_are_refused_unless_the_operator_allows_them() {
    let app = spawn_app().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://192.168.0.10/hook",
    ] {
        let answer = app.admin("/v2/webhook/create", json!({"url": url})).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{url}: {}", answer.1);
        assert!(
            answer.1["message"].as_str().unwrap().contains("internal"),
            "{}",
            answer.1
        );
    }
    let (status, listed) = app.admin("/v2/webhook/list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn every_change_is_delivered_signed_and_in_order_per_object() {
    let app = spawn_allowing_private().await;
    let (receiver, url) = Receiver::start().await;
    let (_, secret) = create_hook(&app, &url, None).await;
    let mut users = Vec::new();
    for n in 0..3 {
        let user_id = create_user(&app, &format!("hooked{n}")).await;
        for m in 0..3 {
            let (status, body) = app
                .admin(
                    "/v2/user/update",
                    json!({"user_id": user_id, "nick_name": format!("nick{m}")}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        users.push(user_id);
    }
    // The feed says what was committed; the receiver must get each once at least, in order
    // per object.
    let (status, feed) = app.admin("/v2/event/list", json!({"limit": 100})).await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    let committed: Vec<String> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(committed.len() >= 12, "{feed}");
    let got = receiver
        .wait_for("every event", |got| {
            let ids: Vec<String> = got
                .iter()
                .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
                .collect();
            committed.iter().all(|c| ids.contains(c))
        })
        .await;
    let mut payloads = Vec::new();
    for r in &got {
        let payload = verified(&secret, r);
        assert_eq!(
            r.headers["webhook-id"].to_str().unwrap(),
            payload["event_id"]
        );
        assert!(committed.contains(&payload["event_id"].as_str().unwrap().to_owned()));
        payloads.push(payload);
    }
    for user_id in &users {
        let order_received: Vec<&str> = payloads
            .iter()
            .filter(|p| p["data"]["user_id"] == user_id.as_str())
            .map(|p| p["event_id"].as_str().unwrap())
            .collect();
        let order_committed: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["data"]["user_id"] == user_id.as_str())
            .map(|e| e["event_id"].as_str().unwrap())
            .collect();
        assert_eq!(order_received, order_committed, "{user_id}");
        assert_eq!(
            payloads
                .iter()
                .find(|p| p["data"]["user_id"] == user_id.as_str())
                .unwrap()["type"],
            "user.created"
        );
    }
    // The delivery log says how each went.
    let (_, hooks) = app.admin("/v2/webhook/list", json!({})).await;
    let id = hooks["items"][0]["webhook_id"].as_str().unwrap();
    let (status, log) = app
        .admin("/v2/webhook/list_deliveries", json!({"webhook_id": id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let first = &log["items"][0];
    assert_eq!(first["status_code"], 200);
    assert_eq!(first["attempt"], 1);
    assert!(first["latency_ms"].as_i64().unwrap() >= 0);
}

#[tokio::test]
async fn event_types_filter_what_a_webhook_receives() {
    let app = spawn_allowing_private().await;
    let (receiver, url) = Receiver::start().await;
    let (_, secret) = create_hook(&app, &url, Some(json!(["user.deleted"]))).await;
    let user_id = create_user(&app, "shortlived").await;
    let (status, _) = app
        .admin("/v2/user/delete", json!({"user_id": user_id}))
        .await;
    assert_eq!(status.as_u16() / 100, 2);
    let got = receiver
        .wait_for("the deletion", |got| !got.is_empty())
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = if got.len() < receiver.received().len() {
        receiver.received()
    } else {
        got
    };
    for r in &got {
        assert_eq!(verified(&secret, r)["type"], "user.deleted");
    }
}

#[tokio::test]
async fn the_test_call_delivers_a_signed_test_event() {
    let app = spawn_allowing_private().await;
    let (receiver, url) = Receiver::start().await;
    let (id, secret) = create_hook(&app, &url, Some(json!(["domain.deleted"]))).await;
    let (status, answer) = app
        .admin("/v2/webhook/test", json!({"webhook_id": id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["delivered"], true);
    assert_eq!(answer["status_code"], 200);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(verified(&secret, &got[0])["type"], "webhook.test");
}

/// Waits until the receiver has `n` requests, moving the clock `step` after each check so
/// that retries come due.
async fn wait_moving_clock(receiver: &Receiver, clock: &Clock, n: usize, step: Duration) {
    for _ in 0..200 {
        if receiver.received().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        clock.advance(step);
    }
    panic!("only {} requests arrived", receiver.received().len());
}

#[tokio::test]
async fn failed_deliveries_are_retried_after_500s_and_timeouts_with_the_same_id() {
    let (mut app, clock) = spawn_manual_allowing_private().await;
    let (receiver, url) = Receiver::start().await;
    receiver.script.lock().unwrap().extend([
        Answer::Status(500),
        Answer::Status(503),
        Answer::Stall,
    ]);
    let (id, secret) = create_hook(&app, &url, Some(json!(["user.created"]))).await;
    create_user(&app, "retried").await;
    wait_moving_clock(&receiver, &clock, 4, Duration::from_secs(30 * 60)).await;
    // Access tokens expired while the clock moved.
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    let got = receiver.received();
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    for r in &got {
        assert_eq!(verified_at_any_time(&secret, r)["type"], "user.created");
    }
    // The log has each attempt: 500, 503, a timeout (0), then 200.
    let mut log = Value::Null;
    for _ in 0..100 {
        log = app
            .admin("/v2/webhook/list_deliveries", json!({"webhook_id": id}))
            .await
            .1;
        if log["items"].as_array().is_some_and(|i| i.len() >= 4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let statuses: Vec<i64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, vec![500, 503, 0, 200], "{log}");
    let attempts: Vec<i64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|a| a["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn a_failing_endpoint_is_disabled_noted_in_the_audit_log_and_its_dead_letters_redelivered() {
    let (mut app, clock) = spawn_manual_allowing_private().await;
    let (receiver, url) = Receiver::start().await;
    *receiver.otherwise.lock().unwrap() = Some(500);
    let (id, secret) = create_hook(&app, &url, Some(json!(["user.created"]))).await;
    create_user(&app, "undeliverable").await;
    receiver
        .wait_for("a first attempt", |got| !got.is_empty())
        .await;
    // A day and more of failures.
    let mut hook = Value::Null;
    for _ in 0..200 {
        clock.advance(Duration::from_secs(3 * 3600));
        tokio::time::sleep(Duration::from_millis(50)).await;
        app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
        hook = app
            .admin("/v2/webhook/get", json!({"webhook_id": id}))
            .await
            .1;
        if hook["enabled"] == false {
            break;
        }
    }
    assert_eq!(hook["enabled"], false, "{hook}");
    assert!(!hook["disabled_reason"].as_str().unwrap().is_empty());
    let (status, audit) = app
        .admin(
            "/v2/audit_log/list",
            json!({"query": "action_type = 'webhook.disable'"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert!(audit.to_string().contains(&id), "{audit}");
    let (status, dead) = app
        .admin("/v2/webhook/list_dead_letters", json!({"webhook_id": id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{dead}");
    let dead_items = dead["items"].as_array().unwrap();
    assert_eq!(dead_items.len(), 1, "{dead}");
    let event_id = dead_items[0]["event_id"].as_str().unwrap().to_owned();
    assert_eq!(dead_items[0]["last_status"], 500);

    // The endpoint is fixed; the admin re-enables the webhook and redelivers.
    *receiver.otherwise.lock().unwrap() = None;
    let before = receiver.received().len();
    let (status, _) = app
        .admin(
            "/v2/webhook/update",
            json!({"webhook_id": id, "enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = app
        .admin(
            "/v2/webhook/redeliver",
            json!({"webhook_id": id, "event_ids": [event_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["redelivered"], 1);
    let got = receiver
        .wait_for("the redelivery", |got| got.len() > before)
        .await;
    let last = got.last().unwrap();
    assert_eq!(last.headers["webhook-id"].to_str().unwrap(), event_id);
    verified_at_any_time(&secret, last);
    let (_, dead) = app
        .admin("/v2/webhook/list_dead_letters", json!({"webhook_id": id}))
        .await;
    for _ in 0..100 {
        let (_, log) = app
            .admin(
                "/v2/webhook/list_deliveries",
                json!({"webhook_id": id, "limit": 1}),
            )
            .await;
        if log["items"][0]["status_code"] == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead["items"], json!([]), "{dead}");
}

#[tokio::test]
async fn the_metrics_count_deliveries() {
    let app = spawn_allowing_private().await;
    let (receiver, url) = Receiver::start().await;
    create_hook(&app, &url, Some(json!(["user.created"]))).await;
    create_user(&app, "counted").await;
    receiver.wait_for("the event", |got| !got.is_empty()).await;
    let mut text = String::new();
    for _ in 0..50 {
        text = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("roster_webhook_deliveries_total{outcome=\"delivered\"} 1")
            && text.contains("roster_webhook_backlog 0")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        text.contains("roster_webhook_deliveries_total{outcome=\"delivered\"} 1"),
        "{text}"
    );
    assert!(text.contains("roster_webhook_backlog 0"), "{text}");
}

#[tokio::test]
async fn https_receivers_get_deliveries_when_their_certificate_is_trusted() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    allowing_private(&mut config);
    config.webhooks.extra_roots = Some(fixture("webhook-ca.pem"));
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    let (receiver, url) = Receiver::start_tls().await;
    assert!(url.starts_with("https://localhost:"));
    let (_id, secret) = create_hook(&app, &url, Some(json!(["user.created"]))).await;
    create_user(&app, "tls-alice").await;
    let got = receiver
        .wait_for("the https delivery", |r| !r.is_empty())
        .await;
    let event = verified(&secret, &got[0]);
    assert_eq!(event["type"], "user.created");
    assert_eq!(event["data"]["user_id"], "tls-alice");

    // A server that does not trust the receiver's CA refuses the connection: nothing is
    // delivered, and the test call says so.
    let untrusting = spawn_allowing_private().await;
    let (other, other_url) = Receiver::start_tls().await;
    let (other_id, _) = create_hook(&untrusting, &other_url, None).await;
    let (status, answer) = untrusting
        .admin("/v2/webhook/test", json!({"webhook_id": other_id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["delivered"], false, "{answer}");
    assert_eq!(answer["status_code"], 0, "{answer}");
    assert!(other.received().is_empty());
}

#[tokio::test]
async fn webhook_secrets_are_sealed_at_rest_and_still_sign() {
    let app = spawn_allowing_private().await;
    let (receiver, url) = Receiver::start().await;
    let (id, secret) = create_hook(&app, &url, None).await;
    let key = secret.trim_start_matches("whsec_");
    let count = |sql: String| {
        let store = app.store.clone();
        async move { crate::input_bounds::on_database(&store, &sql).await }
    };
    let stored = format!("SELECT COUNT(*) FROM webhooks WHERE webhook_id = '{id}'");
    assert_eq!(count(stored.clone()).await, 1);
    let plain = format!("{stored} AND secret LIKE '%{key}%'");
    assert_eq!(
        count(plain.clone()).await,
        0,
        "the key is stored in the clear"
    );
    let sealed = format!("{stored} AND secret LIKE 'sealed1:%'");
    assert_eq!(count(sealed.clone()).await, 1);
    // The key file sits in the data directory, readable by its owner only.
    let key_file = app.store.data_path().join("webhook-secrets.key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // Deliveries are signed with the opened key.
    let (status, answer) = app
        .admin("/v2/webhook/test", json!({"webhook_id": &id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    verified(&secret, &receiver.received()[0]);

    // A key stored before sealing existed still signs, and is sealed by the next update.
    let legacy = format!("UPDATE webhooks SET secret = '{key}' WHERE webhook_id = '{id}'");
    count(legacy).await;
    let (status, answer) = app
        .admin("/v2/webhook/test", json!({"webhook_id": &id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    verified(&secret, &receiver.received()[1]);
    assert_eq!(count(plain.clone()).await, 1);
    let (status, _) = app
        .admin(
            "/v2/webhook/update",
            json!({"webhook_id": &id, "description": "sealed now"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(plain).await, 0);
    assert_eq!(count(sealed).await, 1);
    let (_, answer) = app
        .admin("/v2/webhook/test", json!({"webhook_id": &id}))
        .await;
    assert_eq!(answer["delivered"], true, "{answer}");
    verified(&secret, &receiver.received()[2]);
}

/// Every event of the default domain's feed, in order.
async fn feed(app: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    let mut marker = String::new();
    loop {
        let (status, page) = app
            .admin("/v2/event/list", json!({"marker": marker, "limit": 100}))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            return all;
        }
        marker = page["next_marker"].as_str().unwrap().to_owned();
        all.extend(items);
    }
}

#[tokio::test]
async fn two_replicas_on_one_store_deliver_each_event_once() {
    // Two servers on one database (PostgreSQL in `.ci/run`: claims with SKIP LOCKED), both
    // running the delivery worker, while both write.
    let store = TestStore::fresh().await;
    let config = |store: &TestStore| {
        let mut config = store.config();
        allowing_private(&mut config);
        config.webhooks.timeout = Duration::from_secs(5);
        config
    };
    let a = spawn_with(store.clone(), config(&store), ADMIN_PASSWORD).await;
    let b = spawn_with(store.clone(), config(&store), ADMIN_PASSWORD).await;
    let (receiver, url) = Receiver::start().await;
    let (_, secret) = create_hook(&a, &url, None).await;
    const PER_REPLICA: usize = 20;
    async fn writes(app: &TestApp, prefix: &str) {
        for i in 0..PER_REPLICA {
            create_user(app, &format!("{prefix}-{i}")).await;
        }
    }
    tokio::join!(writes(&a, "a"), writes(&b, "b"));

    let events = feed(&a).await;
    let users: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "user.created")
        .collect();
    assert_eq!(users.len(), 2 * PER_REPLICA);
    let got = receiver
        .wait_for("every event delivered", |r| r.len() >= events.len())
        .await;
    // Let a second delivery of anything show up, if there were one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if receiver.received().len() > got.len() {
        receiver.received()
    } else {
        got
    };
    let mut delivered: Vec<String> = got
        .iter()
        .map(|r| {
            verified(&secret, r)["event_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    delivered.sort();
    let mut expected: Vec<String> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(delivered, expected, "each event once, none invented");
}
