//! `agent_console` owns the staff side of videoreg: sign-in at `/staff/login`, staff sessions
//! and the role extractor, agent states, taking the next citizen, the verification checklist,
//! document stills, decisions with reason codes, and issuing the registration and activation
//! code. It never talks to citizens directly: that goes through `signaling`.
//!
//! Its routes arrive with the staff sign-in and agent console issues; the crate exists now so
//! that the dependency direction is fixed from the start.

pub use signaling;
