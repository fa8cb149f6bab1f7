//! `/login` with the password set at `/activate`, and the limits both share: the lock after
//! 100 failures of an ID number and the wait after too many failures from one address.

use chrono::TimeDelta;
use store::AttemptKind;

use crate::account_helpers::{AMINA, GOOD_PASSWORD, LUCIA, register};
use crate::helpers::spawn_app;

#[tokio::test]
async fn an_id_is_locked_after_one_hundred_failures() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    let long_ago = app.clock.now() - TimeDelta::days(10);
    for _ in 0..100 {
        app.store
            .record_citizen_failure(LUCIA, "198.51.100.1", AttemptKind::Login, long_ago)
            .await
            .expect("record");
    }
    let code = reg.code.to_string();
    let answer = app
        .activate(LUCIA, &code, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert_eq!(answer.status, 403, "even the right code");
    assert!(
        answer
            .body
            .contains("está bloqueado por demasiados intentos fallidos")
    );
    let answer = app
        .activate(LUCIA, &code, GOOD_PASSWORD, GOOD_PASSWORD, "en")
        .await;
    assert!(
        answer
            .body
            .contains("is locked after too many failed attempts")
    );
    let login = app.citizen_login(LUCIA, GOOD_PASSWORD, "en").await;
    assert_eq!(login.status, 403);
    assert!(!app.has_password(LUCIA).await);
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
        Some("900")
    );
    assert!(
        answer.body.contains(
            "Demasiados intentos fallidos. Espere 15 min (hasta las 10:15, hora de Madrid)"
        ),
        "{}",
        answer.body
    );
    let answer = app.citizen_login("99999999R", GOOD_PASSWORD, "en").await;
    assert_eq!(answer.status, 429, "sign-in shares the limit");
    assert!(
        answer
            .body
            .contains("Too many failed attempts. Wait 15 min (until 10:15, Madrid time)")
    );
    app.clock.advance(TimeDelta::minutes(15));
    let answer = app
        .activate("99999999R", wrong, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert_eq!(answer.status, 422, "the window has passed");
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
