-- Limits on failed attempts as counters: one row per limit and subject (an ID number, a client
-- address, a staff name, an ID number and address together), counted with one atomic upsert
-- so that concurrent attempts count exactly. failures: consecutive failures since the last
-- success, reset or quiet spell; next_at: the first instant another attempt is admitted
-- (milliseconds, 0 = now). Rows quiet for longer than their limit remembers are pruned.
-- Keep in step with migrations/postgres/20261129000100_throttle.sql.
CREATE TABLE throttles (
    scope      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    failures   INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX throttles_by_updated_at ON throttles (updated_at);

-- An ID number and a client address from which that citizen signed in or activated: there the
-- ID number's own back-off (which strangers can provoke) does not apply.
CREATE TABLE citizen_trusted_addresses (
    id_number   TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (id_number, client_addr)
);

-- Staff names keep their consecutive failures (and so a lock already reached).
INSERT INTO throttles (scope, subject, failures, next_at, updated_at)
SELECT 'staff_name', user_name, COUNT(*), 0, MAX(at) FROM staff_login_failures GROUP BY user_name;

-- The old rows: per-attempt logs read by limits that now count in throttles. The lock for life
-- they led to is gone; every failure stays in the audit trail.
DROP TABLE staff_login_failures;
DROP TABLE activation_failures;
DROP TABLE verification_failures;

-- How many contrast checks a passed test call has been used for (at most a few).
ALTER TABLE test_calls ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
