//! The server under test runs in a child process (this same binary, `--serve-child`, or
//! another build of it under `--against`), so that its peak memory and its CPU time are its
//! own, not the seeder's or the load generator's.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
        ldap: roster_server::config::LdapSettings {
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        },
        // `--webhook-allow-private`: the delivery scenario's receiver is on 127.0.0.1.
        webhooks: roster_server::service::webhooks::WebhookSettings {
            allow_private: true,
            ..Default::default()
        },
        ..Config::default()
    }
}

/// Child side: serves on a free port, prints `listening <address>` on stdout, and stops
/// gracefully when its stdin closes (the parent dropping it, or dying).
pub async fn serve_child(database_url: &str, data_dir: &Path) -> anyhow::Result<()> {
    roster_server::init_tracing();
    let password = std::env::var(ADMIN_PASSWORD_VAR).context("the admin password variable")?;
    let app = Application::build(config(database_url, data_dir, &password)).await?;
    match app.ldap_addr() {
        Some(ldap) => println!("listening {} ldap {ldap}", app.local_addr()),
        None => println!("listening {}", app.local_addr()),
    }
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
    /// The LDAP gateway's `host:port` (a build before it prints none).
    pub ldap_address: Option<String>,
}

impl ServerProcess {
    /// Starts `exe --serve-child` over the seeded store; access logs are off
    /// (`ROSTER_LOG=warn`), as writing one line per request would measure the terminal.
    pub fn start(
        exe: &Path,
        database_url: &str,
        data_dir: &Path,
        admin_password: &str,
    ) -> anyhow::Result<Self> {
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
            .with_context(|| format!("starting the server process {}", exe.display()))?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let address = line
            .trim()
            .strip_prefix("listening ")
            .with_context(|| format!("the server did not start (it said {line:?})"))?
            .to_owned();
        let (address, ldap_address) = match address.split_once(" ldap ") {
            Some((http, ldap)) => (http.to_owned(), Some(ldap.to_owned())),
            None => (address, None),
        };
        Ok(ServerProcess {
            child,
            base_url: format!("http://{address}"),
            ldap_address,
        })
    }

    /// The kernel's memory figures of the server process.
    pub fn memory(&self) -> Memory {
        read_memory(self.child.id())
    }

    /// The CPU time the server process has used so far (all its threads, user and system).
    pub fn cpu_time(&self) -> Duration {
        process_cpu_time(&self.child.id().to_string())
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

/// This binary itself: the server's code, linked in.
pub fn this_binary() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("finding roster-bench itself")
}

/// The CPU time of process `pid` (a number, or `self`) so far: `utime + stime` of
/// `/proc/<pid>/stat`, which sum every thread of the process. Zero if it cannot be read.
pub fn process_cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let ticks = cpu_ticks(&stat).unwrap_or(0);
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

/// `utime + stime` (fields 14 and 15) of a `/proc/<pid>/stat` line, in clock ticks. Fields
/// are counted after the command name's closing parenthesis: the name may hold spaces and
/// parentheses itself.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name; utime is field 14.
    let mut fields = after_name.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
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

#[cfg(test)]
mod tests {
    use super::cpu_ticks;

    #[test]
    fn cpu_ticks_add_user_and_system_time_after_the_name() {
        // A real line of /proc/<pid>/stat, whose command name holds a space and a parenthesis.
        let stat = "4242 (roster (x) bench) S 4200 4242 4200 34816 4242 4194304 2211 0 0 0 \
                    1234 567 0 0 20 0 7 0 8934 1216614400 14861 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(1234 + 567));
    }

    #[test]
    fn a_truncated_stat_line_has_no_cpu_ticks() {
        assert_eq!(cpu_ticks("4242 (roster) S 1 2 3"), None);
        assert_eq!(cpu_ticks(""), None);
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        let mut spin = 0u64;
        for i in 0..20_000_000u64 {
            spin = spin.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(spin);
        assert!(super::process_cpu_time("self") > std::time::Duration::ZERO);
    }
}
