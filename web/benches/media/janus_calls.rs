//! Calls side by side: N concurrent calls of two webrtc-rs peers each, through videoreg's
//! forwarder (`MediaCall::cross` in the forwarder process, `forwarder.rs`) and through Janus's
//! VideoCall plugin (the Debian `janus` package: one peer registers and calls, the other
//! accepts). Both servers run in the benchmark's network namespace (`janus.rs`: libnice skips
//! loopback), the peers on the host side of the veth pair; the same peers paired directly on
//! loopback are the latency baseline. The same real-rate audio and video as the forwarder
//! benchmark, the same measurement (`measure`): each server's CPU from its threads'
//! scheduler counters, per call, and the latency added at p50 and p99.
//!
//! `cargo bench -p web --bench media -- calls-vs-janus [N …]` (root, `ip`, `janus`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use webrtc::peer_connection::{RTCPeerConnectionState, RTCSessionDescription};

use super::forwarder::Forwarder;
use super::janus::{HOST_IP, Janus, NETNS, NS_IP, Netns, require_janus};
use super::peers::{Peer, Sink, peer, receive};
use super::proc_stats::{load_average, rss_kib};
use super::{Run, measure, run_with};

/// One VideoCall: both sessions, for destroying them.
struct JanusCall {
    sessions: [u64; 2],
}

/// A session with the VideoCall plugin attached: (session, the handle's path).
async fn attach(janus: &Janus) -> (u64, String) {
    let session = janus.post("", json!({ "janus": "create" })).await["data"]["id"]
        .as_u64()
        .expect("session id");
    let handle = janus
        .post(
            &format!("/{session}"),
            json!({ "janus": "attach", "plugin": "janus.plugin.videocall" }),
        )
        .await["data"]["id"]
        .as_u64()
        .expect("handle id");
    (session, format!("/{session}/{handle}"))
}

/// Waits on `session`'s events for one whose VideoCall result is `wanted`.
async fn until(janus: &Janus, session: u64, wanted: &str) -> Value {
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let event = janus.event(session).await;
            let result = &event["plugindata"]["data"]["result"];
            if result["event"] == wanted {
                return event;
            }
            assert!(
                event["plugindata"]["data"]["error"].is_null(),
                "videocall: {event}"
            );
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no `{wanted}` from Janus's VideoCall within 30 s"))
}

/// Connects `a` (caller) and `b` (callee) through Janus's VideoCall as call `i`.
async fn videocall(janus: &Janus, a: &mut Peer, b: &mut Peer, i: usize) -> JanusCall {
    let (sa, ha) = attach(janus).await;
    let (sb, hb) = attach(janus).await;
    for (session, handle, name) in [(sa, &ha, format!("a{i}")), (sb, &hb, format!("b{i}"))] {
        janus
            .post(
                handle,
                json!({ "janus": "message", "body": { "request": "register", "username": name } }),
            )
            .await;
        until(janus, session, "registered").await;
    }
    let offer = a.pc.create_offer(None).await.expect("offer");
    a.pc.set_local_description(offer.clone())
        .await
        .expect("local");
    janus
        .post(
            &ha,
            json!({ "janus": "message", "body": { "request": "call", "username": format!("b{i}") }, "jsep": offer }),
        )
        .await;
    let incoming = until(janus, sb, "incomingcall").await;
    let offer: RTCSessionDescription =
        serde_json::from_value(incoming["jsep"].clone()).expect("Janus's offer");
    b.pc.set_remote_description(offer)
        .await
        .expect("remote offer");
    let answer = b.pc.create_answer(None).await.expect("answer");
    b.pc.set_local_description(answer.clone())
        .await
        .expect("local");
    janus
        .post(
            &hb,
            json!({ "janus": "message", "body": { "request": "accept" }, "jsep": answer }),
        )
        .await;
    let accepted = until(janus, sa, "accepted").await;
    let answer: RTCSessionDescription =
        serde_json::from_value(accepted["jsep"].clone()).expect("Janus's answer");
    a.pc.set_remote_description(answer)
        .await
        .expect("remote answer");
    let (mut state_a, mut state_b) = (a.state.clone(), b.state.clone());
    let deadline = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(deadline);
    loop {
        if *state_a.borrow() == RTCPeerConnectionState::Connected
            && *state_b.borrow() == RTCPeerConnectionState::Connected
        {
            return JanusCall { sessions: [sa, sb] };
        }
        tokio::select! {
            Some(c) = a.candidates.recv() => { janus.post(&ha, json!({ "janus": "trickle", "candidate": c })).await; }
            Some(c) = b.candidates.recv() => { janus.post(&hb, json!({ "janus": "trickle", "candidate": c })).await; }
            _ = state_a.changed() => {}
            _ = state_b.changed() => {}
            () = &mut deadline => panic!("Janus's VideoCall did not connect in 30 s"),
        }
    }
}

