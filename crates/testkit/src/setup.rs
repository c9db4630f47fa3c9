//! Typed set-up: the objects tests need before the call they check, created through the PDS
//! API by a given caller. Each helper asserts its call succeeded and answers the new
//! object's id, so a test's set-up reads as what it builds, and the wire bodies a test sends
//! on purpose stay the only `json!` in it.
//!
//! ```ignore
//! let alpha = app.by_admin().domain(NewDomain::new("alpha").password(PASSWORD)).await;
//! let top = app.by_admin().group("top", None).await;
//! let sam = app.by_admin().user(NewUser::new("sam").nick("Sam").role(Role::Admin)).await;
//! app.by_admin().add_member(&top, Member::User(&sam)).await;
//! ```

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::TestApp;

/// A user's role; its stored text is how the PDS dialect spells it.
pub use roster_server::model::Role;

/// A user to create with `/v2/user/create`; only the fields set are sent.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    user_id: String,
    fields: serde_json::Map<String, Value>,
}

impl NewUser {
    pub fn new(user_id: &str) -> NewUser {
        NewUser {
            user_id: user_id.to_owned(),
            fields: serde_json::Map::new(),
        }
    }

    fn with(mut self, key: &str, value: Value) -> NewUser {
        self.fields.insert(key.to_owned(), value);
        self
    }

    pub fn nick(self, nick_name: &str) -> NewUser {
        self.with("nick_name", json!(nick_name))
    }

    pub fn email(self, email: &str) -> NewUser {
        self.with("email", json!(email))
    }

    pub fn phone(self, phone: &str) -> NewUser {
        self.with("phone", json!(phone))
    }

    pub fn role(self, role: Role) -> NewUser {
        self.with("role", json!(role.as_str()))
    }

    /// Its password (`plain_password`): the user can log in with its user id.
    pub fn password(self, password: &str) -> NewUser {
        self.with("plain_password", json!(password))
    }

    /// Places the user in `group_id` at creation.
    pub fn in_group(self, group_id: &str) -> NewUser {
        self.with("group_info_list", json!([{ "group_id": group_id }]))
    }

    /// Creates it in `subdomain_id`, a subdomain of the caller's domain.
    pub fn subdomain(self, subdomain_id: &str) -> NewUser {
        self.with("subdomain_id", json!(subdomain_id))
    }

    fn body(&self) -> Value {
        let mut body = Value::Object(self.fields.clone());
        body["user_id"] = json!(self.user_id);
        body
    }
}

/// Changes to a user for `/v2/user/update`; only the fields set are sent.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    fields: serde_json::Map<String, Value>,
}

impl UserChange {
    pub fn new() -> UserChange {
        UserChange::default()
    }

    fn with(mut self, key: &str, value: Value) -> UserChange {
        self.fields.insert(key.to_owned(), value);
        self
    }

    pub fn role(self, role: Role) -> UserChange {
        self.with("role", json!(role.as_str()))
    }

    pub fn password(self, password: &str) -> UserChange {
        self.with("plain_password", json!(password))
    }

    /// Locks the user (status `disabled`): it can no longer log in.
    pub fn locked(self) -> UserChange {
        self.with("status", json!("disabled"))
    }

    /// Unlocks the user (status `enabled`).
    pub fn unlocked(self) -> UserChange {
        self.with("status", json!("enabled"))
    }

    pub fn nick(self, nick_name: &str) -> UserChange {
        self.with("nick_name", json!(nick_name))
    }

    pub fn email(self, email: &str) -> UserChange {
        self.with("email", json!(email))
    }

    /// Its account expires at `at_ms` (milliseconds since the epoch).
    pub fn expires_at(self, at_ms: i64) -> UserChange {
        self.with("expired_at", json!(at_ms))
    }

    /// The user may no longer change its own password.
    pub fn deny_password_change(self) -> UserChange {
        self.with("deny_change_password_by_self", json!(true))
    }

    /// The user must change its password at its next login.
    pub fn must_change_password(self) -> UserChange {
        self.with("need_change_password_next_login", json!(true))
    }

    fn body(&self, user_id: &str) -> Value {
        let mut body = Value::Object(self.fields.clone());
        body["user_id"] = json!(user_id);
        body
    }
}

