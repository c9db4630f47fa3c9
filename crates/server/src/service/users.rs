//! Users: who may create, read, change and delete whom, and the list and search calls.

pub mod directory;
pub mod logons;

use logons::{AccountChanges, ContactLogons};

use std::collections::HashMap;

use super::pagination::{
    encode_marker, finish_backward_page, finish_forward_page, finish_page, Page,
};
use super::{random_hex, subdomain_detail, validate, Actor, Services};
use crate::error::{Error, ParamProblem, Resource, Result};
use crate::model::DomainId;
use crate::model::UserId;
use crate::model::{
    Account, Drive, Group, ImportedUserSpec, Listed, ListedBothWays, LogonKind, NewUserSpec,
    PageDirection, Punishment, Role, User, UserChanges, UserExtras, UserSearch, UserStatus,
    UserWithExtras,
};
use crate::store::drives::DriveRow;
use crate::store::{
    normalize, AccountRow, NewUser, UserChanges as StoredUserChanges, UserFilter, UserOrder,
    UserPage, UserRow,
};
use crate::time_format::parse_rfc3339_ms;

/// Notes an update for the audit log: which fields it sets, and separately the changes the
/// log singles out (a role, a lock or unlock, a password set by someone else).
fn audit_update(actor: &Actor, user_id: &str, req: &UserChanges) {
    let fields = req.field_names();
    actor.audit_with(
        "user.update",
        "user",
        user_id,
        serde_json::json!({ "fields": fields }),
    );
    if let Some(role) = req.role {
        let detail = serde_json::json!({ "role": role.as_str() });
        actor.audit_with("user.role", "user", user_id, detail);
    }
    match req.status {
        Some(UserStatus::Disabled) => actor.audit("user.lock", "user", user_id),
        Some(UserStatus::Enabled) => actor.audit("user.unlock", "user", user_id),
        None => {}
    }
    if req.plain_password.is_some() && user_id != actor.user_id {
        actor.audit("password.reset", "user", user_id);
    }
}

/// `total_size` of a drive without limit.
const UNLIMITED: i64 = -1;

/// Refuses an actor without superadmin rights acting on a superadmin (of a top-level
/// domain or of a subdomain) other than itself: its password, status, profile, accounts,
/// keys and its deletion are for superadmins only.
pub(crate) fn require_reach(actor: &Actor, target: &UserRow) -> Result<()> {
    let target_is_super = target.is_superadmin()?;
    if target_is_super && !actor.is_superadmin() && target.user_id != actor.user_id {
        return Err(Error::forbidden("only a superadmin acts on a superadmin"));
    }
    Ok(())
}

pub(crate) fn punished_at(stored: &str, now: i64) -> bool {
    // Read on every request: skip parsing the common "none".
    if stored == "[]" {
        return false;
    }
    let list: Vec<Punishment> = serde_json::from_str(stored).unwrap_or_default();
    list.iter().any(|p| {
        let started =
            p.starts_at.is_empty() || parse_rfc3339_ms(&p.starts_at).is_some_and(|t| t <= now);
        let not_ended =
            p.ends_at.is_empty() || parse_rfc3339_ms(&p.ends_at).is_some_and(|t| now < t);
        p.punish_flag != 0 && started && not_ended
    })
}

/// Checks punishments given to an update; answers them as stored.
fn punishments_text(list: Option<&Vec<Punishment>>) -> Result<Option<String>> {
    let Some(list) = list else {
        return Ok(None);
    };
    if list.len() > 16 {
        return Err(Error::out_of_range("punishments"));
    }
    for p in list {
        for time in [&p.starts_at, &p.ends_at] {
            if !time.is_empty() && parse_rfc3339_ms(time).is_none() {
                return Err(Error::param(ParamProblem::WrongFormat, "punishments"));
            }
        }
    }
    serde_json::to_string(list)
        .map(Some)
        .map_err(|_| Error::invalid("punishments"))
}

/// Group ids to place a user in, each checked to be a plausible id, without repeats.
fn checked_group_ids(list: Option<&Vec<String>>) -> Result<Option<Vec<String>>> {
    let Some(list) = list else {
        return Ok(None);
    };
    let mut ids: Vec<String> = Vec::with_capacity(list.len());
    for group_id in list {
        // Named as PDS names it: the only dialect that passes a list of groups.
        validate::required("group_info_list.group_id", group_id, validate::MAX_ID)?;
        if !ids.contains(group_id) {
            ids.push(group_id.clone());
        }
    }
    Ok(Some(ids))
}

