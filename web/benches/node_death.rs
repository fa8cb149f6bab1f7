//! Dead-node clean-up: the time from a node's death (kill -9) to the calls it took part in
//! being ended elsewhere, with real `videoreg serve` processes on one PostgreSQL database.
//!
//! `nice -n 10 cargo bench -p web --bench node_death` (or `-- 5` for 5 deaths, `-- defaults`
//! for the production timings, heartbeat 5 s and limit 15 s; otherwise heartbeat 1 s and limit
//! 3 s, the same rule at a fifth of the wait). Needs PostgreSQL at `VIDEOREG_TEST_POSTGRES` or
//! 127.0.0.1:5432; the run gets a fresh schema of its own.
//!
//! Node B carries the agent and lives through the run. Each round starts a node A, queues a
//! citizen on it, has the agent on B take and accept that citizen (the call runs on B), then
//! kills A with SIGKILL and stamps when the agent's `call_ended` (`connection_lost`) arrives.
//! Printed per round and summarised: kill → `call_ended`, and how long after the limit ran
//! out (A's last heartbeat, read from the database, plus `--node-dead-after-seconds`) the
//! clean-up was done. Target: within two heartbeat intervals after the limit.

use std::time::{Duration, Instant};

use serde_json::json;
use store::testing::{TestDatabase, fetch_raw_texts};
use tokio::sync::mpsc;

#[path = "common/cluster.rs"]
#[allow(dead_code, reason = "shared with the dispatch benchmark")]
mod cluster;
#[path = "common/server.rs"]
mod server;
#[path = "common/staff_sign_in.rs"]
mod staff_sign_in;

use cluster::{
    agent_socket, is, key_file, queue_citizen, scratch_dir, seed_identities, send, start_node,
    summary, wait_for,
};

/// The most recently lost node's last heartbeat (ms since the epoch).
async fn last_heartbeat_of_the_lost(store: &store::Store) -> i64 {
    let rows = fetch_raw_texts(
        store,
        "SELECT CAST(heartbeat_at AS TEXT) FROM nodes WHERE state = 'lost' ORDER BY ended_at DESC LIMIT 1",
    )
    .await
    .expect("read nodes");
    rows.into_iter()
        .flatten()
        .next()
        .and_then(|t| t.parse().ok())
        .expect("a node declared lost")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(10);
    let (heartbeat, limit) = if args.iter().any(|a| a == "defaults") {
        (5, 15)
    } else {
        (1, 3)
    };
    let timings = [
        "--heartbeat-seconds".to_owned(),
        heartbeat.to_string(),
        "--node-dead-after-seconds".to_owned(),
        limit.to_string(),
    ];
    let timings: Vec<&str> = timings.iter().map(String::as_str).collect();

    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    let store = db.open().await.expect("open the schema");
    seed_identities(&store, rounds).await;
    let key_dir = scratch_dir();
    let key = key_file(&key_dir);
    let mut node_b = start_node(&db.url, &key, "43100-43199", &timings).await;
    let binary = env!("CARGO_BIN_EXE_videoreg");
    let password = staff_sign_in::add_agent(binary, &db.url, "agente_bench").await;
    let cookie = staff_sign_in::sign_in(&node_b.base, "agente_bench", &password).await;
    let (mut agent, mut agent_rx) = agent_socket(&node_b, &cookie).await;
    wait_for(&mut agent_rx, "the agent's state", is("state")).await;
    let available = |m: &serde_json::Value| m["type"] == "state" && m["state"] == "available";
    send(
        &mut agent,
        json!({ "type": "set_state", "state": "available" }),
    )
    .await;
    wait_for(&mut agent_rx, "available", available).await;
    println!("heartbeat {heartbeat} s, limit {limit} s, {rounds} deaths");

    let client = reqwest::Client::new();
    let (found_tx, _found_rx) = mpsc::unbounded_channel();
    let (mut to_ended, mut after_limit) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut node_a = start_node(&db.url, &key, "43000-43099", &timings).await;
        queue_citizen(&store, &client, &node_a, round, found_tx.clone()).await;
        send(&mut agent, json!({ "type": "take_next" })).await;
        wait_for(&mut agent_rx, "offered", is("offered")).await;
        send(&mut agent, json!({ "type": "accept" })).await;
        wait_for(&mut agent_rx, "call_started", is("call_started")).await;

        let _ = node_a.child.start_kill();
        let killed = Instant::now();
        let _ = node_a.child.wait().await;
        let ended = |m: &serde_json::Value| m["type"] == "call_ended";
        let wait = Duration::from_secs(limit + 4 * heartbeat + 10);
        let (m, at) = tokio::time::timeout(wait, wait_for_long(&mut agent_rx, ended))
            .await
            .expect("the agent was told within the limit and a few heartbeats");
        assert_eq!(m["reason"], "connection_lost", "{m}");
        let done_ms = chrono::Utc::now().timestamp_millis()
            - i64::try_from(at.elapsed().as_millis()).unwrap_or(0);
        let limit_ms = last_heartbeat_of_the_lost(&store).await + limit as i64 * 1000;
        let late = Duration::from_millis(u64::try_from(done_ms - limit_ms).unwrap_or(0));
        println!(
            "death {round}: told {:.2} s after the kill, {:.2} s after the limit ran out",
            (at - killed).as_secs_f64(),
            late.as_secs_f64()
        );
        to_ended.push(at - killed);
        after_limit.push(late);
        wait_for_long(&mut agent_rx, available).await;
    }
    println!(
        "{:<36} {:>8} {:>8} {:>8} {:>8}",
        "", "p50", "p90", "p99", "max"
    );
    for (name, v) in [
        ("kill → call_ended (ms)", to_ended),
        ("limit ran out → call_ended (ms)", after_limit),
    ] {
        let [p50, p90, p99, max] = summary(v);
        println!("{name:<36} {p50:>8.0} {p90:>8.0} {p99:>8.0} {max:>8.0}");
    }
    println!(
        "target: at most two heartbeats ({} ms) after the limit",
        2 * heartbeat * 1000
    );
    let _ = node_b.child.kill().await;
    let _ = std::fs::remove_dir_all(key_dir);
}

/// [`wait_for`] without its step timeout (the caller bounds the wait).
async fn wait_for_long(
    rx: &mut mpsc::UnboundedReceiver<cluster::Stamped>,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> cluster::Stamped {
    while let Some((m, at)) = rx.recv().await {
        if wanted(&m) {
            return (m, at);
        }
    }
    panic!("the agent's socket closed");
}
