//! Monitored calls against the same calls unwatched: N calls through the forwarder process
//! (as in `main.rs`), once plain and once with a supervisor's receive-only monitor (a
//! webrtc-rs peer with four receive-only transceivers) on each call. The monitors run in a
//! third process (this binary again, with `monitors-process`), so that receiving their
//! copies does not take CPU from the calls' peers, whose latency is what is measured.
//! Where each process runs is in `place`. Reports the forwarder's CPU per call both ways, the
//! calls' added one-way latency p99, and what the monitors received (packets per second per
//! monitor: both sides' media arrive).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::{PeerConnection, RTCPeerConnectionState, RTCSessionDescription};

use media::{EventStreams, monitor_client};

use super::child::{self, Helper};
use super::{Forwarder, Run, run, run_with};

/// The argument that makes the benchmark binary host the monitors.
pub const ARG: &str = "monitors-process";

/// The child's side: monitors made, offered and answered on request; every packet they
/// receive counted.
pub async fn serve() {
    let packets = Arc::new(AtomicU64::new(0));
    let monitors: Arc<Mutex<HashMap<u64, Arc<dyn PeerConnection>>>> = Arc::default();
    let pending: Arc<Mutex<HashMap<u64, EventStreams>>> = Arc::default();
    child::serve(move |req, _| {
        let (packets, monitors, pending) = (packets.clone(), monitors.clone(), pending.clone());
        async move {
            let key = req["key"].as_u64().unwrap_or(0);
            match req["op"].as_str() {
                Some("offer") => {
                    let (pc, mut events) = monitor_client("127.0.0.1").await.expect("monitor");
                    let offer = pc.create_offer(None).await.expect("offer");
                    pc.set_local_description(offer).await.expect("local");
                    let _ = tokio::time::timeout(Duration::from_secs(2), events.candidates.recv())
                        .await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let offer = pc.local_description().await.expect("offer set");
                    monitors.lock().expect("monitors").insert(key, pc);
                    pending.lock().expect("pending").insert(key, events);
                    json!({ "offer": offer })
                }
                Some("answer") => {
                    let pc = monitors.lock().expect("monitors").get(&key).cloned();
                    let events = pending.lock().expect("pending").remove(&key);
                    let (Some(pc), Some(events), Ok(answer)) = (
                        pc,
                        events,
                        serde_json::from_value::<RTCSessionDescription>(req["answer"].clone()),
                    ) else {
                        return json!({ "error": "no such monitor" });
                    };
                    connect(pc, events, answer, packets).await;
                    json!({})
                }
                Some("count") => json!({ "packets": packets.load(Ordering::Relaxed) }),
                Some("close") => {
                    let all: Vec<_> = monitors.lock().expect("monitors").drain().collect();
                    for (_, pc) in all {
                        let _ = pc.close().await;
                    }
                    json!({})
                }
                _ => json!({ "error": "unknown op" }),
            }
        }
    })
    .await;
}

