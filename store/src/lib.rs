//! `store` owns videoreg's persistence: one sqlx pool that speaks SQLite (the embedded
//! default, a file under `./data/`) or PostgreSQL (`postgres://…`, for many nodes), the
//! embedded migrations for both, and the repository functions for identity records,
//! applications, appointments (`bookings`), queue tickets, staff users and sessions,
//! registrations, activation codes, citizen credentials, which nodes are alive and which
//! sockets each holds (`presence`), the counters that limit failed attempts (`throttle`),
//! document stills, call recordings' metadata, legal holds and what retention deleted
//! (`retention`), liveness challenges, second reviews of approvals, decisions and the
//! hash-chained audit trail; and [`Tx`], the transaction in which a call's step, the agent's
//! state and the audit events describing them are written together. It holds no rules: it
//! stores and fetches, atomically where asked; callers pass `now` in.
//!
//! Instants are stored as milliseconds since the Unix epoch (`BIGINT`) so that one SQL text
//! serves both backends through sqlx's `Any` driver.

mod agent_calls;
mod agents;
mod applications;
mod audit;
mod audit_verify;
mod bookings;
mod bus;
mod challenges;
mod citizens;
mod db;
mod decisions;
mod error;
mod identities;
#[cfg(feature = "testing")]
pub mod outage_proxy;
mod presence;
mod recordings;
mod reports;
mod retention;
mod reviews;
pub mod sealing;
pub mod secrets;
mod staff;
mod staff_secrets;
mod stills;
mod test_calls;
#[cfg(feature = "testing")]
pub mod testing;
mod throttle;
mod tickets;
mod tx;

pub use agents::{AgentState, AgentStatus};
pub use applications::{Application, NewApplication};
pub use audit::{AuditEvent, GENESIS_HASH, NewAuditEvent, link_hash};
pub use audit_verify::{AuditAnchor, BrokenLink, ChainReport};
pub use bookings::{BookOutcome, Booking, NewBooking};
pub use bus::{BusListener, BusMessage};
pub use challenges::{Challenge, NewChallenge};
pub use citizens::{
    Activation, AttemptKind, CitizenCredential, CitizenRegistration, NewActivation, StoredCode,
};
pub use db::{Backend, Store, StoreOptions};
pub use decisions::{Decision, NewDecision, NewRegistration, Outcome, Recorded};
pub use error::Error;
pub use identities::{IdentityKind, IdentityRecord};
pub use presence::{Connection, ConnectionKind, LostNode, NodeState, OrphanConnection};
pub use recordings::{NewRecording, Recording};
pub use reports::ReportTicket;
pub use retention::{DueStill, LegalHold};
pub use reviews::{NewReview, Review, ReviewCounts};
pub use staff::{
    NewStaffSession, RenewedSession, SessionStage, StaffRole, StaffSession, StaffUser,
};
pub use stills::{NewStill, Still, StillKind, StillQuality};
pub use throttle::{Throttle, ThrottleScope, pair_subject};
pub use tickets::{NewTicket, QueueAbandonment, RecentCall, Ticket, TicketStatus, ToldWait};
pub use tx::Tx;

/// Result type of every store function.
pub type Result<T, E = Error> = std::result::Result<T, E>;
