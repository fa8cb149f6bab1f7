//! Peer-connection events as channels: webrtc-rs calls its handler on the connection's
//! driver task, where nothing may block or hold the connection, so the handler only passes
//! events on. Used by the test and benchmark peers (the forwarder itself runs on the sans-I/O
//! core, see `session.rs`).

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState,
};

/// The handler: forwards candidates, tracks and state changes into channels.
pub struct ChannelEvents {
    candidates: mpsc::UnboundedSender<RTCIceCandidateInit>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
    state: watch::Sender<RTCPeerConnectionState>,
}

/// The receiving ends.
pub struct EventStreams {
    /// Local ICE candidates, as gathered.
    pub candidates: mpsc::UnboundedReceiver<RTCIceCandidateInit>,
    /// Tracks the other side sends (each appears with its first packet).
    pub tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
    /// The connection state.
    pub state: watch::Receiver<RTCPeerConnectionState>,
}

/// A handler and its streams.
pub fn channel_events() -> (Arc<ChannelEvents>, EventStreams) {
    let (candidates_tx, candidates) = mpsc::unbounded_channel();
    let (tracks_tx, tracks) = mpsc::unbounded_channel();
    let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
    (
        Arc::new(ChannelEvents {
            candidates: candidates_tx,
            tracks: tracks_tx,
            state: state_tx,
        }),
        EventStreams {
            candidates,
            tracks,
            state,
        },
    )
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for ChannelEvents {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.candidates.send(init);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }
}
