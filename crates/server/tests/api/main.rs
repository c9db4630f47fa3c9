//! Roster's integration tests: the real server on a random port, driven over HTTP (the harness
//! is `roster-testkit`; tests that run the `roster` binary as a process live in the binary's
//! crate, `crates/cli/tests/cli`). Runs on SQLite, or on PostgreSQL when
//! `ROSTER_TEST_DATABASE_URL` is set.

// The servers of most tests run on the system clock, which the tests then read too; tests
// that move time use a manual clock instead (`helpers::spawn_with_manual_clock`).
#![allow(clippy::disallowed_methods)]
// Panicking on the unexpected is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod apps;
mod audit;
mod auth;
mod basics;
mod batch;
mod browse;
mod browser;
mod client;
mod clock;
mod console;
mod console_edits;
mod console_pages;
mod console_signin;
mod console_users;
mod directory_logons;
mod domains;
mod drives;
mod eds;
mod eds_directory;
mod events;
mod groups;
mod hardening;
mod input_bounds;
mod koodrive;
mod koodrive_spaces;
mod ldap;
mod operations;
mod permissions;
mod provisioning;
mod races;
mod scim;
mod signed;
mod signin;
mod signin_pages;
mod tenancy;
mod tenancy_routing;
mod token_lifetime;
mod users;
mod webhooks;
