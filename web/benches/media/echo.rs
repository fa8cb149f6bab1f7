//! Test calls: N concurrent echo tests through videoreg's echo (the `videoreg` binary,
//! `/ws/citizen`), webrtc-rs clients sending real-rate audio and video. The server runs as its
//! own process, so its CPU and memory are read from `/proc/<pid>`. The same runner drives
//! Janus's EchoTest for the side-by-side run (`janus.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};

use crate::server;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use webrtc::peer_connection::{RTCIceCandidateInit, RTCPeerConnectionState, RTCSessionDescription};

use super::peers::{Peer, Sink, pct, peer, receive, send_all};
use super::proc_stats::{cpu_wait_us, rss_kib, sched};

const SECONDS: u64 = 10;

/// Starts `videoreg serve` bound to `ip`, inside network namespace `netns` if given; the
/// process and its `/ws/citizen` URL.
pub async fn start_videoreg(
    dir: &std::path::Path,
    netns: Option<&str>,
    ip: &str,
) -> (Child, String) {
    let db = format!("sqlite://{}", dir.join("echo-bench.db").display());
    let videoreg = env!("CARGO_BIN_EXE_videoreg");
    // `ip netns exec` execs the program, so the child's pid is videoreg's own.
    let mut command = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, videoreg]);
            c
        }
        None => Command::new(videoreg),
    };
    let bind = format!("{ip}:0");
    command
        .args([
            "serve",
            "--bind",
            &bind,
            "--media-ports",
            "44000-44999",
            "--database-url",
            &db,
        ])
        .args([
            "--test-call-max-concurrent",
            "200",
            "--test-call-per-address",
            "10000",
        ]);
    let (child, base) = server::start(command).await;
    (child, format!("ws://{base}/ws/citizen"))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Which echo a run goes through.
