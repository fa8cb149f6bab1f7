-- Appointments (issue "Cita previa"). A booking keeps the citizen's application (the verified
-- ID number and the test call) until the slot. reference is what the citizen is given;
-- browser_hash the SHA-256 of the booking cookie of the browser that booked (the same browser
-- needs no reference). status: booked (live), cancelled, kept (came in time), late (came after
-- the grace: joined as a walk-in), no_show. One live booking per ID number. booking_slots
-- counts the live bookings of each slot, so that a slot is filled atomically up to its
-- capacity (a conditional upsert) on both backends. Times are milliseconds since the epoch.
CREATE TABLE bookings (
    id             TEXT PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,
    id_number      TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    test_call      TEXT,
    lang           TEXT NOT NULL,
    slot_at        BIGINT NOT NULL,
    browser_hash   TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    settled_at     BIGINT,
    ticket_id      TEXT
);
CREATE UNIQUE INDEX bookings_one_live_per_id_number ON bookings (id_number) WHERE status = 'booked';
CREATE INDEX bookings_by_slot ON bookings (slot_at, status);
CREATE INDEX bookings_by_browser ON bookings (browser_hash);
CREATE TABLE booking_slots (
    slot_at BIGINT PRIMARY KEY,
    booked  BIGINT NOT NULL
);
