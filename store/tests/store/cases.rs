use chrono::TimeDelta;
use store::{NewApplication, NewAuditEvent, Store};

use crate::helpers::{dni, utc};

pub async fn migrations_are_idempotent(store: Store) {
    store
        .migrate()
        .await
        .expect("a second migration run is a no-op");
    store.ping().await.expect("still answers");
    assert_eq!(store.count_identities().await.expect("count"), 0);
}

pub async fn identities_upsert_and_find(store: Store) {
    let now = utc("2026-11-26T10:00:00Z");
    let a = dni("12345678Z", "2031-02-03");
    let n = store
        .upsert_identities(&[a.clone(), dni("00000000T", "9999-01-01")], now)
        .await
        .expect("insert");
    assert_eq!(n, 2);
    assert_eq!(
        store.find_identity("12345678Z").await.expect("find"),
        Some(a.clone())
    );
    assert_eq!(store.find_identity("99999999R").await.expect("find"), None);

    let renewed = dni("12345678Z", "2036-02-03");
    store
        .upsert_identities(std::slice::from_ref(&renewed), now)
        .await
        .expect("update");
    assert_eq!(
        store.find_identity("12345678Z").await.expect("find"),
        Some(renewed)
    );
    assert_eq!(store.count_identities().await.expect("count"), 2);
}

pub async fn identity_import_is_all_or_nothing(store: Store) {
    let now = utc("2026-11-26T10:00:00Z");
    let good = dni("12345678Z", "2031-02-03");
    let mut nameless = dni("00000000T", "2031-02-03");
    nameless.full_name = String::new();
    let result = store.upsert_identities(&[good, nameless], now).await;
    assert!(result.is_err(), "the schema refuses an empty name");
    assert_eq!(
        store.count_identities().await.expect("count"),
        0,
        "nothing half imported"
    );
}

pub async fn large_imports_cross_statement_batches(store: Store) {
    let now = utc("2026-11-26T10:00:00Z");
    let records: Vec<_> = (0..1203)
        .map(|i| dni(&format!("{i:08}X"), "2031-02-03"))
        .collect();
    assert_eq!(
        store
            .upsert_identities(&records, now)
            .await
            .expect("import"),
        1203
    );
    assert_eq!(store.count_identities().await.expect("count"), 1203);
    assert_eq!(
        store.find_identity("00001202X").await.expect("find"),
        records.last().cloned()
    );
    // A second run replaces rather than duplicates.
    store
        .upsert_identities(&records, now)
        .await
        .expect("re-import");
    assert_eq!(store.count_identities().await.expect("count"), 1203);
}

pub async fn applications_are_found_by_token_hash_until_they_expire(store: Store) {
    let now = utc("2026-11-26T10:00:00Z");
    store
        .upsert_identities(&[dni("12345678Z", "2031-02-03")], now)
        .await
        .expect("insert");
    let new = NewApplication {
        id: "app-1",
        token_hash: "hash-1",
        id_number: "12345678Z",
        client_addr: "127.0.0.1",
        created_at: now,
        expires_at: now + TimeDelta::hours(2),
        test_call: None,
    };
    store.insert_application(&new).await.expect("insert");
    let found = store
        .find_application_by_token("hash-1", now)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (found.id.as_str(), found.id_number.as_str()),
        ("app-1", "12345678Z")
    );
    assert_eq!(found.created_at, now);
    assert_eq!(found.expires_at, now + TimeDelta::hours(2));
    assert!(
        store
            .find_application_by_token("other", now)
            .await
            .expect("find")
            .is_none()
    );
    let later = now + TimeDelta::hours(2);
    assert!(
        store
            .find_application_by_token("hash-1", later)
            .await
            .expect("find")
            .is_none(),
        "expired"
    );
}

pub async fn application_tokens_are_unique(store: Store) {
    let now = utc("2026-11-26T10:00:00Z");
    store
        .upsert_identities(&[dni("12345678Z", "2031-02-03")], now)
        .await
        .expect("insert");
    let mut new = NewApplication {
        id: "app-1",
        token_hash: "same",
        id_number: "12345678Z",
        client_addr: "127.0.0.1",
        created_at: now,
        expires_at: now + TimeDelta::hours(2),
        test_call: None,
    };
    store.insert_application(&new).await.expect("insert");
    new.id = "app-2";
    let err = store
        .insert_application(&new)
        .await
        .expect_err("duplicate hash");
    assert!(err.is_unique_violation(), "{err}");
    new.token_hash = "other";
    new.id_number = "00000000T";
    assert!(
        store.insert_application(&new).await.is_err(),
        "unknown identity is refused"
    );
}

