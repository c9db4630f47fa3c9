-- The audit log: one row per change (or refused attempt at one), written in the same
-- transaction as the change itself. Rows name their domain but do not reference it, so the
-- trail of a deleted domain or user outlives them until retention removes it.

CREATE TABLE audit_log (
    log_id      TEXT NOT NULL PRIMARY KEY,
    domain_id   TEXT NOT NULL,
    acted_at    BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_type  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    client_ip   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    error_code  TEXT NOT NULL,
    detail      TEXT NOT NULL
);

-- Pages of a domain's log in time order (both directions), and retention's sweep.
CREATE INDEX audit_log_by_time ON audit_log (domain_id, acted_at, log_id);
CREATE INDEX audit_log_by_age ON audit_log (acted_at);
-- What happened to one object, and what one actor did: the usual questions of an audit.
CREATE INDEX audit_log_by_target ON audit_log (domain_id, target_id, acted_at, log_id);
CREATE INDEX audit_log_by_actor ON audit_log (domain_id, actor_id, acted_at, log_id);
