//! Silent monitoring: a supervisor watches a live call through a receive-only monitor on the
//! call's forwarder (`media`), started and stopped over HTTP by `agent_console`. Joining and
//! leaving are audited (`monitor.joined`, `monitor.left`, with how it ended), the agent is
//! told how many supervisors watch (unless the service turns the notice off), and a
//! supervisor may send the agent a private text hint (`monitor.whisper`). A monitor failing
//! or leaving never touches the call: the forwarder drops it alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use media::RTCSessionDescription;
use store::{NewAuditEvent, TicketStatus};
use tokio::sync::watch;

use crate::protocol::{SessionDescription, ToAgent};
use crate::{Error, SignalingState, deliver};

/// The longest hint a supervisor may send, in characters.
pub const MAX_WHISPER: usize = 280;

/// How monitoring behaves, fixed at start-up.
#[derive(Debug, Clone, Copy)]
pub struct MonitorPolicy {
    /// Whether the agent sees that a supervisor is watching.
    pub notice: bool,
}

/// The monitors running on this node: (ticket, monitor id) → the supervisor watching. Locked
/// only to insert, remove or count, never across an `.await`.
#[derive(Debug, Clone, Default)]
pub struct Monitors {
    inner: Arc<Mutex<HashMap<(String, u64), String>>>,
}

impl Monitors {
    fn insert(&self, ticket: &str, id: u64, supervisor: &str) -> usize {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert((ticket.to_owned(), id), supervisor.to_owned());
        map.keys().filter(|(t, _)| t == ticket).count()
    }

    /// Forgets a monitor; returns its supervisor and how many still watch the call.
    fn remove(&self, ticket: &str, id: u64) -> Option<(String, usize)> {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let supervisor = map.remove(&(ticket.to_owned(), id))?;
        Some((supervisor, map.keys().filter(|(t, _)| t == ticket).count()))
    }

    /// The supervisor of a monitor, if it runs here.
    pub fn supervisor(&self, ticket: &str, id: u64) -> Option<String> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(ticket.to_owned(), id))
            .cloned()
    }

    /// How many monitors watch calls here (for the metrics and tests).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none does.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a monitor could not start.
#[derive(Debug)]
pub enum Refused {
    /// The ticket is not in a call.
    NotInCall,
    /// The call runs on another node (a supervisor's browser reached this one).
    Elsewhere,
    /// The offer could not be answered (not a description, or too many monitors).
    BadOffer(String),
}

/// A started monitor: its id and the answer for the supervisor's browser.
#[derive(Debug)]
pub struct Started {
    /// The monitor's id in the call.
    pub monitor: u64,
    /// The answer to the browser's offer.
    pub answer: SessionDescription,
}

/// Starts watching the call on `ticket` for `supervisor`, answering their browser's `offer`
/// (ICE candidates gathered in it).
pub async fn start(
    state: &SignalingState,
    ticket: &str,
    supervisor: &str,
    offer: SessionDescription,
) -> Result<Result<Started, Refused>, Error> {
    let t = state.store.ticket(ticket).await?;
    let Some(t) = t.filter(|t| t.status == TicketStatus::InCall) else {
        return Ok(Err(Refused::NotInCall));
    };
    let Some(call) = state.calls.get(ticket) else {
        return Ok(Err(Refused::Elsewhere));
    };
    let offer: RTCSessionDescription =
        match serde_json::to_value(&offer).and_then(serde_json::from_value) {
            Ok(o) => o,
            Err(e) => return Ok(Err(Refused::BadOffer(e.to_string()))),
        };
    let added = match call.add_monitor(&state.media, offer).await {
        Ok(added) => added,
        Err(media::Error::BadMedia(why)) => return Ok(Err(Refused::BadOffer(why))),
        Err(e) => return Err(e.into()),
    };
    drop(call);
    let answer: SessionDescription = serde_json::to_value(&added.answer)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::BadMedia(e.to_string()))?;
    let watching = state.monitors.insert(ticket, added.id, supervisor);
    let now = state.clock.now();
    let detail = serde_json::json!({ "monitor": added.id, "agent": t.agent_id }).to_string();
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: supervisor,
            action: "monitor.joined",
            subject: ticket,
            detail: &detail,
        })
        .await?;
    if let Some(agent) = &t.agent_id {
        tell_agent(state, agent, watching).await;
    }
    tokio::spawn(watch_until_gone(
        state.clone(),
        ticket.to_owned(),
        t.agent_id.clone(),
        added.id,
        added.state,
    ));
    tracing::info!(
        ticket,
        monitor = added.id,
        "a supervisor is watching the call"
    );
    Ok(Ok(Started {
        monitor: added.id,
        answer,
    }))
}

