//! `videoreg audit verify` on a real database: intact, then edited, then with the newest
//! event deleted.

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
