-- SCIM (issue 22): provisioning tokens, one or more per domain, created by a superadmin for
-- an identity provider. The token is shown once; only the SHA-256 of it is kept (it has 256
-- bits of randomness, so a slow hash buys nothing and would cost every SCIM request).
-- `token_id` is public (listed, named in the audit log as the actor `scim:<token_id>`) and
-- part of the token itself, so a request finds its row by primary key.
CREATE TABLE scim_tokens (
    token_id TEXT PRIMARY KEY,
    domain_id TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    creator TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX scim_tokens_by_domain ON scim_tokens (domain_id, token_id);
