//! Media forwarder benchmark: N concurrent calls of webrtc-rs peers sending real-rate audio
//! (50 packets/s of 160 B) and video (90 packets/s of 1,000 B, about 720 kbit/s) both ways
//! through `MediaCall` running in a separate forwarder process (see `forwarder.rs`), for
//! 10 s; the same peers paired directly (no forwarder) are the latency baseline.
//!
//! `cargo bench -p web --bench media` (add `-- 1 10 50` to choose N); `-- echo` runs the test
//! call benchmark instead (see `echo.rs`), `-- echo-vs-janus` the side-by-side run against
//! Janus's EchoTest (see `janus.rs`).
//!
//! Reports, per N: packets forwarded per second, the forwarder process's CPU (cores, from
//! `/proc/<pid>`) in all and per call, packets per second per forwarder core, its memory per
//! call, the peers' CPU, and the one-way latency p50/p99 with and without the forwarder
//! (stamped and read in the benchmark process, same clock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use signaling::media::{EventStreams, MediaConfig, Side, channel_events, out_track};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCPeerConnectionState, Registry, SettingEngineBuilder,
    register_default_interceptors,
};

const SECONDS: u64 = 10;

mod echo;
mod forwarder;
mod janus;
#[path = "../common/proc_stats.rs"]
mod proc_stats;

use forwarder::Forwarder;
use proc_stats::{cpu_seconds, load_average, rss_kib};

struct Peer {
    pc: Arc<dyn PeerConnection>,
    video: Arc<TrackLocalStaticRTP>,
    audio: Arc<TrackLocalStaticRTP>,
    candidates: mpsc::UnboundedReceiver<RTCIceCandidateInit>,
    tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
    state: watch::Receiver<RTCPeerConnectionState>,
}

/// A test peer with its UDP socket on `ip` (loopback, or the benchmark namespace's veth).
async fn peer(ssrc: u32, ip: &str) -> Peer {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    let registry =
        register_default_interceptors(Registry::new(), &mut engine).expect("interceptors");
    let settings = SettingEngineBuilder::new()
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .with_network_types(vec![NetworkType::Udp4])
        .build();
    let (
        handler,
        EventStreams {
            candidates,
            tracks,
            state,
        },
    ) = channel_events();
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_setting_engine(settings)
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec![format!("{ip}:0")])
            .build()
            .await
            .expect("peer"),
    );
    let video = out_track(RtpCodecKind::Video, ssrc, "bench");
    let audio = out_track(RtpCodecKind::Audio, ssrc + 1, "bench");
    pc.add_track(video.clone()).await.expect("video");
    pc.add_track(audio.clone()).await.expect("audio");
    Peer {
        pc,
        video,
        audio,
        candidates,
        tracks,
        state,
    }
}

/// Connects a peer to one side of a call in the forwarder process.
async fn connect_to_call(
    p: &mut Peer,
    fwd: &Forwarder,
    call: u64,
    side: Side,
    feed: &mut mpsc::UnboundedReceiver<RTCIceCandidateInit>,
) {
    let offer = p.pc.create_offer(None).await.expect("offer");
    p.pc.set_local_description(offer.clone())
        .await
        .expect("local");
    let answer = fwd.offer(call, side, offer).await;
    p.pc.set_remote_description(answer).await.expect("remote");
    let mut state = p.state.clone();
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            Some(c) = p.candidates.recv() => fwd.add_ice(call, side, c).await,
            Some(c) = feed.recv() => p.pc.add_ice_candidate(c).await.expect("ice from call"),
            r = state.changed() => { r.expect("state"); if *state.borrow() == RTCPeerConnectionState::Connected { break } }
            () = &mut deadline => panic!("no connection in 20 s"),
        }
    }
}

