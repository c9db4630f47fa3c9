//! The shared harness (`roster-testkit`) and the `roster` binary set up for a test's store.

use std::process::Command;

pub use roster_testkit::*;

/// The `roster` binary, set up to use this test's store.
pub fn roster_command(store: &TestStore) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .env("ROSTER_DATA_DIR", store.data_path())
        .env("ROSTER_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ROSTER_LOG", "info")
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_LOG_FORMAT");
    if let Some(url) = &store.database_url {
        command.env("ROSTER_DATABASE_URL", url);
    }
    command
}
