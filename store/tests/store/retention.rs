//! Recordings sealed with their audit event; retention's choice of what is due (decided or
//! not, held or not); purges claimed once with their tombstones, also when two purge at once;
//! legal holds placed and lifted with their events.

use chrono::{DateTime, TimeDelta, Utc};
use store::{NewRecording, NewStill, Outcome, Recording, StillKind, Store};

use crate::helpers::utc;
use crate::queue::join;
use crate::verification::{decision, event, in_call, registration};

const T0: &str = "2026-11-26T09:00:00Z";

fn recording<'a>(id: &'a str, ticket: &'a str, ended_at: DateTime<Utc>) -> NewRecording<'a> {
    NewRecording {
        id,
        ticket_id: ticket,
        file_name: id,
        sha256: "ab12",
        bytes: 1_000_000,
        duration_ms: 300_000,
        tracks: r#"[{"side":"citizen","kind":"video","codec":"VP8"}]"#,
        incomplete_reason: None,
        started_at: ended_at - TimeDelta::minutes(5),
        ended_at,
    }
}

/// A decided call (approved) and an undecided one (in a call still), each recorded once
/// with the recording ending at T0; returns (decided ticket, undecided ticket).
async fn two_recorded_calls(store: &Store) -> (String, String) {
    // The second citizen's call stays undecided; the first citizen is called next, and approved.
    let undecided = in_call(store, 1).await;
    let now = utc(T0);
    let decided = join(store, "00000000Q", now, "r").await.0.id;
    let claimed = store
        .claim_next("a1", now)
        .await
        .expect("claim")
        .expect("a ticket");
    assert_eq!(claimed.id, decided);
    assert!(store.answer_ticket(&decided, now).await.expect("answer"));
    store
        .record_decision(
            &decision(&decided, Outcome::Approved, Some(registration("r1", "h1"))),
            &event("decision.approved", &decided),
        )
        .await
        .expect("decide");
    store
        .seal_recording(&recording("rec-decided", &decided, utc(T0)), "system")
        .await
        .expect("seal");
    store
        .seal_recording(&recording("rec-undecided", &undecided, utc(T0)), "system")
        .await
        .expect("seal");
    (decided, undecided)
}

fn ids(rs: &[Recording]) -> Vec<&str> {
    rs.iter().map(|r| r.id.as_str()).collect()
}

pub async fn a_sealed_recording_is_read_back_with_its_audit_event_and_sealed_once(store: Store) {
    let ticket = in_call(&store, 0).await;
    let mut incomplete = recording("rec-1", &ticket, utc(T0));
    incomplete.incomplete_reason = Some("disk_error");
    assert!(
        store
            .seal_recording(&incomplete, "system")
            .await
            .expect("seal")
    );
    // The same file again (a second node recovering it, say): nothing more is written.
    let again = NewRecording {
        id: "rec-1-again",
        ..incomplete.clone()
    };
    assert!(!store.seal_recording(&again, "system").await.expect("seal"));
    let back = store.recordings_for_ticket(&ticket).await.expect("read");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].sha256, "ab12");
    assert_eq!(back[0].bytes, 1_000_000);
    assert_eq!(back[0].incomplete_reason.as_deref(), Some("disk_error"));
    assert_eq!(back[0].purged_at, None);
    let events = store.audit_for_subject(&ticket).await.expect("audit");
    let sealed: Vec<_> = events
        .iter()
        .filter(|e| e.action == "recording.sealed")
        .collect();
    assert_eq!(sealed.len(), 1, "one event for one file");
    let sealed = sealed[0];
    let detail: serde_json::Value = serde_json::from_str(&sealed.detail).expect("json");
    assert_eq!(detail["sha256"], "ab12");
    assert_eq!(detail["complete"], false);
    assert_eq!(detail["tracks"][0]["codec"], "VP8");
    assert!(
        store
            .verify_audit_chain()
            .await
            .expect("verify")
            .broken
            .is_none()
    );
}

