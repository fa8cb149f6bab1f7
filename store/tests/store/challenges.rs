//! Liveness challenges: a new one replaces a live one, each is settled once however many
//! answers race, an expired one cannot be settled, and only a passed one in the call counts.

use chrono::TimeDelta;
use store::{NewAuditEvent, NewChallenge, Store};

use crate::helpers::utc;
use crate::verification::in_call;

const T0: &str = "2026-11-26T09:00:00Z";

fn challenge<'a>(id: &'a str, ticket: &'a str) -> NewChallenge<'a> {
    NewChallenge {
        id,
        ticket_id: ticket,
        agent_id: "a1",
        code_hash: "h",
        action: "turn_head_left",
        answer: "both",
        issued_at: utc(T0),
        expires_at: utc(T0) + TimeDelta::seconds(60),
    }
}

fn event<'a>(action: &'a str, ticket: &'a str) -> NewAuditEvent<'a> {
    NewAuditEvent {
        at: utc(T0),
        actor: "a1",
        action,
        subject: ticket,
        detail: "{}",
    }
}

pub async fn a_challenge_is_settled_once_and_never_after_it_expires(store: Store) {
    let ticket = in_call(&store, 0).await;
    store
        .issue_challenge(
            &challenge("c1", &ticket),
            &event("challenge.issued", &ticket),
        )
        .await
        .expect("issue");
    let at = utc(T0) + TimeDelta::seconds(5);
    // Two answers at once (two nodes, or a double click): one settles it.
    let settle = |outcome| {
        let store = store.clone();
        let ticket = ticket.clone();
        async move {
            store
                .settle_challenge(
                    "c1",
                    outcome,
                    "typed",
                    at,
                    &event("challenge.passed", &ticket),
                )
                .await
                .expect("settle")
        }
    };
    let (a, b) = tokio::join!(settle("passed"), settle("failed"));
    assert!(a ^ b, "settled exactly once: {a} {b}");
    let events = store.audit_for_subject(&ticket).await.expect("audit");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "challenge.passed")
            .count(),
        1
    );
    assert!(
        !store
            .challenge_shown("c1", at, &event("challenge.shown", &ticket))
            .await
            .expect("shown")
    );

    // A second challenge replaces nothing settled; its expiry is enforced in the update.
    let mut second = challenge("c2", &ticket);
    second.code_hash = "h2";
    store
        .issue_challenge(&second, &event("challenge.issued", &ticket))
        .await
        .expect("issue");
    let late = utc(T0) + TimeDelta::seconds(60);
    assert!(
        !store
            .settle_challenge(
                "c2",
                "passed",
                "heard",
                late,
                &event("challenge.passed", &ticket)
            )
            .await
            .expect("settle"),
        "not at or after its expiry"
    );
    let stored = store.challenges_for_ticket(&ticket).await.expect("read");
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].outcome.as_deref(),
        Some(if a { "passed" } else { "failed" })
    );
    assert_eq!(stored[1].outcome, None);
}

pub async fn a_new_challenge_replaces_the_live_one_and_only_a_pass_in_the_call_counts(
    store: Store,
) {
    let ticket = in_call(&store, 0).await;
    store
        .issue_challenge(
            &challenge("c1", &ticket),
            &event("challenge.issued", &ticket),
        )
        .await
        .expect("issue");
    assert_eq!(
        store.challenge_wrong_code("c1").await.expect("count"),
        Some(1)
    );
    let mut second = challenge("c2", &ticket);
    second.issued_at = utc(T0) + TimeDelta::seconds(10);
    store
        .issue_challenge(&second, &event("challenge.issued", &ticket))
        .await
        .expect("issue");
    let first = store.challenge("c1").await.expect("read").expect("stored");
    assert_eq!(first.outcome.as_deref(), Some("replaced"));
    assert_eq!(first.attempts, 1);
    assert_eq!(
        store.challenge_wrong_code("c1").await.expect("count"),
        None,
        "no longer live"
    );
    let at = utc(T0) + TimeDelta::seconds(20);
    assert!(
        !store
            .challenge_passed(&ticket, "a1", utc(T0))
            .await
            .expect("read")
    );
    assert!(
        store
            .settle_challenge(
                "c2",
                "passed",
                "typed",
                at,
                &event("challenge.passed", &ticket)
            )
            .await
            .expect("settle")
    );
    assert!(
        store
            .challenge_passed(&ticket, "a1", utc(T0))
            .await
            .expect("read")
    );
    // Not for another agent, nor for a later call on the same ticket.
    assert!(
        !store
            .challenge_passed(&ticket, "a2", utc(T0))
            .await
            .expect("read")
    );
    let later = utc(T0) + TimeDelta::minutes(5);
    assert!(
        !store
            .challenge_passed(&ticket, "a1", later)
            .await
            .expect("read")
    );
}
