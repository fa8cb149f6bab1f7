//! `/login` with the password set at `/activate`, and the limits they share: back-offs with a
//! cap that a stranger cannot turn into a lock, counted exactly under concurrency.

use chrono::TimeDelta;

use crate::account_helpers::{AMINA, GOOD_PASSWORD, LUCIA, register};
use crate::helpers::{Db, spawn_app, spawn_app_with};
use web::config::ServeArgs;

/// A server behind a trusted proxy, so that tests can choose each request's address.
async fn behind_proxy() -> crate::helpers::TestApp {
    let args = ServeArgs {
        trust_forwarded_for: true,
        ..ServeArgs::default()
    };
    spawn_app_with(Db::Sqlite, args).await
}

/// Sends `n` wrong attempts for `id` from `addr`s cycling through a /24, waiting out each
/// back-off as a patient stranger would: half wrong codes at `/activate`, half wrong
/// passwords at `/login`. Returns how many were checked (not refused with 429).
async fn stranger_fails(app: &crate::helpers::TestApp, id: &str, n: usize) -> usize {
    let wrong_code = "ABCD-EFGH-JKLM-NPQR";
    let mut checked = 0;
    let mut i = 0;
    while checked < n {
        let addr = format!("198.51.100.{}", 1 + i % 200);
        i += 1;
        let answer = if checked % 2 == 0 {
            app.activate_from(id, wrong_code, GOOD_PASSWORD, GOOD_PASSWORD, "en", &addr)
                .await
        } else {
            app.citizen_login_from(id, "Wrong-Guess-2026", "en", &addr)
                .await
        };
        match answer.status {
            422 => checked += 1,
            429 => app.clock.advance(TimeDelta::hours(1)),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    checked
}

#[tokio::test]
async fn a_strangers_200_failures_do_not_stop_the_genuine_citizen_after_the_backoff() {
    let app = behind_proxy().await;
    let reg = register(&app, LUCIA, TimeDelta::days(300)).await;
    assert_eq!(stranger_fails(&app, LUCIA, 200).await, 200);

    // The citizen's own address was never held: activation goes through at once.
    let code = reg.code.to_string();
    let done = app
        .activate_from(
            LUCIA,
            &code,
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "en",
            "203.0.113.50",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let receipt_ok = app.has_password(LUCIA).await;
    assert!(receipt_ok);
    // Signing in from the address the citizen activated from is trusted.
    let login = app
        .citizen_login_from(LUCIA, GOOD_PASSWORD, "en", "203.0.113.50")
        .await;
    assert_eq!(login.status, 200, "{}", login.body);

    // The stranger goes on; from a new address the citizen waits at most the cap, an hour.
    assert_eq!(stranger_fails(&app, LUCIA, 20).await, 20);
    app.clock.advance(TimeDelta::hours(1));
    let elsewhere = app
        .citizen_login_from(LUCIA, GOOD_PASSWORD, "en", "192.0.2.77")
        .await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
}

#[tokio::test]
async fn a_held_sign_in_says_until_when_and_what_to_do_and_never_to_register_again() {
    let app = behind_proxy().await;
    register(&app, LUCIA, TimeDelta::days(30)).await;
    for n in 0..10 {
        let addr = format!("198.51.100.{n}");
        let answer = app
            .citizen_login_from(LUCIA, "Wrong-Guess-2026", "es", &addr)
            .await;
        assert_eq!(answer.status, 422, "attempt {n}");
    }
    let held = app
        .citizen_login_from(LUCIA, GOOD_PASSWORD, "es", "192.0.2.1")
        .await;
    assert_eq!(held.status, 429);
    assert_eq!(
        held.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    assert!(
        held.body
            .contains("Espere 1 min (hasta las 10:01, hora de Madrid)"),
        "{}",
        held.body
    );
    assert!(held.body.contains("060"));
    assert!(!held.body.contains("regístrese de nuevo"));
    let en = app
        .citizen_login_from(LUCIA, GOOD_PASSWORD, "en", "192.0.2.1")
        .await;
    assert!(
        en.body
            .contains("call 060 and ask for your access to be unblocked")
    );
    assert!(!en.body.contains("register again"));
}

#[tokio::test]
async fn sixty_concurrent_sign_ins_for_one_id_are_checked_no_more_than_the_limit() {
    let app = std::sync::Arc::new(behind_proxy().await);
    register(&app, LUCIA, TimeDelta::days(30)).await;
    let mut tasks = Vec::new();
    for n in 0..60 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let addr = format!("198.51.100.{n}");
            app.citizen_login_from(LUCIA, "Wrong-Guess-2026", "en", &addr)
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let checked = statuses.iter().filter(|s| **s == 422).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, held), (10, 50), "{statuses:?}");
    let counted = app
        .store
        .throttle(store::ThrottleScope::CitizenId, LUCIA)
        .await
        .expect("read")
        .map(|t| t.failures);
    assert_eq!(counted, Some(10), "every checked failure counted, once");
}

#[tokio::test]
async fn too_many_failures_from_one_address_wait_and_say_until_when() {
    let app = spawn_app().await;
    let wrong = "ABCD-EFGH-JKLM-NPQR";
    for n in 0..20u32 {
        let id = format!("{n:08}{}", char::from(web::identity::check_letter(n)));
        let answer = app
            .activate(&id, wrong, GOOD_PASSWORD, GOOD_PASSWORD, "es")
            .await;
        assert_eq!(answer.status, 422, "attempt {n}");
    }
    let answer = app
        .activate("99999999R", wrong, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert_eq!(answer.status, 429);
    assert_eq!(
        answer
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    assert!(
        answer.body.contains(
            "Demasiados intentos fallidos. Espere 1 min (hasta las 10:01, hora de Madrid)"
        ),
        "{}",
        answer.body
    );
    let answer = app
        .citizen_login_from("99999999R", GOOD_PASSWORD, "en", "203.0.113.9")
        .await;
    assert_eq!(answer.status, 429, "sign-in shares the address's limit");
    app.clock.advance(TimeDelta::minutes(1));
    let answer = app
        .activate("99999999R", wrong, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert_eq!(answer.status, 422, "the wait has passed");
    let answer = app
        .activate("99999999R", wrong, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert_eq!(answer.status, 429, "and the next wait is longer");
    assert!(answer.body.contains("Espere 2 min"), "{}", answer.body);
}

#[tokio::test]
async fn sign_in_works_after_activation_and_fails_with_a_wrong_password() {
    let app = spawn_app().await;
    let reg = register(&app, AMINA, TimeDelta::days(30)).await;
    let before = app.citizen_login(AMINA, GOOD_PASSWORD, "es").await;
    assert_eq!(before.status, 422, "no password yet");
    assert!(
        before
            .body
            .contains("El DNI/NIE o la contraseña no son correctos.")
    );
    let done = app
        .activate(
            AMINA,
            &reg.code.to_string(),
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "en",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);

    let ok = app.citizen_login("x1234567l", GOOD_PASSWORD, "es").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    for text in [
        "Su registro en Cl@ve",
        "Amina Haddad Demo",
        "X****567L",
        "básico",
        "26 de noviembre de 2026",
    ] {
        assert!(ok.body.contains(text), "{text}: {}", ok.body);
    }
    let en = app.citizen_login(AMINA, GOOD_PASSWORD, "en").await;
    assert!(en.body.contains("Your Cl@ve registration") && en.body.contains("basic"));

    let wrong = app.citizen_login(AMINA, "Verde-Mar-2027", "en").await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong
            .body
            .contains("The DNI/NIE or the password is not correct.")
    );
    let unknown = app.citizen_login("00000000T", GOOD_PASSWORD, "en").await;
    assert_eq!(
        (
            unknown.status,
            unknown
                .body
                .contains("The DNI/NIE or the password is not correct.")
        ),
        (422, true)
    );
    let empty = app.citizen_login("", "", "es").await;
    assert!(
        empty.body.contains("Escriba su número de DNI o NIE.")
            && empty.body.contains("Escriba la contraseña.")
    );
}
