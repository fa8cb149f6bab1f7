-- The supervisors' figures and the daily report read a day at a time: tickets by when they
-- joined, audit events (agents' state changes, calls answered) by kind and time. Keep in step
-- with migrations/sqlite/20261126000005_supervisor_indexes.sql.

CREATE INDEX tickets_by_joined_at ON tickets (joined_at);
CREATE INDEX audit_events_by_action ON audit_events (action, at);
