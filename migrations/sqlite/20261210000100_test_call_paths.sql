-- The network path a test call's media took, as the citizen's browser reported it from its
-- selected ICE candidate pair: udp, tcp (straight to videoreg), turn_udp, turn_tcp or
-- turn_tls (through a TURN relay). NULL for test calls kept before this column, or from a
-- browser that reported none. The supervisors' dashboard counts today's by path.
ALTER TABLE test_calls ADD COLUMN path TEXT;
CREATE INDEX test_calls_created_at ON test_calls (created_at);
