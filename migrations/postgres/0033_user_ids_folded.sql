-- User ids are unique in a domain regardless of case: `Alice` and `alice` cannot be two
-- users. `user_id_norm` is the id lower-cased (the server writes it, folding as
-- `normalize` does); a unique index on it refuses a second spelling.
--
-- A store may already hold ids that differ only in case. Users are referenced by id from
-- outside (drives, memberships, clients), so none is renamed or removed: the oldest of each
-- spelling (then the smallest id) gets the plain folded id, the others `<folded>#<id>`,
-- which no new id can equal (`#` is refused in user ids). They keep working; no new one can
-- join them.

ALTER TABLE users ADD COLUMN user_id_norm TEXT NOT NULL DEFAULT '';

UPDATE users SET user_id_norm = lower(user_id);

UPDATE users SET user_id_norm = lower(user_id) || '#' || user_id
WHERE EXISTS (
    SELECT 1 FROM users AS older
    WHERE older.domain_id = users.domain_id
      AND lower(older.user_id) = lower(users.user_id)
      AND older.user_id <> users.user_id
      AND (older.created_at < users.created_at
           OR (older.created_at = users.created_at AND older.user_id < users.user_id))
);

CREATE UNIQUE INDEX users_by_folded_id ON users (domain_id, user_id_norm);