/// Connects two peers directly (the baseline).
async fn connect_direct(a: &mut Peer, b: &mut Peer) {
    let offer = a.pc.create_offer(None).await.expect("offer");
    a.pc.set_local_description(offer.clone())
        .await
        .expect("local");
    b.pc.set_remote_description(offer).await.expect("remote");
    let answer = b.pc.create_answer(None).await.expect("answer");
    b.pc.set_local_description(answer.clone())
        .await
        .expect("local");
    a.pc.set_remote_description(answer).await.expect("remote");
    let (mut sa, mut sb) = (a.state.clone(), b.state.clone());
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            Some(c) = a.candidates.recv() => b.pc.add_ice_candidate(c).await.expect("ice"),
            Some(c) = b.candidates.recv() => a.pc.add_ice_candidate(c).await.expect("ice"),
            _ = sa.changed() => {}
            _ = sb.changed() => {}
            () = &mut deadline => panic!("no direct connection in 20 s"),
        }
        if *sa.borrow() == RTCPeerConnectionState::Connected
            && *sb.borrow() == RTCPeerConnectionState::Connected
        {
            break;
        }
    }
}

/// Latencies (µs) and packet counts shared by all receivers.
#[derive(Default)]
struct Sink {
    latencies: Mutex<Vec<u32>>,
    packets: AtomicU64,
}

fn receive(
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
                        if p.payload.len() >= 8 {
                            let mut b = [0u8; 8];
                            b.copy_from_slice(&p.payload[..8]);
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

/// Sends real-rate media until `stop`: audio every 20 ms, 3 video packets every 33 ms.
fn send(p: &Peer, base: Instant, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (video, audio) = (p.video.clone(), p.audio.clone());
    tokio::spawn(async move {
        let (vssrc, assrc) = (video.ssrcs().await[0], audio.ssrcs().await[0]);
        let mut audio_tick = tokio::time::interval(Duration::from_millis(20));
        let mut video_tick = tokio::time::interval(Duration::from_millis(33));
        let (mut aseq, mut vseq) = (0u16, 0u16);
        let mut stop = stop;
        let stamp = |size: usize| {
            let mut payload = vec![0u8; size];
            payload[..8].copy_from_slice(&(base.elapsed().as_micros() as u64).to_be_bytes());
            bytes::Bytes::from(payload)
        };
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = audio_tick.tick() => {
                    aseq = aseq.wrapping_add(1);
                    let h = rtp::header::Header { version: 2, payload_type: 111, sequence_number: aseq, timestamp: u32::from(aseq) * 960, ssrc: assrc, ..Default::default() };
                    let _ = audio.write_rtp(rtp::Packet { header: h, payload: stamp(160) }).await;
                }
                _ = video_tick.tick() => {
                    for i in 0..3u16 {
                        vseq = vseq.wrapping_add(1);
                        let h = rtp::header::Header { version: 2, marker: i == 2, payload_type: 96, sequence_number: vseq, timestamp: u32::from(vseq / 3) * 3000, ssrc: vssrc, ..Default::default() };
                        let _ = video.write_rtp(rtp::Packet { header: h, payload: stamp(1000) }).await;
                    }
                }
            }
        }
    })
}

fn pct(v: &mut [u32], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    f64::from(v[((v.len() as f64 - 1.0) * p) as usize]) / 1000.0
}

