//! The start of a call: an agent takes the next citizen (the offer), the offer lapses when
//! not accepted in time, or the agent accepts and the media starts.

use chrono::{DateTime, Utc};
use scheduler::REQUEUE_PRIORITY;
use store::{AgentStatus, Ticket};

use super::{AgentNext, Events, Lifecycle, running, write_agent};
use crate::protocol::{ToAgent, ToCitizen};
use crate::{Error, agent_state, deliver};

/// The break reason given to an agent whose offer lapsed.
pub const NO_ANSWER: &str = "no_answer";

/// The ID number as an agent sees it before accepting: its last four symbols.
fn masked(id_number: &str) -> String {
    let tail = id_number
        .get(id_number.len().saturating_sub(4)..)
        .unwrap_or("");
    format!("*****{tail}")
}

/// What an agent is told of the ticket offered to it, at `now`.
pub fn offered_message(t: &Ticket, now: DateTime<Utc>) -> ToAgent {
    ToAgent::Offered {
        ticket: t.id.clone(),
        id_number: masked(&t.id_number),
        waited_secs: (now - t.joined_at).num_seconds(),
    }
}

impl Lifecycle<'_> {
    /// `agent` takes the head of the queue: the ticket is claimed for it atomically and the
    /// agent goes in call. Returns the ticket, or `None` when the queue is empty.
    pub async fn take(&self, agent: &str) -> Result<Option<Ticket>, Error> {
        let s = self.state;
        let now = self.now();
        let mut tx = s.store.begin().await?;
        let mut events = Events::new(now);
        let Some(t) = tx.claim_next(agent, now).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        events.add(agent, "ticket.offered", &t.id, serde_json::json!({}));
        let next = AgentNext {
            agent,
            status: AgentStatus::InCall,
            reason: None,
            actor: agent,
        };
        write_agent(&mut tx, &mut events, next).await?;
        events.commit(tx).await?;
        agent_state::wake_after(s, s.agent_policy.offer_timeout);
        self.announce(next).await?;
        let offered = offered_message(&t, now);
        deliver::to_agent(s, agent, &offered).await?;
        deliver::to_citizen(s, &t.id, &ToCitizen::AgentFound).await?;
        Ok(Some(t))
    }

    /// Offers not accepted within the offer timeout, at `now`, go back to the head of the
    /// queue; their agents go on break (`no_answer`).
    pub async fn lapse_offers(&self, now: DateTime<Utc>) -> Result<(), Error> {
        let s = self.state;
        let cutoff = now - s.agent_policy.offer_timeout;
        for (ticket, agent) in s.store.lapsed_offers(cutoff).await? {
            let mut tx = s.store.begin().await?;
            let mut events = Events::new(now);
            if !tx
                .requeue_lapsed(&ticket, &agent, cutoff, REQUEUE_PRIORITY)
                .await?
            {
                tx.rollback().await?;
                continue;
            }
            tracing::info!(%ticket, %agent, "offer not accepted in time; citizen back at the head");
            let detail = serde_json::json!({ "agent": agent });
            events.add("system", "ticket.offer_lapsed", &ticket, detail);
            let next = AgentNext {
                agent: &agent,
                status: AgentStatus::Break,
                reason: Some(NO_ANSWER),
                actor: "system",
            };
            write_agent(&mut tx, &mut events, next).await?;
            events.commit(tx).await?;
            let ended = ToAgent::CallEnded {
                reason: "offer_timeout".into(),
            };
            deliver::to_agent(s, &agent, &ended).await?;
            self.announce(next).await?;
            self.tell_requeued(&ticket, None).await?;
        }
        Ok(())
    }

    /// `agent` accepts the ticket offered to it: the call starts and both sides are given the
    /// ICE servers. False when it was no longer offered.
    pub async fn accept(&self, agent: &str, offered: &Ticket) -> Result<bool, Error> {
        let s = self.state;
        let now = self.now();
        let ticket = offered.id.as_str();
        let mut tx = s.store.begin().await?;
        let mut events = Events::new(now);
        if !tx.answer_ticket(ticket, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        events.add(agent, "ticket.answered", ticket, serde_json::json!({}));
        events.commit(tx).await?;
        s.telemetry
            .answered(offered.joined_at, offered.told_estimate_secs, now);
        running::start(s, ticket, agent).await?;
        let ice_servers = s.media.ice_servers_for(ticket, now);
        let started = ToAgent::CallStarted {
            ice_servers: ice_servers.clone(),
        };
        deliver::to_agent(s, agent, &started).await?;
        deliver::to_citizen(s, ticket, &ToCitizen::CallStarted { ice_servers }).await?;
        Ok(true)
    }
}
