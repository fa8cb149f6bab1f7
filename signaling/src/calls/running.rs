//! The media sessions this node runs, by ticket, and the steps that start, feed and end them:
//! the media half of a call's life, used only by the lifecycle (`calls`) and by the media
//! messages (offers and candidates). A call is pinned to the node where the agent accepted
//! it (design: "Media path").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use media::{CandidateFeed, MediaCall, RTCIceCandidateInit, RTCSessionDescription, Side};

use super::recording;
use crate::protocol::{IceCandidate, SessionDescription, ToAgent, ToCitizen};
use crate::{Error, SignalingState, deliver};

/// Running calls by ticket id. Cheap to clone; clones share the map, which is locked only to
/// insert, look up or remove, never across an `.await`.
#[derive(Clone, Default)]
pub struct Calls {
    inner: Arc<Mutex<HashMap<String, Arc<MediaCall>>>>,
    /// Recordings being finished and sealed after their calls ended (so that nobody waits
    /// for the disk to be told the call's end). Locked only to add a task or take them all.
    finishing: Arc<Mutex<tokio::task::JoinSet<()>>>,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        write!(f, "Calls({n})")
    }
}

impl Calls {
    /// The call of a ticket, if it runs here.
    pub fn get(&self, ticket: &str) -> Option<Arc<MediaCall>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(ticket)
            .cloned()
    }

    fn insert(&self, ticket: &str, call: Arc<MediaCall>) -> Option<Arc<MediaCall>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(ticket.to_owned(), call)
    }

    fn remove(&self, ticket: &str) -> Option<Arc<MediaCall>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(ticket)
    }

    /// The call, when exactly one runs here (for tests and diagnostics).
    pub fn only(&self) -> Option<Arc<MediaCall>> {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() == 1 {
            map.values().next().cloned()
        } else {
            None
        }
    }

    /// How many calls run here.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no call runs here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Finishes and seals `call`'s recording in the background.
    fn finish_recording(&self, state: &SignalingState, ticket: &str, call: Arc<MediaCall>) {
        let (state, ticket) = (state.clone(), ticket.to_owned());
        let mut set = self
            .finishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while set.try_join_next().is_some() {}
        set.spawn(async move { recording::finish(&state, &ticket, &call).await });
    }

    /// Waits until every recording of an ended call is finished and sealed (a stopping node
    /// waits for this before it exits).
    pub async fn recordings_sealed(&self) {
        let set = std::mem::take(
            &mut *self
                .finishing
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        set.join_all().await;
    }

    /// The tickets whose calls run here.
    pub fn tickets(&self) -> Vec<String> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }
}

/// A call's forwarder, made before the acceptance is written so that failing to make it
/// changes nothing: [`start`] runs it once the acceptance is written, [`Prepared::discard`]
/// closes it when it is not.
pub(crate) struct Prepared {
    call: Arc<MediaCall>,
    feed: CandidateFeed,
}

/// Makes the forwarder for a call (its two legs and their sockets).
pub(crate) async fn prepare(state: &SignalingState) -> Result<Prepared, Error> {
    let (call, feed) = MediaCall::cross(&state.media, &state.media_threads).await?;
    Ok(Prepared { call, feed })
}

impl Prepared {
    /// Closes a forwarder whose call did not start.
    pub(crate) async fn discard(self) {
        self.call.close().await;
    }
}

