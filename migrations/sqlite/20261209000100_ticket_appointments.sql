-- A ticket that came in time for an appointment carries the slot's start (milliseconds since
-- the epoch): the service order (store::tickets::service_order, scheduler::queue::service_key)
-- serves it at its time, ahead of walk-ins. NULL for walk-ins and late arrivals.
ALTER TABLE tickets ADD COLUMN appointment_at INTEGER;
