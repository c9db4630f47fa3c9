-- SCIM (issue 22): what an identity provider keeps on a user or a group that Roster has no
-- column for: its external id (filtered on, so indexed) and the other attributes as a JSON
-- object. `object_created_at` is the object's creation time: a row whose object was deleted
-- (through any face) and re-created under the same id no longer matches it, and is ignored.
CREATE TABLE provisioned_attributes (
    domain_id TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    object_created_at BIGINT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (domain_id, object_kind, object_id)
);
CREATE INDEX provisioned_attributes_external_id
    ON provisioned_attributes (domain_id, object_kind, external_id);