/// A new enabled user with role `user` and every optional column empty, to be filled in.
pub fn new_user_row(domain_id: &str, user_id: String, creator: &str, now: i64) -> UserRow {
    UserRow {
        domain_id: domain_id.to_owned(),
        user_id,
        user_name: String::new(),
        nick_name: String::new(),
        avatar: String::new(),
        email: String::new(),
        phone: String::new(),
        role: Role::User.as_str().into(),
        status: UserStatus::Enabled.as_str().into(),
        description: String::new(),
        user_data: "{}".into(),
        creator: creator.to_owned(),
        default_drive_id: String::new(),
        deny_change_password_by_self: false,
        need_change_password_next_login: false,
        expired_at: 0,
        phone_region: String::new(),
        last_login_time: 0,
        last_refresh_token_time: 0,
        created_at: now,
        updated_at: now,
        punishments: "[]".into(),
        owner_type: String::new(),
        token_stamp: crate::store::new_token_stamp(),
    }
}

/// One user to create in a batch, as `/v2/user/create` or `/v2/user/import` asks.
#[derive(Debug, Clone)]
pub enum UserCreation {
    Create(NewUserSpec),
    Import(ImportedUserSpec),
}

impl Services {
    pub async fn create_user(&self, actor: &Actor, req: NewUserSpec) -> Result<User> {
        let new = self.user_to_create(actor, req, "").await?;
        self.store.create_user(&actor.trail, new).await
    }

    /// Creates a user of a directory dialect (eds-user, KooDrive), noting how it was
    /// activated (`owner_type`, `""` when not said), with the logon accounts its id, e-mail
    /// and phone imply, all in one write: an identity another user holds creates nothing.
    pub async fn create_user_with_logons(
        &self,
        actor: &Actor,
        req: NewUserSpec,
        owner_type: &str,
    ) -> Result<User> {
        let new = self
            .user_with_logons_to_create(actor, req, owner_type)
            .await?;
        self.store.create_user(&actor.trail, new).await
    }

    /// A user to create, checked, with the logons its e-mail and phone imply.
    pub(crate) async fn user_with_logons_to_create(
        &self,
        actor: &Actor,
        req: NewUserSpec,
        owner_type: &str,
    ) -> Result<NewUser> {
        let mut new = self.user_to_create(actor, req, owner_type).await?;
        new.accounts = logons::implied_accounts(&new.user);
        Ok(new)
    }

    /// Creates many users, each as `create_user` or `import_user` would, in one store
    /// transaction (what makes bulk import fast); each item succeeds or fails on its own.
    pub async fn create_users(
        &self,
        actor: &Actor,
        items: Vec<UserCreation>,
    ) -> Result<Vec<Result<User>>> {
        actor.require_admin()?;
        // Each item's refusal, if any; the users not refused go to the store, each with the
        // trail of its own records (which fail with the item, whether the service refuses it
        // here or the store does).
        let mut refusals = Vec::with_capacity(items.len());
        let mut valid = Vec::with_capacity(items.len());
        let mut valid_trails = Vec::with_capacity(items.len());
        for item in items {
            let item_trail = actor.trail.fork();
            let item_actor = actor.clone().in_request(item_trail.clone());
            let prepared = super::attempt(&item_trail, async {
                match item {
                    UserCreation::Create(req) => self.user_to_create(&item_actor, req, "").await,
                    UserCreation::Import(req) => self.user_to_import(&item_actor, req).await,
                }
            })
            .await;
            match prepared {
                Ok(new) => {
                    valid.push(new);
                    valid_trails.push(item_trail);
                    refusals.push(None);
                }
                Err(e) => {
                    actor.trail.absorb(&item_trail);
                    refusals.push(Some(e));
                }
            }
        }
        let mut written = self
            .store
            .create_users(&actor.trail, valid, valid_trails)
            .await?
            .into_iter();
        Ok(refusals
            .into_iter()
            .map(|refusal| match refusal {
                None => written
                    .next()
                    .unwrap_or_else(|| Err(Error::internal(anyhow::anyhow!("batch lost an item")))),
                Some(e) => Err(e),
            })
            .collect())
    }

