//! A history test: citizens and agents over three real nodes on one PostgreSQL database, with
//! one node killed (kill -9) and the database cut and back (a proxy in front of it, as a
//! restart looks to the nodes) in the middle. Clients behave as the pages do: they reconnect
//! to a live node and resume, and retry what the database could not do. Afterwards the
//! recorded history (the clients' own records and the audit trail) must show no acknowledged
//! join lost, no citizen claimed twice at once, first offers in order of arrival among the
//! citizens who never left their socket, and every ticket finished or waiting with a live
//! connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use store::outage_proxy::{OutageProxy, authority};
use store::testing::fetch_raw_texts;

use crate::cluster::{Cluster, Peer, many_id, sign_in};

const CITIZENS: usize = 30;
const AGENTS: usize = 4;
/// How long each call lasts: long enough for a queue to build up.
const TALK: Duration = Duration::from_millis(800);
/// When the history stops, at the latest.
const LONGEST: Duration = Duration::from_secs(60);

/// The nodes believed up, as a balancer would see them.
#[derive(Clone)]
struct Live(Arc<Mutex<Vec<String>>>);

impl Live {
    fn pick(&self, k: usize) -> String {
        let nodes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        nodes[k % nodes.len()].clone()
    }

    fn remove(&self, base: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|b| b != base);
    }
}

/// What a citizen saw.
#[derive(Debug, Default)]
struct CitizenRecord {
    ticket: String,
    /// The socket dropped at least once (the node died or the citizen was told to move).
    moved: bool,
    requeued: bool,
    finished: bool,
}

/// The next message of one of `kinds` (or `closed`), skipping others; `None` at `until`.
async fn wait_for(peer: &mut Peer, kinds: &[&str], until: Instant) -> Option<Value> {
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        let m = peer.next_within(left).await?;
        if m["type"] == "closed" || kinds.iter().any(|k| m["type"] == *k) {
            return Some(m);
        }
    }
}

async fn apply_at(cluster: &Cluster, base: &str, i: usize) -> Option<String> {
    let test_call = crate::helpers::passed_test_call(&cluster.db.url).await;
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/applications"))
        .json(&json!({ "id_number": many_id(i), "contrast": "01-01-2031", "test_call": test_call }))
        .send()
        .await
        .ok()?;
    let body: Value = r.json().await.ok()?;
    body["application"].as_str().map(str::to_owned)
}

