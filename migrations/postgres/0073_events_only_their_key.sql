-- Change events (issue 21) keep one index: their key `(domain_id, seq)`, which every query
-- on them reads (the feed, the webhook queue's fill, the reads by number, the row gauge, the
-- retention sweep, store/sql/events.rs). `event_id`'s unique index and `events_by_age`
-- served only the old sweep, and each cost an index insert (the `event_id` one at a random
-- place) in every change's transaction. Event ids are 96 random bits (`evt_` + 24 hex
-- digits), unique without an index to check them.
ALTER TABLE events DROP CONSTRAINT events_event_id_key;
DROP INDEX events_by_age;
