//! Roster's test harness, shared by the server's integration suite (`crates/server/tests/api`)
//! and the binary's process tests (`crates/cli/tests/cli`): `spawn_app()` starts the real
//! server on a random port with a fresh store: a temporary SQLite file, or, when
//! `ROSTER_TEST_DATABASE_URL` is set, a new PostgreSQL database created for this test alone
//! (so tests run in parallel on either backend).

// Panicking on the unexpected is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod setup;

pub use setup::{AccessKey, Member, NewDomain, NewDrive, NewUser, Quotas, Role, SetUp, UserChange};

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::{Response, StatusCode};
use roster_server::clock::Clock;
use roster_server::{Application, Config};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const USER_PASSWORD: &str = "user-password-1";

/// Where a test's data lives; kept across restarts of its server.
#[derive(Clone)]
pub struct TestStore {
    pub data_dir: Arc<tempfile::TempDir>,
    pub database_url: Option<String>,
}

impl TestStore {
    /// A fresh, empty store on the backend this run tests.
    pub async fn fresh() -> TestStore {
        let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let database_url = match std::env::var("ROSTER_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(create_database(&url).await),
            _ => None,
        };
        TestStore {
            data_dir,
            database_url,
        }
    }

    pub fn config(&self) -> Config {
        Config {
            listen: "127.0.0.1:0".into(),
            data_dir: self.data_dir.path().to_path_buf(),
            database_url: self.database_url.clone(),
            domain_id: "default".into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            ..Config::default()
        }
    }

    pub fn data_path(&self) -> PathBuf {
        self.data_dir.path().to_path_buf()
    }

    /// Writes `count` plain users of `domain_id` (`<prefix>00000`, `<prefix>00001`...: no
    /// password, no logon, no group) straight into the store through Roster's bulk path for
    /// copies between stores (`UserStore::restore_users`, many rows a statement), so a test
    /// about a large directory seeds thousands in a second. The server may be running on the
    /// store: it reads them like any other commit.
    pub async fn seed_users(&self, domain_id: &str, prefix: &str, count: usize) {
        use roster_server::store::{NewUser, UserStore};
        let (services, store) = roster_server::startup::open_services(&self.config())
            .await
            .expect("the store opens");
        let now = services.clock.now_ms();
        let users: Vec<NewUser> = (0..count)
            .map(|i| NewUser {
                user: roster_server::service::users::new_user_row(
                    domain_id,
                    format!("{prefix}{i:05}"),
                    "seed",
                    now,
                ),
                accounts: Vec::new(),
                password_hash: None,
                group_ids: Vec::new(),
                drive: None,
            })
            .collect();
        store.restore_users(users).await.expect("users seeded");
        drop(services);
        store.close().await;
    }
}

/// Creates `roster_t_<random>` next to the database the URL names; returns its URL.
pub async fn create_database(admin_url: &str) -> String {
    let name = format!("roster_t_{}", roster_server::service::random_hex(8));
    let mut conn = PgConnection::connect(admin_url)
        .await
        .expect("ROSTER_TEST_DATABASE_URL must reach PostgreSQL");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    conn.close().await.ok();
    let (base, _) = admin_url
        .split_once('?')
        .map_or((admin_url, ""), |(b, q)| (b, q));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    format!("{prefix}/{name}")
}

/// A running server and an HTTP client for it.
pub struct TestApp {
    pub address: String,
    /// `http://host:port` of `--metrics-listen`, when the config set one.
    pub metrics_address: Option<String>,
    pub http: reqwest::Client,
    pub store: TestStore,
    pub admin_token: String,
    /// `ldap://host:port` of the LDAP gateway, when the test turned it on.
    pub ldap_url: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_on(TestStore::fresh().await).await
}

/// Starts a server whose `Host` routing runs under `base_domain` (`<domain_id>.<base>`).
pub async fn spawn_with_base_domain(base_domain: &str) -> TestApp {
    let store = TestStore::fresh().await;
    let mut config = store.config();
    config.base_domain = Some(base_domain.into());
    spawn_with(store, config, ADMIN_PASSWORD).await
}

/// Starts a server whose clock stands still at the present until the test moves it, with
/// `configure` applied to its settings; answers the server and its clock.
pub async fn spawn_with_manual_clock(configure: impl FnOnce(&mut Config)) -> (TestApp, Clock) {
    let store = TestStore::fresh().await;
    let clock = Clock::manual_from_now();
    let mut config = store.config();
    config.clock = clock.clone();
    configure(&mut config);
    (spawn_with(store, config, ADMIN_PASSWORD).await, clock)
}

