//! Real WebRTC through the real server: a webrtc-rs citizen and a webrtc-rs agent, each
//! negotiating with videoreg's forwarder over their sockets; RTP each sends arrives at the
//! other, audio and video, payloads compared.

use std::sync::atomic::Ordering;
use std::time::Duration;

use media::Side;

use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::media_helpers::{TestPeer, exchange, received_from};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_and_agent_media_cross_through_the_forwarder_both_ways() {
    let app = spawn_app().await;
    let (mut citizen, _, mut agent) = app.accepted_call().await;

    let mut citizen_peer = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    citizen_peer.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;

    // Renegotiation on a live call is answered too.
    citizen_peer.renegotiate(&mut citizen).await;

    exchange(&citizen_peer, "C", &agent_peer, "G").await;
    for (peer, from, who) in [(&agent_peer, "C", "agent"), (&citizen_peer, "G", "citizen")] {
        for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
            let got = received_from(peer, kind, from, who);
            let first: u32 = got[0][2..].parse().expect("numbered");
            let last: u32 = got[got.len() - 1][2..].parse().expect("numbered");
            assert!(last > first, "{who}'s {kind} arrived in order");
        }
    }
    let call = app.state().signaling.calls.get(
        app.store
            .waiting_queue(chrono::Utc::now())
            .await
            .expect("queue")
            .first()
            .map(|t| t.id.clone())
            .as_deref()
            .unwrap_or(""),
    );
    assert!(call.is_none(), "nobody is waiting any more");
    assert_eq!(app.state().signaling.calls.len(), 1, "one call forwarded");

    // A keyframe request from the agent's decoder is passed back to the citizen.
    assert!(
        agent_peer.request_keyframe().await,
        "the agent has received video"
    );
    let mut relayed = false;
    for _ in 0..100 {
        let call = app.state().signaling.calls.only().expect("one call");
        if call
            .counters(Side::Citizen)
            .keyframe_requests
            .load(Ordering::Relaxed)
            >= 1
        {
            relayed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        relayed,
        "the forwarder passed the PLI back towards the citizen"
    );

    // The agent's quality indicator: both sides' figures, every 2 s (the first report may
    // come before 100 packets on a loaded machine; a later one must have them).
    let mut quality = agent.until("quality").await;
    for _ in 0..5 {
        if quality["citizen"]["packets"]
            .as_u64()
            .is_some_and(|n| n >= 100)
        {
            break;
        }
        quality = agent.until("quality").await;
    }
    assert!(
        quality["citizen"]["packets"]
            .as_u64()
            .is_some_and(|n| n >= 100),
        "{quality}"
    );
    assert!(
        quality["agent"]["bytes"].as_u64().is_some_and(|n| n > 0),
        "{quality}"
    );

    agent.send(json!({ "type": "hang_up" })).await;
    citizen.until("call_ended").await;
    assert!(
        app.state().signaling.calls.is_empty(),
        "the call and its peers are gone"
    );
    // The forwarder's UDP sockets are closed: their ports can be bound again.
    let ports: Vec<u16> = citizen_peer
        .forwarder_ports()
        .into_iter()
        .chain(agent_peer.forwarder_ports())
        .collect();
    assert_eq!(ports.len(), 2, "one socket per leg: {ports:?}");
    for port in ports {
        let mut free = false;
        for _ in 0..100 {
            if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
                free = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(free, "port {port} was released");
    }
    citizen_peer.close().await;
    agent_peer.close().await;
}

#[tokio::test]
async fn media_messages_without_a_call_are_refused() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut citizen = app.citizen().await;
    citizen
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    citizen.until("queued").await;
    citizen
        .send(json!({ "type": "offer", "description": { "type": "offer", "sdp": "v=0" } }))
        .await;
    assert_eq!(citizen.until("error").await["code"], "no_call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_whose_page_reloads_gets_media_through_a_new_connection() {
    let app = spawn_app().await;
    let (mut citizen, _, mut agent) = app.accepted_call().await;
    let mut first = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    first.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;
    first.close().await;

    // A new browser connection (new DTLS certificate) offers into the same call.
    let mut second = TestPeer::new(0x0D00_0000, "citizen-again").await;
    second.connect(&mut citizen).await;
    exchange(&second, "R", &agent_peer, "G").await;
    for (peer, from, who) in [(&agent_peer, "R", "agent"), (&second, "G", "citizen")] {
        for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
            received_from(peer, kind, from, who);
        }
    }
    second.close().await;
    agent_peer.close().await;
}
