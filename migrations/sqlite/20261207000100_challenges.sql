-- Liveness challenges (issue "Assurance on every call"): during a call the agent issues a
-- random code and action; the citizen types the code (checked here) or says it (the agent
-- confirms). code_hash is the SHA-256 of "ticket:code", so a code is never issued twice in one
-- call. outcome is NULL while live, then passed, failed (three wrong codes) or replaced (a newer
-- challenge); how is typed or heard. Times are milliseconds since the epoch.
CREATE TABLE challenges (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT NOT NULL REFERENCES tickets (id),
    agent_id    TEXT NOT NULL REFERENCES staff_users (id),
    code_hash   TEXT NOT NULL,
    action      TEXT NOT NULL,
    answer      TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    shown_at    INTEGER,
    answered_at INTEGER,
    outcome     TEXT,
    how         TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX challenges_by_ticket ON challenges (ticket_id, issued_at);
