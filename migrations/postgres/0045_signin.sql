-- Sign-in for people (issue 19): apps for the authorization-code flow, single-use
-- authorization codes, and browser sign-in sessions.

-- What kind of app: 'ServerSide' (a JWT app, the only kind before), 'WebServer' (confidential:
-- a client secret, stored hashed), 'SinglePageApp' or 'NativeApp' (public: PKCE required).
ALTER TABLE apps ADD COLUMN app_type TEXT COLLATE "C" NOT NULL DEFAULT 'ServerSide';
-- JSON arrays: the redirect URIs the app may name (exact match), the scopes it may ask for.
ALTER TABLE apps ADD COLUMN redirect_uris TEXT COLLATE "C" NOT NULL DEFAULT '[]';
ALTER TABLE apps ADD COLUMN scopes TEXT COLLATE "C" NOT NULL DEFAULT '[]';
-- A first-party app: it may skip the consent page (with hide_consent).
ALTER TABLE apps ADD COLUMN trusted BOOLEAN NOT NULL DEFAULT FALSE;
-- SHA-256 (hex) of a WebServer app's client secret; '' for the other kinds.
ALTER TABLE apps ADD COLUMN client_secret_hash TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Authorization codes: SHA-256 (hex) of the code; bound to its app, redirect URI and PKCE
-- challenge; used once (consumed_at), and the refresh-token family the use issued is revoked
-- when the code comes back.
CREATE TABLE authorization_codes (
    code_hash      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    domain_id      TEXT COLLATE "C" NOT NULL,
    client_id      TEXT COLLATE "C" NOT NULL,
    user_id        TEXT COLLATE "C" NOT NULL,
    redirect_uri   TEXT COLLATE "C" NOT NULL,
    scope          TEXT COLLATE "C" NOT NULL,
    code_challenge TEXT COLLATE "C" NOT NULL,
    nonce          TEXT COLLATE "C" NOT NULL,
    auth_time      BIGINT NOT NULL,
    family_id      TEXT COLLATE "C" NOT NULL,
    expires_at     BIGINT NOT NULL,
    consumed_at    BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);

-- Browser sign-in sessions: SHA-256 (hex) of the cookie's random id; the user's token
-- generation when it began (a session ends when it changes: password change, lock, ...);
-- the per-session form token (CSRF).
CREATE TABLE signin_sessions (
    session_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    domain_id    TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    token_stamp  TEXT COLLATE "C" NOT NULL,
    form_token   TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);
CREATE INDEX signin_sessions_by_user ON signin_sessions (domain_id, user_id);