/// A domain to create with `/v2/domain/create`.
#[derive(Debug, Clone)]
pub struct NewDomain {
    domain_id: String,
    parent: Option<String>,
    admin_user_id: Option<String>,
    admin_password: Option<String>,
    quotas: Quotas,
}

impl NewDomain {
    /// A top-level domain named `Domain <id>`.
    pub fn new(domain_id: &str) -> NewDomain {
        NewDomain {
            domain_id: domain_id.to_owned(),
            parent: None,
            admin_user_id: None,
            admin_password: None,
            quotas: Quotas::default(),
        }
    }

    /// A subdomain of `parent`.
    pub fn under(self, parent: &str) -> NewDomain {
        NewDomain {
            parent: Some(parent.to_owned()),
            ..self
        }
    }

    /// The user id of its first superadmin (`admin` when not set).
    pub fn admin(self, user_id: &str) -> NewDomain {
        NewDomain {
            admin_user_id: Some(user_id.to_owned()),
            ..self
        }
    }

    /// The password of its first superadmin.
    pub fn password(self, password: &str) -> NewDomain {
        NewDomain {
            admin_password: Some(password.to_owned()),
            ..self
        }
    }

    /// Its quotas from the start.
    pub fn quotas(self, quotas: Quotas) -> NewDomain {
        NewDomain { quotas, ..self }
    }

    fn body(&self) -> Value {
        let mut body = json!({"domain_id": self.domain_id,
                              "domain_name": format!("Domain {}", self.domain_id)});
        self.quotas.write_to(&mut body);
        if let Some(parent) = &self.parent {
            body["parent_domain_id"] = json!(parent);
        }
        if let Some(admin) = &self.admin_user_id {
            body["admin_user_id"] = json!(admin);
        }
        if let Some(password) = &self.admin_password {
            body["admin_password"] = json!(password);
        }
        body
    }
}

/// A member of a group.
#[derive(Debug, Clone, Copy)]
pub enum Member<'a> {
    User(&'a str),
    Group(&'a str),
}

impl Member<'_> {
    fn body(self, group_id: &str) -> Value {
        let (kind, id) = match self {
            Member::User(id) => ("user", id),
            Member::Group(id) => ("group", id),
        };
        json!({"group_id": group_id, "member_type": kind, "member_id": id})
    }

    /// The PDS identity (`IT_User`/`IT_Group`) of the member.
    fn identity(self) -> Value {
        let (kind, id) = match self {
            Member::User(id) => ("IT_User", id),
            Member::Group(id) => ("IT_Group", id),
        };
        json!({"identity_type": kind, "identity_id": id})
    }
}

/// A drive to create with `/v2/drive/create`, owned by a user.
#[derive(Debug, Clone)]
pub struct NewDrive {
    owner: String,
    name: String,
    total_size: Option<i64>,
    default: bool,
    subdomain: Option<String>,
}

impl NewDrive {
    /// A drive of user `owner` named `name`, without a size.
    pub fn of_user(owner: &str, name: &str) -> NewDrive {
        NewDrive {
            owner: owner.to_owned(),
            name: name.to_owned(),
            total_size: None,
            default: false,
            subdomain: None,
        }
    }

    pub fn size(self, total_size: i64) -> NewDrive {
        NewDrive {
            total_size: Some(total_size),
            ..self
        }
    }

    /// The owner's default drive.
    pub fn default_drive(self) -> NewDrive {
        NewDrive {
            default: true,
            ..self
        }
    }

    /// A drive of a user of `subdomain_id`, a subdomain of the caller's domain.
    pub fn subdomain(self, subdomain_id: &str) -> NewDrive {
        NewDrive {
            subdomain: Some(subdomain_id.to_owned()),
            ..self
        }
    }

    fn body(&self) -> Value {
        let mut body = json!({"drive_name": self.name, "owner": self.owner, "owner_type": "user"});
        if let Some(subdomain) = &self.subdomain {
            body["subdomain_id"] = json!(subdomain);
        }
        if let Some(size) = self.total_size {
            body["total_size"] = json!(size);
        }
        if self.default {
            body["default"] = json!(true);
        }
        body
    }
}

