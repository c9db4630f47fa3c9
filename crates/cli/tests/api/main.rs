//! Roster's integration tests: the real server on a random port, driven over HTTP.
//! Runs on SQLite, or on PostgreSQL when `ROSTER_TEST_DATABASE_URL` is set.

// The servers of most tests run on the system clock, which the tests then read too; tests
// that move time use a manual clock instead (`helpers::spawn_with_manual_clock`).
#![allow(clippy::disallowed_methods)]
// Panicking on the unexpected is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod server_process;

mod accounts;
mod apps;
mod audit;
mod auth;
mod backups;
mod basics;
mod batch;
mod browse;
mod cli;
mod client;
mod clock;
mod directory_logons;
mod domains;
mod drives;
mod eds;
mod eds_directory;
mod first_hour;
mod groups;
mod hardening;
mod input_bounds;
mod koodrive;
mod koodrive_spaces;
mod permissions;
mod provisioning;
mod races;
mod replicas;
mod resilience;
mod scim;
mod signed;
mod tenancy;
mod tenancy_routing;
mod token_lifetime;
mod users;
