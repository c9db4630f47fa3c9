-- A stable number per group, for the LDAP gateway's posixGroup `gidNumber` (as users have
-- theirs since 0010), given by a sequence; existing groups are numbered as the column is added.
ALTER TABLE org_groups ADD COLUMN number BIGSERIAL;
CREATE UNIQUE INDEX org_groups_by_number ON org_groups (number);
