//! A webrtc-rs peer standing in for a browser: it offers, trickles ICE over the signaling
//! socket, sends numbered audio and video RTP, and records what it receives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, RTCIceCandidateInit, RTCIceServer, RTCPeerConnectionState,
    RTCSessionDescription,
};
use webrtc::rtp_transceiver::RtpSender;

use media::{Client, ClientOptions, EventStreams, client};

use crate::ws_helpers::Ws;

/// What a peer received: (kind, payload) in arrival order.
pub type Received = Arc<Mutex<Vec<(RtpCodecKind, Vec<u8>)>>>;

pub struct TestPeer {
    pub pc: Arc<dyn PeerConnection>,
    video: Arc<TrackLocalStaticRTP>,
    audio: Arc<TrackLocalStaticRTP>,
    video_sender: Arc<dyn RtpSender>,
    audio_sender: Arc<dyn RtpSender>,
    candidates: mpsc::UnboundedReceiver<RTCIceCandidateInit>,
    tracks: Option<mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>>,
    state: watch::Receiver<RTCPeerConnectionState>,
    pub received: Received,
    sent: Arc<Mutex<Vec<String>>>,
    /// videoreg's candidates, as received.
    remote_candidates: Arc<Mutex<Vec<String>>>,
    /// The video track received, once it has arrived (for sending keyframe requests).
    remote_video: Arc<Mutex<Option<Arc<dyn TrackRemote>>>>,
    /// The next RTP sequence number: a second `send` carries on from the first (SRTP drops
    /// a sequence number it has seen as a replay).
    next_seq: Arc<std::sync::atomic::AtomicU16>,
}

impl TestPeer {
    pub async fn new(ssrc_base: u32, id: &str) -> Self {
        Self::with_ice(ssrc_base, id, Vec::new(), false).await
    }

    /// A peer that uses the given STUN/TURN servers, and only relay candidates if asked.
    pub async fn with_ice(
        ssrc_base: u32,
        id: &str,
        servers: Vec<RTCIceServer>,
        relay_only: bool,
    ) -> Self {
        let Client {
            pc,
            video,
            audio,
            video_sender,
            audio_sender,
            events:
                EventStreams {
                    candidates,
                    tracks,
                    state,
                },
        } = client(ClientOptions {
            ip: "127.0.0.1",
            ice_servers: servers,
            relay_only,
            ssrc_base,
            label: id,
        })
        .await
        .expect("test peer");
        Self {
            pc,
            video,
            audio,
            video_sender,
            audio_sender,
            candidates,
            tracks: Some(tracks),
            state,
            received: Default::default(),
            sent: Default::default(),
            remote_video: Default::default(),
            remote_candidates: Default::default(),
            next_seq: Default::default(),
        }
    }

    /// Offers over the socket, answers ICE both ways, and waits until connected.
    pub async fn connect(&mut self, ws: &mut Ws) {
        assert!(
            self.try_connect(ws, Duration::from_secs(20)).await,
            "media did not connect within 20 s"
        );
    }

