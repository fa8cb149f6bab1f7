-- Second review of sampled approvals (issue "Assurance on every call"). Agents with the
-- reviewer flag review other agents' approvals. An approval chosen for review gets a row here
-- in the decision's own transaction (sampled_for: sample, poor_quality or new_agent). A
-- reviewer confirms it or flags it with a reason code; a flag suspends the registration's
-- activation code until an auditor resolves it: cleared (the approval stands) or revoked (the
-- registration is void). Times are milliseconds since the epoch.
ALTER TABLE staff_users ADD COLUMN reviewer BIGINT NOT NULL DEFAULT 0;

CREATE TABLE reviews (
    ticket_id       TEXT PRIMARY KEY REFERENCES tickets (id),
    decision_id     TEXT NOT NULL REFERENCES decisions (id),
    registration_id TEXT NOT NULL REFERENCES registrations (id),
    agent_id        TEXT NOT NULL REFERENCES staff_users (id),
    sampled_for     TEXT NOT NULL,
    queued_at       BIGINT NOT NULL,
    reviewer_id     TEXT REFERENCES staff_users (id),
    reviewed_at     BIGINT,
    outcome         TEXT,
    reason          TEXT,
    note            TEXT,
    resolved_by     TEXT REFERENCES staff_users (id),
    resolved_at     BIGINT,
    resolution      TEXT
);
CREATE INDEX reviews_pending ON reviews (queued_at) WHERE outcome IS NULL;
CREATE INDEX reviews_by_registration ON reviews (registration_id);
CREATE INDEX reviews_by_agent ON reviews (agent_id, queued_at);
