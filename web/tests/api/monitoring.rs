//! Silent monitoring through the real server with webrtc-rs peers: a supervisor's
//! receive-only monitor gets both sides' media (payloads compared), the call's own legs carry
//! as much while it watches and after it leaves or drops, joining and leaving are audited,
//! the agent is told (unless the notice is off) and can be sent a hint; others are refused.

use std::time::Duration;

use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde_json::{Value, json};
use store::StaffRole;
use web::config::{ServeArgs, Toggle};

use crate::console_helpers::browser_json;
use crate::helpers::{Db, TestApp, spawn_app, spawn_app_with};
use crate::media_helpers::{TestPeer, received_from};
use crate::monitor_helpers::MonitorPeer;
use crate::staff_helpers::Browser;
use crate::ws_helpers::Ws;

/// A call with media connected both ways: citizen and agent sockets and peers, and the ticket.
async fn live_call(app: &TestApp) -> (Ws, TestPeer, Ws, TestPeer, String) {
    let (mut citizen, _, mut agent) = app.accepted_call().await;
    let mut citizen_peer = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    citizen_peer.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;
    let ticket = app.store.calls_in_progress().await.expect("calls")[0]
        .id
        .clone();
    (citizen, citizen_peer, agent, agent_peer, ticket)
}

async fn supervisor(app: &TestApp) -> (Browser<'_>, String) {
    app.add_staff("sara", StaffRole::Supervisor).await;
    let mut b = app.browser();
    b.sign_in("sara").await;
    let csrf = b.session_csrf().await;
    (b, csrf)
}

