//! What the groups service takes: a group to create, a change to one, a search, a member,
//! a listing of members, a group-admin role given or taken; and the roles it answers.

use super::HolderKind;

/// A group to create: at the top (admins) or under `parent_group_id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewGroupSpec {
    pub name: String,
    pub description: Option<String>,
    /// The parent group (none or `""`: top level).
    pub parent_group_id: Option<String>,
    /// Marks the group a root of the tree (refused with a parent).
    pub is_root: Option<bool>,
}

/// A change to a group: each field set is changed, each left out kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Moves the group under this parent (`""`: to the top level).
    pub parent_group_id: Option<String>,
}

impl GroupChanges {
    /// The names of the fields this change sets, sorted, as the audit log lists them.
    pub fn field_names(&self) -> Vec<String> {
        super::set_field_names([
            ("description", self.description.is_some()),
            ("group_name", self.name.is_some()),
            ("parent_group_id", self.parent_group_id.is_some()),
        ])
    }
}

/// Which groups a page of groups holds: by name prefix, or by a substring of the name
/// (case-insensitive; empty ones filter nothing), in group-id order (name order with a
/// prefix).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSearch {
    pub name: Option<String>,
    pub name_contains: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// What a member of a group is: a user, or a subgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    User,
    Group,
}

impl MemberKind {
    /// The name the audit log and the events feed give it.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::User => "user",
            MemberKind::Group => "group",
        }
    }
}

/// A member of a group, by id: a user, or a subgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    User(String),
    Group(String),
}

impl Member {
    pub fn kind(&self) -> MemberKind {
        match self {
            Member::User(_) => MemberKind::User,
            Member::Group(_) => MemberKind::Group,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Member::User(id) | Member::Group(id) => id,
        }
    }
}

/// A page of a group's members (`group_id` `""`, where a listing allows it: the top of the
/// tree), of one kind or (`None`) subgroups first, then users.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberListing {
    pub group_id: String,
    pub kind: Option<MemberKind>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// A group-admin role to give or take: on `group_id` (and every group below it), held by
/// `holder_id`. The fields a face could not read are kept as the face's problem, refused
/// where the rules look at them (after the caller's permission), so the order of errors does
/// not depend on the face.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupAdminGrant {
    pub group_id: String,
    pub holder_id: String,
    /// The holder's kind, or the text of one the face does not know (refused as
    /// `identity.identity_type` once the group is found).
    pub holder_kind: Result<HolderKind, String>,
    /// The first of the face's fields that names a role other than the group admin's
    /// (refused as invalid right after the permission check).
    pub other_role_field: Option<&'static str>,
    /// The role the request named, as given: the group admin's stored name
    /// ([`super::GROUP_ADMIN_ROLE_NAME`]) unless the face's request named another. The audit
    /// record says it, so that a refused assignment's record shows what was asked.
    pub role_named: String,
}

/// A group-admin role held: on `group_id` and below.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupAdminRole {
    pub domain_id: String,
    pub group_id: String,
    pub holder_kind: HolderKind,
    pub holder_id: String,
    pub creator: String,
    pub created_at: i64,
}

/// The roles of a holder: whether it is a domain admin, and the groups it administers.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderRoles {
    pub is_admin: bool,
    pub roles: Vec<GroupAdminRole>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_the_fields_it_sets() {
        let changes = GroupChanges {
            parent_group_id: Some(String::new()),
            name: Some("n".into()),
            ..GroupChanges::default()
        };
        assert_eq!(changes.field_names(), ["group_name", "parent_group_id"]);
        assert!(GroupChanges::default().field_names().is_empty());
    }
}
