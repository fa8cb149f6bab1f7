//! Dispatch latency across nodes: the time from an agent's `take_next` on node B to the
//! citizen on node A receiving `agent_found` (and to the agent's own `offered`), over 500
//! claims, with two real `videoreg serve` processes on one PostgreSQL database.
//!
//! `nice -n 10 cargo bench -p web --bench dispatch` (or `-- 100` for 100 claims, `-- same-node`
//! to queue the citizens on node B too, beside the agent, for comparison). Needs PostgreSQL at
//! `VIDEOREG_TEST_POSTGRES` or 127.0.0.1:5432 (trust, database `test`); the run gets a fresh
//! schema of its own.
//!
//! Set-up: a fresh schema with one identity per citizen, a shared secrets key, and two release
//! `videoreg serve` processes on it (always open, second factor on). One agent is created with
//! `videoreg user add`, signs in on node B with password and TOTP enrolment, and opens
//! `/ws/agent` there. Citizens apply on node A (`POST /api/v1/applications`, with a passed test
//! call written into the database as the end-to-end tests do), open `/ws/citizen` on node A and
//! `join`, in batches of 50 (one after another) while the agent is idle.
//!
//! Each round: `take_next` on B; the agent's `offered` and the citizen's `agent_found` are
//! stamped by the tasks reading each socket the moment they arrive, and the ticket offered must
//! be the one of the citizen told. Then the call is finished as an agent finishes one: `accept`
//! (the forwarder starts on B and both sides get `call_started`), `hang_up` (both get
//! `call_ended`, the agent goes to wrap-up), `set_state available`. Ten unrecorded rounds warm
//! the processes up first. Rounds start at most every 450 ms: the agent sends four messages a
//! round, and a socket may send 10 a second (the production limit, not lifted here).
//!
//! Printed: p50 / p90 / p99 / max of both latencies and of their difference in each round
//! (what delivering `agent_found` adds once the claim is done: the hop across nodes), the
//! machine's one-minute load average before and after, and each node's CPU time per round
//! (from `take_next` to available again, read from its threads' scheduler counters).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use store::testing::TestDatabase;
use tokio::sync::mpsc;

#[path = "common/cluster.rs"]
mod cluster;
#[path = "common/proc_stats.rs"]
#[allow(dead_code, reason = "shared with the other benchmarks")]
mod proc_stats;
#[path = "common/server.rs"]
mod server;
#[path = "common/staff_sign_in.rs"]
mod staff_sign_in;

use cluster::{
    Node, STEP_TIMEOUT, agent_socket, is, key_file, queue_citizen, scratch_dir, seed_identities,
    send, start_node, summary, wait_for,
};

