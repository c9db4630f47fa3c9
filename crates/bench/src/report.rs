//! The results: a table for people, JSON for tools.

use std::fmt::Write;

use crate::load::Measurement;
use crate::scenarios::Scenario;
use crate::seed::SeedReport;
use crate::server::Memory;

#[derive(Debug, serde::Serialize)]
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub label: &'static str,
    pub runs: Vec<Measurement>,
    /// The server's memory when this scenario ended; its peak is the peak so far.
    pub server_memory_after: Memory,
}

/// What machine the figures come from, and how busy it was.
#[derive(Debug, serde::Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    /// `/proc/loadavg` when the report was made: other work on the machine shows here.
    pub load_average: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
                .unwrap_or_default(),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }
    }
}

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub database: &'static str,
    pub machine: Machine,
    pub seed: SeedReport,
    pub seconds_per_run: f64,
    /// The server process's memory at the end: `peak_rss_mib` is its `VmHWM`.
    pub server_memory: Memory,
    pub scenarios: Vec<ScenarioResult>,
}

impl Report {
    pub fn new(
        database_url: &str,
        seed: SeedReport,
        server_memory: Memory,
        seconds_per_run: f64,
        scenarios: Vec<ScenarioResult>,
    ) -> Report {
        Report {
            database: if database_url.starts_with("postgres") {
                "postgresql"
            } else {
                "sqlite"
            },
            machine: Machine::read(),
            seed,
            seconds_per_run,
            server_memory,
            scenarios,
        }
    }

    pub fn errors(&self) -> u64 {
        self.scenarios
            .iter()
            .flat_map(|s| &s.runs)
            .map(|r| r.errors)
            .sum()
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let s = &self.seed;
        let _ = writeln!(
            out,
            "{} | {} cores ({}) | load {}",
            self.database, self.machine.cores, self.machine.cpu, self.machine.load_average
        );
        let _ =
            writeln!(
            out,
            "seeded {} users with accounts in {:.1} s ({:.0}/s); {} groups in {} levels in {:.1} s",
            s.users, s.users_seconds, s.users_per_second, s.groups, s.group_levels, s.groups_seconds
        );
        let _ = writeln!(
            out,
            "server peak RSS {:.1} MiB (VmHWM of the server process)\n",
            self.server_memory.peak_rss_mib
        );
        let _ = writeln!(
            out,
            "| {:<24} | {:>4} | {:>9} | {:>8} | {:>8} | {:>6} | {:>9} |",
            "scenario", "conc", "req/s", "p50 ms", "p99 ms", "errors", "peak MiB"
        );
        let _ = writeln!(
            out,
            "|{}|-----:|----------:|---------:|---------:|-------:|----------:|",
            "-".repeat(26)
        );
        for scenario in &self.scenarios {
            for run in &scenario.runs {
                let _ = writeln!(
                    out,
                    "| {:<24} | {:>4} | {:>9.0} | {:>8.2} | {:>8.2} | {:>6} | {:>9.1} |",
                    scenario.label,
                    run.concurrency,
                    run.requests_per_second,
                    run.p50_ms,
                    run.p99_ms,
                    run.errors,
                    scenario.server_memory_after.peak_rss_mib
                );
            }
        }
        out
    }
}
