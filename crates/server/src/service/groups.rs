//! Groups in a tree, memberships and group admins.
//!
//! Who may do what: any user of the domain reads groups and their members; admins change
//! anything; a group admin (a user holding the group-admin role on a group, itself or
//! through a group it is a member of) manages the members of
//! the groups it administers and of every group below them, and the subgroups below them,
//! nothing else: not the administered group's own place in the tree, not other groups.

use super::pagination::{encode_marker, finish_page, Page};
use super::{random_hex, validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::model::GroupId;
use crate::model::UserId;
use crate::model::{
    Group, GroupAdminGrant, GroupAdminRole, GroupChanges, GroupMembers, GroupSearch, HolderKind,
    HolderRoles, Listed, Member, MemberKind, MemberListing, NewGroupSpec, UserExtras,
    GROUP_ADMIN_ROLE_NAME,
};
use crate::store::directory::GroupNumberedQuery;
use crate::store::groups::{AssignmentRow, GroupPage, GroupRow, KIND_ORG, KIND_USER_GROUP};
use crate::store::normalize;

/// PDS allows at most 30 records per call when group information is asked for.
const MAX_LIMIT_WITH_GROUPS: u32 = 30;

fn role_of(row: AssignmentRow) -> Result<GroupAdminRole> {
    Ok(GroupAdminRole {
        holder_kind: HolderKind::from_stored(&row.identity_type)?,
        domain_id: row.domain_id,
        group_id: row.group_id,
        holder_id: row.identity_id,
        creator: row.creator,
        created_at: row.created_at,
    })
}

fn roles_of(rows: Vec<AssignmentRow>) -> Result<Vec<GroupAdminRole>> {
    rows.into_iter().map(role_of).collect()
}

/// What part of the directory a caller reads user entries of ([`Services::directory_scope`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryScope {
    Whole,
    /// The users in these groups or in any group below them.
    Subtrees(Vec<String>),
    Own,
}

fn group_id_param(name: &str, value: &str) -> Result<()> {
    validate::required(name, value, validate::MAX_ID)
}

impl Services {
    /// Whether the actor may manage `group_id`: as an admin, or as the admin of a group at
    /// or above it (`inclusive`), or strictly above it (not `inclusive`).
    pub(super) async fn may_manage(
        &self,
        actor: &Actor,
        group_id: &str,
        inclusive: bool,
    ) -> Result<bool> {
        if actor.is_admin() {
            return Ok(true);
        }
        self.store
            .administers(
                &actor.domain_id,
                &actor.user_id,
                &GroupId::from(group_id),
                inclusive,
            )
            .await
    }

    /// Whether the caller manages `group_id` (an admin, or the admin of it or of a group
    /// above it): a directory face shows a group admin the groups it manages.
    pub async fn manages_group(&self, actor: &Actor, group_id: &str) -> Result<bool> {
        self.may_manage(actor, group_id, true).await
    }

    /// Those of `group_ids` the caller manages ([`Services::manages_group`] for each), found
    /// in one statement: a directory face filtering a page of groups for a group admin.
    pub async fn managed_among(
        &self,
        actor: &Actor,
        group_ids: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        if actor.is_admin() {
            return Ok(group_ids.iter().cloned().collect());
        }
        Ok(self
            .store
            .administered_among(&actor.domain_id, &actor.user_id, group_ids)
            .await?
            .into_iter()
            .collect())
    }

    /// The part of the directory whose user entries the caller reads: the whole domain
    /// (admin permission or the directory-reader role), the subtrees of the groups it
    /// administers (a group admin: the users of the groups it manages, as it manages their
    /// memberships), or only its own entry.
    pub async fn directory_scope(&self, actor: &Actor) -> Result<DirectoryScope> {
        if actor.reads_directory() {
            return Ok(DirectoryScope::Whole);
        }
        let roots = self
            .store
            .administered_groups(&actor.domain_id, &actor.user_id)
            .await?;
        Ok(if roots.is_empty() {
            DirectoryScope::Own
        } else {
            DirectoryScope::Subtrees(roots)
        })
    }

    async fn require_manage(&self, actor: &Actor, group_id: &str, inclusive: bool) -> Result<()> {
        if self.may_manage(actor, group_id, inclusive).await? {
            Ok(())
        } else {
            Err(Error::forbidden("admin or group admin permission required"))
        }
    }

