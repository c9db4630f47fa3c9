//! Services over a scratch SQLite store, for fast tests of service rules without HTTP.

use std::sync::Arc;

use super::{mail, passwords, tenancy, tokens, Actor, Services};
use crate::clock::Clock;
use crate::model::{NewUserSpec, Role};
use crate::store::{SqlStore, Store};

/// The domain every scratch store is bootstrapped with; its superadmin is `admin`.
pub const DOMAIN: &str = "test";

/// Services over a fresh store holding the domain [`DOMAIN`] and its superadmin, on a
/// manual clock; keep the directory while the services are used.
pub async fn scratch_services() -> (tempfile::TempDir, Services) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqlStore::open_sqlite(&dir.path().join("t.db"))
        .await
        .expect("a SQLite store");
    let services = services_over(store, &dir).await;
    (dir, services)
}

/// Services as [`scratch_services`], over a new PostgreSQL database made next to the one
/// `ROSTER_TEST_DATABASE_URL` names; `None` when it is not set (the run tests SQLite only).
pub async fn scratch_postgres_services() -> Option<(tempfile::TempDir, Services)> {
    let store = scratch_postgres_store().await?;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let services = services_over(store, &dir).await;
    Some((dir, services))
}

/// A store over a new PostgreSQL database made next to the one `ROSTER_TEST_DATABASE_URL`
/// names, with every migration applied; `None` when it is not set.
pub async fn scratch_postgres_store() -> Option<SqlStore> {
    use sqlx::{Connection, Executor};
    let admin_url = std::env::var("ROSTER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("roster_s_{}", super::random_hex(8));
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("ROSTER_TEST_DATABASE_URL must reach PostgreSQL");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("a test database");
    conn.close().await.ok();
    let base = admin_url
        .split_once('?')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    let store =
        SqlStore::open_postgres(&format!("{prefix}/{name}"), crate::store::Migrations::Apply)
            .await
            .expect("a PostgreSQL store");
    Some(store)
}

/// The scratch services of every backend this run tests: SQLite, and PostgreSQL when
/// `ROSTER_TEST_DATABASE_URL` is set.
pub async fn scratch_services_on_each_backend() -> Vec<(tempfile::TempDir, Services)> {
    let mut all = vec![scratch_services().await];
    all.extend(scratch_postgres_services().await);
    all
}

async fn services_over(store: SqlStore, dir: &tempfile::TempDir) -> Services {
    let clock = Clock::manual(1_800_000_000_000);
    let store: Arc<dyn Store> = Arc::new(store);
    let keys = tokens::TokenKeys::load_or_create(store.as_ref(), &clock)
        .await
        .expect("token keys");
    let services = Services {
        store,
        passwords: passwords::Passwords::new().expect("password hashing"),
        tokens: Arc::new(keys),
        token_settings: tokens::TokenSettings::default(),
        login_gates: Arc::default(),
        mailer: mail::Mailer::new(None, None, clock.clone()).expect("a mailer without SMTP"),
        routing: tenancy::Routing::new(None, DOMAIN),
        public_url: None,
        id_token_key: Arc::default(),
        clock,
        metrics: Arc::default(),
        draining: Arc::default(),
        webhooks: Default::default(),
        webhook_seal: crate::service::webhooks::seal::SecretSeal::random().expect("a webhook seal"),
    };
    services
        .bootstrap(DOMAIN, Some("Admin-Password-1"), dir.path())
        .await
        .expect("a bootstrapped domain");
    services
}

/// The caller `user_id` of [`DOMAIN`] with `role`.
pub fn actor(user_id: &str, role: Role) -> Actor {
    Actor {
        domain_id: DOMAIN.into(),
        user_id: user_id.into(),
        role,
        trail: crate::audit::Trail::none(),
    }
}

/// The bootstrapped superadmin.
pub fn superadmin() -> Actor {
    actor("admin", Role::Superadmin)
}

/// Creates `user_id` with `role` (as the superadmin) and answers it as a caller.
pub async fn user_with_role(services: &Services, user_id: &str, role: Role) -> Actor {
    let spec = NewUserSpec {
        user_id: user_id.into(),
        role: Some(role),
        ..NewUserSpec::default()
    };
    services
        .create_user(&superadmin(), spec)
        .await
        .expect("a new user");
    actor(user_id, role)
}
