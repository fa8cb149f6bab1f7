//! The call's life records every call: from the acceptance (both sides are told), sealed in
//! the audit chain when the call ends (the file probes clean and matches its sealed hash),
//! and, when the disk fails, the call goes on, the agent is warned, the decision says the
//! recording is incomplete and the chain says why there is no file.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use web::config::ServeArgs;
use web::evidence::sha256_of;

use crate::helpers::{Db, spawn_app_with};
use crate::media_helpers::TestPeer;
use crate::recording_helpers::{Impairment, clips, probe, scratch_dir, send_clips};
use crate::ws_helpers::Ws;

fn recorded_in(dir: PathBuf) -> ServeArgs {
    ServeArgs {
        recordings_dir: Some(dir),
        ..ServeArgs::default()
    }
}

/// The next `recording` message whose state is `state`.
async fn recording(ws: &mut Ws, state: &str) -> serde_json::Value {
    loop {
        let m = ws.until("recording").await;
        if m["state"] == state {
            return m;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_recorded_from_its_acceptance_and_sealed_when_it_ends() {
    let dir = scratch_dir("sealed-call");
    let recordings = dir.join("recordings");
    let clips = clips(&dir).await;
    let app = spawn_app_with(Db::Sqlite, recorded_in(recordings.clone())).await;
    let (mut citizen, _, mut agent) = app.accepted_call().await;
    recording(&mut citizen, "on").await;
    recording(&mut agent, "on").await;
    let ticket = app.state().signaling.calls.tickets().remove(0);
    let mut citizen_peer = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    citizen_peer.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;
    let length = Duration::from_secs(4);
    let sent = [
        send_clips(
            citizen_peer.outgoing().await,
            clips.clone(),
            length,
            Impairment::default(),
            7,
        ),
        send_clips(
            agent_peer.outgoing().await,
            clips,
            length,
            Impairment::default(),
            11,
        ),
    ];
    for s in sent {
        s.await.expect("sent");
    }
    agent.send(json!({ "type": "hang_up" })).await;
    agent.until("call_ended").await;
    // Told without waiting for the disk; the recording is sealed right after.
    app.state().signaling.calls.recordings_sealed().await;

    let sealed = app
        .store
        .recordings_for_ticket(&ticket)
        .await
        .expect("read");
    assert_eq!(sealed.len(), 1, "one recording for the call");
    let r = &sealed[0];
    assert_eq!(r.incomplete_reason, None);
    let path = recordings.join(&r.file_name);
    assert_eq!(sha256_of(&path).expect("file"), (r.sha256.clone(), r.bytes));
    let probe = probe(&path).await;
    assert_eq!(probe.errors, "");
    assert_eq!(probe.streams.len(), 4, "{:?}", probe.streams);
    assert!(
        probe.duration >= 3.5,
        "the file holds the call: {} s",
        probe.duration
    );
    let tracks: serde_json::Value = serde_json::from_str(&r.tracks).expect("tracks");
    assert_eq!(tracks.as_array().map(Vec::len), Some(4));
    let actions: Vec<String> = app
        .store
        .audit_for_subject(&ticket)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"recording.sealed".to_owned()),
        "{actions:?}"
    );
    let files = web::evidence::verify_files(&app.store, &recordings)
        .await
        .expect("verify");
    assert_eq!((files.checked, files.broken), (1, None));
    citizen_peer.close().await;
    agent_peer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_unwritable_disk_the_agent_is_warned_and_the_decision_says_so() {
    let dir = scratch_dir("disk-trouble");
    // A directory cannot be made under a file, not even by root.
    let blocker = dir.join("not-a-directory");
    std::fs::write(&blocker, b"x").expect("file");
    let clips = clips(&dir).await;
    let app = spawn_app_with(Db::Sqlite, recorded_in(blocker.join("recordings"))).await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    // The directory cannot be made: the agent hears it as the call starts.
    let warned = tokio::time::timeout(
        Duration::from_secs(10),
        recording(&mut call.agent, "trouble"),
    )
    .await
    .expect("the agent is warned");
    assert!(
        warned["message"]
            .as_str()
            .is_some_and(|m| m.contains("disk")),
        "{warned}"
    );
    // The call goes on: media flows both ways.
    let mut citizen_peer = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    citizen_peer.connect(&mut call.citizen).await;
    agent_peer.connect(&mut call.agent).await;
    let sending = send_clips(
        citizen_peer.outgoing().await,
        clips,
        Duration::from_secs(2),
        Impairment::default(),
        7,
    );
    sending.await.expect("sent");
    let (status, body) = call
        .decide(
            &app,
            json!({ "decision": "reject", "reason": "document_expired" }),
        )
        .await;
    assert_eq!(status, 200, "the call and its decision go on: {body}");
    app.state().signaling.calls.recordings_sealed().await;
    let events = app
        .store
        .audit_for_subject(&call.ticket)
        .await
        .expect("audit");
    let decision = events
        .iter()
        .find(|e| e.action == "decision.rejected")
        .expect("the decision");
    let detail: serde_json::Value = serde_json::from_str(&decision.detail).expect("json");
    assert_eq!(detail["recording"]["complete"], false, "{detail}");
    let failed = events
        .iter()
        .find(|e| e.action == "recording.failed")
        .expect("the chain says why there is no recording");
    assert!(
        failed.detail.contains("could not be written"),
        "{}",
        failed.detail
    );
    assert!(
        app.store
            .recordings_for_ticket(&call.ticket)
            .await
            .expect("read")
            .is_empty()
    );
    citizen_peer.close().await;
    agent_peer.close().await;
}
