//! Evidence on disk: `audit verify`'s file check names an edited recording; retention's
//! purge deletes what is due (calls without a decision sooner), keeps what is held, writes
//! tombstones, and leaves a chain that verifies; two nodes purging at once delete each file
//! once.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use store::StaffRole;
use web::config::ServeArgs;
use web::evidence::{Purged, purge_once, sha256_of, verify_files};

use crate::console_helpers::png;
use crate::helpers::{Db, TestApp, second_node, spawn_app_with};

pub fn recordings_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "videoreg-recordings-{}",
        store::secrets::new_id().expect("id")
    ));
    std::fs::create_dir_all(&dir).expect("recordings dir");
    dir
}

pub fn args(dir: &Path) -> ServeArgs {
    ServeArgs {
        recordings_dir: Some(dir.to_owned()),
        retention_days: Some(30),
        incomplete_retention_days: Some(7),
        ..ServeArgs::default()
    }
}

/// Writes a recording file for `ticket` and seals it as the recorder would.
pub async fn record(app: &TestApp, dir: &Path, ticket: &str, ended: DateTime<Utc>) -> String {
    let id = store::secrets::new_id().expect("id");
    let file = format!("{id}.webm");
    let content = format!("recording of {ticket}").repeat(1000);
    std::fs::write(dir.join(&file), content).expect("write");
    let (sha256, bytes) = sha256_of(&dir.join(&file)).expect("hash");
    let sealed = store::NewRecording {
        id: &id,
        ticket_id: ticket,
        file_name: &file,
        sha256: &sha256,
        bytes,
        duration_ms: 60_000,
        tracks: r#"[{"side":"citizen","kind":"video","codec":"VP8"}]"#,
        incomplete_reason: None,
        started_at: ended - TimeDelta::minutes(1),
        ended_at: ended,
    };
    app.store
        .seal_recording(&sealed, "system")
        .await
        .expect("seal");
    file
}

/// A call rejected by `agent` and one hung up without a decision by `other_agent`; their
/// tickets.
pub async fn decided_and_undecided(app: &TestApp) -> (String, String) {
    let decided = app.call_with("ana", "12345678Z", "15/03/2031").await;
    decided.reject_expired(app).await;
    let mut undecided = app.call_with("luis", "00000000T", "20/06/2019").await;
    undecided.agent.send(json!({ "type": "hang_up" })).await;
    undecided.agent.until("call_ended").await;
    // The server finishes each call's own recording (sealed, or failed without media) a
    // moment after the call ends: wait for both, so that neither lands mid-test.
    let finishing = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let mut finished = 0;
            for t in [&decided.ticket, &undecided.ticket] {
                let done = actions(app, t)
                    .await
                    .iter()
                    .any(|a| a == "recording.sealed" || a == "recording.failed");
                finished += usize::from(done);
            }
            if finished == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(finishing.is_ok(), "both calls' recordings finished");
    (decided.ticket.clone(), undecided.ticket.clone())
}

