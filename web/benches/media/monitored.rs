//! Monitored calls against the same calls unwatched: N calls through the forwarder process
//! (as in `main.rs`), once plain and once with a supervisor's receive-only monitor (a
//! webrtc-rs peer with four receive-only transceivers) on each call. Reports the forwarder's
//! CPU per call both ways, the calls' added one-way latency p99, and what the monitors
//! received (packets per second per monitor), which shows they got both sides' media.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use webrtc::peer_connection::{PeerConnection, RTCPeerConnectionState};

use media::{EventStreams, monitor_client};

use super::peers::{Sink, receive};
use super::{Forwarder, Run, run, run_with};

/// Connects a receive-only monitor to `call`; what it receives is counted in `sink`.
pub async fn watch(
    fwd: &Forwarder,
    call: u64,
    sink: &Arc<Sink>,
    base: Instant,
) -> Arc<dyn PeerConnection> {
    let (pc, events) = monitor_client("127.0.0.1").await.expect("monitor peer");
    let EventStreams {
        mut candidates,
        tracks,
        mut state,
    } = events;
    let offer = pc.create_offer(None).await.expect("offer");
    pc.set_local_description(offer).await.expect("local");
    let _ = tokio::time::timeout(Duration::from_secs(2), candidates.recv()).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let offer = pc.local_description().await.expect("offer set");
    let answer = fwd.monitor(call, offer).await;
    pc.set_remote_description(answer).await.expect("remote");
    let connected = async {
        while *state.borrow_and_update() != RTCPeerConnectionState::Connected {
            state.changed().await.expect("state");
        }
    };
    tokio::time::timeout(Duration::from_secs(20), connected)
        .await
        .expect("monitor connected in 20 s");
    receive(tracks, base, sink.clone());
    pc
}

pub async fn compare(ns: &[usize]) {
    let fwd = Forwarder::start();
    println!(
        "| calls | forwarder CPU per call, unwatched | one monitor per call | added | latency p99 unwatched / watched | added p99 | packets/s per monitor |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &n in ns {
        let plain = run(n, Some(&fwd), None).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let sink = Arc::new(Sink::default());
        let watched = run_with(n, Some(&fwd), None, Some(&sink)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let per_call = |r: &Run| r.forwarder_cores / n as f64;
        let seconds = (super::SECONDS + 1) as f64;
        println!(
            "| {n} | {:.4} | {:.4} | {:+.0} % | {:.2} / {:.2} ms | {:+.2} ms | {:.0} |",
            per_call(&plain),
            per_call(&watched),
            (per_call(&watched) / per_call(&plain).max(1e-9) - 1.0) * 100.0,
            plain.p99_ms,
            watched.p99_ms,
            watched.p99_ms - plain.p99_ms,
            sink.packets.load(Ordering::Relaxed) as f64 / seconds / n as f64,
        );
    }
}
