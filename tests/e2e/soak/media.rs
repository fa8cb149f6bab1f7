//! Real media for the soak: a webrtc-rs peer standing in for a browser (`media::client`),
//! negotiated over the soak's signaling socket, sending numbered VP8 and Opus RTP every 20 ms
//! and counting what comes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use media::{Client, ClientOptions, EventStreams, client};
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp;
use serde_json::{Value, json};
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::{RTCIceCandidateInit, RTCPeerConnectionState, RTCSessionDescription};
use webrtc::rtp_transceiver::RtpSender;

use super::ws::Ws;

/// A connected stand-in browser and the packets it has received.
pub struct MediaPeer {
    client: Client,
    pub received: Arc<AtomicU64>,
}

/// Negotiates a peer over `ws` (offer, answer, trickled ICE both ways) within `limit`.
/// `None` when it did not connect; messages that are not part of the negotiation are kept
/// on `ws` for the caller.
pub async fn connect(ws: &mut Ws, ssrc_base: u32, limit: Duration) -> Option<MediaPeer> {
    let Client {
        pc,
        video,
        audio,
        video_sender,
        audio_sender,
        events:
            EventStreams {
                mut candidates,
                mut tracks,
                state,
            },
    } = client(ClientOptions {
        ip: "127.0.0.1",
        ice_servers: Vec::new(),
        relay_only: false,
        ssrc_base,
        label: "soak",
    })
    .await
    .ok()?;
    let offer = pc.create_offer(None).await.ok()?;
    pc.set_local_description(offer.clone()).await.ok()?;
    ws.send(json!({ "type": "offer", "description": offer }))
        .await;
    let (mut answered, mut pending, mut state) = (false, Vec::<RTCIceCandidateInit>::new(), state);
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    let connected = loop {
        tokio::select! {
            m = ws.recv_raw() => match m["type"].as_str() {
                Some("answer") => {
                    let Ok(answer) = serde_json::from_value::<RTCSessionDescription>(m["description"].clone()) else { break false };
                    if pc.set_remote_description(answer).await.is_err() { break false }
                    answered = true;
                    for c in pending.drain(..) {
                        let _ = pc.add_ice_candidate(c).await;
                    }
                }
                Some("ice") => {
                    let Ok(c) = serde_json::from_value::<RTCIceCandidateInit>(m["candidate"].clone()) else { continue };
                    if answered { let _ = pc.add_ice_candidate(c).await; } else { pending.push(c) }
                }
                Some("position" | "queue" | "quality" | "state") => {}
                _ => { ws.keep(m); break false }
            },
            Some(c) = candidates.recv() => ws.send(json!({ "type": "ice", "candidate": c })).await,
            r = state.changed() => {
                if r.is_err() { break false }
                if *state.borrow() == RTCPeerConnectionState::Connected { break true }
            }
            () = &mut deadline => break false,
        }
    };
    let client = Client {
        pc,
        video,
        audio,
        video_sender,
        audio_sender,
        events: EventStreams {
            candidates,
            tracks: tokio::sync::mpsc::unbounded_channel().1,
            state,
        },
    };
    if !connected {
        close_client(&client).await;
        return None;
    }
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        while let Some(track) = tracks.recv().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                while let Some(e) = track.poll().await {
                    if let TrackRemoteEvent::OnRtpPacket(_) = e {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    Some(MediaPeer { client, received })
}

impl MediaPeer {
    /// Sends `count` packets on each track, 20 ms apart (what a camera and a microphone
    /// would), then waits up to 1 s for packets to come back; returns how many came.
    pub async fn send(&self, count: u16) -> u64 {
        let c = &self.client;
        let pt = |s: Arc<dyn RtpSender>, mime: &'static str| async move {
            s.get_parameters().await.ok().and_then(|p| {
                p.rtp_parameters
                    .codecs
                    .iter()
                    .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(mime))
                    .map(|c| c.payload_type)
            })
        };
        let vpt = pt(c.video_sender.clone(), MIME_TYPE_VP8)
            .await
            .unwrap_or(96);
        let apt = pt(c.audio_sender.clone(), MIME_TYPE_OPUS)
            .await
            .unwrap_or(111);
        let vssrc = c.video.ssrcs().await.first().copied().unwrap_or(1);
        let assrc = c.audio.ssrcs().await.first().copied().unwrap_or(2);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for n in 0..count {
            tick.tick().await;
            for (track, payload_type, ssrc) in [(&c.video, vpt, vssrc), (&c.audio, apt, assrc)] {
                let packet = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        marker: true,
                        payload_type,
                        sequence_number: n,
                        timestamp: u32::from(n) * 960,
                        ssrc,
                        ..Default::default()
                    },
                    payload: bytes::Bytes::from(vec![0x90, 0, 0, n as u8, 1, 2, 3, 4]),
                };
                let _ = track.write_rtp(packet).await;
            }
        }
        for _ in 0..10 {
            if self.received.load(Ordering::Relaxed) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.received.load(Ordering::Relaxed)
    }

    pub async fn close(self) {
        close_client(&self.client).await;
    }
}

async fn close_client(client: &Client) {
    let _ = tokio::time::timeout(Duration::from_secs(5), client.pc.close()).await;
}

/// The echo result a browser reports after a good test call.
pub fn good_echo_result() -> Value {
    json!({ "type": "echo_result", "verdict": "good", "rtt_ms": 20.0, "loss_pct": 0.0, "jitter_ms": 4.0, "kbps": 900.0 })
}
