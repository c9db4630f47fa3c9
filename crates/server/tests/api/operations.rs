//! Operations: Prometheus metrics at `/metrics` (parsed with a text-format parser) and honest
//! readiness at `/readyz` (draining, store unreachable, migrations pending).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{read, spawn_app, spawn_with, TestApp, TestStore, ADMIN_PASSWORD};

/// The samples of a scrape of `base/metrics`.
async fn scrape(http: &reqwest::Client, base: &str) -> Vec<prometheus_parse::Sample> {
    let response = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).unwrap().samples
}

/// The value of the sample `metric` whose labels include `labels` (summed over the others);
/// 0 when there is none yet.
fn value(samples: &[prometheus_parse::Sample], metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// The number of observations of the histogram `metric` with `labels`.
fn observations(
    samples: &[prometheus_parse::Sample],
    metric: &str,
    labels: &[(&str, &str)],
) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_count_requests_sign_ins_and_tokens_as_they_happen() {
    let app = spawn_app().await;
    let before = scrape(&app.http, &app.address).await;
    let get_user = [
        ("dialect", "pds"),
        ("route", "/v2/user/get"),
        ("status", "200"),
    ];
    let requests = "roster_http_requests_total";
    let (status, _) = app.admin("/v2/user/get", json!({"user_id": "admin"})).await;
    assert_eq!(status, StatusCode::OK);
    app.admin("/v2/user/get", json!({"user_id": "admin"})).await;
    let (status, _) = app
        .admin("/v2/user/get", json!({"user_id": "no-such-user-4711"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "wrong-password"),
        ])
        .await;
    assert!(status.is_client_error(), "{status}");
    app.login("admin", ADMIN_PASSWORD).await;
    let after = scrape(&app.http, &app.address).await;

    assert_eq!(
        value(&after, requests, &get_user) - value(&before, requests, &get_user),
        2.0
    );
    let not_found = [("route", "/v2/user/get"), ("status", "404")];
    assert_eq!(value(&after, requests, &not_found), 1.0);
    assert_eq!(
        observations(
            &after,
            "roster_http_request_duration_seconds",
            &[("dialect", "pds"), ("route", "/v2/user/get")]
        ),
        3.0
    );
    let sign_ins = "roster_sign_ins_total";
    assert_eq!(
        value(&after, sign_ins, &[("outcome", "success")])
            - value(&before, sign_ins, &[("outcome", "success")]),
        1.0
    );
    assert_eq!(
        value(&after, sign_ins, &[("outcome", "invalid_credentials")]),
        1.0
    );
    let tokens = "roster_tokens_issued_total";
    assert_eq!(
        value(&after, tokens, &[("grant", "password")])
            - value(&before, tokens, &[("grant", "password")]),
        1.0
    );
    // The pools are there, and some connection was opened.
    assert!(value(&after, "roster_store_pool_connections", &[]) >= 1.0);
    assert!(after
        .iter()
        .any(|s| s.metric == "roster_store_pool_connections_in_use"));
    assert!(after.iter().any(|s| s.metric == "roster_webhook_backlog"));
}

#[tokio::test]
async fn metric_labels_never_carry_paths_or_ids() {
    let app = spawn_app().await;
    // Unknown paths, with ids in them, fold into one `unmatched` route.
    for n in 0..3 {
        let response = app
            .http
            .get(app.url(&format!("/nowhere/secret-id-{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let (status, _) = app
        .admin("/v2/user/get", json!({"user_id": "label-probe-user"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("secret-id"), "{text}");
    assert!(!text.contains("label-probe-user"), "{text}");
    let samples = scrape(&app.http, &app.address).await;
    assert_eq!(
        value(
            &samples,
            "roster_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        3.0
    );
}

#[tokio::test]
async fn lockouts_and_locked_sign_ins_are_counted() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.tokens.lockout.max_failures = 2;
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    app.user_with_role("lockme", "user").await;
    for _ in 0..3 {
        app.token_grant(&[
            ("grant_type", "password"),
            ("username", "lockme"),
            ("password", "wrong-password"),
        ])
        .await;
    }
    let samples = scrape(&app.http, &app.address).await;
    assert!(value(&samples, "roster_lockouts_total", &[]) >= 1.0);
    assert_eq!(
        value(
            &samples,
            "roster_sign_ins_total",
            &[("outcome", "locked_out")]
        ),
        1.0
    );
}

#[tokio::test]
async fn metrics_listen_serves_metrics_on_its_own_address_only() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.metrics_listen = Some("127.0.0.1:0".into());
    let app = spawn_with(store, config, ADMIN_PASSWORD).await;
    let metrics = app.metrics_address.clone().expect("metrics address");
    assert_ne!(metrics, app.address);
    let samples = scrape(&app.http, &metrics).await;
    // The admin's login went through the main address and is counted here.
    assert!(value(&samples, "roster_sign_ins_total", &[("outcome", "success")]) >= 1.0);
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn readiness(app: &TestApp) -> (StatusCode, serde_json::Value) {
    read(app.http.get(app.url("/readyz")).send().await.unwrap()).await
}

#[tokio::test]
async fn readiness_answers_503_from_the_start_of_the_drain_while_requests_are_still_served() {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.drain_grace = Duration::from_secs(3);
    let mut app = spawn_with(store, config, ADMIN_PASSWORD).await;
    assert_eq!(readiness(&app).await.0, StatusCode::OK);
    app.begin_stop();
    let mut answer = readiness(&app).await;
    for _ in 0..50 {
        if answer.0 != StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        answer = readiness(&app).await;
    }
    assert_eq!(answer.0, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.1);
    assert_eq!(answer.1["code"], "ServiceUnavailable");
    assert!(answer.1["message"].as_str().unwrap().contains("draining"));
    // Liveness and the API still answer during the grace.
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.admin("/v2/user/get", json!({"user_id": "admin"})).await;
    assert_eq!(status, StatusCode::OK);
}

/// Runs `sql` on the test's database directly (SQLite file or PostgreSQL database).
async fn run_sql(store: &TestStore, sql: &str) {
    use sqlx::{Connection, Executor};
    match &store.database_url {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        None => {
            let path = store.data_path().join("roster.db");
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }
}

#[tokio::test]
async fn readiness_answers_503_while_a_migration_is_pending() {
    let app = spawn_app().await;
    assert_eq!(readiness(&app).await.0, StatusCode::OK);
    // As if this binary carried a migration the database has not had.
    run_sql(
        &app.store,
        "UPDATE _sqlx_migrations SET success = FALSE \
         WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("migrations_pending"));
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    run_sql(&app.store, "UPDATE _sqlx_migrations SET success = TRUE").await;
    assert_eq!(readiness(&app).await.0, StatusCode::OK);
}

#[tokio::test]
async fn readiness_answers_503_while_the_store_is_unreachable() {
    let Ok(admin_url) = std::env::var("ROSTER_TEST_DATABASE_URL") else {
        // Only a server database can be taken away from a running server.
        return;
    };
    if admin_url.is_empty() {
        return;
    }
    let app = spawn_app().await;
    assert_eq!(readiness(&app).await.0, StatusCode::OK);
    let url = app.store.database_url.clone().unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let admin = |sql: String| {
        let admin_url = admin_url.clone();
        async move {
            use sqlx::{Connection, Executor};
            let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
            conn.close().await.unwrap();
        }
    };
    admin(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    admin(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("store_unreachable"));
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    admin(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    let mut status = readiness(&app).await.0;
    for _ in 0..50 {
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = readiness(&app).await.0;
    }
    assert_eq!(status, StatusCode::OK);
}

/// PostgreSQL dropping every connection of the server (a restart, `pg_terminate_backend`):
/// the pool does not check a connection it used a moment ago before each statement (a round
/// trip per statement), so a read or a write that meets a dropped one must start again on a
/// checked one and answer as if nothing had happened. Read first here, written first below.
#[tokio::test]
async fn a_read_answers_after_postgres_dropped_the_servers_connections() {
    let Some(app) = app_whose_connections_postgres_dropped().await else {
        return;
    };
    let (status, body) = app.admin("/v2/user/get", json!({"user_id": "kept"})).await;
    assert_eq!(status, StatusCode::OK, "a read after the drop: {body}");
    assert_eq!(body["nick_name"], "Kept");
    create_user_after_the_drop(&app).await;
}

#[tokio::test]
async fn a_write_answers_after_postgres_dropped_the_servers_connections() {
    let Some(app) = app_whose_connections_postgres_dropped().await else {
        return;
    };
    create_user_after_the_drop(&app).await;
    let reads = (0..8).map(|_| app.admin("/v2/user/get", json!({"user_id": "new"})));
    for (status, body) in futures_util::future::join_all(reads).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

async fn create_user_after_the_drop(app: &TestApp) {
    let user = json!({"user_id": "new", "nick_name": "New"});
    let (status, body) = app.admin("/v2/user/create", user).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a write after the drop: {body}"
    );
}

/// A server on PostgreSQL (none without `ROSTER_TEST_DATABASE_URL`) with a user `kept` and
/// several pooled connections, all used a moment ago and then terminated by PostgreSQL.
async fn app_whose_connections_postgres_dropped() -> Option<TestApp> {
    use sqlx::{Connection, Executor};
    let admin_url = std::env::var("ROSTER_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    let app = spawn_app().await;
    app.create_user("kept", "Kept").await;
    let reads = (0..8).map(|_| app.admin("/v2/user/get", json!({"user_id": "kept"})));
    for (status, body) in futures_util::future::join_all(reads).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let url = app.store.database_url.clone().unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let dropped = admin
        .fetch_all(sqlx::AssertSqlSafe(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )))
        .await
        .unwrap();
    assert!(
        dropped.len() > 1,
        "the server had {} connections",
        dropped.len()
    );
    admin.close().await.unwrap();
    Some(app)
}

#[tokio::test]
async fn event_and_audit_rows_and_write_waits_are_measured() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let before = scrape(&http, &app.address).await;
    let (events, audits) = (
        value(&before, "roster_event_rows", &[]),
        value(&before, "roster_audit_rows", &[]),
    );
    app.create_user("rows-1", "Rows").await;
    let mut after = scrape(&http, &app.address).await;
    // One user: one event and at least one audit record more. Both gauges are estimates, but
    // the events' (a sequence span) and SQLite's audit rows (a rowid span) are exact without
    // retention; PostgreSQL's audit rows come from its statistics, which the writing
    // connection reports within seconds (at most about ten when idle).
    assert_eq!(value(&after, "roster_event_rows", &[]) - events, 1.0);
    if app.store.database_url.is_some() {
        for _ in 0..150 {
            if value(&after, "roster_audit_rows", &[]) > audits {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            after = scrape(&http, &app.address).await;
        }
    }
    assert!(value(&after, "roster_audit_rows", &[]) - audits >= 1.0);

    // Many writers at once: on SQLite they take turns, and the waits for a turn are counted
    // (on PostgreSQL only once its pool is exhausted, so only the counter's presence is
    // checked there). A turn is short, so for the writers to wait for sure another process
    // (this test) holds the file's write lock a while: the writer whose turn it is waits for
    // the lock, the others for their turns.
    let ids: Vec<String> = (0..24).map(|i| format!("wait-{i}")).collect();
    let creates =
        futures_util::future::join_all(ids.iter().map(|id| app.create_user(id, "Waiter")));
    if app.store.database_url.is_none() {
        use sqlx::{Connection, Executor};
        let url = format!(
            "sqlite://{}",
            app.store.data_path().join("roster.db").display()
        );
        let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
        other.execute("BEGIN IMMEDIATE").await.unwrap();
        let release = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            other.execute("COMMIT").await.unwrap();
        };
        tokio::join!(creates, release);
    } else {
        creates.await;
    }
    let later = scrape(&http, &app.address).await;
    let waits = "roster_store_pool_waits_total";
    assert!(later.iter().any(|s| s.metric == waits), "{later:?}");
    if app.store.database_url.is_none() {
        assert!(value(&later, waits, &[("pool", "writer")]) >= 1.0);
        assert!(value(&later, "roster_store_pool_wait_seconds_total", &[]) > 0.0);
    }
}
