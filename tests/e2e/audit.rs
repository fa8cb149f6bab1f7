//! `videoreg audit verify` on a real database: intact, then edited, then with the newest
//! event deleted; and each recording's file against the hash sealed in the chain.

use store::NewAuditEvent;
use store::testing::execute_raw;

use crate::helpers::{run, scratch_dir, sqlite_url};

#[tokio::test]
async fn audit_verify_passes_an_intact_trail_and_names_the_first_broken_link() {
    let dir = scratch_dir();
    let db = sqlite_url(&dir);
    let store = store::Store::open(&db).await.expect("open");
    for action in ["staff.signed_in", "ticket.offered", "decision.approved"] {
        store
            .append_audit(&NewAuditEvent {
                at: chrono::Utc::now(),
                actor: "u1",
                action,
                subject: "t1",
                detail: "{}",
            })
            .await
            .expect("append");
    }
    let (ok, out, err) = run(&["audit", "verify", "--database-url", &db], &[]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("intact: 3 events verified"), "{out}");

    execute_raw(
        &store,
        "UPDATE audit_events SET actor = 'someone-else' WHERE id = 2",
    )
    .await
    .expect("tamper");
    let (ok, _, err) = run(&["audit", "verify", "--database-url", &db], &[]).await;
    assert!(!ok, "an edited event fails verification");
    assert!(
        err.contains("BROKEN at event 2") && err.contains("edited"),
        "{err}"
    );

    execute_raw(&store, "UPDATE audit_events SET actor = 'u1' WHERE id = 2")
        .await
        .expect("restore");
    execute_raw(&store, "DELETE FROM audit_events WHERE id = 3")
        .await
        .expect("tamper");
    let (ok, _, err) = run(&["audit", "verify", "--database-url", &db], &[]).await;
    assert!(!ok, "a deleted newest event fails verification");
    assert!(
        err.contains("BROKEN at event 3") && err.contains("missing"),
        "{err}"
    );
    store.close().await;
}

/// A fresh SQLite database with `n` chained events, opened directly.
async fn trail_of(n: usize) -> (std::path::PathBuf, String, store::Store) {
    let dir = scratch_dir();
    let db = sqlite_url(&dir);
    let store = store::Store::open(&db).await.expect("open");
    for i in 0..n {
        store
            .append_audit(&NewAuditEvent {
                at: chrono::Utc::now(),
                actor: "u1",
                action: "staff.signed_in",
                subject: "marta",
                detail: &format!("{{\"n\":{i}}}"),
            })
            .await
            .expect("append");
    }
    (dir, db, store)
}

#[tokio::test]
async fn audit_verify_fails_after_a_null_hash_reset_of_the_chain() {
    let (_dir, db, store) = trail_of(4).await;
    store::testing::erase_audit_hashes(&store)
        .await
        .expect("tamper");
    let (ok, out, err) = run(&["audit", "verify", "--database-url", &db], &[]).await;
    assert!(!ok, "a reset chain fails: {out}");
    assert!(
        err.contains("BROKEN at event 1") && err.contains("no hash"),
        "{err}"
    );
    let (ok, out, _) = run(&["audit", "anchor", "--database-url", &db], &[]).await;
    assert!(
        !ok && out.is_empty(),
        "a broken chain is not anchored: {out}"
    );
    store.close().await;
}

/// `videoreg audit verify --anchor ANCHOR`: (success, stdout, stderr).
async fn verify_against(anchor: &str, db: &str) -> (bool, String, String) {
    let args = ["audit", "verify", "--anchor", anchor, "--database-url", db];
    run(&args, &[]).await
}

#[tokio::test]
async fn audit_verify_against_an_anchor_finds_a_deleted_newest_event() {
    let (_dir, db, store) = trail_of(4).await;
    let (ok, out, err) = run(&["audit", "anchor", "--database-url", &db], &[]).await;
    assert!(ok, "{err}");
    let anchor = out.trim().to_owned();
    assert!(anchor.starts_with("4:") && anchor.len() == 66, "{anchor}");
    let (ok, out, err) = verify_against(&anchor, &db).await;
    assert!(
        ok && out.contains("intact: 4 events verified"),
        "{out}{err}"
    );

    // The newest event deleted and the head moved back: the chain alone looks whole.
    execute_raw(&store, "DELETE FROM audit_events WHERE id = 4")
        .await
        .expect("tamper");
    execute_raw(
        &store,
        "UPDATE audit_head SET last_id = 3, event_count = 3, last_hash = (SELECT hash FROM audit_events WHERE id = 3)",
    )
    .await
    .expect("tamper");
    let (ok, _, _) = run(&["audit", "verify", "--database-url", &db], &[]).await;
    assert!(ok, "without the anchor the deletion is not visible");
    let (ok, _, err) = verify_against(&anchor, &db).await;
    assert!(!ok, "the anchor finds the deleted newest event");
    assert!(err.contains("fewer events than the anchor"), "{err}");
    store.close().await;
}

/// A ticket for a fictional citizen in `store`, to hang a recording on.
async fn a_ticket(store: &store::Store) -> String {
    let now = chrono::Utc::now();
    crate::helpers::applicant(store, now).await;
    let ticket = store::NewTicket {
        id: "t-1",
        application_id: "app-1",
        id_number: "12345678Z",
        priority: 0,
        joined_at: now,
        told_estimate_secs: None,
        resume_token_hash: "r-1",
        consent_at: now,
        appointment_at: None,
        told_range_secs: None,
    };
    store.join_queue(&ticket, None).await.expect("join").0.id
}

#[tokio::test]
async fn audit_verify_checks_every_recording_file_against_its_sealed_hash() {
    use sha2::Digest;
    let dir = scratch_dir();
    let db = sqlite_url(&dir);
    let recordings = dir.join("recordings");
    std::fs::create_dir_all(&recordings).expect("recordings dir");
    let store = store::Store::open(&db).await.expect("open");
    let ticket = a_ticket(&store).await;
    let content = b"webm bytes of a call".repeat(500);
    std::fs::write(recordings.join("call.webm"), &content).expect("write");
    let sha256: String = sha2::Sha256::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let now = chrono::Utc::now();
    let sealed = store::NewRecording {
        id: "rec-1",
        ticket_id: &ticket,
        file_name: "call.webm",
        sha256: &sha256,
        bytes: content.len() as u64,
        duration_ms: 1000,
        tracks: "[]",
        incomplete_reason: None,
        started_at: now,
        ended_at: now,
    };
    store.seal_recording(&sealed, "system").await.expect("seal");
    let dir_arg = recordings.display().to_string();
    let verify = [
        "audit",
        "verify",
        "--database-url",
        &db,
        "--recordings-dir",
        &dir_arg,
    ];
    let (ok, out, err) = run(&verify, &[]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("recordings intact: 1 files"), "{out}");

    let mut edited = content.clone();
    edited[7] ^= 0x20;
    std::fs::write(recordings.join("call.webm"), &edited).expect("edit one byte");
    // The directory from the environment, as a service unit would give it.
    let (ok, _, err) = run(
        &["audit", "verify", "--database-url", &db],
        &[("VIDEOREG_RECORDINGS_DIR", &dir_arg)],
    )
    .await;
    assert!(!ok, "an edited recording fails verification");
    assert!(
        err.contains("recording rec-1 BROKEN: file differs from its sealed hash")
            && err.contains("call.webm"),
        "{err}"
    );
    store.close().await;
}
