//! The drive space each domain keeps (`drive_totals`, migration 0071): the sum of its
//! limited drives' `total_size` (allocated) and of every drive's `used_size`, written in
//! the transaction of every drive insert, size change and delete, so the overview and
//! `domain/get` read a few rows instead of summing every drive. A domain's rows go with it.
//!
//! Each figure is kept as two halves split at 2^31, summed apart as [`super::split_sum`]
//! sums drives: no running total overflows a BIGINT, however large the drives.

use super::users::count_shard;
use super::{combine_split_sum, text, Arg, Stmt};
use crate::store::drives::{DriveRow, DriveUsage};

/// Where a value is split.
const HALF: i64 = 2_147_483_648;

/// Adds the `excluded` row to the stored one.
const ACCUMULATE: &str = "ON CONFLICT (domain_id, shard) DO UPDATE SET \
     allocated_hi = drive_totals.allocated_hi + excluded.allocated_hi, \
     allocated_lo = drive_totals.allocated_lo + excluded.allocated_lo, \
     used_hi = drive_totals.used_hi + excluded.used_hi, \
     used_lo = drive_totals.used_lo + excluded.used_lo";

/// Drive space, each figure in its halves.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Space {
    allocated_hi: i64,
    allocated_lo: i64,
    used_hi: i64,
    used_lo: i64,
}

impl Space {
    /// What one drive counts for: its `total_size` if it has a limit, and its `used_size`.
    pub(super) fn of(drive: &DriveRow) -> Space {
        let allocated = drive.total_size.max(0);
        Space {
            allocated_hi: allocated / HALF,
            allocated_lo: allocated % HALF,
            used_hi: drive.used_size / HALF,
            used_lo: drive.used_size % HALF,
        }
    }

    /// What `drives` count for together.
    pub(super) fn of_all<'a>(drives: impl IntoIterator<Item = &'a DriveRow>) -> Space {
        drives.into_iter().fold(Space::default(), |sum, d| {
            let one = Space::of(d);
            Space {
                allocated_hi: sum.allocated_hi.saturating_add(one.allocated_hi),
                allocated_lo: sum.allocated_lo.saturating_add(one.allocated_lo),
                used_hi: sum.used_hi.saturating_add(one.used_hi),
                used_lo: sum.used_lo.saturating_add(one.used_lo),
            }
        })
    }

    /// The same space taken away.
    pub(super) fn negated(self) -> Space {
        Space {
            allocated_hi: -self.allocated_hi,
            allocated_lo: -self.allocated_lo,
            used_hi: -self.used_hi,
            used_lo: -self.used_lo,
        }
    }
}

/// Adds `space` to `domain_id`'s totals, on the shard `key` (a drive or owner id) picks.
pub(super) fn add_space_stmt(domain_id: &str, key: &str, space: Space) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO drive_totals (domain_id, shard, allocated_hi, allocated_lo, used_hi, \
             used_lo) VALUES ($1, $2, $3, $4, $5, $6) {ACCUMULATE}"
        ),
        vec![
            text(domain_id),
            Arg::Int(count_shard(key)),
            Arg::Int(space.allocated_hi),
            Arg::Int(space.allocated_lo),
            Arg::Int(space.used_hi),
            Arg::Int(space.used_lo),
        ],
    )
}

/// Takes away from `domain_id`'s totals what its drives matching `filter` hold, run just
/// before those drives are deleted or resized (SQL; `$1` is the domain, `filter`'s own
/// parameters `args` follow from `$2`). `key` picks the shard as in [`add_space_stmt`].
fn take_away_drives_stmt(domain_id: &str, key: &str, filter: &str, args: Vec<Arg>) -> Stmt {
    let half =
        |column: &str, op: char| format!("-CAST(COALESCE(SUM({column} {op} {HALF}), 0) AS BIGINT)");
    // `WHERE true`: SQLite reads `ON CONFLICT` after a bare `FROM` as a join's `ON`.
    let sql = format!(
        "INSERT INTO drive_totals (domain_id, shard, allocated_hi, allocated_lo, used_hi, \
         used_lo) SELECT $1, {shard}, {}, {}, {}, {} FROM (SELECT CASE WHEN total_size >= 0 \
         THEN total_size ELSE 0 END AS a, used_size AS u FROM drives WHERE domain_id = $1 \
         AND {filter}) AS d WHERE true {ACCUMULATE}",
        half("a", '/'),
        half("a", '%'),
        half("u", '/'),
        half("u", '%'),
        shard = count_shard(key),
    );
    let mut all = vec![text(domain_id)];
    all.extend(args);
    Stmt::new(sql, all)
}

/// [`take_away_drives_stmt`] of the drives `owner` (a user or group) owns.
pub(super) fn take_away_owned_stmt(domain_id: &str, owner_type: &str, owner: &str) -> Stmt {
    take_away_drives_stmt(
        domain_id,
        owner,
        "owner_type = $2 AND owner = $3",
        vec![text(owner_type), text(owner)],
    )
}

/// [`take_away_drives_stmt`] of one drive.
pub(super) fn take_away_drive_stmt(domain_id: &str, drive_id: &str) -> Stmt {
    take_away_drives_stmt(domain_id, drive_id, "drive_id = $2", vec![text(drive_id)])
}

/// Reads `domain_id`'s totals: four halves.
pub(super) fn usage_stmt(domain_id: &str) -> Stmt {
    Stmt::new(
        "SELECT CAST(COALESCE(SUM(allocated_hi), 0) AS BIGINT), \
         CAST(COALESCE(SUM(allocated_lo), 0) AS BIGINT), \
         CAST(COALESCE(SUM(used_hi), 0) AS BIGINT), \
         CAST(COALESCE(SUM(used_lo), 0) AS BIGINT) FROM drive_totals WHERE domain_id = $1",
        vec![text(domain_id)],
    )
}

/// The usage [`usage_stmt`] read.
pub(super) fn usage_of(halves: Option<(i64, i64, i64, i64)>) -> DriveUsage {
    halves.map_or_else(DriveUsage::default, |(ah, al, uh, ul)| DriveUsage {
        allocated: combine_split_sum(ah, al),
        used: combine_split_sum(uh, ul),
    })
}
