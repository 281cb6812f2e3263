-- Staff lifecycle: API tokens expire, and who opened each supervised slot from the dashboard
-- (a mediator extends or closes only the slots they opened).
--
-- A token without `expires_at` is refused. Tokens that exist at this migration get 90 days
-- from now, not from their creation: an upgrade must not stop IT's scripts without warning.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
UPDATE api_tokens SET expires_at = CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT) + 7776000000
    WHERE expires_at IS NULL;
CREATE INDEX api_tokens_login ON api_tokens(login);
CREATE INDEX staff_sessions_login ON staff_sessions(login);
CREATE TABLE slot_openers (
    site_id    TEXT NOT NULL REFERENCES sites(id),
    slot_id    TEXT NOT NULL,
    login      TEXT NOT NULL,
    opened_at  BIGINT NOT NULL,
    PRIMARY KEY (site_id, slot_id)
);