const WARM_UP: usize = 10;
const BATCH: usize = 50;
/// Four agent messages a round stay under the socket limit of 10 a second.
const ROUND_EVERY: Duration = Duration::from_millis(450);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(500);
    let same_node = args.iter().any(|a| a == "same-node");

    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    let store = db.open().await.expect("open the schema");
    let total = WARM_UP + rounds;
    seed_identities(&store, total).await;
    let key_dir = scratch_dir();
    let key = key_file(&key_dir);

    let mut node_a = start_node(&db.url, &key, "43000-43099", &[]).await;
    let mut node_b = start_node(&db.url, &key, "43100-43199", &[]).await;
    let citizens_on = if same_node { &node_b } else { &node_a };
    println!(
        "nodes: A {} (pid {}), B {} (pid {}); agent on B, citizens on {}; {rounds} claims after {WARM_UP} warm-up rounds",
        node_a.base,
        node_a.pid,
        node_b.base,
        node_b.pid,
        if same_node { "B" } else { "A" },
    );

    let binary = env!("CARGO_BIN_EXE_videoreg");
    let password = staff_sign_in::add_agent(binary, &db.url, "agente_bench").await;
    let cookie = staff_sign_in::sign_in(&node_b.base, "agente_bench", &password).await;
    let (mut agent, mut agent_rx) = agent_socket(&node_b, &cookie).await;
    wait_for(&mut agent_rx, "the agent's state", is("state")).await;
    let available = |m: &Value| m["type"] == "state" && m["state"] == "available";
    send(
        &mut agent,
        json!({ "type": "set_state", "state": "available" }),
    )
    .await;
    wait_for(&mut agent_rx, "available", available).await;

    let client = reqwest::Client::new();
    let (found_tx, mut found_rx) = mpsc::unbounded_channel();
    let mut queued = 0;
    let (mut to_offered, mut to_found, mut hop) = (Vec::new(), Vec::new(), Vec::new());
    let mut interval = tokio::time::interval(ROUND_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut load_before = 0.0;
    // CPU time of each node over the rounds themselves (queueing citizens left out).
    let mut cpu = (0.0, 0.0);
    let on_cpu = |node: &Node| proc_stats::sched(node.pid).0;
    for round in 0..total {
        // Each round takes one citizen: the queue is refilled when it is empty.
        if round == queued {
            let batch = BATCH.min(total - queued);
            // One after another: from one address, applications in flight at once count
            // against the per-address limit on failed checks until each succeeds.
            for i in queued..queued + batch {
                queue_citizen(&store, &client, citizens_on, i, found_tx.clone()).await;
            }
            queued += batch;
        }
        if round == WARM_UP {
            load_before = proc_stats::load_average();
        }
        interval.tick().await;
        let cpu_before = (on_cpu(&node_a), on_cpu(&node_b));
        let sent = Instant::now();
        send(&mut agent, json!({ "type": "take_next" })).await;
        let (offered, offered_at) = wait_for(&mut agent_rx, "offered", is("offered")).await;
        let (ticket, found_at) = tokio::time::timeout(STEP_TIMEOUT, found_rx.recv())
            .await
            .expect("agent_found within the step timeout")
            .expect("citizen tasks running");
        assert_eq!(
            offered["ticket"],
            ticket.as_str(),
            "the citizen told is the one offered"
        );
        if round >= WARM_UP {
            to_offered.push(offered_at - sent);
            to_found.push(found_at - sent);
            hop.push(found_at.saturating_duration_since(offered_at));
        }
        send(&mut agent, json!({ "type": "accept" })).await;
        wait_for(&mut agent_rx, "call_started", is("call_started")).await;
        send(&mut agent, json!({ "type": "hang_up" })).await;
        wait_for(&mut agent_rx, "call_ended", is("call_ended")).await;
        send(
            &mut agent,
            json!({ "type": "set_state", "state": "available" }),
        )
        .await;
        wait_for(&mut agent_rx, "available again", available).await;
        if round >= WARM_UP {
            cpu.0 += on_cpu(&node_a) - cpu_before.0;
            cpu.1 += on_cpu(&node_b) - cpu_before.1;
        }
    }
    let load_after = proc_stats::load_average();

    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>8}",
        "", "p50", "p90", "p99", "max"
    );
    let rows = [
        ("take_next on B → offered on B (ms)", to_offered),
        (
            if same_node {
                "take_next on B → agent_found on B (ms)"
            } else {
                "take_next on B → agent_found on A (ms)"
            },
            to_found,
        ),
        ("offered → agent_found, the same round (ms)", hop),
    ];
    for (name, v) in rows {
        let [p50, p90, p99, max] = summary(v);
        println!("{name:<44} {p50:>8.2} {p90:>8.2} {p99:>8.2} {max:>8.2}");
    }
    println!(
        "machine load (1 min) {load_before:.2} before, {load_after:.2} after; CPU per round: node A {:.2} ms, node B {:.2} ms",
        cpu.0 * 1e3 / rounds as f64,
        cpu.1 * 1e3 / rounds as f64,
    );
    let _ = node_a.child.kill().await;
    let _ = node_b.child.kill().await;
    let _ = std::fs::remove_dir_all(key_dir);
}
