//! The organization tree: groups of kind `org` (eds-user's organizations, KooDrive's
//! departments, PDS's groups), so an organization made through one face is the same object
//! in the others. This module adds what the directory faces ask of it: name paths, direct
//! children, moving users between organizations, and refusing to remove one still in use.

use std::collections::HashMap;

use super::pagination::{encode_marker, finish_page, Page};
use super::{validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::model::GroupId;
use crate::model::UserId;
use crate::model::{GroupChanges, NewGroupSpec, UserChanges};
use crate::store::groups::{GroupPage, GroupRow, KIND_ORG};
use crate::store::normalize;

/// An organization with the names of its ancestors and itself, top first, `/`-joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub group: GroupRow,
    pub name_path: String,
}

/// Which organizations a page reads.
#[derive(Debug, Clone, Default)]
pub struct OrgQuery {
    /// Direct children of this organization (`""`: top-level ones); any when `None`.
    pub parent: Option<String>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Only these organizations (none when empty).
    pub ids: Vec<String>,
}

/// Most organizations answered by one unpaged call (direct children of one organization).
const MAX_CHILDREN: u32 = 1000;

impl Services {
    /// An organization of the caller's domain: `NotFound(Org)` when there is none, or when
    /// the id names a group of another kind.
    pub async fn existing_org(&self, actor: &Actor, org_id: &str) -> Result<GroupRow> {
        validate::required("OrgId", org_id, validate::MAX_ID)?;
        self.store
            .group(&actor.domain_id, &GroupId::from(org_id))
            .await?
            .filter(|g| g.kind == KIND_ORG)
            .ok_or(Error::NotFound(Resource::Org))
    }

    /// Creates an organization under `parent` (`""`: at the top); answers its id.
    pub async fn create_org(&self, actor: &Actor, name: &str, parent: &str) -> Result<String> {
        if !parent.is_empty() {
            self.existing_org(actor, parent).await?;
        }
        let group = self
            .create_group(
                actor,
                NewGroupSpec {
                    name: name.to_owned(),
                    parent_group_id: Some(parent.to_owned()).filter(|p| !p.is_empty()),
                    ..NewGroupSpec::default()
                },
            )
            .await?;
        Ok(group.group_id)
    }

    pub async fn rename_org(&self, actor: &Actor, org_id: &str, name: &str) -> Result<()> {
        self.existing_org(actor, org_id).await?;
        self.update_group(
            actor,
            org_id,
            GroupChanges {
                name: Some(name.to_owned()),
                ..GroupChanges::default()
            },
        )
        .await?;
        Ok(())
    }

    /// Moves an organization with its subtree under `new_parent` (`""`: to the top); a move
    /// into its own subtree is refused by the store, changing nothing.
    pub async fn move_org(&self, actor: &Actor, org_id: &str, new_parent: &str) -> Result<()> {
        actor.require_admin()?;
        self.existing_org(actor, org_id).await?;
        if !new_parent.is_empty() {
            self.existing_org(actor, new_parent).await?;
        }
        let moved = self
            .update_group(
                actor,
                org_id,
                GroupChanges {
                    parent_group_id: Some(new_parent.to_owned()),
                    ..GroupChanges::default()
                },
            )
            .await;
        match moved {
            // Into its own subtree: name the parameter as the directory dialects do.
            Err(Error::InvalidParameter { problem, .. }) => {
                Err(Error::param(problem, "NewParentOrgId"))
            }
            other => other.map(|_| ()),
        }
    }

    /// Removes an organization that has neither users nor child organizations.
    pub async fn remove_org(&self, actor: &Actor, org_id: &str) -> Result<()> {
        actor.audit("group.delete", "group", org_id);
        actor.require_admin()?;
        self.existing_org(actor, org_id).await?;
        let members = self
            .store
            .member_counts(&actor.domain_id, &[org_id.to_owned()])
            .await?;
        if members.iter().any(|(_, n)| *n > 0) {
            return Err(Error::Conflict(
                "the organization still has users: move them out first".into(),
            ));
        }
        let children = GroupPage {
            parent: Some(org_id.to_owned()),
            limit: 1,
            ..GroupPage::default()
        };
        if !self
            .store
            .find_groups(&actor.domain_id, &children)
            .await?
            .is_empty()
        {
            return Err(Error::Conflict(
                "the organization still has child organizations: remove or move them first".into(),
            ));
        }
        // Checked again as it is deleted: a user may have joined since.
        self.store
            .delete_empty_group(&actor.trail, &actor.domain_id, org_id)
            .await
            .map_err(|e| match e {
                Error::NotFound(Resource::Group) => Error::NotFound(Resource::Org),
                other => other,
            })
    }

