-- E-mail identities compare case-insensitively, so they are stored in lower case (ASCII
-- letters, as SQLite's lower() and the server fold them): `ADAM@x` and `adam@x` are one
-- logon name. Existing accounts whose addresses differ only in case within one domain
-- cannot all keep theirs: the oldest account (then the smallest identity) keeps the address,
-- lower-cased, and the others are removed. Their users keep their other accounts, and an
-- admin can link another address (docs/operations.md shows how to list them beforehand).

DELETE FROM accounts
WHERE authentication_type = 'email'
  AND EXISTS (
    SELECT 1 FROM accounts AS older
    WHERE older.domain_id = accounts.domain_id
      AND older.authentication_type = 'email'
      AND lower(older.identity) = lower(accounts.identity)
      AND older.identity <> accounts.identity
      AND (older.created_at < accounts.created_at
           OR (older.created_at = accounts.created_at AND older.identity < accounts.identity))
  );

UPDATE accounts SET identity = lower(identity)
WHERE authentication_type = 'email' AND identity <> lower(identity);

-- Whatever writes an account, one address in two cases cannot come back.
CREATE UNIQUE INDEX accounts_email_folded ON accounts (domain_id, lower(identity))
WHERE authentication_type = 'email';
