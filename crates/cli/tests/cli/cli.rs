//! The `roster` command line as a process against a running server: login, user commands with
//! table and JSON output, logout.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, roster_command, spawn_app, ADMIN_PASSWORD};

/// Runs `roster <args>` with a private config dir; answers (success, stdout, stderr).
pub(crate) fn roster(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
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

/// Logs a fresh config dir in to `app` and answers it.
fn logged_in(app: &crate::helpers::TestApp) -> tempfile::TempDir {
    let config = tempfile::tempdir().unwrap();
    let (ok, _, err) = roster(config.path(), &["login", "--server", &app.address]);
    assert!(ok, "{err}");
    config
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_member_and_drive_commands() {
    let app = spawn_app().await;
    let config = logged_in(&app);
    let dir = config.path();
    let run = |args: &[&str]| {
        let (ok, out, err) = roster(dir, args);
        assert!(ok, "{args:?}: {err}");
        out
    };

    let eng = &json_lines(&run(&["group", "create", "Engineering", "--json"]))[0];
    let eng_id = eng["group_id"].as_str().unwrap().to_owned();
    let backend = &json_lines(&run(&[
        "group",
        "create",
        "Backend",
        "--parent",
        &eng_id,
        "--description",
        "API team",
        "--json",
    ]))[0];
    let backend_id = backend["group_id"].as_str().unwrap().to_owned();
    assert_eq!(backend["parent_group_id"], eng_id.as_str());

    let table = run(&["group", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("GROUP_ID"), "{table}");
    let name_column = lines[0].find("NAME").unwrap();
    let names: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l[name_column..].split_whitespace().next().unwrap())
        .collect();
    assert!(
        names.contains(&"Engineering") && names.contains(&"Backend"),
        "{table}"
    );
    let found = json_lines(&run(&["group", "search", "acke", "--fuzzy", "--json"]));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["group_name"], "Backend");
    let renamed = &json_lines(&run(&[
        "group",
        "update",
        &backend_id,
        "--name",
        "Platform",
        "--json",
    ]))[0];
    assert_eq!(renamed["group_name"], "Platform");
    let got = &json_lines(&run(&["group", "get", &backend_id, "--json"]))[0];
    assert_eq!(got["description"], "API team");

    run(&["user", "create", "bob", "--nick-name", "Bob"]);
    assert_eq!(
        run(&["member", "add", &backend_id, "bob"]).trim(),
        format!("added bob to {backend_id}")
    );
    let members = run(&["member", "list", &eng_id]);
    let lines: Vec<&str> = members.lines().collect();
    assert!(lines[0].starts_with("TYPE"), "{members}");
    assert!(
        lines[1].starts_with("group") && lines[1].contains("Platform"),
        "{members}"
    );
    let members = json_lines(&run(&["member", "list", &backend_id, "--json"]));
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["member_type"], "user");
    assert_eq!(members[0]["user"]["user_id"], "bob");
    run(&["member", "remove", &backend_id, "bob"]);
    assert!(json_lines(&run(&["member", "list", &backend_id, "--json"])).is_empty());
    let (ok, _, err) = roster(dir, &["member", "remove", &backend_id, "bob"]);
    assert!(!ok && err.contains("NotFound.Membership"), "{err}");

    let drive = &json_lines(&run(&[
        "drive",
        "create",
        "--owner",
        "bob",
        "--name",
        "Bob drive",
        "--size",
        "10G",
        "--default",
        "--json",
    ]))[0];
    let drive_id = drive["drive_id"].as_str().unwrap().to_owned();
    assert_eq!(drive["total_size"], 10i64 << 30);
    let default = &json_lines(&run(&["drive", "default", "bob", "--json"]))[0];
    assert_eq!(default["drive_id"], drive_id.as_str());
    let updated = &json_lines(&run(&[
        "drive", "update", &drive_id, "--size", "-1", "--json",
    ]))[0];
    assert_eq!(updated["total_size"], -1);
    let table = run(&["drive", "list", "--owner", "bob", "--owner-type", "user"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("DRIVE_ID"), "{table}");
    let size_column = lines[0].find("TOTAL_SIZE").unwrap();
    assert!(lines[1][size_column..].starts_with("-1"), "{table}");
    let (ok, _, err) = roster(
        dir,
        &[
            "drive", "create", "--owner", "bob", "--name", "x", "--size", "lots",
        ],
    );
    assert!(
        !ok && err.contains("drive_size") || err.contains("not a size"),
        "{err}"
    );
    assert_eq!(
        run(&["drive", "delete", &drive_id]).trim(),
        format!("deleted drive {drive_id}")
    );
    let (ok, _, err) = roster(dir, &["drive", "get", &drive_id]);
    assert!(!ok && err.contains("NotFound.Drive"), "{err}");

    assert_eq!(
        run(&["group", "delete", &backend_id]).trim(),
        format!("deleted group {backend_id}")
    );
    let (ok, _, err) = roster(dir, &["group", "get", &backend_id]);
    assert!(!ok && err.contains("NotFound.Group"), "{err}");
}

#[test]
fn completions_and_help_examples() {
    let config = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let (ok, out, err) = roster(config.path(), &["completions", shell]);
        assert!(ok, "{err}");
        assert!(
            out.contains("roster") && out.contains("import"),
            "{shell}: {out}"
        );
    }
    let (ok, _, _) = roster(config.path(), &["completions", "tcsh"]);
    assert!(!ok, "an unknown shell is refused");
    // Every command and subcommand.
    let commands = "serve|migrate|migrate-store|backup|outbox|login|logout|import|completions|\
        domain|domain create|domain list|domain delete|\
        access-key|access-key create|access-key list|access-key disable|access-key enable|\
        access-key delete|user|user get|user list|user search|user create|user update|\
        user delete|group|group create|group get|group update|group delete|group list|\
        group search|member|member add|member remove|member list|drive|drive create|\
        drive get|drive default|drive update|drive delete|drive list|audit";
    for command in commands.split('|') {
        let command: Vec<&str> = command.split_whitespace().collect();
        let mut args = command.clone();
        args.push("--help");
        let (ok, out, err) = roster(config.path(), &args);
        assert!(ok, "{err}");
        assert!(out.contains("Example"), "{command:?}: {out}");
    }
}