    /// Whether the actor may change who is in `group_id`: it manages the group and, unless an
    /// admin, everything the group administers (roles held by the group), since a member of the
    /// group administers those too. A group admin cannot reach outside its subtree by joining
    /// a group in it that administers another part of the tree.
    async fn require_membership_change(&self, actor: &Actor, group_id: &str) -> Result<()> {
        self.require_manage(actor, group_id, true).await?;
        if actor.is_admin() {
            return Ok(());
        }
        let grants = self
            .store
            .assignments_of(&actor.domain_id, HolderKind::Group.as_str(), group_id)
            .await?;
        for grant in grants {
            if !self.may_manage(actor, &grant.group_id, true).await? {
                return Err(Error::forbidden(
                    "this group administers groups outside the caller's subtree",
                ));
            }
        }
        Ok(())
    }

    async fn existing_group(&self, actor: &Actor, group_id: &str) -> Result<GroupRow> {
        self.store
            .group(&actor.domain_id, &GroupId::from(group_id))
            .await?
            .ok_or(Error::NotFound(Resource::Group))
    }

    pub async fn create_group(&self, actor: &Actor, req: NewGroupSpec) -> Result<Group> {
        self.create_group_of_kind(actor, req, KIND_ORG).await
    }

    async fn create_group_of_kind(
        &self,
        actor: &Actor,
        req: NewGroupSpec,
        kind: &str,
    ) -> Result<Group> {
        let group_id = random_hex(16);
        actor.audit_with(
            "group.create",
            "group",
            &group_id,
            serde_json::json!({ "kind": kind }),
        );
        validate::required("group_name", &req.name, validate::MAX_NAME)?;
        validate::optional(
            "description",
            req.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        let parent = req.parent_group_id.unwrap_or_default();
        let is_root = req.is_root.unwrap_or(false);
        if is_root && !parent.is_empty() {
            return Err(Error::invalid("parent_group_id"));
        }
        if parent.is_empty() {
            if !actor.is_admin() {
                return Err(Error::forbidden("only an admin creates top-level groups"));
            }
        } else {
            group_id_param("parent_group_id", &parent)?;
            self.existing_group(actor, &parent).await?;
            self.require_manage(actor, &parent, true).await?;
        }
        let now = self.clock.now_ms();
        let row = GroupRow {
            domain_id: actor.domain_id.to_string(),
            group_id,
            group_name: req.name,
            description: req.description.unwrap_or_default(),
            is_root,
            parent_group_id: parent,
            creator: actor.user_id.to_string(),
            created_at: now,
            updated_at: now,
            kind: kind.into(),
        };
        self.store.create_group(&actor.trail, row).await
    }

    pub async fn get_group(&self, actor: &Actor, group_id: &str) -> Result<Group> {
        group_id_param("group_id", group_id)?;
        self.existing_group(actor, group_id).await
    }

    /// Renames, describes, and (with `parent_group_id`) moves a group.
    pub async fn update_group(
        &self,
        actor: &Actor,
        group_id: &str,
        req: GroupChanges,
    ) -> Result<Group> {
        let detail = serde_json::json!({ "fields": req.field_names() });
        actor.audit_with("group.update", "group", group_id, detail);
        group_id_param("group_id", group_id)?;
        if let Some(name) = &req.name {
            validate::required("group_name", name, validate::MAX_NAME)?;
        }
        validate::optional(
            "description",
            req.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        self.existing_group(actor, group_id).await?;
        self.require_manage(actor, group_id, true).await?;
        if let Some(parent) = &req.parent_group_id {
            self.move_group(actor, group_id, parent).await?;
        }
        let updated = self
            .store
            .update_group(
                &actor.trail,
                &actor.domain_id,
                &GroupId::from(group_id),
                req.name.as_deref(),
                req.description.as_deref(),
                self.clock.now_ms(),
            )
            .await?;
        updated.ok_or(Error::NotFound(Resource::Group))
    }

    /// Moves a group under `new_parent` (`""`: top level). A group admin moves only groups
    /// strictly below the ones it administers, and only to places it administers.
    async fn move_group(&self, actor: &Actor, group_id: &str, new_parent: &str) -> Result<()> {
        validate::max_len("parent_group_id", new_parent, validate::MAX_ID)?;
        if !actor.is_admin() {
            let may = !new_parent.is_empty()
                && self.may_manage(actor, group_id, false).await?
                && self.may_manage(actor, new_parent, true).await?;
            if !may {
                return Err(Error::forbidden("this move needs admin permission"));
            }
        }
        self.store
            .move_group(
                &actor.trail,
                &actor.domain_id,
                &GroupId::from(group_id),
                new_parent,
                self.clock.now_ms(),
            )
            .await
    }

    pub async fn delete_group(&self, actor: &Actor, group_id: &str) -> Result<()> {
        actor.audit("group.delete", "group", group_id);
        group_id_param("group_id", group_id)?;
        self.existing_group(actor, group_id).await?;
        self.require_manage(actor, group_id, false).await?;
        self.store
            .delete_group(&actor.trail, &actor.domain_id, &GroupId::from(group_id))
            .await
    }

    /// One page of the groups a search finds (any user of the domain).
    pub async fn search_groups(&self, actor: &Actor, req: GroupSearch) -> Result<Listed<Group>> {
        let page = Page::parse(&actor.domain_id, req.limit, req.marker.as_deref())?;
        let text = |name: &str, v: Option<String>| -> Result<Option<String>> {
            match v.filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => {
                    validate::max_len(name, &v, validate::MAX_NAME)?;
                    Ok(Some(normalize(&v)))
                }
            }
        };
        let query = GroupPage {
            name_prefix: text("group_name", req.name)?,
            name_contains: text("group_name_for_fuzzy", req.name_contains)?,
            ..GroupPage::default()
        };
        self.group_page(actor, query, &page).await
    }

    async fn group_page(
        &self,
        actor: &Actor,
        mut query: GroupPage,
        page: &Page,
    ) -> Result<Listed<Group>> {
        let by_name = query.name_prefix.is_some();
        let tag = if by_name { "gn" } else { "gi" };
        query.after = page.after_for(tag)?;
        query.limit = page.limit + 1;
        let rows = self.store.find_groups(&actor.domain_id, &query).await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |g| {
            let value = if by_name {
                normalize(&g.group_name)
            } else {
                String::new()
            };
            encode_marker(&actor.domain_id, tag, &value, &g.group_id)
        });
        Ok(Listed {
            items: rows,
            next_marker,
        })
    }

