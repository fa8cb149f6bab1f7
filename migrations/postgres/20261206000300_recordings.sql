-- Call recordings (issue "Evidence"): the files live under --recordings-dir, named by
-- file_name (relative to it); the row keeps what was sealed in the audit chain when the file
-- was closed. complete = 0 when the recording missed part of the call (incomplete_reason says
-- why: a disk error, a full queue). purged_at is set, with a tombstone in the audit chain, when
-- retention deleted the file.
CREATE TABLE recordings (
    id                TEXT PRIMARY KEY,
    ticket_id         TEXT NOT NULL REFERENCES tickets (id),
    file_name         TEXT NOT NULL,
    sha256            TEXT NOT NULL,
    bytes             BIGINT NOT NULL,
    duration_ms       BIGINT NOT NULL,
    tracks            TEXT NOT NULL,
    complete          BIGINT NOT NULL,
    incomplete_reason TEXT,
    started_at        BIGINT NOT NULL,
    ended_at          BIGINT NOT NULL,
    purged_at         BIGINT
);
CREATE INDEX recordings_by_ticket ON recordings (ticket_id);
CREATE INDEX recordings_kept_by_end ON recordings (ended_at) WHERE purged_at IS NULL;

-- Stills past retention keep their row (id, hash, who, when) without their bytes.
ALTER TABLE stills ADD COLUMN purged_at BIGINT;

-- A decision an auditor has put on legal hold: its recordings and stills are never purged
-- while the hold stands.
CREATE TABLE legal_holds (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
    held_by   TEXT NOT NULL REFERENCES staff_users (id),
    reason    TEXT NOT NULL,
    held_at   BIGINT NOT NULL
);
