-- A recording file is sealed once. A file left under its temporary name by a node that
-- stopped while recording is sealed by the housekeeping round of whichever node finds it
-- first; nodes finding it at the same moment seal it once.
CREATE UNIQUE INDEX recordings_by_file ON recordings (file_name);
