//! A browser's media message (its `offer` or a candidate) reaches the node that runs its call:
//! here, or through the bus, on PostgreSQL, when the call runs on another node (it runs where
//! the agent accepted it). Both sides are carried: the citizen's page may be on any node, and
//! so may an agent's console that reconnected during a call (after a deploy, say). The answer,
//! or the error, goes back to whoever sent the message, wherever they are.

use media::Side;
use serde::{Deserialize, Serialize};

use super::running;
use crate::protocol::{CitizenMessage, SessionDescription, ToAgent, ToCitizen};
use crate::{Error, SignalingState, deliver};

/// Who sent a media message, and so where its answer goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "side", rename_all = "snake_case")]
pub enum Sender {
    /// The ticket's citizen.
    Citizen,
    /// The agent who holds the ticket.
    Agent {
        /// The agent's staff user id.
        agent: String,
    },
}

impl Sender {
    fn side(&self) -> Side {
        match self {
            Self::Citizen => Side::Citizen,
            Self::Agent { .. } => Side::Agent,
        }
    }
}

/// A media message on its way to the call's node. The message is an `offer` or an `ice`,
/// which have the same shape from either side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForCall {
    /// Who sent it.
    pub from: Sender,
    /// What they sent.
    pub message: CitizenMessage,
}

/// Handles a media message for `ticket`: here when the call runs here (returning the answer
/// to an offer), otherwise by handing it to the call's node, which answers through the bus.
/// On SQLite (one node) a call that is not here does not exist.
pub async fn route(
    state: &SignalingState,
    ticket: &str,
    from: Sender,
    message: CitizenMessage,
) -> Result<Option<SessionDescription>, Error> {
    if state.calls.get(ticket).is_some() {
        return handle(state, ticket, &from, message).await;
    }
    if state.store.backend() == store::Backend::Sqlite {
        return Err(Error::NoCall);
    }
    deliver::to_call_node(state, ticket, &ForCall { from, message }).await?;
    Ok(None)
}

/// Applies a media message to a call that runs here; the answer to an offer.
async fn handle(
    state: &SignalingState,
    ticket: &str,
    from: &Sender,
    message: CitizenMessage,
) -> Result<Option<SessionDescription>, Error> {
    match message {
        CitizenMessage::Offer { description } => Ok(Some(
            running::offer(state, ticket, from.side(), description).await?,
        )),
        CitizenMessage::Ice { candidate } => {
            running::ice(state, ticket, from.side(), candidate).await?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// On the call's node: applies a media message that came through the bus and sends the
/// answer, or what went wrong, back to its sender.
pub async fn handle_from_bus(state: &SignalingState, ticket: &str, m: ForCall) {
    let result = handle(state, ticket, &m.from, m.message).await;
    let sent = match (&m.from, result) {
        (_, Ok(None)) => return,
        (Sender::Citizen, Ok(Some(description))) => {
            deliver::to_citizen(state, ticket, &ToCitizen::Answer { description }).await
        }
        (Sender::Agent { agent }, Ok(Some(description))) => {
            deliver::to_agent(state, agent, &ToAgent::Answer { description }).await
        }
        (from, Err(e)) => {
            let Some((code, message)) = e.for_peer() else {
                tracing::error!(error = %e, %ticket, "a media message from another node");
                return;
            };
            let (code, message) = (code.to_owned(), message.to_owned());
            match from {
                Sender::Citizen => {
                    deliver::to_citizen(state, ticket, &ToCitizen::Error { code, message }).await
                }
                Sender::Agent { agent } => {
                    deliver::to_agent(state, agent, &ToAgent::Error { code, message }).await
                }
            }
        }
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "answering a media message from another node");
    }
}
