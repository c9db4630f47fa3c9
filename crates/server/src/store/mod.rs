//! Storage: the `Store` trait the services call, and its SQL implementation for SQLite and
//! PostgreSQL. Every method takes the `domain_id` of its tenant; no query crosses tenants.
//!
//! Rows here are already valid: the service layer validates before it calls a store.

pub mod access_keys;
pub mod apps;
pub mod audit_log;
pub mod directory;
pub mod drives;
pub mod events;
pub mod groups;
pub mod health;
pub mod mail;
pub mod properties;
pub mod provisioning;
pub mod resource_groups;
pub mod scim_tokens;
pub mod signin;
mod sql;
#[cfg(test)]
pub(crate) use sql::tests::scratch_postgres_store;
pub(crate) mod user_query;
pub mod webhooks;

use crate::audit::Trail;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use access_keys::KeyStore;
pub use apps::AppStore;
pub use audit_log::AuditStore;
pub use directory::DirectoryStore;
pub use drives::DriveStore;
pub use events::EventStore;
pub use groups::GroupStore;
pub use health::{HealthStore, StoreHealth};
pub use mail::MailStore;
pub use properties::PropertyStore;
pub use resource_groups::ResourceGroupStore;
pub use sql::{Migrations, SqlStore};
pub use user_query::{UserFilter, UserOrder, UserPage};
pub use webhooks::WebhookStore;

use crate::error::Result;
use crate::model::{DomainId, UserId};

/// The form in which names, emails and phones are compared by prefix and substring search:
/// lower case, computed once here so that stored columns and search input always agree.
pub fn normalize(s: &str) -> String {
    s.to_lowercase()
}

/// A user as stored. Strings are never NULL: absent values are `""`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct UserRow {
    pub domain_id: String,
    pub user_id: String,
    pub user_name: String,
    pub nick_name: String,
    pub avatar: String,
    pub email: String,
    pub phone: String,
    pub role: String,
    pub status: String,
    pub description: String,
    /// JSON object text.
    pub user_data: String,
    pub creator: String,
    pub default_drive_id: String,
    pub deny_change_password_by_self: bool,
    pub need_change_password_next_login: bool,
    pub expired_at: i64,
    pub phone_region: String,
    pub last_login_time: i64,
    pub last_refresh_token_time: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// JSON array of PDS punishments (`[]`: none).
    pub punishments: String,
    /// How the user was activated (eds-user `OwnerType`); `""` when not said.
    #[serde(default)]
    pub owner_type: String,
    /// The user's token generation: access and refresh tokens carry it and work only while
    /// it is current. Random at creation (a later namesake never matches an old token) and
    /// replaced by every change that ends the user's sessions (`UserChanges::ends_sessions`).
    /// `""` for users created before it existed.
    #[serde(default)]
    pub token_stamp: String,
}

/// A user with what directory faces show of it, read in one row: its stable number and its
/// direct memberships (`memberships`: a JSON array of `[kind, group_id, group_name]`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DirectoryEntryRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub number: i64,
    pub memberships: String,
}

/// A logon account as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AccountRow {
    pub domain_id: String,
    pub authentication_type: String,
    pub identity: String,
    pub user_id: String,
    pub display_name: String,
    pub extra: String,
    pub status: String,
    pub created_at: i64,
    pub last_login_time: i64,
}

/// An account that might be logging in, with its user's status and password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginCandidate {
    pub authentication_type: String,
    pub identity: String,
    pub user_id: String,
    pub user_status: String,
    pub password_hash: Option<String>,
}

/// A domain (tenant) as stored, with its drive and quota settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DomainRow {
    pub domain_id: String,
    pub domain_name: String,
    pub description: String,
    /// `""` for a top-level domain.
    pub parent_domain_id: String,
    /// The first domain: its superadmins operate the deployment (manage top-level domains).
    pub is_operator: bool,
    /// Give every new user a default drive of `init_drive_size` bytes (-1 unlimited).
    pub init_drive_enable: bool,
    pub init_drive_size: i64,
    /// Bytes the `total_size`s of the domain's drives may add up to; 0 unlimited.
    pub size_quota: i64,
    /// Users the domain may hold; 0 unlimited.
    pub user_count_quota: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DomainRow {
    /// A domain with default settings.
    pub fn new(domain_id: &str, domain_name: &str, parent_domain_id: &str, at: i64) -> Self {
        DomainRow {
            domain_id: domain_id.to_owned(),
            domain_name: domain_name.to_owned(),
            description: String::new(),
            parent_domain_id: parent_domain_id.to_owned(),
            is_operator: false,
            init_drive_enable: false,
            init_drive_size: 0,
            size_quota: 0,
            user_count_quota: 0,
            created_at: at,
            updated_at: at,
        }
    }
}