    /// What adding and removing a member start with: the audit note, the ids, the group.
    async fn begin_member_change(
        &self,
        actor: &Actor,
        action: &'static str,
        group_id: &str,
        member: &Member,
    ) -> Result<()> {
        audit_membership(actor, action, group_id, member.kind().as_str(), member.id());
        group_id_param("group_id", group_id)?;
        validate::required("member_id", member.id(), validate::MAX_ID)?;
        self.existing_group(actor, group_id).await?;
        Ok(())
    }

    /// Adds a user to a group, or moves a group under it.
    pub async fn add_member(&self, actor: &Actor, group_id: &str, member: Member) -> Result<()> {
        self.begin_member_change(actor, "membership.add", group_id, &member)
            .await?;
        match &member {
            Member::User(user_id) => {
                self.require_membership_change(actor, group_id).await?;
                self.store
                    .user(&actor.domain_id, &UserId::from(user_id))
                    .await?
                    .ok_or(Error::NotFound(Resource::User))?;
                self.store
                    .add_member(
                        &actor.trail,
                        &actor.domain_id,
                        &GroupId::from(group_id),
                        &UserId::from(user_id),
                        self.clock.now_ms(),
                    )
                    .await
            }
            Member::Group(subgroup_id) => {
                self.existing_group(actor, subgroup_id).await?;
                self.move_group(actor, subgroup_id, group_id).await
            }
        }
    }

