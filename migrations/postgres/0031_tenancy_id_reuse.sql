-- Security review (issue 17): tenancy and id reuse.

-- A password reset token is bound to the role and address its user had when it was issued:
-- it stops working when either changes (and is deleted then). Tokens from before this
-- migration carry neither and no longer work (they lived 24 hours at most).
ALTER TABLE password_reset_tokens ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE password_reset_tokens ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- Whether a mail's body is shown to superadmins only, decided when it is written (mail to a
-- superadmin). Mail from before this migration is treated as such.
ALTER TABLE outbox ADD COLUMN superadmins_only BOOLEAN NOT NULL DEFAULT TRUE;

-- What deleted users administered, and the history of deleted domains, would pass to the
-- next user or domain with the same id: they go with their owner from now on, and what is
-- left of them goes here.
DELETE FROM group_admins
WHERE identity_type = 'IT_User'
  AND NOT EXISTS (SELECT 1 FROM users u
                  WHERE u.domain_id = group_admins.domain_id AND u.user_id = group_admins.identity_id);
DELETE FROM group_admins
WHERE identity_type = 'IT_Group'
  AND NOT EXISTS (SELECT 1 FROM org_groups g
                  WHERE g.domain_id = group_admins.domain_id AND g.group_id = group_admins.identity_id);
DELETE FROM audit_log
WHERE NOT EXISTS (SELECT 1 FROM domains d WHERE d.domain_id = audit_log.domain_id);
DELETE FROM login_failures
WHERE NOT EXISTS (SELECT 1 FROM domains d WHERE d.domain_id = login_failures.domain_id);