/// Both peers send 60 numbered packets of each kind tagged `c` and `g`; each must receive at
/// least 50 of the other's, in order and from the other only.
async fn exchange_checked(citizen: &TestPeer, c: &'static str, agent: &TestPeer, g: &'static str) {
    let (before_c, before_g) = (
        citizen.payloads(RtpCodecKind::Video).len(),
        agent.payloads(RtpCodecKind::Video).len(),
    );
    let (a, b) = (citizen.send(c, 60), agent.send(g, 60));
    a.await.expect("sent");
    b.await.expect("sent");
    for _ in 0..30 {
        if citizen.payloads(RtpCodecKind::Video).len() >= before_c + 50
            && agent.payloads(RtpCodecKind::Video).len() >= before_g + 50
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (peer, from, who, before) in [
        (agent, c, "agent", before_g),
        (citizen, g, "citizen", before_c),
    ] {
        let got: Vec<String> = peer.payloads(RtpCodecKind::Video)[before..].to_vec();
        assert!(
            got.len() >= 50,
            "{who} received {} of 60 tagged {from}",
            got.len()
        );
        assert!(
            got.iter().all(|p| p.starts_with(&format!("{from}V"))),
            "{who}: {got:?}"
        );
    }
}

async fn audited(app: &TestApp, ticket: &str, action: &str) -> Vec<store::AuditEvent> {
    for _ in 0..100 {
        let events: Vec<_> = app
            .store
            .audit_for_subject(ticket)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.action == action)
            .collect();
        if !events.is_empty() {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {action} audited");
}

#[tokio::test]
async fn a_monitor_gets_both_sides_media_and_the_call_carries_on_while_it_watches_and_after() {
    let app = spawn_app().await;
    let (_citizen, citizen_peer, mut agent, agent_peer, ticket) = live_call(&app).await;
    exchange_checked(&citizen_peer, "C", &agent_peer, "G").await;

    let (sara, csrf) = supervisor(&app).await;
    let mut monitor = MonitorPeer::new().await;
    let (status, body) = monitor.offer(&app, &sara, &csrf, &ticket).await;
    assert_eq!(status, 201, "{body}");
    monitor.connected().await;
    assert_eq!(agent.until("monitored").await["watching"], 1);
    let joined = audited(&app, &ticket, "monitor.joined").await;
    let sara_id = app
        .store
        .find_staff_by_name("sara")
        .await
        .expect("find")
        .expect("sara")
        .id;
    assert_eq!(joined[0].actor, sara_id);

    exchange_checked(&citizen_peer, "D", &agent_peer, "H").await;
    // The monitor saw both sides, each on its own tracks: the citizen's as sent by the
    // citizen, the agent's as sent by the agent.
    for _ in 0..30 {
        if monitor.payloads("agent", RtpCodecKind::Audio).len() >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (side, tag) in [("citizen", "D"), ("agent", "H")] {
        for (kind, k) in [(RtpCodecKind::Video, 'V'), (RtpCodecKind::Audio, 'A')] {
            let got = monitor.payloads(side, kind);
            let this: Vec<&String> = got.iter().filter(|p| p.starts_with(tag)).collect();
            assert!(
                this.len() >= 50,
                "the monitor got {} of 60 {side} {kind}",
                this.len()
            );
            assert!(
                got.iter().all(|p| p.starts_with(&format!("{tag}{k}"))),
                "only {side}'s {kind} on its track: {got:?}"
            );
        }
    }

    // The supervisor stops; the call goes on as before.
    let id = monitor.id.expect("monitor id");
    let stop = format!("/supervisor/calls/{ticket}/monitor/{id}/stop");
    let (status, body) = browser_json(&app, &sara, "POST", &stop, Some((&csrf, json!(null)))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(agent.until("monitored").await["watching"], 0);
    let left = audited(&app, &ticket, "monitor.left").await;
    assert!(
        left[0].detail.contains("\"connected\":true"),
        "{}",
        left[0].detail
    );
    exchange_checked(&citizen_peer, "E", &agent_peer, "I").await;
    let (status, _) = browser_json(&app, &sara, "POST", &stop, Some((&csrf, json!(null)))).await;
    assert_eq!(status, 404, "stopped once");
    monitor.close().await;
}

#[tokio::test]
async fn a_monitor_that_drops_away_leaves_the_call_as_it_was() {
    let app = spawn_app_with(Db::Postgres, ServeArgs::default()).await;
    let (_citizen, citizen_peer, mut agent, agent_peer, ticket) = live_call(&app).await;
    let (sara, csrf) = supervisor(&app).await;
    let mut monitor = MonitorPeer::new().await;
    let (status, body) = monitor.offer(&app, &sara, &csrf, &ticket).await;
    assert_eq!(status, 201, "{body}");
    monitor.connected().await;
    assert_eq!(agent.until("monitored").await["watching"], 1);
    // The supervisor's browser goes away without a word to the server.
    monitor.close().await;
    drop(monitor);
    exchange_checked(&citizen_peer, "C", &agent_peer, "G").await;
    assert_eq!(agent.until("monitored").await["watching"], 0);
    audited(&app, &ticket, "monitor.left").await;
    for (peer, from, who) in [(&agent_peer, "C", "agent"), (&citizen_peer, "G", "citizen")] {
        received_from(peer, RtpCodecKind::Audio, from, who);
    }
    assert!(app.state().signaling.monitors.is_empty());
}

#[tokio::test]
async fn a_supervisor_whispers_to_the_agent_and_others_are_refused() {
    let app = spawn_app().await;
    let (_citizen, _citizen_peer, mut agent, _agent_peer, ticket) = live_call(&app).await;
    let (sara, csrf) = supervisor(&app).await;
    let whisper = format!("/supervisor/calls/{ticket}/whisper");
    for text in [String::new(), "x".repeat(281)] {
        let (status, body) = browser_json(
            &app,
            &sara,
            "POST",
            &whisper,
            Some((&csrf, json!({ "text": text }))),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (422, json!("bad_text"))
        );
    }
    let hint = "Ask them to tilt the document towards the light.";
    let (status, body) = browser_json(
        &app,
        &sara,
        "POST",
        &whisper,
        Some((&csrf, json!({ "text": hint }))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let told = agent.until("whisper").await;
    assert_eq!(
        (told["from"].clone(), told["text"].clone()),
        (json!("sara"), json!(hint))
    );
    let events = audited(&app, &ticket, "monitor.whisper").await;
    assert!(events[0].detail.contains(hint));

    // Not a call in progress; not an offer.
    let (status, body) = browser_json(
        &app,
        &sara,
        "POST",
        "/supervisor/calls/nope/monitor",
        Some((&csrf, json!({ "offer": { "type": "offer", "sdp": "v=0" } }))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("not_in_call"))
    );
    let path = format!("/supervisor/calls/{ticket}/monitor");
    let (status, body) = browser_json(
        &app,
        &sara,
        "POST",
        &path,
        Some((&csrf, json!({ "offer": { "type": "offer", "sdp": "v=0" } }))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("bad_offer")),
        "{body}"
    );
    // Without the CSRF header; as the call's own agent.
    let (status, _) = browser_json(
        &app,
        &sara,
        "POST",
        &whisper,
        Some(("wrong", json!({ "text": "x" }))),
    )
    .await;
    assert_eq!(status, 403);
    app.add_staff("ana2", StaffRole::Agent).await;
    let mut ana = app.browser();
    ana.sign_in("ana2").await;
    let agent_csrf = ana.session_csrf().await;
    for p in [&path, &whisper] {
        let (status, _) = browser_json(&app, &ana, "POST", p, Some((&agent_csrf, json!({})))).await;
        assert_eq!(status, 403, "{p}");
    }
}

#[tokio::test]
async fn with_the_notice_off_the_agent_is_not_told() {
    let args = ServeArgs {
        monitor_notice: Some(Toggle::Off),
        ..Default::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    let (_citizen, _citizen_peer, mut agent, _agent_peer, ticket) = live_call(&app).await;
    let (sara, csrf) = supervisor(&app).await;
    let mut monitor = MonitorPeer::new().await;
    let (status, body) = monitor.offer(&app, &sara, &csrf, &ticket).await;
    assert_eq!(status, 201, "{body}");
    monitor.connected().await;
    audited(&app, &ticket, "monitor.joined").await;
    // A hint still goes; nothing said of the monitor comes before it.
    let whisper = format!("/supervisor/calls/{ticket}/whisper");
    browser_json(
        &app,
        &sara,
        "POST",
        &whisper,
        Some((&csrf, json!({ "text": "hola" }))),
    )
    .await;
    loop {
        let m: Value = agent.recv().await;
        assert_ne!(m["type"], "monitored", "{m}");
        if m["type"] == "whisper" {
            break;
        }
    }
    monitor.close().await;
}
