//! The server under test runs in a child process (this same binary, `--serve-child`), so
//! that its peak memory is its own, not the seeder's or the load generator's.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use roster_server::{Application, Config};

/// The variable that hands the admin password to the child (never a flag: `ps` shows flags).
pub const ADMIN_PASSWORD_VAR: &str = "ROSTER_ADMIN_PASSWORD";

/// The configuration both the seeder and the server use.
pub fn config(database_url: &str, data_dir: &Path, admin_password: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_owned(),
        database_url: Some(database_url.to_owned()),
        admin_password: Some(admin_password.to_owned()),
        ..Config::default()
    }
}

/// Child side: serves on a free port, prints `listening <address>` on stdout, and stops
/// gracefully when its stdin closes (the parent dropping it, or dying).
pub async fn serve_child(database_url: &str, data_dir: &Path) -> anyhow::Result<()> {
    roster_server::init_tracing();
    let password = std::env::var(ADMIN_PASSWORD_VAR).context("the admin password variable")?;
    let app = Application::build(config(database_url, data_dir, &password)).await?;
    println!("listening {}", app.local_addr());
    app.run_until(async {
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            std::io::stdin().read_to_end(&mut sink)
        })
        .await;
    })
    .await
}

/// Parent side: the running server process.
pub struct ServerProcess {
    child: Child,
    pub base_url: String,
}

impl ServerProcess {
    /// Starts the child over the seeded store; access logs are off (`ROSTER_LOG=warn`), as
    /// writing one line per request would measure the terminal.
    pub fn start(
        database_url: &str,
        data_dir: &Path,
        admin_password: &str,
    ) -> anyhow::Result<Self> {
        let exe: PathBuf = std::env::current_exe().context("finding roster-bench itself")?;
        let mut child = Command::new(exe)
            .arg("--serve-child")
            .arg("--database-url")
            .arg(database_url)
            .arg("--data-dir")
            .arg(data_dir)
            .env(ADMIN_PASSWORD_VAR, admin_password)
            .env(
                "ROSTER_LOG",
                std::env::var("ROSTER_LOG").unwrap_or("warn".into()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let address = line
            .trim()
            .strip_prefix("listening ")
            .with_context(|| format!("the server did not start (it said {line:?})"))?
            .to_owned();
        Ok(ServerProcess {
            child,
            base_url: format!("http://{address}"),
        })
    }

    /// The kernel's memory figures of the server process.
    pub fn memory(&self) -> Memory {
        read_memory(self.child.id())
    }

    /// Closes the server's stdin and waits for it to finish its requests and exit.
    pub fn stop(mut self) -> anyhow::Result<()> {
        drop(self.child.stdin.take());
        self.child.wait()?;
        Ok(())
    }
}

/// A server left running by an error path is killed, not orphaned.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Resident memory of a process, in MiB: now (`VmRSS`) and its peak so far (`VmHWM`).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Memory {
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
}

fn read_memory(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0.0, |kib| kib / 1024.0)
    };
    Memory {
        rss_mib: field("VmRSS:"),
        peak_rss_mib: field("VmHWM:"),
    }
}
