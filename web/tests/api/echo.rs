//! The test call through the real server: a webrtc-rs peer gets its own media back, and the
//! limits (at once, per address, duration) and teardown hold.

use std::time::Duration;

use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde_json::json;
use web::config::ServeArgs;

use crate::helpers::{Db, TestApp, spawn_app, spawn_app_with};
use crate::media_helpers::TestPeer;

/// Waits (bounded) until no test call runs on the server.
async fn no_test_calls(app: &TestApp) {
    for _ in 0..250 {
        if app.state().signaling.echoes.running() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("a test call is still running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_its_own_audio_and_video_back() {
    let app = spawn_app().await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "echo_start" })).await;
    let ready = ws.until("echo_ready").await;
    assert_eq!(ready["max_secs"], 120);
    let mut peer = TestPeer::new(0x0E00_0000, "echo").await;
    peer.connect(&mut ws).await;
    peer.send("E", 60).await.expect("sender");
    for _ in 0..30 {
        if peer.payloads(RtpCodecKind::Audio).len() >= 50
            && peer.payloads(RtpCodecKind::Video).len() >= 50
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (kind, k) in [(RtpCodecKind::Video, 'V'), (RtpCodecKind::Audio, 'A')] {
        let back = peer.payloads(kind);
        assert!(
            back.len() >= 50,
            "{} {kind} packets came back of 60",
            back.len()
        );
        assert!(
            back.iter().all(|p| p.starts_with(&format!("E{k}"))),
            "its own payloads: {back:?}"
        );
    }
    // Numbers no browser can measure are refused (found by fuzzing: a loss of 6.7e83 %).
    ws.send(json!({ "type": "echo_result", "verdict": "good", "rtt_ms": 1.0, "loss_pct": 250.0, "jitter_ms": 2.0, "kbps": 400.0 }))
        .await;
    assert_eq!(ws.until("error").await["code"], "bad_media");
    // The browser's verdict and numbers: the server keeps the result under a token that one
    // application can use.
    ws.send(json!({ "type": "echo_result", "verdict": "good", "rtt_ms": 1.0, "loss_pct": 0.0, "jitter_ms": 2.0, "kbps": 400.0 }))
        .await;
    let passed = ws.until("test_passed").await;
    let test_token = passed["test_token"].as_str().expect("token").to_owned();
    assert_eq!(passed["expires_secs"], 1800);
    let r = app
        .client
        .post(app.url("/api/v1/applications"))
        .json(
            &json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": test_token }),
        )
        .send()
        .await
        .expect("apply");
    assert_eq!(r.status().as_u16(), 201);

    ws.send(json!({ "type": "echo_stop" })).await;
    let ended = ws.until("echo_ended").await;
    assert_eq!(ended["reason"], "stopped");
    assert!(
        ended["report"]["packets"]
            .as_u64()
            .is_some_and(|n| n >= 100),
        "{ended}"
    );
    assert!(ended["report"]["bytes"].as_u64().is_some_and(|n| n > 0));
    no_test_calls(&app).await;
    let ports = peer.forwarder_ports();
    assert_eq!(ports.len(), 1, "one socket for the echo: {ports:?}");
    assert!(
        std::net::UdpSocket::bind(("127.0.0.1", ports[0])).is_ok(),
        "its port was released"
    );
    peer.close().await;
}

#[tokio::test]
async fn over_the_limit_a_citizen_is_told_to_retry_not_left_waiting() {
    let args = ServeArgs {
        test_call_max_concurrent: Some(1),
        test_call_per_address: Some(2),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    let mut first = app.citizen().await;
    first.send(json!({ "type": "echo_start" })).await;
    first.until("echo_ready").await;
    let mut second = app.citizen().await;
    second.send(json!({ "type": "echo_start" })).await;
    let busy = second.until("echo_busy").await;
    assert_eq!(busy["retry_after_secs"], 5);
    first.send(json!({ "type": "echo_stop" })).await;
    first.until("echo_ended").await;
    second.send(json!({ "type": "echo_start" })).await;
    second.until("echo_ready").await;
    second.send(json!({ "type": "echo_stop" })).await;
    second.until("echo_ended").await;
    // Two starts from this address in ten minutes is the limit here.
    second.send(json!({ "type": "echo_start" })).await;
    let busy = second.until("echo_busy").await;
    assert!(
        busy["retry_after_secs"].as_u64().is_some_and(|s| s > 500),
        "{busy}"
    );
}

#[tokio::test]
async fn a_test_call_ends_at_its_time_limit_and_when_the_socket_goes() {
    let args = ServeArgs {
        test_call_max_seconds: Some(1),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "echo_start" })).await;
    ws.until("echo_ready").await;
    let ended = ws.until("echo_ended").await;
    assert_eq!(ended["reason"], "time_limit");
    no_test_calls(&app).await;

    let mut gone = app.citizen().await;
    gone.send(json!({ "type": "echo_start" })).await;
    gone.until("echo_ready").await;
    assert_eq!(app.state().signaling.echoes.running(), 1);
    gone.close().await;
    no_test_calls(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nat_the_browser_is_told_the_announced_address() {
    let args = ServeArgs {
        media_announce_ip: Some("203.0.113.7".parse().expect("ip")),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "echo_start" })).await;
    ws.until("echo_ready").await;
    let peer = TestPeer::new(0x0F00_0000, "nat").await;
    let offer = peer.pc.create_offer(None).await.expect("offer");
    peer.pc
        .set_local_description(offer.clone())
        .await
        .expect("local offer");
    ws.send(json!({ "type": "offer", "description": offer }))
        .await;
    // The answer and the trickled candidate travel separately: either may come first.
    let (mut sdp, mut told) = (None, None);
    while sdp.is_none() || told.is_none() {
        let m = ws.recv().await;
        match m["type"].as_str() {
            Some("answer") => sdp = m["description"]["sdp"].as_str().map(str::to_owned),
            Some("ice") => told = m["candidate"]["candidate"].as_str().map(str::to_owned),
            _ => {}
        }
    }
    for text in [sdp, told].into_iter().flatten() {
        assert!(text.contains("203.0.113.7 4"), "announced address: {text}");
        assert!(!text.contains("127.0.0.1"), "not the bound one: {text}");
    }
    peer.close().await;
}
