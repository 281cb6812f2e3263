-- A site's time-slot model (opening hours, closures, permanences, ad-hoc supervised slots,
-- the free-access rule), as validated JSON of `commune_protocol::slots::SiteSchedule`.
-- `version` grows with every change; agents keep the newest schedule they receive.
CREATE TABLE site_schedules (
    site_id     TEXT PRIMARY KEY REFERENCES sites(id),
    version     BIGINT NOT NULL,
    body_json   TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
