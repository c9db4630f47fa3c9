-- Failed password logins per account identity (known or not, so that locking tells nothing
-- about which identities exist), for lockout.

CREATE TABLE login_failures (
    domain_id      TEXT NOT NULL,
    identity       TEXT NOT NULL,
    failures       BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, identity)
);
