-- Citizen accounts: the Permanent Cl@ve password a citizen sets with an activation code, and
-- the failed attempts (activation, sign-in, receipt) that limit guessing. Keep in step with
-- migrations/postgres/20261126000004_citizen_accounts.sql.

-- One credential per citizen: an argon2id PHC string. Re-activating with a new code replaces it.
CREATE TABLE citizen_credentials (
    id_number     TEXT PRIMARY KEY REFERENCES identities (id_number),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- A wrong activation code, password or receipt code for an ID number, from an address.
-- kind: which form failed (all count toward the same limits).
CREATE TABLE activation_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    id_number   TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('activation', 'login', 'receipt')),
    at          INTEGER NOT NULL
);
CREATE INDEX activation_failures_by_id ON activation_failures (id_number, at);
CREATE INDEX activation_failures_by_addr ON activation_failures (client_addr, at);
