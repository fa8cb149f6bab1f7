-- The citizen's consent to the call and its recording, given before queueing: when it was
-- given is kept with the ticket. Keep in step with migrations/sqlite/20261126000003_consent.sql.

ALTER TABLE tickets ADD COLUMN consent_at BIGINT;
