-- Staff accounts, their sites, their browser sessions, API tokens for IT's scripts, and the
-- audit log of every staff action (kept 12 months). Secrets are stored hashed: passwords
-- with Argon2, session and API tokens as SHA-256 of 256-bit random values.
CREATE TABLE staff_users (
    login          TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    disabled_at    INTEGER
);
CREATE TABLE staff_user_sites (
    login    TEXT NOT NULL REFERENCES staff_users(login),
    site_id  TEXT NOT NULL REFERENCES sites(id),
    PRIMARY KEY (login, site_id)
);
CREATE TABLE staff_sessions (
    token_hash  TEXT PRIMARY KEY,
    login       TEXT NOT NULL REFERENCES staff_users(login),
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    login       TEXT NOT NULL REFERENCES staff_users(login),
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    site_id  TEXT,
    detail   TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
