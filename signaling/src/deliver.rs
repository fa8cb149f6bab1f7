//! Delivering a message to a citizen or an agent wherever they are connected: on this node
//! through the hub, on another node through the store's bus.

use store::BusMessage;

use crate::protocol::{ToAgent, ToCitizen};
use crate::{Error, SignalingState};

/// Bus topic prefix for a citizen's ticket.
const CITIZEN: &str = "citizen:";
/// Bus topic prefix for an agent.
const AGENT: &str = "agent:";
/// Bus topic saying the queue changed.
const QUEUE: &str = "queue";
/// Bus topic prefix for a browser's media message, for the node that runs the call.
const MEDIA: &str = "media:";
/// Bus topic prefix asking the node that runs a ticket's call to end its media.
const END: &str = "end:";

async fn publish(state: &SignalingState, topic: String, body: String) -> Result<(), Error> {
    let m = BusMessage {
        node: state.node_id.to_string(),
        topic,
        body,
    };
    state.store.publish(&m, state.clock.now()).await?;
    Ok(())
}

/// Sends to a citizen's connections here, or through the bus if none is here.
pub async fn to_citizen(
    state: &SignalingState,
    ticket: &str,
    message: &ToCitizen,
) -> Result<(), Error> {
    if state.hub.to_citizen(ticket, message) == 0 {
        let body = serde_json::to_string(message).unwrap_or_default();
        publish(state, format!("{CITIZEN}{ticket}"), body).await?;
    }
    Ok(())
}

/// Sends to an agent's connections here, or through the bus if none is here.
pub async fn to_agent(
    state: &SignalingState,
    user_id: &str,
    message: &ToAgent,
) -> Result<(), Error> {
    if state.hub.to_agent(user_id, message) == 0 {
        let body = serde_json::to_string(message).unwrap_or_default();
        publish(state, format!("{AGENT}{user_id}"), body).await?;
    }
    Ok(())
}

/// Hands a browser's media message to whichever node runs the ticket's call.
pub async fn to_call_node(
    state: &SignalingState,
    ticket: &str,
    message: &crate::calls::media_route::ForCall,
) -> Result<(), Error> {
    let body = serde_json::to_string(message).unwrap_or_default();
    publish(state, format!("{MEDIA}{ticket}"), body).await
}

/// Asks whichever node runs the ticket's call to end its media.
pub async fn end_on_call_node(state: &SignalingState, ticket: &str) -> Result<(), Error> {
    publish(state, format!("{END}{ticket}"), String::new()).await
}

/// Says the queue changed, here and on every other node.
pub async fn queue_changed(state: &SignalingState) -> Result<(), Error> {
    state.hub.queue_changed();
    publish(state, QUEUE.to_owned(), String::new()).await
}

/// Hands messages from other nodes to this node's connections, until the task is dropped.
/// On SQLite (one node) it returns at once. When the listener had to reconnect (the database
/// restarted, say), messages sent meanwhile are lost: this node's clients are then asked to
/// reconnect, and resuming tells each where it stands.
pub async fn run_bus(state: SignalingState) {
    let mut listened_before = false;
    loop {
        let mut listener = match state.store.subscribe().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "bus: cannot listen; retrying in 1 s");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if listened_before {
            tracing::info!("bus: listening again; clients reconnect to catch up");
            state
                .hub
                .reconnect_all(crate::presence::reconnect_ms(&state));
        }
        listened_before = true;
        loop {
            match listener.recv().await {
                Ok(Some(m)) if m.node != *state.node_id => dispatch(&state, &m),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "bus: listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

fn dispatch(state: &SignalingState, m: &BusMessage) {
    if m.topic == QUEUE {
        state.hub.queue_changed();
    } else if let Some(ticket) = m.topic.strip_prefix(CITIZEN) {
        if let Ok(message) = serde_json::from_str::<ToCitizen>(&m.body) {
            state.hub.to_citizen(ticket, &message);
        }
    } else if let Some(ticket) = m.topic.strip_prefix(MEDIA) {
        if state.calls.get(ticket).is_none() {
            return;
        }
        let Ok(message) = serde_json::from_str(&m.body) else {
            return;
        };
        let (state, ticket) = (state.clone(), ticket.to_owned());
        tokio::spawn(async move {
            crate::calls::media_route::handle_from_bus(&state, &ticket, message).await;
        });
    } else if let Some(ticket) = m.topic.strip_prefix(END) {
        if state.calls.get(ticket).is_some() {
            let (state, ticket) = (state.clone(), ticket.to_owned());
            tokio::spawn(async move { crate::calls::running::end_here(&state, &ticket).await });
        }
    } else if let Some(user) = m.topic.strip_prefix(AGENT)
        && let Ok(message) = serde_json::from_str::<ToAgent>(&m.body)
    {
        state.hub.to_agent(user, &message);
    }
}
