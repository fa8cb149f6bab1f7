//! Media forwarder benchmark: N concurrent calls of webrtc-rs peers sending real-rate audio
//! (50 packets/s of 160 B) and video (90 packets/s of 1,000 B, about 720 kbit/s) both ways
//! through `MediaCall` running in a separate forwarder process (see `forwarder.rs`), for
//! 10 s; the same peers paired directly (no forwarder) are the latency baseline.
//!
//! `cargo bench -p web --bench media` (add `-- 1 10 50` to choose N); `-- echo` runs the test
//! call benchmark instead (see `echo.rs`), `-- echo-vs-janus` the side-by-side run against
//! Janus's EchoTest (see `janus.rs`), `-- recorded` the same calls recorded against not
//! recorded (see `recorded.rs`), `-- recorded-vs-janus` recording's cost side by side with
//! Janus's recording and post-processing (see `janus_recorded.rs`), `-- monitored` the same
//! calls with a supervisor's monitor on each against none (see `monitored.rs`), `-- one-port`
//! the port range, one shared UDP port and ICE-TCP side by side (see `one_port.rs`),
//! `-- calls-vs-janus` calls through videoreg against Janus's VideoCall (see `janus_calls.rs`).
//!
//! Reports, per N: packets forwarded per second, the forwarder process's CPU (cores, from
//! `/proc/<pid>`) in all and per call, packets per second per forwarder core, its memory per
//! call, the peers' CPU, and the one-way latency p50/p99 with and without the forwarder
//! (stamped and read in the benchmark process, same clock).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use media::{MediaConfig, Side};
use tokio::sync::{mpsc, watch};
use webrtc::peer_connection::{RTCIceCandidateInit, RTCPeerConnectionState};

const SECONDS: u64 = 10;

mod child;
mod echo;
mod forwarder;
mod janus;
mod janus_calls;
mod janus_recorded;
mod monitored;
mod one_port;
mod peers;
#[path = "../common/proc_stats.rs"]
mod proc_stats;
mod recorded;
#[path = "../common/server.rs"]
mod server;

use forwarder::Forwarder;
use peers::{Peer, Sink, pct, peer, receive, send_all};
use proc_stats::{cpu_seconds, cpu_wait_us, load_average, rss_kib, sched};