/// Runs a prepared forwarder as a ticket's call, recorded from `now`, with a task that sends
/// each browser the forwarder's ICE candidates. Returns how the recording started, to tell.
pub(crate) async fn start(
    state: &SignalingState,
    prepared: Prepared,
    ticket: &str,
    agent_user: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> recording::Started {
    let Prepared { call, mut feed } = prepared;
    if let Some(old) = state.calls.insert(ticket, call.clone()) {
        old.close().await;
        state.calls.finish_recording(state, ticket, old);
    }
    let recorded = recording::start(state, &call, ticket, now).await;
    tokio::spawn(report_quality(
        state.clone(),
        ticket.to_owned(),
        agent_user.to_owned(),
        Arc::downgrade(&call),
    ));
    let state = state.clone();
    let (ticket, agent) = (ticket.to_owned(), agent_user.to_owned());
    tokio::spawn(async move {
        while let Some((side, c)) = feed.recv().await {
            let candidate = to_protocol(c);
            let sent = match side {
                Side::Citizen => {
                    deliver::to_citizen(&state, &ticket, &ToCitizen::Ice { candidate }).await
                }
                Side::Agent => deliver::to_agent(&state, &agent, &ToAgent::Ice { candidate }).await,
            };
            if let Err(e) = sent {
                tracing::warn!(error = %e, "sending a media candidate");
            }
        }
    });
    recorded
}

/// How often the agent is told the call's quality.
const QUALITY_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Tells the agent both sides' quality every 2 s while this call (not a later one of the
/// same ticket, which has its own reporter) runs here.
async fn report_quality(
    state: SignalingState,
    ticket: String,
    agent: String,
    this: std::sync::Weak<MediaCall>,
) {
    let mut every = tokio::time::interval(QUALITY_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let Some(call) = state.calls.get(&ticket) else {
            return;
        };
        if !std::ptr::eq(Arc::as_ptr(&call), this.as_ptr()) {
            return;
        }
        let (Some(citizen), Some(own)) = (
            call.quality(Side::Citizen).await,
            call.quality(Side::Agent).await,
        ) else {
            return;
        };
        drop(call);
        if let Err(e) = deliver::to_agent(
            &state,
            &agent,
            &ToAgent::Quality {
                citizen,
                agent: own,
            },
        )
        .await
        {
            tracing::warn!(error = %e, "sending call quality");
        }
    }
}

/// Stops a ticket's call: here, if it runs here (both peer connections close and every task
/// and UDP socket of the call goes), otherwise on the node that runs it, through the bus (a
/// decision or a clean-up made on another node than the call's).
pub(crate) async fn end(state: &SignalingState, ticket: &str) {
    if !end_here(state, ticket).await
        && state.store.backend() == store::Backend::Postgres
        && let Err(e) = deliver::end_on_call_node(state, ticket).await
    {
        tracing::warn!(error = %e, %ticket, "asking the call's node to end its media");
    }
}

/// Stops a ticket's call if it runs here, and has its recording finished and sealed in the
/// background (the sides are told the call's end without waiting for the disk); false when
/// it does not run here.
pub async fn end_here(state: &SignalingState, ticket: &str) -> bool {
    match state.calls.remove(ticket) {
        Some(call) => {
            call.close().await;
            state.calls.finish_recording(state, ticket, call);
            true
        }
        None => false,
    }
}

/// Answers a browser's offer for its side of a ticket's call.
pub async fn offer(
    state: &SignalingState,
    ticket: &str,
    side: Side,
    description: SessionDescription,
) -> Result<SessionDescription, Error> {
    let call = state.calls.get(ticket).ok_or(Error::NoCall)?;
    answer(&call, side, description).await
}

/// Adds a browser's ICE candidate to its side of a ticket's call.
pub async fn ice(
    state: &SignalingState,
    ticket: &str,
    side: Side,
    candidate: IceCandidate,
) -> Result<(), Error> {
    let call = state.calls.get(ticket).ok_or(Error::NoCall)?;
    add_ice(&call, side, candidate).await
}

/// Answers an offer on one side of a media session.
pub async fn answer(
    call: &MediaCall,
    side: Side,
    description: SessionDescription,
) -> Result<SessionDescription, Error> {
    let offer: RTCSessionDescription = serde_json::to_value(&description)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::BadMedia(e.to_string()))?;
    let answer = call.offer(side, offer).await?;
    serde_json::to_value(&answer)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::BadMedia(e.to_string()))
}

/// Adds a candidate to one side of a media session.
pub async fn add_ice(call: &MediaCall, side: Side, candidate: IceCandidate) -> Result<(), Error> {
    let init: RTCIceCandidateInit = serde_json::to_value(&candidate)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::BadMedia(e.to_string()))?;
    call.add_ice(side, init).await?;
    Ok(())
}

pub(crate) fn to_protocol(c: RTCIceCandidateInit) -> IceCandidate {
    IceCandidate {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_m_line_index: c.sdp_mline_index,
        username_fragment: c.username_fragment,
    }
}
