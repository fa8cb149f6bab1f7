-- videoreg initial schema (SQLite). Instants are INTEGER milliseconds since the Unix epoch
-- (UTC); dates are TEXT YYYY-MM-DD; flags are INTEGER 0/1. Keep in step with
-- migrations/postgres/20261126000001_initial.sql.

CREATE TABLE identities (
    id_number      TEXT PRIMARY KEY CHECK (length(id_number) = 9),
    kind           TEXT NOT NULL CHECK (kind IN ('dni', 'nie')),
    full_name      TEXT NOT NULL CHECK (length(full_name) > 0),
    valid_until    TEXT,
    issued_on      TEXT,
    support_number TEXT,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE applications (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    id_number   TEXT NOT NULL REFERENCES identities (id_number),
    client_addr TEXT NOT NULL,
    test_call   TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX applications_by_id_number ON applications (id_number);

-- A finished test call: its result (JSON, measured by the browser and by the server), kept
-- under a token the application must present; single use, short-lived.
CREATE TABLE test_calls (
    token_hash TEXT PRIMARY KEY,
    result     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE verification_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    id_number   TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX verification_failures_by_id ON verification_failures (id_number, at);
CREATE INDEX verification_failures_by_addr ON verification_failures (client_addr, at);

-- A citizen's place in the queue; `seq` orders arrivals (joined_at may tie). status: waiting -> offered (claimed by an agent) -> in_call
-- -> done; or waiting -> left / expired. An offered or in-call ticket put back returns to
-- waiting with a higher priority.
CREATE TABLE tickets (
    id                 TEXT PRIMARY KEY,
    seq                INTEGER NOT NULL UNIQUE,
    application_id     TEXT NOT NULL REFERENCES applications (id),
    id_number          TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'in_call', 'done', 'left', 'expired')),
    priority           INTEGER NOT NULL DEFAULT 0,
    joined_at          INTEGER NOT NULL,
    told_estimate_secs INTEGER,
    resume_token_hash  TEXT NOT NULL UNIQUE,
    disconnected_at    INTEGER,
    agent_id           TEXT,
    offered_at         INTEGER,
    answered_at        INTEGER,
    ended_at           INTEGER,
    outcome            TEXT
);
CREATE UNIQUE INDEX tickets_one_live_per_id_number ON tickets (id_number)
    WHERE status IN ('waiting', 'offered', 'in_call');
CREATE INDEX tickets_queue_order ON tickets (status, priority DESC, seq);

CREATE TABLE staff_users (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'auditor')),
    password_hash  TEXT NOT NULL,
    totp_secret    TEXT,
    totp_last_step INTEGER,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- Failed sign-ins by the name typed (whether or not it exists) and by client address.
-- Rows for a name are deleted on its successful sign-in or an administrator's reset.
CREATE TABLE staff_login_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name   TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX staff_login_failures_by_name ON staff_login_failures (user_name, at);
CREATE INDEX staff_login_failures_by_addr ON staff_login_failures (client_addr, at);

-- stage: 'password' (second factor pending) or 'full'.
CREATE TABLE staff_sessions (
    id_hash             TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES staff_users (id),
    stage               TEXT NOT NULL CHECK (stage IN ('password', 'full')),
    csrf_token          TEXT NOT NULL,
    pending_totp_secret TEXT,
    client_addr         TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL
);
CREATE INDEX staff_sessions_by_user ON staff_sessions (user_id);

-- Each agent's current state: available, in_call, wrap_up, break (with a reason), offline.
CREATE TABLE agent_states (
    user_id TEXT PRIMARY KEY REFERENCES staff_users (id),
    state   TEXT NOT NULL CHECK (state IN ('available', 'in_call', 'wrap_up', 'break', 'offline')),
    reason  TEXT,
    since   INTEGER NOT NULL
);

CREATE TABLE registrations (
    id             TEXT PRIMARY KEY,
    id_number      TEXT NOT NULL REFERENCES identities (id_number),
    application_id TEXT NOT NULL REFERENCES applications (id),
    level          TEXT NOT NULL CHECK (level IN ('basic')),
    agent_id       TEXT NOT NULL REFERENCES staff_users (id),
    created_at     INTEGER NOT NULL
);

CREATE TABLE activation_codes (
    id              TEXT PRIMARY KEY,
    registration_id TEXT NOT NULL REFERENCES registrations (id),
    code_hash       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);

CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_events_by_subject ON audit_events (subject, at);

-- Cross-node messages too large for a PostgreSQL notification: the notification carries the id.
CREATE TABLE bus_payloads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
