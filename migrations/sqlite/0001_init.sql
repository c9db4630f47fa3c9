-- Roster's first schema on SQLite. Times are UNIX milliseconds (BIGINT); ids are TEXT.
-- Every table is keyed by domain_id first: no query can reach across tenants.

CREATE TABLE domains (
    domain_id   TEXT PRIMARY KEY,
    domain_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    -- An explicit rowid alias, so VACUUM cannot renumber the rows the FTS index points at.
    seq                             INTEGER PRIMARY KEY,
    domain_id                       TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    user_id                         TEXT NOT NULL,
    user_name                       TEXT NOT NULL DEFAULT '',
    nick_name                       TEXT NOT NULL DEFAULT '',
    avatar                          TEXT NOT NULL DEFAULT '',
    email                           TEXT NOT NULL DEFAULT '',
    phone                           TEXT NOT NULL DEFAULT '',
    role                            TEXT NOT NULL,
    status                          TEXT NOT NULL,
    description                     TEXT NOT NULL DEFAULT '',
    user_data                       TEXT NOT NULL DEFAULT '{}',
    creator                         TEXT NOT NULL DEFAULT '',
    default_drive_id                TEXT NOT NULL DEFAULT '',
    deny_change_password_by_self    BOOLEAN NOT NULL DEFAULT FALSE,
    need_change_password_next_login BOOLEAN NOT NULL DEFAULT FALSE,
    expired_at                      BIGINT NOT NULL DEFAULT 0,
    phone_region                    TEXT NOT NULL DEFAULT '',
    last_login_time                 BIGINT NOT NULL DEFAULT 0,
    last_refresh_token_time         BIGINT NOT NULL DEFAULT 0,
    created_at                      BIGINT NOT NULL,
    updated_at                      BIGINT NOT NULL,
    -- Lower-cased copies for case-insensitive prefix search by index range scans.
    user_name_norm                  TEXT NOT NULL DEFAULT '',
    nick_name_norm                  TEXT NOT NULL DEFAULT '',
    email_norm                      TEXT NOT NULL DEFAULT '',
    phone_norm                      TEXT NOT NULL DEFAULT '',
    UNIQUE (domain_id, user_id)
);

CREATE INDEX users_by_user_name ON users (domain_id, user_name_norm, user_id);
CREATE INDEX users_by_nick_name ON users (domain_id, nick_name_norm, user_id);
CREATE INDEX users_by_email ON users (domain_id, email_norm, user_id);
CREATE INDEX users_by_phone ON users (domain_id, phone_norm, user_id);

-- Substring ("fuzzy") search on nick names: an external-content FTS5 trigram index.
CREATE VIRTUAL TABLE users_nick_fts USING fts5 (
    nick_name,
    content = 'users',
    content_rowid = 'seq',
    tokenize = 'trigram'
);

CREATE TRIGGER users_nick_fts_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_nick_fts (rowid, nick_name) VALUES (new.seq, new.nick_name);
END;
CREATE TRIGGER users_nick_fts_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_nick_fts (users_nick_fts, rowid, nick_name) VALUES ('delete', old.seq, old.nick_name);
END;
CREATE TRIGGER users_nick_fts_update AFTER UPDATE OF nick_name ON users BEGIN
    INSERT INTO users_nick_fts (users_nick_fts, rowid, nick_name) VALUES ('delete', old.seq, old.nick_name);
    INSERT INTO users_nick_fts (rowid, nick_name) VALUES (new.seq, new.nick_name);
END;

-- Password hashes live apart from users so that no user query ever reads one.
CREATE TABLE user_passwords (
    domain_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (domain_id, user_id),
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE TABLE accounts (
    domain_id           TEXT NOT NULL,
    authentication_type TEXT NOT NULL,
    identity            TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    display_name        TEXT NOT NULL DEFAULT '',
    extra               TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'normal',
    created_at          BIGINT NOT NULL,
    last_login_time     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, authentication_type, identity),
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE INDEX accounts_by_identity ON accounts (domain_id, identity);
CREATE INDEX accounts_by_user ON accounts (domain_id, user_id);

-- Opaque refresh tokens, stored as SHA-256 hashes; a row is deleted when the token is used.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    domain_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_by_user ON refresh_tokens (domain_id, user_id);

-- The key that signs access tokens, shared by every process over this store.
CREATE TABLE signing_keys (
    slot        TEXT PRIMARY KEY,
    kid         TEXT NOT NULL UNIQUE,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