/// The settings of a domain that an update may change. `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct DomainChanges {
    pub domain_name: Option<String>,
    pub description: Option<String>,
    pub init_drive_enable: Option<bool>,
    pub init_drive_size: Option<i64>,
    pub size_quota: Option<i64>,
    pub user_count_quota: Option<i64>,
    pub updated_at: i64,
}

/// The slot of the key that signs access tokens (EdDSA).
pub const ACCESS_TOKEN_KEY_SLOT: &str = "active";
/// The slot of the key that signs OpenID Connect ID tokens (RS256).
pub const ID_TOKEN_KEY_SLOT: &str = "oidc-rs256";

/// The key pair that signs access tokens. Key material is base64 text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub private_key: String,
    pub public_key: String,
    pub created_at: i64,
}

/// A refresh token as stored: only its hash.
#[derive(Debug, Clone, Deserialize, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub domain_id: String,
    pub user_id: String,
    pub expires_at: i64,
    pub created_at: i64,
    /// The login this token descends from: every refresh token rotated out of one login
    /// shares it, so a stolen one's reuse revokes them all.
    pub family_id: String,
    /// The user's token generation when the token was issued; it works only while current.
    pub token_stamp: String,
    /// When it was used (0: not yet). A used token is kept until it expires, to recognise
    /// its reuse.
    pub consumed_at: i64,
}

/// Everything needed to write a user: the row, its accounts and its password hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    pub user: UserRow,
    pub accounts: Vec<AccountRow>,
    pub password_hash: Option<String>,
    /// Groups the user is a direct member of; `NotFound(Group)` if one does not exist.
    #[serde(default)]
    pub group_ids: Vec<String>,
    /// A default drive created with the user (`user.default_drive_id` names it), within the
    /// domain's size quota.
    #[serde(skip)]
    pub drive: Option<drives::DriveRow>,
}

/// The columns of a user that an update may change. `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub user_name: Option<String>,
    pub nick_name: Option<String>,
    pub avatar: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub user_data: Option<String>,
    pub deny_change_password_by_self: Option<bool>,
    pub need_change_password_next_login: Option<bool>,
    pub expired_at: Option<i64>,
    pub phone_region: Option<String>,
    pub password_hash: Option<String>,
    /// Replaces the user's direct group memberships.
    pub group_ids: Option<Vec<String>>,
    /// JSON array replacing the user's punishments.
    pub punishments: Option<String>,
    pub owner_type: Option<String>,
    /// Accounts of the user to remove, then accounts to add, in the same transaction (an
    /// e-mail or phone change moving the logon that mirrors it). An added identity another
    /// user holds fails the whole update with `AlreadyExists(Account)`.
    pub accounts_removed: Vec<AccountRow>,
    pub accounts_added: Vec<AccountRow>,
    /// End every session of the user even if nothing else here would ("log out
    /// everywhere").
    pub end_sessions: bool,
    pub updated_at: i64,
}

impl UserChanges {
    /// Whether these changes might end the user's sessions (see `ends_sessions_of`); when
    /// not, the store need not read the user first.
    pub fn may_end_sessions(&self) -> bool {
        self.end_sessions
            || self.password_hash.is_some()
            || self.role.is_some()
            || self.status.is_some()
            || self.expired_at.is_some()
            || self.punishments.is_some()
    }

