//! `DriveStore` on SQL.

use super::SqlStore;
use crate::store::DriveStore;

impl DriveStore for SqlStore {}
