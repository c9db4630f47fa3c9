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
            "| {:<24} | {:>4} | {:>9} | {:>8} | {:>8} | {:>10} | {:>10} | {:>6} | {:>9} |",
            "scenario",
            "conc",
            "req/s",
            "p50 ms",
            "p99 ms",
            "server µs",
            "client µs",
            "errors",
            "peak MiB"
        );
        let _ = writeln!(
            out,
            "|{}|-----:|----------:|---------:|---------:|-----------:|-----------:|-------:|----------:|",
            "-".repeat(26)
        );
        for scenario in &self.scenarios {
            for run in &scenario.runs {
                let _ = writeln!(
                    out,
                    "| {:<24} | {:>4} | {:>9.0} | {:>8.2} | {:>8.2} | {:>10.1} | {:>10.1} | {:>6} | {:>9.1} |",
                    scenario.label,
                    run.concurrency,
                    run.requests_per_second,
                    run.p50_ms,
                    run.p99_ms,
                    run.server_cpu_us_per_request,
                    run.generator_cpu_us_per_request,
                    run.errors,
                    scenario.server_memory_after.peak_rss_mib
                );
            }
        }
        let _ = writeln!(
            out,
            "\nserver µs / client µs: CPU time (user + system) per request of the server \
             process / of this load generator"
        );
        out
    }
}

/// Several runs of one scenario at one concurrency, taken together.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Summary {
    /// All requests over all the runs' seconds.
    pub requests_per_second: f64,
    /// All the server's CPU time over all requests.
    pub server_cpu_us_per_request: f64,
    /// The mean of the runs' percentiles.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Summary {
    pub fn of(runs: &[&Measurement]) -> Summary {
        let requests: u64 = runs.iter().map(|r| r.requests).sum();
        let seconds: f64 = runs.iter().map(|r| r.seconds).sum();
        let cpu: f64 = runs.iter().map(|r| r.server_cpu_seconds).sum();
        let mean = |value: fn(&Measurement) -> f64| {
            runs.iter().map(|r| value(r)).sum::<f64>() / runs.len().max(1) as f64
        };
        Summary {
            requests_per_second: ratio(requests as f64, seconds),
            server_cpu_us_per_request: ratio(cpu * 1e6, requests as f64),
            p50_ms: mean(|r| r.p50_ms),
            p99_ms: mean(|r| r.p99_ms),
        }
    }

    /// `self / before`, figure by figure: above 1 means more req/s, or more CPU per request
    /// and longer latencies.
    pub fn over(&self, before: &Summary) -> Summary {
        Summary {
            requests_per_second: ratio(self.requests_per_second, before.requests_per_second),
            server_cpu_us_per_request: ratio(
                self.server_cpu_us_per_request,
                before.server_cpu_us_per_request,
            ),
            p50_ms: ratio(self.p50_ms, before.p50_ms),
            p99_ms: ratio(self.p99_ms, before.p99_ms),
        }
    }
}

/// `a / b`, or zero when `b` is zero (nothing measured, nothing to compare).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// One scenario at one concurrency, both builds.
#[derive(Debug, serde::Serialize)]
pub struct ComparedRow {
    pub label: &'static str,
    pub concurrency: usize,
    pub a: Summary,
    pub b: Summary,
    /// B over A.
    pub ratio: Summary,
}

/// `--against`: build A (the other binary) and build B (this one), run alternately.
#[derive(Debug, serde::Serialize)]
pub struct Comparison {
    pub a_binary: String,
    pub b_binary: String,
    pub rounds: usize,
    pub rows: Vec<ComparedRow>,
    pub a: Report,
    pub b: Report,
}

