//! The end of a call: put back in the queue, ended by either side or by the citizen's
//! absence, or decided by the agent.

use chrono::{DateTime, Utc};
use scheduler::REQUEUE_PRIORITY;
use store::{AgentStatus, NewAuditEvent, NewDecision, Recorded, Ticket, TicketStatus};

use super::{AgentNext, Events, Lifecycle, running, told, write_agent};
use crate::outcome::CallOutcome;
use crate::protocol::{ToAgent, ToCitizen};
use crate::{Error, deliver};

/// How a held ticket goes back to the head of the queue.
#[derive(Debug, Clone, Copy)]
pub enum Requeue {
    /// The agent sent it back (`requeue`).
    ByAgent,
    /// The agent hung up before accepting.
    HungUpBeforeAccepting,
    /// The agent's last console closed: the agent goes offline.
    AgentLeft,
}

/// Who ended a call in progress.
#[derive(Debug, Clone, Copy)]
pub enum Ending {
    /// The citizen hung up.
    CitizenHungUp,
    /// The agent hung up.
    AgentHungUp,
}

impl Lifecycle<'_> {
    /// Puts the ticket `agent` holds back at the head of the queue; the agent becomes
    /// available (or offline when it left) and is told, and so is the citizen.
    pub async fn requeue(&self, agent: &str, held: &Ticket, how: Requeue) -> Result<(), Error> {
        let s = self.state;
        let now = self.now();
        let (action, actor, told_agent, status) = match how {
            Requeue::ByAgent => (
                "ticket.requeued",
                agent,
                Some("requeued"),
                AgentStatus::Available,
            ),
            Requeue::HungUpBeforeAccepting => (
                "ticket.hung_up",
                agent,
                Some("hang_up"),
                AgentStatus::Available,
            ),
            Requeue::AgentLeft => ("ticket.agent_left", "system", None, AgentStatus::Offline),
        };
        let mut tx = s.store.begin().await?;
        let mut events = Events::new(now);
        let requeued = tx.requeue_ticket(&held.id, REQUEUE_PRIORITY).await?;
        if requeued {
            events.add(actor, action, &held.id, serde_json::json!({}));
        }
        let next = AgentNext {
            agent,
            status,
            reason: None,
            actor,
        };
        write_agent(&mut tx, &mut events, next).await?;
        let committed = events.commit(tx).await;
        let written = self.ticket_shows(&held.id, |read| read.agent_id.as_deref() != Some(agent));
        self.settle(committed, &held.id, written).await?;
        running::end(s, &held.id).await;
        if let Some(reason) = told_agent {
            let ended = ToAgent::CallEnded {
                reason: reason.into(),
            };
            told(
                "the agent its call ended",
                deliver::to_agent(s, agent, &ended),
            )
            .await;
        }
        if requeued {
            told(
                "the citizen its new place",
                self.tell_requeued(&held.id, None),
            )
            .await;
        }
        self.announce(next).await;
        Ok(())
    }

    /// Ends a call in progress without a decision; the agent goes to wrap-up. False when it
    /// was not in progress (any more).
    pub async fn end(&self, held: &Ticket, how: Ending) -> Result<bool, Error> {
        let s = self.state;
        let now = self.now();
        let Some(agent) = held.agent_id.as_deref() else {
            return Ok(false);
        };
        // The ticket's step is the citizen's or the agent's; the agent's state is then changed
        // by the system or by the agent.
        let (outcome, action, actor, agent_actor, citizen_told, agent_told) = match how {
            Ending::CitizenHungUp => (
                "citizen_hung_up",
                "ticket.citizen_hung_up",
                "citizen",
                "system",
                "citizen_hung_up",
                "citizen_left",
            ),
            Ending::AgentHungUp => (
                "hung_up",
                "ticket.hung_up",
                agent,
                agent,
                "hang_up",
                "hang_up",
            ),
        };
        let mut tx = s.store.begin().await?;
        let mut events = Events::new(now);
        if !tx.end_ticket(&held.id, now, outcome).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        events.add(actor, action, &held.id, serde_json::json!({}));
        let next = AgentNext {
            agent,
            status: AgentStatus::WrapUp,
            reason: None,
            actor: agent_actor,
        };
        write_agent(&mut tx, &mut events, next).await?;
        let committed = events.commit(tx).await;
        let written = self.ticket_shows(&held.id, |read| read.status == TicketStatus::Done);
        self.settle(committed, &held.id, written).await?;
        if let Some(answered) = held.answered_at {
            s.telemetry.call_ended(answered, now);
        }
        running::end(s, &held.id).await;
        let m = ToCitizen::CallEnded {
            reason: citizen_told.into(),
        };
        told(
            "the citizen its call ended",
            deliver::to_citizen(s, &held.id, &m),
        )
        .await;
        let ended = ToAgent::CallEnded {
            reason: agent_told.into(),
        };
        told(
            "the agent its call ended",
            deliver::to_agent(s, agent, &ended),
        )
        .await;
        self.announce(next).await;
        Ok(true)
    }

    /// Calls (offered or in progress) whose citizen has been disconnected longer than the
    /// grace period at `now` end as `citizen_left`; their agents go to wrap-up (or, before
    /// accepting, become available).
    pub async fn end_abandoned_calls(&self, now: DateTime<Utc>) -> Result<(), Error> {
        let s = self.state;
        let cutoff = now - s.grace;
        for held in s.store.disconnected_calls(cutoff).await? {
            let mut tx = s.store.begin().await?;
            let mut events = Events::new(now);
            if !tx.end_disconnected_call(&held.id, cutoff, now).await? {
                tx.rollback().await?;
                continue;
            }
            let detail = serde_json::json!({ "agent": held.agent_id });
            events.add("system", "ticket.citizen_gone", &held.id, detail);
            let next = held.agent_id.as_deref().map(|agent| AgentNext {
                agent,
                status: if held.answered_at.is_some() {
                    AgentStatus::WrapUp
                } else {
                    AgentStatus::Available
                },
                reason: None,
                actor: "system",
            });
            if let Some(next) = next {
                write_agent(&mut tx, &mut events, next).await?;
            }
            events.commit(tx).await?;
            if let Some(answered) = held.answered_at {
                s.telemetry.call_ended(answered, now);
            }
            running::end(s, &held.id).await;
            if let Some(next) = next {
                let ended = ToAgent::CallEnded {
                    reason: "citizen_left".into(),
                };
                let sent = deliver::to_agent(s, next.agent, &ended);
                told("the agent its citizen left", sent).await;
                self.announce(next).await;
            }
        }
        Ok(())
    }

    /// Records the agent's decision (with the registration and activation code of an
    /// approval, see `store`), ends the call or puts the citizen back (abort), tells both
    /// sides and starts the agent's wrap-up. Nothing is written unless it is
    /// [`Recorded::Done`]; once it is, a failure to tell someone is logged, not undone.
    pub async fn decide(
        &self,
        decision: &NewDecision<'_>,
        event: &NewAuditEvent<'_>,
        outcome: CallOutcome,
    ) -> Result<Recorded, Error> {
        let s = self.state;
        let (ticket, agent, now) = (decision.ticket_id, decision.agent_id, decision.at);
        let mut tx = s.store.begin().await?;
        let mut events = Events::new(now);
        let recorded = tx.record_decision(decision).await?;
        let Recorded::Done { answered_at, .. } = &recorded else {
            tx.rollback().await?;
            return Ok(recorded);
        };
        let next = AgentNext {
            agent,
            status: AgentStatus::WrapUp,
            reason: None,
            actor: agent,
        };
        events.add_made(event);
        write_agent(&mut tx, &mut events, next).await?;
        let committed = events.commit(tx).await;
        self.settle(committed, ticket, self.decision_written(decision))
            .await?;
        let (kind, reason) = outcome.kind_and_reason();
        s.telemetry.decided(kind, reason);
        if let (false, Some(answered)) =
            (matches!(outcome, CallOutcome::Aborted { .. }), answered_at)
        {
            s.telemetry.call_ended(*answered, now);
        }
        running::end(s, ticket).await;
        self.tell_outcome(ticket, agent, outcome, next).await;
        Ok(recorded)
    }

    /// Whether `decision` was written, once its transaction no longer holds the ticket: for
    /// [`Lifecycle::settle`].
    async fn decision_written(&self, decision: &NewDecision<'_>) -> Result<bool, Error> {
        let store = &self.state.store;
        store.settled_ticket(decision.ticket_id).await?;
        let written = store.decisions_for_ticket(decision.ticket_id).await?;
        Ok(written.iter().any(|d| d.id == decision.id))
    }

    /// Tells the citizen and the agent a decision's outcome, after it committed.
    async fn tell_outcome(
        &self,
        ticket: &str,
        agent: &str,
        outcome: CallOutcome,
        next: AgentNext<'_>,
    ) {
        let (kind, _) = outcome.kind_and_reason();
        match outcome {
            CallOutcome::Aborted { reason } => {
                let requeued = self.tell_requeued(ticket, Some(&reason));
                told("the citizen its new place", requeued).await;
            }
            other => {
                if let Some(m) = other.for_citizen() {
                    let sent = deliver::to_citizen(self.state, ticket, &m);
                    told("the citizen the outcome", sent).await;
                }
            }
        }
        let ended = ToAgent::CallEnded {
            reason: kind.into(),
        };
        told(
            "the agent its call ended",
            deliver::to_agent(self.state, agent, &ended),
        )
        .await;
        self.announce(next).await;
    }
}