/// Applies a monitor's answer, waits until it is connected and counts what it receives.
async fn connect(
    pc: Arc<dyn PeerConnection>,
    events: EventStreams,
    answer: RTCSessionDescription,
    packets: Arc<AtomicU64>,
) {
    pc.set_remote_description(answer).await.expect("remote");
    let EventStreams {
        mut tracks,
        mut state,
        ..
    } = events;
    let connected = async {
        while *state.borrow_and_update() != RTCPeerConnectionState::Connected {
            state.changed().await.expect("state");
        }
    };
    tokio::time::timeout(Duration::from_secs(20), connected)
        .await
        .expect("monitor connected in 20 s");
    tokio::spawn(async move {
        while let Some(t) = tracks.recv().await {
            let packets = packets.clone();
            tokio::spawn(async move {
                while let Some(e) = t.poll().await {
                    if let TrackRemoteEvent::OnRtpPacket(_) = e {
                        packets.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
}

/// The parent's side: a handle on the monitors' process.
pub struct Monitors {
    helper: Helper,
}

impl Monitors {
    /// Starts the monitors' process (this same binary) under `launcher`.
    pub fn start_under(launcher: &[&str]) -> Self {
        Self {
            helper: Helper::start(launcher, ARG, |_| {}),
        }
    }

    /// Puts a monitor on `call` and waits until it is connected.
    pub async fn watch(&self, fwd: &Forwarder, call: u64) {
        let key = self.helper.next();
        let offer = self
            .helper
            .request(json!({ "op": "offer", "key": key }))
            .await;
        let offer: RTCSessionDescription =
            serde_json::from_value(offer["offer"].clone()).expect("offer");
        let answer = fwd.monitor(call, offer).await;
        self.helper
            .request(json!({ "op": "answer", "key": key, "answer": answer }))
            .await;
    }

    /// Packets the monitors have received so far.
    pub async fn packets(&self) -> u64 {
        self.helper.request(json!({ "op": "count" })).await["packets"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Closes every monitor.
    pub async fn close_all(&self) {
        self.helper.request(json!({ "op": "close" })).await;
    }
}

/// Where each process runs. With two cores or more, the forwarder has core 0 to itself and
/// this process (the calls' peers, whose latency is measured) core 1, and the monitors run
/// on core 1 at `SCHED_IDLE`: they take only cycles the peers do not want and never the
/// forwarder's core, as a supervisor's browser on another machine would. The forwarder's work for them (a copy encrypted and
/// sent per packet) stays in the forwarder, where it is measured. On one core, nothing is
/// pinned.
struct Placement {
    forwarder: &'static [&'static str],
    monitors: &'static [&'static str],
}

fn place() -> Placement {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        println!("one core: nothing pinned");
        return Placement {
            forwarder: &[],
            monitors: &[],
        };
    }
    let pinned = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        pinned,
        "taskset (util-linux) could not pin the peers' process to core 1"
    );
    println!(
        "forwarder pinned to core 0, calls' peers to core 1, monitors to core 1 at SCHED_IDLE"
    );
    Placement {
        forwarder: &["taskset", "-c", "0"],
        monitors: &["taskset", "-c", "1", "chrt", "-i", "0"],
    }
}

/// `rounds=K` on the command line: each count is measured K times, unwatched and watched
/// in turn, and summarised by the median with its range (the target is about the
/// forwarder, not about one run's tail: the unwatched p99 itself moves between runs).
fn rounds() -> usize {
    std::env::args()
        .find_map(|a| a.strip_prefix("rounds=").and_then(|k| k.parse().ok()))
        .unwrap_or(1usize)
        .max(1)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub async fn compare(ns: &[usize]) {
    let placement = place();
    let fwd = Forwarder::start_under(placement.forwarder);
    let monitors = Monitors::start_under(placement.monitors);
    let k = rounds();
    println!(
        "| calls | round | forwarder CPU per call, unwatched | one monitor per call | added | latency p99 unwatched / watched | added p99 | packets/s per monitor |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut summary = Vec::new();
    for &n in ns {
        let (mut added_cpu, mut added_p99) = (Vec::new(), Vec::new());
        for round in 1..=k {
            let plain = run(n, Some(&fwd), None).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let before = monitors.packets().await;
            let watched = run_with(n, Some(&fwd), None, Some(&monitors), None).await;
            let received = monitors.packets().await - before;
            monitors.close_all().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let per_call = |r: &Run| r.forwarder_cores / n as f64;
            let seconds = (super::SECONDS + 1) as f64;
            let cpu = (per_call(&watched) / per_call(&plain).max(1e-9) - 1.0) * 100.0;
            added_cpu.push(cpu);
            added_p99.push(watched.p99_ms - plain.p99_ms);
            println!(
                "| {n} | {round} | {:.4} | {:.4} | {cpu:+.0} % | {:.2} / {:.2} ms | {:+.2} ms | {:.0} |",
                per_call(&plain),
                per_call(&watched),
                plain.p99_ms,
                watched.p99_ms,
                watched.p99_ms - plain.p99_ms,
                received as f64 / seconds / n as f64,
            );
        }
        summary.push((n, added_cpu, added_p99));
    }
    if k > 1 {
        println!();
        println!(
            "| calls | rounds | added CPU per call: median (min – max) | added p99: median (min – max) |"
        );
        println!("|---|---|---|---|");
        for (n, mut cpu, mut p99) in summary {
            let range = |v: &[f64]| {
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi)
            };
            let (c0, c1) = range(&cpu);
            let (p0, p1) = range(&p99);
            println!(
                "| {n} | {k} | {:+.0} % ({c0:+.0} – {c1:+.0} %) | {:+.2} ms ({p0:+.2} – {p1:+.2} ms) |",
                median(&mut cpu),
                median(&mut p99),
            );
        }
    }
}