struct Run {
    /// CPU of the benchmark process (the test peers), in cores.
    peer_cores: f64,
    /// CPU of the forwarder process, in cores (0 when direct).
    forwarder_cores: f64,
    /// Growth of the forwarder's resident memory over the run, KiB.
    forwarder_rss_kib: u64,
    received_pps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn run(n: usize, fwd: Option<&Forwarder>) -> Run {
    let base = Instant::now();
    let sink = Arc::new(Sink::default());
    let pid = fwd.map(Forwarder::pid);
    let rss0 = pid.map_or(0, rss_kib);
    let mut peers = Vec::new();
    for i in 0..n {
        let ssrc = 0x0100_0000 + (i as u32) * 16;
        let (mut a, mut b) = (
            peer(ssrc, "127.0.0.1").await,
            peer(ssrc + 4, "127.0.0.1").await,
        );
        if let Some(fwd) = fwd {
            let (call, mut feed_a, mut feed_b) = fwd.new_call().await;
            connect_to_call(&mut a, fwd, call, Side::Citizen, &mut feed_a).await;
            connect_to_call(&mut b, fwd, call, Side::Agent, &mut feed_b).await;
        } else {
            connect_direct(&mut a, &mut b).await;
        }
        let (ta, tb) = (
            std::mem::replace(&mut a.tracks, mpsc::unbounded_channel().1),
            std::mem::replace(&mut b.tracks, mpsc::unbounded_channel().1),
        );
        receive(ta, base, sink.clone());
        receive(tb, base, sink.clone());
        peers.push(a);
        peers.push(b);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let senders: Vec<_> = peers
        .iter()
        .map(|p| send(p, base, stop_rx.clone()))
        .collect();
    // Settle for a second, then measure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    sink.latencies.lock().expect("lock").clear();
    let packets_before = sink.packets.load(Ordering::Relaxed);
    let (cpu0, fcpu0, t0) = (
        cpu_seconds(None),
        pid.map_or(0.0, |p| cpu_seconds(Some(p))),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let (cpu1, fcpu1, elapsed) = (
        cpu_seconds(None),
        pid.map_or(0.0, |p| cpu_seconds(Some(p))),
        t0.elapsed().as_secs_f64(),
    );
    let rss1 = pid.map_or(0, rss_kib);
    let received = sink.packets.load(Ordering::Relaxed) - packets_before;
    let _ = stop_tx.send(true);
    for s in senders {
        let _ = s.await;
    }
    let mut lat = std::mem::take(&mut *sink.latencies.lock().expect("lock"));
    if let Some(fwd) = fwd {
        fwd.close_all().await;
    }
    for p in &peers {
        let _ = p.pc.close().await;
    }
    Run {
        peer_cores: (cpu1 - cpu0) / elapsed,
        forwarder_cores: (fcpu1 - fcpu0) / elapsed,
        forwarder_rss_kib: rss1.saturating_sub(rss0),
        received_pps: received as f64 / elapsed,
        p50_ms: pct(&mut lat, 0.5),
        p99_ms: pct(&mut lat, 0.99),
    }
}

/// The numbers given on the command line, or 1, 10 and 50.
fn counts() -> Vec<usize> {
    let ns: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if ns.is_empty() { vec![1, 10, 50] } else { ns }
}

#[tokio::main]
async fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode == forwarder::ARG {
        forwarder::serve(MediaConfig {
            bind_ip: "127.0.0.1".parse().expect("ip"),
            ports: 41_000..=41_999,
            announce_ip: None,
            ice_servers: Vec::new(),
            turn: None,
        })
        .await;
        return;
    }
    if std::env::args().any(|a| a == "echo-vs-janus") {
        janus::compare(&counts()).await;
        return;
    }
    if std::env::args().any(|a| a == "echo") {
        echo::compare(&counts()).await;
        return;
    }
    let fwd = Forwarder::start();
    println!(
        "| calls | packets forwarded/s | forwarder CPU (cores) | per call | packets/s per forwarder core | forwarder memory per call | peers' CPU (cores) | latency p50 / p99 forwarded | direct | added p50 / p99 | machine load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for n in counts() {
        let load = load_average();
        let direct = run(n, None).await;
        let f = run(n, Some(&fwd)).await;
        println!(
            "| {n} | {:.0} | {:.3} | {:.4} | {:.0} | {:.0} KiB | {:.3} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {load:.1} |",
            f.received_pps,
            f.forwarder_cores,
            f.forwarder_cores / n as f64,
            f.received_pps / f.forwarder_cores.max(1e-9),
            f.forwarder_rss_kib as f64 / n as f64,
            f.peer_cores,
            f.p50_ms,
            f.p99_ms,
            direct.p50_ms,
            direct.p99_ms,
            f.p50_ms - direct.p50_ms,
            f.p99_ms - direct.p99_ms,
        );
        // Let the forwarder tear the calls down before the next run.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
