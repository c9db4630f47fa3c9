-- The console's overview (issue 20) shows a domain's users against its quota without a
-- COUNT(*) over a million rows: each domain keeps its user count, maintained in the write
-- transaction that creates or deletes users (store/sql/users.rs, `user_count_stmt`). The
-- count is spread over a few rows per domain (`shard`, from the user id) so that concurrent
-- creates in one domain do not all wait on one row; the count is their sum. Rows go with
-- their domain.
CREATE TABLE user_counts (
    domain_id TEXT NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    shard     INTEGER NOT NULL,
    users     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, shard)
);
INSERT INTO user_counts (domain_id, shard, users)
    SELECT domain_id, 0, COUNT(*) FROM users GROUP BY domain_id;