/// Sends `first` on a socket to a live node until it is answered with one of `kinds`.
async fn on_a_live_node(
    live: &Live,
    k: usize,
    first: &Value,
    kinds: &[&str],
    until: Instant,
) -> Option<(Peer, Value)> {
    while Instant::now() < until {
        if let Some(mut peer) = Peer::try_connect(&live.pick(k), "/ws/citizen", None).await {
            peer.send(first.clone()).await;
            match wait_for(&mut peer, &[kinds, &["error"]].concat(), until).await {
                Some(m) if kinds.iter().any(|k| m["type"] == *k) => return Some((peer, m)),
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    None
}

async fn citizen(
    cluster: Arc<Cluster>,
    live: Live,
    i: usize,
    until: Instant,
) -> Option<CitizenRecord> {
    let token = loop {
        if let Some(t) = apply_at(&cluster, &live.pick(i), i).await {
            break t;
        }
        if Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    };
    let join = json!({ "type": "join", "application": token, "consent": true });
    let (mut peer, queued) = on_a_live_node(&live, i, &join, &["queued"], until).await?;
    let resume = json!({ "type": "resume", "resume_token": queued["resume_token"] });
    let mut record = CitizenRecord {
        ticket: queued["ticket"].as_str()?.to_owned(),
        ..CitizenRecord::default()
    };
    let finals = ["call_ended", "approved", "rejected", "left"];
    while let Some(m) = wait_for(&mut peer, &["closed", "requeued", "call_ended"], until).await {
        match m["type"].as_str() {
            Some("requeued") => record.requeued = true,
            Some("closed") => {
                record.moved = true;
                let kinds = [&finals[..], &["queued", "agent_found", "call_started"]].concat();
                let Some((again, first)) =
                    on_a_live_node(&live, i + 1, &resume, &kinds, until).await
                else {
                    break;
                };
                peer = again;
                if finals.iter().any(|f| first["type"] == *f) {
                    record.finished = true;
                    break;
                }
            }
            _ => {
                record.finished = true;
                break;
            }
        }
    }
    Some(record)
}

/// An agent: takes, accepts, talks briefly and hangs up, again and again; reconnects to a live
/// node when its socket drops and retries what the database could not do. Returns its calls.
async fn agent(
    cookie: String,
    live: Live,
    k: usize,
    until: Instant,
    stop: Arc<AtomicBool>,
) -> usize {
    let mut calls = 0;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        let Some(mut peer) = Peer::try_connect(&live.pick(k), "/ws/agent", Some(&cookie)).await
        else {
            tokio::time::sleep(Duration::from_millis(700)).await;
            continue;
        };
        peer.send(json!({ "type": "set_state", "state": "available" }))
            .await;
        loop {
            peer.send(json!({ "type": "take_next" })).await;
            let Some(m) = wait_for(&mut peer, &["offered", "queue_empty", "error"], until).await
            else {
                return calls;
            };
            match m["type"].as_str() {
                Some("offered") => {
                    peer.send(json!({ "type": "accept" })).await;
                    let started =
                        wait_for(&mut peer, &["call_started", "call_ended", "error"], until).await;
                    if started
                        .as_ref()
                        .is_some_and(|m| m["type"] == "call_started")
                    {
                        tokio::time::sleep(TALK).await;
                        peer.send(json!({ "type": "hang_up" })).await;
                        if wait_for(&mut peer, &["call_ended", "error"], until)
                            .await
                            .is_some_and(|m| m["type"] == "call_ended")
                        {
                            calls += 1;
                        }
                    }
                    peer.send(json!({ "type": "set_state", "state": "available" }))
                        .await;
                }
                Some("error") if m["code"] == "busy" => {
                    // Holding a citizen from before a reconnect: finish with them.
                    peer.send(json!({ "type": "hang_up" })).await;
                }
                Some("closed") => break,
                _ => tokio::time::sleep(Duration::from_millis(300)).await,
            }
            if Instant::now() >= until || stop.load(Ordering::Relaxed) {
                return calls;
            }
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    calls
}

async fn rows(cluster: &Cluster, sql: &str) -> Vec<String> {
    let store = cluster.db.open().await.expect("open");
    let out = fetch_raw_texts(&store, sql).await.expect("query");
    store.close().await;
    out.into_iter().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_with_a_killed_node_and_a_database_restart_loses_no_join_and_claims_nobody_twice()
{
    let cluster = Arc::new(Cluster::new().await);
    let mut proxy = OutageProxy::start(&authority(&cluster.db.url)).await;
    let via = proxy.url_through(&cluster.db.url);
    let extra = [
        "--citizen-sockets-per-address",
        "200",
        "--queue-grace-seconds",
        "120",
    ];
    let mut nodes = Vec::new();
    for ports in ["43800-43899", "43900-43999", "44000-44099"] {
        nodes.push(cluster.node_on(&via, ports, &extra).await);
    }
    let live = Live(Arc::new(Mutex::new(
        nodes.iter().map(|n| n.base.clone()).collect(),
    )));
    let started = Instant::now();
    let until = started + LONGEST;

    let stop = Arc::new(AtomicBool::new(false));
    let mut agents = Vec::new();
    for k in 0..AGENTS {
        let name = format!("agente{k}");
        let password = cluster.add_agent(&name).await;
        let cookie = sign_in(&nodes[k % nodes.len()], &name, &password).await;
        agents.push(tokio::spawn(agent(
            cookie,
            live.clone(),
            k,
            until,
            stop.clone(),
        )));
    }
    let mut citizens = Vec::new();
    for i in 0..CITIZENS {
        citizens.push(tokio::spawn(citizen(
            cluster.clone(),
            live.clone(),
            i,
            until,
        )));
        tokio::time::sleep(Duration::from_millis(200)).await;
        if i == CITIZENS / 3 {
            let victim = nodes.remove(1);
            live.remove(&victim.base);
            crate::cluster::signal(&victim, "-KILL");
            println!("killed a node at {:?}", started.elapsed());
        }
        if i == 2 * CITIZENS / 3 {
            proxy.stop();
            println!("database cut at {:?}", started.elapsed());
            tokio::time::sleep(Duration::from_secs(3)).await;
            proxy.resume().await;
            println!("database back at {:?}", started.elapsed());
        }
    }
    let mut records = Vec::new();
    for c in citizens {
        records.push(
            c.await
                .expect("citizen task")
                .expect("the citizen's join was acknowledged"),
        );
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut calls = 0;
    for a in agents {
        calls += tokio::time::timeout(Duration::from_secs(30), a)
            .await
            .expect("agents stop")
            .expect("agent task");
    }
    let moved = records.iter().filter(|r| r.moved).count();
    let requeued = records.iter().filter(|r| r.requeued).count();
    println!(
        "{} joins acknowledged, {moved} moved, {requeued} requeued, {calls} calls, all over in {took:?}",
        records.len()
    );

    // Every acknowledged join is in the database, finished or waiting with a live connection.
    let statuses: HashMap<String, String> =
        rows(&cluster, "SELECT id || ' ' || status FROM tickets")
            .await
            .iter()
            .filter_map(|r| r.split_once(' ').map(|(a, b)| (a.to_owned(), b.to_owned())))
            .collect();
    let connected = rows(&cluster, "SELECT c.subject FROM connections c JOIN nodes n ON n.id = c.node_id WHERE c.kind = 'citizen' AND n.state = 'serving'").await;
    for r in &records {
        let status = statuses
            .get(&r.ticket)
            .unwrap_or_else(|| panic!("ticket {} lost", r.ticket));
        assert!(
            status == "done" || (status == "waiting" && connected.contains(&r.ticket)),
            "ticket {} is {status} without a live connection ({r:?})",
            r.ticket
        );
    }
    for r in records.iter().filter(|r| !r.finished) {
        let sql = format!(
            "SELECT at || ' ' || actor || ' ' || action FROM audit_events WHERE subject = '{}' ORDER BY id",
            r.ticket
        );
        println!("not told the end: {r:?}: {:?}", rows(&cluster, &sql).await);
    }
    assert!(
        records.iter().all(|r| r.finished),
        "every citizen was told the end of their call within {LONGEST:?}"
    );

    // Nobody claimed twice at once: between two offers of a ticket, it went back to the queue.
    let events = rows(&cluster, "SELECT subject || ' ' || action FROM audit_events WHERE action LIKE 'ticket.%' ORDER BY id").await;
    let back = [
        "ticket.requeued",
        "ticket.hung_up",
        "ticket.agent_left",
        "ticket.offer_lapsed",
        "ticket.citizen_lost",
        "ticket.agent_lost",
        "ticket.server_stopping",
        "ticket.offer_withdrawn",
    ];
    let mut held: HashMap<&str, bool> = HashMap::new();
    let mut first_offer: Vec<&str> = Vec::new();
    for e in &events {
        let Some((ticket, action)) = e.split_once(' ') else {
            continue;
        };
        if action == "ticket.offered" {
            assert!(
                !held.get(ticket).copied().unwrap_or(false),
                "{ticket} offered while held: {events:?}"
            );
            held.insert(ticket, true);
            if !first_offer.contains(&ticket) {
                first_offer.push(ticket);
            }
        } else if back.contains(&action) {
            held.insert(ticket, false);
        }
    }

    // First offers in order of arrival, among citizens who never moved and were never
    // requeued (a citizen who is away is skipped, and requeued citizens go first).
    let order = rows(&cluster, "SELECT id FROM tickets ORDER BY seq").await;
    let steady: Vec<&str> = order
        .iter()
        .map(String::as_str)
        .filter(|t| {
            records
                .iter()
                .any(|r| r.ticket == *t && !r.moved && !r.requeued)
        })
        .collect();
    let offered_steady: Vec<&str> = first_offer
        .iter()
        .copied()
        .filter(|t| steady.contains(t))
        .collect();
    let inversions = offered_steady
        .windows(2)
        .filter(|w| {
            let pos = |t: &str| steady.iter().position(|s| *s == t);
            pos(w[0]) > pos(w[1])
        })
        .count();
    println!(
        "{} steady citizens, {inversions} adjacent inversions of their first offers",
        steady.len()
    );
    assert!(
        inversions <= AGENTS,
        "first offers follow arrival (concurrent claims may swap neighbours): {offered_steady:?} vs {steady:?}"
    );
}
