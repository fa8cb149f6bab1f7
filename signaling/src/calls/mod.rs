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
//! Once the store write has committed, it stands: the steps after it never turn into an error
//! for whoever asked ([`told`]). A commit whose answer was lost with its connection is read
//! back before anyone is told anything ([`Lifecycle::settle`]). An offer is the one step that
//! must reach its agent: one that cannot is withdrawn at once (`offering`).
//!
//! This is where the recording's start and stop hook in.

mod ending;
mod lost;
pub mod media_route;
mod offering;
mod recording;
pub mod running;
mod taking;

pub use offering::Taken;
pub use taking::NO_ANSWER;

use std::future::Future;

use chrono::{DateTime, Utc};
use store::{AgentStatus, NewAuditEvent, Ticket, Tx};

use crate::protocol::ToCitizen;
use crate::queue_view::QueueView;
use crate::{Error, SignalingState, agent_state, deliver};

pub use ending::{Ending, Requeue};
pub use lost::{CONNECTION_LOST, SERVER_STOPPING};
pub use running::Calls;

/// Whether the call of `ticket` runs on this node and is being recorded (to tell a page that
/// reconnects).
pub fn recording_on(state: &SignalingState, ticket: &str) -> bool {
    recording::is_on(state, ticket)
}

/// Why the recording of `ticket`'s call, running on this node, will be incomplete, if it
/// will: for the decision to say so.
pub fn recording_trouble(
    state: &SignalingState,
    ticket: &str,
) -> Option<media::recorder::Incomplete> {
    recording::trouble(state, ticket)
}

/// Whether the citizen's side of `ticket`'s call, running on this node, is poor: more than
/// 5 % of packets lost or a round trip over 400 ms (the console's own threshold). `None` when
/// the call does not run here or nothing has been measured.
pub async fn citizen_side_poor(state: &SignalingState, ticket: &str) -> Option<bool> {
    let call = state.calls.get(ticket)?;
    let q = call.quality(media::Side::Citizen).await?;
    if q.packets == 0 {
        return None;
    }
    let loss = q.lost as f64 / (q.packets + q.lost) as f64;
    Some(loss > 0.05 || q.rtt_ms.is_some_and(|rtt| rtt > 400.0))
}

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

    /// Tells the agent its new state, arms the wrap-up timer, and announces the queue change;
    /// after a commit, so a failure is logged ([`told`]).
    async fn announce(&self, next: AgentNext<'_>) {
        let announced = agent_state::announce(self.state, next.agent, next.status, next.reason);
        told("the agent's state and the queue change", announced).await;
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

    /// A transition's commit, settled: when it failed because the connection was lost (the
    /// `COMMIT` may or may not have been written), `written` reads back on another
    /// connection whether it was. The commit's error when it was not, or cannot be read.
    async fn settle(
        &self,
        committed: Result<(), Error>,
        ticket: &str,
        written: impl Future<Output = Result<bool, Error>>,
    ) -> Result<(), Error> {
        let Err(e) = committed else {
            return Ok(());
        };
        if !e.is_unavailable() {
            return Err(e);
        }
        match written.await {
            Ok(true) => {
                tracing::warn!(error = %e, %ticket, "a commit's answer was lost; it was written");
                Ok(())
            }
            Ok(false) => Err(e),
            Err(read) => {
                tracing::warn!(error = %read, %ticket, "reading back a commit whose answer was lost");
                Err(e)
            }
        }
    }

    /// Whether the ticket, once no transaction holds it ([`store::Store::settled_ticket`]),
    /// satisfies `shows`: for [`Lifecycle::settle`].
    async fn ticket_shows(
        &self,
        ticket: &str,
        shows: impl Fn(&Ticket) -> bool,
    ) -> Result<bool, Error> {
        let read = self.state.store.settled_ticket(ticket).await?;
        Ok(read.is_some_and(|t| shows(&t)))
    }
}

/// Tells someone something after a transition committed. What was written stands, so a
/// failure here (the bus's database out of reach, say) is logged as a warning and never
/// returned to whoever asked for the transition.
async fn told(what: &str, sent: impl Future<Output = Result<(), Error>>) {
    if let Err(e) = sent.await {
        tracing::warn!(error = %e, "telling {what} after a committed transition");
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
