-- Presence: every serving node heartbeats in `nodes`; every live socket (a citizen following
-- a ticket, an agent's console) is a row of `connections` with its node. A node whose heartbeat
-- is older than the configured limit is declared lost by another node, once (state moves to
-- 'lost' in one UPDATE); a node that stops on SIGTERM ends as 'stopped'. The connections of a
-- lost node are then cleaned up one by one: each row is deleted in the transaction that marks
-- its citizen disconnected or its agent offline, so each is handled once.
-- Keep in step with migrations/postgres/20261206000100_presence.sql.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('serving', 'draining', 'stopped', 'lost')),
    ended_at     INTEGER,
    ended_by     TEXT
);
CREATE INDEX nodes_by_state ON nodes (state, heartbeat_at);

-- kind 'citizen': subject is the ticket id; kind 'agent': the staff user id.
CREATE TABLE connections (
    node_id   TEXT NOT NULL,
    conn_id   INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('citizen', 'agent')),
    subject   TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    PRIMARY KEY (node_id, conn_id)
);
CREATE INDEX connections_by_subject ON connections (kind, subject);