const IMPORT_CSV: &[u8] = b"user_id,nick_name,identity,group_id,drive_size
ann,Ann Lee,ann@example.com,GROUP,1G
bob,\"Tables, Bobby\",bob@example.com,,
ann,Ann again,ann2@example.com,,
carl,Carl,carl@example.com,,lots
dee,Dee,bob@example.com,,
eve,Eve
,Fay,fay@example.com,,
gus,Gus,gus@example.com,nogroup,
h\xc3\xa9,H\xc3\xa9l\xc3\xa8ne \xc3\x9cnal,helene@example.com,,
ivy,I\xffvy,ivy@example.com,,
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_created_existing_and_failed_rows_exactly() {
    let app = spawn_app().await;
    let (_, group) = app
        .admin(
            "/v2/group/create",
            serde_json::json!({"group_name": "Sales"}),
        )
        .await;
    let group_id = group["group_id"].as_str().unwrap();
    let config = logged_in(&app);
    let dir = config.path();
    let file = dir.join("users.csv");
    let csv = String::from_utf8_lossy(IMPORT_CSV).replace("GROUP", group_id);
    // Put the invalid byte back: the lossy conversion above replaced it.
    let csv = csv.replace("I\u{fffd}vy", "I@@vy");
    let mut bytes = csv.into_bytes();
    let at = bytes.windows(4).position(|w| w == b"I@@v").unwrap();
    bytes.splice(at + 1..at + 3, [0xff]);
    std::fs::write(&file, &bytes).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_CONFIG_DIR", dir)
        .args(["import", file.to_str().unwrap()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{out}");
    let rejects = dir.join("users.rejects.csv");
    assert_eq!(
        out,
        format!(
            "created 4, skipped as existing 0, failed 6\nfailed rows written to {}\n",
            rejects.display()
        )
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("progress: 10/10 rows"),
        "plain progress lines when not on a terminal"
    );
    let expected = "user_id,nick_name,identity,group_id,drive_size,error_line,error_code,error_message
ann,Ann again,ann2@example.com,,,4,DuplicateRow,user_id ann is on line 2 of this file already
carl,Carl,carl@example.com,,lots,5,MalformedRow,\"drive_size \"\"lots\"\" is not a size such as 1073741824, 10G or -1\"
dee,Dee,bob@example.com,,,6,DuplicateRow,identity bob@example.com is on line 3 of this file already
eve,Eve,,,,7,MalformedRow,\"2 fields, the header has 5\"
gus,Gus,gus@example.com,nogroup,,9,NotFound.Group,The resource Group cannot be found. Please check.
ivy,I\u{fffd}vy,ivy@example.com,,,11,MalformedRow,not valid UTF-8
";
    assert_eq!(std::fs::read_to_string(&rejects).unwrap(), expected);

    // Imported as written: quoted comma, UTF-8, group, drive; the generated id for Fay.
    let (_, ann) = app
        .admin(
            "/v2/user/general_get",
            serde_json::json!({"user_id": "ann",
                "extra_return_info": ["account", "drive", "group"]}),
        )
        .await;
    assert_eq!(ann["nick_name"], "Ann Lee");
    assert_eq!(ann["account"][0]["identity"], "ann@example.com");
    assert_eq!(ann["default_drive"]["total_size"], 1i64 << 30);
    assert_eq!(ann["parent_group"][0]["group_id"], group_id);
    let (_, bob) = app
        .admin("/v2/user/get", serde_json::json!({"user_id": "bob"}))
        .await;
    assert_eq!(bob["nick_name"], "Tables, Bobby");
    let (_, helene) = app
        .admin("/v2/user/get", serde_json::json!({"user_id": "hé"}))
        .await;
    assert_eq!(helene["nick_name"], "Hélène Ünal");
    let (status, fay) = app
        .admin(
            "/v2/account/get_link_info",
            serde_json::json!({"type": "email", "identity": "fay@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fay}");

    // Again: nothing is created twice; the same rows fail.
    let (ok, out, _) = roster(dir, &["import", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        out.starts_with("created 0, skipped as existing 4, failed 6\n"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&rejects).unwrap(), expected);

    // A file with an unknown column is refused before anything is sent.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "user_id,identity,nickname\nzed,zed@example.com,Zed\n").unwrap();
    let (ok, _, err) = roster(dir, &["import", bad.to_str().unwrap()]);
    assert!(!ok && err.contains("unknown column \"nickname\""), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_import_is_finished_by_running_it_again() {
    const ROWS: usize = 2000;
    let app = spawn_app().await;
    let config = logged_in(&app);
    let dir = config.path();
    let file = dir.join("many.csv");
    // No user_id column: the account identity is what makes a row already imported.
    let mut csv = String::from("nick_name,identity\n");
    for i in 0..ROWS {
        csv.push_str(&format!("Person {i},p{i:05}@example.com\n"));
    }
    std::fs::write(&file, csv).unwrap();

    let mut first = Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_CONFIG_DIR", dir)
        .args([
            "import",
            file.to_str().unwrap(),
            "--batch-size",
            "5",
            "--concurrency",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some rows are in.
    let probe = serde_json::json!({"type": "email", "identity": "p00200@example.com"});
    loop {
        let (status, _) = app.admin("/v2/account/get_link_info", probe.clone()).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the import ended too soon"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        first.try_wait().unwrap().is_none(),
        "the import was still running"
    );
    first.kill().unwrap();
    first.wait().unwrap();

    let (ok, out, err) = roster(dir, &["import", file.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let counts: Vec<usize> = out
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let [created, existing, failed] = counts[..] else {
        panic!("{out}")
    };
    assert_eq!(failed, 0, "{out}");
    assert_eq!(created + existing, ROWS, "{out}");
    assert!(existing >= 200 && created > 0, "{out}");

    // Every row exactly once: one user per identity, and no other user.
    let client = roster_client::Client::with_token(&app.address, &app.admin_token);
    let users = client.list_all_users().await.unwrap();
    assert_eq!(users.len(), ROWS + 1, "the admin and one user a row");
    let mut emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), ROWS + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_shows_filters_and_exports_the_log() {
    let app = spawn_app().await;
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    let (ok, _, err) = roster(dir, &["login", "--server", &app.address]);
    assert!(ok, "{err}");
    for name in ["Audited A", "Audited B"] {
        let (ok, _, err) = roster(dir, &["group", "create", name]);
        assert!(ok, "{err}");
    }
    let (ok, out, err) = roster(dir, &["audit", "--action", "group.create", "--json"]);
    assert!(ok, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines
        .iter()
        .all(|r| r["action_type"] == "group.create" && r["actor_id"] == "admin"));
    let (ok, out, err) = roster(dir, &["audit", "--outcome", "success", "--limit", "3"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("ACTED_AT"), "{out}");
    assert_eq!(out.lines().count(), 4, "header and 3 rows: {out}");
    let file = dir.join("audit.csv");
    let (ok, _, err) = roster(
        dir,
        &[
            "audit",
            "--action",
            "group.create",
            "--oldest-first",
            "--export",
            file.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("log_id,acted_at,"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let (ok, _, err) = roster(dir, &["audit", "--since", "yesterday"]);
    assert!(!ok && err.contains("InvalidParameter"), "{err}");
}

/// The password `roster domain create` gives a new domain's first superadmin.
const PASSWORD: &str = "tenant-password-1";

#[tokio::test]
async fn the_cli_creates_lists_and_deletes_domains() {
    let app = spawn_app().await;
    let run = |args: &[&str]| {
        let output = roster_command(&app.store)
            .env("ROSTER_NEW_ADMIN_PASSWORD", PASSWORD)
            .arg("domain")
            .args(args)
            .output()
            .expect("roster runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (ok, printed) = run(&["create", "--name", "From the CLI", "--id", "cli-made"]);
    assert!(ok, "{printed}");
    assert!(printed.contains("\"domain_id\":\"cli-made\""), "{printed}");
    assert!(
        !printed.contains(PASSWORD),
        "a given password is not printed"
    );
    let token = app.login_in("cli-made", "admin", PASSWORD).await;
    let (_, me) = app.call("/v2/user/get", &token, json!({})).await;
    assert_eq!(me["role"], "superadmin");

    let (ok, listed) = run(&["list"]);
    assert!(ok);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("cli-made\tFrom the CLI")),
        "{listed}"
    );

    let (ok, _) = run(&["delete", "cli-made"]);
    assert!(!ok, "deleting without --force is refused");
    let (ok, printed) = run(&["delete", "cli-made", "--force"]);
    assert!(ok, "{printed}");
    let answer = app.call("/v2/user/get", &token, json!({})).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "AccessTokenInvalid");
}

#[tokio::test]
async fn the_outbox_command_prints_the_kept_mail() {
    let app = spawn_app().await;
    // An eds-user user created with an e-mail and no password is mailed a reset.
    let response = app
        .http
        .post(app.url("/?SignatureType=BEARERTOKEN"))
        .header("x-acs-action", "CreateUsers")
        .header("x-acs-version", "2021-03-08")
        .header("x-acs-bearer-token", &app.admin_token)
        .form(&[
            ("Users.1.EndUserId", "ida"),
            ("Users.1.Email", "ida@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let printed = roster_command(&app.store)
        .args(["outbox", "--limit", "5"])
        .output()
        .unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    assert!(String::from_utf8_lossy(&printed.stdout).contains("ida@example.com"));
}
