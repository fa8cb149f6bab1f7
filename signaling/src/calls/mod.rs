//! A call's life in one place. Every change to a ticket an agent holds goes through
//! [`Lifecycle`]: taking the next citizen (the offer), an offer that lapses, accepting,
//! requeueing, ending (either side hanging up, the citizen gone past the grace period) and the
//! agent's decision (approve, reject, or abort back to the queue). Each transition does, in
//! this order:
//!
//! 1. the store write: the ticket's step and the agent's new state, with the audit events
//!    describing both, in one transaction ([`store::Tx`]);
//! 2. telemetry, from values the transition already holds (no re-reading);
//! 3. the media: started on accept, torn down on every end or requeue ([`running`]);
//! 4. the messages to both sides, then the queue-changed notice.
//!
//! This is where the recording's start and stop hook in.

mod ending;
mod lost;
pub mod running;
mod taking;

pub use taking::{NO_ANSWER, offered_message};

use chrono::{DateTime, Utc};
use store::{AgentStatus, NewAuditEvent, Tx};

use crate::protocol::ToCitizen;
use crate::queue_view::QueueView;
use crate::{Error, SignalingState, agent_state, deliver};

pub use ending::{Ending, Requeue};
pub use lost::{CONNECTION_LOST, SERVER_STOPPING};
pub use running::{Calls, citizen_media, handle_citizen_media};

/// The transitions of a call, over one server state. Cheap: it only borrows the state.
#[derive(Debug, Clone, Copy)]
pub struct Lifecycle<'a> {
    state: &'a SignalingState,
}

impl SignalingState {
    /// The one way to change a call.
    pub fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle { state: self }
    }
}

/// An agent's state after a transition, written in its transaction and told afterwards.
#[derive(Debug, Clone, Copy)]
struct AgentNext<'a> {
    /// The agent.
    agent: &'a str,
    /// The new state.
    status: AgentStatus,
    /// Why (a break's reason).
    reason: Option<&'a str>,
    /// Who changed it: the agent, or `system`.
    actor: &'a str,
}

/// The audit events of one transition. They are appended after the transition's other
/// writes, when it commits ([`Events::commit`]): appending locks the chain's head, so a
/// transaction holding it must not then wait for a ticket or agent row (on PostgreSQL, two
/// transitions locking in opposite orders would deadlock).
struct Events {
    now: DateTime<Utc>,
    list: Vec<Event>,
}

struct Event {
    actor: String,
    action: String,
    subject: String,
    detail: String,
}

impl Events {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            list: Vec::new(),
        }
    }

    /// Adds an event (`actor`: a staff user id, `citizen` or `system`).
    fn add(&mut self, actor: &str, action: &str, subject: &str, detail: serde_json::Value) {
        self.list.push(Event {
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail: detail.to_string(),
        });
    }

    /// Adds an event made by the caller (a decision's).
    fn add_made(&mut self, e: &NewAuditEvent<'_>) {
        self.list.push(Event {
            actor: e.actor.to_owned(),
            action: e.action.to_owned(),
            subject: e.subject.to_owned(),
            detail: e.detail.to_owned(),
        });
    }

    /// Appends every event, then commits: the writes and their events, or nothing.
    async fn commit(self, mut tx: Tx) -> Result<(), Error> {
        for e in &self.list {
            tx.audit(&NewAuditEvent {
                at: self.now,
                actor: &e.actor,
                action: &e.action,
                subject: &e.subject,
                detail: &e.detail,
            })
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Lifecycle<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.state.clock.now()
    }

    /// Tells the agent its new state, arms the wrap-up timer, and announces the queue change.
    async fn announce(&self, next: AgentNext<'_>) -> Result<(), Error> {
        agent_state::announce(self.state, next.agent, next.status, next.reason).await
    }

    /// Tells a citizen who was put back in the queue where they are now.
    async fn tell_requeued(&self, ticket: &str, reason: Option<&str>) -> Result<(), Error> {
        let view = QueueView::load(self.state).await?;
        let position = view.position_of(ticket).map_or(1, |(p, _)| p);
        let m = ToCitizen::Requeued {
            position,
            reason: reason.map(str::to_owned),
        };
        deliver::to_citizen(self.state, ticket, &m).await
    }
}

/// Writes an agent's new state in `tx`, with its event.
async fn write_agent(tx: &mut Tx, events: &mut Events, next: AgentNext<'_>) -> Result<(), Error> {
    tx.set_agent_state(next.agent, next.status, next.reason, events.now)
        .await?;
    let detail = serde_json::json!({ "state": next.status.as_str(), "reason": next.reason });
    events.add(next.actor, "agent.state", next.agent, detail);
    Ok(())
}
