//! The `roster` command line as a process against a running server: login, user commands with
//! table and JSON output, logout.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, ADMIN_PASSWORD};

/// Runs `roster <args>` with a private config dir; answers (success, stdout, stderr).
fn roster(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_CONFIG_DIR", config)
        .env("ROSTER_PASSWORD", ADMIN_PASSWORD)
        .env_remove("ROSTER_SERVER")
        .args(args)
        .output()
        .expect("roster runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

// Multi-threaded: the CLI runs as a blocking child process while this test's runtime serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_user_commands_and_logout() {
    let app = spawn_app().await;
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();

    let (ok, _, err) = roster(dir, &["user", "list"]);
    assert!(!ok && err.contains("not logged in"), "{err}");
    let (ok, out, err) = roster(dir, &["login", "--server", &app.address]);
    assert!(ok, "{err}");
    assert!(out.contains("logged in as admin (superadmin)"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let (ok, out, err) = roster(
        dir,
        &[
            "user",
            "create",
            "bob",
            "--nick-name",
            "Bobby Tables",
            "--email",
            "bob@example.com",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let bob: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(bob["user_id"], "bob");
    assert_eq!(bob["nick_name"], "Bobby Tables");

    let (ok, out, _) = roster(dir, &["user", "list"]);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("USER_ID"), "{out}");
    // Aligned: the second column starts at the same place on every line.
    let column = lines[0].find("NICK_NAME").unwrap();
    assert_eq!(&lines[2][column..column + 12], "Bobby Tables", "{out}");
    let (ok, out, _) = roster(dir, &["user", "list", "--json"]);
    assert!(ok);
    let ids: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["user_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["admin", "bob"]);
    let (ok, out, _) = roster(dir, &["user", "search", "tabl", "--fuzzy", "--json"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 1, "{out}");

    let (ok, _, err) = roster(dir, &["user", "get", "nobody"]);
    assert!(!ok);
    assert!(err.contains("NotFound.User"), "{err}");
    let (ok, out, _) = roster(dir, &["user", "delete", "bob"]);
    assert!(ok && out.contains("deleted user bob"), "{out}");

    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("credentials.json")).unwrap())
            .unwrap();
    let (ok, out, _) = roster(dir, &["logout"]);
    assert!(ok, "{out}");
    assert!(!dir.join("credentials.json").exists());
    let (status, _) = app
        .token_grant(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", saved["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "logout revoked the refresh token"
    );
}
