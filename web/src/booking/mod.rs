//! Appointments (*cita previa*) as the citizen's pages and API see them: the reference a
//! citizen is given ([`BookingReference`]) and the calendar file ([`ics`]). Which slots
//! exist and how many each takes are `scheduler::booking`'s; bookings are stored by
//! `store::bookings`; joining the queue for an appointment is `signaling`'s.

pub mod ics;
mod reference;

pub use reference::BookingReference;