    /// Whether these changes end the sessions of `current`: a new password (even the same
    /// one), `end_sessions` ("log out everywhere"), or a role, status, lock time or
    /// punishment list different from the stored one (lock, unlock, punishment, role change).
    /// The store then replaces the user's token generation, so every access token it issued
    /// stops working, and deletes its refresh tokens, in the change's own transaction.
    pub fn ends_sessions_of(&self, current: &UserRow) -> bool {
        let differs =
            |new: &Option<String>, stored: &str| new.as_deref().is_some_and(|n| n != stored);
        self.end_sessions
            || self.password_hash.is_some()
            || differs(&self.role, &current.role)
            || differs(&self.status, &current.status)
            || differs(&self.punishments, &current.punishments)
            || self.expired_at.is_some_and(|at| at != current.expired_at)
    }
}

/// A fresh token generation for a user (`UserRow::token_stamp`): 16 random hex characters.
pub fn new_token_stamp() -> String {
    let stamp: [u8; 8] = rand::random();
    hex::encode(stamp)
}

/// The storage port: one trait per aggregate, and `Store`, all of them. Implementations keep
/// each method atomic: a method does all it says or nothing.
pub trait Store:
    DomainStore
    + TokenStore
    + UserStore
    + GroupStore
    + DriveStore
    + KeyStore
    + AppStore
    + DirectoryStore
    + PropertyStore
    + ResourceGroupStore
    + MailStore
    + AuditStore
    + HealthStore
    + EventStore
    + WebhookStore
    + signin::SigninStore
    + provisioning::ProvisioningStore
    + scim_tokens::ScimTokenStore
{
}

impl<T> Store for T where
    T: DomainStore
        + TokenStore
        + UserStore
        + GroupStore
        + DriveStore
        + KeyStore
        + AppStore
        + DirectoryStore
        + PropertyStore
        + ResourceGroupStore
        + MailStore
        + AuditStore
        + HealthStore
        + EventStore
        + WebhookStore
        + signin::SigninStore
        + provisioning::ProvisioningStore
        + scim_tokens::ScimTokenStore
{
}

/// Domains (tenants).
#[async_trait]
pub trait DomainStore: Send + Sync + 'static {
    async fn domain(&self, domain_id: &str) -> Result<Option<DomainRow>>;

    /// Creates the first domain and its superadmin in one transaction; it becomes the
    /// operator domain unless the store has one. Returns `false` (and changes nothing) when
    /// the domain already exists.
    async fn bootstrap_domain(&self, domain: DomainRow, admin: NewUser) -> Result<bool>;

    /// Creates a domain and its first superadmin in one transaction; `AlreadyExists(Domain)`
    /// if the id is taken, `NotFound(Domain)` if the parent is gone.
    async fn create_domain(
        &self,
        trail: &Trail,
        domain: DomainRow,
        admin: NewUser,
    ) -> Result<DomainRow>;

    /// Writes a domain copied from another store; `AlreadyExists(Domain)` if it is there.
    async fn restore_domain(&self, domain: DomainRow) -> Result<()>;

    /// Changes a domain's settings; `None` if there is none.
    async fn update_domain(
        &self,
        trail: &Trail,
        domain_id: &str,
        changes: DomainChanges,
    ) -> Result<Option<DomainRow>>;

    /// Domains directly under `parent` (`""`: top-level ones), by `(domain_name, domain_id)`
    /// when a name prefix is given, else by `domain_id`, after the given key.
    async fn find_domains(
        &self,
        parent: &str,
        name_prefix: Option<&str>,
        after: Option<(String, String)>,
        limit: u32,
    ) -> Result<Vec<DomainRow>>;

    /// Deletes a domain and everything in it, in one transaction; `Conflict` while it has
    /// subdomains, `NotFound(Domain)` if there is none.
    async fn delete_domain(&self, trail: &Trail, domain_id: &str) -> Result<()>;
}