/// Starts a server over an existing store (a restart, or a second replica).
pub async fn spawn_on(store: TestStore) -> TestApp {
    spawn_with(store.clone(), store.config(), ADMIN_PASSWORD).await
}

/// Starts a server with `config` and logs in as `admin` with `admin_password`.
pub async fn spawn_with(store: TestStore, config: Config, admin_password: &str) -> TestApp {
    let app = Application::build(config).await.expect("server starts");
    let address = format!("http://{}", app.local_addr());
    let metrics_address = app.metrics_addr().map(|a| format!("http://{a}"));
    let ldap_url = app.ldap_addr().map(|a| format!("ldap://{a}"));
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    let mut test_app = TestApp {
        address,
        metrics_address,
        http: {
            install_tls_provider();
            reqwest::Client::new()
        },
        store,
        admin_token: String::new(),
        ldap_url,
        shutdown: Some(tx),
        server: Some(server),
    };
    test_app.admin_token = test_app.login("admin", admin_password).await;
    test_app
}

impl TestApp {
    /// Stops the server gracefully and waits until it has closed its store.
    pub async fn stop(mut self) -> TestStore {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
        self.store.clone()
    }

    /// Signals the server to stop (its drain starts) without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `POST path` with a JSON body and an optional bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// `method path` (as the spec names it: `get`, `post`) with an optional bearer token and,
    /// for a POST, a JSON body; returns status and JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut request = match method {
            "get" => self.http.get(self.url(path)),
            _ => self.http.post(self.url(path)).json(body),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.expect("request sent")).await
    }

    /// `GET path`; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        read(
            self.http
                .get(self.url(path))
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    /// `POST path` as the admin; returns status and JSON body (`null` for an empty body).
    pub async fn admin(&self, path: &str, body: Value) -> (StatusCode, Value) {
        read(self.post(path, Some(&self.admin_token), &body).await).await
    }

    /// `POST path` as the holder of `token`.
    pub async fn call(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        read(self.post(path, Some(token), &body).await).await
    }

    /// The password grant; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .token_grant(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "login of {username}: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The password grant in domain `domain_id`; panics unless it succeeds.
    pub async fn login_in(&self, domain_id: &str, username: &str, password: &str) -> String {
        let (status, body) = self
            .token_grant(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("domain_id", domain_id),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{domain_id}/{username}: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// `POST /v2/oauth/token` with a form.
    pub async fn token_grant(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/v2/oauth/token"))
            .form(form)
            .send()
            .await
            .expect("token request sent");
        read(response).await
    }

    /// Creates a group as the admin (at the top, or under `parent`); returns its id.
    pub async fn create_group(&self, name: &str, parent: Option<&str>) -> String {
        self.by_admin().group(name, parent).await
    }

    /// Creates a user (no password, no logon) as the admin; returns its body.
    pub async fn create_user(&self, user_id: &str, nick_name: &str) -> Value {
        let (status, user) = self
            .admin(
                "/v2/user/create",
                json!({"user_id": user_id, "nick_name": nick_name}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        user
    }

    /// Imports a user whose custom account identity is `identity` and whose password is
    /// `USER_PASSWORD`, gives it `role`, logs it in; returns its user id and access token.
    pub async fn user_with_role(&self, identity: &str, role: &str) -> (String, String) {
        let admin = self.by_admin();
        let user_id = admin.imported_user(identity, USER_PASSWORD).await;
        match role {
            "user" => {}
            "admin" => admin.set_role(&user_id, Role::Admin).await,
            "superadmin" => admin.set_role(&user_id, Role::Superadmin).await,
            "directory_reader" => admin.set_role(&user_id, Role::DirectoryReader).await,
            other => panic!("no role {other}"),
        }
        let token = self.login(identity, USER_PASSWORD).await;
        (user_id, token)
    }
}

/// Status and JSON body of a response (`Value::Null` when the body is empty).
pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// Asserts an error answer: status, exact `code`, and the request id in body and header.
pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (got_status, body) = answer;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["request_id"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );
}

/// Makes rustls on ring the process's TLS provider, which a `reqwest::Client` built without
/// a TLS configuration of its own needs (the workspace's reqwest has rustls without a default
/// provider). Idempotent; every spawn calls it, and so must a test that builds a
/// `reqwest::Client` before it spawns a server.
pub fn install_tls_provider() {
    // An error means a provider is already installed: keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
