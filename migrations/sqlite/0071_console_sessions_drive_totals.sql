-- Issue 20, two kept facts of the console.
--
-- A console session (a refresh-token family of the console's built-in app) ends when a
-- sign-in session would: past the idle timeout without a request, or past the absolute
-- lifetime since the person signed in (service/console.rs). Its sign-in time and last
-- request are kept here, by family, so the rule holds whatever cookies the browser keeps.
-- Rows go with their user; a session that ends deletes its row, and a new one sweeps its
-- user's timed-out rows.
CREATE TABLE console_sessions (
    family_id    TEXT NOT NULL PRIMARY KEY,
    domain_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    signed_in_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    FOREIGN KEY (domain_id, user_id) REFERENCES users (domain_id, user_id) ON DELETE CASCADE
);
CREATE INDEX console_sessions_by_user ON console_sessions (domain_id, user_id);

-- The overview and `domain/get` show the space a domain's drives are given (the sum of the
-- limited drives' total_size) and use (used_size) without a SUM over every drive: each
-- domain keeps both, maintained in the write transaction of every drive insert, size
-- change and delete (store/sql/drives.rs, `drive_totals_stmt`). As user_counts (0064),
-- spread over a few rows per domain (`shard`) so concurrent writes seldom wait on one
-- row; the totals are their sums. Each figure is kept in two halves split at 2^31, as
-- `split_sum` sums them, so no running total overflows a BIGINT. Rows go with their domain.
CREATE TABLE drive_totals (
    domain_id    TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    shard        INTEGER NOT NULL,
    allocated_hi BIGINT NOT NULL DEFAULT 0,
    allocated_lo BIGINT NOT NULL DEFAULT 0,
    used_hi      BIGINT NOT NULL DEFAULT 0,
    used_lo      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, shard)
);
INSERT INTO drive_totals (domain_id, shard, allocated_hi, allocated_lo, used_hi, used_lo)
    SELECT domain_id, 0,
           SUM(CASE WHEN total_size >= 0 THEN total_size ELSE 0 END / 2147483648),
           SUM(CASE WHEN total_size >= 0 THEN total_size ELSE 0 END % 2147483648),
           SUM(used_size / 2147483648),
           SUM(used_size % 2147483648)
      FROM drives GROUP BY domain_id;