/// A domain's quotas for `/v2/domain/update`; `None` leaves one as it is, `0` is unlimited.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quotas {
    pub size: Option<i64>,
    pub users: Option<i64>,
}

impl Quotas {
    fn write_to(self, body: &mut Value) {
        if let Some(size) = self.size {
            body["size_quota"] = json!(size);
        }
        if let Some(users) = self.users {
            body["user_count_quota"] = json!(users);
        }
    }
}

/// An access key: its id and its secret (shown once, at creation).
#[derive(Debug, Clone)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
}

/// The caller a set-up runs as: `app.by_admin()` or `app.by(&token)`.
pub struct SetUp<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl TestApp {
    /// Set-up as the holder of `token`.
    pub fn by<'a>(&'a self, token: &'a str) -> SetUp<'a> {
        SetUp { app: self, token }
    }

    /// Set-up as the default domain's superadmin.
    pub fn by_admin(&self) -> SetUp<'_> {
        self.by(&self.admin_token)
    }
}

impl SetUp<'_> {
    /// `POST path`; panics unless the answer is `expected`; answers its body.
    async fn expect(&self, path: &str, body: Value, expected: StatusCode) -> Value {
        let (status, answer) = self.app.call(path, self.token, body.clone()).await;
        assert_eq!(status, expected, "{path} {body}: {answer}");
        answer
    }

    fn id(answer: &Value, key: &str) -> String {
        answer[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {answer}"))
            .to_owned()
    }

    /// Creates a user; answers its id.
    pub async fn user(&self, user: NewUser) -> String {
        let created = self
            .expect("/v2/user/create", user.body(), StatusCode::CREATED)
            .await;
        Self::id(&created, "user_id")
    }

    /// Imports a user with a custom account `identity` and `password` (`/v2/user/import`);
    /// answers its (generated) user id.
    pub async fn imported_user(&self, identity: &str, password: &str) -> String {
        let body = json!({"authentication_type": "custom", "identity": identity,
                          "nick_name": identity, "plain_password": password});
        let imported = self.expect("/v2/user/import", body, StatusCode::OK).await;
        Self::id(&imported, "user_id")
    }

    /// Changes `user_id` as `change` says.
    pub async fn update_user(&self, user_id: &str, change: UserChange) {
        let body = change.body(user_id);
        self.expect("/v2/user/update", body, StatusCode::OK).await;
    }

    /// Imports `user` with a custom account `identity` (`/v2/user/import`); answers its id.
    pub async fn imported(&self, user: NewUser, identity: &str) -> String {
        let mut body = user.body();
        body["authentication_type"] = json!("custom");
        body["identity"] = json!(identity);
        let imported = self.expect("/v2/user/import", body, StatusCode::OK).await;
        Self::id(&imported, "user_id")
    }

    /// Gives `user_id` `role`.
    pub async fn set_role(&self, user_id: &str, role: Role) {
        self.update_user(user_id, UserChange::new().role(role))
            .await;
    }

    /// Sets `user_id`'s password.
    pub async fn set_password(&self, user_id: &str, password: &str) {
        self.update_user(user_id, UserChange::new().password(password))
            .await;
    }

    /// Locks `user_id` (status `disabled`): it can no longer log in.
    pub async fn lock(&self, user_id: &str) {
        self.update_user(user_id, UserChange::new().locked()).await;
    }

    /// Deletes `user_id`.
    pub async fn delete_user(&self, user_id: &str) {
        let body = json!({"user_id": user_id});
        self.expect("/v2/user/delete", body, StatusCode::NO_CONTENT)
            .await;
    }

    /// Links an account of `kind` (`custom`, `email`, `mobile`) and `identity` to `user_id`.
    pub async fn link_account(&self, user_id: &str, kind: &str, identity: &str) {
        let body = json!({"user_id": user_id, "type": kind, "identity": identity});
        self.expect("/v2/account/link", body, StatusCode::OK).await;
    }

    /// Creates a group at the top or under `parent`; answers its id.
    pub async fn group(&self, name: &str, parent: Option<&str>) -> String {
        let mut body = json!({ "group_name": name });
        if let Some(parent) = parent {
            body["parent_group_id"] = json!(parent);
        }
        let created = self
            .expect("/v2/group/create", body, StatusCode::CREATED)
            .await;
        Self::id(&created, "group_id")
    }

    /// Creates a chain of groups, each under the one before (the first at the top); answers
    /// their ids in the same order.
    pub async fn group_path<const N: usize>(&self, names: [&str; N]) -> [String; N] {
        let mut ids: Vec<String> = Vec::with_capacity(N);
        for name in names {
            let id = self.group(name, ids.last().map(String::as_str)).await;
            ids.push(id);
        }
        ids.try_into().expect("one id per name")
    }

    /// Deletes `group_id` (with what is under it when `force`).
    pub async fn delete_group(&self, group_id: &str, force: bool) {
        let body = json!({"group_id": group_id, "force": force});
        self.expect("/v2/group/delete", body, StatusCode::NO_CONTENT)
            .await;
    }

    /// Adds `member` to `group_id`.
    pub async fn add_member(&self, group_id: &str, member: Member<'_>) {
        self.expect(
            "/v2/group/add_member",
            member.body(group_id),
            StatusCode::NO_CONTENT,
        )
        .await;
    }

    /// Removes `member` from `group_id`.
    pub async fn remove_member(&self, group_id: &str, member: Member<'_>) {
        self.expect(
            "/v2/group/remove_member",
            member.body(group_id),
            StatusCode::NO_CONTENT,
        )
        .await;
    }

    /// Makes `admin` (a user, or a group whose members then are) an admin of `group_id` and
    /// its subtree (role `SystemGroupAdmin`).
    pub async fn make_group_admin(&self, group_id: &str, admin: Member<'_>) {
        let body = json!({"identity": admin.identity(),
                          "role_id": "SystemGroupAdmin", "manage_resource_type": "RT_Group",
                          "manage_resource_id": group_id});
        self.expect("/v2/role/assign", body, StatusCode::NO_CONTENT)
            .await;
    }

    /// Creates a drive; answers its id.
    pub async fn drive(&self, drive: NewDrive) -> String {
        let created = self
            .expect("/v2/drive/create", drive.body(), StatusCode::CREATED)
            .await;
        Self::id(&created, "drive_id")
    }

    /// Creates a domain; answers its id.
    pub async fn domain(&self, domain: NewDomain) -> String {
        let created = self
            .expect("/v2/domain/create", domain.body(), StatusCode::CREATED)
            .await;
        Self::id(&created, "domain_id")
    }

    /// Deletes `domain_id` with everything in it.
    pub async fn delete_domain(&self, domain_id: &str) {
        let body = json!({"domain_id": domain_id, "force": true});
        self.expect("/v2/domain/delete", body, StatusCode::NO_CONTENT)
            .await;
    }

    /// Sets the quotas of `domain_id` (the caller's own domain when `None`).
    pub async fn set_quotas(&self, domain_id: Option<&str>, quotas: Quotas) {
        let mut body = json!({});
        if let Some(domain_id) = domain_id {
            body["domain_id"] = json!(domain_id);
        }
        quotas.write_to(&mut body);
        self.expect("/v2/domain/update", body, StatusCode::OK).await;
    }

    /// Creates an access key of `user_id`, or of the caller when `None`.
    pub async fn access_key(&self, user_id: Option<&str>) -> AccessKey {
        let body = match user_id {
            Some(user_id) => json!({ "user_id": user_id }),
            None => json!({}),
        };
        let created = self
            .expect("/v2/access_key/create", body, StatusCode::CREATED)
            .await;
        AccessKey {
            id: Self::id(&created, "access_key_id"),
            secret: Self::id(&created, "access_key_secret"),
        }
    }

    /// Creates a JWT app named `name` verifying with `public_key` and `algorithm`; answers
    /// its client id.
    pub async fn app(&self, name: &str, public_key: &str, algorithm: &str) -> String {
        let body = json!({"app_name": name, "public_key": public_key, "algorithm": algorithm});
        let created = self
            .expect("/v2/app/create", body, StatusCode::CREATED)
            .await;
        Self::id(&created, "client_id")
    }
}