    /// Takes a user out of a group, or a subgroup out of it (to the top level).
    pub async fn remove_member(&self, actor: &Actor, group_id: &str, member: Member) -> Result<()> {
        self.begin_member_change(actor, "membership.remove", group_id, &member)
            .await?;
        match &member {
            Member::User(user_id) => {
                self.require_membership_change(actor, group_id).await?;
                let removed = self
                    .store
                    .remove_member(
                        &actor.trail,
                        &actor.domain_id,
                        &GroupId::from(group_id),
                        &UserId::from(user_id),
                    )
                    .await?;
                if removed {
                    Ok(())
                } else {
                    Err(Error::NotFound(Resource::Membership))
                }
            }
            Member::Group(subgroup_id) => {
                self.require_manage(actor, group_id, true).await?;
                let subgroup = self.existing_group(actor, subgroup_id).await?;
                if subgroup.parent_group_id != group_id {
                    return Err(Error::NotFound(Resource::Membership));
                }
                // Taken out of its parent, a group becomes top-level.
                self.move_group(actor, subgroup_id, "").await
            }
        }
    }

    pub async fn list_members(&self, actor: &Actor, req: MemberListing) -> Result<GroupMembers> {
        group_id_param("group_id", &req.group_id)?;
        self.existing_group(actor, &req.group_id).await?;
        let page = Page::parse(&actor.domain_id, req.limit, req.marker.as_deref())?;
        self.member_page(actor, &req.group_id, req.kind, &page, Default::default())
            .await
    }

    /// Members of a group, or with no group (`""`) the top of the tree (top-level groups and
    /// users in no group), the users with the `extra` asked for (admins only).
    pub async fn list_group_users(
        &self,
        actor: &Actor,
        req: MemberListing,
        extra: UserExtras,
    ) -> Result<GroupMembers> {
        if extra.any() && !actor.reads_directory() {
            return Err(Error::forbidden("extra_return_info needs admin permission"));
        }
        // With group information PDS serves at most 30 users a call; that is also the default.
        let default_limit = extra.groups.then_some(i64::from(MAX_LIMIT_WITH_GROUPS));
        let page = Page::parse(
            &actor.domain_id,
            req.limit.or(default_limit),
            req.marker.as_deref(),
        )?;
        if extra.groups && page.limit > MAX_LIMIT_WITH_GROUPS {
            return Err(Error::out_of_range("limit"));
        }
        let group_id = req.group_id;
        if !group_id.is_empty() {
            group_id_param("group_id", &group_id)?;
            self.existing_group(actor, &group_id).await?;
        }
        self.member_page(actor, &group_id, req.kind, &page, extra)
            .await
    }

    /// One page of members: subgroups first (marker tag `mg`), then users (tag `mu`).
    async fn member_page(
        &self,
        actor: &Actor,
        group_id: &str,
        member_type: Option<MemberKind>,
        page: &Page,
        extra: UserExtras,
    ) -> Result<GroupMembers> {
        let limit = page.limit as usize;
        let after_tag = page.after.as_ref().map(|(tag, _, _)| tag.as_str());
        if !matches!(after_tag, None | Some("mg") | Some("mu")) {
            return Err(Error::invalid("marker"));
        }
        let after_id = page.after.as_ref().map(|(_, _, id)| id.clone());
        let want_groups = member_type != Some(MemberKind::User) && after_tag != Some("mu");
        let want_users = member_type != Some(MemberKind::Group);

        let mut groups = Vec::new();
        if want_groups {
            let query = GroupPage {
                parent: Some(group_id.to_owned()),
                after: after_id.clone().map(|id| (String::new(), id)),
                limit: page.limit + 1,
                ..GroupPage::default()
            };
            groups = self.store.find_groups(&actor.domain_id, &query).await?;
        }
        let mut next_marker = String::new();
        let mut users = Vec::new();
        if groups.len() > limit {
            groups.truncate(limit);
            if let Some(last) = groups.last() {
                next_marker = encode_marker(&actor.domain_id, "mg", "", &last.group_id);
            }
        } else if want_users {
            let room = limit - groups.len();
            let after_user = if after_tag == Some("mu") {
                after_id
            } else {
                None
            };
            users = self
                .store
                .member_users(
                    &actor.domain_id,
                    &GroupId::from(group_id),
                    after_user.as_deref(),
                    room as u32 + 1,
                )
                .await?;
            if users.len() > room {
                users.truncate(room);
                next_marker = match (users.last(), groups.last()) {
                    (Some(user), _) => encode_marker(&actor.domain_id, "mu", "", &user.user_id),
                    // This page is all groups; the users start on the next one.
                    (None, Some(group)) => {
                        encode_marker(&actor.domain_id, "mg", "", &group.group_id)
                    }
                    (None, None) => String::new(),
                };
            }
        }
        Ok(GroupMembers {
            users: self.with_extras(&actor.domain_id, users, extra).await?,
            groups,
            next_marker,
        })
    }