pub async fn actions(app: &TestApp, ticket: &str) -> Vec<String> {
    app.store
        .audit_for_subject(ticket)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn audit_verify_names_a_recording_whose_file_was_edited_or_removed() {
    let dir = recordings_dir();
    let app = spawn_app_with(Db::Sqlite, args(&dir)).await;
    let (decided, undecided) = decided_and_undecided(&app).await;
    let now = app.clock.now();
    record(&app, &dir, &decided, now).await;
    let second = record(&app, &dir, &undecided, now).await;
    let report = verify_files(&app.store, &dir).await.expect("verify");
    assert_eq!((report.checked, report.broken.clone()), (2, None));

    let path = dir.join(&second);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[100] ^= 1;
    std::fs::write(&path, &bytes).expect("edit one byte");
    let report = verify_files(&app.store, &dir).await.expect("verify");
    let (_, named, problem) = report.broken.expect("the edited file is found");
    assert_eq!(named, path);
    assert_eq!(problem, "file differs from its sealed hash");

    std::fs::remove_file(&path).expect("remove");
    let report = verify_files(&app.store, &dir).await.expect("verify");
    assert_eq!(report.broken.expect("missing").2, "file missing");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn retention_purges_what_is_due_keeps_what_is_held_and_leaves_tombstones() {
    let dir = recordings_dir();
    let app = spawn_app_with(Db::Sqlite, args(&dir)).await;
    let (decided, undecided) = decided_and_undecided(&app).await;
    let now = app.clock.now();
    let decided_file = record(&app, &dir, &decided, now).await;
    let undecided_file = record(&app, &dir, &undecided, now).await;
    let state = app.state();
    let policy = state.evidence.clone();

    let purged = purge_once(&app.store, &policy, now + TimeDelta::days(6))
        .await
        .expect("purge");
    assert_eq!(purged, Purged::default(), "nothing is due within a week");

    // A week on, the call without a decision goes; the decided one stays for 30 days.
    let purged = purge_once(&app.store, &policy, now + TimeDelta::days(8))
        .await
        .expect("purge");
    assert_eq!((purged.recordings, purged.files_left), (1, 0));
    assert!(!dir.join(&undecided_file).exists());
    assert!(dir.join(&decided_file).exists());
    assert!(
        actions(&app, &undecided)
            .await
            .contains(&"recording.purged".to_owned())
    );

    // Held, the decided call's evidence outlives its retention; lifted, it goes.
    app.add_staff("auditora", StaffRole::Auditor).await;
    let auditor = app
        .store
        .find_staff_by_name("auditora")
        .await
        .expect("find")
        .expect("auditor")
        .id;
    assert!(
        app.store
            .place_legal_hold(&decided, &auditor, "court order", now)
            .await
            .expect("hold")
    );
    let later = now + TimeDelta::days(31);
    let purged = purge_once(&app.store, &policy, later).await.expect("purge");
    assert_eq!(purged, Purged::default(), "held evidence is kept");
    assert!(dir.join(&decided_file).exists());
    assert!(
        app.store
            .lift_legal_hold(&decided, &auditor, later)
            .await
            .expect("lift")
    );
    let purged = web::housekeeping::run_once(&state, later)
        .await
        .expect("housekeeping");
    assert!(purged >= 1, "the housekeeping round purges too");
    assert!(!dir.join(&decided_file).exists());
    assert!(
        actions(&app, &decided)
            .await
            .contains(&"recording.purged".to_owned())
    );

    let chain = app.store.verify_audit_chain().await.expect("verify");
    assert!(chain.broken.is_none(), "tombstones keep the chain whole");
    let files = verify_files(&app.store, &dir).await.expect("verify files");
    assert_eq!(
        (files.checked, files.broken),
        (0, None),
        "purged files are not missed"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn two_nodes_purging_at_once_delete_each_file_once() {
    let dir = recordings_dir();
    let app = spawn_app_with(Db::Postgres, args(&dir)).await;
    let other = second_node(&app).await;
    let (decided, undecided) = decided_and_undecided(&app).await;
    let now = app.clock.now();
    let mut files = Vec::new();
    for ticket in [&decided, &undecided, &decided, &undecided] {
        files.push(record(&app, &dir, ticket, now).await);
    }
    let policy = app.state().evidence.clone();
    let later = now + TimeDelta::days(60);
    let (a, b) = tokio::join!(
        purge_once(&app.store, &policy, later),
        purge_once(&other.store, &policy, later)
    );
    let (a, b) = (a.expect("first node"), b.expect("second node"));
    assert_eq!(a.recordings + b.recordings, 4, "{a:?} {b:?}");
    assert_eq!(a.files_left + b.files_left, 0);
    for f in &files {
        assert!(!dir.join(f).exists(), "{f} deleted");
    }
    let mut tombstones = 0;
    for ticket in [&decided, &undecided] {
        tombstones += actions(&app, ticket)
            .await
            .iter()
            .filter(|a| *a == "recording.purged")
            .count();
    }
    assert_eq!(tombstones, 4, "one tombstone per recording");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn only_an_auditor_places_and_lifts_a_legal_hold_and_both_are_audited() {
    let dir = recordings_dir();
    let app = spawn_app_with(Db::Sqlite, args(&dir)).await;
    let (decided, _) = decided_and_undecided(&app).await;
    let hold = format!("/staff/decisions/{decided}/hold");
    for (name, role) in [("sara", StaffRole::Supervisor), ("pepe", StaffRole::Agent)] {
        app.add_staff(name, role).await;
        let mut b = app.browser();
        b.sign_in(name).await;
        let csrf = b.session_csrf().await;
        let page = b.post(&hold, &[("csrf", &csrf), ("reason", "x")]).await;
        assert_eq!(page.status, 403, "{name} may not hold evidence");
    }
    app.add_staff("auditora", StaffRole::Auditor).await;
    let mut b = app.browser();
    b.sign_in("auditora").await;
    let csrf = b.session_csrf().await;
    let page = b
        .post(&hold, &[("csrf", "wrong"), ("reason", "court order")])
        .await;
    assert_eq!(page.status, 403, "a forged form is refused");
    let page = b.post(&hold, &[("csrf", &csrf), ("reason", "  ")]).await;
    assert_eq!(page.status, 422, "a hold needs its reason");
    let page = b
        .post(&hold, &[("csrf", &csrf), ("reason", "court order 12/2026")])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some(format!("/staff/decisions/{decided}").as_str())
    );
    let shown = b.get(&format!("/staff/decisions/{decided}")).await;
    assert!(shown.body.contains("court order 12/2026"), "{}", shown.body);
    let held = app
        .store
        .legal_hold(&decided)
        .await
        .expect("read")
        .expect("held");
    assert_eq!(held.reason, "court order 12/2026");
    let page = b.post(&format!("{hold}/lift"), &[("csrf", &csrf)]).await;
    assert_eq!(page.status, 303);
    assert!(
        app.store
            .legal_hold(&decided)
            .await
            .expect("read")
            .is_none()
    );
    let events = actions(&app, &decided).await;
    assert!(events.contains(&"decision.held".to_owned()), "{events:?}");
    assert!(
        events.contains(&"decision.hold_lifted".to_owned()),
        "{events:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_still_deleted_by_retention_is_shown_as_deleted_not_as_a_broken_image() {
    let dir = recordings_dir();
    let app = spawn_app_with(Db::Sqlite, args(&dir)).await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let (status, still) = call.upload(&app, "face", png(64, 48), &call.csrf).await;
    assert_eq!(status, 201, "{still}");
    call.reject_expired(&app).await;
    app.add_staff("auditora", StaffRole::Auditor).await;
    let mut b = app.browser();
    b.sign_in("auditora").await;
    let page = format!("/staff/decisions/{}", call.ticket);
    let thumbnail = format!(
        "/staff/stills/{}/thumbnail",
        still["id"].as_str().expect("id")
    );
    assert!(b.get(&page).await.body.contains(&thumbnail));

    let later = app.clock.now() + TimeDelta::days(31);
    let policy = app.state().evidence.clone();
    let purged = purge_once(&app.store, &policy, later).await.expect("purge");
    assert_eq!(purged.stills, 1);
    let shown = b.get(&page).await.body;
    assert!(!shown.contains(&thumbnail), "no image to point at");
    assert!(
        shown.contains("Imagen borrada al cumplir su plazo")
            || shown.contains("Image deleted when its retention ended"),
        "{shown}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