/// Signing keys and refresh tokens.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores `candidate` as the signing key unless one exists; returns the one in force.
    async fn signing_key_or_insert(&self, candidate: SigningKeyRow) -> Result<SigningKeyRow> {
        self.signing_key_in_slot(ACCESS_TOKEN_KEY_SLOT, candidate)
            .await
    }
    /// The key in `slot`, if any.
    async fn signing_key(&self, slot: &str) -> Result<Option<SigningKeyRow>>;

    /// The key in `slot`, inserting `candidate` there first if the slot is empty.
    async fn signing_key_in_slot(
        &self,
        slot: &str,
        candidate: SigningKeyRow,
    ) -> Result<SigningKeyRow>;

    /// Stores a new refresh token and notes the time on its user (`last_refresh_token_time`);
    /// forgets the user's expired ones.
    async fn insert_refresh_token(&self, trail: &Trail, token: RefreshTokenRow) -> Result<()>;

    /// Consumes the refresh token `used_hash` and stores `next` in its place (as
    /// `insert_refresh_token`), in one transaction: `false`, and nothing written, if
    /// `used_hash` was consumed already or is gone.
    async fn rotate_refresh_token(
        &self,
        trail: &Trail,
        used_hash: &str,
        now: i64,
        next: RefreshTokenRow,
    ) -> Result<bool>;

    /// The refresh token with this hash, used or not, without changing it.
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRow>>;

    /// Marks the refresh token with this hash used at `now`, if it is not yet: `true` for the
    /// one caller that did, so each token works once even when two requests race with it.
    async fn consume_refresh_token(
        &self,
        trail: &Trail,
        token_hash: &str,
        now: i64,
    ) -> Result<bool>;

    /// Deletes every refresh token of a family (after one of them was reused).
    async fn revoke_refresh_family(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        family_id: &str,
    ) -> Result<()>;

    /// `(failures, locked_until)` of recent failed logins with an identity.
    async fn login_failures(&self, domain_id: &DomainId, identity: &str) -> Result<(i64, i64)>;

    /// Counts one more failed login (failures older than `lock_ms` no longer count); at
    /// `max_failures` the identity is locked until `now + lock_ms` and the count restarts.
    /// Answers the new `(failures, locked_until)`.
    async fn record_login_failure(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        identity: &str,
        now: i64,
        max_failures: i64,
        lock_ms: i64,
    ) -> Result<(i64, i64)>;

    /// Forgets the failed logins of an identity (after a successful one).
    async fn clear_login_failures(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        identity: &str,
    ) -> Result<()>;

    /// `(failures, locked_until)` of recent failed password checks of a user, whichever
    /// identity or path they came through.
    async fn user_login_failures(
        &self,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<(i64, i64)>;

    /// `record_login_failure` for a user (of an existing user only; none for a missing one).
    async fn record_user_login_failure(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
        now: i64,
        max_failures: i64,
        lock_ms: i64,
    ) -> Result<(i64, i64)>;

    /// Forgets the failed password checks of a user (after a successful one).
    async fn clear_user_login_failures(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<()>;

    /// Deletes the failed-login rows that no longer count or lock anything: last failure
    /// before `stale_before` and no lock after `now`. Answers how many went.
    async fn purge_login_failures(&self, stale_before: i64, now: i64) -> Result<u64>;
}

/// Users, their logon accounts and password hashes.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Inserts the user (and accounts and password). `AlreadyExists(User)` if the `user_id`
    /// is taken, `AlreadyExists(Account)` if an account identity is.
    async fn create_user(&self, trail: &Trail, new: NewUser) -> Result<UserRow>;

    /// Creates many users in one transaction, each as if by `create_user`: an item that breaks
    /// a rule (taken id or identity, unknown group, quota) fails alone and writes nothing,
    /// the others are written. A database failure fails the whole batch.
    /// `item_trails[i]` holds the audit records of `batch[i]`: they join `trail` and are
    /// written with the batch, marked failed for an item that fails.
    async fn create_users(
        &self,
        trail: &Trail,
        batch: Vec<NewUser>,
        item_trails: Vec<Trail>,
    ) -> Result<Vec<Result<UserRow>>>;

    async fn user(&self, domain_id: &DomainId, user_id: &UserId) -> Result<Option<UserRow>>;

    /// The user as of now, for authenticating its request: what [`UserStore::user`] would
    /// answer, possibly from a cache that every change to the store, by any process,
    /// invalidates before the next call (SQLite; `store/sql/callers.rs`).
    async fn caller(&self, domain_id: &DomainId, user_id: &UserId) -> Result<Option<UserRow>> {
        self.user(domain_id, user_id).await
    }

    /// Applies `changes`; `None` if there is no such user. A status change away from
    /// `enabled` also deletes the user's refresh tokens, in the same transaction.
    async fn update_user(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
        changes: UserChanges,
    ) -> Result<Option<UserRow>>;

    /// Deletes the user with its accounts, password and tokens; `false` if there was none.
    async fn delete_user(
        &self,
        trail: &Trail,
        domain_id: &DomainId,
        user_id: &UserId,
    ) -> Result<bool>;

    /// One page of users matching `page.filter`, in `page.order`, after the given cursor.
    async fn find_users(&self, domain_id: &str, page: &UserPage) -> Result<Vec<UserRow>>;

    /// The same page as [`UserStore::find_users`], each user with its number and direct
    /// memberships, one row a user (one statement for the page).
    async fn find_directory_entries(
        &self,
        domain_id: &str,
        page: &UserPage,
    ) -> Result<Vec<DirectoryEntryRow>>;

    /// The accounts of the given users.
    async fn accounts_of(
        &self,
        domain_id: &DomainId,
        user_ids: &[String],
    ) -> Result<Vec<AccountRow>>;

    /// Accounts whose identity is `identity`, whatever their type (e-mail ones in any ASCII
    /// case: they are stored in lower case), with their users.
    async fn login_candidates(
        &self,
        domain_id: &DomainId,
        identity: &str,
    ) -> Result<Vec<LoginCandidate>>;

    /// Records a successful logon on the user and the account used.
    async fn record_login(
        &self,
        trail: &Trail,
        account: &LoginCandidate,
        domain_id: &str,
        at: i64,
    ) -> Result<()>;

    /// `(user_id, password_hash)` of those of the given users that have a password.
    async fn password_hashes_of(
        &self,
        domain_id: &DomainId,
        user_ids: &[String],
    ) -> Result<Vec<(String, String)>>;

    /// Writes users copied from another store, all or none.
    async fn restore_users(&self, users: Vec<NewUser>) -> Result<()>;

    /// Links an account to its user: `AlreadyExists(Account)` if the identity of that type is
    /// taken in the domain, `NotFound(User)` if the user is gone.
    async fn link_account(&self, trail: &Trail, account: AccountRow) -> Result<()>;

    /// Unlinks an account from a user; `false` if that user has no such account.
    async fn unlink_account(&self, trail: &Trail, account: &AccountRow) -> Result<bool>;

    /// The account of this type and identity in the domain.
    async fn account(
        &self,
        domain_id: &DomainId,
        authentication_type: &str,
        identity: &str,
    ) -> Result<Option<AccountRow>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::users::new_user_row;

    #[test]
    fn which_changes_end_a_users_sessions() {
        let user = new_user_row("d", "u".into(), "t", 0);
        let ends = |changes: UserChanges| changes.ends_sessions_of(&user);
        let text = |v: &str| Some(v.to_owned());
        // Ended: a password (even the same), log out everywhere, a real change of role,
        // status, lock time or punishments.
        assert!(ends(UserChanges {
            password_hash: text("h"),
            ..UserChanges::default()
        }));
        assert!(ends(UserChanges {
            end_sessions: true,
            ..UserChanges::default()
        }));
        assert!(ends(UserChanges {
            role: text("admin"),
            ..UserChanges::default()
        }));
        assert!(ends(UserChanges {
            status: text("disabled"),
            ..UserChanges::default()
        }));
        assert!(ends(UserChanges {
            expired_at: Some(1),
            ..UserChanges::default()
        }));
        assert!(ends(UserChanges {
            punishments: text(r#"[{"punish_flag":1}]"#),
            ..UserChanges::default()
        }));
        // Not ended: the same values again, or a profile change.
        assert!(!ends(UserChanges {
            role: text(&user.role),
            status: text(&user.status),
            expired_at: Some(user.expired_at),
            punishments: text(&user.punishments),
            ..UserChanges::default()
        }));
        assert!(!ends(UserChanges {
            nick_name: text("n"),
            email: text("e@x"),
            need_change_password_next_login: Some(true),
            ..UserChanges::default()
        }));
    }

    #[test]
    fn token_stamps_are_fresh_for_each_user() {
        let a = new_user_row("d", "u".into(), "t", 0);
        let b = new_user_row("d", "u".into(), "t", 0);
        assert_eq!(a.token_stamp.len(), 16);
        assert_ne!(
            a.token_stamp, b.token_stamp,
            "a namesake gets another generation"
        );
    }
}
