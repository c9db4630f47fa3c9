//! The load generator: `concurrency` tasks in a closed loop (each sends its next request when
//! the previous one is answered) for a fixed time, each over its own keep-alive connection.

use std::future::Future;
use std::time::{Duration, Instant};

/// What one worker does per request; it owns whatever state it carries between requests
/// (a random generator, a refresh-token chain, a counter).
pub trait Worker: Send + 'static {
    /// One request: `Err` describes a failed one (transport error or non-2xx answer).
    fn call(&mut self) -> impl Future<Output = Result<(), String>> + Send;

    /// Untimed work before a run, until `until` (a stock of authorization codes); most
    /// workers need none.
    fn prepare(&mut self, until: Instant) -> impl Future<Output = Result<(), String>> + Send {
        let _ = until;
        async { Ok(()) }
    }
}

/// Lets every worker prepare, all at once, for `budget`; answers them back.
pub async fn prepare<W: Worker>(workers: Vec<W>, budget: Duration) -> Result<Vec<W>, String> {
    let until = Instant::now() + budget;
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            tokio::spawn(async move {
                let prepared = worker.prepare(until).await;
                prepared.map(|()| worker)
            })
        })
        .collect();
    let mut back = Vec::with_capacity(tasks.len());
    for task in tasks {
        back.push(task.await.map_err(|e| e.to_string())??);
    }
    Ok(back)
}

/// The measured outcome of one scenario at one concurrency.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measurement {
    pub concurrency: usize,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The server process's CPU time (user + system, all threads) over the run, and divided
    /// by the requests completed: unlike req/s, it does not move with the CPU the generator
    /// takes from a shared machine.
    pub server_cpu_seconds: f64,
    pub server_cpu_us_per_request: f64,
    /// The same for this process (the generator), to show what it costs next to the server.
    pub generator_cpu_us_per_request: f64,
    /// The first failure seen, to say why `errors` is not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl Measurement {
    /// Records the CPU time the server and the generator used during the run.
    pub fn with_cpu(mut self, server: Duration, generator: Duration) -> Measurement {
        self.server_cpu_seconds = server.as_secs_f64();
        self.server_cpu_us_per_request = micros_per_request(server, self.requests);
        self.generator_cpu_us_per_request = micros_per_request(generator, self.requests);
        self
    }
}

/// CPU time per request, in microseconds; zero when no request completed.
pub fn micros_per_request(cpu: Duration, requests: u64) -> f64 {
    if requests == 0 {
        return 0.0;
    }
    cpu.as_secs_f64() * 1e6 / requests as f64
}

struct WorkerTally<W> {
    worker: W,
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `workers` (one task each) until `duration` has passed; answers the measurement and
/// the workers back, so that state such as refresh-token chains carries to the next run.
pub async fn run<W: Worker>(workers: Vec<W>, duration: Duration) -> (Measurement, Vec<W>) {
    let concurrency = workers.len();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|worker| tokio::spawn(drive(worker, deadline)))
        .collect();
    let mut tallies = Vec::with_capacity(concurrency);
    for task in tasks {
        if let Ok(tally) = task.await {
            tallies.push(tally);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    let measurement = Measurement {
        concurrency,
        requests,
        errors: tallies.iter().map(|t| t.errors).sum(),
        seconds,
        requests_per_second: requests as f64 / seconds.max(f64::EPSILON),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        server_cpu_seconds: 0.0,
        server_cpu_us_per_request: 0.0,
        generator_cpu_us_per_request: 0.0,
        first_error: tallies.iter().find_map(|t| t.first_error.clone()),
    };
    (measurement, tallies.into_iter().map(|t| t.worker).collect())
}

async fn drive<W: Worker>(mut worker: W, deadline: Instant) -> WorkerTally<W> {
    let mut latencies_us = Vec::with_capacity(4096);
    let mut errors = 0;
    let mut first_error = None;
    while Instant::now() < deadline {
        let sent = Instant::now();
        let result = worker.call().await;
        latencies_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        if let Err(e) = result {
            errors += 1;
            first_error.get_or_insert(e);
        }
    }
    WorkerTally {
        worker,
        latencies_us,
        errors,
        first_error,
    }
}

/// The latency below which `q` of the sorted samples lie (nearest rank), in milliseconds.
pub fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((sorted_us.len() as f64) * q).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[index]) / 1000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{micros_per_request, percentile_ms};

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&samples, 0.50), 50.0);
        assert_eq!(percentile_ms(&samples, 0.99), 99.0);
        assert_eq!(percentile_ms(&[], 0.99), 0.0);
    }

    #[test]
    fn cpu_per_request_is_in_microseconds() {
        assert_eq!(micros_per_request(Duration::from_millis(170), 10_000), 17.0);
        assert_eq!(micros_per_request(Duration::from_secs(1), 0), 0.0);
    }
}
