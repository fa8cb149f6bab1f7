//! Nodes that die (kill -9) or stop (SIGTERM) on one PostgreSQL database, with real
//! `videoreg` processes and clients over the documented protocol: nobody is lost, no ghost is
//! offered, no agent is charged for the system's own failure.

use std::time::{Duration, Instant};

use serde_json::json;
use store::testing::fetch_raw_texts;

use crate::cluster::{Cluster, DEAD_AFTER_SECS, HEARTBEAT_SECS, available_agent, sign_in, signal};

/// What the database holds for a ticket: (status, whether disconnected).
async fn ticket_row(store: &store::Store, ticket: &str) -> (String, bool) {
    let sql = format!(
        "SELECT status || ' ' || CASE WHEN disconnected_at IS NULL THEN 'connected' ELSE 'disconnected' END FROM tickets WHERE id = '{ticket}'"
    );
    let rows = fetch_raw_texts(store, &sql).await.expect("read ticket");
    let text = rows.into_iter().flatten().next().expect("the ticket");
    let (status, conn) = text.split_once(' ').expect("two words");
    (status.to_owned(), conn == "disconnected")
}

/// The audit trail's actions, in order.
async fn audit_actions(cluster: &Cluster) -> Vec<String> {
    let store = cluster.db.open().await.expect("open");
    let rows = fetch_raw_texts(&store, "SELECT action FROM audit_events ORDER BY id")
        .await
        .expect("read audit");
    store.close().await;
    rows.into_iter().flatten().collect()
}