pub async fn audit_events_append_in_order(store: Store) {
    let t0 = utc("2026-11-26T10:00:00Z");
    let first = store
        .append_audit(&NewAuditEvent {
            at: t0,
            actor: "citizen",
            action: "application.created",
            subject: "app-1",
            detail: "{}",
        })
        .await
        .expect("append");
    let second = store
        .append_audit(&NewAuditEvent {
            at: t0,
            actor: "system",
            action: "application.expired",
            subject: "app-1",
            detail: r#"{"k":1}"#,
        })
        .await
        .expect("append");
    assert!(second > first);
    store
        .append_audit(&NewAuditEvent {
            at: t0,
            actor: "system",
            action: "x",
            subject: "app-2",
            detail: "{}",
        })
        .await
        .expect("append");
    let events = store.audit_for_subject("app-1").await.expect("read");
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["application.created", "application.expired"]);
    assert_eq!(events[1].detail, r#"{"k":1}"#);
    assert_eq!(events[0].at, t0);
}

pub async fn recent_audit_lists_newest_first(store: Store) {
    let t0 = utc("2026-11-26T10:00:00Z");
    for action in ["a", "b", "c"] {
        store
            .append_audit(&NewAuditEvent {
                at: t0,
                actor: "system",
                action,
                subject: "s",
                detail: "{}",
            })
            .await
            .expect("append");
    }
    let recent: Vec<String> = store
        .recent_audit(2)
        .await
        .expect("read")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(recent, ["c", "b"]);
}

pub async fn the_bus_carries_small_and_large_messages_between_nodes(store: Store) {
    let now = utc("2026-11-26T10:00:00Z");
    let small = store::BusMessage {
        node: "a".into(),
        topic: "queue".into(),
        body: "{}".into(),
    };
    let large = store::BusMessage {
        node: "a".into(),
        topic: "citizen:t1".into(),
        body: "x\n".repeat(10_000),
    };
    let Some(mut listener) = store.subscribe().await.expect("subscribe") else {
        // SQLite: one node, nothing to listen to, and publishing is harmless.
        assert_eq!(store.backend(), store::Backend::Sqlite);
        store
            .publish(&small, now)
            .await
            .expect("publish is a no-op");
        return;
    };
    store.publish(&small, now).await.expect("publish");
    store.publish(&large, now).await.expect("publish");
    let wait = std::time::Duration::from_secs(10);
    let first = tokio::time::timeout(wait, listener.recv())
        .await
        .expect("in time")
        .expect("recv");
    let second = tokio::time::timeout(wait, listener.recv())
        .await
        .expect("in time")
        .expect("recv");
    assert_eq!(first, Some(small));
    assert_eq!(
        second,
        Some(large),
        "stored in bus_payloads and fetched by id"
    );
    assert_eq!(
        store
            .prune_bus_payloads(now + chrono::TimeDelta::minutes(1))
            .await
            .expect("prune"),
        1
    );
}

pub async fn test_calls_are_counted_by_network_path_within_a_day(store: Store) {
    let morning = utc("2026-11-26T09:00:00Z");
    let expires = |t| t + TimeDelta::minutes(30);
    let kept = [
        ("a", Some("udp"), morning),
        ("b", Some("tcp"), morning + TimeDelta::minutes(5)),
        ("c", Some("udp"), morning + TimeDelta::hours(3)),
        ("d", Some("turn_tls"), morning + TimeDelta::hours(4)),
        ("e", None, morning + TimeDelta::hours(4)),
        // The next day's is not today's.
        ("f", Some("tcp"), morning + TimeDelta::days(1)),
    ];
    for (hash, path, at) in kept {
        store
            .insert_test_call_on(hash, "{}", path, at, expires(at))
            .await
            .expect("insert");
    }
    let day = store
        .test_call_paths(morning, morning + TimeDelta::hours(12))
        .await
        .expect("count");
    assert_eq!(
        day,
        vec![
            (Some("udp".to_owned()), 2),
            (Some("tcp".to_owned()), 1),
            (Some("turn_tls".to_owned()), 1),
            (None, 1),
        ]
    );
}

pub async fn a_test_call_result_is_taken_once_before_it_expires(store: Store) {
    let now = utc("2026-11-26T10:00:00Z");
    let later = now + TimeDelta::minutes(30);
    store
        .insert_test_call("h1", r#"{"verdict":"good"}"#, now, later)
        .await
        .expect("insert");
    store
        .insert_test_call("h2", "{}", now, later)
        .await
        .expect("insert");
    assert_eq!(
        store.take_test_call("h1", now).await.expect("take"),
        Some(r#"{"verdict":"good"}"#.to_owned())
    );
    assert_eq!(
        store.take_test_call("h1", now).await.expect("take"),
        None,
        "single use"
    );
    assert_eq!(
        store.take_test_call("h2", later).await.expect("take"),
        None,
        "expired"
    );
    assert_eq!(store.take_test_call("nope", now).await.expect("take"), None);
}