    /// Makes `org_id` (`""`: none, the top) the organization of each user.
    /// Changes a user and, given `org_id`, moves it to that organization (`""`: to none).
    /// Everything is checked before anything is written: a refused change moves nobody.
    pub async fn update_user_and_move(
        &self,
        actor: &Actor,
        user_id: &str,
        changes: UserChanges,
        org_id: Option<&str>,
    ) -> Result<()> {
        if let Some(org_id) = org_id {
            actor.require_admin()?;
            if !org_id.is_empty() {
                self.existing_org(actor, org_id).await?;
            }
        }
        // The user change checks all of its own rules before it writes; a directory user's
        // contact details are logons too.
        self.update_directory_user(actor, user_id, changes).await?;
        if let Some(org_id) = org_id {
            self.move_users_to_org(actor, &[user_id.to_owned()], org_id)
                .await?;
        }
        Ok(())
    }

    pub async fn move_users_to_org(
        &self,
        actor: &Actor,
        user_ids: &[String],
        org_id: &str,
    ) -> Result<()> {
        actor.require_admin()?;
        if !org_id.is_empty() {
            self.existing_org(actor, org_id).await?;
        }
        // Every user must exist, so that nothing moves when one does not.
        for user_id in user_ids {
            validate::required("EndUserIds", user_id, validate::MAX_USER_ID)?;
            self.store
                .user(&actor.domain_id, &UserId::from(user_id))
                .await?
                .ok_or(Error::NotFound(Resource::User))?;
        }
        for user_id in user_ids {
            super::groups::audit_membership(actor, "membership.move", org_id, "user", user_id);
            self.store
                .replace_membership_of_kind(
                    &actor.trail,
                    &actor.domain_id,
                    user_id,
                    KIND_ORG,
                    org_id,
                    self.clock.now_ms(),
                )
                .await?;
        }
        Ok(())
    }

    /// One page of organizations, by id, with their name paths.
    pub async fn orgs(
        &self,
        actor: &Actor,
        query: OrgQuery,
        page: &Page,
    ) -> Result<(Vec<Org>, String)> {
        let mut found = Vec::new();
        let mut after = page.after_for("org")?;
        // Id lists are filtered here: they are short, and the tree query stays one shape.
        loop {
            let rows = self
                .store
                .find_groups(
                    &actor.domain_id,
                    &GroupPage {
                        parent: query.parent.clone(),
                        kind: Some(KIND_ORG.into()),
                        name_contains: query.name_contains.as_deref().map(normalize),
                        after: after.clone(),
                        limit: page.limit + 1,
                        ..GroupPage::default()
                    },
                )
                .await?;
            let exhausted = rows.len() <= page.limit as usize;
            after = rows.last().map(|g| (String::new(), g.group_id.clone()));
            found.extend(
                rows.into_iter()
                    .filter(|g| query.ids.is_empty() || query.ids.contains(&g.group_id)),
            );
            if exhausted || found.len() > page.limit as usize {
                break;
            }
        }
        let (rows, next) = finish_page(found, page.limit, |g| {
            encode_marker(&actor.domain_id, "org", "", &g.group_id)
        });
        Ok((self.with_name_paths(actor, rows).await?, next))
    }

    /// The direct children of an organization (`""`: the top-level ones), unpaged.
    pub async fn org_children(
        &self,
        actor: &Actor,
        parent: &str,
        name_contains: Option<&str>,
    ) -> Result<Vec<Org>> {
        if !parent.is_empty() {
            self.existing_org(actor, parent).await?;
        }
        let rows = self
            .store
            .find_groups(
                &actor.domain_id,
                &GroupPage {
                    parent: Some(parent.to_owned()),
                    kind: Some(KIND_ORG.into()),
                    name_contains: name_contains.map(normalize),
                    limit: MAX_CHILDREN,
                    ..GroupPage::default()
                },
            )
            .await?;
        self.with_name_paths(actor, rows).await
    }

    async fn with_name_paths(&self, actor: &Actor, rows: Vec<GroupRow>) -> Result<Vec<Org>> {
        let ids: Vec<String> = rows.iter().map(|g| g.group_id.clone()).collect();
        let paths = self.org_name_paths(&actor.domain_id, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|group| Org {
                name_path: paths.get(&group.group_id).cloned().unwrap_or_default(),
                group,
            })
            .collect())
    }

    /// `group_id → "Top/Middle/Name"` for the given groups.
    pub async fn org_name_paths(
        &self,
        domain_id: &str,
        group_ids: &[String],
    ) -> Result<HashMap<String, String>> {
        let mut paths: HashMap<String, String> = HashMap::new();
        for (group_id, name) in self.store.group_name_paths(domain_id, group_ids).await? {
            let path = paths.entry(group_id).or_default();
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(&name);
        }
        Ok(paths)
    }
}
