//! The `roster` binary's tests: the CLI's commands, and `roster serve` as a real process
//! (replicas sharing a store, crashes, graceful stops, what reaches the log, backups).
//! Runs on SQLite, or on PostgreSQL when `ROSTER_TEST_DATABASE_URL` is set.

// The servers run on the system clock, which the tests then read too.
#![allow(clippy::disallowed_methods)]
// Panicking on the unexpected is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod server_process;

mod backups;
mod cli;
mod first_hour;
mod replicas;
mod resilience;
mod webhooks;
