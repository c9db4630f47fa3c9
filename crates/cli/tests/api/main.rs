//! Roster's integration tests: the real server on a random port, driven over HTTP.
//! Runs on SQLite, or on PostgreSQL when `ROSTER_TEST_DATABASE_URL` is set.

mod helpers;

mod accounts;
mod apps;
mod auth;
mod basics;
mod cli;
mod client;
mod domains;
mod drives;
mod eds;
mod eds_directory;
mod groups;
mod koodrive;
mod koodrive_spaces;
mod provisioning;
mod replicas;
mod signed;
mod tenancy;
mod users;
