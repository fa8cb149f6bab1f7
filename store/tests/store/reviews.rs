//! Second review: an approval chosen for review is queued in its decision's transaction,
//! reviewed once and never by its own agent; a flag stops activation until an auditor clears
//! it, and a revoked registration stays stopped.

use chrono::TimeDelta;
use store::{
    Activation, NewActivation, NewAuditEvent, NewReview, Outcome, Recorded, StaffRole, Store,
};

use crate::helpers::utc;
use crate::verification::{decision, in_call, registration};

const T0: &str = "2026-11-26T09:00:00Z";

fn event<'a>(action: &'a str, subject: &'a str) -> NewAuditEvent<'a> {
    NewAuditEvent {
        at: utc(T0),
        actor: "a1",
        action,
        subject,
        detail: "{}",
    }
}

async fn activate(store: &Store, id_number: &str) -> Activation {
    store
        .activate(
            &NewActivation {
                id_number,
                code_hash: "hash",
                password_hash: "pw",
                client_addr: "192.0.2.1",
                at: utc(T0) + TimeDelta::hours(1),
            },
            &event("citizen.activated", "masked"),
        )
        .await
        .expect("activate")
}

/// An approval queued for review; returns the ticket and the ID number.
async fn approved_for_review(store: &Store) -> (String, String) {
    let ticket = in_call(store, 0).await;
    let mut d = decision(&ticket, Outcome::Approved, Some(registration("r1", "hash")));
    d.review = Some(NewReview {
        sampled_for: "sample",
    });
    let recorded = store
        .record_decision(&d, &event("decision.approved", &ticket))
        .await
        .expect("decide");
    let Recorded::Done { id_number, .. } = recorded else {
        panic!("recorded: {recorded:?}");
    };
    (ticket, id_number)
}

pub async fn a_flag_stops_activation_until_an_auditor_clears_it(store: Store) {
    let (ticket, id_number) = approved_for_review(&store).await;
    let review = store.review(&ticket).await.expect("read").expect("queued");
    assert_eq!(
        (review.sampled_for.as_str(), review.registration_id.as_str()),
        ("sample", "r1")
    );
    let at = utc(T0) + TimeDelta::minutes(10);
    let own = store
        .complete_review(
            &ticket,
            "a1",
            "confirmed",
            None,
            "",
            at,
            &event("review.confirmed", &ticket),
        )
        .await
        .expect("review");
    assert!(!own, "never by the approving agent");
    store
        .insert_staff_user("a2", "revisor", StaffRole::Agent, "h", at)
        .await
        .expect("reviewer");
    assert_eq!(
        store
            .pending_reviews_for("a2", 10)
            .await
            .expect("list")
            .len(),
        1
    );
    assert!(
        store
            .pending_reviews_for("a1", 10)
            .await
            .expect("list")
            .is_empty()
    );
    let flagged = store
        .complete_review(
            &ticket,
            "a2",
            "flagged",
            Some("face_mismatch"),
            "n",
            at,
            &event("review.flagged", &ticket),
        )
        .await
        .expect("review");
    assert!(flagged);
    assert!(
        !store
            .complete_review(
                &ticket,
                "a2",
                "confirmed",
                None,
                "",
                at,
                &event("review.confirmed", &ticket)
            )
            .await
            .expect("review"),
        "reviewed once"
    );
    assert!(store.review_blocking("r1").await.expect("read").is_some());
    assert_eq!(activate(&store, &id_number).await, Activation::UnderReview);
    let counts = store
        .review_counts(utc(T0), utc(T0) + TimeDelta::days(1))
        .await
        .expect("counts");
    assert_eq!(
        (counts[0].queued, counts[0].flagged, counts[0].confirmed),
        (1, 1, 0)
    );
    store
        .insert_staff_user("au", "auditora", StaffRole::Auditor, "h", at)
        .await
        .expect("auditor");
    assert!(
        store
            .resolve_review(
                &ticket,
                "au",
                "cleared",
                at,
                &event("review.cleared", &ticket)
            )
            .await
            .expect("resolve")
    );
    assert!(store.review_blocking("r1").await.expect("read").is_none());
    assert_eq!(activate(&store, &id_number).await, Activation::Activated);
}

pub async fn a_revoked_registration_stays_stopped(store: Store) {
    let (ticket, id_number) = approved_for_review(&store).await;
    let at = utc(T0) + TimeDelta::minutes(10);
    store
        .insert_staff_user("a2", "revisor", StaffRole::Agent, "h", at)
        .await
        .expect("reviewer");
    store
        .complete_review(
            &ticket,
            "a2",
            "flagged",
            Some("liveness_doubt"),
            "",
            at,
            &event("review.flagged", &ticket),
        )
        .await
        .expect("review");
    store
        .insert_staff_user("au", "auditora", StaffRole::Auditor, "h", at)
        .await
        .expect("auditor");
    store
        .resolve_review(
            &ticket,
            "au",
            "revoked",
            at,
            &event("review.revoked", &ticket),
        )
        .await
        .expect("resolve");
    assert!(
        !store
            .resolve_review(
                &ticket,
                "au",
                "cleared",
                at,
                &event("review.cleared", &ticket)
            )
            .await
            .expect("resolve"),
        "resolved once"
    );
    assert_eq!(activate(&store, &id_number).await, Activation::UnderReview);
    let counts = store
        .review_counts(utc(T0), utc(T0) + TimeDelta::days(1))
        .await
        .expect("counts");
    assert_eq!(counts[0].revoked, 1);
}