    /// Checks a user to create and makes the records it asks for.
    async fn user_to_create(
        &self,
        actor: &Actor,
        req: NewUserSpec,
        owner_type: &str,
    ) -> Result<NewUser> {
        actor.audit_with(
            "user.create",
            "user",
            &req.user_id,
            subdomain_detail(req.subdomain_id.as_deref()),
        );
        actor.require_admin()?;
        let scoped = self
            .in_subdomain(actor, req.subdomain_id.as_deref())
            .await?;
        let actor = &scoped;
        validate::user_id(&req.user_id)?;
        let user_data = validate::profile(&validate::Profile {
            user_name: req.user_name.as_deref(),
            nick_name: req.nick_name.as_deref(),
            description: req.description.as_deref(),
            phone_region: req.phone_region.as_deref(),
            email: req.email.as_deref(),
            phone: req.phone.as_deref(),
            avatar: req.avatar.as_deref(),
            expired_at: req.expired_at,
            user_data: req.user_data.as_ref(),
            plain_password: req.plain_password.as_deref(),
        })?;
        let group_ids = checked_group_ids(req.group_ids.as_ref())?.unwrap_or_default();
        let role = req.role.unwrap_or(Role::User);
        if role != Role::User {
            if !actor.is_superadmin() {
                return Err(Error::forbidden("only a superadmin assigns roles"));
            }
            self.check_role_fits_domain(actor, role).await?;
        }

        let mut user = new_user_row(
            &actor.domain_id,
            req.user_id,
            &actor.user_id,
            self.clock.now_ms(),
        );
        user.user_name = req.user_name.unwrap_or_default();
        user.nick_name = req.nick_name.unwrap_or_default();
        user.avatar = req.avatar.unwrap_or_default();
        user.email = req.email.unwrap_or_default();
        user.phone = req.phone.unwrap_or_default();
        user.role = role.as_str().into();
        user.status = req.status.unwrap_or(UserStatus::Enabled).as_str().into();
        user.description = req.description.unwrap_or_default();
        user.user_data = user_data.unwrap_or_else(|| "{}".into());
        user.deny_change_password_by_self = req.deny_change_password_by_self.unwrap_or(false);
        user.need_change_password_next_login = req.need_change_password_next_login.unwrap_or(false);
        user.expired_at = req.expired_at.unwrap_or(0);
        user.phone_region = req.phone_region.unwrap_or_default();
        user.owner_type = owner_type.to_owned();
        let password_hash = match &req.plain_password {
            Some(pw) => Some(self.passwords.hash(pw).await?),
            None => None,
        };
        let drive = self.initial_drive(actor, &mut user, None).await?;
        Ok(NewUser {
            user,
            accounts: Vec::new(),
            password_hash,
            group_ids,
            drive,
        })
    }

    /// Reads a user: anyone reads itself (`user_id` omitted or its own), admins and directory
    /// readers read anyone.
    pub async fn get_user(&self, actor: &Actor, user_id: Option<&str>) -> Result<User> {
        self.readable_user(actor, user_id).await
    }

