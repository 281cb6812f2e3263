-- API tokens narrowed at creation: a role no higher than their account's (`scope_role`), and
-- some of the account's sites (`scope_sites`, a JSON array of site ids). NULL: the account's
-- own role or sites, so tokens created before this migration keep their account's full rights.
ALTER TABLE api_tokens ADD COLUMN scope_role TEXT;
ALTER TABLE api_tokens ADD COLUMN scope_sites TEXT;
