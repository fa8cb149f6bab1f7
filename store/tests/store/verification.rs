//! Stills, decisions (with the registration and activation code an approval writes), the
//! call timers, and the audit trail's hash chain.

use chrono::TimeDelta;
use store::testing::execute_raw;
use store::{
    AgentStatus, BrokenLink, NewAuditEvent, NewDecision, NewRegistration, NewStill, Outcome,
    Recorded, StaffRole, StillKind, StillQuality, Store, TicketStatus,
};

use crate::helpers::utc;
use crate::queue::{citizens, join};

const T0: &str = "2026-11-26T09:00:00Z";

/// One citizen in a call with agent `a1`; returns the ticket id.
pub async fn in_call(store: &Store, id_number_index: usize) -> String {
    let now = utc(T0);
    let ids = citizens(store, id_number_index + 1, now).await;
    let id = &ids[id_number_index];
    if store.find_staff_by_id("a1").await.expect("find").is_none() {
        store
            .insert_staff_user("a1", "agente", StaffRole::Agent, "h", now)
            .await
            .expect("agent");
    }
    let (ticket, _) = join(store, id, now, "r").await;
    let claimed = store
        .claim_next("a1", now)
        .await
        .expect("claim")
        .expect("a ticket");
    assert_eq!(claimed.id, ticket.id);
    assert!(store.answer_ticket(&ticket.id, now).await.expect("answer"));
    ticket.id
}

pub fn event<'a>(action: &'a str, subject: &'a str) -> NewAuditEvent<'a> {
    NewAuditEvent {
        at: utc(T0),
        actor: "a1",
        action,
        subject,
        detail: "{}",
    }
}

pub fn decision<'a>(
    ticket: &'a str,
    outcome: Outcome,
    registration: Option<NewRegistration<'a>>,
) -> NewDecision<'a> {
    NewDecision {
        id: "d1",
        ticket_id: ticket,
        agent_id: "a1",
        outcome,
        reason: None,
        note: "",
        checklist: "[]",
        registration,
        review: None,
        requeue_priority: 1,
        at: utc(T0) + TimeDelta::minutes(5),
    }
}

pub fn registration<'a>(id: &'a str, code_hash: &'a str) -> NewRegistration<'a> {
    NewRegistration {
        id,
        code_id: id,
        code_hash,
        code_expires_at: utc(T0) + TimeDelta::days(30),
    }
}

pub async fn stills_are_stored_with_their_audit_event_and_read_back(store: Store) {
    let ticket = in_call(&store, 0).await;
    let still = NewStill {
        id: "s1",
        ticket_id: &ticket,
        kind: StillKind::DocumentFront,
        agent_id: "a1",
        width: 1280,
        height: 720,
        sha256: "ab",
        image: &[1, 2, 3, 0, 255],
        thumbnail: &[9],
        quality: Some(StillQuality {
            sharpness: 1234,
            glare_per_mille: 7,
        }),
        at: utc(T0),
    };
    store
        .insert_still(&still, &event("still.captured", &ticket))
        .await
        .expect("insert");
    let listed = store.stills_for_ticket(&ticket).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].kind, listed[0].width, listed[0].height),
        (StillKind::DocumentFront, 1280, 720)
    );
    assert_eq!(
        listed[0].quality,
        Some(StillQuality {
            sharpness: 1234,
            glare_per_mille: 7,
        })
    );
    let (_, bytes) = store
        .still_bytes("s1", false)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(bytes, [1, 2, 3, 0, 255]);
    let (_, thumb) = store
        .still_bytes("s1", true)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(thumb, [9]);
    assert!(
        store
            .still_bytes("nope", false)
            .await
            .expect("read")
            .is_none()
    );
    let audit = store.audit_for_subject(&ticket).await.expect("audit");
    assert_eq!(audit.len(), 1);
}

