//! What the directory dialects (eds-user, later KooDrive) add to users: their own user-id
//! and password rules, how a user was activated, organizations and user groups at creation,
//! lock and unlock (with a time to lock again), pages with id lists and exclusions, and the
//! details they answer with (numbers, organizations with paths, groups, property values).

use std::collections::{HashMap, HashSet};

use super::super::groups::DirectoryScope;
use super::super::org_tree::Org;
use super::super::pagination::{encode_marker, finish_page, Page};
use super::super::{validate, Actor, Services};
use super::logons::ContactLogons;
use super::order_for;
use crate::error::{Error, ParamProblem, Resource, Result};
use crate::model::UserId;
use crate::model::{GroupKind, NewUserSpec, User, UserChanges, UserStatus};
use crate::store::groups::{GroupRow, KIND_ORG, KIND_USER_GROUP};
use crate::store::properties::UserPropertyValue;
pub use crate::store::user_query::{TimeColumn, TimeRange};
use crate::store::{normalize, DirectoryEntryRow, UserFilter, UserOrder, UserPage, UserRow};

/// How a directory user is activated (eds-user `OwnerType`).
pub const OWNER_TYPES: [&str; 2] = ["Normal", "CreateFromManager"];

/// A user to create through a directory dialect.
#[derive(Debug, Clone, Default)]
pub struct DirectoryUser {
    /// 3..24 characters of `a-z`, `0-9`, `_`.
    pub user_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub nick_name: Option<String>,
    pub description: Option<String>,
    /// At least 10 characters with three kinds of upper, lower, digit, other; no spaces.
    /// Without one, a password reset is mailed to the user's email address.
    pub password: Option<String>,
    pub owner_type: Option<String>,
    /// The organization to place the user in (none: the top).
    pub org_id: Option<String>,
    pub user_group_ids: Vec<String>,
    /// When the user locks automatically (milliseconds; none: never).
    pub auto_lock_at: Option<i64>,
}

/// What a directory answers about each of a page of users, by `user_id`.
#[derive(Debug, Clone, Default)]
pub struct UserDetails {
    pub numbers: HashMap<String, i64>,
    pub orgs: HashMap<String, Vec<Org>>,
    pub user_groups: HashMap<String, Vec<GroupRow>>,
    pub properties: HashMap<String, Vec<UserPropertyValue>>,
    /// The users locked out now: disabled, or past their auto-lock time.
    pub locked: HashSet<String>,
}

/// A group a directory entry is directly in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryGroup {
    pub group_id: String,
    pub group_name: String,
    pub kind: GroupKind,
}

/// A user as the directory faces (the LDAP gateway, SCIM) answer it, read with its page in
/// one statement: the row, its stable number, its direct memberships (by group id) and
/// whether it is locked out at the time of reading.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub user: UserRow,
    pub number: i64,
    pub groups: Vec<EntryGroup>,
    pub locked: bool,
}

