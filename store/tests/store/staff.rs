use chrono::TimeDelta;
use store::{NewStaffSession, RenewedSession, SessionStage, StaffRole, Store};

use crate::helpers::utc;

pub async fn staff_accounts_are_created_found_listed_and_changed(store: Store) {
    let now = utc("2026-11-26T08:00:00Z");
    store
        .insert_staff_user("u1", "marta", StaffRole::Agent, "hash-1", now)
        .await
        .expect("insert");
    store
        .insert_staff_user("u2", "ana", StaffRole::Auditor, "hash-2", now)
        .await
        .expect("insert");
    let err = store
        .insert_staff_user("u3", "marta", StaffRole::Supervisor, "h", now)
        .await
        .expect_err("names are unique");
    assert!(err.is_unique_violation(), "{err}");

    let marta = store
        .find_staff_by_name("marta")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (marta.id.as_str(), marta.role, marta.disabled),
        ("u1", StaffRole::Agent, false)
    );
    assert_eq!(marta.created_at, now);
    assert_eq!(
        store
            .find_staff_by_id("u2")
            .await
            .expect("find")
            .map(|u| u.name),
        Some("ana".into())
    );
    assert!(
        store
            .find_staff_by_name("nobody")
            .await
            .expect("find")
            .is_none()
    );
    let names: Vec<String> = store
        .list_staff()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ana", "marta"]);

    assert!(
        store
            .set_staff_password("u1", "hash-new", now)
            .await
            .expect("update")
    );
    assert!(
        store
            .set_staff_disabled("u1", true, now)
            .await
            .expect("update")
    );
    assert!(
        !store
            .set_staff_disabled("nope", true, now)
            .await
            .expect("update"),
        "unknown id"
    );
    let marta = store
        .find_staff_by_id("u1")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (marta.password_hash.as_str(), marta.disabled),
        ("hash-new", true)
    );
}

pub async fn totp_steps_are_accepted_once_and_in_order(store: Store) {
    let now = utc("2026-11-26T08:00:00Z");
    store
        .insert_staff_user("u1", "marta", StaffRole::Agent, "h", now)
        .await
        .expect("insert");
    assert!(
        store
            .set_staff_totp("u1", Some("SECRET"), Some(100), now)
            .await
            .expect("enrol")
    );
    assert!(
        !store
            .advance_staff_totp_step("u1", 100)
            .await
            .expect("step"),
        "replay of the same step"
    );
    assert!(
        !store.advance_staff_totp_step("u1", 99).await.expect("step"),
        "an older step"
    );
    assert!(
        store
            .advance_staff_totp_step("u1", 101)
            .await
            .expect("step")
    );
    let u = store
        .find_staff_by_id("u1")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (u.totp_secret.as_deref(), u.totp_last_step),
        (Some("SECRET"), Some(101))
    );
    store
        .set_staff_totp("u1", None, None, now)
        .await
        .expect("reset");
    let u = store
        .find_staff_by_id("u1")
        .await
        .expect("find")
        .expect("present");
    assert_eq!((u.totp_secret, u.totp_last_step), (None, None));
    assert!(
        store.advance_staff_totp_step("u1", 5).await.expect("step"),
        "fresh after reset"
    );
}

pub async fn staff_sessions_move_through_their_stages_and_end(store: Store) {
    let now = utc("2026-11-26T08:00:00Z");
    store
        .insert_staff_user("u1", "marta", StaffRole::Agent, "h", now)
        .await
        .expect("insert");
    let new = |id: &'static str| NewStaffSession {
        id_hash: id,
        user_id: "u1",
        stage: SessionStage::Password,
        csrf_token: "csrf",
        client_addr: "127.0.0.1",
        created_at: now,
        expires_at: now + TimeDelta::hours(10),
    };
    store
        .insert_staff_session(&new("s1"))
        .await
        .expect("insert");
    store
        .insert_staff_session(&new("s2"))
        .await
        .expect("insert");
    let s = store
        .find_staff_session("s1")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (s.stage, s.csrf_token.as_str(), s.pending_totp_secret),
        (SessionStage::Password, "csrf", None)
    );
    assert_eq!(
        (s.created_at, s.last_seen_at, s.expires_at),
        (now, now, now + TimeDelta::hours(10))
    );

    store
        .set_pending_totp_secret("s1", "PENDING")
        .await
        .expect("pending");
    assert_eq!(
        store
            .find_staff_session("s1")
            .await
            .expect("find")
            .and_then(|s| s.pending_totp_secret),
        Some("PENDING".into())
    );
    let later = now + TimeDelta::minutes(3);
    let renewed = RenewedSession {
        id_hash: "s1-renewed",
        csrf_token: "csrf-2",
    };
    assert!(
        store
            .complete_staff_session("s1", &renewed, later)
            .await
            .expect("complete")
    );
    assert!(
        !store
            .complete_staff_session("s1", &renewed, later)
            .await
            .expect("complete"),
        "the old id is gone"
    );
    assert_eq!(store.find_staff_session("s1").await.expect("find"), None);
    let s = store
        .find_staff_session("s1-renewed")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(
        (
            s.stage,
            s.pending_totp_secret,
            s.last_seen_at,
            s.csrf_token.as_str()
        ),
        (SessionStage::Full, None, later, "csrf-2")
    );
    store
        .touch_staff_session("s1-renewed", later + TimeDelta::minutes(1))
        .await
        .expect("touch");
    assert_eq!(
        store
            .find_staff_session("s1-renewed")
            .await
            .expect("find")
            .map(|s| s.last_seen_at),
        Some(later + TimeDelta::minutes(1))
    );

    // s2 has been idle since `now`: an idle cut-off after it prunes it, not s1.
    assert_eq!(
        store
            .prune_staff_sessions(now + TimeDelta::minutes(2), later)
            .await
            .expect("prune"),
        1
    );
    assert!(
        store
            .find_staff_session("s2")
            .await
            .expect("find")
            .is_none()
    );
    store
        .delete_staff_session("s1-renewed")
        .await
        .expect("delete");
    assert!(
        store
            .find_staff_session("s1-renewed")
            .await
            .expect("find")
            .is_none()
    );

    store
        .insert_staff_session(&new("s3"))
        .await
        .expect("insert");
    store
        .insert_staff_session(&new("s4"))
        .await
        .expect("insert");
    assert_eq!(
        store
            .delete_staff_sessions_for_user("u1")
            .await
            .expect("delete"),
        2
    );
}
