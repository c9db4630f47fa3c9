//! Webhooks from the outside: the `roster webhook` commands as a process, and delivery
//! surviving a `kill -9` of `roster serve` in the middle of a burst of changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cli::roster;
use crate::helpers::{spawn_with, TestStore, ADMIN_PASSWORD};
use crate::server_process::{start_with_env, ServerProcess};

/// A local receiver that answers 200 and keeps every request's headers and body.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(|headers: HeaderMap, body: String| async move {
                state.received.lock().unwrap().push((headers, body));
                StatusCode::OK
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn received(&self) -> Vec<(HeaderMap, String)> {
        self.received.lock().unwrap().clone()
    }
}

/// The delivery's payload, its signature checked with the `standardwebhooks` crate.
fn verified(secret: &str, (headers, body): &(HeaderMap, String)) -> Value {
    let hook = standardwebhooks::Webhook::new(secret).unwrap();
    hook.verify(body.as_bytes(), headers)
        .unwrap_or_else(|e| panic!("signature refused: {e:?}"));
    serde_json::from_str(body).unwrap()
}

fn json_line(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

// Multi-threaded: the CLI runs as a blocking child process while this test's runtime serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_commands_manage_test_and_inspect_webhooks() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.webhooks.allow_private = true;
    config.webhooks.poll = Duration::from_millis(50);
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    let (receiver, url) = Receiver::start().await;
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    let (ok, _, err) = roster(dir, &["login", "--server", &app.address]);
    assert!(ok, "{err}");

    // Create: the table and the secret, shown once.
    let (ok, out, err) = roster(
        dir,
        &[
            "webhook",
            "create",
            "--url",
            &url,
            "--event-type",
            "user.created",
            "--description",
            "drive platform",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("WEBHOOK_ID"), "{out}");
    assert!(
        out.contains("user.created") && out.contains("drive platform"),
        "{out}"
    );
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .expect("the secret is printed")
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{out}");
    let (ok, out, _) = roster(dir, &["webhook", "list", "--json"]);
    assert!(ok);
    let listed = json_line(&out);
    let id = listed["webhook_id"].as_str().unwrap().to_owned();
    assert!(listed.get("secret").is_none(), "never listed: {listed}");
    assert_eq!(listed["event_types"], json!(["user.created"]));

    // Update: every type, disabled, then enabled again.
    let (ok, out, err) = roster(
        dir,
        &[
            "webhook",
            "update",
            &id,
            "--all-types",
            "--disable",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let updated = json_line(&out);
    assert_eq!(updated["event_types"], json!([]));
    assert_eq!(updated["enabled"], false);
    let (ok, out, _) = roster(dir, &["webhook", "update", &id, "--enable", "--json"]);
    assert!(ok);
    assert_eq!(json_line(&out)["enabled"], true);
    let (ok, out, _) = roster(dir, &["webhook", "get", &id]);
    assert!(ok);
    assert!(out.contains(&id) && out.contains('*'), "{out}");

    // Test: one signed delivery, now.
    let (ok, out, err) = roster(dir, &["webhook", "test", &id]);
    assert!(ok, "{err}");
    assert!(out.starts_with("delivered: answered 200"), "{out}");
    assert_eq!(
        verified(&secret, &receiver.received()[0])["type"],
        "webhook.test"
    );

    // A change is delivered; the delivery log shows it.
    let (ok, _, err) = roster(dir, &["user", "create", "carol"]);
    assert!(ok, "{err}");
    let mut log = Vec::new();
    for _ in 0..200 {
        let (ok, out, _) = roster(dir, &["webhook", "deliveries", &id, "--json"]);
        assert!(ok);
        log = out.lines().map(json_line).collect();
        if !log.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status_code"], 200);
    let delivered = verified(&secret, &receiver.received()[1]);
    assert_eq!(delivered["type"], "user.created");
    assert_eq!(log[0]["event_id"], delivered["event_id"]);

    // No dead letters; redelivering none queues none.
    let (ok, out, _) = roster(dir, &["webhook", "dead-letters", &id]);
    assert!(ok);
    assert_eq!(out.lines().count(), 1, "header only: {out}");
    let (ok, out, _) = roster(dir, &["webhook", "redeliver", &id]);
    assert!(ok);
    assert!(out.contains("queued 0 dead letters again"), "{out}");

    // Bad input and unknown ids answer the server's error codes.
    let (ok, _, err) = roster(
        dir,
        &[
            "webhook",
            "create",
            "--url",
            &url,
            "--event-type",
            "user.exploded",
        ],
    );
    assert!(!ok && err.contains("InvalidParameter"), "{err}");
    let (ok, _, err) = roster(dir, &["webhook", "get", "wh_nope"]);
    assert!(!ok && err.contains("NotFound"), "{err}");
    let (ok, _, err) = roster(dir, &["webhook", "deliveries", &id, "--limit", "0"]);
    assert!(!ok && err.contains("InvalidParameter"), "{err}");

    // Delete.
    let (ok, out, _) = roster(dir, &["webhook", "delete", &id]);
    assert!(
        ok && out.contains(&format!("deleted webhook {id}")),
        "{out}"
    );
    let (ok, out, _) = roster(dir, &["webhook", "list", "--json"]);
    assert!(ok && out.trim().is_empty(), "{out}");

    // A user without admin permission manages no webhooks.
    let (_, token) = app.user_with_role("plain-user", "user").await;
    let plain = roster_client::Client::with_token(&app.address, token);
    let refused = plain.list_webhooks().await.unwrap_err();
    assert!(refused.to_string().contains("Forbidden"), "{refused}");
}

fn start_delivering(store: &TestStore) -> ServerProcess {
    start_with_env(store, None, &[("ROSTER_WEBHOOK_ALLOW_PRIVATE", "true")])
}

/// Every event of the default domain's feed, in order.
async fn feed(server: &ServerProcess, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut marker = String::new();
    loop {
        let body = json!({"marker": marker, "limit": 100});
        let (status, page) = server.call("/v2/event/list", token, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            return all;
        }
        marker = page["next_marker"].as_str().unwrap().to_owned();
        all.extend(items);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_kill_9_mid_burst_every_committed_change_is_delivered_and_none_invented() {
    let store = TestStore::fresh().await;
    let (receiver, url) = Receiver::start().await;
    let mut server = start_delivering(&store);
    let token = server.login("admin", ADMIN_PASSWORD).await;
    let (status, hook) = server
        .call("/v2/webhook/create", &token, json!({"url": url}))
        .await;
    assert_eq!(status, StatusCode::OK, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_owned();

    // A burst of user creations from 8 writers; the server is killed (SIGKILL) once 40 have
    // been answered and deliveries have begun, with more of both in flight.
    const WRITERS: usize = 8;
    // At most this many each: they stop when the server dies.
    const PER_WRITER: usize = 500;
    let answered = Arc::new(Mutex::new(BTreeSet::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (address, token, answered) =
                (server.address.clone(), token.clone(), answered.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in 0..PER_WRITER {
                    let user_id = format!("burst-{w}-{i}");
                    let sent = http
                        .post(format!("{address}/v2/user/create"))
                        .bearer_auth(&token)
                        .json(&json!({"user_id": &user_id}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::CREATED => {
                            answered.lock().unwrap().insert(user_id);
                        }
                        // The server is gone: this writer stops.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    while answered.lock().unwrap().len() < 40 || receiver.received().len() < 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.crash();
    for writer in writers {
        writer.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    let delivered_before_restart = receiver.received().len();

    // Restart on the same store: the worker picks up where the dead one left off.
    let server = start_delivering(&store);
    let token = server.login("admin", ADMIN_PASSWORD).await;
    let events = feed(&server, &token).await;
    let mut deliveries: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    // Up to 100 s: on PostgreSQL the deliveries the dead worker had claimed wait for their
    // claim to run out (60 s), as other live replicas might still hold theirs.
    for _ in 0..2000 {
        deliveries.clear();
        for request in receiver.received() {
            let payload = verified(&secret, &request);
            let header_id = request.0["webhook-id"].to_str().unwrap().to_owned();
            assert_eq!(
                payload["event_id"],
                header_id.as_str(),
                "webhook-id is the event"
            );
            deliveries.entry(header_id).or_default().push(payload);
        }
        if events
            .iter()
            .all(|e| deliveries.contains_key(e["event_id"].as_str().unwrap()))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every committed user has exactly one user.created event, and every event names a
    // committed user: the event was written with the change or not at all.
    let mut stored = BTreeSet::new();
    let mut marker = String::new();
    loop {
        let body = json!({"limit": 100, "marker": marker});
        let (status, page) = server.call("/v2/user/list", &token, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids = page["items"].as_array().unwrap().iter();
        stored.extend(
            ids.map(|u| u["user_id"].as_str().unwrap().to_owned())
                .filter(|id| id.starts_with("burst-")),
        );
        marker = page["next_marker"].as_str().unwrap().to_owned();
        if marker.is_empty() {
            break;
        }
    }
    let mut created: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == "user.created")
        .map(|e| e["data"]["user_id"].as_str().unwrap().to_owned())
        .collect();
    created.sort();
    let created_set: BTreeSet<String> = created.iter().cloned().collect();
    assert_eq!(created.len(), created_set.len(), "one event per user");
    assert_eq!(
        created_set, stored,
        "events are exactly the committed users"
    );
    assert!(
        answered.is_subset(&stored),
        "every answered creation committed"
    );
    assert!(
        stored.len() < WRITERS * PER_WRITER,
        "the kill cut the burst short"
    );

    // Every event delivered (at least once: a delivery in flight at the kill may come
    // again, under the same webhook-id and with the same payload), none invented.
    let feed_ids: BTreeSet<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    for event in &events {
        let id = event["event_id"].as_str().unwrap();
        let copies = deliveries
            .get(id)
            .unwrap_or_else(|| panic!("{id} never delivered"));
        assert!(
            copies.iter().all(|c| c == event),
            "{id}: {copies:?} vs {event}"
        );
    }
    for id in deliveries.keys() {
        assert!(feed_ids.contains(id.as_str()), "invented delivery {id}");
    }
    let repeated = deliveries.values().filter(|c| c.len() > 1).count();
    println!(
        "{} users committed ({} answered) of {}; {} events; {} delivered before the kill; \
         {} delivered more than once",
        stored.len(),
        answered.len(),
        WRITERS * PER_WRITER,
        events.len(),
        delivered_before_restart,
        repeated
    );
}
