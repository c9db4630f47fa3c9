-- Webhooks (issue 21): a domain's endpoints, the deliveries of its events to them, and the
-- log of every attempt. Deliveries are queued from `events` by following each webhook's
-- cursor over the domain's `seq` (commit order, so none is skipped).

CREATE TABLE webhooks (
    domain_id       TEXT COLLATE "C" NOT NULL,
    webhook_id      TEXT COLLATE "C" NOT NULL,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL,
    -- JSON array of event types; [] for every type.
    event_types     TEXT NOT NULL,
    -- The signing key (base64 of the bytes after "whsec_"); never answered after create.
    secret          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    -- Why the delivery worker disabled it ("" when enabled or disabled by an admin).
    disabled_reason TEXT NOT NULL,
    -- Events of the domain with seq <= cursor_seq have been queued (or skipped by type).
    cursor_seq      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (domain_id, webhook_id)
);

CREATE TABLE webhook_deliveries (
    domain_id       TEXT COLLATE "C" NOT NULL,
    webhook_id      TEXT COLLATE "C" NOT NULL,
    event_seq       BIGINT NOT NULL,
    event_id        TEXT COLLATE "C" NOT NULL,
    object_id       TEXT NOT NULL,
    -- pending | delivered | dead
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- A worker holds it until then (a crashed worker's claim runs out).
    claimed_until   BIGINT NOT NULL,
    last_status     BIGINT NOT NULL,
    last_error      TEXT NOT NULL,
    -- When the event happened (ms), for the age of the oldest undelivered one.
    event_at        BIGINT NOT NULL,
    -- When it was queued (or redelivered): retries go on for the retry window from here.
    queued_at       BIGINT NOT NULL,
    PRIMARY KEY (domain_id, webhook_id, event_seq)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_object
    ON webhook_deliveries (domain_id, webhook_id, object_id, event_seq);

CREATE TABLE webhook_attempts (
    domain_id   TEXT COLLATE "C" NOT NULL,
    webhook_id  TEXT COLLATE "C" NOT NULL,
    event_id    TEXT COLLATE "C" NOT NULL,
    attempt     BIGINT NOT NULL,
    -- 0 when no HTTP answer came (timeout, refused connection, SSRF guard).
    status_code BIGINT NOT NULL,
    latency_ms  BIGINT NOT NULL,
    error       TEXT NOT NULL,
    at          BIGINT NOT NULL
);

CREATE INDEX webhook_attempts_by_hook ON webhook_attempts (domain_id, webhook_id, at);
