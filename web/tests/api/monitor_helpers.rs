//! A supervisor's monitor standing in for the dashboard's browser: a webrtc-rs connection with
//! four receive-only transceivers (video, audio, video, audio), offered over
//! `POST /supervisor/calls/{ticket}/monitor` once its candidates are gathered, recording what
//! arrives on each track with the side named in the track's id.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{PeerConnection, RTCPeerConnectionState, RTCSessionDescription};

use media::{EventStreams, monitor_client};

use crate::console_helpers::browser_json;
use crate::helpers::TestApp;
use crate::staff_helpers::Browser;

/// What a monitor received: (side named in the track id, kind, payload), in arrival order.
pub type Seen = Arc<Mutex<Vec<(String, RtpCodecKind, Vec<u8>)>>>;

pub struct MonitorPeer {
    pub pc: Arc<dyn PeerConnection>,
    tracks: Option<mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>>,
    candidates: mpsc::UnboundedReceiver<webrtc::peer_connection::RTCIceCandidateInit>,
    pub state: watch::Receiver<RTCPeerConnectionState>,
    pub seen: Seen,
    /// The monitor's id, once started.
    pub id: Option<u64>,
}

impl MonitorPeer {
    pub async fn new() -> Self {
        let (pc, events) = monitor_client("127.0.0.1").await.expect("monitor peer");
        let EventStreams {
            candidates,
            tracks,
            state,
        } = events;
        Self {
            pc,
            tracks: Some(tracks),
            candidates,
            state,
            seen: Default::default(),
            id: None,
        }
    }

    /// Offers through `browser` (a signed-in supervisor) for the call on `ticket`; returns
    /// the status and body. On 201 the answer is applied.
    pub async fn offer(
        &mut self,
        app: &TestApp,
        browser: &Browser<'_>,
        csrf: &str,
        ticket: &str,
    ) -> (u16, Value) {
        let offer = self.pc.create_offer(None).await.expect("offer");
        self.pc
            .set_local_description(offer)
            .await
            .expect("local offer");
        // Its candidates, gathered before the offer goes (one address here).
        let _ = tokio::time::timeout(Duration::from_secs(2), self.candidates.recv()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let offer = self.pc.local_description().await.expect("offer set");
        let path = format!("/supervisor/calls/{ticket}/monitor");
        let (status, body) = browser_json(
            app,
            browser,
            "POST",
            &path,
            Some((csrf, json!({ "offer": offer }))),
        )
        .await;
        if status == 201 {
            let answer: RTCSessionDescription =
                serde_json::from_value(body["answer"].clone()).expect("answer");
            self.pc
                .set_remote_description(answer)
                .await
                .expect("remote answer");
            self.id = body["monitor"].as_u64();
            self.spawn_receivers();
        }
        (status, body)
    }

    /// Waits until connected (at most 20 s).
    pub async fn connected(&mut self) {
        let wait = async {
            while *self.state.borrow_and_update() != RTCPeerConnectionState::Connected {
                self.state.changed().await.expect("state");
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .expect("the monitor connected within 20 s");
    }

    fn spawn_receivers(&mut self) {
        let Some(mut tracks) = self.tracks.take() else {
            return;
        };
        let seen = self.seen.clone();
        tokio::spawn(async move {
            while let Some(t) = tracks.recv().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let kind = t.kind().await;
                    let id = t.track_id().await;
                    let side = if id.contains("-citizen-") {
                        "citizen"
                    } else if id.contains("-agent-") {
                        "agent"
                    } else {
                        "?"
                    }
                    .to_owned();
                    while let Some(e) = t.poll().await {
                        if let TrackRemoteEvent::OnRtpPacket(p) = e {
                            seen.lock().expect("lock").push((
                                side.clone(),
                                kind,
                                p.payload.to_vec(),
                            ));
                        }
                    }
                });
            }
        });
    }

    /// The payloads seen from `side` of `kind`, as text.
    pub fn payloads(&self, side: &str, kind: RtpCodecKind) -> Vec<String> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|(s, k, _)| s == side && *k == kind)
            .map(|(_, _, p)| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    pub async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.pc.close()).await;
    }
}
