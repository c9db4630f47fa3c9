-- SCIM (issue 22): `meta.created` and `meta.lastModified` ranges (`gt`, `ge`, `lt`, `le`),
-- which identity providers use to read what changed since their last sync. Each index
-- serves the range and the page order (time, then user id) with the keyset marker, so a
-- page reads only its own rows.
CREATE INDEX users_by_created_at ON users (domain_id, created_at, user_id);
CREATE INDEX users_by_updated_at ON users (domain_id, updated_at, user_id);
