//! Taking the next citizen: the claim, and the offer its agent must be told of. A claim is
//! committed and told, or undone. The agent asked over its own socket on this node, so an
//! offer that none of its connections here takes means they are gone: the claim is withdrawn
//! at once (the ticket back in its place, the agent back in its state before, the event
//! `ticket.offer_withdrawn`), and so never lapses into the agent's `no_answer`. What follows
//! the offer (the citizen's `agent_found`, the queue-changed notice) cannot undo it.

use std::time::Duration;

use store::{AgentState, AgentStatus, Ticket, TicketStatus};

use super::{AgentNext, Events, Lifecycle, told, write_agent};
use crate::protocol::{ToAgent, ToCitizen};
use crate::{Error, agent_state, deliver};

/// What came of an agent's `take_next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The head of the queue, this ticket, is offered to the agent, and the agent was told.
    Offered {
        /// The ticket's id.
        ticket: String,
    },
    /// Nobody was waiting.
    Empty,
    /// No connection of the agent here took the offer: the claim was withdrawn.
    Withdrawn,
}

/// How many times withdrawing an offer is tried while the database fails.
const WITHDRAW_TRIES: u32 = 5;
/// The wait before the second try; it doubles after each.
const WITHDRAW_FIRST_WAIT: Duration = Duration::from_millis(250);

/// The ID number as an agent sees it before accepting: its last four symbols.
fn masked(id_number: &str) -> String {
    let tail = id_number
        .get(id_number.len().saturating_sub(4)..)
        .unwrap_or("");
    format!("*****{tail}")
}

/// Whether `t` is offered to `agent`.
fn offered_to(t: &Ticket, agent: &str) -> bool {
    t.status == TicketStatus::Offered && t.agent_id.as_deref() == Some(agent)
}

impl Lifecycle<'_> {
    /// `agent` takes the head of the queue: the ticket is claimed for it atomically, the agent
    /// goes in call and is told the offer, or the claim is undone.
    pub async fn take(&self, agent: &str) -> Result<Taken, Error> {
        let s = self.state;
        let now = self.now();
        let mut tx = s.store.begin().await?;
        let mut events = Events::new(now);
        let Some(t) = tx.claim_next(agent, now).await? else {
            tx.rollback().await?;
            return Ok(Taken::Empty);
        };
        let before = tx.agent_state(agent).await?;
        events.add(agent, "ticket.offered", &t.id, serde_json::json!({}));
        let next = AgentNext {
            agent,
            status: AgentStatus::InCall,
            reason: None,
            actor: agent,
        };
        write_agent(&mut tx, &mut events, next).await?;
        let committed = events.commit(tx).await;
        let written = self.ticket_shows(&t.id, |read| {
            offered_to(read, agent) && read.offered_at == t.offered_at
        });
        self.settle(committed, &t.id, written).await?;
        agent_state::wake_after(s, s.agent_policy.offer_timeout);
        if !self.tell_offer(agent, &t) {
            tracing::warn!(ticket = %t.id, %agent, "the agent cannot be told its offer; withdrawing it");
            self.withdraw(agent, &t, before).await;
            return Ok(Taken::Withdrawn);
        }
        let found = deliver::to_citizen(s, &t.id, &ToCitizen::AgentFound);
        told("the citizen that an agent was found", found).await;
        told("the queue change", deliver::queue_changed(s)).await;
        Ok(Taken::Offered { ticket: t.id })
    }

    /// Tells `agent`'s connections on this node that it is in a call and which ticket is
    /// offered to it. False when none took it (they are gone). Also for an agent that asks
    /// for the next citizen while holding an offer: its answer was lost, or its console was
    /// reloaded, and it is told again.
    pub fn tell_offer(&self, agent: &str, t: &Ticket) -> bool {
        let hub = &self.state.hub;
        let state = ToAgent::State {
            state: AgentStatus::InCall.as_str().to_owned(),
            reason: None,
            read_only: false,
        };
        hub.to_agent(agent, &state);
        hub.to_agent(agent, &self.offered(t)) > 0
    }

    /// The `offered` message of a ticket offered to an agent.
    pub fn offered(&self, t: &Ticket) -> ToAgent {
        let offered_at = t.offered_at.unwrap_or_else(|| self.now());
        ToAgent::Offered {
            ticket: t.id.clone(),
            id_number: masked(&t.id_number),
            waited_secs: (offered_at - t.joined_at).num_seconds(),
        }
    }

    /// Undoes the claim of `t` for `agent`, who was never told of it, trying again for a few
    /// seconds while the database fails. (Should it fail throughout, the agent's closing
    /// connection puts the citizen back as an agent who left.)
    async fn withdraw(&self, agent: &str, t: &Ticket, before: Option<AgentState>) {
        let mut wait = WITHDRAW_FIRST_WAIT;
        for attempt in 1..=WITHDRAW_TRIES {
            match self.try_withdraw(agent, t, before.as_ref()).await {
                Ok(withdrawn) => {
                    if withdrawn {
                        told("the queue change", deliver::queue_changed(self.state)).await;
                    }
                    return;
                }
                Err(e) if attempt < WITHDRAW_TRIES => {
                    tracing::warn!(error = %e, ticket = %t.id, attempt, "withdrawing an offer; trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => {
                    tracing::error!(error = %e, ticket = %t.id, "withdrawing an offer failed");
                }
            }
        }
    }

    /// One try at [`Lifecycle::withdraw`]: the ticket back to waiting with the priority it
    /// had, the agent back to its state `before` (offline if it had none), and their events.
    /// False when the ticket was no longer offered to the agent.
    async fn try_withdraw(
        &self,
        agent: &str,
        t: &Ticket,
        before: Option<&AgentState>,
    ) -> Result<bool, Error> {
        let mut tx = self.state.store.begin().await?;
        let mut events = Events::new(self.now());
        if !tx.withdraw_offer(&t.id, agent, t.priority).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let detail = serde_json::json!({ "agent": agent, "reason": "not_delivered" });
        events.add("system", "ticket.offer_withdrawn", &t.id, detail);
        let next = AgentNext {
            agent,
            status: before.map_or(AgentStatus::Offline, |b| b.status),
            reason: before.and_then(|b| b.reason.as_deref()),
            actor: "system",
        };
        write_agent(&mut tx, &mut events, next).await?;
        let committed = events.commit(tx).await;
        let written = self.ticket_shows(&t.id, |read| !offered_to(read, agent));
        self.settle(committed, &t.id, written).await?;
        Ok(true)
    }
}
