-- Change events (issue 21): one row per change to a directory object, written in the same
-- transaction as the change and its audit record. `seq` numbers a domain's events in the
-- order their transactions committed: it is taken from the domain's row of
-- `event_sequences`, whose update holds the row until COMMIT, so writers of one domain
-- commit in `seq` order and a reader following `seq` never skips one.

CREATE TABLE event_sequences (
    domain_id TEXT NOT NULL PRIMARY KEY,
    last_seq  BIGINT NOT NULL
);

CREATE TABLE events (
    domain_id      TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    event_id       TEXT NOT NULL UNIQUE,
    event_type     TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    -- Milliseconds since the UNIX epoch, from the server's clock.
    created_at     BIGINT NOT NULL,
    -- JSON: {"type": "user" | "anonymous" | ..., "id": ...}.
    actor          TEXT NOT NULL,
    -- JSON: the object after the change (for a deletion, as it was).
    data           TEXT NOT NULL,
    -- JSON array of the names of the changed fields.
    changed_fields TEXT NOT NULL,
    PRIMARY KEY (domain_id, seq)
);

-- Retention's sweep.
CREATE INDEX events_by_age ON events (created_at);