pub async fn an_approval_writes_ticket_registration_code_decision_and_audit_at_once(store: Store) {
    let ticket = in_call(&store, 0).await;
    let recorded = store
        .record_decision(
            &decision(
                &ticket,
                Outcome::Approved,
                Some(registration("r1", "hash-of-code")),
            ),
            &event("decision.approved", &ticket),
        )
        .await
        .expect("decide");
    assert!(matches!(recorded, Recorded::Done { .. }));
    let t = store.ticket(&ticket).await.expect("read").expect("ticket");
    assert_eq!(
        (t.status, t.outcome.as_deref()),
        (TicketStatus::Done, Some("approved"))
    );
    let (hash, expires, used) = store
        .activation_code_for("r1")
        .await
        .expect("code")
        .expect("stored");
    assert_eq!(hash, "hash-of-code");
    assert_eq!(expires, utc(T0) + TimeDelta::days(30));
    assert_eq!(used, None);
    let decisions = store
        .decisions_for_ticket(&ticket)
        .await
        .expect("decisions");
    assert_eq!(decisions[0].registration_id.as_deref(), Some("r1"));
    assert_eq!(
        store.audit_for_subject(&ticket).await.expect("audit").len(),
        1
    );
    // The call is over: a second decision on it changes nothing.
    let again = store
        .record_decision(
            &decision(&ticket, Outcome::Rejected, None),
            &event("x", &ticket),
        )
        .await
        .expect("decide");
    assert_eq!(again, Recorded::NotInCall);
}

pub async fn an_id_number_is_registered_once_and_a_refused_approval_writes_nothing(store: Store) {
    let ticket = in_call(&store, 0).await;
    store
        .record_decision(
            &decision(&ticket, Outcome::Approved, Some(registration("r1", "h1"))),
            &event("decision.approved", &ticket),
        )
        .await
        .expect("decide");
    // The same citizen comes back with a new ticket and is approved again.
    let (second, _) = join(
        &store,
        &store
            .ticket(&ticket)
            .await
            .expect("read")
            .expect("ticket")
            .id_number,
        utc(T0),
        "again",
    )
    .await;
    store
        .claim_next("a1", utc(T0))
        .await
        .expect("claim")
        .expect("ticket");
    store
        .answer_ticket(&second.id, utc(T0))
        .await
        .expect("answer");
    let mut d = decision(
        &second.id,
        Outcome::Approved,
        Some(registration("r2", "h2")),
    );
    d.id = "d2";
    let recorded = store
        .record_decision(&d, &event("decision.approved", &second.id))
        .await
        .expect("decide");
    assert_eq!(recorded, Recorded::AlreadyRegistered);
    let t = store
        .ticket(&second.id)
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(t.status, TicketStatus::InCall, "nothing was written");
    assert!(
        store
            .activation_code_for("r2")
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        store
            .decisions_for_ticket(&second.id)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .audit_for_subject(&second.id)
            .await
            .expect("read")
            .is_empty()
    );
}

pub async fn an_abort_puts_the_citizen_back_at_the_head(store: Store) {
    let ticket = in_call(&store, 0).await;
    let mut d = decision(&ticket, Outcome::Aborted, None);
    d.reason = Some("video_quality");
    store
        .record_decision(&d, &event("decision.aborted", &ticket))
        .await
        .expect("decide");
    let t = store.ticket(&ticket).await.expect("read").expect("ticket");
    assert_eq!(
        (t.status, t.priority, t.agent_id),
        (TicketStatus::Waiting, 1, None)
    );
}

