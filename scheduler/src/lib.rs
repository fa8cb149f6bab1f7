//! `scheduler` owns videoreg's rules about time: the service calendar (opening windows in
//! Europe/Madrid wall-clock time, Spain's national holidays, extra closed dates and special
//! hours from configuration, the next opening), appointment slots and their capacity
//! ([`booking`]), the queue policy (admission before closing, the order of requeued,
//! appointment and walk-in tickets), wait-time estimation ([`estimate`]) and the supervisors'
//! figures and forecast ([`metrics`]). It does no I/O and never reads the clock on its own
//! behalf: every rule takes `now` as a parameter. The [`Clock`] it defines is what callers
//! (the web server, the signaling hub) read to obtain that `now`, so that tests can set time
//! for the whole server.

pub mod booking;
mod calendar;
mod clock;
mod error;
pub mod estimate;
mod holidays;
mod hours;
pub mod metrics;
mod queue;

pub use calendar::{Calendar, Window, local_date};
pub use clock::{Clock, scaled_time};
pub use error::Error;
pub use estimate::{
    Abandonment, Activity, AgentSnapshot, Calibration, Estimate, QueueEstimate, QueueSnapshot,
    ToldWait, WaitingCitizen, estimate_wait,
};
pub use holidays::{easter_sunday, national_holidays};
pub use hours::{DailyHours, SpecialHours};
pub use queue::{
    AtClosing, NORMAL_PRIORITY, QueuePolicy, REQUEUE_PRIORITY, Refusal, Standing, admit,
    in_service_order, mean_handle_time, service_key,
};

/// The time zone in which the service's hours are defined.
pub const SERVICE_TZ: chrono_tz::Tz = chrono_tz::Europe::Madrid;
