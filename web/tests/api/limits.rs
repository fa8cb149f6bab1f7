//! Limits counted exactly under concurrency on the staff side, the lock event written once
//! when its threshold is crossed, and the audited unlock of a citizen's ID number.

use chrono::TimeDelta;
use futures_util::future::join_all;
use store::{StaffRole, ThrottleScope};

use crate::account_helpers::{GOOD_PASSWORD, LUCIA, register};
use web::config::ServeArgs;

use crate::helpers::{Db, spawn_app, spawn_app_with};

#[tokio::test]
async fn thirty_concurrent_staff_sign_ins_check_only_the_five_the_limit_allows() {
    // Room for every check at once, so that only the failure limit holds them back.
    let args = ServeArgs {
        password_checks_per_address: Some(30),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut browsers: Vec<_> = (0..30).map(|_| app.browser()).collect();
    let forms = join_all(browsers.iter_mut().map(|b| b.get("/staff/login"))).await;
    let csrfs: Vec<String> = forms.iter().map(|f| f.csrf()).collect();
    let forms: Vec<[(&str, &str); 3]> = csrfs
        .iter()
        .map(|csrf| {
            [
                ("name", "marta"),
                ("password", "wrong password 123"),
                ("csrf", csrf.as_str()),
            ]
        })
        .collect();
    let posts = browsers
        .iter_mut()
        .zip(&forms)
        .map(|(b, form)| b.post("/staff/login", form));
    let statuses: Vec<u16> = join_all(posts).await.iter().map(|p| p.status).collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, held), (5, 25), "{statuses:?}");
    let (failures, _) = app
        .store
        .staff_login_failures_for_name("marta")
        .await
        .expect("read");
    assert_eq!(failures, 5, "each checked failure counted once");
}

#[tokio::test]
async fn the_staff_lock_event_is_written_once_when_the_twentieth_failure_crosses_it() {
    let app = spawn_app().await;
    app.add_staff("marta", StaffRole::Agent).await;
    let mut b = app.browser();
    let mut failed = 0;
    while failed < 25 {
        let page = b.submit_password("marta", "wrong password 123").await;
        match page.status {
            401 => failed += 1,
            429 => app.clock.advance(TimeDelta::minutes(16)),
            423 => break,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(failed, 20, "locked after exactly twenty");
    let locked_events = app
        .store
        .audit_for_subject("marta")
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == "staff.locked")
        .count();
    assert_eq!(locked_events, 1);
}

#[tokio::test]
async fn a_supervisor_unlocks_a_citizen_and_the_unlock_is_audited() {
    let app = spawn_app().await;
    register(&app, LUCIA, TimeDelta::days(30)).await;
    for n in 0..10 {
        let answer = app.citizen_login(LUCIA, "Wrong-Guess-2026", "en").await;
        assert_eq!(answer.status, 422, "attempt {n}");
    }
    assert_eq!(
        app.citizen_login(LUCIA, GOOD_PASSWORD, "en").await.status,
        429
    );

    app.add_staff("ana", StaffRole::Agent).await;
    let mut agent = app.browser();
    agent.sign_in("ana").await;
    let csrf = agent.session_csrf().await;
    let refused = agent
        .post(
            "/staff/citizens/unlock",
            &[("id_number", LUCIA), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403, "agents may not unlock");

    app.add_staff("sara", StaffRole::Supervisor).await;
    let mut supervisor = app.browser();
    supervisor.sign_in("sara").await;
    let no_csrf = supervisor
        .post("/staff/citizens/unlock", &[("id_number", LUCIA)])
        .await;
    assert_eq!(no_csrf.status, 403, "the session's CSRF token is required");
    let csrf = supervisor.session_csrf().await;
    let done = supervisor
        .post(
            "/staff/citizens/unlock",
            &[
                ("id_number", LUCIA),
                ("csrf", &csrf),
                ("reason", "call 4711"),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let held = app
        .store
        .throttle(ThrottleScope::CitizenId, LUCIA)
        .await
        .expect("read");
    assert_eq!(held, None, "the ID number's counter is gone");

    let events = app
        .store
        .audit_for_subject("*****678Z")
        .await
        .expect("audit");
    let unlock = events
        .iter()
        .find(|e| e.action == "citizen.unlocked")
        .expect("citizen.unlocked written");
    assert_ne!(unlock.actor, "citizen", "the supervisor is the actor");
    assert!(unlock.detail.contains("call 4711"), "{}", unlock.detail);
}
