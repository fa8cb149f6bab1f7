-- The range the wait estimate's replay gave a citizen at joining, before recalibration, in
-- seconds: with told_estimate_secs and the real wait it is what scheduler::Calibration learns
-- from (docs/estimates.md, "Honest ranges"). NULL when no estimate was told.
ALTER TABLE tickets ADD COLUMN told_low_secs INTEGER;
ALTER TABLE tickets ADD COLUMN told_high_secs INTEGER;
