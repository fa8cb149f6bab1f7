-- Verification on video: the registry's birth date, document stills, agents' decisions, one
-- registration per ID number, and the audit trail's hash chain. Keep in step with
-- migrations/sqlite/20261126000002_verification.sql.

ALTER TABLE identities ADD COLUMN birth_date TEXT;

-- A still captured from the citizen's video during a call, decoded and re-encoded (no
-- metadata survives) with a thumbnail; sha256 is the stored image's.
CREATE TABLE stills (
    id         TEXT PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets (id),
    kind       TEXT NOT NULL CHECK (kind IN ('document_front', 'document_back', 'face')),
    agent_id   TEXT NOT NULL REFERENCES staff_users (id),
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    image      BYTEA NOT NULL,
    thumbnail  BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stills_by_ticket ON stills (ticket_id, created_at);

-- An agent's decision on a call. checklist: the ticked item ids as a JSON array.
CREATE TABLE decisions (
    id              TEXT PRIMARY KEY,
    ticket_id       TEXT NOT NULL REFERENCES tickets (id),
    agent_id        TEXT NOT NULL REFERENCES staff_users (id),
    outcome         TEXT NOT NULL CHECK (outcome IN ('approved', 'rejected', 'aborted')),
    reason          TEXT,
    note            TEXT NOT NULL,
    checklist       TEXT NOT NULL,
    registration_id TEXT REFERENCES registrations (id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX decisions_by_ticket ON decisions (ticket_id);
CREATE INDEX decisions_by_time ON decisions (created_at);

CREATE UNIQUE INDEX registrations_one_per_id_number ON registrations (id_number);
CREATE UNIQUE INDEX activation_codes_by_hash ON activation_codes (code_hash);
CREATE INDEX activation_codes_by_registration ON activation_codes (registration_id);

-- The hash chain: each event's hash covers its fields and the previous event's hash (events
-- written before this migration have none). audit_head holds the newest link, so that
-- deleting the newest events shows too; appending locks it, one writer at a time.
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE TABLE audit_head (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    last_id   BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
