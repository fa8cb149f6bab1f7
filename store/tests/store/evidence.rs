//! Evidence that cannot be quietly reset or read: the audit chain against resets and anchors,
//! TOTP secrets sealed at rest, a session renewed after the second factor.

use store::testing::{erase_audit_hashes, execute_raw, fetch_raw_texts};
use store::{AuditAnchor, NewAuditEvent, Store};

use crate::helpers::utc;

const T0: &str = "2026-11-26T09:00:00Z";

async fn append(store: &Store, n: usize) {
    for i in 0..n {
        let detail = format!("{{\"n\":{i}}}");
        store
            .append_audit(&NewAuditEvent {
                at: utc(T0),
                actor: "a1",
                action: "x",
                subject: "s",
                detail: &detail,
            })
            .await
            .expect("append");
    }
}

async fn anchor(store: &Store) -> AuditAnchor {
    store
        .audit_anchor()
        .await
        .expect("read")
        .expect("an intact chain is anchored")
}

pub async fn a_null_hash_reset_of_the_audit_chain_fails_verification(store: Store) {
    append(&store, 5).await;
    let before = anchor(&store).await;
    assert_eq!(before.count, 5);
    erase_audit_hashes(&store).await.expect("tamper");
    let report = store.verify_audit_chain().await.expect("verify");
    let broken = report.broken.expect("an unhashed event breaks the chain");
    assert_eq!((broken.id, report.checked), (1, 0));
    assert!(broken.problem.contains("no hash"), "{}", broken.problem);
    assert!(
        store.audit_anchor().await.expect("read").is_err(),
        "not anchored"
    );
}

pub async fn a_head_whose_count_disagrees_with_the_chain_fails_verification(store: Store) {
    append(&store, 3).await;
    execute_raw(&store, "UPDATE audit_head SET event_count = 7")
        .await
        .expect("tamper");
    let broken = store
        .verify_audit_chain()
        .await
        .expect("verify")
        .broken
        .expect("broken");
    assert!(broken.problem.contains("counts"), "{}", broken.problem);
}

pub async fn a_deleted_newest_event_with_a_rewound_head_fails_against_the_anchor(store: Store) {
    append(&store, 5).await;
    let kept = anchor(&store).await;
    // Delete the newest event and move the head back to the one before: the chain alone
    // cannot tell, the anchor kept outside can.
    execute_raw(&store, "DELETE FROM audit_events WHERE id = 5")
        .await
        .expect("tamper");
    execute_raw(
        &store,
        "UPDATE audit_head SET last_id = 4, event_count = 4, last_hash = (SELECT hash FROM audit_events WHERE id = 4)",
    )
    .await
    .expect("tamper");
    let alone = store.verify_audit_chain().await.expect("verify");
    assert_eq!((alone.checked, alone.broken), (4, None));
    let against = store
        .verify_audit_chain_against(Some(&kept))
        .await
        .expect("verify");
    let broken = against.broken.expect("the anchor finds the deletion");
    assert!(
        broken.problem.contains("fewer events"),
        "{}",
        broken.problem
    );
}

pub async fn a_rewritten_chain_fails_against_the_anchor_and_a_longer_one_passes(store: Store) {
    append(&store, 3).await;
    let kept = anchor(&store).await;
    append(&store, 2).await;
    let later = store
        .verify_audit_chain_against(Some(&kept))
        .await
        .expect("verify");
    assert_eq!(
        (later.checked, later.broken),
        (5, None),
        "events after the anchor"
    );
    let forged = AuditAnchor {
        count: 3,
        hash: "ab".repeat(32),
    };
    let broken = store
        .verify_audit_chain_against(Some(&forged))
        .await
        .expect("verify")
        .broken
        .expect("a different third event");
    assert_eq!(broken.id, 3);
}

pub async fn totp_secrets_are_not_readable_in_the_database(store: Store) {
    let now = utc(T0);
    store
        .insert_staff_user("u1", "marta", store::StaffRole::Agent, "h", now)
        .await
        .expect("insert");
    store
        .set_staff_totp("u1", Some("JBSWY3DPEHPK3PXP"), Some(1), now)
        .await
        .expect("set");
    let stored = fetch_raw_texts(&store, "SELECT totp_secret FROM staff_users")
        .await
        .expect("raw");
    let stored = stored[0].clone().expect("stored");
    assert!(
        stored.starts_with("v1:") && !stored.contains("JBSWY3DP"),
        "{stored}"
    );
    let user = store
        .find_staff_by_id("u1")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(user.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));

    // A sealed secret copied into another account's row does not open there.
    store
        .insert_staff_user("u2", "ana", store::StaffRole::Agent, "h", now)
        .await
        .expect("insert");
    execute_raw(
        &store,
        &format!("UPDATE staff_users SET totp_secret = '{stored}' WHERE id = 'u2'"),
    )
    .await
    .expect("copy");
    assert!(store.find_staff_by_id("u2").await.is_err());
}

pub async fn clear_totp_secrets_of_older_versions_are_sealed_once(store: Store) {
    let now = utc(T0);
    store
        .insert_staff_user("u1", "marta", store::StaffRole::Agent, "h", now)
        .await
        .expect("insert");
    execute_raw(
        &store,
        "UPDATE staff_users SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE id = 'u1'",
    )
    .await
    .expect("an older version's clear secret");
    assert!(
        store.find_staff_by_id("u1").await.is_err(),
        "clear text is refused"
    );
    assert_eq!(store.seal_clear_totp_secrets(now).await.expect("seal"), 1);
    assert_eq!(store.seal_clear_totp_secrets(now).await.expect("seal"), 0);
    let raw = fetch_raw_texts(&store, "SELECT totp_secret FROM staff_users")
        .await
        .expect("raw");
    assert!(raw[0].as_deref().is_some_and(|s| s.starts_with("v1:")));
    let user = store
        .find_staff_by_id("u1")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(user.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
    let sealed = store.recent_audit(5).await.expect("audit");
    assert_eq!(
        sealed
            .iter()
            .filter(|e| e.action == "secrets.totp_sealed")
            .count(),
        1
    );
    let report = store.verify_audit_chain().await.expect("verify");
    assert_eq!(report.broken, None);
}
