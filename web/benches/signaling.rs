//! Signaling benchmark: videoreg's citizen socket against a bare tokio-tungstenite echo
//! server on the same machine, and the memory an idle citizen connection costs.
//!
//! `cargo bench -p web --bench signaling` (needs about 10,100 open files: the limit here is 20,000)
//!
//! 1. Round trip of a small message, one connection, 5,000 sequential messages: p50, p99.
//! 2. Throughput: 32 connections each sending 1,000 messages as fast as answers come back.
//! 3. Resident memory of a separate `videoreg` process before and after 1,000 and 10,000
//!    idle citizen connections: (RSS delta) / N.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use scheduler::Clock;
use store::testing::TestDatabase;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use web::AppState;
use web::config::{CommandDefaults, GlobalArgs, ServeArgs, Settings};

#[path = "common/proc_stats.rs"]
#[allow(
    dead_code,
    reason = "shared with the media benchmark, which reads CPU time too"
)]
mod proc_stats;
#[path = "common/server.rs"]
mod server;

use proc_stats::rss_kib;

const MESSAGE: &str = r#"{"type":"leave"}"#;

async fn bare_echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            // The same socket option axum's server sets, so that the comparison is fair.
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_text() && ws.send(m).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("ws://{addr}/")
}

async fn videoreg_server() -> (String, TestDatabase) {
    let db = TestDatabase::sqlite();
    let store = db.open().await.expect("open");
    let settings = Settings::resolve(
        &GlobalArgs::default(),
        &ServeArgs::default(),
        CommandDefaults::SERVE,
    )
    .expect("settings");
    let mut state = AppState::new(&settings, store, Clock::System);
    // The production rate limit (10/s) would measure the limiter; lift it for the benchmark.
    let mut limits = (*state.signaling.limits).clone();
    limits.messages_per_second = 1e9;
    limits.burst = 1e9;
    state.signaling.limits = Arc::new(limits);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(web::run(listener, state, std::future::pending()));
    (format!("ws://{addr}/ws/citizen"), db)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v[((v.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e6
}

async fn round_trips(url: &str, n: usize) -> Vec<Duration> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        ws.send(Message::Text(MESSAGE.into())).await.expect("send");
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(_))) => break,
                Some(Ok(_)) => continue,
                other => panic!("connection ended: {other:?}"),
            }
        }
        times.push(t.elapsed());
    }
    times
}

async fn throughput(url: &str, conns: usize, per_conn: usize) -> f64 {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            round_trips(&url, per_conn).await.len()
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("task");
    }
    total as f64 / t.elapsed().as_secs_f64()
}

async fn idle_memory(counts: &[usize]) {
    let db = TestDatabase::sqlite();
    let args = ["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url];
    let (child, base) = server::spawn_videoreg(env!("CARGO_BIN_EXE_videoreg"), &args).await;
    let pid = child.id().expect("pid");
    let url = format!("ws://{base}/ws/citizen");
    // Warm the server up with a few connections so one-off allocations are not counted.
    for _ in 0..3 {
        round_trips(&url, 10).await;
    }
    let mut held = Vec::new();
    let mut before = rss_kib(pid);
    for &target in counts {
        let step = target - held.len();
        while held.len() < target {
            let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .expect("connect");
            ws.send(Message::Text(MESSAGE.into())).await.expect("send");
            let _ = ws.next().await;
            held.push(ws);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kib(pid);
        let grew = after.saturating_sub(before);
        println!(
            "idle citizen connections: {target:>6}  server RSS {after:>8} KiB  (+{grew} KiB for {step} more: {:.1} KiB each)",
            grew as f64 / step as f64
        );
        before = after;
    }
    let total = rss_kib(pid);
    println!(
        "server RSS with {} idle connections: {total} KiB",
        held.len()
    );
    drop(held);
}

#[tokio::main]
async fn main() {
    let bare = bare_echo_server().await;
    let (ours, _db) = videoreg_server().await;
    for (name, url) in [
        ("bare tokio-tungstenite echo", &bare),
        ("videoreg /ws/citizen", &ours),
    ] {
        round_trips(url, 500).await; // warm up
        let mut t = round_trips(url, 5_000).await;
        let (p50, p99) = (pct(&mut t, 0.5), pct(&mut t, 0.99));
        let rate = throughput(url, 32, 1_000).await;
        println!(
            "{name:<28} round trip p50 {p50:>7.1} µs  p99 {p99:>7.1} µs  throughput {rate:>9.0} msg/s (32 connections)"
        );
    }
    idle_memory(&[1_000, 10_000]).await;
}
