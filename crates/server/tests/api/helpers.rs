//! The shared harness (`roster-testkit`), under the name every test module imports.

pub use roster_testkit::*;
