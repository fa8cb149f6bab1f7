//! `/activate`: pages in both languages, activation that uses the code up, every error's
//! text, and the same answer for an unknown ID and a wrong code.

use chrono::TimeDelta;

use crate::account_helpers::{AMINA, GOOD_PASSWORD, LUCIA, register};
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_forms_render_in_both_languages_with_labelled_fields() {
    let app = spawn_app().await;
    for (path, es, en) in [
        (
            "/activate",
            "Activar su Cl@ve Permanente",
            "Activate your Permanent Cl@ve",
        ),
        (
            "/login",
            "Entrar con Cl@ve Permanente",
            "Sign in with Permanent Cl@ve",
        ),
        (
            "/receipt",
            "Descargar el justificante",
            "Download the registration receipt",
        ),
    ] {
        let page = app.account_page(path, "es-ES").await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(es), "{path} in Spanish");
        assert!(page.body.contains("<html lang=\"es\">"));
        assert!(page.body.contains("<label for=\"id_number\">"), "{path}");
        assert!(page.body.contains("aria-describedby=\"id_number-hint\""));
        assert!(!page.body.contains("<script>"), "no inline script");
        let page = app.account_page(path, "en-GB,en;q=0.9").await;
        assert!(page.body.contains(en), "{path} in English");
        assert!(
            page.body.contains("href=\"?lang=es\""),
            "the switch keeps the page"
        );
    }
    let switched = app.account_page("/activate?lang=en", "es").await;
    assert!(switched.body.contains("Activate your Permanent Cl@ve"));
    let cookies: Vec<_> = switched
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("lang=en;")),
        "the choice is kept: {cookies:?}"
    );
}

#[tokio::test]
async fn activation_uses_the_code_and_then_says_it_was_used() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    let code = reg.code.to_string().to_lowercase();
    let done = app
        .activate(LUCIA, &code, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Su Cl@ve Permanente está activada"));
    assert!(done.body.contains("*****678Z"));
    assert!(done.body.contains("href=\"/login\""));
    let credential = app
        .store
        .citizen_credential(LUCIA)
        .await
        .expect("read")
        .expect("set");
    assert!(credential.password_hash.starts_with("$argon2id$"));

    let again = app
        .activate(LUCIA, &code, "Otra-Clave-2027", "Otra-Clave-2027", "en")
        .await;
    assert_eq!(again.status, 409);
    assert!(
        again
            .body
            .contains("This activation code has already been used"),
        "{}",
        again.body
    );
    assert!(again.body.contains("role=\"alert\""));
    let used_es = app
        .activate(LUCIA, &code, "Otra-Clave-2027", "Otra-Clave-2027", "es")
        .await;
    assert!(
        used_es
            .body
            .contains("Este código de activación ya se ha utilizado")
    );
}

#[tokio::test]
async fn an_expired_code_says_so_in_both_languages() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    app.clock.advance(TimeDelta::days(31));
    let code = reg.code.to_string();
    let en = app
        .activate(LUCIA, &code, GOOD_PASSWORD, GOOD_PASSWORD, "en")
        .await;
    assert_eq!(en.status, 410);
    assert!(
        en.body.contains("This activation code expired on"),
        "{}",
        en.body
    );
    let es = app
        .activate(LUCIA, &code, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert!(es.body.contains("Este código de activación caducó el"));
    assert!(
        es.body.contains(&format!("value=\"{code}\"")),
        "the form keeps the code"
    );
    assert!(!app.has_password(LUCIA).await);
}

#[tokio::test]
async fn a_wrong_code_and_an_unknown_id_get_the_same_answer() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    let other = signaling::activation::ActivationCode::generate()
        .expect("code")
        .to_string();
    let wrong = app
        .activate(LUCIA, &other, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    let unknown = app
        .activate(
            "00000000T",
            &reg.code.to_string(),
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "es",
        )
        .await;
    let unregistered = app
        .activate(
            AMINA,
            &reg.code.to_string(),
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "es",
        )
        .await;
    for answer in [&wrong, &unknown, &unregistered] {
        assert_eq!(answer.status, 422);
        assert!(
            answer
                .body
                .contains("El DNI/NIE o el código de activación no son correctos.")
        );
        assert!(answer.body.contains("<title>Error: "));
    }
    let wrong_en = app
        .activate(LUCIA, &other, GOOD_PASSWORD, GOOD_PASSWORD, "en")
        .await;
    assert!(
        wrong_en
            .body
            .contains("The DNI/NIE or the activation code is not correct.")
    );
    assert_eq!(app.code_failures(LUCIA, "127.0.0.1").await, 2);
    assert_eq!(app.code_failures("00000000T", "127.0.0.1").await, 1);
}