    /// The assignment a grant names, checked in the rules' order: the role, the ids, the
    /// group, then the holder.
    async fn assignment_of(&self, actor: &Actor, grant: &GroupAdminGrant) -> Result<AssignmentRow> {
        if let Some(field) = grant.other_role_field {
            return Err(Error::invalid(field));
        }
        group_id_param("manage_resource_id", &grant.group_id)?;
        validate::required("identity.identity_id", &grant.holder_id, validate::MAX_ID)?;
        self.existing_group(actor, &grant.group_id).await?;
        let kind = match grant.holder_kind {
            Ok(HolderKind::User) => {
                self.store
                    .user(&actor.domain_id, &UserId::from(&grant.holder_id))
                    .await?
                    .ok_or(Error::NotFound(Resource::User))?;
                HolderKind::User
            }
            Ok(HolderKind::Group) => {
                self.existing_group(actor, &grant.holder_id).await?;
                HolderKind::Group
            }
            Err(_) => return Err(Error::invalid("identity.identity_type")),
        };
        Ok(AssignmentRow {
            domain_id: actor.domain_id.to_string(),
            group_id: grant.group_id.clone(),
            identity_type: kind.as_str().into(),
            identity_id: grant.holder_id.clone(),
            creator: actor.user_id.to_string(),
            created_at: self.clock.now_ms(),
        })
    }

    /// Gives the group-admin role on a group (admins only).
    pub async fn assign_group_admin(&self, actor: &Actor, grant: GroupAdminGrant) -> Result<()> {
        audit_assignment(actor, "role.assign", &grant);
        actor.require_admin()?;
        let assignment = self.assignment_of(actor, &grant).await?;
        self.store.assign(&actor.trail, assignment).await
    }

    /// Takes a group-admin role back (admins only); `NotFound(Assignment)` if it was not held.
    pub async fn cancel_group_admin(&self, actor: &Actor, grant: GroupAdminGrant) -> Result<()> {
        audit_assignment(actor, "role.cancel", &grant);
        actor.require_admin()?;
        let assignment = self.assignment_of(actor, &grant).await?;
        if self
            .store
            .cancel_assignment(&actor.trail, &assignment)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::Assignment))
        }
    }

    /// One page of the group-admin roles held on a group (its admins and group admins).
    pub async fn group_admins(
        &self,
        actor: &Actor,
        group_id: &str,
        limit: Option<i64>,
        marker: Option<&str>,
    ) -> Result<Listed<GroupAdminRole>> {
        group_id_param("manage_resource_id", group_id)?;
        self.existing_group(actor, group_id).await?;
        self.require_manage(actor, group_id, true).await?;
        let page = Page::parse(&actor.domain_id, limit, marker)?;
        let after = page.after_for("as")?;
        let rows = self
            .store
            .assignments_on(
                &actor.domain_id,
                &GroupId::from(group_id),
                after,
                page.limit + 1,
            )
            .await?;
        let (rows, next_marker) = finish_page(rows, page.limit, |a| {
            encode_marker(&actor.domain_id, "as", &a.identity_type, &a.identity_id)
        });
        Ok(Listed {
            items: roles_of(rows)?,
            next_marker,
        })
    }

    /// The group-admin roles a holder has: its own to anyone, anybody's to directory readers.
    /// `holder_kind` is as in [`GroupAdminGrant`]: a kind the face did not know is refused
    /// after the permission check.
    pub async fn holder_roles(
        &self,
        actor: &Actor,
        holder_id: &str,
        holder_kind: Result<HolderKind, String>,
    ) -> Result<HolderRoles> {
        let is_self = holder_kind == Ok(HolderKind::User) && holder_id == actor.user_id;
        if !is_self && !actor.reads_directory() {
            return Err(Error::forbidden("admin permission required"));
        }
        let kind = holder_kind.map_err(|_| Error::invalid("identity.identity_type"))?;
        validate::required("identity.identity_id", holder_id, validate::MAX_ID)?;
        // The holder must be of this domain, as every object a call names: another
        // domain's user or group answers as one that does not exist.
        let is_admin = match kind {
            HolderKind::User => {
                let user = self
                    .store
                    .user(&actor.domain_id, &UserId::from(holder_id))
                    .await?
                    .ok_or(Error::NotFound(Resource::User))?;
                user.is_admin()?
            }
            HolderKind::Group => {
                self.existing_group(actor, holder_id).await?;
                false
            }
        };
        let rows = self
            .store
            .assignments_of(&actor.domain_id, kind.as_str(), holder_id)
            .await?;
        Ok(HolderRoles {
            is_admin,
            roles: roles_of(rows)?,
        })
    }
}

