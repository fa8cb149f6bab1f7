//! The end of a connection whose node is gone (declared lost, or stopped after draining), and
//! the calls a stopping node ends itself. A citizen is marked disconnected from the moment the
//! node went, so the usual grace period runs; an agent goes offline. A call with a side on
//! the gone node cannot go on: the citizen goes back to the head of the queue and the agent
//! on the other side is told `call_ended` (`connection_lost`). Nobody is charged for it: no
//! `no_answer`, no wrap-up.

use scheduler::REQUEUE_PRIORITY;
use store::{AgentStatus, ConnectionKind, NodeState, OrphanConnection, Ticket, TicketStatus, Tx};

use super::{AgentNext, Events, Lifecycle, running, told, write_agent};
use crate::protocol::ToAgent;
use crate::{Error, agent_state, deliver};

/// What the other side of a call is told when a connection's node went.
pub const CONNECTION_LOST: &str = "connection_lost";
/// What the agent is told of a call a stopping node ended (the citizen is told `requeued`).
pub const SERVER_STOPPING: &str = "server_stopping";

impl Lifecycle<'_> {
    /// Cleans up one connection of a node that is gone, once: the row is deleted in the
    /// transaction that changes the ticket and the agent, and a row already deleted (by
    /// another node, or by the socket's own close) is left alone. A subject connected on a
    /// live node too is only forgotten here.
    pub async fn connection_gone(&self, orphan: &OrphanConnection) -> Result<(), Error> {
        let s = self.state;
        let c = &orphan.connection;
        let mut tx = s.store.begin().await?;
        if tx.drop_connection(&c.node_id, c.conn_id).await?.is_none()
            || tx.is_connected(c.kind, &c.subject).await?
        {
            tx.commit().await?;
            return Ok(());
        }
        let why = match orphan.node_state {
            NodeState::Lost => "node_lost",
            _ => "node_stopped",
        };
        let mut events = Events::new(self.now());
        let detail = serde_json::json!({ "node": c.node_id, "why": why });
        match c.kind {
            ConnectionKind::Citizen => {
                tx.mark_disconnected(&c.subject, orphan.gone_at).await?;
                let held = tx.ticket(&c.subject).await?.filter(is_held);
                // The place is let go when the grace period, counted from the node's death,
                // is over: wake the publisher then rather than at its next regular round.
                let left = s.grace - (self.now() - orphan.gone_at);
                agent_state::wake_after(s, left.max(chrono::TimeDelta::zero()));
                let Some(held) = held else {
                    return Ok(tx.commit().await?);
                };
                let back = Back {
                    action: "ticket.citizen_lost",
                    detail,
                    told: CONNECTION_LOST,
                };
                self.back_to_the_head(tx, events, &held, back).await
            }
            ConnectionKind::Agent => {
                let agent = c.subject.as_str();
                let held = tx.current_ticket_for_agent(agent).await?;
                if let Some(t) = &held
                    && tx.requeue_ticket(&t.id, REQUEUE_PRIORITY).await?
                {
                    events.add("system", "ticket.agent_lost", &t.id, detail);
                }
                let next = AgentNext {
                    agent,
                    status: AgentStatus::Offline,
                    reason: Some(why),
                    actor: "system",
                };
                write_agent(&mut tx, &mut events, next).await?;
                events.commit(tx).await?;
                if let Some(t) = held {
                    running::end(s, &t.id).await;
                    told("the citizen its new place", self.tell_requeued(&t.id, None)).await;
                }
                self.announce(next).await;
                Ok(())
            }
        }
    }

    /// A stopping node ends a call whose media it forwards and which did not end within the
    /// drain time: the citizen goes back to the head of the queue, the agent becomes
    /// available; both are told.
    pub async fn end_for_stopping(&self, ticket: &str) -> Result<(), Error> {
        let s = self.state;
        let mut tx = s.store.begin().await?;
        let held = tx.ticket(ticket).await?.filter(is_held);
        let Some(held) = held else {
            tx.commit().await?;
            running::end(s, ticket).await;
            return Ok(());
        };
        let back = Back {
            action: "ticket.server_stopping",
            detail: serde_json::json!({}),
            told: SERVER_STOPPING,
        };
        let events = Events::new(self.now());
        self.back_to_the_head(tx, events, &held, back).await
    }

    /// In `tx`: the held ticket back at the head of the queue (audited `back.action`) and its
    /// agent `available`; committed, then the media ended, the agent told `call_ended`
    /// (`back.told`) and the citizen its new place.
    async fn back_to_the_head(
        &self,
        mut tx: Tx,
        mut events: Events,
        held: &Ticket,
        back: Back<'_>,
    ) -> Result<(), Error> {
        let s = self.state;
        let agent = held.agent_id.as_deref().unwrap_or_default();
        tx.requeue_ticket(&held.id, REQUEUE_PRIORITY).await?;
        events.add("system", back.action, &held.id, back.detail);
        let next = AgentNext {
            agent,
            status: AgentStatus::Available,
            reason: None,
            actor: "system",
        };
        write_agent(&mut tx, &mut events, next).await?;
        events.commit(tx).await?;
        running::end(s, &held.id).await;
        let ended = ToAgent::CallEnded {
            reason: back.told.into(),
        };
        told(
            "the agent its call ended",
            deliver::to_agent(s, agent, &ended),
        )
        .await;
        told(
            "the citizen its new place",
            self.tell_requeued(&held.id, None),
        )
        .await;
        self.announce(next).await;
        Ok(())
    }
}

/// How a held ticket goes back to the head when a node goes.
struct Back<'a> {
    /// The audit action.
    action: &'a str,
    /// Its detail.
    detail: serde_json::Value,
    /// What the agent's `call_ended` says.
    told: &'a str,
}

/// Whether an agent holds the ticket (offered or in a call).
fn is_held(t: &Ticket) -> bool {
    matches!(t.status, TicketStatus::Offered | TicketStatus::InCall) && t.agent_id.is_some()
}
