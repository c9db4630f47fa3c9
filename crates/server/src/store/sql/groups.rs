//! `GroupStore` on SQL.

use super::SqlStore;
use crate::store::GroupStore;

impl GroupStore for SqlStore {}
