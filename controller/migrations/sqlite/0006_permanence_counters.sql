-- What a permanence did, as its mediator records it: how many people were received and in
-- which procedure categories (the national mediators' closed list). Counts only, no names.
-- Kept 2 years.
CREATE TABLE permanence_counters (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id        TEXT NOT NULL REFERENCES sites(id),
    permanence     TEXT NOT NULL,
    day            TEXT NOT NULL,
    day_start      INTEGER NOT NULL,
    people         INTEGER NOT NULL,
    categories     TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL
);
CREATE INDEX permanence_counters_site_day ON permanence_counters(site_id, day_start);