    async fn readable_user(&self, actor: &Actor, user_id: Option<&str>) -> Result<UserRow> {
        let user_id = match user_id {
            None | Some("") => actor.user_id.as_str(),
            Some(id) => id,
        };
        if user_id != actor.user_id {
            actor.require_directory_reader()?;
        }
        validate::max_len("user_id", user_id, validate::MAX_USER_ID)?;
        self.store
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))
    }

    /// Changes a user: anyone its own nick name, avatar and description; admins more of
    /// anyone (a superadmin only by a superadmin); only superadmins roles.
    pub async fn update_user(
        &self,
        actor: &Actor,
        user_id: &str,
        req: UserChanges,
    ) -> Result<User> {
        self.update_user_with(actor, user_id, req, ContactLogons::Follow)
            .await
    }

    /// Updates a user; an e-mail or phone change moves the user's logon accounts as `logons`
    /// says, in the same write (a new identity another user holds changes nothing).
    pub(crate) async fn update_user_with(
        &self,
        actor: &Actor,
        user_id: &str,
        req: UserChanges,
        logons: ContactLogons,
    ) -> Result<User> {
        let changes = self
            .stored_user_changes(actor, user_id, req, logons)
            .await?;
        self.store
            .update_user(
                &actor.trail,
                &actor.domain_id,
                &UserId::from(user_id),
                changes,
            )
            .await?
            .ok_or(Error::NotFound(Resource::User))
    }

    /// Checks an update (the caller's rights, the fields) and makes the store's changes for
    /// it, with the logon changes its e-mail and phone imply.
    pub(crate) async fn stored_user_changes(
        &self,
        actor: &Actor,
        user_id: &str,
        req: UserChanges,
        logons: ContactLogons,
    ) -> Result<StoredUserChanges> {
        audit_update(actor, user_id, &req);
        validate::required("user_id", user_id, validate::MAX_USER_ID)?;
        let is_self = user_id == actor.user_id;
        let touches_admin_fields = req.touches_admin_fields();
        if !actor.is_admin() && (!is_self || touches_admin_fields || req.role.is_some()) {
            return Err(Error::forbidden("a user may change only its own profile"));
        }
        if req.role.is_some() && !actor.is_superadmin() {
            return Err(Error::forbidden("only a superadmin changes roles"));
        }
        if let Some(role) = req.role.filter(|r| *r != Role::User) {
            self.check_role_fits_domain(actor, role).await?;
        }
        if is_self && (req.role.is_some_and(|r| r != actor.role) || req.status.is_some()) {
            return Err(Error::Conflict(
                "a user cannot change its own role or status".into(),
            ));
        }
        let user_data = validate::profile(&validate::Profile {
            user_name: req.user_name.as_deref(),
            nick_name: req.nick_name.as_deref(),
            description: req.description.as_deref(),
            phone_region: req.phone_region.as_deref(),
            email: req.email.as_deref(),
            phone: req.phone.as_deref(),
            avatar: req.avatar.as_deref(),
            expired_at: req.expired_at,
            user_data: req.user_data.as_ref(),
            plain_password: req.plain_password.as_deref(),
        })?;
        let group_ids = checked_group_ids(req.group_ids.as_ref())?;
        if group_ids.is_some() && !actor.is_admin() {
            return Err(Error::forbidden("only an admin sets a user's groups"));
        }

        let target = self
            .store
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        require_reach(actor, &target)?;
        let password_hash = match &req.plain_password {
            Some(pw) => Some(self.passwords.hash(pw).await?),
            None => None,
        };
        let accounts = self.contact_account_changes(&target, &req, logons).await?;
        let changes = StoredUserChanges {
            user_name: req.user_name,
            nick_name: req.nick_name,
            avatar: req.avatar,
            email: req.email,
            phone: req.phone,
            role: req.role.map(|r| r.as_str().to_owned()),
            status: req.status.map(|s| s.as_str().to_owned()),
            description: req.description,
            user_data,
            deny_change_password_by_self: req.deny_change_password_by_self,
            need_change_password_next_login: req.need_change_password_next_login,
            expired_at: req.expired_at,
            phone_region: req.phone_region,
            password_hash,
            group_ids,
            punishments: punishments_text(req.punishments.as_ref())?,
            owner_type: None,
            accounts_removed: accounts.removed,
            accounts_added: accounts.added,
            end_sessions: false,
            updated_at: self.clock.now_ms(),
        };
        Ok(changes)
    }

    /// The account changes an update's e-mail and phone imply (none without either).
    async fn contact_account_changes(
        &self,
        target: &UserRow,
        req: &UserChanges,
        logons: ContactLogons,
    ) -> Result<AccountChanges> {
        if req.email.is_none() && req.phone.is_none() {
            return Ok(AccountChanges::default());
        }
        let held = self
            .store
            .accounts_of(
                &DomainId::from(&target.domain_id),
                std::slice::from_ref(&target.user_id),
            )
            .await?;
        Ok(logons::contact_account_changes(
            target,
            &held,
            req.email.as_deref(),
            req.phone.as_deref(),
            logons,
            self.clock.now_ms(),
        ))
    }

    pub async fn delete_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        actor.audit("user.delete", "user", user_id);
        actor.require_admin()?;
        validate::required("user_id", user_id, validate::MAX_USER_ID)?;
        if user_id == actor.user_id {
            return Err(Error::Conflict("a user cannot delete itself".into()));
        }
        let target = self
            .store
            .user(&actor.domain_id, &UserId::from(user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        require_reach(actor, &target)?;
        if self
            .store
            .delete_user(&actor.trail, &actor.domain_id, &UserId::from(user_id))
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::User))
        }
    }

    /// One page of the users a search finds (admins; in a subdomain if it names one), in
    /// user-id order, or in the order of the one prefix it searches by.
    pub async fn search_users(&self, actor: &Actor, search: UserSearch) -> Result<Listed<User>> {
        self.search_users_with(actor, search, &[], None, UserExtras::default())
            .await
            .map(|listed| Listed {
                items: listed.items.into_iter().map(|item| item.user).collect(),
                next_marker: listed.next_marker,
            })
    }

    /// `search_users`, narrowed to the users in the subtrees of `in_subtrees_of` and to the
    /// direct members of `direct_member_of`, each with the `extras` asked for; paged either
    /// way from the marker (`search.direction`).
    pub async fn search_users_with(
        &self,
        actor: &Actor,
        search: UserSearch,
        in_subtrees_of: &[String],
        direct_member_of: Option<&str>,
        extras: UserExtras,
    ) -> Result<ListedBothWays<UserWithExtras>> {
        actor.require_directory_reader()?;
        self.find_users_in(actor, search, in_subtrees_of, direct_member_of, extras)
            .await
    }

    /// `search_users_with` for a caller whose right to read these users the caller of this
    /// function has checked (the console's group admins read the users of their subtrees).
    pub(super) async fn find_users_in(
        &self,
        actor: &Actor,
        search: UserSearch,
        in_subtrees_of: &[String],
        direct_member_of: Option<&str>,
        extras: UserExtras,
    ) -> Result<ListedBothWays<UserWithExtras>> {
        let scoped = self
            .in_subdomain(actor, search.subdomain_id.as_deref())
            .await?;
        let actor = &scoped;
        let page = Page::parse(&actor.domain_id, search.limit, search.marker.as_deref())?;
        let mut filter = search_filter(&search)?;
        for group_id in in_subtrees_of {
            validate::required("parent_group_id_list", group_id, validate::MAX_ID)?;
            filter.in_subtrees_of.push(group_id.clone());
        }
        if let Some(group_id) = direct_member_of.filter(|g| !g.is_empty()) {
            validate::max_len("direct_parent_group_id", group_id, validate::MAX_ID)?;
            filter.direct_member_of = Some(group_id.to_owned());
        }
        let listed = self
            .user_page(actor, filter, &page, search.direction)
            .await?;
        let items = self
            .with_extras(&actor.domain_id, listed.items, extras)
            .await?;
        Ok(ListedBothWays {
            items,
            next_marker: listed.next_marker,
            previous_marker: listed.previous_marker,
        })
    }

    /// Whether `user_id` is a member of one of the groups `roots` or of a group below them.
    pub(super) async fn user_in_subtrees(
        &self,
        domain_id: &str,
        user_id: &str,
        roots: &[String],
    ) -> Result<bool> {
        if roots.is_empty() {
            return Ok(false);
        }
        let query = UserPage {
            after: None,
            filter: UserFilter {
                user_ids: vec![user_id.to_owned()],
                in_subtrees_of: roots.to_vec(),
                ..UserFilter::default()
            },
            order: UserOrder::UserId,
            limit: 1,
            descending: false,
        };
        Ok(!self.store.find_users(domain_id, &query).await?.is_empty())
    }

    /// Reads a user (as `get_user`) with the `extras` asked for.
    pub async fn get_user_with(
        &self,
        actor: &Actor,
        user_id: Option<&str>,
        extras: UserExtras,
    ) -> Result<UserWithExtras> {
        let row = self.readable_user(actor, user_id).await?;
        let mut items = self
            .with_extras(&actor.domain_id, vec![row], extras)
            .await?;
        items.pop().ok_or(Error::NotFound(Resource::User))
    }

    /// Creates a user and its logon account in one transaction.
    pub async fn import_user(&self, actor: &Actor, req: ImportedUserSpec) -> Result<User> {
        let new = self.user_to_import(actor, req).await?;
        self.store.create_user(&actor.trail, new).await
    }

    /// Checks a `/v2/user/import` request and makes the records it asks for.
    async fn user_to_import(&self, actor: &Actor, req: ImportedUserSpec) -> Result<NewUser> {
        let chosen_id = req.user_id.is_some();
        let user_id = req.user_id.unwrap_or_else(|| random_hex(16));
        actor.audit_with(
            "user.import",
            "user",
            &user_id,
            serde_json::json!({
                "authentication_type": req.kind.as_str(),
                "identity": &req.identity,
            }),
        );
        actor.require_admin()?;
        if chosen_id {
            validate::user_id(&user_id)?;
        }
        let parent_group = req.parent_group_id.clone().filter(|g| !g.is_empty());
        if let Some(group_id) = &parent_group {
            validate::max_len("parent_group_id", group_id, validate::MAX_ID)?;
        }
        let identity = validate::identity(req.kind.as_str(), &req.identity)?;
        validate::required("nick_name", &req.nick_name, validate::MAX_NAME)?;
        validate::optional(
            "authentication_display_name",
            req.display_name.as_deref(),
            validate::MAX_NAME,
        )?;
        validate::optional("extra", req.extra.as_deref(), validate::MAX_PHONE)?;
        validate::email(req.email.as_deref())?;
        validate::phone(req.phone.as_deref())?;
        validate::expired_at(req.expired_at)?;
        if let Some(pw) = &req.plain_password {
            validate::password(pw)?;
        }
        validate::size("drive_total_size", req.drive_total_size, UNLIMITED)?;
        let kind = req.kind;
        self.require_identity_free(&actor.domain_id, &req.identity, &user_id)
            .await?;

        let mut user = new_user_row(
            &actor.domain_id,
            user_id,
            &actor.user_id,
            self.clock.now_ms(),
        );
        user.nick_name = req.nick_name;
        user.email = match (kind, req.email) {
            (_, Some(email)) => email,
            (LogonKind::Email, None) => req.identity.clone(),
            _ => String::new(),
        };
        user.phone = match (kind, req.phone) {
            (_, Some(phone)) => phone,
            (LogonKind::Mobile, None) => req.identity.clone(),
            _ => String::new(),
        };
        user.deny_change_password_by_self = req.deny_change_password_by_self.unwrap_or(false);
        user.need_change_password_next_login = req.need_change_password_next_login.unwrap_or(false);
        user.expired_at = req.expired_at.unwrap_or(0);
        user.phone_region = req.phone_region.unwrap_or_default();
        let extra = match (kind, req.extra) {
            (_, Some(extra)) if !extra.is_empty() => extra,
            (LogonKind::Mobile, _) => "86".into(),
            _ => String::new(),
        };
        let account = AccountRow {
            domain_id: actor.domain_id.to_string(),
            authentication_type: kind.as_str().into(),
            display_name: req.display_name.unwrap_or_else(|| req.identity.clone()),
            identity,
            user_id: user.user_id.clone(),
            extra,
            status: "normal".into(),
            created_at: user.created_at,
            last_login_time: 0,
        };
        let password_hash = match &req.plain_password {
            Some(pw) => Some(self.passwords.hash(pw).await?),
            None => None,
        };
        let asked_drive = (req.auto_create_drive == Some(true))
            .then(|| req.drive_total_size.unwrap_or(UNLIMITED));
        let drive = self.initial_drive(actor, &mut user, asked_drive).await?;
        Ok(NewUser {
            user,
            accounts: vec![account],
            password_hash,
            group_ids: parent_group.into_iter().collect(),
            drive,
        })
    }

    /// The default drive a new user gets: the one import asked for (`auto_create_drive`,
    /// of `asked_size` bytes), else the domain's `init_drive_enable` one, else none. Its id
    /// becomes the user's `default_drive_id`; the store writes both in one transaction.
    async fn initial_drive(
        &self,
        actor: &Actor,
        user: &mut UserRow,
        asked_size: Option<i64>,
    ) -> Result<Option<DriveRow>> {
        let size = match asked_size {
            Some(size) => Some(size),
            None => {
                let settings = self.own_domain(actor).await?;
                settings
                    .init_drive_enable
                    .then_some(settings.init_drive_size)
            }
        };
        let Some(size) = size else {
            return Ok(None);
        };
        let drive = Services::default_drive_row(
            &actor.domain_id,
            &user.user_id,
            &actor.user_id,
            size,
            self.clock.now_ms(),
        )?;
        user.default_drive_id = drive.drive_id.clone();
        Ok(Some(drive))
    }

    /// One page of users on `direction`'s side of `page`'s marker, and the markers of the
    /// next and the previous page (`""`: none). Backwards is one keyset read the other way
    /// from the marker, never the pages in between: page 999 from page 1,000 costs what
    /// page 1 from page 2 does.
    async fn user_page(
        &self,
        actor: &Actor,
        filter: UserFilter,
        page: &Page,
        direction: PageDirection,
    ) -> Result<ListedBothWays<UserRow>> {
        let backward = direction == PageDirection::Backward && page.after.is_some();
        let (order, query) = page_query(filter, page, backward)?;
        let rows = self.store.find_users(&actor.domain_id, &query).await?;
        let marker_of = |row: &UserRow| {
            encode_marker(
                &actor.domain_id,
                order.tag(),
                &sort_value(order, row),
                &row.user_id,
            )
        };
        if !backward {
            return Ok(finish_forward_page(rows, page, marker_of));
        }
        if let Some(listed) = finish_backward_page(rows, page.limit, marker_of) {
            return Ok(listed);
        }
        // Fewer than a page lie before the marker (rows went since it was made): what is
        // before it is the start of the list, so show the first page, full, not a short one.
        let first = Page {
            limit: page.limit,
            after: None,
        };
        let (_, query) = page_query(query.filter, &first, false)?;
        let rows = self.store.find_users(&actor.domain_id, &query).await?;
        Ok(finish_forward_page(rows, &first, marker_of))
    }

    /// [`Services::user_page`] read as directory entries (numbers and memberships with the
    /// users, one statement).
    pub(super) async fn entries_page(
        &self,
        actor: &Actor,
        filter: UserFilter,
        page: &Page,
    ) -> Result<(Vec<directory::DirectoryEntry>, String)> {
        let (order, query) = page_query(filter, page, false)?;
        let now = self.clock.now_ms();
        let rows = self
            .store
            .find_directory_entries(&actor.domain_id, &query)
            .await?
            .into_iter()
            .map(|row| directory::DirectoryEntry::from_row(row, now))
            .collect::<Result<Vec<_>>>()?;
        Ok(finish_page(rows, page.limit, |last| {
            encode_marker(
                &actor.domain_id,
                order.tag(),
                &sort_value(order, &last.user),
                &last.user.user_id,
            )
        }))
    }

    /// Users with the extras asked for: their accounts, default drives and groups.
    pub(crate) async fn with_extras(
        &self,
        domain_id: &str,
        rows: Vec<UserRow>,
        extras: UserExtras,
    ) -> Result<Vec<UserWithExtras>> {
        let ids: Vec<String> = rows.iter().map(|r| r.user_id.clone()).collect();
        let mut accounts: HashMap<String, Vec<Account>> = HashMap::new();
        if extras.accounts {
            for a in self
                .store
                .accounts_of(&DomainId::from(domain_id), &ids)
                .await?
            {
                accounts.entry(a.user_id.clone()).or_default().push(a);
            }
        }
        let mut drives: HashMap<String, Drive> = HashMap::new();
        if extras.default_drive {
            for d in self
                .store
                .default_drives_of(&DomainId::from(domain_id), &ids)
                .await?
            {
                drives.insert(d.owner.clone(), d);
            }
        }
        let mut groups: HashMap<String, Vec<Group>> = HashMap::new();
        if extras.groups {
            for (user_id, g) in self.store.groups_of_users(domain_id, &ids).await? {
                groups.entry(user_id).or_default().push(g);
            }
        }
        Ok(rows
            .into_iter()
            .map(|user| UserWithExtras {
                accounts: extras
                    .accounts
                    .then(|| accounts.remove(&user.user_id).unwrap_or_default()),
                default_drive: extras.default_drive.then(|| drives.remove(&user.user_id)),
                groups: extras
                    .groups
                    .then(|| groups.remove(&user.user_id).unwrap_or_default()),
                user,
            })
            .collect())
    }
}

