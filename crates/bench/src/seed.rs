//! The data set: users with accounts and one password, a group tree, memberships. Generated
//! deterministically from the user's number, so the load generator can name any user, its
//! nick name, its group and the sort key of any list page without asking the server.
//!
//! Users go in through `Store::restore_users` (Roster's import path for copies between
//! stores, which writes many rows per statement) and groups through `Store::create_group`, so
//! the seeded store is exactly what Roster itself would have written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use roster_server::clock::Clock;
use roster_server::service::users::new_user_row;
use roster_server::store::groups::GroupRow;
use roster_server::store::{AccountRow, GroupStore, NewUser, SqlStore, UserStore};

/// The domain Roster bootstraps; every seeded object lives in it.
pub const DOMAIN: &str = "default";
/// The one password of every seeded user (see `password_hash`).
pub const USER_PASSWORD: &str = "bench-Passw0rd";
/// Users written per transaction.
const USERS_PER_BATCH: usize = 10_000;

/// How big the data set is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub users: u64,
    /// Top-level groups; each heads a subtree of `groups_per_division` groups.
    pub divisions: u64,
    pub groups_per_division: u64,
}

impl Shape {
    /// 10 divisions of 1,000 groups each (10,000 groups, 10 levels) for a full run; fewer
    /// for small user counts, so that a smoke run stays a few seconds.
    pub fn for_users(users: u64) -> Shape {
        let groups_per_division = (users / 100).clamp(10, 1_000);
        Shape {
            users,
            divisions: 10,
            groups_per_division,
        }
    }

    pub fn groups(&self) -> u64 {
        self.divisions * self.groups_per_division
    }

    /// Levels of the tree: each division is a complete binary tree.
    pub fn levels(&self) -> u32 {
        u64::BITS - self.groups_per_division.leading_zeros()
    }
}

/// What seeding took.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeedReport {
    pub users: u64,
    pub groups: u64,
    pub group_levels: u32,
    pub memberships: u64,
    pub groups_seconds: f64,
    pub users_seconds: f64,
    pub users_per_second: f64,
}

pub fn user_id(i: u64) -> String {
    format!("u{i:07}")
}

pub fn user_name(i: u64) -> String {
    format!("user{i:07}")
}

const SYLLABLES: [&str; 32] = [
    "ka", "lo", "mi", "ra", "to", "su", "ne", "vi", "da", "po", "le", "ju", "sa", "ri", "no", "be",
    "fa", "go", "hi", "ke", "lu", "ma", "ni", "or", "pe", "qui", "ro", "si", "ta", "ul", "ve",
    "zo",
];

/// A well-mixed 64-bit hash of `i` (splitmix64), so names look random but are reproducible.
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn syllables(mut bits: u64, count: usize) -> String {
    let mut out = String::new();
    for _ in 0..count {
        out.push_str(SYLLABLES[(bits % 32) as usize]);
        bits /= 32;
    }
    let mut chars = out.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `(given name, family name)`: 1,024 given names and 32,768 family names, so a family name
/// is shared by ~30 of a million users and a full name is nearly unique.
pub fn names(i: u64) -> (String, String) {
    let h = mix(i);
    (syllables(h, 2), syllables(h >> 10, 3))
}

pub fn nick_name(i: u64) -> String {
    let (given, family) = names(i);
    format!("{given} {family}")
}

/// The group of division `d` at position `k` (0 is the division's top group).
pub fn group_id(division: u64, k: u64) -> String {
    format!("g{division:02}-{k:04}")
}

/// The one group user `i` is a direct member of: spread by a hash, so that a group's
/// members are scattered over the `user_id` order as they are in a real directory.
pub fn group_of(shape: &Shape, i: u64) -> String {
    let g = mix(i ^ 0x5EED) % shape.groups();
    group_id(g / shape.groups_per_division, g % shape.groups_per_division)
}

/// Writes the group tree: per division a complete binary tree (group `k`'s parent is
/// `(k - 1) / 2`), parents before children.
pub async fn seed_groups(store: &SqlStore, shape: &Shape) -> anyhow::Result<()> {
    let now = Clock::system().now_ms();
    for division in 0..shape.divisions {
        for k in 0..shape.groups_per_division {
            let parent = if k == 0 {
                String::new()
            } else {
                group_id(division, (k - 1) / 2)
            };
            let group = GroupRow {
                domain_id: DOMAIN.into(),
                group_id: group_id(division, k),
                group_name: format!("Division {division} team {k}"),
                description: String::new(),
                is_root: false,
                parent_group_id: parent,
                creator: "bench".into(),
                created_at: now,
                updated_at: now,
                kind: "org".into(),
            };
            store
                .create_group(&roster_server::audit::Trail::none(), group)
                .await
                .with_context(|| format!("creating group {}", group_id(division, k)))?;
        }
    }
    Ok(())
}

/// User `i` with its custom account (identity = user name), the shared password hash and
/// its group.
fn new_user(shape: &Shape, i: u64, password_hash: &str, now: i64) -> NewUser {
    let mut user = new_user_row(DOMAIN, user_id(i), "bench", now);
    user.user_name = user_name(i);
    user.nick_name = nick_name(i);
    user.email = format!("{}@example.com", user_name(i));
    let account = AccountRow {
        domain_id: DOMAIN.into(),
        authentication_type: "custom".into(),
        identity: user_name(i),
        user_id: user_id(i),
        display_name: user_name(i),
        extra: String::new(),
        status: "normal".into(),
        created_at: now,
        last_login_time: 0,
    };
    NewUser {
        user,
        accounts: vec![account],
        password_hash: Some(password_hash.to_owned()),
        group_ids: vec![group_of(shape, i)],
        drive: None,
    }
}

/// Writes every user, one transaction per batch. Batches are built on a blocking thread
/// while the previous one is written, so generation and writing overlap.
pub async fn seed_users(
    store: Arc<SqlStore>,
    shape: Shape,
    password_hash: String,
    progress: bool,
) -> anyhow::Result<()> {
    let now = Clock::system().now_ms();
    let hash = Arc::new(password_hash);
    let build = move |start: u64| {
        let hash = hash.clone();
        tokio::task::spawn_blocking(move || {
            let end = (start + USERS_PER_BATCH as u64).min(shape.users);
            (start..end)
                .map(|i| new_user(&shape, i, &hash, now))
                .collect::<Vec<_>>()
        })
    };
    let mut next = Some(build(0));
    let mut written = 0;
    let mut last_note = Instant::now();
    while let Some(pending) = next.take() {
        let batch = pending.await.context("building a batch of users")?;
        written += batch.len() as u64;
        if written < shape.users {
            next = Some(build(written));
        }
        store
            .restore_users(batch)
            .await
            .with_context(|| format!("writing users up to {written}"))?;
        if progress && last_note.elapsed() > Duration::from_secs(5) {
            eprintln!("  seeded {written} of {} users", shape.users);
            last_note = Instant::now();
        }
    }
    Ok(())
}