    /// Like `connect`, but says whether it connected within `limit` instead of failing.
    pub async fn try_connect(&mut self, ws: &mut Ws, limit: Duration) -> bool {
        let offer = self.pc.create_offer(None).await.expect("offer");
        self.pc
            .set_local_description(offer.clone())
            .await
            .expect("local offer");
        ws.send(json!({ "type": "offer", "description": offer }))
            .await;
        let mut answered = false;
        let mut pending: Vec<RTCIceCandidateInit> = Vec::new();
        let mut state = self.state.clone();
        let deadline = tokio::time::sleep(limit);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                m = ws.recv() => match m["type"].as_str() {
                    Some("answer") => {
                        let answer: RTCSessionDescription = serde_json::from_value(m["description"].clone()).expect("answer");
                        self.pc.set_remote_description(answer).await.expect("remote answer");
                        answered = true;
                        for c in pending.drain(..) {
                            self.pc.add_ice_candidate(c).await.expect("remote candidate");
                        }
                    }
                    Some("ice") => {
                        let c: RTCIceCandidateInit = serde_json::from_value(m["candidate"].clone()).expect("candidate");
                        self.remote_candidates.lock().expect("lock").push(c.candidate.clone());
                        if answered { self.pc.add_ice_candidate(c).await.expect("remote candidate") } else { pending.push(c) }
                    }
                    Some("error") => panic!("signaling error during negotiation: {m}"),
                    _ => {}
                },
                Some(c) = self.candidates.recv() => {
                    self.sent.lock().expect("lock").push(c.candidate.clone());
                    ws.send(json!({ "type": "ice", "candidate": c })).await;
                }
                r = state.changed() => {
                    r.expect("state");
                    if *state.borrow() == RTCPeerConnectionState::Connected { break; }
                }
                () = &mut deadline => return false,
            }
        }
        self.spawn_receivers();
        true
    }

    /// Offers again on the live connection and applies the answer (renegotiation).
    pub async fn renegotiate(&self, ws: &mut Ws) {
        let offer = self.pc.create_offer(None).await.expect("offer");
        self.pc
            .set_local_description(offer.clone())
            .await
            .expect("local offer");
        ws.send(json!({ "type": "offer", "description": offer }))
            .await;
        let answer = ws.until("answer").await;
        let answer: RTCSessionDescription =
            serde_json::from_value(answer["description"].clone()).expect("answer");
        self.pc
            .set_remote_description(answer)
            .await
            .expect("remote answer");
    }

    /// Asks the sender of the received video for a keyframe (RTCP PLI), as a decoder would.
    pub async fn request_keyframe(&self) -> bool {
        let track = self.remote_video.lock().expect("lock").clone();
        let Some(track) = track else { return false };
        let media_ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc,
        };
        track.write_rtcp(vec![Box::new(pli)]).await.is_ok()
    }

    /// The UDP ports in videoreg's candidates (the forwarder's sockets for this peer).
    pub fn forwarder_ports(&self) -> Vec<u16> {
        // candidate:<foundation> <component> <transport> <priority> <address> <port> typ …
        self.remote_candidates
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|c| c.split_whitespace().nth(5).and_then(|p| p.parse().ok()))
            .collect()
    }

    /// The candidates this peer has sent so far (for checking their type).
    pub fn sent_candidates(&self) -> Vec<String> {
        self.sent.lock().expect("lock").clone()
    }

    fn spawn_receivers(&mut self) {
        let Some(mut tracks) = self.tracks.take() else {
            return;
        };
        let received = self.received.clone();
        let remote_video = self.remote_video.clone();
        tokio::spawn(async move {
            while let Some(t) = tracks.recv().await {
                let received = received.clone();
                let remote_video = remote_video.clone();
                tokio::spawn(async move {
                    let kind = t.kind().await;
                    if kind == RtpCodecKind::Video {
                        *remote_video.lock().expect("lock") = Some(t.clone());
                    }
                    while let Some(e) = t.poll().await {
                        if let TrackRemoteEvent::OnRtpPacket(p) = e {
                            received
                                .lock()
                                .expect("lock")
                                .push((kind, p.payload.to_vec()));
                        }
                    }
                });
            }
        });
    }

    /// Sends `count` numbered packets on each track, 20 ms apart: payloads `<tag>V<n>` and
    /// `<tag>A<n>`.
    pub fn send(&self, tag: &'static str, count: u16) -> JoinHandle<()> {
        let first = self
            .next_seq
            .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        let (video, audio) = (self.video.clone(), self.audio.clone());
        let (vs, as_) = (self.video_sender.clone(), self.audio_sender.clone());
        tokio::spawn(async move {
            let pt = |s: Arc<dyn RtpSender>, mime: &'static str| async move {
                s.get_parameters().await.ok().and_then(|p| {
                    p.rtp_parameters
                        .codecs
                        .iter()
                        .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(mime))
                        .map(|c| c.payload_type)
                })
            };
            let (vpt, apt) = (
                pt(vs, MIME_TYPE_VP8).await.unwrap_or(96),
                pt(as_, MIME_TYPE_OPUS).await.unwrap_or(111),
            );
            let (vssrc, assrc) = (video.ssrcs().await[0], audio.ssrcs().await[0]);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            for n in 0..count {
                tick.tick().await;
                for (t, payload_type, ssrc, kind) in
                    [(&video, vpt, vssrc, 'V'), (&audio, apt, assrc, 'A')]
                {
                    let packet = rtp::Packet {
                        header: rtp::header::Header {
                            version: 2,
                            marker: true,
                            payload_type,
                            sequence_number: first.wrapping_add(n),
                            timestamp: u32::from(first.wrapping_add(n)) * 960,
                            ssrc,
                            ..Default::default()
                        },
                        payload: bytes::Bytes::from(format!("{tag}{kind}{n}")),
                    };
                    let _ = t.write_rtp(packet).await;
                }
            }
        })
    }

    /// The outgoing video and audio tracks with the payload types the forwarder accepted
    /// (for sending real media: `recording_helpers`).
    pub async fn outgoing(&self) -> [(Arc<TrackLocalStaticRTP>, u8); 2] {
        let pt = |s: Arc<dyn RtpSender>, mime: &'static str, fallback: u8| async move {
            s.get_parameters()
                .await
                .ok()
                .and_then(|p| {
                    p.rtp_parameters
                        .codecs
                        .iter()
                        .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(mime))
                        .map(|c| c.payload_type)
                })
                .unwrap_or(fallback)
        };
        [
            (
                self.video.clone(),
                pt(self.video_sender.clone(), MIME_TYPE_VP8, 96).await,
            ),
            (
                self.audio.clone(),
                pt(self.audio_sender.clone(), MIME_TYPE_OPUS, 111).await,
            ),
        ]
    }

    /// The payloads received of one kind, as text.
    pub fn payloads(&self, kind: RtpCodecKind) -> Vec<String> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, p)| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    pub async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.pc.close()).await;
    }
}

/// Both peers send 60 numbered packets of each kind at once (tagged `a_tag` and `b_tag`), and
/// this waits (at most 3 s after sending) until each has received at least 50 videos.
pub async fn exchange(a: &TestPeer, a_tag: &'static str, b: &TestPeer, b_tag: &'static str) {
    let (from_a, from_b) = (a.send(a_tag, 60), b.send(b_tag, 60));
    from_a.await.expect("first sender");
    from_b.await.expect("second sender");
    for _ in 0..30 {
        if a.payloads(RtpCodecKind::Video).len() >= 50
            && b.payloads(RtpCodecKind::Video).len() >= 50
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What `peer` (named `who`) received of a kind, asserted to be at least 50 of the 60 sent
/// and all from the sender tagged `from`.
pub fn received_from(peer: &TestPeer, kind: RtpCodecKind, from: &str, who: &str) -> Vec<String> {
    let k = if kind == RtpCodecKind::Video {
        'V'
    } else {
        'A'
    };
    let got = peer.payloads(kind);
    assert!(
        got.len() >= 50,
        "{who} received {} {kind} packets of 60",
        got.len()
    );
    for p in &got {
        assert!(
            p.starts_with(&format!("{from}{k}")),
            "{who} got a foreign {kind} payload {p:?}"
        );
    }
    got
}
