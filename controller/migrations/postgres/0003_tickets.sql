-- Free-access tickets: only the SHA-256 of each code. Deleted 24 h after they expire.
CREATE TABLE tickets (
    hash          TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites(id),
    minutes       BIGINT NOT NULL,
    valid_until   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- First use as the controller heard of it.
    used_at       BIGINT,
    used_by       TEXT,
    used_session  TEXT,
    -- Used again, by another session, while seats were offline: accepted there, flagged here.
    double_use    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_site ON tickets(site_id, valid_until);
