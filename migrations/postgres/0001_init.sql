-- Roster's first schema on PostgreSQL (and Postgres-wire engines: no SERIAL, no advisory
-- locks, explicit BIGINT). Times are UNIX milliseconds; ids are TEXT.
-- Text keys use COLLATE "C" so ordering (and so pagination) is byte order, as on SQLite.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE domains (
    domain_id   TEXT COLLATE "C" PRIMARY KEY,
    domain_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    domain_id                       TEXT COLLATE "C" NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    user_id                         TEXT COLLATE "C" NOT NULL,
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
    user_name_norm                  TEXT COLLATE "C" NOT NULL DEFAULT '',
    nick_name_norm                  TEXT COLLATE "C" NOT NULL DEFAULT '',
    email_norm                      TEXT COLLATE "C" NOT NULL DEFAULT '',
    phone_norm                      TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (domain_id, user_id)
);

CREATE INDEX users_by_user_name ON users (domain_id, user_name_norm, user_id);
CREATE INDEX users_by_nick_name ON users (domain_id, nick_name_norm, user_id);
CREATE INDEX users_by_email ON users (domain_id, email_norm, user_id);
CREATE INDEX users_by_phone ON users (domain_id, phone_norm, user_id);
CREATE INDEX users_nick_trgm ON users USING GIN (nick_name_norm gin_trgm_ops);

CREATE TABLE user_passwords (
    domain_id     TEXT COLLATE "C" NOT NULL,
    user_id       TEXT COLLATE "C" NOT NULL,
    password_hash TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (domain_id, user_id),
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE TABLE accounts (
    domain_id           TEXT COLLATE "C" NOT NULL,
    authentication_type TEXT COLLATE "C" NOT NULL,
    identity            TEXT COLLATE "C" NOT NULL,
    user_id             TEXT COLLATE "C" NOT NULL,
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

CREATE TABLE refresh_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    domain_id  TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_by_user ON refresh_tokens (domain_id, user_id);

CREATE TABLE signing_keys (
    slot        TEXT PRIMARY KEY,
    kid         TEXT NOT NULL UNIQUE,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