impl Comparison {
    pub fn new(binaries: [std::path::PathBuf; 2], rounds: usize, a: Report, b: Report) -> Self {
        let mut rows = Vec::new();
        for (a_scenario, b_scenario) in a.scenarios.iter().zip(&b.scenarios) {
            let mut concurrencies: Vec<usize> =
                a_scenario.runs.iter().map(|r| r.concurrency).collect();
            concurrencies.dedup();
            for concurrency in concurrencies {
                let at = |runs: &'_ [Measurement]| -> Summary {
                    let chosen: Vec<&Measurement> = runs
                        .iter()
                        .filter(|r| r.concurrency == concurrency)
                        .collect();
                    Summary::of(&chosen)
                };
                let (sa, sb) = (at(&a_scenario.runs), at(&b_scenario.runs));
                rows.push(ComparedRow {
                    label: a_scenario.label,
                    concurrency,
                    a: sa,
                    b: sb,
                    ratio: sb.over(&sa),
                });
            }
        }
        let [a_binary, b_binary] = binaries.map(|p| p.display().to_string());
        Comparison {
            a_binary,
            b_binary,
            rounds,
            rows,
            a,
            b,
        }
    }

    pub fn errors(&self) -> u64 {
        self.a.errors() + self.b.errors()
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let m = &self.a.machine;
        let _ = writeln!(
            out,
            "sqlite | {} cores ({}) | load {}",
            m.cores, m.cpu, self.b.machine.load_average
        );
        let _ = writeln!(out, "A = {}", self.a_binary);
        let _ = writeln!(out, "B = {}", self.b_binary);
        let _ = writeln!(
            out,
            "{} users; each figure: {} runs of {:.1} s, A and B alternately; \
             peak RSS A {:.1} MiB, B {:.1} MiB\n",
            self.a.seed.users,
            self.rounds,
            self.a.seconds_per_run,
            self.a.server_memory.peak_rss_mib,
            self.b.server_memory.peak_rss_mib
        );
        let _ = writeln!(
            out,
            "| {:<24} | {:>4} | {:>8} | {:>8} | {:>5} | {:>7} | {:>7} | {:>5} | {:>7} | {:>7} | {:>5} | {:>7} | {:>7} | {:>5} |",
            "scenario", "conc", "A req/s", "B req/s", "B/A", "A µs", "B µs", "B/A",
            "A p50", "B p50", "B/A", "A p99", "B p99", "B/A"
        );
        let _ = writeln!(
            out,
            "|{}|-----:|---------:|---------:|------:|--------:|--------:|------:|--------:|--------:|------:|--------:|--------:|------:|",
            "-".repeat(26)
        );
        for row in &self.rows {
            let (a, b, r) = (&row.a, &row.b, &row.ratio);
            let _ = writeln!(
                out,
                "| {:<24} | {:>4} | {:>8.0} | {:>8.0} | {:>5.2} | {:>7.1} | {:>7.1} | {:>5.2} | {:>7.2} | {:>7.2} | {:>5.2} | {:>7.2} | {:>7.2} | {:>5.2} |",
                row.label,
                row.concurrency,
                a.requests_per_second,
                b.requests_per_second,
                r.requests_per_second,
                a.server_cpu_us_per_request,
                b.server_cpu_us_per_request,
                r.server_cpu_us_per_request,
                a.p50_ms,
                b.p50_ms,
                r.p50_ms,
                a.p99_ms,
                b.p99_ms,
                r.p99_ms
            );
        }
        let _ = writeln!(
            out,
            "\nµs: server CPU time per request; p50/p99 in ms (mean over the runs)"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;
    use crate::load::Measurement;

    fn run(requests: u64, seconds: f64, cpu: f64, p50: f64, p99: f64) -> Measurement {
        Measurement {
            concurrency: 16,
            requests,
            errors: 0,
            seconds,
            requests_per_second: requests as f64 / seconds,
            p50_ms: p50,
            p99_ms: p99,
            server_cpu_seconds: cpu,
            server_cpu_us_per_request: cpu * 1e6 / requests as f64,
            generator_cpu_us_per_request: 0.0,
            first_error: None,
        }
    }

    #[test]
    fn a_summary_pools_requests_seconds_and_cpu() {
        let runs = [
            run(1_000, 1.0, 0.2, 1.0, 4.0),
            run(3_000, 1.0, 0.2, 3.0, 8.0),
        ];
        let summary = Summary::of(&runs.iter().collect::<Vec<_>>());
        assert_eq!(summary.requests_per_second, 2_000.0);
        assert_eq!(summary.server_cpu_us_per_request, 100.0);
        assert_eq!(summary.p50_ms, 2.0);
        assert_eq!(summary.p99_ms, 6.0);
    }

    #[test]
    fn ratios_are_b_over_a_and_zero_without_a_baseline() {
        let a = Summary::of(&[&run(1_000, 1.0, 0.1, 2.0, 10.0)]);
        let b = Summary::of(&[&run(1_500, 1.0, 0.075, 1.0, 5.0)]);
        let ratio = b.over(&a);
        assert_eq!(ratio.requests_per_second, 1.5);
        assert!((ratio.server_cpu_us_per_request - 0.5).abs() < 1e-9);
        assert_eq!(ratio.p50_ms, 0.5);
        assert_eq!(ratio.p99_ms, 0.5);
        assert_eq!(b.over(&Summary::of(&[])).requests_per_second, 0.0);
    }
}