/// Stops monitor `id` of the call on `ticket`, if `supervisor` runs it; false otherwise.
/// Its end is audited by the watcher, as for a monitor that failed.
pub async fn stop(
    state: &SignalingState,
    ticket: &str,
    supervisor: &str,
    id: u64,
) -> Result<bool, Error> {
    if state.monitors.supervisor(ticket, id).as_deref() != Some(supervisor) {
        return Ok(false);
    }
    let Some(call) = state.calls.get(ticket) else {
        return Ok(false);
    };
    Ok(call.remove_monitor(id).await.unwrap_or(false))
}

/// Tells the agent how many supervisors watch their call (when the notice is on).
async fn tell_agent(state: &SignalingState, agent: &str, watching: usize) {
    if !state.monitoring.notice {
        return;
    }
    let message = ToAgent::Monitored {
        watching: u32::try_from(watching).unwrap_or(u32::MAX),
    };
    if let Err(e) = deliver::to_agent(state, agent, &message).await {
        tracing::warn!(error = %e, "telling the agent about a monitor");
    }
}

/// Waits until monitor `id` has closed or failed (stopped, its browser gone, the call
/// ended), then audits its end and tells the agent.
async fn watch_until_gone(
    state: SignalingState,
    ticket: String,
    agent: Option<String>,
    id: u64,
    mut connection: watch::Receiver<media::PeerState>,
) {
    use media::PeerState;
    let mut reached = PeerState::New;
    loop {
        let now = *connection.borrow_and_update();
        if now == PeerState::Connected {
            reached = now;
        }
        if matches!(now, PeerState::Failed | PeerState::Closed) {
            break;
        }
        if connection.changed().await.is_err() {
            break;
        }
    }
    let ended = *connection.borrow();
    let Some((supervisor, watching)) = state.monitors.remove(&ticket, id) else {
        return;
    };
    let how = match ended {
        PeerState::Failed => "connection_lost",
        _ => "left",
    };
    let detail = serde_json::json!({
        "monitor": id,
        "how": how,
        "connected": reached == PeerState::Connected,
    })
    .to_string();
    let event = NewAuditEvent {
        at: state.clock.now(),
        actor: &supervisor,
        action: "monitor.left",
        subject: &ticket,
        detail: &detail,
    };
    if let Err(e) = state.store.append_audit(&event).await {
        tracing::error!(error = %e, ticket, "auditing a monitor's end");
    }
    if let Some(agent) = agent {
        tell_agent(&state, &agent, watching).await;
    }
}

/// Sends the agent in the call on `ticket` a private hint from `supervisor` (named
/// `supervisor_name` to the agent), audited; false when the ticket is not in a call.
pub async fn whisper(
    state: &SignalingState,
    ticket: &str,
    supervisor: &str,
    supervisor_name: &str,
    text: &str,
) -> Result<bool, Error> {
    let t = state.store.ticket(ticket).await?;
    let Some(agent) = t
        .filter(|t| t.status == TicketStatus::InCall)
        .and_then(|t| t.agent_id)
    else {
        return Ok(false);
    };
    let detail = serde_json::json!({ "text": text, "agent": agent }).to_string();
    state
        .store
        .append_audit(&NewAuditEvent {
            at: state.clock.now(),
            actor: supervisor,
            action: "monitor.whisper",
            subject: ticket,
            detail: &detail,
        })
        .await?;
    let message = ToAgent::Whisper {
        from: supervisor_name.to_owned(),
        text: text.to_owned(),
    };
    deliver::to_agent(state, &agent, &message).await?;
    Ok(true)
}