/// N calls through Janus's VideoCall, measured as the forwarder's are.
async fn janus_run(n: usize, janus: &Janus) -> Run {
    let base = Instant::now();
    let sink = Arc::new(Sink::default());
    let pid = janus.pid();
    let rss0 = rss_kib(pid);
    let mut peers = Vec::new();
    let mut calls = Vec::new();
    for i in 0..n {
        let ssrc = 0x0100_0000 + (i as u32) * 16;
        let (mut a, mut b) = (peer(ssrc, HOST_IP).await, peer(ssrc + 4, HOST_IP).await);
        calls.push(videocall(janus, &mut a, &mut b, i).await);
        for p in [&mut a, &mut b] {
            let tracks = std::mem::replace(&mut p.tracks, mpsc::unbounded_channel().1);
            receive(tracks, base, sink.clone());
        }
        peers.push(a);
        peers.push(b);
    }
    let run = measure(&peers, Some(pid), rss0, &sink, base).await;
    for call in calls {
        for session in call.sessions {
            janus
                .post(&format!("/{session}"), json!({ "janus": "destroy" }))
                .await;
        }
    }
    for p in &peers {
        let _ = p.pc.close().await;
    }
    run
}

/// Runs both servers in the namespace and prints the table.
pub async fn compare(counts: &[usize]) {
    require_janus();
    let dir = std::env::temp_dir().join(format!("videoreg-janus-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let netns = Netns::create();
    let janus = Janus::start_with(&dir, "videocall").await;
    let fwd = Forwarder::start_in_netns(NETNS, NS_IP, HOST_IP);
    // One call through each first: one-off costs (threads, arenas, crypto) stay out of the rows.
    let _ = run_with(1, Some(&fwd), None, None, None).await;
    let _ = janus_run(1, &janus).await;
    println!(
        "| calls | direct p99 | videoreg: CPU per call / added p50 / added p99 | Janus VideoCall: CPU per call / added p50 / added p99 | videoreg ÷ Janus, CPU per call | machine load |"
    );
    println!("|---|---|---|---|---|---|");
    for &n in counts {
        let load = load_average();
        let direct = run_with(n, None, None, None, None).await;
        let v = run_with(n, Some(&fwd), None, None, None).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let j = janus_run(n, &janus).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let per_call = |r: &Run| r.forwarder_cores / n as f64;
        println!(
            "| {n} | {:.2} ms | {:.4} / {:+.2} / {:+.2} ms | {:.4} / {:+.2} / {:+.2} ms | {:.2} | {load:.1} |",
            direct.p99_ms,
            per_call(&v),
            v.p50_ms - direct.p50_ms,
            v.p99_ms - direct.p99_ms,
            per_call(&j),
            j.p50_ms - direct.p50_ms,
            j.p99_ms - direct.p99_ms,
            per_call(&v) / per_call(&j).max(1e-9),
        );
    }
    drop(fwd);
    drop(janus);
    drop(netns);
    let _ = std::fs::remove_dir_all(&dir);
}
