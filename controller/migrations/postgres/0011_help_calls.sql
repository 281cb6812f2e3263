-- Calls for a mediator from the visitors' screens. A call row holds no session link and no
-- visitor data (the seat, a need from a closed list, its times); it lives while the call is
-- open or taken, ends with the call, and is purged two days after the call. Reports read
-- only the anonymous counts per site, local day and hour, and need.
CREATE TABLE help_calls (
    agent_id    TEXT NOT NULL REFERENCES agents(id),
    call_id     TEXT NOT NULL,
    site_id     TEXT NOT NULL,
    need        TEXT NOT NULL,
    called_at   BIGINT NOT NULL,
    taken_at    BIGINT,
    taken_by    TEXT,
    ended_at    BIGINT,
    PRIMARY KEY (agent_id, call_id)
);
CREATE INDEX help_calls_open ON help_calls(agent_id) WHERE ended_at IS NULL;

CREATE TABLE help_call_counts (
    site_id     TEXT NOT NULL,
    day         TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    need        TEXT NOT NULL,
    calls       BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, hour, need)
);
