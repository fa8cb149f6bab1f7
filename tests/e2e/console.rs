//! A whole verification in real headless Chromium: an agent signs in to the console, takes
//! a citizen (a second Chromium with a fake camera, talking the citizen protocol), captures
//! the three stills from the citizen's video, ticks the checklist and approves; the citizen
//! receives the activation code. Screenshots go to `target/screenshots/`.

use fantoccini::Client;
use serde_json::{Value, json};

use crate::chromium::{attr, browser_sized, click, eventually, screenshot_path, script_number};
use crate::console_steps::{
    demo_password, open_console, sign_in, take_and_accept, verify_and_approve,
};
use crate::helpers::{apply, demo_server};
use crate::monitor_steps::watch_the_call;
use crate::review_steps::{clear_as_auditor, flag_as_reviewer};

/// The citizen's side, run in the citizen's page: join with the application token, then
/// negotiate media with videoreg when the agent accepts. Every message received is kept in
/// `window.citizenLog` for the test to read.
pub const CITIZEN_JS: &str = r#"
const [token, done] = [arguments[0], arguments[arguments.length - 1]];
window.citizenLog = [];
const ws = new WebSocket(`ws://${location.host}/ws/citizen`);
const send = (m) => ws.send(JSON.stringify(m));
let pc = null;
ws.onmessage = async (e) => {
  const m = JSON.parse(e.data);
  window.citizenLog.push(m);
  if (m.type === "call_started") {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
    pc = new RTCPeerConnection({ iceServers: m.ice_servers });
    stream.getTracks().forEach((t) => pc.addTrack(t, stream));
    pc.onicecandidate = (ev) => ev.candidate && send({ type: "ice", candidate: ev.candidate.toJSON() });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send({ type: "offer", description: { type: offer.type, sdp: offer.sdp } });
  } else if (m.type === "answer") {
    await pc.setRemoteDescription(m.description);
  } else if (m.type === "ice") {
    await pc.addIceCandidate(m.candidate).catch(() => {});
  }
};
ws.onopen = () => { send({ type: "join", application: token, consent: true }); done(true); };
ws.onerror = () => done(false);
"#;

