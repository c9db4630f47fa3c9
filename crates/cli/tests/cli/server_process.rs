//! `roster serve` as a real process (for replicas, crashes, graceful stops and log checks).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{read, roster_command, TestStore};

/// A `roster serve` process; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub address: String,
    pub http: reqwest::Client,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `roster serve` on a free port and waits until it listens.
pub fn start_process(store: &TestStore) -> ServerProcess {
    start_logging_to(store, None)
}

/// Starts `roster serve` and copies its log lines to `log` (when given) as they come.
pub fn start_logging_to(store: &TestStore, log: Option<PathBuf>) -> ServerProcess {
    start_with_env(store, log, &[])
}

/// Starts `roster serve` with more environment (`ROSTER_*` settings).
pub fn start_with_env(
    store: &TestStore,
    log: Option<PathBuf>,
    env: &[(&str, &str)],
) -> ServerProcess {
    let mut child = roster_command(store)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .env("ROSTER_LOG", if log.is_some() { "debug" } else { "info" })
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("roster starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut file = log.map(|path| std::fs::File::create(path).expect("log file"));
    let mut keep = move |line: &str| {
        if let Some(file) = &mut file {
            let _ = writeln!(file, "{line}");
        }
    };
    let address = loop {
        let line = lines
            .next()
            .expect("roster exited before listening")
            .expect("log line");
        keep(&line);
        if let Some(rest) = line.split("address=").nth(1) {
            if line.contains("listening") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        }
    };
    // Keep draining the log so the process never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep(&line);
        }
    });
    crate::helpers::install_tls_provider();
    ServerProcess {
        child,
        address: format!("http://{address}"),
        http: reqwest::Client::new(),
    }
}

impl ServerProcess {
    pub async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/v2/oauth/token", self.address))
            .form(form)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .token(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn call(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.address))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// Sends SIGTERM (a graceful stop) and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        self.child.wait().expect("roster exits")
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn crash(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("roster exits");
    }
}
