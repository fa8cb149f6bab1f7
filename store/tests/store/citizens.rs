//! Citizen accounts: the registration and codes an ID holds, activation in one transaction,
//! the credential it writes, and the failed attempts counted for the limits.

use chrono::{DateTime, TimeDelta, Utc};
use store::{
    Activation, NewActivation, NewAuditEvent, NewDecision, NewRegistration, Outcome, Recorded,
    Store,
};

use crate::helpers::utc;
use crate::verification::in_call;

const T0: &str = "2026-11-26T09:00:00Z";
/// The citizen `in_call(store, 0)` puts in a call.
const ID: &str = "00000000Q";

/// Approves the citizen in a call, issuing a code with `code_hash` that expires in 30 days.
async fn approved(store: &Store, code_hash: &str) -> DateTime<Utc> {
    let ticket = in_call(store, 0).await;
    let at = utc(T0) + TimeDelta::minutes(5);
    let recorded = store
        .record_decision(
            &NewDecision {
                id: "d1",
                ticket_id: &ticket,
                agent_id: "a1",
                outcome: Outcome::Approved,
                reason: None,
                note: "",
                checklist: "[]",
                registration: Some(NewRegistration {
                    id: "r1",
                    code_id: "c1",
                    code_hash,
                    code_expires_at: at + TimeDelta::days(30),
                }),
                review: None,
                requeue_priority: 1,
                at,
            },
            &event("decision.approved"),
        )
        .await
        .expect("decide");
    assert!(matches!(recorded, Recorded::Done { .. }));
    at
}

fn event(action: &str) -> NewAuditEvent<'_> {
    NewAuditEvent {
        at: utc(T0),
        actor: "citizen",
        action,
        subject: ID,
        detail: "{}",
    }
}

async fn activate(store: &Store, id: &str, code_hash: &str, at: DateTime<Utc>) -> Activation {
    store
        .activate(
            &NewActivation {
                id_number: id,
                code_hash,
                password_hash: &format!("hash-at-{}", at.timestamp()),
                client_addr: "192.0.2.1",
                at,
            },
            &event("citizen.activated"),
        )
        .await
        .expect("activate")
}

pub async fn activation_uses_the_code_once_and_sets_the_credential(store: Store) {
    assert_eq!(store.citizen_registration(ID).await.expect("read"), None);
    let approved_at = approved(&store, "good-hash").await;
    let registration = store
        .citizen_registration(ID)
        .await
        .expect("read")
        .expect("registered");
    assert_eq!(
        (registration.id.as_str(), registration.level.as_str()),
        ("r1", "basic")
    );
    assert_eq!(registration.created_at, approved_at);
    assert_eq!(registration.codes.len(), 1);
    assert_eq!(registration.codes[0].code_hash, "good-hash");
    assert_eq!(registration.codes[0].used_at, None);

    assert_eq!(store.citizen_credential(ID).await.expect("read"), None);
    let at = approved_at + TimeDelta::hours(1);
    assert_eq!(
        activate(&store, ID, "good-hash", at).await,
        Activation::Activated
    );
    let credential = store
        .citizen_credential(ID)
        .await
        .expect("read")
        .expect("credential");
    assert_eq!(
        credential.password_hash,
        format!("hash-at-{}", at.timestamp())
    );
    assert_eq!((credential.created_at, credential.updated_at), (at, at));
    let codes = store
        .citizen_registration(ID)
        .await
        .expect("read")
        .expect("registered")
        .codes;
    assert_eq!(codes[0].used_at, Some(at));

    let later = at + TimeDelta::minutes(1);
    assert_eq!(
        activate(&store, ID, "good-hash", later).await,
        Activation::AlreadyUsed
    );
    let unchanged = store.citizen_credential(ID).await.expect("read");
    assert_eq!(unchanged.map(|c| c.updated_at), Some(at), "nothing written");
    let audit = store.audit_for_subject(ID).await.expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "citizen.activated")
            .count(),
        1
    );
}

pub async fn activation_says_why_nothing_was_written(store: Store) {
    assert_eq!(
        activate(&store, ID, "good-hash", utc(T0)).await,
        Activation::NoRegistration
    );
    let approved_at = approved(&store, "good-hash").await;
    assert_eq!(
        activate(&store, ID, "bad-hash", approved_at).await,
        Activation::WrongCode
    );
    assert_eq!(
        activate(&store, ID, "good-hash", approved_at + TimeDelta::days(30)).await,
        Activation::Expired,
        "the expiry instant itself is too late"
    );
    assert_eq!(store.citizen_credential(ID).await.expect("read"), None);
    let codes = store
        .citizen_registration(ID)
        .await
        .expect("read")
        .expect("registered")
        .codes;
    assert_eq!(
        codes[0].used_at, None,
        "a refused activation writes nothing"
    );
}
