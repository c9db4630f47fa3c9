-- A new refresh token deletes its user's expired ones (store/sql/tokens.rs). With the index on
-- (domain_id, user_id) alone that DELETE read every token the user holds, used ones included
-- (they are kept until they expire, to recognise reuse): a user or app signing in often holds
-- thousands, and each grant slowed down with their number. With expires_at in the index it
-- reads only the expired ones. The (domain_id, user_id) look-ups use this index's prefix.
CREATE INDEX refresh_tokens_by_user_expiry ON refresh_tokens (domain_id, user_id, expires_at);
DROP INDEX refresh_tokens_by_user;