/// Connects a peer to one side of a call in the forwarder process.
/// With `shim`, over ICE-TCP: the peer reaches the forwarder only through the shim, and its
/// own candidates are not given (the forwarder learns it from its checks over TCP).
async fn connect_to_call(
    p: &mut Peer,
    fwd: &Forwarder,
    call: u64,
    side: Side,
    feed: &mut mpsc::UnboundedReceiver<RTCIceCandidateInit>,
    shim: Option<&one_port::TcpShim>,
) {
    let offer = p.pc.create_offer(None).await.expect("offer");
    p.pc.set_local_description(offer.clone())
        .await
        .expect("local");
    let mut answer = fwd.offer(call, side, offer).await;
    if let Some(shim) = shim {
        answer =
            webrtc::peer_connection::RTCSessionDescription::answer(shim.description(&answer.sdp))
                .expect("answer");
    }
    p.pc.set_remote_description(answer).await.expect("remote");
    let mut state = p.state.clone();
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            Some(c) = p.candidates.recv() => if shim.is_none() { fwd.add_ice(call, side, c).await },
            Some(c) = feed.recv() => match shim {
                None => p.pc.add_ice_candidate(c).await.expect("ice from call"),
                Some(shim) => if let Some(via) = shim.candidate(&c.candidate) {
                    let c = RTCIceCandidateInit { candidate: via, ..c };
                    p.pc.add_ice_candidate(c).await.expect("ice from call");
                },
            },
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

struct Run {
    /// CPU of the benchmark process (the test peers), in cores.
    peer_cores: f64,
    /// CPU of the forwarder process, in cores (0 when direct).
    forwarder_cores: f64,
    /// Mean wait for a CPU of the forwarder's threads (0 when direct), µs.
    forwarder_cpu_wait_us: f64,
    /// Growth of the forwarder's resident memory over the run, KiB.
    forwarder_rss_kib: u64,
    /// Bytes and seconds the calls' recordings wrote, and how many were incomplete.
    recorded: (u64, f64, u64),
    received_pps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// N calls through the forwarder (recorded into `record` if given), or paired directly.
async fn run(n: usize, fwd: Option<&Forwarder>, record: Option<&std::path::Path>) -> Run {
    run_with(n, fwd, record, None, None).await
}

/// As [`run`], with one receive-only monitor on each call (in the monitors' process) when
/// `monitors` is given, and over ICE-TCP to the forwarder's `tcp` port when given.
async fn run_with(
    n: usize,
    fwd: Option<&Forwarder>,
    record: Option<&std::path::Path>,
    monitors: Option<&monitored::Monitors>,
    tcp: Option<u16>,
) -> Run {
    let base = Instant::now();
    let sink = Arc::new(Sink::default());
    let pid = fwd.map(Forwarder::pid);
    let rss0 = pid.map_or(0, rss_kib);
    let ip = fwd.map_or("127.0.0.1", Forwarder::client_ip);
    let mut peers = Vec::new();
    let mut shims = Vec::new();
    for i in 0..n {
        let ssrc = 0x0100_0000 + (i as u32) * 16;
        let (mut a, mut b) = (peer(ssrc, ip).await, peer(ssrc + 4, ip).await);
        if let Some(fwd) = fwd {
            let (call, mut feed_a, mut feed_b) = fwd.new_call(record).await;
            let shim =
                |port: u16| one_port::TcpShim::connect(SocketAddr::from(([127, 0, 0, 1], port)));
            let (shim_a, shim_b) = match tcp {
                Some(port) => (Some(shim(port).await), Some(shim(port).await)),
                None => (None, None),
            };
            connect_to_call(
                &mut a,
                fwd,
                call,
                Side::Citizen,
                &mut feed_a,
                shim_a.as_ref(),
            )
            .await;
            connect_to_call(&mut b, fwd, call, Side::Agent, &mut feed_b, shim_b.as_ref()).await;
            shims.extend(shim_a.into_iter().chain(shim_b));
            if let Some(m) = monitors {
                m.watch(fwd, call).await;
            }
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
    let measured = measure(&peers, pid, rss0, &sink, base).await;
    let recorded = match fwd {
        Some(fwd) => fwd.close_all().await,
        None => (0, 0.0, 0),
    };
    for p in &peers {
        let _ = p.pc.close().await;
    }
    drop(shims);
    Run {
        recorded,
        ..measured
    }
}

/// Sends real-rate media from every peer (connected, their tracks handed to `sink`): a
/// second to settle, then `SECONDS` measured, with the server process `pid`'s CPU (from its
/// threads' scheduler counters, as in `echo.rs`) and memory growth since `rss0`.
async fn measure(peers: &[Peer], pid: Option<u32>, rss0: u64, sink: &Sink, base: Instant) -> Run {
    let (stop_tx, stop_rx) = watch::channel(false);
    let senders = send_all(peers, base, &stop_rx);
    tokio::time::sleep(Duration::from_secs(1)).await;
    sink.latencies.lock().expect("lock").clear();
    let packets_before = sink.packets.load(Ordering::Relaxed);
    let sched0 = pid.map(sched);
    let (cpu0, t0) = (cpu_seconds(None), Instant::now());
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let (cpu1, sched1, elapsed) = (
        cpu_seconds(None),
        pid.map(sched),
        t0.elapsed().as_secs_f64(),
    );
    let rss1 = pid.map_or(0, rss_kib);
    let (wait, server_cpu) = match (sched0, sched1) {
        (Some(a), Some(b)) => (cpu_wait_us(a, b), b.0 - a.0),
        _ => (0.0, 0.0),
    };
    let received = sink.packets.load(Ordering::Relaxed) - packets_before;
    let _ = stop_tx.send(true);
    for s in senders {
        let _ = s.await;
    }
    let mut lat = std::mem::take(&mut *sink.latencies.lock().expect("lock"));
    Run {
        peer_cores: (cpu1 - cpu0) / elapsed,
        forwarder_cores: server_cpu / elapsed,
        forwarder_cpu_wait_us: wait,
        forwarder_rss_kib: rss1.saturating_sub(rss0),
        recorded: (0, 0.0, 0),
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
    if mode == monitored::ARG {
        monitored::serve().await;
        return;
    }
    if mode == forwarder::ARG {
        forwarder::serve(MediaConfig {
            bind_ip: "127.0.0.1".parse().expect("ip"),
            ports: 41_000..=41_999,
            shared: None,
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
    if std::env::args().any(|a| a == "recorded-vs-janus") {
        janus_recorded::compare(&counts()).await;
        return;
    }
    if std::env::args().any(|a| a == "calls-vs-janus") {
        janus_calls::compare(&counts()).await;
        return;
    }
    if std::env::args().any(|a| a == "one-port") {
        one_port::compare(&counts()).await;
        return;
    }
    if std::env::args().any(|a| a == "monitored") {
        monitored::compare(&counts()).await;
        return;
    }
    if std::env::args().any(|a| a == "recorded") {
        recorded::compare(&counts()).await;
        return;
    }
    if std::env::args().any(|a| a == "echo") {
        echo::compare(&counts()).await;
        return;
    }
    let fwd = Forwarder::start();
    println!(
        "| calls | packets forwarded/s | forwarder CPU (cores) | per call | packets/s per forwarder core | forwarder memory per call | peers' CPU (cores) | latency p50 / p99 forwarded | direct | added p50 / p99 | forwarder's wait for a CPU | machine load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in counts() {
        let load = load_average();
        let direct = run(n, None, None).await;
        let f = run(n, Some(&fwd), None).await;
        println!(
            "| {n} | {:.0} | {:.3} | {:.4} | {:.0} | {:.0} KiB | {:.3} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.0} µs | {load:.1} |",
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
            f.forwarder_cpu_wait_us,
        );
        // Let the forwarder tear the calls down before the next run.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
