//! The closed vocabularies Roster stores as text.

use crate::error::{Error, Result};

/// What a group is: a department of the organization tree, or a flat group of users outside
/// it (an eds-user or KooDrive user group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    Org,
    UserGroup,
}

impl GroupKind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Org => "org",
            GroupKind::UserGroup => "user_group",
        }
    }

    /// The kind of a stored value; an unknown one means the store holds what Roster never
    /// wrote, an internal error.
    pub fn from_stored(stored: &str) -> Result<GroupKind> {
        match stored {
            "org" => Ok(GroupKind::Org),
            "user_group" => Ok(GroupKind::UserGroup),
            other => Err(Error::internal(anyhow::anyhow!(
                "unknown group kind {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_kinds_round_trip_and_unknown_ones_are_internal() {
        for kind in [GroupKind::Org, GroupKind::UserGroup] {
            assert_eq!(GroupKind::from_stored(kind.as_str()).ok(), Some(kind));
        }
        assert!(matches!(
            GroupKind::from_stored("team"),
            Err(Error::Internal(_))
        ));
    }
}