/// The store filter of a search request; empty strings filter nothing.
fn search_filter(req: &UserSearch) -> Result<UserFilter> {
    let prefix = |name: &str, v: &Option<String>| -> Result<Option<String>> {
        match v.as_deref() {
            None | Some("") => Ok(None),
            Some(v) => {
                validate::max_len(name, v, validate::MAX_NAME)?;
                Ok(Some(normalize(v)))
            }
        }
    };
    Ok(UserFilter {
        user_name_prefix: prefix("user_name", &req.user_name)?,
        nick_name_prefix: prefix("nick_name", &req.nick_name)?,
        email_prefix: prefix("email", &req.email)?,
        phone_prefix: prefix("phone", &req.phone)?,
        nick_name_contains: prefix("nick_name_for_fuzzy", &req.nick_name_contains)?,
        role: req.role.map(|r| r.as_str().to_owned()),
        status: req.status.map(|s| s.as_str().to_owned()),
        ..UserFilter::default()
    })
}

/// Pages of a prefix search follow the searched column, so its index serves order and limit.
fn order_for(filter: &UserFilter) -> UserOrder {
    if filter.nick_name_prefix.is_some() {
        UserOrder::NickName
    } else if filter.user_name_prefix.is_some() {
        UserOrder::UserName
    } else if filter.email_prefix.is_some() {
        UserOrder::Email
    } else if filter.phone_prefix.is_some() {
        UserOrder::Phone
    } else if let Some(range) = &filter.time_range {
        range.column.order()
    } else {
        UserOrder::UserId
    }
}

