-- Change events (issue 21) keep one index: their key `(domain_id, seq)`, which every query
-- on them reads (the feed, the webhook queue's fill, the reads by number, the row gauge, the
-- retention sweep, store/sql/events.rs). `event_id`'s unique index and `events_by_age`
-- served only the old sweep, and each cost a B-tree page written to the WAL by every change
-- (the `event_id` one at a random place): a third of what writing an event cost
-- `user/create`. Event ids are 96 random bits (`evt_` + 24 hex digits), unique without an
-- index to check them. SQLite drops a column's UNIQUE only with its table: the table is
-- rebuilt.
CREATE TABLE events_keyed (
    domain_id      TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    event_id       TEXT NOT NULL,
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
INSERT INTO events_keyed (domain_id, seq, event_id, event_type, object_id, created_at, actor,
                          data, changed_fields)
    SELECT domain_id, seq, event_id, event_type, object_id, created_at, actor, data,
           changed_fields
    FROM events ORDER BY domain_id, seq;
DROP TABLE events;
ALTER TABLE events_keyed RENAME TO events;
