//! The claim and the queue's order are SQL (`store::tickets::service_order`); the service
//! order is written in `scheduler::queue::service_key`. Here the scheduler is the oracle.

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::{REQUEUE_PRIORITY, Standing, in_service_order};
use store::{NewTicket, Store, Ticket};

use crate::helpers::utc;
use crate::queue::{T0, citizens};

async fn join(store: &Store, id: &str, at: DateTime<Utc>, appointment: Option<DateTime<Utc>>) {
    store
        .join_queue(
            &NewTicket {
                id: &format!("t-{id}"),
                application_id: &format!("app-{id}"),
                id_number: id,
                priority: 0,
                joined_at: at,
                told_estimate_secs: None,
                resume_token_hash: &format!("r-{id}"),
                consent_at: at,
                appointment_at: appointment,
                told_range_secs: None,
            },
            None,
        )
        .await
        .expect("join");
}

/// The scheduler's order of `waiting` (joined in arrival order, so `joined_at` is the
/// arrival order too).
fn oracle(waiting: &[Ticket], now: DateTime<Utc>) -> Vec<String> {
    let ordered = in_service_order(waiting.to_vec(), now, |t| {
        let standing = match (t.priority >= REQUEUE_PRIORITY, t.appointment_at) {
            (true, _) => Standing::Requeued,
            (false, Some(at)) => Standing::Appointment { at },
            (false, None) => Standing::WalkIn,
        };
        (standing, t.joined_at.timestamp_millis())
    });
    ordered.into_iter().map(|t| t.id_number).collect()
}

fn ids(tickets: &[Ticket]) -> Vec<String> {
    tickets.iter().map(|t| t.id_number.clone()).collect()
}

pub async fn claims_follow_the_scheduler_service_order(store: Store) {
    let t0 = utc(T0);
    let c = citizens(&store, 8, t0).await;
    let at = |m: i64| t0 + TimeDelta::minutes(m);
    // Two tickets put back by an agent: a walk-in and an appointment (claimed alone, then
    // requeued).
    join(&store, &c[0], at(0), None).await;
    join(&store, &c[1], at(1), Some(at(40))).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let t = store.claim_next("agent", at(1)).await.expect("claim");
        held.push(t.expect("a ticket"));
    }
    for t in held {
        let requeued = store.requeue_ticket(&t.id, REQUEUE_PRIORITY).await;
        assert!(requeued.expect("requeue"));
    }
    // Walk-ins and appointments, due and not yet due, arriving mixed.
    join(&store, &c[2], at(2), None).await;
    join(&store, &c[3], at(3), Some(at(20))).await;
    join(&store, &c[4], at(4), None).await;
    join(&store, &c[5], at(5), Some(at(10))).await;
    join(&store, &c[6], at(6), Some(at(10))).await;
    join(&store, &c[7], at(7), Some(at(9))).await;

    let now = at(12);
    let waiting = store.waiting_queue(now).await.expect("queue");
    assert_eq!(ids(&waiting), oracle(&waiting, now));
    let c = |i: usize| c[i].clone();
    assert_eq!(
        ids(&waiting),
        [c(0), c(1), c(7), c(5), c(6), c(2), c(4), c(3)],
        "requeued, due appointments by slot, walk-ins, then the appointment not yet due"
    );
    // Later, the 12:20 appointment is due too: ahead of the walk-ins.
    let later = at(25);
    let waiting = store.waiting_queue(later).await.expect("queue");
    assert_eq!(ids(&waiting), oracle(&waiting, later));
    assert_eq!(ids(&waiting)[5], c(3));
    // Claims take the same order, one by one.
    let expected = oracle(&waiting, later);
    let mut claimed = Vec::new();
    while let Some(t) = store.claim_next("agent", later).await.expect("claim") {
        claimed.push(t.id_number);
    }
    assert_eq!(claimed, expected);
}
