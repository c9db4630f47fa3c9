-- The eds-user dialect's directory data, general enough for the KooDrive dialect too.

-- Groups have a kind. 'org': a department of the organization tree (what PDS calls a group;
-- eds-user organizations and KooDrive departments are these). 'user_group': a flat group of
-- users outside the tree (eds-user and KooDrive user groups). Both share memberships.
ALTER TABLE org_groups ADD COLUMN kind TEXT NOT NULL DEFAULT 'org';
CREATE INDEX org_groups_by_kind ON org_groups (domain_id, kind, group_id);

-- How the user was activated (eds-user OwnerType): '' unknown, 'Normal', 'CreateFromManager'.
ALTER TABLE users ADD COLUMN owner_type TEXT NOT NULL DEFAULT '';
-- A stable number per user, for APIs that name users by integer (eds-user `Id`). SQLite
-- already numbers rows in `seq`; the column only gives it the name PostgreSQL uses.
ALTER TABLE users ADD COLUMN number INTEGER GENERATED ALWAYS AS (seq) VIRTUAL;
CREATE INDEX users_by_number ON users (domain_id, number);

-- Custom user properties: a key and its allowed values; users are given values.
CREATE TABLE user_properties (
    domain_id    TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    property_id  BIGINT NOT NULL,
    property_key TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (domain_id, property_id),
    UNIQUE (domain_id, property_key)
);

CREATE TABLE user_property_values (
    domain_id   TEXT NOT NULL,
    property_id BIGINT NOT NULL,
    value_id    BIGINT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (domain_id, value_id),
    UNIQUE (domain_id, property_id, value),
    FOREIGN KEY (domain_id, property_id) REFERENCES user_properties (domain_id, property_id) ON DELETE CASCADE
);

CREATE TABLE user_property_assignments (
    domain_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    property_id BIGINT NOT NULL,
    value_id    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (domain_id, user_id, property_id, value_id),
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, value_id) REFERENCES user_property_values (domain_id, value_id) ON DELETE CASCADE
);

CREATE INDEX user_property_assignments_by_value ON user_property_assignments (domain_id, value_id, user_id);
CREATE INDEX user_property_assignments_by_property ON user_property_assignments (domain_id, property_id, user_id);

-- Resource groups (eds-user): Roster keeps them and which users are authorized on them.
CREATE TABLE resource_groups (
    domain_id           TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    resource_group_id   TEXT NOT NULL,
    resource_group_name TEXT NOT NULL,
    name_norm           TEXT NOT NULL,
    platform            TEXT NOT NULL DEFAULT '',
    creator             TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (domain_id, resource_group_id)
);

CREATE INDEX resource_groups_by_created ON resource_groups (domain_id, created_at, resource_group_id);

CREATE TABLE resource_group_users (
    domain_id         TEXT NOT NULL,
    resource_group_id TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (domain_id, resource_group_id, user_id),
    FOREIGN KEY (domain_id, resource_group_id) REFERENCES resource_groups (domain_id, resource_group_id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

-- Password reset tokens: single use, stored as SHA-256 hashes, with an expiry.
CREATE TABLE password_reset_tokens (
    token_hash TEXT PRIMARY KEY,
    domain_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE INDEX password_reset_tokens_by_user ON password_reset_tokens (domain_id, user_id);

-- Mail that could not be sent because no SMTP server is configured; admins read it here.
CREATE TABLE outbox (
    domain_id  TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (domain_id, message_id)
);
