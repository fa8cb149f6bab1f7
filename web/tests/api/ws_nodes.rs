//! Two servers on one PostgreSQL database, as two nodes: a citizen on one, an agent on the
//! other; messages cross over the bus (LISTEN/NOTIFY).

use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde_json::json;
use store::StaffRole;
use web::config::ServeArgs;

use crate::helpers::{Db, second_node, spawn_app_with};
use crate::media_helpers::TestPeer;
use crate::ws_helpers::Ws;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_on_one_node_is_served_by_an_agent_on_another() {
    let a = spawn_app_with(Db::Postgres, ServeArgs::default()).await;
    let b = second_node(&a).await;
    let token = a.application("12345678Z", "15/03/2031").await;
    let mut citizen = a.citizen().await;
    citizen
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    citizen.until("queued").await;

    b.add_staff("ana", StaffRole::Agent).await;
    let mut browser = b.browser();
    browser.sign_in("ana").await;
    let mut agent = b
        .try_ws("/ws/agent", Some(&b.base), Some(&browser.cookie_header()))
        .await
        .expect("console");
    agent.until("state").await;
    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    // The agent's node changed the queue; the citizen's node hears it and updates the estimate.
    loop {
        if !citizen.until("position").await["estimate_secs"].is_null() {
            break;
        }
    }
    agent.send(json!({ "type": "take_next" })).await;
    agent.until("offered").await;
    citizen.until("agent_found").await;
    agent.send(json!({ "type": "accept" })).await;
    citizen.until("call_started").await;

    // The call runs on the agent's node; the citizen's offer and candidates reach it over
    // the bus, and media flows both ways.
    media_flows_both_ways(&mut citizen, &mut agent).await;
    assert_eq!(
        a.state().signaling.calls.len(),
        0,
        "the citizen's node runs no call"
    );
    assert_eq!(
        b.state().signaling.calls.len(),
        1,
        "the agent's node runs it"
    );

    agent.send(json!({ "type": "hang_up" })).await;
    assert_eq!(citizen.until("call_ended").await["reason"], "hang_up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_console_that_reconnects_to_another_node_mid_call_negotiates_with_the_calls_node()
{
    let a = spawn_app_with(Db::Postgres, ServeArgs::default()).await;
    let b = second_node(&a).await;
    let token = b.application("12345678Z", "15/03/2031").await;
    let mut citizen = b.citizen().await;
    citizen
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    citizen.until("queued").await;
    b.add_staff("ana", StaffRole::Agent).await;
    let mut browser = b.browser();
    browser.sign_in("ana").await;
    let cookie = browser.cookie_header();
    let mut on_b = b
        .try_ws("/ws/agent", Some(&b.base), Some(&cookie))
        .await
        .expect("console");
    on_b.until("state").await;
    on_b.send(json!({ "type": "set_state", "state": "available" }))
        .await;
    while on_b.until("state").await["state"] != "available" {}
    on_b.send(json!({ "type": "take_next" })).await;
    on_b.until("offered").await;
    on_b.send(json!({ "type": "accept" })).await;
    on_b.until("call_started").await;
    citizen.until("call_started").await;

    // The console comes back on node A (a deploy moved it); the call stays on B.
    let mut on_a = a
        .try_ws("/ws/agent", Some(&a.base), Some(&cookie))
        .await
        .expect("console on the other node");
    let again = on_a.until("call_started").await;
    assert!(
        again["ice_servers"].is_array(),
        "told the call goes on: {again}"
    );
    on_b.close().await;

    media_flows_both_ways(&mut citizen, &mut on_a).await;
    assert_eq!(a.state().signaling.calls.len(), 0, "A runs no call");
    assert_eq!(b.state().signaling.calls.len(), 1, "the call stayed on B");
}

/// Connects a citizen's and an agent's stand-in browsers over their sockets and waits until
/// audio flows both ways.
async fn media_flows_both_ways(citizen: &mut Ws, agent: &mut Ws) {
    let mut citizen_peer = TestPeer::new(0x0C00_0000, "c").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "a").await;
    citizen_peer.connect(citizen).await;
    agent_peer.connect(agent).await;
    let (c, g) = (citizen_peer.send("C", 40), agent_peer.send("G", 40));
    c.await.expect("citizen sender");
    g.await.expect("agent sender");
    for _ in 0..30 {
        if agent_peer.payloads(RtpCodecKind::Audio).len() >= 30
            && citizen_peer.payloads(RtpCodecKind::Audio).len() >= 30
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        agent_peer.payloads(RtpCodecKind::Audio).len() >= 30,
        "citizen → agent across nodes"
    );
    assert!(
        citizen_peer.payloads(RtpCodecKind::Audio).len() >= 30,
        "agent → citizen across nodes"
    );
}