/// Group admins in Roster's terms: a user administering a group.
impl Services {
    /// The role making `user_id` an admin of `group_id`.
    fn user_group_admin(user_id: &str, group_id: &str) -> GroupAdminGrant {
        GroupAdminGrant {
            group_id: group_id.to_owned(),
            holder_id: user_id.to_owned(),
            holder_kind: Ok(HolderKind::User),
            other_role_field: None,
            role_named: GROUP_ADMIN_ROLE_NAME.to_owned(),
        }
    }

    /// Makes a user an admin of a group (admins only).
    pub async fn add_group_admin(
        &self,
        actor: &Actor,
        user_id: &str,
        group_id: &str,
    ) -> Result<()> {
        self.assign_group_admin(actor, Self::user_group_admin(user_id, group_id))
            .await
    }

    /// Ends a user's admin role on a group (admins only); `NotFound(Assignment)` if it had none.
    pub async fn remove_group_admin(
        &self,
        actor: &Actor,
        user_id: &str,
        group_id: &str,
    ) -> Result<()> {
        self.cancel_group_admin(actor, Self::user_group_admin(user_id, group_id))
            .await
    }

    /// The ids of the groups a user administers: its own to anyone, anybody's to admins.
    pub async fn groups_administered_by(
        &self,
        actor: &Actor,
        user_id: &str,
    ) -> Result<Vec<String>> {
        let roles = self
            .holder_roles(actor, user_id, Ok(HolderKind::User))
            .await?;
        Ok(roles.roles.into_iter().map(|r| r.group_id).collect())
    }
}

/// A user group (kind `user_group`) with its number of direct members.
#[derive(Debug, Clone, PartialEq)]
pub struct UserGroup {
    pub group: GroupRow,
    pub user_count: i64,
}

/// User groups: flat groups outside the organization tree (eds-user and KooDrive user
/// groups). They are groups of kind `user_group`, so memberships and deletion are the
/// groups' own; only admins manage them.
impl Services {
    /// A user group of the caller's domain: `NotFound(Group)` when there is none, or when the
    /// id names an organization.
    pub async fn existing_user_group(&self, actor: &Actor, group_id: &str) -> Result<GroupRow> {
        group_id_param("GroupId", group_id)?;
        self.store
            .group(&actor.domain_id, &GroupId::from(group_id))
            .await?
            .filter(|g| g.kind == KIND_USER_GROUP)
            .ok_or(Error::NotFound(Resource::Group))
    }

    pub async fn create_user_group(
        &self,
        actor: &Actor,
        name: &str,
        description: Option<&str>,
    ) -> Result<String> {
        actor.require_admin()?;
        let req = NewGroupSpec {
            name: name.to_owned(),
            description: description.map(str::to_owned),
            ..NewGroupSpec::default()
        };
        let group = self
            .create_group_of_kind(actor, req, KIND_USER_GROUP)
            .await?;
        Ok(group.group_id)
    }

