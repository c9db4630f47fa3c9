-- Groups in a tree, with a closure table (every ancestor/descendant pair, self included at
-- depth 0) so that subtree queries are one indexed join, never a recursive walk.

CREATE TABLE org_groups (
    domain_id       TEXT COLLATE "C" NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    group_id        TEXT COLLATE "C" NOT NULL,
    group_name      TEXT NOT NULL,
    group_name_norm TEXT COLLATE "C" NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    is_root         BOOLEAN NOT NULL DEFAULT FALSE,
    -- '' for a top-level group.
    parent_group_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    creator         TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (domain_id, group_id)
);

CREATE INDEX org_groups_by_name ON org_groups (domain_id, group_name_norm, group_id);
CREATE INDEX org_groups_by_parent ON org_groups (domain_id, parent_group_id, group_id);

CREATE TABLE group_closure (
    domain_id     TEXT COLLATE "C" NOT NULL,
    ancestor_id   TEXT COLLATE "C" NOT NULL,
    descendant_id TEXT COLLATE "C" NOT NULL,
    depth         BIGINT NOT NULL,
    PRIMARY KEY (domain_id, ancestor_id, descendant_id),
    FOREIGN KEY (domain_id, ancestor_id) REFERENCES org_groups (domain_id, group_id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, descendant_id) REFERENCES org_groups (domain_id, group_id) ON DELETE CASCADE
);

CREATE INDEX group_closure_up ON group_closure (domain_id, descendant_id, ancestor_id);

CREATE TABLE group_members (
    domain_id  TEXT COLLATE "C" NOT NULL,
    group_id   TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (domain_id, group_id, user_id),
    FOREIGN KEY (domain_id, group_id) REFERENCES org_groups (domain_id, group_id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE INDEX group_members_by_user ON group_members (domain_id, user_id, group_id);

-- Group admins (PDS role SystemGroupAdmin on RT_Group): a user, or the members of a group.
CREATE TABLE group_admins (
    domain_id     TEXT COLLATE "C" NOT NULL,
    group_id      TEXT COLLATE "C" NOT NULL,
    identity_type TEXT COLLATE "C" NOT NULL,
    identity_id   TEXT COLLATE "C" NOT NULL,
    creator       TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (domain_id, group_id, identity_type, identity_id),
    FOREIGN KEY (domain_id, group_id) REFERENCES org_groups (domain_id, group_id) ON DELETE CASCADE
);

CREATE INDEX group_admins_by_identity ON group_admins (domain_id, identity_type, identity_id);
CREATE INDEX org_groups_name_trgm ON org_groups USING GIN (group_name_norm gin_trgm_ops);