pub async fn citizen_message(c: &Client, kind: &str) -> Option<Value> {
    let log = c
        .execute("return window.citizenLog || []", vec![])
        .await
        .ok()?;
    log.as_array()?.iter().find(|m| m["type"] == kind).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_verifies_a_citizen_in_the_console_and_the_citizen_gets_the_code() {
    let (server, db) = demo_server("42200-42399").await;
    let password = demo_password(&server, "agente");

    // The citizen applies (with a passed test call) and joins from their own browser.
    let token = apply(&server, &db, "12345678Z", "15-03-2031").await;
    let (_citizen_driver, citizen) = browser_sized(true, (800, 600)).await;
    citizen.goto(&server.url("/")).await.expect("citizen page");
    let joined = citizen
        .execute_async(CITIZEN_JS, vec![json!(token)])
        .await
        .expect("citizen script");
    assert_eq!(joined, json!(true));
    eventually("the citizen queued", || async {
        citizen_message(&citizen, "queued").await.is_some()
    })
    .await;

    // The agent signs in, takes the citizen, takes the stills, ticks and approves.
    let (_agent_driver, agent) = browser_sized(true, (1280, 1000)).await;
    open_console(&agent, &server, "agente", &password).await;
    take_and_accept(&agent).await;
    // The call is recorded, and both sides are told so.
    eventually("the console's recording indicator", || async {
        attr(&agent, "recording", "data-state").await.as_deref() == Some("on")
    })
    .await;
    assert!(attr(&agent, "recording", "hidden").await.is_none());
    assert!(citizen_message(&citizen, "recording").await.is_some());
    // A supervisor watches the call for a while, silently, and sends the agent a hint.
    watch_the_call(&server, &agent).await;
    verify_and_approve(&agent, "in-call-en").await;

    // The citizen receives the code; the console is told and goes to wrap-up.
    eventually("the citizen's activation code", || async {
        citizen_message(&citizen, "approved").await.is_some()
    })
    .await;
    let approved = citizen_message(&citizen, "approved")
        .await
        .expect("approved");
    let code = approved["activation_code"].as_str().expect("code");
    assert_eq!(code.len(), 19, "{approved}");
    eventually("wrap-up in the console", || async {
        attr(&agent, "state", "data-state").await.as_deref() == Some("wrap_up")
    })
    .await;
    let png = agent.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path("console-after-approval-en.png"), png)
        .expect("write screenshot");

    let store = store::Store::open(&db).await.expect("open the database");
    let (registration, _) = store
        .registration_for("12345678Z")
        .await
        .expect("read")
        .expect("registered");
    assert_eq!(approved["registration"], registration.as_str());
    let report = store.verify_audit_chain().await.expect("verify");
    assert_eq!(report.broken, None);
    let ticket = store.recent_decisions(1).await.expect("decisions")[0]
        .ticket_id
        .clone();
    // The recording is sealed right after the citizen is told.
    eventually("the call's recording sealed", || async {
        !store
            .recordings_for_ticket(&ticket)
            .await
            .expect("recordings")
            .is_empty()
    })
    .await;
    store.close().await;
    agent.close().await.expect("close");
    citizen.close().await.expect("close");

    // An auditor plays the call's recording on the decision page and seeks it from its
    // timeline.
    let (_auditor_driver, auditor) = browser_sized(false, (1280, 1000)).await;
    let password = demo_password(&server, "auditora");
    sign_in(&auditor, &server.base, "auditora", &password).await;
    auditor
        .goto(&server.url(&format!("/staff/decisions/{ticket}?lang=en")))
        .await
        .expect("decision page");
    auditor
        .execute(
            "const v = document.querySelector('video'); v.muted = true; v.preload = 'auto'; v.play();",
            vec![],
        )
        .await
        .expect("play");
    eventually("the recording plays", || async {
        script_number(
            &auditor,
            "const v = document.querySelector('video'); return v.readyState === 4 && v.currentTime > 0.5 ? 1 : 0",
        )
        .await
            == 1.0
    })
    .await;
    let png = auditor.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path("decision-recording-en.png"), png).expect("screenshot");
    // Long audit details (the decision's stills and their hashes) wrap in their cells.
    let sideways = script_number(
        &auditor,
        "const d = document.documentElement; return d.scrollWidth - d.clientWidth",
    )
    .await;
    assert!(
        sideways <= 0.0,
        "the page scrolls sideways by {sideways} px"
    );
    // The live-person check is on the recording's timeline, where the auditor can watch it.
    let moments = auditor
        .execute(
            "return document.querySelector('ol.timeline').textContent",
            vec![],
        )
        .await
        .expect("timeline");
    let moments = moments.as_str().unwrap_or_default();
    for step in ["challenge.issued", "challenge.passed"] {
        assert!(moments.contains(step), "{step} on the timeline: {moments}");
    }
    let duration = script_number(&auditor, "return document.querySelector('video').duration").await;
    assert!(duration > 1.0, "the file knows its duration: {duration}");
    click(&auditor, "ol.timeline li:last-child button").await;
    let target = script_number(
        &auditor,
        "return Number(document.querySelector('ol.timeline li:last-child button').dataset.seek)",
    )
    .await;
    eventually("the timeline seeks the video", || async {
        let at = script_number(
            &auditor,
            "return document.querySelector('video').currentTime",
        )
        .await;
        (at - target).abs() < 2.0
    })
    .await;
    auditor.close().await.expect("close");

    // The demo agent's first approvals go to second review: the demo's reviewer flags this
    // one (the code stops working), and an auditor clears the flag.
    flag_as_reviewer(&server, &ticket, code).await;
    clear_as_auditor(&server, &ticket).await;
}
