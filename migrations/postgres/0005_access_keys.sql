-- Access keys: requests signed with them (as Alibaba's SDKs sign) act as the key's user.
-- The secret is kept as issued: HMAC verification (v1 and v4) needs the secret itself.

CREATE TABLE access_keys (
    access_key_id TEXT COLLATE "C" PRIMARY KEY,
    domain_id     TEXT COLLATE "C" NOT NULL,
    user_id       TEXT COLLATE "C" NOT NULL,
    secret        TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'enabled',
    description   TEXT NOT NULL DEFAULT '',
    creator       TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);

CREATE INDEX access_keys_by_user ON access_keys (domain_id, user_id, access_key_id);

-- Signature nonces seen within the accepted clock skew: a nonce works once.
CREATE TABLE used_nonces (
    nonce      TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE INDEX used_nonces_by_expiry ON used_nonces (expires_at);
