-- Tenancy: subdomains hang under a parent domain (one level), and one domain, the first,
-- is the operator's: its superadmins manage the top-level domains.

ALTER TABLE domains ADD COLUMN parent_domain_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE domains ADD COLUMN is_operator BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE domains SET is_operator = TRUE
WHERE domain_id = (SELECT domain_id FROM domains ORDER BY created_at, domain_id LIMIT 1);

CREATE INDEX domains_by_parent ON domains (parent_domain_id, domain_id);
