-- Commune store, SQLite. Instants are UTC milliseconds (INTEGER).
-- migrations/postgres/ holds the same schema for PostgreSQL; keep them in step.

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL DEFAULT 'Europe/Paris',
    created_at  INTEGER NOT NULL
);

-- Only the SHA-256 of a token's secret is stored.
CREATE TABLE enrollment_tokens (
    hash        BLOB PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT
);

CREATE TABLE agents (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites(id),
    hostname        TEXT NOT NULL DEFAULT '',
    cert_serial     TEXT NOT NULL,
    cert_not_after  INTEGER NOT NULL,
    enrolled_at     INTEGER NOT NULL,
    revoked_at      INTEGER,
    agent_version   TEXT NOT NULL DEFAULT ''
);

-- Narrow on purpose: rewritten often, in batches; nothing else lives here.
CREATE TABLE agent_last_seen (
    agent_id      TEXT PRIMARY KEY REFERENCES agents(id),
    last_seen_at  INTEGER NOT NULL,
    connected     BOOLEAN NOT NULL,
    seat_state    TEXT
);

CREATE TABLE health_snapshots (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id            TEXT NOT NULL REFERENCES agents(id),
    at                  INTEGER NOT NULL,
    received_at         INTEGER NOT NULL,
    cpu_percent         REAL NOT NULL,
    load_1              REAL NOT NULL,
    memory_used_bytes   INTEGER NOT NULL,
    memory_total_bytes  INTEGER NOT NULL,
    swap_used_bytes     INTEGER NOT NULL,
    swap_total_bytes    INTEGER NOT NULL,
    uptime_secs         INTEGER NOT NULL,
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
    received_at   INTEGER NOT NULL,
    hostname      TEXT NOT NULL,
    dmi_serial    TEXT,
    asset_tag     TEXT,
    funding_line  TEXT,
    body_json     TEXT NOT NULL
);

-- Every agent event, once: (agent_id, seq) is the delivery identity.
CREATE TABLE events (
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    seq          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    body_json    TEXT NOT NULL,
    PRIMARY KEY (agent_id, seq)
);
CREATE INDEX events_at ON events(at);

-- Highest contiguous seq committed per agent: what the controller acknowledges.
CREATE TABLE agent_acks (
    agent_id   TEXT PRIMARY KEY REFERENCES agents(id),
    acked_seq  INTEGER NOT NULL
);

-- The technical session log (CPCE R10-13: one year), derived from session events.
CREATE TABLE sessions (
    agent_id        TEXT NOT NULL REFERENCES agents(id),
    session_id      TEXT NOT NULL,
    site_id         TEXT NOT NULL,
    slot_kind       TEXT NOT NULL,
    permanence_id   TEXT,
    with_ticket     BOOLEAN NOT NULL,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT,
    duration_secs   INTEGER,
    PRIMARY KEY (agent_id, session_id)
);
CREATE INDEX sessions_started ON sessions(started_at);

-- Anonymous daily aggregates per seat, kept as long as FEDER evidence is needed.
CREATE TABLE seat_daily (
    agent_id             TEXT NOT NULL,
    day                  TEXT NOT NULL,
    site_id              TEXT NOT NULL,
    sessions             INTEGER NOT NULL,
    supervised_sessions  INTEGER NOT NULL,
    session_seconds      INTEGER NOT NULL,
    PRIMARY KEY (agent_id, day)
);

-- Staff commands: persisted, delivered at least once, executed once, result stored.
CREATE TABLE commands (
    id            TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL REFERENCES agents(id),
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    issued_by     TEXT NOT NULL,
    action_json   TEXT NOT NULL,
    delivered_at  INTEGER,
    outcome       TEXT,
    detail        TEXT,
    result_at     INTEGER
);
CREATE INDEX commands_pending ON commands(agent_id, outcome);
