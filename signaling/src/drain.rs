//! Stopping a node without stranding anyone (SIGTERM, SIGINT: every deploy). In order:
//!
//! 1. the node drains: `/healthz` answers 503 `draining`, new sockets are refused, and every
//!    connected client is told `reconnect` and its socket closed with a close frame; pages
//!    connect again through the load balancer (another node) and resume;
//! 2. the calls whose media this node forwards go on (they cannot move) until they end or the
//!    drain time is up; then they end through the lifecycle, the citizen back at the head;
//! 3. the node records itself stopped, and its remaining connections are cleaned up as a lost
//!    node's are (`presence`): a citizen who did not come back elsewhere is marked
//!    disconnected (the grace period runs), an agent who did not is set offline.

use std::time::Duration;

use store::NodeState;
use tokio::time::Instant;

use crate::presence::{self, reconnect_ms};
use crate::{Error, SignalingState};

/// How long clients get to connect elsewhere before this node's rows are cleaned up, beyond
/// the time they were told to wait.
const RECONNECT_WINDOW: Duration = Duration::from_secs(2);
/// How often the drain looks whether its calls have ended.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// What a drain did, for the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drained {
    /// Calls that ended by themselves while the node drained.
    pub calls_finished: usize,
    /// Calls the node ended when the drain time was up (citizen back at the head).
    pub calls_ended: usize,
    /// Connections cleaned up after the node stopped.
    pub connections_cleaned: usize,
}

/// Drains and stops this node (see the module's documentation). Returns once the node is
/// recorded stopped; the caller then stops serving HTTP.
pub async fn drain(state: &SignalingState) -> Result<Drained, Error> {
    let started = Instant::now();
    let retry = reconnect_ms(state);
    // With nobody connected there is nobody to give time to reconnect elsewhere.
    let connected = state.hub.connections();
    state.hub.start_draining(retry);
    let now = state.clock.now();
    state
        .store
        .set_node_state(&state.node_id, NodeState::Draining, now)
        .await?;
    let calls_at_start = state.calls.len();
    tracing::info!(
        calls = calls_at_start,
        connections = connected,
        "draining: clients told to reconnect"
    );
    let earliest = if connected == 0 {
        started
    } else {
        started + Duration::from_millis(retry) + RECONNECT_WINDOW
    };
    let deadline = started + state.presence.drain;
    loop {
        let now = Instant::now();
        if now >= deadline || (state.calls.is_empty() && now >= earliest) {
            break;
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
    let left = state.calls.tickets();
    let life = state.lifecycle();
    for ticket in &left {
        if let Err(e) = life.end_for_stopping(ticket).await {
            tracing::error!(error = %e, %ticket, "ending a call as the node stops");
        }
    }
    // The recordings of every call that ended here are sealed before the node goes.
    state.calls.recordings_sealed().await;
    state
        .store
        .set_node_state(&state.node_id, NodeState::Stopped, state.clock.now())
        .await?;
    let mut cleaned = 0;
    loop {
        let n = presence::clean_up_orphans(state).await?;
        cleaned += n;
        if n == 0 {
            break;
        }
    }
    let drained = Drained {
        calls_finished: calls_at_start.saturating_sub(left.len()),
        calls_ended: left.len(),
        connections_cleaned: cleaned,
    };
    tracing::info!(
        calls_finished = drained.calls_finished,
        calls_ended = drained.calls_ended,
        connections_cleaned = drained.connections_cleaned,
        took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "drained; node stopped"
    );
    Ok(drained)
}
