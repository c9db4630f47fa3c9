//! Backups: taken while the server runs, restored into a store that then serves exactly what
//! the backup held. SQLite with `roster backup`, PostgreSQL with pg_dump and pg_restore, as
//! docs/operations.md says.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{create_database, roster_command, TestStore, ADMIN_PASSWORD, USER_PASSWORD};
use crate::server_process::start_process;

/// Backs the store up while it serves: `roster backup` or `pg_dump`.
fn back_up(store: &TestStore, file: &std::path::Path) {
    let status = match &store.database_url {
        None => roster_command(store)
            .args(["backup", "--to", file.to_str().unwrap()])
            .status(),
        Some(url) => Command::new("pg_dump")
            .args([
                "--format=custom",
                "--no-owner",
                "--file",
                file.to_str().unwrap(),
                url,
            ])
            .status(),
    };
    assert!(status.expect("backup runs").success());
}

/// Restores into `store`'s place (SQLite) or a new database (PostgreSQL); answers the
/// store to serve from.
async fn restore(store: &TestStore, file: &std::path::Path) -> TestStore {
    match &store.database_url {
        None => {
            let db = store.data_path().join("roster.db");
            for stale in ["roster.db-wal", "roster.db-shm"] {
                let _ = std::fs::remove_file(store.data_path().join(stale));
            }
            std::fs::copy(file, &db).expect("backup copied into place");
            store.clone()
        }
        Some(_) => {
            let admin_url = std::env::var("ROSTER_TEST_DATABASE_URL").unwrap();
            let url = create_database(&admin_url).await;
            let status = Command::new("pg_restore")
                .args([
                    "--no-owner",
                    "--exit-on-error",
                    "--dbname",
                    &url,
                    file.to_str().unwrap(),
                ])
                .status()
                .expect("pg_restore runs");
            assert!(status.success());
            TestStore {
                data_dir: store.data_dir.clone(),
                database_url: Some(url),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_the_directory_as_it_was() {
    let store = TestStore::fresh().await;
    let server = start_process(&store);
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let (status, kept) = server
        .call(
            "/v2/user/import",
            &admin,
            json!({"user_id": "kept", "authentication_type": "custom", "identity": "kept",
                   "nick_name": "Kept", "plain_password": USER_PASSWORD,
                   "auto_create_drive": true, "drive_total_size": 4096}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    let backup = store.data_path().join("backup.file");
    back_up(&store, &backup);
    let (status, _) = server
        .call("/v2/user/create", &admin, json!({"user_id": "later"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    drop(server);

    let restored = restore(&store, &backup).await;
    let server = start_process(&restored);
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    server.login("kept", USER_PASSWORD).await;
    let (status, user) = server
        .call(
            "/v2/user/general_get",
            &admin,
            json!({"user_id": "kept", "extra_return_info": ["drive"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["nick_name"], "Kept");
    assert_eq!(user["default_drive"]["total_size"], 4096);
    let (status, _) = server
        .call("/v2/user/get", &admin, json!({"user_id": "later"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "made after the backup");
    // A backup never overwrites a file.
    if store.database_url.is_none() {
        let output = roster_command(&restored)
            .args(["backup", "--to", backup.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("exists already"));
    }
}
