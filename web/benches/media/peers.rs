//! The benchmark's webrtc-rs test peers: building one, receiving (counting packets and the
//! latency stamped in payload bytes 2–9) and sending real-rate audio and video. Byte 0 is a
//! VP8 payload descriptor (start of a frame on a frame's first packet) and byte 1 a frame
//! tag (a keyframe every 2 s, as often as a recording asks for one), so that a recording of a
//! benchmark call reassembles and muxes its frames as it would a browser's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::{Client, ClientOptions, EventStreams, client};
use rtc::rtp;
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateInit, RTCPeerConnectionState};

/// One test peer: its connection, its outgoing tracks and its event streams.
pub struct Peer {
    pub pc: Arc<dyn PeerConnection>,
    pub video: Arc<TrackLocalStaticRTP>,
    pub audio: Arc<TrackLocalStaticRTP>,
    pub candidates: mpsc::UnboundedReceiver<RTCIceCandidateInit>,
    pub tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
    pub state: watch::Receiver<RTCPeerConnectionState>,
}

/// A test peer with its UDP socket on `ip` (loopback, or the benchmark namespace's veth).
pub async fn peer(ssrc: u32, ip: &str) -> Peer {
    let Client {
        pc,
        video,
        audio,
        events:
            EventStreams {
                candidates,
                tracks,
                state,
            },
        ..
    } = client(ClientOptions {
        ip,
        ice_servers: Vec::new(),
        relay_only: false,
        ssrc_base: ssrc,
        label: "bench",
    })
    .await
    .expect("peer");
    Peer {
        pc,
        video,
        audio,
        candidates,
        tracks,
        state,
    }
}

/// Latencies (µs) and packet counts shared by all receivers.
#[derive(Default)]
pub struct Sink {
    pub latencies: Mutex<Vec<u32>>,
    pub packets: AtomicU64,
}

pub fn receive(
    mut tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
    base: Instant,
    sink: Arc<Sink>,
) {
    tokio::spawn(async move {
        while let Some(t) = tracks.recv().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                while let Some(e) = t.poll().await {
                    if let TrackRemoteEvent::OnRtpPacket(p) = e {
                        sink.packets.fetch_add(1, Ordering::Relaxed);
                        if p.payload.len() >= 10 {
                            let mut b = [0u8; 8];
                            b.copy_from_slice(&p.payload[2..10]);
                            let sent = u64::from_be_bytes(b);
                            let now = base.elapsed().as_micros() as u64;
                            let mut l = sink.latencies.lock().expect("lock");
                            l.push(now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
                        }
                    }
                }
            });
        }
    });
}

/// Starts every peer's sender, their clocks spread evenly over one frame: independent calls
/// do not capture frames in step (all ticking at once would make one burst of every
/// peer's packets each frame, a queue no real set of calls builds).
pub fn send_all(
    peers: &[Peer],
    base: Instant,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let n = peers.len().max(1) as u64;
    peers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            send(
                p,
                base,
                stop.clone(),
                Duration::from_micros(i as u64 * 33_000 / n),
            )
        })
        .collect()
}

/// Sends real-rate media until `stop`, starting after `phase`: audio every 20 ms, 3 video
/// packets every 33 ms.
fn send(
    p: &Peer,
    base: Instant,
    stop: watch::Receiver<bool>,
    phase: Duration,
) -> tokio::task::JoinHandle<()> {
    let (video, audio) = (p.video.clone(), p.audio.clone());
    tokio::spawn(async move {
        let (vssrc, assrc) = (video.ssrcs().await[0], audio.ssrcs().await[0]);
        let start = tokio::time::Instant::now() + phase;
        let mut audio_tick = tokio::time::interval_at(start, Duration::from_millis(20));
        let mut video_tick = tokio::time::interval_at(start, Duration::from_millis(33));
        let (mut aseq, mut vseq, mut frame) = (0u16, 0u16, 0u32);
        let mut stop = stop;
        // Byte 0: a VP8 descriptor, S set on a frame's first packet (for audio, an Opus TOC);
        // byte 1: the frame tag, bit 0 clear for a keyframe.
        let stamp = |size: usize, first: bool, key: bool| {
            let mut payload = vec![0u8; size];
            payload[0] = if first { 0x10 } else { 0 };
            payload[1] = u8::from(!key);
            payload[2..10].copy_from_slice(&(base.elapsed().as_micros() as u64).to_be_bytes());
            bytes::Bytes::from(payload)
        };
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = audio_tick.tick() => {
                    aseq = aseq.wrapping_add(1);
                    let h = rtp::header::Header { version: 2, payload_type: 111, sequence_number: aseq, timestamp: u32::from(aseq) * 960, ssrc: assrc, ..Default::default() };
                    let _ = audio.write_rtp(rtp::Packet { header: h, payload: stamp(160, false, false) }).await;
                }
                _ = video_tick.tick() => {
                    // A frame's three packets share its timestamp.
                    frame = frame.wrapping_add(1);
                    for i in 0..3u16 {
                        vseq = vseq.wrapping_add(1);
                        let h = rtp::header::Header { version: 2, marker: i == 2, payload_type: 96, sequence_number: vseq, timestamp: frame.wrapping_mul(3000), ssrc: vssrc, ..Default::default() };
                        let _ = video.write_rtp(rtp::Packet { header: h, payload: stamp(1000, i == 0, frame % 60 == 1) }).await;
                    }
                }
            }
        }
    })
}

pub fn pct(v: &mut [u32], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    f64::from(v[((v.len() as f64 - 1.0) * p) as usize]) / 1000.0
}
