-- Commune store, PostgreSQL. Instants are UTC milliseconds (BIGINT).
-- migrations/sqlite/ holds the same schema for SQLite; keep them in step.

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL DEFAULT 'Europe/Paris',
    created_at  BIGINT NOT NULL
);

-- Only the SHA-256 of a token's secret is stored.
CREATE TABLE enrollment_tokens (
    hash        BYTEA PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    used_by     TEXT
);

CREATE TABLE agents (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites(id),
    hostname        TEXT NOT NULL DEFAULT '',
    cert_serial     TEXT NOT NULL,
    cert_not_after  BIGINT NOT NULL,
    enrolled_at     BIGINT NOT NULL,
    revoked_at      BIGINT,
    agent_version   TEXT NOT NULL DEFAULT ''
);

-- Narrow on purpose: rewritten often, in batches; nothing else lives here.
CREATE TABLE agent_last_seen (
    agent_id      TEXT PRIMARY KEY REFERENCES agents(id),
    last_seen_at  BIGINT NOT NULL,
    connected     BOOLEAN NOT NULL,
    seat_state    TEXT
);

CREATE TABLE health_snapshots (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id            TEXT NOT NULL REFERENCES agents(id),
    at                  BIGINT NOT NULL,
    received_at         BIGINT NOT NULL,
    cpu_percent         DOUBLE PRECISION NOT NULL,
    load_1              DOUBLE PRECISION NOT NULL,
    memory_used_bytes   BIGINT NOT NULL,
    memory_total_bytes  BIGINT NOT NULL,
    swap_used_bytes     BIGINT NOT NULL,
    swap_total_bytes    BIGINT NOT NULL,
    uptime_secs         BIGINT NOT NULL,
    disks_json          TEXT NOT NULL,
    temperatures_json   TEXT NOT NULL,
    os                  TEXT NOT NULL,
    kernel              TEXT NOT NULL,
    agent_version       TEXT NOT NULL
);
CREATE INDEX health_snapshots_agent ON health_snapshots(agent_id, id);
CREATE INDEX health_snapshots_at ON health_snapshots(at);

-- The latest inventory per agent; replaced when a new one arrives (hourly).
CREATE TABLE inventories (
    agent_id      TEXT PRIMARY KEY REFERENCES agents(id),
    received_at   BIGINT NOT NULL,
    hostname      TEXT NOT NULL,
    dmi_serial    TEXT,
    asset_tag     TEXT,
    funding_line  TEXT,
    body_json     TEXT NOT NULL
);

-- Every agent event, once: (agent_id, seq) is the delivery identity.
CREATE TABLE events (
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    seq          BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    body_json    TEXT NOT NULL,
    PRIMARY KEY (agent_id, seq)
);
CREATE INDEX events_at ON events(at);

-- Highest contiguous seq committed per agent: what the controller acknowledges.
CREATE TABLE agent_acks (
    agent_id   TEXT PRIMARY KEY REFERENCES agents(id),
    acked_seq  BIGINT NOT NULL
);

-- The technical session log (CPCE R10-13: one year), derived from session events.
CREATE TABLE sessions (
    agent_id        TEXT NOT NULL REFERENCES agents(id),
    session_id      TEXT NOT NULL,
    site_id         TEXT NOT NULL,
    slot_kind       TEXT NOT NULL,
    permanence_id   TEXT,
    with_ticket     BOOLEAN NOT NULL,
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    end_reason      TEXT,
    duration_secs   BIGINT,
    PRIMARY KEY (agent_id, session_id)
);
CREATE INDEX sessions_started ON sessions(started_at);

-- Anonymous daily aggregates per seat, kept as long as FEDER evidence is needed.
CREATE TABLE seat_daily (
    agent_id             TEXT NOT NULL,
    day                  TEXT NOT NULL,
    site_id              TEXT NOT NULL,
    sessions             BIGINT NOT NULL,
    supervised_sessions  BIGINT NOT NULL,
    session_seconds      BIGINT NOT NULL,
    PRIMARY KEY (agent_id, day)
);

-- Staff commands: persisted, delivered at least once, executed once, result stored.
CREATE TABLE commands (
    id            TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL REFERENCES agents(id),
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    issued_by     TEXT NOT NULL,
    action_json   TEXT NOT NULL,
    delivered_at  BIGINT,
    outcome       TEXT,
    detail        TEXT,
    result_at     BIGINT
);
CREATE INDEX commands_pending ON commands(agent_id, outcome);