fn sort_value(order: UserOrder, row: &UserRow) -> String {
    match order {
        UserOrder::UserId => String::new(),
        UserOrder::UserName => normalize(&row.user_name),
        UserOrder::NickName => normalize(&row.nick_name),
        UserOrder::Email => normalize(&row.email),
        UserOrder::Phone => normalize(&row.phone),
        UserOrder::CreatedAt => row.created_at.to_string(),
        UserOrder::UpdatedAt => row.updated_at.to_string(),
    }
}

/// The store's query for one page of `filter`'s users after `page`'s marker (`descending`:
/// before it, read backwards), in the order the filter reads best, with one row more than
/// asked (which tells whether another page follows, or precedes).
fn page_query(filter: UserFilter, page: &Page, descending: bool) -> Result<(UserOrder, UserPage)> {
    let order = order_for(&filter);
    let query = UserPage {
        after: page.after_for(order.tag())?,
        filter,
        order,
        limit: page.limit + 1,
        descending,
    };
    Ok((order, query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DomainId;
    use crate::service::testing::{scratch_services, superadmin, user_with_role, DOMAIN};

    fn spec(user_id: &str) -> NewUserSpec {
        NewUserSpec {
            user_id: user_id.into(),
            ..NewUserSpec::default()
        }
    }

    #[tokio::test]
    async fn only_admins_create_users_and_only_superadmins_give_roles() {
        let (_dir, services) = scratch_services().await;
        let plain = user_with_role(&services, "plain", Role::User).await;
        let admin = user_with_role(&services, "boss", Role::Admin).await;

        let refused = services.create_user(&plain, spec("by_plain")).await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
        assert!(services
            .store
            .user(&DomainId::from(DOMAIN), &UserId::from("by_plain"))
            .await
            .unwrap()
            .is_none());

        let with_role = NewUserSpec {
            role: Some(Role::Admin),
            ..spec("by_admin")
        };
        let refused = services.create_user(&admin, with_role.clone()).await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");

        let created = services
            .create_user(&admin, spec("by_admin"))
            .await
            .unwrap();
        assert_eq!(created.role().unwrap(), Role::User);
        assert_eq!(created.status().unwrap(), UserStatus::Enabled);
        assert_eq!(created.creator, "boss");
    }

    #[tokio::test]
    async fn roles_change_only_by_a_superadmin_and_never_ones_own() {
        let (_dir, services) = scratch_services().await;
        let admin = user_with_role(&services, "boss", Role::Admin).await;
        user_with_role(&services, "alice", Role::User).await;
        let promote = UserChanges {
            role: Some(Role::Admin),
            ..UserChanges::default()
        };

        let refused = services.update_user(&admin, "alice", promote.clone()).await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
        let alice = services
            .store
            .user(&DomainId::from(DOMAIN), &UserId::from("alice"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(alice.role().unwrap(), Role::User);

        let own = services
            .update_user(&superadmin(), "admin", promote.clone())
            .await;
        assert!(matches!(own, Err(Error::Conflict(_))), "{own:?}");

        let promoted = services
            .update_user(&superadmin(), "alice", promote)
            .await
            .unwrap();
        assert_eq!(promoted.role().unwrap(), Role::Admin);
    }

    #[tokio::test]
    async fn a_user_changes_its_own_profile_only() {
        let (_dir, services) = scratch_services().await;
        let alice = user_with_role(&services, "alice", Role::User).await;
        user_with_role(&services, "bob", Role::User).await;
        let nick = UserChanges {
            nick_name: Some("Al".into()),
            ..UserChanges::default()
        };
        let changed = services
            .update_user(&alice, "alice", nick.clone())
            .await
            .unwrap();
        assert_eq!(changed.nick_name, "Al");

        let other = services.update_user(&alice, "bob", nick).await;
        assert!(matches!(other, Err(Error::Forbidden(_))), "{other:?}");
        let lock_self = UserChanges {
            email: Some("a@example.com".into()),
            ..UserChanges::default()
        };
        let refused = services.update_user(&alice, "alice", lock_self).await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    }

    #[tokio::test]
    async fn a_user_past_its_expiry_is_locked_out_by_the_clock() {
        let (_dir, services) = scratch_services().await;
        user_with_role(&services, "temp", Role::User).await;
        let soon = services.clock.now_ms() + 60_000;
        let expiring = UserChanges {
            expired_at: Some(soon),
            ..UserChanges::default()
        };
        let user = services
            .update_user(&superadmin(), "temp", expiring)
            .await
            .unwrap();
        assert!(!user.locked_at(services.clock.now_ms()));
        services.clock.advance(std::time::Duration::from_secs(60));
        assert!(user.locked_at(services.clock.now_ms()));
    }
}
