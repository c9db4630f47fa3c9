//! The first hour of a new user: every error says what to do. The CLI and the server run as
//! processes, as a person runs them.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, roster_command, spawn_on, TestStore, ADMIN_PASSWORD};
use crate::server_process::start_logging_to;

/// `roster <args>` with a private config dir and a backtrace asked for (it must not come).
fn roster(config: &std::path::Path, args: &[&str], password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_CONFIG_DIR", config)
        .env("ROSTER_PASSWORD", password)
        .env("RUST_BACKTRACE", "1")
        .env_remove("ROSTER_SERVER")
        .args(args)
        .output()
        .expect("roster runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An ordinary error: exit status 1, one `error: ...` line, no panic, no backtrace.
fn assert_one_line_error(output: &Output, expected: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains(expected),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        !err.contains("backtrace") && !err.contains("panicked"),
        "{err}"
    );
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn the_cli_names_the_cause_of_a_connection_error_in_one_line() {
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    let no_scheme = roster(dir, &["login", "--server", "127.0.0.1:8080"], "x");
    assert_one_line_error(&no_scheme, "the server URL needs http:// or https://");

    let port = closed_port();
    let server = format!("http://127.0.0.1:{port}");
    let refused = roster(dir, &["login", "--server", &server], "x");
    assert_one_line_error(&refused, &format!("connection refused by 127.0.0.1:{port}"));

    let not_logged_in = roster(dir, &["user", "list"], "x");
    assert_one_line_error(&not_logged_in, "not logged in");
}

/// Runs `roster <args>` with its standard output a pipe whose reading end is already closed,
/// as `roster ... | head` is once `head` has what it wants.
fn into_a_closed_pipe(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("roster runs");
    drop(child.stdout.take());
    let mut err = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: Vec::new(),
        stderr: err,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_into_a_closed_pipe_ends_quietly() {
    let completions = into_a_closed_pipe(
        Command::new(env!("CARGO_BIN_EXE_roster"))
            .env("RUST_BACKTRACE", "1")
            .args(["completions", "bash"]),
    );
    assert!(stderr(&completions).is_empty(), "{}", stderr(&completions));
    assert_ne!(completions.status.code(), Some(101), "a panic");

    let app = crate::helpers::spawn_app().await;
    let config = tempfile::tempdir().unwrap();
    let login = roster(
        config.path(),
        &["login", "--server", &app.address],
        ADMIN_PASSWORD,
    );
    assert!(login.status.success(), "{}", stderr(&login));
    for i in 0..150 {
        let (status, _) = app
            .admin("/v2/user/create", json!({"user_id": format!("u{i:03}")}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let list = into_a_closed_pipe(
        Command::new(env!("CARGO_BIN_EXE_roster"))
            .env("ROSTER_CONFIG_DIR", config.path())
            .env("RUST_BACKTRACE", "1")
            .args(["user", "list"]),
    );
    assert!(stderr(&list).is_empty(), "{}", stderr(&list));
    assert_ne!(list.status.code(), Some(101), "a panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_out_login_says_how_long_to_wait() {
    let app = crate::helpers::spawn_app().await;
    let config = tempfile::tempdir().unwrap();
    for _ in 0..5 {
        let wrong = roster(
            config.path(),
            &["login", "--server", &app.address],
            "wrong-password",
        );
        assert_one_line_error(&wrong, "InvalidCredentials");
    }
    let started = Instant::now();
    let locked = roster(
        config.path(),
        &["login", "--server", &app.address],
        ADMIN_PASSWORD,
    );
    assert_one_line_error(&locked, "try again in 5 minutes");
    // A wait of minutes is the answer, not something to retry.
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// `roster serve` with `args`, expected to fail: its output, and how long it took.
fn failing_start(store_dir: &std::path::Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .current_dir(store_dir)
        .env("RUST_BACKTRACE", "1")
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_DATA_DIR")
        .arg("serve")
        .args(args)
        .output()
        .expect("roster runs");
    (output, started.elapsed())
}

#[test]
fn a_server_that_cannot_start_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    let port = closed_port();
    let url = format!("postgres://roster@127.0.0.1:{port}/roster");
    let (down, took) = failing_start(dir, &["--database-url", &url, "--listen", "127.0.0.1:0"]);
    let err = stderr(&down);
    assert!(!down.status.success());
    assert!(
        err.contains(&format!(
            "cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused"
        )),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");

    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let (not_a_dir, _) = failing_start(
        dir,
        &[
            "--data-dir",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert!(
        stderr(&not_a_dir).contains("a-file is not a directory"),
        "{}",
        stderr(&not_a_dir)
    );

    // A server that cannot listen creates nothing: no data directory, no credentials.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let data = dir.join("never-made");
    let (cannot_bind, _) = failing_start(
        dir,
        &["--data-dir", data.to_str().unwrap(), "--listen", &address],
    );
    assert!(
        stderr(&cannot_bind).contains(&format!("listening on {address}")),
        "{}",
        stderr(&cannot_bind)
    );
    assert!(!data.exists(), "the data directory was created");
}

#[tokio::test]
async fn a_missing_postgres_database_is_named_with_a_createdb_hint() {
    // Needs a PostgreSQL server: runs in the PostgreSQL pass of the suite.
    let Ok(admin_url) = std::env::var("ROSTER_TEST_DATABASE_URL") else {
        return;
    };
    let base = admin_url.split('?').next().unwrap();
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    let url = format!("{prefix}/roster_no_such_database");
    let dir = tempfile::tempdir().unwrap();
    let (missing, _) = failing_start(
        dir.path(),
        &["--database-url", &url, "--listen", "127.0.0.1:0"],
    );
    let err = stderr(&missing);
    assert!(
        err.contains("database \"roster_no_such_database\" does not exist")
            && err.contains("createdb"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ignored_admin_password_is_warned_and_the_operator_can_recover_the_account() {
    let store = TestStore::fresh().await;
    let first = start_logging_to(&store, None);
    drop(first);
    let log = store.data_path().join("second.log");
    let second = start_logging_to(&store, Some(log.clone()));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("ROSTER_ADMIN_PASSWORD is ignored")
            && text.contains("roster admin reset-password"),
        "{text}"
    );

    // Locked out after five wrong passwords...
    for _ in 0..5 {
        let (status, _) = second
            .token(&[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", "wrong"),
            ])
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = second
        .token(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // ...and let in again by the operator, on the store, while the server runs.
    let unlock = roster_command(&store)
        .args(["admin", "unlock", "--user", "admin"])
        .output()
        .unwrap();
    assert!(unlock.status.success(), "{}", stderr(&unlock));
    second.login("admin", ADMIN_PASSWORD).await;

    // A lost password is replaced; the old one stops working.
    let reset = roster_command(&store)
        .env("ROSTER_NEW_PASSWORD", "brand-new-password-9")
        .args(["admin", "reset-password"])
        .output()
        .unwrap();
    assert!(reset.status.success(), "{}", stderr(&reset));
    second.login("admin", "brand-new-password-9").await;
    let (status, _) = second
        .token(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Without ROSTER_NEW_PASSWORD one is generated and printed once.
    let generated = roster_command(&store)
        .args(["admin", "reset-password"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&generated.stdout).into_owned();
    let password = out.trim().rsplit(": ").next().unwrap().to_owned();
    assert!(password.len() >= 16, "{out}");
    second.login("admin", &password).await;

    let nobody = roster_command(&store)
        .args(["admin", "unlock", "--user", "nobody"])
        .output()
        .unwrap();
    assert!(!nobody.status.success());
    assert!(stderr(&nobody).contains("not found"), "{}", stderr(&nobody));
}

#[tokio::test]
async fn a_refused_parameter_names_the_rule_it_broke() {
    let app = crate::helpers::spawn_app().await;
    let answer = app.admin("/v2/user/list", json!({"limit": 500})).await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("limit must be between 1 and 100"),
        "{}",
        answer.1
    );
    let answer = app
        .admin("/v2/user/create", json!({"user_id": "x".repeat(65)}))
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterOutOfRange",
    );
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("user_id is at most 64 characters"),
        "{}",
        answer.1
    );
    let answer = app
        .admin(
            "/v2/user/create",
            json!({"user_id": "x", "email": "not-an-address"}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "InvalidParameterWrongFormat",
    );
    assert!(
        answer.1["message"].as_str().unwrap().contains("name@host"),
        "{}",
        answer.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_rejects_a_row_that_repeats_an_earlier_one() {
    let store = TestStore::fresh().await;
    let app = spawn_on(store).await;
    let config = tempfile::tempdir().unwrap();
    let login = roster(
        config.path(),
        &["login", "--server", &app.address],
        ADMIN_PASSWORD,
    );
    assert!(login.status.success(), "{}", stderr(&login));
    let file = config.path().join("users.csv");
    std::fs::write(
        &file,
        "user_id,nick_name,identity\n\
         bob,Bob,bob@example.com\n\
         bob,Bobby,bobby@example.com\n\
         carol,Carol,carol@example.com\n\
         dan,Dan,CAROL@example.com\n",
    )
    .unwrap();
    let import = roster(config.path(), &["import", file.to_str().unwrap()], "x");
    let out = String::from_utf8_lossy(&import.stdout).into_owned();
    assert_eq!(import.status.code(), Some(3), "{out}{}", stderr(&import));
    assert!(
        out.starts_with("created 2, skipped as existing 0, failed 2\n"),
        "{out}"
    );
    let rejects = std::fs::read_to_string(config.path().join("users.rejects.csv")).unwrap();
    assert_eq!(
        rejects,
        "user_id,nick_name,identity,error_line,error_code,error_message\n\
         bob,Bobby,bobby@example.com,3,DuplicateRow,user_id bob is on line 2 of this file already\n\
         dan,Dan,CAROL@example.com,5,DuplicateRow,identity CAROL@example.com is on line 4 of this file already\n"
    );
    let (_, bob) = app.admin("/v2/user/get", json!({"user_id": "bob"})).await;
    assert_eq!(bob["nick_name"], "Bob");
    let (status, _) = app.admin("/v2/user/get", json!({"user_id": "dan"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_names_the_caller_and_the_error_code_with_a_rounded_latency() {
    let store = TestStore::fresh().await;
    let log = store.data_path().join("access.log");
    let server = start_logging_to(&store, Some(log.clone()));
    let token = server.login("admin", ADMIN_PASSWORD).await;
    let (status, _) = server
        .call("/v2/user/get", &token, json!({"user_id": "nobody"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The log is copied by a thread: wait for the line.
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("path=\"/v2/user/get\"")) {
            break line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no access line for user/get:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(line.contains("caller=\"admin@default\""), "{line}");
    assert!(line.contains("error_code=\"NotFound.User\""), "{line}");
    let latency = line
        .split("latency_ms=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    let decimals = latency.split('.').nth(1).map_or(0, str::len);
    assert!(decimals <= 2, "{line}");
}