pub async fn recordings_are_due_by_their_own_retention_and_never_when_held(store: Store) {
    let (decided, _undecided) = two_recorded_calls(&store).await;
    let t0 = utc(T0);
    let after = |d: i64| t0 + TimeDelta::days(d);
    // Undecided calls are kept 7 days, decided ones 30 (the caller's cut-offs).
    let due = |now: DateTime<Utc>| {
        let store = store.clone();
        async move {
            store
                .recordings_due(now - TimeDelta::days(30), now - TimeDelta::days(7), 10)
                .await
                .expect("due")
        }
    };
    assert!(due(after(6)).await.is_empty());
    assert_eq!(ids(&due(after(8)).await), ["rec-undecided"]);
    assert_eq!(ids(&due(after(31)).await), ["rec-decided", "rec-undecided"]);
    assert!(
        store
            .place_legal_hold(&decided, "a1", "court order 12/2026", after(10))
            .await
            .expect("hold")
    );
    assert!(
        !store
            .place_legal_hold(&decided, "a1", "again", after(10))
            .await
            .expect("hold"),
        "held once"
    );
    assert_eq!(ids(&due(after(31)).await), ["rec-undecided"]);
    let hold = store
        .legal_hold(&decided)
        .await
        .expect("read")
        .expect("held");
    assert_eq!(hold.reason, "court order 12/2026");
    assert!(
        store
            .lift_legal_hold(&decided, "a1", after(40))
            .await
            .expect("lift")
    );
    assert!(
        !store
            .lift_legal_hold(&decided, "a1", after(40))
            .await
            .expect("lift")
    );
    assert_eq!(due(after(41)).await.len(), 2);
    let actions: Vec<String> = store
        .audit_for_subject(&decided)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"decision.held".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"decision.hold_lifted".to_owned()),
        "{actions:?}"
    );
}

pub async fn two_purging_at_once_purge_each_recording_once_and_the_chain_verifies(store: Store) {
    let (decided, undecided) = two_recorded_calls(&store).await;
    let now = utc(T0) + TimeDelta::days(60);
    let cutoff = now - TimeDelta::days(30);
    let purge = |store: Store| async move {
        let due = store.recordings_due(cutoff, cutoff, 10).await.expect("due");
        let mut won = Vec::new();
        for r in &due {
            if store.purge_recording(r, now).await.expect("purge") {
                won.push(r.id.clone());
            }
        }
        won
    };
    let (a, b) = tokio::join!(purge(store.clone()), purge(store.clone()));
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    all.sort();
    assert_eq!(
        all,
        ["rec-decided", "rec-undecided"],
        "each purged exactly once"
    );
    for ticket in [&decided, &undecided] {
        let tombstones = store
            .audit_for_subject(ticket)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.action == "recording.purged")
            .count();
        assert_eq!(tombstones, 1, "one tombstone for {ticket}");
        let kept = store.recordings_for_ticket(ticket).await.expect("read");
        assert_eq!(kept[0].purged_at, Some(now));
    }
    assert!(
        store
            .recordings_due(now, now, 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert!(
        store
            .kept_recordings_after("", 10)
            .await
            .expect("kept")
            .is_empty()
    );
    assert!(
        store
            .verify_audit_chain()
            .await
            .expect("verify")
            .broken
            .is_none()
    );
}

pub async fn purged_stills_lose_their_bytes_and_keep_their_row(store: Store) {
    let ticket = in_call(&store, 0).await;
    let still = NewStill {
        id: "s1",
        ticket_id: &ticket,
        kind: StillKind::Face,
        agent_id: "a1",
        width: 2,
        height: 2,
        sha256: "cd34",
        image: b"jpeg",
        thumbnail: b"thumb",
        quality: None,
        at: utc(T0),
    };
    store
        .insert_still(&still, &event("still.captured", &ticket))
        .await
        .expect("still");
    let now = utc(T0) + TimeDelta::days(31);
    assert!(
        store.stills_due(utc(T0), 10).await.expect("due").is_empty(),
        "not before"
    );
    let due = store
        .stills_due(now - TimeDelta::days(30), 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    assert!(store.purge_still(&due[0], now).await.expect("purge"));
    assert!(
        !store.purge_still(&due[0], now).await.expect("purge"),
        "once"
    );
    assert!(
        store
            .still_bytes("s1", false)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(
        store.stills_for_ticket(&ticket).await.expect("list").len(),
        1
    );
    assert!(
        store
            .verify_audit_chain()
            .await
            .expect("verify")
            .broken
            .is_none()
    );
}
