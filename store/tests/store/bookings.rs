//! Appointments: a slot fills up to its capacity however many book at once, an ID number has
//! one live booking (replacing it frees its place), and a booking is settled once.

use chrono::{DateTime, TimeDelta, Utc};
use store::{BookOutcome, NewApplication, NewAuditEvent, NewBooking, Store};

use crate::helpers::{dni, utc};

const NOW: &str = "2026-12-04T19:00:00Z";
const NINE: &str = "2026-12-07T08:00:00Z";
const TEN_PAST: &str = "2026-12-07T08:10:00Z";

/// An identity and an application for `id_number`; returns the application's id.
async fn applicant(store: &Store, id_number: &str) -> String {
    let now = utc(NOW);
    store
        .upsert_identities(&[dni(id_number, "2031-02-03")], now)
        .await
        .expect("identity");
    let id = format!("app-{id_number}");
    store
        .insert_application(&NewApplication {
            id: &id,
            token_hash: &format!("token-{id_number}"),
            id_number,
            client_addr: "127.0.0.1",
            created_at: now,
            expires_at: now + TimeDelta::hours(2),
            test_call: Some(r#"{"verdict":"good"}"#),
        })
        .await
        .expect("application");
    id
}

fn event(action: &str) -> NewAuditEvent<'_> {
    NewAuditEvent {
        at: utc(NOW),
        actor: "citizen",
        action,
        subject: "booking",
        detail: "{}",
    }
}

async fn book(
    store: &Store,
    id_number: &str,
    slot: DateTime<Utc>,
    capacity: u32,
    replace: bool,
) -> BookOutcome {
    let app = format!("app-{id_number}");
    let id = format!("b-{id_number}-{}", slot.timestamp());
    let reference = format!("R{id_number}{}", slot.timestamp());
    let b = NewBooking {
        id: &id,
        reference: &reference,
        id_number,
        application_id: &app,
        test_call: Some(r#"{"verdict":"good"}"#),
        lang: "es",
        slot_at: slot,
        browser_hash: "browser",
        created_at: utc(NOW),
    };
    store
        .book(&b, capacity, replace, &event("booking.made"))
        .await
        .expect("book")
}

pub async fn a_slot_fills_to_its_capacity_and_an_id_number_has_one_live_booking(store: Store) {
    for id in ["10000001A", "10000002B", "10000003C"] {
        applicant(&store, id).await;
    }
    let (nine, ten_past) = (utc(NINE), utc(TEN_PAST));
    assert_eq!(
        book(&store, "10000001A", nine, 2, false).await,
        BookOutcome::Booked
    );
    assert_eq!(
        book(&store, "10000002B", nine, 2, false).await,
        BookOutcome::Booked
    );
    assert_eq!(
        book(&store, "10000003C", nine, 2, false).await,
        BookOutcome::Full
    );
    assert_eq!(
        book(&store, "10000003C", ten_past, 0, false).await,
        BookOutcome::Full
    );

    let BookOutcome::AlreadyBooked(live) = book(&store, "10000001A", ten_past, 2, false).await
    else {
        panic!("a second live booking for one ID number");
    };
    assert_eq!(live.slot_at, nine);
    // Rebooking replaces the live booking and gives its place back.
    assert_eq!(
        book(&store, "10000001A", ten_past, 2, true).await,
        BookOutcome::Booked
    );
    let old = store.booking(&live.id).await.expect("read").expect("kept");
    assert_eq!(old.status, "cancelled");
    let booked = store
        .booked_slots(nine, nine + TimeDelta::hours(1))
        .await
        .expect("slots");
    assert_eq!(booked.get(&nine), Some(&1));
    assert_eq!(booked.get(&ten_past), Some(&1));
    assert_eq!(
        book(&store, "10000003C", nine, 2, false).await,
        BookOutcome::Booked
    );

    // Cancelling frees the place once.
    let mine = store
        .live_booking_for("10000003C")
        .await
        .expect("read")
        .expect("live");
    assert_eq!(mine.test_call.as_deref(), Some(r#"{"verdict":"good"}"#));
    let by_ref = store
        .booking_by_reference(&mine.reference)
        .await
        .expect("read");
    assert_eq!(
        by_ref.as_ref().map(|b| b.id.as_str()),
        Some(mine.id.as_str())
    );
    let now = utc(NOW);
    assert!(
        store
            .cancel_booking(&mine.id, now, &event("booking.cancelled"))
            .await
            .expect("cancel")
    );
    assert!(
        !store
            .cancel_booking(&mine.id, now, &event("booking.cancelled"))
            .await
            .expect("again")
    );
    let booked = store
        .booked_slots(nine, nine + TimeDelta::hours(1))
        .await
        .expect("slots");
    assert_eq!(booked.get(&nine), Some(&1), "freed once, not twice");
    assert!(
        store
            .live_booking_for("10000003C")
            .await
            .expect("read")
            .is_none()
    );
}

pub async fn simultaneous_bookings_never_overfill_a_slot(store: Store) {
    let ids: Vec<String> = (0..10).map(|i| format!("2000000{i}X")).collect();
    for id in &ids {
        applicant(&store, id).await;
    }
    let nine = utc(NINE);
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move { book(&store, &id, nine, 3, false).await })
        })
        .collect();
    let mut booked = 0;
    for t in tasks {
        match t.await.expect("task") {
            BookOutcome::Booked => booked += 1,
            BookOutcome::Full => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(booked, 3);
    let live = store
        .bookings_between(nine, nine + TimeDelta::minutes(10))
        .await
        .expect("read");
    assert_eq!(live.iter().filter(|b| b.status == "booked").count(), 3);
}

pub async fn a_booking_is_settled_once_and_missed_ones_become_no_shows(store: Store) {
    for id in ["30000001A", "30000002B"] {
        applicant(&store, id).await;
    }
    let nine = utc(NINE);
    assert_eq!(
        book(&store, "30000001A", nine, 5, false).await,
        BookOutcome::Booked
    );
    assert_eq!(
        book(&store, "30000002B", nine, 5, false).await,
        BookOutcome::Booked
    );
    let kept = store
        .live_booking_for("30000001A")
        .await
        .expect("read")
        .expect("live");
    let at = nine + TimeDelta::minutes(2);
    let kept_event = event("booking.kept");
    let settle = |status| store.settle_booking(&kept.id, status, "t-1", at, &kept_event);
    assert!(settle("kept").await.expect("settle"));
    assert!(!settle("late").await.expect("again"), "settled once");

    // Before the grace is over nothing is missed; after it, the other booking is.
    let early = store
        .mark_no_shows(nine, nine + TimeDelta::minutes(5), "node-1")
        .await
        .expect("mark");
    assert!(early.is_empty());
    let after = nine + TimeDelta::minutes(11);
    let missed = store
        .mark_no_shows(nine + TimeDelta::minutes(1), after, "node-1")
        .await
        .expect("mark");
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0].id_number, "30000002B");
    assert_eq!(missed[0].status, "no_show");
    assert_eq!(missed[0].settled_at, Some(after));
    let kept = store.booking(&kept.id).await.expect("read").expect("there");
    assert_eq!(
        (kept.status.as_str(), kept.ticket_id.as_deref()),
        ("kept", Some("t-1"))
    );
    let again = store
        .mark_no_shows(nine + TimeDelta::minutes(1), after, "node-1")
        .await
        .expect("mark");
    assert!(again.is_empty(), "a no-show is recorded once");
    let events = store.recent_audit(20).await.expect("audit");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "booking.no_show")
            .count(),
        1
    );
}
