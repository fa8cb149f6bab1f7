//! The start of a call after the offer (`offering`): the offer lapses when not accepted in
//! time, or the agent accepts and the media starts.

use chrono::{DateTime, Utc};
use scheduler::REQUEUE_PRIORITY;
use store::{AgentStatus, Ticket, TicketStatus};

use super::{AgentNext, Events, Lifecycle, running, told, write_agent};
use crate::protocol::{ToAgent, ToCitizen};
use crate::{Error, deliver};

/// The break reason given to an agent whose offer lapsed.
pub const NO_ANSWER: &str = "no_answer";

impl Lifecycle<'_> {
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
            told(
                "the agent its offer lapsed",
                deliver::to_agent(s, &agent, &ended),
            )
            .await;
            self.announce(next).await;
            told(
                "the citizen its new place",
                self.tell_requeued(&ticket, None),
            )
            .await;
        }
        Ok(())
    }

    /// `agent` accepts the ticket offered to it: the call starts and both sides are given the
    /// ICE servers. False when it was no longer offered. The forwarder is made first, so
    /// that failing to make it changes nothing; once the acceptance is written, telling the
    /// two sides cannot fail it (should the agent's connections be gone, their closing puts
    /// the citizen back).
    pub async fn accept(&self, agent: &str, offered: &Ticket) -> Result<bool, Error> {
        let s = self.state;
        let now = self.now();
        let ticket = offered.id.as_str();
        let media = running::prepare(s).await?;
        let written = self.write_acceptance(agent, ticket, now).await;
        if !matches!(written, Ok(true)) {
            media.discard().await;
            return written;
        }
        s.telemetry
            .answered(offered.joined_at, offered.told_estimate_secs, now);
        let recorded = running::start(s, media, ticket, agent, now).await;
        let ice_servers = s.media.ice_servers_for(ticket, now);
        let started = ToAgent::CallStarted {
            ice_servers: ice_servers.clone(),
        };
        told(
            "the agent that the call started",
            deliver::to_agent(s, agent, &started),
        )
        .await;
        let started = ToCitizen::CallStarted { ice_servers };
        told(
            "the citizen that the call started",
            deliver::to_citizen(s, ticket, &started),
        )
        .await;
        super::recording::tell(s, ticket, agent, recorded).await;
        Ok(true)
    }

    /// The store write of [`Lifecycle::accept`], settled: false when it was no longer offered.
    async fn write_acceptance(
        &self,
        agent: &str,
        ticket: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let mut tx = self.state.store.begin().await?;
        let mut events = Events::new(now);
        if !tx.answer_ticket(ticket, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        events.add(agent, "ticket.answered", ticket, serde_json::json!({}));
        let committed = events.commit(tx).await;
        let written = self.ticket_shows(ticket, |read| {
            read.status == TicketStatus::InCall && read.agent_id.as_deref() == Some(agent)
        });
        self.settle(committed, ticket, written).await?;
        Ok(true)
    }
}