impl DirectoryEntry {
    pub(crate) fn from_row(row: DirectoryEntryRow, now: i64) -> Result<DirectoryEntry> {
        let listed: Vec<(String, String, String)> = serde_json::from_str(&row.memberships)
            .map_err(|e| Error::internal(anyhow::anyhow!("memberships of a user: {e}")))?;
        let mut groups = listed
            .into_iter()
            .map(|(kind, group_id, group_name)| {
                Ok(EntryGroup {
                    kind: GroupKind::from_stored(&kind)?,
                    group_id,
                    group_name,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        let locked = row.user.locked_at(now);
        Ok(DirectoryEntry {
            user: row.user,
            number: row.number,
            groups,
            locked,
        })
    }

    /// The user groups among its memberships, `(id, name)`.
    pub fn user_groups(&self) -> impl Iterator<Item = &EntryGroup> {
        self.groups
            .iter()
            .filter(|g| g.kind == GroupKind::UserGroup)
    }
}

/// The directory's user-id rule: 3..24 characters of `a-z`, `0-9`, `_`.
pub fn check_directory_user_id(user_id: &str) -> Result<()> {
    let valid_chars = user_id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if (3..=24).contains(&user_id.len()) && valid_chars {
        Ok(())
    } else {
        Err(Error::param(ParamProblem::WrongFormat, "EndUserId"))
    }
}

/// The directory's password rule: 10..256 characters, no whitespace, and at least three of
/// upper case, lower case, digits and other characters.
pub fn check_strong_password(password: &str) -> Result<()> {
    let weak = || Error::param(ParamProblem::WrongFormat, "Password");
    let length = password.chars().count();
    if !(10..=validate::MAX_PASSWORD).contains(&length) || password.chars().any(char::is_whitespace)
    {
        return Err(weak());
    }
    let kinds = [
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 3 {
        return Err(weak());
    }
    Ok(())
}

/// The `LIKE` pattern of a directory search: `*` is any run of characters (`a*m`), and a
/// search without `*` matches anywhere. Case-insensitive.
pub fn wildcard_pattern(search: &str) -> String {
    let escaped = crate::store::user_query::escape_like(&search.to_lowercase());
    if escaped.contains('*') {
        escaped.replace('*', "%")
    } else {
        format!("%{escaped}%")
    }
}

/// Which users a directory listing reads, in Roster's terms; all conditions combine with AND.
/// The faces build it from their parameters; the service turns it into the store's filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    /// A substring of the display name, any case.
    pub nick_name_contains: Option<String>,
    /// Members of any of these groups or of any group below them.
    pub in_subtrees_of: Vec<String>,
    /// Direct members of this group.
    pub direct_member_of: Option<String>,
    /// Direct members of every one of these groups.
    pub direct_member_of_each: Vec<String>,
    /// Not direct members of this group.
    pub not_direct_member_of: Option<String>,
    /// Only users in no organization (at the top of the tree).
    pub outside_every_org: bool,
    /// Only these users (none when empty).
    pub user_ids: Vec<String>,
    /// Never these users.
    pub excluded_user_ids: Vec<String>,
    /// A pattern from [`wildcard_pattern`], matched on the user id or the email.
    pub id_or_email_like: Option<String>,
    pub owner_type: Option<String>,
    /// For each entry, the user holds one of these property values.
    pub property_values: Vec<Vec<i64>>,
    /// Only users locked now (`true`: disabled or past their auto-lock time), or only users
    /// not locked now (`false`).
    pub locked: Option<bool>,
    /// Prefixes of the user name, the display name and the e-mail, any case; each is an
    /// index range scan, and the first given (display name, user name, e-mail) orders the
    /// page (see [`Services::search_directory_users`]).
    pub user_name_prefix: Option<String>,
    pub nick_name_prefix: Option<String>,
    pub email_prefix: Option<String>,
    /// The display name, or the e-mail, equals this (any case); served by the prefix scan
    /// of the same column, whose leading rows are the equal ones. At most one of the two,
    /// and no other prefix with it.
    pub equals: Option<(EqualField, String)>,
    /// Created, or last changed, within these bounds; the time's index orders the page
    /// when no prefix does.
    pub time_range: Option<TimeRange>,
}

/// A column [`DirectoryQuery::equals`] can match exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EqualField {
    NickName,
    Email,
}

impl DirectoryQuery {
    /// The store's filter for this query, reading locks at `now`.
    pub(crate) fn into_filter(self, now: i64) -> UserFilter {
        UserFilter {
            nick_name_contains: self.nick_name_contains.as_deref().map(normalize),
            in_subtrees_of: self.in_subtrees_of,
            direct_member_of: self.direct_member_of,
            direct_member_of_each: self.direct_member_of_each,
            not_direct_member_of: self.not_direct_member_of,
            in_no_group_of_kind: self
                .outside_every_org
                .then(|| GroupKind::Org.as_str().to_owned()),
            user_ids: self.user_ids,
            excluded_user_ids: self.excluded_user_ids,
            id_or_email_like: self.id_or_email_like,
            owner_type: self.owner_type,
            property_values: self.property_values,
            locked_at: self.locked.map(|locked| (locked, now)),
            user_name_prefix: self.user_name_prefix.as_deref().map(normalize),
            nick_name_prefix: self.nick_name_prefix.as_deref().map(normalize),
            email_prefix: self.email_prefix.as_deref().map(normalize),
            time_range: self.time_range,
            ..UserFilter::default()
        }
    }
}

/// The marker that continues an ascending directory listing after `user_id`: a face that
/// stops inside a page (LDAP paged results) resumes after the last user it answered.
pub fn directory_marker_after(domain_id: &str, user_id: &str) -> String {
    encode_marker(domain_id, "id", "", user_id)
}

/// The ids of the users locked out at `now`.
fn locked_among(users: &[UserRow], now: i64) -> HashSet<String> {
    users
        .iter()
        .filter(|user| user.locked_at(now))
        .map(|user| user.user_id.clone())
        .collect()
}

impl Services {
    /// Creates one directory user, in its organization and user groups.
    pub async fn create_directory_user(&self, actor: &Actor, user: DirectoryUser) -> Result<()> {
        actor.require_admin()?;
        check_directory_user_id(&user.user_id)?;
        if user.email.is_none() && user.phone.is_none() {
            return Err(Error::missing("Email"));
        }
        if let Some(password) = &user.password {
            check_strong_password(password)?;
        }
        let owner_type = user.owner_type.as_deref().unwrap_or("");
        if !owner_type.is_empty() && !OWNER_TYPES.contains(&owner_type) {
            return Err(Error::invalid("OwnerType"));
        }
        let mut group_ids = Vec::new();
        if let Some(org_id) = user.org_id.as_deref().filter(|o| !o.is_empty()) {
            self.existing_org(actor, org_id).await?;
            group_ids.push(org_id.to_owned());
        }
        for group_id in &user.user_group_ids {
            self.existing_user_group(actor, group_id).await?;
            group_ids.push(group_id.clone());
        }
        // Without a password the user sets its own, through a reset mailed to it.
        let mail_a_reset = user.password.is_none() && user.email.is_some();
        let user_id = user.user_id.clone();
        let req = NewUserSpec {
            user_id: user.user_id,
            email: user.email,
            phone: user.phone,
            nick_name: user.nick_name,
            description: user.description,
            plain_password: user.password,
            group_ids: Some(group_ids),
            expired_at: user.auto_lock_at,
            ..NewUserSpec::default()
        };
        self.create_user_with_logons(actor, req, owner_type).await?;
        if mail_a_reset {
            self.request_password_reset(actor, &user_id).await?;
        }
        Ok(())
    }

    /// Changes a user's contact details.
    pub async fn modify_user_contact(
        &self,
        actor: &Actor,
        user_id: &str,
        email: Option<String>,
        phone: Option<String>,
    ) -> Result<()> {
        actor.require_admin()?;
        let req = UserChanges {
            email,
            phone,
            ..UserChanges::default()
        };
        self.update_directory_user(actor, user_id, req)
            .await
            .map(|_| ())
    }

    /// Updates a user of a directory dialect: a new e-mail or phone becomes a logon account
    /// (the old one's account goes), as at creation.
    pub async fn update_directory_user(
        &self,
        actor: &Actor,
        user_id: &str,
        req: UserChanges,
    ) -> Result<User> {
        self.update_user_with(actor, user_id, req, ContactLogons::Imply)
            .await
    }

    /// Locks a user: it can no longer log in, and its tokens and sessions end (a disabled
    /// user's refresh tokens are deleted and its access tokens refused).
    pub async fn lock_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        self.set_user_status(actor, user_id, UserStatus::Disabled, None)
            .await
    }

    /// Unlocks a user, to lock again automatically at `auto_lock_at` (none: never).
    pub async fn unlock_user(
        &self,
        actor: &Actor,
        user_id: &str,
        auto_lock_at: Option<i64>,
    ) -> Result<()> {
        if auto_lock_at.is_some_and(|t| t <= self.clock.now_ms()) {
            return Err(Error::out_of_range("AutoLockTime"));
        }
        self.set_user_status(
            actor,
            user_id,
            UserStatus::Enabled,
            Some(auto_lock_at.unwrap_or(0)),
        )
        .await
    }

    async fn set_user_status(
        &self,
        actor: &Actor,
        user_id: &str,
        status: UserStatus,
        expired_at: Option<i64>,
    ) -> Result<()> {
        actor.require_admin()?;
        let req = UserChanges {
            status: Some(status),
            expired_at,
            ..UserChanges::default()
        };
        self.update_user(actor, user_id, req).await.map(|_| ())
    }

    /// The user a directory names by number.
    pub async fn user_by_number(&self, actor: &Actor, number: i64) -> Result<UserRow> {
        let user_id = self
            .store
            .user_id_by_number(&actor.domain_id, number)
            .await?
            .ok_or(Error::NotFound(Resource::User))?;
        self.store
            .user(&actor.domain_id, &UserId::from(&user_id))
            .await?
            .ok_or(Error::NotFound(Resource::User))
    }

    /// One page of users for a directory (admins and directory readers), by user id, and
    /// the marker of the next page (`""` if this is the last).
    pub async fn directory_users(
        &self,
        actor: &Actor,
        query: DirectoryQuery,
        page: &Page,
        descending: bool,
    ) -> Result<(Vec<UserRow>, String)> {
        actor.require_directory_reader()?;
        self.directory_page(actor, query, page, descending).await
    }

    /// A page of directory entries for whoever may read part of the directory (the LDAP
    /// gateway), by user id: the whole domain for admins and directory readers; for a group
    /// admin the users of the subtrees it administers ([`Services::directory_scope`]; a
    /// subtree condition of the query outside them finds nobody); refused to anyone else.
    /// Each user comes with its number and memberships, the page read in one statement.
    pub async fn scoped_directory_entries(
        &self,
        actor: &Actor,
        mut query: DirectoryQuery,
        page: &Page,
    ) -> Result<(Vec<DirectoryEntry>, String)> {
        match self.directory_scope(actor).await? {
            DirectoryScope::Whole => {}
            DirectoryScope::Own => return Err(Error::forbidden("admin permission required")),
            DirectoryScope::Subtrees(roots) => {
                if query.in_subtrees_of.is_empty() {
                    query.in_subtrees_of = roots;
                } else {
                    let mut managed = Vec::new();
                    for group in std::mem::take(&mut query.in_subtrees_of) {
                        if self.manages_group(actor, &group).await? {
                            managed.push(group);
                        }
                    }
                    if managed.is_empty() {
                        return Ok((Vec::new(), String::new()));
                    }
                    query.in_subtrees_of = managed;
                }
            }
        }
        let (query, tag) = self.directory_user_page(query, page, false)?;
        let now = self.clock.now_ms();
        let rows = self
            .store
            .find_directory_entries(&actor.domain_id, &query)
            .await?
            .into_iter()
            .map(|row| DirectoryEntry::from_row(row, now))
            .collect::<Result<Vec<_>>>()?;
        Ok(finish_page(rows, page.limit, |last| {
            encode_marker(&actor.domain_id, tag, "", &last.user.user_id)
        }))
    }

    async fn directory_page(
        &self,
        actor: &Actor,
        query: DirectoryQuery,
        page: &Page,
        descending: bool,
    ) -> Result<(Vec<UserRow>, String)> {
        let (query, tag) = self.directory_user_page(query, page, descending)?;
        let rows = self.store.find_users(&actor.domain_id, &query).await?;
        Ok(finish_page(rows, page.limit, |last| {
            encode_marker(&actor.domain_id, tag, "", &last.user_id)
        }))
    }

    /// The store's page of a directory listing by user id, and its markers' tag.
    fn directory_user_page(
        &self,
        query: DirectoryQuery,
        page: &Page,
        descending: bool,
    ) -> Result<(UserPage, &'static str)> {
        let filter = query.into_filter(self.clock.now_ms());
        let order = order_for(&filter);
        if order != UserOrder::UserId {
            return Err(Error::invalid("Filter"));
        }
        // Markers of the two directions must not be mixed.
        let tag = if descending { "idd" } else { "id" };
        let query = UserPage {
            after: page.after_for(tag)?,
            filter,
            order,
            limit: page.limit + 1,
            descending,
        };
        Ok((query, tag))
    }

    /// The caller's own entry, as a directory shows it (any signed-in user).
    pub async fn own_directory_entry(&self, actor: &Actor) -> Result<DirectoryEntry> {
        let query = UserPage {
            after: None,
            filter: UserFilter {
                user_ids: vec![actor.user_id.to_string()],
                ..UserFilter::default()
            },
            order: UserOrder::UserId,
            limit: 1,
            descending: false,
        };
        let now = self.clock.now_ms();
        let row = self
            .store
            .find_directory_entries(&actor.domain_id, &query)
            .await?
            .pop()
            .ok_or(Error::NotFound(Resource::User))?;
        DirectoryEntry::from_row(row, now)
    }

    /// One page of directory entries for a directory search (admins only): in the order of
    /// the prefix searched (display name, user name, e-mail, so the index serves order and
    /// limit), else by user id; and the marker of the next page (`""` if this is the last).
    /// Each user comes with its number and memberships, the page read in one statement.
    pub async fn search_directory_entries(
        &self,
        actor: &Actor,
        query: DirectoryQuery,
        page: &Page,
    ) -> Result<(Vec<DirectoryEntry>, String)> {
        actor.require_directory_reader()?;
        for prefix in [
            &query.user_name_prefix,
            &query.nick_name_prefix,
            &query.email_prefix,
        ]
        .into_iter()
        .flatten()
        {
            validate::max_len("prefix", prefix, validate::MAX_NAME)?;
        }
        let mut query = query;
        let equals = query.equals.take();
        let value_of = |field: EqualField, row: &UserRow| match field {
            EqualField::NickName => normalize(&row.nick_name),
            EqualField::Email => normalize(&row.email),
        };
        if let Some((field, value)) = &equals {
            let other_prefixes = [
                &query.user_name_prefix,
                &query.nick_name_prefix,
                &query.email_prefix,
            ];
            if other_prefixes.iter().any(|p| p.is_some()) {
                return Err(Error::invalid("Filter"));
            }
            validate::max_len("equals", value, validate::MAX_NAME)?;
            match field {
                EqualField::NickName => query.nick_name_prefix = Some(value.clone()),
                EqualField::Email => query.email_prefix = Some(value.clone()),
            }
        }
        let filter = query.into_filter(self.clock.now_ms());
        let (mut rows, mut next) = self.entries_page(actor, filter, page).await?;
        if let Some((field, value)) = equals {
            let value = normalize(&value);
            let equal = rows
                .iter()
                .take_while(|row| value_of(field, &row.user) == value)
                .count();
            if equal < rows.len() {
                rows.truncate(equal);
                next = String::new();
            }
        }
        Ok((rows, next))
    }

    /// How many users match a directory filter (admins only).
    pub async fn count_directory_users(&self, actor: &Actor, query: DirectoryQuery) -> Result<i64> {
        actor.require_directory_reader()?;
        let filter = query.into_filter(self.clock.now_ms());
        self.store
            .count_matching_users(&actor.domain_id, &filter)
            .await
    }

    /// The stable numbers of groups (POSIX group ids), for those who read the directory.
    pub async fn group_numbers(
        &self,
        actor: &Actor,
        group_ids: &[String],
    ) -> Result<HashMap<String, i64>> {
        actor.require_directory_reader()?;
        let numbers = self
            .store
            .group_numbers(&actor.domain_id, group_ids)
            .await?;
        Ok(numbers.into_iter().collect())
    }

    /// Numbers, organizations (with name paths), user groups and property values of users.
    pub async fn user_details(&self, actor: &Actor, users: &[UserRow]) -> Result<UserDetails> {
        let domain_id = &actor.domain_id;
        let ids: Vec<String> = users.iter().map(|u| u.user_id.clone()).collect();
        let mut details = UserDetails {
            numbers: self
                .store
                .user_numbers(domain_id, &ids)
                .await?
                .into_iter()
                .collect(),
            locked: locked_among(users, self.clock.now_ms()),
            ..UserDetails::default()
        };
        let memberships = self.store.groups_of_users(domain_id, &ids).await?;
        let org_ids: Vec<String> = memberships
            .iter()
            .filter(|(_, g)| g.kind == KIND_ORG)
            .map(|(_, g)| g.group_id.clone())
            .collect();
        let paths = self.org_name_paths(domain_id, &org_ids).await?;
        for (user_id, group) in memberships {
            if group.kind == KIND_USER_GROUP {
                details.user_groups.entry(user_id).or_default().push(group);
            } else {
                let name_path = paths.get(&group.group_id).cloned().unwrap_or_default();
                details
                    .orgs
                    .entry(user_id)
                    .or_default()
                    .push(Org { group, name_path });
            }
        }
        for value in self.store.user_property_values(domain_id, &ids).await? {
            details
                .properties
                .entry(value.user_id.clone())
                .or_default()
                .push(value);
        }
        Ok(details)
    }
}