pub async fn unaccepted_offers_lapse_and_wrap_ups_end(store: Store) {
    let now = utc(T0);
    let ids = citizens(&store, 1, now).await;
    store
        .insert_staff_user("a1", "agente", StaffRole::Agent, "h", now)
        .await
        .expect("agent");
    let (ticket, _) = join(&store, &ids[0], now, "r").await;
    store
        .claim_next("a1", now)
        .await
        .expect("claim")
        .expect("ticket");
    assert_eq!(
        store
            .current_ticket_for_agent("a1")
            .await
            .expect("read")
            .map(|t| t.id),
        Some(ticket.id.clone())
    );
    let early = store
        .lapsed_offers(now - TimeDelta::seconds(1))
        .await
        .expect("sweep");
    assert!(early.is_empty(), "not lapsed yet");
    let lapsed = store.lapsed_offers(now).await.expect("sweep");
    assert_eq!(lapsed, vec![(ticket.id.clone(), "a1".to_owned())]);
    let mut tx = store.begin().await.expect("begin");
    assert!(
        !tx.requeue_lapsed(&ticket.id, "a2", now, 1)
            .await
            .expect("requeue"),
        "only the agent it was offered to"
    );
    assert!(
        tx.requeue_lapsed(&ticket.id, "a1", now, 1)
            .await
            .expect("requeue")
    );
    tx.commit().await.expect("commit");
    let t = store
        .ticket(&ticket.id)
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!((t.status, t.priority), (TicketStatus::Waiting, 1));
    assert!(
        store
            .current_ticket_for_agent("a1")
            .await
            .expect("read")
            .is_none()
    );

    store
        .set_agent_state("a1", AgentStatus::WrapUp, None, now)
        .await
        .expect("state");
    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.finish_wrap_ups(now - TimeDelta::seconds(1), now)
            .await
            .expect("sweep")
            .is_empty()
    );
    let done = tx
        .finish_wrap_ups(now, now + TimeDelta::seconds(30))
        .await
        .expect("sweep");
    tx.commit().await.expect("commit");
    assert_eq!(done, ["a1"]);
    let s = store.agent_state("a1").await.expect("read").expect("state");
    assert_eq!(s.status, AgentStatus::Available);
}

async fn append_five(store: &Store) {
    for (i, action) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        let detail = format!("{{\"n\":{i}}}");
        store
            .append_audit(&NewAuditEvent {
                at: utc(T0),
                actor: "a1",
                action,
                subject: "s",
                detail: &detail,
            })
            .await
            .expect("append");
    }
}

pub async fn the_audit_chain_verifies_and_finds_an_edited_row(store: Store) {
    append_five(&store).await;
    let report = store.verify_audit_chain().await.expect("verify");
    assert_eq!((report.checked, report.broken), (5, None));
    execute_raw(
        &store,
        "UPDATE audit_events SET detail = '{\"n\":9}' WHERE action = 'c'",
    )
    .await
    .expect("tamper");
    let broken = first_broken_link(&store).await;
    assert_eq!(broken.id, 3);
    assert!(broken.problem.contains("edited"), "{}", broken.problem);
}

/// The first broken link of the audit chain, which must have one.
async fn first_broken_link(store: &Store) -> BrokenLink {
    let report = store.verify_audit_chain().await.expect("verify");
    report.broken.expect("found")
}

pub async fn the_audit_chain_finds_a_deleted_row_and_a_deleted_newest_row(store: Store) {
    append_five(&store).await;
    execute_raw(&store, "DELETE FROM audit_events WHERE action = 'e'")
        .await
        .expect("tamper");
    let broken = first_broken_link(&store).await;
    assert_eq!(broken.id, 5, "the head names the missing newest event");
    execute_raw(&store, "DELETE FROM audit_events WHERE action = 'b'")
        .await
        .expect("tamper");
    let broken = first_broken_link(&store).await;
    assert_eq!(broken.id, 3, "the event after the gap no longer links");
}

pub async fn concurrent_appends_keep_one_chain(store: Store) {
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let subject = format!("s{i}");
            store
                .append_audit(&NewAuditEvent {
                    at: utc(T0),
                    actor: "a",
                    action: "x",
                    subject: &subject,
                    detail: "{}",
                })
                .await
                .expect("append");
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let report = store.verify_audit_chain().await.expect("verify");
    assert_eq!((report.checked, report.broken), (20, None));
}
