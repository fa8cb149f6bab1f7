//! The counters behind every limit on failed attempts: counted atomically, rolled back when
//! refused, forgotten after a quiet spell, cleared together for an ID number.

use std::collections::BTreeSet;

use chrono::TimeDelta;
use store::{Store, ThrottleScope, pair_subject};

use crate::helpers::utc;

const T0: &str = "2026-11-29T10:00:00Z";

/// Counts one attempt in its own transaction and commits; returns the count.
async fn count(store: &Store, scope: ThrottleScope, subject: &str, minutes: i64) -> i64 {
    let now = utc(T0) + TimeDelta::minutes(minutes);
    let mut tx = store.begin().await.expect("begin");
    let t = tx
        .count_attempt(scope, subject, now, Some(now - TimeDelta::hours(1)))
        .await
        .expect("count");
    tx.commit().await.expect("commit");
    t.failures
}

pub async fn concurrent_attempts_are_each_counted_exactly_once(store: Store) {
    let mut tasks = Vec::new();
    for _ in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            count(&store, ThrottleScope::CitizenId, "12345678Z", 0).await
        }));
    }
    let mut seen = BTreeSet::new();
    for t in tasks {
        seen.insert(t.await.expect("task"));
    }
    assert_eq!(
        seen,
        (1..=60).collect::<BTreeSet<i64>>(),
        "each of 60 concurrent attempts saw its own count"
    );
    let row = store
        .throttle(ThrottleScope::CitizenId, "12345678Z")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(row.failures, 60);
}

pub async fn a_refused_attempt_rolls_its_count_back(store: Store) {
    let now = utc(T0);
    assert_eq!(count(&store, ThrottleScope::StaffName, "marta", 0).await, 1);
    let mut tx = store.begin().await.expect("begin");
    let t = tx
        .count_attempt(ThrottleScope::StaffName, "marta", now, None)
        .await
        .expect("count");
    assert_eq!(t.failures, 2);
    tx.hold_until(
        ThrottleScope::StaffName,
        "marta",
        now + TimeDelta::minutes(5),
    )
    .await
    .expect("hold");
    tx.rollback().await.expect("rollback");
    let row = store
        .throttle(ThrottleScope::StaffName, "marta")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        (row.failures, row.next_at),
        (1, chrono::DateTime::UNIX_EPOCH)
    );
}

pub async fn a_quiet_counter_starts_again_and_is_pruned(store: Store) {
    let scope = ThrottleScope::VerifyAddress;
    assert_eq!(count(&store, scope, "10.0.0.1", 0).await, 1);
    assert_eq!(count(&store, scope, "10.0.0.1", 30).await, 2);
    assert_eq!(
        count(&store, scope, "10.0.0.1", 120).await,
        1,
        "more than the hour remembered since the last attempt: counted afresh"
    );
    assert_eq!(count(&store, scope, "10.0.0.2", 121).await, 1);
    let now = utc(T0) + TimeDelta::minutes(200);
    let pruned = store
        .prune_throttles(scope, utc(T0) + TimeDelta::minutes(121), now)
        .await
        .expect("prune");
    assert_eq!(pruned, 1, "only the counter quiet since before the cut-off");
    assert!(
        store
            .throttle(scope, "10.0.0.2")
            .await
            .expect("read")
            .is_some()
    );
}

pub async fn an_id_numbers_counters_are_cleared_together(store: Store) {
    let id = "12345678Z";
    count(&store, ThrottleScope::CitizenId, id, 0).await;
    count(&store, ThrottleScope::VerifyId, id, 0).await;
    count(
        &store,
        ThrottleScope::CitizenCodePair,
        &pair_subject(id, "a"),
        0,
    )
    .await;
    count(
        &store,
        ThrottleScope::CitizenCodePair,
        &pair_subject(id, "b"),
        0,
    )
    .await;
    count(&store, ThrottleScope::CitizenId, "00000000T", 0).await;
    count(&store, ThrottleScope::CitizenAddress, "a", 0).await;
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.clear_citizen_throttles(id).await.expect("clear"), 4);
    tx.commit().await.expect("commit");
    let left = store
        .throttle(ThrottleScope::CitizenId, "00000000T")
        .await
        .expect("read");
    assert!(left.is_some(), "another ID number keeps its counter");
}

pub async fn staff_failures_read_back_from_the_name_counter(store: Store) {
    for m in 0..3 {
        count(&store, ThrottleScope::StaffName, "marta", m).await;
    }
    let (n, latest) = store
        .staff_login_failures_for_name("marta")
        .await
        .expect("read");
    assert_eq!((n, latest), (3, Some(utc(T0) + TimeDelta::minutes(2))));
    assert_eq!(
        store
            .clear_staff_login_failures("marta")
            .await
            .expect("clear"),
        1
    );
    assert_eq!(
        store
            .staff_login_failures_for_name("marta")
            .await
            .expect("read"),
        (0, None)
    );
}

pub async fn a_test_call_allows_a_few_contrast_checks_even_concurrently(store: Store) {
    let now = utc(T0);
    store
        .insert_test_call("h", "{}", now, now + TimeDelta::minutes(30))
        .await
        .expect("insert");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .count_contrast_check("h", now, 3)
                .await
                .expect("count")
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        allowed += usize::from(t.await.expect("task").is_some());
    }
    assert_eq!(allowed, 3, "exactly three checks of 20 concurrent ones");
}
