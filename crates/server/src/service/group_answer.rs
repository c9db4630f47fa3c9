//! A group's answer, which both the groups and the users services give (a user's groups
//! among its extra information): a leaf, so that neither service imports the other for it.

use roster_api::Group;

use crate::store::groups::GroupRow;

/// The PDS answer for a stored group.
pub fn group_to_api(row: GroupRow) -> Group {
    Group {
        domain_id: row.domain_id,
        group_id: row.group_id,
        group_name: row.group_name,
        description: row.description,
        is_root: row.is_root,
        parent_group_id: row.parent_group_id,
        creator: row.creator,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
