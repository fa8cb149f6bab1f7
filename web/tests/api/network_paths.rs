//! The network path: a server on one shared UDP port carries a test call and a call; the
//! test call's reported path is kept with its result, refused when it names no path, and
//! counted on the supervisors' dashboard; the agent's call details carry it.

use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde_json::json;
use web::config::ServeArgs;

use crate::console_helpers::browser_json;
use crate::helpers::{Db, spawn_app_with};
use crate::media_helpers::{TestPeer, exchange, received_from};
use crate::supervisor::supervisor;

fn one_port() -> ServeArgs {
    ServeArgs {
        media_udp_port: Some(0),
        ..ServeArgs::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_calls_path_is_kept_with_its_result_and_counted_for_supervisors() {
    let app = spawn_app_with(Db::Sqlite, one_port()).await;
    let shared = app
        .state()
        .signaling
        .media
        .shared
        .clone()
        .expect("a shared port");
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "echo_start" })).await;
    ws.until("echo_ready").await;
    let mut peer = TestPeer::new(0x0E00_0000, "echo").await;
    peer.connect(&mut ws).await;
    assert_eq!(
        peer.forwarder_ports(),
        vec![shared.udp_addr().port()],
        "the echo's leg is on the shared port"
    );
    peer.send("E", 30).await.expect("sender");

    // A path no browser names is refused, as is a connection time beyond any test call.
    for bad in [
        json!({ "path": "carrier_pigeon" }),
        json!({ "path": "udp", "connect_ms": -1 }),
    ] {
        let mut m = json!({ "type": "echo_result", "verdict": "good", "rtt_ms": 1.0, "loss_pct": 0.0, "jitter_ms": 2.0, "kbps": 400.0 });
        for (k, v) in bad.as_object().expect("object") {
            m[k] = v.clone();
        }
        ws.send(m).await;
        assert_eq!(ws.until("error").await["code"], "bad_media");
    }
    ws.send(json!({ "type": "echo_result", "verdict": "good", "rtt_ms": 1.0, "loss_pct": 0.0, "jitter_ms": 2.0, "kbps": 400.0, "path": "udp", "connect_ms": 240 }))
        .await;
    let token = ws.until("test_passed").await["test_token"]
        .as_str()
        .expect("token")
        .to_owned();
    ws.send(json!({ "type": "echo_stop" })).await;
    ws.until("echo_ended").await;
    peer.close().await;

    // Another citizen's test call today went over TCP.
    let now = app.clock.now();
    app.store
        .insert_test_call_on(
            "other",
            "{}",
            Some("tcp"),
            now,
            now + chrono::TimeDelta::minutes(30),
        )
        .await
        .expect("store a test call");
    let b = supervisor(&app).await;
    let (status, d) = browser_json(&app, &b, "GET", "/supervisor/dashboard.json", None).await;
    assert_eq!(status, 200, "{d}");
    let paths = &d["test_call_paths"];
    assert_eq!(paths.as_array().map(Vec::len), Some(2), "{paths}");
    for (path, label) in [("udp", "Direct (UDP)"), ("tcp", "Direct (TCP)")] {
        let row = paths
            .as_array()
            .and_then(|p| p.iter().find(|r| r["path"] == path))
            .unwrap_or_else(|| panic!("{path} in {paths}"));
        assert_eq!(row["count"], 1);
        assert!(
            row["label"]
                .as_str()
                .is_some_and(|l| l.contains(label) || l.contains("Directa")),
            "{row}"
        );
    }

    // The application carries the result, path included, to the agent's call details.
    let r = app
        .client
        .post(app.url("/api/v1/applications"))
        .json(&json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": token }))
        .send()
        .await
        .expect("apply");
    assert_eq!(r.status().as_u16(), 201);
    let body: serde_json::Value = r.json().await.expect("json");
    let application_token = body["application"].as_str().expect("application token");
    let stored = app
        .store
        .find_application_by_token(
            &store::secrets::hash_token(application_token),
            app.clock.now(),
        )
        .await
        .expect("read")
        .and_then(|a| a.test_call);
    let stored: serde_json::Value =
        serde_json::from_str(stored.as_deref().unwrap_or("{}")).expect("test call JSON");
    assert_eq!(stored["path"], "udp", "{body} / {stored}");
    assert_eq!(stored["browser"]["connect_ms"], 240.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_on_the_shared_port_carries_both_sides_on_the_one_port() {
    let app = spawn_app_with(Db::Postgres, one_port()).await;
    let port = app
        .state()
        .signaling
        .media
        .shared
        .clone()
        .expect("a shared port")
        .udp_addr()
        .port();
    let (mut citizen, _, mut agent) = app.accepted_call().await;
    let mut citizen_peer = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    citizen_peer.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;
    assert_eq!(citizen_peer.forwarder_ports(), vec![port]);
    assert_eq!(agent_peer.forwarder_ports(), vec![port]);
    exchange(&citizen_peer, "C", &agent_peer, "G").await;
    for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
        received_from(&agent_peer, kind, "C", "agent");
        received_from(&citizen_peer, kind, "G", "citizen");
    }
    agent.send(json!({ "type": "hang_up" })).await;
    citizen.until("call_ended").await;
    citizen_peer.close().await;
    agent_peer.close().await;
}
