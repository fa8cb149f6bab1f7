//! A call's steps in one transaction with their audit events, and the calls that end when
//! the citizen stays away.

use chrono::TimeDelta;
use store::{Store, TicketStatus};

use crate::helpers::utc;
use crate::queue::{T0, citizens, join};

pub async fn calls_whose_citizen_stays_away_end(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 1, t0).await;
    let (t, _) = join(&store, &ids[0], t0, "r").await;
    store.claim_next("agent-1", t0).await.expect("claim");
    store.answer_ticket(&t.id, t0).await.expect("answer");
    store
        .set_ticket_disconnected(&t.id, Some(t0))
        .await
        .expect("drop");
    assert!(
        store
            .disconnected_calls(t0 - TimeDelta::seconds(1))
            .await
            .expect("read")
            .is_empty(),
        "still in grace"
    );
    let cutoff = t0 + TimeDelta::seconds(1);
    let gone = store.disconnected_calls(cutoff).await.expect("read");
    assert_eq!(
        gone.iter()
            .map(|t| (t.id.clone(), t.agent_id.clone()))
            .collect::<Vec<_>>(),
        vec![(t.id.clone(), Some("agent-1".to_owned()))]
    );
    let mut tx = store.begin().await.expect("begin");
    let now = t0 + TimeDelta::seconds(61);
    assert!(
        tx.end_disconnected_call(&t.id, cutoff, now)
            .await
            .expect("end")
    );
    tx.commit().await.expect("commit");
    let t = store.ticket(&t.id).await.expect("find").expect("stored");
    assert_eq!(
        (t.status, t.outcome.as_deref()),
        (TicketStatus::Done, Some("citizen_left"))
    );
}

pub async fn a_step_and_its_audit_event_are_written_together_or_not_at_all(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 1, t0).await;
    let (t, _) = join(&store, &ids[0], t0, "r").await;
    let event = store::NewAuditEvent {
        at: t0,
        actor: "agent-1",
        action: "ticket.offered",
        subject: &t.id,
        detail: "{}",
    };
    let mut tx = store.begin().await.expect("begin");
    let claimed = tx.claim_next("agent-1", t0).await.expect("claim");
    assert_eq!(claimed.map(|c| c.id), Some(t.id.clone()));
    tx.audit(&event).await.expect("audit");
    tx.rollback().await.expect("rollback");
    let after = store.ticket(&t.id).await.expect("read").expect("ticket");
    assert_eq!(after.status, TicketStatus::Waiting, "the claim was undone");
    assert!(
        store
            .audit_for_subject(&t.id)
            .await
            .expect("audit")
            .is_empty(),
        "and so was its audit event"
    );
    let mut tx = store.begin().await.expect("begin");
    tx.claim_next("agent-1", t0).await.expect("claim");
    tx.audit(&event).await.expect("audit");
    tx.commit().await.expect("commit");
    let after = store.ticket(&t.id).await.expect("read").expect("ticket");
    assert_eq!(after.status, TicketStatus::Offered);
    assert_eq!(
        store.audit_for_subject(&t.id).await.expect("audit").len(),
        1
    );
}