    pub async fn modify_user_group(
        &self,
        actor: &Actor,
        group_id: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<()> {
        actor.require_admin()?;
        self.existing_user_group(actor, group_id).await?;
        let req = GroupChanges {
            name: Some(name.to_owned()),
            description: description.map(str::to_owned),
            ..GroupChanges::default()
        };
        self.update_group(actor, group_id, req).await.map(|_| ())
    }

    /// Removes every named user group, or none when one of them does not exist.
    pub async fn remove_user_groups(&self, actor: &Actor, group_ids: &[String]) -> Result<()> {
        actor.require_admin()?;
        for group_id in group_ids {
            self.existing_user_group(actor, group_id).await?;
        }
        for group_id in group_ids {
            actor.audit("group.delete", "group", group_id);
            self.store
                .delete_group(&actor.trail, &actor.domain_id, &GroupId::from(group_id))
                .await?;
        }
        Ok(())
    }

    /// Adds users to a user group (or takes them out, `join == false`); every user must
    /// exist, and nothing changes when one does not.
    pub async fn set_user_group_membership(
        &self,
        actor: &Actor,
        group_id: &str,
        user_ids: &[String],
        join: bool,
    ) -> Result<()> {
        actor.require_admin()?;
        self.existing_user_group(actor, group_id).await?;
        for user_id in user_ids {
            validate::required("EndUserIds", user_id, validate::MAX_USER_ID)?;
            self.store
                .user(&actor.domain_id, &UserId::from(user_id))
                .await?
                .ok_or(Error::NotFound(Resource::User))?;
        }
        let now = self.clock.now_ms();
        let action = if join {
            "membership.add"
        } else {
            "membership.remove"
        };
        for user_id in user_ids {
            audit_membership(actor, action, group_id, "user", user_id);
            if join {
                self.store
                    .add_member(
                        &actor.trail,
                        &actor.domain_id,
                        &GroupId::from(group_id),
                        &UserId::from(user_id),
                        now,
                    )
                    .await?;
            } else {
                self.store
                    .remove_member(
                        &actor.trail,
                        &actor.domain_id,
                        &GroupId::from(group_id),
                        &UserId::from(user_id),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Nests user group `child` under user group `parent` (SCIM's group as a member of a
    /// group): the tree's move (`update_group` with `parent_group_id`, so its rules hold —
    /// never into its own subtree — and it is recorded and announced as `group.moved`).
    /// Nothing changes when it is there already. A group under another group is refused
    /// (`Conflict`): a group has one parent, and moving it would silently take it out of a
    /// group the caller did not name.
    pub async fn nest_user_group(&self, actor: &Actor, parent: &str, child: &str) -> Result<()> {
        actor.require_admin()?;
        self.existing_user_group(actor, parent).await?;
        let group = self.existing_user_group(actor, child).await?;
        if group.parent_group_id == parent {
            return Ok(());
        }
        if !group.parent_group_id.is_empty() {
            return Err(Error::Conflict(format!(
                "group {child} is already a member of group {}: a group has one parent, \
                 remove it there first",
                group.parent_group_id
            )));
        }
        let changes = GroupChanges {
            parent_group_id: Some(parent.to_owned()),
            ..GroupChanges::default()
        };
        self.update_group(actor, child, changes).await.map(|_| ())
    }

    /// Takes user group `child` out of `parent` to the top level of the tree (the move
    /// `nest_user_group` undoes); `false`, changing nothing, when it is not under `parent`.
    pub async fn unnest_user_group(
        &self,
        actor: &Actor,
        parent: &str,
        child: &str,
    ) -> Result<bool> {
        actor.require_admin()?;
        self.existing_user_group(actor, parent).await?;
        let group = self.existing_user_group(actor, child).await?;
        if group.parent_group_id != parent {
            return Ok(false);
        }
        let changes = GroupChanges {
            parent_group_id: Some(String::new()),
            ..GroupChanges::default()
        };
        self.update_group(actor, child, changes).await?;
        Ok(true)
    }

    /// When each of the given users joined a user group, by user id.
    pub async fn joined_user_group_at(
        &self,
        actor: &Actor,
        group_id: &str,
        user_ids: &[String],
    ) -> Result<std::collections::HashMap<String, i64>> {
        actor.require_directory_reader()?;
        Ok(self
            .store
            .joined_at(&actor.domain_id, group_id, user_ids)
            .await?
            .into_iter()
            .collect())
    }

    /// `(total, page)` of user groups, page `number` (from 1) of `size`.
    pub async fn user_groups(
        &self,
        actor: &Actor,
        group_id: Option<&str>,
        name_contains: Option<&str>,
        number: i64,
        size: i64,
    ) -> Result<(i64, Vec<UserGroup>)> {
        actor.require_directory_reader()?;
        let offset = super::pagination::numbered_page_offset(number, size)?;
        let query = GroupNumberedQuery {
            kind: KIND_USER_GROUP.into(),
            group_id: group_id.map(str::to_owned),
            name_contains: name_contains.map(normalize),
        };
        let (total, rows) = self
            .store
            .groups_by_number(&actor.domain_id, &query, offset, size)
            .await?;
        let ids: Vec<String> = rows.iter().map(|g| g.group_id.clone()).collect();
        let counts: std::collections::HashMap<String, i64> = self
            .store
            .member_counts(&actor.domain_id, &ids)
            .await?
            .into_iter()
            .collect();
        let groups = rows
            .into_iter()
            .map(|group| UserGroup {
                user_count: counts.get(&group.group_id).copied().unwrap_or(0),
                group,
            })
            .collect();
        Ok((total, groups))
    }
}

/// The marker that continues `list_groups` after `group_id`: a face that stops inside a page
/// (LDAP paged results) resumes after the last group it answered.
pub fn group_marker_after(domain_id: &str, group_id: &str) -> String {
    encode_marker(domain_id, "gi", "", group_id)
}

/// Notes a membership change: the group is the target, the member in the detail.
pub(super) fn audit_membership(
    actor: &Actor,
    action: &'static str,
    group_id: &str,
    member_type: &str,
    member_id: &str,
) {
    let detail = serde_json::json!({ "member_type": member_type, "member_id": member_id });
    actor.audit_with(action, "group", group_id, detail);
}

/// Notes a role given or taken on a group: who, which role.
fn audit_assignment(actor: &Actor, action: &'static str, grant: &GroupAdminGrant) {
    let identity_type = match &grant.holder_kind {
        Ok(kind) => kind.as_str(),
        Err(unknown) => unknown.as_str(),
    };
    let detail = serde_json::json!({
        "identity_type": identity_type,
        "identity_id": &grant.holder_id,
        "role_id": &grant.role_named,
    });
    actor.audit_with(action, "group", &grant.group_id, detail);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DomainId;
    use crate::model::Role;
    use crate::service::testing::{scratch_services, superadmin, user_with_role, DOMAIN};

    async fn group(services: &Services, name: &str, parent: &str) -> String {
        let req = NewGroupSpec {
            name: name.into(),
            parent_group_id: Some(parent.to_owned()).filter(|p| !p.is_empty()),
            ..NewGroupSpec::default()
        };
        services
            .create_group(&superadmin(), req)
            .await
            .expect("a new group")
            .group_id
    }

    fn move_to(parent: &str) -> GroupChanges {
        GroupChanges {
            parent_group_id: Some(parent.into()),
            ..GroupChanges::default()
        }
    }

    #[tokio::test]
    async fn a_group_never_moves_into_its_own_subtree() {
        let (_dir, services) = scratch_services().await;
        let top = group(&services, "top", "").await;
        let middle = group(&services, "middle", &top).await;
        let bottom = group(&services, "bottom", &middle).await;

        for target in [&middle, &bottom, &top] {
            let refused = services
                .update_group(&superadmin(), &top, move_to(target))
                .await;
            assert!(
                matches!(refused, Err(Error::InvalidParameter { .. })),
                "{refused:?}"
            );
        }
        let stored = services
            .store
            .group(&DomainId::from(DOMAIN), &GroupId::from(&top))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.parent_group_id, "");

        // Out of the subtree is a move like any other.
        let moved = services
            .update_group(&superadmin(), &bottom, move_to(""))
            .await
            .unwrap();
        assert_eq!(moved.parent_group_id, "");
    }

    #[tokio::test]
    async fn a_plain_user_moves_no_group() {
        let (_dir, services) = scratch_services().await;
        let plain = user_with_role(&services, "plain", Role::User).await;
        let a = group(&services, "a", "").await;
        let b = group(&services, "b", "").await;
        let refused = services.update_group(&plain, &b, move_to(&a)).await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
        let stored = services
            .store
            .group(&DomainId::from(DOMAIN), &GroupId::from(&b))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.parent_group_id, "");
    }
}
