-- Drives and the domain settings that govern them (PostgreSQL: BIGINT, no SERIAL, key columns
-- in COLLATE "C" so ordering is byte order as on SQLite). Drive times are UNIX milliseconds
-- here and ISO-8601 strings on the wire.

ALTER TABLE domains ADD COLUMN init_drive_enable BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE domains ADD COLUMN init_drive_size BIGINT NOT NULL DEFAULT 0;
-- Bytes; bounds the sum of the drives' total_size. 0 = unlimited.
ALTER TABLE domains ADD COLUMN size_quota BIGINT NOT NULL DEFAULT 0;
-- 0 = unlimited.
ALTER TABLE domains ADD COLUMN user_count_quota BIGINT NOT NULL DEFAULT 0;

-- The owner is a user or a group id; no foreign key, since it may name either. Whoever
-- deletes an owner deletes its drives.
CREATE TABLE drives (
    domain_id       TEXT COLLATE "C" NOT NULL REFERENCES domains (domain_id) ON DELETE CASCADE,
    drive_id        TEXT COLLATE "C" NOT NULL,
    owner           TEXT COLLATE "C" NOT NULL,
    owner_type      TEXT COLLATE "C" NOT NULL,
    drive_name      TEXT NOT NULL,
    -- Lower-cased drive_name, for case-insensitive search.
    drive_name_norm TEXT COLLATE "C" NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    drive_type      TEXT NOT NULL DEFAULT 'normal',
    status          TEXT NOT NULL DEFAULT 'enabled',
    is_default      BOOLEAN NOT NULL DEFAULT FALSE,
    -- Bytes; -1 = unlimited.
    total_size      BIGINT NOT NULL DEFAULT -1,
    used_size       BIGINT NOT NULL DEFAULT 0,
    creator         TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (domain_id, drive_id)
);

CREATE INDEX drives_by_owner ON drives (domain_id, owner_type, owner, drive_id);
-- A user (or group) owns at most one default drive.
CREATE UNIQUE INDEX drives_one_default ON drives (domain_id, owner_type, owner) WHERE is_default;
