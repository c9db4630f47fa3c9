-- The console's overview (issue 20) counts the last day's sign-ins and failed sign-ins of a
-- domain: an index-only range per (action, outcome) over this index, capped, instead of a
-- walk over every record of the day. It also serves the audit page's action filter.
CREATE INDEX audit_log_by_action ON audit_log (domain_id, action, outcome, acted_at);
