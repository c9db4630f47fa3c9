//! The organization tree under stricter rules: names of at most 20 characters, unique among
//! siblings (case-insensitively), at most five levels, and pages by offset. KooDrive's console
//! enforces them and its API inherits them, so the KooDrive face calls these; eds-user and
//! PDS keep their own, looser rules.

use super::directory::DirectoryQuery;
use super::{validate, Actor, Services};
use crate::error::{Error, ParamProblem, Resource, Result};
use crate::model::GroupId;
use crate::model::GroupKind;
use crate::store::directory::GroupNumberedQuery;
use crate::store::groups::GroupRow;
use crate::store::{normalize, UserOrder, UserPage, UserRow};

/// Deepest level an org unit may sit at (a top-level org unit is level 1).
pub const MAX_ORG_UNIT_DEPTH: usize = 5;
/// Longest org unit name, in characters.
pub const MAX_ORG_UNIT_NAME: usize = 20;

/// A name KooDrive accepts: not blank, at most 20 characters.
fn check_org_unit_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::missing("name"));
    }
    if name.chars().count() > MAX_ORG_UNIT_NAME {
        return Err(Error::out_of_range("name"));
    }
    Ok(())
}

impl Services {
    /// Creates an org unit under `parent` (`""`: at the top); answers its id.
    pub async fn create_org_unit(&self, actor: &Actor, name: &str, parent: &str) -> Result<String> {
        actor.require_admin()?;
        check_org_unit_name(name)?;
        self.check_org_unit_place(actor, name, parent, None).await?;
        self.create_org(actor, name, parent).await
    }

    /// Renames an org unit and moves it under `parent` (`""`: to the top), with the
    /// same limits as at creation.
    pub async fn update_org_unit(
        &self,
        actor: &Actor,
        org_id: &str,
        name: &str,
        parent: &str,
    ) -> Result<()> {
        actor.require_admin()?;
        check_org_unit_name(name)?;
        let current = self.existing_org(actor, org_id).await?;
        self.check_org_unit_place(actor, name, parent, Some(org_id))
            .await?;
        if current.parent_group_id != parent {
            self.move_org(actor, org_id, parent).await?;
        }
        if current.group_name != name {
            self.rename_org(actor, org_id, name).await?;
        }
        Ok(())
    }

    /// Removes an empty org unit with its drives.
    pub async fn remove_org_unit(&self, actor: &Actor, org_id: &str) -> Result<()> {
        // `remove_org` checks the rest; its group deletion takes the group's drives along.
        self.remove_org(actor, org_id).await
    }

    /// Refuses a place too deep (for a moved org unit, with its subtree) or a name a
    /// sibling already has. `moving` is the org unit being moved or renamed (not its own
    /// sibling).
    async fn check_org_unit_place(
        &self,
        actor: &Actor,
        name: &str,
        parent: &str,
        moving: Option<&str>,
    ) -> Result<()> {
        let parent_depth = if parent.is_empty() {
            0
        } else {
            self.existing_org(actor, parent).await?;
            self.store
                .group_name_paths(&actor.domain_id, &[parent.to_owned()])
                .await?
                .len()
        };
        // A moved org unit takes its subtree along: its deepest level must fit too.
        let height = match moving {
            Some(id) => {
                self.store
                    .subtree_height(&actor.domain_id, &GroupId::from(id))
                    .await?
            }
            None => 0,
        };
        let height = usize::try_from(height).unwrap_or(usize::MAX);
        if parent_depth.saturating_add(1).saturating_add(height) > MAX_ORG_UNIT_DEPTH {
            return Err(Error::param(ParamProblem::OutOfRange, "parentId"));
        }
        let wanted = normalize(name);
        let similar = self.org_children(actor, parent, Some(name)).await?;
        let taken = similar.iter().any(|org| {
            normalize(&org.group.group_name) == wanted
                && Some(org.group.group_id.as_str()) != moving
        });
        if taken {
            return Err(Error::AlreadyExists(Resource::Org));
        }
        validate::max_len("name", name, validate::MAX_NAME)
    }
}

/// Deepest offset an offset-paged listing reads: rows before it are read and skipped, so
/// the cost of a page grows with its offset.
pub const MAX_OFFSET: i64 = 10_000;

impl Services {
    /// `(total, page)` of the users a filter matches (admins only), in `user_id` order,
    /// `limit` rows from `offset`: for the listings that page by offset.
    pub async fn users_at_offset(
        &self,
        actor: &Actor,
        query: DirectoryQuery,
        offset: i64,
        limit: u32,
    ) -> Result<(i64, Vec<UserRow>)> {
        actor.require_admin()?;
        let filter = query.into_filter(self.clock.now_ms());
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(Error::out_of_range("offset"));
        }
        let total = self
            .store
            .count_matching_users(&actor.domain_id, &filter)
            .await?;
        let skip = u32::try_from(offset).map_err(|_| Error::out_of_range("offset"))?;
        let query = UserPage {
            filter,
            order: UserOrder::UserId,
            after: None,
            limit: skip + limit,
            descending: false,
        };
        let rows = self.store.find_users(&actor.domain_id, &query).await?;
        Ok((total, rows.into_iter().skip(skip as usize).collect()))
    }
}

impl Services {
    /// `(total, page)` of every group of a kind (org units, user groups) of the domain
    /// (admins only), `limit` from `offset`, with a name substring.
    pub async fn groups_at_offset(
        &self,
        actor: &Actor,
        kind: GroupKind,
        name_contains: Option<&str>,
        offset: i64,
        limit: u32,
    ) -> Result<(i64, Vec<GroupRow>)> {
        actor.require_admin()?;
        let query = GroupNumberedQuery {
            kind: kind.as_str().into(),
            group_id: None,
            name_contains: name_contains.map(normalize),
        };
        self.store
            .groups_by_number(&actor.domain_id, &query, offset, i64::from(limit))
            .await
    }
}
