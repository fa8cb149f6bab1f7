//! This node's presence in the database, and the clean-up after nodes that are gone. The node
//! heartbeats every [`PresencePolicy::heartbeat`]; every socket that follows a ticket or is an
//! agent's console is recorded with the node ([`opened`]). Each round, a node declares lost
//! any other node whose heartbeat is older than [`PresencePolicy::dead_after`] (one `UPDATE`,
//! so each death is declared once) and cleans up the connections of lost and stopped nodes
//! through the call lifecycle ([`crate::calls::Lifecycle::connection_gone`]): citizens are
//! marked disconnected at the time of death (the grace period runs from then), agents go
//! offline, calls with a side on the dead node end with the citizen back at the head.

use std::time::Duration;

use chrono::TimeDelta;
use store::{ConnectionKind, NodeState};

use crate::{Error, SignalingState};

/// Heartbeat and drain timings, from configuration.
#[derive(Debug, Clone)]
pub struct PresencePolicy {
    /// How often this node heartbeats (and looks for dead nodes).
    pub heartbeat: Duration,
    /// A node whose heartbeat is older than this is dead.
    pub dead_after: TimeDelta,
    /// How long a stopping node waits for the calls whose media it forwards.
    pub drain: Duration,
    /// How long clients wait before reconnecting when a node stops.
    pub reconnect_after: Duration,
}

impl Default for PresencePolicy {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(5),
            dead_after: TimeDelta::seconds(15),
            drain: Duration::from_secs(30),
            reconnect_after: Duration::from_secs(1),
        }
    }
}

/// Orphan connections cleaned up per round at most (the rest wait for the next round).
const ORPHANS_PER_ROUND: u32 = 500;
/// Stopped and lost nodes are forgotten this long after they ended.
const FORGET_NODES_AFTER: TimeDelta = TimeDelta::days(7);

/// A connection's number in the database.
pub fn conn_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// Records a socket of this node that now follows `subject`.
pub async fn opened(
    state: &SignalingState,
    id: u64,
    kind: ConnectionKind,
    subject: &str,
) -> Result<(), Error> {
    let c = store::Connection {
        node_id: state.node_id.to_string(),
        conn_id: conn_id(id),
        kind,
        subject: subject.to_owned(),
    };
    state.store.open_connection(&c, state.clock.now()).await?;
    Ok(())
}

/// Records this node as serving, then heartbeats and cleans up after dead nodes until the
/// task is dropped. While the database is out of reach the node retries each heartbeat; once
/// it is back, the node judges nobody dead until it has itself heartbeaten for the whole
/// limit, so that a database restart, which stops every node's heartbeat at once, does not
/// make the nodes declare one another lost.
pub async fn run(state: SignalingState) {
    let mut every = tokio::time::interval(state.presence.heartbeat);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut registered = false;
    let mut beating_since = None;
    loop {
        every.tick().await;
        let now = state.clock.now();
        let result = if registered {
            let judge = beating_since.is_some_and(|since| now - since >= state.presence.dead_after);
            round(&state, judge).await
        } else {
            register(&state).await.map(|()| registered = true)
        };
        match result {
            Ok(()) => {
                beating_since.get_or_insert(now);
            }
            Err(e) => {
                beating_since = None;
                if e.is_unavailable() {
                    tracing::warn!(error = %e, "presence: database unavailable; retrying");
                } else {
                    tracing::error!(error = %e, "presence round");
                }
            }
        }
    }
}

/// Records this node as serving.
pub async fn register(state: &SignalingState) -> Result<(), Error> {
    state
        .store
        .register_node(&state.node_id, state.clock.now())
        .await?;
    tracing::info!(node = %state.node_id, "node registered");
    Ok(())
}

/// One round: this node's heartbeat, then (when `judge`) declaring nodes lost, and the
/// clean-up after nodes that are gone.
pub async fn round(state: &SignalingState, judge: bool) -> Result<(), Error> {
    let now = state.clock.now();
    if !state.store.heartbeat(&state.node_id, now).await? {
        // Declared lost while alive (a long pause, or the database out of reach for longer
        // than the limit): its connections were cleaned up elsewhere. Serve on, and have the
        // clients connect again so that they are recorded and told where they stand.
        tracing::error!(node = %state.node_id, "this node was declared lost; its clients reconnect");
        state
            .store
            .set_node_state(&state.node_id, NodeState::Serving, now)
            .await?;
        state.hub.reconnect_all(reconnect_ms(state));
    }
    if judge {
        let cutoff = now - state.presence.dead_after;
        for lost in state
            .store
            .declare_lost_nodes(&state.node_id, cutoff, now)
            .await?
        {
            tracing::warn!(node = %lost.id, last_heartbeat = %lost.last_heartbeat, "node lost; cleaning up after it");
        }
    }
    clean_up_orphans(state).await?;
    state.store.prune_nodes(now - FORGET_NODES_AFTER).await?;
    Ok(())
}

/// Cleans up the connections of lost and stopped nodes, each once, through the lifecycle.
pub async fn clean_up_orphans(state: &SignalingState) -> Result<usize, Error> {
    let orphans = state.store.orphan_connections(ORPHANS_PER_ROUND).await?;
    let life = state.lifecycle();
    for orphan in &orphans {
        life.connection_gone(orphan).await?;
    }
    Ok(orphans.len())
}

/// How long clients are told to wait before reconnecting, in milliseconds.
pub fn reconnect_ms(state: &SignalingState) -> u64 {
    u64::try_from(state.presence.reconnect_after.as_millis()).unwrap_or(u64::MAX)
}
