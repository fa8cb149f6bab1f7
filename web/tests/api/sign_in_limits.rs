//! Password checks run on a bounded pool, and one client address may have only so many at
//! once: over that, sign-ins get 429 with `Retry-After` at once, before any hashing, while
//! other addresses go on. Behaviour is asserted through the pool's count of argon2 runs,
//! never through timing.

use futures_util::future::join_all;
use store::StaffRole;
use web::config::ServeArgs;

use crate::account_helpers::LUCIA;
use crate::helpers::{Db, spawn_app_with};
use crate::staff_helpers::PASSWORD;

/// The address of requests sent without `X-Forwarded-For`.
const LOCAL: &str = "127.0.0.1";

fn trusting_forwarded_for() -> ServeArgs {
    ServeArgs {
        trust_forwarded_for: true,
        password_checks_per_address: Some(2),
        ..ServeArgs::default()
    }
}

#[tokio::test]
async fn sign_ins_over_the_per_address_cap_get_429_at_once_without_hashing() {
    let app = spawn_app_with(Db::Sqlite, trusting_forwarded_for()).await;
    app.add_staff("marta", StaffRole::Agent).await;
    let pool = app.state.console.hashing.clone();
    // Two checks from this address are already running.
    let held = [pool.admit(LOCAL), pool.admit(LOCAL)];
    assert!(held.iter().all(Option::is_some));
    let runs = pool.runs();

    let citizen = app.citizen_login(LUCIA, "una frase cualquiera", "es").await;
    assert_eq!(citizen.status, 429, "{}", citizen.body);
    assert_eq!(citizen.headers["retry-after"], "1");
    assert!(
        citizen
            .body
            .contains("demasiadas comprobaciones de contraseña a la vez")
    );
    let mut browser = app.browser();
    let staff = browser.submit_password("marta", PASSWORD).await;
    assert_eq!(staff.status, 429, "{}", staff.body);
    assert!(staff.body.contains("demasiados inicios de sesión a la vez"));
    assert_eq!(pool.runs(), runs, "nothing was hashed");

    // Another address is unaffected.
    let other = app
        .post_form(
            "/login",
            "es",
            &[("id_number", LUCIA), ("password", "una frase cualquiera")],
            &[("x-forwarded-for", "198.51.100.8".to_owned())],
        )
        .await;
    assert_eq!(other.status, 422, "checked and refused as wrong");
    assert_eq!(pool.runs(), runs + 1);

    drop(held);
    assert_eq!(browser.submit_password("marta", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn a_concurrent_burst_from_one_address_hashes_only_what_it_admits() {
    let app = spawn_app_with(Db::Sqlite, trusting_forwarded_for()).await;
    let pool = app.state.console.hashing.clone();
    // One of the two places is taken, so one request at a time can be checked.
    let _held = pool.admit(LOCAL).expect("admitted");
    let runs = pool.runs();
    let burst = (0..30).map(|_| app.citizen_login(LUCIA, "una frase cualquiera", "es"));
    let answers = join_all(burst).await;
    let refused_at_once = answers
        .iter()
        .filter(|a| a.status == 429 && a.body.contains("a la vez"))
        .count();
    let checked = answers.iter().filter(|a| a.status == 422).count();
    assert_eq!(
        refused_at_once + checked,
        30,
        "each is either checked or refused"
    );
    assert!(refused_at_once > 0, "some were over the cap");
    assert_eq!(
        pool.runs() - runs,
        checked as u64,
        "only checked ones were hashed"
    );
}
