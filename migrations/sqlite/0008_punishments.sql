-- Punishments an admin puts on a user (PDS `punishments`): a JSON array; one in force
-- blocks the user's logins.
ALTER TABLE users ADD COLUMN punishments TEXT NOT NULL DEFAULT '[]';
