//! One UDP port for every session (`SharedPort`): real webrtc-rs peers standing in for
//! browsers, many sessions at once through the one port, media compared by payload so that
//! a packet delivered to the wrong session shows.

mod helpers;
mod rebind;

use std::sync::Arc;

use media::{MediaCall, MediaThreads, Side};
use tokio::task::JoinSet;

use helpers::{Peer, connect, only_from, shared_config, until_received};

/// Packets each side sends per kind, and how many must arrive (loss on a loaded machine).
const SENT: u16 = 40;
const ARRIVED: usize = 30;

/// The port every candidate the forwarder gave names.
fn ports_in(candidates: &[String]) -> Vec<u16> {
    let mut ports: Vec<u16> = candidates
        .iter()
        .filter_map(|c| c.split(' ').nth(5).and_then(|p| p.parse().ok()))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_calls_and_twenty_test_calls_share_one_udp_port_without_crossing_streams() {
    let threads = MediaThreads::new(2);
    let config = shared_config(&threads, false);
    let port = config.shared.as_ref().expect("shared").udp_addr().port();
    let mut sessions = JoinSet::new();
    for n in 0..20u32 {
        let (config, threads) = (config.clone(), threads.clone());
        sessions.spawn(async move {
            let (call, feed) = MediaCall::cross(&config, &threads).await.expect("call");
            let mut citizen = Peer::new(Side::Citizen, 0x0100_0000 + n * 16, "citizen").await;
            let mut agent = Peer::new(Side::Agent, 0x0200_0000 + n * 16, "agent").await;
            let given = connect(&call, feed, &mut [&mut citizen, &mut agent]).await;
            let (c_tag, a_tag) = (format!("call{n}-citizen-"), format!("call{n}-agent-"));
            tokio::join!(citizen.send(&c_tag, 0, SENT), agent.send(&a_tag, 0, SENT));
            assert!(
                until_received(&agent, &c_tag, 0, ARRIVED).await,
                "call {n}: agent"
            );
            assert!(
                until_received(&citizen, &a_tag, 0, ARRIVED).await,
                "call {n}: citizen"
            );
            only_from(&agent, &c_tag, ARRIVED, &format!("call {n}'s agent"));
            only_from(&citizen, &a_tag, ARRIVED, &format!("call {n}'s citizen"));
            for side in [Side::Citizen, Side::Agent] {
                let quality = call.quality(side).await.expect("quality");
                assert_eq!(quality.path.as_deref(), Some("udp"), "call {n}'s {side:?}");
            }
            let ports = ports_in(&given.lock().expect("lock"));
            call.close().await;
            citizen.close().await;
            agent.close().await;
            ports
        });
    }
    for n in 0..20u32 {
        let (config, threads) = (config.clone(), threads.clone());
        sessions.spawn(async move {
            let (echo, feed) = MediaCall::echo(&config, &threads).await.expect("echo");
            let mut citizen = Peer::new(Side::Citizen, 0x0300_0000 + n * 16, "echo").await;
            let given = connect(&echo, feed, &mut [&mut citizen]).await;
            let tag = format!("echo{n}-");
            citizen.send(&tag, 0, SENT).await;
            assert!(
                until_received(&citizen, &tag, 0, ARRIVED).await,
                "test call {n}"
            );
            only_from(&citizen, &tag, ARRIVED, &format!("test call {n}"));
            let ports = ports_in(&given.lock().expect("lock"));
            echo.close().await;
            citizen.close().await;
            ports
        });
    }
    let mut finished = 0;
    while let Some(done) = sessions.join_next().await {
        let ports = done.expect("a session's task");
        assert_eq!(ports, vec![port], "every leg was offered the one port");
        finished += 1;
    }
    assert_eq!(finished, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_restart_moves_a_leg_to_a_new_client_port_without_crossing_streams() {
    let threads = MediaThreads::new(1);
    let config = shared_config(&threads, false);
    let mut calls = Vec::new();
    let forwarder = config.shared.as_ref().expect("shared").udp_addr();
    let nat = rebind::Rebinder::new(forwarder).await;
    for n in 0..2u32 {
        let (call, feed) = MediaCall::cross(&config, &threads).await.expect("call");
        let mut citizen = Peer::new(Side::Citizen, 0x0100_0000 + n * 16, "citizen").await;
        if n == 0 {
            // Call 0's citizen is behind a NAT that will change its mapping.
            citizen.via = Some(nat.clone());
        }
        let mut agent = Peer::new(Side::Agent, 0x0200_0000 + n * 16, "agent").await;
        connect(&call, feed, &mut [&mut citizen, &mut agent]).await;
        calls.push((call, Arc::new(citizen), Arc::new(agent)));
    }
    let tags = |n: usize| (format!("c{n}-citizen-"), format!("c{n}-agent-"));
    for (n, (_, citizen, agent)) in calls.iter().enumerate() {
        let (c_tag, a_tag) = tags(n);
        tokio::join!(citizen.send(&c_tag, 0, SENT), agent.send(&a_tag, 0, SENT));
    }

    // Call 0's citizen's NAT maps it to a new port (the old one is closed), and the page
    // restarts ICE, as it does when the connection drops.
    let (call, citizen, agent) = &calls[0];
    let before = nat.client_port();
    nat.rebind().await;
    let after = nat.client_port();
    assert_ne!(before, after, "a new client port");
    citizen.offer(call, true).await;
    let (c_tag, a_tag) = tags(0);
    // Media from after the restart, numbered from 1000, must reach the agent.
    let sender = {
        let citizen = citizen.clone();
        let c_tag = c_tag.clone();
        tokio::spawn(async move { citizen.send(&c_tag, 1000, 3 * SENT).await })
    };
    assert!(
        until_received(agent, &c_tag, 1000, ARRIVED).await,
        "the citizen's media after the restart reached the agent"
    );
    sender.await.expect("sender");
    agent.send(&a_tag, 1000, SENT).await;
    assert!(
        until_received(citizen, &a_tag, 1000, ARRIVED).await,
        "the agent's media after the restart reached the citizen"
    );

    // Nothing crossed, before or after.
    for (n, (_, citizen, agent)) in calls.iter().enumerate() {
        let (c_tag, a_tag) = tags(n);
        only_from(agent, &c_tag, ARRIVED, &format!("call {n}'s agent"));
        only_from(citizen, &a_tag, ARRIVED, &format!("call {n}'s citizen"));
    }
    for (call, citizen, agent) in &calls {
        call.close().await;
        citizen.close().await;
        agent.close().await;
    }
}
