-- Token lifetime (issue 17): tokens are bound to the instance and the current generation of
-- what they act for, refresh tokens form families, and lockout also counts per user.

-- A user's token generation: random, set when the user is created and replaced by every
-- event that ends its sessions (password change or reset, lock, unlock, punishment, role
-- change, log out everywhere). Access tokens carry it and must match it. Existing users keep
-- '' (the value a token issued before this migration reads as), so their tokens last until
-- they expire or the first such event.
ALTER TABLE users ADD COLUMN token_stamp TEXT COLLATE "C" NOT NULL DEFAULT '';

-- An app's instance: random at creation, so a service token of a deleted app never works for
-- an app re-created under the same client_id.
ALTER TABLE apps ADD COLUMN instance_stamp TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Refresh tokens: the login they descend from (family), the user's token generation they were
-- issued under, and when they were used (a used one stays until it expires, so that its reuse
-- is recognised and revokes the family).
ALTER TABLE refresh_tokens ADD COLUMN family_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN token_stamp TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN consumed_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

-- Failed password checks per user (every identity of the user, and change_password), next to
-- the per-identity counts of login_failures. Goes with its user.
CREATE TABLE user_login_failures (
    domain_id      TEXT COLLATE "C" NOT NULL,
    user_id        TEXT COLLATE "C" NOT NULL,
    failures       BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, user_id),
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);
