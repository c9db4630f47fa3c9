//! What the groups service takes: a group to create, a change to one, a search.

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