/// Polls the database until `ok` holds for the ticket, for at most `within`.
async fn until_ticket(
    cluster: &Cluster,
    ticket: &str,
    within: Duration,
    ok: impl Fn(&(String, bool)) -> bool,
) -> (String, bool) {
    let store = cluster.db.open().await.expect("open");
    let started = Instant::now();
    loop {
        let row = ticket_row(&store, ticket).await;
        if ok(&row) {
            store.close().await;
            return row;
        }
        assert!(started.elapsed() < within, "ticket {ticket} stayed {row:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_citizens_node_is_killed_ends_for_the_agent_and_the_citizen_resumes_at_the_head()
 {
    let cluster = Cluster::new().await;
    let a = cluster.node("43000-43099", &[]).await;
    let b = cluster.node("43100-43199", &[]).await;
    let password = cluster.add_agent("marta").await;
    let cookie = sign_in(&b, "marta", &password).await;
    let mut agent = available_agent(&b, &cookie).await;
    let mut first = cluster.citizen_joins(&a, "12345678Z", "15-03-2031").await;
    let _second = cluster.citizen_joins(&b, "00000000T", "20-06-2019").await;

    agent.send(json!({ "type": "take_next" })).await;
    let offered = agent.until("offered").await;
    assert_eq!(offered["ticket"], first.ticket.as_str());
    first.peer.until("agent_found").await;
    agent.send(json!({ "type": "accept" })).await;
    agent.until("call_started").await;
    first.peer.until("call_started").await;

    signal(&a, "-KILL");
    let killed = Instant::now();
    let (ended, _) = agent.until_seen("call_ended").await;
    let took = killed.elapsed();
    println!("the agent was told the call ended {took:?} after the kill");
    assert_eq!(ended["reason"], "connection_lost", "{ended}");
    assert!(
        took <= Duration::from_secs(DEAD_AFTER_SECS + 5),
        "told within node-dead-after + 5 s: {took:?}"
    );
    let state = agent.until("state").await;
    assert_eq!(state["state"], "available", "not charged: {state}");

    let answer = first.resume_on(&b).await;
    assert_eq!(answer["type"], "queued", "{answer}");
    assert_eq!(answer["position"], 1, "back at the head: {answer}");
    let actions = audit_actions(&cluster).await;
    assert!(
        actions.iter().any(|a| a == "ticket.citizen_lost"),
        "{actions:?}"
    );
    assert!(!actions.iter().any(|a| a == "ticket.offer_lapsed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_citizen_of_a_killed_node_is_never_offered_and_is_let_go_after_the_grace_period()
{
    let cluster = Cluster::new().await;
    // Long enough that the place is seen kept between the clean-up and its release.
    let grace = 10;
    let grace_arg = grace.to_string();
    let extra = ["--queue-grace-seconds", grace_arg.as_str()];
    let a = cluster.node("43200-43299", &extra).await;
    let b = cluster.node("43300-43399", &extra).await;
    let password = cluster.add_agent("marta").await;
    let cookie = sign_in(&b, "marta", &password).await;
    let mut agent = available_agent(&b, &cookie).await;
    let citizen = cluster.citizen_joins(&a, "12345678Z", "15-03-2031").await;

    signal(&a, "-KILL");
    let killed = Instant::now();
    let within = Duration::from_secs(DEAD_AFTER_SECS + 2 * HEARTBEAT_SECS + 5);
    let (status, _) = until_ticket(&cluster, &citizen.ticket, within, |(_, gone)| *gone).await;
    println!("marked disconnected {:?} after the kill", killed.elapsed());
    assert_eq!(status, "waiting", "the place is kept for the grace period");

    agent.send(json!({ "type": "take_next" })).await;
    let (answer, _) = agent.until_seen("queue_empty").await;
    assert_eq!(answer["type"], "queue_empty", "no ghost is offered");

    let within = Duration::from_secs(grace + 2 * HEARTBEAT_SECS + 20);
    let (status, _) =
        until_ticket(&cluster, &citizen.ticket, within, |(s, _)| s != "waiting").await;
    println!("let go {:?} after the kill", killed.elapsed());
    assert_eq!(status, "left", "released after the grace period");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_tells_every_client_to_reconnect_elsewhere_charges_no_agent_and_exits_0() {
    let cluster = Cluster::new().await;
    let drain = 5;
    let drain_arg = drain.to_string();
    let mut a = cluster
        .node("43400-43499", &["--drain-seconds", drain_arg.as_str()])
        .await;
    let b = cluster.node("43500-43599", &[]).await;
    let (p1, p2) = (
        cluster.add_agent("marta").await,
        cluster.add_agent("pablo").await,
    );
    let (c1, c2) = (
        sign_in(&a, "marta", &p1).await,
        sign_in(&a, "pablo", &p2).await,
    );
    let mut calling = available_agent(&a, &c1).await;
    let mut offered_to = available_agent(&a, &c2).await;
    let mut in_call = cluster.citizen_joins(&a, "12345678Z", "15-03-2031").await;
    let mut offered = cluster.citizen_joins(&a, "00000000T", "20-06-2019").await;
    let mut waiting = cluster.citizen_joins(&a, "X1234567L", "E00012345").await;
    calling.send(json!({ "type": "take_next" })).await;
    calling.until("offered").await;
    calling.send(json!({ "type": "accept" })).await;
    calling.until("call_started").await;
    offered_to.send(json!({ "type": "take_next" })).await;
    offered_to.until("offered").await;

    signal(&a, "-TERM");
    let stopped_at = Instant::now();
    for peer in [
        &mut calling,
        &mut offered_to,
        &mut in_call.peer,
        &mut offered.peer,
        &mut waiting.peer,
    ] {
        let (m, _) = peer.until_seen("reconnect").await;
        assert!(m["retry_after_ms"].as_u64().is_some(), "{m}");
        let closed = peer.next().await;
        assert_eq!(closed["type"], "closed", "then the socket closes: {closed}");
    }
    let health = reqwest::get(a.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status().as_u16(), 503, "draining");

    // Everyone comes back through another node, and finds what they had.
    assert_eq!(waiting.resume_on(&b).await["type"], "queued");
    assert_eq!(offered.resume_on(&b).await["type"], "agent_found");
    assert_eq!(in_call.resume_on(&b).await["type"], "call_started");
    let mut offered_to = crate::cluster::Peer::connect(&b, "/ws/agent", Some(&c2)).await;
    let (again, _) = offered_to.until_seen("offered").await;
    assert_eq!(
        again["ticket"],
        offered.ticket.as_str(),
        "the offer is kept"
    );
    offered_to.send(json!({ "type": "accept" })).await;
    offered_to.until("call_started").await;
    let mut calling = crate::cluster::Peer::connect(&b, "/ws/agent", Some(&c1)).await;
    let (state, _) = calling.until_seen("state").await;
    assert_eq!(state["state"], "in_call", "{state}");

    // The call pinned to the stopping node ends when the drain time is up.
    let (ended, _) = calling.until_seen("call_ended").await;
    assert_eq!(ended["reason"], "server_stopping", "{ended}");
    let (requeued, _) = in_call.peer.until_seen("requeued").await;
    assert_eq!(requeued["position"], 1, "back at the head: {requeued}");

    let status = tokio::time::timeout(Duration::from_secs(drain + 10), a.child.wait())
        .await
        .expect("the node exits")
        .expect("exit status");
    let took = stopped_at.elapsed();
    println!("the node exited {took:?} after SIGTERM");
    assert!(status.success(), "exit 0: {status:?}");
    assert!(
        took <= Duration::from_secs(drain + 2),
        "within drain-seconds + 2 s: {took:?}"
    );
    let actions = audit_actions(&cluster).await;
    assert!(
        !actions.iter().any(|a| a == "ticket.offer_lapsed"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a == "ticket.server_stopping"));
}

/// Applies through `base` (the balancer) with a passed test call; returns the token.
async fn apply_through(cluster: &Cluster, base: &str, id_number: &str, contrast: &str) -> String {
    let test_call = crate::helpers::passed_test_call(&cluster.db.url).await;
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/applications"))
        .json(&json!({ "id_number": id_number, "contrast": contrast, "test_call": test_call }))
        .send()
        .await
        .expect("apply");
    assert_eq!(r.status().as_u16(), 201);
    let body: serde_json::Value = r.json().await.expect("JSON");
    body["application"].as_str().expect("token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizens_page_and_an_agents_console_resume_on_another_node_by_themselves_when_their_node_stops()
 {
    use crate::chromium::{attr, browser_sized, click, eventually, screenshot_path};

    let cluster = Cluster::new().await;
    let mut a = cluster.node("43600-43699", &["--drain-seconds", "3"]).await;
    let b = cluster.node("43700-43799", &[]).await;
    let balancer = crate::balancer::Balancer::start(&[&a, &b]).await;
    let token = apply_through(&cluster, &balancer.base, "12345678Z", "15-03-2031").await;

    let (_driver, page) = browser_sized(true, (800, 900)).await;
    page.goto(&balancer.url("/queue?lang=en"))
        .await
        .expect("queue page");
    page.execute(
        "sessionStorage.setItem('videoreg.application', arguments[0])",
        vec![json!(token)],
    )
    .await
    .expect("keep the application as the form does");
    page.goto(&balancer.url("/queue?lang=en"))
        .await
        .expect("queue page");
    click(&page, "#consent").await;
    click(&page, "#consent-form button[type=submit]").await;
    eventually("the citizen waits", || async {
        attr(&page, "waiting", "hidden").await.is_none()
    })
    .await;

    // The agent works in the console, through the balancer too (on the same node).
    let password = cluster.add_agent("marta").await;
    let (_agent_driver, console) = browser_sized(true, (1280, 1000)).await;
    crate::console_steps::open_console_at(&console, &balancer.base, "marta", &password).await;

    signal(&a, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(15), a.child.wait())
        .await
        .expect("the node exits")
        .expect("exit status");
    assert!(status.success(), "{status:?}");

    // Nobody touched either page. The console came back on the other node with its state,
    // and takes the citizen, whose page came back too (an away citizen is not offered).
    eventually("the console reconnected, still available", || async {
        attr(&console, "console", "data-connected").await.as_deref() == Some("true")
            && attr(&console, "state", "data-state").await.as_deref() == Some("available")
    })
    .await;
    console
        .screenshot()
        .await
        .ok()
        .and_then(|png| std::fs::write(screenshot_path("console-after-deploy-en.png"), png).ok());
    click(&console, "#take-next").await;
    eventually("the citizen offered in the console", || async {
        attr(&console, "offer", "hidden").await.is_none()
    })
    .await;
    eventually("the page shows the agent was found", || async {
        attr(&page, "call", "hidden").await.is_none()
    })
    .await;
    page.screenshot()
        .await
        .ok()
        .and_then(|png| std::fs::write(screenshot_path("resumed-after-deploy-en.png"), png).ok());
    let _ = b;
}
