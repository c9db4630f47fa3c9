//! The server as a process under the worst: killed with SIGKILL in the middle of a bulk
//! import (nothing acknowledged lost, nothing half-made), stopped with SIGTERM under load
//! (in-flight requests finish), and its logs never holding a secret.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{TestStore, ADMIN_PASSWORD};
use crate::server_process::{start_logging_to, start_process, ServerProcess};

/// Sends batches of imports (each user with an account and a drive) until the server stops
/// answering; records the users whose creation was acknowledged.
async fn import_until_refused(
    address: String,
    token: String,
    writer: usize,
    acknowledged: Arc<Mutex<BTreeSet<String>>>,
) {
    let http = reqwest::Client::new();
    for round in 0.. {
        let requests: Vec<Value> = (0..20)
            .map(|i| {
                let user_id = format!("w{writer}r{round}i{i}");
                json!({"id": user_id, "method": "POST", "url": "/user/import",
                       "body": {"user_id": user_id, "authentication_type": "email",
                                "identity": format!("{user_id}@example.com"),
                                "nick_name": user_id, "auto_create_drive": true,
                                "drive_total_size": 1024}})
            })
            .collect();
        let sent = http
            .post(format!("{address}/v2/batch"))
            .bearer_auth(&token)
            .json(&json!({"resource": "user", "requests": requests}))
            .send()
            .await;
        let Ok(response) = sent else { return };
        let Ok(answer) = response.json::<Value>().await else {
            return;
        };
        for item in answer["responses"].as_array().into_iter().flatten() {
            assert_eq!(item["status"], 200, "{item}");
            let id = item["id"].as_str().unwrap().to_owned();
            acknowledged.lock().unwrap().insert(id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_bulk_import_loses_nothing_acknowledged_and_leaves_nothing_half_made() {
    let store = TestStore::fresh().await;
    let mut server = start_process(&store);
    let token = server.login("admin", ADMIN_PASSWORD).await;
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(import_until_refused(
                server.address.clone(),
                token.clone(),
                w,
                acknowledged.clone(),
            ))
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.crash();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let server = start_process(&store);
    let token = server.login("admin", ADMIN_PASSWORD).await;
    let stored = all_users(&server, &token).await;
    let stored_ids: BTreeSet<String> = stored
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&String> = acknowledged.difference(&stored_ids).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    // Every user there (acknowledged or not) is whole: its account and its drive.
    for user in stored.iter().filter(|u| u["user_id"] != "admin") {
        let user_id = user["user_id"].as_str().unwrap();
        assert_eq!(
            user["account"][0]["identity"],
            format!("{user_id}@example.com"),
            "{user}"
        );
        assert_eq!(user["default_drive"]["total_size"], 1024, "{user}");
    }
    // The audit log commits with the changes: a user exists exactly when the record of its
    // creation does, crash or not.
    let recorded = audit_records(
        &server,
        &token,
        "action_type = 'user.import' and outcome = 'success'",
    )
    .await;
    let recorded_ids: BTreeSet<String> = recorded
        .iter()
        .map(|r| r["object_id"].as_str().unwrap().to_owned())
        .collect();
    let imported: BTreeSet<String> = stored_ids
        .iter()
        .filter(|id| id.as_str() != "admin")
        .cloned()
        .collect();
    assert_eq!(recorded.len(), recorded_ids.len(), "one record per user");
    assert_eq!(recorded_ids, imported);
    drop(server);
    if store.database_url.is_none() {
        let url = format!("sqlite://{}", store.data_path().join("roster.db").display());
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok");
    }
}

/// Every item of a list call, page by page: `body` with each page's marker.
async fn all_pages(server: &ServerProcess, token: &str, path: &str, body: Value) -> Vec<Value> {
    let mut items = Vec::new();
    let mut marker = String::new();
    loop {
        let mut page_body = body.clone();
        page_body["marker"] = json!(marker);
        page_body["limit"] = json!(100);
        let (status, page) = server.call(path, token, page_body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        marker = page["next_marker"].as_str().unwrap().to_owned();
        if marker.is_empty() {
            return items;
        }
    }
}

/// Every user with its accounts and default drive.
async fn all_users(server: &ServerProcess, token: &str) -> Vec<Value> {
    let body = json!({"extra_return_info": ["account", "drive"]});
    all_pages(server, token, "/v2/user/general_search", body).await
}

/// Every audit record matching `query`.
async fn audit_records(server: &ServerProcess, token: &str, query: &str) -> Vec<Value> {
    all_pages(server, token, "/v2/audit_log/list", json!({"query": query})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_every_request_in_flight() {
    let store = TestStore::fresh().await;
    let mut server = start_process(&store);
    // One client, made before the clock starts: making one loads the platform's root
    // certificates (reqwest on rustls), which on a loaded machine could delay the requests
    // past the SIGTERM below.
    let http = server.http.clone();
    // Password logins take tens of milliseconds each (argon2id): many are in flight at once.
    let logins: Vec<_> = (0..24)
        .map(|_| {
            let (address, http) = (server.address.clone(), http.clone());
            tokio::spawn(async move {
                http.post(format!("{address}/v2/oauth/token"))
                    .form(&[
                        ("grant_type", "password"),
                        ("username", "admin"),
                        ("password", ADMIN_PASSWORD),
                    ])
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let status = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success(), "a graceful stop exits 0: {status}");
    for login in logins {
        let answer = login.await.unwrap();
        assert_eq!(
            answer.ok(),
            Some(StatusCode::OK),
            "an accepted request was answered"
        );
    }
    let after = reqwest::Client::new()
        .get(format!("{}/healthz", server.address))
        .send()
        .await;
    assert!(after.is_err(), "the server is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_or_secret_reaches_the_log() {
    let store = TestStore::fresh().await;
    let log = store.data_path().join("server.log");
    let mut server = start_logging_to(&store, Some(log.clone()));
    let (status, tokens) = server
        .token(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, renewed) = server
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let user_password = "Plain-Text-Secret-77";
    let (status, _) = server
        .call(
            "/v2/user/import",
            &access,
            json!({"authentication_type": "custom", "identity": "carol", "nick_name": "Carol",
                   "plain_password": user_password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let wrong_password = "Wrong-Guess-Secret-88";
    let (status, _) = server
        .token(&[
            ("grant_type", "password"),
            ("username", "carol"),
            ("password", wrong_password),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, key) = server
        .call("/v2/access_key/create", &access, json!({}))
        .await;
    assert!(status.is_success(), "{key}");
    let key_secret = key["access_key_secret"].as_str().unwrap().to_owned();
    // Malformed bodies and bad tokens carrying secret-looking values are logged without them.
    let (status, _) = server
        .call(
            "/v2/user/create",
            &format!("{access}x"),
            json!({"plain_password": user_password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.terminate();

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().filter(|l| l.contains("request")).count() >= 7,
        "{text}"
    );
    let secrets = [
        ADMIN_PASSWORD,
        user_password,
        wrong_password,
        access.as_str(),
        refresh.as_str(),
        renewed["access_token"].as_str().unwrap(),
        renewed["refresh_token"].as_str().unwrap(),
        key_secret.as_str(),
    ];
    for secret in secrets {
        // Either end of it would give it away too (a JWT's start is its header; its end, the
        // signature).
        let n = secret.len().min(16);
        for piece in [&secret[..n], &secret[secret.len() - n..]] {
            assert!(
                !text.contains(piece),
                "a secret reached the log: {piece}\n{text}"
            );
        }
    }
}
