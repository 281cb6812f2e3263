-- Sites, enrollment, agents, health and events. Instants are UTC milliseconds (INTEGER).

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
    connected     INTEGER NOT NULL
);

CREATE TABLE health_snapshots (
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
CREATE INDEX health_snapshots_agent_at ON health_snapshots(agent_id, at DESC);

-- The latest inventory per agent; replaced when a new one arrives.
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

-- Highest contiguous seq committed per agent: what the controller acknowledges.
CREATE TABLE agent_acks (
    agent_id   TEXT PRIMARY KEY REFERENCES agents(id),
    acked_seq  INTEGER NOT NULL
);