#[tokio::test]
async fn every_field_error_shows_its_text_in_both_languages() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    let code = reg.code.to_string();
    let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "",
            &code,
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "Escriba su número de DNI o NIE.",
            "Enter your DNI or NIE number.",
        ),
        (
            "1234",
            &code,
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "no tiene el formato de un DNI",
            "is not shaped like a DNI",
        ),
        (
            "12345678A",
            &code,
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "La letra no corresponde al número",
            "The letter does not match the number",
        ),
        (
            LUCIA,
            "",
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "Escriba el código de activación.",
            "Enter the activation code.",
        ),
        (
            LUCIA,
            "ABCD-EFGH",
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "El código tiene 16 letras y cifras",
            "The code has 16 letters and digits",
        ),
        (
            LUCIA,
            "ABCD-EFGH-JKLM-NPQ0",
            GOOD_PASSWORD,
            GOOD_PASSWORD,
            "sin I ni O",
            "no I or O",
        ),
        (
            LUCIA,
            &code,
            "",
            "",
            "Escriba la contraseña.",
            "Enter the password.",
        ),
        (
            LUCIA,
            &code,
            "Ab1!",
            "Ab1!",
            "al menos 8 caracteres",
            "at least 8 characters",
        ),
        (
            LUCIA,
            &code,
            "Password1",
            "Password1",
            "de las más usadas",
            "one of the most used",
        ),
        (
            LUCIA,
            &code,
            &"aB3!".repeat(70),
            &"aB3!".repeat(70),
            "como máximo 256 bytes",
            "at most 256 bytes",
        ),
        (
            LUCIA,
            &code,
            "Mi-12345678Z",
            "Mi-12345678Z",
            "no puede contener su número de DNI o NIE",
            "must not contain your DNI or NIE",
        ),
        (
            LUCIA,
            &code,
            "Hola-Lucia-2026",
            "Hola-Lucia-2026",
            "no puede contener su nombre ni sus apellidos",
            "must not contain your name or surnames",
        ),
        (
            LUCIA,
            &code,
            GOOD_PASSWORD,
            "Verde-Mar-2027",
            "Las dos contraseñas no coinciden",
            "The two passwords do not match",
        ),
    ];
    for (id, code, password, repeat, es, en) in cases {
        let answer = app.activate(id, code, password, repeat, "es").await;
        assert_eq!(answer.status, 422, "{es}");
        assert!(answer.body.contains(es), "{es}: {}", answer.body);
        assert!(answer.body.contains("aria-invalid=\"true\""), "{es}");
        assert!(
            answer
                .body
                .contains("class=\"error-summary\" role=\"alert\""),
            "{es}"
        );
        assert!(
            !answer.body.contains(&format!("value=\"{password}\"")) || password.is_empty(),
            "never a password back"
        );
        let answer = app.activate(id, code, password, repeat, "en").await;
        assert!(answer.body.contains(en), "{en}: {}", answer.body);
    }
    let names = app
        .activate(LUCIA, &code, "Hola-Lucia-2026", "Hola-Lucia-2026", "es")
        .await;
    assert!(
        names.body.contains(&format!("value=\"{LUCIA}\"")),
        "the ID typed is kept"
    );
    assert!(!app.has_password(LUCIA).await);
    assert_eq!(
        app.code_failures(LUCIA, "127.0.0.1").await,
        0,
        "form errors are not guesses"
    );
}

#[tokio::test]
async fn a_form_without_its_csrf_cookie_is_refused() {
    let app = spawn_app().await;
    let fields = [
        ("id_number", LUCIA),
        ("code", "ABCD-EFGH-JKLM-NPQR"),
        ("password", GOOD_PASSWORD),
        ("repeat", GOOD_PASSWORD),
        ("csrf", "forged"),
    ];
    let answer = app.post_form("/activate", "en", &fields, &[]).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("The form has expired"));
    let answer = app
        .post_form(
            "/activate",
            "es",
            &fields,
            &[("cookie", "videoreg_activate_csrf=other".into())],
        )
        .await;
    assert!(answer.body.contains("El formulario ha caducado"));
}
