-- A stable number per group, for the LDAP gateway's posixGroup `gidNumber` (as users have
-- theirs since 0010). Existing groups take their row number; new ones the next free number,
-- given by a trigger since SQLite cannot add a column with a computed default.
ALTER TABLE org_groups ADD COLUMN number INTEGER;
UPDATE org_groups SET number = rowid;
CREATE UNIQUE INDEX org_groups_by_number ON org_groups (number);
CREATE TRIGGER org_groups_numbered AFTER INSERT ON org_groups WHEN NEW.number IS NULL
BEGIN
    UPDATE org_groups
       SET number = (SELECT COALESCE(MAX(number), 0) + 1 FROM org_groups)
     WHERE rowid = NEW.rowid;
END;
