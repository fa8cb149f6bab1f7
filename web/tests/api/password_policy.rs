//! The one password policy (NIST SP 800-63B) as citizens meet it at `/activate` and as staff
//! accounts are made: no composition rules, a list of common and breached passwords, the
//! minimum lengths, and the rule that failed told in Spanish and English.

use chrono::TimeDelta;
use store::StaffRole;

use crate::account_helpers::{LUCIA, register};
use crate::helpers::spawn_app;

/// Sixteen lower-case letters: no digit, no symbol, no capital.
const PASSPHRASE: &str = "marmotaverdeazul";

#[tokio::test]
async fn citizens_are_refused_password1_and_a_breached_password_and_told_why() {
    let app = spawn_app().await;
    let code = register(&app, LUCIA, TimeDelta::days(30))
        .await
        .code
        .to_string();
    for (password, es, en) in [
        (
            "Password1",
            "de las más usadas o ha aparecido en filtraciones",
            "one of the most used or has appeared in breaches",
        ),
        (
            "qwertyuiop",
            "de las más usadas o ha aparecido en filtraciones",
            "one of the most used or has appeared in breaches",
        ),
        (
            "miclave2026!",
            "no puede basarse en el nombre del servicio",
            "must not be based on the name of the service",
        ),
    ] {
        let answer = app.activate(LUCIA, &code, password, password, "es").await;
        assert_eq!(answer.status, 422, "{password}");
        assert!(answer.body.contains(es), "{password}: {}", answer.body);
        let answer = app.activate(LUCIA, &code, password, password, "en").await;
        assert!(answer.body.contains(en), "{password}: {}", answer.body);
    }
    assert!(!app.has_password(LUCIA).await);
}

#[tokio::test]
async fn citizens_may_use_a_sixteen_letter_passphrase_without_symbols_and_sign_in() {
    let app = spawn_app().await;
    let code = register(&app, LUCIA, TimeDelta::days(30))
        .await
        .code
        .to_string();
    let done = app
        .activate(LUCIA, &code, PASSPHRASE, PASSPHRASE, "es")
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let signed_in = app.citizen_login(LUCIA, PASSPHRASE, "es").await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
}

#[tokio::test]
async fn staff_are_refused_password1_a_breached_and_a_doubled_password() {
    let app = spawn_app().await;
    let now = app.clock.now();
    for (password, why) in [
        ("Password1", "at least 15 characters"),
        ("administrations", "list of common or breached passwords"),
        ("Passw0rdPassw0rd", "list of common or breached passwords"),
    ] {
        let refused = app
            .accounts()
            .add_user("marta", StaffRole::Agent, password, now)
            .await
            .expect_err(password);
        assert!(refused.to_string().contains(why), "{password}: {refused}");
    }
    assert!(
        app.store
            .find_staff_by_name("marta")
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn staff_may_use_a_sixteen_letter_passphrase_without_symbols_and_sign_in() {
    let app = spawn_app().await;
    app.accounts()
        .add_user("marta", StaffRole::Agent, PASSPHRASE, app.clock.now())
        .await
        .expect("accepted");
    let mut browser = app.browser();
    let page = browser.submit_password("marta", PASSPHRASE).await;
    assert_eq!(page.status, 303, "{}", page.body);
}

#[tokio::test]
async fn citizens_need_no_composition_twelve_lower_case_letters_are_accepted() {
    let app = spawn_app().await;
    let code = register(&app, LUCIA, TimeDelta::days(30))
        .await
        .code
        .to_string();
    let done = app
        .activate(LUCIA, &code, "tortugalenta", "tortugalenta", "en")
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
}