pub enum Target<'a> {
    /// videoreg's `/ws/citizen` at this URL.
    Videoreg(&'a str),
    /// Janus's EchoTest plugin.
    Janus(&'a super::janus::Janus),
    /// Janus's EchoTest plugin, each test recorded into this directory.
    JanusRecorded(&'a super::janus::Janus, &'a std::path::Path),
}

/// What keeps one echo test open until the run ends.
enum Held {
    Socket(Box<Socket>),
    JanusSession(u64),
}

/// One echo test through videoreg; the socket must stay open while it runs.
async fn videoreg_echo(p: &mut Peer, url: &str) -> Socket {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("socket");
    ws.send(Message::Text(
        json!({ "type": "echo_start" }).to_string().into(),
    ))
    .await
    .expect("send");
    loop {
        let Some(Ok(Message::Text(t))) = ws.next().await else {
            continue;
        };
        if serde_json::from_str::<Value>(t.as_str()).expect("json")["type"] == "echo_ready" {
            break;
        }
    }
    let offer = p.pc.create_offer(None).await.expect("offer");
    p.pc.set_local_description(offer.clone())
        .await
        .expect("local");
    ws.send(Message::Text(
        json!({ "type": "offer", "description": offer })
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RTCIceCandidateInit>();
    let mut state = p.state.clone();
    let deadline = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            Some(c) = p.candidates.recv() => { let _ = tx.send(c); }
            Some(c) = rx.recv() => {
                ws.send(Message::Text(json!({ "type": "ice", "candidate": c }).to_string().into())).await.expect("send");
            }
            Some(Ok(Message::Text(t))) = ws.next() => {
                let m: Value = serde_json::from_str(t.as_str()).expect("json");
                match m["type"].as_str() {
                    Some("answer") => {
                        let a: RTCSessionDescription = serde_json::from_value(m["description"].clone()).expect("answer");
                        p.pc.set_remote_description(a).await.expect("remote");
                    }
                    Some("ice") => {
                        let c: RTCIceCandidateInit = serde_json::from_value(m["candidate"].clone()).expect("candidate");
                        let _ = p.pc.add_ice_candidate(c).await;
                    }
                    _ => {}
                }
            }
            r = state.changed() => { r.expect("state"); if *state.borrow() == RTCPeerConnectionState::Connected { return ws } }
            () = &mut deadline => panic!("videoreg echo did not connect in 30 s"),
        }
    }
}

/// One run's figures.
pub struct Measured {
    pub cpu_per_test: f64,
    pub rss_per_test_kib: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub received_pps: f64,
    /// Mean wait for a CPU of the server's threads, µs.
    pub cpu_wait_us: f64,
}

/// N echo tests at once through `target` (server process `pid`), the clients' sockets on
/// `peer_ip`.
pub async fn run(n: usize, pid: u32, target: &Target<'_>, peer_ip: &str) -> Measured {
    let base = Instant::now();
    let sink = Arc::new(Sink::default());
    let rss0 = rss_kib(pid);
    let mut peers = Vec::new();
    let mut held = Vec::new();
    for i in 0..n {
        let mut p = peer(0x0200_0000 + (i as u32) * 8, peer_ip).await;
        held.push(match target {
            Target::Videoreg(url) => Held::Socket(Box::new(videoreg_echo(&mut p, url).await)),
            Target::Janus(j) => Held::JanusSession(j.echo(&mut p, None).await),
            Target::JanusRecorded(j, dir) => Held::JanusSession(j.echo(&mut p, Some(dir)).await),
        });
        let tracks = std::mem::replace(&mut p.tracks, tokio::sync::mpsc::unbounded_channel().1);
        receive(tracks, base, sink.clone());
        peers.push(p);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let senders = send_all(&peers, base, &stop_rx);
    tokio::time::sleep(Duration::from_secs(1)).await;
    sink.latencies.lock().expect("lock").clear();
    let before = sink.packets.load(std::sync::atomic::Ordering::Relaxed);
    // CPU time from the threads' scheduler counters (nanoseconds), not `/proc/<pid>/stat`'s
    // 10 ms ticks: one test uses under 200 ms in the 10 s, where a tick is 5 %.
    let (sched0, t0) = (sched(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let (sched1, elapsed) = (sched(pid), t0.elapsed().as_secs_f64());
    let rss1 = rss_kib(pid);
    let cpu_wait = cpu_wait_us(sched0, sched1);
    let received = sink.packets.load(std::sync::atomic::Ordering::Relaxed) - before;
    let _ = stop_tx.send(true);
    for s in senders {
        let _ = s.await;
    }
    let mut lat = std::mem::take(&mut *sink.latencies.lock().expect("lock"));
    for p in &peers {
        let _ = p.pc.close().await;
    }
    for h in held {
        match (h, target) {
            (Held::JanusSession(s), Target::Janus(j) | Target::JanusRecorded(j, _)) => {
                j.destroy(s).await;
            }
            (Held::Socket(mut s), _) => {
                let _ = SinkExt::close(&mut s).await;
            }
            (Held::JanusSession(_), _) => {}
        }
    }
    Measured {
        cpu_per_test: (sched1.0 - sched0.0) / elapsed / n as f64,
        rss_per_test_kib: rss1.saturating_sub(rss0) as f64 / n as f64,
        p50_ms: pct(&mut lat, 0.5),
        p99_ms: pct(&mut lat, 0.99),
        received_pps: received as f64 / elapsed,
        cpu_wait_us: cpu_wait,
    }
}

/// Runs the echo tests for each N and prints a table.
pub async fn compare(ns: &[usize]) {
    let dir = std::env::temp_dir().join(format!("videoreg-echo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let (videoreg, ws_url) = start_videoreg(&dir, None, "127.0.0.1").await;
    let pid = videoreg.id().expect("pid");
    // The first test pays what the server spends once (see `janus::compare`).
    let first = run(1, pid, &Target::Videoreg(&ws_url), "127.0.0.1").await;
    println!(
        "first test (one-off costs included): {:.4} cores, {:.0} KiB",
        first.cpu_per_test, first.rss_per_test_kib
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "| tests | packets echoed/s | server CPU per test (cores) | server memory per test | echo round trip p50 / p99 |"
    );
    println!("|---|---|---|---|---|");
    for &n in ns {
        let m = run(n, pid, &Target::Videoreg(&ws_url), "127.0.0.1").await;
        println!(
            "| {n} | {:.0} | {:.4} | {:.0} KiB | {:.2} / {:.2} ms |",
            m.received_pps, m.cpu_per_test, m.rss_per_test_kib, m.p50_ms, m.p99_ms
        );
        // Let the server tear the tests down before the next run.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
