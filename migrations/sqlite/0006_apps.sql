-- JWT apps: an app registered with a public key exchanges signed assertions for tokens
-- (grant urn:ietf:params:oauth:grant-type:jwt-bearer).

CREATE TABLE apps (
    domain_id  TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    app_name   TEXT NOT NULL,
    -- RS256 or ES256.
    algorithm  TEXT NOT NULL,
    -- PEM (SubjectPublicKeyInfo).
    public_key TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'enabled',
    creator    TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (domain_id, client_id)
);
